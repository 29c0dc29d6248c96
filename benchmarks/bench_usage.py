"""Benchmark of the usage scan over a large real codebase (django + pandas sources).

    python benchmarks/bench_usage.py [--jobs N] [--dir /tmp/depwatch-bench]

Downloads the django and pandas wheels once (they hold the ``.py`` sources), extracts them,
and reports: a single-process ``ast.parse`` floor, ``scan_project`` cold without cache, cold
with the cache on, and warm (served from the cache), in source lines per second, with the
warm/cold ratio and the peak RSS of the largest worker process.

Worker memory is each worker's own high-water mark (``VmHWM`` in ``/proc/PID/status``, sampled
while a further cold scan runs). ``getrusage(RUSAGE_CHILDREN).ru_maxrss`` is also shown but is
not a worker figure on Linux: workers are started with vfork + exec, and exec folds the peak
RSS of the memory it replaces (the parent's) into the child's ``ru_maxrss``.

The heavy imports are inside functions: were the workers ever multiprocessing ones again, they
would re-run this script as ``__mp_main__`` (as they re-run the ``depwatch`` console script,
which imports only ``sys``), and should load here what a worker of the CLI loads.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

MODULES = ["numpy", "django.utils", "google.genai"]
ENV = ["DJANGO_SETTINGS_MODULE"]


def fetch(base: Path) -> Path:
    """The extracted sources (downloaded and extracted once)."""
    src = base / "src"
    if src.is_dir() and any(src.iterdir()):
        return src
    import subprocess
    import zipfile

    wheels = base / "wheels"
    wheels.mkdir(parents=True, exist_ok=True)
    if not list(wheels.glob("*.whl")):
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--no-deps",
                "--only-binary",
                ":all:",
                "--dest",
                str(wheels),
                "django",
                "pandas",
            ],
            check=True,
        )
    src.mkdir(parents=True, exist_ok=True)
    for wheel in wheels.glob("*.whl"):
        with zipfile.ZipFile(wheel) as zf:
            zf.extractall(src)
    return src


def count_lines(root: Path) -> tuple[int, int]:
    from depwatch.usage.files import iter_source_files

    files, _ = iter_source_files(root)
    lines = 0
    for f in files:
        lines += Path(f.path).read_bytes().count(b"\n")
    return len(files), lines


def parse_floor(root: Path) -> float:
    import ast
    import contextlib
    import warnings

    from depwatch.usage.files import iter_source_files

    files, _ = iter_source_files(root)
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for f in files:
            if f.rel.endswith(".py"):
                with contextlib.suppress(SyntaxError, ValueError):
                    ast.parse(Path(f.path).read_bytes())
    return time.perf_counter() - start


def rewrite_ceiling(root: Path) -> float:
    """The cost of the newer-syntax fallback if every file needed it: rewrite (``downgrade``)
    and parse again. Files that parse never pay it; this bounds a project written for a newer
    Python than the one running depwatch."""
    import ast
    import contextlib
    import warnings

    from depwatch.usage.files import iter_source_files
    from depwatch.usage.newsyntax import downgrade

    files, _ = iter_source_files(root)
    texts = []
    for f in files:
        if f.rel.endswith(".py"):
            with contextlib.suppress(UnicodeDecodeError):
                texts.append(Path(f.path).read_text(encoding="utf-8"))
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for text in texts:
            with contextlib.suppress(SyntaxError, ValueError):
                ast.parse(downgrade(text) or text)
    return time.perf_counter() - start


def timed(root: Path, *, cache: bool, jobs: int | None) -> tuple[float, int, int]:
    from depwatch.usage import scan_project

    start = time.perf_counter()
    result = scan_project(root, MODULES, ENV, cache=cache, jobs=jobs)
    refs = sum(len(f.refs) for f in result.facts)
    return time.perf_counter() - start, result.files_parsed, refs


def main() -> None:
    import argparse
    import resource
    import tempfile

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()) / "depwatch-bench")
    parser.add_argument("--jobs", type=int, default=None)
    parser.add_argument(
        "--modules",
        default=",".join(MODULES),
        help="tracked modules, comma-separated (default: %(default)s); 'django,numpy' makes"
        " every Django model, view and form a subclass of a tracked class to follow",
    )
    args = parser.parse_args()
    MODULES[:] = [m for m in args.modules.split(",") if m]
    root = fetch(args.dir)
    os.environ["DEPWATCH_CACHE_DIR"] = str(args.dir / "cache")
    os.environ.pop("DEPWATCH_NO_CACHE", None)
    nfiles, lines = count_lines(root)
    print(f"sources: {nfiles} files, {lines:,} lines under {root}")
    print(f"cpus: {os.cpu_count()}, jobs: {args.jobs or 'auto'}")
    print(f"tracked modules: {', '.join(MODULES)}")

    floor = parse_floor(root)
    print(f"ast.parse floor (1 process):  {floor:6.2f}s  {lines / floor:>10,.0f} lines/s")
    ceiling = rewrite_ceiling(root)
    print(f"newer-syntax rewrite + parse: {ceiling:6.2f}s  {lines / ceiling:>10,.0f} lines/s")

    cold, parsed, refs = timed(root, cache=False, jobs=args.jobs)
    print(
        f"cold, no cache:               {cold:6.2f}s  {lines / cold:>10,.0f} lines/s"
        f"  ({parsed} files parsed, {refs} refs)"
    )
    for old in (args.dir / "cache").glob("usage/*.usage"):
        old.unlink()
    cold_cache, parsed, _ = timed(root, cache=True, jobs=args.jobs)
    print(f"cold, cache on (writes it):   {cold_cache:6.2f}s  {lines / cold_cache:>10,.0f} lines/s")
    warm, parsed_warm, _ = timed(root, cache=True, jobs=args.jobs)
    print(
        f"warm (from the cache):        {warm:6.2f}s  {lines / warm:>10,.0f} lines/s"
        f"  ({parsed_warm} files parsed)"
    )
    print(f"warm/cold speed ratio:        {cold / warm:6.1f}x")
    sys.path.insert(0, str(Path(__file__).parent))
    from peaks import Peaks

    with Peaks(interval=0.002) as sampled:
        timed(root, cache=False, jobs=args.jobs)
    if sampled.of("scan worker"):
        peaks = [kib / 1024 for kib in sampled.of("scan worker")]
        shown = ", ".join(f"{p:.1f}" for p in peaks)
        print(f"peak RSS, largest worker:     {peaks[0]:6.1f} MiB   (VmHWM of each: {shown})")
    else:
        print("peak RSS, largest worker:        n/a   (no /proc, or no pool was started)")
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"ru_maxrss, children:          {children:6.1f} MiB   (includes the parent's RSS at"
        f" spawn; main process: {own:.1f} MiB)"
    )


if __name__ == "__main__":
    main()
