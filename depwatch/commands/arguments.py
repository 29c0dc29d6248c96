"""The CLI's arguments: the option types the commands share, their checks, and the one place a
``DepwatchError`` becomes a few lines on stderr and exit 2."""

from __future__ import annotations

import datetime
import functools
import os
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Annotated, Any, NoReturn, ParamSpec, TypeVar

import typer
from typer.core import TyperCommand

from depwatch.commands.screen import ColorChoice, set_color
from depwatch.errors import DepwatchError, ExitCode

__all__ = [
    "ColorOption",
    "Command",
    "ExcludeOption",
    "Format",
    "IgnoreOption",
    "IndexUrlOption",
    "NoUsageOption",
    "OfflineOption",
    "OnlineOption",
    "OsvUrlOption",
    "PackagesFormat",
    "PathsArg",
    "Platform",
    "PlatformOption",
    "PythonOption",
    "RulesFormat",
    "RulesOption",
    "VulnChoice",
    "VulnService",
    "VulnServiceOption",
    "fail",
    "index_url",
    "pythons",
    "reports_errors",
    "today",
    "vuln_choice",
    "write",
]

_P = ParamSpec("_P")
_R = TypeVar("_R")


class Command(TyperCommand):
    """A command whose usage line shows a required argument as ``RULE_ID``, not typer's
    ``{RULE_ID}`` (which reads as a literal brace to type)."""

    def collect_usage_pieces(self, ctx: Any) -> list[str]:
        return [_BRACED.sub(r"\1", piece) for piece in super().collect_usage_pieces(ctx)]


_BRACED = re.compile(r"\{([^{}]*)\}")


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


def fail(exc: DepwatchError) -> NoReturn:
    """The error on stderr (a few lines, escaped), and exit 2."""
    from depwatch.reporters.text import sanitize

    sys.stderr.write(f"depwatch: error: {sanitize(str(exc))}\n")
    raise typer.Exit(ExitCode.ERROR)


def reports_errors(command: Callable[_P, _R]) -> Callable[_P, _R]:
    """``command`` with every ``DepwatchError`` it raises turned into :func:`fail`."""

    @functools.wraps(command)
    def run(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        try:
            return command(*args, **kwargs)
        except DepwatchError as exc:
            fail(exc)

    return run


def write(text: str, output: Path | None) -> None:
    """``text`` to FILE (``--output``), else to stdout."""
    if output is None:
        sys.stdout.write(text)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        fail(DepwatchError(f"cannot write the report: {exc.strerror or exc}", path=str(output)))


ColorOption = Annotated[
    ColorChoice | None,
    typer.Option(
        "--color",
        callback=set_color,
        help="Colour the output: auto (a terminal, unless NO_COLOR), always or never.",
        show_default=False,
    ),
]


def today(value: str | None) -> datetime.date:
    if value is None:
        return datetime.date.today()
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(
            f"{value!r} is not a date like 2026-12-31", param_hint="'--today'"
        ) from None


_ASCII_NUMBER = re.compile(r"[0-9]{1,9}")  # more digits is no Python (and int() may refuse)


@dataclass(frozen=True)
class VulnChoice:
    """``CheckOptions``' vulnerability fields, as the flags and the environment choose them."""

    vulns: bool
    service: str | None
    osv_url: str | None


def vuln_choice(vulns: bool, service: VulnService | None, osv_url: str | None) -> VulnChoice:
    """``CheckOptions``' vulnerability fields from the flags. A URL on the command line asks
    for the audit; one in ``DEPWATCH_OSV_URL`` (kept off the command line) only says where to
    audit, so a hook run in the same environment stays off the network."""
    url = osv_url or os.environ.get("DEPWATCH_OSV_URL") or None
    return VulnChoice(
        vulns=vulns or osv_url is not None or service is not None,
        service="osv" if url else service.value if service else None,
        osv_url=url,
    )


def pythons(values: list[str]) -> tuple[str, ...]:
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


def index_url(value: str | None) -> str | None:
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
