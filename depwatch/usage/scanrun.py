"""Scanning a whole project: its files (:mod:`~depwatch.usage.files`), scanned in workers or
here (:mod:`~depwatch.usage.pool`), what is cached (:mod:`~depwatch.usage.cache`), in two passes.

Two passes: every file is scanned alone (a fast byte prefilter skips files that cannot
mention a tracked module or environment variable); then files that import names other project
modules bind to tracked objects (``from .clients import client``) are resolved again with
those exports. That second pass is written from what the first held back
(:mod:`~depwatch.usage.symbolic`, asked of the process that scanned the file) where it can be,
and is a scan of the file otherwise.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from depwatch.usage import cache as _cache
from depwatch.usage.facts import FileFacts
from depwatch.usage.files import SourceFile, iter_source_files
from depwatch.usage.order import components, graph, waiting_files
from depwatch.usage.pool import Init, Pool
from depwatch.usage.resolve import Tracker
from depwatch.usage.scan import gc_paused, module_name
from depwatch.usage.symbolic import written
from depwatch.usage.wire import (
    Compact,
    Symbolic,
    compact_from_stored,
    facts_from_wire,
    loads,
    outline_from_wire,
    pack,
    symbolic_from_stored,
    unpack,
)

__all__ = ["ScanResult", "resolve_callers", "scan_project"]

_CALLERS = '["callers",'
#: Rounds until the exports settle (a re-export chain needs a round per hop). Four stopped
#: short on scipy, so a cold run and the warm run after it found different references; the
#: bound only guards against a table that never settles.
_MAX_ROUNDS = 64
#: Rounds in which a file waits for the files it imports from (:func:`_waiting`); after
#: them every due file is scanned at once, as many rounds as the bound leaves.
_ORDERED_ROUNDS = 32


@dataclass(frozen=True, slots=True)
class ScanResult:
    """What :func:`scan_project` found."""

    facts: tuple[FileFacts, ...]
    """One entry per file with references or warnings, sorted by path."""
    warnings: tuple[str, ...]
    """Skipped or partly read files, one line each naming the file."""
    files_scanned: int
    """Source files considered (after skipped folders, .gitignore and ``exclude``)."""
    files_parsed: int
    """Files actually parsed in this run (0 when everything came from the cache)."""
    cache_hits: int = 0
    sources: tuple[str, ...] = ()
    """Every source file considered, relative to the root (where tests and test data are)."""
    imported: frozenset[str] = frozenset()
    """Project modules some project file imports (a module tests import is not test data)."""


# --- the whole project ---------------------------------------------------------------------


def _dotted(rel: str) -> str | None:
    mod = module_name(rel)
    return ".".join(mod) if mod else None


def _deps(facts: FileFacts, exports: Mapping[str, Mapping[str, str]]) -> list[list[str]]:
    """The exports ``facts`` depends on (what its second-pass result is keyed by)."""
    out: set[tuple[str, str, str]] = set()
    for module, name in facts.imports:
        table = exports.get(module)
        if not table:
            continue
        if name in ("", "*"):
            out.update((module, k, v) for k, v in table.items())
        elif name in table:
            out.add((module, name, table[name]))
    return [list(item) for item in sorted(out)]


def _reached(final: Mapping[str, FileFacts]) -> dict[tuple[str, str], set[str]]:
    """(module, name) → the files importing it; name ``""`` for the module itself (``from
    pkg import mod`` imports ``mod`` of ``pkg``, and maybe the module ``pkg.mod``; ``import
    pkg.mod`` binds ``pkg``, whose attributes the file may then use)."""
    out: dict[tuple[str, str], set[str]] = {}
    for rel, facts in final.items():
        for module, name in facts.imports:
            out.setdefault((module, name), set()).add(rel)
            if name not in ("", "*"):
                out.setdefault((f"{module}.{name}", ""), set()).add(rel)
            else:
                parts = module.split(".")
                for end in range(1, len(parts)):
                    out.setdefault((".".join(parts[:end]), ""), set()).add(rel)
    return out


def resolve_callers(final: dict[str, FileFacts]) -> None:
    """Settle the guards a public function's body takes from its callers in its own file
    (``["callers", name, condition]``): they hold when no other project file imports the
    name, the module itself (and so may use any of its attributes) or all its names (``*``);
    otherwise they are dropped (the evidence counts, as when in doubt)."""
    pending = [
        rel
        for rel, facts in final.items()
        if any(g.startswith(_CALLERS) for ref in facts.refs for g in ref.guards)
    ]
    if not pending:
        return
    reached = _reached(final)
    for rel in pending:
        facts = final[rel]
        module = _dotted(rel)
        refs = []
        for ref in facts.refs:
            guards: list[str] = []
            for guard in ref.guards:
                if not guard.startswith(_CALLERS):
                    guards.append(guard)
                    continue
                try:
                    _, name, condition = json.loads(guard)
                except (ValueError, TypeError, RecursionError):
                    continue
                if module is None or not isinstance(name, str):
                    continue
                if any(reached.get((module, n), set()) - {rel} for n in ("", "*", name)):
                    continue
                guards.append(json.dumps(condition, separators=(",", ":")))
            refs.append(ref._replace(guards=tuple(guards)) if guards != list(ref.guards) else ref)
        final[rel] = replace(facts, refs=tuple(refs))


def _written(
    entry: dict[str, Any],
    fresh: bool,
    exports: Mapping[str, Mapping[str, str]],
    reportable: Callable[[str], bool],
) -> Compact | None:
    """A file's second-pass facts written from its first pass (:mod:`.symbolic`), or None
    when it must be scanned again (nothing held back, or what was does not check out)."""
    held_bytes = entry.get("held")
    if type(held_bytes) is not bytes:
        return None
    try:
        held: Symbolic
        if fresh:
            compact, held = unpack(entry["facts"]), loads(held_bytes)
        else:
            compact = compact_from_stored(_cache.stored(entry, "facts"))
            held = symbolic_from_stored(_cache.stored(entry, "held"))
    except (KeyError, TypeError, ValueError):
        return None
    return written(compact, held, exports, reportable)


class _Junk(Exception):
    """A cached entry's references did not check out."""


def _scan(
    files: Sequence[SourceFile], old: dict[str, Any], init: Init, pool: Pool
) -> tuple[dict[str, FileFacts], int, int, dict[str, Any], bool]:
    """Both passes over ``files`` with the cache entries ``old``: every file's final facts,
    how many files were parsed, how many cache hits, the entries to keep, and whether a
    kept second pass was dropped.

    A first pass is held as an outline (its imports and exports, no references; packed and
    stored apart from the facts): its references are read and built only if it is the
    file's answer (no second pass supersedes it). Raises :class:`_Junk` when such a cached
    answer does not check out."""
    new: dict[str, Any] = {}
    first: dict[str, FileFacts] = {}
    #: Files whose first pass was scanned in this run (its packed bytes are trusted).
    fresh: set[str] = set()
    #: Of those, the files whose first pass held something back (in the process that
    #: scanned it: asked for, once, only for the files that need a second pass).
    kept: set[str] = set()
    todo: list[SourceFile] = []
    hits = 0
    # The facts of every file are built here and all live to the end: the cyclic collector
    # would only walk them again and again (none of them is in a cycle).
    with gc_paused():
        for f in files:
            entry = old.get(f.rel)
            if (
                isinstance(entry, dict)
                and entry.get("size") == f.size
                and entry.get("mtime") == f.mtime
            ):
                cached = _cache.cached_outline(entry, "outline")
                if cached is not None:
                    first[f.rel] = cached
                    new[f.rel] = entry
                    hits += 1
                    continue
            todo.append(f)
    parsed = 0
    by_rel = {f.rel: f for f in files}
    if todo:
        scanned = pool.scan(todo, None, init)
        with gc_paused():
            for packed, outline, did_parse, held in scanned:
                parsed += did_parse
                facts = outline_from_wire(unpack(outline))
                first[facts.path] = facts
                fresh.add(facts.path)
                f = by_rel[facts.path]
                new[f.rel] = {
                    "size": f.size,
                    "mtime": f.mtime,
                    "facts": packed,
                    "outline": outline,
                }
                if held:
                    kept.add(f.rel)
    # second pass: names imported from project modules that bind tracked objects
    final = dict(first)
    dotted = {rel: _dotted(rel) for rel in first}
    exports: dict[str, dict[str, str]] = {}
    for rel, facts in first.items():
        name = dotted[rel]
        if not name:
            continue
        # a cached second-pass result (of an unchanged file) seeds the table: a stale seed
        # changes some file's dependencies, which are then scanned again
        second = new.get(rel, {}).get("second") if rel in new else None
        seeded = None
        if isinstance(second, dict):
            seeded = _cache.cached_outline(second, "outline")
        table = (seeded or facts).exports
        if table:
            exports[name] = dict(table)
    done_deps: dict[str, str] = {}
    dropped = False
    reportable = Tracker(init[0], init[1], init[3]).reportable
    upstream, readers, owners = graph(first, dotted)
    component = components(upstream)
    # Each round looks again only at the files whose dependencies may have changed: at
    # first every file importing from the project; then the readers of the modules whose
    # exports changed, and the files that waited.
    check = {rel for rel, facts in first.items() if facts.imports}
    due: dict[str, str] = {}
    for round_at in range(_MAX_ROUNDS):
        touched: set[str] = set()
        for rel, facts in first.items():
            if rel not in check:
                continue
            deps = _deps(facts, exports)
            if not deps:
                # Nothing it imports binds a tracked object (any more): its first pass is
                # the whole answer, and a second-pass result kept from an earlier round or
                # run is stale.
                done_deps.pop(rel, None)
                due.pop(rel, None)
                if final[rel] is not facts:
                    final[rel] = facts
                    touched.add(rel)
                entry = new.get(rel)
                if isinstance(entry, dict) and entry.pop("second", None) is not None:
                    dropped = True
                continue
            deps_key = json.dumps(deps)
            if done_deps.get(rel) == deps_key:
                due.pop(rel, None)
                continue
            entry = new.get(rel, {})
            second = entry.get("second") if isinstance(entry, dict) else None
            if isinstance(second, dict) and second.get("deps") == deps_key:
                cached = _cache.cached_facts(second, "facts")
                if cached is not None:
                    done_deps[rel] = deps_key
                    due.pop(rel, None)
                    final[rel] = cached
                    touched.add(rel)
                    continue
            due[rel] = deps_key
        # For the first rounds, a file waits while a file it imports from is still to be
        # scanned again; then every due file is scanned at once.
        waiting = (
            waiting_files(due, upstream, readers, component)
            if round_at < _ORDERED_ROUNDS
            else set()
        )
        again: list[SourceFile] = []
        ready = [rel for rel in due if rel not in waiting]
        # asked for every due file at once (those waiting too): one answer per worker
        wanted = [rel for rel in due if rel in kept]
        kept.difference_update(wanted)
        if wanted:
            for rel, data in pool.held(wanted).items():
                new[rel]["held"] = data
        for rel in ready:
            done_deps[rel] = due.pop(rel)
            compact = _written(new[rel], rel in fresh, exports, reportable)
            if compact is None:
                again.append(by_rel[rel])
                continue
            path, _, warnings, exported, imports = compact
            final[rel] = facts_from_wire(compact)
            touched.add(rel)
            new[rel]["second"] = {
                "deps": done_deps[rel],
                "facts": pack(compact),
                "outline": pack((path, (), warnings, exported, imports)),
            }
        if again:
            scanned = pool.scan(again, exports, init)
            with gc_paused():
                for packed, outline, did_parse, _ in scanned:
                    parsed += did_parse
                    facts = facts_from_wire(unpack(packed))
                    final[facts.path] = facts
                    touched.add(facts.path)
                    new[facts.path]["second"] = {
                        "deps": done_deps[facts.path],
                        "facts": packed,
                        "outline": outline,
                    }
        # Every module's exports as its files' final facts give them (the last file of a
        # name wins), so that a table seeded from the cache but no longer true (an export
        # removed upstream) is corrected too: at first every module, then those of the
        # files whose final facts changed.
        changed: set[str] = set()
        for name in {dotted[rel] for rel in (final if round_at == 0 else touched)}:
            if name is None:
                continue
            current = dict(final[owners[name][-1]].exports)
            if exports.get(name, {}) != current:
                if current:
                    exports[name] = current
                else:
                    exports.pop(name, None)
                changed.add(name)
        if not changed and not waiting:
            break
        check = set(due)
        for name in changed:
            for owner in owners[name]:
                check |= readers.get(owner, set())
    # What a first pass held back is kept (in memory and in the cache) only for the files
    # that needed a second pass: the others' would be read again only if an export they
    # import gained a value (they are then scanned again). Most files have no second pass.
    for entry in new.values():
        if "held" in entry and "second" not in entry:
            del entry["held"]
    # The files whose first pass is their answer: their references, built now.
    with gc_paused():
        for rel, facts in final.items():
            if facts is not first[rel]:
                continue
            packed = new[rel]["facts"]
            if rel in fresh:
                final[rel] = facts_from_wire(unpack(packed))
                continue
            cached = _cache.cached_facts(new[rel], "facts")
            if cached is None:
                raise _Junk(rel)
            final[rel] = cached
    return final, parsed, hits, new, dropped


def scan_project(
    root: Path,
    modules: Iterable[str],
    env: Iterable[str] = (),
    *,
    exclude: Sequence[str] = (),
    cache: bool = True,
    jobs: int | None = None,
    assignments: Iterable[str] = (),
    pool: Pool | None = None,
) -> ScanResult:
    """Scan the project's ``*.py`` and ``*.ipynb`` files under ``root`` for references.

    ``jobs`` worker processes (None: one per CPU, at most 8) scan them when there is enough
    source; ``pool`` says how instead (``jobs`` is then ignored).

    Never raises for the project's content: unreadable, undecodable or invalid files are
    skipped (or partly read) with a warning naming them.
    """
    root = Path(root)
    if pool is None:
        pool = Pool(jobs)
    mods = tuple(sorted({m.strip() for m in modules if m and m.strip()}))
    envs = tuple(sorted({e for e in env if e}))
    names = tuple(sorted({a for a in assignments if a}))
    files, notes = iter_source_files(root, exclude)
    project = frozenset(d for d in (_dotted(f.rel) for f in files) if d)
    # top-level packages too: `import myproj` then `myproj.clients.client`
    project = project | {d.split(".", 1)[0] for d in project if "." in d}
    init = (mods, envs, project, names)
    key = _cache.cache_key(mods, envs, names)
    where = _cache.cache_file(root, key) if cache else None
    old = _cache.load(where, key)
    try:
        try:
            final, parsed, hits, new, dropped = _scan(files, old, init, pool)
        except _Junk:
            # A cache entry's references did not check out when they were needed (the file
            # is sealed with a checksum, so only a hand-made one does): the cache is not used.
            old = {}
            final, parsed, hits, new, dropped = _scan(files, old, init, pool)
    finally:
        pool.close()
    if where is not None and (parsed or dropped or set(new) != set(old)):
        _cache.save(where, key, root, new)
    resolve_callers(final)
    kept = tuple(final[f.rel] for f in files if final[f.rel].refs or final[f.rel].warnings)
    warnings = list(notes)
    for facts in kept:
        warnings.extend(facts.warnings)
    imported: set[str] = set()
    for facts in final.values():
        for module, name in facts.imports:
            imported.add(module)
            if name not in ("", "*"):
                imported.add(f"{module}.{name}")
    return ScanResult(
        facts=kept,
        warnings=tuple(warnings),
        files_scanned=len(files),
        files_parsed=parsed,
        cache_hits=hits,
        sources=tuple(f.rel for f in files),
        imported=frozenset(imported),
    )
