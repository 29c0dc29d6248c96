"""What several reporters share: ordering, paths, the gate and the summary line (no rich)."""

from __future__ import annotations

import posixpath
from collections.abc import Iterable, Sequence

from depwatch.model import (
    Evidence,
    FailOn,
    Finding,
    NotAudited,
    NotChecked,
    Report,
    Suppressed,
    Tag,
)

__all__ = [
    "EVIDENCE_CAP",
    "TAG_MEANING",
    "evidence_where",
    "failing_tags",
    "finding_location",
    "fix_text",
    "grouped",
    "is_interpreter",
    "plural",
    "project_path",
    "sorted_findings",
    "sorted_not_audited",
    "sorted_not_checked",
    "sorted_suppressed",
    "subject",
    "summary_line",
]

#: Evidence lines shown per finding by the human formats unless ``verbose``.
EVIDENCE_CAP = 5

TAG_MEANING = {
    Tag.IMMEDIATE: "broken or exposed now",
    Tag.PLAN: "the next upgrade or Python change will hit it",
    Tag.MONITOR: "changes nothing in the project is known to hit",
}


def sorted_findings(findings: Iterable[Finding]) -> list[Finding]:
    return sorted(findings, key=Finding.sort_key)


def sorted_suppressed(items: Iterable[Suppressed]) -> list[Suppressed]:
    return sorted(items, key=lambda s: (s.project, s.package, s.version, s.rule, s.reason))


def sorted_not_audited(items: Iterable[NotAudited]) -> list[NotAudited]:
    return sorted(items, key=lambda n: (n.package, n.version or "", n.reason))


def sorted_not_checked(items: Iterable[NotChecked]) -> list[NotChecked]:
    return sorted(items, key=lambda n: (n.package, n.version or "", n.reason))


def is_interpreter(finding: Finding) -> bool:
    """A finding about the declared Python itself (``package = "python"``, no lockfile)."""
    return finding.package == "python" and not finding.lockfiles


def subject(finding: Finding) -> str:
    """``google-genai 2.0.0`` (``torch 2.6.0, 2.6.0+cu126`` for several lock entries), or
    ``Python 3.9`` for an interpreter finding (unsanitized)."""
    if is_interpreter(finding):
        return f"Python {finding.version}"
    return f"{finding.package} {', '.join(finding.versions or (finding.version,))}"


def held_back_text(finding: Finding) -> str | None:
    """What a declared Python holds back, one line (unsanitized); None when nothing.

    ``holds back numpy 2.0.2 (2.1.0 drops it), pandas 2.2.3 (3.0.0); development tools:
    pytest 8.4.2 (9.0.0)`` — each locked version, then the first newer release it cannot take.
    """
    if not finding.held_back:
        return None
    runtime = [
        f"{h.package} {h.version} (newer: {h.newer})" for h in finding.held_back if not h.dev
    ]
    dev = [f"{h.package} {h.version} (newer: {h.newer})" for h in finding.held_back if h.dev]
    parts = []
    if runtime:
        parts.append(", ".join(runtime))
    if dev:
        parts.append("development tools: " + ", ".join(dev))
    return f"Python {finding.version} holds back " + "; ".join(parts)


def suppressed_subject(item: Suppressed) -> str:
    """``numpy 2.0.0``, or ``Python 3.9`` for a silenced interpreter finding (unsanitized)."""
    name = "Python" if item.package == "python" else item.package
    return f"{name} {item.version}"


def located_root(report: Report, project: str) -> str:
    """A project's root as CI tools resolve paths: from the git repository's top folder (so a
    run from a subfolder, or of ``../other``, still points at the right files); unchanged
    outside a repository."""
    if report.repo_root is None or report.run_folder is None:
        return project
    shown = project.replace("\\", "/")
    if shown[1:3] == ":/":  # another drive on Windows
        return project
    absolute = posixpath.normpath(posixpath.join(report.run_folder, shown))
    inside = posixpath.relpath(absolute, report.repo_root)
    return project if inside.startswith("..") else inside


def project_path(root: str, path: str) -> str:
    """``path`` (relative to the project root) relative to where depwatch ran, with ``/``."""
    root = root.replace("\\", "/")
    path = path.replace("\\", "/")
    if root in ("", "."):
        return path
    return posixpath.normpath(posixpath.join(root, path))


def finding_location(finding: Finding) -> tuple[str, int]:
    """Where a finding without evidence points: its lockfile line, or ``pyproject.toml``.

    The path is relative to the project root.
    """
    if finding.lockfiles:
        return finding.lockfiles[0], finding.lock_line or 1
    return "pyproject.toml", finding.lock_line or 1  # the line declaring the Python range


def evidence_where(evidence: Evidence) -> str:
    """``path:line:col``, or ``nb.ipynb[cell 3]:4:2`` in a notebook (unsanitized)."""
    if evidence.cell is not None:
        return f"{evidence.path}[cell {evidence.cell}]:{evidence.line}:{evidence.column}"
    return f"{evidence.path}:{evidence.line}:{evidence.column}"


def failing_tags(report: Report) -> list[str]:
    """The tags present in the report that fail its gate (empty: the gate passes); the policy
    decides."""
    from depwatch.policy import failing_tags

    return [t.value for t in failing_tags(report)]


def summary_line(report: Report) -> str:
    """``2 immediate, 1 plan, 4 monitor — failing on immediate; 1 suppressed`` (plain text)."""
    counts = report.summary
    parts: list[str] = []
    if report.findings:
        main = ", ".join(f"{counts[t.value]} {t.value}" for t in Tag if counts[t.value])
        failing = failing_tags(report)
        gate = report.fail_on if not report.fail_on_by_project else "each project's fail-on"
        if failing:
            main += f" — failing on {gate}"
        elif report.fail_on is FailOn.NEVER and not report.fail_on_by_project:
            main += " — not failing (--fail-on never)"
        else:
            main += f" — nothing at or above {gate}"
    else:
        main = "No actions."
    parts.append(main)
    extras: list[str] = []
    if report.suppressed:
        extras.append(f"{len(report.suppressed)} suppressed")
    if report.stale_ignores:
        n = len(report.stale_ignores)
        extras.append(f"{n} stale ignore{'s' if n != 1 else ''}")
    if report.not_audited:
        n = len(report.not_audited)
        extras.append(f"{n} package{'s' if n != 1 else ''} not audited")
    if report.not_checked:
        n = len(report.not_checked)
        extras.append(f"{n} package{'s' if n != 1 else ''} not checked on the index")
    if extras:
        if not report.findings:
            parts[0] = "No actions"  # "No actions; 13 suppressed"
        parts.append("; ".join(extras))
    return "; ".join(parts)


def plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def grouped(findings: Sequence[Finding]) -> list[tuple[Tag, list[Finding]]]:
    """Sorted findings by tag, most urgent first, leaving out empty tags."""
    ordered = sorted_findings(findings)
    out: list[tuple[Tag, list[Finding]]] = []
    for tag in Tag:
        of_tag = [f for f in ordered if f.tag is tag]
        if of_tag:
            out.append((tag, of_tag))
    return out


def fix_text(finding: Finding) -> str | None:
    """The fix for the first lockfile tool, as one line (paths as seen from where depwatch
    ran): ``$ uv lock --upgrade-package x==2.0.1``, ``edit requirements.txt:3: x==2.0.1``, or
    the constraint to change first."""
    if not finding.fixes:
        return None
    fix = finding.fixes[0]
    here = finding.project
    parts: list[str] = []
    if fix.constraint is not None:
        c = fix.constraint
        at = project_path(here, c.path) + (f":{c.line}" if c.line else "")
        if fix.command is None:
            parts.append(f"first change {at} ({c.text}): it does not allow {fix.version}")
        else:
            parts.append(f"$ {fix.command}  (it rewrites {at}: {c.text})")
    if fix.edit is not None:
        e = fix.edit
        at = project_path(here, e.path) + (f":{e.line}" if e.line else "")
        parts.append(f"edit {at}: {e.text}")
    if fix.command is not None and fix.constraint is None:
        parts.append(f"$ {fix.command}" if not parts else f"then $ {fix.command}")
    if here not in ("", ".") and fix.command is not None:
        parts.append(f"(in {here})")
    return "  ".join(parts) if parts else None
