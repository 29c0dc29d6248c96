"""``depwatch baseline write``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from depwatch.commands import arguments
from depwatch.commands.arguments import (
    Command,
    ExcludeOption,
    IgnoreOption,
    NoUsageOption,
    OsvUrlOption,
    PathsArg,
    PlatformOption,
    PythonOption,
    RulesOption,
    VulnServiceOption,
    reports_errors,
    vuln_choice,
    write,
)
from depwatch.model import FailOn

__all__ = ["baseline_app"]

baseline_app = typer.Typer(
    help="Record today's findings so a gate fails only on new ones.",
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)


@baseline_app.command(
    "write", cls=Command, short_help="Record today's findings in a baseline file."
)
@reports_errors
def baseline_write(
    file: Annotated[Path, typer.Argument(metavar="FILE", help="The baseline file to write.")],
    paths: PathsArg = None,
    python: PythonOption = None,
    today: Annotated[
        str | None,
        typer.Option(
            "--today", metavar="YYYY-MM-DD", help="The date for end-of-life rules (YYYY-MM-DD)."
        ),
    ] = None,
    vulns: Annotated[
        bool, typer.Option("--vulns", help="Record known vulnerabilities too (pip-audit).")
    ] = False,
    vuln_service: VulnServiceOption = None,
    osv_url: OsvUrlOption = None,
    platform: PlatformOption = None,
    rules: RulesOption = None,
    exclude: ExcludeOption = None,
    no_usage: NoUsageOption = False,
    ignore: IgnoreOption = None,
) -> None:
    """Record today's findings, so that `check --baseline FILE` fails only on new ones.

    Takes check's selection options: record with the ones the gate runs with."""
    from depwatch import audit, policy
    from depwatch.options import CheckOptions

    chosen = vuln_choice(vulns, vuln_service, osv_url)
    options = CheckOptions(
        paths=tuple(paths or ()),
        rules_dirs=tuple(rules or ()),
        usage=not no_usage,
        exclude=tuple(exclude or ()),
        ignore=tuple(ignore or ()),
        pythons=arguments.pythons(python or []),
        platforms=tuple(p.value for p in platform or ()),
        today=arguments.today(today),
        fail_on=FailOn.NEVER,
        vulns=chosen.vulns,
        vuln_service=chosen.service,
        osv_url=chosen.osv_url,
    )
    outcome = audit.check(options)
    write(policy.baseline_document(outcome.report.findings, file), file)
    sys.stdout.write(f"wrote {len(outcome.report.findings)} finding(s) to {file}\n")
