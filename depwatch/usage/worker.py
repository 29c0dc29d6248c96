"""What a scan worker runs: read, prefilter and scan files, returning compact tuples.

A worker is a fresh interpreter running :func:`serve` (``python -c``), and imports this module
only, so it (and what it imports: :mod:`depwatch.usage.scan`, :mod:`depwatch.usage.resolve`)
must stay light: no dataclasses, no multiprocessing, no cache, no file discovery. Every module a
worker imports is resident memory in every worker. Requests and replies are length-prefixed
:mod:`marshal` data on the worker's stdin/stdout (:mod:`depwatch.usage.wire`).
"""

from __future__ import annotations

import ast
import os
import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from depwatch.usage.resolve import Resolver, Tracker
from depwatch.usage.scan import (
    decode_source,
    freeze_held,
    gc_paused,
    package_of,
    place_held,
    scan_compact,
    scan_symbolic,
)
from depwatch.usage.wire import dumps, pack, receive, send

if TYPE_CHECKING:
    from depwatch.usage.wire import Compact

__all__ = ["BOOT", "Kept", "Scanned", "held", "init", "scan_chunk", "serve", "take_held"]

BOOT = "import sys; sys.path[:] = {path!r}; from depwatch.usage.worker import serve; serve()"
"""A worker's ``python -c`` program (``path``: the caller's ``sys.path``)."""

_state: dict[str, Any] = {}


def init(
    modules: tuple[str, ...],
    env: tuple[str, ...],
    project: frozenset[str],
    assignments: tuple[str, ...] = (),
) -> None:
    """Set up this process to scan for ``modules``, ``env`` and ``assignments`` (the pool's
    initializer)."""
    _state["tracker"] = Tracker(modules, env, assignments)
    _state["project"] = project
    needles = {m.split(".", 1)[0] for m in modules} | set(env) | set(assignments)
    _state["needles"] = tuple(n.encode() for n in needles if n)
    _state["held"] = {}


def _import_statements(data: bytes) -> list[str]:
    """The import statements of a file, as text: its lines that start (indented or not) with
    ``import`` or ``from``, with the lines a parenthesis or backslash continues them onto.
    What they mean is for ``ast`` and the resolver to say (:func:`_project_imports`)."""
    found: list[str] = []
    lines = data.split(b"\n")
    at = 0
    while at < len(lines):
        line = lines[at].strip()
        at += 1
        if not (line.startswith(b"from ") or line.startswith(b"import ")):
            continue
        parts = [line]
        while at < len(lines) and (
            (b"(" in line and b")" not in line) or parts[-1].endswith(b"\\")
        ):
            parts.append(lines[at].strip())
            at += 1
            if b")" in parts[-1]:
                break
        try:
            found.append(b"\n".join(parts).decode("utf-8"))
        except UnicodeDecodeError:
            continue
    return found


def _project_imports(data: bytes, rel: str, project: frozenset[str]) -> tuple[tuple[str, str], ...]:
    """Project modules a file the prefilter skips imports from: its import statements,
    parsed with ``ast`` and read by the resolver as in a scanned file (the file itself is
    not parsed: it holds nothing the scan reports).

    This only decides whether the file is parsed again once the project's exports are known
    (and which project modules are imported); findings always come from a parse of the file.
    """
    resolver = Resolver(_state["tracker"], package=package_of(rel), project_modules=project)
    for text in _import_statements(data):
        try:
            tree = ast.parse(text)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            continue  # not an import statement after all (a line of a docstring, …)
        for node in tree.body:
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                resolver.stmt(node)
    return tuple(sorted(resolver.project_imports))


def _scan_file(
    item: tuple[str, str], exports: Mapping[str, Mapping[str, str]] | None
) -> tuple[Compact, bool, bool]:
    """One file: (facts, parsed?, whether its first pass held something back, kept here).
    ``exports`` given → no prefilter, nothing held back (the second pass)."""
    rel, path = item
    try:
        with open(path, "rb") as fh:  # noqa: PTH123 - pathlib is not needed in a worker
            data = fh.read()
    except OSError as exc:
        return (
            (rel, (), (f"{rel}: skipped, cannot be read ({exc.strerror})",), (), ()),
            False,
            False,
        )
    project: frozenset[str] = _state["project"]
    if exports is None and not any(n in data for n in _state["needles"]):
        return (rel, (), (), (), _project_imports(data, rel, project)), False, False
    text, notes = decode_source(data, rel)
    del data
    tracker = _state["tracker"]
    if exports is None:
        facts, kept = scan_symbolic(text, rel, tracker, project_modules=project, notes=notes)
        if kept is None:
            return facts, True, False
        _state["held"][rel] = (path, len(text), freeze_held(kept))
        return facts, True, True
    facts = scan_compact(text, rel, tracker, project_modules=project, exports=exports, notes=notes)
    return facts, True, False


Scanned = tuple[bytes, bytes, bool, bool]
"""One file scanned: its facts packed (:func:`wire.pack`), its outline packed (the facts
without references: what the second pass reads, stored apart so that reading it does not
read the references), whether it was parsed, and whether what its first pass held back is
kept by the process that scanned it (:func:`held` gives it; otherwise the file is scanned
again if its second pass is needed)."""


def scan_chunk(
    chunk: list[tuple[str, str]], exports: Mapping[str, Mapping[str, str]] | None
) -> list[Scanned]:
    """Scan (relative path, path) pairs (:data:`Scanned` each). Never raises for a file (a
    warning names it)."""
    out: list[Scanned] = []
    # The cyclic collector is paused for the whole chunk, not file by file: each file's tree
    # is freed by reference counting, and the first collection after a pause walks every
    # object allocated during it (a whole tree, once per file: 10-15% of the scan).
    with gc_paused():
        for item in chunk:
            try:
                facts, parsed, held = _scan_file(item, exports)
                path, _, warnings, exported, imports = facts
                scanned = (
                    pack(facts),
                    pack((path, (), warnings, exported, imports)),
                    parsed,
                    held,
                )
            except Exception as exc:  # a scanner bug must not stop the audit
                rel = item[0]
                # no references: the facts are their own outline
                failed = pack((rel, (), (f"{rel}: skipped, scan failed ({exc!r})",), (), ()))
                scanned = (failed, failed, True, False)
            out.append(scanned)
    return out


Kept = dict[str, tuple[str, int, bytes]]
"""What this process's first passes held back: relative path → (path, length of the text
scanned, :func:`~depwatch.usage.scan.freeze_held` bytes)."""


def take_held() -> Kept:
    """What this process's first passes held back, handed over (for an in-process scan)."""
    kept: Kept = _state.get("held", {})
    _state["held"] = {}
    return kept


def held(rels: list[str], kept: Kept | None = None) -> list[tuple[str, bytes | None]]:
    """What the first pass of each of ``rels`` held back (in ``kept``, or this process's),
    placed and packed (:data:`~depwatch.usage.wire.Symbolic`; None: not kept, or the file
    changed since)."""
    out: list[tuple[str, bytes | None]] = []
    if kept is None:
        kept = _state.get("held", {})
    for rel in rels:
        entry = kept.get(rel)
        found: bytes | None = None
        if entry is not None:
            path, size, raw = entry
            try:
                with open(path, "rb") as fh:  # noqa: PTH123 - pathlib is not needed in a worker
                    text, _ = decode_source(fh.read(), rel)
                if len(text) == size:
                    found = dumps(place_held(raw, text))
            except Exception:  # the file is scanned again instead
                found = None
        out.append((rel, found))
    return out


# --- the worker process ----------------------------------------------------------------------


def serve() -> None:
    """A worker's main loop: ``init`` arguments, then chunks to scan, until stdin closes."""
    requests, replies = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # nothing else may write into the reply pipe
    try:
        init(*receive(requests))
        while True:
            chunk, exports = receive(requests)
            if chunk is None:  # (None, paths): what their first pass held back
                send(replies, held(exports))
            else:
                send(replies, scan_chunk(chunk, exports))
    except (EOFError, BrokenPipeError, KeyboardInterrupt):
        pass
    # Every reply was flushed as it was sent and nothing else is the worker's to finish: it
    # ends at once instead of freeing what it holds (the caller waits for it).
    os._exit(0)
