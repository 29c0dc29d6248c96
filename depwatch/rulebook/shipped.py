"""Where the rules that ship with depwatch are.

An installed wheel carries them as package data in ``depwatch/rules/`` (pyproject maps the
repository's top-level ``rules/`` folder to ``depwatch.rules``); a source checkout or an editable
install has them at ``<repository>/rules/``. Only ``<package>/<slug>.toml`` files in it are rules:
``README.md``, Python fixtures and anything else are skipped by the loader.
"""

from __future__ import annotations

from pathlib import Path

import depwatch
from depwatch.errors import DepwatchError

__all__ = ["shipped_dir"]


def shipped_dir() -> Path:
    """The shipped rule folder (absolute); a broken install is a :class:`DepwatchError`."""
    package = Path(depwatch.__file__).resolve().parent
    candidates = (package / "rules", package.parent / "rules")
    for candidate in candidates:
        if candidate.is_dir():
            return candidate
    raise DepwatchError(
        "the rules that ship with depwatch are missing",
        path=str(candidates[0]),
        hint="reinstall depwatch (pip install --force-reinstall depwatch-audit)",
    )
