"""Evidence knows its context: guards judged against the targets, vendored code, test data."""

from __future__ import annotations

import json
import shutil
import textwrap
from pathlib import Path

import pytest

from depwatch.model import Evidence
from depwatch.usage import scan_project, scan_source
from depwatch.usage.context import PathContexts, judge
from depwatch.usage.guards import reachable, stdlib_available

from ..conftest import FIXTURES, run_depwatch

PY310_UP = ("3.10", "3.11", "3.12", "3.13", "3.14", "3.15")
ALL = ("linux", "macos", "windows")


def _reach(code: str, name: str, pythons: tuple[str, ...] = PY310_UP, platforms=ALL) -> bool:  # type: ignore[no-untyped-def]
    """Whether every reference to ``name`` in ``code`` is reachable on the targets (and one
    exists)."""
    facts = scan_source(textwrap.dedent(code), "mod.py", [name.split(".")[0]])
    refs = [r for r in facts.refs if r.name == name]
    assert refs, f"no reference to {name}"
    results = {reachable(r.guards, pythons, platforms) for r in refs}
    assert len(results) == 1, results
    return results.pop()


def test_fallback_of_an_import_that_cannot_fail_is_unreachable() -> None:
    code = """
        try:
            import importlib.metadata as metadata
        except ImportError:
            import pkg_resources as metadata
        metadata.get_distribution("x")
    """
    assert not _reach(code, "pkg_resources")
    assert not _reach(code, "pkg_resources.get_distribution")
    # on 3.7 importlib.metadata is missing: the fallback runs
    assert _reach(code, "pkg_resources", ("3.7", "3.8"))


def test_fallback_of_a_from_import_and_of_a_third_party_module() -> None:
    from_import = """
        try:
            from importlib.metadata import version, PackageNotFoundError
        except (ImportError, ModuleNotFoundError):
            from pkg_resources import get_distribution
    """
    assert not _reach(from_import, "pkg_resources.get_distribution", ("3.9", "3.10"))
    newer_name = """
        try:
            from importlib.metadata import packages_distributions
        except ImportError:
            import pkg_resources
    """
    assert _reach(newer_name, "pkg_resources", ("3.9", "3.10"))
    assert not _reach(newer_name, "pkg_resources", ("3.10", "3.11"))
    third_party = """
        try:
            import importlib_metadata
        except ImportError:
            import pkg_resources
    """
    assert _reach(third_party, "pkg_resources")  # may be missing: the fallback may run
    tomllib = """
        try:
            import tomllib
        except ImportError:
            import tomli as tomllib
    """
    assert _reach(tomllib, "tomli", ("3.10", "3.11"))
    assert not _reach(tomllib, "tomli", ("3.11", "3.12"))


def test_a_handler_that_catches_more_or_a_body_that_does_more_stays() -> None:
    broad = """
        try:
            import importlib.metadata
        except Exception:
            import pkg_resources
    """
    assert _reach(broad, "pkg_resources")
    busy = """
        try:
            import importlib.metadata
            load_plugins()
        except ImportError:
            import pkg_resources
    """
    assert _reach(busy, "pkg_resources")


@pytest.mark.parametrize(
    ("test", "taken_on_310_up"),
    [
        ("sys.version_info[0] == 2", False),
        ("sys.version_info.major == 2", False),
        ("sys.version_info < (3,)", False),
        ("sys.version_info < (3, 0)", False),
        ("sys.version_info >= (3, 8)", True),
        ("sys.version_info[:2] >= (3, 8)", True),
        ("(3, 8) <= sys.version_info", True),
        ("sys.version_info < (3, 10)", False),
        ("sys.version_info < (3, 10, 2)", True),  # 3.10.0 and 3.10.1: cannot tell
        ("sys.version_info >= (3, 16)", False),
        ("six.PY2", False),
        ("not six.PY3", False),
        ("sys.version_info[0] == 2 and sys.platform == 'win32'", False),
        ("sys.version_info[0] == 2 or some_flag", True),  # unknown: taken
        ("some_flag", True),
    ],
)
def test_version_guards(test: str, taken_on_310_up: bool) -> None:
    code = f"""
        import sys
        if {test}:
            import imp
        else:
            import importlib
    """
    assert _reach(code, "imp") is taken_on_310_up


def test_else_branch_and_names_bound_to_a_test() -> None:
    code = """
        import sys
        PY2 = sys.version_info[0] == 2
        if PY2:
            import imp
        elif sys.version_info < (3, 12):
            import distutils.core
        else:
            import distutils.util
    """
    assert not _reach(code, "imp")
    assert _reach(code, "distutils.core", ("3.10", "3.11"))
    assert not _reach(code, "distutils.core", ("3.12", "3.13"))
    assert _reach(code, "distutils.util", ("3.12",))


def test_functions_defined_under_a_guard_carry_it() -> None:
    code = """
        import sys
        if sys.version_info[0] == 2:
            def load(path):
                import imp
                return imp.load_source("x", path)
            from imp import reload
            class Loader:
                def run(self):
                    return imp.reload(self)
    """
    facts = scan_source(textwrap.dedent(code), "mod.py", ["imp"])
    assert {r.name for r in facts.refs} == {"imp", "imp.load_source", "imp.reload"}
    assert not any(reachable(r.guards, PY310_UP, ALL) for r in facts.refs)


def test_a_private_function_called_only_under_a_guard_carries_it() -> None:
    code = """
        import sys

        def _load(path):
            import imp
            return imp.load_source("plugin", path)

        def _helper():
            import imp as helper_imp
            return helper_imp.reload

        def load_plugins(path):
            import imp as public_imp  # public: other modules may call it
            return public_imp

        if sys.version_info[0] == 2:
            PLUGIN = _load("plugin.py")
        _helper()
    """
    facts = scan_source(textwrap.dedent(code), "mod.py", ["imp"])
    reach = {(r.line, r.name): reachable(r.guards, PY310_UP, ALL) for r in facts.refs}
    assert reach == {
        (5, "imp"): False,
        (6, "imp.load_source"): False,
        (9, "imp"): True,  # also called outside any guard
        (10, "imp.reload"): True,
        (13, "imp"): True,
        (14, "imp"): True,
    }


@pytest.mark.parametrize(
    ("test", "platforms", "taken"),
    [
        ("sys.platform == 'win32'", ("linux", "macos"), False),
        ("sys.platform == 'win32'", ALL, True),
        ("sys.platform.startswith('win')", ("linux",), False),
        ("sys.platform.startswith(('linux', 'darwin'))", ("windows",), False),
        ("sys.platform in ('win32', 'cygwin')", ("macos",), False),
        ("os.name == 'nt'", ("linux",), False),
        ("os.name != 'nt'", ("windows",), False),
        ("platform.system() == 'Windows'", ("linux", "macos"), False),
        ("platform.system() == 'Windows'", ("windows",), True),
    ],
)
def test_platform_guards(test: str, platforms: tuple[str, ...], taken: bool) -> None:
    code = f"""
        import os, platform, sys
        if {test}:
            import winreg_helper
    """
    assert _reach(code, "winreg_helper", PY310_UP, platforms) is taken


def test_type_checking_block_never_runs() -> None:
    code = """
        import typing
        from typing import TYPE_CHECKING
        if TYPE_CHECKING:
            import pkg_resources
        if typing.TYPE_CHECKING:
            from distutils import util
        if not TYPE_CHECKING:
            import imp
    """
    facts = scan_source(textwrap.dedent(code), "mod.py", ["pkg_resources", "distutils", "imp"])
    by_name = {r.name: r for r in facts.refs}
    contexts = PathContexts()
    evidence = [
        Evidence("mod.py", r.line, r.column, r.code, symbol=r.name, guards=r.guards)
        for r in by_name.values()
    ]
    counted, dropped = judge(evidence, contexts, PY310_UP, ALL)
    assert [e.symbol for e in counted] == ["imp"]
    assert counted[0].context == "guarded"
    assert {e.symbol: e.context for e in dropped} == {
        "pkg_resources": "typing",
        "distutils.util": "typing",
    }


def test_stdlib_availability() -> None:
    assert stdlib_available("importlib.metadata", "3.8", "linux") is True
    assert stdlib_available("importlib.metadata", "3.7", "linux") is False
    assert stdlib_available("imp", "3.12", "linux") is False
    assert stdlib_available("ConfigParser", "3.10", "linux") is False
    assert stdlib_available("winreg", "3.10", "linux") is False
    assert stdlib_available("winreg", "3.10", "windows") is True
    assert stdlib_available("numpy", "3.10", "linux") is None
    assert stdlib_available("json:made_up_name", "3.10", "linux") is None


def test_pytest_fixture_modules_under_fixtures_are_test_code(tmp_path: Path) -> None:
    fixtures = tmp_path / "tests" / "fixtures"
    fixtures.mkdir(parents=True)
    (fixtures / "db.py").write_text(
        "import pytest\n\n@pytest.fixture\ndef db():\n    return 1\n", encoding="utf-8"
    )
    (fixtures / "hooks.py").write_text("def pytest_configure(config):\n    pass\n", "utf-8")
    (fixtures / "input.py").write_text("import pkg_resources\n", encoding="utf-8")
    contexts = PathContexts(root=tmp_path)
    assert contexts.of("tests/fixtures/db.py") == "test"
    assert contexts.of("tests/fixtures/hooks.py") == "test"
    assert contexts.of("tests/fixtures/input.py") == "fixture"


def test_path_contexts() -> None:
    sources = [
        "pkg/core.py",
        "pkg/_vendor/distlib/compat.py",
        "third_party/lib.py",
        "tests/test_core.py",
        "tests/helpers.py",
        "tests/utils/__init__.py",
        "tests/utils/build.py",
        "tests/fixtures/data_file.py",
        "tests/fixtures/pytest_fixtures.py",
        "tests/functional/a/abstract_class.py",
        "tests/eval_files/b001.py",
        "testdata/sample.py",
        "examples/demo.py",
        "docs/conf.py",
        "test_top.py",
        "pkg/testing/plugins/asserts.py",
    ]
    contexts = PathContexts(sources=sources, imported={"tests.fixtures.pytest_fixtures"})
    assert {path: contexts.of(path) for path in sources} == {
        "pkg/core.py": "runtime",
        "pkg/_vendor/distlib/compat.py": "vendored",
        "third_party/lib.py": "vendored",
        "tests/test_core.py": "test",
        "tests/helpers.py": "test",
        "tests/utils/__init__.py": "test",
        "tests/utils/build.py": "test",
        "tests/fixtures/data_file.py": "fixture",
        "tests/fixtures/pytest_fixtures.py": "test",  # imported: test code
        "tests/functional/a/abstract_class.py": "fixture",
        "tests/eval_files/b001.py": "fixture",
        "testdata/sample.py": "fixture",
        "examples/demo.py": "example",
        "docs/conf.py": "docs",
        "test_top.py": "test",
        "pkg/testing/plugins/asserts.py": "runtime",  # a package's public testing helpers
    }
    # configured: nothing is vendored, only data/ is test data (and the test-data rule is off)
    custom = PathContexts(vendored=[], fixtures=["data/"], sources=sources)
    assert custom.of("pkg/_vendor/distlib/compat.py") == "runtime"
    assert custom.of("tests/functional/a/abstract_class.py") == "test"
    assert custom.of("tests/fixtures/data_file.py") == "test"


# --- end to end: a project with a real uv.lock (setuptools >= 82, no pkg_resources) ---------

PROJECT = FIXTURES / "projects" / "evidence-context"
RULE = "setuptools/pkg-resources-removed"


def _check(root: Path, *args: str) -> tuple[int, dict]:  # type: ignore[type-arg]
    done = run_depwatch("check", "--format", "json", "--today", "2026-12-01", *args, cwd=root)
    assert "Traceback" not in done.stderr, done.stderr
    return done.returncode, json.loads(done.stdout)


def _finding(report: dict, rule: str) -> dict:  # type: ignore[type-arg]
    (finding,) = [f for f in report["findings"] if f["rule"] == rule]
    return finding


@pytest.fixture
def project(tmp_path: Path) -> Path:
    dest = tmp_path / "evidence-context"
    shutil.copytree(PROJECT, dest)
    return dest


def test_evidence_that_cannot_run_raises_no_tag(project: Path) -> None:
    code, report = _check(project, "--platform", "linux", "--platform", "macos")
    assert code == 0
    setuptools = _finding(report, RULE)
    assert (setuptools["tag"], setuptools["evidence"]) == ("monitor", [])
    removals = _finding(report, "python/stdlib-removals-3.12")
    assert (removals["tag"], removals["evidence"]) == ("monitor", [])


def test_a_platform_branch_counts_where_the_platform_is_a_target(project: Path) -> None:
    code, report = _check(project)
    assert code == 1
    setuptools = _finding(report, RULE)
    assert setuptools["tag"] == "immediate"
    assert [(e["path"], e["line"], e["context"]) for e in setuptools["evidence"]] == [
        ("app/windows.py", 6, "guarded"),
        ("app/windows.py", 8, "guarded"),
    ]


def test_tests_count_and_say_so(project: Path) -> None:
    (project / "tests" / "test_plugins.py").write_text(
        "import pkg_resources\n\n\ndef test_entry_points():\n"
        "    assert list(pkg_resources.iter_entry_points('x')) == []\n",
        encoding="utf-8",
    )
    code, report = _check(project, "--platform", "linux")
    assert code == 1
    setuptools = _finding(report, RULE)
    assert setuptools["tag"] == "immediate"
    assert {(e["path"], e["context"]) for e in setuptools["evidence"]} == {
        ("tests/test_plugins.py", "test")
    }
    done = run_depwatch("check", "--today", "2026-12-01", "--platform", "linux", cwd=project)
    assert "tests/test_plugins.py:1:8 (test)  import pkg_resources" in done.stdout


def test_verbose_lists_what_was_not_counted(project: Path) -> None:
    done = run_depwatch(
        "check", "--today", "2026-12-01", "--platform", "linux", "--verbose", cwd=project
    )
    out = " ".join(done.stdout.split())
    assert "app/_vendor/distlib/compat.py:8: pkg_resources not counted as evidence (vendored" in out
    assert (
        "tests/fixtures/plugin_module.py:2: pkg_resources not counted as evidence (test data)"
        in out
    )
    assert "tests/functional/imports/deprecated_module.py:2: imp not counted" in out
    assert "app/compat.py:7: pkg_resources not counted as evidence (under TYPE_CHECKING" in out
    assert "app/meta.py:6: pkg_resources not counted as evidence (in a branch" in out
    quiet = run_depwatch("check", "--today", "2026-12-01", "--platform", "linux", cwd=project)
    assert "not counted" not in quiet.stdout + quiet.stderr


SITE = "app/sitecustomize.py"
REMOVALS = "python/stdlib-removals-3.12"


def _removals(project: Path) -> tuple[str, list[tuple[str, int, str]]]:
    _, report = _check(project, "--platform", "linux")
    finding = _finding(report, REMOVALS)
    return finding["tag"], [(e["path"], e["line"], e["context"]) for e in finding["evidence"]]


def test_a_public_function_called_only_under_a_guard_carries_it(project: Path) -> None:
    # app/sitecustomize.py: load_next_sitecustomize_py2 (import imp) is only called under
    # `if sys.version_info[0] == 2:`, and no other module imports it or the module
    assert _removals(project) == ("monitor", [])
    done = run_depwatch(
        "check", "--today", "2026-12-01", "--platform", "linux", "--verbose", cwd=project
    )
    out = " ".join(done.stdout.split())
    assert f"{SITE}:7: imp not counted as evidence (in a branch" in out
    assert f"{SITE}:10: imp not counted as evidence (in a branch" in out


@pytest.mark.parametrize(
    ("path", "text"),
    [
        # another module imports the function, the module, or every name of it
        ("app/cli.py", "from .sitecustomize import load_next_sitecustomize_py2\n"),
        ("app/cli.py", "from app.sitecustomize import (\n    load_next_sitecustomize_py2,\n)\n"),
        ("app/cli.py", "import app.sitecustomize as site\n"),
        ("app/cli.py", "from . import sitecustomize\n"),
        ("app/cli.py", "from app.sitecustomize import *\n"),
        ("tests/test_site.py", "from app import sitecustomize\n\n\ndef test_x():\n    pass\n"),
        # the same, in a module that also mentions the tracked module (parsed, not skipped)
        ("app/cli.py", "import imp as _  # noqa\nfrom . import sitecustomize\n"),
    ],
)
def test_a_public_function_another_module_may_call_counts(
    project: Path, path: str, text: str
) -> None:
    (project / path).write_text(text, encoding="utf-8")
    tag, evidence = _removals(project)
    assert tag != "monitor"
    assert (SITE, 7, "runtime") in evidence
    assert (SITE, 10, "runtime") in evidence


@pytest.mark.parametrize(
    "change",
    [
        # __all__ names it: the module's API
        lambda text: text.replace(
            "import sys\n", 'import sys\n\n__all__ = ["load_next_sitecustomize_py2"]\n'
        ),
        # an __all__ that is not a literal list may name it
        lambda text: text.replace("import sys\n", "import sys\n\n__all__ = list(globals())\n"),
        # also passed as a callback outside any guard
        lambda text: text.replace("main()\n", "main()\nHOOKS = [load_next_sitecustomize_py2]\n"),
        # registered by a decorator
        lambda text: text.replace(
            "def load_next_sitecustomize_py2():",
            "@staticmethod\ndef load_next_sitecustomize_py2():",
        ),
    ],
)
def test_a_public_function_reached_otherwise_counts(project: Path, change) -> None:  # type: ignore[no-untyped-def]
    site = project / SITE
    original = site.read_text(encoding="utf-8")
    changed = change(original)
    assert changed != original
    site.write_text(changed, encoding="utf-8")
    tag, evidence = _removals(project)
    assert tag != "monitor"
    assert {e[0] for e in evidence} == {SITE}
    assert {e[2] for e in evidence} == {"runtime"}


def test_callers_guards_are_facts_settled_per_project() -> None:
    code = """
        import sys

        def load():
            import imp
            return imp

        if sys.version_info[0] == 2:
            load()
    """
    facts = scan_source(textwrap.dedent(code), "mod.py", ["imp"])
    # one file alone: another may call it, so the stored guard is not judged yet
    assert {r.guards for r in facts.refs} == {
        ('["callers","load",["or",["and",["py","==",[2],"major"]]]]',)
    }
    assert all(reachable(r.guards, PY310_UP, ALL) for r in facts.refs)


def test_callers_guards_are_settled_again_when_the_cache_answers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DEPWATCH_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("DEPWATCH_NO_CACHE", raising=False)
    root = tmp_path / "proj"
    shutil.copytree(PROJECT / "app", root / "app")

    def guards() -> set[tuple[str, ...]]:
        result = scan_project(root, ["imp"])
        return {r.guards for f in result.facts if f.path == SITE for r in f.refs}

    site_only = {('["or",["and",["py","==",[2],"major"]]]',)}
    assert guards() == site_only
    cli = root / "app" / "cli.py"
    cli.write_text("from .sitecustomize import load_next_sitecustomize_py2\n", encoding="utf-8")
    assert guards() == {()}  # sitecustomize.py itself came from the cache
    cli.unlink()
    assert guards() == site_only


@pytest.mark.parametrize(
    ("importer", "guarded"),
    [
        ("", True),
        ("from . import meta\n", False),
        ("from .meta import (\n    entry_points,\n)\n", False),
        ("from .meta import other\n", True),  # another name only
        ("import pkg.meta\n", False),
        ("from pkg.meta import *\n", False),
    ],
)
@pytest.mark.parametrize("module", ["meta", "__init__"])
def test_callers_of_a_public_function_in_files_the_prefilter_skips(
    tmp_path: Path, importer: str, guarded: bool, module: str
) -> None:
    root = tmp_path / "proj"
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "__init__.py").write_text("", encoding="utf-8")
    (root / "pkg" / "meta.py").write_text("", encoding="utf-8")
    if module == "__init__":
        # the function in the package itself; `import pkg.meta` binds pkg, whose attributes
        # are then in reach
        importer = importer.replace("from . import meta", "import pkg as p")
        importer = importer.replace("from .meta import", "from . import")
        importer = importer.replace("from pkg.meta import", "from pkg import")
        guarded = guarded and "import pkg.meta" not in importer
    (root / "pkg" / f"{module}.py").write_text(
        "import sys\n\n\ndef other():\n    pass\n\n\ndef entry_points():\n"
        "    import pkg_resources\n    return pkg_resources\n\n\n"
        "if sys.platform == 'win32':\n    entry_points()\n",
        encoding="utf-8",
    )
    # mentions no tracked module: read only for its imports, never parsed
    (root / "pkg" / "cli.py").write_text(importer, encoding="utf-8")
    result = scan_project(root, ["pkg_resources"], cache=False)
    (facts,) = result.facts
    assert {bool(r.guards) for r in facts.refs} == {guarded}


def test_vendored_and_fixtures_are_configurable(project: Path) -> None:
    pyproject = project / "pyproject.toml"
    original = pyproject.read_text(encoding="utf-8")
    pyproject.write_text(original + "\n[tool.depwatch]\nvendored = []\n", encoding="utf-8")
    code, report = _check(project, "--platform", "linux")
    assert code == 1
    setuptools = _finding(report, RULE)
    assert setuptools["tag"] == "immediate"
    assert [(e["path"], e["context"]) for e in setuptools["evidence"]] == [
        ("app/_vendor/distlib/compat.py", "runtime")
    ]
    for bad, key in (
        ('vendored = "_vendor/"', "tool.depwatch.vendored"),
        ("fixtures = [1]", "tool.depwatch.fixtures"),
        (r'vendored = ["foo\\"]', "tool.depwatch.vendored"),
        ('vendor = ["x/"]', "tool.depwatch.vendor"),
    ):
        pyproject.write_text(original + f"\n[tool.depwatch]\n{bad}\n", encoding="utf-8")
        done = run_depwatch("check", "--no-usage", cwd=project)
        assert done.returncode == 2, (bad, done.stdout, done.stderr)
        assert key in done.stderr
        assert "Traceback" not in done.stderr
