"""Poetry lockfiles (``poetry.lock``): lock-version 1.0 to 2.1 and the form before 1.0."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from depwatch.files import display_path
from depwatch.lockfiles import names
from depwatch.lockfiles.base import (
    TOML_ENTRY,
    EntryError,
    EntryLines,
    LockContents,
    any_of,
    entry_error,
    entry_of,
    load_toml_lock,
    lock_version,
    name_of,
    newer_major,
    strings_of,
    table_of,
    tables_of,
    version_of,
)
from depwatch.model import LockFormat, Package, SourceKind
from depwatch.pythons import python_constraint_to_pep440

__all__ = ["FORMAT", "matches", "python_constraint_to_pep440", "read"]

FORMAT = LockFormat.POETRY

#: The newest lock-version major this reader knows.
_KNOWN_MAJOR = 2
#: Poetry's ``[package.source] type`` values, mapped to depwatch's source kinds.
_SOURCE_KINDS = {
    "git": SourceKind.GIT,
    "directory": SourceKind.DIRECTORY,
    "file": SourceKind.PATH,
    "url": SourceKind.URL,
    "legacy": SourceKind.REGISTRY,
}


def matches(path: Path) -> bool:
    """Whether ``path`` names a lockfile of this format (see :mod:`.names`)."""
    return names.poetry(path)


def read(path: Path) -> LockContents:
    """Read a poetry.lock: one Package per ``[[package]]`` (the root project is never listed)."""
    from packaging.utils import canonicalize_name  # here: packaging costs start-up

    shown = display_path(path)
    lock = load_toml_lock(
        path,
        shown,
        kind="Poetry lockfile",
        keys=("metadata", "package"),
        needs="[metadata] nor [[package]]",
        hint="run `poetry lock`",
    )
    data = lock.data
    warnings: list[str] = []
    fail = entry_error(lock.text, shown)

    metadata = table_of(data, "metadata", fail)
    version = lock_version(metadata, "lock-version", fail)
    if version is not None:
        if newer_major(version, _KNOWN_MAJOR):
            warnings.append(
                f"lock-version {version} is newer than this depwatch knows; read as 2.x"
            )
    elif "metadata" not in data:
        warnings.append("no [metadata] table; read as a Poetry lockfile anyway")

    requires_python = None
    python_versions = metadata.get("python-versions")
    if python_versions is not None:
        if not isinstance(python_versions, str):
            raise fail("'python-versions' must be a string", "metadata.python-versions")
        requires_python = python_constraint_to_pep440(python_versions)
        if requires_python is None and python_versions.strip() not in {"", "*"}:
            warnings.append(
                f"python-versions {python_versions!r} has no PEP 440 equivalent; ignored"
            )

    lines = EntryLines(lock.text, TOML_ENTRY)
    packages: list[Package] = []
    for index, item in enumerate(tables_of(data, "package", fail)):
        key = f"package[{index}]"
        entry = entry_of(item, key, fail, index)
        name = str(canonicalize_name(name_of(entry, key, fail, index)))
        pinned = version_of(entry, name, key, fail, index, lock="poetry.lock")
        if pinned is None:
            raise fail(f"package '{name}' has no 'version'", f"{key}.version", index)
        groups = _groups(entry, key, fail, index)
        packages.append(
            Package(
                name=name,
                version=pinned[0],
                parsed_version=pinned[1],
                source=_source(entry, name, key, fail, index),
                index=_index_url(entry),
                markers=_markers(entry, groups, key, fail, index),
                groups=groups,
                direct=None,
                line=lines.locate(name, pinned[0]),
            )
        )
    return LockContents(
        packages=tuple(packages), requires_python=requires_python, warnings=tuple(warnings)
    )


def _index_url(entry: dict[str, Any]) -> str | None:
    """The URL of a ``legacy`` (package index) source, where the entry has one."""
    source = entry.get("source")
    if isinstance(source, dict) and source.get("type") == "legacy":
        url = source.get("url")
        return url if isinstance(url, str) and url else None
    return None


def _source(entry: dict[str, Any], name: str, key: str, fail: EntryError, index: int) -> SourceKind:
    source = entry.get("source")
    if source is None:
        return SourceKind.REGISTRY
    if not isinstance(source, dict):
        raise fail(f"package '{name}' has a source that is not a table", f"{key}.source", index)
    kind = source.get("type")
    if not isinstance(kind, str):
        raise fail(f"package '{name}' has a source without a 'type'", f"{key}.source.type", index)
    mapped = _SOURCE_KINDS.get(kind)
    if mapped is None:
        raise fail(
            f"package '{name}' has an unknown source type {kind!r}", f"{key}.source.type", index
        )
    if entry.get("develop") is True and mapped in {SourceKind.DIRECTORY, SourceKind.PATH}:
        return SourceKind.EDITABLE
    return mapped


def _markers(
    entry: dict[str, Any], groups: tuple[str, ...], key: str, fail: EntryError, index: int
) -> str | None:
    """``markers`` (``marker`` before 1.1): a string, or (2.1) a table of marker per group,
    where a group of ``groups`` that the table leaves out installs the package everywhere."""
    field = "markers" if "markers" in entry else "marker"
    value = entry.get(field)
    key = f"{key}.{field}"
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and all(isinstance(v, str) for v in value.values()):
        if any(group not in value for group in groups) or "" in value.values():
            return None
        return any_of(value.values())
    raise fail("'markers' must be a string or a table of strings", key, index)


def _groups(entry: dict[str, Any], key: str, fail: EntryError, index: int) -> tuple[str, ...]:
    groups = entry.get("groups")
    if groups is not None:
        return tuple(
            strings_of(groups, "'groups' must be a list of strings", f"{key}.groups", fail, index)
        )
    category = entry.get("category")
    if category is not None:
        if not isinstance(category, str):
            raise fail("'category' must be a string", f"{key}.category", index)
        return (category,)
    return ()
