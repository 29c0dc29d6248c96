"""``depwatch rules list`` and ``depwatch rules show``: rules as tables, JSON, Markdown, text."""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from typing import Any

from depwatch.reporters.json import dumps
from depwatch.reporters.markdown import md, md_link
from depwatch.reporters.text import oneline, sanitize
from depwatch.rulebook.model import CallPattern, LockCondition, Rule

__all__ = ["DOCS_COMMAND", "render_rule", "render_rule_docs", "render_rule_list", "rule_dict"]


def _condition_dict(condition: LockCondition) -> dict[str, Any]:
    return {
        "package": condition.package,
        "versions": str(condition.versions) if condition.versions is not None else None,
        "runtime": condition.runtime,
        "symbols": list(condition.symbols),
    }


def describe_condition(condition: LockCondition) -> str:
    """``werkzeug >=3.1.0`` / ``setuptools (run time) — for distutils``."""
    text = condition.package
    if condition.versions is not None:
        text += f" {condition.versions}"
    if condition.runtime:
        text += " (at run time, not only in development groups)"
    if condition.symbols:
        text += f" — for {', '.join(condition.symbols)}"
    return text


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
        "action_below": rule.action_below,
        "references": list(rule.references),
        "usage": None,
        "when_locked": [_condition_dict(c) for c in rule.when_locked],
        "unless_locked": [_condition_dict(c) for c in rule.unless_locked],
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
                    "not_passed_to": list(c.not_passed_to),
                    "string_arg": c.string_arg,
                }
                for c in rule.usage.calls
            ],
            "env": list(rule.usage.env),
            "assignments": list(rule.usage.assignments),
            "when_unused": rule.when_unused,
        }
    return data


def describe_call(call: CallPattern) -> str:
    """A call pattern as a reader would say it: ``yaml.load() without Loader=``."""
    text = _describe_call(call._replace(not_passed_to=()))
    if call.string_arg is not None:
        text += f" with a string literal as argument {call.string_arg + 1}"
    if call.not_passed_to:
        text += f", unless its result goes straight to {' or '.join(call.not_passed_to)}()"
    return text


def _describe_call(call: CallPattern) -> str:
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
        return render_rule_docs(ordered)
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
        ("What to do" if rule.action_below is None else "What to do (locked inside)", rule.action),
        ("What to do (locked below the boundary)", rule.action_below or ""),
    ):
        if not body:
            continue
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
        for name in rule.usage.assignments:
            console.print(Text(f"  module-level assignment {oneline(name)} = …"))
        console.print(Text(f"  without usage: {rule.when_unused}"))
    for heading, conditions in (
        ("Only when the lock also holds", rule.when_locked),
        ("Not when the lock also holds", rule.unless_locked),
    ):
        if conditions:
            console.print()
            console.print(Text(heading, style="bold"))
            for condition in conditions:
                console.print(Text(f"  {oneline(describe_condition(condition))}"))
    console.print()
    console.print(Text("References", style="bold"))
    for ref in rule.references:
        console.print(Text(f"  {oneline(ref)}"), soft_wrap=True)
    return _stripped(buffer.getvalue())


def _stripped(text: str) -> str:
    """Without the blanks rich pads each line to the full width with."""
    return "".join(line.rstrip() + "\n" for line in text.splitlines())


#: The command that writes docs/rules.md (the staleness test names it).
DOCS_COMMAND = "depwatch rules list --format markdown > docs/rules.md"


def _anchor(rule_id: str) -> str:
    """GitHub's heading anchor for a rule id heading (lower case, punctuation but - dropped)."""
    return re.sub(r"[^a-z0-9 _-]", "", rule_id.lower()).replace(" ", "-")


def _fenced(code: str, info: str = "") -> list[str]:
    """A fenced code block whose fence is longer than any backtick run in ``code``."""
    longest = max((len(run) for run in re.findall(r"`+", code)), default=0)
    fence = "`" * max(3, longest + 1)
    return [f"{fence}{info}", *sanitize(code).strip("\n").splitlines(), fence]


def _example(rule: Rule) -> list[str]:
    """An example that hits: a locked version inside ``affected`` and the code lines found."""
    out: list[str] = []
    if rule.examples.affected:
        what = "Python" if rule.is_interpreter else rule.package
        lock = md(f"{what} {rule.examples.affected[0]}")
        declared = ""
        if rule.python_requires is not None:
            declared = f", on a project that still declares Python {md(_below(rule))}"
        out.append(f"Locked: {lock}{declared}.")
    if rule.examples.code:
        hits = [
            line for line in rule.examples.code.splitlines() if line.rstrip().endswith("# expect")
        ]
        if hits:
            out += ["", "Code it finds (lines marked `# expect`):", ""]
            out += _fenced(rule.examples.code, "python")
    return out


def _below(rule: Rule) -> str:
    from depwatch.pythons import admitted_minors

    assert rule.python_requires is not None
    floor = admitted_minors(rule.python_requires)
    if not floor:
        return "an older version"
    major, minor = floor[0].split(".")
    return f"{major}.{int(minor) - 1}" if int(minor) > 0 else "an older version"


def _section(rule: Rule) -> list[str]:
    facts = [
        f"**{rule.kind}**",
        f"tag **{rule.tag.value}**",
        f"affected `{rule.affected}`" if str(rule.affected) else "every version",
    ]
    if rule.boundary is not None:
        facts.append(f"boundary {rule.boundary}")
    if rule.fixed is not None:
        facts.append(f"fixed in {rule.fixed}")
    if rule.python_requires is not None:
        facts.append(f"Requires-Python `{rule.python_requires}`")
    if rule.eol is not None:
        facts.append(f"end of life {rule.eol.isoformat()}")
    lines = [f"### {md(rule.id)}", "", md(rule.title), "", " · ".join(facts), ""]
    lines += ["**What changed.** " + md(rule.what), ""]
    lines += ["**Why it matters.** " + md(rule.why), ""]
    if rule.action_below is None:
        lines += ["**What to do.** " + md(rule.action), ""]
    else:
        lines += ["**What to do** (locked inside the range). " + md(rule.action), ""]
        lines += ["**What to do** (locked below the boundary). " + md(rule.action_below), ""]
    example = _example(rule)
    if example:
        lines += ["**Example that hits.** " + example[0], *example[1:], ""]
    lines += ["**References.**", ""]
    lines += [f"- {md_link(ref)}" for ref in rule.references]
    # ``added`` is validated as a PEP 440 version by rulebook/validate.py: plain text.
    since = f"depwatch {oneline(rule.added)}" if rule.added else "an unreleased depwatch"
    lines += ["", f"**Since** {since}.", ""]
    return lines


def render_rule_docs(rules: Sequence[Rule]) -> str:
    """docs/rules.md: an index, then one section per rule (sorted by id), each in the same
    order: what changed, why it matters, what to do, an example that hits, references, since."""
    ordered = sorted(rules, key=lambda r: r.id)
    lines = [
        "# depwatch rules",
        "",
        f"<!-- Generated by `{DOCS_COMMAND}`; do not edit by hand. -->",
        "",
        f"{len(ordered)} rules. How a rule's tag is decided, and the file format: "
        "[rules/README.md](../rules/README.md). Writing one: [writing-rules.md](writing-rules.md).",
        "",
        "| id | kind | tag | affected | title |",
        "|---|---|---|---|---|",
    ]
    lines += [
        f"| [{md(r.id)}](#{_anchor(r.id)}) | {r.kind} | {r.tag.value} | `{r.affected}` "
        f"| {md(r.title)} |"
        for r in ordered
    ]
    lines.append("")
    packages: dict[str, list[Rule]] = {}
    for rule in ordered:
        packages.setdefault(rule.package, []).append(rule)
    for package, items in packages.items():
        lines += [f"## {md(package)}", ""]
        for rule in items:
            lines += _section(rule)
    return "\n".join(lines).rstrip("\n") + "\n"
