"""The one place input JSON is parsed (Pipfile.lock, a baseline): duplicate keys, integers past
Python's digit limit and deep nesting are errors that name the file, never a traceback or a
silently dropped value."""

from __future__ import annotations

import json
from typing import Any

from depwatch.errors import DepwatchError, number_problem

__all__ = ["DuplicateKeyError", "loads"]


class DuplicateKeyError(ValueError):
    """An object names ``key`` twice (``json`` would keep only the last value)."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise DuplicateKeyError(key)
        out[key] = value
    return out


def loads(text: str, *, path: str, what: str, hint: str | None = None) -> Any:
    """Parse ``text``; ``what`` names the kind of file (``Pipfile.lock``) in errors."""
    try:
        return json.loads(text, object_pairs_hook=_unique)
    except json.JSONDecodeError as exc:
        raise DepwatchError(
            f"is not valid JSON: {exc.msg} (column {exc.colno})",
            path=path,
            line=exc.lineno,
            hint=hint,
        ) from None
    except DuplicateKeyError as exc:
        raise DepwatchError(
            f"is not a valid {what}: the key {exc.key!r} appears twice in one object "
            "(only the last value would be read)",
            path=path,
            hint=hint,
        ) from None
    except ValueError as exc:  # an integer past Python's digit limit
        raise DepwatchError(
            f"is not a {what} depwatch can read: {number_problem(exc)}", path=path
        ) from None
    except RecursionError:
        raise DepwatchError(
            f"is not a {what}: its arrays or objects are nested too deeply", path=path
        ) from None
