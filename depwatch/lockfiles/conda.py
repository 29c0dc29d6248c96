"""conda-lock.yml (conda-lock, unified format): conda and pip packages of every platform."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import yaml
from packaging.utils import canonicalize_name

from depwatch.errors import DepwatchError, number_problem
from depwatch.files import display_path, read_text
from depwatch.lockfiles import names
from depwatch.lockfiles.base import (
    EntryLines,
    EntryShape,
    LockContents,
    Merged,
    any_of,
    kind_of,
    parse_version,
)
from depwatch.model import LockFormat, Package, SourceKind

__all__ = ["FORMAT", "matches", "read"]

FORMAT = LockFormat.CONDA

#: The newest ``version`` of the conda-lock file format this reader was written for.
_KNOWN_VERSION = 1
_BaseLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _DuplicateKey(yaml.MarkedYAMLError):
    """A mapping names a key twice (PyYAML would keep only the last value)."""


class _Loader(_BaseLoader):  # type: ignore[misc,valid-type]
    """The safe loader (C parser when built), refusing a key repeated in one mapping."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[tuple[str, str]] = set()
        for key_node, _ in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag.endswith(":merge"):
                continue
            key = (key_node.tag, key_node.value)
            if key in seen:
                raise _DuplicateKey(
                    problem=f"the key {key_node.value!r} appears twice in one mapping "
                    "(only the last value would be read)",
                    problem_mark=key_node.start_mark,
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)  # type: ignore[no-any-return]


_MANAGERS = frozenset({"conda", "pip"})
#: conda platform → a PEP 508 marker for it (platforms not listed here get no marker).
_PLATFORM_MARKERS = {
    "linux-64": "sys_platform == 'linux' and platform_machine == 'x86_64'",
    "linux-aarch64": "sys_platform == 'linux' and platform_machine == 'aarch64'",
    "linux-ppc64le": "sys_platform == 'linux' and platform_machine == 'ppc64le'",
    "linux-s390x": "sys_platform == 'linux' and platform_machine == 's390x'",
    "osx-64": "sys_platform == 'darwin' and platform_machine == 'x86_64'",
    "osx-arm64": "sys_platform == 'darwin' and platform_machine == 'arm64'",
    "win-64": "sys_platform == 'win32' and platform_machine == 'AMD64'",
    "win-arm64": "sys_platform == 'win32' and platform_machine == 'ARM64'",
}
#: conda platform prefix → ``sys_platform``.
_SYSTEMS = {"linux": "linux", "osx": "darwin", "win": "win32"}
_NOT_PEP440 = "not a PEP 440 version (conda's own scheme): matches no rule"
#: Where an entry is: ``name: x`` with ``version: 1.0`` in the lines after it, within the entry.
_ENTRY = EntryShape(
    r"""[ \t]*-?[ \t]*name:[ \t]*["']?([^"'\s]+)["']?[ \t]*$""",
    r"""^[ \t]*version:[ \t]*["']?(?P<v>.*?)["']?[ \t]*$""",
    r"^[ \t]*-",
    12,
)


def matches(path: Path) -> bool:
    """Whether ``path`` names a lockfile of this format (see :mod:`.names`)."""
    return names.conda(path)


def read(path: Path) -> LockContents:
    """Read a conda-lock.yml; one package per name and version across platforms and managers."""
    shown = display_path(path)
    text = read_text(path)
    data = _load(text, shown)
    warnings: list[str] = []
    version = data.get("version")
    if version is not None:
        if not isinstance(version, int) or isinstance(version, bool):
            raise DepwatchError(
                f"'version' must be a whole number, not {version!r}", path=shown, key="version"
            )
        if version > _KNOWN_VERSION:
            warnings.append(
                f"conda-lock format version {version} is newer than depwatch knows "
                f"({_KNOWN_VERSION}); read as version {_KNOWN_VERSION}"
            )
    items = data.get("package")
    if not isinstance(items, list):
        raise DepwatchError(
            "has no 'package' list"
            if items is None
            else f"'package' must be a list, not {kind_of(items, yaml=True)}",
            path=shown,
            key="package",
            hint="regenerate it with `conda-lock lock`",
        )
    platforms = _platforms(data.get("metadata"), shown)
    merged: dict[tuple[str, str, SourceKind], _Merged] = {}
    python_versions: list[str] = []
    for index, item in enumerate(items):
        entry = _entry(item, f"package[{index}]", shown)
        name, version_text, manager, platform, groups, source = entry
        if manager == "conda" and name == "python" and version_text not in python_versions:
            python_versions.append(version_text)
        key = (name, version_text, source)
        if key in merged:
            merged[key].add_platform(platform, groups)
        else:
            release = parse_version(version_text)
            first = Package(
                name=name,
                version=version_text,
                parsed_version=release,
                source=source,
                groups=groups,
                note=None if release is not None else _NOT_PEP440,
            )
            merged[key] = _Merged(first, platform)
        if manager == "pip":
            merged[key].pip = True
    lines = EntryLines(text, _ENTRY)
    seen_platforms = platforms or sorted({p for item in merged.values() for p in item.platforms})
    systems = {_SYSTEMS.get(p.split("-", 1)[0]) for p in seen_platforms}
    return LockContents(
        packages=tuple(
            item.package(line=lines.locate(name, version), platforms=seen_platforms)
            for (name, version, _), item in merged.items()
        ),
        warnings=tuple(warnings),
        python_versions=tuple(python_versions),
        # the systems the lock was made for, when every platform names a known one
        environments=()
        if None in systems
        else tuple(f"sys_platform == '{s}'" for s in sorted(s for s in systems if s)),
    )


def _load(text: str, shown: str) -> dict[str, Any]:
    try:
        data = yaml.load(text, Loader=_Loader)  # a safe loader (C when built)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        problem = exc.problem or "malformed"
        raise DepwatchError(
            f"is not valid YAML: {problem}",
            path=shown,
            line=mark.line + 1 if mark is not None else None,
            hint="regenerate it with `conda-lock lock`",
        ) from None
    except yaml.YAMLError as exc:
        raise DepwatchError(f"is not valid YAML: {exc}", path=shown) from None
    except ValueError as exc:  # an integer past Python's digit limit
        raise DepwatchError(
            f"is not a conda-lock file depwatch can read: {number_problem(exc)}", path=shown
        ) from None
    except RecursionError:
        raise DepwatchError(
            "is not a conda-lock file: its mappings or lists are nested too deeply", path=shown
        ) from None
    if not isinstance(data, dict):
        raise DepwatchError(
            f"is not a conda-lock file: the top level is {kind_of(data, yaml=True)}, not a mapping",
            path=shown,
            hint="depwatch reads conda-lock.yml; an environment.yml is a spec, not a lock",
        )
    return data


def _platforms(metadata: Any, shown: str) -> list[str]:
    if metadata is None:
        return []
    if not isinstance(metadata, dict):
        raise DepwatchError(
            f"'metadata' must be a mapping, not {kind_of(metadata, yaml=True)}",
            path=shown,
            key="metadata",
        )
    platforms = metadata.get("platforms")
    if platforms is None:
        return []
    if not isinstance(platforms, list) or not all(isinstance(p, str) for p in platforms):
        raise DepwatchError(
            "'platforms' must be a list of platform names", path=shown, key="metadata.platforms"
        )
    return platforms


def _entry(
    item: Any, key: str, shown: str
) -> tuple[str, str, str, str, tuple[str, ...], SourceKind]:
    """(name, version, manager, platform, groups, source) of one ``package`` item."""
    if not isinstance(item, dict):
        raise DepwatchError(
            f"a package must be a mapping, not {kind_of(item, yaml=True)}", path=shown, key=key
        )
    fields: dict[str, str] = {}
    for field in ("name", "version", "manager", "platform"):
        value = item.get(field)
        if not isinstance(value, str) or not value:
            problem = (
                "is missing"
                if value is None
                else f"must be text, not {kind_of(value, yaml=True)} {value!r}"
            )
            raise DepwatchError(
                f"'{field}' {problem}",
                path=shown,
                key=f"{key}.{field}",
                hint="quote it in the YAML if it is a version like 2.0"
                if field == "version" and isinstance(value, (int, float))
                else None,
            )
        fields[field] = value
    manager = fields["manager"]
    if manager not in _MANAGERS:
        raise DepwatchError(
            f"'manager' must be conda or pip, not {manager!r}", path=shown, key=f"{key}.manager"
        )
    groups = _groups(item, key, shown)
    url = item.get("url")
    if url is not None and not isinstance(url, str):
        raise DepwatchError(
            f"'url' must be text, not {kind_of(url, yaml=True)}", path=shown, key=f"{key}.url"
        )
    source = SourceKind.REGISTRY
    if url and manager == "pip":
        if url.startswith("git+"):
            source = SourceKind.GIT
        elif url.startswith("file:"):
            source = SourceKind.PATH
    return (
        canonicalize_name(fields["name"]),  # _libgcc_mutex → -libgcc-mutex
        fields["version"],
        manager,
        fields["platform"],
        groups,
        source,
    )


def _groups(item: dict[str, Any], key: str, shown: str) -> tuple[str, ...]:
    """``category`` (conda-lock 1.x/2.x) or ``categories`` (later), default ``main``."""
    categories = item.get("categories")
    if categories is not None:
        if not isinstance(categories, list) or not all(isinstance(c, str) for c in categories):
            raise DepwatchError(
                "'categories' must be a list of names", path=shown, key=f"{key}.categories"
            )
        return tuple(categories) or ("main",)
    category = item.get("category", "main")
    if not isinstance(category, str):
        raise DepwatchError(
            f"'category' must be text, not {kind_of(category, yaml=True)}",
            path=shown,
            key=f"{key}.category",
        )
    return (category,)


class _Merged(Merged):
    """One name and version, with the platforms and categories it was locked for."""

    __slots__ = ("pip", "platforms")

    def __init__(self, first: Package, platform: str) -> None:
        super().__init__(first)
        self.platforms = [platform]
        self.pip = False
        """Whether pip installs it (from a Python package index); else conda does."""

    def add_platform(self, platform: str, groups: tuple[str, ...]) -> None:
        if platform not in self.platforms:
            self.platforms.append(platform)
        self.add_groups(groups)

    def package(self, *, line: int | None = None, platforms: Sequence[str] = ()) -> Package:
        merged = super().package(line=line)
        return replace(
            merged, markers=self._platform_markers(platforms), index=None if self.pip else "conda"
        )

    def _platform_markers(self, all_platforms: Sequence[str]) -> str | None:
        """None where locked for every platform of the file, else the platforms as markers."""
        if set(all_platforms) <= set(self.platforms):
            return None
        markers = [_PLATFORM_MARKERS.get(platform) for platform in sorted(self.platforms)]
        if any(marker is None for marker in markers):
            return None
        return any_of(marker for marker in markers if marker is not None)
