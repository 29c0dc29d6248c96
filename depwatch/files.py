"""Reading input files with errors a user can act on (a folder, a loop, no permission, junk)."""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import stat
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from depwatch.errors import DepwatchError

__all__ = [
    "display_path",
    "file_kind",
    "inside",
    "max_input_size",
    "open_cache_file",
    "parse_size",
    "printable_name",
    "read_bytes",
    "read_cache_file",
    "read_text",
    "repository_top",
    "seal",
    "unseal",
]

#: The default bound on any one input file (a lockfile, pyproject.toml, a rule file, a
#: baseline, a cache file): far above any real lockfile, far below what hurts a CI runner.
DEFAULT_MAX_INPUT_SIZE = 100 * 1024 * 1024

#: The environment variable that changes :data:`DEFAULT_MAX_INPUT_SIZE`.
MAX_INPUT_SIZE_ENV = "DEPWATCH_MAX_INPUT_SIZE"

_SIZE = re.compile(r"\s*([0-9]{1,15})\s*([kmg]i?b?|b)?\s*", re.IGNORECASE)
_UNITS = {"": 1, "b": 1, "k": 1024, "m": 1024**2, "g": 1024**3}


def repository_top(start: Path) -> Path | None:
    """The top folder of the git repository holding ``start`` (found by ``.git``, without
    running git), or None outside one."""
    for folder in (start, *start.parents):
        if (folder / ".git").exists():
            return folder
    return None


def printable_name(name: str) -> str:
    """A file name as text every output can encode: bytes that are not UTF-8 (which Python keeps
    as lone surrogates) are shown as ``\\xff`` escapes. The name is for showing only."""
    if name.isascii():
        return name
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return name


def display_path(path: Path | str) -> str:
    """``path`` as the user would recognise it: relative to the working folder where it can be."""
    text = os.fspath(path)
    try:
        rel = os.path.relpath(text)
    except ValueError:  # another drive on Windows
        return printable_name(text)
    return printable_name(text if rel.startswith("..") else rel)


def parse_size(text: str, *, name: str) -> int:
    """A size such as ``5000000``, ``64K``, ``100M`` or ``1G`` (binary units) in bytes;
    ``name`` (the variable or key it came from) is named in the error."""
    found = _SIZE.fullmatch(text)
    if not found:
        raise DepwatchError(
            f"{name}={text!r} is not a size", hint="give bytes, or a number with K, M or G"
        )
    unit = (found.group(2) or "").lower()[:1]
    return int(found.group(1)) * _UNITS[unit]


def max_input_size() -> int:
    """The bound on one input file: ``$DEPWATCH_MAX_INPUT_SIZE``, else 100 MiB."""
    value = os.environ.get(MAX_INPUT_SIZE_ENV)
    if not value:
        return DEFAULT_MAX_INPUT_SIZE
    return parse_size(value, name=MAX_INPUT_SIZE_ENV)


def file_kind(mode: int) -> str:
    """What a non-regular file is, for a message: ``a directory``, ``a named pipe (FIFO)``."""
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


#: Opening a FIFO for reading blocks until a writer comes; O_NONBLOCK makes it return at once
#: (it changes nothing for a regular file), so the kind check below runs on the open file.
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
_OPEN_FLAGS |= getattr(os, "O_BINARY", 0)


def read_bytes(path: Path, *, limit: int | None = None) -> bytes:
    """The whole file, or a :class:`DepwatchError` that names it and says what is wrong.

    Only a regular file is read (a FIFO would wait forever, ``/dev/zero`` never ends), and only
    up to ``limit`` bytes (default :func:`max_input_size`): more is an error, never a hang.
    """
    shown = display_path(path)
    bound = max_input_size() if limit is None else limit
    try:
        fd = os.open(path, _OPEN_FLAGS)
    except IsADirectoryError:
        raise DepwatchError("is a directory, not a file", path=shown) from None
    except FileNotFoundError:
        raise DepwatchError("no such file", path=shown) from None
    except PermissionError:
        raise DepwatchError(
            "cannot be read (permission denied)", path=shown, hint="check the file's permissions"
        ) from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise DepwatchError("is a symbolic link loop", path=shown) from None
        raise DepwatchError(f"cannot be read: {exc.strerror or exc}", path=shown) from None
    except ValueError:  # a NUL byte in the name
        raise DepwatchError("is not a valid file name (it holds a NUL byte)", path=shown) from None
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise DepwatchError("is a directory, not a file", path=shown)
        if not stat.S_ISREG(mode):
            raise DepwatchError(f"is {file_kind(mode)}, not a regular file", path=shown)
        chunks: list[bytes] = []
        size = 0
        while True:
            chunk = os.read(fd, min(1 << 20, bound + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
            if size > bound:
                raise DepwatchError(
                    f"is larger than depwatch reads ({bound:,} bytes)",
                    path=shown,
                    hint=f"raise the limit with {MAX_INPUT_SIZE_ENV} (bytes, or 100M, 1G)",
                )
    except BlockingIOError:
        raise DepwatchError("cannot be read now (it would block)", path=shown) from None
    except OSError as exc:
        raise DepwatchError(f"cannot be read: {exc.strerror or exc}", path=shown) from None
    finally:
        os.close(fd)
    return b"".join(chunks)


def read_text(path: Path, *, limit: int | None = None) -> str:
    """The file decoded as UTF-8 (a BOM is dropped); binary junk is an error."""
    data = read_bytes(path, limit=limit)
    if b"\x00" in data[:8192]:
        raise DepwatchError("is a binary file, not a text lockfile", path=display_path(path))
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise DepwatchError(
            f"is not valid UTF-8 (byte {exc.start + 1})", path=display_path(path), line=line
        ) from None


# -- cache files -----------------------------------------------------------------------------

_CACHE_FLAGS = _OPEN_FLAGS | getattr(os, "O_NOFOLLOW", 0)
_SEAL = b"depwatch-sha256:"


def open_cache_file(path: Path | str, *, follow: bool = False) -> int | None:
    """A file descriptor of a cache file open for reading, or None for anything that is not a
    regular file: a symbolic link (unless ``follow``: a cache folder is not input to follow), a
    FIFO (it would block), a device, a missing or unreadable file. The caller closes it."""
    try:
        fd = os.open(path, _OPEN_FLAGS if follow else _CACHE_FLAGS)
    except (OSError, ValueError):
        return None
    try:
        if stat.S_ISREG(os.fstat(fd).st_mode):
            return fd
    except OSError:
        pass
    os.close(fd)
    return None


def read_cache_file(
    path: Path | str, *, limit: int | None = None, follow: bool = False
) -> bytes | None:
    """A cache file's bytes (see :func:`open_cache_file`), or None, also when it is larger
    than ``limit``. A cache that is None is rebuilt."""
    bound = max_input_size() if limit is None else limit
    fd = open_cache_file(path, follow=follow)
    if fd is None:
        return None
    try:
        if os.fstat(fd).st_size > bound:
            return None
        chunks: list[bytes] = []
        size = 0
        while chunk := os.read(fd, min(1 << 22, bound + 1 - size)):
            chunks.append(chunk)
            size += len(chunk)
            if size > bound:
                return None
        return b"".join(chunks)
    except OSError:
        return None
    finally:
        os.close(fd)


def seal(body: bytes) -> bytes:
    """``body`` behind a first line holding its SHA-256: :func:`unseal` checks it. A checksum
    catches a cache file edited by hand or cut short; it is no signature (whoever can write
    the cache folder can write a matching checksum too)."""
    return seal_header(body) + body


def seal_header(body: bytes) -> bytes:
    """The first line :func:`seal` puts before ``body`` (to write a large body after it
    without copying it)."""
    import hashlib

    return _SEAL + hashlib.sha256(body).hexdigest().encode() + b"\n"


def unseal(data: bytes) -> bytes | None:
    """The body of a file written by :func:`seal`, or None when the checksum does not match."""
    import hashlib

    end = data.find(b"\n", 0, 100)
    if end < 0 or not data.startswith(_SEAL):
        return None
    body = memoryview(data)[end + 1 :]
    if hashlib.sha256(body).hexdigest().encode() != data[len(_SEAL) : end]:
        return None
    return bytes(body)


def inside(path: Path | str, folders: Iterable[Path | str]) -> bool:
    """Whether ``path`` (resolved) is inside one of ``folders`` (resolved): where a cache must
    not be written when the folder is the audited project."""
    try:
        real = os.path.realpath(path)
        return any(
            real == (top := os.path.realpath(folder))
            or real.startswith(top.rstrip(os.sep) + os.sep)
            for folder in folders
        )
    except (OSError, ValueError):
        return True  # when in doubt, do not write


_WRITE_FLAGS = (
    os.O_WRONLY
    | os.O_CREAT
    | os.O_TRUNC
    | getattr(os, "O_NOFOLLOW", 0)
    | getattr(os, "O_CLOEXEC", 0)
    | getattr(os, "O_BINARY", 0)
)


def write_bytes_atomic(path: Path | str, body: bytes) -> None:
    """Replace ``path`` whole with ``body`` (a reader never sees half a file): one ``write`` to
    a name of this process and thread beside it, then renamed over. The folder must exist.
    Raises OSError, after removing the temporary file."""
    temporary = f"{os.fspath(path)}.{os.getpid()}-{threading.get_ident()}.tmp"
    try:
        fd = os.open(temporary, _WRITE_FLAGS, 0o600)
        try:
            view = memoryview(body)
            while view:
                view = view[os.write(fd, view) :]
        finally:
            os.close(fd)
        os.replace(temporary, path)  # noqa: PTH105 (str paths: a cold run writes hundreds)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(temporary)  # noqa: PTH108
        raise


def write_json_atomic(path: Path, data: Any) -> None:
    """Write ``data`` as compact JSON to ``path`` by replacing it whole (a reader never sees a
    half-written file); a cache that cannot be written is no error, so OSError is swallowed."""
    body = json.dumps(data, separators=(",", ":")).encode()
    with contextlib.suppress(OSError):
        path.parent.mkdir(parents=True, exist_ok=True)
        write_bytes_atomic(path, body)
