"""Benchmark of the usage scan over a large real codebase (django + pandas sources).

    python benchmarks/bench_usage.py [--jobs N] [--dir /tmp/depwatch-bench]

Downloads the django and pandas wheels once (they hold the ``.py`` sources), extracts them,
and reports: a single-process ``ast.parse`` floor, ``scan_project`` cold without cache, cold
with the cache on, and warm (served from the cache), in source lines per second, with the
warm/cold ratio and the peak RSS of the largest worker process.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import os
import resource
import subprocess
import sys
import tempfile
import time
import warnings
import zipfile
from pathlib import Path

from depwatch.usage import scan_project
from depwatch.usage.project import iter_source_files

MODULES = ["numpy", "django.utils", "google.genai"]
ENV = ["DJANGO_SETTINGS_MODULE"]


def fetch(base: Path) -> Path:
    """The extracted sources (downloaded and extracted once)."""
    src = base / "src"
    if src.is_dir() and any(src.iterdir()):
        return src
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
    files, _ = iter_source_files(root)
    lines = 0
    for f in files:
        lines += Path(f.path).read_bytes().count(b"\n")
    return len(files), lines


def parse_floor(root: Path) -> float:
    files, _ = iter_source_files(root)
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for f in files:
            if f.rel.endswith(".py"):
                with contextlib.suppress(SyntaxError, ValueError):
                    ast.parse(Path(f.path).read_bytes())
    return time.perf_counter() - start


def timed(root: Path, *, cache: bool, jobs: int | None) -> tuple[float, int, int]:
    start = time.perf_counter()
    result = scan_project(root, MODULES, ENV, cache=cache, jobs=jobs)
    refs = sum(len(f.refs) for f in result.facts)
    return time.perf_counter() - start, result.files_parsed, refs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()) / "depwatch-bench")
    parser.add_argument("--jobs", type=int, default=None)
    args = parser.parse_args()
    root = fetch(args.dir)
    os.environ["DEPWATCH_CACHE_DIR"] = str(args.dir / "cache")
    os.environ.pop("DEPWATCH_NO_CACHE", None)
    nfiles, lines = count_lines(root)
    print(f"sources: {nfiles} files, {lines:,} lines under {root}")
    print(f"cpus: {os.cpu_count()}, jobs: {args.jobs or 'auto'}")

    floor = parse_floor(root)
    print(f"ast.parse floor (1 process):  {floor:6.2f}s  {lines / floor:>10,.0f} lines/s")

    cold, parsed, refs = timed(root, cache=False, jobs=args.jobs)
    print(
        f"cold, no cache:               {cold:6.2f}s  {lines / cold:>10,.0f} lines/s"
        f"  ({parsed} files parsed, {refs} refs)"
    )
    for old in (args.dir / "cache").glob("usage/*.json"):
        old.unlink()
    cold_cache, parsed, _ = timed(root, cache=True, jobs=args.jobs)
    print(f"cold, cache on (writes it):   {cold_cache:6.2f}s  {lines / cold_cache:>10,.0f} lines/s")
    warm, parsed_warm, _ = timed(root, cache=True, jobs=args.jobs)
    print(
        f"warm (from the cache):        {warm:6.2f}s  {lines / warm:>10,.0f} lines/s"
        f"  ({parsed_warm} files parsed)"
    )
    print(f"warm/cold speed ratio:        {cold / warm:6.1f}x")
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS, largest worker:     {children:6.1f} MiB   (main process: {own:.1f} MiB)")


if __name__ == "__main__":
    main()
