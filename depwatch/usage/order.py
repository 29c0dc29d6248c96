"""The order of the usage scan's second pass: which files import from which, their import
cycles, and which files due to be scanned again wait for a later round
(:mod:`~depwatch.usage.scanrun` drives the rounds)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from depwatch.usage.facts import FileFacts

__all__ = ["components", "graph", "waiting_files"]


def graph(
    first: Mapping[str, FileFacts], dotted: Mapping[str, str | None]
) -> tuple[dict[str, set[str]], dict[str, set[str]], dict[str, list[str]]]:
    """Between the project's files (``dotted``: each file's module name): the files each file
    imports exports from (its upstream), the files importing each file's module (its
    readers), and the files of each module name (in ``first``'s order)."""
    owners: dict[str, list[str]] = {}
    for rel in first:
        name = dotted.get(rel)
        if name:
            owners.setdefault(name, []).append(rel)
    upstream: dict[str, set[str]] = {}
    readers: dict[str, set[str]] = {}
    for rel, facts in first.items():
        for module, _ in facts.imports:
            for owner in owners.get(module, ()):
                upstream.setdefault(rel, set()).add(owner)
                readers.setdefault(owner, set()).add(rel)
    return upstream, readers, owners


def components(upstream: Mapping[str, set[str]]) -> dict[str, int]:
    """Each file's strongly connected component of the import graph (files importing from
    each other, directly or around a cycle, share one): Tarjan's algorithm, iteratively."""
    component: dict[str, int] = {}
    count = 0
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    for root in upstream:
        if root in index:
            continue
        work = [(root, iter(upstream.get(root, ())))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, edges = work[-1]
            for nxt in edges:
                if nxt not in index:
                    index[nxt] = low[nxt] = len(index)
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(upstream.get(nxt, ()))))
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == index[node]:
                    number = count
                    count += 1
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component[member] = number
                        if member == node:
                            break
    return component


def waiting_files(
    due: Iterable[str],
    upstream: Mapping[str, set[str]],
    readers: Mapping[str, set[str]],
    component: Mapping[str, int],
) -> set[str]:
    """Of the files ``due`` to be scanned again, those that should wait for a later round:
    some file they import from, outside their own import cycle, is due too or waits on one
    that is (its exports may still change, and this file's dependencies with them); inside
    a cycle, the due files with the fewest due files of the cycle to import from go first.
    Scanning upstream files first scans a re-export chain's files once each instead of once
    per hop. When every due file would wait, none does."""
    pending = set(due)
    if len(pending) < 2:
        return set()
    # every file downstream of a due file may still change
    moving = set(pending)
    stack = list(pending)
    while stack:
        for reader in readers.get(stack.pop(), ()):
            if reader not in moving:
                moving.add(reader)
                stack.append(reader)
    waiting: set[str] = set()
    # within a cycle: the due files whose due upstream files (in the cycle) are fewest go
    # first, the others wait for their exports (a cycle's files are scanned about once each
    # instead of all of them every round until the cycle settles)
    inside: dict[int, list[tuple[int, str]]] = {}
    for rel in pending:
        home = component.get(rel)
        ahead = 0
        for u in upstream.get(rel, ()):
            if u == rel or u not in moving:
                continue
            if component.get(u) != home:
                waiting.add(rel)
                break
            if u in pending:
                ahead += 1
        else:
            if home is not None:
                inside.setdefault(home, []).append((ahead, rel))
    for members in inside.values():
        least = min(ahead for ahead, _ in members)
        waiting.update(rel for ahead, rel in members if ahead > least)
    return set() if waiting == pending else waiting
