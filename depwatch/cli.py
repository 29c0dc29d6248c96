"""The command line: parse arguments, call the audit, hand the report to a reporter.

Thin on purpose: the options the commands share, the screen, the progress line and the bodies
of ``rules``, ``baseline`` and ``packages`` live in :mod:`depwatch.commands`. Every
``DepwatchError`` becomes a few lines on stderr and exit 2 in one place
(:func:`depwatch.commands.arguments.reports_errors`); heavy modules (rich, the rulebook, the
scanner, pip-audit) are imported only by the commands that need them. Nothing imports this module
but the entry point.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from depwatch import __version__
from depwatch.commands import arguments
from depwatch.commands.arguments import (
    ColorOption,
    Command,
    ExcludeOption,
    Format,
    IgnoreOption,
    IndexUrlOption,
    NoUsageOption,
    OfflineOption,
    OnlineOption,
    OsvUrlOption,
    PathsArg,
    PlatformOption,
    PythonOption,
    RulesOption,
    VulnServiceOption,
)
from depwatch.commands.baseline import baseline_app
from depwatch.commands.packages import packages
from depwatch.commands.rules import rules_app
from depwatch.model import FailOn

app = typer.Typer(
    name="depwatch",
    help="What in your lockfile is about to hurt you, and what to do about it.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.add_typer(rules_app, name="rules")
app.add_typer(baseline_app, name="baseline")


def _version(value: bool) -> None:
    if value:
        sys.stdout.write(f"depwatch {__version__}\n")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool,
        typer.Option(
            "--version", "-V", callback=_version, is_eager=True, help="Print the version."
        ),
    ] = False,
    color: ColorOption = None,
) -> None:
    """depwatch: a dependency-impact auditor for Python lockfiles."""


@app.command(
    cls=Command, short_help="Match the lockfiles against the rules and print the actions to take."
)
def check(
    paths: PathsArg = None,
    format: Annotated[Format, typer.Option("--format", "-f", help="Output format.")] = Format.table,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            metavar="FILE",
            help="Write the report to FILE (a table still goes to the screen).",
        ),
    ] = None,
    fail_on: Annotated[
        FailOn | None,
        typer.Option(
            "--fail-on",
            help="Exit 1 on findings at or above this tag [default: immediate].",
            show_default=False,
        ),
    ] = None,
    rules: RulesOption = None,
    no_usage: NoUsageOption = False,
    exclude: ExcludeOption = None,
    ignore: IgnoreOption = None,
    baseline: Annotated[
        Path | None,
        typer.Option(
            "--baseline",
            metavar="FILE",
            help="Fail only on findings not recorded in this baseline file.",
        ),
    ] = None,
    since: Annotated[
        str | None,
        typer.Option(
            "--since", metavar="REV", help="Report only what changed since this git revision."
        ),
    ] = None,
    python: PythonOption = None,
    platform: PlatformOption = None,
    today: Annotated[
        str | None,
        typer.Option(
            "--today",
            metavar="YYYY-MM-DD",
            help="The date for end-of-life rules and ignore expiry (YYYY-MM-DD).",
        ),
    ] = None,
    vulns: Annotated[
        bool,
        typer.Option(
            "--vulns", help="Also audit for known vulnerabilities with pip-audit (network)."
        ),
    ] = False,
    vuln_service: VulnServiceOption = None,
    osv_url: OsvUrlOption = None,
    online: OnlineOption = None,
    offline: OfflineOption = False,
    index_url: IndexUrlOption = None,
    strict: Annotated[
        bool,
        typer.Option(
            "--strict",
            help="Exit 2 on any gap: unaudited or unchecked packages, unreadable sources, "
            "stale or expired ignores.",
        ),
    ] = False,
    quiet: Annotated[
        bool,
        typer.Option("--quiet", "-q", help="Print the findings only (no summary or sections)."),
    ] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Print more.")] = False,
    recursive: Annotated[
        bool,
        typer.Option(
            "--recursive",
            "-r",
            help="Audit every project below each PATH folder (or those [tool.depwatch] projects "
            "lists), in parallel; one exit code for all.",
        ),
    ] = False,
    fix_commands: Annotated[
        bool,
        typer.Option(
            "--fix-commands",
            help="Print only the commands that resolve the findings, one per line (edits and "
            "constraints to change first go to stderr as comments). Nothing is run.",
        ),
    ] = False,
    color: ColorOption = None,
) -> None:
    """Match the lockfiles against the change rules and print the actions to take."""
    from depwatch.commands.check import run_check
    from depwatch.options import CheckOptions

    if since is not None and not since.strip():
        raise typer.BadParameter(
            "needs a git revision (a branch, tag or commit)", param_hint="'--since'"
        )
    chosen = arguments.vuln_choice(vulns, vuln_service, osv_url)
    options = CheckOptions(
        paths=tuple(paths or ()),
        rules_dirs=tuple(rules or ()),
        usage=not no_usage,
        exclude=tuple(exclude or ()),
        ignore=tuple(ignore or ()),
        baseline=baseline,
        since=since,
        pythons=arguments.pythons(python or []),
        platforms=tuple(p.value for p in platform or ()),
        today=arguments.today(today),
        vulns=chosen.vulns,
        vuln_service=chosen.service,
        osv_url=chosen.osv_url,
        strict=strict,
        fail_on=fail_on,
        hook=os.environ.get("PRE_COMMIT") == "1",
        verbose=verbose,
        online=online,
        offline=offline,
        index_url=arguments.index_url(index_url),
    )
    run_check(
        options,
        format.value,
        output,
        quiet=quiet,
        verbose=verbose,
        fix_commands=fix_commands,
        recursive=recursive,
    )


app.command(cls=Command, short_help="List what the lockfiles pin.")(packages)
