"""A file's second pass written from its first, without parsing it again.

The first pass walks each file before any project module's exports are known, so a name
imported from another project file (``from ._util import asarray``) stands for an unknown
value. The resolver holds such a name as a placeholder (``$3``, see
:meth:`depwatch.usage.resolve.Resolver.held`) that flows as a tracked name would, and the
references and exports it reaches are kept apart (:data:`~depwatch.usage.wire.Symbolic`).
With the exports known, :func:`written` puts each placeholder's value in (``$3.ravel`` →
``numpy.ravel``), drops what a placeholder without a value reached, and gives the facts a scan
with those exports would have found: what made the second pass parse a large numeric
codebase's files twice.

It is exact or it declines. Where the walk's course (not only a name) depended on a placeholder's
value, the resolver took one course and recorded when it would have been wrong: mostly the course
of None (a base class, a binding inside a branch, ``from .mod import *``, a decorator whose
function or class is then used), which is wrong if the placeholder has a value; for a parameter
annotated with one, the course of a class, wrong if its value is not spelt as one. When such a
condition holds, or two references would meet at one place, :func:`written` returns None and the
file is scanned again. ``tests/usage/test_symbolic.py`` checks this against a real scan for every
table of values over sources that reach each of those places.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from operator import itemgetter
from typing import TYPE_CHECKING

from depwatch.usage.tracker import spelt_as_class
from depwatch.usage.wire import ROW_ORDER

if TYPE_CHECKING:
    from depwatch.usage.wire import Compact, CompactRef, Symbolic

__all__ = ["placeholder", "split", "written"]

_PLACE = itemgetter(0, 1, 2, 3)


def placeholder(index: int) -> str:
    """The name of a file's placeholder ``index`` (``$3``)."""
    return f"${index}"


def split(name: str) -> tuple[int, str]:
    """A name that starts with a placeholder (``$3.ravel``): the placeholder's index, and what
    follows it (``.ravel``; empty for the placeholder alone)."""
    cut = name.find(".")
    if cut < 0:
        return int(name[1:]), ""
    return int(name[1:cut]), name[cut:]


def written(
    compact: Compact,
    held: Symbolic,
    exports: Mapping[str, Mapping[str, str]],
    reportable: Callable[[str], bool],
) -> Compact | None:
    """The facts of a file scanned with ``exports`` known, from its first pass ``compact``
    and what that pass held back; None when they cannot be written so (scan it again)."""
    pending, unsafe, rows, names = held
    values: list[str | None] = []
    for module, name in pending:
        table = exports.get(module)
        if name == "*":  # `from module import *`: binds whatever the module exports
            values.append("*" if table else None)
        else:
            values.append(table.get(name) if table else None)
    for at in unsafe:
        if at >= 0:
            if values[at] is not None:
                return None
        else:
            value = values[-1 - at]
            if value is not None and not spelt_as_class(value):
                return None
    added: list[CompactRef] = []
    for row in rows:
        name = row[1]
        at, tail = split(name)
        value = values[at]
        if value is None:
            continue
        full = value + tail
        if not reportable(full):
            continue
        point = row[12]
        if point:
            point += len(full) - len(name)
        added.append((row[0], sys.intern(full), *row[2:12], point))
    exported: list[tuple[str, str]] = []
    for key, name in names:
        at, tail = split(name)
        value = values[at]
        if value is not None:
            exported.append((key, value + tail))
    if not added and not exported:
        return compact
    path, refs, warnings, plain, imports = compact
    if added:
        places = set(map(_PLACE, refs))
        for row in added:
            place = _PLACE(row)
            if place in places:
                return None  # two references at one place: which one the scan keeps is its own
            places.add(place)
        refs = tuple(sorted((*refs, *added), key=ROW_ORDER))
    if exported:
        plain = tuple(sorted((*plain, *exported)))
    return (path, refs, warnings, plain, imports)
