"""The command (or edit) that resolves a finding, for the tool that wrote the lockfile.

depwatch never runs these: reporters show them and ``check --fix-commands`` prints them.

The target is the lowest version that resolves the finding: for an advisory the lowest fixed
version above the locked one; for a rule its ``fixed`` (or ``boundary``) version when that lies
above the locked version and outside ``affected``. A rule whose change has already happened (the
lock is past its boundary) asks for a code change, not an upgrade, and gets no fix. Python-floor
and end-of-life findings get the ``requires-python`` edit (and the re-lock).

The command is only offered when the project's own constraints (pyproject.toml, Pipfile, a
pip-compile ``.in`` file) allow the target; otherwise the fix names the constraint to change
first (Poetry and PDM: ``poetry add``/``pdm add``, which rewrite it).

Safety: a command is built only from a name that is a valid PEP 508 name, a version that parses
as PEP 440 (written in its normal form) and paths without control characters, each quoted with
:func:`shlex.quote`. Anything else gets no command.

``--online`` hook: :class:`FixContext` takes ``newest``, a callable answering "the newest
release of this package that installs on the declared Pythons" (``depwatch.index`` can supply
it); when set, it is the target instead of the lowest fixing version, still subject to the
project's constraints. Nothing passes it yet.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from depwatch.model import Finding, Fix, FixEdit

if TYPE_CHECKING:
    from depwatch.projects import Project
    from depwatch.rulebook import RuleBook
    from depwatch.rulebook.model import Rule

__all__ = [
    "FixContext",
    "commands",
    "context_of",
    "safe_name",
    "safe_version",
    "with_fixes",
]

_NAME = re.compile(r"^([A-Z0-9]|[A-Z0-9][A-Z0-9._-]*[A-Z0-9])\Z", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")

#: Lock formats whose own tool re-locks (a requirements file beside one is its export).
_LOCK_TOOLS = {"uv": "uv", "poetry": "poetry", "pdm": "pdm", "pipfile": "pipenv"}
_RELOCK = {"uv": "uv lock", "poetry": "poetry lock", "pdm": "pdm lock", "pipenv": "pipenv lock"}
_ORDER = ("uv", "poetry", "pdm", "pipenv", "conda-lock", "pip-compile", "uv-pip-compile")


def safe_name(name: str) -> str | None:
    """The name when it is a valid PEP 508 distribution name, else None."""
    return name if _NAME.match(name) else None


def safe_version(text: str | Version | None) -> str | None:
    """The version in PEP 440 normal form (digits, letters, ``.+!``), else None."""
    if text is None:
        return None
    try:
        return str(text if isinstance(text, Version) else Version(text))
    except InvalidVersion:
        return None


def _safe_path(path: str) -> str | None:
    return None if not path or _CONTROL.search(path) else path


def _q(*parts: str) -> str:
    return " ".join(shlex.quote(p) for p in parts)


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


_PIP_COMPILE = re.compile(r"^#.*autogenerated by pip-compile", re.MULTILINE)
_UV_COMPILE = re.compile(r"^#.*autogenerated by uv via the following command:\n#\s+(.*)$", re.M)


@dataclass
class FixContext:
    """What one project offers to build fixes from (files read once, on first need)."""

    root: Path
    lock_paths: Mapping[str, Path]
    """Lockfile report path → file."""
    formats: Mapping[str, str]
    """Lockfile report path → format."""
    pyproject: Mapping[str, Any] | None = None
    pyproject_path: Path | None = None
    rules: Callable[[str], Rule | None] = lambda _id: None
    package_rules: Callable[[str], Sequence[Rule]] = lambda _name: ()
    """A package's rules: its Python-floor rules say which Pythons a target release needs."""
    declared: tuple[str, ...] | None = None
    """The Python minors the project declares (None: unknown)."""
    newest: Callable[[str], str | None] | None = None
    """``--online`` hook: the newest release of a package that installs on the declared
    Pythons; None offline (the lowest fixing version is the target)."""
    _texts: dict[Path, list[str]] = field(default_factory=dict)

    def lines(self, path: Path) -> list[str]:
        cached = self._texts.get(path)
        if cached is None:
            try:
                cached = path.read_text(encoding="utf-8", errors="replace").splitlines()
            except OSError:
                cached = []
            self._texts[path] = cached
        return cached

    def constraints(self, name: str) -> list[_Constraint]:
        found: list[_Constraint] = []
        if self.pyproject is not None and self.pyproject_path is not None:
            found += _constraints(self.pyproject, name, self.lines(self.pyproject_path))
        pipfile = self.root / "Pipfile"
        if pipfile.is_file():
            from depwatch import tomlfile
            from depwatch.errors import DepwatchError

            try:
                data = tomlfile.load(pipfile)
            except DepwatchError:
                data = {}
            found += _pipfile_constraints(data, name, self.lines(pipfile))
        return found

    def allows(self, name: str, version: str, lockfiles: Iterable[str] = ()) -> bool:
        """Whether the project's own constraints admit ``version`` of ``name``: pyproject.toml,
        the Pipfile, and the pip-compile input of each of ``lockfiles``. True when not known.
        A newer release they exclude is held back by the project, not by a Python."""
        try:
            target = Version(version)
        except InvalidVersion:
            return True
        if any(not c.allows(target) and _own_choice(c) for c in self.constraints(name)):
            return False
        for rel in lockfiles:
            if self.formats.get(rel) != "requirements" or rel not in self.lock_paths:
                continue
            kind, source = self.requirements_tool(rel)
            if kind not in ("pip-compile", "uv-pip-compile") or source is None:
                continue
            if _included_constraint(self, source, name, target, set()):
                return False
        return True

    def requirements_tool(self, rel: str) -> tuple[str, str | None]:
        """``pip-compile``/``uv-pip-compile`` (with the source file, when found) or
        ``requirements`` for a hand-written file; ``export`` for ``uv export`` output."""
        text = "\n".join(self.lines(self.lock_paths[rel])[:12])
        source = self._source_of(rel)
        if _PIP_COMPILE.search(text):
            return "pip-compile", source
        uv = _UV_COMPILE.search(text)
        if uv:
            return ("export" if "uv export" in uv.group(1) else "uv-pip-compile"), source
        return "requirements", None

    def _source_of(self, rel: str) -> str | None:
        """The input file: one the header's own command names (an existing file under the
        root), else ``<stem>.in`` beside the output; None when neither is known (a command
        without it would compile requirements.in into this file)."""
        for line in self.lines(self.lock_paths[rel])[:12]:
            text = line.lstrip("#").strip()
            if not text.startswith(("pip-compile ", "uv pip compile ")):
                continue
            try:
                tokens = shlex.split(text)
            except ValueError:
                break
            skip = False
            for token in tokens[1:]:
                if skip:
                    skip = False
                    continue
                if token.startswith("-"):
                    skip = "=" not in token and token in _VALUED
                    continue
                if token in ("pip", "compile"):
                    continue
                candidate = (self.root / token).resolve()
                if candidate.is_file() and candidate.is_relative_to(self.root.resolve()):
                    return candidate.relative_to(self.root.resolve()).as_posix()
            break
        stem = rel[: -len(".txt")] if rel.endswith(".txt") else rel
        if (self.root / f"{stem}.in").is_file():
            return f"{stem}.in"
        return None


_VALUED = frozenset(
    {
        "-o",
        "--output-file",
        "-c",
        "--constraint",
        "-P",
        "--upgrade-package",
        "--extra",
        "-p",
        "--python",
        "--python-version",
        "-i",
        "--index-url",
        "--extra-index-url",
        "--find-links",
        "-f",
    }
)


def _target(finding: Finding, rule: Rule | None, ctx: FixContext) -> Version | None:
    """The lowest version that resolves the finding, above every locked version it lists."""
    locked = []
    for text in finding.versions or (finding.version,):
        try:
            locked.append(Version(text))
        except InvalidVersion:
            return None
    if not locked:
        return None
    top = max(locked)
    candidates: list[Version] = []
    if finding.kind == "vulnerability":
        for text in finding.fixed_versions:
            try:
                candidates.append(Version(text))
            except InvalidVersion:
                continue
    elif rule is not None and rule.python_requires is None:
        for version in (rule.fixed, rule.boundary):
            if version is not None and not rule.affected.contains(version, prereleases=True):
                candidates.append(version)
    above = [v for v in candidates if v > top]
    if not above:
        return None
    target = min(above)
    if ctx.newest is not None:
        newest = safe_version(ctx.newest(finding.package))
        if newest is not None and Version(newest) > target:
            return Version(newest)
    return target


def _blocking(ctx: FixContext, name: str, version: Version) -> _Constraint | None:
    found = next((c for c in ctx.constraints(name) if not c.allows(version)), None)
    return found if found is not None else _python_blocking(ctx, name, version)


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
    if ctx.pyproject_path is not None:
        lines = ctx.lines(ctx.pyproject_path)
        for header, pattern in (
            ("project", _PROJECT_RP),
            ("tool.poetry.dependencies", _POETRY_PY),
        ):
            start = _table_start(lines, header)
            if not start:
                continue
            for index in range(start, len(lines)):
                if lines[index].lstrip().startswith("["):
                    break
                if pattern.match(lines[index]):
                    return "pyproject.toml", index + 1, lines[index].strip()
    pipfile = ctx.root / "Pipfile"
    if pipfile.is_file():
        lines = ctx.lines(pipfile)
        line = _key_line(lines, "python-version", _table_start(lines, "requires"))
        if line is not None:
            return "Pipfile", line, lines[line - 1].strip()
    return None


def _edit(c: _Constraint) -> FixEdit:
    return FixEdit(c.path, c.line, c.text)


def _requirements_line(ctx: FixContext, rel: str, finding: Finding) -> int | None:
    from depwatch.lockfiles.requirements import pin_line

    text = "\n".join(ctx.lines(ctx.lock_paths[rel]))
    return pin_line(text, finding.package, finding.version)


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


def _conda_edit(ctx: FixContext, name: str, version: str) -> tuple[str, FixEdit | None]:
    for env in ("environment.yml", "environment.yaml"):
        path = ctx.root / env
        if not path.is_file():
            continue
        lines = ctx.lines(path)
        for index, line in enumerate(lines):
            found = re.match(r"^(\s*-\s*)([A-Za-z0-9][A-Za-z0-9._-]*)\s*([<>=!~ ].*)?$", line)
            if found and canonicalize_name(found.group(2)) == name:
                return env, FixEdit(env, index + 1, f"{found.group(1)}{name}>={version}")
        return env, None
    return "environment.yml", None


def _package_fix(
    finding: Finding, rel: str, fmt: str, target: Version, ctx: FixContext
) -> Fix | None:
    name = safe_name(finding.package)
    version = safe_version(target)
    lock = _safe_path(rel)
    if name is None or version is None or lock is None:
        return None
    blocked = _blocking(ctx, finding.package, target)
    constraint = _edit(blocked) if blocked is not None else None
    tool = _LOCK_TOOLS.get(fmt)
    if blocked is not None and blocked.python:
        # No tool's command helps while a declared Python cannot install the release.
        kind = tool or ("conda-lock" if fmt == "conda" else None)
        if fmt == "requirements":
            kind = ctx.requirements_tool(rel)[0]
        if kind is None or kind == "export":
            return None
        return Fix(kind, None, version, rel, constraint=constraint)
    if tool == "uv":
        command = None if blocked else _q("uv", "lock", "--upgrade-package", f"{name}=={version}")
        return Fix("uv", command, version, rel, constraint=constraint)
    if tool == "poetry":
        if blocked is None:
            return Fix("poetry", _q("poetry", "update", name), version, rel)
        if blocked.extra or (blocked.group and safe_name(blocked.group) is None):
            return Fix("poetry", None, version, rel, constraint=constraint)
        poetry_group = ("--group", blocked.group) if blocked.group else ()
        command = _q("poetry", "add", *poetry_group, f"{name}@^{version}")
        return Fix("poetry", command, version, rel, constraint=constraint)
    if tool == "pdm":
        if blocked is None:
            return Fix("pdm", _q("pdm", "update", name), version, rel)
        if blocked.group and safe_name(blocked.group) is None:
            return Fix("pdm", None, version, rel, constraint=constraint)
        pdm_group: tuple[str, ...] = ()
        if blocked.group:
            pdm_group = ("-G", blocked.group) if blocked.extra else ("-dG", blocked.group)
        command = _q("pdm", "add", *pdm_group, f"{name}>={version}")
        return Fix("pdm", command, version, rel, constraint=constraint)
    if tool == "pipenv":
        command = None if blocked else _q("pipenv", "upgrade", f"{name}=={version}")
        return Fix("pipenv", command, version, rel, constraint=constraint)
    if fmt == "conda":
        env, edit = _conda_edit(ctx, finding.package, version)
        if edit is None or _safe_path(env) is None:
            return None
        command = (
            "conda-lock lock" if env == "environment.yml" else _q("conda-lock", "lock", "-f", env)
        )
        return Fix("conda-lock", command, version, rel, edit=edit)
    if fmt == "requirements":
        kind, source = ctx.requirements_tool(rel)
        if kind == "export":
            return None  # the lock it was exported from gets the fix
        if kind in ("pip-compile", "uv-pip-compile"):
            if source is not None:
                blocked_in = _in_constraint(ctx, source, finding.package, target)
                if blocked_in is not None:
                    return Fix(kind, None, version, rel, constraint=_edit(blocked_in))
            if source is not None and _safe_path(source) is None:
                return None
            if source is None:  # the input is unknown: the line to write, as for a plain file
                line = _requirements_line(ctx, rel, finding)
                edit = FixEdit(rel, line, f"{name}=={version}")
                return Fix(kind, None, version, rel, edit=edit, constraint=constraint)
            if blocked is not None and not source.endswith(".in"):
                return Fix(kind, None, version, rel, constraint=constraint)
            sources = (source,)
            pin = f"{name}=={version}"
            if kind == "pip-compile":
                command = _q(
                    "pip-compile", "--upgrade-package", pin, f"--output-file={lock}", *sources
                )
            else:
                command = _q("uv", "pip", "compile", "--upgrade-package", pin, "-o", lock, *sources)
            return Fix(kind, command, version, rel)
        line = _requirements_line(ctx, rel, finding)
        return Fix(
            "requirements",
            None,
            version,
            rel,
            edit=FixEdit(rel, line, f"{name}=={version}"),
            constraint=constraint,
        )
    return None  # pylock: regenerate it with the tool that wrote it (created-by)


# -- requires-python -------------------------------------------------------------------------


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


def _python_fix(finding: Finding, floor: str, ctx: FixContext) -> Fix | None:
    from depwatch.pythons import python_constraint_to_pep440

    tools = [_LOCK_TOOLS[ctx.formats[p]] for p in ctx.formats if ctx.formats[p] in _LOCK_TOOLS]
    relock = _RELOCK.get(tools[0]) if tools else None
    if ctx.pyproject_path is not None:
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
                if found is None:
                    continue
                current = found.group(3)
                if poetry:
                    current = python_constraint_to_pep440(current) or ""
                new = raised_floor(current, floor)
                if new is None:
                    return None
                text = f"{found.group(1)}{found.group(2)}{new}{found.group(2)}"
                edit = FixEdit("pyproject.toml", index + 1, text.strip())
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


def fixes_for(finding: Finding, ctx: FixContext) -> tuple[Fix, ...]:
    rule = ctx.rules(finding.rule)
    floor = _python_floor(finding, rule)
    if floor is not None:
        fix = _python_fix(finding, floor, ctx)
        return (fix,) if fix is not None else ()
    target = _target(finding, rule, ctx)
    if target is None:
        return ()
    fixes = []
    formats = [ctx.formats.get(rel, "") for rel in finding.lockfiles]
    has_lock_tool = any(fmt in _LOCK_TOOLS or fmt == "conda" for fmt in formats)
    for rel, fmt in zip(finding.lockfiles, formats, strict=True):
        if rel not in ctx.lock_paths:
            continue
        if fmt == "requirements" and has_lock_tool:
            kind, _ = ctx.requirements_tool(rel)
            if kind not in ("pip-compile", "uv-pip-compile"):
                continue  # an export of the lock beside it
        fix = _package_fix(finding, rel, fmt, target, ctx)
        if fix is not None and fix not in fixes:
            fixes.append(fix)
    fixes.sort(key=lambda f: _ORDER.index(f.tool) if f.tool in _ORDER else len(_ORDER))
    return tuple(fixes)


def with_fixes(findings: Iterable[Finding], ctx: FixContext) -> list[Finding]:
    """The findings with their fixes."""
    return [replace(f, fixes=fixes_for(f, ctx)) for f in findings]


def context_of(
    project: Project, rulebook: RuleBook | None = None, declared: tuple[str, ...] | None = None
) -> FixContext:
    """The project's own constraints (pyproject.toml, Pipfile, pip-compile inputs); with
    ``rulebook``, its rules and the project's declared Python minors, to build fixes from."""
    ctx = FixContext(
        root=project.root,
        lock_paths=project.texts,
        formats={lock.path: lock.format for lock in project.lockfiles},
        pyproject=project.files.pyproject,
        pyproject_path=project.files.pyproject_path,
    )
    if rulebook is None:
        return ctx
    return replace(ctx, rules=rulebook.get, package_rules=rulebook.for_package, declared=declared)


def _in(prefix: str, command: str) -> str:
    return f"{prefix}{command})" if prefix else command


def commands(findings: Iterable[Finding]) -> tuple[list[str], list[str]]:
    """``--fix-commands``: the commands, deduplicated in order, each run in its project's
    folder (``(cd DIR && …)`` for a project that is not the current folder); and one note per
    fix that is an edit or waits on a constraint (for stderr)."""
    out: list[str] = []
    notes: list[str] = []
    for finding in findings:
        for fix in finding.fixes:
            where = finding.project
            prefix = ""
            if where not in ("", "."):
                if _safe_path(where) is None:
                    continue
                prefix = f"(cd {shlex.quote(where)} && "
            shown = "" if where in ("", ".") else f"{where}/"
            if fix.constraint is not None and (
                fix.command is None or fix.tool not in ("poetry", "pdm")
            ):
                c = fix.constraint
                at = f"{shown}{c.path}:{c.line}" if c.line else f"{shown}{c.path}"
                notes.append(
                    f"{finding.package}: first change {at}: {c.text} (it does not allow {fix.version})"
                )
            if fix.edit is not None:
                e = fix.edit
                at = f"{shown}{e.path}:{e.line}" if e.line else f"{shown}{e.path}"
                then = f", then run: {_in(prefix, fix.command)}" if fix.command else ""
                notes.append(f"{finding.package}: edit {at}: {e.text}{then}")
            if fix.command is not None and fix.edit is None:
                line = _in(prefix, fix.command)
                if line not in out:
                    out.append(line)
    return out, list(dict.fromkeys(notes))
