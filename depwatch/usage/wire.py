"""The one serialisation of the scan's facts: :data:`Compact` tuples of plain values.

Each file's tuple is packed into :mod:`marshal` bytes where it is scanned (:func:`pack`);
scan workers send lists of them on a pipe (:func:`send`, :func:`receive`), and the usage cache
stores the same bytes per file (in one :func:`dumps` body sealed with a checksum,
:mod:`depwatch.usage.cache`). Facts from a worker are trusted (:func:`facts_from_wire`);
facts read back from the cache are checked field by field (:func:`outline_from_stored`,
:func:`facts_from_stored`), and junk there is never used (:mod:`depwatch.usage.cache` says
what is done instead).

Workers import this module (for the pipe): the dataclasses of :mod:`depwatch.usage.facts` are
imported only where facts are built, in the caller.
"""

from __future__ import annotations

import marshal
from itertools import chain, compress, count, repeat
from operator import itemgetter
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from depwatch.usage.facts import FileFacts, Ref

__all__ = [
    "ROW_ORDER",
    "Compact",
    "CompactKeyword",
    "CompactRef",
    "Symbolic",
    "compact_from_stored",
    "dumps",
    "facts_from_stored",
    "facts_from_wire",
    "facts_to_wire",
    "loads",
    "outline_from_stored",
    "outline_from_wire",
    "pack",
    "receive",
    "send",
    "symbolic_from_stored",
    "unpack",
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
Symbolic = tuple[
    tuple[tuple[str, str], ...],
    tuple[int, ...],
    tuple[CompactRef, ...],
    tuple[tuple[str, str], ...],
]
"""What a file's first pass held back (:func:`depwatch.usage.scan.scan_symbolic`): the
placeholders (``$i`` → (module, name) of a project module's export), those whose value, if not
None, would have changed the walk, and the references and exports written with them."""


_KEYWORDS = itemgetter(5)
ROW_ORDER = itemgetter(2, 3, 0, 1)
"""The order of a file's rows outside a notebook: line, column, kind, name (in a notebook the
cell comes first; a placeholder is never held there)."""


def _refs(rows: tuple[CompactRef, ...]) -> tuple[Ref, ...]:
    """The references of compact rows. :class:`~depwatch.usage.facts.Ref` and
    :class:`~depwatch.usage.facts.KeywordArg` are named tuples in the rows' field order, so
    a row becomes a Ref by a copy made in C (``tuple.__new__`` mapped over the rows: no
    Python frame per reference, and a large codebase has hundreds of thousands); then the
    rows with keywords (found in C too) have those converted."""
    from depwatch.usage.facts import KeywordArg, Ref

    new = tuple.__new__
    refs = list(map(new, repeat(Ref), rows))
    for at in compress(count(), map(_KEYWORDS, rows)):
        row = rows[at]
        refs[at] = new(Ref, (*row[:5], tuple(map(new, repeat(KeywordArg), row[5])), *row[6:]))
    return tuple(refs)


def facts_from_wire(compact: Compact) -> FileFacts:
    """The facts of a :data:`Compact` tuple from a scan worker (or this process's scan)."""
    from depwatch.usage.facts import FileFacts

    path, rows, warnings, exports, imports = compact
    return FileFacts(
        path=path, refs=_refs(rows), warnings=warnings, exports=exports, imports=imports
    )


def outline_from_wire(compact: Compact) -> FileFacts:
    """The facts of a :data:`Compact` tuple but its references (``refs`` empty): what the
    scan's second pass reads (imports, exports), for a file whose references may never be
    needed (its second pass may be its answer)."""
    from depwatch.usage.facts import FileFacts

    path, _, warnings, exports, imports = compact
    return FileFacts(path=path, warnings=warnings, exports=exports, imports=imports)


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


_NONE = type(None)
#: The types each field of a :data:`CompactRef` may hold, in order.
_REF_TYPES = (
    {str},  # kind
    {str},  # name
    {int},  # line
    {int},  # column
    {str},  # code
    {tuple},  # keywords
    {int, _NONE},  # cell
    {int},  # positional
    {bool},  # star_args
    {bool},  # star_kwargs
    {tuple},  # string_args
    {tuple},  # guards
    {int},  # result_at
)
_KEYWORD_TYPES = ({str}, {int}, {int}, {str}, {int, _NONE})


def _columns(rows: Any, types: tuple[set[Any], ...]) -> tuple[tuple[Any, ...], ...]:
    """The columns of ``rows``; ValueError unless it is a tuple of tuples of ``len(types)``
    fields whose types are ``types``' (exactly: a bool is no int). Checked a column at a
    time in C (``map(type, …)`` into a set), not field by field in Python."""
    if type(rows) is not tuple:
        raise ValueError("not a tuple")
    if not rows:
        return ()
    if set(map(type, rows)) != {tuple} or set(map(len, rows)) != {len(types)}:
        raise ValueError("a row of the wrong shape")
    columns = tuple(zip(*rows, strict=True))
    for column, allowed in zip(columns, types, strict=True):
        if not set(map(type, column)) <= allowed:
            raise ValueError("a field of the wrong type")
    return columns


def _check_rows(rows: Any) -> tuple[CompactRef, ...]:
    columns = _columns(rows, _REF_TYPES)
    if columns:
        if not set(map(type, chain.from_iterable(columns[10]))) <= {int}:
            raise ValueError("not a tuple of int")
        if not set(map(type, chain.from_iterable(columns[11]))) <= {str}:
            raise ValueError("not a tuple of str")
        for kws in compress(columns[5], columns[5]):
            _columns(kws, _KEYWORD_TYPES)
    result: tuple[CompactRef, ...] = rows
    return result


def compact_from_stored(data: Any) -> Compact:
    """A :data:`Compact` tuple read back from storage, every field checked; raises
    ValueError or TypeError on anything else (a row of an older layout too)."""
    path, rows, warnings, exports, imports = data
    return (_str(path), _check_rows(rows), _strs(warnings), _pairs(exports), _pairs(imports))


def facts_from_stored(data: Any) -> FileFacts:
    """The facts of a :data:`Compact` tuple read back from storage (:func:`compact_from_stored`)."""
    return facts_from_wire(compact_from_stored(data))


def symbolic_from_stored(data: Any) -> Symbolic:
    """A :data:`Symbolic` tuple read back from storage, every field checked (each
    placeholder a reference names is one of the file's)."""
    pending, unsafe, rows, names = data
    _pairs(pending)
    if type(unsafe) is not tuple or not set(map(type, unsafe)) <= {int}:
        raise ValueError("not a tuple of int")
    _check_rows(rows)
    _pairs(names)
    for name in chain((row[1] for row in rows), (pair[1] for pair in names)):
        head = name.split(".", 1)[0]
        if head[:1] != "$" or not head[1:].isdigit() or int(head[1:]) >= len(pending):
            raise ValueError("not a placeholder of the file")
    if any(not -len(pending) <= at < len(pending) for at in unsafe):
        raise ValueError("not a placeholder of the file")
    return (pending, unsafe, rows, names)


def outline_from_stored(data: Any) -> FileFacts:
    """:func:`outline_from_wire` for a tuple read back from storage: the fields it keeps are
    checked (the references, left out, only for being a tuple: :func:`facts_from_stored`
    checks them when they are needed)."""
    from depwatch.usage.facts import FileFacts

    path, rows, warnings, exports, imports = data
    if type(rows) is not tuple:
        raise ValueError("not a tuple")
    return FileFacts(
        path=_str(path), warnings=_strs(warnings), exports=_pairs(exports), imports=_pairs(imports)
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
