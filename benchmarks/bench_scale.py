"""Benchmark of ``depwatch check`` at real scale: a numpy-heavy codebase of over 500k lines.

    python benchmarks/bench_scale.py [--dir /tmp/depwatch-scale] [--jobs N] [--no-growth]

The codebase is scipy's Python sources (973 files, 558k lines for scipy 1.17.1, numpy on
nearly every file), fetched once with ``pip download`` and kept in ``--dir``; the benchmark is
skipped, with the reason, when pip cannot fetch it. It is the wheel, not the sdist: building
scipy's sdist metadata compiles numpy, and the wheel holds the same ``.py`` files (its compiled
parts are left out). A ``pyproject.toml`` and a ``uv.lock`` locking numpy, pandas, matplotlib,
pytest and setuptools make it a project ``check`` audits with their rules.

Every figure is a ratio to a floor measured in the same run (issue 17's targets):

- **floor** — one process reading and ``ast.parse``-ing every ``.py`` file (beside it, for
  scale, the same work split over one process per CPU: on a machine whose two CPUs share a
  core's resources it is not half);
- **cold check** — ``python -m depwatch check`` with an empty cache folder (target ≤ 1.5×
  the floor on 2 cores), and the **peak RSS of its largest process** (``VmHWM`` of the check
  process and of each scan worker, sampled from ``/proc``; target ≤ 150 MiB);
- **warm check** — the same again, nothing changed (target ≤ 0.25×);
- **check --no-usage** — everything but the scan (for where the time goes);
- **usage cache write and read** for the files scanned (scaled to 1,000 files; target ≤ 10%
  of the cold check);
- **growth** — the cold scan (no cache) of the first 125k, 250k and 500k lines of the same
  sources, each against its own parse floor: a constant ratio is linear growth; and matching:
  ``evidence_for`` with 10, 20, 40 rules' usages over the scan's facts, and the real
  ``Matcher`` over 100, 200, 400 locked packages with 4 rules each (synthetic rules from
  ``bench_rulebook.py``): a constant time per rule (per package × rule) is linear growth.

Django + pandas (``benchmarks/bench_usage.py``) is the other scan benchmark (target: cold ≤ 1×
its floor). Wall times on a busy machine mean nothing: run this on a quiet one.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

PACKAGE = "scipy==1.17.1"
LOCKED = {
    "numpy": "1.26.4",
    "pandas": "2.1.0",
    "matplotlib": "3.8.0",
    "pytest": "8.3.0",
    "setuptools": "69.0.0",
}
#: What ``check`` tracks for this lock (the shipped rules' modules), for the in-process scans.
MODULES = [
    "numpy",
    "pandas",
    "matplotlib",
    "pytest",
    "_pytest",
    "setuptools",
    "pkg_resources",
    "distutils",
    "imp",
    "importlib",
    "unittest",
    "typing",
    "ssl",
    "locale",
    "configparser",
    "pkgutil",
]


class Skip(Exception):
    """The codebase cannot be fetched here."""


def fetch(base: Path, package: str) -> Path:
    """The project folder (sources, pyproject.toml, uv.lock), made once."""
    project = base / "project"
    if (project / "uv.lock").is_file():
        return project
    wheels = base / "wheels"
    wheels.mkdir(parents=True, exist_ok=True)
    if not list(wheels.glob("*.whl")):
        done = subprocess.run(
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
                package,
            ],
            capture_output=True,
            text=True,
        )
        if done.returncode != 0 or not list(wheels.glob("*.whl")):
            last = (done.stderr.strip().splitlines() or ["no output"])[-1]
            raise Skip(f"pip download {package} failed: {last}")
    shutil.rmtree(project, ignore_errors=True)
    project.mkdir(parents=True)
    for wheel in wheels.glob("*.whl"):
        with zipfile.ZipFile(wheel) as zf:
            for name in zf.namelist():
                if name.endswith(".py") and ".dist-info/" not in name:
                    zf.extract(name, project)
    names = ", ".join(f'"{n}"' for n in LOCKED)
    (project / "pyproject.toml").write_text(
        f'[project]\nname = "bench"\nversion = "0.1.0"\nrequires-python = ">=3.11"\n'
        f"dependencies = [{names}]\n",
        encoding="utf-8",
    )
    lock = [
        "version = 1",
        "revision = 2",
        'requires-python = ">=3.11"',
        "",
        "[[package]]",
        'name = "bench"',
        'version = "0.1.0"',
        'source = { virtual = "." }',
        "dependencies = [",
        *(f'    {{ name = "{n}" }},' for n in LOCKED),
        "]",
    ]
    for name, version in LOCKED.items():
        lock += [
            "",
            "[[package]]",
            f'name = "{name}"',
            f'version = "{version}"',
            'source = { registry = "https://pypi.org/simple" }',
        ]
    (project / "uv.lock").write_text("\n".join(lock) + "\n", encoding="utf-8")
    return project


def sources(root: Path) -> list[Path]:
    return sorted(root.rglob("*.py"))


def count_lines(files: list[Path]) -> int:
    return sum(f.read_bytes().count(b"\n") for f in files)


_PARSE_PART = """\
import ast, sys, warnings
warnings.simplefilter("ignore")
for path in sys.stdin.read().splitlines():
    try:
        ast.parse(open(path, "rb").read())
    except (SyntaxError, ValueError):
        pass
"""


def parallel_floor(files: list[Path], parts: int) -> float:
    """``parts`` processes, each parsing its share of the files (balanced by size), at once
    (best of two): what the machine's cores give parse work in parallel. Shown beside the
    target's floor, not instead of it: on a machine whose cores share their resources two
    processes do not halve the time."""
    shares: list[list[str]] = [[] for _ in range(parts)]
    sizes = [0] * parts
    for f in sorted(files, key=lambda f: -f.stat().st_size):
        at = sizes.index(min(sizes))
        shares[at].append(str(f))
        sizes[at] += f.stat().st_size
    best = float("inf")
    for _ in range(2):
        start = time.perf_counter()
        procs = [
            subprocess.Popen([sys.executable, "-c", _PARSE_PART], stdin=subprocess.PIPE)
            for _ in shares
        ]
        for proc, share in zip(procs, shares, strict=True):
            assert proc.stdin is not None
            proc.stdin.write("\n".join(share).encode())
            proc.stdin.close()
        for proc in procs:
            proc.wait()
        best = min(best, time.perf_counter() - start)
    return best


def parse_floor(files: list[Path]) -> float:
    """One process: read and ``ast.parse`` every file (best of two)."""
    import ast
    import contextlib
    import warnings

    best = float("inf")
    for _ in range(2):
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for f in files:
                with contextlib.suppress(SyntaxError, ValueError):
                    ast.parse(f.read_bytes())
        best = min(best, time.perf_counter() - start)
    return best


if TYPE_CHECKING:
    from peaks import Peaks


def run_check(project: Path, cache: Path, *extra: str) -> tuple[float, Peaks]:
    env = dict(os.environ, DEPWATCH_CACHE_DIR=str(cache))
    env.pop("DEPWATCH_NO_CACHE", None)
    out = cache.parent / "report.json"
    argv = [sys.executable, "-m", "depwatch", "check", str(project), "--format", "json"]
    sys.path.insert(0, str(Path(__file__).parent))
    from peaks import Peaks

    with Peaks() as peaks:
        start = time.perf_counter()
        done = subprocess.run(
            [*argv, "--output", str(out), *extra], env=env, capture_output=True, text=True
        )
        wall = time.perf_counter() - start
    if done.returncode not in (0, 1):
        raise SystemExit(f"check failed ({done.returncode}): {done.stderr.strip()[-500:]}")
    return wall, peaks


def cache_figures(cache: Path, project: Path) -> tuple[float, float, int]:
    """Seconds to write and to read back (what a warm run reads: entries checked, facts
    built) the usage cache the cold check wrote, and how many files it holds."""
    from depwatch.files import unseal
    from depwatch.usage import cache as usage_cache
    from depwatch.usage import wire

    (path,) = (cache / "usage").glob("*.usage")
    data = wire.loads(unseal(path.read_bytes()) or b"")
    key, files = data["key"], data["files"]
    target = path.with_name("bench-" + path.name)
    start = time.perf_counter()
    usage_cache.save(target, key, project, files)
    write = time.perf_counter() - start
    start = time.perf_counter()
    loaded = usage_cache.load(target, key)
    # what a warm run reads: every outline, and the facts of each file's answer (its second
    # pass where it has one, else its first)
    for entry in loaded.values():
        usage_cache.cached_outline(entry, "outline")
        if "second" in entry:
            usage_cache.cached_outline(entry["second"], "outline")
            usage_cache.cached_facts(entry["second"], "facts")
        else:
            usage_cache.cached_facts(entry, "facts")
    read = time.perf_counter() - start
    return write, read, len(files)


def _cpu() -> float:
    """CPU seconds of this process and of its children that have ended (the scan workers)."""
    import resource

    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def growth(project: Path, files: list[Path], base: Path, jobs: int | None) -> None:
    from depwatch.usage import scan_project

    print("\ngrowth: cold scan (no cache) of the first N lines of the same sources")
    print(
        f"  {'lines':>8}  {'files':>5}  {'floor':>7}  {'scan':>7}  {'scan/floor':>10}"
        f"  {'cpu':>7}  {'cpu/floor':>9}"
    )
    facts = None
    for target in (125_000, 250_000, 500_000):
        root = base / f"growth-{target // 1000}k"
        shutil.rmtree(root, ignore_errors=True)
        chosen: list[Path] = []
        lines = 0
        for f in files:
            if lines >= target:
                break
            chosen.append(f)
            lines += f.read_bytes().count(b"\n")
        for f in chosen:
            dest = root / f.relative_to(project)
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(f, dest)
        floor = parse_floor(sources(root))
        scan = cpu = float("inf")
        for _ in range(2):
            before = _cpu()
            start = time.perf_counter()
            result = scan_project(root, MODULES, cache=False, jobs=jobs)
            scan = min(scan, time.perf_counter() - start)
            cpu = min(cpu, _cpu() - before)
        facts = result.facts
        print(
            f"  {lines:>8,}  {len(chosen):>5}  {floor:6.2f}s  {scan:6.2f}s  {scan / floor:9.2f}x"
            f"  {cpu:6.2f}s  {cpu / floor:8.2f}x"
        )
    print("  linear: scan/floor about the same at every size (cpu: this process and its workers)")
    assert facts is not None
    matching(facts)


def matching(facts: tuple[object, ...]) -> None:
    import random

    from depwatch.rulebook.model import CallPattern, Usage
    from depwatch.usage import evidence_for

    names = sorted({ref.name for f in facts for ref in f.refs})  # type: ignore[attr-defined]
    refs = sum(len(f.refs) for f in facts)  # type: ignore[attr-defined]
    rng = random.Random(3)
    print(f"\ngrowth: matching rules' usages over {refs:,} references ({len(names):,} names)")
    print(f"  {'rules':>6}  {'time':>8}  {'per rule':>9}")
    for count in (10, 20, 40):
        usages = [
            Usage(
                modules=("numpy",),
                symbols=tuple(rng.sample(names, 3)),
                calls=(CallPattern(rng.choice(names), ("axis",)),),
            )
            for _ in range(count)
        ]
        took = float("inf")
        for _ in range(3):
            start = time.perf_counter()
            for usage in usages:
                evidence_for(facts, usage)  # type: ignore[arg-type]
            took = min(took, time.perf_counter() - start)
        print(f"  {count:>6}  {took * 1000:6.1f}ms  {took * 1000 / count:7.2f}ms")
    try:
        packages_by_rules()
    except Exception as exc:  # the synthetic rulebook generator moved or changed
        print(f"  packages × rules: skipped ({exc!r})")


def packages_by_rules() -> None:
    sys.path.insert(0, str(Path(__file__).parent))
    from bench_rulebook import generate  # type: ignore[import-not-found]
    from packaging.version import Version

    from depwatch.matcher import MatchContext, Matcher
    from depwatch.model import Lockfile, Package
    from depwatch.rulebook import load_rulebook

    print("\ngrowth: the matcher over locked packages × their rules (4 rules each, in memory)")
    print(f"  {'packages':>8}  {'pairs':>6}  {'time':>8}  {'per pair':>9}")
    for packages in (100, 200, 400):
        work = Path(tempfile.mkdtemp(prefix="depwatch-scale-rules-"))
        try:
            os.environ["DEPWATCH_NO_CACHE"] = "1"
            names = generate(work, packages * 4, packages)
            book = load_rulebook([work], include_shipped=False)
            lock = Lockfile(
                "uv.lock", "uv", tuple(Package(n, str(Version("5.5.3"))) for n in names)
            )
            context = MatchContext(project=".", declared=("3.10", "3.11", "3.12", "3.13"))
            Matcher(book, context).match_lockfile(lock)  # the rules built once
            best = float("inf")
            for _ in range(20):
                start = time.perf_counter()
                Matcher(book, context).match_lockfile(lock)
                best = min(best, time.perf_counter() - start)
            pairs = packages * 4
            print(f"  {packages:>8}  {pairs:>6}  {best * 1000:6.1f}ms  {best * 1e6 / pairs:7.1f}µs")
        finally:
            os.environ.pop("DEPWATCH_NO_CACHE", None)
            shutil.rmtree(work, ignore_errors=True)
    print("  linear: about the same time per pair at every size")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()) / "depwatch-scale")
    parser.add_argument("--package", default=PACKAGE, help="what pip downloads (%(default)s)")
    parser.add_argument("--jobs", type=int, default=None, help="scan workers (growth scans)")
    parser.add_argument("--no-growth", action="store_true", help="skip the growth figures")
    parser.add_argument(
        "--pairs",
        type=int,
        default=3,
        help="(floor, cold check) pairs, run alternately; the median ratio is quoted (%(default)s)",
    )
    args = parser.parse_args()
    try:
        project = fetch(args.dir, args.package)
    except Skip as exc:
        print(f"skipped: {exc}")
        return 0
    files = sources(project)
    lines = count_lines(files)
    print(f"sources: {len(files)} files, {lines:,} lines under {project} ({args.package})")
    print(f"cpus: {os.cpu_count()}")

    # The floor and the cold check, alternately, pair by pair: on a machine whose speed
    # drifts (a shared host), a ratio within a pair is fair and a single one is not.
    cache = args.dir / "cache"
    pairs: list[tuple[float, float, Peaks]] = []
    for _ in range(max(args.pairs, 1)):
        floor_now = parse_floor(files)
        shutil.rmtree(cache, ignore_errors=True)
        cache.mkdir(parents=True)
        cold_now, peaks_now = run_check(project, cache)
        pairs.append((floor_now, cold_now, peaks_now))
    ranked = sorted(pairs, key=lambda pair: pair[1] / pair[0])
    floor, cold, peaks = ranked[len(ranked) // 2]
    print(f"\nfloor: one process ast.parse   {floor:6.2f}s   (of the median pair)")
    cpus = os.cpu_count() or 1
    if cpus > 1:
        both = parallel_floor(files, min(cpus, 8))
        print(
            f"  (for scale: {min(cpus, 8)} processes parsing a share each take {both:.2f}s,"
            f" a speed-up of {floor / both:.2f}x on this machine)"
        )
    warm, _ = run_check(project, cache)
    bare, _ = run_check(project, args.dir / "cache-none", "--no-usage")
    write, read, cached = cache_figures(cache, project)
    per_1000 = (write + read) * 1000 / max(cached, 1)

    def row(label: str, seconds: float, target: str) -> None:
        print(f"{label:31} {seconds:6.2f}s  {seconds / floor:5.2f}x floor   {target}")

    row("cold check", cold, "target ≤ 1.5x on 2 cores (the median pair)")
    print(
        "  each pair, cold/floor: "
        + ", ".join(f"{c / f:.2f}x ({c:.2f}s/{f:.2f}s)" for f, c, _ in pairs)
    )
    row("warm check (nothing changed)", warm, "target ≤ 0.25x")
    row("check --no-usage", bare, "(everything but the scan)")
    print(
        f"usage cache, {cached} files:       write {write:5.2f}s, read {read:5.2f}s;"
        f" per 1,000 files {per_1000 / cold:5.1%} of the cold check   target ≤ 10%"
    )
    # memory: the pair whose largest process was the largest
    peaks = max((p for _, _, p in pairs), key=lambda p: max(p.peaks.values(), default=(0, "")))
    if peaks.peaks:
        largest = max(peaks.peaks.values())
        shown = ", ".join(
            f"{role} {kib / 1024:.0f}" for kib, role in sorted(peaks.peaks.values(), reverse=True)
        )
        print(
            f"peak RSS, largest process:      {largest[0] / 1024:6.1f} MiB ({largest[1]})"
            f"   target ≤ 150 MiB   (each, MiB: {shown})"
        )
    else:
        print("peak RSS, largest process:         n/a (no /proc)")
    if not args.no_growth:
        growth(project, files, args.dir, args.jobs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
