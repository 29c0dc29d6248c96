"""Inventory × rules × project facts → findings, with the tag decided as DESIGN.md says.

Rules are looked up by package name (an index), so the cost is the number of locked entries
plus the rules of the packages actually locked, never the size of the whole rulebook.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Protocol

from packaging.version import Version

from depwatch.heldback import HELD_BACK_INFO, HELD_BACK_RULE, fold_held_back, join
from depwatch.locked import dev_only, lock_context
from depwatch.model import (
    Evidence,
    Finding,
    HeldBack,
    Lockfile,
    Package,
    RuleInfo,
    Tag,
)
from depwatch.passed_on import passed_on
from depwatch.pythons import UNDECLARED_PYTHONS, admitted_minors, excluded_minors
from depwatch.rulebook.model import Rule, Usage
from depwatch.targets import PLATFORMS, _labels
from depwatch.targets import _admits as _admits  # index/facts.py imports it from here

__all__ = [
    "HELD_BACK_RULE",
    "PLATFORMS",
    "MatchContext",
    "MatchResult",
    "Matcher",
    "RuleSource",
    "dev_only",
    "fold_held_back",
    "lock_context",
    "passed_on",
    "rule_info",
]
_YEAR = datetime.timedelta(days=365)


class RuleSource(Protocol):
    """What the matcher needs of a rulebook."""

    def for_package(self, name: str) -> Sequence[Rule]: ...

    def interpreter_rules(self) -> Sequence[Rule]: ...


UsageLookup = Callable[[Usage], tuple[Evidence, ...]]


@dataclass(frozen=True, slots=True)
class MatchContext:
    """The project facts a rule's condition is judged against."""

    project: str
    declared: tuple[str, ...] | None
    """Declared CPython minors (``3.10``), or None when the project declares none."""
    explicit_targets: bool = False
    """True when ``--python``/``--platform`` chose the targets."""
    platforms: tuple[str, ...] = ()
    """``--platform`` values; empty means every platform."""
    today: datetime.date = field(default_factory=datetime.date.today)
    usage: UsageLookup | None = None
    """Finds a rule's usage in the project's code; None when the scan is off."""
    allows: Callable[[str, str, tuple[str, ...]], bool] | None = None
    """Whether the project's own constraints admit (package, version) in those lockfiles: a
    newer release they exclude is not held back by a Python. None: not known (all are)."""

    def held_by_python(self, held: Iterable[HeldBack]) -> list[HeldBack]:
        """The items of ``held`` whose newer release the project's own constraints admit."""
        allows = self.allows
        return [h for h in held if allows is None or allows(h.package, h.newer, h.lockfiles)]


@dataclass(frozen=True, slots=True)
class MatchResult:
    """What matching gives: findings, and what the report says about how they were found."""

    findings: tuple[Finding, ...] = ()
    held_back: tuple[HeldBack, ...] = ()
    """"Newer releases drop Python X" facts of the lockfiles matched (the interpreter pass
    joins them into its findings)."""
    not_pep440: tuple[str, ...] = ()
    """Locked entries whose version is not PEP 440 (``jax 9e in uv.lock``): no rule matches."""
    skipped_python_rules: frozenset[str] = frozenset()
    """Python-floor and interpreter rules skipped for want of a declared Python."""
    usage_unknown: frozenset[str] = frozenset()
    """Rules with usage conditions judged without the usage scan (monitor at most)."""

    @property
    def rules(self) -> dict[str, RuleInfo]:
        """The descriptions of the rules the findings come from, by id."""
        return {f.rule: f.info for f in self.findings if f.info is not None}

    def __add__(self, other: MatchResult) -> MatchResult:
        return MatchResult(
            self.findings + other.findings,
            self.held_back + other.held_back,
            self.not_pep440 + other.not_pep440,
            self.skipped_python_rules | other.skipped_python_rules,
            self.usage_unknown | other.usage_unknown,
        )


@dataclass(slots=True)
class _Notes:
    """What one matching call gathers besides its findings (made into a :class:`MatchResult`)."""

    held_back: list[HeldBack] = field(default_factory=list)
    not_pep440: list[str] = field(default_factory=list)
    skipped_python_rules: set[str] = field(default_factory=set)
    usage_unknown: set[str] = field(default_factory=set)

    def result(self, findings: Iterable[Finding]) -> MatchResult:
        return MatchResult(
            tuple(findings),
            tuple(self.held_back),
            tuple(self.not_pep440),
            frozenset(self.skipped_python_rules),
            frozenset(self.usage_unknown),
        )


def rule_info(rule: Rule) -> RuleInfo:
    """The human text of a rule, for reporters."""
    return RuleInfo(
        id=rule.id,
        title=rule.title,
        kind=rule.kind,
        what=rule.what,
        why=rule.why,
        action=rule.action,
        references=rule.references,
    )


class Matcher:
    """Matches one project's lockfiles and declared Python against a rulebook."""

    def __init__(self, rules: RuleSource, ctx: MatchContext) -> None:
        self.rules = rules
        self.ctx = ctx
        self._infos: dict[str, RuleInfo] = {}
        """One description per rule, shared by its findings."""

    def match(self, lockfiles: Sequence[Lockfile]) -> MatchResult:
        """Every lockfile's findings, then the interpreter's (which take the lockfiles'
        "newer releases drop Python X" facts and judge lock conditions on all of them)."""
        matched = MatchResult()
        for lock in lockfiles:
            matched += self.match_lockfile(lock)
        return matched + self.match_interpreter(lockfiles, matched.held_back)

    def _info(self, rule: Rule) -> RuleInfo:
        info = self._infos.get(rule.id)
        if info is None:
            info = self._infos[rule.id] = rule_info(rule)
        return info

    # -- targets -------------------------------------------------------------------------

    def _pythons(self) -> tuple[str, ...]:
        return self.ctx.declared if self.ctx.declared else UNDECLARED_PYTHONS

    def _targets(self, pkg: Package) -> tuple[str, ...] | None:
        """The targets an entry is limited to; None when it concerns every target."""
        if not pkg.markers and not self.ctx.explicit_targets:
            return None
        pythons = self._pythons()
        admitted = self._admitted_pairs(pkg, pythons)
        if not admitted:
            return None  # installed on no target we judge: every entry counts, unlabelled
        if not self.ctx.explicit_targets and len(admitted) == len(pythons) * len(self._platforms()):
            return None
        return _labels(admitted, pythons, self._platforms(), with_platform=bool(self.ctx.platforms))

    def _platforms(self) -> Sequence[str]:
        return self.ctx.platforms or list(PLATFORMS)

    def _admitted_pairs(self, pkg: Package, pythons: Sequence[str]) -> list[tuple[str, str]]:
        """The (Python, platform) targets among ``pythons`` the entry is installed on."""
        platforms = self._platforms()
        return [(py, pl) for py in pythons for pl in platforms if _admits(pkg.markers, py, pl)]

    def _labels_for(self, pkg: Package, pythons: Sequence[str]) -> tuple[str, ...]:
        """Target labels for ``pythons``, each with the platforms the entry is installed on."""
        admitted = self._admitted_pairs(pkg, pythons)
        return _labels(admitted, pythons, self._platforms(), with_platform=bool(self.ctx.platforms))

    def admitted(self, pkg: Package) -> bool:
        """Whether an entry is installed on any explicitly chosen target."""
        if not self.ctx.explicit_targets or not pkg.markers:
            return True
        platforms: Sequence[str | None] = self.ctx.platforms or [None]
        return any(_admits(pkg.markers, py, pl) for py in self._pythons() for pl in platforms)

    # -- packages ------------------------------------------------------------------------

    def match_lockfile(self, lock: Lockfile) -> MatchResult:
        findings = []
        notes = _Notes()
        for pkg in lock.packages:
            if pkg.version is None:
                continue
            rules = self.rules.for_package(pkg.name)
            version = pkg.parsed_version
            if version is None:  # not PEP 440, or a number past the digit limit
                # Listed whether or not a rule names the package (conda's ``9e``): no rule
                # can match it, now or after a rule update.
                if self.admitted(pkg):
                    notes.not_pep440.append(f"{pkg.name} {pkg.version} in {lock.path}")
                continue
            if not rules or not self.admitted(pkg):
                continue
            for rule in rules:
                finding = self._evaluate(rule, pkg, version, lock, notes)
                if finding is not None:
                    findings.append(finding)
        return notes.result(findings)

    def _evaluate(
        self, rule: Rule, pkg: Package, version: Version, lock: Lockfile, notes: _Notes
    ) -> Finding | None:
        inside = rule.affected.contains(version, prereleases=True)
        below = not inside and rule.boundary is not None and version < rule.boundary
        if not (inside or below):
            return None
        applies, usage = lock_context(rule, lock.packages, self.admitted)
        if not applies:
            return None
        targets = self._targets(pkg)
        evidence: tuple[Evidence, ...] = ()
        tag: Tag | None = None
        action = rule.action if inside or rule.action_below is None else rule.action_below
        if rule.python_requires is None and usage is None:
            tag = rule.tag if inside else None
        else:
            bad: list[str] = []
            if rule.python_requires is not None:
                if self.ctx.declared is None:
                    notes.skipped_python_rules.add(rule.id)
                else:
                    bad = [
                        py
                        for py in excluded_minors(rule.python_requires, self.ctx.declared)
                        if any(_admits(pkg.markers, py, pl) for pl in self.ctx.platforms or [None])
                    ]
            if usage is not None:
                if self.ctx.usage is None:
                    notes.usage_unknown.add(rule.id)
                else:
                    evidence = passed_on(usage, self.ctx.usage(usage))
            if bad and not inside and not evidence:
                # "Newer releases drop Python X": joins the interpreter finding for X, unless
                # the lock already splits the package by Python (a newer release elsewhere).
                if not self._split(rule, pkg, lock):
                    notes.held_back.append(_held_back(rule, pkg, bad, lock))
                return None
            if bad or evidence:
                tag = rule.tag if inside else Tag.PLAN
                if bad:
                    targets = self._labels_for(pkg, bad)
                    if inside:
                        action = self._floor_action(rule, pkg)
            elif inside and rule.python_requires is None and rule.when_unused == "monitor":
                tag = Tag.MONITOR
        if tag is None:
            return None
        info = self._info(rule)
        return Finding(
            rule=rule.id,
            project=self.ctx.project,
            package=pkg.name,
            version=pkg.version or "",
            tag=tag,
            kind=info.kind,
            title=info.title,
            action=action,
            references=info.references,
            lockfiles=(lock.path,),
            targets=targets,
            evidence=evidence,
            versions=(pkg.version or "",),
            info=info,
        )

    def _split(self, rule: Rule, pkg: Package, lock: Lockfile) -> bool:
        """Whether ``lock`` also holds ``pkg`` at a release at or past the rule's boundary."""
        for other in lock.packages:
            if other.name != pkg.name or other.version in (None, pkg.version):
                continue
            version = other.parsed_version
            if version is None:  # not PEP 440
                continue
            if rule.affected.contains(version, prereleases=True) or (
                rule.boundary is not None and version >= rule.boundary
            ):
                return True
        return False

    def _floor_action(self, rule: Rule, pkg: Package) -> str:
        """The action of a Python-floor finding, naming the Pythons this project must drop."""
        assert rule.python_requires is not None
        assert self.ctx.declared is not None
        drop = excluded_minors(rule.python_requires, self.ctx.declared)
        floor = admitted_minors(rule.python_requires)
        if not drop or not floor:
            return rule.action
        keep = (
            f"lock {pkg.name}<{rule.boundary} for python_version < '{floor[0]}' with an "
            f"environment marker and {rule.boundary} or later elsewhere"
            if rule.boundary is not None
            else f"lock a release of {pkg.name} that still supports Python {join(drop)}"
        )
        return f"Drop Python {join(drop)} (raise requires-python to >={floor[0]}), or {keep}."

    # -- the interpreter -----------------------------------------------------------------

    def match_interpreter(
        self, lockfiles: Sequence[Lockfile] = (), held_back: Iterable[HeldBack] = ()
    ) -> MatchResult:
        """The interpreter rules' findings, with the lockfiles' ``held_back`` facts joined in
        (``lockfiles``: where lock conditions are judged)."""
        findings = []
        notes = _Notes()
        locked = [pkg for lock in lockfiles for pkg in lock.packages]
        for rule in self.rules.interpreter_rules():
            if self.ctx.declared is None:
                notes.skipped_python_rules.add(rule.id)
                continue
            concerned = sorted(  # the lowest first: it names the finding (DESIGN.md)
                (
                    py
                    for py in self.ctx.declared
                    if rule.affected.contains(Version(py), prereleases=True)
                ),
                key=Version,
            )
            applies, usage = lock_context(rule, locked, self.admitted)
            if not applies:
                continue
            evidence: tuple[Evidence, ...] = ()
            tag: Tag | None = rule.tag
            action = rule.action
            if not concerned:
                # Every declared Python is older than the change: the move past the boundary
                # will break the code that uses what it removes.
                boundary = rule.boundary
                older = [py for py in self.ctx.declared if boundary and Version(py) < boundary]
                if not older or usage is None or self.ctx.usage is None:
                    continue
                # code that runs on the Python past the boundary is what the move breaks
                assert boundary is not None
                past = (f"{boundary.major}.{boundary.minor}",)
                evidence = passed_on(usage, _usage_on(self.ctx.usage, usage, past))
                if not evidence:
                    continue
                concerned, tag = [older[-1]], Tag.PLAN
                action = rule.action_below or rule.action
            if rule.eol is not None:
                if self.ctx.today < rule.eol - _YEAR:
                    tag = None
                elif self.ctx.today < rule.eol:
                    tag = Tag.MONITOR
            if tag is not None and usage is not None and not evidence:
                if self.ctx.usage is None:
                    notes.usage_unknown.add(rule.id)
                    tag = Tag.MONITOR
                else:
                    evidence = passed_on(usage, _usage_on(self.ctx.usage, usage, concerned))
                    if not evidence:
                        tag = Tag.MONITOR if rule.when_unused == "monitor" else None
            if tag is None:
                continue
            info = self._info(rule)
            findings.append(
                Finding(
                    rule=rule.id,
                    project=self.ctx.project,
                    package="python",
                    version=concerned[0],
                    tag=tag,
                    kind=info.kind,
                    title=info.title,
                    action=action,
                    references=info.references,
                    lockfiles=(),
                    targets=tuple(concerned) if self.ctx.explicit_targets else None,
                    evidence=evidence,
                    info=info,
                )
            )
        held = self.ctx.held_by_python(held_back)
        if held and self.ctx.declared:
            findings = [
                replace(f, info=HELD_BACK_INFO) if f.rule == HELD_BACK_RULE else f
                for f in fold_held_back(
                    findings,
                    held,
                    project=self.ctx.project,
                    declared=self.ctx.declared,
                    explicit_targets=self.ctx.explicit_targets,
                )
            ]
        return notes.result(findings)


def _held_back(rule: Rule, pkg: Package, bad: Sequence[str], lock: Lockfile) -> HeldBack:
    newer = str(rule.boundary) if rule.boundary is not None else str(rule.affected)
    return HeldBack(
        package=pkg.name,
        version=pkg.version or "",
        newer=newer,
        pythons=tuple(bad),
        dev=dev_only(pkg),
        lockfiles=(lock.path,),
        rule=rule.id,
    )


def _usage_on(lookup: UsageLookup, usage: Usage, pythons: Sequence[str]) -> tuple[Evidence, ...]:
    """The evidence of ``usage`` in code that runs on ``pythons`` (where an interpreter change
    bites), when the lookup can tell; else all of it."""
    narrowed = getattr(lookup, "on", None)
    return narrowed(usage, tuple(pythons)) if narrowed is not None else lookup(usage)
