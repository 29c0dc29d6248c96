"""The projects a check audits, as read: each root's manifests, settings and lockfiles, and the
lines of pyproject.toml and the lockfiles that findings point at."""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from depwatch import discovery, lockfiles
from depwatch.errors import DepwatchError
from depwatch.files import display_path
from depwatch.model import Finding, Lockfile
from depwatch.project import ProjectFiles, declares_dependencies, read_project
from depwatch.settings import Settings, parse_settings

__all__ = [
    "Project",
    "inventory",
    "load_project",
    "read_projects",
    "rel_path",
    "with_declaration_line",
    "with_lines",
]


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


def rel_path(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return Path(os.path.relpath(path, root)).as_posix()


def load_project(target: discovery.Target) -> Project:
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
        lock = read_lockfile(path, target.root, explicit=path in target.explicit, direct=direct)
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
    return [load_project(t) for t in targets if t.lockfiles]


def inventory(paths: Sequence[str]) -> list[tuple[str, Lockfile]]:
    """``depwatch packages``: every lockfile read, with its project root."""
    return [(p.shown, lock) for p in read_projects(paths) for lock in p.lockfiles]


# -- lockfile and pyproject.toml line lookups (the "locks" work moves these) ---------------


def read_lockfile(
    path: Path, root: Path, *, explicit: bool, direct: frozenset[str] | None
) -> Lockfile:
    return lockfiles.read_lockfile(path, rel_path(path, root), explicit=explicit, direct=direct)


def with_lines(findings: Iterable[Finding], project: Project) -> list[Finding]:
    """Findings with the line of their package in their first lockfile (as its reader found)."""
    return lockfiles.with_lock_lines(findings, project.lockfiles)


def with_declaration_line(findings: list[Finding], project: Project) -> list[Finding]:
    """Interpreter findings with the line of pyproject.toml that declares the Python range
    (``requires-python``, or Poetry's ``python``), where SARIF and annotations point."""
    line = project.files.python_line
    if line is None:
        return findings
    return [
        replace(f, lock_line=line) if f.package == "python" and not f.lockfiles else f
        for f in findings
    ]
