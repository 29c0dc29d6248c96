"""pylock lockfiles (placeholder: being written)."""

from __future__ import annotations

from pathlib import Path

from depwatch.errors import DepwatchError
from depwatch.files import display_path
from depwatch.lockfiles.base import LockContents

FORMAT = "pylock"


def matches(path: Path) -> bool:
    return path.name == "pylock.toml" or (path.name.startswith("pylock.") and path.name.endswith(".toml"))


def read(path: Path) -> LockContents:
    raise DepwatchError("this format is not supported yet", path=display_path(path))
