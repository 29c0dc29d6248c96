"""docs/rules.md is generated from the shipped rules and checked in: it must not go stale."""

from __future__ import annotations

from depwatch.reporters.rules import DOCS_COMMAND, render_rule_docs
from depwatch.rulebook import load_rulebook
from tests.conftest import REPO, run_depwatch

DOCS = REPO / "docs" / "rules.md"


def test_rules_md_is_current() -> None:
    expected = render_rule_docs(list(load_rulebook([])))
    current = DOCS.read_text(encoding="utf-8") if DOCS.is_file() else ""
    assert current == expected, (
        f"docs/rules.md is stale: regenerate it from the repository root with `{DOCS_COMMAND}`"
    )


def test_rules_md_has_every_rule_in_the_fixed_order() -> None:
    book = list(load_rulebook([]))
    text = render_rule_docs(book)
    headings = [line[4:] for line in text.splitlines() if line.startswith("### ")]
    assert len(headings) == len(book)
    assert [h.replace("\\", "") for h in headings] == sorted(r.id for r in book)
    sections = text.split("\n### ")[1:]
    order = [
        "**What changed.**",
        "**Why it matters.**",
        "**What to do",
        "**Example that hits.**",
        "**References.**",
        "**Since** depwatch ",
    ]
    for section in sections:
        positions = [section.find(marker) for marker in order]
        assert -1 not in positions, section[:80]
        assert positions == sorted(positions), section[:80]


def test_the_command_writes_the_same_text() -> None:
    done = run_depwatch("rules", "list", "--format", "markdown", cwd=REPO)
    assert done.returncode == 0, done.stderr
    assert done.stdout == render_rule_docs(list(load_rulebook([])))
