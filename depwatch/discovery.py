"""Which lockfiles a run reads, grouped by the project root they belong to."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from depwatch import lockfiles
from depwatch.errors import DepwatchError
from depwatch.files import display_path

__all__ = [
    "Target",
    "discover",
    "find_project",
    "find_root",
    "is_lockfile_name",
    "search",
]

_MANIFESTS = ("pyproject.toml", "Pipfile")
_SOURCE_SUFFIXES = (".py", ".ipynb")


@dataclass
class Target:
    """One project root and the lockfiles to read for it."""

    root: Path
    lockfiles: list[Path] = field(default_factory=list)
    explicit: set[Path] = field(default_factory=set)
    """Lockfiles named on the command line (a ``*.txt`` of any name reads as requirements)."""


def is_lockfile_name(name: str) -> bool:
    """Whether a file of this name is one a folder search picks up: a name a reader of the
    registry reads (plus, searched apart, ``requirements/*.txt``)."""
    return lockfiles.format_of(Path(name)) is not None


def find_root(lockfile: Path) -> Path:
    """The nearest folder upward holding pyproject.toml or a Pipfile, else the file's folder."""
    folder = lockfile.parent
    for candidate in (folder, *folder.parents):
        if any((candidate / manifest).is_file() for manifest in _MANIFESTS):
            return candidate
    return folder


def _has_lockfile(folder: Path) -> bool:
    try:
        with os.scandir(folder) as entries:
            if any(is_lockfile_name(entry.name) for entry in entries):
                return True
    except OSError:
        return False
    return (folder / "requirements").is_dir() and any((folder / "requirements").glob("*.txt"))


def find_project(start: Path) -> Path:
    """The project a command run in ``start`` is about, found upward as uv and ruff do.

    The nearest folder holding a lockfile, from ``start`` up to the top of its git repository
    (a workspace member without a lock of its own belongs to the workspace's lock); else the
    nearest holding pyproject.toml or a Pipfile; else ``start`` itself. Outside git the search
    goes up to the home folder or the file system's root.
    """
    start = start.resolve()
    manifest: Path | None = None
    home = Path.home()
    for folder in (start, *start.parents):
        if _has_lockfile(folder):
            return folder
        if manifest is None and any((folder / m).is_file() for m in _MANIFESTS):
            manifest = folder
        if (folder / ".git").exists() or folder == home:
            break
    return manifest or start


def search(folder: Path) -> list[Path]:
    found = []
    try:
        entries = sorted(os.scandir(folder), key=lambda entry: entry.name)
    except OSError as exc:
        raise DepwatchError(
            f"cannot be listed: {exc.strerror}", path=display_path(folder)
        ) from None
    for entry in entries:
        # A folder or a broken link under a lockfile's name is kept: reading it says what
        # is wrong, where skipping it would pass a gate over a lockfile nobody read.
        if is_lockfile_name(entry.name):
            found.append(Path(entry.path))
    sub = folder / "requirements"
    if sub.is_dir():
        found += sorted(p for p in sub.glob("*.txt") if p.is_file())
    return found


def discover(paths: Sequence[str], *, hook: bool = False) -> list[Target]:
    """Turn command-line PATHs into project targets, in the order first named.

    A folder is searched; a ``pyproject.toml``/``Pipfile`` means its folder; any other file is
    a lockfile read alone, whose root is found upward. Paths naming the same root merge.
    With no path, the project is found upward from the working folder (:func:`find_project`).
    With ``hook`` (pre-commit passing the changed files), a Python source file or notebook
    names the project found upward from its folder.
    """
    targets: dict[Path, Target] = {}
    if not paths:
        project = find_project(Path.cwd())
        paths = [os.path.relpath(project) if project != Path.cwd().resolve() else "."]
    for raw in paths:
        path = Path(raw)
        if not os.path.lexists(path):
            raise DepwatchError("no such file or folder", path=raw)
        try:
            resolved = path.resolve(strict=True)
        except RuntimeError:  # symlink loop on older Pythons
            raise DepwatchError("is a symbolic link loop", path=raw) from None
        except OSError as exc:
            raise DepwatchError(f"cannot be opened: {exc.strerror or exc}", path=raw) from None
        if resolved.is_dir() and is_lockfile_name(resolved.name):
            raise DepwatchError("is a directory, not a lockfile", path=raw)
        if resolved.is_dir():
            target = targets.setdefault(resolved, Target(resolved))
            for lock in search(resolved):
                if lock not in target.lockfiles:
                    target.lockfiles.append(lock)
        elif resolved.name in _MANIFESTS or (hook and resolved.suffix in _SOURCE_SUFFIXES):
            folder = (
                resolved.parent if resolved.name in _MANIFESTS else find_project(resolved.parent)
            )
            target = targets.setdefault(folder, Target(folder))
            for lock in search(folder):
                if lock not in target.lockfiles:
                    target.lockfiles.append(lock)
        else:
            # The file as named (a link named uv.lock is read as a uv.lock), in its folder.
            lock = path.absolute().parent.resolve() / path.name
            root = find_root(lock)
            target = targets.setdefault(root, Target(root))
            if lock not in target.lockfiles:
                target.lockfiles.append(lock)
            target.explicit.add(lock)
    return list(targets.values())
