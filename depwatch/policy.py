"""What the gate does with findings: ignores, the baseline, and the exit code."""

from __future__ import annotations

import datetime
import json
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import NamedTuple

from packaging.version import Version

from depwatch import jsonfile
from depwatch.errors import DepwatchError, ExitCode
from depwatch.files import display_path, read_text
from depwatch.model import FailOn, Finding, HeldBack, Report, Suppressed, Tag
from depwatch.settings import IgnoreEntry, Settings

__all__ = [
    "BaselineKey",
    "Gate",
    "Gated",
    "PolicyResult",
    "apply_baseline",
    "apply_ignores",
    "baseline_document",
    "exit_code",
    "fail_on_of",
    "failing_tags",
    "fails",
    "gate",
    "ignores_of",
    "read_baseline",
]

BaselineKey = tuple[str, str, str, str, str]
"""(project, rule, package, version, tag) as written; the version is kept for the reader and
plays no part in matching."""


@dataclass(frozen=True, slots=True)
class PolicyResult:
    """Findings after suppression, what was suppressed, and the ignores that did nothing."""

    findings: tuple[Finding, ...]
    suppressed: tuple[Suppressed, ...]
    stale: tuple[str, ...]
    """Ignore entries that matched nothing (their ids)."""
    expired: tuple[str, ...]
    """One line per ignore entry past its ``until`` date (it no longer suppresses)."""


def _matches(entry: IgnoreEntry, finding: Finding) -> bool:
    if entry.id != finding.rule and entry.id not in finding.aliases:
        return False
    if entry.package is not None and entry.package != finding.package:
        return False
    if entry.versions is not None:
        # A finding that concerns several lock entries is silenced only when the entry
        # covers every one of them: an ignore must not hide a version it does not name.
        try:
            return all(
                entry.versions.contains(Version(version), prereleases=True)
                for version in finding.versions or (finding.version,)
            )
        except ValueError:  # InvalidVersion, or a number past the digit limit
            return False
    return True


def _matches_held(entry: IgnoreEntry, item: HeldBack) -> bool:
    """Whether an ignore entry names a held-back fact (its Python-floor rule, package, version)."""
    if not item.rule or entry.id != item.rule:
        return False
    if entry.package is not None and entry.package != item.package:
        return False
    if entry.versions is not None:
        try:
            return entry.versions.contains(Version(item.version), prereleases=True)
        except ValueError:  # InvalidVersion, or a number past the digit limit
            return False
    return True


def apply_ignores(
    findings: Iterable[Finding], ignores: Sequence[IgnoreEntry], today: datetime.date
) -> PolicyResult:
    """Suppress the findings an ignore entry names; expired entries stop suppressing."""
    kept, suppressed = [], []
    used: set[int] = set()
    expired_lines = []
    active = []
    for index, entry in enumerate(ignores):
        if entry.until is not None and entry.until < today:
            expired_lines.append(
                f"ignore entry for {entry.id} expired on {entry.until.isoformat()} "
                f"({entry.origin}); it no longer suppresses anything"
            )
            used.add(index)
        else:
            active.append((index, entry))
    for finding in findings:
        if finding.held_back:
            # A Python-floor fact joined into an interpreter finding is still silenced by an
            # ignore of its own rule; a finding made only of such facts goes with the last one.
            kept_items = []
            for item in finding.held_back:
                held_hit = next(((i, e) for i, e in active if _matches_held(e, item)), None)
                if held_hit is None:
                    kept_items.append(item)
                    continue
                used.add(held_hit[0])
                suppressed.append(
                    Suppressed(
                        rule=item.rule,
                        package=item.package,
                        version=item.version,
                        reason=held_hit[1].reason,
                        until=held_hit[1].until.isoformat() if held_hit[1].until else None,
                        project=finding.project,
                        tag=Tag.PLAN,
                    )
                )
            if not kept_items and finding.kind == "python-drop":
                continue
            finding = replace(finding, held_back=tuple(kept_items))
        hit = next(((i, e) for i, e in active if _matches(e, finding)), None)
        if hit is None:
            kept.append(finding)
            continue
        used.add(hit[0])
        entry = hit[1]
        suppressed.append(
            Suppressed(
                rule=finding.rule,
                package=finding.package,
                version=finding.version,
                reason=entry.reason,
                until=entry.until.isoformat() if entry.until else None,
                project=finding.project,
                tag=finding.tag,
            )
        )
    stale = tuple(e.id for i, e in enumerate(ignores) if i not in used)
    return PolicyResult(tuple(kept), tuple(suppressed), stale, tuple(expired_lines))


def _key(finding: Finding, base: Path) -> BaselineKey:
    """What a baseline records of a finding: its project as a path from the baseline's own
    folder (so that ``check`` run from anywhere, the project named any way, finds it), then
    rule, package, version and tag."""
    where = Path.cwd() / finding.project
    try:
        project = Path(os.path.relpath(where, base)).as_posix()
    except ValueError:  # another drive on Windows
        project = where.as_posix()
    return (project, finding.rule, finding.package, finding.version, finding.tag.value)


def baseline_document(findings: Iterable[Finding], path: Path) -> str:
    """The baseline file at ``path`` for ``findings``."""
    base = Path.cwd() / path.parent
    entries = sorted({_key(f, base) for f in findings})
    doc = {
        "schema_version": 1,
        "findings": [
            {"project": p, "rule": r, "package": n, "version": v, "tag": t}
            for p, r, n, v, t in entries
        ],
    }
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def read_baseline(path: Path) -> frozenset[BaselineKey]:
    """The keys recorded by ``depwatch baseline write``."""
    shown = display_path(path)
    doc = jsonfile.loads(read_text(path), path=shown, what="depwatch baseline")
    if not isinstance(doc, dict) or not isinstance(doc.get("findings"), list):
        raise DepwatchError(
            "is not a depwatch baseline (no 'findings' list)",
            path=shown,
            hint="write one with: depwatch baseline write FILE",
        )
    keys = set()
    for index, item in enumerate(doc["findings"]):
        fields = ("project", "rule", "package", "version", "tag")
        if not isinstance(item, dict) or not all(isinstance(item.get(k), str) for k in fields):
            raise DepwatchError(
                f"each entry needs string {', '.join(fields)}",
                path=shown,
                key=f"findings[{index}]",
            )
        keys.add((item["project"], item["rule"], item["package"], item["version"], item["tag"]))
    return frozenset(keys)


def apply_baseline(
    findings: Iterable[Finding], keys: frozenset[BaselineKey], path: Path
) -> tuple[list[Finding], list[Suppressed]]:
    """Drop the findings the baseline at ``path`` holds.

    An entry holds while the same rule still concerns the same package in the same project at
    the same or a lower tag, whatever the locked version moved to (a bump within the affected
    range is not news); a finding whose tag rose is new. Files written before this rule (with
    exact versions) read the same way."""
    base = Path.cwd() / path.parent
    source = display_path(path)
    held: dict[tuple[str, str, str], int] = {}
    for project, rule, package, _version, tag in keys:
        try:
            rank = Tag(tag).rank
        except ValueError:
            continue  # a tag this release does not know holds nothing
        where = (project, rule, package)
        held[where] = min(rank, held.get(where, rank))
    kept, suppressed = [], []
    for finding in findings:
        project, rule, package, _version, _tag = _key(finding, base)
        # An advisory is recorded by its id; an entry naming one of its aliases matches too.
        ranks = [
            held[(project, name, package)]
            for name in (rule, *finding.aliases)
            if (project, name, package) in held
        ]
        if ranks and finding.tag.rank >= min(ranks):
            suppressed.append(
                Suppressed(
                    rule=finding.rule,
                    package=finding.package,
                    version=finding.version,
                    reason=f"in the baseline {source}",
                    project=finding.project,
                    tag=finding.tag,
                    baseline=True,
                )
            )
        else:
            kept.append(finding)
    return kept, suppressed


def ignores_of(settings: Settings, ids: Iterable[str]) -> list[IgnoreEntry]:
    """A project's ignore entries: its ``[tool.depwatch] ignore``, then ``--ignore`` ids."""
    return [
        *settings.ignore,
        *(IgnoreEntry(id=i, reason="--ignore on the command line", origin="--ignore") for i in ids),
    ]


def fail_on_of(
    flag: FailOn | None, settings: Mapping[str, Settings]
) -> tuple[FailOn, tuple[tuple[str, FailOn], ...]]:
    """The fail-on of a run, and (project, fail-on) pairs where the projects differ: ``--fail-on``
    (``flag``) decides for every project; else each project's own ``[tool.depwatch] fail-on``."""
    own = {shown: flag or mine.fail_on or FailOn.IMMEDIATE for shown, mine in settings.items()}
    if len(set(own.values())) == 1:
        return next(iter(own.values())), ()
    return flag or FailOn.IMMEDIATE, tuple(sorted(own.items()))


class Gated(NamedTuple):
    """One project's findings as matched, with its ignore entries."""

    findings: Sequence[Finding]
    ignores: Sequence[IgnoreEntry]
    before: Sequence[Finding] = ()
    """With ``--since``: findings there before the change; an entry that matches one is in
    use, not stale."""


@dataclass(frozen=True, slots=True)
class Gate:
    """What is left to report of each project (in the order given, each sorted), and what the
    ignores and the baseline did."""

    findings: list[list[Finding]]
    suppressed: list[Suppressed]
    stale: tuple[str, ...]
    expired: list[str]
    gaps: list[str]
    """What ``--strict`` fails on: expired and stale ignore entries."""


def gate(projects: Sequence[Gated], *, today: datetime.date, baseline: Path | None) -> Gate:
    """Ignores per project, then the baseline."""
    kept: list[list[Finding]] = []
    suppressed: list[Suppressed] = []
    stale: list[str] = []
    expired: list[str] = []
    for findings, ignores, before in projects:
        outcome = apply_ignores(findings, ignores, today)
        kept.append(list(outcome.findings))
        suppressed += outcome.suppressed
        unused = outcome.stale
        if unused and before:
            unused = apply_ignores([*findings, *before], ignores, today).stale
        stale += [s for s in unused if s not in stale]
        expired += outcome.expired
    gaps = expired + [f"ignore entry matched nothing: {s}" for s in stale]
    if baseline is not None:
        keys = read_baseline(baseline)
        held: list[Suppressed] = []
        for at, mine in enumerate(kept):
            kept[at], base_suppressed = apply_baseline(mine, keys, baseline)
            held += base_suppressed
        suppressed += held
    return Gate(
        [sorted(mine, key=Finding.sort_key) for mine in kept],
        suppressed,
        tuple(stale),
        expired,
        gaps,
    )


def fails(tag: Tag, fail_on: FailOn) -> bool:
    """Whether a finding tagged ``tag`` fails a gate at ``fail_on``."""
    fail_on = FailOn(fail_on)
    return fail_on is not FailOn.NEVER and tag.rank <= Tag(fail_on.value).rank


def failing_tags(report: Report) -> list[Tag]:
    """The tags in the report that fail its gate (each project's by its own fail-on), most
    urgent first; empty: the gate passes."""
    failing = {f.tag for f in report.findings if fails(f.tag, report.fail_on_for(f.project))}
    return [t for t in Tag if t in failing]


def exit_code(
    findings: Iterable[Finding], fail_on: FailOn, *, gaps: Sequence[str] = (), strict: bool = False
) -> ExitCode:
    """2 for a gap under ``--strict``; 1 for a finding at or above ``fail_on``; else 0."""
    if strict and gaps:
        return ExitCode.ERROR
    if any(fails(f.tag, fail_on) for f in findings):
        return ExitCode.FINDINGS
    return ExitCode.OK
