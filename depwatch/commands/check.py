"""``depwatch check``'s run: the progress line, the audit (or ``--recursive``), and the report
to the screen or a file."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import typer

from depwatch.commands.arguments import reports_errors, write
from depwatch.commands.progress import Progress, wants_progress
from depwatch.commands.screen import screen
from depwatch.errors import ExitCode

if TYPE_CHECKING:
    from depwatch.model import Report
    from depwatch.options import CheckOptions

__all__ = ["run_check"]


@reports_errors
def run_check(
    options: CheckOptions,
    fmt: str,
    output: Path | None,
    *,
    quiet: bool,
    verbose: bool,
    fix_commands: bool = False,
    recursive: bool = False,
) -> NoReturn:
    """Run the check and hand its report to the reporter: stdout, ``--output FILE`` or
    ``--fix-commands``; the exit code is the outcome's."""
    from dataclasses import replace

    from depwatch import audit, reporters

    progress = Progress() if wants_progress(fmt, output, quiet) else None
    if progress is not None:
        options = replace(options, progress=progress)
    try:
        if recursive:
            from depwatch.monorepo import check_recursive

            joined = check_recursive(options)
            outcome = joined.outcome
            _project_errors(joined.errors)
        else:
            outcome = audit.check(options)
    finally:
        if progress is not None:
            progress.stop()
    if outcome.quiet:
        raise typer.Exit(ExitCode.OK)
    if fix_commands:
        _print_fix_commands(outcome.report, output, quiet=quiet)
        raise typer.Exit(outcome.exit_code)
    color, width = screen() if fmt == "table" or output is not None else (False, 80)
    if quiet and fmt == "table":
        from depwatch.reporters import table

        text = table.render(
            outcome.report,
            color=color and output is None,
            width=width,
            verbose=verbose,
            quiet=True,
        )
    else:
        text = reporters.render(
            fmt,
            outcome.report,
            color=color and output is None and fmt == "table",
            width=width,
            verbose=verbose,
        )
    write(text, output)
    if output is not None and not quiet and fmt != "table":
        sys.stdout.write(
            reporters.render("table", outcome.report, color=color, width=width, verbose=verbose)
        )
    if options.strict and outcome.gaps and not quiet:
        sys.stderr.write("depwatch: --strict: the audit has gaps:\n")
        from depwatch.reporters.text import oneline

        sys.stderr.writelines(f"  {oneline(gap)}\n" for gap in outcome.gaps)
    if outcome.error is not None:
        from depwatch.reporters.text import sanitize

        sys.stderr.write(f"depwatch: error: {sanitize(outcome.error)}\n")
    raise typer.Exit(outcome.exit_code)


def _project_errors(errors: tuple[str, ...]) -> None:
    """``--recursive``: each project that could not be audited (the others are reported)."""
    from depwatch.reporters.text import sanitize

    sys.stderr.writelines(f"depwatch: error: {sanitize(error)}\n" for error in errors)


def _print_fix_commands(report: Report, output: Path | None, *, quiet: bool) -> None:
    """``--fix-commands``: the commands on stdout (or FILE), the rest as ``#`` lines on stderr."""
    from depwatch.fixes import commands
    from depwatch.reporters.text import oneline

    lines, notes = commands(report.findings)
    write("".join(f"{line}\n" for line in lines), output)
    if not quiet:
        sys.stderr.writelines(f"# {oneline(note)}\n" for note in notes)
