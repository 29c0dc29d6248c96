"""What ``depwatch check`` was asked to do, as one value every stage reads."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from depwatch.model import FailOn

__all__ = ["CheckOptions", "say"]


@dataclass(frozen=True)
class CheckOptions:
    """Everything ``depwatch check`` was asked to do."""

    paths: tuple[str, ...] = ()
    """Empty: the project found upward from the working folder."""
    rules_dirs: tuple[Path, ...] = ()
    usage: bool = True
    exclude: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    baseline: Path | None = None
    since: str | None = None
    pythons: tuple[str, ...] = ()
    platforms: tuple[str, ...] = ()
    today: datetime.date = field(default_factory=datetime.date.today)
    vulns: bool = False
    vuln_service: str | None = None
    osv_url: str | None = None
    strict: bool = False
    fail_on: FailOn | None = None
    hook: bool = False
    verbose: bool = False
    online: bool | None = None
    """``--online``; None leaves it to ``[tool.depwatch] online``."""
    offline: bool = False
    """``--offline``: index facts from the cache only (implies ``--online``)."""
    index_url: str | None = None
    progress: Callable[[str], None] | None = None
    """Told what the run is doing now (the CLI shows it on a terminal); never prints here."""


def say(options: CheckOptions, text: str) -> None:
    if options.progress is not None:
        options.progress(text)
