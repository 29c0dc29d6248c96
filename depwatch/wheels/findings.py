"""Turning a package's hits into findings (title, action) and their rule information."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from depwatch.model import Finding, RuleInfo, Tag
from depwatch.usage.match import symbol_matches
from depwatch.wheels.hits import _base_symbol, _Hit
from depwatch.wheels.result import WheelsResult


def _describe(name: str, locked: str, hit: _Hit) -> tuple[str, str, str]:
    """(title, what, action) of a derived finding."""
    change = hit.change
    sym = f"`{hit.symbol}`"
    kind = change.kind if change is not None else "removed"
    if kind == "removed":
        what = f"{sym} is gone"
    elif kind == "keyword":
        what = f"the keyword argument {sym} is gone"
    elif kind == "positional":
        what = f"{sym} can no longer be passed by position (keyword-only or removed)"
    elif kind == "required":
        what = f"{sym} became a required argument, and the code does not pass it"
    elif kind == "shim":
        what = f"{sym} is deprecated in a newer release"
    else:
        what = f"{sym} is deprecated"
    if hit.tag is Tag.IMMEDIATE:
        title = f"{what} in {name} {hit.first}; {name} {locked} is locked"
        if hit.had:
            title += f" ({name} {hit.had} had it)"
        action = f"change the code that uses {sym}, or lock {name} {hit.had} until it is changed"
    elif hit.tag is Tag.PLAN:
        title = f"{what} in {name} {hit.first} (locked: {locked})"
        action = f"before upgrading {name} to {hit.first} or later, change the code that uses {sym}"
    elif kind == "shim":
        title = f"{sym} is deprecated in {name} {hit.first} (locked: {locked})"
        action = f"move off {sym} before it is removed"
    else:
        title = f"{sym} is deprecated in {name} {locked}"
        action = f"move off {sym} before it is removed"
    if hit.message:
        title += f": {hit.message}"
    return title, what, action


def _curated_covers(symbol: str, curated: Iterable[str]) -> bool:
    """Whether a curated rule speaks of ``symbol``: a curated ``name`` covers the name, what
    is below it and its keywords; a curated ``name(kw=)`` covers that keyword only."""
    base = _base_symbol(symbol)
    for entry in curated:
        if "(" in entry:
            if entry == symbol:
                return True
        elif symbol_matches(base, entry):
            return True
    return False


def add_findings(
    result: WheelsResult,
    project: str,
    curated: Mapping[str, Iterable[str]],
    entries: Mapping[tuple[str, str], list[str]],
    compared: Iterable[tuple[tuple[str, str], dict[tuple[str, str], _Hit]]],
) -> None:
    """Each compared (name, version)'s hits as findings (those a curated rule speaks of
    left out), with their rule information, into ``result``."""
    for (name, version), hits in compared:
        for hit in hits.values():
            if _curated_covers(hit.symbol, curated.get(name, ())):
                continue
            title, what, action = _describe(name, version, hit)
            rule = f"wheels/{name}/{hit.symbol}"
            if hit.tag is Tag.MONITOR and hit.change is not None and hit.change.kind == "shim":
                rule = f"wheels/{name}/{hit.symbol}/deprecated"
            confidence = "static+deprecation" if hit.message else "static"
            evidence = tuple(hit.evidence[k] for k in sorted(hit.evidence))
            result.findings.append(
                Finding(
                    rule=rule,
                    project=project,
                    package=name,
                    version=version,
                    tag=hit.tag,
                    kind=hit.kind,
                    title=title,
                    action=action,
                    lockfiles=tuple(entries[(name, version)]),
                    evidence=evidence,
                    origin="wheels",
                    confidence=confidence,
                )
            )
            why = (
                f"derived from the released wheels of {name} ({confidence} diff"
                + (f", {hit.had} → {hit.first}" if hit.had and hit.first else "")
                + ")"
            )
            result.infos[rule] = RuleInfo(
                id=rule, title=title, kind=hit.kind, what=what, why=why, action=action
            )
