"""What a requirements line points at when it is a path or URL: whether it is one, its source
kind, the version a wheel's file name carries, the local folder of an editable entry, and
why an included file cannot be read."""

from __future__ import annotations

import re
import stat
from pathlib import Path
from urllib.parse import unquote, urlsplit

from depwatch.errors import DepwatchError
from depwatch.files import file_kind
from depwatch.lockfiles.base import ARCHIVES
from depwatch.model import SourceKind

_VCS_PREFIXES = ("git+", "hg+", "svn+", "bzr+")


#: ``name[extras] @ URL``: a PEP 508 direct reference, named (not a bare location).
_NAMED_REFERENCE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*\s*(?:\[[^\]]*\])?\s*@")


def _looks_like_location(text: str) -> bool:
    if _NAMED_REFERENCE.match(text):
        return False  # its name is the one written, not the file name's
    return (
        text.startswith((".", "/", "~", "file:", *_VCS_PREFIXES))
        or "://" in text.split(";", 1)[0].split(" @ ", 1)[0]
        or text.endswith(ARCHIVES)
    )


def _not_a_file(target: Path) -> str | None:
    """Why an included ``target`` cannot be read as a requirements file, or None."""
    try:
        mode = target.stat().st_mode
    except FileNotFoundError:
        return "does not exist"
    except (OSError, ValueError) as exc:  # a loop, no permission, a NUL byte
        return f"cannot be read ({_reason(exc)})"
    if stat.S_ISREG(mode):
        return None
    return f"is {file_kind(mode)}, not a regular file"


def _resolved(path: Path, shown: str) -> Path:
    try:
        return path.resolve()
    except (RuntimeError, OSError) as exc:  # a symbolic link loop (RuntimeError until 3.13)
        raise DepwatchError(f"cannot be read: {_reason(exc)}", path=shown) from None


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    text = str(exc).splitlines()
    if isinstance(exc, RuntimeError) and text and text[0].startswith("Symlink loop"):
        return "it is a symbolic link loop"
    return text[0] if text else type(exc).__name__


def _url_source(url: str) -> SourceKind:
    if url.startswith("git+"):
        return SourceKind.GIT
    if url.startswith(_VCS_PREFIXES):
        return SourceKind.URL
    if url.startswith("file:") or "://" not in url:
        path = urlsplit(url).path if url.startswith("file:") else url
        return SourceKind.PATH if path.endswith(ARCHIVES) else SourceKind.DIRECTORY
    return SourceKind.URL


def _wheel_version(location: str, name: str) -> str | None:
    """The version a wheel URL or path carries in its file name (``six-1.16.0-py2.py3-none-
    any.whl``), when the file name is a valid wheel name of ``name``; else None."""
    from packaging.utils import InvalidWheelFilename, parse_wheel_filename

    tail = unquote(urlsplit(location).path).rsplit("/", 1)[-1]
    if not tail.endswith(".whl"):
        return None
    try:
        wheel_name, version, _, _ = parse_wheel_filename(tail)
    except InvalidWheelFilename:
        return None
    return str(version) if wheel_name == name else None


def _file_url_path(url: str) -> str:
    return unquote(urlsplit(url).path)


def _local_folder(location: str, *, base: Path) -> Path | None:
    """The folder a local path or ``file:`` URL names; None for a remote URL."""
    if "://" in location and not location.startswith("file:"):
        return None
    url_path = urlsplit(location).path if location.startswith("file:") else location
    folder = Path(unquote(url_path.split("#", 1)[0])).expanduser()
    return folder if folder.is_absolute() else base / folder
