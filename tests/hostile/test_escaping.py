"""Input text cannot become a GitHub workflow command, a terminal escape or markup, in any
output format at any width (issue 19 item 3).

Every string field of a whole report (versions, markers, group names, project folders, stale
ignore ids, evidence source lines, rule texts, warnings) is replaced by hostile text, rendered in
every format at widths 40, 80 and 200, and each output line is checked the way the GitHub runner
reads it: after trimming leading blanks, a line starting with ``::`` is a command, and ``##[``
anywhere is a legacy one.
"""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path
from typing import Any

import pytest

from depwatch.model import Lockfile, Report, Tag
from depwatch.reporters import FORMATS, render, render_packages
from depwatch.reporters.rules import render_rule, render_rule_list
from depwatch.rulebook import load_rulebook
from tests.reporters.conftest import make_report

#: What an attacker would put in a lockfile, rule file or source line. The padding puts a
#: ``::`` at every column modulo the widths, so wherever rich wraps, one would start a line.
HOSTILE = (
    " ".join(f"{'x' * pad}::error::INJ{pad}" for pad in range(12))
    + " ##[error]LEGACY ::warning file=a.py,line=1::INJ \x1b[31mRED\x1b[0m \r\x9b2J"
    + " \u202eevil\u202c \u2066iso\u2069 [bold]MARKUP[/bold] [link=javascript:x]l[/link]"
    + " :: ##[ ::: ###[group]"
)

#: A field that names a structural value (a tag, a kind, an id a renderer looks up) keeps it.
_KEEP = {"tag", "kind", "format", "source", "rule", "cell", "fail_on", "fail_on_by_project"}


def _hostile(value: Any, name: str = "") -> Any:
    if isinstance(value, Tag) or name in _KEEP:
        return value
    if isinstance(value, str):
        return f"{value} {HOSTILE}"
    if isinstance(value, tuple):
        return tuple(_hostile(item) for item in value)
    if isinstance(value, frozenset):
        return frozenset(_hostile(item) for item in value)
    if isinstance(value, dict):
        return {key: _hostile(item) for key, item in value.items()}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {
            field.name: _hostile(getattr(value, field.name), field.name)
            for field in dataclasses.fields(value)
            if field.init
        }
        return dataclasses.replace(value, **changes)
    return value


def _hostile_report() -> Report:
    report: Report = _hostile(make_report())
    return report


_OURS = re.compile(r"::(error|warning|notice)( [^:]*)?::")


def _check(out: str, fmt: str) -> None:
    assert "\x1b" not in out, "a raw ESC reaches the output"
    assert "\r" not in out, "a raw CR reaches the output"
    assert "\x9b" not in out
    for bidi in "\u202e\u202c\u2066\u2069":
        assert bidi not in out, "a bidi control reaches the output"
    for line in out.splitlines():
        assert "##[" not in line, f"legacy workflow command in {fmt}: {line!r}"
        trimmed = line.lstrip()
        if trimmed.startswith("::"):
            # Only the github format writes commands, and only its own: the command and its
            # properties are ours; the message cannot hold a line break.
            assert fmt == "github", f"input starts a line with '::' in {fmt}: {line!r}"
            assert _OURS.match(trimmed), line


@pytest.mark.parametrize("width", [40, 80, 200])
@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_no_format_lets_input_text_through(fmt: str, width: int) -> None:
    report = _hostile_report()
    out = render(fmt, report, color=False, width=width, verbose=True)
    _check(out, fmt)
    assert "INJ" in out  # the hostile text was shown (escaped), not dropped
    if fmt == "table":
        assert "[bold]MARKUP[/bold]" in out  # markup shown as text, never applied
    if fmt in {"json", "sarif"}:
        json.loads(out)  # still valid JSON, data unchanged apart from the escapes


@pytest.mark.parametrize("width", [40, 80, 200])
@pytest.mark.parametrize("fmt", ["table", "json"])
def test_the_packages_listing_lets_no_input_text_through(fmt: str, width: int) -> None:
    report = _hostile_report()
    items = [(project.root, lock) for project in report.projects for lock in project.lockfiles]
    assert all(isinstance(lock, Lockfile) for _, lock in items)
    out = render_packages(items, fmt, color=False, width=width)
    _check(out, fmt)
    assert "INJ" in out


def _hostile_rule_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "rules" / "evil-pkg"
    folder.mkdir(parents=True)
    # The rule loader refuses control and bidi characters in rule texts; the rest goes in.
    plain = re.sub("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]", "", HOSTILE)
    text = json.dumps(plain)  # a TOML basic string is a JSON string, escapes and all
    (folder / "hostile.toml").write_text(
        f"""package = "evil-pkg"
kind = "breaking"
tag = "monitor"
affected = ">=1.0"
title = {text}
what = {text}
why = {text}
action = {text}
references = ["https://example.com/{HOSTILE.replace(" ", "%20").replace('"', "")[:60]}"]
added = "0.1.0"

[examples]
affected = ["1.0"]
unaffected = ["0.9"]
""",
        encoding="utf-8",
    )
    return tmp_path / "rules"


@pytest.mark.parametrize("width", [40, 80, 200])
def test_rules_show_and_list_let_no_rule_text_through(tmp_path: Path, width: int) -> None:
    book = load_rulebook([_hostile_rule_folder(tmp_path)])
    rule = book.get("evil-pkg/hostile")
    assert rule is not None
    out = render_rule(rule, color=False, width=width)
    _check(out, "rules show")
    assert "INJ" in out
    for fmt in ("table", "json", "markdown"):
        _check(render_rule_list([rule], fmt, color=False, width=width), f"rules list {fmt}")
