"""requirements lockfiles (placeholder: being written)."""

from __future__ import annotations

from pathlib import Path

from depwatch.errors import DepwatchError
from depwatch.files import display_path
from depwatch.lockfiles.base import LockContents

FORMAT = "requirements"


def matches(path: Path) -> bool:
    return path.suffix == ".txt" and "requirements" in path.name


def read(path: Path) -> LockContents:
    raise DepwatchError("this format is not supported yet", path=display_path(path))
