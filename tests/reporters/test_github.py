"""GitHub Actions workflow commands: levels, places and the runner's escaping."""

from __future__ import annotations

import dataclasses
import re

from depwatch.model import Report, Tag
from depwatch.reporters import render
from depwatch.reporters.github import command, escape_data, escape_property

from .conftest import DBDTYPES, GENAI


def test_escape_helpers() -> None:
    assert escape_data("100% done\r\nnext") == "100%25 done%0D%0Anext"
    assert escape_data("%0A") == "%250A"  # a literal "%0A" must not turn into a newline
    assert escape_data("a::b,c:d") == "a::b,c:d"
    assert escape_property("a::b,c:d%\n") == "a%3A%3Ab%2Cc%3Ad%25%0A"
    assert escape_property("C:\\x,y") == "C%3A\\x%2Cy"


def test_command_builder() -> None:
    assert command("error", "m", file="a,b.py", line=3, col=None, title="r:1") == (
        "::error file=a%2Cb.py,line=3,title=r%3A1::m"
    )
    assert command("notice", "only") == "::notice::only"
    assert command("warning", "x\x1b[31m") == "::warning::x\\x1b[31m"


def _commands(out: str) -> list[str]:
    return [line for line in out.splitlines() if line.startswith("::")]


def test_one_command_per_finding_at_its_first_place(report: Report) -> None:
    out = render("github", report)
    lines = out.splitlines()
    # First, the summary as an annotation of the most urgent kind present.
    assert lines[0].startswith("::error title=depwatch::2 immediate, 2 plan, 2 monitor")
    genai = [c for c in lines if "title=google-genai/response-format-wire-names" in c]
    assert len(genai) == 1  # GitHub shows 10 errors per step: one each, the others named
    assert genai[0].startswith("::error file=voice_bot/speak0.py,line=12,col=9,title=")
    assert (
        "::google-genai 2.0.0: response_format values are now sent as wire names%0AAction: "
        in genai[0]
    )
    assert "%0AAlso at: voice_bot/speak1.py:13, " in genai[0]
    assert genai[0].endswith(" and 1 more")
    assert any(
        c.startswith("::error file=uv.lock,line=77,title=GHSA-h5c8-rqwp-cp95::") for c in lines
    )
    assert any(
        c.startswith("::warning file=uv.lock,line=40,title=db-dtypes/python-floor-3-10::")
        for c in lines
    )
    assert any(
        c.startswith("::warning file=pyproject.toml,line=1,title=python/eol-3-9::Python 3.9")
        for c in lines
    )
    # a notebook cell's line is not the file's line: the annotation goes on the file
    assert any(
        c.startswith(
            "::notice file=notebooks/explore.ipynb,title=jinja2/autoescape-default::cell 3, line 2"
        )
        for c in lines
    )
    assert any(
        c.startswith("::warning title=depwatch%3A not audited::myapp was not audited")
        for c in lines
    )
    assert lines[-1].startswith("depwatch: 2 immediate, 2 plan, 2 monitor")


def test_hostile_text_cannot_forge_commands(report: Report) -> None:
    out = render("github", report)
    assert "\x1b" not in out
    assert "\r" not in out
    assert "\x9b" not in out
    # every output line is one of ours: a command, or the final summary
    for line in out.splitlines():
        assert line.startswith(("::error ", "::warning ", "::notice ")) or line.startswith(
            "depwatch: "
        )
    evil = next(c for c in _commands(out) if "title=evil/pkg" in c)
    # the properties end at the first "::"; nothing in them can break out
    props, _, message = evil.partition("::")[2].partition("::")
    assert props == "notice file=sub dir/src/a%2Cb%3Ac%25.py,line=3,col=1,title=evil/pkg"
    assert "%250A 100%25" in message  # "%0A" and "%" in the input stay literal
    assert "%0Asecond line" in message  # a real newline in the input stays inside this command
    assert not re.search(r"[\n\r]", message)


def test_findings_past_githubs_annotation_cap_are_announced(report: Report) -> None:
    many = dataclasses.replace(
        report,
        findings=tuple(
            dataclasses.replace(f, rule=f"{f.rule}-{i}")
            for f in report.findings
            if f.tag.value == "immediate"
            for i in range(8)
        ),
    )
    first = render("github", many).splitlines()[0]
    assert first.startswith("::error title=depwatch::16 immediate")
    assert "so 7 finding(s) appear only in this step's log" in first


def test_immediate_first_then_findings_with_evidence_then_the_rest(report: Report) -> None:
    # twelve Python-floor plans without code evidence and one plan with evidence: the one a
    # reviewer can act on in the diff must be among the warnings GitHub shows
    floor = next(f for f in report.findings if f.rule == "db-dtypes/python-floor-3-10")
    coded = next(f for f in report.findings if f.evidence and f.tag.value == "immediate")
    plans = [dataclasses.replace(floor, package=f"pkg-{i:02}") for i in range(12)]
    with_code = dataclasses.replace(coded, tag=Tag.PLAN, package="zzz-last-by-name")
    ordered = dataclasses.replace(report, findings=(*plans, with_code, *report.findings))
    titles = [
        line.split("title=", 1)[1].split("::", 1)[0]
        for line in render("github", ordered).splitlines()[1:]
        if line.startswith("::") and "file=" in line
    ]
    kinds = [
        line.split(" ", 1)[0]
        for line in render("github", ordered).splitlines()[1:]
        if line.startswith("::") and "file=" in line
    ]
    immediate = kinds.count("::error")
    assert set(kinds[:immediate]) == {"::error"}  # every immediate finding first
    with_evidence = [f for f in ordered.findings if f.evidence and f.tag is not Tag.IMMEDIATE]
    after = titles[immediate : immediate + len(with_evidence)]
    assert sorted(after) == sorted(f.rule for f in with_evidence)
    assert GENAI in after  # the plan with code, ahead of twelve Python-floor notes
    assert titles[immediate + len(with_evidence) :].count(DBDTYPES) == 13
