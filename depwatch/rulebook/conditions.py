"""A rule's conditions validated: ``[usage]`` (where it looks in the project's code) and
``[[when-locked]]`` / ``[[unless-locked]]`` (what else the lock must or must not hold).

Part of :func:`depwatch.rulebook.validate.validate`, with the same typed getters.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from packaging.utils import InvalidName, canonicalize_name

from depwatch.rulebook.checker import Checker, is_dotted, type_name, under
from depwatch.rulebook.model import CallPattern, LockCondition, Usage, default_module

__all__ = ["validate_lock_conditions", "validate_usage"]

_USAGE_KEYS = ("modules", "symbols", "calls", "env", "assignments")
_CALL_KEYS = ("name", "keywords", "without", "positional-max", "not-passed-to", "string-arg")
_LOCK_KEYS = ("package", "versions", "runtime", "symbols")
_ENV = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def validate_usage(check: Checker, table: Mapping[str, Any]) -> Usage:
    check.unknown_keys(table, _USAGE_KEYS, "usage.")
    dotted_hint = "a dotted name as users import it, like 'google.genai.Client'"
    modules = check.strings(table, "modules", "usage.", non_empty=True)
    for name, where in modules or ():
        if not is_dotted(name):
            check.error(f"{name!r} is not a dotted import name", where, dotted_hint)
    symbols = check.strings(table, "symbols", "usage.")
    for name, where in symbols or ():
        if not is_dotted(name):
            check.error(f"{name!r} is not a dotted name", where, dotted_hint)

    calls: list[tuple[CallPattern, str]] = []
    call_items = check.get(table, "calls", list, "usage.")
    for index, item in enumerate(call_items or ()):
        where = f"usage.calls[{index}]"
        if not isinstance(item, dict):
            check.error(
                f"must be a table, not {type_name(item)}",
                where,
                '{ name = "pkg.func", keywords = ["arg"] }',
            )
            continue
        check.unknown_keys(item, _CALL_KEYS, f"{where}.")
        call_name = check.text(item, "name", f"{where}.", required=True, hint=dotted_hint)
        if call_name is not None and not is_dotted(call_name):
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
                    CallPattern(
                        call_name,
                        tuple(kw for kw, _ in keywords or ()),
                        tuple(kw for kw, _ in without or ()),
                        positional_max,
                        tuple(target for target, _ in passed_to or ()),
                        string_arg,
                    ),
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
    names += [(call.name, where) for call, where in calls]
    if modules is not None:
        module_names = [name for name, _ in modules]
        for name, where in names:
            if not under(name, module_names):
                check.error(
                    f"{name!r} is not under any of usage.modules",
                    where,
                    f"add {default_module(name)!r} to usage.modules",
                )
    else:
        module_names = list(dict.fromkeys(default_module(name) for name, _ in names))
    return Usage(
        tuple(module_names),
        tuple(name for name, _ in symbols or ()),
        tuple(call for call, _ in calls),
        tuple(name for name, _ in env or ()),
        tuple(name for name, _ in assignments or ()),
    )


def validate_lock_conditions(
    check: Checker,
    data: Mapping[str, Any],
    key: str,
    own: str,
    usage: Usage | None,
) -> tuple[LockCondition, ...]:
    """``[[when-locked]]`` / ``[[unless-locked]]``: conditions on the rest of the lock."""
    items = check.get(
        data, key, list, "", hint=f'write [[{key}]] tables with package = "…" (and versions)'
    )
    result: list[LockCondition] = []
    for index, item in enumerate(items or ()):
        where = f"{key}[{index}]"
        if not isinstance(item, dict):
            check.error(
                f"must be a table, not {type_name(item)}",
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
            if not is_dotted(symbol):
                check.error(f"{symbol!r} is not a dotted name", symbol_where)
            elif usage is None:
                check.error(
                    "only a rule with [usage] names symbols in a lock condition", symbol_where
                )
            elif not any(
                under(used, [symbol])
                for used in [*usage.symbols, *(call.name for call in usage.calls)]
            ):
                check.error(
                    f"{symbol!r} covers nothing in usage.symbols or usage.calls",
                    symbol_where,
                    "name a symbol of [usage] or a module above one",
                )
        if name is not None:
            result.append(
                LockCondition(
                    name, versions, bool(runtime), tuple(symbol for symbol, _ in symbols or ())
                )
            )
    return tuple(result)
