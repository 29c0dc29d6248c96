"""A release's public API, extracted statically with griffe from its sources, as compact JSON.

griffe reads the ``.py``/``.pyi`` files (written to a private temporary folder) without
importing them (``allow_inspection=False``). The result is flattened to public dotted paths
as a project would write them: ``httpx.get`` is recorded under that name with the signature of
``httpx._api.get`` (so private canonical paths and public re-exports are one thing), classes list
their inherited members under their own path, and a namespace sub-package without
``__init__.py`` is read as a package (else every member inherited from it looks removed).

Record per path (``"k"`` kind): ``m`` module, ``c`` class (``b`` bases, ``p`` the call's
parameters or null), ``f`` function (``p`` parameters as bound: no ``self``/``cls``), ``a``
attribute or property, ``x`` a re-export of something outside the wheel, ``s`` a name a module
``__getattr__`` serves. ``o`` marks an object whose members cannot all be seen statically;
``d`` a deprecation message; ``dp`` deprecated parameters. A parameter is ``[name, kind,
required]`` with kind 0 positional-only, 1 positional-or-keyword, 2 ``*args``, 3 keyword-only,
4 ``**kwargs``.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from depwatch.wheels.deprecations import ModuleScan, scan_module
from depwatch.wheels.remote import WheelError, WheelSources

__all__ = ["API_FORMAT", "Api", "extract_api", "extract_api_from"]

API_FORMAT = 8  # 8: a parameter is deprecated by its own branch only
Api = dict[str, Any]
"""``{"format", "top", "compiled", "objects": {path: record}}``."""

_LOCK = threading.Lock()
"""One griffe load at a time: it is CPU-bound (threads gain nothing) and memory-heavy."""
_MAX_DEPTH = 12
_OPEN_BASES = frozenset(
    {"object", "typing.Generic", "typing.Protocol", "abc.ABC", "typing_extensions.Protocol"}
)
_BARE_OPEN_BASES = frozenset(b.rsplit(".", 1)[-1] for b in _OPEN_BASES)
_STDLIB_MODULES = {
    "enum": ("Enum", "IntEnum", "Flag", "IntFlag", "StrEnum"),
    "typing": ("NamedTuple",),
}


def stdlib_class(text: str) -> type | None:
    """The stdlib class a base expression names (``Exception``, ``dict``, ``enum.Enum``)."""
    import builtins

    module, _, name = text.rpartition(".")
    if module in ("", "builtins"):
        found = getattr(builtins, name, None)
        if isinstance(found, type):
            return found
    if module in ("", *_STDLIB_MODULES) and any(
        name in names and module in ("", m) for m, names in _STDLIB_MODULES.items()
    ):
        import enum

        return tuple if name == "NamedTuple" else getattr(enum, name, None)
    return None


_KIND = {
    "positional-only": 0,
    "positional or keyword": 1,
    "variadic positional": 2,
    "keyword-only": 3,
    "variadic keyword": 4,
}


def _public(name: str) -> bool:
    return not name.startswith("_") or name in ("__version__", "__init__", "__call__")


def _module_name(path: str) -> tuple[str, bool] | None:
    """(dotted module, is a package) of an archive path, or None for a non-module."""
    stem = path.removesuffix(".pyi").removesuffix(".py")
    parts = stem.split("/")
    if not all(p.isidentifier() for p in parts):
        return None
    if parts[-1] == "__init__":
        return ".".join(parts[:-1]), True
    return ".".join(parts), False


def _write_tree(files: Mapping[str, bytes], root: Path) -> None:
    dirs: set[Path] = set()
    for rel, data in files.items():
        dest = root / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(data)
        parent = dest.parent
        while parent != root:
            dirs.add(parent)
            parent = parent.parent
    # namespace sub-packages (a folder of modules under a package, no __init__.py) are packages
    for folder in dirs:
        if (
            folder.parent != root
            and not (folder / "__init__.py").exists()
            and not (folder / "__init__.pyi").exists()
            and folder.name.isidentifier()
        ):
            (folder / "__init__.py").write_bytes(b"")


def _params(obj: Any, *, bound: bool) -> list[list[Any]] | None:
    try:
        params = list(obj.parameters)
    except Exception:  # griffe could not build them
        return None
    out = []
    for i, p in enumerate(params):
        if bound and i == 0 and _KIND.get(p.kind.value, 1) in (0, 1):
            continue
        out.append(
            [
                p.name,
                _KIND.get(p.kind.value, 1),
                int(
                    p.default is None
                    and p.kind.value in ("positional-only", "positional or keyword", "keyword-only")
                ),
            ]
        )
    return out


_TRANSPARENT = frozenset(
    {
        "staticmethod",
        "classmethod",
        "property",
        "cached_property",
        "abstractmethod",
        "abstractproperty",
        "overload",
        "final",
        "override",
        "cache",
        "lru_cache",
        "deprecated",
        "setter",
        "getter",
        "deleter",
        "total_ordering",
        "runtime_checkable",
        "dataclass_transform",
        "no_type_check",
        "contextmanager",
        "asynccontextmanager",
    }
)
"""Decorators that keep the signature a call sees (any other may change it: a decorator that
still takes a renamed keyword through ``**kwargs`` would make a removal look real)."""


def _rewrites_signature(obj: Any) -> bool:
    try:
        decorators = list(obj.decorators)
    except Exception:
        return True
    for dec in decorators:
        try:
            name = str(dec.callable_path)
        except Exception:
            return True
        if name.rsplit(".", 1)[-1] not in _TRANSPARENT:
            return True
    return False


def _labels(obj: Any) -> set[str]:
    try:
        return set(obj.labels)
    except Exception:
        return set()


class _Walker:
    def __init__(self, scans: Mapping[str, ModuleScan], modules: set[str]) -> None:
        self.scans, self.modules = scans, modules
        self.objects: dict[str, dict[str, Any]] = {}
        self.deprecated: dict[str, str] = {}
        self.parameters: dict[str, dict[str, str]] = {}
        """Canonical function path → its deprecated parameters (name → message)."""
        for scan in scans.values():
            for key, message in scan.deprecated.items():
                if key.endswith("=)") and "(" in key:
                    path, _, param = key[:-2].partition("(")
                    self.parameters.setdefault(path, {})[param] = message
                else:
                    self.deprecated[key] = message

    def _dep(self, rec: dict[str, Any], canonical: str) -> None:
        msg = self.deprecated.get(canonical)
        if msg is not None:
            rec["d"] = msg
        dp = self.parameters.get(canonical)
        if dp:
            rec["dp"] = dict(dp)

    def module(self, mod: Any, path: str, depth: int) -> None:
        if path in self.objects or depth > _MAX_DEPTH:
            return
        scan = self.scans.get(mod.path)
        rec: dict[str, Any] = {"k": "m"}
        if scan is None or scan.open or any(s not in self.modules for s in scan.star_imports):
            rec["o"] = 1
        elif any(
            (star := self.scans.get(s)) is not None and star.overloaded for s in scan.star_imports
        ):
            rec["o"] = 1  # a star import of overload-only functions: griffe passes none on
        self.objects[path] = rec
        for name, member in list(mod.members.items()):
            if _public(name) and name not in ("__init__", "__call__"):
                self.member(member, f"{path}.{name}", depth + 1, in_class=False)
        self._overloads(mod, path)
        if scan is not None:
            for name, message in scan.served.items():
                sub = f"{path}.{name}"
                if sub not in self.objects:
                    self.objects[sub] = {"k": "s", **({"d": message} if message else {})}
                elif message:
                    self.objects[sub].setdefault("d", message)

    def _overloads(self, obj: Any, path: str) -> None:
        """Functions defined only through ``@overload`` (in a stub): griffe keeps them apart
        from the members. They exist; their parameters differ per overload, so none is known."""
        try:
            names = [n for n in obj.overloads if n not in obj.members]
        except Exception:
            return
        for name in names:
            if _public(name):
                self.objects.setdefault(f"{path}.{name}", {"k": "f", "p": None})

    def member(self, obj: Any, path: str, depth: int, *, in_class: bool) -> None:
        if path in self.objects or depth > _MAX_DEPTH:
            return
        target = obj
        if obj.is_alias:
            try:
                target = obj.final_target
            except Exception:  # an external or unresolvable re-export: it exists
                self.objects[path] = {"k": "x"}
                return
        kind = target.kind.value
        if kind == "module":
            if target.path == path or not obj.is_alias:
                self.module(target, path, depth)
            else:
                self.objects[path] = {"k": "m", "o": 1}
        elif kind == "class":
            self.klass(target, path, depth)
        elif kind == "function":
            labels = _labels(target)
            if labels & {"property", "cached_property", "cached-property"}:
                rec: dict[str, Any] = {"k": "a"}
            else:
                bound = in_class and "staticmethod" not in labels
                params = None if _rewrites_signature(target) else _params(target, bound=bound)
                rec = {"k": "f", "p": params}
            self._dep(rec, target.path)
            self.objects[path] = rec
        else:
            rec = {"k": "a"}
            self._dep(rec, target.path)
            self.objects[path] = rec

    def klass(self, cls: Any, path: str, depth: int) -> None:
        rec: dict[str, Any] = {"k": "c", "b": []}
        self.objects[path] = rec
        closed = True
        stdlib: set[str] = set()
        try:
            rec["b"] = sorted(b.path for b in cls.resolved_bases)
            members = dict(cls.all_members)
            chain = [cls, *cls.mro()]
        except Exception:
            members, chain, closed = dict(cls.members), [], False
        for klass in chain:
            # a base outside the wheel hides members (open), unless it is a stdlib class
            # whose members the lookup can ask the running interpreter about
            try:
                known = {b.name for b in klass.resolved_bases}
                for base in klass.bases:
                    text = str(base).split("[", 1)[0]
                    if text.rsplit(".", 1)[-1] in known or text in known:
                        continue
                    if text in _OPEN_BASES or text.rsplit(".", 1)[-1] in _BARE_OPEN_BASES:
                        continue
                    if stdlib_class(text) is not None:
                        stdlib.add(text)
                        continue
                    closed = False
            except Exception:
                closed = False
        if stdlib:
            rec["sb"] = sorted(stdlib)
        if "__getattr__" in members or "__getattribute__" in members:
            closed = False
        if not closed:
            rec["o"] = 1
        init = members.get("__init__") or members.get("__new__")
        rec["p"] = None  # not known: no __init__ seen, or one a decorator may rewrite
        if init is not None and not _rewrites_signature(cls):
            try:
                target = init.final_target if init.is_alias else init
                if not _rewrites_signature(target):
                    rec["p"] = _params(target, bound=True)
            except Exception:
                rec["p"] = None
        self._dep(rec, cls.path)
        for name, member in members.items():
            if _public(name) and name not in ("__init__", "__call__"):
                self.member(member, f"{path}.{name}", depth + 1, in_class=True)
        for klass in chain or [cls]:
            self._overloads(klass, path)


def extract_api(sources: WheelSources) -> Api:
    """The compact public API of one wheel's sources (see the module docstring)."""
    scans: dict[str, ModuleScan] = {}
    modules: set[str] = set()
    for rel, data in sources.files.items():
        found = _module_name(rel)
        if found is None:
            continue
        name, is_package = found
        modules.add(name)
        if rel.endswith(".pyi") and rel[:-1] in sources.files:
            continue
        text = data.decode("utf-8", errors="replace")
        scans[name] = scan_module(text, name, is_package=is_package)
    # folders without __init__ are packages too
    for name in list(modules):
        parts = name.split(".")
        modules.update(".".join(parts[:i]) for i in range(1, len(parts)))

    with _LOCK:
        import griffe

        logging.getLogger("griffe").setLevel(logging.CRITICAL)
        tmp = tempfile.mkdtemp(prefix="depwatch-wheel-")
        try:
            _write_tree(sources.files, Path(tmp))
            loader = griffe.GriffeLoader(
                search_paths=[tmp], allow_inspection=False, store_source=False
            )
            tops = []
            for top in sources.top_level:
                if not top.isidentifier():
                    continue
                try:
                    tops.append(loader.load(top, submodules=True, try_relative_path=False))
                except Exception as exc:
                    raise WheelError(f"griffe could not load {top}: {_reason(exc)}") from None
            try:
                loader.resolve_aliases(implicit=True, external=False, max_iterations=8)
            except Exception as exc:
                raise WheelError(
                    f"griffe could not resolve {sources.top_level}: {_reason(exc)}"
                ) from None
            walker = _Walker(scans, modules)
            try:
                for loaded in tops:
                    walker.member(loaded, loaded.path, 0, in_class=False)
            except RecursionError:
                raise WheelError("the package nests too deeply to read") from None
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    # a module griffe skipped (source it could not parse) exists, its contents unknown
    for name in sorted(modules):
        if all(_public(part) for part in name.split(".")):
            walker.objects.setdefault(name, {"k": "m", "o": 1})
    return {
        "format": API_FORMAT,
        "top": list(sources.top_level),
        "compiled": list(sources.compiled),
        "objects": walker.objects,
        "assigned": sorted(set().union(*(s.assigned for s in scans.values()))),
    }


def extract_api_from(
    files: dict[str, bytes], top_level: tuple[str, ...], compiled: tuple[str, ...]
) -> Api:
    """:func:`extract_api` on plain data (what a worker process is sent)."""
    return extract_api(WheelSources(files, top_level, compiled, 0))


def _reason(exc: BaseException) -> str:
    text = str(exc).splitlines()
    return (text[0] if text else type(exc).__name__)[:200]
