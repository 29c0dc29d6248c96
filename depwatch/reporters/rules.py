"""``depwatch rules list`` and ``depwatch rules show``: rules as tables, JSON, Markdown, text."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

from depwatch.reporters.json import dumps
from depwatch.reporters.markdown import md
from depwatch.reporters.text import oneline, sanitize
from depwatch.rulebook.model import CallPattern, Rule

__all__ = ["render_rule", "render_rule_list", "rule_dict"]


def rule_dict(rule: Rule) -> dict[str, Any]:
    """A rule as plain JSON data (the ``rules list --format json`` schema)."""
    data: dict[str, Any] = {
        "id": rule.id,
        "package": rule.package,
        "kind": rule.kind,
        "tag": rule.tag.value,
        "affected": str(rule.affected),
        "boundary": str(rule.boundary) if rule.boundary else None,
        "fixed": str(rule.fixed) if rule.fixed else None,
        "python_requires": str(rule.python_requires) if rule.python_requires else None,
        "eol": rule.eol.isoformat() if rule.eol else None,
        "title": rule.title,
        "what": rule.what,
        "why": rule.why,
        "action": rule.action,
        "references": list(rule.references),
        "usage": None,
    }
    if rule.usage is not None:
        data["usage"] = {
            "modules": list(rule.usage.modules),
            "symbols": list(rule.usage.symbols),
            "calls": [
                {
                    "name": c.name,
                    "keywords": list(c.keywords),
                    "without": list(c.without),
                    "positional_max": c.positional_max,
                }
                for c in rule.usage.calls
            ],
            "env": list(rule.usage.env),
            "when_unused": rule.when_unused,
        }
    return data


def describe_call(call: CallPattern) -> str:
    """A call pattern as a reader would say it: ``yaml.load() without Loader=``."""
    if call.without:
        text = f"{call.name}() without {' or '.join(f'{k}=' for k in call.without)}"
        if call.positional_max is not None:
            text += f" (at most {call.positional_max} positional argument(s))"
        return text
    if call.keywords:
        return f"{call.name}({', '.join(f'{k}=' for k in call.keywords)})"
    return f"{call.name}(...)"


def render_rule_list(
    rules: Sequence[Rule], fmt: str, *, color: bool = False, width: int = 100
) -> str:
    """All rules, sorted by id."""
    ordered = sorted(rules, key=lambda r: r.id)
    if fmt == "json":
        doc = {"schema_version": 1, "rules": [rule_dict(r) for r in ordered]}
        return dumps(doc)
    if fmt == "markdown":
        lines = ["| id | kind | tag | affected | title |", "|---|---|---|---|---|"]
        lines += [
            f"| `{r.id}` | {r.kind} | {r.tag.value} | `{r.affected}` | {md(r.title)} |"
            for r in ordered
        ]
        return "\n".join(lines) + "\n"
    from rich.console import Console
    from rich.padding import Padding
    from rich.table import Table
    from rich.text import Text

    buffer = io.StringIO()
    console = Console(
        file=buffer,
        width=width,
        color_system="standard" if color else None,
        force_terminal=color,
        highlight=False,
    )
    if width < 100:
        # Too narrow for four columns without cutting ids and titles mid-word: one block per
        # rule, the title wrapped at word boundaries under its id.
        for r in ordered:
            head = Text(oneline(r.id), style="bold")
            head.append(f"  {r.tag.value}  ")
            head.append(str(r.affected) or "any")
            console.print(head, overflow="fold")
            console.print(Padding(Text(oneline(r.title)), (0, 0, 0, 4)), overflow="fold")
        console.print(f"{len(ordered)} rule(s)")
        return _stripped(buffer.getvalue())
    table = Table(box=None, pad_edge=False, show_edge=False)
    table.add_column("id", overflow="fold", max_width=44)
    table.add_column("tag", no_wrap=True)
    table.add_column("affected", overflow="fold", max_width=18)
    table.add_column("title", overflow="fold", ratio=1, min_width=30)
    for r in ordered:
        table.add_row(
            Text(oneline(r.id)), r.tag.value, Text(str(r.affected) or "any"), Text(oneline(r.title))
        )
    console.print(table)
    console.print(f"{len(ordered)} rule(s)")
    return _stripped(buffer.getvalue())


def render_rule(rule: Rule, *, color: bool = False, width: int = 100) -> str:
    """One rule, every field, readable."""
    from rich.console import Console
    from rich.text import Text

    buffer = io.StringIO()
    console = Console(
        file=buffer,
        width=width,
        color_system="standard" if color else None,
        force_terminal=color,
        highlight=False,
    )
    # Rule texts are validated plain text, but a user's rule folder is input like any other.
    console.print(Text(oneline(rule.id), style="bold"))
    console.print(Text(oneline(rule.title)))
    console.print()
    facts = [
        ("package", rule.package),
        ("kind", rule.kind),
        ("tag", rule.tag.value),
        ("affected", str(rule.affected) or "any version"),
        ("boundary", str(rule.boundary) if rule.boundary else None),
        ("fixed in", str(rule.fixed) if rule.fixed else None),
        ("requires-python", str(rule.python_requires) if rule.python_requires else None),
        ("end of life", rule.eol.isoformat() if rule.eol else None),
    ]
    for label, value in facts:
        if value:
            console.print(Text(f"  {label:<16}{oneline(value)}"))
    for heading, body in (
        ("What changed", rule.what),
        ("Why it matters", rule.why),
        ("What to do", rule.action),
    ):
        console.print()
        console.print(Text(heading, style="bold"))
        console.print(Text(sanitize(body)))
    if rule.usage is not None:
        console.print()
        console.print(Text("Usage that concerns it", style="bold"))
        for symbol in rule.usage.symbols:
            console.print(Text(f"  {oneline(symbol)}"))
        for call in rule.usage.calls:
            console.print(Text(f"  {oneline(describe_call(call))}"))
        for env in rule.usage.env:
            console.print(Text(f"  environment variable {oneline(env)}"))
        console.print(Text(f"  without usage: {rule.when_unused}"))
    console.print()
    console.print(Text("References", style="bold"))
    for ref in rule.references:
        console.print(Text(f"  {oneline(ref)}"), soft_wrap=True)
    return _stripped(buffer.getvalue())


def _stripped(text: str) -> str:
    """Without the blanks rich pads each line to the full width with."""
    return "".join(line.rstrip() + "\n" for line in text.splitlines())
