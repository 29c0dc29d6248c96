"""The project's own constraints on a package: pyproject.toml, the Pipfile, a pip-compile input
(and what it includes with ``-r``/``-c``)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version

if TYPE_CHECKING:
    from depwatch.fixes.context import FixContext


@dataclass(frozen=True)
class _Constraint:
    path: str
    line: int | None
    text: str
    specs: tuple[SpecifierSet, ...]
    """Alternatives (Poetry's ``||``); allowed when any allows."""
    group: str | None = None
    """Poetry group / PDM dev group / optional-dependency extra the entry sits in."""
    extra: bool = False
    python: bool = False
    """The declared Python range: the target release does not install on all of it."""

    def allows(self, version: Version) -> bool:
        return any(spec.contains(version, prereleases=True) for spec in self.specs)


def _line_of(lines: Sequence[str], *needles: str, start: int = 0) -> int | None:
    for index in range(start, len(lines)):
        if all(needle in lines[index] for needle in needles):
            return index + 1
    return None


def _key_line(lines: Sequence[str], name: str, start: int = 0) -> int | None:
    """The line of a TOML key spelling ``name`` (any PEP 503 spelling), at or after ``start``."""
    for index in range(start, len(lines)):
        found = re.match(r"""\s*["']?([A-Za-z0-9][A-Za-z0-9._-]*)["']?\s*=""", lines[index])
        if found and canonicalize_name(found.group(1)) == name:
            return index + 1
    return None


def _table_start(lines: Sequence[str], header: str) -> int:
    """The index of the line after ``[header]`` (0 when absent)."""
    for index, line in enumerate(lines):
        if line.strip() == f"[{header}]":
            return index + 1
    return 0


def _pep508(
    items: object, name: str, path: str, lines: Sequence[str], group: str | None, extra: bool
) -> list[_Constraint]:
    out: list[_Constraint] = []
    if not isinstance(items, list):
        return out
    for item in items:
        if not isinstance(item, str):
            continue
        try:
            req = Requirement(item)
        except InvalidRequirement:
            continue
        if canonicalize_name(req.name) != name or not str(req.specifier):
            continue
        out.append(
            _Constraint(path, _line_of(lines, item), item.strip(), (req.specifier,), group, extra)
        )
    return out


def _poetry(
    table: object, name: str, path: str, lines: Sequence[str], header: str, group: str | None
) -> list[_Constraint]:
    from depwatch.pythons import poetry_constraint

    if not isinstance(table, Mapping):
        return []
    out = []
    for key, value in table.items():
        if not isinstance(key, str) or canonicalize_name(key) != name:
            continue
        text = value.get("version") if isinstance(value, Mapping) else value
        if not isinstance(text, str):
            continue
        try:
            specs = tuple(poetry_constraint(text))
        except (ValueError, InvalidSpecifier):
            continue
        line = _key_line(lines, name, _table_start(lines, header))
        shown = lines[line - 1].strip() if line else f"{key} = {text!r}"
        out.append(_Constraint(path, line, shown, specs, group))
    return out


def _constraints(data: Mapping[str, Any], name: str, lines: Sequence[str]) -> list[_Constraint]:
    """Every pyproject.toml entry that constrains ``name``."""
    path = "pyproject.toml"
    found: list[_Constraint] = []
    project = data.get("project")
    if isinstance(project, Mapping):
        found += _pep508(project.get("dependencies"), name, path, lines, None, False)
        extras = project.get("optional-dependencies")
        if isinstance(extras, Mapping):
            for extra, items in extras.items():
                found += _pep508(items, name, path, lines, str(extra), True)
    groups = data.get("dependency-groups")
    if isinstance(groups, Mapping):
        for group, items in groups.items():
            found += _pep508(items, name, path, lines, str(group), False)
    tool = data.get("tool")
    if isinstance(tool, Mapping):
        pdm = tool.get("pdm")
        dev = pdm.get("dev-dependencies") if isinstance(pdm, Mapping) else None
        if isinstance(dev, Mapping):
            for group, items in dev.items():
                found += _pep508(items, name, path, lines, str(group), False)
        uv = tool.get("uv")
        if isinstance(uv, Mapping):
            for key in ("dev-dependencies", "constraint-dependencies", "override-dependencies"):
                found += _pep508(uv.get(key), name, path, lines, None, False)
        poetry = tool.get("poetry")
        if isinstance(poetry, Mapping):
            found += _poetry(
                poetry.get("dependencies"), name, path, lines, "tool.poetry.dependencies", None
            )
            found += _poetry(
                poetry.get("dev-dependencies"),
                name,
                path,
                lines,
                "tool.poetry.dev-dependencies",
                "dev",
            )
            pgroups = poetry.get("group")
            if isinstance(pgroups, Mapping):
                for group, table in pgroups.items():
                    deps = table.get("dependencies") if isinstance(table, Mapping) else None
                    header = f"tool.poetry.group.{group}.dependencies"
                    found += _poetry(deps, name, path, lines, header, str(group))
    return found


def _pipfile_constraints(
    data: Mapping[str, Any], name: str, lines: Sequence[str]
) -> list[_Constraint]:
    out = []
    for section in ("packages", "dev-packages"):
        table = data.get(section)
        if not isinstance(table, Mapping):
            continue
        for key, value in table.items():
            if not isinstance(key, str) or canonicalize_name(key) != name:
                continue
            text = value.get("version") if isinstance(value, Mapping) else value
            if not isinstance(text, str) or text.strip() in {"", "*"}:
                continue
            try:
                spec = SpecifierSet(text)
            except InvalidSpecifier:
                continue
            line = _key_line(lines, name, _table_start(lines, section))
            shown = lines[line - 1].strip() if line else f"{key} = {text!r}"
            out.append(_Constraint("Pipfile", line, shown, (spec,)))
    return out


def _in_constraint(ctx: FixContext, source: str, name: str, version: Version) -> _Constraint | None:
    lines = ctx.lines(ctx.root / source)
    for index, raw in enumerate(lines):
        text = raw.split(" #", 1)[0].strip()
        if not text or text.startswith(("#", "-")):
            continue
        try:
            req = Requirement(text)
        except InvalidRequirement:
            continue
        if canonicalize_name(req.name) == name and not req.specifier.contains(
            version, prereleases=True
        ):
            return _Constraint(source, index + 1, raw.strip(), (req.specifier,))
    return None


_INCLUDE = re.compile(r"^(?:-r|-c|--requirement|--constraint)(?:\s+|=)(\S+)")
_MAX_INCLUDES = 16
_POETRY_MARKER = re.compile(r"\b(?:python|markers|platform)\s*=")


def _own_choice(c: _Constraint) -> bool:
    """Whether a constraint says the project chose to stay below a release: a range without
    a marker. An exact pin (``==2.0.2``) or one limited by a marker (``python_version``) may be
    there for the very Python that holds the release back."""
    text = c.text.split(" #", 1)[0]
    if ";" in text or _POETRY_MARKER.search(text):
        return False
    for spec in c.specs:
        items = list(spec)
        if items and all(
            s.operator == "===" or (s.operator == "==" and "*" not in s.version) for s in items
        ):
            return False
    return True


def _included_constraint(
    ctx: FixContext, source: str, name: str, version: Version, seen: set[str]
) -> bool:
    """Whether ``source`` (a pip-compile input, relative to the root) or what it includes with
    ``-r``/``-c`` excludes ``version`` of ``name`` by the project's choice (:func:`_own_choice`);
    an included file that is itself compiled is read through its own input."""
    if source in seen or len(seen) >= _MAX_INCLUDES:
        return False
    seen.add(source)
    found = _in_constraint(ctx, source, name, version)
    if found is not None and _own_choice(found):
        return True
    base = (ctx.root / source).parent
    root = ctx.root.resolve()
    for raw in ctx.lines(ctx.root / source):
        match = _INCLUDE.match(raw.strip())
        if match is None:
            continue
        target = (base / match.group(1)).resolve()
        if not target.is_file() or not target.is_relative_to(root):
            continue
        rel = target.relative_to(root).as_posix()
        if rel in ctx.lock_paths:
            kind, compiled_from = ctx.requirements_tool(rel)
            if kind in ("pip-compile", "uv-pip-compile") and compiled_from is not None:
                rel = compiled_from
        if _included_constraint(ctx, rel, name, version, seen):
            return True
    return False
