"""conda lockfiles (placeholder: being written)."""

from __future__ import annotations

from pathlib import Path

from depwatch.errors import DepwatchError
from depwatch.files import display_path
from depwatch.lockfiles.base import LockContents

FORMAT = "conda"


def matches(path: Path) -> bool:
    return path.name == "conda-lock.yml" or (path.name.endswith(".conda-lock.yml"))


def read(path: Path) -> LockContents:
    raise DepwatchError("this format is not supported yet", path=display_path(path))
