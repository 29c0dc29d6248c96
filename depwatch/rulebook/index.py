"""The rulebook: validated rules indexed by package, from a compiled, lazily read cache.

Reading and validating the TOML costs about 45 µs per rule file here (tomli alone: 0.45 s for
10,000 files of 1.5 kB), so each rule folder is compiled once into a cache file in the user
cache folder (``platformdirs.user_cache_dir("depwatch")``; ``DEPWATCH_CACHE_DIR`` moves it,
``DEPWATCH_NO_CACHE=1`` turns it off). The cache holds the *validated* rules, so reading it needs
no checks, and it is inert data — JSON and plain text, never pickle or marshal: nothing read back
is ever executed.

Layout: one file per rule folder, named by a hash of the cache format, the depwatch version and
the folder's absolute path. Line 1 is the checksum of line 2, a small JSON header (format,
depwatch version, folder, the folder's ``st_mtime_ns`` and, per package, ``[folder mtime_ns,
offset, length, checksum]``). The rest is one segment per package: a JSON line ``[files,
usages, names]`` (``files``: ``[name, size, mtime_ns, content digest]`` per rule file and
``_package.toml``; ``usages``: each rule's ``[usage, locks]``; ``names``: the package's
validated ``_package.toml`` or null), then every field of every rule as plain strings separated
by NUL (:func:`depwatch.rulebook.loader.to_row`: 19 per rule, a list's items joined by U+001F)
— validated rule text never holds control characters but tab and newline, and splitting one
long text is several times cheaper than decoding JSON strings.
Loading reads the file and parses only the header; a package's segment is
decoded, checked and turned into ``Rule`` objects (``SpecifierSet``, ``Version``) when that
package is first asked for, and memoised. A load costs one ``stat`` and one small ``json.loads``
whatever the number of rules; a lookup costs what the packages asked for cost.

When an entry is current, and why (issue 19: the cache must not be trusted blindly — a CI cache
restored from another branch is a writer of this folder):

- the rule folder's own ``mtime_ns`` (a package folder added, removed or renamed) on load — a
  mismatch rebuilds the whole cache;
- a package folder's ``mtime_ns`` (a rule file added, removed or renamed — atomic-save editors
  and ``git checkout`` included) and a hash of every rule file's bytes
  (:func:`~depwatch.rulebook.loader.content_digest`), when the package is first looked up. Only
  the files of the packages a run asks for are read, so the cost grows with the locked packages
  that have rules, not with the rulebook. A mismatch re-checks every package of the folder once,
  re-reads what changed, and rewrites the cache.

Integrity: line 1 of the cache file is a BLAKE2b checksum of the header (line 2), and the header
holds one of every package's segment, checked when that segment is first decoded. An edited,
truncated or foreign entry is read again from its files. The cache file is opened only when it
is a regular file (a symbolic link or FIFO is ignored), and never written inside a folder the
caller protects (the audited projects). Checksums are no signature: whoever can write the cache
folder can write matching ones, but then nothing of the folder's content is trusted anyway past
the rule file hashes, which are recomputed from the rule files themselves on every lookup.

A time stamp within two seconds of the cache write is stored as unknown, so an added file in the
same clock tick as the scan is never missed (git's "racily clean" problem). Cache writes are
atomic (a temporary file, then ``os.replace``); a cache that cannot be read, decoded or used is
silently rebuilt, and one that cannot be written is simply not kept.

Several folders (the shipped rules, then each ``--rules DIR`` / ``[tool.depwatch] rules`` in
order) make one rulebook: a rule whose id is also in an earlier folder **replaces** it, so a
team can correct a shipped rule without waiting for a release. Within one folder ids cannot
repeat (they come from paths).
"""

from __future__ import annotations

import gc
import hashlib
import json
import mmap
import os
import time
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, Protocol

from packaging.utils import canonicalize_name

from depwatch import __version__
from depwatch.errors import DepwatchError
from depwatch.files import display_path, inside, open_cache_file, read_cache_file
from depwatch.rulebook.loader import (
    INTERPRETER,
    ROW_FIELDS,
    RuleErrors,
    ScannedDir,
    build_rule,
    content_digest,
    rule_from_row,
    scan_dir,
    scan_package,
    to_row,
)
from depwatch.rulebook.model import Names, Rule

__all__ = ["CACHE_FORMAT", "RuleBook", "cache_dir", "load_rulebook"]

#: Bumped whenever the cache layout or the raw rule form changes (2: call patterns gained
#: ``without`` and ``positional_max``; 3: rows of plain strings, usages apart; 4: rule text
#: may not hold C1 controls, carriage returns or text-direction characters; 5: action-below,
#: lock conditions and lock examples: each rule's JSON item is ``[usage, locks]``; 6: usages
#: gain assignments, segments the package's names; 7: both, and call patterns
#: ``not_passed_to`` and ``string_arg``; 8: and entries keyed by a hash of each rule file's
#: bytes, a checksum of the header and of every segment).
CACHE_FORMAT = 8

#: Time stamps this close to the cache write are stored as unknown (see the module docstring).
_RACY_NS = 2_000_000_000
_UNKNOWN = -1

_decode_json = json.JSONDecoder().decode


def cache_dir() -> Path | None:
    """Where rule caches live; None when caching is turned off (``DEPWATCH_NO_CACHE=1``)."""
    from depwatch import cachedir

    return cachedir.root()


class _Source(Protocol):
    def packages(self) -> Iterable[str]: ...

    def rules(self, package: str) -> tuple[Rule, ...]: ...

    def refresh(self, again: set[str] | frozenset[str] = ...) -> None: ...

    def names(self, package: str) -> dict[str, Any] | None: ...


class _MemorySource:
    """Rules given as objects (tests, advisories turned into rules)."""

    def __init__(self, rules: Iterable[Rule]) -> None:
        self._by_package: dict[str, list[Rule]] = {}
        for rule in rules:
            self._by_package.setdefault(rule.package, []).append(rule)

    def packages(self) -> Iterable[str]:
        return self._by_package.keys()

    def rules(self, package: str) -> tuple[Rule, ...]:
        return tuple(self._by_package.get(package, ()))

    def refresh(self, again: set[str] | frozenset[str] = frozenset()) -> None:
        return None

    def names(self, package: str) -> dict[str, Any] | None:
        return None


class _DirSource:
    """One rule folder, read through its cache (see the module docstring)."""

    def __init__(self, root: Path, cache: Path | None, protect: Sequence[Path] = ()) -> None:
        self.root = root
        self._protect = tuple(protect)
        """Folders the cache is never written into (the audited projects)."""
        self._root_text = os.fspath(root)
        self._shown = display_path(root)
        self._cache_file: Path | None = None
        if cache is not None:
            digest = hashlib.sha256(
                f"{CACHE_FORMAT}\0{__version__}\0{self._root_text}".encode()
            ).hexdigest()[:20]
            self._cache_file = cache / f"rules-{digest}.json"
        self._index: dict[str, list[Any]] = {}
        """package → [folder mtime_ns, offset, length, segment digest] (offset from ``_base``
        in ``_blob``; the digest is :func:`_segment_digest` of the segment's bytes)."""
        self._blob: bytes | mmap.mmap = b""
        """The cache file, mapped (only the segments looked up are ever read from disk)."""
        self._base = 0
        self._fresh: dict[
            str,
            tuple[list[tuple[str, int, int, str]], list[dict[str, Any]], dict[str, Any] | None],
        ] = {}
        """Packages read from their files in this process: (files, raw rules, raw names);
        written back."""
        self._names: dict[str, dict[str, Any] | None] = {}
        """Packages' ``_package.toml`` as read from the cache (with their rules)."""
        self._checked: set[str] = set()
        """Packages whose cache entry was found current in this process."""
        self._verified = False
        """True when every package has been checked against its files in this process."""
        self._memo: dict[str, tuple[Rule, ...]] = {}
        self._dirty = False
        self.cache_hit = False
        """Whether the load was served from the cache (for tests and benchmarks)."""
        self._root_mtime = _UNKNOWN
        self._load()

    # -- loading ---------------------------------------------------------------------------

    def _load(self) -> None:
        try:
            stat = os.stat(self._root_text)  # noqa: PTH116 (str paths: hot path)
        except FileNotFoundError:
            raise DepwatchError(
                "rule folder not found",
                path=self._shown,
                hint="check the --rules folder or [tool.depwatch] rules",
            ) from None
        except OSError as exc:
            raise DepwatchError(
                f"cannot be read: {exc.strerror or exc}", path=self._shown
            ) from None
        self._root_mtime = stat.st_mtime_ns
        if self._read_cache():
            self.cache_hit = True
            return
        scanned = scan_dir(self.root)
        if scanned.errors:
            raise RuleErrors(scanned.errors)
        for package in scanned.rules:
            self._take(scanned, package)
        self._verified = True
        self._write_cache()

    def _read_cache(self) -> bool:
        if self._cache_file is None or self._root_mtime == _UNKNOWN:
            return False
        fd = open_cache_file(self._cache_file)  # None for a symlink, FIFO, device: rebuilt
        if fd is None:
            return False
        try:
            try:
                # Mapped, not read: a lookup touches a few segments of a file that holds every
                # rule's text. Cache files are replaced whole (os.replace), never rewritten in
                # place, so the mapping never sees a file shrink under it.
                data = mmap.mmap(fd, 0, access=mmap.ACCESS_READ)
            finally:
                os.close(fd)
            # Line 1: the header's checksum; line 2: the header (each segment's checksum is
            # in it, checked when the segment is first decoded).
            first = data.find(b"\n", 0, 200)
            end = data.find(b"\n", first + 1)
            if first < 0 or end < 0:
                return False
            if data[:first] != _segment_digest(data[first + 1 : end]).encode():
                return False
            header = json.loads(data[first + 1 : end])
            if (
                header["format"] != CACHE_FORMAT
                or header["depwatch"] != __version__
                or header["root"] != self._root_text
                or header["mtime"] != self._root_mtime
            ):
                return False
            index = header["packages"]
            if not isinstance(index, dict):
                return False
        except (OSError, ValueError, KeyError, TypeError):  # ValueError: an empty file, too
            return False
        self._index = index
        self._blob, self._base = data, end + 1
        return True

    def _take(self, scanned: ScannedDir, package: str) -> None:
        """Adopt a package just read from its files."""
        self._fresh[package] = (
            scanned.files[package],
            scanned.rules[package],
            scanned.declarations.get(package),
        )
        self._index[package] = [scanned.mtimes[package], 0, 0, ""]
        self._memo.pop(package, None)
        self._dirty = True

    # -- the cache's segments --------------------------------------------------------------

    def _decode(self, package: str) -> tuple[list[Any], list[Any], Any, bytes] | None:
        """A package's cached (files, usages, names, rows text); None if the entry is bad."""
        try:
            _, offset, length, digest = self._index[package]
            start = self._base + offset
            end = start + length
            blob = self._blob
            split = blob.find(b"\n", start, end)
            if split < 0 or end > len(blob):
                return None
            if _segment_digest(blob[start:end]) != digest:
                return None  # edited, cut short or not ours: the package is read again
            files, usages, names = _decode_json(blob[start:split].decode())
            if not isinstance(files, list) or not isinstance(usages, list):
                return None
            if names is not None and not isinstance(names, dict):
                return None
        except (ValueError, KeyError, TypeError, IndexError, AttributeError):
            return None
        return files, usages, names, blob[split + 1 : end]

    @staticmethod
    def _encode(
        files: list[tuple[str, int, int, str]],
        raws: list[dict[str, Any]],
        names: dict[str, Any] | None,
        racy: int,
    ) -> bytes:
        fields: list[str] = []
        usages: list[Any] = []
        for raw in raws:
            row, usage = to_row(raw)
            fields += row
            usages.append(usage)
        settled = [
            [name, size, _UNKNOWN if mtime >= racy else mtime, digest]
            for name, size, mtime, digest in files
        ]
        head = json.dumps([settled, usages, names], ensure_ascii=False, separators=(",", ":"))
        return f"{head}\n{chr(0).join(fields)}".encode()

    def _current(self, package: str, files: list[Any]) -> bool:
        """Whether the package's folder lists the same files and each file holds the bytes
        the cache entry was made from (its content digest; see the module docstring)."""
        mtime = self._index[package][0]
        folder = f"{self._root_text}{os.sep}{package}"
        try:
            if mtime == _UNKNOWN or os.stat(folder).st_mtime_ns != mtime:  # noqa: PTH116
                return False
            for name, size, _, digest in files:
                content = read_cache_file(f"{folder}{os.sep}{name}", limit=size, follow=True)
                if content is None or content_digest(content) != digest:
                    return False
        except (OSError, ValueError, TypeError):
            return False
        return True

    # -- lookups ---------------------------------------------------------------------------

    def packages(self) -> Iterable[str]:
        return self._index.keys()

    def rules(self, package: str) -> tuple[Rule, ...]:
        found = self._memo.get(package)
        if found is not None:
            return found
        if package not in self._index:
            return ()
        if package not in self._fresh:
            found = self._from_cache(package)
            if found is None:  # changed since the cache was written, or a bad entry
                self.refresh(again={package})
        if found is None:
            fresh = self._fresh.get(package)
            if fresh is None:  # the folder is gone since the load
                return ()
            found = tuple(
                build_rule(raw, source=self._source(raw["id"].split("/", 1)[1], package))
                for raw in fresh[1]
            )
            self._names[package] = fresh[2]
        self._memo[package] = found
        return found

    def names(self, package: str) -> dict[str, Any] | None:
        """The package's validated ``_package.toml`` (checked current like its rules)."""
        self.rules(package)
        return self._names.get(package)

    def _source(self, slug: str, package: str) -> str:
        return f"{self._shown}{os.sep}{package}{os.sep}{slug}.toml"

    def _from_cache(self, package: str) -> tuple[Rule, ...] | None:
        decoded = self._decode(package)
        if decoded is None:
            return None
        files, usages, names, text = decoded
        if package not in self._checked and not self._current(package, files):
            return None
        prefix = f"{self._shown}{os.sep}{package}{os.sep}"
        # Building a package's rules allocates many small objects that all live on; pausing
        # the collector meanwhile saves it from scanning them again and again.
        paused = gc.isenabled()
        if paused:
            gc.disable()
        try:
            # The rows: ROW_FIELDS strings per rule, NUL-separated (validated text never
            # holds control characters but tab and newline).
            fields = text.decode().split("\0") if usages else []
            if len(fields) != ROW_FIELDS * len(usages):
                return None
            rules = tuple(
                [
                    rule_from_row(
                        package,
                        fields[at : at + ROW_FIELDS],
                        usage,
                        f"{prefix}{fields[at]}.toml",
                    )
                    for at, usage in zip(range(0, len(fields), ROW_FIELDS), usages, strict=True)
                ]
            )
        except (ValueError, KeyError, TypeError, IndexError, AttributeError):
            return None  # decodes, but is not ours
        finally:
            if paused:
                gc.enable()
        self._checked.add(package)
        self._names[package] = names
        return rules

    def refresh(self, again: set[str] | frozenset[str] = frozenset()) -> None:
        """Check every package against its files (and re-read those in ``again``), re-read
        what changed, and write the cache back."""
        if self._verified and not again - self._fresh.keys():
            return
        scanned = ScannedDir(self.root)
        for package in list(self._index):
            if package in self._fresh:
                continue
            if package not in again:
                if package in self._checked:
                    continue
                decoded = self._decode(package)
                if decoded is not None and self._current(package, decoded[0]):
                    self._checked.add(package)
                    continue
            self._memo.pop(package, None)
            if (Path(self._root_text) / package).is_dir():
                scan_package(self.root, package, self._shown, scanned)
        if scanned.errors:
            raise RuleErrors(scanned.errors)
        for package in scanned.rules:
            self._take(scanned, package)
        for package in list(self._index):
            if package not in self._fresh and package not in self._checked:
                del self._index[package]  # its folder is gone since the load
                self._dirty = True
        self._verified = True
        if self._dirty:
            self._write_cache()

    # -- writing ---------------------------------------------------------------------------

    def _write_cache(self) -> None:
        if self._cache_file is None:
            return
        racy = time.time_ns() - _RACY_NS
        parts: list[bytes] = []
        index: dict[str, list[Any]] = {}
        offset = 0
        for package in sorted(self._index):
            folder_mtime, old_offset, old_length, _ = self._index[package]
            fresh = self._fresh.get(package)
            if fresh is not None:
                chunk = self._encode(*fresh, racy)
            else:
                start = self._base + old_offset
                chunk = self._blob[start : start + old_length]
            index[package] = [
                _UNKNOWN if folder_mtime >= racy else folder_mtime,
                offset,
                len(chunk),
                _segment_digest(chunk),
            ]
            parts.append(chunk)
            offset += len(chunk)
        header = {
            "format": CACHE_FORMAT,
            "depwatch": __version__,
            "root": self._root_text,
            "mtime": _UNKNOWN if self._root_mtime >= racy else self._root_mtime,
            "packages": index,
        }
        head = json.dumps(header, ensure_ascii=False, separators=(",", ":")).encode()
        if isinstance(self._blob, mmap.mmap):
            # Windows cannot replace a mapped file: keep the old segments in memory instead.
            mapped, self._blob = self._blob, self._blob[:]
            mapped.close()
        import tempfile  # only when writing: it costs start-up time

        target = self._cache_file
        if self._protect and inside(target, self._protect):
            return  # DEPWATCH_CACHE_DIR/XDG_CACHE_HOME inside the project: never write there
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, temp = tempfile.mkstemp(dir=target.parent, prefix=".rules-", suffix=".tmp")
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(_segment_digest(head).encode())
                    handle.write(b"\n")
                    handle.write(head)
                    handle.write(b"\n")
                    for chunk in parts:
                        handle.write(chunk)
                Path(temp).replace(target)
            except BaseException:
                Path(temp).unlink(missing_ok=True)
                raise
        except OSError:
            return  # a cache that cannot be written is not kept; the rules are still right
        self._dirty = False


class RuleBook:
    """Rules indexed by normalised package name; built lazily and memoised per package.

    Sources come in order (the shipped rules, then user folders); a rule whose id is also in an
    earlier source replaces that one.
    """

    def __init__(self, sources: Sequence[_Source]) -> None:
        self._sources = tuple(sources)
        self._memo: dict[str, tuple[Rule, ...]] = {}
        self._names: dict[str, str] = {}

    @classmethod
    def from_rules(cls, rules: Iterable[Rule]) -> RuleBook:
        """A rulebook of rules already in memory (for tests and callers that make rules)."""
        return cls([_MemorySource(rules)])

    @property
    def cached(self) -> tuple[bool, ...]:
        """Per rule folder, in order: whether it was read from the cache (for ``--verbose``)."""
        return tuple(getattr(source, "cache_hit", False) for source in self._sources)

    def _merged(self, package: str) -> tuple[Rule, ...]:
        found = self._memo.get(package)
        if found is not None:
            return found
        if len(self._sources) == 1:
            found = self._sources[0].rules(package)
        else:
            by_id: dict[str, Rule] = {}
            for source in self._sources:
                for rule in source.rules(package):
                    by_id[rule.id] = rule
            found = tuple(sorted(by_id.values(), key=lambda rule: rule.id))
        self._memo[package] = found
        return found

    def for_package(self, name: str) -> tuple[Rule, ...]:
        """The rules about distribution ``name`` (any spelling), sorted by id.

        Interpreter rules are never returned here (a conda lock's ``python`` package is the
        interpreter, which :meth:`interpreter_rules` covers).
        """
        key = self._names.get(name)
        if key is None:
            key = self._names[name] = canonicalize_name(name)
        if key == INTERPRETER:
            return ()
        return self._merged(key)

    def interpreter_rules(self) -> tuple[Rule, ...]:
        """The rules about the interpreter (``package = "python"``)."""
        return self._merged(INTERPRETER)

    def packages(self) -> frozenset[str]:
        """The normalised names of the distributions that have rules."""
        names: set[str] = set()
        for source in self._sources:
            names.update(source.packages())
        names.discard(INTERPRETER)
        return frozenset(names)

    def names(self, packages: Iterable[str] | None = None) -> Names:
        """The other spellings the ``_package.toml`` files of ``packages`` (any spelling;
        every package when None) declare; a later folder's entry replaces an earlier one's."""
        if packages is None:
            wanted = set(self._all_packages())
        else:
            wanted = {canonicalize_name(name) for name in packages}
            wanted.add(INTERPRETER)
        aliases: dict[str, str] = {}
        instances: dict[str, str] = {}
        for source in self._sources:
            present = set(source.packages())
            for package in sorted(wanted & present):
                raw = source.names(package)
                if raw:
                    aliases.update((name, target) for name, target in raw.get("aliases", ()))
                    instances.update((name, target) for name, target in raw.get("instances", ()))
        return Names(aliases, instances)

    def get(self, rule_id: str) -> Rule | None:
        """The rule with id ``rule_id`` (its package part in any spelling), or None."""
        package, _, slug = rule_id.partition("/")
        package = canonicalize_name(package)
        wanted = f"{package}/{slug}"
        for rule in self._merged(package):
            if rule.id == wanted:
                return rule
        return None

    def _all_packages(self) -> list[str]:
        for source in self._sources:
            source.refresh()
        names = set(self.packages())
        if any(INTERPRETER in source.packages() for source in self._sources):
            names.add(INTERPRETER)
        return sorted(names)

    def __iter__(self) -> Iterator[Rule]:
        """Every rule, by id (checks every rule file against the cache first)."""
        for package in self._all_packages():
            yield from self._merged(package)

    def __len__(self) -> int:
        return sum(len(self._merged(package)) for package in self._all_packages())


def _segment_digest(data: bytes | mmap.mmap) -> str:
    """The checksum of a cache header or segment (BLAKE2b, 128 bits: about 1 GB/s)."""
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def _resolved_folder(folder: Path) -> Path:
    """``folder`` made absolute, or an error naming it (a symbolic link loop, a NUL byte)."""
    shown = display_path(folder)
    try:
        return folder.resolve()
    except ValueError:  # a NUL byte in the name
        raise DepwatchError(
            "is not a valid folder name (it holds a NUL byte)", path=shown
        ) from None
    except (OSError, RuntimeError):  # a loop: RuntimeError before Python 3.13, OSError after
        raise DepwatchError("is a symbolic link loop", path=shown) from None


def load_rulebook(
    extra_dirs: Sequence[Path] = (),
    *,
    include_shipped: bool = True,
    protect: Sequence[Path] = (),
) -> RuleBook:
    """The shipped rules (unless excluded) and the rules of ``extra_dirs``, in that order.

    The cache is never written inside a folder of ``protect`` (the audited projects), even
    when ``DEPWATCH_CACHE_DIR`` or ``XDG_CACHE_HOME`` points there.

    A rule in a later folder replaces one with the same id in an earlier folder. Raises
    :class:`~depwatch.rulebook.loader.RuleErrors` (a ``DepwatchError``) listing every problem
    when a rule file is malformed.
    """
    from depwatch.rulebook.shipped import shipped_dir

    roots: list[Path] = []
    if include_shipped:
        roots.append(shipped_dir())
    roots.extend(_resolved_folder(Path(folder)) for folder in extra_dirs)
    cache = cache_dir()
    sources: list[_Source] = []
    seen: set[Path] = set()
    errors: list[DepwatchError] = []
    for root in roots:
        if root in seen:
            continue
        seen.add(root)
        try:
            sources.append(_DirSource(root, cache, protect))
        except RuleErrors as exc:
            errors.extend(exc.errors)
        except DepwatchError as exc:
            errors.append(exc)
    if errors:
        raise RuleErrors(errors)
    return RuleBook(sources)
