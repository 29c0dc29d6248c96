"""What a check learns from the package index about each locked release, and the findings it
makes of that: a yanked release (immediate), a Requires-Python that excludes a declared Python
on the targets the entry's markers admit (immediate), and newer releases that drop a declared
Python (plan: the package is held back by that Python).

Held-back facts come out in the shape of curated Python-floor plans (``kind = "python-drop"``,
``tag = plan``, ``targets`` the Pythons concerned, ``origin = "index"``), so whatever folds
those into the interpreter finding for that Python folds these too.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from depwatch.index.client import clean_index
from depwatch.index.page import NotCheckedError, Release, ReleaseTable
from depwatch.model import (
    Finding,
    HeldBack,
    IndexFacts,
    Lockfile,
    NotChecked,
    Package,
    RuleInfo,
    Tag,
)
from depwatch.pythons import admitted_minors, excluded_minors

if TYPE_CHECKING:
    from depwatch.matcher import Matcher

__all__ = [
    "INDEX_RULES",
    "PYPI_HOSTS",
    "RULE_HELD_BACK",
    "RULE_REQUIRES_PYTHON",
    "RULE_YANKED",
    "curated_wins",
    "findings_for",
    "index_of",
    "join_held_back",
    "release_facts",
]

RULE_YANKED = "index/yanked"
RULE_REQUIRES_PYTHON = "index/requires-python"
RULE_HELD_BACK = "index/python-drop"
#: What each index rule says in general (SARIF rule descriptors, ``rules`` in the report).
INDEX_RULES = {
    RULE_YANKED: RuleInfo(
        id=RULE_YANKED,
        title="The locked release was yanked from the package index",
        kind="yanked",
        what="The index marks the locked release as yanked (PEP 592), usually with a reason.",
        why="Its authors withdrew it: a resolver no longer picks it, and the reason says what "
        "is wrong with it.",
        action="Lock another release.",
    ),
    RULE_REQUIRES_PYTHON: RuleInfo(
        id=RULE_REQUIRES_PYTHON,
        title="The locked release cannot install on a Python the project declares",
        kind="python-drop",
        what="The locked release's Requires-Python, from the package index, excludes a Python "
        "version the project declares, on the targets the entry's markers admit.",
        why="Installing the lock on that Python fails.",
        action="Lock a release that installs there (split by a python_version marker), or "
        "raise requires-python.",
    ),
    RULE_HELD_BACK: RuleInfo(
        id=RULE_HELD_BACK,
        title="Newer releases drop a Python the project declares",
        kind="python-drop",
        what="The newest release on the package index requires a newer Python than one the "
        "project declares; the locked release still installs there.",
        why="The package stays behind (fixes and features) for as long as the project "
        "declares that Python.",
        action="Plan to drop that Python; until then the package stays behind.",
    ),
}
#: Hosts whose recorded index is PyPI itself: the chosen index (a mirror) serves those.
PYPI_HOSTS = ("https://pypi.org/", "https://pypi.python.org/", "https://files.pythonhosted.org/")


def index_of(pkg: Package, default: str) -> str | None:
    """The index to ask about ``pkg``: the lock's own where it records another than PyPI, else
    ``default``; None for an entry no Python package index serves (conda, a local folder)."""
    recorded = pkg.index
    if recorded is None or recorded.startswith(PYPI_HOSTS):
        return default
    if not recorded.startswith(("https://", "http://")):
        return None
    return clean_index(recorded)


@functools.lru_cache(maxsize=4096)
def _spec(text: str) -> SpecifierSet:
    return SpecifierSet(text)


@functools.lru_cache(maxsize=65536)
def _version(text: str) -> Version | None:
    try:
        return Version(text)
    except InvalidVersion:
        return None


def _excluded(release: Release, declared: tuple[str, ...]) -> tuple[str, ...]:
    try:
        return _excluded_by(release.requires_python, declared)
    except InvalidSpecifier:
        raise NotCheckedError(
            f"the index gives {release.version} an invalid Requires-Python"
        ) from None


@functools.lru_cache(maxsize=4096)
def _excluded_by(requires: tuple[str | None, ...], declared: tuple[str, ...]) -> tuple[str, ...]:
    """The declared minors no file of a release installs on (a file that states no
    Requires-Python installs anywhere). Raises InvalidSpecifier for an invalid one.

    Only floors count: a declared minor above every minor the release admits (``<3.15`` on
    an open ``>=3.11``) is not taken as excluded — uv ignores such upper bounds when it locks,
    and a project's open range does not promise a Python that is not out yet."""
    common: set[str] | None = None
    for text in requires:
        if text is None:
            return ()
        spec = _spec(text.strip())  # InvalidSpecifier: the caller says which release
        excluded = set(excluded_minors(spec, declared))
        admitted = [m for m in declared if m not in excluded] or list(admitted_minors(spec))
        if admitted:
            top = max(_minor(m) for m in admitted)
            excluded = {m for m in excluded if _minor(m) < top}
        common = excluded if common is None else common & excluded
        if not common:
            return ()
    return tuple(m for m in declared if common and m in common)


def _minor(text: str) -> tuple[int, int]:
    major, _, minor = text.partition(".")
    return int(major), int(minor or 0)


def _requires(release: Release) -> str | None:
    return _joined(release.requires_python)


@functools.lru_cache(maxsize=4096)
def _joined(requires: tuple[str | None, ...]) -> str | None:
    texts = sorted({t for t in requires if t})
    return " | ".join(texts) if texts else None


def release_facts(
    table: ReleaseTable, version: str, index: str, declared: tuple[str, ...] | None
) -> tuple[IndexFacts, tuple[str, ...], tuple[str, ...]]:
    """The facts of ``version`` in ``table``, with the declared minors the locked release
    excludes and those the newest release drops while the locked one installs there.

    Raises NotCheckedError when the page cannot say (no file of the version, an invalid
    Requires-Python on the locked release)."""
    locked = _version(version)
    if locked is None:
        raise NotCheckedError(f"{version} is not a PEP 440 version")
    mine = table.find(_text(version))
    if mine is None:
        raise NotCheckedError(f"the index lists no file of {table.name} {version}")
    latest = table.newest(prereleases=locked.is_prerelease)
    newest = _version(latest.version) if latest is not None else None
    excluded: tuple[str, ...] = ()
    dropped: tuple[str, ...] = ()
    if declared:
        excluded = _excluded(mine, declared)
        if latest is not None and newest is not None and newest > locked:
            try:
                newer_excluded = _excluded(latest, declared)
            except NotCheckedError:
                newer_excluded = ()  # the newest release's own fault; the lock is checked
            dropped = tuple(m for m in newer_excluded if m not in excluded)
    facts = IndexFacts(
        package=table.name,
        version=version,
        index=index,
        yanked=mine.yanked,
        yanked_reason=mine.yanked_reason,
        requires_python=_requires(mine),
        newest=str(newest) if newest is not None else None,
        newest_upload_time=latest.upload_time if latest is not None else None,
        newest_requires_python=_requires(latest) if latest is not None else None,
    )
    return facts, excluded, dropped


@functools.lru_cache(maxsize=65536)
def _text(version: str) -> str:
    """``version`` normalised (``str(Version(...))``); a valid version only."""
    return str(_version(version))


def _is_pre(version: str) -> bool:
    parsed = _version(version)
    return parsed is not None and parsed.is_prerelease


def _installable(table: ReleaseTable, pythons: tuple[str, ...], *, prereleases: bool) -> str | None:
    """The newest release, not yanked, that installs on every one of ``pythons``."""
    for row in table.rows:
        if row[2] or (row[1] and not prereleases):
            continue
        try:
            if not pythons or not _excluded_by(tuple(row[4]), pythons):
                return str(row[0])
        except InvalidSpecifier:
            continue
    return None


def _reference(table: ReleaseTable, version: str) -> str:
    if table.url.startswith("https://pypi.org/simple/"):
        return f"https://pypi.org/project/{table.name}/{version}/"
    return table.url


_SPLIT_BY_PYTHON = ("python_version", "python_full_version")


def askable(pkg: Package, own: str | None) -> bool:
    """Whether the index is asked about an entry: a registry release, not the project itself."""
    return pkg.source == "registry" and pkg.version is not None and pkg.name != own


def answered_releases(
    lock: Lockfile,
    answers: Mapping[tuple[str, str], ReleaseTable | NotCheckedError],
    default_index: str,
    own: str | None,
    declared: tuple[str, ...] | None,
    missing: list[NotChecked],
) -> Iterator[tuple[Package, str, ReleaseTable, IndexFacts, tuple[str, ...], tuple[str, ...]]]:
    """Each registry entry of ``lock`` (not the project itself) that the index answered for:
    the entry, its version, its release table and :func:`release_facts`; an entry the index
    could not answer for goes to ``missing``."""
    from depwatch.index.client import redact

    shown: dict[str, str] = {}
    for pkg in lock.packages:
        if not askable(pkg, own) or pkg.version is None:
            continue
        index = index_of(pkg, default_index)
        if index is None:
            continue
        answer = answers.get((pkg.name, index))
        if answer is None:
            continue
        if isinstance(answer, NotCheckedError):
            missing.append(NotChecked(pkg.name, pkg.version, answer.reason))
            continue
        try:
            where = shown.get(index) or shown.setdefault(index, redact(index))
            fact, excluded, dropped = release_facts(answer, pkg.version, where, declared)
        except NotCheckedError as exc:
            missing.append(NotChecked(pkg.name, pkg.version, exc.reason))
            continue
        yield pkg, pkg.version, answer, fact, excluded, dropped


def findings_for(
    lock: Lockfile,
    matcher: Matcher,
    answers: Mapping[tuple[str, str], ReleaseTable | NotCheckedError],
    default_index: str,
    own: str | None = None,
) -> tuple[list[Finding], list[IndexFacts], list[NotChecked], list[HeldBack]]:
    """The index findings of one lockfile's entries, the facts behind them, the entries the
    index could not answer for, and the entries a declared Python holds back (for
    :func:`depwatch.matcher.fold_held_back`). ``answers`` maps (name, index) to the page or the reason."""
    from depwatch.matcher import _admits, dev_only

    declared = matcher.ctx.declared
    platforms: Sequence[str | None] = matcher.ctx.platforms or [None]
    findings: list[Finding] = []
    facts: list[IndexFacts] = []
    missing: list[NotChecked] = []
    held_back: list[HeldBack] = []
    for pkg, version, answer, fact, excluded, dropped in answered_releases(
        lock, answers, default_index, own, declared, missing
    ):
        facts.append(fact)
        if not matcher.admitted(pkg):
            continue
        common = {
            "project": matcher.ctx.project,
            "package": pkg.name,
            "version": version,
            "references": (_reference(answer, version),),
            "lockfiles": (lock.path,),
            "origin": "index",
        }
        if fact.yanked:
            pythons = tuple(
                py for py in declared or () if any(_admits(pkg.markers, py, pl) for pl in platforms)
            )
            fits = _installable(answer, pythons, prereleases=_is_pre(version))
            if fits is not None and fits != fact.newest:
                move = (
                    f"Lock another release of {pkg.name}: {fits} installs on every declared "
                    f"Python (the newest, {fact.newest}, requires Python "
                    f"{fact.newest_requires_python})"
                )
            elif fact.newest is not None:
                move = f"Lock another release of {pkg.name} (the newest is {fact.newest})"
            else:
                move = f"Lock a release of {pkg.name} that is not yanked, or replace it"
            findings.append(
                Finding(
                    rule=RULE_YANKED,
                    tag=Tag.IMMEDIATE,
                    kind="yanked",
                    title=f"{pkg.name} {version} was yanked from the index"
                    + (f": {fact.yanked_reason}" if fact.yanked_reason else " (no reason given)"),
                    action=move,
                    targets=matcher._targets(pkg),
                    **common,  # type: ignore[arg-type]
                )
            )
        bad = [py for py in excluded if any(_admits(pkg.markers, py, pl) for pl in platforms)]
        if bad:
            findings.append(
                Finding(
                    rule=RULE_REQUIRES_PYTHON,
                    tag=Tag.IMMEDIATE,
                    kind="python-drop",
                    title=f"{pkg.name} {version} requires Python {fact.requires_python}, "
                    f"so it cannot install on Python {', '.join(bad)}, which the project declares",
                    action=f"Lock a release of {pkg.name} that installs on Python {bad[0]} "
                    f"(split by a python_version marker), or raise requires-python above "
                    f"{bad[-1]}",
                    targets=matcher._labels_for(pkg, bad),
                    **common,  # type: ignore[arg-type]
                )
            )
        split = pkg.markers is not None and any(k in pkg.markers for k in _SPLIT_BY_PYTHON)
        held = [py for py in dropped if any(_admits(pkg.markers, py, pl) for pl in platforms)]
        if held and not split and fact.newest is not None:
            held_back.append(
                HeldBack(
                    package=pkg.name,
                    version=version,
                    newer=fact.newest,
                    pythons=tuple(held),
                    dev=dev_only(pkg),
                    lockfiles=(lock.path,),
                    rule=RULE_HELD_BACK,
                )
            )
    return findings, facts, missing, held_back


def curated_wins(findings: Iterable[Finding]) -> list[Finding]:
    """Index findings that a curated one already says: gone (the curated text wins). A curated
    Python-floor finding on the same package speaks for the index's Requires-Python facts."""
    found = list(findings)
    curated_floor = {
        (f.project, f.package, f.version, f.tag)
        for f in found
        if f.origin == "curated" and f.kind == "python-drop"
    }
    curated_floor_packages = {(p, n) for p, n, _, _ in curated_floor}
    kept = []
    for f in found:
        if f.origin == "index" and f.kind == "python-drop":
            if f.tag is Tag.IMMEDIATE and (f.project, f.package, f.version, f.tag) in curated_floor:
                continue
            if f.tag is Tag.PLAN and (f.project, f.package) in curated_floor_packages:
                continue
        kept.append(f)
    return kept


#: How many held-back packages an interpreter finding names in full (the JSON ``index`` list
#: has every one).
HELD_BACK_SHOWN = 10


def join_held_back(
    findings: Iterable[Finding],
    held: Iterable[HeldBack],
    *,
    project: str,
    declared: Sequence[str] | None,
    explicit_targets: bool = False,
) -> list[Finding]:
    """Join the index's "newer releases drop Python X" facts into the interpreter finding for
    each X, as the matcher does for curated Python-floor rules
    (:func:`depwatch.matcher.fold_held_back`). A package the interpreter finding already
    holds back (from a curated rule) is not named twice: the curated fact wins."""
    from depwatch.matcher import fold_held_back

    found = list(findings)
    known = {
        (h.package, h.version, python)
        for f in found
        if f.package == "python" and f.project == project
        for h in f.held_back
        for python in h.pythons
    }
    items = []
    for item in held:
        pythons = tuple(py for py in item.pythons if (item.package, item.version, py) not in known)
        if pythons:
            items.append(replace(item, pythons=pythons))
    if not items or not declared:
        return found
    return fold_held_back(
        found, items, project=project, declared=declared, explicit_targets=explicit_targets
    )
