"""The usage cache: what was extracted from each file, in the user's cache folder (never in
the project), keyed by path, size and mtime, the depwatch version and what was extracted.

One file per project root and key (tracked modules, environment variables, assignments):
``check`` and ``check --online`` track different modules, and each keeps its own cache
instead of rebuilding the other's. The few newest of a root are kept.

Format: one :mod:`marshal` body holding each file's size, mtime, facts and outline (the facts
without references: what the second pass reads) as the bytes the scan workers packed them into
(:func:`depwatch.usage.wire.pack`: stored as received, no conversion on write, none but checks
on read), behind a first line holding the body's SHA-256. A file's references are read only
when they are its answer.

Integrity: the cache file is read only when it is a regular file (a symlink or FIFO is
ignored) and its body matches the SHA-256 on its first line (an entry edited by hand, a file
cut short); otherwise it is rebuilt. Every entry read back is checked field by field before
use: an outline on reading (:func:`~depwatch.usage.wire.outline_from_stored`; one that does
not check out means the file is scanned again), references when they are needed
(:func:`~depwatch.usage.wire.facts_from_stored`; junk there means the cache is not used and
the project is scanned afresh). Sources are not hashed: a cached entry is trusted when the file's size and
``st_mtime_ns`` are the recorded ones. A checkout writes every file with a new time stamp, so
a cache restored from another branch or run matches no file whose content could differ; what
is not seen is a rewrite that keeps the size and resets the nanosecond time stamp (hashing
every source on every run would read the whole tree, the cost the cache avoids).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from depwatch import __version__
from depwatch.files import read_cache_file, seal_header, unseal
from depwatch.usage.scan import gc_paused
from depwatch.usage.wire import dumps, facts_from_stored, loads, outline_from_stored

if TYPE_CHECKING:
    from depwatch.usage.facts import FileFacts

__all__ = [
    "cache_file",
    "cache_key",
    "cache_path",
    "cached_facts",
    "cached_outline",
    "facts_of",
    "load",
    "outline_of",
    "save",
    "stored",
]

#: 2: calls record positional counts and splats; 3: guards; 4: subclasses, returns,
#: subscripts, and which positional arguments are string literals; 6: and callers' guards;
#: 7: where a name's call-result part starts; 8: and parameters annotated with a class;
#: 9: marshal: each file's facts as the bytes a worker packed; one cache file per key;
#: 10: and each file's outline (imports, exports) packed apart; 11: and what the first pass
#: held back (:mod:`depwatch.usage.symbolic`).
_CACHE_FORMAT = 11
_SUFFIX = ".usage"
_KEEP = 4
"""How many cache files (keys) of one root are kept, newest first."""


def cache_path(root: Path) -> Path | None:
    """Where the usage cache of ``root`` lives, or None when caching is off."""
    from depwatch import cachedir

    folder = cachedir.folder("usage")
    if folder is None:
        return None
    digest = hashlib.sha256(os.fsencode(Path(root).absolute())).hexdigest()[:24]
    return folder / f"{digest}.json"


def cache_file(root: Path, key: str) -> Path | None:
    """The cache file of ``root`` for ``key`` (beside :func:`cache_path`), or None when
    caching is off."""
    base = cache_path(root)
    if base is None:
        return None
    return base.with_name(f"{base.stem}-{key[:16]}{_SUFFIX}")


def cache_key(
    modules: tuple[str, ...], env: tuple[str, ...], assignments: tuple[str, ...] = ()
) -> str:
    text = json.dumps(
        [_CACHE_FORMAT, __version__, sorted(modules), sorted(env), sorted(assignments)]
    )
    return hashlib.sha256(text.encode()).hexdigest()


def load(path: Path | None, key: str) -> dict[str, Any]:
    """The entries of the cache file at ``path`` written for ``key`` (none: empty)."""
    if path is None:
        return {}
    # Only a regular file (a symlink or FIFO there is ignored), whose checksum matches (an
    # entry edited by hand or a file cut short is not trusted): otherwise it is rebuilt.
    raw = read_cache_file(path, limit=1 << 30)  # a cache, not input: it may be large
    body = unseal(raw) if raw is not None else None
    del raw  # the body is a copy: one of the two at a time
    if body is None:
        return {}
    try:
        # Millions of small objects that all live: collections meanwhile only re-scan them.
        with gc_paused():
            data = loads(body)
        if not isinstance(data, dict) or data.get("key") != key:
            return {}
        files = data.get("files")
        return files if isinstance(files, dict) else {}
    except (OSError, ValueError, EOFError, TypeError, RecursionError):
        return {}


def save(path: Path | None, key: str, root: Path, files: dict[str, Any]) -> None:
    """Write ``files`` (entries whose facts are packed bytes) to ``path``; never into the
    project. Older cache files of the root beyond the newest few are removed."""
    if path is None:
        return
    try:
        root_real = os.path.realpath(root)
        if os.path.realpath(path).startswith(root_real + os.sep):
            return  # never write into the project
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".usage-", suffix=".tmp", dir=path.parent)
        try:
            body = dumps({"key": key, "root": os.fspath(root), "files": files})
            with os.fdopen(fd, "wb") as fh:
                fh.write(seal_header(body))  # the body after it, not copied behind it
                fh.write(body)
            del body
            Path(tmp).replace(path)
        except BaseException:
            with contextlib.suppress(OSError):
                Path(tmp).unlink()
            raise
        _prune(path)
    except (OSError, ValueError):  # ValueError: a value marshal cannot write
        return


def _prune(path: Path) -> None:
    """Keep the newest few cache files of ``path``'s root (and none of the older layout)."""
    stem = path.name[: -len(_SUFFIX) - 17]  # the root's digest, before "-<key>.usage"
    with contextlib.suppress(OSError):
        (path.parent / f"{stem}.json").unlink()  # format 8 and before: one JSON file
    found: list[tuple[int, Path]] = []
    with os.scandir(path.parent) as entries:
        for entry in entries:
            name = entry.name
            if name.startswith(stem + "-") and name.endswith(_SUFFIX) and entry.is_file():
                with contextlib.suppress(OSError):
                    found.append((entry.stat().st_mtime_ns, Path(entry.path)))
    found.sort(reverse=True)
    for _, old in found[_KEEP:]:
        if old != path:
            with contextlib.suppress(OSError):
                old.unlink()


def stored(entry: Any, field: str) -> Any:
    """The tuple stored under ``field`` of a cache entry, read but not checked (None when
    it cannot be read): :func:`outline_of` and :func:`facts_of` check what they use."""
    try:
        data = entry[field]
        return loads(data) if type(data) is bytes else None
    except (KeyError, TypeError, ValueError, EOFError):
        return None


def outline_of(data: Any) -> FileFacts | None:
    """The outline of a :func:`stored` tuple (no references), or None when it does not
    check out."""
    if data is None:
        return None
    try:
        return outline_from_stored(data)
    except (TypeError, ValueError):
        return None


def facts_of(data: Any) -> FileFacts | None:
    """The facts of a :func:`stored` tuple, or None when they do not check out."""
    if data is None:
        return None
    try:
        return facts_from_stored(data)
    except (TypeError, ValueError):
        return None


def cached_facts(entry: Any, field: str) -> FileFacts | None:
    """The facts stored under ``field`` of a cache entry, or None when they do not check out."""
    return facts_of(stored(entry, field))


def cached_outline(entry: Any, field: str) -> FileFacts | None:
    """:func:`cached_facts` without the references (what the second pass reads), or None."""
    return outline_of(stored(entry, field))
