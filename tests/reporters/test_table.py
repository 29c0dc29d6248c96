"""The human table: grouping, evidence cap, visibility of gaps, and hostile text shown inert."""

from __future__ import annotations

import dataclasses

from depwatch.model import Report, Tag
from depwatch.reporters import render, render_packages
from depwatch.reporters.table import rich_safe


def test_sections_in_order_with_counts(report: Report) -> None:
    out = render("table", report, width=120)
    heads = [
        "IMMEDIATE (2)",
        "PLAN (2)",
        "MONITOR (2)",
        "Suppressed (1)",
        "Stale ignores (1)",
        "Not audited (2 packages)",
        "Warnings (1)",
    ]
    positions = [out.index(h) for h in heads]
    assert positions == sorted(positions)
    assert (
        out.rstrip("\n")
        .splitlines()[-1]
        .startswith("2 immediate, 2 plan, 2 monitor — failing on immediate; 1 suppressed")
    )


def test_finding_details(report: Report) -> None:
    out = render("table", report, width=160)
    assert "google-genai 2.0.0  google-genai/response-format-wire-names" in out
    assert "→ Pass the enum members, not their string values." in out
    assert "↗ https://github.com/googleapis/python-genai/releases/tag/v2.0.0" in out
    assert "in uv.lock:120" in out
    assert "voice_bot/speak0.py:12:9  response_format=audio," in out
    assert "in uv.lock:40  targets: 3.9" in out
    assert "Python 3.9  python/eol-3-9" in out
    assert "aliases: CVE-2024-56326  fixed in: 3.1.5" in out
    assert "notebooks/explore.ipynb[cell 3]:2:5  Environment()" in out
    assert "pinned until the voice feature ships" in out
    assert "(until 2026-12-31)" in out
    assert "myapp  not on PyPI (editable)" in out
    assert "urllib3/old-rule" in out
    assert "skipped notebooks/broken.ipynb: not valid JSON" in out


def test_evidence_capped_unless_verbose(report: Report) -> None:
    out = render("table", report, width=160)
    assert "speak4.py" in out
    assert "speak5.py" not in out
    assert "… and 2 more" in out
    verbose = render("table", report, width=160, verbose=True)
    assert "speak6.py:18:9" in verbose
    assert "… and" not in verbose


def test_hostile_text_is_literal_and_inert(report: Report) -> None:
    for color in (False, True):
        out = render("table", report, width=400, color=color)
        assert "[bold]x[/bold]" in out  # markup printed as written, not interpreted
        assert "<script>alert(1)</script>" in out
        assert "\\x1b[31mred\\x1b[0m" in out  # the escape shown, not sent
        assert "\\x9b2J" in out
        assert "\x9b" not in out
        assert "\r" not in out
        if not color:
            assert "\x1b" not in out
        else:  # only rich's own SGR sequences: every ESC starts "ESC[" + digits/; + "m"
            import re

            assert re.sub(r"\x1b\[[0-9;]*m", "", out).count("\x1b") == 0
    assert rich_safe("[bold]x\x1b") == "\\[bold]x\\x1b"


def test_no_color_means_no_escape_codes(report: Report) -> None:
    assert "\x1b" not in render("table", report)
    assert "\x1b[" in render("table", report, color=True)


def test_width_respected(report: Report) -> None:
    out = render("table", report, width=60)
    # Links are the one exception: a wrapped URL cannot be opened, so they are never wrapped.
    lines = [line for line in out.splitlines() if not line.lstrip().startswith("↗ http")]
    assert max(len(line) for line in lines) <= 60
    assert not any(line.endswith(" ") for line in out.splitlines())
    links = [line.strip() for line in out.splitlines() if "↗ http" in line]
    assert links
    assert all(" " not in link[2:] for link in links)  # each URL whole, on one line


def test_no_actions(empty_report: Report) -> None:
    out = render("table", empty_report)
    assert out.rstrip().endswith("No actions.")
    assert "uv.lock (5 packages); Python >=3.10" in out


def test_not_failing_below_gate(report: Report) -> None:
    only_monitor = dataclasses.replace(
        report,
        findings=tuple(f for f in report.findings if f.tag is Tag.MONITOR),
        suppressed=(),
        stale_ignores=(),
        not_audited=None,
    )
    out = render("table", only_monitor)
    assert out.rstrip().splitlines()[-1] == "2 monitor — nothing at or above immediate"


def test_packages_table(report: Report) -> None:
    items = [(p.root, lock) for p in report.projects for lock in p.lockfiles]
    out = render_packages(items, "table", width=120)
    assert "uv.lock (uv) — 5 packages" in out
    assert "sub dir/requirements.txt (requirements) — 1 package" in out
    assert "python_version >= '3.10'" in out
    assert "myapp" in out
    assert "editable" in out


def test_monitor_is_one_line_unless_verbose(report: Report) -> None:
    report = dataclasses.replace(
        report,
        findings=tuple(
            dataclasses.replace(f, evidence=()) if f.tag.value == "monitor" else f
            for f in report.findings
        ),
    )
    monitors = [f for f in report.findings if f.tag.value == "monitor"]
    assert monitors
    brief = render("table", report, width=300)
    full = render("table", report, width=300, verbose=True)
    for finding in monitors:
        assert finding.rule in brief
        assert finding.action not in brief
        assert finding.action.split()[0] in full
    assert "--verbose shows all" in brief


def test_an_interpreter_finding_says_where_the_declared_python_comes_from(report: Report) -> None:
    for source in ("conda-lock.yml python package", None):
        projects = tuple(
            dataclasses.replace(project, python_source=source) if project.root == "." else project
            for project in report.projects
        )
        shown = dataclasses.replace(report, projects=projects)
        text = render("table", shown, verbose=True)
        (line,) = [line for line in text.splitlines() if "declared Python" in line]
        if source:
            assert line.strip().startswith(f"declared Python ({source})")
        else:
            assert line.strip().startswith("declared Python")
            assert "(" not in line
