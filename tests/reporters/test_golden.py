"""Golden files: the table and markdown reporters render fixed Reports to committed text.

The Reports are the hand-built ones of ``conftest.py`` (every field, hostile input text) and
the reports of real ``check`` runs on fixture projects (in-process, on a copy, ``--today``
fixed, offline). Colour is off and the width fixed, so a file is the exact text a user sees.

When a change to the output is intended, regenerate the files and review their diff::

    DEPWATCH_UPDATE_GOLDEN=1 python -m pytest tests/reporters/test_golden.py

(a regeneration run rewrites the files and passes; commit them with the change that explains
them). A failure shows the unified diff between the committed file and the rendered text.
"""

from __future__ import annotations

import datetime
import difflib
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from depwatch.audit import CheckOptions, check
from depwatch.model import ProjectReport, Report
from depwatch.reporters import render

from ..conftest import FIXTURES
from .conftest import _lock, make_report

GOLDEN = Path(__file__).resolve().parent / "golden"
_HERE = "tests/reporters/test_golden.py"
UPDATE = os.environ.get("DEPWATCH_UPDATE_GOLDEN") == "1"
TODAY = datetime.date(2026, 6, 1)
#: Fixture projects whose check runs are rendered: usage evidence and a pin line (genai-app),
#: packages held back by Python and all three tags (floor-fold), evidence with its context
#: (evidence-context).
PROJECTS = ("genai-app", "floor-fold", "evidence-context")


def _checked(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Report:
    project = tmp_path / name
    shutil.copytree(FIXTURES / "projects" / name, project)
    monkeypatch.chdir(project)  # the report names the project "." as `depwatch check` there
    return check(CheckOptions(today=TODAY, online=False)).report


def _model(name: str) -> Callable[[Path, pytest.MonkeyPatch], Report]:
    def build(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Report:
        del tmp_path, monkeypatch
        if name == "model":
            return make_report()
        return Report(projects=(ProjectReport(".", ">=3.10", (_lock(),)),), findings=())

    return build


def _project(name: str) -> Callable[[Path, pytest.MonkeyPatch], Report]:
    def build(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Report:
        return _checked(name, tmp_path, monkeypatch)

    return build


REPORTS: dict[str, Callable[[Path, pytest.MonkeyPatch], Report]] = {
    "model": _model("model"),
    "empty": _model("empty"),
    **{name: _project(name) for name in PROJECTS},
}

#: (file suffix, format, width, verbose): colour always off, the width fixed.
RENDERINGS = (
    ("table.txt", "table", 100, False),
    ("table-verbose.txt", "table", 100, True),
    ("table-narrow.txt", "table", 60, False),
    ("md", "markdown", 100, False),
)
#: The renderings each report is compared in (the narrow and verbose tables where they show
#: something the default one does not).
CASES = [
    (report, suffix, fmt, width, verbose)
    for report in REPORTS
    for suffix, fmt, width, verbose in RENDERINGS
    if suffix in ("table.txt", "md") or report in ("model", "floor-fold")
]


def compare(path: Path, text: str) -> None:
    """``text`` is the content of golden file ``path`` (or becomes it, when regenerating)."""
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8", newline="\n")
        return
    if not path.is_file():
        pytest.fail(f"{path.name} is missing: run DEPWATCH_UPDATE_GOLDEN=1 pytest {_HERE}")
    expected = path.read_text(encoding="utf-8")
    if text != expected:
        diff = "".join(
            difflib.unified_diff(
                expected.splitlines(keepends=True),
                text.splitlines(keepends=True),
                f"{path.name} (committed)",
                f"{path.name} (rendered now)",
            )
        )
        pytest.fail(
            f"the output differs from {path.relative_to(GOLDEN.parent)}; if intended, run "
            f"DEPWATCH_UPDATE_GOLDEN=1 pytest {_HERE} and commit the files:\n"
            f"{diff}",
            pytrace=False,
        )


@pytest.mark.parametrize(
    ("name", "suffix", "fmt", "width", "verbose"),
    CASES,
    ids=[f"{case[0]}.{case[1]}" for case in CASES],
)
def test_golden(
    name: str,
    suffix: str,
    fmt: str,
    width: int,
    verbose: bool,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    report = REPORTS[name](tmp_path, monkeypatch)
    text = render(fmt, report, color=False, width=width, verbose=verbose)
    assert "\x1b" not in text  # colour off means no escape sequence at all
    compare(GOLDEN / f"{name}.{suffix}", text)


def test_every_golden_file_is_compared() -> None:
    """A golden file no case renders any more is stale: delete it with the case."""
    expected = {f"{case[0]}.{case[1]}" for case in CASES}
    on_disk = {path.name for path in GOLDEN.iterdir() if path.is_file()}
    assert on_disk - expected == set()
