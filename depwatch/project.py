"""What a project declares about itself: its Python range and its direct dependencies.

Sources, first found (DESIGN.md): ``--python``, ``[project] requires-python``, Poetry's
``python`` dependency, Pipfile ``[requires]``, setup.py's ``python_requires=`` (read with
``ast``, never run), setup.cfg's ``[options] python_requires``, the nearest enclosing
pyproject.toml's declaration (for a sub-project whose pyproject.toml has no ``[project]``), the
lock's own ``requires-python``, a conda lock's ``python`` package (:func:`read_project` reads
the manifests' sources; :func:`declared_python` picks the first of all of them). The declared
range becomes a set of CPython minor releases (3.0–3.15, :mod:`depwatch.pythons`) so that
Poetry's ``||`` and every other spelling compare alike.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version

from depwatch import tomlfile
from depwatch.errors import DepwatchError
from depwatch.files import display_path, read_text, repository_top
from depwatch.model import Lockfile, ProjectFacts
from depwatch.pythons import CANDIDATE_PYTHONS, admitted_minors, poetry_constraint
from depwatch.specifiers import specifier_set

__all__ = [
    "DeclaredPython",
    "ProjectFiles",
    "declared_python",
    "declares_dependencies",
    "read_project",
]

#: Pipfile tables that are pipenv's settings, not package categories.
_PIPFILE_SETTINGS = frozenset({"source", "requires", "scripts", "pipenv"})

_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


@dataclass(frozen=True, slots=True)
class ProjectFiles:
    """The parsed manifests of a project root (either may be absent)."""

    facts: ProjectFacts
    pyproject: Mapping[str, Any] | None
    pyproject_path: Path | None
    declared: tuple[str, ...] | None
    """Declared Python minor releases from the manifests, or None when they declare none."""
    python_line: int | None = None
    """The line of pyproject.toml that declares the Python range (``requires-python``, or
    Poetry's ``python``), where SARIF and annotations point; None when none does."""


_DECLARATION = re.compile(r"^\s*(?:requires-python|python)\s*=", re.MULTILINE)


def _declaration_line(text: str) -> int | None:
    found = _DECLARATION.search(text)
    return None if found is None else text.count("\n", 0, found.start()) + 1


def _spec(text: object, *, path: str, key: str) -> SpecifierSet:
    if not isinstance(text, str):
        raise DepwatchError(f"expected a string, found {type(text).__name__}", path=path, key=key)
    try:
        return specifier_set(text)
    except InvalidSpecifier:
        raise DepwatchError(
            f"{text!r} is not a valid version specifier", path=path, key=key
        ) from None


def _names(requirements: Iterable[object], root: Path | None = None) -> set[str]:
    """The names of PEP 508 requirement strings; with ``root``, of ``-e PATH`` entries too
    (PDM's editables: ``#egg=name``, else the folder's ``[project] name``)."""
    names: set[str] = set()
    for requirement in requirements:
        if not isinstance(requirement, str):
            continue
        if requirement.startswith("-e"):
            name = _editable_name(requirement[2:].strip(), root) if root else None
            if name:
                names.add(canonicalize_name(name))
            continue
        found = _NAME.match(requirement)
        if found:
            names.add(canonicalize_name(found.group(1)))
    return names


def _editable_name(location: str, root: Path) -> str | None:
    """The name a PDM editable names (``${PROJECT_ROOT}`` is the project's folder), read as the
    requirements reader reads a location: ``#egg=``, an archive's file name, a folder's
    ``[project] name``."""
    from depwatch.locations import name_of_location

    try:
        return name_of_location(location.replace("${PROJECT_ROOT}", root.as_posix()), base=root)
    except (ValueError, RuntimeError, OSError):  # a location the path helpers cannot take
        return None


def _table(data: Mapping[str, Any], *keys: str) -> Mapping[str, Any]:
    for key in keys:
        value = data.get(key)
        if not isinstance(value, Mapping):
            return {}
        data = value
    return data


def declares_dependencies(data: Mapping[str, Any]) -> bool:
    """Whether a pyproject.toml lists the project's dependencies itself (so a locked name it
    does not list is known not to be direct): not with ``dynamic = ["dependencies"]``, nor
    with only ``[build-system]``."""
    project = _table(data, "project")
    dynamic = project.get("dynamic")
    if "dependencies" in project and not (isinstance(dynamic, list) and "dependencies" in dynamic):
        return True
    return bool(
        _table(data, "tool", "poetry", "dependencies")
        or _table(data, "dependency-groups")
        or _table(data, "tool", "pdm", "dev-dependencies")
    )


def _pyproject_direct(data: Mapping[str, Any], root: Path) -> set[str]:
    project = _table(data, "project")
    direct = _names(project.get("dependencies") or ())
    for extra in _table(project, "optional-dependencies").values():
        if isinstance(extra, list):
            direct |= _names(extra)
    for group in _table(data, "dependency-groups").values():
        if isinstance(group, list):
            direct |= _names(group)
    poetry = _table(data, "tool", "poetry")
    tables = [_table(poetry, "dependencies"), _table(poetry, "dev-dependencies")]
    tables += [
        _table(group, "dependencies")
        for group in _table(poetry, "group").values()
        if isinstance(group, Mapping)
    ]
    for table in tables:
        direct |= {canonicalize_name(name) for name in table if name != "python"}
    for group in _table(data, "tool", "pdm", "dev-dependencies").values():
        if isinstance(group, list):
            direct |= _names(group, root)
    uv_dev = _table(data, "tool", "uv").get("dev-dependencies")
    if isinstance(uv_dev, list):
        direct |= _names(uv_dev)
    return direct


_Declared = tuple[str, str, tuple[str, ...]]
"""(the range as written, where it came from, the CPython minors it admits)."""


def _pyproject_python(
    pyproject: Mapping[str, Any], shown: str, label: str = "pyproject.toml"
) -> _Declared | None:
    """``[project] requires-python``, else Poetry's ``python`` dependency; None when neither."""
    project = _table(pyproject, "project")
    raw = project.get("requires-python")
    if isinstance(raw, str) and not raw.strip():
        raw = None  # "" admits every Python: it declares nothing, so look further
    if raw is not None:
        spec = _spec(raw, path=shown, key="project.requires-python")
        return str(spec), f"{label} [project] requires-python", admitted_minors(spec)
    poetry_python = _table(pyproject, "tool", "poetry", "dependencies").get("python")
    if poetry_python is None:
        return None
    if not isinstance(poetry_python, str):
        raise DepwatchError("expected a string", path=shown, key="tool.poetry.dependencies.python")
    try:
        alternatives = poetry_constraint(poetry_python)
    except ValueError:
        raise DepwatchError(
            f"{poetry_python!r} is not a Poetry version constraint depwatch can read",
            path=shown,
            key="tool.poetry.dependencies.python",
        ) from None
    minors = {m for spec in alternatives for m in admitted_minors(spec)}
    declared = tuple(m for m in CANDIDATE_PYTHONS if m in minors)
    return poetry_python, f"{label} Poetry python dependency", declared


def _setup_py_requires(path: Path) -> str | None:
    """``python_requires=`` of the ``setup(...)`` call in setup.py, read with ``ast`` (never
    run): a string literal, or a module-level name bound to one; None otherwise."""
    import ast
    import warnings

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tree = ast.parse(read_text(path))
    except (DepwatchError, SyntaxError, ValueError, RecursionError, MemoryError):
        return None  # not ours to judge: a setup.py depwatch cannot read declares nothing
    constants: dict[str, str] = {}
    for stmt in tree.body:
        if (
            isinstance(stmt, ast.Assign)
            and len(stmt.targets) == 1
            and isinstance(stmt.targets[0], ast.Name)
            and isinstance(stmt.value, ast.Constant)
            and isinstance(stmt.value.value, str)
        ):
            constants[stmt.targets[0].id] = stmt.value.value
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        called = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
        if called != "setup":
            continue
        for keyword in node.keywords:
            if keyword.arg != "python_requires":
                continue
            value = keyword.value
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                return value.value
            if isinstance(value, ast.Name) and value.id in constants:
                return constants[value.id]
    return None


def _setup_cfg_requires(path: Path) -> str | None:
    """``[options] python_requires`` of setup.cfg; None where it has none."""
    import configparser

    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read_string(read_text(path), source=display_path(path))
    except configparser.Error as exc:
        raise DepwatchError(
            f"is not a readable setup.cfg: {str(exc).splitlines()[0]}", path=display_path(path)
        ) from None
    if not parser.has_option("options", "python_requires"):
        return None
    return parser.get("options", "python_requires").strip() or None


def _setup_python(root: Path) -> _Declared | None:
    """The declared range of a setuptools project: setup.py's ``python_requires=`` (which
    setuptools lets override setup.cfg), else setup.cfg's ``[options] python_requires``."""
    for name, reader, key, where in (
        ("setup.py", _setup_py_requires, "setup(python_requires=...)", "setup.py python_requires"),
        (
            "setup.cfg",
            _setup_cfg_requires,
            "options.python_requires",
            "setup.cfg [options] python_requires",
        ),
    ):
        path = root / name
        if not path.is_file():
            continue
        text = reader(path)
        if text is None:
            continue
        spec = _spec(text, path=display_path(path), key=key)
        return str(spec), where, admitted_minors(spec)
    return None


def _enclosing_python(root: Path) -> _Declared | None:
    """For a sub-project whose pyproject.toml has no ``[project]``: the declared range of the
    nearest enclosing project (in the same repository) that declares one."""
    root = root.absolute()
    top = repository_top(root)
    if top is None:
        return None
    for folder in root.parents:
        if not folder.is_relative_to(top):
            break
        path = folder / "pyproject.toml"
        if path.is_file():
            label = Path(os.path.relpath(path, root)).as_posix()
            found = _pyproject_python(tomlfile.load(path), display_path(path), label)
            if found is not None:
                return found
        if folder == top:
            break
    return None


def read_project(root: Path) -> ProjectFiles:
    """Read ``pyproject.toml`` and ``Pipfile`` at ``root``; malformed files raise."""
    pyproject_path = root / "pyproject.toml"
    pipfile_path = root / "Pipfile"
    pyproject: Mapping[str, Any] | None = None
    direct: set[str] = set()
    requires: str | None = None
    source: str | None = None
    declared: tuple[str, ...] | None = None
    name = None
    python_line = None

    # Present under the name is enough: a folder, FIFO or device there is an error (read_text
    # says which), not an absent file whose configuration would be dropped without a word.
    if os.path.lexists(pyproject_path):
        shown = display_path(pyproject_path)
        text = read_text(pyproject_path)
        pyproject = tomlfile.loads(text, path=shown)
        python_line = _declaration_line(text)
        direct |= _pyproject_direct(pyproject, root)
        project = _table(pyproject, "project")
        if isinstance(project.get("name"), str):
            name = canonicalize_name(project["name"])
        found = _pyproject_python(pyproject, shown)
        if found is not None:
            requires, source, declared = found

    if os.path.lexists(pipfile_path):
        pipfile = tomlfile.load(pipfile_path)
        # Every table but pipenv's own settings is a package category ([packages],
        # [dev-packages] and any custom one, like [lint]).
        for section, table in pipfile.items():
            if section not in _PIPFILE_SETTINGS and isinstance(table, Mapping):
                direct |= {canonicalize_name(n) for n in table}
        if declared is None:
            req = _table(pipfile, "requires")
            full, minor = req.get("python_full_version"), req.get("python_version")
            if isinstance(full, str) or isinstance(minor, str):
                text = f"=={full}" if isinstance(full, str) else f"=={minor}.*"
                spec = _spec(text, path=display_path(pipfile_path), key="requires")
                requires, source = text, "Pipfile [requires]"
                declared = admitted_minors(spec)

    if declared is None:
        found = _setup_python(root)
        if found is None and pyproject is not None and "project" not in pyproject:
            found = _enclosing_python(root)
        if found is not None:
            requires, source, declared = found

    facts = ProjectFacts(
        root=display_path(root) if root != Path() else ".",
        requires_python=requires,
        python_source=source,
        direct=frozenset(direct),
        name=name,
    )
    return ProjectFiles(
        facts=facts,
        pyproject=pyproject,
        pyproject_path=pyproject_path if pyproject is not None else None,
        declared=declared,
        python_line=python_line,
    )


@dataclass(frozen=True, slots=True)
class DeclaredPython:
    """The Python a project declares, from the first source that says (see the docstring)."""

    minors: tuple[str, ...] | None = None
    """The declared CPython minors; None when nothing declares a range."""
    range: str | None = None
    """The range as text."""
    source: str | None = None
    """Where it came from."""


_CPYTHON = re.compile(r"([0-9]+)\.([0-9]+)(?:\.[0-9]+)?\Z")


def declared_python(
    files: ProjectFiles, lockfiles: Sequence[Lockfile], pythons: Sequence[str]
) -> DeclaredPython:
    """The declared CPython minors, the range as text, and where it came from: ``--python``
    (``pythons``), the manifests, else the lockfiles' own ``requires-python``, else a conda
    lock's ``python`` package."""
    if pythons:
        ordered = sorted(set(pythons), key=Version)  # flags in any order name the same targets
        return DeclaredPython(tuple(ordered), " ".join(f"=={p}.*" for p in ordered), "--python")
    if files.declared is not None:
        return DeclaredPython(
            files.declared, files.facts.requires_python, files.facts.python_source
        )
    for lock in lockfiles:
        if lock.requires_python:
            try:
                spec = specifier_set(lock.requires_python)
            except InvalidSpecifier:
                continue
            return DeclaredPython(
                admitted_minors(spec), lock.requires_python, f"{lock.path} requires-python"
            )
    for lock in lockfiles:
        # A conda python package version that is not a CPython X.Y[.Z] (conda keeps any text)
        # declares nothing.
        found = [m for v in lock.python_versions if (m := _CPYTHON.match(v))]
        if found:
            minors = sorted({(int(m[1]), int(m[2])) for m in found})
            pins = ", ".join(f"=={version}" for version in sorted({m.string for m in found}))
            return DeclaredPython(
                tuple(f"{major}.{minor}" for major, minor in minors),
                pins,
                f"{lock.path} python package",
            )
    return DeclaredPython()
