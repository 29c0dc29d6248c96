"""End to end, on lockfiles the real uv wrote: rules judged against the rest of the lock, one
finding per (rule, package), and Python-floor facts joined into the interpreter finding."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from .conftest import FIXTURES, run_depwatch

PROJECTS = FIXTURES / "projects"
TODAY = "2026-11-24"


def _check(name: str, tmp_path: Path, *args: str) -> tuple[int, dict[str, Any]]:
    project = tmp_path / name
    shutil.copytree(PROJECTS / name, project)
    done = run_depwatch("check", "--format", "json", "--today", TODAY, *args, cwd=project)
    assert "Traceback" not in done.stderr, done.stderr
    return done.returncode, json.loads(done.stdout)


def _rule(report: dict[str, Any], rule: str) -> list[dict[str, Any]]:
    return [f for f in report["findings"] if f["rule"] == rule]


def _python(report: dict[str, Any], version: str) -> dict[str, Any]:
    (finding,) = [
        f
        for f in report["findings"]
        if f["package"] == "python"
        and f["version"] == version
        and f["kind"] in ("eol", "python-drop")
    ]
    return finding


def test_flask_2_2_beside_werkzeug_3_1_is_immediate(tmp_path: Path) -> None:
    code, report = _check("flask-werkzeug", tmp_path)
    (finding,) = _rule(report, "flask/werkzeug-3.1-version-removed")
    assert (finding["version"], finding["tag"]) == ("2.2.5", "immediate")
    assert finding["lockfiles"] == ["uv.lock"]
    # Flask 2.2.5 imports fine on Werkzeug 3 (it no longer takes url_quote from it).
    assert _rule(report, "flask/werkzeug-3-url-quote") == []
    assert code == 1


def test_distutils_is_not_reported_while_setuptools_is_locked_at_run_time(tmp_path: Path) -> None:
    _, report = _check("distutils-runtime", tmp_path)
    (finding,) = _rule(report, "python/stdlib-removals-3.12")
    # imp is still gone on 3.12; distutils comes from setuptools there.
    assert [(e["line"], e["code"]) for e in finding["evidence"]] == [
        (1, "import imp"),
        (6, 'return imp.load_source("plugin", path)'),
    ]


def test_distutils_is_reported_when_setuptools_is_only_a_development_tool(
    tmp_path: Path,
) -> None:
    _, report = _check("distutils-dev", tmp_path)
    (finding,) = _rule(report, "python/stdlib-removals-3.12")
    assert [e["line"] for e in finding["evidence"]] == [1, 2, 6, 10]


def test_one_finding_per_rule_and_package_lists_every_entry(tmp_path: Path) -> None:
    _, report = _check("floor-fold", tmp_path)
    (finding,) = _rule(report, "scipy/removals-1.14")
    # uv forks scipy per Python: one finding, every entry listed, the most urgent ones first.
    assert finding["tag"] == "immediate"
    assert finding["version"] == finding["versions"][0]
    assert sorted(finding["versions"]) == ["1.13.1", "1.15.3", "1.17.1", "1.18.1"]
    assert finding["versions"][-1] == "1.13.1"  # below 1.14: only a plan on its own
    assert [e["line"] for e in finding["evidence"]] == [1, 5]


def test_python_floor_plans_join_the_interpreter_finding(tmp_path: Path) -> None:
    _, report = _check("floor-fold", tmp_path)
    floor_rules = [f for f in report["findings"] if f["rule"].endswith("-required")]
    assert floor_rules == []  # numpy 2.0.2 and pytest 8.4.2 are held back, not findings
    py39 = _python(report, "3.9")
    assert (py39["rule"], py39["tag"]) == ("python/python-3.9-eol", "plan")
    assert [(h["package"], h["version"], h["newer"], h["dev"]) for h in py39["held_back"]] == [
        ("numpy", "2.0.2", "2.1.0", False),
        ("pytest", "8.4.2", "9.0.0", True),
    ]
    py310 = _python(report, "3.10")
    assert [(h["package"], h["newer"]) for h in py310["held_back"]] == [("numpy", "2.3.0")]
    # scipy is already split by Python in the lock (1.13.1 for 3.9): nothing held back.
    held = {h["package"] for f in report["findings"] for h in f.get("held_back", [])}
    assert "scipy" not in held


def test_a_held_back_finding_is_made_where_no_end_of_life_rule_speaks(tmp_path: Path) -> None:
    # Long before 3.9's end of life its rule is silent: the held-back packages make their own.
    _, report = _check("floor-fold", tmp_path, "--today", "2023-06-01")
    py39 = _python(report, "3.9")
    assert (py39["rule"], py39["tag"], py39["kind"]) == ("python/held-back", "plan", "python-drop")
    assert py39["title"] == "Python 3.9 holds back numpy 2.0.2 and 1 development tool"
    assert py39["action"].startswith("Drop Python 3.9 (raise requires-python to >=3.10)")
    py310 = _python(report, "3.10")
    assert py310["action"].startswith("Drop Python 3.9 and 3.10 (raise requires-python to >=3.11)")
    table = run_depwatch("check", "--today", "2023-06-01", cwd=tmp_path / "floor-fold").stdout
    assert "Python 3.9 holds back numpy 2.0.2 (newer: 2.1.0); development tools: pytest" in table


def test_a_release_the_projects_own_constraint_excludes_is_not_held_back_by_python(
    tmp_path: Path,
) -> None:
    # pyproject.toml says marshmallow<3: Python 3.10 does not hold marshmallow 2.21.0 back from
    # 4.4.0 (the first release that needs 3.11); dropping 3.10 would not unlock it.
    _, report = _check("held-own-pin", tmp_path)
    assert _python(report, "3.10")["held_back"] == []


def test_a_pip_compile_input_and_what_it_includes_are_the_projects_constraints(
    tmp_path: Path,
) -> None:
    # requirements.in includes requirements-base.txt (-r), compiled from requirements-base.in's
    # marshmallow<3; importlib-metadata is held back by Python 3.10 alone. (An exact pin, as
    # floor-fold's numpy==2.0.2, may be there for the old Python: that fact stays.)
    _, report = _check("held-compiled", tmp_path)
    held = _python(report, "3.10")["held_back"]
    assert [(h["package"], h["version"], h["newer"]) for h in held] == [
        ("importlib-metadata", "9.0.1", "9.1.0")
    ]
