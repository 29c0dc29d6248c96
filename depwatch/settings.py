"""``[tool.depwatch]`` in pyproject.toml: validated, with unknown keys rejected.

A typo must not silently disable a gate, so every key is checked and every error names the
file and the key.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name

from depwatch.errors import DepwatchError
from depwatch.model import FailOn
from depwatch.specifiers import specifier_set

__all__ = ["IgnoreEntry", "Settings", "parse_settings"]

_KEYS = {
    "fail-on",
    "rules",
    "exclude",
    "ignore",
    "vendored",
    "fixtures",
    "projects",
    "online",
    "index-url",
    "index-max-age",
}
_IGNORE_KEYS = {"id", "package", "versions", "reason", "until"}


@dataclass(frozen=True, slots=True)
class IgnoreEntry:
    """A suppression: a rule or advisory id (or alias), optionally narrowed, always explained."""

    id: str
    reason: str
    package: str | None = None
    versions: SpecifierSet | None = None
    until: datetime.date | None = None
    origin: str = "pyproject.toml"
    """Where it was written (``pyproject.toml`` or ``--ignore``), for messages."""


@dataclass(frozen=True, slots=True)
class Settings:
    """The project's depwatch configuration."""

    fail_on: FailOn | None = None
    rules: tuple[Path, ...] = ()
    exclude: tuple[str, ...] = ()
    ignore: tuple[IgnoreEntry, ...] = ()
    vendored: tuple[str, ...] | None = None
    """Globs of vendored third-party code (None: the default folders)."""
    fixtures: tuple[str, ...] | None = None
    """Globs of test data (None: the default folders and the test-data rule)."""
    projects: tuple[str, ...] | None = None
    """``check --recursive``: the project folders below this one (None: find them)."""
    online: bool | None = None
    """``online``: ask the package index (as ``--online``); None when not set."""
    index_url: str | None = None
    index_max_age: int | None = None
    """Seconds a cached index page is used before it is revalidated (default 3600)."""


def _string_list(value: object, *, path: str, key: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise DepwatchError("expected a list of strings", path=path, key=key)
    return tuple(value)


def _ignore(item: object, index: int, *, path: str) -> IgnoreEntry:
    where = f"tool.depwatch.ignore[{index}]"
    if not isinstance(item, Mapping):
        raise DepwatchError("expected a table ([[tool.depwatch.ignore]])", path=path, key=where)
    unknown = sorted(set(item) - _IGNORE_KEYS)
    if unknown:
        raise DepwatchError(
            f"unknown key {unknown[0]!r}",
            path=path,
            key=f"{where}.{unknown[0]}",
            hint="an ignore entry takes id, package, versions, reason and until",
        )
    for required in ("id", "reason"):
        if not isinstance(item.get(required), str) or not item[required].strip():
            raise DepwatchError(
                f"'{required}' is required and must be a non-empty string",
                path=path,
                key=f"{where}.{required}",
                hint='every ignore says why (reason = "…")' if required == "reason" else None,
            )
    package = item.get("package")
    if package is not None and not isinstance(package, str):
        raise DepwatchError("expected a string", path=path, key=f"{where}.package")
    versions = item.get("versions")
    spec = None
    if versions is not None:
        try:
            if not isinstance(versions, str):
                raise InvalidSpecifier(str(versions))
            spec = specifier_set(versions)
        except InvalidSpecifier:
            raise DepwatchError(
                f'{versions!r} is not a version specifier (like "==2.0.0" or "<3")',
                path=path,
                key=f"{where}.versions",
            ) from None
    until = item.get("until")
    if until is not None and (
        not isinstance(until, datetime.date) or isinstance(until, datetime.datetime)
    ):
        raise DepwatchError(
            "expected a date (until = 2026-12-31, unquoted)", path=path, key=f"{where}.until"
        )
    return IgnoreEntry(
        id=item["id"].strip(),
        reason=item["reason"].strip(),
        package=canonicalize_name(package) if package else None,
        versions=spec,
        until=until,
        origin=path,
    )


def parse_settings(
    pyproject: Mapping[str, Any] | None, *, path: Path | None, shown: str = "pyproject.toml"
) -> Settings:
    """The ``[tool.depwatch]`` table of a parsed pyproject.toml (empty settings when absent)."""
    if pyproject is None or path is None:
        return Settings()
    tool = pyproject.get("tool")
    table = tool.get("depwatch") if isinstance(tool, Mapping) else None
    if table is None:
        return Settings()
    if not isinstance(table, Mapping):
        raise DepwatchError("expected a table", path=shown, key="tool.depwatch")
    unknown = sorted(set(table) - _KEYS)
    if unknown:
        raise DepwatchError(
            f"unknown key {unknown[0]!r}",
            path=shown,
            key=f"tool.depwatch.{unknown[0]}",
            hint="[tool.depwatch] takes fail-on, rules, exclude, vendored, fixtures, projects, "
            "online, index-url, index-max-age and [[tool.depwatch.ignore]]",
        )
    fail_on = table.get("fail-on")
    if fail_on is not None and fail_on not in {f.value for f in FailOn}:
        raise DepwatchError(
            f"{fail_on!r} is not one of {', '.join(f.value for f in FailOn)}",
            path=shown,
            key="tool.depwatch.fail-on",
        )
    rules = _string_list(table.get("rules", []), path=shown, key="tool.depwatch.rules")
    exclude = _string_list(table.get("exclude", []), path=shown, key="tool.depwatch.exclude")
    vendored = fixtures = None
    if "vendored" in table:
        vendored = _string_list(table["vendored"], path=shown, key="tool.depwatch.vendored")
    if "fixtures" in table:
        fixtures = _string_list(table["fixtures"], path=shown, key="tool.depwatch.fixtures")
    raw_ignores = table.get("ignore", [])
    if not isinstance(raw_ignores, list):
        raise DepwatchError(
            "expected an array of tables ([[tool.depwatch.ignore]])",
            path=shown,
            key="tool.depwatch.ignore",
        )
    projects = table.get("projects")
    if projects is not None:
        projects = _string_list(projects, path=shown, key="tool.depwatch.projects")
    online = table.get("online")
    if online is not None and not isinstance(online, bool):
        raise DepwatchError("expected true or false", path=shown, key="tool.depwatch.online")
    index_url = table.get("index-url")
    if index_url is not None and (
        not isinstance(index_url, str) or not index_url.startswith(("https://", "http://"))
    ):
        raise DepwatchError(
            "expected an http(s) URL of a simple index (like https://pypi.org/simple/)",
            path=shown,
            key="tool.depwatch.index-url",
        )
    max_age = table.get("index-max-age")
    if max_age is not None and (
        not isinstance(max_age, int) or isinstance(max_age, bool) or max_age < 0
    ):
        raise DepwatchError(
            "expected a number of seconds (0 or more)",
            path=shown,
            key="tool.depwatch.index-max-age",
        )
    return Settings(
        projects=projects,
        online=online,
        index_url=index_url,
        index_max_age=max_age,
        fail_on=None if fail_on is None else FailOn(fail_on),
        rules=tuple(path.parent / rule for rule in rules),
        exclude=exclude,
        ignore=tuple(_ignore(item, i, path=shown) for i, item in enumerate(raw_ignores)),
        vendored=vendored,
        fixtures=fixtures,
    )
