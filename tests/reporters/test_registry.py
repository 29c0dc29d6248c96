"""The registry: every format renders, deterministically, and lazy imports stay lazy."""

from __future__ import annotations

import dataclasses
import importlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

from depwatch.model import Report
from depwatch.reporters import FORMATS, render, render_packages

REPO = Path(__file__).resolve().parents[2]
_DEFAULTS: dict[str, object] = {"color": False, "width": 100, "verbose": False}


def test_formats_are_the_documented_ones() -> None:
    assert set(FORMATS) == {"table", "json", "sarif", "markdown", "github"}


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_every_format_renders_and_is_deterministic(fmt: str, report: Report) -> None:
    first = render(fmt, report, verbose=True)
    assert first == render(fmt, report, verbose=True)
    assert first.endswith("\n")
    # the registry hands the report to the format's own module, with the documented defaults
    # of the options it takes (the table: all three; Markdown: verbose; the others: none)
    module = importlib.import_module(f"depwatch.reporters.{fmt}")
    takes = {"table": ("color", "width", "verbose"), "markdown": ("verbose",)}.get(fmt, ())
    defaults = {name: value for name, value in _DEFAULTS.items() if name in takes}
    verbose = {**defaults, "verbose": True} if "verbose" in takes else defaults
    assert render(fmt, report) == module.render(report, **defaults)
    assert first == module.render(report, **verbose)
    if fmt in ("json", "sarif"):
        json.loads(first)


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_finding_order_does_not_matter(fmt: str, report: Report) -> None:
    shuffled = dataclasses.replace(report, findings=tuple(reversed(report.findings)))
    assert render(fmt, shuffled) == render(fmt, report)


def _says_there_is_nothing_to_do(fmt: str, text: str) -> None:
    if fmt == "json":
        document = json.loads(text)
        assert document["findings"] == []
        assert document["summary"] == {"immediate": 0, "plan": 0, "monitor": 0}
    elif fmt == "sarif":
        (run,) = json.loads(text)["runs"]
        assert (run["results"], run["tool"]["driver"]["rules"]) == ([], [])
    else:
        assert "No actions." in text.splitlines()[-1]


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_every_format_renders_an_empty_report(fmt: str, empty_report: Report) -> None:
    with_project = render(fmt, empty_report)
    _says_there_is_nothing_to_do(fmt, with_project)
    _says_there_is_nothing_to_do(fmt, render(fmt, Report(projects=(), findings=())))
    if fmt == "json":  # the project audited is still listed, with its lockfile
        (project,) = json.loads(with_project)["projects"]
        assert (project["root"], project["lockfiles"][0]["packages"]) == (".", 5)
    elif fmt == "table":
        assert with_project.startswith("Project .: uv.lock (5 packages); Python >=3.10\n")


def test_unknown_formats() -> None:
    with pytest.raises(ValueError, match="choose from table, json, sarif, markdown, github"):
        render("xml", Report(projects=(), findings=()))
    with pytest.raises(ValueError, match="choose from table, json"):
        render_packages([], "sarif")


@pytest.mark.parametrize("fmt", ["json", "sarif", "markdown", "github"])
def test_non_table_formats_do_not_import_rich(fmt: str) -> None:
    code = (
        "import sys\n"
        "from depwatch.model import Report\n"
        "from depwatch.reporters import render, render_packages\n"
        f"import depwatch.reporters.{fmt}\n"
        f"render({fmt!r}, Report(projects=(), findings=()))\n"
        "render_packages([], 'json')\n"
        "print(sorted(m for m in sys.modules if m == 'rich' or m.startswith('rich.')))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO
    )
    assert result.stdout.strip() == "[]"


def test_importing_table_does_not_import_rich() -> None:
    code = "import sys, depwatch.reporters.table; print('rich' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO
    )
    assert result.stdout.strip() == "False"
