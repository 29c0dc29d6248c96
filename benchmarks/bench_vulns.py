"""What ``--vulns`` costs: depwatch's pip-audit path against pip-audit alone, on the same pins.

Starts the tests' OSV-compatible server on 127.0.0.1 (real PyPA advisory records from
``../shared/advisories/pypa``), writes ~100 real pins (the first version of each name in
``../shared/bench/requirements.txt``, without hashes or markers) and times whole processes,
interleaved round by round so that a noisy neighbour hurts both sides alike:

- **floor**: ``python -m pip_audit -r PINS --no-deps --disable-pip -f json -s osv --osv-url …``
- **depwatch advisories**: a process that imports ``depwatch.advisories`` and runs
  ``start(...).result()`` on the same pins (every pin as a registry
  :class:`~depwatch.model.Package`): depwatch's pip-audit path alone
- **check** and **check --vulns**: ``python -m depwatch check PROJECT --format json`` on a
  folder holding the pins as ``requirements.txt``, without and with
  ``--vulns --osv-url …``
- **bare python wrapper**: an interpreter that starts pip-audit and waits (for reference)
- any ``--command`` given: a shell-free command line whose ``{osv_url}``, ``{requirements}``,
  ``{project}`` and ``{python}`` are filled in

The issue's cost target is what ``--vulns`` *adds* to ``check``: per round,
``check --vulns`` minus ``check`` (the rules and the code scan run either way), whose median must
stay within 1.05× pip-audit alone; the advisories path alone is held to the same limit. The whole
``check --vulns`` process is printed too, as a ratio to pip-audit alone: it also holds
depwatch's own start-up and its own work, which the target does not count.

It prints the median and best time of each and each ratio to the floor (median / median), and
exits 1 when a held ratio is above ``--limit`` (default 1.05). ``--json`` prints the figures as
JSON.

    python benchmarks/bench_vulns.py [--count 100] [--rounds 7] [--jobs N] [--command CMD ...]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("DEPWATCH_SHARED", REPO.parent / "shared"))
PINS_SOURCE = SHARED / "bench" / "requirements.txt"
RECORDS = SHARED / "advisories" / "pypa"

DEPWATCH_SNIPPET = """
import sys
from depwatch import advisories
from depwatch.model import Package
lines = open(sys.argv[1], encoding="utf-8").read().split()
packages = [Package(*line.split("==", 1)) for line in lines]
jobs = int(sys.argv[4]) if sys.argv[4] != "auto" else None
result = advisories.start(packages, osv_url=sys.argv[2], cache_dir=sys.argv[3], jobs=jobs).result()
assert result.audited == len(packages), (result.audited, result.not_audited[:3], result.warnings)
print(len(result.vulnerabilities))
"""


ADDED = "added by --vulns"
"""check --vulns minus check, per round: what the issue's cost target bounds."""
HELD = ("depwatch advisories", ADDED)
"""The figures held to ``--limit``; the others are printed for context."""


def _load_server() -> object:
    path = REPO / "tests" / "advisories" / "osv_server.py"
    spec = importlib.util.spec_from_file_location("depwatch_bench_osv_server", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def read_pins(count: int) -> list[str]:
    """Four pins the records affect, then distinct names of the bench lock at their first
    version, ``count`` in all."""
    pins = ["requests==2.19.0", "urllib3==1.24.1", "jinja2==2.10", "pyyaml==5.3"]
    seen = {pin.split("==")[0] for pin in pins}
    for line in PINS_SOURCE.read_text(encoding="utf-8").splitlines():
        if len(pins) >= count:
            break
        requirement = line.split(";")[0].split("\\")[0].replace(" ", "")
        name = requirement.split("==")[0].lower()
        if line[:1].isalnum() and "==" in requirement and name not in seen:
            seen.add(name)
            pins.append(requirement)
    return pins[:count]


def time_command(command: list[str], env: dict[str, str]) -> float:
    began = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    elapsed = time.perf_counter() - began
    if done.returncode not in (0, 1):
        raise SystemExit(f"{shlex.join(command)} failed ({done.returncode}):\n{done.stderr}")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100, help="how many pins (default 100)")
    parser.add_argument("--rounds", type=int, default=7, help="timed rounds (default 7)")
    parser.add_argument("--jobs", default="auto", help="depwatch's parallel runs (default auto)")
    parser.add_argument("--command", action="append", default=[], help="another command to time")
    parser.add_argument(
        "--latency", type=float, default=0.0, help="seconds the server waits before each answer"
    )
    parser.add_argument("--limit", type=float, default=1.05, help="ratio to fail above")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    if not RECORDS.is_dir() or not PINS_SOURCE.is_file():
        raise SystemExit(f"needs {RECORDS} and {PINS_SOURCE}")

    server_module = _load_server()
    records = server_module.load_records(RECORDS)  # type: ignore[attr-defined]
    pins = read_pins(args.count)
    with (
        tempfile.TemporaryDirectory(prefix="depwatch-bench-") as scratch,
        server_module.serve(  # type: ignore[attr-defined]
            records
        ) as server,
    ):
        # Byte-code is cached (in the scratch folder) for both sides, as in an installed
        # depwatch: a checkout run under PYTHONDONTWRITEBYTECODE would compile depwatch anew
        # in every measured process.
        env = {**os.environ, "NO_COLOR": "1", "PYTHONPATH": str(REPO)}
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(Path(scratch, "pycache"))
        server.delay = args.latency
        project = Path(scratch, "project")
        project.mkdir()
        requirements = project / "requirements.txt"
        requirements.write_text("".join(f"{pin}\n" for pin in pins), encoding="utf-8")
        cache = str(Path(scratch, "cache"))
        fill = {
            "osv_url": server.query_url,
            "requirements": str(requirements),
            "project": str(project),
            "python": sys.executable,
        }
        commands: dict[str, list[str]] = {
            "pip-audit alone": [
                sys.executable,
                "-m",
                "pip_audit",
                "-r",
                str(requirements),
                "--no-deps",
                "--disable-pip",
                "-f",
                "json",
                "--progress-spinner",
                "off",
                "-s",
                "osv",
                "--osv-url",
                server.query_url,
                "--cache-dir",
                cache,
            ],
            "depwatch advisories": [
                sys.executable,
                "-c",
                DEPWATCH_SNIPPET,
                str(requirements),
                server.query_url,
                cache,
                args.jobs,
            ],
        }
        commands["check"] = [sys.executable, "-m", "depwatch", "check", str(project)]
        commands["check"] += ["--format", "json", "--fail-on", "never"]
        commands["check --vulns"] = [*commands["check"], "--vulns", "--osv-url", server.query_url]
        # The least any Python wrapper costs: an interpreter that starts pip-audit and waits.
        commands["bare python wrapper"] = [
            sys.executable,
            "-c",
            "import subprocess, sys; sys.exit(subprocess.run(sys.argv[1:]).returncode)",
            *commands["pip-audit alone"],
        ]
        for text in args.command:
            commands[text] = [part.format(**fill) for part in shlex.split(text)]

        for command in [*commands.values()] * 2:  # warm-up: page cache, CPU frequency
            time_command(command, env)
        times: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(args.rounds):
            for name, command in commands.items():
                times[name].append(time_command(command, env))

    # What --vulns adds, paired round by round (both runs met the same neighbours).
    times[ADDED] = [
        with_vulns - without
        for with_vulns, without in zip(times["check --vulns"], times["check"], strict=True)
    ]
    floor = statistics.median(times["pip-audit alone"])
    figures = {
        name: {
            "median_s": round(statistics.median(values), 4),
            "best_s": round(min(values), 4),
            "ratio": round(statistics.median(values) / floor, 3),
        }
        for name, values in times.items()
    }
    if args.json:
        print(
            json.dumps(
                {
                    "pins": len(pins),
                    "cpus": os.cpu_count(),
                    "latency_s": args.latency,
                    "figures": figures,
                }
            )
        )
    else:
        print(
            f"{len(pins)} pins, {args.rounds} rounds, {os.cpu_count()} CPUs, "
            f"server latency {args.latency:.3f} s"
        )
        for name, row in figures.items():
            print(
                f"  {name:<20} median {row['median_s']:.3f} s  best {row['best_s']:.3f} s  "
                f"× {row['ratio']:.3f}"
            )
    over = [name for name in HELD if figures[name]["ratio"] > args.limit]
    if over:
        print(f"above ×{args.limit}: {', '.join(over)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
