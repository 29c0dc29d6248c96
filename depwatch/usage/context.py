"""Where a piece of evidence lives, and whether it counts (DESIGN.md, "Evidence that counts").

Contexts: ``runtime`` (the project's code), ``guarded`` (the project's code under a version,
platform or import guard that some target takes), ``test``, ``example``, ``docs`` — these
count; ``vendored`` (a copy of third-party code), ``fixture`` (test data: files that tests
read, not run), ``typing`` (under ``if TYPE_CHECKING:``) and ``unreachable`` (a branch no
declared target takes) never raise a tag. A guard that cannot be judged counts as taken.
"""

from __future__ import annotations

import functools
import posixpath
import re
from collections.abc import Iterable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from depwatch.errors import DepwatchError
from depwatch.model import Evidence
from depwatch.usage import guards as _guards

__all__ = [
    "COUNTED",
    "DEFAULT_FIXTURES",
    "DEFAULT_VENDORED",
    "PathContexts",
    "compile_globs",
    "judge",
]

#: Contexts whose evidence raises a tag.
COUNTED = frozenset({"runtime", "guarded", "test", "example", "docs"})
#: Folders holding copies of third-party code (``[tool.depwatch] vendored`` replaces these).
DEFAULT_VENDORED = (
    "_vendor/",
    "_vendored/",
    "vendor/",
    "vendored/",
    "patched/",
    "third_party/",
    "thirdparty/",
    "externals/",
)
#: Folders of test data (``[tool.depwatch] fixtures`` replaces these and the test-data rule).
DEFAULT_FIXTURES = ("fixtures/", "fixture/", "testdata/", "test_data/", "test-data/")
_TEST_DIRS = frozenset({"tests", "test", "testsuite", "unittests"})
#: Markers of pytest code (fixtures, plugins, hooks): a module under ``fixtures/`` with one is
#: test code that pytest loads, not data the tests read.
_PYTEST_CODE = re.compile(rb"@(?:pytest\.)?fixture\b|^pytest_plugins\s*=|^def pytest_\w+\(", re.M)
_EXAMPLE_DIRS = frozenset({"examples", "example", "demo", "demos", "tutorial", "tutorials"})
_DOCS_DIRS = frozenset({"docs", "doc"})
_TEST_MODULE_NAMES = frozenset({"conftest.py", "tests.py", "__init__.py"})


@functools.lru_cache(maxsize=16)
def compile_globs(patterns: tuple[str, ...], key: str) -> Any:
    """.gitignore-style globs compiled; a bad one is an error naming the key."""
    import pathspec

    for pattern in patterns:
        try:
            pathspec.GitIgnoreSpec.from_lines([pattern])
        except Exception:  # pathspec's own error types vary between releases
            raise DepwatchError(
                f"{pattern!r} is not a valid glob",
                key=f"tool.depwatch.{key}",
                hint=f'[tool.depwatch] {key} takes .gitignore-style globs (like "_vendor/")',
            ) from None
    return pathspec.GitIgnoreSpec.from_lines(list(patterns))


def _is_test_module(name: str) -> bool:
    return (
        name in _TEST_MODULE_NAMES
        or (name.startswith("test_") and name.endswith(".py"))
        or name.endswith("_test.py")
    )


def _dotted(rel: str) -> str | None:
    if not rel.endswith(".py"):
        return None
    parts = rel[:-3].split("/")
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts) if parts else None


class PathContexts:
    """Decides the context of a project file from its path (and, for test data, whether any
    project file imports it: a module under ``fixtures/`` that tests import is test code)."""

    def __init__(
        self,
        *,
        vendored: Sequence[str] | None = None,
        fixtures: Sequence[str] | None = None,
        sources: Iterable[str] = (),
        imported: Iterable[str] = (),
        root: Path | None = None,
    ) -> None:
        self.root = root
        self.vendored = compile_globs(
            tuple(DEFAULT_VENDORED if vendored is None else vendored), "vendored"
        )
        self.fixtures = compile_globs(
            tuple(DEFAULT_FIXTURES if fixtures is None else fixtures), "fixtures"
        )
        self.data_rule = fixtures is None
        self.imported = frozenset(imported)
        self.test_folders: set[str] = set()
        """Folders holding a test module, conftest.py or __init__.py (code, not data)."""
        for rel in sources:
            folder, name = posixpath.split(rel)
            if _is_test_module(name):
                self.test_folders.add(folder)
        self._memo: dict[str, str] = {}

    def _imported(self, rel: str) -> bool:
        dotted = _dotted(rel)
        if dotted is None:
            return False
        # imported by its full dotted name, or by a tail of it (a test folder on sys.path)
        parts = dotted.split(".")
        if parts and parts[0] == "src":
            parts = parts[1:]
        return any(".".join(parts[i:]) in self.imported for i in range(len(parts)))

    def of(self, rel: str) -> str:
        known = self._memo.get(rel)
        if known is None:
            known = self._memo[rel] = self._classify(rel)
        return known

    def _classify(self, rel: str) -> str:
        if self.vendored.match_file(rel):
            return "vendored"
        folders = rel.split("/")[:-1]
        in_tests = any(part in _TEST_DIRS for part in folders)
        if self.fixtures.match_file(rel) and not self._imported(rel) and not self._pytest(rel):
            return "fixture"
        name = posixpath.basename(rel)
        if self.data_rule and in_tests and not self._test_data_exempt(rel, name, folders):
            return "fixture"
        if in_tests or (_is_test_module(name) and name != "__init__.py"):
            return "test"
        if any(part in _EXAMPLE_DIRS for part in folders):
            return "example"
        if any(part in _DOCS_DIRS for part in folders):
            return "docs"
        return "runtime"

    def _pytest(self, rel: str) -> bool:
        """Whether the file defines pytest fixtures, hooks or plugins (read only for files
        with evidence that would otherwise be test data)."""
        if self.root is None:
            return False
        try:
            data = (self.root / rel).read_bytes()
        except OSError:
            return False
        return _PYTEST_CODE.search(data) is not None

    def _test_data_exempt(self, rel: str, name: str, folders: list[str]) -> bool:
        """Test code, not test data: a test module; a file in a folder that holds tests,
        conftest.py or __init__.py; a file directly in the test folder; one that is
        imported. What is left (``tests/functional/a/bad_import.py``, a linter's input, in a
        folder of such files) exists to be read by the tests."""
        if _is_test_module(name) or not name.endswith(".py"):
            return True
        depth = max(i for i, part in enumerate(folders) if part in _TEST_DIRS)
        if depth == len(folders) - 1:
            return True  # directly in tests/
        if "/".join(folders) in self.test_folders:
            return True
        return self._imported(rel) or self._pytest(rel)


def judge(
    evidence: Iterable[Evidence],
    contexts: PathContexts,
    pythons: Sequence[str],
    platforms: Sequence[str],
) -> tuple[tuple[Evidence, ...], tuple[Evidence, ...]]:
    """(evidence that counts, evidence that does not), each with its ``context`` set."""
    counted: list[Evidence] = []
    dropped: list[Evidence] = []
    targets = (tuple(pythons), tuple(platforms))
    for item in evidence:
        context = contexts.of(item.path)
        if context == "runtime" and item.guards:
            context = "guarded"
        if context in COUNTED and item.guards:
            if _guards.typing_only(item.guards):
                context = "typing"
            elif not _guards.reachable(item.guards, *targets):
                context = "unreachable"
        judged = replace(item, context=context)
        (counted if context in COUNTED else dropped).append(judged)
    return tuple(counted), tuple(dropped)
