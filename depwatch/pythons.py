"""CPython minor releases: which ones a declared range admits, and Poetry's constraint syntax
read as PEP 440.

A declared range becomes a set of CPython minor releases (3.0–3.15) so that Poetry's ``||`` and
every other spelling compare alike.
"""

from __future__ import annotations

import functools
import re

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import Version

from depwatch.specifiers import specifier_set

__all__ = [
    "CANDIDATE_PYTHONS",
    "UNDECLARED_PYTHONS",
    "admitted_minors",
    "excluded_minors",
    "minor_admitted",
    "poetry_constraint",
    "python_constraint_to_pep440",
]

#: The CPython minor releases a declared range is matched against.
CANDIDATE_PYTHONS: tuple[str, ...] = tuple(f"3.{minor}" for minor in range(16))

#: The minors a project that declares no Python range is taken to run on (3.8 and later).
UNDECLARED_PYTHONS: tuple[str, ...] = CANDIDATE_PYTHONS[8:]


def minor_admitted(spec: SpecifierSet, minor: str) -> bool:
    """Whether any release of the CPython minor ``minor`` (``"3.9"``) is inside ``spec``."""
    major_s, minor_s = minor.split(".")
    probes = {Version(f"{minor}.0"), Version(f"{minor}.99")}
    for item in spec:
        try:
            pinned = Version(item.version.rstrip(".*"))
        except ValueError:  # InvalidVersion, or a number past the digit limit
            continue
        release = pinned.release
        if len(release) >= 2 and release[0] == int(major_s) and release[1] == int(minor_s):
            probes.add(pinned)
            probes.add(Version(".".join(str(p) for p in (*release[:3], 0, 0)[:3])))
    return any(spec.contains(probe, prereleases=True) for probe in probes)


@functools.lru_cache(maxsize=4096)
def excluded_minors(spec: SpecifierSet, minors: tuple[str, ...]) -> tuple[str, ...]:
    """The minors of ``minors`` that no release inside ``spec`` belongs to (memoised: the
    matcher asks this of every Python-floor rule, and rules share ranges)."""
    return tuple(minor for minor in minors if not minor_admitted(spec, minor))


def admitted_minors(spec: SpecifierSet) -> tuple[str, ...]:
    """The candidate CPython minors inside ``spec``."""
    return tuple(minor for minor in CANDIDATE_PYTHONS if minor_admitted(spec, minor))


def poetry_constraint(text: str) -> list[SpecifierSet]:
    """Poetry's constraint syntax, with ``a || b`` alternatives, as PEP 440 sets.

    Raises ``ValueError`` when an alternative has no PEP 440 equivalent.
    """
    alternatives = []
    for part in re.split(r"\|\|?", text):
        if part.strip() in {"", "*"}:
            alternatives.append(SpecifierSet())
            continue
        converted = python_constraint_to_pep440(part)
        if converted is None:
            raise ValueError(f"{part.strip()!r} has no PEP 440 equivalent")
        alternatives.append(specifier_set(converted))
    return alternatives


_CLAUSE = re.compile(r"(\^|~=|~|>=|<=|!=|==|>|<|=)?\s*([0-9][0-9A-Za-z.*+!-]*)")


def python_constraint_to_pep440(constraint: str) -> str | None:
    """Poetry's ``^3.9`` / ``~3.9`` / ``>=3.8,<4`` as a PEP 440 specifier; None when not expressible."""
    text = constraint.strip()
    if text in {"", "*"} or "||" in text or "|" in text:
        return None
    parts: list[str] = []
    for chunk in re.split(r"\s*,\s*|\s+(?=[\^~<>=!0-9])", text):
        if not chunk:
            continue
        found = _CLAUSE.fullmatch(chunk.strip())
        if found is None:
            return None
        op, version = found.group(1) or "", found.group(2)
        if op in {"^", "~"}:
            numbers = version.split(".")
            if not all(n.isascii() and n.isdigit() for n in numbers):
                return None
            parts.append(f">={version}")
            parts.append(f"<{_upper_bound([int(n) for n in numbers], caret=op == '^')}")
        elif op in {"", "="}:
            parts.append(f"=={version}")
        else:
            parts.append(f"{op}{version}")
    result = ",".join(parts)
    try:
        specifier_set(result)
    except InvalidSpecifier:
        return None
    return result or None


def _upper_bound(numbers: list[int], *, caret: bool) -> str:
    """The exclusive upper bound of ``^x.y.z`` (first non-zero part) or ``~x.y.z``."""
    if caret:
        for position, number in enumerate(numbers):
            if number != 0 or position == len(numbers) - 1:
                break
        bumped = [*numbers[:position], numbers[position] + 1]
    elif len(numbers) == 1:
        bumped = [numbers[0] + 1]
    else:
        bumped = [numbers[0], numbers[1] + 1]
    return ".".join(str(n) for n in bumped)
