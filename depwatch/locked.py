"""What a lock holds, as a rule's conditions see it: development-only entries (:func:`dev_only`)
and the ``when-locked``/``unless-locked`` conditions (:func:`lock_context`)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from depwatch.model import Package
from depwatch.rulebook.model import LockCondition, Rule, Usage

__all__ = ["RUNTIME_GROUPS", "dev_only", "lock_context"]

#: Group names that mean "installed at run time" (uv, poetry and conda ``main``; pipenv and
#: pdm ``default``); an entry in none of them, but in some group, is a development tool.
RUNTIME_GROUPS = frozenset({"main", "default"})


def dev_only(pkg: Package) -> bool:
    """Whether an entry is only in development groups (a lock that records no groups, like a
    requirements file, says nothing: its entries are not development-only)."""
    groups = [group for group in pkg.groups if group != "constraint"]
    return bool(groups) and not any(group in RUNTIME_GROUPS for group in groups)


def _holds(
    condition: LockCondition, packages: Iterable[Package], admitted: Callable[[Package], bool]
) -> bool:
    """Whether an entry of ``packages`` satisfies ``condition``."""
    for pkg in packages:
        if pkg.name != condition.package or pkg.version is None or not admitted(pkg):
            continue
        if condition.runtime and (dev_only(pkg) or pkg.groups == ("constraint",)):
            continue
        if condition.versions is not None:
            version = pkg.parsed_version
            if version is None:  # not PEP 440
                continue
            if not condition.versions.contains(version, prereleases=True):
                continue
        return True
    return False


def lock_context(
    rule: Rule,
    packages: Sequence[Package],
    admitted: Callable[[Package], bool] = lambda pkg: True,
) -> tuple[bool, Usage | None]:
    """Whether ``rule`` concerns a lock holding ``packages``, and the usage it looks for there.

    Every ``when-locked`` condition must hold. An ``unless-locked`` condition that holds
    silences the rule, or, with ``symbols``, takes those names (and calls below them) out of the
    rule's usage; a usage left with nothing to look for silences the rule too.
    """
    usage = rule.usage
    if not rule.when_locked and not rule.unless_locked:
        return True, usage
    if not all(_holds(cond, packages, admitted) for cond in rule.when_locked):
        return False, usage
    for cond in rule.unless_locked:
        if not _holds(cond, packages, admitted):
            continue
        if not cond.symbols or usage is None:
            return False, usage

        def covered(name: str, symbols: tuple[str, ...] = cond.symbols) -> bool:
            return any(name == s or name.startswith(s + ".") for s in symbols)

        usage = usage._replace(
            symbols=tuple(name for name in usage.symbols if not covered(name)),
            calls=tuple(call for call in usage.calls if not covered(call.name)),
        )
        if not (usage.symbols or usage.calls or usage.env):
            return False, usage
    return True, usage
