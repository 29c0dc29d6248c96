"""Lockfile readers, one module per format, and the registry that picks one for a file.

Reader modules are imported lazily, in the order below, until one recognises the file name:
reading a uv.lock never pays for YAML or requirement parsing.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import cast

from depwatch.errors import DepwatchError
from depwatch.files import display_path
from depwatch.lockfiles.base import LockContents, Reader

__all__ = ["FORMATS", "LockContents", "Reader", "load_reader", "reader_for"]

#: Every supported format, in the order a file name is tried against them (the cheap
#: modules first: conda's reader imports a YAML parser).
FORMATS: tuple[str, ...] = ("uv", "poetry", "pipfile", "pdm", "pylock", "requirements", "conda")


def load_reader(fmt: str) -> Reader:
    """The reader module of format ``fmt``."""
    return cast(Reader, importlib.import_module(f"depwatch.lockfiles.{fmt}"))


def reader_for(path: Path, *, explicit: bool = False) -> Reader:
    """The reader for ``path``; an explicitly named ``*.txt`` reads as a requirements file."""
    for fmt in FORMATS:
        reader = load_reader(fmt)
        if reader.matches(path):
            return reader
    if explicit and path.suffix in {".txt", ".in"}:
        return load_reader("requirements")
    raise DepwatchError(
        "is not a lockfile depwatch can read",
        path=display_path(path),
        hint="name a uv.lock, poetry.lock, Pipfile.lock, pdm.lock, pylock.toml, "
        "conda-lock.yml or requirements file",
    )
