"""Reading lockfiles in process: each reader's CPU time per file, as a ratio to a floor.

Run on demand:  python benchmarks/bench_lockfiles.py [--runs N] [--against CHECKOUT]

The readers return each package with its line and its parsed Version and Marker; this times
``reader.read(path)`` on the 571-package bench uv.lock and requirements.txt (../shared/bench)
and on one fixture per format, against the floor of parsing the same text alone (``tomli``,
``json``, PyYAML's safe loader; the requirements file against ``str.splitlines``). CPU time
(``time.process_time``), the median of ``--runs`` reads after a warm-up, in a fresh process.

With ``--against`` (another checkout of depwatch, e.g. ``git worktree add /tmp/before REV``),
the same reads are timed with that checkout's code too, and the ratio new/old is printed
(run it on a quiet machine: the numbers of a shared one say little).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("DEPWATCH_SHARED", REPO.parent / "shared"))
FIXTURES = REPO / "tests" / "fixtures" / "lockfiles"
FILES = [
    SHARED / "bench" / "uv.lock",
    SHARED / "bench" / "requirements.txt",
    FIXTURES / "poetry" / "app" / "poetry.lock",
    FIXTURES / "pdm" / "app" / "pdm.lock",
    FIXTURES / "pipfile" / "basic" / "Pipfile.lock",
    FIXTURES / "pylock" / "uv-export" / "pylock.toml",
    FIXTURES / "conda" / "handmade" / "multi-platform.conda-lock.yml",
]

_TIMER = r"""
import json, statistics, sys, time
from pathlib import Path
from depwatch.lockfiles import reader_for

def floor(path):
    text = path.read_text(encoding="utf-8")
    if path.suffix in {".lock", ".toml"} and path.name != "Pipfile.lock":
        import tomli
        return lambda: tomli.loads(text)
    if path.name == "Pipfile.lock":
        return lambda: json.loads(text)
    if path.suffix == ".yml":
        import yaml
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        return lambda: yaml.load(text, Loader=loader)
    return lambda: text.splitlines()

def median(call, runs):
    call()
    times = []
    for _ in range(runs):
        start = time.process_time()
        call()
        times.append(time.process_time() - start)
    return statistics.median(times)

runs = int(sys.argv[1])
out = {}
for name in sys.argv[2:]:
    path = Path(name)
    reader = reader_for(path, explicit=True)
    out[name] = (median(lambda: reader.read(path), runs), median(floor(path), runs))
print(json.dumps(out))
"""


def _measure(checkout: Path, files: list[Path], runs: int) -> dict[str, tuple[float, float]]:
    env = {**os.environ, "PYTHONPATH": str(checkout)}
    done = subprocess.run(
        [sys.executable, "-c", _TIMER, str(runs), *map(str, files)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    found: dict[str, tuple[float, float]] = json.loads(done.stdout)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--against", type=Path, help="another checkout to compare with")
    args = parser.parse_args()
    files = [path for path in FILES if path.is_file()]
    for path in FILES:
        if not path.is_file():
            print(f"skipped {path}: not found")
    new = _measure(REPO, files, args.runs)
    old = _measure(args.against, files, args.runs) if args.against else None
    for path in files:
        read, floor = new[str(path)]
        line = (
            f"{path.parent.name + '/' + path.name:<45} {read * 1000:8.1f} ms "
            f"(floor {floor * 1000:7.1f} ms, {read / floor:5.2f}×)"
        )
        if old is not None:
            before = old[str(path)][0]
            line += f"  before {before * 1000:8.1f} ms  new/old {read / before:5.2f}×"
        print(line)


if __name__ == "__main__":
    main()
