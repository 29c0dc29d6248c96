"""The command (or edit) that moves a package to its target, per lock format and tool."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from depwatch.fixes.constraints import _Constraint, _in_constraint
from depwatch.fixes.context import _LOCK_TOOLS, FixContext
from depwatch.fixes.python import _python_blocking
from depwatch.fixes.safe import _q, _safe_path, safe_name, safe_version
from depwatch.model import Finding, Fix, FixEdit

if TYPE_CHECKING:
    from depwatch.rulebook.model import Rule


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


def _edit(c: _Constraint) -> FixEdit:
    return FixEdit(c.path, c.line, c.text)


def _requirements_line(ctx: FixContext, rel: str, finding: Finding) -> int | None:
    from depwatch.lockfiles.requirements import pin_line

    text = "\n".join(ctx.lines(ctx.lock_paths[rel]))
    return pin_line(text, finding.package, finding.version)


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
