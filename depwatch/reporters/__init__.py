"""Reporters: each format is a pure function ``Report -> str``; the CLI decides where it goes.

The registry imports a format's module only when that format is rendered, so ``--format
json`` never pays for rich (only :mod:`depwatch.reporters.table` imports it, lazily too).
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping, Sequence
from typing import Protocol

from depwatch.model import IndexFacts, Lockfile, NotChecked, Report

__all__ = ["FORMATS", "PACKAGE_FORMATS", "Renderer", "render", "render_packages"]


class Renderer(Protocol):
    def __call__(
        self, report: Report, *, color: bool = False, width: int = 100, verbose: bool = False
    ) -> str: ...


class _Lazy:
    """``render`` of ``depwatch.reporters.<module>``, imported on first call, and given only
    the options it takes (``takes``): a format that renders the same whatever the screen
    takes none."""

    __slots__ = ("module", "takes")

    def __init__(self, module: str, takes: tuple[str, ...] = ()) -> None:
        self.module = module
        self.takes = takes

    def __call__(
        self, report: Report, *, color: bool = False, width: int = 100, verbose: bool = False
    ) -> str:
        module = importlib.import_module(f"depwatch.reporters.{self.module}")
        given = {"color": color, "width": width, "verbose": verbose}
        result: str = module.render(report, **{name: given[name] for name in self.takes})
        return result

    def __repr__(self) -> str:
        return f"<reporter depwatch.reporters.{self.module}.render>"


#: ``--format`` name → renderer. Every name here is a ``check --format`` choice.
FORMATS: dict[str, Renderer] = {
    "table": _Lazy("table", ("color", "width", "verbose")),
    "json": _Lazy("json"),
    "sarif": _Lazy("sarif"),
    "markdown": _Lazy("markdown", ("verbose",)),
    "github": _Lazy("github"),
}

#: ``depwatch packages --format`` choices.
PACKAGE_FORMATS = ("table", "json")


def render(
    fmt: str, report: Report, *, color: bool = False, width: int = 100, verbose: bool = False
) -> str:
    """``report`` in format ``fmt``; a ``ValueError`` names the formats for an unknown one."""
    try:
        renderer = FORMATS[fmt]
    except KeyError:
        raise ValueError(f"unknown format {fmt!r} (choose from {', '.join(FORMATS)})") from None
    return renderer(report, color=color, width=width, verbose=verbose)


def render_packages(
    items: Sequence[tuple[str, Lockfile]],
    fmt: str,
    *,
    color: bool = False,
    width: int = 100,
    online: Mapping[tuple[str, str], IndexFacts] | None = None,
    not_checked: Sequence[NotChecked] | None = None,
) -> str:
    """``depwatch packages``: each item is (project root, lockfile) in the order to list;
    ``online``: the index's facts per (name, version) under ``--online``."""
    if fmt == "json":
        from depwatch.reporters import json

        return json.dumps(json.packages_document(items, online, not_checked))
    if fmt == "table":
        from depwatch.reporters import table

        return table.render_packages(
            items, color=color, width=width, online=online, not_checked=not_checked
        )
    raise ValueError(f"unknown format {fmt!r} (choose from {', '.join(PACKAGE_FORMATS)})")
