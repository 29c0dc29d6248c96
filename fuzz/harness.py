"""The shared part of the atheris targets: write the fuzzer's bytes under the reader's file name,
read them, and accept only a result or a ``DepwatchError`` (exit 2 in the CLI).

Anything else — another exception, a hang (atheris' ``-timeout``), a crash — is a finding.
See ``fuzz/README.md``.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
CORPUS = Path(os.environ.get("DEPWATCH_SHARED", REPO.parent / "shared")) / "corpus" / "lockfiles"


def file_target(name: str, read: Callable[[Path], Any]) -> Callable[[bytes], None]:
    """A target that hands ``read`` a file called ``name`` holding the fuzzer's bytes."""
    from depwatch.errors import DepwatchError

    folder = Path(tempfile.mkdtemp(prefix="depwatch-fuzz-"))
    path = folder / name

    def target(data: bytes) -> None:
        path.write_bytes(data)
        try:
            read(path)
        except DepwatchError:
            pass  # a clean exit 2

    return target


def seed_dir(pattern: str) -> Path:
    """A folder of seed inputs copied from the shared corpus (``**/uv.lock`` ...), for atheris'
    corpus argument."""
    out = Path(tempfile.mkdtemp(prefix="depwatch-seeds-"))
    for n, found in enumerate(sorted(CORPUS.glob(pattern)) if CORPUS.is_dir() else []):
        (out / f"seed-{n}").write_bytes(found.read_bytes())
    return out


def main(target: Callable[[bytes], None], seeds: str | None = None) -> None:
    """Run ``target`` under atheris (``python fuzz/fuzz_X.py [atheris/libFuzzer flags]``)."""
    try:
        import atheris
    except ImportError:
        sys.exit("atheris is not installed: pip install atheris (needs clang/libFuzzer)")
    argv = list(sys.argv)
    if seeds and not any(not a.startswith("-") for a in argv[1:]):
        argv.append(str(seed_dir(seeds)))  # no corpus folder given: start from the real files
    with atheris.instrument_imports():
        import depwatch.lockfiles  # noqa: F401 - instrumented for coverage
    atheris.Setup(argv, target)
    atheris.Fuzz()
