"""The one place TOML is parsed (tomli: its compiled wheels are about twice as fast as tomllib)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import tomli

from depwatch.errors import DepwatchError, number_problem
from depwatch.files import display_path, read_text

__all__ = ["load", "loads"]

_LINE = re.compile(r"\(at line (\d+), column (\d+)\)")


def loads(text: str, *, path: str) -> dict[str, Any]:
    """Parse ``text``; a syntax error names ``path`` and the line."""
    try:
        return tomli.loads(text)
    except tomli.TOMLDecodeError as exc:
        lineno = getattr(exc, "lineno", None)
        message = getattr(exc, "msg", None) or _LINE.sub("", str(exc)).strip()
        if lineno is None:
            found = _LINE.search(str(exc))
            lineno = int(found.group(1)) if found else None
        raise DepwatchError(f"is not valid TOML: {message}", path=path, line=lineno) from None
    except ValueError as exc:  # not a TOMLDecodeError: an integer past Python's digit limit
        raise DepwatchError(
            f"is not a file depwatch can read: {number_problem(exc)}", path=path
        ) from None
    except RecursionError:  # tomli's own limit, or the interpreter's
        raise DepwatchError(
            "is not a file depwatch can read: its arrays or tables are nested too deeply",
            path=path,
        ) from None


def load(path: Path) -> dict[str, Any]:
    """Read and parse a TOML file."""
    return loads(read_text(path), path=display_path(path))
