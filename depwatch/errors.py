"""The one error type that stops an audit, and the exit codes.

Anything that makes a run untrustworthy (a malformed lockfile, config or rule file, bad flags,
no lockfile) raises :class:`DepwatchError`; the CLI turns it into a few lines on stderr and
exit 2, in exactly one place. Odd but harmless input is a warning, never this.
"""

from __future__ import annotations

import enum
import re

__all__ = ["DepwatchError", "ExitCode", "number_problem"]


class ExitCode(enum.IntEnum):
    """Exit codes, like ruff's and mypy's."""

    OK = 0
    """Nothing at or above ``--fail-on``."""
    FINDINGS = 1
    """At least one finding at or above ``--fail-on``."""
    ERROR = 2
    """The run could not be trusted: bad input, bad flags, or a gap under ``--strict``."""


class DepwatchError(Exception):
    """A problem with the input that the user must fix; always names the file at fault.

    ``path`` is the file as the user would recognise it; ``line`` (1-based) and ``key`` (a
    dotted TOML/JSON path such as ``package[3].version``) narrow it down where known; ``hint``
    says what to do.
    """

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        line: int | None = None,
        key: str | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.path = path
        self.line = line
        self.key = key
        self.hint = hint

    def __str__(self) -> str:
        where = ""
        if self.path:
            where = _single_line(self.path)
            if self.line is not None:
                where += f":{self.line}"
            where += ": "
        text = f"{where}{_one_line(self.message)}"
        if self.key:
            text += f" (at '{_single_line(self.key)}')"
        if self.hint:
            text += f"\n  hint: {_one_line(self.hint)}"
        return text

    def with_path(self, path: str) -> DepwatchError:
        """The same error attributed to ``path`` when it named no file yet (a new error; this
        one is left as it is)."""
        if self.path is not None:
            return self
        return self.moved(path)

    def moved(self, path: str) -> DepwatchError:
        """A new error like this one (of the same type), naming ``path`` as the file at fault."""
        new = type(self).__new__(type(self), *self.args)
        new.__dict__.update(self.__dict__)
        new.path = path
        return new


#: Line breaks as a terminal, ``str.splitlines`` or a CI log reader sees them.
_BREAKS = re.compile("[\n\r\x0b\x0c\x1c-\x1e\x85\u2028\u2029]")


#: A run of this many characters without a blank is input quoted whole (a 4,000-digit
#: version, a minified line): it is shortened, so an error stays "one or a few lines".
_LONG_WORD = re.compile(r"\S{401,}")


def _shorten(match: re.Match[str]) -> str:
    word = match.group()
    return f"{word[:300]}…({len(word):,} characters)"


def _one_line(text: str) -> str:
    """A message on one line: its line breaks (a parser's multi-line explanation, or input
    text quoted in it) become spaces, and very long words are shortened."""
    text = " ".join(part.strip() for part in _BREAKS.split(text) if part.strip())
    return _LONG_WORD.sub(_shorten, text)


def _single_line(text: str) -> str:
    """``text`` with its line breaks shown as escapes (``\\n``): a file name or TOML key
    holding a newline cannot start a line of its own on stderr, where a CI runner reads
    workflow commands (``::error::``) too."""
    return _BREAKS.sub(lambda match: repr(match.group())[1:-1], text)


def number_problem(exc: ValueError) -> str:
    """What a decoder's bare ``ValueError`` (not its own syntax error) says about the input:
    in practice an integer longer than Python converts (``sys.get_int_max_str_digits()``)."""
    if "digits" in str(exc):
        return "it holds an integer with too many digits"
    return f"it holds a value Python cannot convert ({_one_line(str(exc))[:200]})"
