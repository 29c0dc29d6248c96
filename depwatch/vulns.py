"""``--vulns``: pip-audit started on every locked entry (it runs while the rules are matched),
and its answers as findings of the projects whose lockfiles pin the versions."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from depwatch.model import Finding, NotAudited, Package, RuleInfo
from depwatch.options import CheckOptions
from depwatch.projects import Project

if TYPE_CHECKING:
    from depwatch.advisories import AdvisoryResult, PendingAudit

__all__ = ["VulnStage", "start_vulns", "vulnerabilities"]


def _findings(
    result: AdvisoryResult, projects: Sequence[Project]
) -> tuple[list[list[Finding]], dict[str, RuleInfo]]:
    """Each project's advisory findings (in the order given), and the advisories' texts."""
    from depwatch import advisories

    findings: list[list[Finding]] = []
    for project in projects:
        where: dict[tuple[str, str], list[str]] = {}
        for lock in project.lockfiles:
            for pkg in lock.packages:
                if pkg.version is not None:
                    where.setdefault((pkg.name, pkg.version), [])
                    if lock.path not in where[(pkg.name, pkg.version)]:
                        where[(pkg.name, pkg.version)].append(lock.path)
        findings.append(
            [
                f
                for f in advisories.to_findings(result, project=project.shown, lockfiles=where)
                if f.lockfiles
            ]
        )
    infos = {v.id: advisories.rule_info(v) for v in result.vulnerabilities}
    return findings, infos


_OWN_SOURCES = frozenset({"virtual", "workspace"})


def start_vulns(projects: Sequence[Project], options: CheckOptions) -> PendingAudit:
    """Start pip-audit on every locked entry but the projects' own members."""
    from depwatch import advisories

    advisories.require_pip_audit()
    seen: dict[tuple[str, str | None, str], Package] = {}
    for project in projects:
        own = project.files.facts.name
        for lock in project.lockfiles:
            for pkg in lock.packages:
                if pkg.source in _OWN_SOURCES or (own is not None and pkg.name == own):
                    continue
                seen.setdefault((pkg.name, pkg.version, pkg.source), pkg)
    return advisories.start(
        list(seen.values()),
        service=options.vuln_service,
        osv_url=options.osv_url,
        protect=[p.root for p in projects],
    )


@dataclass(frozen=True)
class VulnStage:
    """What pip-audit said, per project (in the order of the projects given)."""

    findings: list[list[Finding]]
    unchanged: list[list[Finding]]
    """With ``--since``: advisories the lock already had before the change."""
    resolved: list[Finding]
    infos: dict[str, RuleInfo]
    not_audited: tuple[NotAudited, ...]
    warnings: list[str]
    gaps: list[str]
    blind: str | None = None
    """Set when nothing at all could be audited: the reason."""


def vulnerabilities(
    pending: PendingAudit, projects: Sequence[Project], olds: Sequence[Project] = ()
) -> VulnStage:
    """pip-audit's answers for ``projects``; with ``olds`` (``--since``, one per project), an
    advisory the project's lock already had before the change is not news either."""
    result = pending.result()
    findings, infos = _findings(result, projects)
    unchanged: list[list[Finding]] = [[] for _ in projects]
    resolved: list[Finding] = []
    if olds:
        from depwatch.since import since_filter

        old_findings, old_infos = _findings(result, olds)
        infos.update(old_infos)
        for at, (now, before) in enumerate(zip(findings, old_findings, strict=True)):
            split = since_filter(now, before)
            findings[at], unchanged[at] = split.new, split.unchanged
            resolved += split.resolved
    blind = None
    if result.audited == 0 and result.not_audited:
        # Nothing at all was audited: a gate that passed here would pass blind.
        first = result.not_audited[0].reason
        blind = (
            f"--vulns could audit none of the {len(result.not_audited)} locked package "
            f"version(s) ({first}); the vulnerability gate cannot pass blind"
        )
    not_audited = tuple(result.not_audited)
    return VulnStage(
        findings=findings,
        unchanged=unchanged,
        resolved=resolved,
        infos=infos,
        not_audited=not_audited,
        warnings=list(result.warnings),
        gaps=[f"not audited: {n.package} {n.version or ''} ({n.reason})" for n in not_audited],
        blind=blind,
    )
