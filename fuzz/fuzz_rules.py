"""atheris target: the rule loader (one rule file in a rule folder). See fuzz/README.md."""

from __future__ import annotations

import tempfile
from pathlib import Path

from harness import REPO, main


def _target():  # type: ignore[no-untyped-def]
    from depwatch.errors import DepwatchError
    from depwatch.rulebook import check_dirs

    root = Path(tempfile.mkdtemp(prefix="depwatch-fuzz-rules-"))
    (root / "pyyaml").mkdir()
    path = root / "pyyaml" / "fuzzed.toml"

    def target(data: bytes) -> None:
        path.write_bytes(data)
        try:
            check_dirs([root])
        except DepwatchError:
            pass

    return target


TARGET = _target()

if __name__ == "__main__":
    import shutil
    import sys

    if len(sys.argv) == 1:  # seed from the shipped rules
        seeds = Path(tempfile.mkdtemp(prefix="depwatch-seeds-"))
        for n, rule in enumerate(sorted((REPO / "rules").glob("*/*.toml"))):
            shutil.copy(rule, seeds / f"seed-{n}")
        sys.argv.append(str(seeds))
    main(TARGET)
