"""``depwatch packages``: what the lockfiles pin (with ``--online``, how far behind the index)."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from depwatch.commands import arguments
from depwatch.commands.arguments import (
    IndexUrlOption,
    OfflineOption,
    OnlineOption,
    PackagesFormat,
    PathsArg,
    reports_errors,
)
from depwatch.commands.screen import color, width

__all__ = ["packages"]


@reports_errors
def packages(
    paths: PathsArg = None,
    format: Annotated[
        PackagesFormat, typer.Option("--format", "-f", help="Output format.")
    ] = PackagesFormat.table,
    online: OnlineOption = None,
    offline: OfflineOption = False,
    index_url: IndexUrlOption = None,
) -> None:
    """List what the lockfiles pin (with --online: how far behind the index each is)."""
    from depwatch import audit, reporters
    from depwatch.online import inventory_online

    if online or offline:
        behind = inventory_online(
            tuple(paths or ()), offline=offline, index_url=arguments.index_url(index_url)
        )
        items = behind.items
    else:
        items, behind = audit.inventory(tuple(paths or ())), None
    sys.stdout.write(
        reporters.render_packages(
            items,
            format.value,
            color=color(),
            width=width(),
            online=behind.facts if behind else None,
            not_checked=behind.not_checked if behind else None,
        )
    )
