"""The one serialisation of the scan's facts: :data:`Compact` tuples of plain values.

Each file's tuple is packed into :mod:`marshal` bytes where it is scanned (:func:`pack`);
scan workers send lists of them on a pipe (:func:`send`, :func:`receive`), and the usage cache
stores the same bytes per file (in one :func:`dumps` body sealed with a checksum,
:mod:`depwatch.usage.cache`). Facts from a worker are trusted (:func:`facts_from_wire`);
facts read back from the cache are checked field by field (:func:`unpack_stored`), and junk
there means the file is scanned again.

Workers import this module (for the pipe): the dataclasses of :mod:`depwatch.usage.facts` are
imported only where facts are built, in the caller.
"""

from __future__ import annotations

import marshal
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from depwatch.usage.facts import FileFacts

__all__ = [
    "Compact",
    "CompactKeyword",
    "CompactRef",
    "dumps",
    "facts_from_stored",
    "facts_from_wire",
    "facts_to_wire",
    "loads",
    "pack",
    "receive",
    "send",
    "unpack",
    "unpack_stored",
]

CompactKeyword = tuple[str, int, int, str, "int | None"]
"""A :class:`~depwatch.usage.facts.KeywordArg` as a tuple (name, line, column, code, cell)."""
CompactRef = tuple[
    str,
    str,
    int,
    int,
    str,
    tuple[CompactKeyword, ...],
    "int | None",
    int,
    bool,
    bool,
    tuple[int, ...],
    tuple[str, ...],
    int,
]
"""A :class:`~depwatch.usage.facts.Ref` as a tuple, fields in order."""
Compact = tuple[
    str,
    tuple[CompactRef, ...],
    tuple[str, ...],
    tuple[tuple[str, str], ...],
    tuple[tuple[str, str], ...],
]
"""A :class:`~depwatch.usage.facts.FileFacts` as a tuple (path, refs, warnings, exports, imports):
what scan workers send back and the cache stores (cheap to build and to marshal)."""


def facts_from_wire(compact: Compact) -> FileFacts:
    """The facts of a :data:`Compact` tuple from a scan worker (or this process's scan)."""
    from depwatch.usage.facts import FileFacts, KeywordArg, Ref

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


def facts_to_wire(facts: FileFacts) -> Compact:
    """The inverse of :func:`facts_from_wire`."""
    return (
        facts.path,
        tuple(
            (
                ref.kind,
                ref.name,
                ref.line,
                ref.column,
                ref.code,
                tuple((kw.name, kw.line, kw.column, kw.code, kw.cell) for kw in ref.keywords),
                ref.cell,
                ref.positional,
                ref.star_args,
                ref.star_kwargs,
                ref.string_args,
                ref.guards,
                ref.result_at,
            )
            for ref in facts.refs
        ),
        facts.warnings,
        facts.exports,
        facts.imports,
    )


# --- facts read back from storage: every field checked --------------------------------------


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


def _str(value: Any) -> str:
    if type(value) is not str:
        raise ValueError("not a str")
    return value


def _strs(value: Any) -> tuple[str, ...]:
    if type(value) is not tuple or not all(type(item) is str for item in value):
        raise ValueError("not a tuple of str")
    return value


def _pairs(value: Any) -> tuple[tuple[str, str], ...]:
    if type(value) is not tuple:
        raise ValueError("not a tuple")
    for pair in value:
        if type(pair) is not tuple or len(pair) != 2:
            raise ValueError("not a pair")
        _str(pair[0])
        _str(pair[1])
    return value


def facts_from_stored(data: Any) -> FileFacts:
    """The facts of a :data:`Compact` tuple read back from storage, every field checked;
    raises ValueError or TypeError on anything else (a row of an older layout too)."""
    from depwatch.usage.facts import FileFacts, KeywordArg, Ref

    path, rows, warnings, exports, imports = data
    if type(rows) is not tuple:
        raise ValueError("not a tuple")
    refs = []
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
    ) in rows:
        # one test of every field's type (a call per field cost as much as building the Ref)
        if not (
            type(kind) is str
            and type(name) is str
            and type(line) is int
            and type(column) is int
            and type(code) is str
            and type(kws) is tuple
            and (cell is None or type(cell) is int)
            and type(positional) is int
            and type(star_args) is bool
            and type(star_kwargs) is bool
            and type(strings) is tuple
            and type(guards) is tuple
            and type(result_at) is int
        ):
            raise ValueError("a field of the wrong type")
        if strings and not all(type(index) is int for index in strings):
            raise ValueError("not a tuple of int")
        if guards and not all(type(guard) is str for guard in guards):
            raise ValueError("not a tuple of str")
        keywords = (
            tuple(
                KeywordArg(_str(n), _int(ln), _int(c), _str(cd), _opt_int(ce))
                for n, ln, c, cd, ce in kws
            )
            if kws
            else ()
        )
        refs.append(
            Ref(
                kind,
                name,
                line,
                column,
                code,
                keywords,
                cell,
                positional,
                star_args,
                star_kwargs,
                strings,
                guards,
                result_at,
            )
        )
    return FileFacts(
        path=_str(path),
        refs=tuple(refs),
        warnings=_strs(warnings),
        exports=_pairs(exports),
        imports=_pairs(imports),
    )


# --- bytes -----------------------------------------------------------------------------------


def pack(compact: Compact) -> bytes:
    """One file's facts as bytes: what a worker sends and the cache stores per file (the
    caller keeps these bytes, not the tuples, beside the facts it builds from them)."""
    return marshal.dumps(compact)


def unpack(data: bytes) -> Compact:
    """The inverse of :func:`pack` (for bytes this process or a worker packed)."""
    result: Compact = marshal.loads(data)
    return result


def unpack_stored(data: Any) -> FileFacts:
    """The facts of packed bytes read back from storage, every field checked; raises
    ValueError, TypeError or EOFError on anything else."""
    if type(data) is not bytes:
        raise TypeError("not bytes")
    return facts_from_stored(marshal.loads(data))


def dumps(obj: Any) -> bytes:
    """``obj`` (plain values: tuples, dicts, str, int, bool, None) as bytes."""
    return marshal.dumps(obj)


def loads(data: bytes) -> Any:
    """The inverse of :func:`dumps`; ValueError, EOFError or TypeError on bytes it did not
    write. Only for bytes this process, a worker or a checksummed cache file holds."""
    return marshal.loads(data)


def send(stream: IO[bytes], obj: Any) -> None:
    """Write one message (``marshal`` data behind its 8-byte length)."""
    data = marshal.dumps(obj)
    stream.write(len(data).to_bytes(8, "little"))
    stream.write(data)
    stream.flush()


def _read(stream: IO[bytes], size: int) -> bytes:
    parts: list[bytes] = []
    while size:
        part = stream.read(size)
        if not part:
            raise EOFError
        parts.append(part)
        size -= len(part)
    return b"".join(parts)


def receive(stream: IO[bytes]) -> Any:
    """Read one message; EOFError when the other side closed (or died)."""
    size = int.from_bytes(_read(stream, 8), "little")
    return marshal.loads(_read(stream, size))
