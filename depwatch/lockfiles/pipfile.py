"""Pipfile.lock (pipenv): the ``default`` and ``develop`` sections, and pipenv's other categories."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from packaging.specifiers import InvalidSpecifier
from packaging.utils import InvalidName, canonicalize_name

from depwatch import jsonfile
from depwatch.errors import DepwatchError
from depwatch.files import display_path, read_text
from depwatch.lockfiles import names
from depwatch.lockfiles.base import (
    EntryLines,
    EntryShape,
    LockContents,
    kind_of,
    marker_problem,
    merge,
)
from depwatch.model import LockFormat, Package, SourceKind
from depwatch.specifiers import specifier_set

__all__ = ["FORMAT", "matches", "read"]

FORMAT = LockFormat.PIPFILE

#: The newest ``_meta.pipfile-spec`` this reader was written for.
_KNOWN_SPEC = 6
#: Keys of an entry that say where it comes from instead of the index, most telling first.
_LOCATION_KEYS = (
    ("git", SourceKind.GIT),
    ("path", SourceKind.PATH),
    ("file", SourceKind.URL),
)
#: Where an entry is: ``"x": {`` with ``"version": "==1.0"`` before the entry's closing brace.
_ENTRY = EntryShape(
    r'[ \t]*"([^"\n]+)"[ \t]*:[ \t]*\{',
    r'^[ \t]*"version"[ \t]*:[ \t]*"===?[ \t]*(?P<v>[^"]*)"',
    r"^[ \t]*\}",
    10_000,
)


def matches(path: Path) -> bool:
    """Whether ``path`` names a lockfile of this format (see :mod:`.names`)."""
    return names.pipfile(path)


def read(path: Path) -> LockContents:
    """Read a Pipfile.lock; a name in several sections at one version is one package."""
    shown = display_path(path)
    text = read_text(path)
    data = jsonfile.loads(
        text, path=shown, what="Pipfile.lock", hint="regenerate it with `pipenv lock`"
    )
    if not isinstance(data, dict):
        raise DepwatchError(
            f"is not a Pipfile.lock: the top level is {kind_of(data)}, not an object", path=shown
        )
    warnings: list[str] = []
    requires_python = _requires_python(data.get("_meta"), shown, warnings)
    sources = _sources(data.get("_meta"))
    found: list[Package] = []
    for section, entries in data.items():
        if section == "_meta":
            continue
        if not isinstance(entries, dict):
            raise DepwatchError(
                f"section {section!r} must be an object of packages, not {kind_of(entries)}",
                path=shown,
                key=section,
            )
        for raw_name, entry in entries.items():
            package = _package(section, raw_name, entry, shown, warnings)
            if package is None:
                continue
            # An entry without "index" (a transitive one) comes from the first source.
            named = entry.get("index") if isinstance(entry, dict) else None
            url = (
                sources.get(named) if isinstance(named, str) else next(iter(sources.values()), None)
            )
            if package.source is SourceKind.REGISTRY and url is not None:
                package = replace(package, index=url)
            found.append(package)
    if "default" not in data and "develop" not in data:
        warnings.append("has neither a 'default' nor a 'develop' section")
    lines = EntryLines(text, _ENTRY)
    return LockContents(
        packages=tuple(
            item.package(line=lines.locate(item.first.name, item.first.version))
            for item in merge(found).values()
        ),
        requires_python=requires_python,
        warnings=tuple(warnings),
    )


def _package(
    section: str, raw_name: str, entry: Any, shown: str, warnings: list[str]
) -> Package | None:
    key = f"{section}.{raw_name}"
    if not isinstance(entry, dict):
        raise DepwatchError(
            f"an entry must be an object, not {kind_of(entry)}", path=shown, key=key
        )
    for field in ("version", "markers", "git", "path", "file", "ref"):
        value = entry.get(field)
        if value is not None and not isinstance(value, str):
            raise DepwatchError(
                f"'{field}' must be a string, not {kind_of(value)}",
                path=shown,
                key=f"{key}.{field}",
            )
    editable = entry.get("editable", False)
    if not isinstance(editable, bool):
        raise DepwatchError(
            f"'editable' must be true or false, not {kind_of(editable)}",
            path=shown,
            key=f"{key}.editable",
        )
    source = SourceKind.REGISTRY
    for field, kind in _LOCATION_KEYS:
        location = entry.get(field)
        if location:
            url_path = kind is SourceKind.URL and location.startswith("file:")
            source = SourceKind.PATH if url_path else kind
            break
    if editable:
        source = SourceKind.EDITABLE
    try:
        name = canonicalize_name(raw_name, validate=True)
    except InvalidName:
        if source is SourceKind.REGISTRY:
            raise DepwatchError(
                f"{raw_name!r} is not a valid package name", path=shown, key=key
            ) from None
        warnings.append(f"{key}: {raw_name!r} is not a package name; not listed")
        return None
    version = _version(entry.get("version"), source, key, warnings)
    markers = entry.get("markers") or None
    if markers is not None:
        problem = marker_problem(markers)
        if problem is not None:
            raise DepwatchError(
                f"has an invalid environment marker {markers!r}: {problem}",
                path=shown,
                key=f"{key}.markers",
            )
    return Package(name=name, version=version, source=source, markers=markers, groups=(section,))


def _version(text: str | None, source: SourceKind, key: str, warnings: list[str]) -> str | None:
    """``==1.2`` → ``1.2``; anything that is not an exact pin is no version (with a warning)."""
    if text is None:
        if source is SourceKind.REGISTRY:
            warnings.append(f"{key}: locked without a version")
        return None
    text = text.strip()
    for operator in ("===", "=="):
        if text.startswith(operator):
            pinned = text[len(operator) :].strip()
            if pinned and "*" not in pinned:
                return pinned
    warnings.append(f"{key}: locked version {text!r} is not an exact pin; listed without a version")
    return None


def _requires_python(meta: Any, shown: str, warnings: list[str]) -> str | None:
    """``_meta.requires``: ``python_full_version`` 3.11.4 → ``==3.11.4``, ``python_version`` 3.11 → ``==3.11.*``."""
    if meta is None:
        return None
    if not isinstance(meta, dict):
        raise DepwatchError(
            f"'_meta' must be an object, not {kind_of(meta)}", path=shown, key="_meta"
        )
    spec = meta.get("pipfile-spec")
    if isinstance(spec, int) and spec > _KNOWN_SPEC:
        warnings.append(
            f"pipfile-spec {spec} is newer than depwatch knows ({_KNOWN_SPEC}); read anyway"
        )
    requires = meta.get("requires")
    if requires is None:
        return None
    if not isinstance(requires, dict):
        raise DepwatchError(
            f"'requires' must be an object, not {kind_of(requires)}",
            path=shown,
            key="_meta.requires",
        )
    for field, suffix in (("python_full_version", ""), ("python_version", ".*")):
        value = requires.get(field)
        if value is None:
            continue
        if not isinstance(value, str):
            raise DepwatchError(
                f"'{field}' must be a string, not {kind_of(value)}",
                path=shown,
                key=f"_meta.requires.{field}",
            )
        specifier = f"=={value.strip()}{suffix}"
        try:
            specifier_set(specifier)
        except InvalidSpecifier:
            warnings.append(f"_meta.requires.{field}: {value!r} is not a Python version; ignored")
            continue
        return specifier
    return None


def _sources(meta: Any) -> dict[str, str]:
    """``_meta.sources``: index name → URL (what an entry's ``index`` names)."""
    found: dict[str, str] = {}
    listed = meta.get("sources") if isinstance(meta, dict) else None
    for source in listed if isinstance(listed, list) else []:
        if isinstance(source, dict):
            name, url = source.get("name"), source.get("url")
            if isinstance(name, str) and isinstance(url, str) and url:
                found[name] = url
    return found
