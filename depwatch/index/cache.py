"""Project pages kept in the user's cache folder, with what revalidates them.

Under ``<cache>/index/<index digest>/``, never inside the audited project: ``releases.jsonl``
(the release tables a check reads, one line per project: a cold run writes one file, not one
per project) and, for the wheel diff, ``<project>.page.json`` (the whole page). Each project's
table keeps its own time and ETag/Last-Modified, so each is revalidated on its own.
``DEPWATCH_CACHE_DIR`` moves the folder and ``DEPWATCH_NO_CACHE=1`` turns caching off.

Whatever is read back is checked for shape and type before it is used: a cache file that was
cut short, edited, replaced by a symbolic link or a FIFO, or written by another format is a
miss (for the project whose line is damaged, or for all when the file is), never an error.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from depwatch.files import read_cache_file, write_bytes_atomic
from depwatch.index.page import ProjectFile, ProjectPage, ReleaseTable, Row

__all__ = ["CacheEntry", "PageCache", "TableEntry", "default_cache_dir"]

#: 4: the release tables of an index are one file, ``releases.jsonl``, a line per project (3 had a
#: file per project, ``<project>.releases.json``); checked on read.
_FORMAT = 4
#: The whole pages' files (``<project>.page.json``).
_PAGE_FORMAT = 3
#: A project's name as a cache file name: a normalised name, nothing that leaves the folder.
_SAFE_NAME = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
#: The most a cache file may hold (a whole page; the index answer itself is capped at 25 MB).
_MAX_FILE = 64 * 1024 * 1024
#: The most the release tables file of an index keeps (its oldest entries go first): a table is
#: a few kB, so thousands of projects.
_MAX_BUNDLE = 32 * 1024 * 1024


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
    if not (
        type(filename) is str
        and type(url) is str
        and _opt_str(version)
        and _opt_str(requires)
        and type(yanked) is bool
        and _opt_str(reason)
        and _opt_str(uploaded)
        and type(metadata) is bool
        and (size is None or type(size) is int)
    ):
        raise TypeError("not a cached file")
    # Positional: a warm run builds thousands of these.
    hashed = tuple((a, d) for a, d in hashes if type(a) is str and type(d) is str)
    return ProjectFile(
        filename, url, version, requires, yanked, reason, uploaded, hashed, metadata, size
    )


def _opt_str(value: object) -> bool:
    return value is None or type(value) is str


def _validator(value: object) -> str | None:
    """An ETag or Last-Modified as it may be sent back in a header (else None: the page is
    fetched whole instead of revalidated)."""
    if type(value) is str and value.isascii() and value.isprintable() and len(value) < 1024:
        return value
    return None


def _rows(value: object) -> tuple[Row, ...] | None:
    """The rows of a cached release table when every one has the shape
    :class:`~depwatch.index.page.ReleaseTable` reads, else None."""
    if type(value) is not list:
        return None
    for row in value:
        if (
            type(row) is not list
            or len(row) != 6
            or type(row[0]) is not str
            or type(row[1]) is not bool
            or type(row[2]) is not bool
            or (row[3] is not None and type(row[3]) is not str)
            or type(row[4]) is not list
            or (row[5] is not None and type(row[5]) is not str)
        ):
            return None
        for requires in row[4]:
            if requires is not None and type(requires) is not str:
                return None
    return tuple(value)


def _when(value: object) -> float | None:
    """A time the index confirmed a page: a number, not in the future (a clock that went back
    a minute is forgiven), else None."""
    if type(value) not in (int, float) or not math.isfinite(value):  # type: ignore[arg-type]
        return None
    when = float(value)  # type: ignore[arg-type]
    return when if when <= time.time() + 60 else None


class PageCache:
    """Read and write cached pages; every failure to read is a miss, every failure to write
    is ignored (the cache never decides an answer)."""

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder
        self._folders: dict[str, str] = {}
        self._made: set[str] = set()
        self._absent: dict[str, bool] = {}
        #: index → the release tables put and not yet written (project → its line)
        self._pending: dict[str, dict[str, bytes]] = {}
        #: index → the lines of its tables file, as read within the current batch
        self._bundles: dict[str, dict[str, bytes]] = {}
        self._batches = 0
        self._lock = threading.RLock()

    def _path(self, index_url: str, project: str, kind: str) -> str | None:
        if self.folder is None or not _SAFE_NAME.fullmatch(project):
            return None
        folder = self._folders.get(index_url)
        if folder is None:
            digest = hashlib.sha256(index_url.encode()).hexdigest()[:16]
            folder = self._folders[index_url] = os.path.join(self.folder, digest)  # noqa: PTH118
        return os.path.join(folder, project + kind)  # noqa: PTH118 (str paths: a run has hundreds)

    def _load(self, path: str | None) -> Any:
        """A cache file's JSON, or None (absent, not a regular file, too large, not JSON)."""
        if path is None:
            return None
        folder = os.path.dirname(path)  # noqa: PTH120
        absent = self._absent.get(folder)
        if absent is None:  # a first run has no folder for the index: nothing to open
            absent = self._absent[folder] = not os.path.isdir(folder)  # noqa: PTH112
        if absent:
            return None
        body = read_cache_file(path, limit=_MAX_FILE)
        if body is None:
            return None
        try:
            return json.loads(body)
        except (ValueError, RecursionError):
            return None

    # -- release tables: one file per index -------------------------------------------

    def _bundle_path(self, index_url: str) -> str | None:
        return self._path(index_url, "releases", ".jsonl")

    def _lines(self, index_url: str) -> dict[str, bytes]:
        """The entries of ``index_url``'s release tables file, by project name, unparsed: read
        once within a :meth:`batch`, else on every call (another run, or a hand, may have
        changed it). Call with the lock held."""
        known = self._bundles.get(index_url) if self._batches else None
        if known is not None:
            return known
        path = self._bundle_path(index_url)
        if path is None:
            return {}
        folder = os.path.dirname(path)  # noqa: PTH120
        absent = self._absent.get(folder)
        if absent is None:  # a first run has no folder for the index: nothing to open
            absent = self._absent[folder] = not os.path.isdir(folder)  # noqa: PTH112
        body = None if absent else read_cache_file(path, limit=_MAX_FILE)
        lines = _index_lines(body, index_url) if body else {}
        if self._batches:
            self._bundles[index_url] = lines
        return lines

    def get_table(self, index_url: str, project: str) -> TableEntry | None:
        if self.folder is None or not _SAFE_NAME.fullmatch(project):
            return None
        with self._lock:
            line = self._pending.get(index_url, {}).get(project)
            if line is None:
                line = self._lines(index_url).get(project)
        if line is None:
            return None
        try:
            data = json.loads(line)
        except (ValueError, RecursionError):
            return None
        # [name, fetched, etag, last_modified, url, rows]
        if type(data) is not list or len(data) != 6 or data[0] != project:
            return None
        if type(data[4]) is not str:
            return None
        fetched = _when(data[1])
        rows = _rows(data[5])
        if fetched is None or rows is None:
            return None
        return TableEntry(
            ReleaseTable(project, data[4], rows), fetched, _validator(data[2]), _validator(data[3])
        )

    def put_table(self, index_url: str, entry: TableEntry) -> None:
        """Keep ``entry``: written at once, or with the others when a :meth:`batch` ends."""
        table = entry.table
        if self.folder is None or not _SAFE_NAME.fullmatch(table.name):
            return
        row = [
            table.name,
            entry.fetched,
            entry.etag,
            entry.last_modified,
            table.url,
            [list(r) for r in table.rows],
        ]
        with contextlib.suppress(ValueError, TypeError, RecursionError):
            # ASCII JSON holds no raw line break: one entry, one line
            line = json.dumps(row, separators=(",", ":")).encode()
            with self._lock:
                self._pending.setdefault(index_url, {})[table.name] = line
                if self._batches:
                    return
            self.flush()

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        """Within it, tables put are written together, once, when it ends (a cold run fetches
        hundreds: one file written instead of one per project)."""
        with self._lock:
            self._batches += 1
        try:
            yield
        finally:
            with self._lock:
                self._batches -= 1
                last = not self._batches
            if last:
                self.flush()
                with self._lock:
                    if not self._batches:
                        self._bundles.clear()

    def flush(self) -> None:
        """Write the tables put since the last flush into their index's file, over what it
        holds (read again if another run wrote it meanwhile). Oldest entries go first when the
        file would pass :data:`_MAX_BUNDLE`. A cache that cannot be written is no error."""
        with self._lock:
            pending, self._pending = self._pending, {}
            for index_url, fresh in pending.items():
                path = self._bundle_path(index_url)
                if path is None:
                    continue
                merged = dict(self._lines(index_url))
                for name, line in fresh.items():
                    merged.pop(name, None)  # to the end: the file keeps the order of writes
                    merged[name] = line
                header = json.dumps([_FORMAT, index_url], separators=(",", ":")).encode()
                size = len(header) + 1 + sum(len(line) + 1 for line in merged.values())
                while size > _MAX_BUNDLE and len(merged) > len(fresh):
                    size -= len(merged.pop(next(iter(merged)))) + 1
                body = b"\n".join([header, *merged.values()]) + b"\n"
                first = not os.path.lexists(path)
                if self._write_bytes(path, body):
                    self._bundles.pop(index_url, None)  # read again: another run may write
                    if first:
                        _drop_format_3(os.path.dirname(path))  # noqa: PTH120

    def touch_table(self, index_url: str, entry: TableEntry) -> TableEntry:
        """The table confirmed by the index now (a 304)."""
        fresh = TableEntry(entry.table, time.time(), entry.etag, entry.last_modified)
        self.put_table(index_url, fresh)
        return fresh

    # -- whole pages (the wheel diff): one file per project ---------------------------

    def get(self, index_url: str, project: str) -> CacheEntry | None:
        data = self._load(self._path(index_url, project, ".page.json"))
        if type(data) is not dict:
            return None
        if data.get("format") != _PAGE_FORMAT or data.get("index") != index_url:
            return None
        try:
            page = data["page"]
            versions = page["versions"]
            fetched = _when(data["fetched"])
            if (
                page["name"] != project
                or type(page["url"]) is not str
                or page["format"] not in ("json", "html")
                or type(versions) is not list
                or not all(type(v) is str for v in versions)
                or fetched is None
            ):
                return None
            return CacheEntry(
                page=ProjectPage(
                    name=project,
                    url=page["url"],
                    files=tuple(_file_from_json(r) for r in page["files"]),
                    versions=tuple(versions),
                    format=page["format"],
                ),
                fetched=fetched,
                etag=_validator(data.get("etag")),
                last_modified=_validator(data.get("last_modified")),
            )
        except (ValueError, KeyError, TypeError):
            return None

    def put(self, index_url: str, entry: CacheEntry) -> None:
        page = entry.page
        data = {
            "format": _PAGE_FORMAT,
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
        self._write(self._path(index_url, entry.page.name, ".page.json"), data)

    def _write(self, path: str | None, data: object) -> None:
        """Replace ``path`` whole with ``data`` as compact JSON, encoded in one call. A cache
        that cannot be written is no error."""
        if path is None:
            return
        with contextlib.suppress(ValueError, TypeError, RecursionError):
            self._write_bytes(path, json.dumps(data, separators=(",", ":")).encode())

    def _write_bytes(self, path: str, body: bytes) -> bool:
        """Replace ``path`` whole with ``body`` (:func:`~depwatch.files.write_bytes_atomic`);
        False when it cannot be written."""
        folder = os.path.dirname(path)  # noqa: PTH120 (str paths)
        try:
            if folder not in self._made:
                os.makedirs(folder, exist_ok=True)  # noqa: PTH103
                with self._lock:
                    self._made.add(folder)
                    self._absent[folder] = False
            write_bytes_atomic(path, body)
        except OSError:
            return False
        return True

    def touch(self, index_url: str, entry: CacheEntry) -> CacheEntry:
        """The entry confirmed by the index now (a 304)."""
        fresh = CacheEntry(entry.page, time.time(), entry.etag, entry.last_modified)
        self.put(index_url, fresh)
        return fresh


def _index_lines(body: bytes, index_url: str) -> dict[str, bytes]:
    """The entry lines of a release tables file by project name (read from the line's start,
    ``["<name>",``; the whole line is parsed and checked only when it is asked for), or none
    when the file's first line is not this format's header for ``index_url``."""
    lines = body.split(b"\n")
    try:
        header = json.loads(lines[0])
    except (ValueError, RecursionError):
        return {}
    if header != [_FORMAT, index_url]:
        return {}
    found: dict[str, bytes] = {}
    for line in lines[1:]:
        if line[:2] != b'["':
            continue
        end = line.find(b'"', 2)
        name = line[2:end].decode("ascii", "replace") if end > 2 else ""
        if _SAFE_NAME.fullmatch(name):
            found[name] = line
    return found


def _drop_format_3(folder: str) -> None:
    """Remove the per-project table files of format 3 from an index's folder (once: when its
    tables file is first written)."""
    with contextlib.suppress(OSError), os.scandir(folder) as entries:
        for entry in entries:
            if entry.name.endswith(".releases.json"):
                with contextlib.suppress(OSError):
                    os.unlink(entry.path)  # noqa: PTH108
