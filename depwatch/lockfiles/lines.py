"""Where a locked package is in its lockfile's text: the line SARIF and editors point at.

The readers parse with TOML, JSON and YAML parsers, which keep no line numbers, so the line is
found afterwards, by the shape each format gives an entry: the line that names the package
(in any PEP 503 spelling and case) whose entry holds the locked version —

- uv, poetry, pdm, pylock: ``name = "x"`` (or ``'x'``) with ``version = "1.0"`` in the lines
  just after it;
- Pipfile.lock: ``"x": {`` with ``"version": "==1.0"`` before the entry's closing brace;
- conda-lock: ``name: x`` with ``version: 1.0`` in the lines after it, within the entry;
- requirements: ``x==1.0`` (or ``x @ url``) at the start of a line.

When no entry of that name holds the version, the name's first entry is used; a package that
no entry names has no line.
"""

from __future__ import annotations

import re

from packaging.utils import canonicalize_name

__all__ = ["LockLines"]

_H = r"[ \t]*"
_TOML = (  # basic or literal strings (pylock.toml writers use both)
    rf"""^{_H}name{_H}={_H}(["'])([^"'\n]+)\1{_H}$""",
    rf"""^{_H}version{_H}={_H}(["']){{version}}\1{_H}$""",
    rf"^{_H}\[",
    3,
)
#: format → (a line that names an entry, capturing the name; the entry's version line; a line
#: that ends the entry; how many lines after the name the version may come).
_SHAPES: dict[str, tuple[str, str | None, str | None, int]] = {
    "uv": _TOML,
    "poetry": _TOML,
    "pdm": _TOML,
    "pylock": _TOML,
    "pipfile": (
        rf'^{_H}"([^"\n]+)"{_H}:{_H}\{{',
        rf'^{_H}"version"{_H}:{_H}"===?{_H}{{version}}"',
        rf"^{_H}\}}",
        10_000,
    ),
    "conda": (
        rf"""^{_H}-?{_H}name:{_H}["']?([^"'\s]+)["']?{_H}$""",
        rf"""^{_H}version:{_H}["']?{{version}}["']?{_H}$""",
        rf"^{_H}-",
        12,
    ),
    "requirements": (
        rf"^{_H}([A-Za-z0-9][A-Za-z0-9._-]*){_H}(?:\[[^\]\n]*\])?{_H}(?:===?|@)",
        None,
        None,
        0,
    ),
}


class LockLines:
    """One lockfile's text, searched for its packages' lines (build once per file: the entries
    are indexed by name on the first search, so each finding costs a dict lookup)."""

    def __init__(self, text: str, fmt: str) -> None:
        self.lines = text.splitlines()
        self._shape = _SHAPES.get(fmt, _SHAPES["requirements"])
        self._entries: dict[str, list[int]] | None = None

    def _index(self) -> dict[str, list[int]]:
        entries: dict[str, list[int]] = {}
        named = re.compile(self._shape[0])
        for number, line in enumerate(self.lines, start=1):
            found = named.match(line)
            if found:
                entries.setdefault(canonicalize_name(found.group(found.lastindex or 1)), []).append(
                    number
                )
        return entries

    def locate(self, name: str, version: str) -> int | None:
        """The 1-based line of ``name`` (normalised) at ``version``, or None."""
        if self._entries is None:
            self._entries = self._index()
        numbers = self._entries.get(name)
        if not numbers:
            return None
        _, version_line, end, window = self._shape
        escaped = re.escape(version)
        # Without a version line, the version is on the entry's own line (``x==1.0``).
        wanted = re.compile(
            version_line.format(version=escaped)
            if version_line
            else rf".*?===?{_H}{escaped}(?![\w.+!-])"
        )
        ends = re.compile(end) if end else None
        lines = self.lines
        for number in numbers:
            if version_line is None:
                if wanted.match(lines[number - 1]):
                    return number
                continue
            for after in range(number, min(number + window, len(lines))):
                line = lines[after]
                if wanted.match(line):
                    return number
                if ends is not None and ends.match(line):
                    break
        return numbers[0]
