"""The pipeline: discover → read → load rules → match → scan usage → advise → policy.

The CLI calls :func:`check` or :func:`inventory` and hands the result to a reporter; nothing
here prints.
"""

from __future__ import annotations

import datetime
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
    Lockfile,
    NotAudited,
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
    from depwatch.matcher import Matcher
    from depwatch.rulebook import RuleBook
    from depwatch.rulebook.model import Usage
    from depwatch.usage import FileFacts

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
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    for lock in project.lockfiles:
        if lock.requires_python:
            try:
                spec = SpecifierSet(lock.requires_python)
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
    """Scans the project's code once, on the first rule that asks, then answers from memory."""

    def __init__(
        self, root: Path, modules: Iterable[str], env: Iterable[str], exclude: Sequence[str]
    ) -> None:
        self.root, self.exclude = root, exclude
        self.modules, self.env = sorted(set(modules)), sorted(set(env))
        self.facts: tuple[FileFacts, ...] | None = None
        self.warnings: tuple[str, ...] = ()
        self._memo: dict[Usage, tuple[Evidence, ...]] = {}

    def __call__(self, usage: Usage) -> tuple[Evidence, ...]:
        from depwatch import usage as scanner

        found = self._memo.get(usage)
        if found is None:
            if self.facts is None:
                result = scanner.scan_project(
                    self.root, self.modules, self.env, exclude=self.exclude
                )
                self.facts, self.warnings = result.facts, result.warnings
            found = self._memo[usage] = scanner.evidence_for(self.facts, usage)
        return found


def _usage_lookup(project: Project, rulebook: RuleBook, exclude: Sequence[str]) -> _UsageLookup:
    modules: set[str] = set()
    env: set[str] = set()
    names = {p.name for lock in project.lockfiles for p in lock.packages}
    rules = [r for name in names for r in rulebook.for_package(name)]
    rules += list(rulebook.interpreter_rules())
    for rule in rules:
        if rule.usage is not None:
            modules.update(rule.usage.modules)
            env.update(rule.usage.env)
    return _UsageLookup(project.root, modules, env, exclude)


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
    )
    matcher = Matcher(rulebook, ctx)
    found: list[Finding] = []
    for lock in project.lockfiles:
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
    blind: str | None = None
    """Set when ``--vulns`` could audit no package at all: the reason."""


def _audit_project(
    project: Project,
    rulebook: RuleBook,
    options: CheckOptions,
    run: _Run,
    old_project: Project | None = None,
) -> None:
    """Match one project (and, with ``--since``, the same project at the revision)."""
    from depwatch.matcher import merge

    exclude = (*project.settings.exclude, *options.exclude)
    if exclude:  # a bad glob is an error whether or not a rule needs the scan
        from depwatch.usage.project import exclude_spec

        exclude_spec(tuple(exclude))
    usage = _usage_lookup(project, rulebook, exclude) if options.usage else None
    found, matcher, project_report = _match_project(project, rulebook, options, usage)
    run.reports.append(project_report)
    run.infos.update(matcher.infos)
    if old_project is not None:
        old_found, old_matcher, _ = _match_project(old_project, rulebook, options, usage)
        run.infos.update(old_matcher.infos)
        found = _since_filter(merge(found), merge(old_found), run)
    run.findings += _with_declaration_line(_with_lines(merge(found), project), project)

    prefix = "" if project.shown == "." else f"{project.shown}/"
    for lock in project.lockfiles:
        run.warnings += [f"{prefix}{lock.path}: {w}" for w in lock.warnings]
    if usage is not None and usage.warnings:
        run.warnings += usage.warnings
        run.gaps += usage.warnings
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


def check(options: CheckOptions, *, load_rules: Callable[..., RuleBook] | None = None) -> Outcome:
    """Run ``depwatch check``."""
    projects = read_projects(options.paths, hook=options.hook)
    if not projects:
        return Outcome(Report(projects=(), findings=()), ExitCode.OK, quiet=True)
    # The projects as they were at --since (read first: pip-audit audits their pins too).
    olds = {p.root: _old_project(p, options.since) for p in projects} if options.since else {}
    # pip-audit starts first and runs while the rules are matched and the code is scanned.
    pending = _start_vulns([*projects, *olds.values()], options) if options.vulns else None
    _say(options, "Loading the rules")

    from depwatch import policy

    if load_rules is None:
        from depwatch.rulebook import load_rulebook

        load_rules = load_rulebook
    extra_dirs = list(options.rules_dirs)
    for project in projects:
        extra_dirs += [d for d in project.settings.rules if d not in extra_dirs]
    rulebook = load_rules(extra_dirs)

    run = _Run()
    for project in projects:
        _say(options, f"Matching the rules and scanning the code of {project.shown}")
        _audit_project(project, rulebook, options, run, olds.get(project.root))
    if pending is not None:
        _say(options, "Waiting for the vulnerability audit (pip-audit)")
        _add_vulnerabilities(pending, projects, run, olds)
    kept = _apply_policy(run, options)

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
