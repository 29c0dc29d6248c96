"""PDM lockfiles (``pdm.lock``): lock_version 3.x and 4.x, targets, per-extras entries."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from depwatch.files import display_path
from depwatch.lockfiles.base import (
    TOML_ENTRY,
    EntryError,
    LockContents,
    any_of,
    entry_error,
    load_toml_lock,
    parse_version,
    with_lines,
)
from depwatch.model import Package

__all__ = ["FORMAT", "matches", "read"]

FORMAT = "pdm"

#: The newest lock_version major this reader knows.
_KNOWN_MAJOR = 4
#: Keys of a package entry that say where it comes from, in the order they are tried.
_VCS_KEYS = ("git", "hg", "svn", "bzr")
#: A ``path`` that ends so is a local archive (``path`` source); any other is a directory.
_ARCHIVES = (".whl", ".tar.gz", ".zip", ".tar.bz2", ".tgz")


def matches(path: Path) -> bool:
    """Whether ``path`` is named ``pdm.lock``."""
    return path.name == "pdm.lock"


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

    metadata = data.get("metadata", {})
    if not isinstance(metadata, dict):
        raise fail("'metadata' must be a table", "metadata", None)
    _check_version(metadata, warnings, fail)
    requires_python = _requires_python(metadata, warnings, fail)

    entries = data.get("package", [])
    if not isinstance(entries, list):
        raise fail("'package' must be an array of tables ([[package]])", "package", None)
    merged: dict[tuple[str, str | None, str], list[Any]] = {}
    order: list[tuple[str, str | None, str]] = []
    for index, entry in enumerate(entries):
        key = f"package[{index}]"
        if not isinstance(entry, dict):
            raise fail(f"{key} must be a table", key, index)
        raw_name = entry.get("name")
        if raw_name is None:
            raise fail(f"{key} has no 'name'", f"{key}.name", index)
        if not isinstance(raw_name, str) or not raw_name:
            raise fail(f"{key} has a name that is not a string: {raw_name!r}", f"{key}.name", index)
        name = str(canonicalize_name(raw_name.partition("[")[0].strip()))
        version = entry.get("version")
        if version is not None and not isinstance(version, str):
            raise fail(
                f"package '{name}' has a version that is not a string: {version!r}",
                f"{key}.version",
                index,
            )
        if version is not None and parse_version(version) is None:
            raise fail(
                f"package '{name}' has version {version!r}, which is not a PEP 440 version "
                "(pdm.lock holds only those)",
                f"{key}.version",
                index,
            )
        source = _source(entry)
        groups = entry.get("groups", entry.get("sections", []))
        if not isinstance(groups, list) or not all(isinstance(g, str) for g in groups):
            raise fail("'groups' must be a list of strings", f"{key}.groups", index)
        marker = entry.get("marker")
        if marker is not None and not isinstance(marker, str):
            raise fail("'marker' must be a string", f"{key}.marker", index)
        identity = (name, version, source)
        found = merged.get(identity)
        if found is None:
            merged[identity] = [list(groups), [marker] if marker else [], marker is None]
            order.append(identity)
        else:
            found[0].extend(g for g in groups if g not in found[0])
            if marker is None:
                found[2] = True
            elif marker not in found[1]:
                found[1].append(marker)

    packages: list[Package] = []
    for name, version, source in order:
        groups, markers, unconditional = merged[(name, version, source)]
        packages.append(
            Package(
                name=name,
                version=version,
                source=source,
                markers=None if unconditional or not markers else any_of(markers),
                groups=tuple(groups),
                direct=None,
            )
        )
    return LockContents(
        packages=with_lines(packages, lock.text, TOML_ENTRY),
        requires_python=requires_python,
        warnings=tuple(warnings),
    )


def _check_version(metadata: dict[str, Any], warnings: list[str], fail: EntryError) -> None:
    lock_version = metadata.get("lock_version")
    if lock_version is None:
        warnings.append("no 'metadata.lock_version'; read as lock_version 4")
        return
    if not isinstance(lock_version, str):
        raise fail(
            f"'lock_version' must be a string, not {lock_version!r}", "metadata.lock_version", None
        )
    major = lock_version.partition(".")[0]
    if not (major.isascii() and major.isdigit()) or int(major) > _KNOWN_MAJOR:
        warnings.append(f"lock_version {lock_version} is newer than this depwatch knows")


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


def _source(entry: dict[str, Any]) -> str:
    for key in _VCS_KEYS:
        if entry.get(key):
            return "git" if key == "git" else "url"
    path = entry.get("path")
    if path:
        if entry.get("editable") is True:
            return "editable"
        return "path" if isinstance(path, str) and path.endswith(_ARCHIVES) else "directory"
    if entry.get("url"):
        return "url"
    return "registry"
