"""``depwatch check DIR --recursive``: every project below DIR, audited in parallel.

A project is a folder holding a lockfile (the names ``discovery`` searches for). The walk skips
virtual environments (a folder with ``pyvenv.cfg``, or named ``.venv``/``venv``), build and
cache folders, ``node_modules``, version-control folders and whatever git ignores; a uv
workspace is one project at its root (its members share the root's ``uv.lock``). ``[tool.depwatch]
projects = ["services/api", …]`` in DIR's pyproject.toml lists the folders instead (each must be
a folder below DIR holding a lockfile).

Each project is audited on its own (:func:`depwatch.audit.check` with that folder as PATH) in a
process pool bounded by the cores, and the reports are joined into one: one exit code for the
run, the highest of the projects'. A project that cannot be read (a malformed lockfile) makes
the run exit 2, and the others are still audited and reported.
"""

from __future__ import annotations

import fnmatch
import os
import subprocess
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from depwatch import discovery
from depwatch.errors import DepwatchError, ExitCode
from depwatch.files import display_path
from depwatch.model import FailOn, Finding, NotAudited, Report

if TYPE_CHECKING:
    from depwatch.audit import Outcome
    from depwatch.options import CheckOptions

__all__ = ["RecursiveOutcome", "check_recursive", "find_projects"]

#: Folder names never walked into.
SKIP_DIRS = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        ".venv",
        "venv",
        ".tox",
        ".nox",
        "node_modules",
        "__pycache__",
        "build",
        "dist",
        "site-packages",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
        ".eggs",
    }
)


def _skipped(entry: os.DirEntry[str]) -> bool:
    name = entry.name
    if name in SKIP_DIRS or name.endswith(".egg-info"):
        return True
    return (Path(entry.path) / "pyvenv.cfg").is_file()


def _workspace_members(folder: Path) -> list[str]:
    """The member globs of a uv workspace rooted at ``folder`` (its ``uv.lock`` covers them)."""
    from depwatch import tomlfile

    pyproject = folder / "pyproject.toml"
    if not (folder / "uv.lock").is_file() or not pyproject.is_file():
        return []
    try:
        data = tomlfile.load(pyproject)
    except DepwatchError:
        return []
    tool = data.get("tool")
    uv = tool.get("uv") if isinstance(tool, dict) else None
    workspace = uv.get("workspace") if isinstance(uv, dict) else None
    members = workspace.get("members") if isinstance(workspace, dict) else None
    return [m for m in members or () if isinstance(m, str)]


def _git_ignored(root: Path, folders: Sequence[Path]) -> set[Path]:
    """The folders git ignores (themselves or through a parent), in one ``git`` call."""
    if not folders:
        return set()
    rel = {f"{os.path.relpath(f, root)}/": f for f in folders if f != root}
    if not rel:
        return set()
    try:
        done = subprocess.run(
            ["git", "-C", str(root), "check-ignore", "--stdin", "-z"],
            input="\0".join(rel) + "\0",
            capture_output=True,
            text=True,
            timeout=60,
        )
    except (OSError, subprocess.SubprocessError):
        return set()
    if done.returncode not in (0, 1):  # 128: not a repository
        return set()
    return {rel[p] for p in done.stdout.split("\0") if p in rel}


def _walk(root: Path) -> list[Path]:
    found: list[Path] = []
    members: list[tuple[Path, str]] = []
    stack = [root]
    while stack:
        folder = stack.pop()
        if any(
            fnmatch.fnmatchcase(folder.as_posix(), (base / g).as_posix()) for base, g in members
        ):
            continue  # a workspace member: the root's lock covers it
        try:
            locks = discovery.search(folder)
        except DepwatchError:
            continue  # a folder that cannot be listed holds no project we could read
        if locks:
            found.append(folder)
            members += [(folder, glob) for glob in _workspace_members(folder)]
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name, reverse=True)
        except OSError:
            continue
        stack += [
            Path(e.path) for e in entries if e.is_dir(follow_symlinks=False) and not _skipped(e)
        ]
    ignored = _git_ignored(root, found)
    return sorted((f for f in found if f not in ignored), key=lambda p: p.as_posix())


def _listed(root: Path, listed: Sequence[str], shown: str) -> list[Path]:
    """``[tool.depwatch] projects``, validated: folders below ``root`` that hold a lockfile."""
    out: list[Path] = []
    resolved_root = root.resolve()
    for index, entry in enumerate(listed):
        key = f"tool.depwatch.projects[{index}]"
        folder = (root / entry).resolve()
        if Path(entry).is_absolute() or not (
            folder == resolved_root or folder.is_relative_to(resolved_root)
        ):
            raise DepwatchError(
                f"{entry!r} is not a folder below {display_path(root)}", path=shown, key=key
            )
        if not folder.is_dir():
            raise DepwatchError(f"{entry!r}: no such folder", path=shown, key=key)
        if not discovery.search(folder):
            raise DepwatchError(
                f"{entry!r} holds no lockfile",
                path=shown,
                key=key,
                hint="list folders that hold uv.lock, poetry.lock, … or requirements*.txt",
            )
        if folder not in out:
            out.append(folder)
    return out


def find_projects(root: Path) -> list[Path]:
    """The project folders below ``root`` (``root`` included when it holds a lockfile)."""
    from depwatch import tomlfile
    from depwatch.settings import parse_settings

    pyproject = root / "pyproject.toml"
    if pyproject.is_file():
        shown = display_path(pyproject)
        settings = parse_settings(tomlfile.load(pyproject), path=pyproject, shown=shown)
        if settings.projects is not None:
            return _listed(root, settings.projects, shown)
    return _walk(root)


@dataclass(frozen=True)
class RecursiveOutcome:
    """The joined outcome, and one error line per project that could not be audited."""

    outcome: Outcome
    errors: tuple[str, ...]


def _check_one(options: CheckOptions) -> tuple[Outcome | None, str | None]:
    from depwatch import audit

    try:
        return audit.check(options), None
    except DepwatchError as exc:
        return None, str(exc)


def _workers(count: int) -> int:
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(count, cores))


def check_recursive(options: CheckOptions) -> RecursiveOutcome:
    """Find the projects below each PATH and audit them, in parallel where there are cores."""
    roots = []
    for raw in options.paths:
        path = Path(raw)
        if not path.is_dir():
            raise DepwatchError("--recursive needs a folder", path=raw)
        roots.append(path)
    folders: list[Path] = []
    for root in roots:
        folders += [f for f in find_projects(root) if f not in folders]
    if not folders:
        if options.hook:
            from depwatch.audit import Outcome

            return RecursiveOutcome(Outcome(Report((), ()), ExitCode.OK, quiet=True), ())
        shown = ", ".join(display_path(r) for r in roots)
        raise DepwatchError(
            f"no project with a lockfile found below {shown}",
            hint="a project is a folder with uv.lock, poetry.lock, Pipfile.lock, pdm.lock, "
            "pylock.toml, conda-lock.yml or requirements*.txt",
        )
    jobs = [replace(options, paths=(str(folder),)) for folder in folders]
    workers = _workers(len(jobs))
    if workers == 1:
        results = [_check_one(job) for job in jobs]
    else:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            results = list(pool.map(_check_one, jobs))
    errors = [
        error if error.startswith(display_path(folder)) else f"{display_path(folder)}: {error}"
        for folder, (_, error) in zip(folders, results, strict=True)
        if error is not None
    ]
    return RecursiveOutcome(_join([o for o, _ in results if o is not None], errors), tuple(errors))


def _join(outcomes: Sequence[Outcome], errors: Sequence[str]) -> Outcome:
    from depwatch.audit import Outcome

    reports = [o.report for o in outcomes]
    findings = sorted((f for r in reports for f in r.findings), key=Finding.sort_key)
    rules = {k: v for r in reports for k, v in r.rules.items()}
    not_audited: tuple[NotAudited, ...] | None = None
    if any(r.not_audited is not None for r in reports):
        not_audited = tuple(n for r in reports for n in r.not_audited or ())
    resolved: tuple[Finding, ...] | None = None
    if any(r.resolved is not None for r in reports):
        resolved = tuple(
            sorted((f for r in reports for f in r.resolved or ()), key=Finding.sort_key)
        )
    # Each project gates by its own fail-on (--fail-on, else its [tool.depwatch] fail-on).
    own = {p.root: r.fail_on_for(p.root) for r in reports for p in r.projects}
    values = set(own.values())
    fail_on = (
        values.pop() if len(values) == 1 else (reports[0].fail_on if reports else FailOn.IMMEDIATE)
    )
    by_project = () if len(set(own.values())) <= 1 else tuple(sorted(own.items()))
    first = reports[0] if reports else None
    report = Report(
        projects=tuple(p for r in reports for p in r.projects),
        findings=tuple(findings),
        rules={k: rules[k] for k in sorted(rules)},
        suppressed=tuple(s for r in reports for s in r.suppressed),
        stale_ignores=tuple(dict.fromkeys(s for r in reports for s in r.stale_ignores)),
        not_audited=not_audited,
        resolved=resolved,
        warnings=tuple(w for r in reports for w in r.warnings)
        + tuple(f"not audited: {e}" for e in errors),
        fail_on=fail_on,
        fail_on_by_project=by_project,
        repo_root=first.repo_root if first else None,
        run_folder=first.run_folder if first else None,
    )
    code = max((o.exit_code for o in outcomes), default=ExitCode.OK)
    if errors:
        code = ExitCode.ERROR
    gaps = tuple(g for o in outcomes for g in o.gaps)
    return Outcome(report, code, gaps)
