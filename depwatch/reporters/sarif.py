"""``--format sarif``: SARIF 2.1.0 for GitHub code scanning and other SARIF viewers.

One run, one result per finding (a finding is one alert), ``ruleId``/``ruleIndex`` into
``tool.driver.rules``, paths relative to ``%SRCROOT%`` (the folder depwatch ran in), and a
``partialFingerprints`` entry built from what identifies a finding across runs
(:attr:`Finding.key`), so a moved line or an edited code line keeps the same alert.

GitHub code scanning limits (docs "SARIF results exceed limit"): 25,000 results per run,
1,000 locations per result (100 shown), 20 tags per rule (10 shown); only the first of a
result's ``locations`` is used to place the alert. Locations are therefore capped at
:data:`MAX_LOCATIONS`, the first is the first evidence line, and rule tags stay few.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import replace
from typing import Any
from urllib.parse import quote

import depwatch
from depwatch.model import Evidence, Finding, Report, RuleInfo, RuleKind, Tag
from depwatch.reporters.common import (
    finding_location,
    fix_text,
    held_back_text,
    is_interpreter,
    located_root,
    project_path,
    sorted_findings,
    sorted_not_audited,
    sorted_not_checked,
)
from depwatch.reporters.json import dumps

__all__ = [
    "FINGERPRINT_KEY",
    "MAX_LOCATIONS",
    "MAX_RESULTS",
    "fingerprint",
    "render",
    "sarif_document",
]

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://github.com/depwatch/depwatch"
FINGERPRINT_KEY = "depwatch/v1"
SRCROOT = "%SRCROOT%"
#: GitHub rejects a result with more than 1,000 locations.
MAX_LOCATIONS = 1000
#: GitHub code scanning rejects a run with more results than this.
MAX_RESULTS = 25_000

_LEVEL = {Tag.IMMEDIATE: "error", Tag.PLAN: "warning", Tag.MONITOR: "note"}
_NAME_PART = re.compile(r"[^0-9A-Za-z]+")
_WEB_URL = re.compile(r"https?://[^\s<>\"]+\Z")


def fingerprint(finding: Finding, root: str | None = None) -> str:
    """sha256 of project|rule|package|version: stable across runs, moved lines and the folder
    depwatch ran in (``root``: the project from the repository's top). The version stays in:
    a lock may pin a name at two versions, each its own result."""
    project, rule, package, version = finding.key
    parts = (project if root is None else root, rule, package, version)
    return hashlib.sha256("|".join(parts).encode("utf-8")).hexdigest()


def _uri(root: str, path: str) -> tuple[str, str | None]:
    """(uri, uriBaseId) for a path relative to a project root."""
    joined = project_path(root, path)
    if joined.startswith("/"):  # an absolute project root: no base id, a file URI
        return "file://" + quote(joined, safe="/"), None
    return quote(joined, safe="/"), SRCROOT


def _artifact(root: str, path: str) -> dict[str, Any]:
    uri, base = _uri(root, path)
    location: dict[str, Any] = {"uri": uri}
    if base is not None:
        location["uriBaseId"] = base
    return location


def _evidence_location(root: str, evidence: Evidence) -> dict[str, Any]:
    physical: dict[str, Any] = {"artifactLocation": _artifact(root, evidence.path)}
    location: dict[str, Any] = {"physicalLocation": physical}
    if evidence.cell is None:
        region: dict[str, Any] = {
            "startLine": max(evidence.line, 1),
            "startColumn": max(evidence.column, 1),
        }
        if evidence.code:
            region["snippet"] = {"text": evidence.code}
        physical["region"] = region
    else:
        # A notebook's lines are numbered within a cell; the .ipynb file's own lines differ,
        # so the alert goes on the file and the cell position travels in the message.
        physical["region"] = {"startLine": 1}
        location["message"] = {
            "text": f"cell {evidence.cell}, line {evidence.line}, column {evidence.column}: "
            f"{evidence.code}"
        }
        location["properties"] = {
            "cell": evidence.cell,
            "cellLine": evidence.line,
            "cellColumn": evidence.column,
        }
    return location


def _locations(finding: Finding, root: str) -> list[dict[str, Any]]:
    if finding.evidence:
        return [_evidence_location(root, e) for e in finding.evidence[:MAX_LOCATIONS]]
    path, line = finding_location(finding)
    return [
        {
            "physicalLocation": {
                "artifactLocation": _artifact(root, path),
                "region": {"startLine": max(line, 1)},
            }
        }
    ]


def _rule_name(rule_id: str) -> str:
    """``google-genai/response-format-wire-names`` → ``ResponseFormatWireNames``."""
    slug = rule_id.rsplit("/", 1)[-1]
    name = "".join(part[:1].upper() + part[1:] for part in _NAME_PART.split(slug) if part)
    return name or rule_id


def _help(info: RuleInfo) -> dict[str, str]:
    from depwatch.reporters.markdown import md, md_link

    # Rule texts come from rule folders and advisories: the Markdown form escapes them (a
    # viewer renders it), and links only what is a plain web address.
    text_parts = [p for p in (info.what, info.why) if p]
    md_parts = [md(p) for p in text_parts]
    if info.action:
        text_parts.append(f"Action: {info.action}")
        md_parts.append(f"**Action:** {md(info.action)}")
    if info.references:
        text_parts.append("References:\n" + "\n".join(info.references))
        md_parts.append("References:\n\n" + "\n".join(f"- {md_link(r)}" for r in info.references))
    return {
        "text": "\n\n".join(text_parts) or info.title,
        "markdown": "\n\n".join(md_parts) or md(info.title),
    }


def _rule_descriptor(info: RuleInfo) -> dict[str, Any]:
    tags = [info.kind, "dependencies"]
    if info.kind == RuleKind.VULNERABILITY:
        tags.append("security")
    descriptor: dict[str, Any] = {
        "id": info.id,
        "name": _rule_name(info.id),
        "shortDescription": {"text": info.title},
        "fullDescription": {"text": info.what or info.title},
        "help": _help(info),
    }
    if info.references and _WEB_URL.match(info.references[0]):
        descriptor["helpUri"] = info.references[0]
    descriptor["properties"] = {"tags": tags}
    return descriptor


def _message(finding: Finding) -> str:
    who = (
        f"Python {finding.version}"
        if is_interpreter(finding)
        else f"{finding.package}@{finding.version}"
    )
    text = f"{who}: {finding.title}"
    if finding.project not in ("", "."):
        text = f"{who} (project {finding.project}): {finding.title}"
    held = held_back_text(finding)
    if held:
        text += f" {held}."
    if finding.action:
        text += f" Action: {finding.action}"
    if finding.targets:
        text += f" (targets: {', '.join(finding.targets)})"
    if len(finding.evidence) > MAX_LOCATIONS:
        text += f" ({len(finding.evidence) - MAX_LOCATIONS} more uses not listed)"
    return text


def _fixes(finding: Finding, root: str) -> list[dict[str, Any]]:
    """SARIF ``fix`` objects: the description says what to run; an edit is a replacement of
    its whole line, and a command alone an empty replacement at the package's line (SARIF
    needs one artifact change; re-locking rewrites the file)."""
    out = []
    for fix in finding.fixes:
        text = fix_text(replace(finding, fixes=(fix,)))
        if not text:
            continue
        if fix.edit is not None:
            change_path, line = fix.edit.path, fix.edit.line or 1
            replacement: dict[str, Any] = {
                "deletedRegion": {"startLine": line},
                "insertedContent": {"text": fix.edit.text},
            }
        elif fix.constraint is not None:
            change_path, line = fix.constraint.path, fix.constraint.line or 1
            replacement = {"deletedRegion": {"startLine": line, "startColumn": 1, "endColumn": 1}}
        else:
            change_path = fix.lockfile or finding_location(finding)[0]
            line = finding.lock_line or 1 if change_path == finding_location(finding)[0] else 1
            replacement = {"deletedRegion": {"startLine": line, "startColumn": 1, "endColumn": 1}}
        out.append(
            {
                "description": {"text": text},
                "artifactChanges": [
                    {
                        "artifactLocation": _artifact(root, change_path),
                        "replacements": [replacement],
                    }
                ],
                "properties": {"tool": fix.tool, "command": fix.command, "version": fix.version},
            }
        )
    return out


def _result(finding: Finding, rule_index: int, root: str) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "tag": finding.tag.value,
        "kind": finding.kind,
        "project": finding.project,
        "package": finding.package,
        "version": finding.version,
        "lockfiles": list(finding.lockfiles),
    }
    if finding.targets is not None:
        properties["targets"] = list(finding.targets)
    if finding.kind == RuleKind.VULNERABILITY:
        properties["aliases"] = list(finding.aliases)
        properties["fixed_versions"] = list(finding.fixed_versions)
    result = {
        "ruleId": finding.rule,
        "ruleIndex": rule_index,
        "level": _LEVEL[finding.tag],
        "message": {"text": _message(finding)},
        "locations": _locations(finding, root),
        "partialFingerprints": {FINGERPRINT_KEY: fingerprint(finding, root)},
        "properties": properties,
    }
    fixes = _fixes(finding, root)
    if fixes:
        result["fixes"] = fixes
    return result


def _notifications(report: Report) -> list[dict[str, Any]]:
    notes: list[dict[str, Any]] = [
        {"level": "warning", "message": {"text": warning}} for warning in report.warnings
    ]
    for item in sorted_not_audited(report.not_audited or ()):
        version = f" {item.version}" if item.version else ""
        notes.append(
            {
                "level": "warning",
                "message": {"text": f"{item.package}{version} was not audited: {item.reason}"},
            }
        )
    for unchecked in sorted_not_checked(report.not_checked or ()):
        version = f" {unchecked.version}" if unchecked.version else ""
        notes.append(
            {
                "level": "warning",
                "message": {
                    "text": f"{unchecked.package}{version} was not checked on the package "
                    f"index: {unchecked.reason}"
                },
            }
        )
    for ignore in sorted(report.stale_ignores):
        notes.append({"level": "note", "message": {"text": f"stale ignore: {ignore}"}})
    return notes


def sarif_document(report: Report) -> dict[str, Any]:
    # Most urgent first, so that a log cut to GitHub's limit keeps what matters.
    findings = sorted_findings(report.findings)
    left_out = findings[MAX_RESULTS:]
    findings = findings[:MAX_RESULTS]
    rules: list[dict[str, Any]] = []
    index: dict[str, int] = {}
    for finding in sorted(findings, key=lambda f: f.rule):
        if finding.rule not in index:
            index[finding.rule] = len(rules)
            rules.append(_rule_descriptor(report.rules.get(finding.rule) or finding.description))
    invocation: dict[str, Any] = {"executionSuccessful": True}
    notifications = _notifications(report)
    if left_out:
        counts = ", ".join(
            f"{sum(f.tag is tag for f in left_out)} {tag.value}"
            for tag in Tag
            if any(f.tag is tag for f in left_out)
        )
        notifications.insert(
            0,
            {
                "level": "warning",
                "message": {
                    "text": f"{len(left_out)} findings ({counts}) are not in this log: GitHub "
                    f"code scanning takes at most {MAX_RESULTS:,} results per run; the least "
                    "urgent were left out (--format json has them all)"
                },
            },
        )
    if notifications:
        invocation["toolExecutionNotifications"] = notifications
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "depwatch",
                "version": depwatch.__version__,
                "semanticVersion": depwatch.__version__,
                "informationUri": INFORMATION_URI,
                "rules": rules,
            }
        },
        "invocations": [invocation],
        "originalUriBaseIds": {
            SRCROOT: {
                "description": {
                    "text": "The git repository's top folder (outside one: where depwatch ran)."
                }
            }
        },
        "columnKind": "unicodeCodePoints",
        "results": [_result(f, index[f.rule], located_root(report, f.project)) for f in findings],
    }
    return {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}


def render(report: Report) -> str:
    """The report as a SARIF 2.1.0 log (deterministic: no timestamps, sorted)."""
    return dumps(sarif_document(report))
