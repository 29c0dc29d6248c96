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

import hashlib
import json
import os
import re
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from depwatch.files import printable_name, write_json_atomic
from depwatch.model import Evidence, Finding, Lockfile, NotChecked, Package, RuleInfo, Tag
from depwatch.usage.facts import KIND_CALL, KIND_ENV, FileFacts, Ref
from depwatch.usage.match import symbol_matches
from depwatch.wheels.compare import Change, changes, deprecations, lookup, prepare

if TYPE_CHECKING:
    from depwatch.index import IndexSession, NotCheckedError, ProjectFile, ProjectPage
    from depwatch.wheels.remote import WheelSources

__all__ = [
    "ApiCache",
    "WheelsResult",
    "check_wheels",
    "import_names",
]

Api = dict[str, Any]

#: Import names that differ from the distribution's name (the wheel's own file list confirms
#: every guess before anything is compared).
KNOWN_IMPORTS: dict[str, tuple[str, ...]] = {
    "pyyaml": ("yaml",),
    "pillow": ("PIL",),
    "beautifulsoup4": ("bs4",),
    "scikit-learn": ("sklearn",),
    "scikit-image": ("skimage",),
    "python-dateutil": ("dateutil",),
    "pyjwt": ("jwt",),
    "opencv-python": ("cv2",),
    "opencv-python-headless": ("cv2",),
    "attrs": ("attr", "attrs"),
    "protobuf": ("google.protobuf",),
    "pyopenssl": ("OpenSSL",),
    "python-dotenv": ("dotenv",),
    "python-multipart": ("multipart", "python_multipart"),
    "pycryptodome": ("Crypto",),
    "gitpython": ("git",),
    "python-jose": ("jose",),
    "pyzmq": ("zmq",),
    "pyserial": ("serial",),
    "pysocks": ("socks",),
    "msgpack-python": ("msgpack",),
    "typing-extensions": ("typing_extensions",),
    "markupsafe": ("markupsafe",),
}


def import_names(dist: str) -> tuple[str, ...]:
    """The module names a distribution probably provides (``google-cloud-storage`` →
    ``google_cloud_storage``, ``google.cloud.storage``)."""
    name = str(canonicalize_name(dist))
    guesses = [name.replace("-", "_")]
    if "-" in name:
        guesses.append(name.replace("-", "."))
    guesses += KNOWN_IMPORTS.get(name, ())
    return tuple(dict.fromkeys(guesses))


@dataclass
class WheelsResult:
    findings: list[Finding] = field(default_factory=list)
    infos: dict[str, RuleInfo] = field(default_factory=dict)
    not_checked: list[NotChecked] = field(default_factory=list)
    fetched: int = 0
    """Wheels read in this run (not from the API cache)."""


class ApiCache:
    """Extracted APIs in the user's cache folder, one compact JSON file per wheel (never the
    wheel). A wheel that could not be read is remembered with its reason."""

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder

    @staticmethod
    def default() -> ApiCache:
        from depwatch import cachedir

        return ApiCache(cachedir.folder("wheel-api"))

    def _path(self, package: str, version: str, url: str) -> Path | None:
        if self.folder is None:
            return None
        from depwatch.wheels.api import API_FORMAT

        digest = hashlib.sha256(f"{API_FORMAT}\0{url}".encode()).hexdigest()[:20]
        safe = re.sub(r"[^A-Za-z0-9_.-]", "_", f"{package}-{version}")[:80]
        return self.folder / f"{safe}-{digest}.json"

    def get(self, package: str, version: str, url: str) -> Api | None:
        path = self._path(package, version, url)
        if path is None:
            return None
        try:
            data = json.loads(path.read_bytes())
        except (OSError, ValueError, RecursionError):
            return None
        return data if isinstance(data, dict) else None

    def put(self, package: str, version: str, url: str, data: Api) -> None:
        path = self._path(package, version, url)
        if path is not None:
            write_json_atomic(path, data)

    def _result_path(self, key: str) -> Path | None:
        return None if self.folder is None else self.folder / "results" / f"{key}.json"

    def get_result(self, key: str) -> list[Any] | None:
        """A package's comparison stored by :meth:`put_result`, if any (a warm run reads this
        instead of two whole APIs)."""
        path = self._result_path(key)
        if path is None:
            return None
        try:
            data = json.loads(path.read_bytes())
        except (OSError, ValueError, RecursionError):
            return None
        return data if isinstance(data, list) else None

    def put_result(self, key: str, data: list[Any]) -> None:
        path = self._result_path(key)
        if path is not None:
            write_json_atomic(path, data)


def _result_key(
    name: str, version: str, before: str | None, files: Sequence[Any], uses: Sequence[Any]
) -> str:
    """What a package's comparison depends on: the API format, the locked (and --since)
    release, every release the page lists (a new release or yank changes "newest" and the
    bisection) and every use the code makes of the package, places included."""
    from depwatch.wheels.api import API_FORMAT

    digest = hashlib.sha256()
    digest.update(repr((API_FORMAT, name, version, before)).encode())
    for f in files:
        digest.update(repr((f.filename, f.url, f.yanked)).encode())
    for file, ref in uses:
        digest.update(repr((file.path, ref)).encode())
    return f"{re.sub(r'[^A-Za-z0-9_.-]', '_', name)[:60]}-{digest.hexdigest()[:32]}"


def _hit_to_json(hit: _Hit) -> list[Any]:
    change = hit.change
    return [
        hit.tag.value,
        hit.kind,
        hit.symbol,
        None if change is None else [change.kind, change.symbol, change.where, change.keyword],
        hit.first,
        hit.had,
        hit.message,
        [
            [
                list(k),
                [e.path, e.line, e.column, e.code, e.cell, e.symbol, e.context, list(e.guards)],
            ]
            for k, e in hit.evidence.items()
        ],
    ]


def _hit_from_json(item: list[Any]) -> _Hit:
    tag, kind, symbol, change, first, had, message, evidence = item
    return _Hit(
        Tag(tag),
        kind,
        symbol,
        None if change is None else Change(*change),
        first,
        had,
        message,
        {
            (k[0], k[1], k[2], k[3]): Evidence(path, line, col, code, cell, sym, ctx, tuple(guards))
            for k, (path, line, col, code, cell, sym, ctx, guards) in evidence
        },
    )


_READING = threading.BoundedSemaphore(4)
"""Wheels being read (their sources held in memory) at once; griffe itself runs one at a time."""


_POOL_MIN_BYTES = 64_000
"""Sources smaller than this are read in this process (starting a worker costs more)."""


class _Extractor:
    """griffe runs in up to two worker processes (it is CPU-bound: threads gain nothing), so a
    cold run uses both cores of a small machine, and griffe's memory is given back with them.
    Workers are started only when a large package needs reading; small ones, a machine with
    one core, or a pool that broke are read in this process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pool: Any = None
        self._broken = False

    def extract(self, sources: WheelSources) -> Api:
        from depwatch.wheels.api import extract_api, extract_api_from

        size = sum(len(data) for data in sources.files.values())
        pool = self._get() if size >= _POOL_MIN_BYTES else None
        if pool is None:
            return extract_api(sources)
        from concurrent.futures.process import BrokenProcessPool

        try:
            future = pool.submit(
                extract_api_from, sources.files, sources.top_level, sources.compiled
            )
            return future.result()  # type: ignore[no-any-return]
        except BrokenProcessPool:
            with self._lock:
                self._broken = True
            return extract_api(sources)

    def _get(self) -> Any:
        with self._lock:
            if self._broken or (os.cpu_count() or 1) < 2:
                return None
            if self._pool is None:
                import multiprocessing
                from concurrent.futures import ProcessPoolExecutor

                # spawn: this process runs threads, and a fork would copy their locks
                self._pool = ProcessPoolExecutor(
                    max_workers=2, mp_context=multiprocessing.get_context("spawn")
                )
            return self._pool

    def close(self) -> None:
        with self._lock:
            if self._pool is not None:
                self._pool.shutdown(wait=True, cancel_futures=True)
                self._pool = None


_EXTRACTOR = _Extractor()


class _Failed(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _wheel_rank(filename: str) -> tuple[int, str]:
    """Which wheel of a release to read: pure first, then the common Linux build."""
    if filename.endswith(("-none-any.whl", "-py3-none-any.whl")):
        return 0, filename
    if "manylinux" in filename and "x86_64" in filename:
        return 1, filename
    return 2, filename


@dataclass
class _Release:
    version: Version
    text: str
    wheel: ProjectFile | None
    yanked: bool


class _Package:
    """One (distribution, locked version) whose API is compared: its releases, loaded lazily."""

    def __init__(
        self,
        name: str,
        locked: str,
        files: Sequence[ProjectFile],
        session: IndexSession,
        cache: ApiCache,
        result: WheelsResult,
        lock: threading.Lock,
    ) -> None:
        self.name, self.locked_text = name, locked
        self.session, self.cache, self.result, self.lock = session, cache, result, lock
        by_version: dict[Version, list[ProjectFile]] = {}
        for f in files:
            if f.version is None or not f.filename.endswith(".whl"):
                continue
            try:
                by_version.setdefault(Version(f.version), []).append(f)
            except InvalidVersion:
                continue
        self.locked = Version(locked)
        releases = []
        for version, found in sorted(by_version.items()):
            wheel = min(found, key=lambda f: _wheel_rank(f.filename))
            releases.append(_Release(version, str(version), wheel, all(f.yanked for f in found)))
        self.releases = releases
        self.apis: dict[Version, Api | _Failed] = {}
        self.before: Version | None = None

    def release(self, version: Version) -> _Release | None:
        for r in self.releases:
            if r.version == version:
                return r
        return None

    def api(self, version: Version) -> Api:
        """The API of one release (cache, else read from its wheel); raises :class:`_Failed`."""
        known = self.apis.get(version)
        if isinstance(known, _Failed):
            raise known
        if known is not None:
            return known
        try:
            found = self._load(version)
        except _Failed as exc:
            self.apis[version] = exc
            raise
        self.apis[version] = prepare(found)
        return found

    def _load(self, version: Version) -> Api:
        release = self.release(version)
        if release is None or release.wheel is None:
            raise _Failed(f"the index lists no wheel of {self.name} {version}")
        url = release.wheel.url
        cached = self.cache.get(self.name, str(version), url)
        if cached is not None:
            if "error" in cached:
                raise _Failed(str(cached["error"]))
            return cached
        from depwatch.wheels.remote import WheelError, WheelUnreachable, read_wheel_sources

        shown = release.wheel.filename
        try:
            with _READING:  # at most a few wheels' sources in memory at once
                api = _EXTRACTOR.extract(read_wheel_sources(self.session, url))
        except WheelUnreachable as exc:  # not remembered: the next run asks again
            raise _Failed(f"{shown}: {exc}") from None
        except WheelError as exc:
            self.cache.put(self.name, str(version), url, {"error": f"{shown}: {exc}"})
            raise _Failed(f"{shown}: {exc}") from None
        with self.lock:
            self.result.fetched += 1
        self.cache.put(self.name, str(version), url, api)
        return api

    def newest(self) -> Version | None:
        pre = self.locked.is_prerelease
        candidates = [
            r.version
            for r in self.releases
            if not r.yanked and r.wheel is not None and (pre or not r.version.is_prerelease)
        ]
        return max(candidates) if candidates else None

    def between(self, low: Version, high: Version) -> list[Version]:
        """Final (not yanked) releases with a wheel in (low, high], in order."""
        return [
            r.version
            for r in self.releases
            if low < r.version <= high
            and not r.yanked
            and r.wheel is not None
            and (not r.version.is_prerelease or r.version == high)
        ]

    def earlier(self) -> list[Version]:
        """Earlier releases a project may have used before L, most likely first: the one the
        lock held at ``--since``, the release just before L, the last of the previous minor
        series, the last of the previous major."""
        first = [self.before] if self.before is not None and self.before < self.locked else []
        finals = [
            r.version
            for r in self.releases
            if r.version < self.locked and r.wheel is not None and not r.version.is_prerelease
        ]
        if not finals:
            return []
        picks = [finals[-1]]
        minor = [v for v in finals if v.release[:2] < self.locked.release[:2]]
        if minor:
            picks.append(minor[-1])
        major = [v for v in finals if v.release[:1] < self.locked.release[:1]]
        if major:
            picks.append(major[-1])
        return list(dict.fromkeys(first + picks))


def _base_symbol(symbol: str) -> str:
    return symbol.split("(", 1)[0]


@dataclass
class _Hit:
    tag: Tag
    kind: str
    symbol: str
    change: Change | None
    first: str | None
    """The first release that changed it (plan) or that lacks it (immediate)."""
    had: str | None
    """A release that still had it."""
    message: str | None = None
    evidence: dict[tuple[str, int, int, int], Evidence] = field(default_factory=dict)


def _evidence(file: FileFacts, ref: Ref, change: Change | None, symbol: str) -> Evidence:
    if change is not None and change.where == "keyword":
        for kw in ref.keywords:
            if kw.name == change.keyword:
                return Evidence(
                    printable_name(file.path),
                    kw.line,
                    kw.column,
                    kw.code,
                    cell=kw.cell,
                    symbol=symbol,
                )
    return Evidence(
        printable_name(file.path), ref.line, ref.column, ref.code, cell=ref.cell, symbol=symbol
    )


def _bisect(pkg: _Package, ref: Ref, symbol: str, low: Version, high: Version) -> Version:
    """The first release in (low, high] where the use changed (``high`` changed it)."""
    span = pkg.between(low, high)
    if high not in span:
        span.append(high)
    lo, hi = -1, len(span) - 1
    base = pkg.api(low)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        try:
            api = pkg.api(span[mid])
        except _Failed:
            # an unreadable release in between: say no more than the newest sure one
            return span[hi]
        if any(c.symbol == symbol for c in changes(ref, base, api)):
            hi = mid
        else:
            lo = mid
    return span[hi]


def _check_package(
    pkg: _Package, uses: list[tuple[FileFacts, Ref]], hits: dict[tuple[str, str], _Hit]
) -> None:
    locked = pkg.api(pkg.locked)
    newest = pkg.newest()
    newest_api: Api | None = None
    if newest is not None and newest > pkg.locked:
        try:
            newest_api = pkg.api(newest)
        except _Failed as exc:
            with pkg.lock:
                pkg.result.not_checked.append(
                    NotChecked(pkg.name, pkg.locked_text, f"newest release: {exc.reason}")
                )
    for file, ref in uses:
        # immediate: what the locked release lacks and an earlier one had
        if _suspect(ref, locked):
            for earlier in pkg.earlier():
                try:
                    before = pkg.api(earlier)
                except _Failed:
                    continue
                found = changes(ref, before, locked)
                if not found:
                    continue
                for change in found:
                    first = _bisect(pkg, ref, change.symbol, earlier, pkg.locked)
                    _add(hits, file, ref, change, Tag.IMMEDIATE, str(first), str(earlier))
                break
        # plan: what a newer release removed or changed incompatibly
        if newest_api is not None and newest is not None:
            for change in changes(ref, locked, newest_api):
                if (Tag.IMMEDIATE.value, change.symbol) in hits:
                    continue
                first = _bisect(pkg, ref, change.symbol, pkg.locked, newest)
                _add(hits, file, ref, change, Tag.PLAN, str(first), pkg.locked_text)
        # deprecations in the locked release
        for symbol, message, keyword in deprecations(ref, locked):
            planned = [
                h
                for (tag, sym), h in hits.items()
                if tag == Tag.PLAN.value
                and (
                    sym == symbol or (_base_symbol(sym) == _base_symbol(symbol) and keyword is None)
                )
            ]
            if planned:
                for h in planned:
                    h.message = h.message or message
                continue
            change = Change("deprecated", symbol, "keyword" if keyword else "ref", keyword)
            hit = _add(hits, file, ref, change, Tag.MONITOR, None, pkg.locked_text)
            hit.message = hit.message or message
        # a newer release deprecates it (a shim serves it, or it warns): monitor
        if newest_api is not None and newest is not None:
            now = lookup(newest_api, ref.name)
            was = lookup(locked, ref.name)
            if (
                now.status in ("served", "present")
                and now.record
                and now.record.get("d")
                and now.record["k"] != "m"
                and was.status == "present"
                and not (was.record or {}).get("d")
            ):
                change = Change("shim", now.path, "ref")
                hit = _add(hits, file, ref, change, Tag.MONITOR, str(newest), pkg.locked_text)
                hit.message = hit.message or str(now.record["d"])


def _suspect(ref: Ref, api: Api) -> bool:
    """Whether the locked release may not satisfy this use (cheap; earlier releases decide)."""
    found = lookup(api, ref.name)
    if found.status == "missing":
        return True
    if ref.kind != KIND_CALL or found.status != "present" or found.record is None:
        return False
    params = found.record.get("p")
    if not isinstance(params, list):
        return False
    named = {p[0] for p in params if p[1] in (1, 3)}
    varkw = any(p[1] == 4 for p in params)
    if any(kw.name not in named for kw in ref.keywords) and not varkw:
        return True
    positional = sum(1 for p in params if p[1] in (0, 1))
    if not ref.star_args and ref.positional > positional and not any(p[1] == 2 for p in params):
        return True
    if not ref.star_args and not ref.star_kwargs:
        passed = {kw.name for kw in ref.keywords}
        pos_names = [p[0] for p in params if p[1] in (0, 1)]
        passed |= set(pos_names[: ref.positional])
        if any(p[2] and p[0] not in passed and not p[0].startswith("_") for p in params):
            return True
    return False


def _add(
    hits: dict[tuple[str, str], _Hit],
    file: FileFacts,
    ref: Ref,
    change: Change,
    tag: Tag,
    first: str | None,
    had: str | None,
) -> _Hit:
    key = (tag.value, change.symbol)
    hit = hits.get(key)
    if hit is None:
        kind = "deprecation" if change.kind in ("deprecated", "shim") else "breaking"
        hit = hits[key] = _Hit(tag, kind, change.symbol, change, first, had)
    ev = _evidence(file, ref, change, change.symbol)
    hit.evidence.setdefault((ev.path, ev.cell or 0, ev.line, ev.column), ev)
    return hit


def _describe(name: str, locked: str, hit: _Hit) -> tuple[str, str, str]:
    """(title, what, action) of a derived finding."""
    change = hit.change
    sym = f"`{hit.symbol}`"
    kind = change.kind if change is not None else "removed"
    if kind == "removed":
        what = f"{sym} is gone"
    elif kind == "keyword":
        what = f"the keyword argument {sym} is gone"
    elif kind == "positional":
        what = f"{sym} can no longer be passed by position (keyword-only or removed)"
    elif kind == "required":
        what = f"{sym} became a required argument, and the code does not pass it"
    elif kind == "shim":
        what = f"{sym} is deprecated in a newer release"
    else:
        what = f"{sym} is deprecated"
    if hit.tag is Tag.IMMEDIATE:
        title = f"{what} in {name} {hit.first}; {name} {locked} is locked"
        if hit.had:
            title += f" ({name} {hit.had} had it)"
        action = f"change the code that uses {sym}, or lock {name} {hit.had} until it is changed"
    elif hit.tag is Tag.PLAN:
        title = f"{what} in {name} {hit.first} (locked: {locked})"
        action = f"before upgrading {name} to {hit.first} or later, change the code that uses {sym}"
    elif kind == "shim":
        title = f"{sym} is deprecated in {name} {hit.first} (locked: {locked})"
        action = f"move off {sym} before it is removed"
    else:
        title = f"{sym} is deprecated in {name} {locked}"
        action = f"move off {sym} before it is removed"
    if hit.message:
        title += f": {hit.message}"
    return title, what, action


def _curated_covers(symbol: str, curated: Iterable[str]) -> bool:
    """Whether a curated rule speaks of ``symbol``: a curated ``name`` covers the name, what
    is below it and its keywords; a curated ``name(kw=)`` covers that keyword only."""
    base = _base_symbol(symbol)
    for entry in curated:
        if "(" in entry:
            if entry == symbol:
                return True
        elif symbol_matches(base, entry):
            return True
    return False


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
    for (name, version), hits in zip(wanted, done, strict=True):
        for hit in hits.values():
            if _curated_covers(hit.symbol, curated.get(name, ())):
                continue
            title, what, action = _describe(name, version, hit)
            rule = f"wheels/{name}/{hit.symbol}"
            if hit.tag is Tag.MONITOR and hit.change is not None and hit.change.kind == "shim":
                rule = f"wheels/{name}/{hit.symbol}/deprecated"
            confidence = "static+deprecation" if hit.message else "static"
            evidence = tuple(hit.evidence[k] for k in sorted(hit.evidence))
            result.findings.append(
                Finding(
                    rule=rule,
                    project=project,
                    package=name,
                    version=version,
                    tag=hit.tag,
                    kind=hit.kind,
                    title=title,
                    action=action,
                    lockfiles=tuple(entries[(name, version)]),
                    evidence=evidence,
                    origin="wheels",
                    confidence=confidence,
                )
            )
            why = (
                f"derived from the released wheels of {name} ({confidence} diff"
                + (f", {hit.had} → {hit.first}" if hit.had and hit.first else "")
                + ")"
            )
            result.infos[rule] = RuleInfo(
                id=rule, title=title, kind=hit.kind, what=what, why=why, action=action
            )
    result.not_checked.sort(key=lambda n: (n.package, n.version or "", n.reason))
    return result
