"""Markdown for PR comments and step summaries: structure and escaping."""

from __future__ import annotations

import dataclasses
import json
import re

import pytest

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
    # not a plain web address: shown as text, which GitHub must not turn into a link either
    assert md_link("https://x.y/<script>") == "https\\://x.y/&lt;script&gt;"


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


LINKS = "see www.evil.example, https://evil.example/login and ![i](https://evil.example/p.png)"


def _hostile_report(report: Report) -> Report:
    """The fixture report with web addresses and Markdown in every text a rule can set."""
    findings = tuple(
        dataclasses.replace(f, title=f"{f.title} {LINKS}", action=f"{f.action} {LINKS}")
        for f in report.findings
    )
    rules = {
        key: dataclasses.replace(
            info,
            what=f"What {LINKS} <img src=x onerror=alert(1)> [docs](javascript:alert(1))",
            why=f"Why {LINKS}",
            action=f"Act {LINKS}",
            references=(
                *info.references,
                "https://evil.example/>[click](https://evil.example/phish)<x",
            ),
        )
        for key, info in report.rules.items()
    }
    return dataclasses.replace(report, findings=findings, rules=rules)


def _rendered_links(markdown: str) -> list[str]:
    """What GitHub's own renderer (cmark-gfm) makes links and images of."""
    cmarkgfm = pytest.importorskip(
        "cmarkgfm", reason="cmarkgfm (GitHub's renderer) is a test dependency"
    )
    html = cmarkgfm.github_flavored_markdown_to_html(markdown)
    assert "<img" not in html
    assert "<script" not in html
    return re.findall(r'href="([^"]*)"', html)


def _ours(report: Report) -> set[str]:
    references = {r for f in report.findings for r in f.references}
    references |= {r for info in report.rules.values() for r in info.references}
    return {r for r in references if r.startswith("https://") and "evil" not in r}


def test_markdown_links_only_the_references_github_renders(report: Report) -> None:
    hostile = _hostile_report(report)
    links = _rendered_links(render("markdown", hostile, verbose=True))
    assert links
    assert set(links) <= _ours(report)


def test_sarif_help_markdown_links_only_plain_references(report: Report) -> None:
    hostile = _hostile_report(report)
    sarif = json.loads(render("sarif", hostile))
    helps = [rule["help"]["markdown"] for rule in sarif["runs"][0]["tool"]["driver"]["rules"]]
    assert any("evil" in text for text in helps)
    for text in helps:
        assert set(_rendered_links(text)) <= _ours(report)


def test_a_step_summary_stays_under_githubs_limit_and_says_what_it_left_out(
    report: Report, monkeypatch: pytest.MonkeyPatch
) -> None:
    from depwatch.reporters import markdown

    monkeypatch.setattr(markdown, "SUMMARY_BUDGET", 100_000 + 600)  # room for about two rows
    out = render("markdown", report)
    assert "more not shown: a GitHub step summary holds 1 MiB" in out
    assert out.count("| google-genai |") <= 1
    assert out.index("### Immediate") < out.index("more not shown")


def test_where_is_relative_to_the_run_folder(report: Report) -> None:
    out = render("markdown", report)
    # The finding of the "sub dir" project names its file under that folder.
    assert "| sub dir/src/a,b:c%.py:3 |" in out
