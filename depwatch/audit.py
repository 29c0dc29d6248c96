"""The pipeline: discover → read → load rules → match → scan usage → advise → policy.

The CLI calls :func:`check` or :func:`inventory` and hands the result to a reporter; nothing
here prints.
"""

from __future__ import annotations

import datetime
import functools
import io
import os
import re
import subprocess
import tarfile
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from depwatch import discovery, lockfiles
from depwatch.errors import DepwatchError, ExitCode
from depwatch.files import display_path, read_text, repository_top
from depwatch.model import (
    Evidence,
    Finding,
    HeldBack,
    IndexFacts,
    Lockfile,
    NotAudited,
    NotChecked,
    Package,
    ProjectReport,
    Report,
    RuleInfo,
    Suppressed,
)
from depwatch.project import ProjectFiles, admitted_minors, declares_dependencies, read_project
from depwatch.settings import IgnoreEntry, Settings, parse_settings

if TYPE_CHECKING:
    from depwatch.advisories import AdvisoryResult, PendingAudit
    from depwatch.fixes import FixContext
    from depwatch.index.run import PendingIndex
    from depwatch.matcher import Matcher
    from depwatch.rulebook import RuleBook
    from depwatch.rulebook.model import Names, Usage
    from depwatch.usage import FileFacts
    from depwatch.usage.context import PathContexts

__all__ = ["CheckOptions", "Outcome", "Project", "check", "inventory", "read_projects"]


@dataclass(frozen=True)
class CheckOptions:
    """Everything ``depwatch check`` was asked to do."""

    paths: tuple[str, ...] = ()
    """Empty: the project found upward from the working folder."""
    rules_dirs: tuple[Path, ...] = ()
    usage: bool = True
    exclude: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    baseline: Path | None = None
    since: str | None = None
    pythons: tuple[str, ...] = ()
    platforms: tuple[str, ...] = ()
    today: datetime.date = field(default_factory=datetime.date.today)
    vulns: bool = False
    vuln_service: str | None = None
    osv_url: str | None = None
    strict: bool = False
    fail_on: str | None = None
    hook: bool = False
    verbose: bool = False
    online: bool | None = None
    """``--online``; None leaves it to ``[tool.depwatch] online``."""
    offline: bool = False
    """``--offline``: index facts from the cache only (implies ``--online``)."""
    index_url: str | None = None
    progress: Callable[[str], None] | None = None
    """Told what the run is doing now (the CLI shows it on a terminal); never prints here."""


def _say(options: CheckOptions, text: str) -> None:
    if options.progress is not None:
        options.progress(text)


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


@dataclass
class Project:
    """A project root with its manifests, settings and lockfiles as read."""

    root: Path
    shown: str
    files: ProjectFiles
    settings: Settings
    lockfiles: list[Lockfile]
    texts: dict[str, Path] = field(default_factory=dict)
    """Lockfile report path → file, for locating packages by line."""


def _rel(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return Path(os.path.relpath(path, root)).as_posix()


def _read_lockfile(
    path: Path, root: Path, *, explicit: bool, direct: frozenset[str] | None
) -> Lockfile:
    reader = lockfiles.reader_for(path, explicit=explicit)
    try:
        contents = reader.read(path)
    except DepwatchError as exc:
        raise exc.with_path(display_path(path)) from None
    packages = contents.packages
    if direct is not None:
        packages = tuple(
            replace(p, direct=p.name in direct) if p.direct is None else p for p in packages
        )
    return Lockfile(
        path=_rel(path, root),
        format=reader.FORMAT,
        packages=packages,
        requires_python=contents.requires_python,
        warnings=contents.warnings,
        python_versions=contents.python_versions,
        environments=contents.environments,
        details=contents.details,
    )


def _load_project(target: discovery.Target) -> Project:
    files = read_project(target.root)
    settings = parse_settings(
        files.pyproject,
        path=files.pyproject_path,
        shown=display_path(files.pyproject_path) if files.pyproject_path else "pyproject.toml",
    )
    known = (files.pyproject is not None and declares_dependencies(files.pyproject)) or (
        target.root / "Pipfile"
    ).is_file()
    direct = files.facts.direct if known else None
    locks, texts = [], {}
    for path in target.lockfiles:
        lock = _read_lockfile(path, target.root, explicit=path in target.explicit, direct=direct)
        locks.append(lock)
        texts[lock.path] = path
    return Project(target.root, display_path(target.root), files, settings, locks, texts)


def read_projects(paths: Sequence[str], *, hook: bool = False) -> list[Project]:
    """Discover and read every project named by ``paths``; no lockfile is an error."""
    targets = discovery.discover(paths, hook=hook)
    if not any(t.lockfiles for t in targets):
        if hook:
            return []
        where = ", ".join(display_path(t.root) for t in targets)
        raise DepwatchError(
            f"no lockfile found in {where}",
            hint="depwatch reads uv.lock, poetry.lock, Pipfile.lock, pdm.lock, pylock.toml, "
            "conda-lock.yml and requirements*.txt; name a lockfile to read another file",
        )
    return [_load_project(t) for t in targets if t.lockfiles]


def inventory(paths: Sequence[str]) -> list[tuple[str, Lockfile]]:
    """``depwatch packages``: every lockfile read, with its project root."""
    return [(p.shown, lock) for p in read_projects(paths) for lock in p.lockfiles]


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
    index = _start_index(projects, {}, options)
    facts: dict[tuple[str, str], IndexFacts] = {}
    missing: set[NotChecked] = set()
    try:
        answers = index.answers()
        for project in projects:
            default = clean_index(_index_for(project, options))
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


# -- check -------------------------------------------------------------------------------


_CPYTHON = re.compile(r"([0-9]+)\.([0-9]+)(?:\.[0-9]+)?\Z")


def _declared(
    project: Project, pythons: Sequence[str]
) -> tuple[tuple[str, ...] | None, str | None, str | None]:
    """The declared CPython minors, the range as text, and where it came from."""
    if pythons:
        from packaging.version import Version

        ordered = sorted(set(pythons), key=Version)  # flags in any order name the same targets
        return tuple(ordered), " ".join(f"=={p}.*" for p in ordered), "--python"
    files = project.files
    if files.declared is not None:
        return files.declared, files.facts.requires_python, files.facts.python_source
    from packaging.specifiers import InvalidSpecifier

    from depwatch.specifiers import specifier_set

    for lock in project.lockfiles:
        if lock.requires_python:
            try:
                spec = specifier_set(lock.requires_python)
            except InvalidSpecifier:
                continue
            return admitted_minors(spec), lock.requires_python, f"{lock.path} requires-python"
    for lock in project.lockfiles:
        # A conda python package version that is not a CPython X.Y[.Z] (conda keeps any text)
        # declares nothing.
        found = [m for v in lock.python_versions if (m := _CPYTHON.match(v))]
        if found:
            minors = sorted({(int(m[1]), int(m[2])) for m in found})
            pins = ", ".join(f"=={version}" for version in sorted({m.string for m in found}))
            return (
                tuple(f"{major}.{minor}" for major, minor in minors),
                pins,
                f"{lock.path} python package",
            )
    return None, None, None


class _UsageLookup:
    """Scans the project's code once, on the first rule that asks, then answers from memory.

    Evidence is judged where it lives (DESIGN.md, "Evidence that counts"): vendored code,
    test data, ``TYPE_CHECKING`` blocks and branches no target takes are kept out (listed
    with ``--verbose``); what counts carries its context.
    """

    def __init__(
        self,
        root: Path,
        modules: Iterable[str],
        env: Iterable[str],
        exclude: Sequence[str],
        assignments: Iterable[str] = (),
        names: Names | None = None,
        *,
        pythons: Sequence[str] = (),
        platforms: Sequence[str] = (),
        settings: Settings | None = None,
    ) -> None:
        self.root, self.exclude = root, exclude
        self.modules, self.env = sorted(set(modules)), sorted(set(env))
        self.assignments, self.names = sorted(set(assignments)), names
        self.pythons = tuple(pythons)
        self.platforms = tuple(platforms)
        self.settings = settings or Settings()
        self.facts: tuple[FileFacts, ...] | None = None
        self.warnings: tuple[str, ...] = ()
        self.not_counted: dict[tuple[str, int | None, int, int], Evidence] = {}
        self._memo: dict[tuple[Usage, tuple[str, ...]], tuple[Evidence, ...]] = {}
        self._raw: dict[Usage, tuple[Evidence, ...]] = {}
        self._contexts: PathContexts | None = None

    def __call__(self, usage: Usage) -> tuple[Evidence, ...]:
        """The evidence of ``usage`` that counts on the declared targets."""
        return self.on(usage, ())

    def on(self, usage: Usage, pythons: Sequence[str]) -> tuple[Evidence, ...]:
        """The evidence of ``usage`` that counts on ``pythons`` (none given: the declared)."""
        from depwatch import usage as scanner
        from depwatch.usage.context import judge

        targets = tuple(pythons) if pythons else self.pythons
        found = self._memo.get((usage, targets))
        if found is None:
            raw = self._raw.get(usage)
            if raw is None:
                raw = self._raw[usage] = scanner.evidence_for(self.all_facts(), usage, self.names)
            assert self._contexts is not None
            found, dropped = judge(raw, self._contexts, targets, self.platforms)
            self._memo[(usage, targets)] = found
            for item in dropped:
                self.not_counted.setdefault((item.path, item.cell, item.line, item.column), item)
        return found

    def all_facts(self) -> tuple[FileFacts, ...]:
        """Every reference found (the scan runs now if no rule asked yet)."""
        if self.facts is None:
            from depwatch import usage as scanner
            from depwatch.usage.context import PathContexts

            result = scanner.scan_project(
                self.root,
                self.modules,
                self.env,
                exclude=self.exclude,
                assignments=self.assignments,
            )
            self.facts, self.warnings = result.facts, result.warnings
            self._contexts = PathContexts(
                vendored=self.settings.vendored,
                fixtures=self.settings.fixtures,
                sources=result.sources,
                imported=result.imported,
                root=self.root,
            )
        return self.facts

    def counted_facts(self) -> tuple[FileFacts, ...]:
        """The references that count as evidence on the declared targets (DESIGN.md, "Evidence
        that counts"): no vendored code or test data, no branch that no target takes, nothing
        under ``TYPE_CHECKING`` — what the wheel comparison matches against."""
        from dataclasses import replace

        from depwatch.usage import guards as _guards
        from depwatch.usage.context import COUNTED

        facts = self.all_facts()
        assert self._contexts is not None
        out = []
        for item in facts:
            if self._contexts.of(item.path) not in COUNTED:
                continue
            refs = tuple(
                ref
                for ref in item.refs
                if not ref.guards
                or (
                    not _guards.typing_only(ref.guards)
                    and _guards.reachable(ref.guards, self.pythons, self.platforms)
                )
            )
            out.append(replace(item, refs=refs) if len(refs) != len(item.refs) else item)
        return tuple(out)


def _usage_lookup(
    project: Project,
    rulebook: RuleBook,
    exclude: Sequence[str],
    options: CheckOptions,
    *,
    online: bool = False,
) -> _UsageLookup:
    from depwatch.matcher import PLATFORMS
    from depwatch.project import CANDIDATE_PYTHONS

    modules: set[str] = set()
    env: set[str] = set()
    assignments: set[str] = set()
    names = {p.name for lock in project.lockfiles for p in lock.packages}
    rules = [r for name in names for r in rulebook.for_package(name)]
    rules += list(rulebook.interpreter_rules())
    for rule in rules:
        if rule.usage is not None:
            modules.update(rule.usage.modules)
            env.update(rule.usage.env)
            assignments.update(rule.usage.assignments)
    # the locked packages' other spellings; a module whose names lead into a tracked one
    # (flask.request is a werkzeug Request) is followed too
    spellings = rulebook.names(names) if modules else None
    if spellings:
        modules.update(spellings.tracked(modules))
    if online:  # the released wheels are compared for every locked package the code imports
        from depwatch.wheels import import_names

        modules.update(m for name in names for m in import_names(name))
    declared = _declared(project, options.pythons)[0]
    return _UsageLookup(
        project.root,
        modules,
        env,
        exclude,
        assignments,
        spellings,
        pythons=declared or CANDIDATE_PYTHONS[8:],
        platforms=options.platforms or tuple(PLATFORMS),
        settings=project.settings,
    )


def _match_project(
    project: Project, rulebook: RuleBook, options: CheckOptions, usage: _UsageLookup | None
) -> tuple[list[Finding], Matcher, ProjectReport]:
    from depwatch.matcher import MatchContext, Matcher

    declared, requires, source = _declared(project, options.pythons)
    ctx = MatchContext(
        project=project.shown,
        declared=declared,
        explicit_targets=bool(options.pythons or options.platforms),
        platforms=options.platforms,
        today=options.today,
        usage=usage,
        allows=_constraints_of(project).allows,
    )
    matcher = Matcher(rulebook, ctx)
    found: list[Finding] = []
    for lock in project.lockfiles:
        if _made_for_targets(lock, matcher):
            found += matcher.match_lockfile(lock)
    found += matcher.match_interpreter()
    report = ProjectReport(
        root=project.shown,
        requires_python=requires,
        lockfiles=tuple(project.lockfiles),
        python_source=source,
    )
    return found, matcher, report


def _since_key(finding: Finding) -> tuple[str, str, str]:
    return (finding.project, finding.rule, finding.package)


def _with_lines(findings: Iterable[Finding], project: Project) -> list[Finding]:
    """Findings with the line of their package in their first lockfile (each file read once)."""
    from depwatch.lockfiles.lines import LockLines

    formats = {lock.path: lock.format for lock in project.lockfiles}
    texts: dict[str, LockLines] = {}
    out = []
    for finding in findings:
        path = project.texts.get(finding.lockfiles[0]) if finding.lockfiles else None
        if path is not None and finding.lock_line is None:
            searchable = texts.get(finding.lockfiles[0])
            if searchable is None:
                try:
                    text = read_text(path)
                except DepwatchError:
                    text = ""
                searchable = texts[finding.lockfiles[0]] = LockLines(
                    text, formats.get(finding.lockfiles[0], "")
                )
            finding = replace(
                finding, lock_line=searchable.locate(finding.package, finding.version)
            )
        out.append(finding)
    return out


_DECLARATION = re.compile(r"^\s*(?:requires-python|python)\s*=", re.MULTILINE)


def _with_declaration_line(findings: list[Finding], project: Project) -> list[Finding]:
    """Interpreter findings with the line of pyproject.toml that declares the Python range
    (``requires-python``, or Poetry's ``python``), where SARIF and annotations point."""
    path = project.files.pyproject_path
    if path is None or not any(f.package == "python" and not f.lockfiles for f in findings):
        return findings
    try:
        found = _DECLARATION.search(read_text(path))
    except DepwatchError:
        return findings
    if found is None:
        return findings
    line = found.string.count("\n", 0, found.start()) + 1
    return [
        replace(f, lock_line=line) if f.package == "python" and not f.lockfiles else f
        for f in findings
    ]


def _vulnerability_findings(
    result: AdvisoryResult, projects: Sequence[Project]
) -> tuple[list[Finding], dict[str, RuleInfo]]:
    from depwatch import advisories

    findings: list[Finding] = []
    for project in projects:
        where: dict[tuple[str, str], list[str]] = {}
        for lock in project.lockfiles:
            for pkg in lock.packages:
                if pkg.version is not None:
                    where.setdefault((pkg.name, pkg.version), [])
                    if lock.path not in where[(pkg.name, pkg.version)]:
                        where[(pkg.name, pkg.version)].append(lock.path)
        findings += [
            f
            for f in advisories.to_findings(result, project=project.shown, lockfiles=where)
            if f.lockfiles
        ]
    infos = {v.id: advisories.rule_info(v) for v in result.vulnerabilities}
    return findings, infos


_OWN_SOURCES = frozenset({"virtual", "workspace"})


def _start_vulns(projects: Sequence[Project], options: CheckOptions) -> PendingAudit:
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
        list(seen.values()), service=options.vuln_service, osv_url=options.osv_url
    )


def _git(root: Path, *args: str) -> str:
    try:
        done = subprocess.run(
            ["git", "-C", str(root), *args], capture_output=True, text=True, timeout=60
        )
    except FileNotFoundError:
        raise DepwatchError("--since needs git, and git is not installed") from None
    if done.returncode != 0:
        raise DepwatchError(
            done.stderr.strip().splitlines()[-1]
            if done.stderr.strip()
            else f"git {' '.join(args)} failed"
        )
    return done.stdout


def _needed_at_rev(rel: str, lockfiles: set[str]) -> bool:
    """Whether a file (relative to the project root) is needed to read the project at a rev:
    its manifests, its lockfiles, and requirement files an include may name."""
    base = rel.rsplit("/", 1)[-1]
    lowered = rel.lower()
    return (
        rel in lockfiles
        or rel in {"pyproject.toml", "Pipfile"}
        or ("/" not in rel and discovery.is_lockfile_name(base))
        or (
            rel.endswith((".txt", ".in"))
            and ("requirements" in lowered or "constraints" in lowered)
        )
    )


def _project_at(project: Project, rev: str, tmp: Path) -> Project:
    """The same project with its manifests and lockfiles as they were at ``rev``."""
    try:
        top = Path(_git(project.root, "rev-parse", "--show-toplevel").strip())
    except DepwatchError:
        raise DepwatchError(
            f"--since needs a git repository, and {project.shown} is not in one"
        ) from None
    try:
        _git(project.root, "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}")
    except DepwatchError:
        raise DepwatchError(
            f"--since {rev}: no such revision in the repository at {display_path(top)}",
            hint="name a branch, tag or commit that exists (fetch it first in a shallow CI clone)",
        ) from None
    prefix = _rel(project.root.resolve(), top.resolve())
    prefix = "" if prefix == "." else prefix + "/"
    listed = _git(top, "ls-tree", "-r", "--name-only", rev, "--", prefix or ".").splitlines()
    wanted = set(project.texts)
    names = [name for name in listed if _needed_at_rev(name[len(prefix) :], wanted)]
    root = tmp / "at-rev"
    root.mkdir()
    if names:
        # One process for every file, not one per file: a large repository has many.
        archive = subprocess.run(
            ["git", "-C", str(top), "archive", "--format=tar", rev, "--", *names],
            capture_output=True,
            timeout=120,
        )
        if archive.returncode != 0:
            raise DepwatchError(f"--since {rev}: git could not read the files at that revision")
        with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
            for member in tar.getmembers():
                source = member.isfile() and tar.extractfile(member)
                rel = member.name[len(prefix) :]
                if not source or ".." in Path(rel).parts or Path(rel).is_absolute():
                    continue
                dest = root / rel
                dest.parent.mkdir(parents=True, exist_ok=True)
                dest.write_bytes(source.read())
    target = discovery.Target(root)
    for rel_lock in project.texts:
        if (root / rel_lock).is_file():
            target.lockfiles.append(root / rel_lock)
            target.explicit.add(root / rel_lock)
    # And every lockfile the folder had by name then: one renamed or moved since (or
    # replaced by another format) still holds what the project locked before the change.
    for lock in discovery.search(root):
        if lock not in target.lockfiles:
            target.lockfiles.append(lock)
    old = _load_project(target)
    return Project(project.root, project.shown, old.files, old.settings, old.lockfiles, old.texts)


def _old_project(project: Project, rev: str) -> Project:
    """The project as it was at ``rev`` (read whole; its files are gone afterwards)."""
    with tempfile.TemporaryDirectory(prefix="depwatch-since-") as tmp:
        try:
            return _project_at(project, rev, Path(tmp))
        except DepwatchError as exc:
            raise _at_revision(exc, Path(tmp) / "at-rev", project, rev) from None


def _at_revision(exc: DepwatchError, root: Path, project: Project, rev: str) -> DepwatchError:
    """An error about a file checked out at ``rev`` (in a temporary folder that is gone by the
    time the user reads it), named as the project's file at that revision."""
    if exc.path is not None:
        shown_root = display_path(root)
        if exc.path == shown_root or exc.path.startswith(shown_root + os.sep):
            rel = Path(os.path.relpath(exc.path, shown_root)).as_posix()
            prefix = "" if project.shown == "." else f"{project.shown}/"
            exc.path = f"{prefix}{rel} at {rev}"
    return exc


@dataclass
class _Run:
    """What a check gathers across projects before the report is made."""

    findings: list[Finding] = field(default_factory=list)
    resolved: list[Finding] = field(default_factory=list)
    unchanged: list[Finding] = field(default_factory=list)
    """With ``--since``: findings there before the change (not reported, but an ignore that
    matches one is in use, not stale)."""
    suppressed: list[Suppressed] = field(default_factory=list)
    stale: list[str] = field(default_factory=list)
    infos: dict[str, RuleInfo] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    gaps: list[str] = field(default_factory=list)
    """What ``--strict`` fails on."""
    reports: list[ProjectReport] = field(default_factory=list)
    ignores: list[tuple[str, list[IgnoreEntry]]] = field(default_factory=list)
    not_audited: tuple[NotAudited, ...] | None = None
    not_checked: list[NotChecked] | None = None
    index_facts: list[IndexFacts] | None = None
    blind: str | None = None
    """Set when ``--vulns`` could audit no package at all: the reason."""


def _audit_project(
    project: Project,
    rulebook: RuleBook,
    options: CheckOptions,
    run: _Run,
    old_project: Project | None = None,
    index: PendingIndex | None = None,
) -> None:
    """Match one project (and, with ``--since``, the same project at the revision)."""
    from depwatch.matcher import merge

    exclude = (*project.settings.exclude, *options.exclude)
    if exclude:  # a bad glob is an error whether or not a rule needs the scan
        from depwatch.usage.files import exclude_spec

        exclude_spec(tuple(exclude))
    _check_context_globs(project)
    online = index is not None
    usage = (
        _usage_lookup(project, rulebook, exclude, options, online=online) if options.usage else None
    )
    found, matcher, project_report = _match_project(project, rulebook, options, usage)
    run.reports.append(project_report)
    run.infos.update(matcher.infos)
    if index is not None:
        found = _with_index_facts(project, found, matcher, index, options, run)
        if usage is not None:
            found += _wheel_findings(project, usage, rulebook, index, options, run, old_project)
    if old_project is not None:
        old_found, old_matcher, _ = _match_project(old_project, rulebook, options, usage)
        run.infos.update(old_matcher.infos)
        if index is not None:
            old_found = _with_index_facts(old_project, old_found, old_matcher, index, options)
            run.infos.update(_index_infos(old_found))
            if usage is not None:
                old_found += _wheel_findings(old_project, usage, rulebook, index, options, run)
        found = _since_filter(merge(found), merge(old_found), run)
    run.findings += _with_declaration_line(_with_lines(merge(found), project), project)

    prefix = "" if project.shown == "." else f"{project.shown}/"
    for lock in project.lockfiles:
        run.warnings += [f"{prefix}{lock.path}: {w}" for w in lock.warnings]
        if options.verbose:
            run.warnings += [f"{prefix}{lock.path}: {w}" for w in lock.details]
    unused = _installed_nowhere(project, matcher, options)
    run.warnings += unused
    run.gaps += unused
    if usage is not None and usage.warnings:
        run.warnings += usage.warnings
        run.gaps += usage.warnings
    if usage is not None and options.verbose and usage.not_counted:
        run.warnings += [
            f"{prefix}{e.path}:{e.line}: {e.symbol or 'use'} not counted as evidence "
            f"({_NOT_COUNTED[e.context]})"
            for e in sorted(usage.not_counted.values(), key=lambda e: (e.path, e.line))
        ]
    if matcher.skipped_python_rules:
        run.warnings.append(
            f"{project.shown}: no declared Python version, so "
            f"{len(matcher.skipped_python_rules)} Python-floor and interpreter rule(s) were "
            "skipped; declare requires-python in pyproject.toml or pass --python"
        )
    if matcher.usage_unknown:
        run.warnings.append(
            f"usage scan off: {len(matcher.usage_unknown)} rule(s) with usage conditions "
            "could not be tied to code and give monitor at most"
        )
    if options.verbose and matcher.not_pep440:
        run.warnings += [
            f"not a PEP 440 version, matched by no rule: {x}" for x in matcher.not_pep440
        ]
    ignores = list(project.settings.ignore)
    ignores += [
        IgnoreEntry(id=i, reason="--ignore on the command line", origin="--ignore")
        for i in options.ignore
    ]
    run.ignores.append((project.shown, ignores))


def _made_for_targets(lock: Lockfile, matcher: Matcher) -> bool:
    """Whether the lock was made for any of the targets (uv's ``supported-markers``,
    conda-lock's platforms); a lock that names none is made for all."""
    return not lock.environments or any(
        matcher.admitted(Package(name="", version=None, markers=marker))
        for marker in lock.environments
    )


def _installed_nowhere(project: Project, matcher: Matcher, options: CheckOptions) -> list[str]:
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
        if not _made_for_targets(lock, matcher):
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


_NOT_COUNTED = {
    "vendored": "vendored code",
    "fixture": "test data",
    "typing": "under TYPE_CHECKING, never run",
    "unreachable": "in a branch that does not run on the Pythons or platforms concerned",
}


def _check_context_globs(project: Project) -> None:
    """``[tool.depwatch] vendored`` / ``fixtures`` compiled: a bad glob is an error whether or
    not a rule needs the scan."""
    settings = project.settings
    if settings.vendored is None and settings.fixtures is None:
        return
    from depwatch.usage.context import compile_globs

    path = project.files.pyproject_path
    try:
        if settings.vendored is not None:
            compile_globs(settings.vendored, "vendored")
        if settings.fixtures is not None:
            compile_globs(settings.fixtures, "fixtures")
    except DepwatchError as exc:
        raise exc.with_path(display_path(path) if path else "pyproject.toml") from None


def _index_for(project: Project, options: CheckOptions) -> str:
    from depwatch.index.run import choose_index

    return choose_index(options.index_url, project.settings.index_url)


def _start_index(
    projects: Sequence[Project], olds: Mapping[Path, Project], options: CheckOptions
) -> PendingIndex:
    """Start fetching the project pages of every registry entry (the projects at --since
    too) on a background thread."""
    from depwatch.index import IndexSession
    from depwatch.index.run import DEFAULT_MAX_AGE, PendingIndex

    ages = [p.settings.index_max_age for p in projects if p.settings.index_max_age is not None]
    session = IndexSession(
        default_index=_index_for(projects[0], options),
        offline=options.offline,
        max_age=float(ages[0] if ages else DEFAULT_MAX_AGE),
    )
    every = [*projects, *olds.values()]
    return PendingIndex(
        session, [(p.lockfiles, _index_for(p, options), p.files.facts.name) for p in every]
    )


def _with_index_facts(
    project: Project,
    found: list[Finding],
    matcher: Matcher,
    index: PendingIndex,
    options: CheckOptions,
    run: _Run | None = None,
) -> list[Finding]:
    """``found`` with the index's findings on the project's entries (a curated finding that
    says the same wins); ``run`` collects the facts and what was not checked."""
    from depwatch.index.client import clean_index
    from depwatch.index.facts import curated_wins, findings_for, join_held_back

    answers = index.answers()
    default = clean_index(_index_for(project, options))
    held: list[HeldBack] = []
    for lock in project.lockfiles:
        more, facts, missing, held_here = findings_for(
            lock, matcher, answers, default, project.files.facts.name
        )
        found = found + more
        held += held_here
        if run is not None:
            run.index_facts = (run.index_facts or []) + facts
            run.not_checked = (run.not_checked or []) + missing
    if run is not None:
        run.not_checked = run.not_checked or []
        run.index_facts = run.index_facts or []
        if matcher.ctx.declared is None:
            run.warnings.append(
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
    if run is not None:
        run.infos.update(_index_infos(kept))
    return kept


def _index_infos(findings: Iterable[Finding]) -> dict[str, RuleInfo]:
    from depwatch.index.facts import INDEX_RULES

    return {f.rule: INDEX_RULES[f.rule] for f in findings if f.rule in INDEX_RULES}


def _wheel_findings(
    project: Project,
    usage: _UsageLookup,
    rulebook: RuleBook,
    index: PendingIndex,
    options: CheckOptions,
    run: _Run,
    old_project: Project | None = None,
) -> list[Finding]:
    """API changes of the released wheels of the locked packages the code imports (a curated
    rule on the same symbol wins); what could not be read joins ``not_checked``."""
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
    default = clean_index(_index_for(project, options))
    result = check_wheels(
        project.lockfiles,
        usage.counted_facts(),
        index.session,
        project=project.shown,
        curated=curated,
        own=project.files.facts.name,
        index_for=lambda pkg: index_of(pkg, default),
        before={k: v for k, v in before.items() if v is not None},
    )
    run.infos.update(result.infos)
    run.not_checked = (run.not_checked or []) + result.not_checked
    return result.findings


def _since_filter(found: list[Finding], old: list[Finding], run: _Run) -> list[Finding]:
    """What the change brings: a finding that applied before and still applies is not news,
    whatever the version moved to; one whose tag rose is. Gone ones are resolved."""
    old_keys = {(*_since_key(f), f.tag) for f in old}
    now_keys = {_since_key(f) for f in found}
    run.resolved += [f for f in old if _since_key(f) not in now_keys]
    run.unchanged += [f for f in found if (*_since_key(f), f.tag) in old_keys]
    return [f for f in found if (*_since_key(f), f.tag) not in old_keys]


def _add_vulnerabilities(
    pending: PendingAudit,
    projects: Sequence[Project],
    run: _Run,
    olds: Mapping[Path, Project] | None = None,
) -> None:
    result = pending.result()
    vuln_findings, vuln_infos = _vulnerability_findings(result, projects)
    if olds:
        # An advisory the project's lock already had before the change is not news either.
        old_findings, old_infos = _vulnerability_findings(result, list(olds.values()))
        vuln_infos.update(old_infos)
        vuln_findings = _since_filter(vuln_findings, old_findings, run)
    for project in projects:
        run.findings += _with_lines(
            [f for f in vuln_findings if f.project == project.shown], project
        )
    run.infos.update(vuln_infos)
    run.not_audited = tuple(result.not_audited)
    if result.audited == 0 and result.not_audited:
        # Nothing at all was audited: a gate that passed here would pass blind.
        first = result.not_audited[0].reason
        run.blind = (
            f"--vulns could audit none of the {len(result.not_audited)} locked package "
            f"version(s) ({first}); the vulnerability gate cannot pass blind"
        )
    run.warnings += list(result.warnings)
    run.gaps += [
        f"not audited: {n.package} {n.version or ''} ({n.reason})" for n in run.not_audited
    ]


def _apply_policy(run: _Run, options: CheckOptions) -> list[Finding]:
    """Ignores per project, then the baseline: what is left to report."""
    from depwatch import policy

    kept: list[Finding] = []
    for shown, ignores in run.ignores:
        mine = [f for f in run.findings if f.project == shown]
        outcome = policy.apply_ignores(mine, ignores, options.today)
        kept += outcome.findings
        run.suppressed += outcome.suppressed
        stale = outcome.stale
        if stale and run.unchanged:
            # An entry that matches a finding already there before the change is in use.
            before = [f for f in run.unchanged if f.project == shown]
            stale = policy.apply_ignores(mine + before, ignores, options.today).stale
        run.stale += [s for s in stale if s not in run.stale]
        run.warnings += list(outcome.expired)
        run.gaps += list(outcome.expired)
    run.gaps += [f"ignore entry matched nothing: {s}" for s in run.stale]
    if options.baseline is not None:
        keys = policy.read_baseline(options.baseline)
        kept, base_suppressed = policy.apply_baseline(kept, keys, options.baseline)
        run.suppressed += base_suppressed
    return sorted(kept, key=Finding.sort_key)


def _constraints_of(project: Project) -> FixContext:
    """The project's own constraints (pyproject.toml, Pipfile, pip-compile inputs)."""
    from depwatch.fixes import FixContext

    return FixContext(
        root=project.root,
        lock_paths=project.texts,
        formats={lock.path: lock.format for lock in project.lockfiles},
        pyproject=project.files.pyproject,
        pyproject_path=project.files.pyproject_path,
    )


def _with_fixes(
    findings: list[Finding], projects: Sequence[Project], rulebook: RuleBook, options: CheckOptions
) -> list[Finding]:
    """The findings with the command (or edit) that resolves each (depwatch.fixes)."""
    from depwatch.fixes import FixContext, with_fixes

    out: list[Finding] = []
    for project in projects:
        ctx = FixContext(
            root=project.root,
            lock_paths=project.texts,
            formats={lock.path: lock.format for lock in project.lockfiles},
            pyproject=project.files.pyproject,
            pyproject_path=project.files.pyproject_path,
            rules=rulebook.get,
            package_rules=rulebook.for_package,
            declared=_declared(project, options.pythons)[0],
        )
        out += with_fixes([f for f in findings if f.project == project.shown], ctx)
    return sorted(out, key=Finding.sort_key)


def _unique_facts(facts: Iterable[IndexFacts]) -> tuple[IndexFacts, ...]:
    return tuple(sorted(set(facts), key=lambda f: (f.package, f.version, f.index)))


def check(options: CheckOptions, *, load_rules: Callable[..., RuleBook] | None = None) -> Outcome:
    """Run ``depwatch check``."""
    projects = read_projects(options.paths, hook=options.hook)
    if not projects:
        return Outcome(Report(projects=(), findings=()), ExitCode.OK, quiet=True)
    # The projects as they were at --since (read first: pip-audit audits their pins too).
    olds = {p.root: _old_project(p, options.since) for p in projects} if options.since else {}
    # pip-audit starts first and runs while the rules are matched and the code is scanned.
    pending = _start_vulns([*projects, *olds.values()], options) if options.vulns else None
    # The index pages are fetched on a thread meanwhile (--online), overlapping pip-audit.
    online = options.offline or (
        options.online if options.online is not None else any(p.settings.online for p in projects)
    )
    index = _start_index(projects, olds, options) if online else None
    _say(options, "Loading the rules")

    from depwatch import policy

    if load_rules is None:
        from depwatch.rulebook import load_rulebook

        # The rules cache is never written into an audited project (issue 19).
        load_rules = functools.partial(load_rulebook, protect=[p.root for p in projects])
    extra_dirs = list(options.rules_dirs)
    for project in projects:
        extra_dirs += [d for d in project.settings.rules if d not in extra_dirs]
    rulebook = load_rules(extra_dirs)

    run = _Run()
    try:
        for project in projects:
            _say(options, f"Matching the rules and scanning the code of {project.shown}")
            _audit_project(project, rulebook, options, run, olds.get(project.root), index)
    finally:
        if index is not None:
            index.close()
    if pending is not None:
        _say(options, "Waiting for the vulnerability audit (pip-audit)")
        _add_vulnerabilities(pending, projects, run, olds)
    if run.not_checked:
        run.not_checked = sorted(set(run.not_checked), key=lambda n: (n.package, n.version or ""))
        run.gaps += [
            f"not checked on the index: {n.package} {n.version or ''} ({n.reason})"
            for n in run.not_checked
        ]
    kept = _with_fixes(_apply_policy(run, options), projects, rulebook, options)

    # --fail-on decides for every project; else each project's own [tool.depwatch] fail-on.
    own = {p.shown: options.fail_on or p.settings.fail_on or "immediate" for p in projects}
    by_project: tuple[tuple[str, str], ...] = ()
    if len(set(own.values())) == 1:
        fail_on = next(iter(own.values()))
    else:
        fail_on, by_project = options.fail_on or "immediate", tuple(sorted(own.items()))
    report = Report(
        projects=tuple(run.reports),
        findings=tuple(kept),
        rules={k: run.infos[k] for k in sorted(run.infos)},
        suppressed=tuple(sorted(run.suppressed, key=lambda s: (s.project, s.rule, s.package))),
        stale_ignores=tuple(run.stale),
        not_audited=run.not_audited,
        not_checked=None if run.not_checked is None else tuple(run.not_checked),
        index_facts=None if run.index_facts is None else _unique_facts(run.index_facts),
        resolved=tuple(sorted(run.resolved, key=Finding.sort_key)) if options.since else None,
        warnings=tuple(run.warnings),
        fail_on=fail_on,
        fail_on_by_project=by_project,
        repo_root=top.as_posix() if (top := repository_top(Path.cwd())) else None,
        run_folder=Path.cwd().as_posix(),
    )
    code = max(
        (
            policy.exit_code([f for f in kept if f.project == p.shown], report.fail_on_for(p.shown))
            for p in projects
        ),
        default=ExitCode.OK,
    )
    if (options.strict and run.gaps) or run.blind:
        code = ExitCode.ERROR
    return Outcome(report, code, tuple(run.gaps), error=run.blind)
