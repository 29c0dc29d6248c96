"""The command line: parse arguments, call the audit, hand the report to a reporter.

Thin on purpose. Every ``DepwatchError`` becomes a few lines on stderr and exit 2 here, in one
place; heavy modules (rich, the rulebook, the scanner, pip-audit) are imported only by the
commands that need them.
"""

from __future__ import annotations

import datetime
import os
import re
import sys
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from typer.core import TyperCommand

from depwatch import __version__
from depwatch.errors import DepwatchError, ExitCode
from depwatch.model import FailOn

if TYPE_CHECKING:
    from depwatch.audit import CheckOptions


class _Command(TyperCommand):
    """A command whose usage line shows a required argument as ``RULE_ID``, not typer's
    ``{RULE_ID}`` (which reads as a literal brace to type)."""

    def collect_usage_pieces(self, ctx: Any) -> list[str]:
        return [_BRACED.sub(r"\1", piece) for piece in super().collect_usage_pieces(ctx)]


_BRACED = re.compile(r"\{([^{}]*)\}")

app = typer.Typer(
    name="depwatch",
    help="What in your lockfile is about to hurt you, and what to do about it.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)
rules_app = typer.Typer(
    help="List, show and validate change rules.",
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)
baseline_app = typer.Typer(
    help="Record today's findings so a gate fails only on new ones.",
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.add_typer(rules_app, name="rules")
app.add_typer(baseline_app, name="baseline")


class Format(str, Enum):
    table = "table"
    json = "json"
    sarif = "sarif"
    markdown = "markdown"
    github = "github"


class PackagesFormat(str, Enum):
    table = "table"
    json = "json"


class RulesFormat(str, Enum):
    table = "table"
    json = "json"
    markdown = "markdown"


class Platform(str, Enum):
    linux = "linux"
    macos = "macos"
    windows = "windows"


class VulnService(str, Enum):
    pypi = "pypi"
    osv = "osv"


def _fail(exc: DepwatchError) -> NoReturn:
    from depwatch.reporters.text import sanitize

    sys.stderr.write(f"depwatch: error: {sanitize(str(exc))}\n")
    raise typer.Exit(ExitCode.ERROR)


class ColorChoice(str, Enum):
    auto = "auto"
    always = "always"
    never = "never"


_color_choice = ColorChoice.auto
"""``--color``: auto lets rich decide from the terminal, NO_COLOR and FORCE_COLOR."""


def _screen() -> tuple[bool, int]:
    """Whether stdout gets colour, and its width, as rich decides them (a terminal or not,
    NO_COLOR, FORCE_COLOR, COLUMNS), with ``--color`` over the environment."""
    from rich.console import Console

    force = {ColorChoice.always: True, ColorChoice.never: False}.get(_color_choice)
    console = Console(file=sys.stdout, force_terminal=force)
    color = (
        _color_choice is not ColorChoice.never
        and console.is_terminal
        and not console.no_color
        and console.color_system is not None
    ) or _color_choice is ColorChoice.always
    return color, console.width


def _color() -> bool:
    return _screen()[0]


def _width() -> int:
    return _screen()[1]


def _write(text: str, output: Path | None) -> None:
    if output is None:
        sys.stdout.write(text)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        _fail(DepwatchError(f"cannot write the report: {exc.strerror or exc}", path=str(output)))


def _version(value: bool) -> None:
    if value:
        sys.stdout.write(f"depwatch {__version__}\n")
        raise typer.Exit()


def _set_color(value: ColorChoice | None) -> ColorChoice | None:
    global _color_choice
    if value is not None:
        _color_choice = value
    return value


ColorOption = Annotated[
    ColorChoice | None,
    typer.Option(
        "--color",
        callback=_set_color,
        help="Colour the output: auto (a terminal, unless NO_COLOR), always or never.",
        show_default=False,
    ),
]


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


def _today(value: str | None) -> datetime.date:
    if value is None:
        return datetime.date.today()
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(
            f"{value!r} is not a date like 2026-12-31", param_hint="'--today'"
        ) from None


_ASCII_NUMBER = re.compile(r"[0-9]{1,9}")  # more digits is no Python (and int() may refuse)


def _vuln_options(vulns: bool, service: VulnService | None, osv_url: str | None) -> dict[str, Any]:
    """``CheckOptions``' vulnerability fields from the flags. A URL on the command line asks
    for the audit; one in ``DEPWATCH_OSV_URL`` (kept off the command line) only says where to
    audit, so a hook run in the same environment stays off the network."""
    url = osv_url or os.environ.get("DEPWATCH_OSV_URL") or None
    return {
        "vulns": vulns or osv_url is not None or service is not None,
        "vuln_service": "osv" if url else service.value if service else None,
        "osv_url": url,
    }


def _pythons(values: list[str]) -> tuple[str, ...]:
    out = []
    for value in values:
        parts = value.split(".")
        if len(parts) < 2 or not all(_ASCII_NUMBER.fullmatch(p) for p in parts[:2]):
            raise typer.BadParameter(
                f"{value!r} is not a Python version like 3.10", param_hint="'--python'"
            )
        out.append(f"{int(parts[0])}.{int(parts[1])}")
    return tuple(dict.fromkeys(out))


VulnServiceOption = Annotated[
    VulnService | None,
    typer.Option("--vuln-service", help="pip-audit's vulnerability service."),
]
OsvUrlOption = Annotated[
    str | None,
    typer.Option(
        "--osv-url",
        metavar="URL",
        help="A custom OSV /v1/query endpoint (implies --vuln-service osv). Put one with "
        "credentials in DEPWATCH_OSV_URL instead: a command line is visible to every user.",
    ),
]
OnlineOption = Annotated[
    bool | None,
    typer.Option(
        "--online/--no-online",
        help="Ask the package index about every locked release: yanked, Requires-Python, "
        "newest release (network) [default: [tool.depwatch] online, else off].",
        show_default=False,
    ),
]
OfflineOption = Annotated[
    bool,
    typer.Option("--offline", help="Index facts from the cache only (implies --online)."),
]
IndexUrlOption = Annotated[
    str | None,
    typer.Option(
        "--index-url",
        metavar="URL",
        help="The simple index to ask (default: [tool.depwatch] index-url, PIP_INDEX_URL, "
        "UV_DEFAULT_INDEX, UV_INDEX_URL, else PyPI). Put credentials in ~/.netrc or "
        "PIP_INDEX_URL: a command line is visible to every user.",
    ),
]


def _index_url(value: str | None) -> str | None:
    if value is not None and not value.strip().startswith(("https://", "http://")):
        raise typer.BadParameter(
            "needs an http(s) URL of a simple index", param_hint="'--index-url'"
        )
    return value.strip() if value else None


RulesOption = Annotated[
    list[Path] | None,
    typer.Option("--rules", metavar="DIR", help="An extra folder of rule files (repeatable)."),
]
PythonOption = Annotated[
    list[str] | None,
    typer.Option("--python", metavar="X.Y", help="A target Python version, X.Y (repeatable)."),
]
PlatformOption = Annotated[
    list[Platform] | None,
    typer.Option("--platform", help="A target platform (repeatable)."),
]
ExcludeOption = Annotated[
    list[str] | None,
    typer.Option(
        "--exclude",
        metavar="GLOB",
        help="A source path glob the usage scan skips (repeatable).",
    ),
]
NoUsageOption = Annotated[
    bool, typer.Option("--no-usage", help="Do not scan the project's code for usage.")
]
IgnoreOption = Annotated[
    list[str] | None,
    typer.Option("--ignore", metavar="ID", help="Suppress a rule or advisory id (repeatable)."),
]
PathsArg = Annotated[
    list[str] | None,
    typer.Argument(
        metavar="PATH...",
        help="Project folders, lockfiles, or pyproject.toml/Pipfile (default: the project "
        "found upward from here).",
        show_default=False,
    ),
]


@app.command(
    cls=_Command, short_help="Match the lockfiles against the rules and print the actions to take."
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
    from depwatch.audit import CheckOptions

    if since is not None and not since.strip():
        raise typer.BadParameter(
            "needs a git revision (a branch, tag or commit)", param_hint="'--since'"
        )
    options = CheckOptions(
        paths=tuple(paths or ()),
        rules_dirs=tuple(rules or ()),
        usage=not no_usage,
        exclude=tuple(exclude or ()),
        ignore=tuple(ignore or ()),
        baseline=baseline,
        since=since,
        pythons=_pythons(python or []),
        platforms=tuple(p.value for p in platform or ()),
        today=_today(today),
        **_vuln_options(vulns, vuln_service, osv_url),
        strict=strict,
        fail_on=fail_on,
        hook=os.environ.get("PRE_COMMIT") == "1",
        verbose=verbose,
        online=online,
        offline=offline,
        index_url=_index_url(index_url),
    )
    _run_check(
        options,
        format.value,
        output,
        quiet=quiet,
        verbose=verbose,
        fix_commands=fix_commands,
        recursive=recursive,
    )


class _Progress:
    """A transient line on stderr saying what a run is doing, shown only once it has taken
    about a second (rich.progress; it disappears before the report is printed)."""

    DELAY = 1.0

    def __init__(self) -> None:
        import threading

        self.text = "Reading the lockfiles"
        self._lock = threading.Lock()
        self._shown: Any = None
        self._task: Any = None
        self._stopped = False
        self._timer = threading.Timer(self.DELAY, self._show)
        self._timer.daemon = True
        self._timer.start()

    def __call__(self, text: str) -> None:
        with self._lock:
            self.text = text
            if self._shown is not None:
                self._shown.update(self._task, description=text)

    def _show(self) -> None:
        from rich.console import Console
        from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        with self._lock:
            if self._stopped:
                return
            self._shown = Progress(
                SpinnerColumn(),
                TextColumn("{task.description}"),
                TimeElapsedColumn(),
                console=Console(stderr=True),
                transient=True,
            )
            self._task = self._shown.add_task(self.text, total=None)
            self._shown.start()

    def stop(self) -> None:
        self._timer.cancel()
        with self._lock:
            self._stopped = True
            if self._shown is not None:
                self._shown.stop()


def _wants_progress(fmt: str, output: Path | None, quiet: bool) -> bool:
    """Only for a person at a terminal: never piped, never for machine output on stdout,
    never under pre-commit, never with ``-q``."""
    return (
        not quiet
        and (fmt == "table" or output is not None)
        and os.environ.get("PRE_COMMIT") != "1"
        and sys.stderr.isatty()
    )


def _run_check(
    options: CheckOptions,
    fmt: str,
    output: Path | None,
    *,
    quiet: bool,
    verbose: bool,
    fix_commands: bool = False,
    recursive: bool = False,
) -> NoReturn:
    from dataclasses import replace

    from depwatch import audit, reporters

    progress = _Progress() if _wants_progress(fmt, output, quiet) else None
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
    except DepwatchError as exc:
        _fail(exc)
    finally:
        if progress is not None:
            progress.stop()
    if outcome.quiet:
        raise typer.Exit(ExitCode.OK)
    if fix_commands:
        _print_fix_commands(outcome.report, output, quiet=quiet)
        raise typer.Exit(outcome.exit_code)
    color, width = _screen() if fmt == "table" or output is not None else (False, 80)
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
    _write(text, output)
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


def _print_fix_commands(report: Any, output: Path | None, *, quiet: bool) -> None:
    """``--fix-commands``: the commands on stdout (or FILE), the rest as ``#`` lines on stderr."""
    from depwatch.fixes import commands
    from depwatch.reporters.text import oneline

    lines, notes = commands(report.findings)
    _write("".join(f"{line}\n" for line in lines), output)
    if not quiet:
        sys.stderr.writelines(f"# {oneline(note)}\n" for note in notes)


@app.command(cls=_Command, short_help="List what the lockfiles pin.")
def packages(
    paths: PathsArg = None,
    format: Annotated[
        PackagesFormat, typer.Option("--format", "-f", help="Output format.")
    ] = PackagesFormat.table,
    online: OnlineOption = None,
    offline: OfflineOption = False,
    index_url: IndexUrlOption = None,
) -> None:
    """List what the lockfiles pin (with --online: how far behind the index each is)."""
    from depwatch import audit, reporters
    from depwatch.online import inventory_online

    try:
        if online or offline:
            behind = inventory_online(
                tuple(paths or ()), offline=offline, index_url=_index_url(index_url)
            )
            items = behind.items
        else:
            items, behind = audit.inventory(tuple(paths or ())), None
    except DepwatchError as exc:
        _fail(exc)
    sys.stdout.write(
        reporters.render_packages(
            items,
            format.value,
            color=_color(),
            width=_width(),
            online=behind.facts if behind else None,
            not_checked=behind.not_checked if behind else None,
        )
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


@rules_app.command("list", cls=_Command, short_help="List the rules (of one package, or all).")
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

    try:
        book = load_rulebook(_rule_dirs(rules))
    except DepwatchError as exc:
        _fail(exc)
    chosen = list(book)
    if package is not None:
        from packaging.utils import canonicalize_name

        wanted = canonicalize_name(package.strip())
        chosen = list(book.interpreter_rules()) if wanted == "python" else []
        chosen = chosen or list(book.for_package(wanted))
    color, width = _screen() if format is RulesFormat.table else (False, 80)
    sys.stdout.write(render_rule_list(chosen, format.value, color=color, width=width))


@rules_app.command("show", cls=_Command, short_help="Show one rule in full.")
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

    try:
        book = load_rulebook(_rule_dirs(rules))
    except DepwatchError as exc:
        _fail(exc)
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
        _fail(DepwatchError(f"no rule {rule_id!r}", hint=hint))
    sys.stdout.write(render_rule(rule, color=_color(), width=_width()))


@rules_app.command("check", cls=_Command, short_help="Validate rule files (every problem at once).")
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
    try:
        checked = check_dirs(targets)
    except DepwatchError as exc:
        _fail(exc)
    from depwatch.reporters.text import oneline

    folders = ", ".join(oneline(str(target)) for target in targets)
    sys.stdout.write(f"{len(checked)} rule(s) valid in {folders}\n")


@baseline_app.command(
    "write", cls=_Command, short_help="Record today's findings in a baseline file."
)
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
    from depwatch.audit import CheckOptions

    options = CheckOptions(
        paths=tuple(paths or ()),
        rules_dirs=tuple(rules or ()),
        usage=not no_usage,
        exclude=tuple(exclude or ()),
        ignore=tuple(ignore or ()),
        pythons=_pythons(python or []),
        platforms=tuple(p.value for p in platform or ()),
        today=_today(today),
        fail_on=FailOn.NEVER,
        **_vuln_options(vulns, vuln_service, osv_url),
    )
    try:
        outcome = audit.check(options)
    except DepwatchError as exc:
        _fail(exc)
    _write(policy.baseline_document(outcome.report.findings, file), file)
    sys.stdout.write(f"wrote {len(outcome.report.findings)} finding(s) to {file}\n")
