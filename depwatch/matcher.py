"""Inventory × rules × project facts → findings, with the tag decided as DESIGN.md says.

Rules are looked up by package name (an index), so the cost is the number of locked entries
plus the rules of the packages actually locked, never the size of the whole rulebook.
"""

from __future__ import annotations

import datetime
import functools
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Protocol

from packaging.markers import InvalidMarker, Marker, default_environment
from packaging.version import Version

from depwatch.model import Evidence, Finding, Lockfile, Package, RuleInfo, Tag
from depwatch.project import CANDIDATE_PYTHONS, excluded_minors
from depwatch.rulebook.model import Rule, Usage

__all__ = ["PLATFORMS", "MatchContext", "Matcher", "RuleSource", "rule_info"]

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


@functools.lru_cache(maxsize=1024)
def _marker(markers: str) -> Marker | None:
    """``markers`` parsed once, whatever the targets it is judged for; None when unreadable.

    A uv.lock entry's markers are those of its dependency paths, often dozens of clauses: a
    parse costs up to a millisecond, and each entry is judged for every declared Python.
    """
    try:
        return Marker(markers)
    except InvalidMarker:
        return None


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
        self.infos: dict[str, RuleInfo] = {}
        self.not_pep440: list[str] = []
        self.skipped_python_rules: set[str] = set()
        self.usage_unknown: set[str] = set()

    # -- targets -------------------------------------------------------------------------

    def _pythons(self) -> tuple[str, ...]:
        return self.ctx.declared if self.ctx.declared else CANDIDATE_PYTHONS[8:]

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

    def match_lockfile(self, lock: Lockfile) -> list[Finding]:
        findings = []
        for pkg in lock.packages:
            if pkg.version is None:
                continue
            rules = self.rules.for_package(pkg.name)
            try:
                version = Version(pkg.version)
            except ValueError:  # InvalidVersion, or a number past the digit limit
                # Listed whether or not a rule names the package (conda's ``9e``): no rule
                # can match it, now or after a rule update.
                if self.admitted(pkg):
                    self.not_pep440.append(f"{pkg.name} {pkg.version} in {lock.path}")
                continue
            if not rules or not self.admitted(pkg):
                continue
            for rule in rules:
                finding = self._evaluate(rule, pkg, version, lock)
                if finding is not None:
                    findings.append(finding)
        return findings

    def _evaluate(
        self, rule: Rule, pkg: Package, version: Version, lock: Lockfile
    ) -> Finding | None:
        inside = rule.affected.contains(version, prereleases=True)
        below = not inside and rule.boundary is not None and version < rule.boundary
        if not (inside or below):
            return None
        targets = self._targets(pkg)
        evidence: tuple[Evidence, ...] = ()
        tag: Tag | None = None
        if rule.python_requires is None and rule.usage is None:
            tag = rule.tag if inside else None
        else:
            bad: list[str] = []
            if rule.python_requires is not None:
                if self.ctx.declared is None:
                    self.skipped_python_rules.add(rule.id)
                else:
                    bad = [
                        py
                        for py in excluded_minors(rule.python_requires, self.ctx.declared)
                        if any(_admits(pkg.markers, py, pl) for pl in self.ctx.platforms or [None])
                    ]
            if rule.usage is not None:
                if self.ctx.usage is None:
                    self.usage_unknown.add(rule.id)
                else:
                    evidence = self.ctx.usage(rule.usage)
            if bad or evidence:
                tag = rule.tag if inside else Tag.PLAN
                if bad:
                    targets = self._labels_for(pkg, bad)
            elif inside and rule.python_requires is None and rule.when_unused == "monitor":
                tag = Tag.MONITOR
        if tag is None:
            return None
        self.infos[rule.id] = rule_info(rule)
        return Finding(
            rule=rule.id,
            project=self.ctx.project,
            package=pkg.name,
            version=pkg.version or "",
            tag=tag,
            kind=rule.kind,
            title=rule.title,
            action=rule.action,
            references=rule.references,
            lockfiles=(lock.path,),
            targets=targets,
            evidence=evidence,
        )

    # -- the interpreter -----------------------------------------------------------------

    def match_interpreter(self) -> list[Finding]:
        findings = []
        for rule in self.rules.interpreter_rules():
            if self.ctx.declared is None:
                self.skipped_python_rules.add(rule.id)
                continue
            concerned = sorted(  # the lowest first: it names the finding (DESIGN.md)
                (
                    py
                    for py in self.ctx.declared
                    if rule.affected.contains(Version(py), prereleases=True)
                ),
                key=Version,
            )
            evidence: tuple[Evidence, ...] = ()
            tag: Tag | None = rule.tag
            if not concerned:
                # Every declared Python is older than the change: the move past the boundary
                # will break the code that uses what it removes.
                boundary = rule.boundary
                older = [py for py in self.ctx.declared if boundary and Version(py) < boundary]
                if not older or rule.usage is None or self.ctx.usage is None:
                    continue
                evidence = self.ctx.usage(rule.usage)
                if not evidence:
                    continue
                concerned, tag = [older[-1]], Tag.PLAN
            if rule.eol is not None:
                if self.ctx.today < rule.eol - _YEAR:
                    tag = None
                elif self.ctx.today < rule.eol:
                    tag = Tag.MONITOR
            if tag is not None and rule.usage is not None and not evidence:
                if self.ctx.usage is None:
                    self.usage_unknown.add(rule.id)
                    tag = Tag.MONITOR
                else:
                    evidence = self.ctx.usage(rule.usage)
                    if not evidence:
                        tag = Tag.MONITOR if rule.when_unused == "monitor" else None
            if tag is None:
                continue
            self.infos[rule.id] = rule_info(rule)
            findings.append(
                Finding(
                    rule=rule.id,
                    project=self.ctx.project,
                    package="python",
                    version=concerned[0],
                    tag=tag,
                    kind=rule.kind,
                    title=rule.title,
                    action=rule.action,
                    references=rule.references,
                    lockfiles=(),
                    targets=tuple(concerned) if self.ctx.explicit_targets else None,
                    evidence=evidence,
                )
            )
        return findings


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
    """One finding per (project, rule, package, version): lockfiles and targets united."""
    merged: dict[tuple[str, str, str, str], Finding] = {}
    for finding in findings:
        known = merged.get(finding.key)
        if known is None:
            merged[finding.key] = finding
            continue
        lockfiles = tuple(dict.fromkeys(known.lockfiles + finding.lockfiles))
        if known.targets is None or finding.targets is None:
            targets = None
        else:
            targets = tuple(dict.fromkeys(known.targets + finding.targets))
        tag = min(known.tag, finding.tag, key=lambda t: t.rank)
        merged[finding.key] = replace(known, lockfiles=lockfiles, targets=targets, tag=tag)
    return sorted(merged.values(), key=Finding.sort_key)
