"""The ``not-passed-to`` condition: a rule's evidence without the calls whose result goes
straight to a call the pattern names."""

from __future__ import annotations

import ast
import functools

from depwatch.model import Evidence
from depwatch.rulebook.model import Usage

__all__ = ["passed_on"]


def passed_on(usage: Usage, evidence: tuple[Evidence, ...]) -> tuple[Evidence, ...]:
    """``evidence`` without the calls whose result goes straight to a call the pattern names in
    ``not-passed-to`` (``model.load_state_dict(torch.load(p))``).

    Judged on the evidence's source line: a line that does not parse on its own (a statement
    over several lines), or a call of that name on it that is not passed straight on, keeps
    the evidence — when in doubt, it stays.
    """
    patterns = [call for call in usage.calls if call.not_passed_to]
    if not patterns or not evidence:
        return evidence
    kept = []
    for item in evidence:
        symbol = item.symbol or ""
        drop = any(
            (symbol == p.name or symbol.startswith(p.name + "("))
            and _only_passed_to(item.code, p.name.rsplit(".", 1)[-1], p.not_passed_to)
            for p in patterns
        )
        if not drop:
            kept.append(item)
    return tuple(kept)


def _last_name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Name):
        return node.id
    return None


@functools.lru_cache(maxsize=1024)
def _only_passed_to(code: str, name: str, targets: tuple[str, ...]) -> bool:
    """Whether every call of ``name`` on the line ``code`` is an argument of a call to one of
    ``targets`` (by their last names)."""
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError):
        return False
    passed: set[int] = set()
    calls = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        if _last_name(node.func) == name:
            calls.append(node)
        if _last_name(node.func) in targets:
            passed.update(id(arg) for arg in [*node.args, *(kw.value for kw in node.keywords)])
    return bool(calls) and all(id(call) in passed for call in calls)
