"""What an audit yields, as typed values, and the cleaning of pip-audit's text that goes into them."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from packaging.version import Version

from depwatch.model import NotAudited

__all__ = ["AdvisoryResult", "Vulnerability", "canonicalize_name", "clean", "sort_version"]

_SEPARATORS = re.compile(r"[-_.]+")
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]+")
"""Control characters, which outside text must not carry into a message."""
_OBJECT_REPR = re.compile(r"<[\w.]+ object at 0x[0-9a-fA-F]+>:?\s*")
USERINFO = re.compile(r"//[^/\s]*@")  # up to the last "@": a password may hold one
"""The credentials part of a URL."""


@dataclass(frozen=True, slots=True)
class Vulnerability:
    """One advisory that affects one locked package version."""

    id: str
    """The advisory id pip-audit reports (PYSEC and CVE ids are preferred over GHSA)."""
    package: str
    """PEP 503-normalised name."""
    version: str
    """The version text as locked."""
    aliases: tuple[str, ...] = ()
    """Other ids of the same advisory (CVE, GHSA), sorted."""
    fixed_versions: tuple[str, ...] = ()
    """Versions that fix it, lowest first; empty when no fix is known."""
    description: str = ""
    """The advisory's summary (or its details), on one line."""
    link: str = ""

    @property
    def title(self) -> str:
        """The description cut to a short title."""
        return _shorten(self.description, 120) or self.id

    @property
    def fix(self) -> str | None:
        """The smallest fixed version above the locked one, or None when there is none."""
        return _smallest_fix_above(self.version, self.fixed_versions)


@dataclass(frozen=True, slots=True)
class AdvisoryResult:
    """What the audit found, what it could not audit, and what the user should know."""

    vulnerabilities: tuple[Vulnerability, ...] = ()
    not_audited: tuple[NotAudited, ...] = ()
    """Every package (name, locked version) the service did not answer for, with the reason."""
    warnings: tuple[str, ...] = ()
    """One line each, for the report's warnings."""
    audited: int = 0
    """How many distinct (package, version) pairs the service answered for."""
    service: str = "pypi"


def canonicalize_name(name: str) -> str:
    """The PEP 503 normalised form of a distribution name."""
    return _SEPARATORS.sub("-", name).lower()


def clean(text: str, limit: int = 500) -> str:
    """One line of outside text: no control characters, object addresses or URL credentials."""
    text = _OBJECT_REPR.sub("", text)
    text = USERINFO.sub("//***@", text)
    text = " ".join(CONTROL.sub(" ", text).split())
    return _shorten(text, limit)


def _shorten(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0].rstrip(" ,;:.")
    return cut + "…"


def _parse(text: str | None) -> Version | None:
    if text is None:
        return None
    try:
        return Version(text)
    except ValueError:  # InvalidVersion, or a number past the digit limit
        return None


def sort_version(text: str | None) -> tuple[int, Version | str]:
    """A sort key: PEP 440 versions in order, then the other texts."""
    parsed = _parse(text)
    return (0, parsed) if parsed is not None else (1, text or "")


def _smallest_fix_above(locked: str, fixed: Iterable[str]) -> str | None:
    current = _parse(locked)
    candidates = [(v, text) for text in fixed if (v := _parse(text)) is not None]
    if current is not None:
        candidates = [(v, text) for v, text in candidates if v > current]
    return min(candidates)[1] if candidates else None
