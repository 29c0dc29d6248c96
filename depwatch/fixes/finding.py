"""The fixes of a finding: its ``requires-python`` edit, or one fix per lockfile, in tool order."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from depwatch.fixes.context import _LOCK_TOOLS, FixContext
from depwatch.fixes.packages import _package_fix, _target
from depwatch.fixes.python import _python_fix, _python_floor
from depwatch.model import Finding, Fix

_ORDER = ("uv", "poetry", "pdm", "pipenv", "conda-lock", "pip-compile", "uv-pip-compile")


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
