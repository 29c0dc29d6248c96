"""The matching stage: one project's lockfiles and interpreter against the rulebook, on the
targets it declares (or ``--python``/``--platform`` name)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from depwatch.fixes import context_of
from depwatch.model import (
    Finding,
    IndexFacts,
    Lockfile,
    NotChecked,
    Package,
    ProjectReport,
    RuleInfo,
)
from depwatch.options import CheckOptions
from depwatch.project import DeclaredPython
from depwatch.projects import Project

if TYPE_CHECKING:
    from depwatch.evidence import UsageLookup
    from depwatch.index.run import PendingIndex
    from depwatch.matcher import Matcher, MatchResult
    from depwatch.rulebook import RuleBook

__all__ = ["Matched", "installed_nowhere", "made_for_targets", "match_project", "project_warnings"]


@dataclass(frozen=True)
class Matched:
    """One project's lockfiles and interpreter matched against the rules (and, with
    ``--online``, against the index and the released wheels)."""

    findings: list[Finding]
    matcher: Matcher
    result: MatchResult
    """The matcher's own findings and notes (before the index's and the wheels')."""
    report: ProjectReport
    infos: dict[str, RuleInfo]
    index_facts: list[IndexFacts] | None = None
    """None without ``--online``."""
    not_checked: list[NotChecked] | None = None
    """The entries the index did not answer for (None without ``--online``)."""
    wheels_not_checked: list[NotChecked] | None = None
    """The wheels that could not be compared (None without ``--online``)."""
    warnings: tuple[str, ...] = ()


def match_project(
    project: Project,
    rulebook: RuleBook,
    options: CheckOptions,
    usage: UsageLookup | None,
    declared: DeclaredPython,
    index: PendingIndex | None = None,
    old_project: Project | None = None,
) -> Matched:
    """Match the lockfiles made for the targets, and the interpreter, on ``declared``; with
    ``index``, add what the index and the wheels say (``old_project``: the project at
    ``--since``, whose versions the wheels are compared from)."""
    from depwatch.matcher import MatchContext, Matcher

    ctx = MatchContext(
        project=project.shown,
        declared=declared.minors,
        explicit_targets=bool(options.pythons or options.platforms),
        platforms=options.platforms,
        today=options.today,
        usage=usage,
        allows=context_of(project).allows,
    )
    matcher = Matcher(rulebook, ctx)
    result = matcher.match([lock for lock in project.lockfiles if made_for_targets(lock, matcher)])
    found = list(result.findings)
    report = ProjectReport(
        root=project.shown,
        requires_python=declared.range,
        lockfiles=tuple(project.lockfiles),
        python_source=declared.source,
    )
    if index is None:
        return Matched(found, matcher, result, report, result.rules)
    from depwatch.online import online_findings

    stage = online_findings(project, found, matcher, usage, rulebook, index, options, old_project)
    return Matched(
        stage.findings,
        matcher,
        result,
        report,
        {**result.rules, **stage.infos},
        stage.facts,
        stage.not_checked,
        stage.wheels_not_checked,
        tuple(stage.warnings),
    )


def made_for_targets(lock: Lockfile, matcher: Matcher) -> bool:
    """Whether the lock was made for any of the targets (uv's ``supported-markers``,
    conda-lock's platforms); a lock that names none is made for all."""
    return not lock.environments or any(
        matcher.admitted(Package(name="", version=None, markers=marker))
        for marker in lock.environments
    )


def installed_nowhere(project: Project, matcher: Matcher, options: CheckOptions) -> list[str]:
    """Lockfiles none of whose entries is installed on the ``--platform``/``--python`` targets
    (a conda lock for linux-64 audited for Windows): nothing in them was checked, and a report
    that only said "nothing at or above immediate" would pass a gate over it."""
    if not (options.platforms or options.pythons):
        return []
    wanted = [f"--platform {p}" for p in options.platforms]
    wanted += [f"--python {p}" for p in options.pythons]
    prefix = "" if project.shown == "." else f"{project.shown}/"
    out = []
    for lock in project.lockfiles:
        versioned = [p for p in lock.packages if p.version is not None]
        if not versioned:
            continue
        if not made_for_targets(lock, matcher):
            out.append(
                f"{prefix}{lock.path}: made for {' or '.join(lock.environments)} only, not "
                f"for {' '.join(wanted)}, so nothing in it was checked"
            )
        elif not any(matcher.admitted(p) for p in versioned):
            out.append(
                f"{prefix}{lock.path}: none of its {len(versioned)} entries is installed on "
                f"{' '.join(wanted)}, so nothing in it was checked"
            )
    return out


def project_warnings(
    project: Project, matched: Matched, usage: UsageLookup | None, options: CheckOptions
) -> tuple[list[str], list[str]]:
    """What the user should know about one project's run (its lockfiles' warnings, what was
    not checked or scanned, the rules skipped), and which of it ``--strict`` fails on."""
    from depwatch.evidence import not_counted_lines

    warnings: list[str] = []
    prefix = "" if project.shown == "." else f"{project.shown}/"
    for lock in project.lockfiles:
        warnings += [f"{prefix}{lock.path}: {w}" for w in lock.warnings]
        if options.verbose:
            warnings += [f"{prefix}{lock.path}: {w}" for w in lock.details]
    gaps = installed_nowhere(project, matched.matcher, options)
    result = matched.result
    warnings += gaps
    if usage is not None and usage.warnings:
        warnings += usage.warnings
        gaps += usage.warnings
    if usage is not None and options.verbose and usage.not_counted:
        warnings += not_counted_lines(usage, prefix)
    if result.skipped_python_rules:
        warnings.append(
            f"{project.shown}: no declared Python version, so "
            f"{len(result.skipped_python_rules)} Python-floor and interpreter rule(s) were "
            "skipped; declare requires-python in pyproject.toml or pass --python"
        )
    if result.usage_unknown:
        warnings.append(
            f"usage scan off: {len(result.usage_unknown)} rule(s) with usage conditions "
            "could not be tied to code and give monitor at most"
        )
    if options.verbose and result.not_pep440:
        warnings += [f"not a PEP 440 version, matched by no rule: {x}" for x in result.not_pep440]
    return warnings, gaps
