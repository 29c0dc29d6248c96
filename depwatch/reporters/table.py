"""``--format table`` (the default): the human report, rendered with rich.

rich is imported inside the functions (it costs ~40 ms), so importing this module is cheap.
Every piece of input text goes into rich as a ``Text`` built from :func:`sanitize`\\d text and
never through markup, so ``[bold]`` in a package name or a code line is printed as written;
where a markup string is unavoidable :func:`rich_safe` escapes it.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from depwatch.model import Finding, IndexFacts, Lockfile, NotChecked, Package, Report, Tag
from depwatch.reporters.common import (
    EVIDENCE_CAP,
    TAG_MEANING,
    evidence_where,
    failing_tags,
    fix_text,
    grouped,
    held_back_text,
    plural,
    project_path,
    sorted_findings,
    sorted_not_audited,
    sorted_not_checked,
    sorted_suppressed,
    subject,
    summary_line,
    suppressed_subject,
)
from depwatch.reporters.text import oneline, sanitize

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text

__all__ = ["render", "render_packages", "rich_safe"]

_TAG_STYLE = {Tag.IMMEDIATE: "bold red", Tag.PLAN: "bold yellow", Tag.MONITOR: "bold blue"}


def rich_safe(text: str) -> str:
    """Untrusted text for a rich *markup* string: control characters and markup escaped."""
    from rich.markup import escape

    return escape(sanitize(text))


def _console(color: bool, width: int) -> Console:
    from rich.console import Console

    return Console(
        file=io.StringIO(),
        width=width,
        color_system="standard" if color else None,
        force_terminal=color,
        force_jupyter=False,
        force_interactive=False,
        no_color=not color,
        highlight=False,
        markup=False,
        emoji=False,
        soft_wrap=False,
        legacy_windows=False,
        log_path=False,
    )


def _output(console: Console) -> str:
    """What was printed, without the blanks rich pads each line to the full width with."""
    out = console.file
    assert isinstance(out, io.StringIO)
    text = out.getvalue()
    return "".join(line.rstrip() + "\n" for line in text.split("\n")[:-1]) if text else ""


def _text(*parts: tuple[str, str] | str) -> Text:
    """A ``Text`` from (untrusted text, style) pieces; plain ``str`` pieces are ours (unstyled)."""
    from rich.text import Text

    out = Text()
    for part in parts:
        if isinstance(part, tuple):
            out.append(oneline(part[0]), style=part[1] or None)
        else:
            out.append(part)
    return out


def _indented(console: Console, text: Text, indent: int) -> None:
    from rich.padding import Padding

    console.print(Padding(text, (0, 0, 0, indent)))


def _brief(console: Console, finding: Finding) -> None:
    """One line: what nothing in the project is known to hit needs no more by default."""
    line = _text(
        "  ", (subject(finding), "bold"), "  ", (finding.rule, "cyan"), "  ", (finding.title, "dim")
    )
    console.print(line, no_wrap=True, overflow="ellipsis")


def _finding(
    console: Console, finding: Finding, verbose: bool, python_sources: dict[str, str | None]
) -> None:
    _indented(
        console,
        _text((subject(finding), "bold"), "  ", (finding.rule, "cyan")),
        2,
    )
    _indented(console, _text((finding.title, "")), 4)
    held = held_back_text(finding)
    if held:
        _indented(console, _text((held, "")), 4)
    if finding.action:
        _indented(console, _text("→ ", (finding.action, "")), 4)
    fix = fix_text(finding)
    if fix:
        _indented(console, _text("  ", (fix, "green")), 4)
    if finding.references:
        # A link is never wrapped: a terminal can only open it whole.
        link = _text("    ↗ ", (finding.references[0], "underline"))
        console.print(link, soft_wrap=True)
    where: list[str | tuple[str, str]] = []
    if finding.lockfiles:
        # Paths as seen from where depwatch ran: two projects' uv.lock are told apart.
        locks = ", ".join(project_path(finding.project, lock) for lock in finding.lockfiles)
        if finding.lock_line is not None and len(finding.lockfiles) == 1:
            locks += f":{finding.lock_line}"
        where += ["in ", (locks, "")]
    elif finding.package == "python":
        source = python_sources.get(finding.project)
        where.append("declared Python")
        if source:
            where += [" (", (source, ""), ")"]
    if finding.targets:
        where += ["  targets: " if where else "targets: ", (", ".join(finding.targets), "")]
    if finding.kind == "vulnerability":
        if finding.aliases:
            where += ["  aliases: " if where else "aliases: ", (", ".join(finding.aliases), "")]
        fixed = ", ".join(finding.fixed_versions) or "none yet"
        where += ["  fixed in: " if where else "fixed in: ", (fixed, "")]
    if where:
        _indented(console, _text(*where), 4)
    cap = len(finding.evidence) if verbose else EVIDENCE_CAP
    for evidence in finding.evidence[:cap]:
        _indented(
            console,
            _text(
                (project_path(finding.project, evidence_where(evidence)), "dim"),
                "" if evidence.context == "runtime" else " ",
                ("" if evidence.context == "runtime" else f"({evidence.context})", ""),
                "  ",
                (evidence.code, ""),
            ),
            6,
        )
    more = len(finding.evidence) - cap
    if more > 0:
        _indented(console, _text((f"… and {more} more (--verbose shows all)", "dim")), 6)


def _section(console: Console, title: str, style: str) -> None:
    console.print()
    console.print(_text((title, style)))


def render(
    report: Report,
    *,
    color: bool = False,
    width: int = 100,
    verbose: bool = False,
    quiet: bool = False,
) -> str:
    """The human report: actions by urgency, then what was not checked or silenced. ``quiet``
    (``check -q``, as ``ruff -q``): the findings alone, nothing around them."""
    console = _console(color, width)
    python_sources = {project.root: project.python_source for project in report.projects}
    for project in () if quiet else report.projects:
        locks = ", ".join(
            f"{lock.path} ({plural(len(lock.packages), 'package')})" for lock in project.lockfiles
        )
        python = project.requires_python or "not declared"
        console.print(
            _text(
                ("Project", "dim"),
                " ",
                (project.root, "bold"),
                ": ",
                (locks or "no lockfile", ""),
                "; Python ",
                (python, ""),
            )
        )
    for tag, findings in grouped(report.findings):
        _section(
            console,
            f"{tag.value.upper()} ({len(findings)}) — {TAG_MEANING[tag]}",
            _TAG_STYLE[tag],
        )
        for finding in findings:
            if tag is Tag.MONITOR and not verbose and not finding.evidence:
                _brief(console, finding)
            else:
                _finding(console, finding, verbose, python_sources)
        if tag is Tag.MONITOR and not verbose and not quiet:
            _indented(
                console,
                _text(("depwatch rules show ID explains one; --verbose shows all", "dim")),
                2,
            )
    if quiet:
        return _output(console).lstrip("\n")
    if report.resolved:
        _section(console, f"Resolved ({len(report.resolved)})", "bold green")
        for finding in sorted_findings(report.resolved):
            _indented(
                console,
                _text(
                    (subject(finding), "bold"),
                    "  ",
                    (finding.rule, "cyan"),
                    "  ",
                    (finding.title, ""),
                ),
                2,
            )
    # Baselined findings are the accepted past: a count on every run, the list with --verbose.
    baselined = [s for s in report.suppressed if s.baseline]
    listed = [s for s in report.suppressed if verbose or not s.baseline]
    if baselined and not verbose:
        _section(
            console,
            f"Baselined: {plural(len(baselined), 'finding')} recorded in the baseline "
            "(list them with --verbose)",
            "bold",
        )
    if listed:
        _section(console, f"Suppressed ({len(listed)})", "bold")
        for s in sorted_suppressed(listed):
            parts: list[str | tuple[str, str]] = [
                (suppressed_subject(s), "bold"),
                "  ",
                (s.rule, "cyan"),
                "  ",
                (s.reason, ""),
            ]
            if s.until:
                parts += [" (until ", (s.until, ""), ")"]
            _indented(console, _text(*parts), 2)
    if report.stale_ignores:
        _section(
            console,
            f"Stale ignores ({len(report.stale_ignores)}): matched nothing or expired",
            "bold",
        )
        for ignore in sorted(report.stale_ignores):
            _indented(console, _text((ignore, "")), 2)
    if report.not_audited:
        n = len(report.not_audited)
        _section(
            console,
            f"Not audited ({plural(n, 'package')}): no vulnerability answer, not the same as clean",
            "bold magenta",
        )
        for item in sorted_not_audited(report.not_audited):
            name = f"{item.package} {item.version}" if item.version else item.package
            _indented(console, _text((name, "bold"), "  ", (item.reason, "")), 2)
    if report.not_checked:
        n = len(report.not_checked)
        _section(
            console,
            f"Not checked ({plural(n, 'package')}): no answer from the package index, "
            "not the same as clean",
            "bold magenta",
        )
        for unchecked in sorted_not_checked(report.not_checked):
            name = f"{unchecked.package} {unchecked.version or ''}".strip()
            _indented(console, _text((name, "bold"), "  ", (unchecked.reason, "")), 2)
    if report.warnings:
        _section(console, f"Warnings ({len(report.warnings)})", "bold yellow")
        for warning in report.warnings:
            _indented(console, _text("! ", (warning, "")), 2)
    console.print()
    style = "bold red" if failing_tags(report) else "bold green"
    console.print(_text((summary_line(report), style)))
    return _output(console)


def _package_row(package: Package) -> list[Text]:
    direct = {True: "yes", False: "no", None: "?"}[package.direct]
    return [
        _text((package.name, "bold")),
        _text((package.version or "—", "")),
        _text((package.source, "")),
        _text((", ".join(package.groups), "")),
        _text(direct),
        _text((package.markers or "", "dim")),
    ]


#: Above this many entries a lock is listed as plain aligned text: rich lays a table out at
#: about 0.5 ms per row (100,000 entries took close to a minute), this at a few µs.
_RICH_ROWS = 2000


def _plain_packages(packages: Sequence[Package], width: int) -> str:
    """The packages table as plain aligned columns (no colour, no wrapping; one line per
    entry), for very long locks. Every cell is escaped like the rich table's."""
    cap = max(12, width // 4)

    def cut(text: str) -> str:
        return text if len(text) <= cap else text[: cap - 1] + "…"

    direct = {True: "yes", False: "no", None: "?"}
    rows = [
        (
            cut(oneline(p.name)),
            cut(oneline(p.version or "—")),
            oneline(p.source),
            oneline(", ".join(p.groups)),
            direct[p.direct],
            oneline(p.markers or ""),
        )
        for p in packages
    ]
    headers = ("name", "version", "source", "groups", "direct", "markers")
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers[:5])]
    lines = []
    for row in (headers, None, *rows):
        if row is None:
            lines.append("─" * min(width, sum(widths) + 3 * 5 + 7))
            continue
        cells = [cell.ljust(widths[i]) for i, cell in enumerate(row[:5])]
        lines.append(("   ".join(cells) + "   " + row[5]).rstrip())
    return "\n".join(lines) + "\n"


def render_packages(
    items: Sequence[tuple[str, Lockfile]],
    *,
    color: bool = False,
    width: int = 100,
    online: Mapping[tuple[str, str], IndexFacts] | None = None,
    not_checked: Sequence[NotChecked] | None = None,
) -> str:
    """One table per lockfile: name, version, source, groups, direct, markers (and with
    ``online``, the newest release and its upload date, and whether the locked one is yanked)."""
    from rich import box
    from rich.table import Table

    console = _console(color, width)
    for n, (project, lock) in enumerate(items):
        if n:
            console.print()
        title = _text(
            (project_path(project, lock.path), "bold"),
            " (",
            (lock.format, ""),
            f") — {plural(len(lock.packages), 'package')}",
        )
        console.print(title)
        ordered = sorted(
            lock.packages, key=lambda p: (p.name, p.version or "", p.source, p.markers or "")
        )
        if len(ordered) > _RICH_ROWS:
            console.file.write(_plain_packages(ordered, width))
            for warning in lock.warnings:
                console.print(_text("! ", (warning, "yellow")))
            continue
        table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, highlight=False)
        # Names, versions, sources and the direct flag never break mid-word (a folded
        # version reads as another version: a long one is cut with "…" instead); groups and
        # markers take what width is left. The name column keeps its width whatever the
        # version's length (a 4,000-digit version once squeezed the names out).
        longest = max((len(oneline(p.name)) for p in ordered), default=4)
        table.add_column("name", no_wrap=True, min_width=min(longest, max(10, width // 3)))
        table.add_column(
            "version", no_wrap=True, overflow="ellipsis", max_width=max(12, width // 4)
        )
        table.add_column("source", no_wrap=True)
        if online is not None:
            table.add_column("newest", no_wrap=True, overflow="ellipsis")
            table.add_column("uploaded", no_wrap=True)
        table.add_column("groups", overflow="fold")
        table.add_column("direct", no_wrap=True)
        table.add_column("markers", overflow="fold")
        for package in ordered:
            row = _package_row(package)
            if online is not None:
                row[3:3] = _behind(online.get((package.name, package.version or "")))
            table.add_row(*row)
        console.print(table)
        for warning in lock.warnings:
            console.print(_text("! ", (warning, "yellow")))
    if not_checked:
        console.print()
        console.print(
            _text(
                (
                    f"Not checked ({plural(len(not_checked), 'package')}): no answer from the "
                    "package index, not the same as clean",
                    "bold magenta",
                )
            )
        )
        for unchecked in sorted_not_checked(not_checked):
            name = f"{unchecked.package} {unchecked.version or ''}".strip()
            _indented(console, _text((name, "bold"), "  ", (unchecked.reason, "")), 2)
    return _output(console)


def _behind(facts: IndexFacts | None) -> list[Text]:
    """The newest and uploaded cells: ``=`` when the locked release is the newest."""
    if facts is None:
        return [_text(("", "")), _text(("", ""))]
    if facts.yanked:
        newest = _text((facts.newest or "—", ""), " ", ("(locked one yanked)", "red"))
    elif facts.newest == facts.version or facts.newest is None:
        newest = _text(("=", "dim"))
    else:
        newest = _text((facts.newest, "yellow"))
    uploaded = (facts.newest_upload_time or "")[:10]
    return [newest, _text((uploaded, "dim"))]
