"""Rule usage conditions × extracted facts → evidence (the matching semantics of rules/README)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from operator import itemgetter

from depwatch.files import printable_name
from depwatch.model import Evidence
from depwatch.rulebook.model import CallPattern, Names, Usage
from depwatch.usage.facts import KIND_ASSIGN, KIND_CALL, KIND_ENV, FileFacts, Ref

__all__ = ["evidence_for", "leaves_out", "symbol_matches"]


def symbol_matches(ref: str, symbol: str) -> bool:
    """A reference to ``symbol`` or to anything below it (dotted components)."""
    return ref == symbol or (ref.startswith(symbol) and ref[len(symbol) : len(symbol) + 1] == ".")


def leaves_out(ref: Ref, pattern: CallPattern) -> bool:
    """Whether the call ``ref`` surely passes none of ``pattern.without``.

    A ``**kwargs`` splat might pass any of them, and with ``positional_max`` a ``*args`` splat
    might pass more positional arguments: either way it is not known, so it is no match.
    """
    if ref.star_kwargs:
        return False
    if pattern.positional_max is not None and (
        ref.star_args or ref.positional > pattern.positional_max
    ):
        return False
    return not any(kw.name in pattern.without for kw in ref.keywords)


_Patterns = list[tuple[frozenset[str], CallPattern]]


def _patterns(
    name: str,
    calls: dict[str, _Patterns],
    spell: Callable[[str], tuple[str, ...]] | None,
    named: dict[str, _Patterns],
) -> _Patterns:
    """The call patterns a call of ``name`` (or of a spelling of it) may match (memoised in
    ``named``)."""
    patterns = named.get(name)
    if patterns is None:
        spellings = (name,) if spell is None else spell(name)
        patterns = calls.get(name, [])
        if len(spellings) > 1:
            patterns = [p for spelt in spellings for p in calls.get(spelt, ())]
        named[name] = patterns
    return patterns


_Index = dict[tuple[str, str, int], list[int]]
#: A position is ``file << _SHIFT | reference`` (a file holds fewer references than that).
_SHIFT = 32
_REFS = (1 << _SHIFT) - 1
#: A reference's (kind, name, call-result length).
_KEY = itemgetter(*(Ref._fields.index(field) for field in ("kind", "name", "result_at")))


class _Table:
    """The references of one tuple of facts, indexed for matching many rules' usages.

    ``index``: where each (kind, name, call-result length) is, as (file, reference)
    positions (the kinds other than env, assign and call are one). ``prefixes``: each
    dotted prefix a symbol may be written as → the (name, call-result length) pairs of
    references that use it (under their own name or a spelling of it), so a rule's symbols
    are looked up, not every reference's name walked.
    ``spelt``: each spelling → the names of calls spelt so (for call patterns)."""

    def __init__(
        self,
        facts: Iterable[FileFacts],
        spell: Callable[[str], tuple[str, ...]] | None,
    ) -> None:
        self.files: Sequence[FileFacts] = facts if isinstance(facts, tuple) else tuple(facts)
        raw: _Index = {}
        for file_at, file in enumerate(self.files):
            base = file_at << _SHIFT
            for ref_at, key in enumerate(map(_KEY, file.refs)):
                where = raw.get(key)
                if where is None:
                    raw[key] = [base | ref_at]
                else:
                    where.append(base | ref_at)
        # one key for every kind but env, assign and call (evidence_for sorts what it visits)
        index: _Index = {}
        for (kind, name, result_at), where in raw.items():
            if kind not in (KIND_ENV, KIND_ASSIGN, KIND_CALL):
                kind = ""
            known = index.get((kind, name, result_at))
            if known is None:
                index[kind, name, result_at] = where
            else:
                known.extend(where)
        self.index = index
        prefixes: dict[str, set[tuple[str, int]]] = {}
        spelt: dict[str, set[str]] = {}
        for kind, name, result_at in index:
            if kind in (KIND_ENV, KIND_ASSIGN):
                continue
            spellings = (name,) if spell is None else spell(name)
            if kind == KIND_CALL:
                for spelling in spellings:
                    spelt.setdefault(spelling, set()).add(name)
            # what follows a call's result (``conn.settimeout`` after ``conn =
            # ssl.wrap_socket()``) keeps its length whatever the spelling before it
            tail = len(name) - result_at if result_at else -1
            for spelling in spellings:
                end = cut = len(spelling)
                while cut > 0:
                    if tail < 0 or cut > end - tail:
                        prefixes.setdefault(spelling[:cut], set()).add((name, result_at))
                    cut = spelling.rfind(".", 0, cut)
        self.prefixes = prefixes
        self.spelt = spelt


_last: tuple[object, dict[int, tuple[object, _Table]]] | None = None


def _table(
    facts: Iterable[FileFacts], names: Names | None, spell: Callable[[str], tuple[str, ...]] | None
) -> _Table:
    """The :class:`_Table` of ``facts`` with ``names``' spellings, kept for the last tuple
    of facts (one per names seen): a check matches every rule's usage against the same
    facts."""
    global _last
    last = _last
    if last is not None and last[0] is facts:
        known = last[1].get(id(names))
        if known is not None and known[0] is names:
            return known[1]
    table = _Table(facts, spell)
    if table.files is facts:
        tables = last[1] if last is not None and last[0] is facts else {}
        tables[id(names)] = (names, table)
        _last = (facts, tables)
    return table


def evidence_for(
    facts: Iterable[FileFacts], usage: Usage, names: Names | None = None
) -> tuple[Evidence, ...]:
    """The places that use what ``usage`` describes, sorted by (path, cell, line, column).

    One piece of evidence per line: a symbol reference points at the start of its chain, a
    call pattern with keywords at the keyword that matched, one with ``without`` at the call.
    With ``names`` (the packages' declared spellings), a reference matches under its own name
    or any spelling it is declared to be (``plt.cm.get_cmap`` is ``matplotlib.cm.get_cmap``);
    a rule's names are taken as written.
    """
    symbols = tuple(usage.symbols)
    order: dict[str, int] = {}
    for position, written in enumerate(symbols):
        order.setdefault(written, position)
    env = frozenset(usage.env)
    assignments = frozenset(usage.assignments)
    spell = names.spellings if names else None
    calls: dict[str, list[tuple[frozenset[str], CallPattern]]] = {}
    for pattern in usage.calls:
        calls.setdefault(pattern.name, []).append((frozenset(pattern.keywords), pattern))
    found: dict[tuple[str, int, int, int], Evidence] = {}
    matched: dict[tuple[str, int], str] = {}
    named: dict[str, list[tuple[frozenset[str], CallPattern]]] = {}

    guards: tuple[str, ...] = ()

    def add(path: str, cell: int | None, line: int, column: int, code: str, what: str) -> None:
        key = (path, cell or 0, line, column)
        if key not in found:
            found[key] = Evidence(
                printable_name(path), line, column, code, cell=cell, symbol=what, guards=guards
            )

    table = _table(facts, names, spell)
    files = table.files
    # Which symbol each (name, call-result length) uses first, from the rule's symbols
    # (first position of each) looked up in the table's prefixes.
    for position, written in enumerate(symbols):
        if order[written] != position:
            continue
        for at in table.prefixes.get(written, ()):
            known = matched.get(at)
            if known is None or order[known] > position:
                matched[at] = written
    # Only the references whose name (or variable) may match are visited, in the order of a
    # walk over every reference (which evidence of one place is kept depends on it).
    called: set[str] = set()
    for pattern_name in calls:
        called |= table.spelt.get(pattern_name, set())
    visit: list[int] = []
    for (kind, name, result_at), where in table.index.items():
        if kind == KIND_ENV:
            hit = name in env
        elif kind == KIND_ASSIGN:
            hit = name in assignments
        else:
            hit = (name, result_at) in matched or (kind == KIND_CALL and name in called)
        if hit:
            visit.extend(where)
    visit.sort()
    for position in visit:
        file = files[position >> _SHIFT]
        ref = file.refs[position & _REFS]
        guards = ref.guards
        if ref.kind == KIND_ENV:
            if ref.name in env:
                add(file.path, ref.cell, ref.line, ref.column, ref.code, ref.name)
            continue
        if ref.kind == KIND_ASSIGN:
            if ref.name in assignments:
                add(file.path, ref.cell, ref.line, ref.column, ref.code, f"{ref.name} =")
            continue
        # Many references share a name (``numpy.array`` thousands of times): what a name
        # matches is worked out once per name (and call-result length), not per reference.
        symbol = matched.get((ref.name, ref.result_at))
        if symbol is not None:
            add(file.path, ref.cell, ref.line, ref.column, ref.code, symbol)
        if ref.kind != KIND_CALL or (ref.result_at and ref.result_at == len(ref.name)):
            continue  # calling what a call returned is no call of the callee
        patterns = _patterns(ref.name, calls, spell, named)
        for keywords, pattern in patterns:
            if pattern.string_arg is not None and pattern.string_arg not in ref.string_args:
                continue
            if pattern.without:
                if leaves_out(ref, pattern):
                    add(
                        file.path,
                        ref.cell,
                        ref.line,
                        ref.column,
                        ref.code,
                        f"{ref.name}() without {'=, '.join(pattern.without)}=",
                    )
                continue
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
