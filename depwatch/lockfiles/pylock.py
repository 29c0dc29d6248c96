"""PEP 751 lockfiles (``pylock.toml``, ``pylock.<name>.toml``), validated by ``packaging.pylock``."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from depwatch import tomlfile
from depwatch.errors import DepwatchError
from depwatch.files import display_path, read_text
from depwatch.lockfiles import names
from depwatch.lockfiles.base import (
    TOML_ENTRY,
    EntryLines,
    LockContents,
    entry_error,
    entry_of,
    name_of,
    table_line,
    tables_of,
)
from depwatch.model import LockFormat, Package, SourceKind

__all__ = ["FORMAT", "matches", "read"]

FORMAT = LockFormat.PYLOCK


def matches(path: Path) -> bool:
    """Whether ``path`` names a lockfile of this format (see :mod:`.names`)."""
    return names.pylock(path)


def read(path: Path) -> LockContents:
    """Read a pylock file: names are normalised (with a warning), then ``packaging`` validates."""
    from packaging.utils import canonicalize_name  # here: packaging costs start-up

    shown = display_path(path)
    text = read_text(path)
    data = tomlfile.loads(text, path=shown)
    if not data:
        raise DepwatchError("is empty: not a pylock file", path=shown)
    warnings: list[str] = []
    fail = entry_error(text, shown, "packages")
    if data.get("packages") is None:
        raise DepwatchError(
            "has no 'packages' array: not a pylock file", path=shown, key="packages"
        )
    fixed: list[Any] = []
    for index, item in enumerate(tables_of(data, "packages", fail)):
        key = f"packages[{index}]"
        entry = entry_of(item, key, fail, index)
        name = name_of(entry, key, fail, index)
        normal = str(canonicalize_name(name))
        if normal != name:
            warnings.append(f"name {name!r} is not normalised; read as {normal!r}")
            entry = {**entry, "name": normal}
        fixed.append(entry)
    document = {**data, "packages": fixed}
    extras = data.get("extras")
    if isinstance(extras, list) and all(isinstance(e, str) for e in extras):
        document["extras"] = [str(canonicalize_name(e)) for e in extras]
        if document["extras"] != extras:
            warnings.append("extras names are not normalised; read normalised")

    from packaging.pylock import Pylock, PylockUnsupportedVersionError, PylockValidationError

    try:
        lock = Pylock.from_dict(document)
    except PylockUnsupportedVersionError as exc:
        raise DepwatchError(
            f"uses an unsupported lock-version: {exc.message}", path=shown, key="lock-version"
        ) from None
    except PylockValidationError as exc:
        where = _index_of(exc.context)
        raise DepwatchError(
            f"is not a valid pylock file: {exc.message}",
            path=shown,
            line=table_line(text, "packages", where) if where is not None else None,
            key=exc.context,
        ) from None

    lines = EntryLines(text, TOML_ENTRY)
    packages: list[Package] = []
    for entry, package in zip(fixed, lock.packages, strict=True):
        marker = entry.get("marker")
        packages.append(
            Package(
                name=str(package.name),
                version=entry.get("version"),
                parsed_version=package.version,
                source=_source(package),
                index=package.index if isinstance(package.index, str) else None,
                markers=marker or None,
                groups=(),
                direct=None,
                line=lines.locate(str(package.name), entry.get("version")),
            )
        )
    requires_python = data.get("requires-python")
    return LockContents(
        packages=tuple(packages),
        requires_python=requires_python if isinstance(requires_python, str) else None,
        warnings=tuple(warnings),
    )


def _source(package: Any) -> SourceKind:
    """The source kind of a validated ``packaging.pylock.Package``."""
    if package.vcs is not None:
        return SourceKind.GIT if package.vcs.type == "git" else SourceKind.URL
    if package.directory is not None:
        return SourceKind.EDITABLE if package.directory.editable else SourceKind.DIRECTORY
    if package.archive is not None:
        return SourceKind.URL if package.archive.url else SourceKind.PATH
    return SourceKind.REGISTRY


def _index_of(key: str | None) -> int | None:
    found = re.match(r"packages\[(\d+)\]", key or "")
    return int(found.group(1)) if found else None
