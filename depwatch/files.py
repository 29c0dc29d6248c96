"""Reading input files with errors a user can act on (a folder, a loop, no permission, junk)."""

from __future__ import annotations

import errno
import os
from pathlib import Path

from depwatch.errors import DepwatchError

__all__ = ["display_path", "printable_name", "read_bytes", "read_text", "repository_top"]


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


def read_bytes(path: Path) -> bytes:
    """The whole file, or a :class:`DepwatchError` that names it and says what is wrong."""
    shown = display_path(path)
    try:
        return path.read_bytes()
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


def read_text(path: Path) -> str:
    """The file decoded as UTF-8 (a BOM is dropped); binary junk is an error."""
    data = read_bytes(path)
    if b"\x00" in data[:8192]:
        raise DepwatchError("is a binary file, not a text lockfile", path=display_path(path))
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise DepwatchError(
            f"is not valid UTF-8 (byte {exc.start + 1})", path=display_path(path), line=line
        ) from None
