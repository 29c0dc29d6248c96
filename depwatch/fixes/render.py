"""``--fix-commands``: the commands to run, and the notes for fixes that are edits or wait on a
constraint."""

from __future__ import annotations

import shlex
from collections.abc import Iterable

from depwatch.fixes.safe import _safe_path
from depwatch.model import Finding


def _in(prefix: str, command: str) -> str:
    return f"{prefix}{command})" if prefix else command


def commands(findings: Iterable[Finding]) -> tuple[list[str], list[str]]:
    """``--fix-commands``: the commands, deduplicated in order, each run in its project's
    folder (``(cd DIR && …)`` for a project that is not the current folder); and one note per
    fix that is an edit or waits on a constraint (for stderr)."""
    out: list[str] = []
    notes: list[str] = []
    for finding in findings:
        for fix in finding.fixes:
            where = finding.project
            prefix = ""
            if where not in ("", "."):
                if _safe_path(where) is None:
                    continue
                prefix = f"(cd {shlex.quote(where)} && "
            shown = "" if where in ("", ".") else f"{where}/"
            if fix.constraint is not None and (
                fix.command is None or fix.tool not in ("poetry", "pdm")
            ):
                c = fix.constraint
                at = f"{shown}{c.path}:{c.line}" if c.line else f"{shown}{c.path}"
                notes.append(
                    f"{finding.package}: first change {at}: {c.text} (it does not allow {fix.version})"
                )
            if fix.edit is not None:
                e = fix.edit
                at = f"{shown}{e.path}:{e.line}" if e.line else f"{shown}{e.path}"
                then = f", then run: {_in(prefix, fix.command)}" if fix.command else ""
                notes.append(f"{finding.package}: edit {at}: {e.text}{then}")
            if fix.command is not None and fix.edit is None:
                line = _in(prefix, fix.command)
                if line not in out:
                    out.append(line)
    return out, list(dict.fromkeys(notes))
