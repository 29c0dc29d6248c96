"""The pipeline: read → load rules → match → scan usage → ask the index → advise → gate.

The CLI calls :func:`check` or :func:`inventory` and hands the result to a reporter; nothing
here prints. Each stage lives in a module of its own and returns a value (projects, since,
evidence, matching, online, vulns, policy, fixes); this module only joins them.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from depwatch import policy
from depwatch.errors import ExitCode
from depwatch.files import repository_top
from depwatch.model import Finding, IndexFacts, NotChecked, ProjectReport, Report, RuleInfo
from depwatch.options import CheckOptions, say
from depwatch.project import DeclaredPython, declared_python
from depwatch.projects import (
    Project,
    inventory,
    read_projects,
    with_declaration_line,
    with_lines,
)

if TYPE_CHECKING:
    from depwatch.index.run import PendingIndex
    from depwatch.rulebook import RuleBook
    from depwatch.settings import IgnoreEntry

__all__ = ["CheckOptions", "Outcome", "Project", "check", "inventory", "read_projects"]


@dataclass(frozen=True)
class Outcome:
    """A finished check: the report, the exit code, and the gaps ``--strict`` fails on."""

    report: Report
    exit_code: ExitCode
    gaps: tuple[str, ...] = ()
    error: str | None = None
    """Why the run cannot be trusted though it produced a report (exit 2): ``--vulns`` where
    nothing at all could be audited."""
    quiet: bool = False
    """True for a hook run that found no lockfile: nothing to say."""


@dataclass(frozen=True)
class _Audited:
    """One project matched (against the index too with ``--online``), before the gate."""

    project: Project
    declared: DeclaredPython
    report: ProjectReport
    findings: list[Finding]
    unchanged: list[Finding]
    """With ``--since``: findings there before the change (not reported, but an ignore that
    matches one is in use, not stale)."""
    resolved: list[Finding]
    infos: dict[str, RuleInfo]
    warnings: list[str]
    gaps: list[str]
    """What ``--strict`` fails on."""
    ignores: list[IgnoreEntry]
    index_facts: list[IndexFacts] | None
    not_checked: list[NotChecked] | None


def _audit_project(
    project: Project,
    rulebook: RuleBook,
    options: CheckOptions,
    old: Project | None,
    index: PendingIndex | None,
) -> _Audited:
    """Match one project (and, with ``--since``, the same project at the revision)."""
    from depwatch.evidence import check_globs, usage_lookup
    from depwatch.matching import match_project, project_warnings
    from depwatch.merge import merge

    exclude = (*project.settings.exclude, *options.exclude)
    check_globs(project, exclude)
    declared = declared_python(project.files, project.lockfiles, options.pythons)
    usage = None
    if options.usage:
        usage = usage_lookup(
            project, rulebook, exclude, options, declared=declared.minors, online=bool(index)
        )
    now = match_project(project, rulebook, options, usage, declared, index, old)
    found, infos, unchanged, resolved = now.findings, now.infos, [], []
    not_checked = (
        None if index is None else [*(now.not_checked or ()), *(now.wheels_not_checked or ())]
    )
    if old is not None:  # the same project at the revision, matched the same way
        from depwatch.since import since_filter

        old_declared = declared_python(old.files, old.lockfiles, options.pythons)
        before = match_project(old, rulebook, options, usage, old_declared, index)
        infos = {**infos, **before.infos}
        if not_checked is not None:
            not_checked += before.wheels_not_checked or ()
        split = since_filter(merge(found), merge(before.findings))
        found, unchanged, resolved = split.new, split.unchanged, split.resolved
    found = with_declaration_line(with_lines(merge(found), project), project)
    warnings, gaps = project_warnings(project, now, usage, options)
    return _Audited(
        project, declared, now.report, found, unchanged, resolved, infos,
        [*now.warnings, *warnings], gaps, policy.ignores_of(project.settings, options.ignore),
        now.index_facts, not_checked,
    )  # fmt: skip


def check(options: CheckOptions) -> Outcome:
    """Run ``depwatch check``."""
    from depwatch import fixes
    from depwatch.online import start_index, unique_facts
    from depwatch.rulebook import load_rulebook
    from depwatch.vulns import start_vulns, vulnerabilities

    projects = read_projects(options.paths, hook=options.hook)
    if not projects:
        return Outcome(Report(projects=(), findings=()), ExitCode.OK, quiet=True)
    olds: dict[Path, Project] = {}
    if options.since:  # the projects as they were then (read first: pip-audit audits them too)
        from depwatch.since import old_project

        olds = {p.root: old_project(p, options.since) for p in projects}
    # pip-audit starts first and runs while the rules are matched and the code is scanned.
    pending = start_vulns([*projects, *olds.values()], options) if options.vulns else None
    # The index pages are fetched on a thread meanwhile (--online), overlapping pip-audit.
    online = options.offline or (
        options.online if options.online is not None else any(p.settings.online for p in projects)
    )
    index = start_index(projects, olds, options) if online else None
    say(options, "Loading the rules")
    extra_dirs = list(options.rules_dirs)
    for project in projects:
        extra_dirs += [d for d in project.settings.rules if d not in extra_dirs]
    # The rules cache is never written into an audited project (issue 19).
    rulebook = load_rulebook(extra_dirs, protect=[p.root for p in projects])
    audited: list[_Audited] = []
    try:
        for project in projects:
            say(options, f"Matching the rules and scanning the code of {project.shown}")
            audited.append(
                _audit_project(project, rulebook, options, olds.get(project.root), index)
            )
    finally:
        if index is not None:
            index.close()
    warnings = [w for a in audited for w in a.warnings]
    gaps = [g for a in audited for g in a.gaps]
    infos = {k: v for a in audited for k, v in a.infos.items()}
    resolved = [f for a in audited for f in a.resolved]
    vulns = None
    if pending is not None:
        say(options, "Waiting for the vulnerability audit (pip-audit)")
        vulns = vulnerabilities(pending, projects, [olds[p.root] for p in projects] if olds else ())
        audited = [
            replace(
                a, findings=a.findings + with_lines(found, a.project), unchanged=a.unchanged + same
            )
            for a, found, same in zip(audited, vulns.findings, vulns.unchanged, strict=True)
        ]
        infos.update(vulns.infos)
        resolved += vulns.resolved
        warnings += vulns.warnings
        gaps += vulns.gaps
    not_checked = None
    if index is not None:
        missing = {n for a in audited for n in a.not_checked or ()}
        not_checked = sorted(missing, key=lambda n: (n.package, n.version or ""))
        gaps += [
            f"not checked on the index: {n.package} {n.version or ''} ({n.reason})"
            for n in not_checked
        ]
    gate = policy.gate(
        [policy.Gated(a.findings, a.ignores, a.unchanged) for a in audited],
        today=options.today,
        baseline=options.baseline,
    )
    warnings += gate.expired
    gaps += gate.gaps
    kept = [
        fixes.with_fixes(mine, fixes.context_of(a.project, rulebook, a.declared.minors))
        for a, mine in zip(audited, gate.findings, strict=True)
    ]
    fail_on, by_project = policy.fail_on_of(
        options.fail_on, {p.shown: p.settings for p in projects}
    )
    report = Report(
        projects=tuple(a.report for a in audited),
        findings=tuple(sorted((f for mine in kept for f in mine), key=Finding.sort_key)),
        rules={k: infos[k] for k in sorted(infos)},
        suppressed=tuple(sorted(gate.suppressed, key=lambda s: (s.project, s.rule, s.package))),
        stale_ignores=gate.stale,
        not_audited=vulns.not_audited if vulns else None,
        not_checked=None if not_checked is None else tuple(not_checked),
        index_facts=None
        if index is None
        else unique_facts(f for a in audited for f in a.index_facts or ()),
        resolved=tuple(sorted(resolved, key=Finding.sort_key)) if options.since else None,
        warnings=tuple(warnings),
        fail_on=fail_on,
        fail_on_by_project=by_project,
        repo_root=top.as_posix() if (top := repository_top(Path.cwd())) else None,
        run_folder=Path.cwd().as_posix(),
    )
    blind = vulns.blind if vulns else None
    code = max(
        policy.exit_code(
            mine, report.fail_on_for(a.project.shown), gaps=gaps, strict=options.strict
        )
        for a, mine in zip(audited, kept, strict=True)
    )
    if blind:
        code = ExitCode.ERROR
    return Outcome(report, code, tuple(gaps), error=blind)
