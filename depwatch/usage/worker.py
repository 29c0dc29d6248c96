"""What a scan worker runs: read, prefilter and scan files, returning compact tuples.

A worker is a fresh interpreter running :func:`serve` (``python -c``), and imports this module
only, so it (and what it imports: :mod:`depwatch.usage.scan`, :mod:`depwatch.usage.resolve`)
must stay light: no dataclasses, no multiprocessing, no cache, no file discovery. Every module a
worker imports is resident memory in every worker. Requests and replies are length-prefixed
:mod:`marshal` data on the worker's stdin/stdout (:mod:`depwatch.usage.wire`).
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from depwatch.usage.resolve import Tracker
from depwatch.usage.scan import decode_source, gc_paused, package_of, scan_compact
from depwatch.usage.wire import receive, send

if TYPE_CHECKING:
    from depwatch.usage.wire import Compact

__all__ = ["BOOT", "init", "scan_chunk", "serve"]

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


def _import_tokens(data: bytes, rel: str, project: frozenset[str]) -> tuple[tuple[str, str], ...]:
    """Project modules a skipped file may import from, found by a cheap look at its lines.

    This only decides whether the file is parsed again once the project's exports are known;
    findings always come from the parse.
    """
    package = package_of(rel)
    found: set[tuple[str, str]] = set()
    for raw in data.split(b"\n"):
        line = raw.strip()
        if not (line.startswith(b"from ") or line.startswith(b"import ")):
            continue
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError:
            continue
        words = text.split()
        if words[0] == "import":
            for part in " ".join(words[1:]).split(","):
                name = part.split(" as ")[0].strip()
                if name in project:
                    found.add((name, ""))
            continue
        if len(words) < 3 or words[2] != "import":
            continue
        base = words[1]
        if base.startswith("."):
            level = len(base) - len(base.lstrip("."))
            if package is None or level - 1 > len(package):
                continue
            parts = list(package[: len(package) - (level - 1)])
            if base.lstrip("."):
                parts.extend(base.lstrip(".").split("."))
            base = ".".join(parts)
        if base not in project:
            continue
        names = " ".join(words[3:]).strip("()\\ ")
        for part in names.split(","):
            name = part.split(" as ")[0].strip(" ()\\")
            if name:
                found.add((base, name if name.isidentifier() or name == "*" else ""))
        if not names:
            found.add((base, ""))
    return tuple(sorted(found))


def _scan_file(
    item: tuple[str, str], exports: Mapping[str, Mapping[str, str]] | None
) -> tuple[Compact, bool]:
    """One file: (facts, parsed?). ``exports`` given → no prefilter (the second pass)."""
    rel, path = item
    try:
        with open(path, "rb") as fh:  # noqa: PTH123 - pathlib is not needed in a worker
            data = fh.read()
    except OSError as exc:
        return (rel, (), (f"{rel}: skipped, cannot be read ({exc.strerror})",), (), ()), False
    project: frozenset[str] = _state["project"]
    if exports is None and not any(n in data for n in _state["needles"]):
        return (rel, (), (), (), _import_tokens(data, rel, project)), False
    text, notes = decode_source(data, rel)
    del data
    facts = scan_compact(
        text, rel, _state["tracker"], project_modules=project, exports=exports, notes=notes
    )
    return facts, True


def scan_chunk(
    chunk: list[tuple[str, str]], exports: Mapping[str, Mapping[str, str]] | None
) -> list[tuple[Compact, bool]]:
    """Scan (relative path, path) pairs; never raises for a file (a warning names it)."""
    out: list[tuple[Compact, bool]] = []
    # The cyclic collector is paused for the whole chunk, not file by file: each file's tree
    # is freed by reference counting, and the first collection after a pause walks every
    # object allocated during it (a whole tree, once per file: 10-15% of the scan).
    with gc_paused():
        for item in chunk:
            try:
                out.append(_scan_file(item, exports))
            except Exception as exc:  # a scanner bug must not stop the audit
                rel = item[0]
                out.append(((rel, (), (f"{rel}: skipped, scan failed ({exc!r})",), (), ()), True))
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
            send(replies, scan_chunk(chunk, exports))
    except (EOFError, BrokenPipeError, KeyboardInterrupt):
        return
