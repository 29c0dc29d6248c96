"""The value objects that flow through an audit: frozen, hashable, and free of I/O.

Arrows point down only: every other module of depwatch may import this one, and this one
imports nothing of depwatch but :mod:`depwatch.kinds` (the enums, re-exported here).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from depwatch.kinds import FailOn, LockFormat, RuleKind, SourceKind, Tag

if TYPE_CHECKING:
    from packaging.markers import Marker
    from packaging.version import Version

__all__ = [
    "Evidence",
    "FailOn",
    "Finding",
    "Fix",
    "FixEdit",
    "HeldBack",
    "IndexFacts",
    "LockFormat",
    "Lockfile",
    "NotAudited",
    "NotChecked",
    "Package",
    "ProjectFacts",
    "ProjectReport",
    "Report",
    "RuleInfo",
    "RuleKind",
    "SourceKind",
    "Suppressed",
    "Tag",
    "parse_markers",
    "parse_version",
]


@dataclass(frozen=True, slots=True)
class Package:
    """One entry of a lockfile."""

    name: str
    """PEP 503-normalised distribution name."""
    version: str | None
    """The version text as locked, or None where the lock pins none."""
    source: SourceKind = SourceKind.REGISTRY
    markers: str | None = None
    """A PEP 508 marker string that limits where the entry is installed."""
    groups: tuple[str, ...] = ()
    """The locking tool's own group names as written (main, dev, default, develop, extras)."""
    direct: bool | None = None
    """True when the project depends on it directly; None when unknown."""
    note: str | None = None
    """Something odd but harmless about the entry (a non-PEP 440 version, …)."""
    index: str | None = None
    """The package index the lock records for a registry entry (uv's ``source.registry``, a
    Poetry or Pipfile source, a pylock ``index``); None when it records none. ``conda`` for a
    conda-managed entry of a conda lock (not on any Python package index)."""
    line: int | None = field(default=None, compare=False, repr=False)
    """The 1-based line of the lockfile that names the entry (where SARIF and editors
    point), found by the reader while it held the text; None when it names none."""
    parsed_version: Version | None = field(default=None, compare=False, repr=False)
    """``version`` parsed (PEP 440); None when it is not a PEP 440 version or absent. Filled
    in from ``version`` when not given."""
    parsed_markers: Marker | None = field(default=None, compare=False, repr=False)
    """``markers`` parsed (PEP 508); None when absent or unreadable. Filled in from
    ``markers`` when not given."""

    def __post_init__(self) -> None:
        # Readers pass what they parsed while reading; any other maker of a Package gets the
        # same values, so that the parsed fields always say what the texts say.
        if self.parsed_version is None and self.version is not None:
            object.__setattr__(self, "parsed_version", parse_version(self.version))
        if self.parsed_markers is None and self.markers:
            parsed = parse_markers(self.markers)
            if not isinstance(parsed, str):
                object.__setattr__(self, "parsed_markers", parsed)


def parse_version(text: str) -> Version | None:
    """``text`` as a PEP 440 version, or None (not one, or a number past the digit limit)."""
    from packaging.version import Version  # here: packaging costs start-up

    try:
        return Version(text)
    except ValueError:  # InvalidVersion, or a number past the digit limit
        return None


@functools.lru_cache(maxsize=4096)
def parse_markers(text: str) -> Marker | str:
    """``text`` as a PEP 508 marker, or why it is not one (packaging's first line).

    Cached: a uv.lock entry's markers are those of its dependency paths, often dozens of
    clauses, and many entries share them."""
    from packaging.markers import InvalidMarker, Marker

    try:
        return Marker(text)
    except InvalidMarker as exc:
        return str(exc).splitlines()[0]


@dataclass(frozen=True, slots=True)
class Lockfile:
    """A lockfile as read: where it is, which format, and what it pins."""

    path: str
    """Relative to the project root, with ``/`` separators."""
    format: LockFormat
    packages: tuple[Package, ...]
    requires_python: str | None = None
    """The lock's own ``requires-python``, where it records one."""
    warnings: tuple[str, ...] = ()
    """Odd but harmless things noticed while reading (one line each, without the path)."""
    python_versions: tuple[str, ...] = ()
    details: tuple[str, ...] = ()
    """What ``warnings`` sums up, one line each (shown with ``--verbose``)."""
    environments: tuple[str, ...] = ()
    """PEP 508 markers of the environments the lock was made for; empty: not limited."""
    """A conda lock's ``python`` package versions (the declared interpreter of last resort)."""


@dataclass(frozen=True, slots=True)
class ProjectFacts:
    """What the project says about itself in pyproject.toml / Pipfile."""

    root: str
    """The project root, relative to the working directory as given (``.`` for here)."""
    requires_python: str | None = None
    """The declared Python range as a PEP 440 specifier text (``>=3.10``)."""
    python_source: str | None = None
    """Where the declared range came from (``pyproject.toml [project] requires-python``)."""
    direct: frozenset[str] = frozenset()
    """Normalised names the project depends on directly, in any group."""
    name: str | None = None
    """The project's own normalised name, where it has one."""


@dataclass(frozen=True, slots=True)
class Evidence:
    """A place in the project's source that uses what a rule is about."""

    path: str
    line: int
    column: int
    code: str
    cell: int | None = None
    """1-based notebook cell; ``line`` then counts within the cell."""
    symbol: str | None = None
    """The dotted name or pattern that matched (not part of the JSON contract)."""
    context: str = "runtime"
    """Where the evidence lives: ``runtime``, ``guarded``, ``test``, ``example``, ``docs``
    (counted), or ``vendored``, ``fixture``, ``typing``, ``unreachable`` (never counted)."""
    guards: tuple[str, ...] = ()
    """The branch conditions it sits in, as extracted (not part of the JSON contract)."""


@dataclass(frozen=True, slots=True)
class RuleInfo:
    """The human text of a rule (or advisory) that reporters describe findings with."""

    id: str
    title: str
    kind: str
    """A :class:`RuleKind` (its value)."""
    what: str = ""
    why: str = ""
    action: str = ""
    references: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class HeldBack:
    """A locked package that a declared Python keeps below a newer release."""

    package: str
    version: str
    """The locked version."""
    newer: str
    """The first newer release that drops the Pythons below."""
    pythons: tuple[str, ...]
    """The declared Python minors the newer release drops (``3.9``)."""
    dev: bool = False
    """True when the entry is only in development groups."""
    lockfiles: tuple[str, ...] = ()
    rule: str = ""
    """The Python-floor rule the fact comes from (what an ignore entry names), if any."""


@dataclass(frozen=True, slots=True)
class FixEdit:
    """One line of a project file to write instead of what is there."""

    path: str
    """Relative to the project root, with ``/`` separators."""
    line: int | None
    """1-based; None when the line could not be found."""
    text: str
    """The new line (or, for a constraint to change first, the line as it is)."""


@dataclass(frozen=True, slots=True)
class Fix:
    """What to run (or edit) to resolve a finding, for the tool that wrote one lockfile."""

    tool: str
    """``uv``, ``poetry``, ``pdm``, ``pipenv``, ``pip-compile``, ``uv-pip-compile``,
    ``requirements``, ``conda-lock``, or ``requires-python``."""
    command: str | None
    """A shell command built from validated names and versions, each quoted; None when the
    fix is an edit alone or a constraint must change first."""
    version: str | None = None
    """The version moved to (a Python floor like ``3.10`` for requires-python edits)."""
    lockfile: str | None = None
    edit: FixEdit | None = None
    """A line to change (before running ``command``, when both are set)."""
    constraint: FixEdit | None = None
    """The project's own constraint that does not allow ``version``: change it first."""


@dataclass(frozen=True, slots=True)
class Finding:
    """A rule that applies to a locked package (or to the declared interpreter)."""

    rule: str
    project: str
    package: str
    version: str
    tag: Tag
    kind: str
    """A :class:`RuleKind` (its value)."""
    title: str
    action: str
    references: tuple[str, ...] = ()
    lockfiles: tuple[str, ...] = ()
    targets: tuple[str, ...] | None = None
    evidence: tuple[Evidence, ...] = ()
    aliases: tuple[str, ...] = ()
    """Advisory aliases (CVE, GHSA); vulnerabilities only."""
    fixed_versions: tuple[str, ...] = ()
    """Versions that fix an advisory; vulnerabilities only."""
    lock_line: int | None = None
    """The line of the package in the first of ``lockfiles`` (where SARIF points without evidence)."""
    versions: tuple[str, ...] = ()
    """Every locked version the finding concerns, ``version`` first; empty means ``version``."""
    held_back: tuple[HeldBack, ...] = ()
    """Interpreter findings: the locked packages this Python keeps from newer releases."""
    fixes: tuple[Fix, ...] = ()
    """What resolves the finding, per lockfile tool (the first is the one to show)."""
    origin: str = "curated"
    """Where the knowledge comes from: ``curated`` (a rule file), ``index`` (the package
    index, ``--online``), ``wheels`` (released wheels) or ``advisory`` (``--vulns``)."""
    confidence: str | None = None
    """For findings derived from released wheels: ``static`` (an API diff) or
    ``static+deprecation`` (confirmed by a deprecation notice)."""
    info: RuleInfo | None = field(default=None, compare=False, repr=False)
    """The description of the rule the finding comes from, one object shared by every finding
    of that rule (the matcher's findings carry it); None where the report's ``rules`` holds it
    or the finding's own texts are all there is (see :attr:`description`)."""

    @property
    def description(self) -> RuleInfo:
        """What describes the finding's rule: :attr:`info`, or, for a finding made without
        one, its own id, title, kind, action and references."""
        if self.info is not None:
            return self.info
        return RuleInfo(
            id=self.rule,
            title=self.title,
            kind=self.kind,
            action=self.action,
            references=self.references,
        )

    @property
    def key(self) -> tuple[str, str, str, str]:
        """What identifies a finding across runs: a moved line does not change it."""
        return (self.project, self.rule, self.package, self.version)

    def sort_key(self) -> tuple[int, str, str, str, str]:
        return (self.tag.rank, self.project, self.package, self.version, self.rule)


@dataclass(frozen=True, slots=True)
class Suppressed:
    """A finding that an ignore entry or the baseline silenced."""

    rule: str
    package: str
    version: str
    reason: str
    until: str | None = None
    project: str = "."
    tag: Tag | None = None
    baseline: bool = False
    """Silenced by the baseline (the table counts these; ``--verbose`` lists them)."""


@dataclass(frozen=True, slots=True)
class NotAudited:
    """A package the vulnerability service could not answer for."""

    package: str
    version: str | None
    reason: str


@dataclass(frozen=True, slots=True)
class NotChecked:
    """A locked package the package index did not answer for (``--online``)."""

    package: str
    version: str | None
    reason: str


@dataclass(frozen=True, slots=True)
class IndexFacts:
    """What the package index says about one locked release (``--online``)."""

    package: str
    version: str
    index: str
    """The index asked, without credentials."""
    yanked: bool = False
    yanked_reason: str | None = None
    requires_python: str | None = None
    """The locked release's Requires-Python (None: it states none)."""
    newest: str | None = None
    """The newest release that is not yanked (final, unless a pre-release is locked)."""
    newest_upload_time: str | None = None
    newest_requires_python: str | None = None


@dataclass(frozen=True, slots=True)
class ProjectReport:
    """One audited project: its root, declared Python and the lockfiles read."""

    root: str
    requires_python: str | None
    lockfiles: tuple[Lockfile, ...]
    python_source: str | None = None


@dataclass(frozen=True, slots=True)
class Report:
    """Everything a reporter needs; reporters turn this into text and nothing else."""

    projects: tuple[ProjectReport, ...]
    findings: tuple[Finding, ...]
    rules: dict[str, RuleInfo] = field(default_factory=dict)
    """Descriptions of every rule or advisory named by a finding (for SARIF and ``show``)."""
    suppressed: tuple[Suppressed, ...] = ()
    stale_ignores: tuple[str, ...] = ()
    not_audited: tuple[NotAudited, ...] | None = None
    """None when vulnerabilities were not asked for; empty when every package was audited."""
    not_checked: tuple[NotChecked, ...] | None = None
    """None without ``--online``; empty when the index answered for every package."""
    index_facts: tuple[IndexFacts, ...] | None = None
    """None without ``--online``: the index's facts per locked release (how far behind)."""
    resolved: tuple[Finding, ...] | None = None
    """With ``--since``: findings present at the revision and gone now."""
    warnings: tuple[str, ...] = ()
    """Things the user should know that are not findings (skipped files, skipped rules)."""
    fail_on: FailOn = FailOn.IMMEDIATE
    repo_root: str | None = None
    """The git repository's top folder (absolute, ``/``), where CI tools resolve paths."""
    run_folder: str | None = None
    """The folder depwatch ran in (absolute, ``/``); project roots are relative to it."""
    fail_on_by_project: tuple[tuple[str, FailOn], ...] = ()
    """Where a project's own ``[tool.depwatch] fail-on`` differs from ``fail_on``: (project,
    fail-on) pairs; its findings gate by that."""

    def fail_on_for(self, project: str) -> FailOn:
        """The fail-on that gates ``project``'s findings."""
        return dict(self.fail_on_by_project).get(project, self.fail_on)

    @property
    def summary(self) -> dict[str, int]:
        counts = {tag.value: 0 for tag in Tag}
        for finding in self.findings:
            counts[finding.tag.value] += 1
        return counts
