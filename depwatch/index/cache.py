"""Project pages kept in the user's cache folder, with what revalidates them.

One JSON file per (index, project) under ``<cache>/index/``; never inside the audited project.
``DEPWATCH_CACHE_DIR`` moves the folder and ``DEPWATCH_NO_CACHE=1`` turns caching off.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from depwatch.files import write_json_atomic
from depwatch.index.page import ProjectFile, ProjectPage, ReleaseTable

__all__ = ["CacheEntry", "PageCache", "TableEntry", "default_cache_dir"]

_FORMAT = 2


def default_cache_dir() -> Path | None:
    """``<user cache>/depwatch/index``, or None when caching is turned off."""
    from depwatch import cachedir

    return cachedir.folder("index")


@dataclass(frozen=True, slots=True)
class CacheEntry:
    page: ProjectPage
    fetched: float
    """When the index last confirmed the page (seconds since the epoch)."""
    etag: str | None = None
    last_modified: str | None = None


@dataclass(frozen=True, slots=True)
class TableEntry:
    """A page's release table (what a check reads), with what revalidates it."""

    table: ReleaseTable
    fetched: float
    etag: str | None = None
    last_modified: str | None = None


def _file_to_json(f: ProjectFile) -> list[Any]:
    return [
        f.filename,
        f.url,
        f.version,
        f.requires_python,
        f.yanked,
        f.yanked_reason,
        f.upload_time,
        [list(h) for h in f.hashes],
        f.core_metadata,
        f.size,
    ]


def _file_from_json(row: list[Any]) -> ProjectFile:
    (filename, url, version, requires, yanked, reason, uploaded, hashes, metadata, size) = row
    # Positional: a warm run builds thousands of these.
    hashed = tuple((a, d) for a, d in hashes)
    return ProjectFile(
        filename, url, version, requires, yanked, reason, uploaded, hashed, metadata, size
    )


class PageCache:
    """Read and write cached pages; every failure to read is a miss, every failure to write
    is ignored (the cache never decides an answer)."""

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder
        self._folders: dict[str, Path] = {}

    def _path(self, index_url: str, project: str, kind: str = "page") -> Path | None:
        if self.folder is None:
            return None
        folder = self._folders.get(index_url)
        if folder is None:
            digest = hashlib.sha256(index_url.encode()).hexdigest()[:16]
            folder = self._folders[index_url] = self.folder / digest
        return folder / f"{project}.{kind}.json"

    def _read(self, index_url: str, project: str, kind: str) -> dict[str, Any] | None:
        """A cache file of this format and index, or None (absent, unreadable or not ours)."""
        path = self._path(index_url, project, kind)
        if path is None:
            return None
        try:
            data = json.loads(path.read_bytes())
        except (OSError, ValueError, RecursionError):
            return None
        if not isinstance(data, dict):
            return None
        if data.get("format") != _FORMAT or data.get("index") != index_url:
            return None
        return data

    def get_table(self, index_url: str, project: str) -> TableEntry | None:
        data = self._read(index_url, project, "releases")
        if data is None:
            return None
        try:
            return TableEntry(
                table=ReleaseTable(
                    data["name"],
                    data["url"],
                    tuple(data["releases"]),
                ),
                fetched=float(data["fetched"]),
                etag=data.get("etag"),
                last_modified=data.get("last_modified"),
            )
        except (ValueError, KeyError, TypeError):
            return None

    def put_table(self, index_url: str, entry: TableEntry) -> None:
        table = entry.table
        self._write(
            self._path(index_url, table.name, "releases"),
            {
                "format": _FORMAT,
                "index": index_url,
                "fetched": entry.fetched,
                "etag": entry.etag,
                "last_modified": entry.last_modified,
                "name": table.name,
                "url": table.url,
                "releases": [list(row) for row in table.rows],
            },
        )

    def touch_table(self, index_url: str, entry: TableEntry) -> TableEntry:
        """The table confirmed by the index now (a 304)."""
        fresh = TableEntry(entry.table, time.time(), entry.etag, entry.last_modified)
        self.put_table(index_url, fresh)
        return fresh

    def get(self, index_url: str, project: str) -> CacheEntry | None:
        data = self._read(index_url, project, "page")
        if data is None:
            return None
        try:
            page = data["page"]
            return CacheEntry(
                page=ProjectPage(
                    name=page["name"],
                    url=page["url"],
                    files=tuple(_file_from_json(r) for r in page["files"]),
                    versions=tuple(page["versions"]),
                    format=page["format"],
                ),
                fetched=float(data["fetched"]),
                etag=data.get("etag"),
                last_modified=data.get("last_modified"),
            )
        except (ValueError, KeyError, TypeError):
            return None

    def put(self, index_url: str, entry: CacheEntry) -> None:
        page = entry.page
        data = {
            "format": _FORMAT,
            "index": index_url,
            "fetched": entry.fetched,
            "etag": entry.etag,
            "last_modified": entry.last_modified,
            "page": {
                "name": page.name,
                "url": page.url,
                "format": page.format,
                "versions": list(page.versions),
                "files": [_file_to_json(f) for f in page.files],
            },
        }
        self._write(self._path(index_url, entry.page.name), data)

    @staticmethod
    def _write(path: Path | None, data: dict[str, Any]) -> None:
        if path is not None:
            write_json_atomic(path, data)

    def touch(self, index_url: str, entry: CacheEntry) -> CacheEntry:
        """The entry confirmed by the index now (a 304)."""
        fresh = CacheEntry(entry.page, time.time(), entry.etag, entry.last_modified)
        self.put(index_url, fresh)
        return fresh
