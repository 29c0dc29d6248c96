"""The ``requires-python`` fix of a Python-floor or end-of-life finding, and the declared
Python range that blocks a release."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from depwatch.fixes.constraints import _Constraint, _key_line, _table_start
from depwatch.fixes.context import _LOCK_TOOLS, FixContext
from depwatch.model import Finding, Fix, FixEdit

if TYPE_CHECKING:
    from depwatch.rulebook.model import Rule

_RELOCK = {"uv": "uv lock", "poetry": "poetry lock", "pdm": "pdm lock", "pipenv": "pipenv lock"}


def _python_blocking(ctx: FixContext, name: str, version: Version) -> _Constraint | None:
    """The declared Python range, when a shipped Python-floor rule says ``version`` of ``name``
    does not install on a Python the project declares (raise requires-python first)."""
    if not ctx.declared:
        return None
    from depwatch.pythons import excluded_minors

    for rule in ctx.package_rules(name):
        if rule.python_requires is None or not rule.affected.contains(version, prereleases=True):
            continue
        dropped = excluded_minors(rule.python_requires, ctx.declared)
        if not dropped:
            continue
        where = _python_line(ctx)
        if where is None:
            return _Constraint("pyproject.toml", None, "requires-python", (), python=True)
        path, line, text = where
        return _Constraint(path, line, text, (), python=True)
    return None


def _python_line(ctx: FixContext) -> tuple[str, int, str] | None:
    """Where the declared Python range is written: (file, line, text)."""
    declared = _pyproject_python(ctx)
    if declared is not None:
        at, found, _ = declared
        return "pyproject.toml", at, found.string.strip()
    pipfile = ctx.root / "Pipfile"
    if pipfile.is_file():
        lines = ctx.lines(pipfile)
        line = _key_line(lines, "python-version", _table_start(lines, "requires"))
        if line is not None:
            return "Pipfile", line, lines[line - 1].strip()
    return None


def _next_minor(python: str) -> str | None:
    try:
        major, minor = (int(p) for p in python.split(".")[:2])
    except ValueError:
        return None
    return f"{major}.{minor + 1}"


def raised_floor(spec_text: str, floor: str) -> str | None:
    """``spec_text`` with its lower bound raised to ``floor`` (upper bounds kept)."""
    try:
        spec = SpecifierSet(spec_text)
        low = Version(floor)
    except (InvalidSpecifier, InvalidVersion):
        return None
    parts = [f">={floor}"]
    for item in sorted(spec, key=str):
        op, text = item.operator, item.version
        if op in ("<", "<="):
            parts.append(str(item))
        elif op == "!=" and not text.endswith(".*"):
            try:
                if Version(text) >= low:
                    parts.append(str(item))
            except InvalidVersion:
                continue
        elif op == "~=":
            numbers = [int(n) for n in Version(text).release]
            upper = numbers[:-1]
            upper[-1] += 1
            parts.append("<" + ".".join(str(n) for n in upper))
    return ",".join(parts)


_PROJECT_RP = re.compile(r"""^(\s*requires-python\s*=\s*)(["'])([^"'\n]*)\2""")
_POETRY_PY = re.compile(r"""^(\s*python\s*=\s*)(["'])([^"'\n]*)\2""")


def _pyproject_python(ctx: FixContext) -> tuple[int, re.Match[str], bool] | None:
    """The line of pyproject.toml that declares the Python range: (line, its match, whether it
    is Poetry's ``python`` rather than ``requires-python``), ``[project]`` first."""
    if ctx.pyproject_path is None:
        return None
    lines = ctx.lines(ctx.pyproject_path)
    for header, pattern, poetry in (
        ("project", _PROJECT_RP, False),
        ("tool.poetry.dependencies", _POETRY_PY, True),
    ):
        start = _table_start(lines, header)
        if not start:
            continue
        for index in range(start, len(lines)):
            if lines[index].lstrip().startswith("["):
                break
            found = pattern.match(lines[index])
            if found is not None:
                return index + 1, found, poetry
    return None


def _python_fix(finding: Finding, floor: str, ctx: FixContext) -> Fix | None:
    from depwatch.pythons import python_constraint_to_pep440

    tools = [_LOCK_TOOLS[ctx.formats[p]] for p in ctx.formats if ctx.formats[p] in _LOCK_TOOLS]
    relock = _RELOCK.get(tools[0]) if tools else None
    declared = _pyproject_python(ctx)
    if declared is not None:
        at, found, poetry = declared
        current = found.group(3)
        if poetry:
            current = python_constraint_to_pep440(current) or ""
        new = raised_floor(current, floor)
        if new is None:
            return None
        text = f"{found.group(1)}{found.group(2)}{new}{found.group(2)}"
        edit = FixEdit("pyproject.toml", at, text.strip())
        return Fix("requires-python", relock, floor, None, edit=edit)
    pipfile = ctx.root / "Pipfile"
    if pipfile.is_file():
        lines = ctx.lines(pipfile)
        line = _key_line(lines, "python-version", _table_start(lines, "requires"))
        if line is not None:
            edit = FixEdit("Pipfile", line, f'python_version = "{floor}"')
            return Fix("requires-python", "pipenv lock", floor, None, edit=edit)
    return None


def _python_floor(finding: Finding, rule: Rule | None) -> str | None:
    """The Python floor that resolves a Python-floor or end-of-life finding, else None."""
    if finding.package == "python" and not finding.lockfiles:
        if finding.tag.value == "monitor":
            return None  # nothing to drop yet
        if finding.kind in ("eol", "python-drop") or finding.held_back:
            return _next_minor(finding.version)
        return None
    if rule is not None and rule.python_requires is not None and finding.tag.value == "immediate":
        from depwatch.pythons import admitted_minors

        floor = admitted_minors(rule.python_requires)
        return floor[0] if floor else None
    return None
