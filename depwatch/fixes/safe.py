"""Safety of what goes into a command: valid names, normal-form versions, clean paths,
:func:`shlex.quote`."""

from __future__ import annotations

import re
import shlex

from packaging.version import InvalidVersion, Version

_NAME = re.compile(r"^([A-Z0-9]|[A-Z0-9][A-Z0-9._-]*[A-Z0-9])\Z", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def safe_name(name: str) -> str | None:
    """The name when it is a valid PEP 508 distribution name, else None."""
    return name if _NAME.match(name) else None


def safe_version(text: str | Version | None) -> str | None:
    """The version in PEP 440 normal form (digits, letters, ``.+!``), else None."""
    if text is None:
        return None
    try:
        return str(text if isinstance(text, Version) else Version(text))
    except InvalidVersion:
        return None


def _safe_path(path: str) -> str | None:
    return None if not path or _CONTROL.search(path) else path


def _q(*parts: str) -> str:
    return " ".join(shlex.quote(p) for p in parts)
