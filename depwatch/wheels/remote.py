"""A wheel's Python sources read over HTTP: the zip's end record and central directory first,
then only the ``.py``/``.pyi`` members (range requests), or the whole file within a cap when the
server does not answer ranges.

Nothing read here is imported or run: members come back as bytes. Every bound that a hostile
wheel could push (not a zip, a zip bomb, a member path escaping its folder, a huge source file)
raises :class:`WheelError` with a reason fit for the "not checked" list.
"""

from __future__ import annotations

import re
import struct
import zlib
from dataclasses import dataclass
from typing import Protocol

__all__ = [
    "Answer",
    "Http",
    "Limits",
    "Response",
    "WheelError",
    "WheelSources",
    "WheelUnreachable",
    "read_wheel_sources",
]


class WheelError(Exception):
    """A wheel that cannot be read safely; the message is the "not checked" reason."""


class WheelUnreachable(WheelError):
    """The wheel could not be downloaded (the network, the host): worth asking again later."""


@dataclass(frozen=True, slots=True)
class Response:
    """An HTTP answer (what :class:`Http` returns; the index session's answers fit it)."""

    status: int
    headers: dict[str, str]
    """Lower-cased header names."""
    body: bytes


class Answer(Protocol):
    @property
    def status(self) -> int: ...
    @property
    def headers(self) -> dict[str, str]: ...
    @property
    def body(self) -> bytes: ...


class Http(Protocol):
    """What the wheel reader needs of an HTTP client (:class:`depwatch.index.IndexSession`
    is one): a GET with its body capped at ``max_bytes``; failures raise (the caller turns
    :class:`WheelError` and the index's ``NotCheckedError`` into "not checked")."""

    def get(
        self, url: str, *, headers: dict[str, str] | None = None, max_bytes: int | None = None
    ) -> Answer: ...


@dataclass(frozen=True, slots=True)
class Limits:
    full_download: int = 64 * 1024 * 1024
    """A wheel downloaded whole (no range support) larger than this is not checked."""
    directory: int = 16 * 1024 * 1024
    """Central directory size cap."""
    member: int = 8 * 1024 * 1024
    """One source file, uncompressed."""
    total: int = 96 * 1024 * 1024
    """All source files of one wheel, uncompressed."""
    ratio: int = 100
    """Uncompressed ÷ compressed above this (for members over 1 MiB) is a zip bomb."""
    members: int = 20_000
    """Source files in one wheel."""
    gap: int = 256 * 1024
    """Members closer than this are fetched in one range request."""


_EOCD = b"PK\x05\x06"
_EOCD64_LOCATOR = b"PK\x06\x07"
_EOCD64 = b"PK\x06\x06"
_CENTRAL = b"PK\x01\x02"
_LOCAL = b"PK\x03\x04"
_TAIL = 65_557  # the end record (22 bytes) and the longest comment (65,535)
_CONTENT_RANGE = re.compile(r"bytes\s+([0-9]+)-([0-9]+)/([0-9]+|\*)")
_SOURCE_SUFFIXES = (".py", ".pyi")
_SKIPPED_DIRS = frozenset({"tests", "test", "testing_data"})
"""Sub-folders of a package that hold no importable API a project uses."""


@dataclass(frozen=True, slots=True)
class _Member:
    name: str
    method: int
    compressed: int
    size: int
    offset: int
    flags: int


@dataclass(frozen=True, slots=True)
class WheelSources:
    """The Python sources of one wheel, by archive path (``pkg/mod.py``)."""

    files: dict[str, bytes]
    top_level: tuple[str, ...]
    """Top-level import names the wheel provides (packages, modules, namespace folders)."""
    compiled: tuple[str, ...]
    """Dotted names of the extension modules (.so/.pyd) the wheel ships."""
    requests: int
    """How many HTTP requests it took."""


class _Reader:
    def __init__(self, http: Http, url: str, limits: Limits) -> None:
        self.http, self.url, self.limits = http, url, limits
        self.whole: bytes | None = None
        self.size = 0
        self.requests = 0

    def get(self, headers: dict[str, str], max_bytes: int) -> Answer:
        from depwatch.index.page import NotCheckedError

        self.requests += 1
        try:
            return self.http.get(self.url, headers=headers, max_bytes=max_bytes)
        except NotCheckedError as exc:
            if "more than" in exc.reason:  # the body cap: the file is what it is
                raise WheelError(f"the wheel is larger than the cap ({exc.reason})") from None
            raise WheelUnreachable(exc.reason) from None

    def tail(self) -> bytes:
        """The last bytes of the file (and its size), or the whole file without ranges."""
        resp = self.get(
            {"Range": f"bytes=-{_TAIL}", "Accept-Encoding": "identity"}, self.limits.full_download
        )
        if resp.status == 200:
            self.whole = resp.body
            self.size = len(resp.body)
            return resp.body
        if resp.status == 416:  # an empty file
            raise WheelError("the wheel is empty")
        if resp.status != 206:
            raise WheelError(f"the wheel's URL answered HTTP {resp.status}")
        found = _CONTENT_RANGE.match(resp.headers.get("content-range", ""))
        if found is None or found[3] == "*":
            raise WheelError("the file host answered a range request without its range")
        start, end, total = int(found[1]), int(found[2]), int(found[3])
        if end + 1 != total or end - start + 1 != len(resp.body):
            raise WheelError("the file host answered another range than the one asked")
        self.size = total
        if start == 0:
            self.whole = resp.body
        return resp.body

    def read(self, start: int, length: int) -> bytes:
        if length <= 0:
            return b""
        if start < 0 or start + length > self.size:
            raise WheelError("the zip's directory points outside the file: not a wheel")
        if self.whole is not None:
            return self.whole[start : start + length]
        resp = self.get(
            {"Range": f"bytes={start}-{start + length - 1}", "Accept-Encoding": "identity"},
            max(length, self.limits.full_download),
        )
        if resp.status == 200:
            # the host stopped answering ranges: the body is the whole file (capped above)
            if len(resp.body) != self.size:
                raise WheelError("the wheel changed while it was read")
            self.whole = resp.body
            return resp.body[start : start + length]
        if resp.status != 206:
            raise WheelError(f"the wheel's URL answered HTTP {resp.status} to a range request")
        found = _CONTENT_RANGE.match(resp.headers.get("content-range", ""))
        if found is None or int(found[1]) != start or len(resp.body) != length:
            raise WheelError("the file host answered another range than the one asked")
        return resp.body


def _end_record(tail: bytes, reader: _Reader) -> tuple[int, int, int]:
    """(entries, directory size, directory offset) from the end of central directory."""
    at = tail.rfind(_EOCD)
    if at < 0 or len(tail) - at < 22:
        raise WheelError("not a zip archive (no end of central directory record)")
    _sig, disk, cd_disk, _n_disk, entries, cd_size, cd_offset, _clen = struct.unpack(
        "<4sHHHHIIH", tail[at : at + 22]
    )
    if disk != 0 or cd_disk != 0:
        raise WheelError("a multi-part zip archive is not a wheel")
    if 0xFFFF in (entries,) or 0xFFFFFFFF in (cd_size, cd_offset):
        loc = at - 20
        if loc < 0 or tail[loc : loc + 4] != _EOCD64_LOCATOR:
            raise WheelError("a ZIP64 archive without its locator")
        (eocd64_offset,) = struct.unpack("<Q", tail[loc + 8 : loc + 16])
        rec = reader.read(eocd64_offset, 56)
        if rec[:4] != _EOCD64:
            raise WheelError("a ZIP64 archive without its end record")
        entries, cd_size, cd_offset = struct.unpack("<QQQ", rec[32:56])
    return entries, cd_size, cd_offset


def _safe_name(name: str) -> bool:
    if not name or name.startswith(("/", "\\")) or "\\" in name or "\x00" in name:
        return False
    if re.match(r"[A-Za-z]:", name):
        return False
    return all(part not in ("..", ".") for part in name.split("/"))


def _directory(data: bytes, entries: int, limits: Limits) -> list[_Member]:
    members: list[_Member] = []
    pos = 0
    if entries > 1_000_000:
        raise WheelError(f"the zip lists {entries} members")
    for _ in range(entries):
        if data[pos : pos + 4] != _CENTRAL or len(data) < pos + 46:
            raise WheelError("a broken zip central directory")
        (
            flags,
            method,
            compressed,
            size,
            name_len,
            extra_len,
            comment_len,
            offset,
        ) = struct.unpack("<4xHH8xIIHHH8xI", data[pos + 4 : pos + 46])
        raw = data[pos + 46 : pos + 46 + name_len]
        extra = data[pos + 46 + name_len : pos + 46 + name_len + extra_len]
        pos += 46 + name_len + extra_len + comment_len
        if pos > len(data):
            raise WheelError("a broken zip central directory")
        name = raw.decode("utf-8" if flags & 0x800 else "cp437", errors="replace")
        if 0xFFFFFFFF in (compressed, size, offset):
            size, compressed, offset = _zip64_extra(extra, size, compressed, offset)
        members.append(_Member(name, method, compressed, size, offset, flags))
    return members


def _zip64_extra(extra: bytes, size: int, compressed: int, offset: int) -> tuple[int, int, int]:
    pos = 0
    while pos + 4 <= len(extra):
        tag, length = struct.unpack("<HH", extra[pos : pos + 4])
        body = extra[pos + 4 : pos + 4 + length]
        if tag == 1:
            fields: list[int | None] = []
            for value in (size, compressed, offset):
                if value == 0xFFFFFFFF:
                    if len(body) < 8 * (len(fields) + 1):
                        raise WheelError("a broken ZIP64 extra field")
                    fields.append(
                        struct.unpack("<Q", body[8 * len(fields) : 8 * len(fields) + 8])[0]
                    )
                else:
                    fields.append(None)
            return (
                fields[0] if fields[0] is not None else size,
                fields[1] if fields[1] is not None else compressed,
                fields[2] if fields[2] is not None else offset,
            )
        pos += 4 + length
    raise WheelError("a ZIP64 member without its sizes")


def _wanted(name: str) -> bool:
    if not name.endswith(_SOURCE_SUFFIXES):
        return False
    parts = name.split("/")
    top = parts[0]
    if top.endswith((".dist-info", ".data")):
        # purelib/platlib data folders hold importable code too
        if top.endswith(".data") and len(parts) > 2 and parts[1] in ("purelib", "platlib"):
            return not any(p in _SKIPPED_DIRS for p in parts[3:-1])
        return False
    return not any(p in _SKIPPED_DIRS for p in parts[1:-1])


def _import_path(name: str) -> str:
    parts = name.split("/")
    if parts[0].endswith(".data") and len(parts) > 2 and parts[1] in ("purelib", "platlib"):
        return "/".join(parts[2:])
    return name


def _inflate(member: _Member, blob: bytes, limits: Limits) -> bytes:
    if member.method == 0:
        data = blob
    elif member.method == 8:
        inflater = zlib.decompressobj(-15)
        try:
            data = inflater.decompress(blob, limits.member + 1)
        except zlib.error as exc:
            raise WheelError(f"{member.name}: broken deflate data ({exc})") from None
    else:
        raise WheelError(f"{member.name}: compression method {member.method} is not supported")
    if len(data) > limits.member:
        raise WheelError(
            f"{member.name} is larger than {limits.member // (1024 * 1024)} MiB uncompressed"
        )
    if len(data) != member.size:
        raise WheelError(f"{member.name}: its size does not match the zip's directory")
    return data


def read_wheel_sources(http: Http, url: str, limits: Limits | None = None) -> WheelSources:
    """The ``.py``/``.pyi`` members of the wheel at ``url`` (see the module docstring)."""
    limits = limits or Limits()
    reader = _Reader(http, url, limits)
    tail = reader.tail()
    entries, cd_size, cd_offset = _end_record(tail, reader)
    if cd_size > limits.directory:
        raise WheelError(f"the zip's directory is {cd_size} bytes (over the cap)")
    tail_start = reader.size - len(tail)
    if cd_offset >= tail_start and cd_offset + cd_size <= reader.size:
        directory = tail[cd_offset - tail_start : cd_offset - tail_start + cd_size]
    else:
        directory = reader.read(cd_offset, cd_size)
    members = _directory(directory, entries, limits)

    top_level: set[str] = set()
    compiled: set[str] = set()
    wanted: list[_Member] = []
    for m in members:
        if m.name.endswith("/"):
            continue
        if not _safe_name(m.name):
            raise WheelError(f"a member path escapes the wheel's folder: {m.name!r}")
        path = _import_path(m.name)
        first = path.split("/")[0]
        if first.endswith((".dist-info", ".data")):
            continue
        if path.endswith((".so", ".pyd")):
            folder, _, filename = path.rpartition("/")
            compiled.add(".".join([*folder.split("/"), filename.split(".")[0]]).strip("."))
        if not _wanted(m.name):
            continue
        if m.flags & 0x1:
            raise WheelError(f"{m.name} is encrypted")
        if m.size > limits.member:
            raise WheelError(
                f"{m.name} is larger than {limits.member // (1024 * 1024)} MiB uncompressed"
            )
        if m.size > 1024 * 1024 and m.size > limits.ratio * max(m.compressed, 1):
            raise WheelError(f"{m.name}: a compression ratio over {limits.ratio}:1 (a zip bomb)")
        top_level.add(first[:-3] if first.endswith(".py") else first.removesuffix(".pyi"))
        wanted.append(m)
    if len(wanted) > limits.members:
        raise WheelError(f"the wheel has {len(wanted)} source files (over the cap)")
    if sum(m.size for m in wanted) > limits.total:
        raise WheelError(
            f"the wheel's sources are over {limits.total // (1024 * 1024)} MiB uncompressed"
        )

    files: dict[str, bytes] = {}
    for start, end, group in _groups(wanted, limits.gap, reader.size):
        blob = reader.read(start, end - start)
        for m in group:
            at = m.offset - start
            header = blob[at : at + 30]
            if header[:4] != _LOCAL:
                raise WheelError(f"{m.name}: no local header where the directory points")
            name_len, extra_len = struct.unpack("<HH", header[26:30])
            data_at = at + 30 + name_len + extra_len
            body = blob[data_at : data_at + m.compressed]
            if len(body) != m.compressed:
                # the local extra field was longer than the directory's: read the rest
                body = reader.read(start + data_at, m.compressed)
            files[_import_path(m.name)] = _inflate(m, body, limits)
    return WheelSources(files, tuple(sorted(top_level)), tuple(sorted(compiled)), reader.requests)


def _groups(members: list[_Member], gap: int, size: int) -> list[tuple[int, int, list[_Member]]]:
    """Members in file order, merged into ranges where they are closer than ``gap``."""
    out: list[tuple[int, int, list[_Member]]] = []
    for m in sorted(members, key=lambda m: m.offset):
        # local header (30) + name + extra (unknown: allow 1 KiB) + data
        start = m.offset
        end = min(size, m.offset + 30 + len(m.name.encode()) * 2 + 1024 + m.compressed)
        if out and start - out[-1][1] <= gap:
            s, e, group = out[-1]
            out[-1] = (s, max(e, end), [*group, m])
        else:
            out.append((start, end, [m]))
    return out
