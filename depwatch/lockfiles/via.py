"""pip-compile's ``# via`` annotations: recorded on the entry above them, and whether they make
the entry a direct dependency."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from packaging.utils import canonicalize_name

if TYPE_CHECKING:
    from depwatch.lockfiles.requirements import _Entry


#: A ``# via`` item that names an input file: ``-r requirements.in``, ``proj (pyproject.toml)``.
_FILE_ITEM = re.compile(r"^(?:-r\s|--requirement\b)|\([^()]*\)$")


def _via_comment(text: str, last: _Entry, in_via: bool) -> bool:
    """Record a ``# via`` comment (one line or a block) on ``last``; whether a block goes on."""
    body = text.strip()
    if body.startswith("via"):
        rest = body[3:]
        if not rest.strip():
            last.via = last.via or []
            return True
        if rest[0] in " \t":
            last.via = (last.via or []) + _split_via(rest)
            return False
    if in_via and text.startswith("   ") and body:
        assert last.via is not None
        last.via.append(body)
        return True
    return False


def _split_via(text: str) -> list[str]:
    return [item.strip() for item in text.split(",") if item.strip()]


def _direct(via: list[str] | None, listed: set[str], editable: set[str]) -> bool | None:
    """Whether ``# via`` names an input file or the project itself; None without ``# via``.

    The project is an editable entry of the folder the file is in (``-e .``), or (``uv export
    --no-emit-project``) a name that the file does not list at all; another editable entry is
    a dependency like any other.
    """
    if via is None:
        return None
    for item in via:
        if _FILE_ITEM.search(item):
            return True
        name = canonicalize_name(item.split("[", 1)[0].split(" ", 1)[0])
        if name in editable or name not in listed:
            return True
    return False
