"""Which releases of a package are compared, and which wheel of each: the locked release, the
newest, the ones between (bisection) and the earlier ones an immediate finding is confirmed
against; each release's API loaded lazily (cache, else its wheel)."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from packaging.version import InvalidVersion, Version

from depwatch.wheels.cache import Api, ApiCache
from depwatch.wheels.compare import prepare
from depwatch.wheels.extract import _EXTRACTOR, _READING

if TYPE_CHECKING:
    from depwatch.index import IndexSession, ProjectFile
    from depwatch.wheels.result import WheelsResult


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
