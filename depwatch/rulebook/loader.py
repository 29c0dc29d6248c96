"""Rule files → :class:`~depwatch.rulebook.model.Rule`: parsing is validation.

The format is ``rules/README.md``. A rule file is read in two steps, so that the compiled
index (:mod:`depwatch.rulebook.index`) can cache the expensive one:

1. :func:`validate` checks a parsed TOML table key by key, in the style of
   ``packaging.pylock``'s typed getters, and returns the rule as a plain, JSON-ready dict (the
   *raw* form: strings, lists and ``None``; defaults filled in). It collects every problem of the
   file instead of stopping at the first, each a :class:`DepwatchError` naming the file, the
   dotted key (``usage.calls[1].name``) and what to do.
2. :func:`build_rule` turns a raw dict into a ``Rule`` (``SpecifierSet``, ``Version``, ``date``)
   without checking it again.

:func:`scan_dir` reads a whole rule folder (``<dir>/<package>/<slug>.toml``) and collects the
problems of every file; :func:`check_dirs` is ``depwatch rules check``. A folder's problems are
raised together as one :class:`RuleErrors`, one line each, so a rule author sees all of them.
"""

from __future__ import annotations

import datetime
import errno
import functools
import hashlib
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import InvalidName, canonicalize_name
from packaging.version import Version

from depwatch import tomlfile
from depwatch.errors import DepwatchError
from depwatch.files import display_path, read_bytes
from depwatch.model import Tag
from depwatch.rulebook.model import (
    KINDS,
    CallPattern,
    Examples,
    LockCondition,
    LockExample,
    Rule,
    Usage,
)
from depwatch.specifiers import specifier_set

__all__ = [
    "INTERPRETER",
    "LIST_SEP",
    "NAMESPACE_ROOTS",
    "PACKAGE_FILE",
    "ROW_FIELDS",
    "RuleErrors",
    "ScannedDir",
    "build_rule",
    "check_dirs",
    "default_module",
    "load_rule_file",
    "one_line",
    "rule_files",
    "rule_from_row",
    "scan_dir",
    "scan_package",
    "to_row",
    "validate",
    "validate_package",
]

#: The folder (and ``package``) of rules about the interpreter itself.
INTERPRETER = "python"

#: Import roots that are namespace packages: the module a name belongs to is its first two
#: components (``google.genai``), not its first (``google``).
NAMESPACE_ROOTS = frozenset({"google", "azure", "jaraco", "zope", "backports", "sphinxcontrib"})

_TOP_KEYS = (
    "package",
    "kind",
    "tag",
    "affected",
    "boundary",
    "fixed",
    "title",
    "what",
    "why",
    "action",
    "action-below",
    "references",
    "added",
    "when-unused",
    "when-locked",
    "unless-locked",
    "eol",
    "python",
    "usage",
    "examples",
)
_PYTHON_KEYS = ("requires",)
_USAGE_KEYS = ("modules", "symbols", "calls", "env", "assignments")
#: The file of a package folder that declares its names (not a rule).
PACKAGE_FILE = "_package.toml"
_PACKAGE_KEYS = ("package", "aliases", "instances")
_CALL_KEYS = ("name", "keywords", "without", "positional-max", "not-passed-to", "string-arg")
_EXAMPLE_KEYS = ("affected", "unaffected", "code", "lock")
_LOCK_KEYS = ("package", "versions", "runtime", "symbols")
_LOCK_EXAMPLE_KEYS = ("packages", "applies", "code")
_WHEN_UNUSED = ("monitor", "silent")
_TAGS = tuple(tag.value for tag in Tag)

#: What rule text may not hold: control characters but tab and newline (a carriage return
#: included: TOML turns CRLF line ends into newlines already), the C1 controls (``\x9b`` is a
#: one-byte CSI on some terminals), line and paragraph separators, and the bidirectional
#: formatting characters that make text read differently from what it says.
_CONTROL = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]"
)
_SPACE = re.compile(r"\s")
#: A URL as RFC 3986 writes it (ASCII; anything else percent-encoded), so that reports can link
#: it as it is: no "<", ">", quotes, backslashes or braces to close a link or a tag early.
_URL = re.compile(r"[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+")
_SLUG = re.compile(r"[a-z0-9][a-z0-9._-]*\Z")
_ENV = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_EXPECT = re.compile(r"#\s*expect\s*\Z")

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


def _type_name(value: object) -> str:
    for kind, name in _TYPE_NAMES.items():
        if type(value) is kind:
            return name
    if isinstance(value, datetime.datetime):
        return "a date-time"
    if isinstance(value, datetime.time):
        return "a time"
    return type(value).__name__


def default_module(name: str) -> str:
    """The import name a dotted ``name`` belongs to: its root, or two components under a
    namespace root (``google.genai.Client`` → ``google.genai``)."""
    parts = name.split(".")
    if parts[0] in NAMESPACE_ROOTS and len(parts) > 1:
        return f"{parts[0]}.{parts[1]}"
    return parts[0]


def _is_dotted(name: str) -> bool:
    return all(part.isidentifier() for part in name.split("."))


def _under(name: str, modules: Iterable[str]) -> bool:
    return any(name == module or name.startswith(module + ".") for module in modules)


@functools.lru_cache(maxsize=8192)
def _specifier(text: str) -> SpecifierSet:
    # Rules share ranges ("==3.9.*", ">=2.0.0"); a SpecifierSet is immutable in use.
    return specifier_set(text)


@functools.lru_cache(maxsize=8192)
def _version(text: str) -> Version:
    return Version(text)


class _Checker:
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
                f"must be {_TYPE_NAMES.get(kind, kind.__name__)}, not {_type_name(value)}",
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
                self.error(f"must be a string, not {_type_name(item)}", where)
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
            return _specifier(text)
        except InvalidSpecifier:
            self.error(
                f"{text!r} is not a valid PEP 440 version specifier",
                f"{prefix}{key}",
                'write something like ">=2.0.0", "==2.0.0" or ">=0.2,<1"',
            )
            return None

    def version(self, value: str, where: str) -> Version | None:
        try:
            return _version(value)
        except ValueError:  # InvalidVersion, or a number past the digit limit
            self.error(
                f"{value!r} is not a valid PEP 440 version",
                where,
                'write a release number such as "2.0.1"',
            )
            return None


@dataclass(frozen=True, slots=True)
class ScannedDir:
    """A rule folder as read: per package, its files' identities and validated raw rules."""

    root: Path
    files: dict[str, list[tuple[str, int, int, str]]] = field(default_factory=dict)
    """package → ``[(file name, size, mtime_ns, content digest), ...]`` of the rule files read
    (the digest: :func:`content_digest` of the file's bytes)."""
    rules: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    """package → raw rules (see :func:`validate`), in file-name order."""
    mtimes: dict[str, int] = field(default_factory=dict)
    """package → the package folder's ``st_mtime_ns`` when it was listed."""
    declarations: dict[str, dict[str, Any]] = field(default_factory=dict)
    """package → its validated ``_package.toml`` (see :func:`validate_package`), if any."""
    errors: list[DepwatchError] = field(default_factory=list)


def validate(
    data: Mapping[str, Any], *, folder: str, slug: str, source: str
) -> tuple[dict[str, Any] | None, list[DepwatchError]]:
    """Check one parsed rule file; return its raw form (None when invalid) and its problems.

    ``folder`` is the name of the folder the file is in (its normalised package, or
    ``python``), ``slug`` the file name without ``.toml``, ``source`` the path shown in messages.
    """
    check = _Checker(source)
    rule_id = f"{folder}/{slug}"
    if not _SLUG.match(slug):
        check.error(
            f"the file name {slug + '.toml'!r} is not a valid rule slug",
            "(file name)",
            "use lowercase letters, digits, '-', '_' and '.', starting with a letter or digit",
        )
    check.unknown_keys(data, _TOP_KEYS, "")

    package = check.text(data, "package", required=True, hint=f'add package = "{folder}"')
    if package is not None:
        _check_package_folder(check, package, folder)
    interpreter = folder == INTERPRETER

    kind = check.text(data, "kind", required=True, hint=f"one of: {', '.join(sorted(KINDS))}")
    if kind is not None and kind not in KINDS:
        check.error(f"unknown kind {kind!r}", "kind", f"use one of: {', '.join(sorted(KINDS))}")
        kind = None
    tag = check.text(data, "tag", required=True, hint=f"one of: {', '.join(_TAGS)}")
    if tag is not None and tag not in _TAGS:
        check.error(f"unknown tag {tag!r}", "tag", f"use one of: {', '.join(_TAGS)}")
        tag = None

    affected_hint = (
        'the Python versions concerned, like "==3.9.*"'
        if interpreter
        else 'the locked versions that carry the change, like ">=2.0.0"'
    )
    affected = check.specifier(data, "affected", required=True, hint=affected_hint)
    if affected is not None and not str(affected):
        check.error("must not be empty: it would match every version", "affected", affected_hint)
        affected = None

    versions: dict[str, Version | None] = {}
    for key in ("boundary", "fixed", "added"):
        text = check.text(data, key)
        versions[key] = None if text is None else check.version(text, key)
    boundary, fixed = versions["boundary"], versions["fixed"]
    if (
        affected is not None
        and boundary is not None
        and not affected.contains(boundary, prereleases=True)
    ):
        check.error(
            f"boundary {str(boundary)!r} is not inside affected {str(affected)!r}",
            "boundary",
            "the boundary is the first release with the change, so it must be affected",
        )
    if affected is not None and fixed is not None and affected.contains(fixed, prereleases=True):
        check.error(
            f"fixed {str(fixed)!r} is inside affected {str(affected)!r}",
            "fixed",
            "fixed names the release to move to, which must not be affected",
        )

    texts = {key: check.text(data, key, required=True) for key in ("title", "what", "why")}
    texts["action"] = check.text(
        data, "action", required=True, hint="say what to do, naming the version to move to"
    )
    action_below = check.text(
        data, "action-below", hint="what to do before the upgrade that crosses the boundary"
    )
    if action_below is not None and boundary is None:
        check.error(
            "only a rule with a boundary has action-below",
            "action-below",
            "action-below is the action for a lock below the boundary; add boundary or remove it",
        )
    elif action_below is not None and "usage" not in data and "python" not in data:
        check.error(
            "a rule without [usage] or [python] gives nothing below its boundary",
            "action-below",
            "remove action-below, or add the condition that makes the upgrade a risk",
        )
    if texts["title"] is not None and "\n" in texts["title"].strip():
        check.error("must be a single line", "title")

    references = check.strings(
        data,
        "references",
        required=True,
        non_empty=True,
        hint="add at least one https:// URL (release notes, PR, migration guide)",
    )
    for url, where in references or ():
        parts = urlsplit(url)
        if parts.scheme != "https" or not parts.netloc or _SPACE.search(url):
            check.error(f"{url!r} is not an https:// URL", where)
        elif not _URL.fullmatch(url):
            check.error(
                f"{url!r} holds characters a URL does not",
                where,
                "percent-encode them (a space is %20, < is %3C, é is %C3%A9)",
            )

    eol = check.get(data, "eol", datetime.date, "", hint="write a TOML date: eol = 2026-10-31")
    if "eol" in data and not interpreter:
        check.error('only rules about the interpreter (package = "python") have eol', "eol")
        eol = None

    python_requires = None
    python = check.get(data, "python", dict, "")
    if python is not None:
        check.unknown_keys(python, _PYTHON_KEYS, "python.")
        if interpreter:
            check.error("a rule about the interpreter has no [python] table", "python")
        python_requires = check.specifier(
            python, "requires", "python.", required=True, hint='the new floor, like ">=3.10"'
        )
        if python_requires is not None and not str(python_requires):
            check.error("must not be empty", "python.requires", 'write a floor like ">=3.10"')
            python_requires = None

    usage = None
    usage_table = check.get(data, "usage", dict, "")
    if usage_table is not None:
        usage = _validate_usage(check, usage_table)

    when_unused = check.text(data, "when-unused")
    if when_unused is not None:
        if when_unused not in _WHEN_UNUSED:
            check.error(
                f"unknown value {when_unused!r}", "when-unused", "use 'monitor' or 'silent'"
            )
        elif "usage" not in data:
            check.error("only a rule with [usage] has when-unused", "when-unused")

    when_locked = _validate_lock_conditions(check, data, "when-locked", folder, usage)
    unless_locked = _validate_lock_conditions(check, data, "unless-locked", folder, usage)
    examples = _validate_examples(
        check,
        data,
        affected,
        needs_code="usage" in data,
        needs_locks=bool(when_locked or unless_locked),
    )

    if check.errors:
        return None, check.errors
    assert package is not None
    assert kind is not None
    assert tag is not None
    assert affected is not None
    raw: dict[str, Any] = {
        "id": rule_id,
        "package": folder,
        "kind": kind,
        "tag": tag,
        "affected": str(data["affected"]).strip(),
        "title": texts["title"].strip() if texts["title"] else "",
        "what": texts["what"].strip() if texts["what"] else "",
        "why": texts["why"].strip() if texts["why"] else "",
        "action": texts["action"].strip() if texts["action"] else "",
        "action_below": action_below.strip() if action_below else None,
        "when_locked": when_locked,
        "unless_locked": unless_locked,
        "references": [url for url, _ in references or ()],
        "boundary": data.get("boundary"),
        "fixed": data.get("fixed"),
        "python_requires": python["requires"].strip() if python is not None else None,
        "usage": usage,
        "when_unused": when_unused or "monitor",
        "eol": eol.isoformat() if eol is not None else None,
        "added": data.get("added"),
        "examples": examples,
    }
    return raw, []


def _validate_usage(check: _Checker, table: Mapping[str, Any]) -> dict[str, Any]:
    check.unknown_keys(table, _USAGE_KEYS, "usage.")
    dotted_hint = "a dotted name as users import it, like 'google.genai.Client'"
    modules = check.strings(table, "modules", "usage.", non_empty=True)
    for name, where in modules or ():
        if not _is_dotted(name):
            check.error(f"{name!r} is not a dotted import name", where, dotted_hint)
    symbols = check.strings(table, "symbols", "usage.")
    for name, where in symbols or ():
        if not _is_dotted(name):
            check.error(f"{name!r} is not a dotted name", where, dotted_hint)

    calls: list[tuple[str, list[Any], str]] = []
    call_items = check.get(table, "calls", list, "usage.")
    for index, item in enumerate(call_items or ()):
        where = f"usage.calls[{index}]"
        if not isinstance(item, dict):
            check.error(
                f"must be a table, not {_type_name(item)}",
                where,
                '{ name = "pkg.func", keywords = ["arg"] }',
            )
            continue
        check.unknown_keys(item, _CALL_KEYS, f"{where}.")
        call_name = check.text(item, "name", f"{where}.", required=True, hint=dotted_hint)
        if call_name is not None and not _is_dotted(call_name):
            check.error(f"{call_name!r} is not a dotted name", f"{where}.name", dotted_hint)
            call_name = None
        keywords = check.strings(item, "keywords", f"{where}.")
        without = check.strings(
            item,
            "without",
            f"{where}.",
            non_empty=True,
            hint="the keyword arguments whose absence is the usage, like ['Loader']",
        )
        for keyword, kw_where in [*(keywords or ()), *(without or ())]:
            if not keyword.isidentifier():
                check.error(f"{keyword!r} is not a keyword argument name", kw_where)
        if "keywords" in item and "without" in item:
            check.error(
                "keywords and without cannot both be set",
                f"{where}.without",
                "a call that passes a keyword and a call that leaves one out are two patterns",
            )
        positional_max = check.get(item, "positional-max", int, f"{where}.")
        if positional_max is not None and positional_max < 0:
            check.error("must not be negative", f"{where}.positional-max")
        if "positional-max" in item and "without" not in item:
            check.error(
                "only a call pattern with without has positional-max",
                f"{where}.positional-max",
                "add without = [...] naming the keywords the call leaves out",
            )
        passed_to = check.strings(
            item,
            "not-passed-to",
            f"{where}.",
            non_empty=True,
            hint="the names of the calls the result may go to, like ['load_state_dict']",
        )
        for target, target_where in passed_to or ():
            if not target.isidentifier():
                check.error(
                    f"{target!r} is not a function or method name",
                    target_where,
                    "write the last part of the name only, like 'load_state_dict'",
                )
        string_arg = check.get(item, "string-arg", int, f"{where}.")
        if string_arg is not None and string_arg < 0:
            check.error(
                "must not be negative",
                f"{where}.string-arg",
                "the 0-based index of the positional argument that is a string literal",
            )
        if call_name is not None:
            calls.append(
                (
                    call_name,
                    [
                        [kw for kw, _ in keywords or ()],
                        [kw for kw, _ in without or ()],
                        positional_max,
                        [target for target, _ in passed_to or ()],
                        string_arg,
                    ],
                    f"{where}.name",
                )
            )

    env = check.strings(table, "env", "usage.")
    for name, where in env or ():
        if not _ENV.match(name):
            check.error(f"{name!r} is not an environment variable name", where)

    assignments = check.strings(table, "assignments", "usage.")
    for name, where in assignments or ():
        if not name.isidentifier():
            check.error(
                f"{name!r} is not a module-level name",
                where,
                "the name a framework reads from the module, like 'default_app_config'",
            )

    if not (symbols or call_items or env or assignments):
        check.error(
            "[usage] needs at least one of symbols, calls, env or assignments",
            "usage",
            "say what the project's code must use for the rule to concern it",
        )

    names = [(name, where) for name, where in symbols or ()]
    names += [(name, where) for name, _, where in calls]
    if modules is not None:
        module_names = [name for name, _ in modules]
        for name, where in names:
            if not _under(name, module_names):
                check.error(
                    f"{name!r} is not under any of usage.modules",
                    where,
                    f"add {default_module(name)!r} to usage.modules",
                )
    else:
        module_names = list(dict.fromkeys(default_module(name) for name, _ in names))
    return {
        "modules": module_names,
        "symbols": [name for name, _ in symbols or ()],
        "calls": [[name, *pattern] for name, pattern, _ in calls],
        "env": [name for name, _ in env or ()],
        "assignments": [name for name, _ in assignments or ()],
    }


def _validate_lock_conditions(
    check: _Checker,
    data: Mapping[str, Any],
    key: str,
    own: str,
    usage: Mapping[str, Any] | None,
) -> list[dict[str, Any]]:
    """``[[when-locked]]`` / ``[[unless-locked]]``: conditions on the rest of the lock."""
    items = check.get(
        data, key, list, "", hint=f'write [[{key}]] tables with package = "…" (and versions)'
    )
    result: list[dict[str, Any]] = []
    for index, item in enumerate(items or ()):
        where = f"{key}[{index}]"
        if not isinstance(item, dict):
            check.error(
                f"must be a table, not {_type_name(item)}",
                where,
                f'write [[{key}]] with package = "…" and optionally versions = ">=3.0"',
            )
            continue
        allowed = _LOCK_KEYS if key == "unless-locked" else _LOCK_KEYS[:3]
        check.unknown_keys(item, allowed, f"{where}.")
        package = check.text(item, "package", f"{where}.", required=True)
        name = None
        if package is not None:
            try:
                name = canonicalize_name(package, validate=True)
            except InvalidName:
                check.error(f"{package!r} is not a valid distribution name", f"{where}.package")
            else:
                if name == own:
                    check.error(
                        "a lock condition names another package than the rule's own",
                        f"{where}.package",
                        "the rule's own versions are what affected says",
                    )
                    name = None
        versions = check.specifier(item, "versions", f"{where}.")
        runtime = check.get(item, "runtime", bool, f"{where}.")
        symbols = check.strings(item, "symbols", f"{where}.", non_empty=True)
        for symbol, symbol_where in symbols or ():
            if not _is_dotted(symbol):
                check.error(f"{symbol!r} is not a dotted name", symbol_where)
            elif usage is None:
                check.error(
                    "only a rule with [usage] names symbols in a lock condition", symbol_where
                )
            elif not any(
                _under(used, [symbol])
                for used in [*usage["symbols"], *(c[0] for c in usage["calls"])]
            ):
                check.error(
                    f"{symbol!r} covers nothing in usage.symbols or usage.calls",
                    symbol_where,
                    "name a symbol of [usage] or a module above one",
                )
        if name is not None:
            result.append(
                {
                    "package": name,
                    "versions": str(item["versions"]).strip() if versions is not None else None,
                    "runtime": bool(runtime),
                    "symbols": [symbol for symbol, _ in symbols or ()],
                }
            )
    return result


def _validate_lock_examples(
    check: _Checker, table: Mapping[str, Any], *, needs_code: bool
) -> list[dict[str, Any]]:
    items = check.get(table, "lock", list, "examples.")
    result: list[dict[str, Any]] = []
    for index, item in enumerate(items or ()):
        where = f"examples.lock[{index}]"
        if not isinstance(item, dict):
            check.error(f"must be a table, not {_type_name(item)}", where)
            continue
        check.unknown_keys(item, _LOCK_EXAMPLE_KEYS, f"{where}.")
        packages = []
        for text, text_where in (
            check.strings(
                item,
                "packages",
                f"{where}.",
                required=True,
                hint='the other locked entries, like ["werkzeug 3.1.3", "pytest 8.3.5 dev"]',
            )
            or ()
        ):
            parts = text.split()
            version = check.version(parts[1], text_where) if len(parts) in (2, 3) else None
            try:
                name = canonicalize_name(parts[0], validate=True) if parts else None
            except InvalidName:
                name = None
            if (
                name is None
                or version is None
                or (len(parts) == 3 and parts[2] != "dev")
                or len(parts) not in (2, 3)
            ):
                if version is not None or len(parts) not in (2, 3):
                    check.error(
                        f"{text!r} is not 'name version' or 'name version dev'",
                        text_where,
                        'write "werkzeug 3.1.3", or "pytest 8.3.5 dev" for a development entry',
                    )
                continue
            packages.append([name, parts[1], len(parts) == 3])
        applies = check.get(item, "applies", bool, f"{where}.")
        code = check.text(item, "code", f"{where}.")
        if code is not None and not needs_code:
            check.error("only a rule with [usage] has code in a lock example", f"{where}.code")
        result.append(
            {"packages": packages, "applies": True if applies is None else applies, "code": code}
        )
    return result


def _check_package_folder(check: _Checker, package: str, folder: str) -> None:
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


def validate_package(
    data: Mapping[str, Any], *, folder: str, source: str
) -> tuple[dict[str, Any] | None, list[DepwatchError]]:
    """Check a package folder's ``_package.toml``: the other spellings of its names.

    The raw form: ``{"aliases": [[name, target], ...], "instances": [[name, target], ...]}``.
    """
    check = _Checker(source)
    check.unknown_keys(data, _PACKAGE_KEYS, "")
    package = check.text(data, "package", required=True, hint=f'add package = "{folder}"')
    if package is not None and folder != INTERPRETER:
        _check_package_folder(check, package, folder)
    elif package is not None and package != INTERPRETER:
        check.error(f"package {package!r} does not match its folder 'python'", "package")
    raw: dict[str, Any] = {}
    seen: dict[str, str] = {}
    for key in ("aliases", "instances"):
        table = check.get(data, key, dict, "")
        pairs: list[list[str]] = []
        for name, target in (table or {}).items():
            where = f"{key}.{name}" if _is_dotted(name) else f"{key}.{name!r}"
            if not _is_dotted(name):
                check.error(f"{name!r} is not a dotted name", where, 'quote it: "pkg.mod.name"')
                continue
            if isinstance(target, dict):
                check.error(
                    "must be a string, not a table",
                    where,
                    f'quote the whole dotted name: "{name}.…" = "…" (unquoted, TOML splits it)',
                )
                continue
            if not isinstance(target, str):
                check.error(f"must be a string, not {_type_name(target)}", where)
                continue
            if not _is_dotted(target):
                check.error(f"{target!r} is not a dotted name", where)
                continue
            if target == name or target.startswith(name + "."):
                check.error(f"{name!r} cannot be read as {target!r}: it would never end", where)
                continue
            if name in seen:
                check.error(f"{name!r} is in both aliases and instances", where)
                continue
            seen[name] = target
            pairs.append([name, target])
        raw[key] = sorted(pairs)
    if not seen and not check.errors:
        check.error(
            "declares nothing", "aliases", "add [aliases] or [instances], or remove the file"
        )
    aliases = dict(map(tuple, raw.get("aliases", ())))
    for name in aliases:
        current, steps = name, 0
        while current in aliases and steps <= len(aliases):
            current, steps = aliases[current], steps + 1
        if current == name or steps > len(aliases):
            check.error(f"the aliases of {name!r} go round in a circle", f"aliases.{name}")
    if check.errors:
        return None, check.errors
    return raw, []


def _validate_examples(
    check: _Checker,
    data: Mapping[str, Any],
    affected: SpecifierSet | None,
    *,
    needs_code: bool,
    needs_locks: bool = False,
) -> dict[str, Any] | None:
    table = check.get(
        data,
        "examples",
        dict,
        "",
        required=True,
        hint='add [examples] with affected = ["…"] and unaffected = ["…"] versions',
    )
    if table is None:
        return None
    check.unknown_keys(table, _EXAMPLE_KEYS, "examples.")
    result: dict[str, Any] = {"affected": [], "unaffected": [], "code": None}
    for key, inside in (("affected", True), ("unaffected", False)):
        items = check.strings(
            table,
            key,
            "examples.",
            required=True,
            non_empty=True,
            hint=f"list versions that must {'' if inside else 'not '}match affected",
        )
        for text, where in items or ():
            version = check.version(text, where)
            if version is None or affected is None:
                continue
            if affected.contains(version, prereleases=True) != inside:
                check.error(
                    f"{text!r} is {'not ' if inside else ''}inside affected {str(affected)!r}",
                    where,
                    "fix the example or the affected range",
                )
        result[key] = [text for text, _ in items or ()]
    code = check.text(table, "code", "examples.")
    if code is None and needs_code and "code" not in table:
        check.error(
            "a rule with [usage] needs examples.code",
            "examples.code",
            "add a code sample whose lines that use the change end in '# expect'",
        )
    elif code is not None:
        if not needs_code:
            check.error("only a rule with [usage] has examples.code", "examples.code")
        elif not any(_EXPECT.search(line) for line in code.splitlines()):
            check.error(
                "examples.code has no line ending in '# expect'",
                "examples.code",
                "mark each line that must be found as usage with '# expect'",
            )
    result["code"] = code
    result["locks"] = _validate_lock_examples(check, table, needs_code=needs_code)
    if needs_locks and not result["locks"]:
        check.error(
            "a rule with when-locked or unless-locked needs [[examples.lock]]",
            "examples.lock",
            'add [[examples.lock]] with packages = ["name version"] and applies = true/false',
        )
    return result


#: The tags by value (``Tag(value)`` goes through ``EnumMeta.__call__``, which is slow).
_TAG_OF = {tag.value: tag for tag in Tag}

_date = datetime.date.fromisoformat

#: Joins the items of a list field in a row (see :func:`to_row`).
LIST_SEP = "\x1f"
#: How many fields a row has.
ROW_FIELDS = 19


def to_row(raw: Mapping[str, Any]) -> tuple[list[str], list[Any]]:
    """The raw form as a row of strings, and its usage apart (the compiled index's layout).

    The strings: ``[slug, kind, tag, affected, boundary, fixed, python_requires, when_unused,
    eol, added, references, examples.affected, examples.unaffected, title, what, why, action,
    examples.code, action_below]``, ``""`` for none (a validated field is never empty), a list's items joined
    by U+001F (validated text never holds control characters but tab and newline). The
    structured part: ``[usage, locks]``, the usage ``[modules, symbols, calls, env,
    assignments]`` or None, each call as ``[name, keywords, without, positional_max,
    not_passed_to, string_arg]``; locks None, or ``[when_locked, unless_locked, examples.lock]``
    as the raw form has them. Strings this plain are split out of one long text far faster than JSON
    decodes them, and the package is implied by where the row is kept.
    """
    usage = raw["usage"]
    examples = raw["examples"]
    row = [
        raw["id"].split("/", 1)[1],
        raw["kind"],
        raw["tag"],
        raw["affected"],
        raw["boundary"] or "",
        raw["fixed"] or "",
        raw["python_requires"] or "",
        raw["when_unused"],
        raw["eol"] or "",
        raw["added"] or "",
        LIST_SEP.join(raw["references"]),
        LIST_SEP.join(examples["affected"]),
        LIST_SEP.join(examples["unaffected"]),
        raw["title"],
        raw["what"],
        raw["why"],
        raw["action"],
        examples["code"] or "",
        raw["action_below"] or "",
    ]
    locks = None
    if raw["when_locked"] or raw["unless_locked"] or examples["locks"]:
        locks = [raw["when_locked"], raw["unless_locked"], examples["locks"]]
    if usage is None:
        return row, [None, locks]
    return row, [
        [
            usage["modules"],
            usage["symbols"],
            usage["calls"],
            usage["env"],
            usage["assignments"],
        ],
        locks,
    ]


def _conditions(items: Sequence[Any]) -> tuple[LockCondition, ...]:
    return tuple(
        LockCondition(
            item["package"],
            _specifier(item["versions"]) if item["versions"] is not None else None,
            item["runtime"],
            tuple(item["symbols"]),
        )
        for item in items
    )


def rule_from_row(
    package: str, row: Sequence[str], structured: Sequence[Any], source: str | None = None
) -> Rule:
    """A :class:`Rule` from a row and its structured part (:func:`to_row`), without
    re-checking it."""
    usage, locks = structured
    (
        slug,
        kind,
        tag,
        affected,
        boundary,
        fixed,
        python_requires,
        when_unused,
        eol,
        added,
        references,
        examples_affected,
        examples_unaffected,
        title,
        what,
        why,
        action,
        code,
        action_below,
    ) = row
    return Rule(
        f"{package}/{slug}",
        package,
        kind,
        _TAG_OF[tag],
        _specifier(affected),
        title,
        what,
        why,
        action,
        tuple(references.split(LIST_SEP)),
        _version(boundary) if boundary else None,
        _version(fixed) if fixed else None,
        _specifier(python_requires) if python_requires else None,
        None
        if usage is None
        else Usage(
            tuple(usage[0]),
            tuple(usage[1]),
            tuple(
                [
                    CallPattern(
                        name,
                        tuple(keywords),
                        tuple(without),
                        positional_max,
                        tuple(passed_to),
                        string_arg,
                    )
                    for name, keywords, without, positional_max, passed_to, string_arg in usage[2]
                ]
            ),
            tuple(usage[3]),
            tuple(usage[4]),
        ),
        when_unused,
        _date(eol) if eol else None,
        added or None,
        Examples(
            tuple(examples_affected.split(LIST_SEP)) if examples_affected else (),
            tuple(examples_unaffected.split(LIST_SEP)) if examples_unaffected else (),
            code or None,
            ()
            if locks is None
            else tuple(
                LockExample(
                    tuple((name, version, dev) for name, version, dev in item["packages"]),
                    item["applies"],
                    item["code"],
                )
                for item in locks[2]
            ),
        ),
        source,
        action_below or None,
        () if locks is None else _conditions(locks[0]),
        () if locks is None else _conditions(locks[1]),
    )


def build_rule(raw: Mapping[str, Any], *, source: str | None = None) -> Rule:
    """A :class:`Rule` from its raw form (as :func:`validate` returns it), without re-checking."""
    return rule_from_row(raw["package"], *to_row(raw), source)


def rule_files(folder: Path) -> list[os.DirEntry[str]]:
    """The rule files of one package folder, by name: ``*.toml``, not hidden.

    A folder or a broken link under a rule file's name is kept: reading it says what is wrong,
    where skipping it would leave a rule out without a word.
    """
    with os.scandir(folder) as entries:
        found = [
            entry
            for entry in entries
            if entry.name.endswith(".toml") and not entry.name.startswith(".")
        ]
    return sorted(found, key=lambda entry: entry.name)


def _package_folders(root: Path) -> tuple[list[str], list[DepwatchError]]:
    """The package folders of a rule folder, and the files that are misplaced in it."""
    shown = display_path(root)
    try:
        entries = sorted(os.scandir(root), key=lambda entry: entry.name)
    except FileNotFoundError:
        raise DepwatchError("rule folder not found", path=shown) from None
    except NotADirectoryError:
        raise DepwatchError(
            "is not a folder", path=shown, hint="--rules takes a folder of <package>/<slug>.toml"
        ) from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise DepwatchError("is a symbolic link loop", path=shown) from None
        raise DepwatchError(f"cannot be read: {exc.strerror or exc}", path=shown) from None
    except ValueError:  # a NUL byte in the name
        raise DepwatchError(
            "is not a valid folder name (it holds a NUL byte)", path=shown
        ) from None
    folders, errors = [], []
    for entry in entries:
        if entry.name.startswith((".", "_")):
            continue
        try:
            is_dir = entry.is_dir()
        except OSError as exc:  # a symbolic link loop
            errors.append(
                DepwatchError(
                    f"cannot be read: {exc.strerror or exc}", path=display_path(entry.path)
                )
            )
            continue
        if is_dir:
            folders.append(entry.name)
        elif entry.name.endswith(".toml"):
            errors.append(
                DepwatchError(
                    "a rule file must be in a folder named after its package",
                    path=display_path(entry.path),
                    hint=f"move it to {shown}{os.sep}<package>{os.sep}{entry.name}",
                )
            )
    return folders, errors


def content_digest(content: bytes) -> str:
    """What a rule cache entry is keyed by: a hash of the rule file's bytes (BLAKE2b, 128 bits)."""
    return hashlib.blake2b(content, digest_size=16).hexdigest()


def scan_package(root: Path, package: str, shown_root: str, into: ScannedDir) -> None:
    """Read and validate every rule file of ``root/package`` into ``into``."""
    folder = root / package
    shown_folder = f"{shown_root}{os.sep}{package}"
    if package != INTERPRETER:
        try:
            normalised = canonicalize_name(package, validate=True)
        except InvalidName:
            normalised = None
        if normalised != package:
            into.errors.append(
                DepwatchError(
                    "a rule folder must be named after a normalised distribution name or 'python'",
                    path=shown_folder,
                    hint=f"rename it to {normalised!r}"
                    if normalised
                    else "use the package's PEP 503 normalised name",
                )
            )
            return
    try:
        mtime = folder.stat().st_mtime_ns
        entries = rule_files(folder)
    except OSError as exc:
        into.errors.append(
            DepwatchError(f"cannot be read: {exc.strerror or exc}", path=shown_folder)
        )
        return
    files, raws = [], []
    for entry in entries:
        shown = f"{shown_folder}{os.sep}{entry.name}"
        declares = entry.name == PACKAGE_FILE
        try:
            stat = entry.stat()
            content = read_bytes(Path(entry.path))  # a regular file, bounded: no FIFO, no /dev/zero
            data = tomlfile.loads(content.decode("utf-8-sig"), path=shown)
        except DepwatchError as exc:
            into.errors.append(exc.with_path(shown))
            continue
        except UnicodeDecodeError as exc:
            into.errors.append(
                DepwatchError(f"is not valid UTF-8 (byte {exc.start + 1})", path=shown)
            )
            continue
        except OSError as exc:
            into.errors.append(DepwatchError(f"cannot be read: {exc.strerror or exc}", path=shown))
            continue
        files.append((entry.name, stat.st_size, stat.st_mtime_ns, content_digest(content)))
        if declares:
            declared, problems = validate_package(data, folder=package, source=shown)
            if declared is None:
                into.errors.extend(problems)
            else:
                into.declarations[package] = declared
            continue
        raw, problems = validate(data, folder=package, slug=entry.name[:-5], source=shown)
        if raw is None:
            into.errors.extend(problems)
        else:
            raws.append(raw)
    into.files[package] = files
    into.rules[package] = raws
    into.mtimes[package] = mtime


def scan_dir(root: Path) -> ScannedDir:
    """Read and validate every rule file under ``root``; problems are collected, not raised."""
    folders, errors = _package_folders(root)
    scanned = ScannedDir(root=root, errors=errors)
    shown_root = display_path(root)
    for package in folders:
        scan_package(root, package, shown_root, scanned)
    return scanned


def load_rule_file(path: Path) -> Rule:
    """One rule file on its own (its id from its folder and name); raises :class:`RuleErrors`."""
    shown = display_path(path)
    try:
        data = tomlfile.load(path)
    except DepwatchError as exc:
        raise RuleErrors([exc.with_path(shown)]) from None
    slug = path.name[:-5] if path.name.endswith(".toml") else path.name
    raw, problems = validate(data, folder=path.parent.name, slug=slug, source=shown)
    if raw is None:
        raise RuleErrors(problems)
    return build_rule(raw, source=shown)


def _deep_check(raw: Mapping[str, Any], source: str) -> list[DepwatchError]:
    """Checks too slow for every load: the code example must be Python (parsed, never run)."""
    code = raw["examples"]["code"]
    if code is None:
        return []
    import ast  # only for `rules check`

    try:
        ast.parse(code)
    except SyntaxError as exc:
        return [
            DepwatchError(
                f"examples.code is not valid Python: {exc.msg} (line {exc.lineno} of the sample)",
                path=source,
                key="examples.code",
            )
        ]
    return []


def _source_of(shown_root: str, rule_id: str) -> str:
    """The file of rule ``rule_id`` under a rule folder shown as ``shown_root``."""
    package, slug = rule_id.split("/", 1)
    return f"{shown_root}{os.sep}{package}{os.sep}{slug}.toml"


def check_dirs(dirs: Iterable[Path]) -> list[Rule]:
    """Validate every rule file of ``dirs`` (``depwatch rules check``), never using the cache.

    Returns the rules of all folders in order (ids sorted within a folder); raises one
    :class:`RuleErrors` with every problem of every folder.
    """
    rules: list[Rule] = []
    errors: list[DepwatchError] = []
    for root in dirs:
        try:
            scanned = scan_dir(root)
        except DepwatchError as exc:
            errors.append(exc)
            continue
        errors.extend(scanned.errors)
        shown_root = display_path(root)
        for raws in scanned.rules.values():
            for raw in raws:
                source = _source_of(shown_root, raw["id"])
                errors.extend(_deep_check(raw, source))
                rules.append(build_rule(raw, source=source))
    if errors:
        raise RuleErrors(errors)
    return rules
