"""Imports and aliases → canonical dotted names, with their places in one parsed module.

A walk over an ``ast`` tree (never importing or running anything). Bindings are strings:

- a dotted name rooted in a tracked module (``numpy``, ``google.genai.Client``);
- ``@pkg.mod``: a module of the project itself (never confused with a third-party one);
- ``#Class@line``: a class of this file, or an instance of it (``self`` inside its methods);
  an attribute it does not set itself is its tracked base class's (``class M(BaseModel)``:
  ``M.parse_obj`` and ``self.dict`` are ``pydantic.BaseModel.parse_obj``/``.dict``);
- ``#name@line:col``: a function of this file; calling it gives what it returns
  (``def get_db(): return MongoClient()[name]``, then ``get_db().collection_names``), found
  by walking its body then, if it was not walked yet (nested at most ``_MAX_NESTED`` deep,
  never into a function already being walked);
- ``None``: bound to something untracked (it shadows outer bindings).

A parameter annotated with a class (``q: Query``, ``Optional[Query]``, ``Query | None``) holds
an instance of it, as ``Query()`` would give: a class of the project, or a tracked name spelt as
a class (``Session``, not ``PRIVATE_KEY_TYPES`` or ``ndarray``).

Call results and decorator application are transparent: ``genai.Client()`` binds
``google.genai.Client``; a function decorated with ``@bpd.udf(...)`` binds ``bigframes.pandas.udf``.
Subscripts are ``__getitem__``: ``MongoClient()[name]`` is ``pymongo.MongoClient.__getitem__``.
Function bodies are walked after the enclosing body, as Python runs them (they see the
final module bindings); methods named ``__init__``/``setUp``/… first, so ``self.x = …`` is known
in the other methods.
"""

from __future__ import annotations

import ast
import builtins
from collections import deque
from collections.abc import Callable, Mapping
from typing import Any

from depwatch.usage import guards as _guards
from depwatch.usage.methods import decorator_name, function_key, init_rank, target_names
from depwatch.usage.symbolic import placeholder, split
from depwatch.usage.tracker import Tracker, is_under, spelt_as_class

__all__ = ["RawRef", "Resolver", "Tracker", "is_under", "result_point", "spelt_as_class"]

_BUILTINS = frozenset(dir(builtins)) | {"__file__", "__name__", "__doc__", "__spec__"}
_ENV_GETTERS = frozenset({"os.getenv", "os.environ.get"})
#: What follows a placeholder in a name that may be one of the getters, or ``os.environ``, once
#: its value is put in (``$3.get`` is ``os.environ.get`` when ``$3`` is ``os.environ``).
_ENV_GETTER_TAILS = frozenset({"", ".getenv", ".get", ".environ.get"})
_ENVIRON_TAILS = frozenset({"", ".environ"})


_COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)
#: Expressions whose value is a result (a call's, a subscript's): the callee or the subscripted
#: value is reported where it is walked, so the result itself is not reported again.
_RESULTS = (ast.Call, ast.Subscript)
#: How deep walks of functions nest (a call that needs what a function not yet walked
#: returns walks it then); deeper, the call's value is unknown.
_MAX_NESTED = 6
#: How many base classes an attribute lookup follows (``class B(A)``, ``class C(B)``, …).
_MAX_BASES = 32
_PROPERTIES = frozenset({"property", "cached_property"})
#: Fields that hold an operator or a load/store context, nothing that names anything: walking
#: them found nothing, one call per operator and per name.
_NO_NAMES = frozenset({"ctx", "op"})
#: A node type → the fields :meth:`Resolver.children` walks, in order.
_WALKED: dict[type[ast.AST], tuple[str, ...]] = {}


RawRef = tuple[str, str, int, int, tuple[tuple[str, int, int], ...]]
"""(kind, name, line, byte column (0-based), keywords as (name, line, byte column))."""

_Scope = dict[str, "str | None"]


class _Result(str):
    """A dotted name that names what a call returned (``ssl.wrap_socket(s)`` then ``.settimeout``):
    ``point`` is the length of the name up to the end of the last call. The name stays the
    callee's (call results are transparent), but a rule symbol that ends at or before
    ``point`` names the callee, not what it returned: ``conn.settimeout`` is no use of
    ``ssl.wrap_socket``; ``bigframes.connect().udf`` is a use of ``bigframes.connect.udf``."""

    __slots__ = ("point",)
    point: int


def _result(name: str, point: int) -> str:
    out = _Result(name)
    out.point = point
    return out


def result_point(name: str) -> int:
    """Where the part of ``name`` that comes from a call's result starts (0: none does)."""
    return name.point if type(name) is _Result else 0


class Resolver:
    """Walks one module and collects raw references (byte columns, no code text yet)."""

    def __init__(
        self,
        tracker: Tracker,
        *,
        package: tuple[str, ...] | None = None,
        project_modules: frozenset[str] = frozenset(),
        exports: Mapping[str, Mapping[str, str]] | None = None,
        symbolic: bool = False,
    ) -> None:
        self.tracker = tracker
        self.package = package
        """The dotted package of the module (for relative imports); None when unknown."""
        self.project_modules = project_modules
        self.exports: Mapping[str, Mapping[str, str]] = exports or {}
        self.symbolic = symbolic
        """Names of other project modules' exports are placeholders (see :meth:`held`)."""
        self.pending: list[tuple[str, str]] = []
        """Placeholder ``$i`` → the (module, name) it stands for."""
        self._held: dict[tuple[str, str], str] = {}
        self.unsafe: set[int] = set()
        """Placeholders whose value, if not None, would have changed what the walk did
        (``-1 - i``: if not None and not spelt as a class, see :func:`spelt_as_class`)."""
        self.either: dict[str, tuple[str, str]] = {}
        """A def or class whose first decorator with a value is a placeholder: its name →
        (the placeholder, what it is bound to as when it has none). Reading the name (any
        binding of it, to be safe) records the placeholder as :attr:`unsafe`."""
        self.held_decorator: str | None = None
        self.returned_held: dict[str, str] = {}
        """Function key → the placeholder its first return with a value gave, while its body
        is walked (then it is what the function returns, if nothing tracked came before)."""
        self.refs: list[RawRef] = []
        self.module_scope: _Scope = {}
        self.scopes: list[_Scope] = [self.module_scope]
        self.class_scope: _Scope | None = None
        self.class_attrs: dict[str, _Scope] = {}
        self.class_stack: list[str] = []
        self.star: list[str] = []
        self.cond = 0
        self.deferred: deque[
            tuple[ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda, list[_Scope], str | None]
        ] = deque()
        self.project_imports: set[tuple[str, str]] = set()
        self._module_aliases: set[str] = set()
        self.guards: tuple[str, ...] = ()
        """The conditions of the branches being walked (see :mod:`depwatch.usage.guards`)."""
        self.def_guards: dict[ast.AST, tuple[str, ...]] = {}
        self.bound_under: dict[tuple[int, str], tuple[str, ...]] = {}
        """(scope, name) → the guards of the branch that bound it (where there were any)."""
        self.private_functions: dict[str, ast.AST] = {}
        """Module-level functions (run only where they are called from); public ones too, whose
        other callers may be in other files (see :mod:`depwatch.usage.scan`)."""
        self.function_uses: dict[str, list[tuple[str, ...]]] = {}
        """For each of them, the guards of every place that names it."""
        self.body_refs: dict[ast.AST, tuple[int, int]] = {}
        """A function's body → the range of ``refs`` found in it."""
        self.guard_names: dict[str, Any] = {}
        """Module-level names bound to a version or platform test (``PY2 = …``)."""
        self.class_bases: dict[str, tuple[str, ...]] = {}
        """Class key → its base classes that are tracked or classes of this file, in order."""
        self.functions: dict[
            str, tuple[ast.FunctionDef | ast.AsyncFunctionDef, list[_Scope], str | None]
        ] = {}
        """Function key → what walking its body needs."""
        self.walked: set[str] = set()
        self.returned: dict[str, str] = {}
        """Function key → the first tracked value (or class of this file) it returns."""
        self.properties: set[str] = set()
        self.function: str | None = None
        """The key of the function whose body is being walked."""
        self._walking: list[str] = []

    # --- entry points ---------------------------------------------------------------------

    def run(self, tree: ast.Module) -> None:
        self.body(tree.body)
        while self.deferred:
            func, chain, owner = self.deferred.popleft()
            if function_key(func) in self.walked:
                continue  # walked already, for a call that needed what it returns
            self.function_body(func, chain, owner)

    def module_exports(self) -> list[tuple[str, str]]:
        """Module-level names bound to tracked objects (other project files may import them)."""
        out = []
        for name, value in self.module_scope.items():
            if value is None or name in self._module_aliases:
                continue
            either = self.either.get(name)
            if either is not None and either[1] is value:
                # a decorated def or class: what its placeholder is, or (no value) itself
                if value[0] == "#" and self.exported(value[1:]) is not None:
                    self.taken_as_none(either[0])
                else:
                    out.append((name, str(either[0])))  # plain (a call's result is not)
                    continue
            if value[0] == "#":
                # a class (or an instance of one): its tracked base, which its attributes
                # fall back to. Not a function's return value: exporting those made the
                # second pass parse pandas three times over (each export a dependency).
                value = self.exported(value[1:])
            if value is not None and value[0] not in "@#":
                out.append((name, str(value)))  # plain: workers send them with marshal
        return sorted(out)

    def exported(self, key: str) -> str | None:
        """What another module sees of a class of this one (or an instance): its tracked
        base."""
        if key in self.functions:
            return None
        return self.member(key, None)

    # --- names ----------------------------------------------------------------------------

    def lookup(self, name: str) -> str | None:
        if self.either and name in self.either:
            self.taken_as_none(self.either[name][0])
        if self.class_scope is not None and name in self.class_scope:
            return self.class_scope[name]
        for scope in reversed(self.scopes):
            if name in scope:
                return scope[name]
        if self.star and name not in _BUILTINS:
            return self.star[-1] + "." + name
        return None

    def bind(self, name: str, value: str | None) -> None:
        scope = self.class_scope if self.class_scope is not None else self.scopes[-1]
        held = value is not None and value[0] == "$"
        if self.class_scope is not None and self.class_stack:
            # a class attribute, even an untracked one: it hides the base class's
            attrs = self.class_attrs.setdefault(self.class_stack[-1], {})
            if (value is not None and not held) or not self.cond or attrs.get(name) is None:
                attrs[name] = value
            elif held:
                self.taken_as_none(value)  # type: ignore[arg-type]
        if value is None or held:
            if self.cond and scope.get(name) is not None:
                if held:
                    self.taken_as_none(value)  # type: ignore[arg-type]
                return  # `except ImportError: np = None` keeps the import that may have worked
            if not held and name not in scope and not self.star and self.lookup(name) is None:
                return  # nothing to shadow
        scope[name] = value
        if self.guards and value is not None:
            self.bound_under[(id(scope), name)] = self.guards
        elif self.bound_under:
            self.bound_under.pop((id(scope), name), None)

    def binding_guards(self, name: str) -> tuple[str, ...]:
        """The guards of the branch that bound ``name`` (as :meth:`lookup` finds it): a use of
        a name bound only in an unreachable branch is unreachable too."""
        if not self.bound_under:
            return ()
        if self.class_scope is not None and name in self.class_scope:
            return self.bound_under.get((id(self.class_scope), name), ())
        for scope in reversed(self.scopes):
            if name in scope:
                return self.bound_under.get((id(scope), name), ())
        return ()

    def attr(self, base: str, name: str) -> str | None:
        head = base[0]
        if head == "@":
            module = base[1:]
            sub = module + "." + name
            if sub in self.project_modules:
                return "@" + sub
            self.project_imports.add((module, name))
            if self.symbolic:
                return self.held(module, name)
            return self.exports.get(module, {}).get(name)
        if head == "#":
            return self.member(base[1:], name)
        if type(base) is _Result:
            return _result(base + "." + name, base.point)
        return base + "." + name

    def held(self, module: str, name: str) -> str:
        """The placeholder of export ``name`` of project module ``module`` (a symbolic walk).

        A placeholder (``$3``) flows as a tracked name would (``$3.attr``, calls, subscripts,
        bindings), and the references and exports it reaches are kept apart: once the
        project's exports are known they are written with its value, or dropped where it has
        none (:mod:`depwatch.usage.symbolic`). Where what the walk does depends on whether a
        value is None (a branch, not a flow), it goes the way of None, the value of every
        export the first pass knows, and records the placeholder as :attr:`unsafe`."""
        key = (module, name)
        found = self._held.get(key)
        if found is None:
            found = self._held[key] = placeholder(len(self.pending))
            self.pending.append(key)
        return found

    def taken_as_none(self, value: str) -> None:
        """The walk went the way of ``value`` (a placeholder's) being None."""
        self.unsafe.add(split(value)[0])

    def taken_as_class(self, value: str) -> None:
        """The walk went the way of placeholder ``value`` being None or a name spelt as a
        class (:meth:`annotated`)."""
        self.unsafe.add(-1 - split(value)[0])

    def member(self, key: str, name: str | None) -> str | None:
        """Attribute ``name`` of a class (or instance) of this file: its own, else its bases'
        in the order Python looks (depth first, left to right; a base of this file before a
        tracked one); a property gives what it returns. With ``name`` None: the first
        tracked base."""
        todo: list[str] = ["#" + key]
        for _ in range(_MAX_BASES):
            if not todo:
                return None
            item = todo.pop()
            if item[0] != "#":
                return item if name is None else item + "." + name
            attrs = self.class_attrs.get(item[1:])
            if name is not None and attrs is not None and name in attrs:
                if self.either and name in self.either:
                    self.taken_as_none(self.either[name][0])
                found = attrs[name]
                if found is not None and found[0] == "#" and found[1:] in self.properties:
                    return self.returns(found[1:])
                return found
            todo.extend(reversed(self.class_bases.get(item[1:], ())))
        return None

    def returns(self, key: str) -> str | None:
        """What the function ``key`` returns: walked now if it was not yet (bounded)."""
        if key not in self.walked and len(self._walking) < _MAX_NESTED:
            pending = self.functions.get(key)
            if pending is not None:
                self.function_body(*pending)
        found = self.returned.get(key)
        if found is None and self.returned_held:
            held = self.returned_held.get(key)
            if held is not None:
                self.taken_as_none(held)  # read while its body is walked
        return found

    def module_value(self, dotted: str) -> str | None:
        """The binding for an absolute module name: tracked first, then the project's own."""
        if self.tracker.bindable(dotted):
            return dotted
        if dotted in self.project_modules:
            return "@" + dotted
        return None

    # --- references -----------------------------------------------------------------------

    def emit(
        self, kind: str, name: str, node: ast.AST, keywords: tuple[tuple[str, int, int], ...] = ()
    ) -> None:
        if name[0] == "$" or self.tracker.reportable(name):
            self.refs.append((kind, name, node.lineno, node.col_offset, keywords))  # type: ignore[attr-defined]

    def expr(self, node: ast.AST) -> None:
        """Walk an expression whose value is not used: report its maximal chain."""
        value = self.ev(node)
        if value is not None and type(node) not in _RESULTS and value[0] not in "@#":
            self.emit("ref", value, node)

    def ev(self, node: ast.AST) -> str | None:
        """Walk an expression and return what it resolves to (reporting what is inside)."""
        kind = type(node)
        if kind is ast.Name:
            if node.id in self.private_functions:  # type: ignore[attr-defined]
                self.function_uses.setdefault(node.id, []).append(self.guards)  # type: ignore[attr-defined]
            return self.lookup(node.id)  # type: ignore[attr-defined]
        if kind is ast.Attribute:
            base = self.ev(node.value)  # type: ignore[attr-defined]
            return None if base is None else self.attr(base, node.attr)  # type: ignore[attr-defined]
        if kind is ast.Call:
            return self.call(node)  # type: ignore[arg-type]
        if kind is ast.Constant:
            return None
        if kind is ast.Subscript:
            return self.subscript(node)  # type: ignore[arg-type]
        if kind is ast.NamedExpr:
            value = self.ev(node.value)  # type: ignore[attr-defined]
            if value is not None and type(node.value) not in _RESULTS and value[0] not in "@#":  # type: ignore[attr-defined]
                self.emit("ref", value, node.value)  # type: ignore[attr-defined]
            self.bind_target(node.target, value)  # type: ignore[attr-defined]
            return value
        if kind is ast.Compare:
            self.compare(node)  # type: ignore[arg-type]
            return None
        if kind is ast.Lambda:
            self.defaults(node.args)  # type: ignore[attr-defined]
            self.deferred.append((node, list(self.scopes), None))  # type: ignore[arg-type]
            if self.guards:
                self.def_guards[node] = self.guards
            return None
        if kind in _COMPREHENSIONS:
            self.comprehension(node)  # type: ignore[arg-type]
            return None
        self.children(node)
        return None

    def comprehension(
        self, node: ast.ListComp | ast.SetComp | ast.GeneratorExp | ast.DictComp
    ) -> None:
        """A comprehension's own scope: its targets shadow outer names (``[np for np in x]``);
        the first iterable is evaluated outside it, as Python does."""
        self.expr(node.generators[0].iter)
        self.scopes.append({})
        try:
            for index, generator in enumerate(node.generators):
                if index:
                    self.expr(generator.iter)
                for name in target_names(generator.target):
                    self.scopes[-1][name] = None
                for condition in generator.ifs:
                    self.expr(condition)
            if type(node) is ast.DictComp:
                self.expr(node.key)
                self.expr(node.value)
            else:
                self.expr(node.elt)  # type: ignore[union-attr]
        finally:
            self.scopes.pop()

    def children(self, node: ast.AST) -> None:
        fields = _WALKED.get(type(node))
        if fields is None:
            fields = _WALKED[type(node)] = tuple(f for f in node._fields if f not in _NO_NAMES)
        for field in fields:
            value = getattr(node, field, None)
            if isinstance(value, ast.AST):
                if type(value) is not ast.Constant:  # a literal names nothing
                    self.expr(value)
            elif type(value) is list:
                for item in value:
                    if isinstance(item, ast.AST) and type(item) is not ast.Constant:
                        self.expr(item)

    def call(self, node: ast.Call) -> str | None:
        func = self.ev(node.func)
        for arg in node.args:
            if type(arg) is not ast.Constant:  # a literal names nothing
                self.expr(arg)
        keywords: list[tuple[str, int, int]] = []
        for kw in node.keywords:
            if type(kw.value) is not ast.Constant:
                self.expr(kw.value)
            if kw.arg is not None:
                keywords.append((kw.arg, kw.lineno, kw.col_offset))
            else:
                keywords.extend(self.splat_keywords(kw.value) or ())
        if func is None or func[0] == "@":
            return None
        if func[0] == "#":
            key = func[1:]
            if key in self.functions:
                return self.returns(key)
            return func  # a class of this file: the call makes an instance
        self.emit("call", func, node, tuple(keywords))
        env = self.tracker.env
        if env and func[0] == "$":
            if split(func)[1] in _ENV_GETTER_TAILS:
                self.taken_as_none(func)
        elif env and func in _ENV_GETTERS:
            # The variable's name: the first argument, or `key=` (both getters call it key).
            first = node.args[0] if node.args else None
            if first is None:
                first = next((kw.value for kw in node.keywords if kw.arg == "key"), None)
            if type(first) is ast.Constant and first.value in env:
                self.refs.append(("env", first.value, node.lineno, node.col_offset, ()))
        return _result(func, len(func))

    def splat_keywords(self, node: ast.AST) -> list[tuple[str, int, int]] | None:
        """The keywords a ``**`` splat surely passes: ``**dict(k=v)``, ``**{"k": v}``;
        None when what it passes is not known."""
        if type(node) is ast.Dict:
            found = []
            for key in node.keys:
                if type(key) is not ast.Constant or type(key.value) is not str:
                    return None  # `**{**other}` or a computed key
                found.append((key.value, key.lineno, key.col_offset))
            return found
        if (
            type(node) is ast.Call
            and type(node.func) is ast.Name
            and node.func.id == "dict"
            and not node.args
            and self.untracked("dict")
            and all(kw.arg is not None for kw in node.keywords)
        ):
            return [(kw.arg, kw.lineno, kw.col_offset) for kw in node.keywords if kw.arg]
        return None

    def untracked(self, name: str) -> bool:
        """Whether ``name`` is bound to nothing tracked (a placeholder taken as None)."""
        value = self.lookup(name)
        if value is not None and value[0] == "$":
            self.taken_as_none(value)
            return True
        return value is None

    def subscript(self, node: ast.Subscript) -> str | None:
        value = self.ev(node.value)
        if value is not None and type(node.value) not in _RESULTS and value[0] not in "@#":
            self.emit("ref", value, node.value)
        self.expr(node.slice)
        env = self.tracker.env
        if (
            env
            and type(node.ctx) is ast.Load  # `del os.environ[...]` reads nothing
            and type(node.slice) is ast.Constant
            and node.slice.value in env
            and value is not None
            and value[0] == "$"
        ):
            if split(value)[1] in _ENVIRON_TAILS:
                self.taken_as_none(value)
        elif (
            env
            and type(node.ctx) is ast.Load  # `del os.environ[...]` reads nothing
            and type(node.slice) is ast.Constant
            and node.slice.value in env
            and value == "os.environ"
        ):
            self.refs.append(("env", node.slice.value, node.lineno, node.col_offset, ()))
        if type(node.ctx) is not ast.Load or value is None or value[0] in "@#":
            return None
        item = value + ".__getitem__"
        return _result(item, len(item))

    def compare(self, node: ast.Compare) -> None:
        self.expr(node.left)
        for comp in node.comparators:
            self.expr(comp)
        env = self.tracker.env
        if env and type(node.left) is ast.Constant and node.left.value in env:
            for op, comp in zip(node.ops, node.comparators, strict=True):
                if type(op) not in (ast.In, ast.NotIn):
                    continue
                found = self.ev_quiet(comp)
                if found is not None and found[0] == "$":
                    if split(found)[1] in _ENVIRON_TAILS:
                        self.taken_as_none(found)
                elif found == "os.environ":
                    self.refs.append(("env", node.left.value, node.lineno, node.col_offset, ()))

    def ev_quiet(self, node: ast.AST) -> str | None:
        """What a plain name/attribute chain resolves to, without reporting anything."""
        if type(node) is ast.Name:
            return self.lookup(node.id)
        if type(node) is ast.Attribute:
            base = self.ev_quiet(node.value)
            return None if base is None else self.attr(base, node.attr)
        return None

    # --- statements -----------------------------------------------------------------------

    def body(self, stmts: list[ast.stmt]) -> None:
        for stmt in stmts:
            self.stmt(stmt)

    def cond_body(self, stmts: list[ast.stmt]) -> None:
        self.cond += 1
        try:
            self.body(stmts)
        finally:
            self.cond -= 1

    def stmt(self, node: ast.stmt) -> None:
        kind = type(node)
        handler = _STMT.get(kind)
        if handler is not None:
            handler(self, node)
        else:
            self.children(node)

    def s_import(self, node: ast.Import) -> None:
        for alias in node.names:
            full = alias.name
            self.emit("import", full, alias)
            if alias.asname:
                value = self.module_value(full)
                self.bind(alias.asname, value)
                self._module_aliases.add(alias.asname)
                if value is not None and value[0] == "@":
                    self.project_imports.add((full, ""))
            else:
                top = full.split(".", 1)[0]
                value = self.module_value(top)
                if value is None and full in self.project_modules:
                    value = "@" + top
                self.bind(top, value)
                self._module_aliases.add(top)
                if value is not None and value[0] == "@":
                    self.project_imports.add((full, ""))

    def relative_base(self, node: ast.ImportFrom) -> str | None:
        if self.package is None:
            return None
        level = node.level
        if level - 1 > len(self.package):
            return None
        parts = list(self.package[: len(self.package) - (level - 1)])
        if node.module:
            parts.extend(node.module.split("."))
        return ".".join(parts) if parts else None

    def s_import_from(self, node: ast.ImportFrom) -> None:
        if node.level:
            base = self.relative_base(node)
            if base is None:
                for alias in node.names:
                    if alias.name != "*":
                        self.bind(alias.asname or alias.name, None)
                return
            self.project_from(base, node)
            return
        module = node.module or ""
        if self.tracker.bindable(module):
            for alias in node.names:
                if alias.name == "*":
                    self.emit("import", module, alias)
                    self.star.append(module)
                    continue
                full = module + "." + alias.name
                self.emit("import", full, alias)
                self.bind(alias.asname or alias.name, full)
            return
        if module in self.project_modules or (
            module.split(".", 1)[0] in self.project_modules
            and not self.tracker.bindable(module.split(".", 1)[0])
        ):
            self.project_from(module, node)
            return
        for alias in node.names:
            if alias.name != "*":
                self.bind(alias.asname or alias.name, None)

    def project_from(self, base: str, node: ast.ImportFrom) -> None:
        exports = self.exports.get(base, {})
        for alias in node.names:
            name = alias.name
            if name == "*":
                self.project_imports.add((base, "*"))
                if self.symbolic:
                    # which names it binds is not known: as when it binds none
                    self.taken_as_none(self.held(base, "*"))
                for key, exported in exports.items():
                    self.bind(key, exported)
                continue
            sub = base + "." + name
            value: str | None
            if sub in self.project_modules:
                value = "@" + sub
                self.project_imports.add((base, name))  # the module itself
            else:
                self.project_imports.add((base, name))
                value = self.held(base, name) if self.symbolic else exports.get(name)
            self.bind(alias.asname or name, value)

    def bind_target(self, target: ast.AST, value: str | None) -> None:
        kind = type(target)
        if kind is ast.Name:
            self.bind(target.id, value)  # type: ignore[attr-defined]
        elif kind is ast.Attribute:
            owner = self.ev_quiet(target.value)  # type: ignore[attr-defined]
            if owner is not None and owner[0] == "#":
                attrs = self.class_attrs.setdefault(owner[1:], {})
                name = target.attr  # type: ignore[attr-defined]
                held = value is not None and value[0] == "$"
                if (value is not None and not held) or not self.cond or attrs.get(name) is None:
                    attrs[name] = value
                elif held:
                    self.taken_as_none(value)  # type: ignore[arg-type]
            else:
                self.expr(target.value)  # type: ignore[attr-defined]
        elif kind in (ast.Tuple, ast.List):
            for elt in target.elts:  # type: ignore[attr-defined]
                self.bind_target(elt, None)
        elif kind is ast.Starred:
            self.bind_target(target.value, None)  # type: ignore[attr-defined]
        elif kind is ast.Subscript:
            self.expr(target.value)  # type: ignore[attr-defined]
            self.expr(target.slice)  # type: ignore[attr-defined]

    def assigned(self, target: ast.AST) -> None:
        """A module-level assignment of a name a framework reads."""
        if (
            type(target) is ast.Name
            and target.id in self.tracker.assignments
            and self.function is None
            and self.class_scope is None
            and len(self.scopes) == 1
        ):
            self.refs.append(("assign", target.id, target.lineno, target.col_offset, ()))

    def s_assign(self, node: ast.Assign) -> None:
        if (
            len(node.targets) == 1
            and type(node.targets[0]) is ast.Name
            and self.scopes[-1] is self.module_scope
            and self.class_scope is None
        ):
            tree = _guards.condition_tree(node.value, self.guard_names)
            if tree is not None:
                self.guard_names[node.targets[0].id] = tree
            else:
                self.guard_names.pop(node.targets[0].id, None)
        if self.tracker.assignments:
            for target in node.targets:
                self.assigned(target)
        value = self.ev(node.value)
        if value is not None and type(node.value) not in _RESULTS and value[0] not in "@#":
            self.emit("ref", value, node.value)
        for target in node.targets:
            self.bind_target(target, value)

    def s_ann_assign(self, node: ast.AnnAssign) -> None:
        self.expr(node.annotation)
        if self.tracker.assignments and node.value is not None:
            self.assigned(node.target)
        if node.value is None:
            if self.class_scope is not None and self.class_stack and type(node.target) is ast.Name:
                # a declared field (`name: str` in a model) hides the base class's attribute
                self.class_attrs.setdefault(self.class_stack[-1], {}).setdefault(
                    node.target.id, None
                )
            return
        value = self.ev(node.value)
        if value is not None and type(node.value) not in _RESULTS and value[0] not in "@#":
            self.emit("ref", value, node.value)
        self.bind_target(node.target, value)

    def s_aug_assign(self, node: ast.AugAssign) -> None:
        self.expr(node.value)
        if type(node.target) is not ast.Name:
            self.bind_target(node.target, None)

    def decorated(self, decorators: list[ast.expr]) -> str | None:
        """What applying the decorators gives: the outermost tracked decorator, if any.

        A placeholder before any tracked decorator is left in :attr:`held_decorator`: with no
        tracked decorator after it, the caller binds the name as when it has no value and
        records it in :attr:`either`."""
        result: str | None = None
        held: str | None = None
        for dec in decorators:
            value = self.ev(dec)
            if value is not None and value[0] in "@#":
                value = None
            if value is not None and type(dec) is not ast.Call:
                self.emit("ref", value, dec)
            if result is None and value is not None:
                if value[0] != "$":
                    result = value
                elif held is None:
                    held = value
                else:
                    self.taken_as_none(value)  # it is the result if the first one has no value
        if result is not None and held is not None:
            self.taken_as_none(held)
        self.held_decorator = held if result is None else None
        return result

    def bind_decorated(self, name: str, value: str, held: str | None) -> None:
        """Bind a def or class's name to what :meth:`decorated` gave (or itself); ``held``:
        the :attr:`held_decorator` it left."""
        self.bind(name, value)
        if held is not None:
            self.either[name] = (held, value)

    def defaults(self, args: ast.arguments) -> None:
        for default in args.defaults:
            self.expr(default)
        for kw_default in args.kw_defaults:
            if kw_default is not None:
                self.expr(kw_default)

    def s_function(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        value = self.decorated(node.decorator_list)
        held = self.held_decorator
        args = node.args
        self.defaults(args)
        for arg in (*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg):
            if arg is not None and arg.annotation is not None:
                self.expr(arg.annotation)
        if node.returns is not None:
            self.expr(node.returns)
        owner = self.class_stack[-1] if self.class_scope is not None else None
        if owner is not None and any(
            type(d) is ast.Name and d.id == "staticmethod" for d in node.decorator_list
        ):
            owner = None
        chain = list(self.scopes)
        self.deferred.append((node, chain, owner))
        if self.guards:
            self.def_guards[node] = self.guards
        if self.class_scope is None and len(self.scopes) == 1:
            self.private_functions[node.name] = node
        key = function_key(node)
        assert key is not None
        self.functions[key] = (node, chain, owner)
        if value is None:
            # the project's own function: calling it gives what it returns
            if any(decorator_name(d) in _PROPERTIES for d in node.decorator_list):
                self.properties.add(key)
            value = "#" + key
        self.bind_decorated(node.name, value, held)

    def s_return(self, node: ast.Return) -> None:
        if node.value is None:
            return
        value = self.ev(node.value)
        if value is not None and type(node.value) not in _RESULTS and value[0] not in "@#":
            self.emit("ref", value, node.value)
        key = self.function
        if key is not None and value is not None and value[0] != "@" and key not in self.returned:
            held = self.returned_held.get(key)
            if value[0] == "$":
                if held is None:
                    self.returned_held[key] = value
                else:
                    self.taken_as_none(value)  # it is returned if the first one has no value
            else:
                if held is not None:
                    self.taken_as_none(held)  # with a value, it is returned, not this
                self.returned[key] = value

    def function_body(
        self,
        node: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda,
        chain: list[_Scope],
        owner: str | None,
    ) -> None:
        scope: _Scope = {}
        args = node.args
        params = [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg]
        saved = (
            self.scopes,
            self.class_scope,
            self.class_stack,
            self.cond,
            self.guards,
            self.function,
        )
        self.scopes = [*chain, scope]
        self.class_scope = None
        self.class_stack = []
        self.cond = 0
        self.guards = self.def_guards.get(node, ())
        self.function = function_key(node)
        if self.function is not None:
            self.walked.add(self.function)
            self._walking.append(self.function)
        try:
            for i, arg in enumerate(params):
                if arg is None:
                    continue
                if i == 0 and owner is not None:
                    scope[arg.arg] = "#" + owner
                elif arg is args.vararg or arg is args.kwarg:
                    self.bind(arg.arg, None)
                else:
                    self.bind(arg.arg, self.annotated(arg.annotation))
            first = len(self.refs)
            if type(node) is ast.Lambda:
                self.expr(node.body)
            else:
                self.body(node.body)  # type: ignore[arg-type]
            self.body_refs[node] = (first, len(self.refs))
            if self.returned_held and self.function is not None:
                held = self.returned_held.pop(self.function, None)
                if held is not None:
                    self.returned.setdefault(self.function, held)
        finally:
            if self.function is not None:
                self._walking.pop()
            (
                self.scopes,
                self.class_scope,
                self.class_stack,
                self.cond,
                self.guards,
                self.function,
            ) = saved

    def annotated(self, node: ast.expr | None) -> str | None:
        """What a parameter annotated with ``node`` holds: an instance of the class it names
        (``q: Query``, ``Optional[Query]``, ``Query | None``), found as a call of it would be;
        nothing for any other annotation (``type[Query]``, ``list[Query]``, a string)."""
        if type(node) is ast.BinOp and type(node.op) is ast.BitOr:
            sides = [
                side
                for side in (node.left, node.right)
                if not (type(side) is ast.Constant and side.value is None)
            ]
            node = sides[0] if len(sides) == 1 else None
        elif type(node) is ast.Subscript:
            outer = node.value
            name = outer.id if type(outer) is ast.Name else getattr(outer, "attr", None)
            node = node.slice if name == "Optional" else None
        if node is None:
            return None
        value = self.ev_quiet(node)
        if value is None or value[0] == "@" or (value[0] == "#" and value[1:] in self.functions):
            return None
        if value[0] == "$" and "." not in value:
            self.taken_as_class(value)  # whether its last part is spelt as a class is not known
            return value
        if value[0] != "#" and not spelt_as_class(value):
            return None
        return value

    def s_class(self, node: ast.ClassDef) -> None:
        value = self.decorated(node.decorator_list)
        held = self.held_decorator
        key = f"{node.name}@{node.lineno}"
        bases = []
        for base in node.bases:
            found = self.ev(base)
            if found is not None and type(base) not in _RESULTS and found[0] not in "@#":
                self.emit("ref", found, base)
            if found is not None and found[0] == "$":
                self.taken_as_none(found)
            elif (
                found is not None
                and found[0] != "@"
                and not (found[0] == "#" and found[1:] in self.functions)
            ):
                bases.append(found)
        if bases:
            self.class_bases[key] = tuple(bases)
        for kw in node.keywords:
            self.expr(kw.value)
        saved = (self.class_scope, self.class_stack, self.cond, len(self.deferred))
        self.class_scope = {}
        self.class_stack = [key]
        self.class_attrs.setdefault(key, {})
        try:
            self.body(node.body)
        finally:
            start = saved[3]
            self.class_scope, self.class_stack, self.cond, _ = saved
        # the class's methods: initialisers first, so `self.x = …` is known in the others
        added = [self.deferred.pop() for _ in range(len(self.deferred) - start)][::-1]
        ranks = {}
        attrs = self.class_attrs[key]
        for item in added:
            rank, names = init_rank(item[0], key in self.class_bases)
            ranks[id(item[0])] = rank
            for name in names:
                # set by a method not walked yet: not the base class's, whatever it is
                attrs.setdefault(name, None)
        added.sort(key=lambda item: ranks[id(item[0])])
        self.deferred.extend(added)
        self.bind_decorated(node.name, value if value is not None else "#" + key, held)

    def s_with(self, node: ast.With | ast.AsyncWith) -> None:
        for item in node.items:
            value = self.ev(item.context_expr)
            if (
                value is not None
                and type(item.context_expr) not in _RESULTS
                and value[0] not in "@#"
            ):
                self.emit("ref", value, item.context_expr)
            if item.optional_vars is not None:
                self.bind_target(item.optional_vars, value)
        self.body(node.body)

    def s_for(self, node: ast.For | ast.AsyncFor) -> None:
        self.expr(node.iter)
        self.bind_target(node.target, None)
        self.cond_body(node.body)
        self.cond_body(node.orelse)

    def s_while(self, node: ast.While) -> None:
        self.expr(node.test)
        self.cond_body(node.body)
        self.cond_body(node.orelse)

    def guarded_body(self, stmts: list[ast.stmt], cond: str | None) -> None:
        """A conditional body walked with ``cond`` added to the guards of what it holds."""
        if cond is None:
            self.cond_body(stmts)
            return
        saved = self.guards
        self.guards = (*saved, cond)
        try:
            self.cond_body(stmts)
        finally:
            self.guards = saved

    def s_if(self, node: ast.If) -> None:
        self.expr(node.test)
        cond = _guards.condition(node.test, self.guard_names)
        self.guarded_body(node.body, cond)
        self.guarded_body(node.orelse, None if cond is None else _guards.negate(cond))

    def s_try(self, node: ast.Try) -> None:
        self.cond_body(node.body)
        for handler in node.handlers:
            if handler.type is not None:
                self.expr(handler.type)
            self.guarded_body(handler.body, _guards.import_fallback(node, handler))
        self.cond_body(node.orelse)
        self.cond_body(node.finalbody)

    def s_delete(self, node: ast.Delete) -> None:
        for target in node.targets:
            if type(target) is ast.Name:
                scope = self.class_scope if self.class_scope is not None else self.scopes[-1]
                if not self.cond and target.id in scope:
                    scope[target.id] = None
            else:
                self.expr(target)

    def s_skip(self, node: ast.stmt) -> None:
        return

    def s_match(self, node: ast.Match) -> None:
        self.expr(node.subject)
        for case in node.cases:
            self.children(case.pattern)
            if case.guard is not None:
                self.expr(case.guard)
            self.cond_body(case.body)


_STMT: dict[type[ast.AST], Callable[[Resolver, Any], None]] = {
    ast.Import: Resolver.s_import,
    ast.ImportFrom: Resolver.s_import_from,
    ast.Assign: Resolver.s_assign,
    ast.AnnAssign: Resolver.s_ann_assign,
    ast.AugAssign: Resolver.s_aug_assign,
    ast.FunctionDef: Resolver.s_function,
    ast.AsyncFunctionDef: Resolver.s_function,
    ast.ClassDef: Resolver.s_class,
    ast.With: Resolver.s_with,
    ast.AsyncWith: Resolver.s_with,
    ast.For: Resolver.s_for,
    ast.AsyncFor: Resolver.s_for,
    ast.While: Resolver.s_while,
    ast.If: Resolver.s_if,
    ast.Try: Resolver.s_try,
    ast.Delete: Resolver.s_delete,
    ast.Global: Resolver.s_skip,
    ast.Nonlocal: Resolver.s_skip,
    ast.Pass: Resolver.s_skip,
    ast.Break: Resolver.s_skip,
    ast.Continue: Resolver.s_skip,
    ast.Match: Resolver.s_match,
    ast.Return: Resolver.s_return,
}
if hasattr(ast, "TryStar"):
    _STMT[ast.TryStar] = Resolver.s_try
