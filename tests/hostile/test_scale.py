"""Work stays linear in the input, and what is too big is said, not choked on (issue 19
items 6 and 8). Timing is left to ``benchmarks/bench_hostile.py``; these check the behaviour
that makes it linear."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from depwatch.model import Lockfile, Package
from depwatch.reporters import render_packages
from depwatch.reporters.text import MAX_SHOWN, oneline
from depwatch.usage import scan_project
from depwatch.usage.scan import scan_source


def test_notebook_references_land_in_their_cells() -> None:
    """Cells are found by bisection now; every reference still lands in its own cell, with a
    markdown cell and a skipped cell between code cells."""
    cells: list[dict[str, object]] = []
    for i in range(300):
        cells.append({"cell_type": "code", "source": f"import yaml\n\nx = yaml.load(s{i})\n"})
        if i % 7 == 0:
            cells.append({"cell_type": "markdown", "source": "# note"})
        if i % 11 == 0:
            cells.append({"cell_type": "code", "source": "%%bash\nls\n"})
    facts = scan_source(json.dumps({"cells": cells, "nbformat": 4}), "nb.ipynb", ["yaml"])
    calls = [ref for ref in facts.refs if ref.name == "yaml.load"]
    assert len(calls) == 300
    code_cells = [c for c in cells if c["cell_type"] == "code"]
    numbers = [n for n, c in enumerate(code_cells, start=1) if "yaml.load" in str(c["source"])]
    assert [ref.cell for ref in calls] == numbers
    assert {ref.line for ref in calls} == {3}


def test_a_source_file_over_the_size_limit_is_skipped_with_the_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "small.py").write_text("import yaml\nyaml.load(s)\n")
    (tmp_path / "big.py").write_text("import yaml\nyaml.load(s)\n" + "x = 1\n" * 2000)
    monkeypatch.setenv("DEPWATCH_MAX_SOURCE_SIZE", "4K")
    result = scan_project(tmp_path, ["yaml"], cache=False)
    assert [facts.path for facts in result.facts if facts.refs] == ["small.py"]
    (warning,) = [w for w in result.warnings if w.startswith("big.py")]
    assert "larger than 4,096 bytes" in warning
    assert "DEPWATCH_MAX_SOURCE_SIZE" in warning
    monkeypatch.setenv("DEPWATCH_MAX_SOURCE_SIZE", "1M")
    result = scan_project(tmp_path, ["yaml"], cache=False)
    assert sorted(facts.path for facts in result.facts if facts.refs) == ["big.py", "small.py"]


@pytest.mark.parametrize("width", [40, 80, 200])
def test_a_long_version_does_not_squeeze_the_names_out(width: int) -> None:
    lock = Lockfile(
        "uv.lock",
        "uv",
        (Package("requests", "1" * 5000, groups=("main",)), Package("charset-normalizer", "3.4")),
    )
    out = render_packages([(".", lock)], "table", width=width)
    # The name column keeps at least a third of the width (all of it here from 80 columns).
    assert ("charset-normalizer" if width >= 80 else "charset-norm") in out
    assert "requests" in out
    assert "…" in out  # the version is cut, never folded into a second "version"
    assert all(len(line) <= width for line in out.splitlines())


def test_a_very_long_lock_is_listed_in_full_as_plain_columns() -> None:
    packages = tuple(
        Package(f"pkg-{i:05}", f"1.{i}", groups=("main",), markers="os_name == 'nt'" * (i % 2))
        for i in range(5000)
    )
    out = render_packages([(".", Lockfile("uv.lock", "uv", packages))], "table", width=100)
    lines = out.splitlines()
    assert lines[0] == "uv.lock (uv) — 5000 packages"
    assert lines[1].split() == ["name", "version", "source", "groups", "direct", "markers"]
    rows = [line for line in lines if line.startswith("pkg-")]
    assert len(rows) == 5000
    assert rows[1].split()[:5] == ["pkg-00001", "1.1", "registry", "main", "?"]
    assert rows[1].endswith("os_name == 'nt'")


def test_one_piece_of_input_text_is_cut_when_shown() -> None:
    shown = oneline("a" * 3_000_000)
    assert len(shown) < MAX_SHOWN + 40
    assert shown.endswith("…(3,000,000 characters)")
    # a URL's credentials are redacted before the text is cut
    cut = oneline("x" * (MAX_SHOWN - 20) + " https://bot:ghp_secret@github.com/o/r")
    assert "ghp_" not in cut
