"""Turning advisories into findings: the tag, the action to take, the fix to upgrade to."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from depwatch.advisories.results import AdvisoryResult, Vulnerability
from depwatch.model import Finding, RuleInfo, Tag

__all__ = ["action_text", "rule_info", "to_findings", "vulnerability_tag"]


def vulnerability_tag(vulnerability: Vulnerability) -> Tag:
    """DESIGN.md, Tags 5: a fixed release to upgrade to → immediate; none → plan.

    (Withdrawn advisories never get here: pip-audit drops them.)
    """
    return Tag.IMMEDIATE if vulnerability.fix is not None else Tag.PLAN


def _cited(vulnerability: Vulnerability) -> str:
    cve = next((a for a in vulnerability.aliases if a.startswith("CVE-")), None)
    return (
        vulnerability.id if cve is None or cve == vulnerability.id else f"{vulnerability.id}, {cve}"
    )


def action_text(vulnerability: Vulnerability) -> str:
    """What to do, in one sentence."""
    fix = vulnerability.fix
    name = vulnerability.package
    if fix is not None:
        return f"Upgrade {name} to {fix} or later (fixes {_cited(vulnerability)})."
    if vulnerability.fixed_versions:
        listed = ", ".join(vulnerability.fixed_versions)
        return (
            f"No release of {name} above {vulnerability.version} fixes {_cited(vulnerability)} "
            f"(fixed in {listed}): plan to mitigate or replace it, and watch the advisory."
        )
    return (
        f"No fixed release of {name} yet for {_cited(vulnerability)}: plan to mitigate or "
        f"replace it, and watch the advisory."
    )


def rule_info(vulnerability: Vulnerability) -> RuleInfo:
    """How reporters describe the advisory."""
    return RuleInfo(
        id=vulnerability.id,
        title=vulnerability.title,
        kind="vulnerability",
        what=vulnerability.description,
        action=action_text(vulnerability),
        references=(vulnerability.link,) if vulnerability.link else (),
    )


def to_findings(
    result: AdvisoryResult,
    *,
    project: str = ".",
    lockfiles: Mapping[tuple[str, str], Sequence[str]] | None = None,
) -> tuple[Finding, ...]:
    """One finding of kind ``vulnerability`` per advisory and locked package version.

    ``lockfiles`` maps ``(name, locked version)`` to the lockfiles that pin it.
    """
    findings = []
    for v in result.vulnerabilities:
        findings.append(
            Finding(
                rule=v.id,
                project=project,
                package=v.package,
                version=v.version,
                tag=vulnerability_tag(v),
                kind="vulnerability",
                title=v.title,
                action=action_text(v),
                references=(v.link,) if v.link else (),
                lockfiles=tuple((lockfiles or {}).get((v.package, v.version), ())),
                aliases=v.aliases,
                fixed_versions=v.fixed_versions,
            )
        )
    return tuple(findings)
