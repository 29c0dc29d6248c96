"""``--format markdown``: a compact report for a pull-request comment or $GITHUB_STEP_SUMMARY.

GitHub-flavoured Markdown: a heading with the counts, one table per tag (monitor folded in a
``<details>``), then what was suppressed, not audited, stale or worth a warning. Every piece
of input text is escaped for Markdown and HTML and kept on one line (:func:`md`).
"""

from __future__ import annotations

import re

from depwatch.model import Finding, Report, Tag
from depwatch.reporters.common import (
    EVIDENCE_CAP,
    TAG_MEANING,
    evidence_where,
    fix_text,
    grouped,
    held_back_text,
    plural,
    project_path,
    sorted_findings,
    sorted_not_audited,
    sorted_not_checked,
    sorted_suppressed,
    subject,
    summary_line,
    suppressed_subject,
)
from depwatch.reporters.text import oneline

__all__ = ["md", "md_link", "render"]

# ASCII punctuation that means something inline to CommonMark/GFM; "|" so that it cannot end
# a table cell. "<", ">" and "&" become HTML entities. What means something only at the start
# of a block (headings, list markers, "1.") is escaped there alone (_BLOCK_START).
_MD_SPECIAL = re.compile(r"([\\`*_\[\]|~])")
_BLOCK_START = re.compile(r"\A(?:([#+=-])|(\d+)([.)]))")
# GitHub turns bare web addresses into links ("www.x", "https://x"); a backslash before the
# "." or ":" keeps them text. (Bare e-mail addresses still become mailto: links.)
_AUTOLINK = re.compile(r"(?i)\b(www)(\.)|\b(https?|ftp)(:)(?=//)")
_WEB_URL = re.compile(r"https?://[^\s<>\"`\\]+\Z")
_HEADINGS = {Tag.IMMEDIATE: "Immediate", Tag.PLAN: "Plan", Tag.MONITOR: "Monitor"}


def md(text: str) -> str:
    """Untrusted text as inert Markdown on one line: HTML entities, escaped punctuation."""
    text = oneline(text)
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = _MD_SPECIAL.sub(r"\\\1", text)
    text = _AUTOLINK.sub(_escape_autolink, text)
    return _BLOCK_START.sub(_escape_block_start, text)


def _escape_autolink(match: re.Match[str]) -> str:
    word, punctuation = (match.group(1), match.group(2)) if match.group(1) else match.group(3, 4)
    return f"{word}\\{punctuation}"


def _escape_block_start(match: re.Match[str]) -> str:
    if match.group(1):
        return "\\" + match.group(1)
    return match.group(2) + "\\" + match.group(3)


def md_link(url: str, label: str | None = None) -> str:
    """A link where ``url`` is a plain http(s) URL; otherwise the escaped text."""
    url = oneline(url)
    if not _WEB_URL.match(url):
        return md(url)
    target = url.replace("(", "%28").replace(")", "%29").replace("|", "%7C")
    return f"[{md(label or url)}]({target})"


def _where(finding: Finding, verbose: bool) -> str:
    """Where the finding is, relative to where depwatch ran (several projects may share names)."""
    here = finding.project
    if not finding.evidence:
        return " ".join(md(project_path(here, lock)) for lock in finding.lockfiles) or md(
            project_path(here, "pyproject.toml")
        )
    cap = len(finding.evidence) if verbose else EVIDENCE_CAP
    parts = [
        md(project_path(here, evidence_where(e).rsplit(":", 1)[0]))
        + ("" if e.context == "runtime" else f" ({md(e.context)})")
        for e in finding.evidence[:cap]
    ]
    more = len(finding.evidence) - cap
    if more > 0:
        parts.append(f"… and {more} more")
    return "<br>".join(parts)


def _action(finding: Finding) -> str:
    text = md(finding.action)
    held = held_back_text(finding)
    if held:
        text = f"{md(held)}.<br>{text}"
    if finding.targets:
        text += f" (targets: {md(', '.join(finding.targets))})"
    if finding.references:
        text += " " + md_link(finding.references[0], "ref")
    fix = fix_text(finding)
    if fix:
        text += f"<br>{md(fix)}"
    return text


#: GitHub keeps at most 1 MiB of a step summary; rows past this budget are counted instead.
SUMMARY_BUDGET = 1_000_000


def _table(findings: list[Finding], verbose: bool, budget: list[int]) -> list[str]:
    lines = [
        "| Package | Version | Rule | Action | Where |",
        "| --- | --- | --- | --- | --- |",
    ]
    many = len({f.project for f in findings}) > 1
    for index, f in enumerate(findings):
        package = "Python" if subject(f).startswith("Python ") else f.package
        named = md(package) + (f"<br>in {md(f.project)}" if many else "")
        row = (
            f"| {named} | {md(f.version)} | {md(f.rule)}<br>{md(f.title)} "
            f"| {_action(f)} | {_where(f, verbose)} |"
        )
        if len(row.encode()) + 1 > budget[0]:
            left = len(findings) - index
            lines.append(
                f"| … | | {left} more not shown: a GitHub step summary holds 1 MiB "
                "(--format json has them all) | | |"
            )
            budget[0] = 0
            break
        budget[0] -= len(row.encode()) + 1
        lines.append(row)
    return lines


def render(report: Report, *, verbose: bool = False) -> str:
    """The report as GitHub-flavoured Markdown (``verbose``: every evidence line)."""
    counts = report.summary
    out: list[str] = [
        f"## depwatch: {counts['immediate']} immediate, {counts['plan']} plan, "
        f"{counts['monitor']} monitor",
        "",
        md(summary_line(report)),
    ]
    # Most urgent first: what a cut to the summary's size limit leaves out is the least urgent.
    budget = [SUMMARY_BUDGET - 100_000]  # room for everything but the tables' rows
    for tag, findings in grouped(report.findings):
        title = f"{_HEADINGS[tag]} ({len(findings)}) — {TAG_MEANING[tag]}"
        out.append("")
        if tag is Tag.MONITOR:
            out += ["<details>", f"<summary>{title}</summary>", ""]
            out += _table(findings, verbose, budget)
            out += ["", "</details>"]
        else:
            out += [f"### {title}", ""]
            out += _table(findings, verbose, budget)
    if report.resolved:
        out += ["", f"### Resolved ({len(report.resolved)})", ""]
        out += [
            f"- {md(subject(f))}: {md(f.rule)} — {md(f.title)}"
            for f in sorted_findings(report.resolved)
        ]
    if report.suppressed:
        out += ["", "<details>", f"<summary>Suppressed ({len(report.suppressed)})</summary>", ""]
        for s in sorted_suppressed(report.suppressed):
            until = f" (until {md(s.until)})" if s.until else ""
            out.append(f"- {md(suppressed_subject(s))}: {md(s.rule)} — {md(s.reason)}{until}")
        out += ["", "</details>"]
    if report.not_audited:
        n = len(report.not_audited)
        out += ["", f"### Not audited ({plural(n, 'package')}: not the same as clean)", ""]
        for item in sorted_not_audited(report.not_audited):
            version = f" {md(item.version)}" if item.version else ""
            out.append(f"- {md(item.package)}{version}: {md(item.reason)}")
    if report.not_checked:
        n = len(report.not_checked)
        out += [
            "",
            f"### Not checked on the index ({plural(n, 'package')}: not the same as clean)",
            "",
        ]
        for unchecked in sorted_not_checked(report.not_checked):
            version = f" {md(unchecked.version)}" if unchecked.version else ""
            out.append(f"- {md(unchecked.package)}{version}: {md(unchecked.reason)}")
    if report.stale_ignores:
        out += ["", f"### Stale ignores ({len(report.stale_ignores)})", ""]
        out += [f"- {md(s)}" for s in sorted(report.stale_ignores)]
    if report.warnings:
        out += ["", f"### Warnings ({len(report.warnings)})", ""]
        out += [f"- {md(w)}" for w in report.warnings]
    return "\n".join(out) + "\n"
