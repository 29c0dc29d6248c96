"""What a package's uses meet across its releases: immediate (confirmed against earlier
releases), plan (bisected to the first release that changed it), deprecations; and a hit's
stored form."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from packaging.version import Version

from depwatch.files import printable_name
from depwatch.model import Evidence, NotChecked, Tag
from depwatch.usage.facts import KIND_CALL, FileFacts, Ref
from depwatch.wheels.cache import Api
from depwatch.wheels.compare import Change, changes, deprecations, lookup
from depwatch.wheels.releases import _Failed, _Package


def _base_symbol(symbol: str) -> str:
    return symbol.split("(", 1)[0]


@dataclass
class _Hit:
    tag: Tag
    kind: str
    symbol: str
    change: Change | None
    first: str | None
    """The first release that changed it (plan) or that lacks it (immediate)."""
    had: str | None
    """A release that still had it."""
    message: str | None = None
    evidence: dict[tuple[str, int, int, int], Evidence] = field(default_factory=dict)


def _evidence(file: FileFacts, ref: Ref, change: Change | None, symbol: str) -> Evidence:
    if change is not None and change.where == "keyword":
        for kw in ref.keywords:
            if kw.name == change.keyword:
                return Evidence(
                    printable_name(file.path),
                    kw.line,
                    kw.column,
                    kw.code,
                    cell=kw.cell,
                    symbol=symbol,
                )
    return Evidence(
        printable_name(file.path), ref.line, ref.column, ref.code, cell=ref.cell, symbol=symbol
    )


def _hit_to_json(hit: _Hit) -> list[Any]:
    change = hit.change
    return [
        hit.tag.value,
        hit.kind,
        hit.symbol,
        None if change is None else [change.kind, change.symbol, change.where, change.keyword],
        hit.first,
        hit.had,
        hit.message,
        [
            [
                list(k),
                [e.path, e.line, e.column, e.code, e.cell, e.symbol, e.context, list(e.guards)],
            ]
            for k, e in hit.evidence.items()
        ],
    ]


def _hit_from_json(item: list[Any]) -> _Hit:
    tag, kind, symbol, change, first, had, message, evidence = item
    return _Hit(
        Tag(tag),
        kind,
        symbol,
        None if change is None else Change(*change),
        first,
        had,
        message,
        {
            (k[0], k[1], k[2], k[3]): Evidence(path, line, col, code, cell, sym, ctx, tuple(guards))
            for k, (path, line, col, code, cell, sym, ctx, guards) in evidence
        },
    )


def _bisect(pkg: _Package, ref: Ref, symbol: str, low: Version, high: Version) -> Version:
    """The first release in (low, high] where the use changed (``high`` changed it)."""
    span = pkg.between(low, high)
    if high not in span:
        span.append(high)
    lo, hi = -1, len(span) - 1
    base = pkg.api(low)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        try:
            api = pkg.api(span[mid])
        except _Failed:
            # an unreadable release in between: say no more than the newest sure one
            return span[hi]
        if any(c.symbol == symbol for c in changes(ref, base, api)):
            hi = mid
        else:
            lo = mid
    return span[hi]


def _check_package(
    pkg: _Package, uses: list[tuple[FileFacts, Ref]], hits: dict[tuple[str, str], _Hit]
) -> None:
    locked = pkg.api(pkg.locked)
    newest = pkg.newest()
    newest_api: Api | None = None
    if newest is not None and newest > pkg.locked:
        try:
            newest_api = pkg.api(newest)
        except _Failed as exc:
            with pkg.lock:
                pkg.result.not_checked.append(
                    NotChecked(pkg.name, pkg.locked_text, f"newest release: {exc.reason}")
                )
    for file, ref in uses:
        # immediate: what the locked release lacks and an earlier one had
        if _suspect(ref, locked):
            for earlier in pkg.earlier():
                try:
                    before = pkg.api(earlier)
                except _Failed:
                    continue
                found = changes(ref, before, locked)
                if not found:
                    continue
                for change in found:
                    first = _bisect(pkg, ref, change.symbol, earlier, pkg.locked)
                    _add(hits, file, ref, change, Tag.IMMEDIATE, str(first), str(earlier))
                break
        # plan: what a newer release removed or changed incompatibly
        if newest_api is not None and newest is not None:
            for change in changes(ref, locked, newest_api):
                if (Tag.IMMEDIATE.value, change.symbol) in hits:
                    continue
                first = _bisect(pkg, ref, change.symbol, pkg.locked, newest)
                _add(hits, file, ref, change, Tag.PLAN, str(first), pkg.locked_text)
        # deprecations in the locked release
        for symbol, message, keyword in deprecations(ref, locked):
            planned = [
                h
                for (tag, sym), h in hits.items()
                if tag == Tag.PLAN.value
                and (
                    sym == symbol or (_base_symbol(sym) == _base_symbol(symbol) and keyword is None)
                )
            ]
            if planned:
                for h in planned:
                    h.message = h.message or message
                continue
            change = Change("deprecated", symbol, "keyword" if keyword else "ref", keyword)
            hit = _add(hits, file, ref, change, Tag.MONITOR, None, pkg.locked_text)
            hit.message = hit.message or message
        # a newer release deprecates it (a shim serves it, or it warns): monitor
        if newest_api is not None and newest is not None:
            now = lookup(newest_api, ref.name)
            was = lookup(locked, ref.name)
            if (
                now.status in ("served", "present")
                and now.record
                and now.record.get("d")
                and now.record["k"] != "m"
                and was.status == "present"
                and not (was.record or {}).get("d")
            ):
                change = Change("shim", now.path, "ref")
                hit = _add(hits, file, ref, change, Tag.MONITOR, str(newest), pkg.locked_text)
                hit.message = hit.message or str(now.record["d"])


def _suspect(ref: Ref, api: Api) -> bool:
    """Whether the locked release may not satisfy this use (cheap; earlier releases decide)."""
    found = lookup(api, ref.name)
    if found.status == "missing":
        return True
    if ref.kind != KIND_CALL or found.status != "present" or found.record is None:
        return False
    params = found.record.get("p")
    if not isinstance(params, list):
        return False
    named = {p[0] for p in params if p[1] in (1, 3)}
    varkw = any(p[1] == 4 for p in params)
    if any(kw.name not in named for kw in ref.keywords) and not varkw:
        return True
    positional = sum(1 for p in params if p[1] in (0, 1))
    if not ref.star_args and ref.positional > positional and not any(p[1] == 2 for p in params):
        return True
    if not ref.star_args and not ref.star_kwargs:
        passed = {kw.name for kw in ref.keywords}
        pos_names = [p[0] for p in params if p[1] in (0, 1)]
        passed |= set(pos_names[: ref.positional])
        if any(p[2] and p[0] not in passed and not p[0].startswith("_") for p in params):
            return True
    return False


def _add(
    hits: dict[tuple[str, str], _Hit],
    file: FileFacts,
    ref: Ref,
    change: Change,
    tag: Tag,
    first: str | None,
    had: str | None,
) -> _Hit:
    key = (tag.value, change.symbol)
    hit = hits.get(key)
    if hit is None:
        kind = "deprecation" if change.kind in ("deprecated", "shim") else "breaking"
        hit = hits[key] = _Hit(tag, kind, change.symbol, change, first, had)
    ev = _evidence(file, ref, change, change.symbol)
    hit.evidence.setdefault((ev.path, ev.cell or 0, ev.line, ev.column), ev)
    return hit
