"""``check --recursive`` over a monorepo against the slowest single project's ``check``.

Run on demand:  python benchmarks/bench_recursive.py [--projects 20] [--packages 30] [--runs 5]

Writes a monorepo of N projects (each a pyproject.toml, a uv.lock of M registry packages in
uv's own format, locked at versions the shipped rules speak of, and a little code that uses
them) into a temporary folder, then times, as whole processes:

- ``depwatch check DIR --recursive``, and
- ``depwatch check PROJECT`` for every project alone (the slowest is the reference).

Target (issue 18): recursive ≤ slowest × (1.5 + 0.1 × max(0, N − cores)), cores being the
CPUs this process may run on. Each time is the median of ``--runs`` runs after a warm-up. Run
it on an otherwise idle machine: on a shared one the figures mean nothing.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PY = sys.executable


def _rule_pins() -> list[tuple[str, str, str]]:
    """(package, locked version, import name) for packages the shipped rules speak of."""
    from depwatch.rulebook import load_rulebook

    pins: dict[str, tuple[str, str, str]] = {}
    for rule in load_rulebook([]):
        if rule.is_interpreter or not rule.examples.affected or rule.package in pins:
            continue
        module = rule.usage.modules[0] if rule.usage and rule.usage.modules else ""
        if not module.replace(".", "_").isidentifier():
            module = rule.package.replace("-", "_").replace(".", "_")
        pins[rule.package] = (rule.package, rule.examples.affected[0], module)
    return sorted(pins.values())


def _lock(name: str, pins: list[tuple[str, str, str]]) -> str:
    lines = ["version = 1", "revision = 3", 'requires-python = ">=3.10"', ""]
    lines += [
        "[[package]]",
        f'name = "{name}"',
        'version = "0.1.0"',
        'source = { virtual = "." }',
        "dependencies = [",
        *[f'    {{ name = "{package}" }},' for package, _, _ in pins],
        "]",
        "",
    ]
    for package, version, _ in pins:
        lines += [
            "[[package]]",
            f'name = "{package}"',
            f'version = "{version}"',
            'source = { registry = "https://pypi.org/simple" }',
            "",
        ]
    return "\n".join(lines)


def write_monorepo(root: Path, projects: int, packages: int) -> list[Path]:
    """``projects`` folders under ``root``, each locking ``packages`` packages."""
    pins = _rule_pins()
    fillers = [(f"filler-{i}", "1.0.0", f"filler_{i}") for i in range(packages)]
    folders = []
    for index in range(projects):
        # Each project its own slice of the rule packages, topped up with packages no rule names.
        start = (index * 7) % max(1, len(pins))
        chosen = (pins[start:] + pins[:start])[: packages // 2]
        chosen += fillers[: packages - len(chosen)]
        folder = root / "services" / f"svc-{index:02d}"
        (folder / "src").mkdir(parents=True)
        deps = ", ".join(f'"{package}=={version}"' for package, version, _ in chosen)
        (folder / "pyproject.toml").write_text(
            f'[project]\nname = "svc-{index:02d}"\nversion = "0.1.0"\n'
            f'requires-python = ">=3.10"\ndependencies = [{deps}]\n'
        )
        (folder / "uv.lock").write_text(_lock(f"svc-{index:02d}", chosen))
        for n in range(20):
            body = "\n".join(f"import {module}" for _, _, module in chosen[n % 5 :: 5])
            (folder / "src" / f"mod_{n}.py").write_text(
                f"{body}\n\n\ndef f{n}(x):\n    return x + {n}\n"
            )
        folders.append(folder)
    return folders


def _time(cmd: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    done = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(cmd)} failed ({done.returncode}): {done.stderr.strip()}")
    return elapsed


def _median(cmd: list[str], cwd: Path, runs: int) -> float:
    _time(cmd, cwd)  # warm-up: page cache, the compiled rule index
    return statistics.median(_time(cmd, cwd) for _ in range(runs))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--projects", type=int, default=20)
    parser.add_argument("--packages", type=int, default=30)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    depwatch = [PY, "-m", "depwatch"]
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:
        cores = os.cpu_count() or 1
    with tempfile.TemporaryDirectory(prefix="depwatch-bench-recursive-") as tmp:
        root = Path(tmp)
        folders = write_monorepo(root, args.projects, args.packages)
        singles = [_median([*depwatch, "check", str(f)], root, args.runs) for f in folders]
        slowest = max(singles)
        recursive = _median([*depwatch, "check", ".", "--recursive"], root, args.runs)
    allowed = 1.5 + 0.1 * max(0, args.projects - cores)
    ratio = recursive / slowest
    verdict = "ok" if ratio <= allowed else "OVER"
    print(
        f"{args.projects} projects × {args.packages} packages, {cores} cores: "
        f"--recursive {recursive * 1000:.0f} ms; single projects median "
        f"{statistics.median(singles) * 1000:.0f} ms, slowest {slowest * 1000:.0f} ms; "
        f"ratio {ratio:.2f}× (target ≤ {allowed:.2f}×) {verdict}"
    )


if __name__ == "__main__":
    main()
