"""``--format json``: the ``schema_version`` 1 contract of DESIGN.md (check and packages)."""

from __future__ import annotations

import json as _json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from depwatch.model import (
    Evidence,
    Finding,
    Fix,
    FixEdit,
    IndexFacts,
    Lockfile,
    NotChecked,
    Package,
    Report,
)
from depwatch.reporters.common import (
    sorted_findings,
    sorted_not_audited,
    sorted_not_checked,
    sorted_suppressed,
)
from depwatch.reporters.text import redact_credentials

__all__ = [
    "SCHEMA_VERSION",
    "dumps",
    "finding_dict",
    "packages_document",
    "render",
    "report_document",
]

SCHEMA_VERSION = 1

# json.dumps(ensure_ascii=False) escapes C0 controls but passes DEL, the C1 controls (\x9b
# is a one-byte CSI) and the bidirectional overrides through raw; ``cat report.json`` must
# not be able to drive a terminal, so they are written as \u escapes too. They can only
# occur inside JSON strings, so the substitution keeps the document valid.
_RAW_UNSAFE = re.compile(
    "[\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029\ud800-\udfff]"
)


def dumps(document: Any) -> str:
    """The document as indented UTF-8 JSON with a trailing newline, terminal-safe."""
    text = _json.dumps(document, indent=2, sort_keys=False, ensure_ascii=False)
    text = _RAW_UNSAFE.sub(lambda m: f"\\u{ord(m.group(0)):04x}", text)
    # ``##[`` can only be inside a string here: the runner's legacy parser would read it as a
    # workflow command in a logged report, so its second ``#`` is written as a JSON escape
    # (the data is unchanged). No line of indented JSON can start with ``::``.
    # The user-info of a URL is a credential: redacted as everywhere else input is shown.
    return redact_credentials(text).replace("##[", "#\\u0023[") + "\n"


def _evidence(evidence: Evidence) -> dict[str, Any]:
    out: dict[str, Any] = {
        "path": evidence.path,
        "line": evidence.line,
        "column": evidence.column,
        "code": evidence.code,
    }
    if evidence.cell is not None:
        out["cell"] = evidence.cell
    out["context"] = evidence.context
    return out


def _edit(edit: FixEdit | None) -> dict[str, Any] | None:
    if edit is None:
        return None
    return {"path": edit.path, "line": edit.line, "text": edit.text}


def fix_dict(fix: Fix) -> dict[str, Any]:
    """One fix: the tool, the command (or null), the version moved to, and the edit or the
    project constraint to change first (or null)."""
    return {
        "tool": fix.tool,
        "command": fix.command,
        "version": fix.version,
        "lockfile": fix.lockfile,
        "edit": _edit(fix.edit),
        "constraint": _edit(fix.constraint),
    }


def finding_dict(finding: Finding) -> dict[str, Any]:
    """One finding as in ``findings`` (and ``resolved``)."""
    out: dict[str, Any] = {
        "rule": finding.rule,
        "project": finding.project,
        "package": finding.package,
        "version": finding.version,
        "tag": finding.tag.value,
        "kind": finding.kind,
        "title": finding.title,
        "action": finding.action,
        "references": list(finding.references),
        "lockfiles": list(finding.lockfiles),
        "targets": None if finding.targets is None else list(finding.targets),
        "evidence": [_evidence(e) for e in finding.evidence],
    }
    out["versions"] = list(finding.versions or (finding.version,))
    if finding.package == "python" and not finding.lockfiles:
        out["held_back"] = [
            {
                "package": h.package,
                "version": h.version,
                "newer": h.newer,
                "pythons": list(h.pythons),
                "dev": h.dev,
                "lockfiles": list(h.lockfiles),
            }
            for h in finding.held_back
        ]
    out["fix"] = fix_dict(finding.fixes[0]) if finding.fixes else None
    if len(finding.fixes) > 1:
        out["fixes"] = [fix_dict(f) for f in finding.fixes]
    out["origin"] = "advisory" if finding.kind == "vulnerability" else finding.origin
    if finding.confidence is not None:
        out["confidence"] = finding.confidence
    if finding.kind == "vulnerability":
        out["aliases"] = list(finding.aliases)
        out["fixed_versions"] = list(finding.fixed_versions)
    return out


def _facts(facts: IndexFacts) -> dict[str, Any]:
    """What the index says about one locked release (``--online``)."""
    return {
        "package": facts.package,
        "version": facts.version,
        "index": facts.index,
        "yanked": facts.yanked,
        "yanked_reason": facts.yanked_reason,
        "requires_python": facts.requires_python,
        "newest": facts.newest,
        "newest_upload_time": facts.newest_upload_time,
        "newest_requires_python": facts.newest_requires_python,
    }


def report_document(report: Report) -> dict[str, Any]:
    """The ``depwatch check --format json`` document as plain Python data."""
    document: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "projects": [
            {
                "root": project.root,
                "requires_python": project.requires_python,
                "lockfiles": [
                    {"path": lock.path, "format": lock.format, "packages": len(lock.packages)}
                    for lock in project.lockfiles
                ],
            }
            for project in report.projects
        ],
        "findings": [finding_dict(f) for f in sorted_findings(report.findings)],
        "suppressed": [
            {
                "rule": s.rule,
                "package": s.package,
                "version": s.version,
                "reason": s.reason,
                "until": s.until,
            }
            for s in sorted_suppressed(report.suppressed)
        ],
        "stale_ignores": sorted(report.stale_ignores),
        "summary": report.summary,
    }
    if report.not_audited is not None:
        document["not_audited"] = [
            {"package": n.package, "version": n.version, "reason": n.reason}
            for n in sorted_not_audited(report.not_audited)
        ]
    if report.not_checked is not None:
        document["not_checked"] = [
            {"package": n.package, "version": n.version, "reason": n.reason}
            for n in sorted_not_checked(report.not_checked)
        ]
    if report.index_facts is not None:
        document["index"] = [_facts(f) for f in report.index_facts]
    if report.resolved is not None:
        document["resolved"] = [finding_dict(f) for f in sorted_findings(report.resolved)]
    document["warnings"] = list(report.warnings)
    return document


def render(report: Report) -> str:
    """The report as JSON."""
    return dumps(report_document(report))


def _package(
    package: Package, online: Mapping[tuple[str, str], IndexFacts] | None = None
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "name": package.name,
        "version": package.version,
        "source": package.source,
        "markers": package.markers,
        "groups": list(package.groups),
        "direct": package.direct,
    }
    if online is not None:
        found = online.get((package.name, package.version or ""))
        out["index"] = _facts(found) if found is not None else None
    return out


def _package_key(package: Package) -> tuple[str, str, str, str]:
    return (package.name, package.version or "", package.source, package.markers or "")


def packages_document(
    items: Sequence[tuple[str, Lockfile]],
    online: Mapping[tuple[str, str], IndexFacts] | None = None,
    not_checked: Sequence[NotChecked] | None = None,
) -> dict[str, Any]:
    """The ``depwatch packages --format json`` document; each item is (project root, lockfile).
    With ``--online`` each package adds ``"index"`` (its facts, or null) and the document adds
    ``"not_checked"``."""
    document: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "lockfiles": [
            {
                "path": lock.path,
                "format": lock.format,
                "project": project,
                "packages": [_package(p, online) for p in sorted(lock.packages, key=_package_key)],
            }
            for project, lock in items
        ],
    }
    if online is not None:
        document["not_checked"] = [
            {"package": n.package, "version": n.version, "reason": n.reason}
            for n in sorted_not_checked(not_checked or ())
        ]
    return document
