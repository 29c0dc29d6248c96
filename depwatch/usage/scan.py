"""One file's source → :class:`FileFacts`: decoding, parsing (``ast`` only), notebooks, places."""

from __future__ import annotations

import ast
import bisect
import contextlib
import gc
import io
import json
import marshal
import sys
import tokenize
import warnings
from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING

from depwatch.usage.methods import exported_names
from depwatch.usage.resolve import RawRef, Resolver, Tracker, _Result, _result, result_point
from depwatch.usage.wire import ROW_ORDER

if TYPE_CHECKING:
    from depwatch.usage.facts import FileFacts
    from depwatch.usage.wire import Compact, CompactRef, Symbolic

# Scan workers import this module: it must not import dataclasses (depwatch.usage.facts) or
# anything else a worker does not need; the facts are built from compact tuples in the caller.

__all__ = [
    "decode_source",
    "freeze_held",
    "module_name",
    "place_held",
    "scan_compact",
    "scan_source",
    "scan_symbolic",
    "scan_text",
]

ArgShape = tuple[int, bool, bool, tuple[int, ...]]
"""A call's (positional arguments, ``*args`` splat, ``**kwargs`` splat, indices of the
positional arguments that are string literals)."""
RawHeldRef = tuple[
    str, str, int, int, tuple[tuple[str, int, int], ...], "ArgShape | None", tuple[str, ...], int
]
"""A reference a placeholder reached, not placed yet: the resolver's (its name a plain str),
its call shape, its guards, and where its call-result part starts."""
Held = tuple[
    tuple[tuple[str, str], ...], tuple[int, ...], list[RawHeldRef], tuple[tuple[str, str], ...]
]
"""What a first pass held back, its references not placed yet (:func:`place_held` places them
into a :data:`~depwatch.usage.wire.Symbolic`)."""
_NO_ARGS: ArgShape = (0, False, False, ())
NEWLINE = b"\n"
#: The kinds of reference whose name may start with a placeholder (``$3.attr``).
_HELD_KINDS = frozenset({"ref", "call"})
_PARSE_ERRORS = (SyntaxError, ValueError, RecursionError, MemoryError, OverflowError)


def module_name(path: str) -> tuple[str, ...] | None:
    """The dotted module a project file is (``src/`` stripped), or None for a non-module."""
    if not path.endswith(".py"):
        return None
    parts = path[:-3].split("/")
    if parts and parts[0] == "src" and len(parts) > 1:
        parts = parts[1:]
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return tuple(parts) if parts and all(parts) else None


def package_of(path: str) -> tuple[str, ...] | None:
    """The package relative imports in ``path`` are resolved against."""
    mod = module_name(path)
    if mod is None:
        return None
    return mod if path.endswith("/__init__.py") or path == "__init__.py" else mod[:-1]


def decode_source(data: bytes, path: str) -> tuple[str, list[str]]:
    """The text of a source file: PEP 263 coding line honoured, undecodable bytes replaced."""
    notes: list[str] = []
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except (SyntaxError, LookupError) as exc:
        notes.append(f"{path}: {_one_line(exc)}; read as UTF-8")
        encoding = "utf-8"
    if encoding == "utf-8-sig" or data.startswith(b"\xef\xbb\xbf"):
        data = data.removeprefix(b"\xef\xbb\xbf")
        encoding = "utf-8"
    try:
        return data.decode(encoding), notes
    except (UnicodeDecodeError, LookupError) as exc:
        where = ""
        if isinstance(exc, UnicodeDecodeError):
            where = f" (line {data.count(NEWLINE, 0, exc.start) + 1})"
        notes.append(f"{path}: bytes that are not valid {encoding}{where} were replaced")
        try:
            return data.decode(encoding, errors="replace"), notes
        except LookupError:
            return data.decode("utf-8", errors="replace"), notes


def _one_line(exc: BaseException) -> str:
    text = str(exc).splitlines()
    return text[0] if text else type(exc).__name__


def _split_lines(text: str) -> list[str]:
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text.split("\n")


class _Resolver(Resolver):
    """The resolver, also recording the argument shape of each call it reports."""

    def __init__(
        self,
        tracker: Tracker,
        *,
        package: tuple[str, ...] | None = None,
        project_modules: frozenset[str] = frozenset(),
        exports: Mapping[str, Mapping[str, str]] | None = None,
        symbolic: bool = False,
    ) -> None:
        super().__init__(
            tracker,
            package=package,
            project_modules=project_modules,
            exports=exports,
            symbolic=symbolic,
        )
        self.arg_shapes: dict[int, ArgShape] = {}
        """Index in ``refs`` → the shape of that call."""
        self.ref_guards: dict[int, tuple[str, ...]] = {}
        """Index in ``refs`` → the guards of the branch it is in (none: not listed)."""

    def run(self, tree: ast.Module) -> None:
        super().run(tree)
        self.guard_module_functions(tree)

    def guard_module_functions(self, tree: ast.Module) -> None:
        """A module-level function named only inside guarded branches of its file runs only
        where one of them is taken: its body's references carry that condition (``def _load():
        import imp`` called only under ``if sys.version_info[0] == 2:``).

        A decorated function may be registered and called from elsewhere: it gets nothing. For
        a public function that ``__all__`` does not name (nor a dynamic lookup reach), the
        condition is stated as derived from its callers (``["callers", name, …]``): whether
        another project file may call it is decided for the whole project
        (:func:`depwatch.usage.scanrun.resolve_callers`); until then it is no guard at all.
        """
        exported: frozenset[str] | None = frozenset()
        checked = False
        for name, node in self.private_functions.items():
            uses = self.function_uses.get(name)
            span = self.body_refs.get(node)
            if not uses or span is None or not all(uses):
                continue
            if getattr(node, "decorator_list", None):
                continue
            own = self.def_guards.get(node, ())
            # the uses inside the function itself (recursion) say nothing about reaching it
            outside = [u for u in uses if u != own]
            if not outside:
                continue
            either = (
                "[" + ",".join(['"or"', *('["and",' + ",".join(u) + "]" for u in outside)]) + "]"
            )
            if not name.startswith("_"):
                if not checked:
                    exported, checked = exported_names(tree), True
                if exported is None or name in exported:
                    continue
                either = f'["callers",{json.dumps(name)},{either}]'
            for index in range(*span):
                self.ref_guards[index] = (*self.ref_guards.get(index, ()), either)

    def emit(
        self, kind: str, name: str, node: ast.AST, keywords: tuple[tuple[str, int, int], ...] = ()
    ) -> None:
        # Resolver.emit's test and append, inlined: this runs for every reference
        if name[0] != "$" and not self.tracker.reportable(name):
            return
        refs = self.refs
        at = len(refs)
        refs.append((kind, name, node.lineno, node.col_offset, keywords))  # type: ignore[attr-defined]
        guards = self.guards
        if self.bound_under:
            root: ast.AST = node
            while True:
                if type(root) is ast.Attribute:
                    root = root.value
                elif type(root) is ast.Call:
                    root = root.func
                else:
                    break
            if type(root) is ast.Name:
                bound = self.binding_guards(root.id)
                if bound:
                    guards = tuple(dict.fromkeys((*guards, *bound)))
        if guards:
            self.ref_guards[at] = guards
        if kind == "call" and type(node) is ast.Call:
            if not node.args and not node.keywords:
                return  # no arguments: the default shape (_NO_ARGS)
            positional = 0
            star_args = False
            strings: list[int] = []
            for arg in node.args:
                if type(arg) is ast.Starred:
                    star_args = True
                else:
                    if not star_args and (
                        (type(arg) is ast.Constant and type(arg.value) is str)
                        or type(arg) is ast.JoinedStr
                    ):
                        strings.append(positional)
                    positional += 1
            # `**dict(k=v)` and `**{"k": v}` pass known keywords; another splat may pass any
            star_kwargs = False
            for kw in node.keywords:
                if kw.arg is None and self.splat_keywords(kw.value) is None:
                    star_kwargs = True
                    break
            self.arg_shapes[at] = (positional, star_args, star_kwargs, tuple(strings))


def _parse(text: str) -> ast.Module:
    """The module's tree; source written for a newer Python than this one (3.12 f-strings,
    ``type`` statements, PEP 695 generics, 3.14 t-strings and ``except A, B:``) is read
    through :func:`depwatch.usage.newsyntax.downgrade`, lines and columns kept."""
    with warnings.catch_warnings(), gc_paused():
        warnings.simplefilter("ignore")
        try:
            return ast.parse(text)
        except SyntaxError:
            from depwatch.usage.newsyntax import downgrade

            older = downgrade(text)
            if older is None:
                raise
            try:
                return ast.parse(older)
            except (SyntaxError, ValueError):
                pass
            raise


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """The cyclic collector paused: parsing and resolving a file allocate many objects that all
    live until the file is done, and collections meanwhile re-scan them again and again (a
    10 MB file took 2-3× longer per doubling of its size; paused, it grows linearly)."""
    paused = gc.isenabled()
    if paused:
        gc.disable()
    try:
        yield
    finally:
        if paused:
            gc.enable()


def scan_source(
    text: str,
    path: str,
    modules: Iterable[str],
    env: Iterable[str] = (),
    assignments: Iterable[str] = (),
) -> FileFacts:
    """The references into ``modules`` (reads of the ``env`` variables, module-level
    assignments of the ``assignments`` names) in one file.

    ``path`` is the file's path relative to the project root (``/`` separators); a path ending
    in ``.ipynb`` is read as a notebook (``text`` is its JSON). Never raises for bad source: a
    file that is not valid Python gives no references and a warning.
    """
    return scan_text(text, path, Tracker(modules, env, assignments))


def scan_text(
    text: str,
    path: str,
    tracker: Tracker,
    *,
    project_modules: frozenset[str] = frozenset(),
    exports: Mapping[str, Mapping[str, str]] | None = None,
    notes: Iterable[str] = (),
) -> FileFacts:
    from depwatch.usage.wire import facts_from_wire

    return facts_from_wire(
        scan_compact(
            text, path, tracker, project_modules=project_modules, exports=exports, notes=notes
        )
    )


def scan_compact(
    text: str,
    path: str,
    tracker: Tracker,
    *,
    project_modules: frozenset[str] = frozenset(),
    exports: Mapping[str, Mapping[str, str]] | None = None,
    notes: Iterable[str] = (),
) -> Compact:
    """:func:`scan_text` as a :data:`Compact` tuple."""
    return _scan_compact(text, path, tracker, project_modules, exports, notes, symbolic=False)[0]


def scan_symbolic(
    text: str,
    path: str,
    tracker: Tracker,
    *,
    project_modules: frozenset[str] = frozenset(),
    notes: Iterable[str] = (),
) -> tuple[Compact, Held | None]:
    """The first pass over a file (the project's exports not known yet): its facts with every
    export of another project module taken as None (as :func:`scan_compact` without
    ``exports`` gives them), and beside them what those exports reach (:data:`Held`, placed
    by :func:`place_held`; None when the file was not read symbolically), from which
    :mod:`depwatch.usage.symbolic` writes the facts a scan with the exports known would give,
    without parsing the file again."""
    return _scan_compact(text, path, tracker, project_modules, None, notes, symbolic=True)


def _scan_compact(
    text: str,
    path: str,
    tracker: Tracker,
    project_modules: frozenset[str],
    exports: Mapping[str, Mapping[str, str]] | None,
    notes: Iterable[str],
    *,
    symbolic: bool,
) -> tuple[Compact, Held | None]:
    warned = list(notes)
    cells: list[tuple[int, int]] | None = None  # (first line in the joined source, cell number)
    shown: list[str] | None = None  # a notebook's lines as written, for evidence
    if path.endswith(".ipynb"):
        from depwatch.usage.notebooks import notebook_source

        source, cells, cell_notes, shown = notebook_source(text, path)
        warned.extend(cell_notes)
        if source is None:
            return (path, (), tuple(warned), (), ()), None
        text = source
    try:
        tree = _parse(text)
    except _PARSE_ERRORS as exc:
        warned.append(f"{path}: skipped, not valid Python ({_describe(exc)})")
        return (path, (), tuple(warned), (), ()), None
    # A notebook exports nothing: read as a first pass, with nothing held back.
    symbolic = symbolic and cells is None
    resolver = _Resolver(
        tracker,
        package=package_of(path),
        project_modules=project_modules,
        exports=exports,
        symbolic=symbolic,
    )
    try:
        with gc_paused():
            resolver.run(tree)
    except RecursionError:
        if symbolic:
            # where the walk stopped may depend on the placeholders: walked as the plain
            # first pass is, with nothing held back
            return _scan_compact(text, path, tracker, project_modules, None, notes, symbolic=False)
        warned.append(f"{path}: nested too deeply to scan completely; partly scanned")
    del tree
    raw, shapes, guards = resolver.refs, resolver.arg_shapes, resolver.ref_guards
    exported = tuple(resolver.module_exports()) if cells is None else ()
    held: Held | None = None
    if symbolic:
        held = ((), (), [], ())
        if resolver.pending:
            kept, raw, shapes, guards = _split_held(raw, shapes, guards)
            names = tuple(e for e in exported if e[1][0] == "$")
            if names:
                exported = tuple(e for e in exported if e[1][0] != "$")
            held = (tuple(resolver.pending), tuple(sorted(resolver.unsafe)), kept, names)
    refs = _places(raw, shapes, guards, shown if shown is not None else _split_lines(text), cells)
    return (
        path,
        refs,
        tuple(warned),
        exported,
        tuple(sorted(resolver.project_imports)),
    ), held


def _split_held(
    raw: list[RawRef], shapes: dict[int, ArgShape], guards: dict[int, tuple[str, ...]]
) -> tuple[list[RawHeldRef], list[RawRef], dict[int, ArgShape], dict[int, tuple[str, ...]]]:
    """The references a placeholder reached, kept raw (placed only if they are ever asked
    for, see :func:`place_held`: most files never need a second pass), and the others with
    their shapes and guards renumbered."""
    kept: list[RawHeldRef] = []
    plain: list[RawRef] = []
    plain_shapes: dict[int, ArgShape] = {}
    plain_guards: dict[int, tuple[str, ...]] = {}
    for index, ref in enumerate(raw):
        name = ref[1]
        if name[0] == "$" and ref[0] in _HELD_KINDS:
            kept.append(
                (
                    ref[0],
                    str(name),  # plain (marshal writes no subclass)
                    ref[2],
                    ref[3],
                    ref[4],
                    shapes.get(index),
                    guards.get(index, ()),
                    result_point(name),
                )
            )
            continue
        if index in shapes:
            plain_shapes[len(plain)] = shapes[index]
        if index in guards:
            plain_guards[len(plain)] = guards[index]
        plain.append(ref)
    if not kept:
        return kept, raw, shapes, guards
    return kept, plain, plain_shapes, plain_guards


def freeze_held(held: Held) -> bytes:
    """What a first pass held back, as bytes (:mod:`marshal` of plain values): a worker keeps
    them until they are asked for, and bytes are one object the cyclic collector never walks
    (hundreds of thousands of tuples would be walked by every full collection)."""
    return marshal.dumps(held)


def place_held(frozen: bytes, text: str) -> Symbolic:
    """What a first pass held back (:func:`freeze_held`), its references placed in ``text``
    (the file's source, as it was scanned) as the scan places every reference."""
    pending, unsafe, kept, names = marshal.loads(frozen)
    raw: list[RawRef] = []
    shapes: dict[int, ArgShape] = {}
    guards: dict[int, tuple[str, ...]] = {}
    for index, (kind, name, line, col, kws, shape, conditions, point) in enumerate(kept):
        raw.append((kind, _result(name, point) if point else name, line, col, kws))
        if shape is not None:
            shapes[index] = shape
        if conditions:
            guards[index] = conditions
    return (pending, unsafe, _places(raw, shapes, guards, _split_lines(text), None), names)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, SyntaxError):
        where = f"line {exc.lineno}: " if exc.lineno else ""
        return f"{where}{exc.msg}"
    if isinstance(exc, RecursionError):
        return "nested too deeply"
    return _one_line(exc)


def _places(
    raw: list[RawRef],
    shapes: Mapping[int, ArgShape],
    guards: Mapping[int, tuple[str, ...]],
    lines: list[str],
    cells: list[tuple[int, int]] | None,
) -> tuple[CompactRef, ...]:
    out: list[CompactRef] = []
    seen: set[tuple[str, str, int, int]] = set()
    # Each cell's first line, ascending: a reference's cell is found by bisection (a walk of
    # every cell per reference was quadratic in the cells of a notebook).
    starts = [first for first, _ in cells] if cells is not None else []
    # One string object per line shown and per name: the references on a line share it, and
    # marshal (the workers' replies, the cache) writes a shared string once (a name such as
    # ``numpy.array`` thousands of times in a large project, each its own copy until now).
    stripped: dict[int, str] = {}

    def place(line: int, col: int) -> tuple[int, int, str, int | None]:
        text = lines[line - 1] if 0 < line <= len(lines) else ""
        if col and not text.isascii():
            col = len(text.encode("utf-8")[:col].decode("utf-8", errors="replace"))
        code = stripped.get(line)
        if code is None:
            code = stripped[line] = text.strip()
        cell: int | None = None
        if cells is not None:
            at = bisect.bisect_right(starts, line) - 1
            if at >= 0:
                first, cell = cells[at]
                line = line - first + 1
        return line, col + 1, code, cell

    for index, (kind, name, line, col, kws) in enumerate(raw):
        key = (kind, name, line, col)
        # A repeat without keywords adds nothing; for ``f(a)(b)`` (a call of a call's result,
        # which has the same name and place) this keeps the first: the call to the name itself.
        if key in seen and not kws:
            continue
        seen.add(key)
        ln, column, code, cell = place(line, col)
        keywords = tuple([(kw, *place(kl, kc)) for kw, kl, kc in kws]) if kws else ()
        out.append(
            (
                kind,
                sys.intern(name if type(name) is str else str(name)),
                ln,
                column,
                code,
                keywords,
                cell,
                *shapes.get(index, _NO_ARGS),
                guards.get(index, ()),
                name.point if type(name) is _Result else 0,  # result_point, inlined
            )
        )
    # (cell, line, column, kind, name); outside a notebook every cell is None
    out.sort(key=ROW_ORDER if cells is None else lambda r: (r[6] or 0, r[2], r[3], r[0], r[1]))
    return tuple(out)
