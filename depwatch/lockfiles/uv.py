"""uv lockfiles (``uv.lock``): every revision, workspaces, forks and all source kinds."""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from depwatch.files import display_path
from depwatch.lockfiles import names
from depwatch.lockfiles.base import (
    TOML_ENTRY,
    EntryLines,
    LockContents,
    any_of,
    entry_error,
    entry_of,
    load_toml_lock,
    name_of,
    tables_of,
    version_of,
)
from depwatch.model import LockFormat, Package, SourceKind

if TYPE_CHECKING:
    from packaging.version import Version

__all__ = ["FORMAT", "matches", "read"]

FORMAT = LockFormat.UV

#: The highest ``version`` of the uv.lock schema this reader knows.
_KNOWN_VERSION = 1

#: Names uv writes are already PEP 503-normalised; only others need ``packaging``.
_NORMALISED = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*\Z")
#: uv's source table keys, mapped to depwatch's source kinds (``directory`` may become
#: ``workspace`` for a workspace member).
_SOURCE_KINDS = {
    "registry": SourceKind.REGISTRY,
    "git": SourceKind.GIT,
    "url": SourceKind.URL,
    "direct": SourceKind.URL,
    "path": SourceKind.PATH,
    "directory": SourceKind.DIRECTORY,
    "editable": SourceKind.EDITABLE,
    "virtual": SourceKind.VIRTUAL,
}
_ROOT_KINDS = frozenset({SourceKind.EDITABLE, SourceKind.VIRTUAL, SourceKind.DIRECTORY})

_Edge = tuple[str, str | None, str | None, tuple[str, ...]]
"""A dependency edge: target name, target version (forks only), marker, extras."""
_Node = tuple[str, str | None]
"""One locked entry: name and version (a name locked at several versions is several nodes)."""


def matches(path: Path) -> bool:
    """Whether ``path`` names a lockfile of this format (see :mod:`.names`)."""
    return names.uv(path)


def read(path: Path) -> LockContents:
    """Read a uv.lock: one Package per ``[[package]]`` entry, roots and groups derived."""
    shown = display_path(path)
    lock = load_toml_lock(
        path,
        shown,
        kind="uv lockfile",
        keys=("version", "package", "distribution"),
        needs="a lock version nor [[package]]",
        hint="run `uv lock` to write it",
    )
    return _UvReader(shown, lock.data, lock.text).read()


class _UvReader:
    """One pass over the parsed lock; errors name the file and the key."""

    def __init__(self, shown: str, data: dict[str, Any], text: str) -> None:
        self.shown = shown
        self.data = data
        self.warnings: list[str] = []
        self.table = (
            "distribution" if "distribution" in data and "package" not in data else "package"
        )
        self.fail = entry_error(text, shown, self.table)
        self.text = text

    def read(self) -> LockContents:
        data = self.data
        self._check_header()
        requires_python = data.get("requires-python")
        if requires_python is not None and not isinstance(requires_python, str):
            raise self.fail("'requires-python' must be a string", "requires-python")
        entries = tables_of(data, self.table, self.fail)
        members = self._members()

        rows: list[tuple[str, str | None, SourceKind, list[str] | None]] = []
        parsed: dict[str, Version] = {}
        index_of: dict[tuple[str, str | None], str] = {}
        deps: dict[_Node, list[_Edge]] = {}
        optional: dict[_Node, dict[str, list[_Edge]]] = {}
        dev: dict[_Node, dict[str, list[_Edge]]] = {}
        roots: list[_Node] = []
        for index, item in enumerate(entries):
            key = f"{self.table}[{index}]"
            entry = entry_of(item, key, self.fail, index)
            name = self._normalise(name_of(entry, key, self.fail, index))
            pinned = version_of(entry, name, key, self.fail, index, lock="uv.lock")
            version = None
            if pinned is not None:
                version = pinned[0]
                parsed[version] = pinned[1]
            kind, location = self._source(entry, name, key, index)
            node = (name, version)
            if name in members:
                roots.append(node)
                if kind is SourceKind.DIRECTORY:
                    kind = SourceKind.WORKSPACE
            elif kind in _ROOT_KINDS and location == ".":
                roots.append(node)
            field = "resolution-markers" if "resolution-markers" in entry else "environment-markers"
            forks = entry.get(field)  # uv 0.4 called them environment-markers
            if forks is not None and not (
                isinstance(forks, list) and all(isinstance(m, str) for m in forks)
            ):
                raise self.fail(f"'{field}' must be a list of strings", f"{key}.{field}", index)
            rows.append((name, version, kind, forks))
            if kind is SourceKind.REGISTRY and location:
                index_of[(name, version)] = location
            edges = self._edges(entry.get("dependencies"), f"{key}.dependencies", index)
            if edges:
                deps.setdefault(node, []).extend(edges)
            for table_name, into in (
                ("optional-dependencies", optional),
                ("dev-dependencies", dev),
            ):
                table = entry.get(table_name)
                if table is None:
                    continue
                if not isinstance(table, dict):
                    raise self.fail(f"'{table_name}' must be a table", f"{key}.{table_name}", index)
                groups = into.setdefault(node, {})
                for group, items in table.items():
                    groups.setdefault(group, []).extend(
                        self._edges(items, f"{key}.{table_name}.{group}", index)
                    )

        graph = _Graph(rows, deps, optional, dev)
        markers, reached = _incoming_markers(roots, graph)
        groups_of, direct_names = _root_groups(roots, graph)
        know_direct = bool(roots)
        lines = EntryLines(self.text, TOML_ENTRY)
        packages: list[Package] = []
        for name, version, kind, forks in rows:
            node = (name, version)
            # Where a root reaches it, the paths say where it is installed (a fork's own
            # resolution markers included); elsewhere its forks, if any, do.
            marker = markers.get(node)
            if node not in reached and forks:
                marker = any_of(forks)
            packages.append(
                Package(
                    name=name,
                    version=version,
                    parsed_version=None if version is None else parsed.get(version),
                    source=kind,
                    markers=marker,
                    groups=groups_of.get(node, ()),
                    direct=(name in direct_names) if know_direct else None,
                    index=index_of.get(node),
                    line=lines.locate(name, version),
                )
            )
        supported = data.get("supported-markers")
        return LockContents(
            packages=tuple(packages),
            requires_python=requires_python,
            warnings=tuple(self.warnings),
            environments=tuple(supported)
            if isinstance(supported, list) and all(isinstance(m, str) for m in supported)
            else (),
        )

    def _check_header(self) -> None:
        version = self.data.get("version")
        if version is None:
            self.warnings.append("no lock 'version' key; read as uv.lock version 1")
        elif not isinstance(version, int) or isinstance(version, bool):
            raise self.fail(f"'version' must be an integer, not {version!r}", "version")
        elif version > _KNOWN_VERSION:
            self.warnings.append(
                f"uv.lock version {version} is newer than this depwatch knows "
                f"({_KNOWN_VERSION}); read as version {_KNOWN_VERSION}"
            )
        revision = self.data.get("revision")
        if revision is not None and (not isinstance(revision, int) or isinstance(revision, bool)):
            raise self.fail(f"'revision' must be an integer, not {revision!r}", "revision")

    def _members(self) -> frozenset[str]:
        manifest = self.data.get("manifest")
        if manifest is None:
            return frozenset()
        if not isinstance(manifest, dict):
            raise self.fail("'manifest' must be a table", "manifest")
        members = manifest.get("members", [])
        if not isinstance(members, list) or not all(isinstance(m, str) for m in members):
            raise self.fail("'manifest.members' must be a list of names", "manifest.members")
        return frozenset(self._normalise(m) for m in members)

    def _normalise(self, name: str) -> str:
        if _NORMALISED.match(name):
            return name
        from packaging.utils import canonicalize_name

        normal = str(canonicalize_name(name))
        self.warnings.append(f"name {name!r} is not normalised; read as {normal!r}")
        return normal

    def _source(
        self, entry: dict[str, Any], name: str, key: str, index: int
    ) -> tuple[SourceKind, str | None]:
        source = entry.get("source")
        if source is None:
            self.warnings.append(f"package '{name}' has no source; read as a registry package")
            return SourceKind.REGISTRY, None
        if isinstance(source, str):  # uv's first lock format: "registry+https://…"
            raw, _, location = source.partition("+")
            kind = _SOURCE_KINDS.get(raw)
            if kind is None:
                raise self.fail(
                    f"package '{name}' has an unknown source {source!r}", f"{key}.source", index
                )
            return kind, location
        if not isinstance(source, dict) or not source:
            raise self.fail(
                f"package '{name}' has a malformed source: {source!r}", f"{key}.source", index
            )
        for raw, value in source.items():
            kind = _SOURCE_KINDS.get(raw)
            if kind is not None:
                return kind, value if isinstance(value, str) else None
        raise self.fail(
            f"package '{name}' has an unknown source kind {next(iter(source))!r}",
            f"{key}.source",
            index,
        )

    def _edges(self, items: Any, key: str, index: int) -> list[_Edge]:
        if items is None:
            return []
        if not isinstance(items, list):
            raise self.fail("dependencies must be an array of tables", key, index)
        edges: list[_Edge] = []
        for number, item in enumerate(items):
            if not isinstance(item, dict) or not isinstance(item.get("name"), str):
                raise self.fail(
                    "a dependency must be a table with a 'name'", f"{key}[{number}]", index
                )
            version = item.get("version")
            marker = item.get("marker")
            extras = item.get("extra")
            if extras is not None and not isinstance(extras, (str, list)):
                raise self.fail(
                    "a dependency's 'extra' must be a list", f"{key}[{number}].extra", index
                )
            edges.append(
                (
                    self._normalise(item["name"]),
                    version if isinstance(version, str) else None,
                    marker if isinstance(marker, str) else None,
                    (extras,)
                    if isinstance(extras, str)
                    else tuple(e for e in extras or () if isinstance(e, str)),
                )
            )
        return edges


_MAX_TERMS = 64
"""Past this many alternative paths a package's marker is left unrestricted (conservative)."""
_ALWAYS: frozenset[str] = frozenset()


def _absorb(terms: set[frozenset[str]], new: set[frozenset[str]]) -> bool:
    """Add ``new`` conjunctions to ``terms`` (a disjunction); True when it grew."""
    grew = False
    for term in new:
        if _ALWAYS in terms:
            return grew
        if any(known <= term for known in terms):
            continue  # already implied by a weaker condition
        terms.difference_update({known for known in terms if term <= known})
        terms.add(term)
        grew = True
    if len(terms) > _MAX_TERMS:
        terms.clear()
        terms.add(_ALWAYS)
    return grew


class _Graph:
    """The lock's dependency graph over locked entries (name, version)."""

    def __init__(
        self,
        rows: Iterable[tuple[str, str | None, SourceKind, list[str] | None]],
        deps: dict[_Node, list[_Edge]],
        optional: dict[_Node, dict[str, list[_Edge]]],
        dev: dict[_Node, dict[str, list[_Edge]]],
    ) -> None:
        self.deps, self.optional, self.dev = deps, optional, dev
        self.versions: dict[str, list[str | None]] = {}
        self.forks: dict[_Node, str] = {}
        for name, version, _, forks in rows:
            self.versions.setdefault(name, []).append(version)
            fork = any_of(forks or ())
            if fork is not None:
                self.forks[(name, version)] = fork
        self.out: dict[_Node, list[_Edge]] = {}
        for parent, edges in deps.items():
            self.out.setdefault(parent, []).extend(edges)
        for table in (optional, dev):
            for parent, groups in table.items():
                for edges in groups.values():
                    self.out.setdefault(parent, []).extend(edges)

    def targets(self, edge: _Edge) -> list[_Node]:
        """The entries an edge leads to: the version it names (uv names one where a name is
        locked at several), else every version of the name."""
        name, version = edge[0], edge[1]
        if version is not None:
            return [(name, version)]
        return [(name, known) for known in self.versions.get(name, [None])]


def _incoming_markers(roots: list[_Node], graph: _Graph) -> tuple[dict[_Node, str], set[_Node]]:
    """Per entry: where it is installed, from the roots' dependency paths; and which entries a
    root reaches at all.

    An entry's marker is the "or" over every path from a root of the "and" of the edge
    markers along it and the resolution markers of the forked entries it passes (what ``uv
    export`` writes). Without a root, the dependents' own markers stand in, where every
    incoming edge has one.
    """
    if not roots:
        return _direct_markers(graph), set()
    by_node: dict[_Node, set[frozenset[str]]] = {root: {_ALWAYS} for root in roots}
    pending = list(roots)
    budget = 200_000  # visits; a pathological graph keeps what it has (unrestricted)
    while pending and budget:
        budget -= 1
        parent = pending.pop()
        conditions = by_node.get(parent, set())
        for edge in graph.out.get(parent, ()):
            marker = edge[2]
            for target in graph.targets(edge):
                # uv writes an edge to one version of a forked package with the marker of
                # that fork; only an edge without one needs the fork's own markers (which are
                # long: adding them everywhere made markers three times as long to evaluate).
                added = {marker} if marker else set()
                fork = graph.forks.get(target)
                if fork and not marker:
                    added.add(fork)
                reach = {term | added for term in conditions}
                if _absorb(by_node.setdefault(target, set()), reach):
                    pending.append(target)
    result: dict[_Node, str] = {}
    for target, terms in by_node.items():
        if terms and _ALWAYS not in terms and budget:
            ands = sorted(_all_of(term) for term in terms)
            result[target] = (
                ands[0]
                if len(ands) == 1
                else " or ".join(f"({a})" if " or " in a or " and " in a else a for a in ands)
            )
    return result, set(by_node)


def _all_of(term: frozenset[str]) -> str:
    if len(term) == 1:
        return next(iter(term))
    return " and ".join(f"({m})" if " or " in m else m for m in sorted(term))


def _direct_markers(graph: _Graph) -> dict[_Node, str]:
    """Per entry: the dependents' markers, where every incoming edge has one."""
    seen: dict[_Node, list[str] | None] = {}
    for edges in graph.out.values():
        for edge in edges:
            marker = edge[2]
            for target in graph.targets(edge):
                if marker is None:
                    seen[target] = None
                else:
                    known = seen.setdefault(target, [])
                    if known is not None:
                        known.append(marker)
    result: dict[_Node, str] = {}
    for target, found in seen.items():
        if found:
            combined = any_of(found)
            if combined is not None:
                result[target] = combined
    return result


def _root_groups(
    roots: list[_Node], graph: _Graph
) -> tuple[dict[_Node, tuple[str, ...]], set[str]]:
    """The root groups (main, extras, dependency groups) each entry is reachable from, and the
    names the roots depend on directly (the project's own entries are neither)."""
    starts: dict[str, list[_Edge]] = {}
    for root in dict.fromkeys(roots):
        starts.setdefault("main", []).extend(graph.deps.get(root, ()))
        for table in (graph.optional, graph.dev):
            for group, edges in table.get(root, {}).items():
                starts.setdefault(group, []).extend(edges)
    own = set(roots)
    own_names = {name for name, _ in roots}
    direct = {edge[0] for edges in starts.values() for edge in edges} - own_names
    groups_of: dict[_Node, list[str]] = {}
    for group, edges in starts.items():
        stack = list(edges)
        visited: set[tuple[_Node, str | None]] = set()
        while stack:
            edge = stack.pop()
            for target in graph.targets(edge):
                if (target, None) not in visited:
                    visited.add((target, None))
                    if target not in own:
                        groups_of.setdefault(target, []).append(group)
                    stack.extend(graph.deps.get(target, ()))
                for extra in edge[3]:
                    if (target, extra) not in visited:
                        visited.add((target, extra))
                        stack.extend(graph.optional.get(target, {}).get(extra, ()))
    return {node: tuple(found) for node, found in groups_of.items()}, direct
