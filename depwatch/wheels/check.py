"""API changes derived from the released wheels, matched to what the project's code uses.

:func:`check_wheels` is what the audit calls under ``--online``: the locked entries, the usage
facts and the index session in; findings (``origin`` ``wheels``) and "not checked" items out.

Which releases are compared, and why:
- **immediate** — a use the locked release L cannot satisfy (a name its fully-known parent
  lacks, a keyword it does not take, too many positional arguments, a required parameter the
  code omits) is confirmed against earlier releases, newest first: the release just before L,
  the last release of the previous minor series, the last of the previous major. Only a use
  that one of them satisfied is immediate (the code was written against it); L alone never
  decides, so a scan artefact that no release ever had stays silent.
- **plan** — L against the newest final release N (a pre-release only when L is one); a use
  that N changed is bisected over the releases between to name the first release that changed
  it (fetched lazily: about log2(n) more wheels, only for packages with a change).
- **deprecations** — the locked release's static deprecation notices on what the code uses:
  plan when a later release removed it (the plan finding carries the message), monitor
  otherwise; a name a newer release serves only through a deprecation shim is monitor.
Nothing is fetched unless the code uses an entry, and most runs fetch one wheel per package
(L's API, then N's): no earlier release unless L looks broken, no bisection without a change.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

from packaging.version import InvalidVersion, Version

from depwatch.model import Lockfile, NotChecked, Package
from depwatch.usage.facts import KIND_ENV, FileFacts, Ref
from depwatch.wheels.cache import ApiCache, _result_key
from depwatch.wheels.extract import _EXTRACTOR
from depwatch.wheels.findings import add_findings
from depwatch.wheels.hits import _check_package, _Hit, _hit_from_json, _hit_to_json
from depwatch.wheels.names import import_names
from depwatch.wheels.releases import _Failed, _Package
from depwatch.wheels.result import WheelsResult

if TYPE_CHECKING:
    from depwatch.index import IndexSession, NotCheckedError, ProjectPage


__all__ = [
    "ApiCache",
    "WheelsResult",
    "check_wheels",
    "import_names",
]


def _version_or_none(text: str | None) -> Version | None:
    if text is None:
        return None
    try:
        return Version(text)
    except InvalidVersion:
        return None


def check_wheels(
    lockfiles: Sequence[Lockfile],
    facts: Sequence[FileFacts],
    session: IndexSession,
    *,
    project: str = ".",
    curated: Mapping[str, Iterable[str]] | None = None,
    own: str | None = None,
    cache: ApiCache | None = None,
    index_for: Callable[[Package], str | None] | None = None,
    pages: Mapping[tuple[str, str], ProjectPage | NotCheckedError] | None = None,
    before: Mapping[str, str] | None = None,
) -> WheelsResult:
    """API changes of the released wheels of the locked packages the code imports.

    ``curated``: package → what curated rules speak of (``name`` or ``name(kw=)``; those
    findings win). ``own``: the project's own distribution (never compared). ``index_for``: the
    index to ask about an entry (None: not on any index; default: the session's). ``pages``:
    project pages already fetched, by (name, index). ``before``: name → the version locked at
    ``--since`` (the first earlier release an immediate finding is confirmed against). Every
    package whose page or wheel could not be read is in ``not_checked``; nothing raises.
    """
    from depwatch.index import NotCheckedError

    result = WheelsResult()
    cache = cache if cache is not None else ApiCache.default()
    curated = curated or {}
    default_index = session.default_index

    # which locked (name, version) entries the code uses, with the lockfiles holding them
    entries: dict[tuple[str, str], list[str]] = {}
    index_of: dict[str, str] = {}
    modules: dict[str, set[str]] = {}
    for lock in lockfiles:
        for pkg in lock.packages:
            if pkg.source != "registry" or pkg.version is None or pkg.name == own:
                continue
            if _version_or_none(pkg.version) is None:
                continue
            index = index_for(pkg) if index_for is not None else default_index
            if index is None:
                continue
            where = entries.setdefault((pkg.name, pkg.version), [])
            if lock.path not in where:
                where.append(lock.path)
            index_of.setdefault(pkg.name, index)
            for module in import_names(pkg.name):
                modules.setdefault(module, set()).add(pkg.name)
    uses: dict[str, list[tuple[FileFacts, Ref]]] = {}
    for file in facts:
        for ref in file.refs:
            if ref.kind == KIND_ENV:
                continue
            parts = ref.name.split(".")
            for i in range(len(parts), 0, -1):
                dists = modules.get(".".join(parts[:i]))
                if dists:
                    for dist in dists:
                        uses.setdefault(dist, []).append((file, ref))
                    break
    wanted = sorted({(n, v) for (n, v) in entries if n in uses})
    if not wanted:
        return result
    mutex = threading.Lock()

    def page_of(name: str) -> ProjectPage | NotCheckedError:
        index = index_of[name]
        known = (pages or {}).get((name, index))
        if known is not None:
            return known
        try:
            return session.project_page(name, None if index == default_index else index)
        except NotCheckedError as exc:
            return exc

    def one(item: tuple[str, str]) -> dict[tuple[str, str], _Hit]:
        name, version = item
        hits: dict[tuple[str, str], _Hit] = {}
        page = page_of(name)
        if isinstance(page, NotCheckedError):
            with mutex:
                result.not_checked.append(NotChecked(name, version, page.reason))
            return hits
        key = _result_key(name, version, (before or {}).get(name), page.files, uses[name])
        stored = cache.get_result(key)
        if stored is not None:
            try:
                for row in stored:
                    restored = _hit_from_json(row)
                    hits[(restored.tag.value, restored.symbol)] = restored
                return hits
            except (TypeError, ValueError, KeyError):
                hits.clear()  # not ours: compare again
        with mutex:
            noted = len(result.not_checked)
        pkg = _Package(name, version, page.files, session, cache, result, mutex)
        pkg.before = _version_or_none((before or {}).get(name))
        if pkg.release(pkg.locked) is None:
            with mutex:
                result.not_checked.append(
                    NotChecked(name, version, f"the index lists no wheel of {name} {version}")
                )
            return hits
        try:
            api = pkg.api(pkg.locked)
        except _Failed as exc:
            with mutex:
                result.not_checked.append(NotChecked(name, version, exc.reason))
            return hits
        # the wheel must provide the module the code imports (the name guess is confirmed)
        top = [str(t) for t in api.get("top", [])]
        mine = [
            (f, r)
            for f, r in uses[name]
            if any(r.name == t or r.name.startswith(t + ".") for t in top)
        ]
        if not mine:
            return hits
        try:
            _check_package(pkg, mine, hits)
        except _Failed as exc:
            with mutex:
                result.not_checked.append(NotChecked(name, version, exc.reason))
        except RecursionError:
            with mutex:
                result.not_checked.append(
                    NotChecked(name, version, "its API nests too deeply to compare")
                )
            return hits
        with mutex:
            complete = len(result.not_checked) == noted and not any(
                n.package == name for n in result.not_checked[noted:]
            )
        if complete:  # a comparison that could not finish is asked again next time
            cache.put_result(key, [_hit_to_json(hit) for hit in hits.values()])
        return hits

    try:
        if len(wanted) == 1:
            done = [one(wanted[0])]
        else:
            from concurrent.futures import ThreadPoolExecutor

            # enough threads to keep the downloads and both griffe workers busy; a warm run
            # (APIs from the cache) is CPU-bound and gains nothing from more
            with ThreadPoolExecutor(max_workers=min(8, len(wanted))) as pool:
                done = list(pool.map(one, wanted))
    finally:
        _EXTRACTOR.close()
    add_findings(result, project, curated, entries, zip(wanted, done, strict=True))
    result.not_checked.sort(key=lambda n: (n.package, n.version or "", n.reason))
    return result
