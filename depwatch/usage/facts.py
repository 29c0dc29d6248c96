"""What the usage scan extracts from one file: references with their places, and nothing else.

Facts are plain data (no verdicts): a rule change never makes them stale, so they may be cached.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from depwatch.usage.scan import Compact

__all__ = [
    "KIND_ASSIGN",
    "KIND_CALL",
    "KIND_ENV",
    "KIND_IMPORT",
    "KIND_REF",
    "FileFacts",
    "KeywordArg",
    "Ref",
    "facts_from_compact",
]

KIND_IMPORT = "import"
"""An import statement naming the dotted name."""
KIND_REF = "ref"
"""An attribute chain, name or decorator that resolves to the dotted name."""
KIND_CALL = "call"
"""A call whose callee resolves to the dotted name (call results are transparent)."""
KIND_ENV = "env"
"""A read of the environment variable ``name``."""
KIND_ASSIGN = "assign"
"""A module-level assignment of the name ``name`` (one a framework reads)."""


@dataclass(frozen=True, slots=True)
class KeywordArg:
    """A keyword argument passed to a call, with its own place (evidence points at it)."""

    name: str
    line: int
    column: int
    code: str
    cell: int | None = None


@dataclass(frozen=True, slots=True)
class Ref:
    """One reference into a tracked module (or one environment read).

    ``line`` and ``column`` are 1-based, the column counted in characters; ``code`` is the
    source line stripped; in a notebook ``cell`` is the 1-based code cell and ``line`` counts
    within it.
    """

    kind: str
    name: str
    """The canonical dotted name (``google.genai.Client.interactions.create``) or env name."""
    line: int
    column: int
    code: str
    keywords: tuple[KeywordArg, ...] = ()
    """For calls: the keyword arguments passed by name (``**kwargs`` is not listed)."""
    cell: int | None = None
    positional: int = 0
    """For calls: how many positional arguments are passed (``*args`` splats not counted)."""
    star_args: bool = False
    """For calls: whether a ``*args`` splat is passed (``positional`` is then only a minimum)."""
    star_kwargs: bool = False
    """For calls: whether a ``**kwargs`` splat is passed (any keyword may be in it)."""
    string_args: tuple[int, ...] = ()
    """For calls: the indices of the positional arguments that are string literals (up to
    the first ``*args`` splat)."""
    guards: tuple[str, ...] = ()
    """The conditions of the branches the reference sits in (:mod:`depwatch.usage.guards`),
    as extracted: whether they hold on the project's targets is judged at match time."""
    result_at: int = 0
    """Where the part of ``name`` that is a call's result starts (0: none is): in
    ``conn = ssl.wrap_socket(s)`` then ``conn.settimeout``, the length of ``ssl.wrap_socket``.
    A symbol that ends there or before names the callee, not this use of what it returned."""


@dataclass(frozen=True, slots=True)
class FileFacts:
    """Everything the scan found in one file."""

    path: str
    """Relative to the project root, with ``/`` separators."""
    refs: tuple[Ref, ...] = ()
    warnings: tuple[str, ...] = ()
    """One line each, naming the file (a cell skipped, undecodable bytes replaced, …)."""
    exports: tuple[tuple[str, str], ...] = ()
    """Module-level names bound to tracked objects (``client`` → ``google.genai.Client``)."""
    imports: tuple[tuple[str, str], ...] = ()
    """Project modules this file imports from: (module, name); name ``""`` for the module."""


def facts_from_compact(compact: Compact) -> FileFacts:
    """The facts of a :data:`~depwatch.usage.scan.Compact` tuple (what scan workers return)."""
    path, refs, warnings, exports, imports = compact
    return FileFacts(
        path=path,
        refs=tuple(
            Ref(
                kind,
                name,
                line,
                column,
                code,
                tuple(KeywordArg(*kw) for kw in kws),
                cell,
                positional,
                star_args,
                star_kwargs,
                strings,
                guards,
                result_at,
            )
            for (
                kind,
                name,
                line,
                column,
                code,
                kws,
                cell,
                positional,
                star_args,
                star_kwargs,
                strings,
                guards,
                result_at,
            ) in refs
        ),
        warnings=warnings,
        exports=exports,
        imports=imports,
    )


# --- a safe, non-executable serialisation for the cache (JSON-compatible lists) -------------


def _kw_to_json(kw: KeywordArg) -> list[Any]:
    return [kw.name, kw.line, kw.column, kw.code, kw.cell]


def _ref_to_json(ref: Ref) -> list[Any]:
    return [
        ref.kind,
        ref.name,
        ref.line,
        ref.column,
        ref.code,
        [_kw_to_json(kw) for kw in ref.keywords],
        ref.cell,
        ref.positional,
        ref.star_args,
        ref.star_kwargs,
        list(ref.string_args),
        list(ref.guards),
        ref.result_at,
    ]


def facts_to_json(facts: FileFacts) -> dict[str, Any]:
    return {
        "path": facts.path,
        "refs": [_ref_to_json(r) for r in facts.refs],
        "warnings": list(facts.warnings),
        "exports": [list(e) for e in facts.exports],
        "imports": [list(i) for i in facts.imports],
    }


def _opt_int(value: Any) -> int | None:
    if value is None:
        return None
    if type(value) is not int:
        raise ValueError("not an int")
    return value


def _int(value: Any) -> int:
    if type(value) is not int:
        raise ValueError("not an int")
    return value


def _bool(value: Any) -> bool:
    if type(value) is not bool:
        raise ValueError("not a bool")
    return value


def _str(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError("not a str")
    return value


def _pair(value: Any) -> tuple[str, str]:
    a, b = value
    return _str(a), _str(b)


def facts_from_json(data: Any) -> FileFacts:
    """The inverse of :func:`facts_to_json`; raises ValueError/TypeError/KeyError on junk."""
    refs = []
    # A row of an older layout (no argument counts, no guards) does not unpack: the file is
    # scanned again.
    for (
        kind,
        name,
        line,
        column,
        code,
        kws,
        cell,
        positional,
        star_args,
        star_kwargs,
        strings,
        guards,
        result_at,
    ) in data["refs"]:
        keywords = tuple(
            KeywordArg(_str(n), _int(ln), _int(c), _str(cd), _opt_int(ce))
            for n, ln, c, cd, ce in kws
        )
        refs.append(
            Ref(
                _str(kind),
                _str(name),
                _int(line),
                _int(column),
                _str(code),
                keywords,
                _opt_int(cell),
                _int(positional),
                _bool(star_args),
                _bool(star_kwargs),
                tuple(_int(index) for index in strings),
                tuple(_str(g) for g in guards),
                _int(result_at),
            )
        )
    return FileFacts(
        path=_str(data["path"]),
        refs=tuple(refs),
        warnings=tuple(_str(w) for w in data["warnings"]),
        exports=tuple(_pair(e) for e in data["exports"]),
        imports=tuple(_pair(i) for i in data["imports"]),
    )
