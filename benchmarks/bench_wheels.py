"""What API changes from the released wheels cost: ``check --online`` on a project importing 30
locked packages, against a local index on 127.0.0.1 that serves their wheels with ranges.

The packages: by default 30 generated ones, each at two versions (the locked one and a newer
one that removes a function, a keyword and adds a required parameter), ``--modules`` modules of
``--functions`` functions and a class each (realistic sizes: a median PyPI package has 20–60
modules); or, with ``--wheels DIR``, every ``*.whl`` in DIR (for example real wheels fetched
with ``pip download --no-deps -d DIR pkg==old pkg==new ...``), the oldest version of each
project locked. The project pins them in a requirements.txt written by ``uv pip compile``
against the local index, and its code imports each package and calls into it.

Whole processes are timed (``python -m depwatch check PROJECT --format json``):

- **offline**: without ``--online`` (the floor the warm run is held to);
- **cold**: ``--online`` with an empty cache folder (pages, wheels read, APIs extracted);
- **warm**: ``--online`` again (pages fresh in the cache, APIs from the cache).

Targets (issue 14): cold ≤ 60 s on 2 cores, warm ≤ 1.5× offline, peak memory (the depwatch
process's max RSS) ≤ 300 MiB. Exits 1 when one is missed; ``--json`` prints the figures.

    python benchmarks/bench_wheels.py [--packages 30] [--rounds 3] [--wheels DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests" / "wheels"))

from wheel_builder import build_wheel  # noqa: E402
from wheel_server import WheelIndex  # noqa: E402

RUNNER = """
import resource, subprocess, sys, time
start = time.perf_counter()
done = subprocess.run(sys.argv[1:], capture_output=True)
wall = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
sys.stdout.write(f"{wall} {peak} {done.returncode}\\n")
sys.stderr.write(done.stderr.decode(errors="replace")[-2000:])
"""


def _module(pkg: str, m: int, functions: int, new: bool) -> str:
    lines = [f'"""Module {m} of {pkg}."""', "import warnings", ""]
    for f in range(functions):
        if new and m == 0 and f == 0:
            continue  # removed in the new release
        params = "a, b=None, *, timeout=None" + (", legacy=False" if not (new and f == 1) else "")
        if new and f == 2:
            params = "a, token, b=None, *, timeout=None, legacy=False"
        lines += [
            f"def func_{f}({params}):",
            f'    """Function {f}."""',
            "    if legacy:" if "legacy" in params else "    if timeout:",
            '        warnings.warn("legacy is deprecated", DeprecationWarning)',
            "    return a",
            "",
        ]
    lines += [
        f"class Thing{m}:",
        "    def __init__(self, name, size=0):",
        "        self.name = name",
        "        self.size = size",
        "",
        "    def run(self, x, *, fast=False):",
        "        return x",
        "",
    ]
    return "\n".join(lines)


def _generated(index: WheelIndex, count: int, modules: int, functions: int) -> dict[str, str]:
    locked = {}
    for i in range(count):
        pkg = f"benchpkg{i}"
        for version, new in (("1.0", False), ("2.0", True)):
            files: dict[str, str | bytes] = {
                f"{pkg}/__init__.py": f"from {pkg}.mod0 import func_0, func_1, func_2, Thing0\n"
                if not new
                else f"from {pkg}.mod0 import func_1, func_2, Thing0\n"
            }
            for m in range(modules):
                files[f"{pkg}/mod{m}.py"] = _module(pkg, m, functions, new)
            filename, data = build_wheel(pkg, version, files)
            index.add(pkg, filename, data)
        locked[pkg] = "1.0"
    return locked


def _from_folder(index: WheelIndex, folder: Path) -> dict[str, str]:
    from packaging.utils import parse_wheel_filename

    locked: dict[str, str] = {}
    for path in sorted(folder.glob("*.whl")):
        name, version, _, _ = parse_wheel_filename(path.name)
        index.add(str(name), path.name, path.read_bytes())
        if str(name) not in locked or version < type(version)(locked[str(name)]):
            locked[str(name)] = str(version)
    return locked


def _project(root: Path, index: WheelIndex, locked: dict[str, str], generated: bool) -> None:
    root.mkdir(parents=True, exist_ok=True)
    (root / "pyproject.toml").write_text(
        '[project]\nname = "benchapp"\nversion = "0"\nrequires-python = ">=3.10"\n'
    )
    (root / "requirements.in").write_text("".join(f"{n}=={v}\n" for n, v in locked.items()))
    uv = shutil.which("uv") or str(Path(sys.executable).parent / "uv")
    subprocess.run(
        [
            uv,
            "pip",
            "compile",
            "requirements.in",
            "-o",
            "requirements.txt",
            "--no-deps",
            "--index-url",
            index.url,
            "--no-cache",
            "--quiet",
        ],
        cwd=root,
        check=True,
    )
    code = ["import os", ""]
    for i, name in enumerate(locked):
        module = name.replace("-", "_")
        code.append(f"import {module}")
        if generated:
            code += [
                f"{module}.func_0(1)",
                f"{module}.func_1(1, legacy=True)",
                f"{module}.func_2(1, timeout=3)",
                f"t{i} = {module}.Thing0('x', size=2)",
                f"t{i}.run(1, fast=True)",
                "",
            ]
    (root / "app.py").write_text("\n".join(code) + "\n")


def _run(root: Path, cache: Path, *args: str) -> tuple[float, int, int]:
    env = {**os.environ, "DEPWATCH_CACHE_DIR": str(cache), "NO_COLOR": "1"}
    # as an installed tool runs: with bytecode (a checkout under PYTHONDONTWRITEBYTECODE
    # would compile every module it imports on every run)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            RUNNER,
            sys.executable,
            "-m",
            "depwatch",
            "check",
            str(root),
            "--format",
            "json",
            *args,
        ],
        capture_output=True,
        text=True,
        env=env,
    )
    wall, peak, code = done.stdout.split()
    if int(code) not in (0, 1):
        raise SystemExit(f"depwatch failed ({code}): {done.stderr}")
    return float(wall), int(peak) // 1024, int(code)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--packages", type=int, default=30)
    parser.add_argument("--modules", type=int, default=30)
    parser.add_argument("--functions", type=int, default=25)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--wheels", type=Path, help="serve the *.whl files of this folder")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    index = WheelIndex().start()
    tmp = Path(tempfile.mkdtemp(prefix="depwatch-bench-wheels-"))
    try:
        if args.wheels:
            locked = _from_folder(index, args.wheels)
        else:
            locked = _generated(index, args.packages, args.modules, args.functions)
        root = tmp / "project"
        _project(root, index, locked, generated=not args.wheels)
        online = ("--online", "--index-url", index.url)
        cold, warm, offline, peaks = [], [], [], []
        for r in range(args.rounds):
            cache = tmp / f"cache{r}"
            wall, peak, _ = _run(root, cache, *online)
            cold.append(wall)
            peaks.append(peak)
            wall, peak, _ = _run(root, cache, *online)
            warm.append(wall)
            peaks.append(peak)
            offline.append(_run(root, cache)[0])
        figures = {
            "packages": len(locked),
            "cold_s": statistics.median(cold),
            "warm_s": statistics.median(warm),
            "offline_s": statistics.median(offline),
            "warm_over_offline": statistics.median(warm) / statistics.median(offline),
            "peak_mib": max(peaks),
            "bytes_served": index.bytes_sent,
            "wheel_bytes": sum(len(f.data) for fs in index.files.values() for f in fs),
        }
    finally:
        index.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    ok = (
        figures["cold_s"] <= 60
        and figures["warm_over_offline"] <= 1.5
        and figures["peak_mib"] <= 300
    )
    if args.json:
        sys.stdout.write(json.dumps(figures, indent=2) + "\n")
    else:
        for key, value in figures.items():
            shown = f"{value:.2f}" if isinstance(value, float) else str(value)
            sys.stdout.write(f"{key:>18}: {shown}\n")
        sys.stdout.write(
            "targets: cold ≤ 60 s, warm ≤ 1.5× offline, peak ≤ 300 MiB: "
            + ("met\n" if ok else "MISSED\n")
        )
    raise SystemExit(0 if ok else 1)


if __name__ == "__main__":
    main()
