"""``--format github``: GitHub Actions workflow commands that annotate the pull request.

``::error file=…,line=…,col=…,title=…::message`` per finding, at its first evidence line (the
message names the other places), or at the lockfile line, or at ``pyproject.toml`` for the
interpreter: immediate → ``error``, plan → ``warning``, monitor → ``notice``; immediate
findings come first, then findings with code evidence, then the rest. GitHub shows at
most 10 annotations of each kind per step, so the first line is the summary, as an annotation
of the most urgent kind present, and says when some findings will not show as annotations
(the step log holds them all). Escaping follows actions/toolkit
``packages/core/src/command.ts`` (``escapeData`` / ``escapeProperty``), which is what the
runner unescapes.
"""

from __future__ import annotations

from depwatch.model import Evidence, Finding, Report, Tag
from depwatch.reporters.common import (
    finding_location,
    held_back_text,
    located_root,
    project_path,
    sorted_findings,
    sorted_not_audited,
    sorted_not_checked,
    subject,
    summary_line,
)
from depwatch.reporters.text import oneline, sanitize

__all__ = ["command", "escape_data", "escape_property", "render"]

_COMMAND = {Tag.IMMEDIATE: "error", Tag.PLAN: "warning", Tag.MONITOR: "notice"}


def escape_data(text: str) -> str:
    """A workflow command's message: ``%`` → ``%25``, CR → ``%0D``, LF → ``%0A``."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """A workflow command's property value: as :func:`escape_data`, and ``:`` ``,`` too."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def command(name: str, message: str, **properties: str | int | None) -> str:
    """One workflow command line; untrusted text is sanitized, then escaped for its place."""
    props = ",".join(
        f"{key}={escape_property(sanitize(str(value)))}"
        for key, value in properties.items()
        if value is not None and value != ""
    )
    head = f"::{name} {props}" if props else f"::{name}"
    return f"{head}::{escape_data(sanitize(message))}"


def _message(finding: Finding, evidence: Evidence | None) -> str:
    lines = [f"{subject(finding)}: {finding.title}"]
    if evidence is not None and evidence.cell is not None:
        lines[0] = (
            f"cell {evidence.cell}, line {evidence.line}, column {evidence.column}: " + lines[0]
        )
    held = held_back_text(finding)
    if held:
        lines.append(held)
    if finding.action:
        lines.append(f"Action: {finding.action}")
    if finding.targets:
        lines.append(f"Targets: {', '.join(finding.targets)}")
    if finding.references:
        lines.append(finding.references[0])
    return "\n".join(lines)


#: GitHub shows this many annotations of each kind per step.
SHOWN_PER_KIND = 10
_OTHER_PLACES = 5


def _finding_commands(finding: Finding, root: str) -> list[str]:
    name = _COMMAND[finding.tag]
    out: list[str] = []
    if finding.evidence:
        evidence, *others = finding.evidence
        file = project_path(root, evidence.path)
        message = _message(finding, evidence)
        if others:
            places = [f"{project_path(root, e.path)}:{e.line}" for e in others[:_OTHER_PLACES]]
            more = len(others) - len(places)
            message += "\nAlso at: " + ", ".join(places) + (f" and {more} more" if more else "")
        if evidence.cell is None:
            out.append(
                command(
                    name,
                    message,
                    file=file,
                    line=evidence.line,
                    col=evidence.column,
                    title=finding.rule,
                )
            )
        else:  # lines count within the notebook cell, not the .ipynb file
            out.append(command(name, message, file=file, title=finding.rule))
    if not finding.evidence:
        path, line = finding_location(finding)
        out.append(
            command(
                name,
                _message(finding, None),
                file=project_path(root, path),
                line=line,
                title=finding.rule,
            )
        )
    return out


def render(report: Report) -> str:
    """One workflow command per line, and a plain summary line at the end."""
    # GitHub shows the first 10 of each kind: immediate findings first, then those with code
    # evidence (what a reviewer acts on in the diff), then the rest (Python-floor notes, …)
    findings = sorted(
        sorted_findings(report.findings),
        key=lambda f: (f.tag is not Tag.IMMEDIATE, not f.evidence),
    )
    lines: list[str] = []
    if findings:
        kinds = [_COMMAND[f.tag] for f in findings]
        hidden = sum(max(0, kinds.count(kind) - (SHOWN_PER_KIND - 1)) for kind in set(kinds))
        text = summary_line(report)
        if hidden:
            text += (
                f". GitHub shows {SHOWN_PER_KIND} annotations of each kind per step, so "
                f"{hidden} finding(s) appear only in this step's log"
            )
        lines.append(command(kinds[0], text, title="depwatch"))
    for finding in findings:
        lines.extend(_finding_commands(finding, located_root(report, finding.project)))
    for item in sorted_not_audited(report.not_audited or ()):
        version = f" {item.version}" if item.version else ""
        lines.append(
            command(
                "warning",
                f"{item.package}{version} was not audited (not the same as clean): {item.reason}",
                title="depwatch: not audited",
            )
        )
    for unchecked in sorted_not_checked(report.not_checked or ()):
        version = f" {unchecked.version}" if unchecked.version else ""
        lines.append(
            command(
                "warning",
                f"{unchecked.package}{version} was not checked on the package index (not the "
                f"same as clean): {unchecked.reason}",
                title="depwatch: not checked",
            )
        )
    for ignore in sorted(report.stale_ignores):
        lines.append(
            command(
                "warning",
                f"ignore entry matched nothing or has expired: {ignore}",
                title="depwatch: stale ignore",
            )
        )
    for warning in report.warnings:
        lines.append(command("warning", warning, title="depwatch"))
    lines.append(f"depwatch: {oneline(summary_line(report))}")
    return "\n".join(lines) + "\n"
