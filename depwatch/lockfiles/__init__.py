"""Lockfile readers, one module per format, and the registry that picks one for a file.

Reader modules are imported lazily, in the order below, until one recognises the file name:
reading a uv.lock never pays for YAML or requirement parsing.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path
from typing import cast

from depwatch.errors import DepwatchError
from depwatch.files import display_path
from depwatch.lockfiles.base import LockContents, Reader
from depwatch.model import Finding, Lockfile, Package

__all__ = ["FORMATS", "LockContents", "Reader", "load_reader", "reader_for", "with_lock_lines"]

#: Every supported format, in the order a file name is tried against them (the cheap
#: modules first: conda's reader imports a YAML parser).
FORMATS: tuple[str, ...] = ("uv", "poetry", "pipfile", "pdm", "pylock", "requirements", "conda")


def load_reader(fmt: str) -> Reader:
    """The reader module of format ``fmt``."""
    return cast(Reader, importlib.import_module(f"depwatch.lockfiles.{fmt}"))


def reader_for(path: Path, *, explicit: bool = False) -> Reader:
    """The reader for ``path``; an explicitly named ``*.txt`` reads as a requirements file."""
    for fmt in FORMATS:
        reader = load_reader(fmt)
        if reader.matches(path):
            return reader
    if explicit and path.suffix in {".txt", ".in"}:
        return load_reader("requirements")
    raise DepwatchError(
        "is not a lockfile depwatch can read",
        path=display_path(path),
        hint="name a uv.lock, poetry.lock, Pipfile.lock, pdm.lock, pylock.toml, "
        "conda-lock.yml or requirements file",
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
