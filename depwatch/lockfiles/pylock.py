"""PEP 751 lockfiles (``pylock.toml``, ``pylock.<name>.toml``), validated by ``packaging.pylock``."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from depwatch import tomlfile
from depwatch.errors import DepwatchError
from depwatch.files import display_path, read_text
from depwatch.lockfiles.base import TOML_ENTRY, LockContents, table_line, with_lines
from depwatch.model import Package

__all__ = ["FORMAT", "matches", "read"]

FORMAT = "pylock"

_FILE_NAME = re.compile(r"pylock\.[^.]+\.toml\Z")


def matches(path: Path) -> bool:
    """Whether ``path`` is named ``pylock.toml`` or ``pylock.<name>.toml`` (PEP 751)."""
    return path.name == "pylock.toml" or bool(_FILE_NAME.match(path.name))


def read(path: Path) -> LockContents:
    """Read a pylock file: names are normalised (with a warning), then ``packaging`` validates."""
    from packaging.utils import canonicalize_name  # here: packaging costs start-up

    shown = display_path(path)
    text = read_text(path)
    data = tomlfile.loads(text, path=shown)
    if not data:
        raise DepwatchError("is empty: not a pylock file", path=shown)
    warnings: list[str] = []
    entries = data.get("packages")
    if entries is None:
        raise DepwatchError(
            "has no 'packages' array: not a pylock file", path=shown, key="packages"
        )
    if not isinstance(entries, list):
        raise DepwatchError(
            "'packages' must be an array of tables ([[packages]])", path=shown, key="packages"
        )
    fixed: list[Any] = []
    for index, entry in enumerate(entries):
        key = f"packages[{index}]"
        if not isinstance(entry, dict):
            raise _fail(text, shown, f"{key} must be a table", key, index)
        name = entry.get("name")
        if name is None:
            raise _fail(text, shown, f"{key} has no 'name'", f"{key}.name", index)
        if not isinstance(name, str) or not name:
            raise _fail(
                text,
                shown,
                f"{key} has a name that is not a string: {name!r}",
                f"{key}.name",
                index,
            )
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

    packages: list[Package] = []
    for entry, package in zip(fixed, lock.packages, strict=True):
        marker = entry.get("marker")
        packages.append(
            Package(
                name=str(package.name),
                version=entry.get("version"),
                source=_source(package),
                index=package.index if isinstance(package.index, str) else None,
                markers=marker or None,
                groups=(),
                direct=None,
            )
        )
    requires_python = data.get("requires-python")
    return LockContents(
        packages=with_lines(packages, text, TOML_ENTRY),
        requires_python=requires_python if isinstance(requires_python, str) else None,
        warnings=tuple(warnings),
    )


def _source(package: Any) -> str:
    """The source kind of a validated ``packaging.pylock.Package``."""
    if package.vcs is not None:
        return "git" if package.vcs.type == "git" else "url"
    if package.directory is not None:
        return "editable" if package.directory.editable else "directory"
    if package.archive is not None:
        return "url" if package.archive.url else "path"
    return "registry"


def _fail(text: str, shown: str, message: str, key: str, index: int) -> DepwatchError:
    return DepwatchError(message, path=shown, line=table_line(text, "packages", index), key=key)


def _index_of(key: str | None) -> int | None:
    found = re.match(r"packages\[(\d+)\]", key or "")
    return int(found.group(1)) if found else None
