"""``--online``: the package index's facts about every locked release (fetched on a thread while
the rules are matched), and the API changes of the released wheels the code imports."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from depwatch.model import Finding, HeldBack, IndexFacts, Lockfile, NotChecked, RuleInfo
from depwatch.options import CheckOptions
from depwatch.projects import Project, read_projects

if TYPE_CHECKING:
    from depwatch.evidence import UsageLookup
    from depwatch.index.run import PendingIndex
    from depwatch.matcher import Matcher
    from depwatch.rulebook import RuleBook
    from depwatch.wheels import WheelsResult

__all__ = [
    "IndexStage",
    "OnlineInventory",
    "OnlineStage",
    "index_for",
    "inventory_online",
    "online_findings",
    "start_index",
    "unique_facts",
    "wheel_findings",
    "with_index_facts",
]


@dataclass(frozen=True)
class OnlineInventory:
    """``depwatch packages --online``: the lockfiles, and how far behind the index each
    registry entry is ((name, version) → facts), and what the index did not answer for."""

    items: list[tuple[str, Lockfile]]
    facts: dict[tuple[str, str], IndexFacts]
    not_checked: tuple[NotChecked, ...]


def inventory_online(
    paths: Sequence[str], *, offline: bool = False, index_url: str | None = None
) -> OnlineInventory:
    from depwatch.index.client import clean_index
    from depwatch.index.run import package_facts

    projects = read_projects(paths)
    options = CheckOptions(paths=tuple(paths), online=True, offline=offline, index_url=index_url)
    index = start_index(projects, {}, options)
    facts: dict[tuple[str, str], IndexFacts] = {}
    missing: set[NotChecked] = set()
    try:
        answers = index.answers()
        for project in projects:
            default = clean_index(index_for(project, options))
            for lock in project.lockfiles:
                found, unchecked = package_facts(lock, answers, default, project.files.facts.name)
                facts.update(found)
                missing.update(unchecked)
    finally:
        index.close()
    items = [(p.shown, lock) for p in projects for lock in p.lockfiles]
    return OnlineInventory(
        items, facts, tuple(sorted(missing, key=lambda n: (n.package, n.version or "")))
    )


def index_for(project: Project, options: CheckOptions) -> str:
    from depwatch.index.run import choose_index

    return choose_index(options.index_url, project.settings.index_url)


def start_index(
    projects: Sequence[Project], olds: Mapping[Path, Project], options: CheckOptions
) -> PendingIndex:
    """Start fetching the project pages of every registry entry (the projects at --since
    too) on a background thread."""
    from depwatch.index import IndexSession
    from depwatch.index.run import DEFAULT_MAX_AGE, PendingIndex

    ages = [p.settings.index_max_age for p in projects if p.settings.index_max_age is not None]
    session = IndexSession(
        default_index=index_for(projects[0], options),
        offline=options.offline,
        max_age=float(ages[0] if ages else DEFAULT_MAX_AGE),
    )
    every = [*projects, *olds.values()]
    return PendingIndex(
        session, [(p.lockfiles, index_for(p, options), p.files.facts.name) for p in every]
    )


@dataclass(frozen=True)
class IndexStage:
    """What the index says about one project's entries."""

    findings: list[Finding]
    """The findings given, with the index's (a curated finding that says the same wins)."""
    facts: list[IndexFacts]
    not_checked: list[NotChecked]
    infos: dict[str, RuleInfo]
    warnings: list[str]


def with_index_facts(
    project: Project,
    found: list[Finding],
    matcher: Matcher,
    index: PendingIndex,
    options: CheckOptions,
) -> IndexStage:
    """``found`` with the index's findings on the project's entries (a curated finding that
    says the same wins), the facts, and what was not checked."""
    from depwatch.index.client import clean_index
    from depwatch.index.facts import curated_wins, findings_for, join_held_back

    answers = index.answers()
    default = clean_index(index_for(project, options))
    held: list[HeldBack] = []
    all_facts: list[IndexFacts] = []
    not_checked: list[NotChecked] = []
    for lock in project.lockfiles:
        more, facts, missing, held_here = findings_for(
            lock, matcher, answers, default, project.files.facts.name
        )
        found = found + more
        held += held_here
        all_facts += facts
        not_checked += missing
    warnings = []
    if matcher.ctx.declared is None:
        warnings.append(
            f"{project.shown}: no declared Python version, so the index's Requires-Python "
            "facts were not compared; declare requires-python in pyproject.toml or pass "
            "--python"
        )
    kept = join_held_back(
        curated_wins(found),
        matcher.ctx.held_by_python(held),
        project=matcher.ctx.project,
        declared=matcher.ctx.declared,
        explicit_targets=matcher.ctx.explicit_targets,
    )
    return IndexStage(kept, all_facts, not_checked, _index_infos(kept), warnings)


def _index_infos(findings: Iterable[Finding]) -> dict[str, RuleInfo]:
    from depwatch.index.facts import INDEX_RULES

    return {f.rule: INDEX_RULES[f.rule] for f in findings if f.rule in INDEX_RULES}


def wheel_findings(
    project: Project,
    usage: UsageLookup,
    rulebook: RuleBook,
    index: PendingIndex,
    options: CheckOptions,
    old_project: Project | None = None,
) -> WheelsResult:
    """API changes of the released wheels of the locked packages the code imports (a curated
    rule on the same symbol wins), and what could not be read."""
    facts = usage.counted_facts()
    if not any(ref.kind != "env" for file in facts for ref in file.refs):
        # the code uses nothing a wheel could change: nothing to compare (or to import)
        from depwatch.wheels.result import WheelsResult

        return WheelsResult()
    from depwatch.index.client import clean_index
    from depwatch.index.facts import index_of
    from depwatch.wheels import check_wheels

    curated: dict[str, list[str]] = {}
    for lock in project.lockfiles:
        for pkg in lock.packages:
            if pkg.name in curated:
                continue
            said = curated[pkg.name] = []
            for rule in rulebook.for_package(pkg.name):
                if rule.usage is not None:
                    said += rule.usage.symbols
                    for call in rule.usage.calls:
                        said += [f"{call.name}({k}=)" for k in call.keywords] or [call.name]
    before = {}
    if old_project is not None:  # --since: the version locked then is the first earlier one
        before = {p.name: p.version for lock in old_project.lockfiles for p in lock.packages}
    default = clean_index(index_for(project, options))
    return check_wheels(
        project.lockfiles,
        facts,
        index.session,
        project=project.shown,
        curated=curated,
        own=project.files.facts.name,
        index_for=lambda pkg: index_of(pkg, default),
        before={k: v for k, v in before.items() if v is not None},
    )


def unique_facts(facts: Iterable[IndexFacts]) -> tuple[IndexFacts, ...]:
    return tuple(sorted(set(facts), key=lambda f: (f.package, f.version, f.index)))


@dataclass(frozen=True)
class OnlineStage:
    """One project's findings with the index's and the released wheels' added."""

    findings: list[Finding]
    infos: dict[str, RuleInfo]
    facts: list[IndexFacts]
    not_checked: list[NotChecked]
    """The entries the index did not answer for."""
    wheels_not_checked: list[NotChecked]
    """The wheels that could not be compared."""
    warnings: list[str]


def online_findings(
    project: Project,
    found: list[Finding],
    matcher: Matcher,
    usage: UsageLookup | None,
    rulebook: RuleBook,
    index: PendingIndex,
    options: CheckOptions,
    old_project: Project | None = None,
) -> OnlineStage:
    """``found`` with the index's findings, then (with the usage scan on) the wheels'."""
    stage = with_index_facts(project, found, matcher, index, options)
    found, infos, wheels_missing = stage.findings, dict(stage.infos), []
    if usage is not None:
        wheels = wheel_findings(project, usage, rulebook, index, options, old_project)
        found = found + wheels.findings
        infos.update(wheels.infos)
        wheels_missing = list(wheels.not_checked)
    return OnlineStage(found, infos, stage.facts, stage.not_checked, wheels_missing, stage.warnings)
