"""Lockfile readers, one module per format, and the registry that picks one for a file.

The registry tells a format from the file name alone (:mod:`depwatch.lockfiles.names`) and
imports only that format's reader: reading a uv.lock never pays for YAML or requirement
parsing. Each loader returns its module as a :class:`Reader`, which mypy checks.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace
from pathlib import Path

from depwatch.errors import DepwatchError
from depwatch.files import display_path
from depwatch.lockfiles import names
from depwatch.lockfiles.base import LockContents, Reader
from depwatch.model import Finding, Lockfile, LockFormat, Package

__all__ = [
    "FORMATS",
    "LockContents",
    "Reader",
    "format_of",
    "load_reader",
    "read_lockfile",
    "reader_for",
    "with_lock_lines",
]


def _uv() -> Reader:
    from depwatch.lockfiles import uv

    return uv


def _poetry() -> Reader:
    from depwatch.lockfiles import poetry

    return poetry


def _pipfile() -> Reader:
    from depwatch.lockfiles import pipfile

    return pipfile


def _pdm() -> Reader:
    from depwatch.lockfiles import pdm

    return pdm


def _pylock() -> Reader:
    from depwatch.lockfiles import pylock

    return pylock


def _requirements() -> Reader:
    from depwatch.lockfiles import requirements

    return requirements


def _conda() -> Reader:
    from depwatch.lockfiles import conda

    return conda


#: format → (which file names it reads, its reader), in the order a name is tried.
_REGISTRY: dict[LockFormat, tuple[Callable[[Path], bool], Callable[[], Reader]]] = {
    LockFormat.UV: (names.uv, _uv),
    LockFormat.POETRY: (names.poetry, _poetry),
    LockFormat.PIPFILE: (names.pipfile, _pipfile),
    LockFormat.PDM: (names.pdm, _pdm),
    LockFormat.PYLOCK: (names.pylock, _pylock),
    LockFormat.REQUIREMENTS: (names.requirements, _requirements),
    LockFormat.CONDA: (names.conda, _conda),
}

#: Every supported format.
FORMATS: tuple[LockFormat, ...] = tuple(_REGISTRY)


def load_reader(fmt: str) -> Reader:
    """The reader module of format ``fmt``."""
    return _REGISTRY[LockFormat(fmt)][1]()


def format_of(path: Path) -> LockFormat | None:
    """The format a file of this name is (decided from the name alone), or None."""
    for fmt, (matches, _) in _REGISTRY.items():
        if matches(path):
            return fmt
    return None


def reader_for(path: Path, *, explicit: bool = False) -> Reader:
    """The reader for ``path``; an explicitly named ``*.txt`` reads as a requirements file."""
    fmt = format_of(path)
    if fmt is not None:
        return load_reader(fmt)
    if explicit and path.suffix in {".txt", ".in"}:
        return load_reader(LockFormat.REQUIREMENTS)
    raise DepwatchError(
        "is not a lockfile depwatch can read",
        path=display_path(path),
        hint="name a uv.lock, poetry.lock, Pipfile.lock, pdm.lock, pylock.toml, "
        "conda-lock.yml or requirements file",
    )


def read_lockfile(
    path: Path, shown: str, *, explicit: bool = False, direct: frozenset[str] | None = None
) -> Lockfile:
    """Read ``path`` with its format's reader, as the lockfile at ``shown`` (relative to its
    project); ``direct`` (the project's direct dependencies, where known) fills in what the
    lock leaves unknown."""
    reader = reader_for(path, explicit=explicit)
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
        path=shown,
        format=reader.FORMAT,
        packages=packages,
        requires_python=contents.requires_python,
        warnings=contents.warnings,
        python_versions=contents.python_versions,
        environments=contents.environments,
        details=contents.details,
    )


def with_lock_lines(findings: Iterable[Finding], locks: Iterable[Lockfile]) -> list[Finding]:
    """``findings`` with the line of their package in their first lockfile, as its reader
    found it: the entry at the finding's version, else the name's first entry."""
    by_path = {lock.path: lock for lock in locks}
    lines: dict[str, _PackageLines] = {}
    out = []
    for finding in findings:
        lock = by_path.get(finding.lockfiles[0]) if finding.lockfiles else None
        if lock is not None and finding.lock_line is None:
            found = lines.get(lock.path)
            if found is None:
                found = lines[lock.path] = _PackageLines(lock.packages)
            finding = replace(finding, lock_line=found.line(finding.package, finding.version))
        out.append(finding)
    return out


class _PackageLines:
    """A lockfile's packages by name and version, for their lines."""

    def __init__(self, packages: Iterable[Package]) -> None:
        self.exact: dict[tuple[str, str | None], int] = {}
        self.first: dict[str, int] = {}
        for package in packages:
            if package.line is None:
                continue
            key = (package.name, package.version)
            self.exact[key] = min(package.line, self.exact.get(key, package.line))
            self.first[package.name] = min(package.line, self.first.get(package.name, package.line))

    def line(self, name: str, version: str) -> int | None:
        found = self.exact.get((name, version))
        return found if found is not None else self.first.get(name)
