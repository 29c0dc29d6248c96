"""Lockfile readers, one module per format, and the registry that picks one for a file."""

from __future__ import annotations

from pathlib import Path

from depwatch.errors import DepwatchError
from depwatch.files import display_path
from depwatch.lockfiles import conda, pdm, pipfile, poetry, pylock, requirements, uv
from depwatch.lockfiles.base import LockContents, Reader

__all__ = ["READERS", "LockContents", "Reader", "reader_for"]

#: Every supported format, in the order a file name is tried against them.
READERS: dict[str, Reader] = {
    "uv": uv,
    "poetry": poetry,
    "pipfile": pipfile,
    "pdm": pdm,
    "pylock": pylock,
    "conda": conda,
    "requirements": requirements,
}


def reader_for(path: Path, *, explicit: bool = False) -> Reader:
    """The reader for ``path``; an explicitly named ``*.txt`` reads as a requirements file."""
    for reader in READERS.values():
        if reader.matches(path):
            return reader
    if explicit and path.suffix in {".txt", ".in"}:
        return requirements
    raise DepwatchError(
        "is not a lockfile depwatch can read",
        path=display_path(path),
        hint="name a uv.lock, poetry.lock, Pipfile.lock, pdm.lock, pylock.toml, "
        "conda-lock.yml or requirements file",
    )
