"""The interface every lockfile reader implements, and what a reader returns."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

from depwatch.errors import DepwatchError
from depwatch.files import read_text
from depwatch.model import LockFormat, Package, parse_markers, parse_version

if TYPE_CHECKING:
    from packaging.version import Version

__all__ = [
    "ARCHIVES",
    "TOML_ENTRY",
    "EntryError",
    "EntryLines",
    "EntryShape",
    "LockContents",
    "Merged",
    "Reader",
    "TomlLock",
    "any_of",
    "entry_error",
    "entry_of",
    "kind_of",
    "load_toml_lock",
    "lock_version",
    "marker_problem",
    "merge",
    "name_of",
    "newer_major",
    "parse_version",
    "strings_of",
    "table_line",
    "table_of",
    "tables_of",
    "version_of",
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

    FORMAT: LockFormat
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


# -- typed getters: a TOML lock's tables, each wrong type an error naming the key -----------


def table_of(data: dict[str, Any], field: str, fail: EntryError) -> dict[str, Any]:
    """``data[field]``, a table (absent: empty)."""
    value = data.get(field, {})
    if not isinstance(value, dict):
        raise fail(f"'{field}' must be a table", field)
    return value


def tables_of(data: dict[str, Any], table: str, fail: EntryError) -> list[Any]:
    """``[[table]]``: an array of tables (absent: empty; each item is checked by
    :func:`entry_of`)."""
    value = data.get(table, [])
    if not isinstance(value, list):
        raise fail(f"'{table}' must be an array of tables ([[{table}]])", table)
    return value


def entry_of(item: Any, key: str, fail: EntryError, index: int) -> dict[str, Any]:
    """The ``index``-th item of an array of tables, a table."""
    if not isinstance(item, dict):
        raise fail(f"{key} must be a table", key, index)
    return item


def name_of(entry: dict[str, Any], key: str, fail: EntryError, index: int) -> str:
    """An entry's ``name`` as written: a non-empty string."""
    name = entry.get("name")
    if name is None:
        raise fail(f"{key} has no 'name'", f"{key}.name", index)
    if not isinstance(name, str) or not name:
        raise fail(f"{key} has a name that is not a string: {name!r}", f"{key}.name", index)
    return name


def version_of(
    entry: dict[str, Any], name: str, key: str, fail: EntryError, index: int, *, lock: str
) -> tuple[str, Version] | None:
    """An entry's ``version`` and its parse; None when it has none. ``lock`` (``uv.lock``)
    writes only PEP 440 versions: anything else is a damaged lock."""
    version = entry.get("version")
    if version is None:
        return None
    if not isinstance(version, str):
        raise fail(
            f"package '{name}' has a version that is not a string: {version!r}",
            f"{key}.version",
            index,
        )
    release = parse_version(version)
    if release is None:
        raise fail(
            f"package '{name}' has version {version!r}, which is not a PEP 440 version "
            f"({lock} holds only those)",
            f"{key}.version",
            index,
        )
    return version, release


def strings_of(
    value: Any, message: str, key: str, fail: EntryError, index: int | None = None
) -> list[str]:
    """``value``, a list of strings (else ``message``)."""
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise fail(message, key, index)
    return value


def lock_version(metadata: dict[str, Any], field: str, fail: EntryError) -> str | None:
    """``metadata[field]``, the lock format's version: a string, or None when absent."""
    value = metadata.get(field)
    if value is not None and not isinstance(value, str):
        raise fail(f"'{field}' must be a string, not {value!r}", f"metadata.{field}")
    return value


def newer_major(version: str, known: int) -> bool:
    """Whether a lock format version's major is past ``known`` (or is not a number)."""
    major = version.partition(".")[0]
    return not (major.isascii() and major.isdigit()) or int(major) > known


def kind_of(value: object, *, yaml: bool = False) -> str:
    """How a JSON (or YAML) value's type reads in a message."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "text" if yaml else "a string"
    if isinstance(value, list):
        return "a list"
    return "a mapping" if yaml else "an object"


#: A local path that ends so is an archive (``path`` source); any other is a directory.
ARCHIVES = (".whl", ".tar.gz", ".zip", ".tar.bz2", ".tgz", ".tar.xz", ".tar")


class Merged:
    """The entries of one (name, version, source) in a lock, as one package: their groups
    united in order, installed wherever any of them is (everywhere when one has no markers),
    direct when any says so."""

    __slots__ = ("added", "conditions", "direct", "first", "groups", "line", "unconditional")

    def __init__(self, first: Package) -> None:
        self.first = first
        self.line = first.line
        """The first line of the entries (where their readers knew one)."""
        self.groups = list(first.groups)
        self.conditions: list[str] = []
        self.unconditional = False
        self.direct = first.direct
        self.added = False
        self._markers(first.markers)

    def _markers(self, markers: str | None) -> None:
        if markers is None:
            self.unconditional = True
        elif markers and markers not in self.conditions:
            self.conditions.append(markers)

    def add_groups(self, groups: Iterable[str]) -> None:
        self.added = True
        self.groups.extend(group for group in groups if group not in self.groups)

    def add(self, package: Package) -> None:
        """Another entry of the same name, version and source."""
        self.add_entry(package.groups, package.markers, package.direct, package.line)

    def add_entry(
        self, groups: Iterable[str], markers: str | None, direct: bool | None, line: int | None
    ) -> None:
        """Another entry, by its fields (no Package made for it)."""
        self.added = True
        self.add_groups(groups)
        self._markers(markers)
        if line is not None and (self.line is None or line < self.line):
            self.line = line
        if direct is not None:
            self.direct = direct or bool(self.direct)

    def package(self, *, line: int | None = None) -> Package:
        """The merged package (at ``line``, where the reader finds it only now)."""
        first = self.first
        if not self.added and first.markers != "" and line in (None, first.line):
            return first  # one entry: the package as read
        markers = None if self.unconditional else any_of(self.conditions)
        return Package(
            name=first.name,
            version=first.version,
            source=first.source,
            markers=markers,
            groups=tuple(self.groups),
            direct=self.direct,
            note=first.note,
            index=first.index,
            line=self.line if line is None else line,
            parsed_version=first.parsed_version,
            parsed_markers=first.parsed_markers if markers == first.markers else None,
        )


def merge(packages: Iterable[Package]) -> dict[tuple[str, str | None, str], Merged]:
    """``packages`` merged per (name, version, source), in the order first seen."""
    merged: dict[tuple[str, str | None, str], Merged] = {}
    for package in packages:
        key = (package.name, package.version, package.source)
        found = merged.get(key)
        if found is None:
            merged[key] = Merged(package)
        else:
            found.add(package)
    return merged


def marker_problem(text: str) -> str | None:
    """Why ``text`` is not a PEP 508 environment marker (packaging's first line), or None
    (the parse is cached: the Package made with ``text`` reuses it)."""
    found = parse_markers(text)
    return found if isinstance(found, str) else None


class TomlLock(NamedTuple):
    """A TOML lockfile as read: its text (for lines) and its parsed tables."""

    text: str
    data: dict[str, Any]


def load_toml_lock(
    path: Path, shown: str, *, kind: str, keys: tuple[str, ...], needs: str, hint: str
) -> TomlLock:
    """A TOML lockfile read and parsed, or an error: empty, or holding none of ``keys``
    (other TOML under the lock's name is not an empty lock that passes a gate)."""
    from depwatch import tomlfile  # here: tomli is not needed by every reader

    text = read_text(path)
    data = tomlfile.loads(text, path=shown)
    if not data:
        raise DepwatchError(f"is empty: not a {kind}", path=shown, hint=hint)
    if not any(key in data for key in keys):
        raise DepwatchError(f"is not a {kind}: it has neither {needs}", path=shown, hint=hint)
    return TomlLock(text, data)


def entry_error(text: str, shown: str, table: str = "package") -> EntryError:
    """The ``fail`` of a reader whose entries are ``[[table]]`` tables (``text``: the file's)."""

    def fail(message: str, key: str, index: int | None = None) -> DepwatchError:
        return DepwatchError(message, path=shown, line=table_line(text, table, index), key=key)

    return fail


def table_line(text: str, table: str, index: int | None) -> int | None:
    """The 1-based line of the ``index``-th ``[[table]]`` header of ``text``, for error
    messages."""
    if index is None:
        return None
    header = f"[[{table}]]"
    count = -1
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip() == header:
            count += 1
            if count == index:
                return number
    return None


# -- lines ---------------------------------------------------------------------------------
#
# The readers parse with TOML, JSON and YAML parsers, which keep no line numbers, so a reader
# finds its entries' lines in the text it holds, by the shape its format gives an entry: the
# line that names the package (in any PEP 503 spelling and case) whose entry holds the locked
# version. When no entry of that name holds the version, the name's first entry is used; a
# package that no entry names has no line.

_H = r"[ \t]*"


class EntryShape(NamedTuple):
    """How a format writes an entry, for finding its line."""

    named: str
    """A line that names an entry, matched from the line's start (no ``^``: the search looks
    for a line break first, which the regex engine finds fast); its last group captures the
    name."""
    version: str | None
    """The entry's version line, capturing the version as group ``v``; None: the version is
    on the named line (``x==1.0``)."""
    end: str | None
    """A line that ends the entry."""
    window: int
    """How many lines after the name the version may come."""


#: uv, poetry, pdm, pylock: ``name = "x"`` (or ``'x'``) with ``version = "1.0"`` in the lines
#: just after it (basic or literal strings: pylock.toml writers use both).
TOML_ENTRY = EntryShape(
    rf"""{_H}name{_H}={_H}(["'])([^"'\n]+)\1{_H}$""",
    rf"""^{_H}version{_H}={_H}(["'])(?P<v>.*)\1{_H}$""",
    rf"^{_H}\[",
    3,
)


#: What ``str.splitlines`` ends a line at, besides ``\n``.
_OTHER_BREAKS = re.compile("[\r\x0b\x0c\x1c-\x1e\x85\u2028\u2029]")


class EntryLines:
    """One lockfile's text, searched for its packages' lines (the entries are indexed by name
    in one pass of the regex engine, and each entry's versions are found once, so each package
    costs a dict lookup)."""

    def __init__(self, text: str, shape: EntryShape) -> None:
        from packaging.utils import canonicalize_name

        if _OTHER_BREAKS.search(text):
            text = "\n".join(text.splitlines())  # lines as ``splitlines`` counts them
        self._text = text
        self._shape = shape
        self._versions: dict[int, frozenset[str]] = {}
        self._spans: dict[int, tuple[int, int]] = {}
        """Line number of a named entry → where that line starts and ends in the text."""
        self._entries: dict[str, list[int]] = {}
        number, counted = 1, 0
        # In "\n" + text, a match starts at the break before its line: at the line's own
        # start in ``text``.
        for found in re.finditer(rf"\n(?:{shape.named})", "\n" + text, re.MULTILINE):
            start = found.start()
            number += text.count("\n", counted, start)
            counted = start
            line_end = text.find("\n", start)
            self._spans[number] = (start, len(text) if line_end < 0 else line_end)
            self._entries.setdefault(
                canonicalize_name(found.group(found.lastindex or 1)), []
            ).append(number)

    def _line(self, number: int) -> str:
        """Line ``number`` of a named entry (the name's line)."""
        start, end = self._spans[number]
        return self._text[start:end]

    def _versions_at(self, number: int) -> frozenset[str]:
        """The versions the entry named on line ``number`` holds: its version lines before the
        entry ends, within the shape's window."""
        known = self._versions.get(number)
        if known is None:
            _, version_line, end, window = self._shape
            assert version_line is not None
            wanted = re.compile(version_line)
            ends = re.compile(end) if end else None
            found: set[str] = set()
            text, start = self._text, self._spans[number][1] + 1
            for _ in range(window):
                if start >= len(text):
                    break
                stop = text.find("\n", start)
                stop = len(text) if stop < 0 else stop
                line = text[start:stop]
                start = stop + 1
                held = wanted.match(line)
                if held:
                    found.add(held.group("v"))
                if ends is not None and ends.match(line):
                    break
            known = self._versions[number] = frozenset(found)
        return known

    def locate(self, name: str, version: str | None) -> int | None:
        """The 1-based line of ``name`` (normalised) at ``version``, or None."""
        numbers = self._entries.get(name)
        if not numbers:
            return None
        if version is None:
            return numbers[0]
        if self._shape.version is None:
            # The version is on the entry's own line (``x==1.0``).
            wanted = re.compile(rf".*?===?{_H}{re.escape(version)}(?![\w.+!-])")
            for number in numbers:
                if wanted.match(self._line(number)):
                    return number
            return numbers[0]
        for number in numbers:
            if version in self._versions_at(number):
                return number
        return numbers[0]
