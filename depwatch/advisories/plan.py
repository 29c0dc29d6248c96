"""What to send to pip-audit: the lock's packages as pins, and the pins spread over runs.

Every versioned registry package of the lock is written as a plain ``name==version`` line (no
markers: the whole lock is audited, not only what the running interpreter would install). A
name locked at several versions cannot sit twice in one requirements file, so such a lock is
audited in several runs; a large lock is also split so that its queries (one HTTP request per
package, made one after another by pip-audit) run in parallel.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from packaging.version import Version

from depwatch.advisories.results import canonicalize_name
from depwatch.model import NotAudited, Package

__all__ = ["Pin", "auto_jobs", "plan", "split"]

#: pip-audit asks the service about one package after another, so a lock is split over
#: parallel runs (one per CPU, at most ``_MAX_PARALLEL``) once each run keeps at least this
#: many packages: below that, another pip-audit start-up (about 0.3 s of CPU, mostly imports)
#: costs more than the queries it saves on a fast service.
_MIN_PER_RUN = 50
_MAX_PARALLEL = 4

_NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?$")

_SOURCE_REASONS = {
    "git": "a git source: advisory services only know released versions on the package index",
    "url": "a direct URL source: advisory services only know released versions on the package index",
    "path": "a local path source: not on the package index, so no advisory service knows it",
    "directory": "a local directory source: not on the package index, so no advisory service knows it",
    "editable": "an editable local source: not on the package index, so no advisory service knows it",
    "virtual": "a virtual project root: not on the package index, so no advisory service knows it",
    "workspace": "a workspace member: not on the package index, so no advisory service knows it",
}


@dataclass(frozen=True, slots=True)
class Pin:
    """One (normalised name, version) sent to pip-audit."""

    name: str
    version: Version
    locked: tuple[str, ...]
    """Every locked text of this version (``1.0`` and ``1.0.0`` are one pin)."""


def plan(
    packages: Iterable[Package],
) -> tuple[list[Pin], list[NotAudited]]:
    """The pins to send, and the packages that cannot be sent, with why."""
    texts: dict[tuple[str, Version], list[str]] = {}
    skipped: dict[tuple[str, str | None], NotAudited] = {}

    def skip(package: Package, reason: str) -> None:
        skipped.setdefault(
            (package.name, package.version), NotAudited(package.name, package.version, reason)
        )

    for package in packages:
        if package.source != "registry":
            skip(package, _SOURCE_REASONS.get(package.source, f"a {package.source} source"))
            continue
        if package.version is None:
            skip(package, "no version is locked, so no advisory can be matched")
            continue
        if not _NAME.match(package.name):
            skip(package, "not a valid distribution name")
            continue
        version = package.parsed_version
        if version is None:  # not PEP 440, or a number past the digit limit
            skip(package, f"version {package.version!r} is not PEP 440, so no service can match it")
            continue
        key = (canonicalize_name(package.name), version)
        locked = texts.setdefault(key, [])
        if package.version not in locked:
            locked.append(package.version)
    pins = [Pin(name, version, tuple(locked)) for (name, version), locked in texts.items()]
    pins.sort(key=lambda pin: (pin.name, pin.version))
    # A pin that is also locked from another source is audited: drop it from the skipped.
    sent = {(pin.name, text) for pin in pins for text in pin.locked}
    return pins, [na for key, na in skipped.items() if key not in sent]


def split(pins: Sequence[Pin], jobs: int) -> list[list[Pin]]:
    """Spread the pins over runs: no name twice in one run, sizes as even as can be."""
    by_name: dict[str, list[Pin]] = {}
    for pin in pins:
        by_name.setdefault(pin.name, []).append(pin)
    count = max([jobs, *(len(group) for group in by_name.values())])
    runs: list[list[Pin]] = [[] for _ in range(count)]
    for group in sorted(by_name.values(), key=len, reverse=True):
        order = sorted(range(count), key=lambda i: (len(runs[i]), i))
        for pin, index in zip(group, order[: len(group)], strict=True):
            runs[index].append(pin)
    return [run for run in runs if run]


def auto_jobs(count: int) -> int:
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # macOS and Windows have no sched_getaffinity
        cpus = os.cpu_count() or 1
    return max(1, min(_MAX_PARALLEL, cpus, count // _MIN_PER_RUN))
