"""Rule usage conditions × extracted facts → evidence (the matching semantics of rules/README)."""

from __future__ import annotations

from collections.abc import Iterable

from depwatch.model import Evidence
from depwatch.rulebook.model import Usage
from depwatch.usage.facts import KIND_CALL, KIND_ENV, FileFacts

__all__ = ["evidence_for", "symbol_matches"]


def symbol_matches(ref: str, symbol: str) -> bool:
    """A reference to ``symbol`` or to anything below it (dotted components)."""
    return ref == symbol or (ref.startswith(symbol) and ref[len(symbol) : len(symbol) + 1] == ".")


def evidence_for(facts: Iterable[FileFacts], usage: Usage) -> tuple[Evidence, ...]:
    """The places that use what ``usage`` describes, sorted by (path, cell, line, column).

    One piece of evidence per line: a symbol reference points at the start of its chain, a
    call pattern with keywords at the keyword that matched.
    """
    symbols = tuple(usage.symbols)
    env = frozenset(usage.env)
    calls: dict[str, list[frozenset[str]]] = {}
    for pattern in usage.calls:
        calls.setdefault(pattern.name, []).append(frozenset(pattern.keywords))
    found: dict[tuple[str, int, int, int], Evidence] = {}

    def add(path: str, cell: int | None, line: int, column: int, code: str, what: str) -> None:
        key = (path, cell or 0, line, column)
        if key not in found:
            found[key] = Evidence(path, line, column, code, cell=cell, symbol=what)

    for file in facts:
        for ref in file.refs:
            if ref.kind == KIND_ENV:
                if ref.name in env:
                    add(file.path, ref.cell, ref.line, ref.column, ref.code, ref.name)
                continue
            for symbol in symbols:
                if symbol_matches(ref.name, symbol):
                    add(file.path, ref.cell, ref.line, ref.column, ref.code, symbol)
                    break
            if ref.kind != KIND_CALL:
                continue
            for keywords in calls.get(ref.name, ()):
                if not keywords:
                    add(file.path, ref.cell, ref.line, ref.column, ref.code, ref.name)
                    continue
                for kw in ref.keywords:
                    if kw.name in keywords:
                        add(
                            file.path,
                            kw.cell,
                            kw.line,
                            kw.column,
                            kw.code,
                            f"{ref.name}({kw.name}=)",
                        )
                        break
    # One place per line: a line that matches twice (a keyword and the name passed to it)
    # reads as one place, at its first match.
    lines: dict[tuple[str, int, int], Evidence] = {}
    for key in sorted(found):
        lines.setdefault(key[:3], found[key])
    return tuple(lines.values())
