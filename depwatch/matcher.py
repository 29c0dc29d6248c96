"""Inventory × rules × project facts → findings, with the tag decided as DESIGN.md says.

Rules are looked up by package name (an index), so the cost is the number of locked entries
plus the rules of the packages actually locked, never the size of the whole rulebook.
"""

from __future__ import annotations

import ast
import datetime
import functools
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Protocol

from packaging.markers import Marker, default_environment
from packaging.version import Version

from depwatch.heldback import HELD_BACK_INFO, HELD_BACK_RULE, fold_held_back, join, version_key
from depwatch.model import (
    Evidence,
    Finding,
    HeldBack,
    Lockfile,
    Package,
    RuleInfo,
    Tag,
    parse_markers,
)
from depwatch.pythons import UNDECLARED_PYTHONS, admitted_minors, excluded_minors
from depwatch.rulebook.model import LockCondition, Rule, Usage

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

#: Group names that mean "installed at run time" (uv, poetry and conda ``main``; pipenv and
#: pdm ``default``); an entry in none of them, but in some group, is a development tool.
RUNTIME_GROUPS = frozenset({"main", "default"})

#: ``--platform`` names and the marker values they stand for.
PLATFORMS: dict[str, dict[str, str]] = {
    "linux": {"sys_platform": "linux", "platform_system": "Linux", "os_name": "posix"},
    "macos": {"sys_platform": "darwin", "platform_system": "Darwin", "os_name": "posix"},
    "windows": {"sys_platform": "win32", "platform_system": "Windows", "os_name": "nt"},
}
_QUOTED = re.compile(r"""['"]([^'"]*)['"]""")
#: platform_machine values per --platform: the 64-bit Intel name, then the ARM one.
_MACHINES: tuple[dict[str, str], ...] = (
    {"linux": "x86_64", "macos": "x86_64", "windows": "AMD64"},
    {"linux": "aarch64", "macos": "arm64", "windows": "ARM64"},
)
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


def dev_only(pkg: Package) -> bool:
    """Whether an entry is only in development groups (a lock that records no groups, like a
    requirements file, says nothing: its entries are not development-only)."""
    groups = [group for group in pkg.groups if group != "constraint"]
    return bool(groups) and not any(group in RUNTIME_GROUPS for group in groups)


def _holds(
    condition: LockCondition, packages: Iterable[Package], admitted: Callable[[Package], bool]
) -> bool:
    """Whether an entry of ``packages`` satisfies ``condition``."""
    for pkg in packages:
        if pkg.name != condition.package or pkg.version is None or not admitted(pkg):
            continue
        if condition.runtime and (dev_only(pkg) or pkg.groups == ("constraint",)):
            continue
        if condition.versions is not None:
            version = pkg.parsed_version
            if version is None:  # not PEP 440
                continue
            if not condition.versions.contains(version, prereleases=True):
                continue
        return True
    return False


def lock_context(
    rule: Rule,
    packages: Sequence[Package],
    admitted: Callable[[Package], bool] = lambda pkg: True,
) -> tuple[bool, Usage | None]:
    """Whether ``rule`` concerns a lock holding ``packages``, and the usage it looks for there.

    Every ``when-locked`` condition must hold. An ``unless-locked`` condition that holds
    silences the rule, or, with ``symbols``, takes those names (and calls below them) out of the
    rule's usage; a usage left with nothing to look for silences the rule too.
    """
    usage = rule.usage
    if not rule.when_locked and not rule.unless_locked:
        return True, usage
    if not all(_holds(cond, packages, admitted) for cond in rule.when_locked):
        return False, usage
    for cond in rule.unless_locked:
        if not _holds(cond, packages, admitted):
            continue
        if not cond.symbols or usage is None:
            return False, usage

        def covered(name: str, symbols: tuple[str, ...] = cond.symbols) -> bool:
            return any(name == s or name.startswith(s + ".") for s in symbols)

        usage = usage._replace(
            symbols=tuple(name for name in usage.symbols if not covered(name)),
            calls=tuple(call for call in usage.calls if not covered(call.name)),
        )
        if not (usage.symbols or usage.calls or usage.env):
            return False, usage
    return True, usage


def passed_on(usage: Usage, evidence: tuple[Evidence, ...]) -> tuple[Evidence, ...]:
    """``evidence`` without the calls whose result goes straight to a call the pattern names in
    ``not-passed-to`` (``model.load_state_dict(torch.load(p))``).

    Judged on the evidence's source line: a line that does not parse on its own (a statement
    over several lines), or a call of that name on it that is not passed straight on, keeps
    the evidence — when in doubt, it stays.
    """
    patterns = [call for call in usage.calls if call.not_passed_to]
    if not patterns or not evidence:
        return evidence
    kept = []
    for item in evidence:
        symbol = item.symbol or ""
        drop = any(
            (symbol == p.name or symbol.startswith(p.name + "("))
            and _only_passed_to(item.code, p.name.rsplit(".", 1)[-1], p.not_passed_to)
            for p in patterns
        )
        if not drop:
            kept.append(item)
    return tuple(kept)


def _last_name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Name):
        return node.id
    return None


@functools.lru_cache(maxsize=1024)
def _only_passed_to(code: str, name: str, targets: tuple[str, ...]) -> bool:
    """Whether every call of ``name`` on the line ``code`` is an argument of a call to one of
    ``targets`` (by their last names)."""
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError):
        return False
    passed: set[int] = set()
    calls = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        if _last_name(node.func) == name:
            calls.append(node)
        if _last_name(node.func) in targets:
            passed.update(id(arg) for arg in [*node.args, *(kw.value for kw in node.keywords)])
    return bool(calls) and all(id(call) in passed for call in calls)


@functools.lru_cache(maxsize=1024)
def _marker(markers: str) -> Marker | None:
    """``markers`` parsed once, whatever the targets it is judged for; None when unreadable.

    A uv.lock entry's markers are those of its dependency paths, often dozens of clauses: a
    parse costs up to a millisecond, and each entry is judged for every declared Python.
    """
    parsed = parse_markers(markers)  # the entry's own parse (cached where readers made it)
    return None if isinstance(parsed, str) else parsed


@functools.lru_cache(maxsize=4096)
def _admits(markers: str | None, python: str, platform: str | None) -> bool:
    """Whether an entry with ``markers`` is installed on ``python`` (and ``platform``)."""
    if not markers:
        return True
    marker = _marker(markers)
    if marker is None:
        return True  # a marker we cannot read limits nothing we can prove
    platforms = [platform] if platform else list(PLATFORMS)
    # Extras and dependency groups are the project's choice, not a target's: admit them all.
    names = frozenset(_QUOTED.findall(markers))
    # A platform is every machine it runs on (a conda lock's osx-arm64 entry is macOS too),
    # never the machine depwatch happens to run on.
    machines = _MACHINES if "platform_machine" in markers else _MACHINES[:1]
    extras = ["", *names] if "extra" in markers else [""]
    env: dict[str, object] = dict(default_environment())
    env.update(
        python_version=python,
        implementation_name="cpython",
        platform_python_implementation="CPython",
        extras=names,
        dependency_groups=names,
    )
    for full_version in _patch_releases(markers, python):
        env["python_full_version"] = full_version
        for name in platforms:
            env.update(PLATFORMS[name])
            for machine in machines:
                env["platform_machine"] = machine[name]
                for extra in extras:
                    env["extra"] = extra
                    try:
                        if marker.evaluate(env, "lock_file"):  # type: ignore[arg-type]
                            return True
                    except Exception:  # an unevaluable marker limits nothing we can prove
                        return True
    return False


def _patch_releases(markers: str, python: str) -> list[str]:
    """The ``python_full_version`` values a minor is judged at: its first release and, when the
    markers compare patch releases of that minor (``python_full_version >= "3.9.2"``), each
    release they name, the one after it and a late one — so that a minor is admitted when any
    of its patch releases is. Markers that name no release of the minor are judged once."""
    first = f"{python}.0"
    if "python_full_version" not in markers:
        return [first]
    major, minor = (int(part) for part in python.split("."))
    probes: set[Version] = set()
    for text in _QUOTED.findall(markers):
        try:
            named = Version(text)
        except ValueError:  # InvalidVersion, or a number past the digit limit
            continue
        if named.release[:2] != (major, minor):
            continue
        patch = named.release[2] if len(named.release) > 2 else 0
        probes.update({named, Version(f"{python}.{patch + 1}"), Version(f"{python}.99")})
    if not probes:
        return [first]
    probes.add(Version(first))
    return [str(probe) for probe in sorted(probes)]


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


def _labels(
    admitted: Iterable[tuple[str, str | None]],
    pythons: Sequence[str],
    platforms: Sequence[str | None],
    *,
    with_platform: bool,
) -> tuple[str, ...]:
    """Readable target labels: ``3.10`` where every platform is admitted, else ``3.10/linux``."""
    by_python: dict[str, list[str | None]] = {}
    for py, pl in admitted:
        by_python.setdefault(py, []).append(pl)
    labels = []
    for py in pythons:
        pls = by_python.get(py)
        if not pls:
            continue
        if len(pls) == len(platforms) and not with_platform:
            labels.append(py)
        else:
            labels += [f"{py}/{pl}" if pl else py for pl in pls]
    return tuple(labels)


def merge(findings: Iterable[Finding]) -> list[Finding]:
    """One finding per (project, rule, package) — per Python for interpreter findings: every
    lock entry it concerns in ``versions``
    (those of the most urgent tag first, then by version; ``version`` is the first),
    lockfiles, targets and evidence united."""
    grouped: dict[tuple[str, str, str, str], list[Finding]] = {}
    for finding in findings:
        # An interpreter finding is about one Python (its version): never joined with another.
        python = finding.version if finding.package == "python" and not finding.lockfiles else ""
        key = (finding.project, finding.rule, finding.package, python)
        grouped.setdefault(key, []).append(finding)
    merged = []
    for group in grouped.values():
        if len(group) == 1:
            only = group[0]
            merged.append(only if only.versions else replace(only, versions=(only.version,)))
            continue
        group.sort(key=lambda f: (f.tag.rank, version_key(f.version)))
        first = group[0]
        versions = tuple(dict.fromkeys(v for f in group for v in (f.versions or (f.version,))))
        lockfiles = tuple(dict.fromkeys(lf for f in group for lf in f.lockfiles))
        targets: tuple[str, ...] | None = None
        if all(f.targets is not None for f in group):
            targets = tuple(dict.fromkeys(t for f in group for t in f.targets or ()))
        evidence = {(e.path, e.cell or 0, e.line, e.column): e for f in group for e in f.evidence}
        held = {(h.package, h.version): h for f in group for h in f.held_back}
        merged.append(
            replace(
                first,
                versions=versions,
                lockfiles=lockfiles,
                targets=targets,
                evidence=tuple(evidence[k] for k in sorted(evidence)),
                held_back=tuple(held.values()),
            )
        )
    return sorted(merged, key=Finding.sort_key)
