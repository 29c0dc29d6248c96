"""PDM lockfiles (``pdm.lock``): lock_version 3.x and 4.x, targets, per-extras entries."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from depwatch.files import display_path
from depwatch.lockfiles import names
from depwatch.lockfiles.base import (
    ARCHIVES,
    TOML_ENTRY,
    EntryError,
    EntryLines,
    LockContents,
    entry_error,
    entry_of,
    load_toml_lock,
    lock_version,
    merge,
    name_of,
    newer_major,
    strings_of,
    table_of,
    tables_of,
    version_of,
)
from depwatch.model import LockFormat, Package, SourceKind

__all__ = ["FORMAT", "matches", "read"]

FORMAT = LockFormat.PDM

#: The newest lock_version major this reader knows.
_KNOWN_MAJOR = 4
#: Keys of a package entry that say where it comes from, in the order they are tried.
_VCS_KEYS = ("git", "hg", "svn", "bzr")


def matches(path: Path) -> bool:
    """Whether ``path`` names a lockfile of this format (see :mod:`.names`)."""
    return names.pdm(path)


def read(path: Path) -> LockContents:
    """Read a pdm.lock: one Package per (name, version, source), extras entries merged."""
    from packaging.utils import canonicalize_name  # here: packaging costs start-up

    shown = display_path(path)
    lock = load_toml_lock(
        path,
        shown,
        kind="PDM lockfile",
        keys=("metadata", "package"),
        needs="[metadata] nor [[package]]",
        hint="run `pdm lock`",
    )
    data = lock.data
    warnings: list[str] = []
    fail = entry_error(lock.text, shown)

    metadata = table_of(data, "metadata", fail)
    _check_version(metadata, warnings, fail)
    requires_python = _requires_python(metadata, warnings, fail)

    found: list[Package] = []
    for index, item in enumerate(tables_of(data, "package", fail)):
        key = f"package[{index}]"
        entry = entry_of(item, key, fail, index)
        name = str(canonicalize_name(name_of(entry, key, fail, index).partition("[")[0].strip()))
        pinned = version_of(entry, name, key, fail, index, lock="pdm.lock")
        source = _source(entry)
        groups = strings_of(
            entry.get("groups", entry.get("sections", [])),
            "'groups' must be a list of strings",
            f"{key}.groups",
            fail,
            index,
        )
        marker = entry.get("marker")
        if marker is not None and not isinstance(marker, str):
            raise fail("'marker' must be a string", f"{key}.marker", index)
        found.append(
            Package(
                name=name,
                version=None if pinned is None else pinned[0],
                parsed_version=None if pinned is None else pinned[1],
                source=source,
                markers=marker,
                groups=tuple(groups),
                direct=None,
            )
        )
    lines = EntryLines(lock.text, TOML_ENTRY)
    return LockContents(
        packages=tuple(
            item.package(line=lines.locate(item.first.name, item.first.version))
            for item in merge(found).values()
        ),
        requires_python=requires_python,
        warnings=tuple(warnings),
    )


def _check_version(metadata: dict[str, Any], warnings: list[str], fail: EntryError) -> None:
    version = lock_version(metadata, "lock_version", fail)
    if version is None:
        warnings.append("no 'metadata.lock_version'; read as lock_version 4")
        return
    if newer_major(version, _KNOWN_MAJOR):
        warnings.append(f"lock_version {version} is newer than this depwatch knows")


def _requires_python(metadata: dict[str, Any], warnings: list[str], fail: EntryError) -> str | None:
    """``metadata.requires_python``, else the one range every ``[[metadata.targets]]`` shares."""
    value = metadata.get("requires_python")
    if value is not None:
        if not isinstance(value, str):
            raise fail("'requires_python' must be a string", "metadata.requires_python", None)
        return value or None
    targets = metadata.get("targets", [])
    if not isinstance(targets, list):
        raise fail("'metadata.targets' must be an array of tables", "metadata.targets", None)
    found: list[str] = []
    for number, target in enumerate(targets):
        key = f"metadata.targets[{number}]"
        if not isinstance(target, dict):
            raise fail(f"{key} must be a table", key, None)
        text = target.get("requires_python")
        if text is None:
            continue
        if not isinstance(text, str):
            raise fail("'requires_python' must be a string", f"{key}.requires_python", None)
        if text and text not in found:
            found.append(text)
    if len(found) > 1:
        warnings.append(
            "targets declare different requires_python ("
            + ", ".join(found)
            + "); the lock's own range is left unset"
        )
        return None
    return found[0] if found else None


def _source(entry: dict[str, Any]) -> SourceKind:
    for key in _VCS_KEYS:
        if entry.get(key):
            return SourceKind.GIT if key == "git" else SourceKind.URL
    path = entry.get("path")
    if path:
        if entry.get("editable") is True:
            return SourceKind.EDITABLE
        if isinstance(path, str) and path.endswith(ARCHIVES):
            return SourceKind.PATH
        return SourceKind.DIRECTORY
    if entry.get("url"):
        return SourceKind.URL
    return SourceKind.REGISTRY
