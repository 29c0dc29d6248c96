"""A parsed rule file → :class:`~depwatch.rulebook.model.Rule`: parsing is validation.

The format is ``rules/README.md``. :func:`validate` checks a parsed TOML table key by key with
the typed getters of :mod:`depwatch.rulebook.checker` and returns the rule, or every problem of
the file (each naming the file, the dotted key and what to do). Nothing in a rule is ever
executed; :func:`deep_check` adds what is too slow for every load (``depwatch rules check``).
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from packaging.specifiers import SpecifierSet
from packaging.utils import InvalidName, canonicalize_name
from packaging.version import Version

from depwatch.errors import DepwatchError
from depwatch.model import Tag
from depwatch.rulebook.checker import Checker, check_package_folder, type_name
from depwatch.rulebook.conditions import validate_lock_conditions, validate_usage
from depwatch.rulebook.model import (
    INTERPRETER,
    KINDS,
    Examples,
    LockExample,
    Rule,
)

__all__ = ["deep_check", "validate"]

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
_EXAMPLE_KEYS = ("affected", "unaffected", "code", "lock")
_LOCK_EXAMPLE_KEYS = ("packages", "applies", "code")
_WHEN_UNUSED = ("monitor", "silent")
_TAGS = tuple(tag.value for tag in Tag)
_KIND_OF = {kind.value: kind for kind in KINDS}

_SPACE = re.compile(r"\s")
#: A URL as RFC 3986 writes it (ASCII; anything else percent-encoded), so that reports can link
#: it as it is: no "<", ">", quotes, backslashes or braces to close a link or a tag early.
_URL = re.compile(r"[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+")
_SLUG = re.compile(r"[a-z0-9][a-z0-9._-]*\Z")
_EXPECT = re.compile(r"#\s*expect\s*\Z")


def validate(
    data: Mapping[str, Any], *, folder: str, slug: str, source: str
) -> tuple[Rule | None, list[DepwatchError]]:
    """Check one parsed rule file; return its rule (None when invalid) and its problems.

    ``folder`` is the name of the folder the file is in (its normalised package, or
    ``python``), ``slug`` the file name without ``.toml``, ``source`` the path shown in messages.
    """
    check = Checker(source)
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
        check_package_folder(check, package, folder)
    interpreter = folder == INTERPRETER

    kinds = ", ".join(sorted(kind.value for kind in KINDS))
    kind = check.text(data, "kind", required=True, hint=f"one of: {kinds}")
    if kind is not None and kind not in _KIND_OF:
        check.error(f"unknown kind {kind!r}", "kind", f"use one of: {kinds}")
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
        usage = validate_usage(check, usage_table)

    when_unused = check.text(data, "when-unused")
    if when_unused is not None:
        if when_unused not in _WHEN_UNUSED:
            check.error(
                f"unknown value {when_unused!r}", "when-unused", "use 'monitor' or 'silent'"
            )
        elif "usage" not in data:
            check.error("only a rule with [usage] has when-unused", "when-unused")

    when_locked = validate_lock_conditions(check, data, "when-locked", folder, usage)
    unless_locked = validate_lock_conditions(check, data, "unless-locked", folder, usage)
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
    assert examples is not None
    rule = Rule(
        id=rule_id,
        package=folder,
        kind=_KIND_OF[kind],
        tag=Tag(tag),
        affected=affected,
        title=texts["title"].strip() if texts["title"] else "",
        what=texts["what"].strip() if texts["what"] else "",
        why=texts["why"].strip() if texts["why"] else "",
        action=texts["action"].strip() if texts["action"] else "",
        references=tuple(url for url, _ in references or ()),
        boundary=boundary,
        fixed=fixed,
        python_requires=python_requires,
        usage=usage,
        when_unused=when_unused or "monitor",
        eol=eol,
        added=data.get("added"),
        examples=examples,
        source=source,
        action_below=action_below.strip() if action_below else None,
        when_locked=when_locked,
        unless_locked=unless_locked,
    )
    return rule, []


def _validate_lock_examples(
    check: Checker, table: Mapping[str, Any], *, needs_code: bool
) -> tuple[LockExample, ...]:
    items = check.get(table, "lock", list, "examples.")
    result: list[LockExample] = []
    for index, item in enumerate(items or ()):
        where = f"examples.lock[{index}]"
        if not isinstance(item, dict):
            check.error(f"must be a table, not {type_name(item)}", where)
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
            packages.append((name, parts[1], len(parts) == 3))
        applies = check.get(item, "applies", bool, f"{where}.")
        code = check.text(item, "code", f"{where}.")
        if code is not None and not needs_code:
            check.error("only a rule with [usage] has code in a lock example", f"{where}.code")
        result.append(LockExample(tuple(packages), True if applies is None else applies, code))
    return tuple(result)


def _validate_examples(
    check: Checker,
    data: Mapping[str, Any],
    affected: SpecifierSet | None,
    *,
    needs_code: bool,
    needs_locks: bool = False,
) -> Examples | None:
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
    listed: dict[str, tuple[str, ...]] = {}
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
        listed[key] = tuple(text for text, _ in items or ())
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
    locks = _validate_lock_examples(check, table, needs_code=needs_code)
    if needs_locks and not locks:
        check.error(
            "a rule with when-locked or unless-locked needs [[examples.lock]]",
            "examples.lock",
            'add [[examples.lock]] with packages = ["name version"] and applies = true/false',
        )
    return Examples(listed["affected"], listed["unaffected"], code, locks)


def deep_check(rule: Rule) -> list[DepwatchError]:
    """Checks too slow for every load: the code example must be Python (parsed, never run)."""
    code = rule.examples.code
    if code is None:
        return []
    import ast  # only for `rules check`

    try:
        ast.parse(code)
    except SyntaxError as exc:
        return [
            DepwatchError(
                f"examples.code is not valid Python: {exc.msg} (line {exc.lineno} of the sample)",
                path=rule.source,
                key="examples.code",
            )
        ]
    return []
