"""Requirements files (pip-compile, ``uv pip compile``, hand-written): pins, following -r and -c."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from depwatch.errors import DepwatchError
from depwatch.files import display_path, read_text
from depwatch.locations import name_of_location
from depwatch.lockfiles import names
from depwatch.lockfiles.base import (
    EntryLines,
    EntryShape,
    LockContents,
    Merged,
    marker_problem,
)
from depwatch.lockfiles.requirement_locations import (
    _file_url_path,
    _local_folder,
    _looks_like_location,
    _not_a_file,
    _reason,
    _resolved,
    _url_source,
    _wheel_version,
)
from depwatch.lockfiles.requirement_options import (
    _IGNORED_OPTIONS,
    _INCLUDE_OPTIONS,
    _expand,
    _split_option,
)
from depwatch.lockfiles.via import _direct, _split_via, _via_comment
from depwatch.model import LockFormat, Package, SourceKind
from depwatch.reporters.text import redact_credentials

__all__ = ["FORMAT", "matches", "name_of_location", "pin_line", "read"]

FORMAT = LockFormat.REQUIREMENTS

#: ``name[extras] ==version ; markers`` — the shape of nearly every line a locking tool writes.
_PIN = re.compile(
    r"([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)\s*(?:\[[^\]]*\])?\s*(===?)\s*([^\s;,*]+)"
    r"\s*(?:;\s*(.*?))?\s*$"
)
#: One logical line: physical lines joined by a trailing backslash (a comment line, which pip
#: never joins, ends the run), or a comment line alone.
_LOGICAL_LINE = re.compile(r"[ \t]*#[^\n]*\n?|(?:[^\n]*\\\n(?![ \t]*#))*[^\n]*\n?")
#: pip's comment rule: ``#`` at the start or after whitespace (``#egg=`` in a URL is not one).
_COMMENT = re.compile(r"(?:^|\s)#(.*)$")
#: Where a package is pinned: ``x==1.0`` (or ``x @ url``) at the start of a line (for
#: :func:`pin_line`; the reader knows its entries' lines as it parses them).
_ENTRY = EntryShape(
    r"[ \t]*([A-Za-z0-9][A-Za-z0-9._-]*)[ \t]*(?:\[[^\]\n]*\])?[ \t]*(?:===?|@)", None, None, 0
)
_UNSAFE_HEADER = "# The following packages are considered to be unsafe"


def matches(path: Path) -> bool:
    """Whether ``path`` names a lockfile of this format (see :mod:`.names`)."""
    return names.requirements(path)


def pin_line(text: str, name: str, version: str) -> int | None:
    """The line of ``text`` (a requirements file's) that pins ``name`` (normalised) at
    ``version``, else the first that names it; None when none does."""
    return EntryLines(text, _ENTRY).locate(name, version)


def read(path: Path) -> LockContents:
    """Read ``path`` and the files it includes; pinned lines become packages."""
    state = _State(root=path.parent, top=_resolved(path, display_path(path)))
    state.read_file(path, constraint=False, chain=())
    details: tuple[str, ...] = ()
    if len(state.unpinned) == 1:
        state.warnings.append(state.unpinned[0])
    elif state.unpinned:
        # one line for many (a file of 43 ranges is one fact, not 43); --verbose names them
        state.warnings.append(
            f"{len(state.unpinned)} requirements are not pinned (no ==) and are not listed; "
            "--verbose names them"
        )
        details = tuple(state.unpinned)
    return LockContents(
        packages=state.packages(),
        warnings=tuple(state.warnings),
        details=details,
    )


@dataclass(slots=True)
class _Entry:
    name: str
    version: str | None
    source: SourceKind
    markers: str | None
    constraint: bool
    via: list[str] | None = None
    own: bool = False
    """An editable install of the folder the lockfile is in (``-e .``): the project itself."""
    line: int | None = None
    """Where the file asked for writes it (None for an entry of an included file)."""


@dataclass(frozen=True, slots=True)
class _File:
    """The file being read: where it is, how it is shown, whether it is read as constraints
    (included with ``-c``, or by a file that was) and the includes that led to it."""

    path: Path
    shown: str
    constraint: bool
    chain: tuple[Path, ...]


@dataclass(slots=True)
class _State:
    root: Path
    top: Path
    entries: list[_Entry] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    done: set[tuple[Path, bool]] = field(default_factory=set)
    unpinned: list[str] = field(default_factory=list)
    """One line per requirement without a pin (reported together)."""
    unsafe: set[str] = field(default_factory=set)
    """Names pip-compile lists, commented out, as unsafe to pin (``# setuptools``)."""

    def where(self, path: Path, line: int) -> str:
        """``line 3`` in the file that was asked for, ``sub/dev.txt:3`` in an included one."""
        if path.resolve() == self.top:
            return f"line {line}"
        try:
            shown = os.path.relpath(path, self.root)
        except ValueError:  # another drive on Windows
            shown = str(path)
        return f"{Path(shown).as_posix()}:{line}"

    def read_file(self, path: Path, *, constraint: bool, chain: tuple[Path, ...]) -> None:
        """Read one file, following its includes (a file already read is not read again)."""
        shown = display_path(path)
        resolved = _resolved(path, shown)
        self.done.add((resolved, constraint))
        text = read_text(path)
        if "\r" in text:
            text = text.replace("\r\n", "\n").replace("\r", "\n")
        file = _File(path, shown, constraint, (*chain, resolved))
        last: _Entry | None = None
        in_via = unsafe = False
        lineno = 1
        for found_line in _LOGICAL_LINE.finditer(text):
            line = found_line.group()
            here = lineno
            newlines = line.count("\n")
            lineno += newlines
            stripped = line.strip()
            if not stripped:
                in_via = False
                continue
            if stripped[0] == "#":
                if stripped.startswith(_UNSAFE_HEADER):
                    unsafe, last = True, None
                elif last is not None:
                    in_via = _via_comment(stripped[1:], last, in_via)
                elif unsafe:
                    self.unsafe.add(canonicalize_name(stripped[1:].strip().split("=", 1)[0]))
                continue
            in_via = False
            last = None
            if "\\" in line:
                # pip's join_lines: every backslash at either end of a continued line goes.
                line = "".join(
                    part.strip("\\") if part.endswith("\\") else part for part in line.split("\n")
                )
            comment = None
            if "#" in line:
                found = _COMMENT.search(line)
                if found:
                    comment = found.group(1).strip()
                    line = line[: found.start()]
            line = line.strip()
            if not line:
                continue
            if "${" in line:
                line = _expand(line, shown=shown, lineno=here)
            try:
                if line[0] == "-":
                    # An editable entry has "# via" lines like a requirement; other options none.
                    last = self._option(line, file=file, lineno=here)
                    continue
                cut = line.find(" -")
                if cut >= 0:
                    line = line[:cut].rstrip()
                last = self._requirement(line, file=file, lineno=here)
            except (ValueError, RuntimeError, OSError) as exc:
                # What the path and URL helpers raise on a line they cannot make sense of
                # (urlsplit on "http://[x", expanduser on "~nosuchuser", a folder that
                # cannot be searched): the line is at fault, and says so.
                raise DepwatchError(
                    f"cannot be read: {_reason(exc)}", path=shown, line=here
                ) from None
            if last is not None and len(file.chain) == 1:
                last.line = here
            if last is not None and comment and comment.startswith("via "):
                last.via = _split_via(comment[4:])

    def _option(self, line: str, *, file: _File, lineno: int) -> _Entry | None:
        option, value = _split_option(line)
        kind = _INCLUDE_OPTIONS.get(option)
        if kind is None:
            if option not in _IGNORED_OPTIONS:
                self.warnings.append(
                    f"{self.where(file.path, lineno)}: unknown option {option} ignored"
                )
            return None
        if not value:
            raise DepwatchError(f"{option} needs a value", path=file.shown, line=lineno)
        if kind == "editable":
            return self._location(value, file=file, lineno=lineno, editable=True)
        self._include(value, option=option, file=file, lineno=lineno)
        return None

    def _include(self, value: str, *, option: str, file: _File, lineno: int) -> None:
        """Read the file a ``-r``/``-c`` line names; a ``-c`` file (and what it includes) is
        read as constraints."""
        path, shown, chain = file.path, file.shown, file.chain
        constraint = file.constraint or _INCLUDE_OPTIONS[option] == "constraint"
        if "://" in value and not value.startswith("file:"):
            self.warnings.append(
                f"{self.where(path, lineno)}: {option} {value} is a URL; not followed "
                "(depwatch never uses the network)"
            )
            return
        target = Path(_file_url_path(value) if value.startswith("file:") else value).expanduser()
        if not target.is_absolute():
            target = path.parent / target
        problem = _not_a_file(target)
        if problem is not None:
            raise DepwatchError(
                f"includes {value} ({option}), which {problem}",
                path=shown,
                line=lineno,
                hint="fix the path (it is relative to the including file) or remove the line",
            )
        resolved = target.resolve()
        if resolved in chain:
            self.warnings.append(
                f"{self.where(path, lineno)}: {option} {value} includes a file that includes "
                "this one (a cycle); not followed again"
            )
            return
        if (resolved, constraint) in self.done:
            return
        self.read_file(target, constraint=constraint, chain=chain)

    def _requirement(self, text: str, *, file: _File, lineno: int) -> _Entry | None:
        path, shown, constraint = file.path, file.shown, file.constraint
        pinned = _PIN.match(text)
        if pinned is not None:
            name, _, version, markers = pinned.groups()
            if markers is not None:
                _check_marker(markers, shown=shown, lineno=lineno)
            return self._add(
                _Entry(
                    canonicalize_name(name),
                    version,
                    SourceKind.REGISTRY,
                    markers or None,
                    constraint,
                )
            )
        if _looks_like_location(text):
            return self._location(text, file=file, lineno=lineno, editable=False)
        try:
            req = Requirement(text)
        except InvalidRequirement as exc:
            # The line itself is not quoted: `-r` can be pointed at any file (a netrc, a key),
            # and stderr goes to a CI log. The name, where one starts the line, identifies it.
            named = _LEADING_NAME.match(text)
            what = f" for {named.group()!r}" if named else ""
            raise DepwatchError(
                f"is not a valid requirement{what} ({str(exc).splitlines()[0]})",
                path=shown,
                line=lineno,
                hint="each line is a requirement (name==version), an option or a comment",
            ) from None
        markers = _markers_as_written(text) if req.marker is not None else None
        name = canonicalize_name(req.name)
        if req.url:
            source = _url_source(req.url)
            version = _wheel_version(req.url, name)
            return self._add(_Entry(name, version, source, markers, constraint))
        specs = list(req.specifier)
        if len(specs) == 1 and specs[0].operator in {"==", "==="} and "*" not in specs[0].version:
            return self._add(
                _Entry(name, specs[0].version, SourceKind.REGISTRY, markers, constraint)
            )
        self.unpinned.append(f"{self.where(path, lineno)}: {text!r} is not pinned; not listed")
        return None

    def _location(self, text: str, *, file: _File, lineno: int, editable: bool) -> _Entry | None:
        """A path or URL without ``name @``: the name from ``#egg=``, a file name or pyproject.toml."""
        path, constraint = file.path, file.constraint
        location, _, markers = text.partition("; ")
        location = location.strip()
        markers_text = markers.strip() or None
        if markers_text is not None:
            _check_marker(markers_text, shown=display_path(path), lineno=lineno)
        name = name_of_location(location, base=path.parent)
        if name is None:
            self.warnings.append(
                f"{self.where(path, lineno)}: cannot tell the package name of "
                f"{redact_credentials(location)!r} "
                "without building it; not listed"
            )
            return None
        remote = "://" in location and not location.startswith("file:")
        # `-e git+https://…` is a git checkout, installed editable: audit-wise, a git source.
        source = SourceKind.EDITABLE if editable and not remote else _url_source(location)
        version = None if editable else _wheel_version(location, canonicalize_name(name))
        entry = _Entry(canonicalize_name(name), version, source, markers_text, constraint)
        if editable:
            folder = _local_folder(location, base=path.parent)
            entry.own = folder is not None and self.top.is_relative_to(_resolved(folder, ""))
        return self._add(entry)

    def _add(self, entry: _Entry) -> _Entry:
        self.entries.append(entry)
        return entry

    def packages(self) -> tuple[Package, ...]:
        """Merge entries: one package per name, version and source; requirements before
        constraints. A package's line is its first in the file asked for, else (pinned only
        in an included file) the first line there that names it."""
        merged: dict[tuple[str, str | None, str], Merged] = {}
        listed = {entry.name for entry in self.entries} | self.unsafe
        editable = {entry.name for entry in self.entries if entry.own}
        named: dict[str, int] = {}
        for entry in self.entries:
            if entry.line is not None:
                named.setdefault(entry.name, entry.line)
        for constraint in (False, True):
            seen_here: set[tuple[str, str | None, str]] = set()
            for entry in self.entries:
                if entry.constraint is not constraint:
                    continue
                key = (entry.name, entry.version, entry.source)
                if constraint and key in merged and key not in seen_here:
                    continue  # already installed by a requirement; the constraint adds nothing
                seen_here.add(key)
                groups = ("constraint",) if entry.constraint else ()
                direct = None if constraint else _direct(entry.via, listed, editable)
                found = merged.get(key)
                if found is not None:
                    found.add_entry(groups, entry.markers, direct, entry.line)
                    continue
                merged[key] = Merged(
                    Package(
                        name=entry.name,
                        version=entry.version,
                        source=entry.source,
                        markers=entry.markers,
                        groups=groups,
                        direct=direct,
                        line=entry.line,
                    )
                )
        return tuple(
            item.package(line=named.get(item.first.name) if item.line is None else None)
            for item in merged.values()
        )


def _check_marker(text: str, *, shown: str, lineno: int) -> None:
    problem = marker_problem(text)
    if problem is not None:
        raise DepwatchError(
            f"has an invalid environment marker: {problem}", path=shown, line=lineno
        )


def _markers_as_written(text: str) -> str:
    """The marker text after ``;`` (after ``␣;`` behind a URL, where ``;`` may be in the URL)."""
    found = re.search(r"\s;" if " @ " in text or "@" in text.split(";", 1)[0] else ";", text)
    assert found is not None
    return text[found.end() :].strip()


#: The project name a broken requirement line starts with, when something requirement-like
#: follows it (a specifier, extras, a marker, ``@``): all its error may quote of the line.
_LEADING_NAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?(?=\s*[\[(=<>!~;@])")
