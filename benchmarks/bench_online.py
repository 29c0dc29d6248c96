"""What ``check --online`` costs, on ``../shared/bench/uv.lock`` (571 packages), against the
tests' package index on 127.0.0.1 (``tests/index/server.py``: a page for every registry entry
of the lock, with its locked release and a newer one).

Whole processes, interleaved round by round so that a noisy neighbour hurts every side alike:

- **check**: ``python -m depwatch check PROJECT --format json`` (the floor)
- **online cold**: the same with ``--online --index-url URL`` and an empty index cache
- **online warm**: the same with the cache fresh (no request at all)
- **online cold, 50 ms**: cold against an index that waits 50 ms before every answer

Targets (issue 13): cold ≤ 3× check, warm ≤ 1.2× check (medians), cold with 50 ms per answer
≤ 2 s (median, absolute: concurrency, not serial round trips). Exits 1 when one is missed;
``--json`` prints the figures as JSON. Wall-clock figures taken on a loaded machine mean
little: run it alone. Beside them it prints the CPU time of each depwatch process (user +
system, all its threads) and of the index server while it answered, with their ratios to
``check``'s: those hold up better on a shared machine, and the server's share says how much of
a cold run's wall time is the local index competing for the same cores.

    python benchmarks/bench_online.py [--rounds 5] [--lock PATH] [--json]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("DEPWATCH_SHARED", REPO.parent / "shared"))
LOCK = SHARED / "bench" / "uv.lock"
LIMITS = {"online cold": 3.0, "online warm": 1.2}
SLOW_LIMIT = 2.0


def _load_server() -> Any:
    path = REPO / "tests" / "index" / "server.py"
    spec = importlib.util.spec_from_file_location("depwatch_bench_index_server", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _children_cpu() -> float:
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def _servers_cpu() -> float:
    """This process's CPU time: the index servers run on its threads."""
    return time.process_time()


def _time(command: list[str], env: dict[str, str], cpu: list[float] | None = None) -> float:
    """The wall time of ``command``; with ``cpu``, its CPU time and this process's (the
    servers') during it are appended."""
    cpu_before, served_before = _children_cpu(), _servers_cpu()
    started = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if done.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(command)} failed ({done.returncode}):\n{done.stderr}")
    if cpu is not None:
        cpu += [_children_cpu() - cpu_before, _servers_cpu() - served_before]
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--lock", type=Path, default=LOCK)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if not args.lock.is_file():
        print(f"{args.lock} is not there (set DEPWATCH_SHARED)", file=sys.stderr)
        return 2
    server_module = _load_server()
    lock_text = args.lock.read_text(encoding="utf-8")
    fast = server_module.IndexServer()
    count = server_module.from_lock(fast, lock_text)
    slow = server_module.IndexServer(latency=0.05)
    server_module.from_lock(slow, lock_text)
    fast.start()
    slow.start()
    with tempfile.TemporaryDirectory(prefix="depwatch-bench-online-") as tmp:
        project = Path(tmp) / "project"
        project.mkdir()
        shutil.copy(args.lock, project / "uv.lock")
        manifest = args.lock.parent / "pyproject.toml"
        if manifest.is_file():
            shutil.copy(manifest, project / "pyproject.toml")
        cache = Path(tmp) / "cache"
        env = {**os.environ, "DEPWATCH_CACHE_DIR": str(cache), "NO_COLOR": "1"}
        # as an installed tool runs: with bytecode (a checkout under PYTHONDONTWRITEBYTECODE
        # would compile every module it imports on every run)
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        base = [sys.executable, "-m", "depwatch", "check", str(project), "--format", "json"]
        online = [*base, "--online", "--index-url", fast.url]
        online_slow = [*base, "--online", "--index-url", slow.url]
        _time(base, env)  # the rulebook cache, as a user's second run has it
        times: dict[str, list[float]] = {
            "check": [],
            "online cold": [],
            "online warm": [],
            "online cold, 50 ms": [],
        }
        cpu: dict[str, list[list[float]]] = {name: [] for name in times}

        def timed(name: str, command: list[str]) -> None:
            used: list[float] = []
            times[name].append(_time(command, env, used))
            cpu[name].append(used)

        for _ in range(args.rounds):
            timed("check", base)
            shutil.rmtree(cache / "index", ignore_errors=True)
            timed("online cold", online)
            timed("online warm", online)
            shutil.rmtree(cache / "index", ignore_errors=True)
            timed("online cold, 50 ms", online_slow)
    fast.stop()
    slow.stop()
    floor = statistics.median(times["check"])
    cpu_floor = statistics.median(used[0] for used in cpu["check"])
    figures = {
        name: {
            "median_s": round(statistics.median(values), 4),
            "best_s": round(min(values), 4),
            "ratio": round(statistics.median(values) / floor, 3),
            "cpu_median_s": round(statistics.median(used[0] for used in cpu[name]), 4),
            "cpu_ratio": round(statistics.median(used[0] for used in cpu[name]) / cpu_floor, 3),
            "server_cpu_median_s": round(statistics.median(used[1] for used in cpu[name]), 4),
        }
        for name, values in times.items()
    }
    missed = [
        f"{name}: {figures[name]['ratio']}× check (limit {limit}×)"
        for name, limit in LIMITS.items()
        if figures[name]["ratio"] > limit
    ]
    if figures["online cold, 50 ms"]["median_s"] > SLOW_LIMIT:
        missed.append(
            f"online cold, 50 ms: {figures['online cold, 50 ms']['median_s']} s (limit {SLOW_LIMIT} s)"
        )
    if args.json:
        print(
            json.dumps(
                {"packages": count, "rounds": args.rounds, "figures": figures, "missed": missed},
                indent=2,
            )
        )
    else:
        print(f"{count} registry packages served, {args.rounds} rounds")
        for name, figure in figures.items():
            print(
                f"  {name:<20} median {figure['median_s']:.3f} s  best {figure['best_s']:.3f} s"
                f"  {figure['ratio']:.2f}× check  |  CPU {figure['cpu_median_s']:.3f} s"
                f"  {figure['cpu_ratio']:.2f}× check, index server {figure['server_cpu_median_s']:.3f} s"
            )
        for line in missed:
            print(f"MISSED {line}")
    return 1 if missed else 0


if __name__ == "__main__":
    raise SystemExit(main())
