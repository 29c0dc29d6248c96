"""``rules list`` and ``rules show`` output: every field a rule folder gives is shown inert.

The loader rejects control and text-direction characters in rule text; these renderers escape
them anyway, as every other reporter does, in case a rule reaches them another way.
"""

from __future__ import annotations

import json

import pytest
from packaging.specifiers import SpecifierSet

from depwatch.model import Tag
from depwatch.reporters.rules import render_rule, render_rule_list
from depwatch.rulebook.model import Rule, Usage

HOSTILE = "\x1b[31mRED \x9b2J \u202eevil\u202c [bold]markup[/bold] line\nbreak"
RAW = ("\x1b", "\x9b", "\u202e", "\u202c")

RULE = Rule(
    id="pyyaml/hostile",
    package="pyyaml",
    kind="behaviour",
    tag=Tag.PLAN,
    affected=SpecifierSet(">=6.0"),
    title=f"Title {HOSTILE}",
    what=f"What {HOSTILE}",
    why="Why.",
    action="Act.",
    references=("https://example.org/\u202e",),
    usage=Usage(
        modules=("yaml",),
        symbols=("yaml.load",),
        env=(f"ENV{HOSTILE}",),
        assignments=(f"name{HOSTILE}",),
    ),
)


@pytest.mark.parametrize("fmt", ["table", "json", "markdown"])
def test_rules_list_shows_hostile_text_inert(fmt: str) -> None:
    text = render_rule_list([RULE], fmt)
    assert not [char for char in RAW if char in text]
    if fmt == "json":
        (rule,) = json.loads(text)["rules"]
        assert rule["title"] == RULE.title  # escaped in the text, intact in the data


def test_rules_show_shows_hostile_text_inert() -> None:
    text = render_rule(RULE)
    assert not [char for char in RAW if char in text]
    assert "\\x1b[31mRED" in text
    assert "[bold]markup[/bold]" in text  # literal, not rich markup
    title_line = next(line for line in text.splitlines() if line.startswith("Title"))
    assert title_line.endswith("line break")  # the title stays on one line


def test_rules_show_and_json_list_assignments() -> None:
    assert "module-level assignment name" in render_rule(RULE)
    (rule,) = json.loads(render_rule_list([RULE], "json"))["rules"]
    assert rule["usage"]["assignments"] == [f"name{HOSTILE}"]
