"""Is the work linear in the input? Issue 19 item 6, in-process, on demand.

Run:  python benchmarks/bench_hostile.py [--scale 1.0]

Each case is timed at size N and 2N (and 4N); the printed growth factor per doubling is about
2 for linear work and 4 for quadratic work, whatever the machine's speed — which is why the
figures are ratios: absolute times on a shared machine mean little.

- notebook: a notebook of N code cells, each referencing a tracked module (``place()`` walked
  every cell per reference);
- big .py: one source file of N lines of calls into a tracked module;
- packages table: ``depwatch packages`` rendering of a lock of N entries;
- long name: a requirements file whose one line is N characters long.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from depwatch.lockfiles import requirements  # noqa: E402
from depwatch.model import Lockfile, Package  # noqa: E402
from depwatch.reporters import render_packages  # noqa: E402
from depwatch.usage.scan import scan_source  # noqa: E402


def _timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def notebook(n: int) -> Callable[[], object]:
    cells = [
        {"cell_type": "code", "source": [f"import yaml\nx{i} = yaml.load(s{i})\n"]}
        for i in range(n)
    ]
    text = json.dumps({"cells": cells, "nbformat": 4})
    return lambda: scan_source(text, "nb.ipynb", ["yaml"])


def big_py(n: int) -> Callable[[], object]:
    text = "import yaml\n" + "".join(f"v{i} = yaml.load(data, Loader=L{i})\n" for i in range(n))
    return lambda: scan_source(text, "big.py", ["yaml"])


def packages_table(n: int) -> Callable[[], object]:
    lock = Lockfile(
        "uv.lock", "uv", tuple(Package(f"pkg-{i}", f"1.{i}.0", groups=("main",)) for i in range(n))
    )
    return lambda: render_packages([(".", lock)], "table", width=100)


def long_name(n: int, folder: Path) -> Callable[[], object]:
    path = folder / f"long-{n}.txt"
    path.write_text("a" * n + "==1.0\n", encoding="utf-8")

    def run() -> object:
        try:
            return requirements.read(path)
        except Exception as exc:
            return exc

    return run


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    args = parser.parse_args()
    s = args.scale
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        cases: list[tuple[str, Callable[[int], Callable[[], object]], int]] = [
            ("notebook cells", notebook, int(2000 * s)),
            ("big .py lines", big_py, int(20000 * s)),
            ("packages table rows", packages_table, int(2000 * s)),
            ("long requirement line", lambda n: long_name(n, folder), int(1_000_000 * s)),
        ]
        print(
            f"depwatch linearity benchmark — Python {sys.version.split()[0]} (ratios ≈2 = linear)"
        )
        for label, make, n in cases:
            times = [_timed(make(size)) for size in (n, 2 * n, 4 * n)]
            growth = [b / a if a else float("nan") for a, b in itertools.pairwise(times)]
            shown = ", ".join(f"{t * 1000:.0f} ms" for t in times)
            print(
                f"  {label:<24} N={n:<8} {shown:<32} growth per doubling: "
                + ", ".join(f"{g:.1f}×" for g in growth)
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
