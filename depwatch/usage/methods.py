"""Small facts of a module's functions and classes the resolver reads off their trees: a
function's key, a decorator's name, the names an assignment binds, in which order a class's
methods are walked (initialisers first, so ``self.x = ...`` is known in the others), and the
names ``__all__`` lists."""

from __future__ import annotations

import ast
from typing import Any

__all__ = [
    "decorator_name",
    "exported_names",
    "function_key",
    "init_rank",
    "self_attributes",
    "target_names",
]

_INIT_METHODS = ("__new__", "__init__", "__post_init__", "setUp", "setUpClass", "setup_method")
#: The fields of a statement (or handler, or match case) that hold statements.
_STMT_LISTS = ("body", "orelse", "finalbody", "handlers", "cases")


def target_names(target: ast.AST) -> list[str]:
    """The names an assignment target binds (``a``, ``a, (b, *c)``)."""
    if isinstance(target, ast.Name):
        return [target.id]
    if isinstance(target, (ast.Tuple, ast.List)):
        return [name for item in target.elts for name in target_names(item)]
    if isinstance(target, ast.Starred):
        return target_names(target.value)
    return []


def function_key(node: ast.AST) -> str | None:
    """A function's key (``name@line:col``); None for a lambda."""
    name = getattr(node, "name", None)
    if name is None:
        return None
    return f"{name}@{node.lineno}:{node.col_offset}"  # type: ignore[attr-defined]


def decorator_name(node: ast.expr) -> str | None:
    if type(node) is ast.Name:
        return node.id
    if type(node) is ast.Attribute:
        return node.attr
    return None


def init_rank(node: ast.AST, names: bool) -> tuple[int, set[str]]:
    """Initialisers first, then the other methods that set ``self.x`` (a ``connect()`` that
    sets the client a method above it uses), then the rest; with ``names``, the attribute
    names the method sets on ``self``."""
    name = getattr(node, "name", "")
    if name in _INIT_METHODS:
        return 0, self_attributes(node, every=True) if names else set()
    found = self_attributes(node, every=names)
    return (1 if found else 2), found


def self_attributes(node: ast.AST, *, every: bool) -> set[str]:
    """The attributes a method sets on its first argument (with ``every`` false, only
    whether it sets one: the first found)."""
    args = getattr(node, "args", None)
    positional = (args.posonlyargs + args.args) if isinstance(args, ast.arguments) else []
    found: set[str] = set()
    if not positional:
        return found
    me = positional[0].arg
    # statements only (an assignment is one): a walk of every expression node cost as much
    # as the rest of the scan of a class-heavy file
    body = getattr(node, "body", None)
    if type(body) is not list:
        return found  # a lambda: an expression holds no assignment
    stack: list[Any] = list(body)
    while stack:
        stmt = stack.pop()
        kind = type(stmt)
        targets: list[ast.expr] = []
        if kind is ast.Assign:
            targets = stmt.targets
        elif kind is ast.AnnAssign or kind is ast.AugAssign:
            targets = [stmt.target]
        for target in targets:
            if (
                type(target) is ast.Attribute
                and type(target.value) is ast.Name
                and target.value.id == me
            ):
                found.add(target.attr)
                if not every:
                    return found
        for field in _STMT_LISTS:
            inner = getattr(stmt, field, None)
            if inner:
                stack.extend(inner)
    return found


def exported_names(tree: ast.Module) -> frozenset[str] | None:
    """The names ``__all__`` lists; None when any name may be looked up by a string
    (``__all__`` not a literal, ``globals()``, ``vars()``, ``sys.modules[__name__]``)."""
    names: set[str] = set()
    literal: set[int] = set()
    for node in ast.walk(tree):
        target: ast.AST | None = None
        value: ast.AST | None = None
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
        elif isinstance(node, (ast.AugAssign, ast.AnnAssign)):
            target, value = node.target, node.value
        if (
            isinstance(target, ast.Name)
            and target.id == "__all__"
            and isinstance(value, (ast.List, ast.Tuple))
            and all(isinstance(e, ast.Constant) and isinstance(e.value, str) for e in value.elts)
        ):
            names.update(e.value for e in value.elts)  # type: ignore[attr-defined]
            literal.add(id(target))
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            if node.id == "__all__" and id(node) not in literal:
                return None
        elif isinstance(node, ast.Call):
            if isinstance(node.func, ast.Name) and node.func.id in ("globals", "vars", "locals"):
                return None
        elif (
            isinstance(node, ast.Subscript)
            and isinstance(node.slice, ast.Name)
            and node.slice.id == "__name__"
        ):
            return None  # sys.modules[__name__]
    return frozenset(names)
