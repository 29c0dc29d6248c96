"""The package's layout (issue 15's "shape to aim for"): arrows point down, nothing imports the
CLI, and no module grows past ~450 lines without a reason written here.

Read from the source with ``ast``; nothing is imported."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "depwatch"

#: Modules allowed past MAX_LINES, with the reason and their own cap.
LONG_MODULES: dict[str, tuple[int, str]] = {
    "depwatch.usage.resolve": (1100, "the name resolver; issue 15 lets it stay near 700"),
    "depwatch.usage.guards": (
        800,
        "the guard evaluator (one job: which branches run); not split yet",
    ),
    "depwatch.usage.scan": (550, "the per-file visitor; not split yet"),
    "depwatch.index.client": (
        620,
        "IndexSession is one class (fetch, revalidate, retry); not split yet",
    ),
}
MAX_LINES = 450


def _modules() -> dict[str, Path]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


MODULES = _modules()


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _top_level_imports(body: list[ast.stmt]) -> list[ast.Import | ast.ImportFrom]:
    """Imports that run when the module is imported (not those in functions or under
    ``if TYPE_CHECKING:``)."""
    found: list[ast.Import | ast.ImportFrom] = []
    for node in body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            found.append(node)
        elif isinstance(node, ast.If) and not _is_type_checking(node):
            found += _top_level_imports(node.body) + _top_level_imports(node.orelse)
        elif isinstance(node, ast.Try):
            found += _top_level_imports(node.body)
            for handler in node.handlers:
                found += _top_level_imports(handler.body)
    return found


def _imported(module: str, node: ast.Import | ast.ImportFrom) -> set[str]:
    """The depwatch modules an import statement of ``module`` runs."""
    if isinstance(node, ast.Import):
        return {alias.name for alias in node.names if alias.name in MODULES}
    base = node.module or ""
    if node.level:
        package = module.split(".")
        if MODULES[module].name != "__init__.py":
            package = package[:-1]
        package = package[: len(package) - (node.level - 1)]
        base = ".".join([*package, base] if base else package)
    out = set()
    for alias in node.names:
        if f"{base}.{alias.name}" in MODULES:
            out.add(f"{base}.{alias.name}")
        elif base in MODULES:
            out.add(base)
    return out


def _graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for module, path in MODULES.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        edges: set[str] = set()
        for node in _top_level_imports(tree.body):
            edges |= _imported(module, node)
        edges.discard(module)
        graph[module] = edges
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                item = stack.pop()
                on_stack.discard(item)
                component.append(item)
                if item == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_graph_is_read() -> None:
    graph = _graph()
    # a few arrows the package is known to have, so an empty graph cannot pass
    assert "depwatch.model" in graph["depwatch.matcher"]
    assert "depwatch.fixes.context" in graph["depwatch.fixes"]
    assert "depwatch.lockfiles.base" in graph["depwatch.lockfiles.requirements"]
    assert _cycles({"a": {"b"}, "b": {"a"}, "c": {"a"}}) == [["a", "b"]]


def test_no_module_level_import_cycle() -> None:
    assert _cycles(_graph()) == []


def test_nothing_imports_the_cli_but_main() -> None:
    importers = []
    for module, path in MODULES.items():
        if module in ("depwatch.__main__", "depwatch.cli"):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):  # anywhere, in a function too
            if isinstance(node, ast.Import | ast.ImportFrom) and "depwatch.cli" in _imported(
                module, node
            ):
                importers.append(module)
    assert importers == []


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_module_is_over_450_lines(module: str) -> None:
    lines = MODULES[module].read_text(encoding="utf-8").count("\n")
    cap, _reason = LONG_MODULES.get(module, (MAX_LINES, ""))
    assert lines <= cap, f"{module} has {lines} lines (at most {cap})"


def test_every_long_module_named_here_exists() -> None:
    assert set(LONG_MODULES) <= set(MODULES)
