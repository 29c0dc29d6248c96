"""The interface every lockfile reader implements, and what a reader returns."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from depwatch.errors import DepwatchError
from depwatch.files import read_text
from depwatch.model import Package

__all__ = [
    "EntryError",
    "LockContents",
    "Reader",
    "any_of",
    "entry_error",
    "is_pep440",
    "load_toml_lock",
    "marker_problem",
    "table_line",
]


class EntryError(Protocol):
    """``fail(message, key, index)``: an error naming the file, the key and the entry's line."""

    def __call__(self, message: str, key: str, index: int | None = None) -> DepwatchError: ...


@dataclass(frozen=True, slots=True)
class LockContents:
    """What a reader found in one lockfile (paths are the audit's business, not the reader's)."""

    packages: tuple[Package, ...]
    requires_python: str | None = None
    """The lock's own requires-python (uv, pdm, poetry's python-versions, Pipfile's requires)."""
    warnings: tuple[str, ...] = ()
    """Odd but harmless things (one line each, without the file name)."""
    python_versions: tuple[str, ...] = ()
    details: tuple[str, ...] = ()
    """What ``warnings`` sums up, one line each (shown with ``--verbose``)."""
    environments: tuple[str, ...] = ()
    """PEP 508 markers of the environments the lock was made for (uv's ``supported-markers``,
    conda-lock's platforms); empty when it names none."""
    """conda: the versions of the locked ``python`` package."""


class Reader(Protocol):
    """A lockfile format: a module with these attributes (checked by mypy via the registry)."""

    FORMAT: str
    """The ``format`` value of the JSON output (``uv``, ``poetry``, …)."""

    def matches(self, path: Path) -> bool:
        """Whether a file of this name is this format (decided from the name alone)."""
        ...

    def read(self, path: Path) -> LockContents:
        """Read the whole file; a malformed file raises ``DepwatchError`` naming it."""
        ...


def any_of(markers: Iterable[str]) -> str | None:
    """One marker that holds where any of ``markers`` holds (None for none)."""
    unique = list(dict.fromkeys(markers))
    if not unique:
        return None
    if len(unique) == 1:
        return unique[0]
    return " or ".join(f"({marker})" for marker in unique)


@functools.lru_cache(maxsize=512)
def marker_problem(text: str) -> str | None:
    """Why ``text`` is not a PEP 508 environment marker (packaging's first line), or None."""
    from packaging.markers import InvalidMarker, Marker

    try:
        Marker(text)
    except InvalidMarker as exc:
        return str(exc).splitlines()[0]
    return None


def is_pep440(version: str) -> bool:
    """Whether ``version`` parses as a PEP 440 version."""
    from packaging.version import Version

    try:
        Version(version)
    except ValueError:  # InvalidVersion, or a number past the digit limit
        return False
    return True


def load_toml_lock(
    path: Path, shown: str, *, kind: str, keys: tuple[str, ...], needs: str, hint: str
) -> dict[str, Any]:
    """A TOML lockfile parsed, or an error: empty, or holding none of ``keys`` (other TOML
    under the lock's name is not an empty lock that passes a gate)."""
    from depwatch import tomlfile  # here: tomli is not needed by every reader

    data = tomlfile.load(path)
    if not data:
        raise DepwatchError(f"is empty: not a {kind}", path=shown, hint=hint)
    if not any(key in data for key in keys):
        raise DepwatchError(f"is not a {kind}: it has neither {needs}", path=shown, hint=hint)
    return data


def entry_error(path: Path, shown: str, table: str = "package") -> EntryError:
    """The ``fail`` of a reader whose entries are ``[[table]]`` tables."""

    def fail(message: str, key: str, index: int | None = None) -> DepwatchError:
        return DepwatchError(message, path=shown, line=table_line(path, table, index), key=key)

    return fail


def table_line(path: Path, table: str, index: int | None) -> int | None:
    """The 1-based line of the ``index``-th ``[[table]]`` header, for error messages."""
    if index is None:
        return None
    try:
        text = read_text(path)
    except DepwatchError:
        return None
    header = f"[[{table}]]"
    count = -1
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip() == header:
            count += 1
            if count == index:
                return number
    return None
