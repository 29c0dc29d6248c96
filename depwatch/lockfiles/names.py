"""Which file names are lockfiles, and of which format: decided here alone.

The registry picks a reader by these rules, each reader's ``matches`` is its rule, and
discovery searches a folder for the names they accept. Cheap to import: no reader is loaded
to tell a name.
"""

from __future__ import annotations

import re
from pathlib import Path

__all__ = ["conda", "pdm", "pipfile", "poetry", "pylock", "requirements", "uv"]

#: PEP 751's own rule for a named lock: ``pylock.<name>.toml``, the name without dots.
_PYLOCK_NAME = re.compile(r"pylock\.[^.]+\.toml\Z")
#: What a requirements file's name starts or ends with (before ``.txt``, in any case).
_REQUIREMENTS_STEMS = ("requirements", "constraints")


def uv(path: Path) -> bool:
    """``uv.lock``."""
    return path.name == "uv.lock"


def poetry(path: Path) -> bool:
    """``poetry.lock``."""
    return path.name == "poetry.lock"


def pipfile(path: Path) -> bool:
    """``Pipfile.lock``."""
    return path.name == "Pipfile.lock"


def pdm(path: Path) -> bool:
    """``pdm.lock``."""
    return path.name == "pdm.lock"


def pylock(path: Path) -> bool:
    """``pylock.toml`` or ``pylock.<name>.toml`` (PEP 751: ``pylock.a.b.toml`` is neither)."""
    return path.name == "pylock.toml" or bool(_PYLOCK_NAME.match(path.name))


def requirements(path: Path) -> bool:
    """``requirements*.txt``, ``*requirements.txt``, the constraints equivalents (in any
    case), and any ``*.txt`` in a folder named ``requirements``."""
    name = path.name
    if not name.endswith(".txt"):
        return False
    stem = name[:-4].lower()
    return (
        stem.startswith(_REQUIREMENTS_STEMS)
        or stem.endswith(_REQUIREMENTS_STEMS)
        or path.parent.name == "requirements"
    )


def conda(path: Path) -> bool:
    """``conda-lock.yml`` or ``*.conda-lock.yml``."""
    return path.name == "conda-lock.yml" or path.name.endswith(".conda-lock.yml")
