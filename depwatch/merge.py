"""One finding per (project, rule, package): what the matchers found for each lock entry, joined."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from depwatch.heldback import version_key
from depwatch.model import Finding

__all__ = ["merge"]


def merge(findings: Iterable[Finding]) -> list[Finding]:
    """One finding per (project, rule, package) — per Python for interpreter findings: every
    lock entry it concerns in ``versions``
    (those of the most urgent tag first, then by version; ``version`` is the first),
    lockfiles, targets and evidence united."""
    grouped: dict[tuple[str, str, str, str], list[Finding]] = {}
    for finding in findings:
        # An interpreter finding is about one Python (its version): never joined with another.
        python = finding.version if finding.package == "python" and not finding.lockfiles else ""
        key = (finding.project, finding.rule, finding.package, python)
        grouped.setdefault(key, []).append(finding)
    merged = []
    for group in grouped.values():
        if len(group) == 1:
            only = group[0]
            merged.append(only if only.versions else replace(only, versions=(only.version,)))
            continue
        group.sort(key=lambda f: (f.tag.rank, version_key(f.version)))
        first = group[0]
        versions = tuple(dict.fromkeys(v for f in group for v in (f.versions or (f.version,))))
        lockfiles = tuple(dict.fromkeys(lf for f in group for lf in f.lockfiles))
        targets: tuple[str, ...] | None = None
        if all(f.targets is not None for f in group):
            targets = tuple(dict.fromkeys(t for f in group for t in f.targets or ()))
        evidence = {(e.path, e.cell or 0, e.line, e.column): e for f in group for e in f.evidence}
        held = {(h.package, h.version): h for f in group for h in f.held_back}
        merged.append(
            replace(
                first,
                versions=versions,
                lockfiles=lockfiles,
                targets=targets,
                evidence=tuple(evidence[k] for k in sorted(evidence)),
                held_back=tuple(held.values()),
            )
        )
    return sorted(merged, key=Finding.sort_key)
