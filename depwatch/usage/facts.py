"""What the usage scan extracts from one file: references with their places, and nothing else.

Facts are plain data (no verdicts): a rule change never makes them stale, so they may be cached
(:mod:`depwatch.usage.wire` is how they travel and are stored).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

__all__ = [
    "KIND_ASSIGN",
    "KIND_CALL",
    "KIND_ENV",
    "KIND_IMPORT",
    "KIND_REF",
    "FileFacts",
    "KeywordArg",
    "Ref",
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


class KeywordArg(NamedTuple):
    """A keyword argument passed to a call, with its own place (evidence points at it).

    A named tuple, as :class:`Ref` is: the fields in the order of the scan's compact tuples."""

    name: str
    line: int
    column: int
    code: str
    cell: int | None = None


class Ref(NamedTuple):
    """One reference into a tracked module (or one environment read).

    A named tuple whose fields are in the order of the scan's compact tuples
    (:data:`~depwatch.usage.wire.CompactRef`): a large codebase has hundreds of thousands,
    and building one is then a tuple copy, not thirteen attribute stores.

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
