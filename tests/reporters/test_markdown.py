"""Markdown for PR comments and step summaries: structure and escaping."""

from __future__ import annotations

from depwatch.model import Report
from depwatch.reporters import render
from depwatch.reporters.markdown import md, md_link


def test_md_escapes_markdown_and_html() -> None:
    assert md("a|b") == "a\\|b"
    assert md("<script>alert(1)</script>") == "&lt;script&gt;alert(1)&lt;/script&gt;"
    assert md("`x` *y* _z_ [l](u) ~s~ \\") == "\\`x\\` \\*y\\* \\_z\\_ \\[l\\](u) \\~s\\~ \\\\"
    assert md("line1\nline2\r\n") == "line1 line2"
    assert md("# not a heading") == "\\# not a heading"
    assert md("- not a list") == "\\- not a list"
    assert md("1. not a list") == "1\\. not a list"
    assert md("a & b") == "a &amp; b"
    assert md("\x1b[31m") == "\\\\x1b\\[31m"


def test_md_link() -> None:
    assert md_link("https://example.com/a_(b)", "ref") == "[ref](https://example.com/a_%28b%29)"
    assert md_link("javascript:alert(1)") == "javascript:alert(1)"
    assert md_link("https://x.y/<script>") == "https://x.y/&lt;script&gt;"


def test_structure(report: Report) -> None:
    out = render("markdown", report)
    assert out.startswith("## depwatch: 2 immediate, 2 plan, 2 monitor\n")
    assert "### Immediate (2)" in out
    assert "### Plan (2)" in out
    assert "<details>\n<summary>Monitor (2)" in out
    assert "| Package | Version | Rule | Action | Where |" in out
    assert "voice\\_bot/speak0.py:12<br>" in out
    assert "… and 2 more" in out
    assert "[ref](https://github.com/googleapis/python-genai/releases/tag/v2.0.0)" in out
    assert "| Python | 3\\.9 | python/eol-3-9" in out
    assert "(targets: 3\\.9)" in out
    assert "### Not audited (2 packages: not the same as clean)" in out
    assert "- myapp: not on PyPI (editable)" in out
    assert "<summary>Suppressed (1)</summary>" in out
    assert "### Stale ignores (1)" in out


def test_hostile_text(report: Report) -> None:
    out = render("markdown", report)
    assert "<script>" not in out
    assert "\x1b" not in out
    assert "\x9b" not in out
    assert "\r" not in out
    assert "[bold]" not in out
    assert "\\[bold\\]" in out
    # every table row still has exactly its 5 cells: no unescaped "|" got through
    for line in out.splitlines():
        if line.startswith("| "):
            assert line.replace("\\|", "").count("|") == 6, line
    assert "javascript:alert(1)" in out
    assert "](javascript:" not in out


def test_no_actions(empty_report: Report) -> None:
    out = render("markdown", empty_report)
    assert out.startswith("## depwatch: 0 immediate, 0 plan, 0 monitor\n\nNo actions.\n")
    assert "<details>" not in out
