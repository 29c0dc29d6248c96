"""The wheel-API cache: extracted APIs, one compact JSON file per wheel, and each package's
stored comparison (with the key saying what it depends on)."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from depwatch.files import read_cache_file, write_json_atomic

Api = dict[str, Any]


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
        data = _read_json(self._path(package, version, url))
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
        data = _read_json(self._result_path(key))
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


def _read_json(path: Path | None) -> Any:
    """A cache file's JSON, or None: no file, not a regular file (a link, a FIFO that would
    wait forever), larger than the input bound, or not JSON. A cache that is None is rebuilt."""
    data = None if path is None else read_cache_file(path)
    if data is None:
        return None
    try:
        return json.loads(data)
    except (ValueError, RecursionError):
        return None
