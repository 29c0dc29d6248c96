"""Typed getters for a parsed TOML table that collect every problem instead of stopping.

In the style of ``packaging.pylock``'s getters: :class:`Checker` reads a key with the type it
must have and records a :class:`DepwatchError` naming the file, the dotted key
(``usage.calls[1].name``) and what to do, then returns None. A file's problems are raised
together as one :class:`RuleErrors`, one line each, so a rule author sees all of them.
"""

from __future__ import annotations

import datetime
import functools
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import InvalidName, canonicalize_name
from packaging.version import Version

from depwatch.errors import DepwatchError
from depwatch.specifiers import specifier_set

__all__ = [
    "Checker",
    "RuleErrors",
    "cached_specifier",
    "cached_version",
    "check_package_folder",
    "is_dotted",
    "one_line",
    "type_name",
    "under",
]

#: What rule text may not hold: control characters but tab and newline (a carriage return
#: included: TOML turns CRLF line ends into newlines already), the C1 controls (``\x9b`` is a
#: one-byte CSI on some terminals), line and paragraph separators, and the bidirectional
#: formatting characters that make text read differently from what it says.
_CONTROL = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]"
)

_TYPE_NAMES: dict[type, str] = {
    str: "a string",
    list: "an array",
    dict: "a table",
    bool: "a boolean",
    int: "an integer",
    float: "a float",
    datetime.date: "a date",
}


class RuleErrors(DepwatchError):
    """Every problem found in one or more rule files, one line each.

    With a single problem it reads (and carries ``path``/``key``/``hint``) like that problem.
    """

    def __init__(self, errors: Sequence[DepwatchError]) -> None:
        self.errors = tuple(errors)
        if len(self.errors) == 1:
            only = self.errors[0]
            super().__init__(
                only.message, path=only.path, line=only.line, key=only.key, hint=only.hint
            )
            return
        files = len({error.path for error in self.errors})
        super().__init__(
            f"{len(self.errors)} problems in {files} rule file{'s' if files != 1 else ''}",
            hint="fix them and run `depwatch rules check` on the folder",
        )

    def __str__(self) -> str:
        if len(self.errors) == 1:
            return super().__str__()
        # One line per problem (each escaped on its own), then the hint.
        lines = "".join(f"\n  {one_line(error)}" for error in self.errors)
        head, _, hint = super().__str__().partition("\n")
        return f"{head}:{lines}\n{hint}"


def one_line(error: DepwatchError) -> str:
    """``error`` on a single line: ``path: message (at 'key'); hint``."""
    return str(error).replace("\n  hint: ", "; hint: ").replace("\n", " ")


def type_name(value: object) -> str:
    for kind, name in _TYPE_NAMES.items():
        if type(value) is kind:
            return name
    if isinstance(value, datetime.datetime):
        return "a date-time"
    if isinstance(value, datetime.time):
        return "a time"
    return type(value).__name__


def is_dotted(name: str) -> bool:
    return all(part.isidentifier() for part in name.split("."))


def under(name: str, modules: Iterable[str]) -> bool:
    return any(name == module or name.startswith(module + ".") for module in modules)


@functools.lru_cache(maxsize=8192)
def cached_specifier(text: str) -> SpecifierSet:
    # Rules share ranges ("==3.9.*", ">=2.0.0"); a SpecifierSet is immutable in use.
    return specifier_set(text)


@functools.lru_cache(maxsize=8192)
def cached_version(text: str) -> Version:
    return Version(text)


class Checker:
    """Typed getters that record a problem and return None instead of raising."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.errors: list[DepwatchError] = []

    def error(self, message: str, key: str, hint: str | None = None) -> None:
        self.errors.append(DepwatchError(message, path=self.source, key=key, hint=hint))

    def unknown_keys(self, table: Mapping[str, Any], allowed: Sequence[str], prefix: str) -> None:
        for key in table:
            if key not in allowed:
                import difflib  # only for a problem

                close = difflib.get_close_matches(key, allowed, n=1)
                hint = f"did you mean '{close[0]}'?" if close else f"allowed: {', '.join(allowed)}"
                self.error(f"unknown key '{key}'", f"{prefix}{key}", hint)

    def get(
        self,
        table: Mapping[str, Any],
        key: str,
        kind: type,
        prefix: str,
        *,
        required: bool = False,
        hint: str | None = None,
    ) -> Any:
        """``table[key]`` when it has type ``kind``; None (and a problem) otherwise."""
        if key not in table:
            if required:
                self.error(f"missing required key '{key}'", f"{prefix}{key}", hint)
            return None
        value = table[key]
        ok = isinstance(value, kind)
        if kind is datetime.date:
            ok = ok and not isinstance(value, datetime.datetime)
        elif kind is int:
            ok = ok and not isinstance(value, bool)
        if not ok:
            self.error(
                f"must be {_TYPE_NAMES.get(kind, kind.__name__)}, not {type_name(value)}",
                f"{prefix}{key}",
                hint,
            )
            return None
        return value

    def text(
        self,
        table: Mapping[str, Any],
        key: str,
        prefix: str = "",
        *,
        required: bool = False,
        hint: str | None = None,
    ) -> str | None:
        """A non-blank string."""
        value: str | None = self.get(table, key, str, prefix, required=required, hint=hint)
        if value is not None and not value.strip():
            self.error("must not be empty", f"{prefix}{key}", hint)
            return None
        if value is not None and not self.printable(value, f"{prefix}{key}"):
            return None
        return value

    def printable(self, value: str, where: str) -> bool:
        """No control characters but tab and newline: they would reach terminals and reports."""
        found = _CONTROL.search(value)
        if found:
            self.error(
                f"contains U+{ord(found.group()):04X}, a control or text-direction character",
                where,
                "remove it; rule texts are plain text",
            )
            return False
        return True

    def strings(
        self,
        table: Mapping[str, Any],
        key: str,
        prefix: str = "",
        *,
        required: bool = False,
        non_empty: bool = False,
        hint: str | None = None,
    ) -> list[tuple[str, str]] | None:
        """A list of non-blank strings, each with its dotted key (``references[2]``)."""
        items: list[Any] | None = self.get(table, key, list, prefix, required=required, hint=hint)
        if items is None:
            return None
        if non_empty and not items:
            self.error("must not be empty", f"{prefix}{key}", hint)
            return None
        result = []
        for index, item in enumerate(items):
            where = f"{prefix}{key}[{index}]"
            if not isinstance(item, str):
                self.error(f"must be a string, not {type_name(item)}", where)
            elif not item.strip():
                self.error("must not be empty", where)
            elif self.printable(item, where):
                result.append((item, where))
        return result

    def specifier(
        self,
        table: Mapping[str, Any],
        key: str,
        prefix: str = "",
        *,
        required: bool = False,
        hint: str | None = None,
    ) -> SpecifierSet | None:
        text = self.text(table, key, prefix, required=required, hint=hint)
        if text is None:
            return None
        try:
            return cached_specifier(text)
        except InvalidSpecifier:
            self.error(
                f"{text!r} is not a valid PEP 440 version specifier",
                f"{prefix}{key}",
                'write something like ">=2.0.0", "==2.0.0" or ">=0.2,<1"',
            )
            return None

    def version(self, value: str, where: str) -> Version | None:
        try:
            return cached_version(value)
        except ValueError:  # InvalidVersion, or a number past the digit limit
            self.error(
                f"{value!r} is not a valid PEP 440 version",
                where,
                'write a release number such as "2.0.1"',
            )
            return None


def check_package_folder(check: Checker, package: str, folder: str) -> None:
    """A file's ``package`` is a valid distribution name whose normal form is its folder."""
    try:
        normalised = canonicalize_name(package, validate=True)
    except InvalidName:
        check.error(f"{package!r} is not a valid distribution name", "package")
        return
    if normalised != folder:
        check.error(
            f"package {package!r} does not match its folder {folder!r}",
            "package",
            f"move the file to a folder named {normalised!r}, or fix the package name",
        )
