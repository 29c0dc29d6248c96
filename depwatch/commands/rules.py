"""``depwatch rules list|show|check``."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from depwatch.commands.arguments import Command, RulesFormat, RulesOption, fail, reports_errors
from depwatch.commands.screen import color, screen, width
from depwatch.errors import DepwatchError

__all__ = ["rules_app"]

rules_app = typer.Typer(
    help="List, show and validate change rules.",
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _rule_dirs(rules: list[Path] | None) -> list[Path]:
    """The rule folders ``[tool.depwatch] rules`` names in the pyproject.toml of the project
    found upward from here (as ``check`` here would load them), then the ``--rules`` ones."""
    from depwatch import tomlfile
    from depwatch.discovery import find_project
    from depwatch.settings import parse_settings

    pyproject = find_project(Path.cwd()) / "pyproject.toml"
    found: list[Path] = []
    if os.path.lexists(pyproject):  # a folder or FIFO there is an error, not an absence
        found += parse_settings(tomlfile.load(pyproject), path=pyproject).rules
    return found + [d for d in rules or () if d not in found]


@rules_app.command("list", cls=Command, short_help="List the rules (of one package, or all).")
@reports_errors
def rules_list(
    package: Annotated[
        str | None,
        typer.Argument(
            metavar="PACKAGE",
            help="Only the rules of this package (default: all).",
            show_default=False,
        ),
    ] = None,
    format: Annotated[
        RulesFormat, typer.Option("--format", "-f", help="Output format.")
    ] = RulesFormat.table,
    rules: RulesOption = None,
) -> None:
    """List the rules: the shipped ones, [tool.depwatch] rules of the project here, and any
    --rules folders."""
    from depwatch.reporters.rules import render_rule_list
    from depwatch.rulebook import load_rulebook

    book = load_rulebook(_rule_dirs(rules))
    chosen = list(book)
    if package is not None:
        from packaging.utils import canonicalize_name

        wanted = canonicalize_name(package.strip())
        chosen = list(book.interpreter_rules()) if wanted == "python" else []
        chosen = chosen or list(book.for_package(wanted))
    color, width = screen() if format is RulesFormat.table else (False, 80)
    sys.stdout.write(render_rule_list(chosen, format.value, color=color, width=width))


@rules_app.command("show", cls=Command, short_help="Show one rule in full.")
@reports_errors
def rules_show(
    rule_id: Annotated[
        str,
        typer.Argument(
            metavar="RULE_ID", help="A rule id, like google-genai/response-format-wire-names."
        ),
    ],
    rules: RulesOption = None,
) -> None:
    """Show one rule in full."""
    from depwatch.reporters.rules import render_rule
    from depwatch.rulebook import load_rulebook

    book = load_rulebook(_rule_dirs(rules))
    rule = book.get(rule_id)
    if rule is None:
        from packaging.utils import canonicalize_name

        package = canonicalize_name(rule_id.partition("/")[0].strip())
        same = book.interpreter_rules() if package == "python" else book.for_package(package)
        close = [r.id for r in same][:5] if package else []
        hint = (
            f"rules for that package: {', '.join(close)}"
            if close
            else "list them with: depwatch rules list"
        )
        fail(DepwatchError(f"no rule {rule_id!r}", hint=hint))
    sys.stdout.write(render_rule(rule, color=color(), width=width()))


@rules_app.command("check", cls=Command, short_help="Validate rule files (every problem at once).")
@reports_errors
def rules_check(
    dirs: Annotated[
        list[Path] | None,
        typer.Argument(
            metavar="DIR...",
            help="Rule folders to validate (default: the shipped rules).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Validate rule files: every problem at once, each naming the file and key."""
    from depwatch.rulebook import check_dirs, shipped_dir

    targets = list(dirs or [shipped_dir()])
    checked = check_dirs(targets)
    from depwatch.reporters.text import oneline

    folders = ", ".join(oneline(str(target)) for target in targets)
    sys.stdout.write(f"{len(checked)} rule(s) valid in {folders}\n")
