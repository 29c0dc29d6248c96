"""Whole-process timings of the CLI, each as a ratio to a floor measured in the same run.

Run on demand:  python benchmarks/bench_cli.py [--runs N]

Each pair is run alternately (A B A B …) after a warm-up, and the ratio is taken pair by pair,
so a machine whose speed drifts still gives a fair comparison; the median is quoted.

- ``--version``                      vs ``python -c pass``               (target ≤ 2.5×)
- ``packages --format json`` on the 571-package bench uv.lock
                                     vs ``tomllib.load`` of that file    (target ≤ 1.25×)
- ``check`` on a 28-package project  vs ``python -c pass``               (target ≤ 10×): warm
  (every cache as the run before left it), with the usage cache cold, and the very first run
  (no cache at all: the rule cache is compiled too)
- the pre-commit hook's run when a ``.py`` file changed (``PRE_COMMIT=1 depwatch check
  FILE.py``), scan cache warm, on the same project and, with ``--repo DIR`` (a git checkout
  with a lockfile, such as pip's), on a larger one
                                     vs ``python -c pass``               (target ≤ 10×)

``--imports`` prints, instead, what ``python -X importtime`` says of ``--version``, ``check
--help`` and ``check`` on the 28-package project: the number of modules, and per top-level import
the smallest cumulative time over the runs (where start-up goes; counts are stable on a busy
machine, times are not).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("DEPWATCH_SHARED", REPO.parent / "shared"))
PY = sys.executable


def _time(cmd: list[str], cwd: Path, env: dict[str, str] | None = None) -> float:
    start = time.perf_counter()
    subprocess.run(
        cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False
    )
    return time.perf_counter() - start


def pair(
    name: str,
    a: list[str],
    b: list[str],
    cwd: Path,
    runs: int,
    target: float,
    fresh: Callable[[Path], None] | None = None,
) -> None:
    """Time ``a`` against the floor ``b`` and print medians and the ratio. With ``fresh``,
    each run of ``a`` gets a cache folder of its own (``DEPWATCH_CACHE_DIR``), empty but for
    what ``fresh`` puts in it."""
    _time(a, cwd), _time(b, cwd)  # warm-up: caches, page cache
    ta, tb, ratios = [], [], []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as folder:
            env = None
            if fresh is not None:
                fresh(Path(folder))
                env = {**os.environ, "DEPWATCH_CACHE_DIR": folder}
            x, y = _time(a, cwd, env), _time(b, cwd)
        ta.append(x)
        tb.append(y)
        ratios.append(x / y)
    ratio = statistics.median(ratios)
    verdict = "ok" if ratio <= target else "OVER"
    print(
        f"{name:<34} {statistics.median(ta) * 1000:7.1f} ms vs floor "
        f"{statistics.median(tb) * 1000:7.1f} ms  ratio {ratio:5.2f}× "
        f"(min {min(ratios):.2f}, max {max(ratios):.2f}; target ≤ {target}×) {verdict}"
    )


def import_table(name: str, cmd: list[str], cwd: Path, runs: int, top: int = 12) -> None:
    """``cmd`` run ``runs`` times under ``-X importtime``: module count and the top-level
    imports by their smallest cumulative time."""
    best: dict[str, int] = {}
    count = 0
    for _ in range(runs):
        done = subprocess.run(
            [PY, "-X", "importtime", *cmd], cwd=cwd, capture_output=True, text=True, check=False
        )
        lines = [line for line in done.stderr.splitlines() if line.startswith("import time:")]
        lines = [line for line in lines if "cumulative" not in line]
        count = len(lines)
        for line in lines:
            _, cumulative, module = line.split("|")
            if module.startswith("  "):  # imported by another module: counted in its parent
                continue
            key = module.strip()
            best[key] = min(best.get(key, 1 << 62), int(cumulative))
    print(f"{name}: {count} modules; top-level imports, smallest cumulative µs of {runs} runs")
    for module, micros in sorted(best.items(), key=lambda item: -item[1])[:top]:
        print(f"  {micros:>9}  {module}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--repo", type=Path, help="a larger git checkout for the hook's run")
    parser.add_argument("--file", default=None, help="the changed .py file in --repo")
    parser.add_argument("--imports", action="store_true", help="the import-time tables instead")
    args = parser.parse_args()
    # An installed tool runs from bytecode (pip compiles it at install time); an environment
    # that forbids writing bytecode would time the compiler instead of depwatch.
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    os.environ.pop("DEPWATCH_NO_CACHE", None)
    depwatch = [PY, "-m", "depwatch"]
    bin_dir = Path(PY).parent
    if (bin_dir / "depwatch").exists():
        depwatch = [str(bin_dir / "depwatch")]
    floor = [PY, "-c", "pass"]
    project = REPO / "tests" / "fixtures" / "projects" / "genai-app"
    if args.imports:
        module = ["-m", "depwatch"]
        import_table("python -c pass", ["-c", "pass"], REPO, args.runs)
        import_table("depwatch --version", [*module, "--version"], REPO, args.runs)
        import_table("depwatch check --help", [*module, "check", "--help"], REPO, args.runs)
        import_table(
            "depwatch check (28 packages)",
            [*module, "check", "--fail-on", "never"],
            project,
            args.runs,
        )
        return
    pair("depwatch --version", [*depwatch, "--version"], floor, REPO, args.runs, 2.5)

    bench = SHARED / "bench"
    if (bench / "uv.lock").is_file():
        tomllib_floor = [PY, "-c", "import tomllib; tomllib.load(open('uv.lock','rb'))"]
        pair(
            "packages --format json (571 pkgs)",
            [*depwatch, "packages", "--format", "json", "uv.lock"],
            tomllib_floor,
            bench,
            args.runs,
            1.25,
        )
    else:
        print(f"skipped packages: {bench} not found")

    check = [*depwatch, "check", "--fail-on", "never"]
    pair("check (28-package project)", check, floor, project, args.runs, 10.0)
    # Cold: the usage cache empty (the rule cache as every run after the first leaves it);
    # and the very first run after installing, which also compiles the rule cache.
    with tempfile.TemporaryDirectory() as warm:
        subprocess.run(
            check,
            cwd=project,
            env={**os.environ, "DEPWATCH_CACHE_DIR": warm},
            capture_output=True,
            check=False,
        )
        rules = sorted(Path(warm).glob("rules-*.json"))

        def rules_only(folder: Path) -> None:
            for path in rules:
                shutil.copy2(path, folder / path.name)

        pair("check, usage cache cold", check, floor, project, args.runs, 10.0, rules_only)
    pair("check, first run (no cache)", check, floor, project, args.runs, 10.0, lambda _: None)

    # The hook: pre-commit passes the changed files; a .py file stands for its project.
    hook = {**os.environ, "PRE_COMMIT": "1"}
    hook_runs = [(project, "voice_bot/speak.py")]
    if args.repo is not None:
        changed = args.file or next(
            p.relative_to(args.repo).as_posix() for p in sorted(args.repo.rglob("*.py"))
        )
        hook_runs.append((args.repo, changed))
    previous = dict(os.environ)
    os.environ.update(hook)
    try:
        for folder, changed in hook_runs:
            pair(
                f"hook, warm cache ({folder.name})",
                [*depwatch, "check", changed],
                floor,
                folder,
                args.runs,
                10.0,
            )
    finally:
        os.environ.clear()
        os.environ.update(previous)


if __name__ == "__main__":
    main()
