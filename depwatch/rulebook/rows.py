"""A validated :class:`Rule` as a cache row, and back: the compiled cache's format only.

A row is a list of plain strings (:func:`to_row`) and a small JSON-ready structured part
(usage and lock conditions); :mod:`depwatch.rulebook.cache` stores rows, and
:func:`rule_from_row` rebuilds the rule without checking it again (it was validated before it
was cached). Nothing else in depwatch sees a row.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from typing import Any

from depwatch.model import Tag
from depwatch.rulebook.checker import cached_specifier as _specifier
from depwatch.rulebook.checker import cached_version as _version
from depwatch.rulebook.model import (
    KINDS,
    CallPattern,
    Examples,
    LockCondition,
    LockExample,
    Rule,
    Usage,
)

__all__ = ["LIST_SEP", "ROW_FIELDS", "rule_from_row", "to_row"]

#: The tags by value (``Tag(value)`` goes through ``EnumMeta.__call__``, which is slow).
_TAG_OF = {tag.value: tag for tag in Tag}
_KIND_OF = {kind.value: kind for kind in KINDS}

_date = datetime.date.fromisoformat

#: Joins the items of a list field in a row (see :func:`to_row`).
LIST_SEP = "\x1f"
#: How many fields a row has.
ROW_FIELDS = 19


def to_row(rule: Rule) -> tuple[list[str], list[Any]]:
    """The rule as a row of strings, and its usage apart (the compiled index's layout).

    The strings: ``[slug, kind, tag, affected, boundary, fixed, python_requires, when_unused,
    eol, added, references, examples.affected, examples.unaffected, title, what, why, action,
    examples.code, action_below]``, ``""`` for none (a validated field is never empty), a list's
    items joined by U+001F (validated text never holds control characters but tab and newline).
    The structured part: ``[usage, locks]``, the usage ``[modules, symbols, calls, env,
    assignments]`` or None, each call as ``[name, keywords, without, positional_max,
    not_passed_to, string_arg]``; locks None, or ``[when_locked, unless_locked, examples.lock]``,
    each condition ``{"package", "versions", "runtime", "symbols"}`` and each lock example
    ``{"packages": [[name, version, dev], ...], "applies", "code"}``. Strings this plain are split
    out of one long text far faster than JSON decodes them, and the package is implied by where
    the row is kept.
    """
    usage = rule.usage
    examples = rule.examples
    row = [
        rule.id.split("/", 1)[1],
        rule.kind.value,
        rule.tag.value,
        str(rule.affected),
        "" if rule.boundary is None else str(rule.boundary),
        "" if rule.fixed is None else str(rule.fixed),
        "" if rule.python_requires is None else str(rule.python_requires),
        rule.when_unused,
        "" if rule.eol is None else rule.eol.isoformat(),
        rule.added or "",
        LIST_SEP.join(rule.references),
        LIST_SEP.join(examples.affected),
        LIST_SEP.join(examples.unaffected),
        rule.title,
        rule.what,
        rule.why,
        rule.action,
        examples.code or "",
        rule.action_below or "",
    ]
    locks = None
    if rule.when_locked or rule.unless_locked or examples.locks:
        locks = [
            _condition_items(rule.when_locked),
            _condition_items(rule.unless_locked),
            [
                {
                    "packages": [[name, version, dev] for name, version, dev in lock.packages],
                    "applies": lock.applies,
                    "code": lock.code,
                }
                for lock in examples.locks
            ],
        ]
    if usage is None:
        return row, [None, locks]
    return row, [
        [
            list(usage.modules),
            list(usage.symbols),
            [
                [
                    call.name,
                    list(call.keywords),
                    list(call.without),
                    call.positional_max,
                    list(call.not_passed_to),
                    call.string_arg,
                ]
                for call in usage.calls
            ],
            list(usage.env),
            list(usage.assignments),
        ],
        locks,
    ]


def _condition_items(conditions: Sequence[LockCondition]) -> list[dict[str, Any]]:
    return [
        {
            "package": cond.package,
            "versions": None if cond.versions is None else str(cond.versions),
            "runtime": cond.runtime,
            "symbols": list(cond.symbols),
        }
        for cond in conditions
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
        _KIND_OF[kind],
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
