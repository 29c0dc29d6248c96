"""The transient progress line a person at a terminal sees while a check runs."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

__all__ = ["Progress", "wants_progress"]


class Progress:
    """A transient line on stderr saying what a run is doing, shown only once it has taken
    about a second (rich.progress; it disappears before the report is printed)."""

    DELAY = 1.0

    def __init__(self) -> None:
        import threading

        self.text = "Reading the lockfiles"
        self._lock = threading.Lock()
        self._shown: Any = None
        self._task: Any = None
        self._stopped = False
        self._timer = threading.Timer(self.DELAY, self._show)
        self._timer.daemon = True
        self._timer.start()

    def __call__(self, text: str) -> None:
        with self._lock:
            self.text = text
            if self._shown is not None:
                self._shown.update(self._task, description=text)

    def _show(self) -> None:
        from rich.console import Console
        from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        with self._lock:
            if self._stopped:
                return
            self._shown = Progress(
                SpinnerColumn(),
                TextColumn("{task.description}"),
                TimeElapsedColumn(),
                console=Console(stderr=True),
                transient=True,
            )
            self._task = self._shown.add_task(self.text, total=None)
            self._shown.start()

    def stop(self) -> None:
        self._timer.cancel()
        with self._lock:
            self._stopped = True
            if self._shown is not None:
                self._shown.stop()


def wants_progress(fmt: str, output: Path | None, quiet: bool) -> bool:
    """Only for a person at a terminal: never piped, never for machine output on stdout,
    never under pre-commit, never with ``-q``."""
    return (
        not quiet
        and (fmt == "table" or output is not None)
        and os.environ.get("PRE_COMMIT") != "1"
        and sys.stderr.isatty()
    )
