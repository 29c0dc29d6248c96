"""A static deprecation scan of a wheel's sources (``ast`` only, nothing imported or run).

Finds, by canonical dotted path:
- functions, methods and classes (through ``__init__``/``__new__``) whose body warns
  unconditionally with DeprecationWarning, FutureWarning, PendingDeprecationWarning (or a class
  named ``*DeprecationWarning``), and PEP 702 ``@deprecated("…")`` on a function or class;
- a parameter whose use warns (``if param is not None: warnings.warn(…)``): ``path(param=)``;
- names a module ``__getattr__`` serves (``if name == "escape": …``, ``if name in (…)``,
  ``if name in _DEPRECATED:`` over a module-level dict/set literal), with the warning's text
  where the branch warns; and whether the ``__getattr__`` could serve names it does not list.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

__all__ = ["ModuleScan", "scan_module"]

_CATEGORIES = frozenset({"DeprecationWarning", "FutureWarning", "PendingDeprecationWarning"})
_DEPRECATED_DECORATORS = frozenset({"deprecated"})
_MESSAGE_MAX = 300


@dataclass
class ModuleScan:
    deprecated: dict[str, str] = field(default_factory=dict)
    """Canonical path (``pkg.mod.Class.method``, ``pkg.mod.func(param=)``) → message."""
    served: dict[str, str | None] = field(default_factory=dict)
    """Names the module ``__getattr__`` serves → the warning's text, or None without one."""
    open: bool = False
    """The module may hold names no static reading sees (a ``__getattr__`` that serves names
    it does not list, a star import of a module not in the wheel, ``globals()`` writes)."""
    assigned: set[str] = field(default_factory=set)
    """Attribute names assigned anywhere (``self.x = …``, ``setattr(obj, "x", …)``): an
    attribute that moved between methods is not gone."""
    star_imports: list[str] = field(default_factory=list)
    """Modules star-imported (absolute dotted names; resolved by the caller)."""
    overloaded: bool = False
    """The module defines a function only through ``@overload`` (a stub's usual shape): griffe
    lists no such name among its members, nor passes it through a star import."""


def _name_of(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Call):
        return _name_of(node.func)
    return ""


def _text(node: ast.expr | None) -> str:
    """A message's text: string constants, f-strings (fields as ``{…}``), concatenations."""
    if node is None:
        return ""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        out = node.value
    elif isinstance(node, ast.JoinedStr):
        out = "".join(
            v.value if isinstance(v, ast.Constant) and isinstance(v.value, str) else "{…}"
            for v in node.values
        )
    elif isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Mod)):
        out = _text(node.left) + ("" if isinstance(node.op, ast.Mod) else _text(node.right))
    elif isinstance(node, ast.Call) and _name_of(node.func) == "format":
        out = _text(node.func.value) if isinstance(node.func, ast.Attribute) else ""
    else:
        out = ""
    # a wheel's text: one line, no control characters (reporters escape it again)
    out = "".join(c for c in " ".join(out.split()) if c.isprintable())
    return out if len(out) <= _MESSAGE_MAX else out[: _MESSAGE_MAX - 1] + "…"


def _assigned(body: list[ast.stmt]) -> dict[str, ast.expr]:
    """Local names bound to a value in ``body`` (at any depth): a message kept in a variable."""
    out: dict[str, ast.expr] = {}
    for stmt in body:
        for node in ast.walk(stmt):
            if (
                isinstance(node, ast.Assign)
                and len(node.targets) == 1
                and isinstance(node.targets[0], ast.Name)
            ):
                out.setdefault(node.targets[0].id, node.value)
    return out


def _deprecation_warning(node: ast.AST, local: dict[str, ast.expr] | None = None) -> str | None:
    """The message when ``node`` is a ``warn(msg, <deprecation category>)`` call."""
    if not isinstance(node, ast.Call) or _name_of(node.func) not in ("warn", "warn_explicit"):
        return None
    category: ast.expr | None = node.args[1] if len(node.args) > 1 else None
    for kw in node.keywords:
        if kw.arg == "category":
            category = kw.value
    if category is None:
        return None
    name = _name_of(category)
    if name not in _CATEGORIES and not name.endswith("DeprecationWarning"):
        return None
    message = node.args[0] if node.args else None
    for kw in node.keywords:
        if kw.arg == "message":
            message = kw.value
    if isinstance(message, ast.Name) and local and message.id in local:
        message = local[message.id]
    return _text(message) or "deprecated"


def _first_warning(
    nodes: list[ast.stmt], *, deep: bool, local: dict[str, ast.expr] | None = None
) -> str | None:
    """The first deprecation warning among ``nodes`` (``deep``: inside any nested block)."""
    for stmt in nodes:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        if deep:
            for sub in ast.walk(stmt):
                found = _deprecation_warning(sub, local)
                if found is not None:
                    return found
        elif isinstance(stmt, ast.Expr):
            found = _deprecation_warning(stmt.value, local)
            if found is not None:
                return found
        elif isinstance(stmt, (ast.With, ast.AsyncWith)):
            found = _first_warning(stmt.body, deep=False, local=local)
            if found is not None:
                return found
    return None


def _decorator_message(decorators: list[ast.expr]) -> str | None:
    for dec in decorators:
        if isinstance(dec, ast.Call) and _name_of(dec.func) in _DEPRECATED_DECORATORS:
            return _text(dec.args[0] if dec.args else None) or "deprecated"
    return None


def _params(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> set[str]:
    args = fn.args
    return {a.arg for a in (*args.posonlyargs, *args.args, *args.kwonlyargs)}


def _names_in(node: ast.expr) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


def _scan_function(fn: ast.FunctionDef | ast.AsyncFunctionDef, path: str, out: ModuleScan) -> None:
    local = _assigned(fn.body)
    message = _decorator_message(fn.decorator_list) or _first_warning(
        fn.body, deep=False, local=local
    )
    if message is not None:
        out.deprecated[path] = message
    params = _params(fn) - {"self", "cls"}
    for stmt in ast.walk(fn):
        if not isinstance(stmt, ast.If):
            continue
        named = _names_in(stmt.test) & params
        if len(named) != 1:
            continue
        param = next(iter(named))
        # `if timeout is None:` runs where the parameter is not passed: its use is the else
        body = stmt.orelse if _unpassed(stmt.test, param) else stmt.body
        # a warning under a nested test of another parameter is that parameter's (aiohttp's
        # `if timeout is sentinel: if read_timeout is not sentinel: warn("read_timeout is …")`)
        # the branch's own message variable wins over one of another branch
        found = _first_warning_outside(body, params - {param}, {**local, **_assigned(body)})
        if found is not None:
            out.deprecated.setdefault(f"{path}({param}=)", found)


def _unpassed(test: ast.expr, param: str) -> bool:
    """Whether ``test`` holds only where ``param`` keeps a default: ``param is None``,
    ``param is _SENTINEL``, ``param == None``, ``not param``, or an ``or`` of those."""
    if isinstance(test, ast.BoolOp) and isinstance(test.op, ast.Or):
        return all(_unpassed(value, param) for value in test.values)
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        return isinstance(test.operand, ast.Name) and test.operand.id == param
    if (
        isinstance(test, ast.Compare)
        and len(test.ops) == 1
        and isinstance(test.left, ast.Name)
        and test.left.id == param
    ):
        op, right = test.ops[0], test.comparators[0]
        if isinstance(op, ast.Is) or (
            isinstance(op, ast.Eq) and isinstance(right, ast.Constant) and right.value is None
        ):
            return isinstance(right, ast.Name) or (
                isinstance(right, ast.Constant) and right.value is None
            )
    return False


def _first_warning_outside(
    body: list[ast.stmt], others: set[str], local: dict[str, ast.expr]
) -> str | None:
    """The first deprecation warning anywhere in ``body``, outside the ``if`` blocks whose
    test names one of ``others`` (their warnings belong to those parameters)."""
    for stmt in body:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        todo: list[ast.AST] = [stmt]
        while todo:
            node = todo.pop()
            if isinstance(node, ast.If) and _names_in(node.test) & others:
                continue
            found = _deprecation_warning(node, local)
            if found is not None:
                return found
            todo.extend(reversed(list(ast.iter_child_nodes(node))))
    return None


def _scan_class(cls: ast.ClassDef, path: str, out: ModuleScan) -> None:
    message = _decorator_message(cls.decorator_list)
    if message is not None:
        out.deprecated[path] = message
    for stmt in cls.body:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
            _scan_function(stmt, f"{path}.{stmt.name}", out)
            if stmt.name in ("__init__", "__new__") and f"{path}.{stmt.name}" in out.deprecated:
                out.deprecated.setdefault(path, out.deprecated[f"{path}.{stmt.name}"])
            for key in [k for k in out.deprecated if k.startswith(f"{path}.{stmt.name}(")]:
                if stmt.name in ("__init__", "__new__"):
                    out.deprecated.setdefault(
                        path + key[len(f"{path}.{stmt.name}") :], out.deprecated[key]
                    )
        elif isinstance(stmt, ast.ClassDef):
            _scan_class(stmt, f"{path}.{stmt.name}", out)


def _literal_keys(node: ast.expr) -> list[str] | None:
    if isinstance(node, ast.Dict):
        keys = node.keys
    elif isinstance(node, (ast.Set, ast.Tuple, ast.List)):
        keys = list(node.elts)
    else:
        return None
    out = []
    for key in keys:
        if not (isinstance(key, ast.Constant) and isinstance(key.value, str)):
            return None
        out.append(key.value)
    return out


def _served_names(test: ast.expr, arg: str, literals: dict[str, list[str]]) -> list[str] | None:
    """The names an ``if`` test inside ``__getattr__`` selects, or None for another test."""
    if isinstance(test, ast.BoolOp) and isinstance(test.op, ast.Or):
        names: list[str] = []
        for value in test.values:
            part = _served_names(value, arg, literals)
            if part is None:
                return None
            names += part
        return names
    if not (
        isinstance(test, ast.Compare)
        and len(test.ops) == 1
        and isinstance(test.left, ast.Name)
        and test.left.id == arg
    ):
        return None
    op, right = test.ops[0], test.comparators[0]
    if isinstance(op, ast.Eq) and isinstance(right, ast.Constant) and isinstance(right.value, str):
        return [right.value]
    if isinstance(op, ast.In):
        if isinstance(right, ast.Name):
            return literals.get(right.id)
        return _literal_keys(right)
    return None


def _scan_getattr(fn: ast.FunctionDef, literals: dict[str, list[str]], out: ModuleScan) -> None:
    args = fn.args.posonlyargs + fn.args.args
    if len(args) != 1:
        out.open = True
        return
    arg = args[0].arg

    def walk(body: list[ast.stmt]) -> bool:
        """Whether ``body`` ends raising for every name it does not list (else: open)."""
        for stmt in body:
            if isinstance(stmt, (ast.Import, ast.ImportFrom, ast.Pass)) or (
                isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant)
            ):
                continue
            if isinstance(stmt, ast.Raise):
                return True  # anything else raises AttributeError
            if isinstance(stmt, ast.If):
                names = _served_names(stmt.test, arg, literals)
                if names is None:
                    return False
                message = _first_warning(stmt.body, deep=True, local=_assigned(stmt.body))
                for name in names:
                    out.served.setdefault(name, message)
                if stmt.orelse and walk(stmt.orelse):
                    return True
                continue
            # a statement that may serve what it does not list (a lazy import by name, …)
            return False
        # falling off the end returns None for every other name: served, but not listed
        return False

    if not walk(fn.body):
        out.open = True


def _getattr_bindings(body: list[ast.stmt], defs: list[ast.FunctionDef]) -> bool:
    """Collect module-level ``def __getattr__`` (also under if/try) into ``defs``; whether
    ``__getattr__`` is bound any other way (an assignment, an import: not readable)."""
    for stmt in body:
        if isinstance(stmt, ast.FunctionDef):
            if stmt.name == "__getattr__":
                defs.append(stmt)
        elif isinstance(stmt, (ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        elif isinstance(stmt, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            for target in targets:
                if any(isinstance(n, ast.Name) and n.id == "__getattr__" for n in ast.walk(target)):
                    return True
        elif isinstance(stmt, (ast.Import, ast.ImportFrom)):
            if any((a.asname or a.name) == "__getattr__" for a in stmt.names):
                return True
        else:
            nested: list[ast.stmt] = []
            for name in ("body", "orelse", "finalbody"):
                nested += getattr(stmt, name, [])
            for handler in getattr(stmt, "handlers", []):
                nested += handler.body
            if nested and _getattr_bindings(nested, defs):
                return True
    return False


def scan_module(source: str, module: str, *, is_package: bool) -> ModuleScan:
    """Scan one module's source (``module`` is its dotted name)."""
    out = ModuleScan()
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        out.open = True
        return out
    literals: dict[str, list[str]] = {}
    for stmt in tree.body:
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
            target = stmt.targets[0]
            keys = _literal_keys(stmt.value)
            if isinstance(target, ast.Name) and keys is not None:
                literals[target.id] = keys
        elif isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name) and stmt.value:
            keys = _literal_keys(stmt.value)
            if keys is not None:
                literals[stmt.target.id] = keys
    package = module if is_package else module.rpartition(".")[0]
    for stmt in tree.body:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)) and any(
            _name_of(d) == "overload" for d in stmt.decorator_list
        ):
            out.overloaded = True
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
            if stmt.name == "__getattr__":
                if isinstance(stmt, ast.AsyncFunctionDef):
                    out.open = True
            else:
                _scan_function(stmt, f"{module}.{stmt.name}", out)
        elif isinstance(stmt, ast.ClassDef):
            _scan_class(stmt, f"{module}.{stmt.name}", out)
        elif isinstance(stmt, ast.ImportFrom) and any(a.name == "*" for a in stmt.names):
            base = stmt.module or ""
            if stmt.level:
                parts = package.split(".")
                up = parts[: len(parts) - (stmt.level - 1)] if stmt.level > 1 else parts
                base = ".".join([*up, *([base] if base else [])])
            out.star_imports.append(base)
    getattrs: list[ast.FunctionDef] = []
    if _getattr_bindings(tree.body, getattrs):
        # __getattr__ = factory(__name__), ``__getattr__, __dir__, __all__ = lazy.attach(…)``,
        # ``from ._lazy import __getattr__``: not readable, so open
        out.open = True
    for fn in getattrs:  # a def, also one under ``if not TYPE_CHECKING:`` or try
        _scan_getattr(fn, literals, out)
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
            out.assigned.add(node.attr)
        elif (
            isinstance(node, ast.Call)
            and _name_of(node.func) == "setattr"
            and len(node.args) > 1
            and isinstance(node.args[1], ast.Constant)
            and isinstance(node.args[1].value, str)
        ):
            out.assigned.add(node.args[1].value)
    for node in ast.walk(tree):
        # globals().update(...) / setattr(sys.modules[__name__], ...) at any depth
        if isinstance(node, ast.Call) and (
            _name_of(node.func) == "globals"
            or (
                _name_of(node.func) == "setattr"
                and node.args
                and "modules" in ast.unparse(node.args[0])
            )
        ):
            out.open = True
            break
        # sys.modules[__name__] = SomeObject(): the module is replaced by what no reading sees
        if isinstance(node, (ast.Assign, ast.AugAssign)) and any(
            isinstance(t, ast.Subscript) and _name_of(t.value) == "modules"
            for t in (node.targets if isinstance(node, ast.Assign) else [node.target])
        ):
            out.open = True
            break
    return out
