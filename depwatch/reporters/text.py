"""Making untrusted text (from lockfiles, rule files, source files) safe to show.

Everything a reporter prints that it did not write itself passes through :func:`sanitize`
(or :func:`oneline`) first; each output format then adds its own escaping on top (rich
markup, Markdown/HTML, workflow commands). Nothing here imports rich.
"""

from __future__ import annotations

import re

__all__ = [
    "no_workflow_commands",
    "oneline",
    "redact_credentials",
    "sanitize",
    "visible_escape",
]

# C0 controls except \t and \n, DEL, the C1 controls (\x9b is a one-byte CSI on some
# terminals), and the bidirectional overrides/isolates that make code read differently
# from how it runs ("Trojan source").
# Lone surrogates (a file name's bytes that are not UTF-8) cannot be written as UTF-8 at all.
_UNSAFE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)
_UNSAFE_ONELINE = re.compile(
    "[\x00-\x08\x0a-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029"
    "\ud800-\udfff]"
)
_WHITESPACE_RUN = re.compile(r"[ \t\n]+")

# GitHub Actions reads a line that starts (after blanks, which the runner trims) with ``::`` as
# a workflow command, and ``##[`` anywhere in a line as a legacy one. A table wraps input text
# at the console width, so any ``::`` in it can come to start a line: a ZERO WIDTH SPACE goes
# between every two colons and into every ``##[`` of input text. It is invisible where shown,
# not whitespace to the runner's trim(), and a wrap beside it still leaves no ``::``.
_WORKFLOW = re.compile(r":(?=:)|#(?=#\[)")
WORKFLOW_BREAK = "\u200b"

# The user-info of a URL (``https://ci-bot:ghp_…@github.com/…``) is a credential more often
# than not; it is redacted wherever input text is shown, the way pip shows such a URL:
# ``user:****@`` with a password, ``****@`` with a user (a token) alone.
_USERINFO = re.compile(r"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.-]*://)(?P<info>[^/?#@\s'\"<>\\]+)@")


def _redact(match: re.Match[str]) -> str:
    user, colon, _ = match.group("info").partition(":")
    shown = f"{user}:****" if colon else "****"
    return f"{match.group('scheme')}{shown}@"


#: The most of one piece of input text a human-readable output shows (a line of a report, a
#: rule's body): a 12 MB "name" once made a table take 25 s to lay out.
MAX_SHOWN = 2000
MAX_SHOWN_BLOCK = 20000


def _capped(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return f"{text[:limit]}…({len(text):,} characters)"


def redact_credentials(text: str) -> str:
    """``text`` with the user-info of every URL in it redacted as pip does."""
    return _USERINFO.sub(_redact, text) if "@" in text else text


def visible_escape(char: str) -> str:
    """A control character as the Python escape a reader recognises (``\\x1b``, ``\\u202e``)."""
    code = ord(char)
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def _replace(match: re.Match[str]) -> str:
    char = match.group(0)
    if char == "\r":
        return ""
    return visible_escape(char)


def sanitize(text: str) -> str:
    """``text`` without terminal control characters; newlines and tabs are kept.

    A carriage return is dropped (``\\r\\n`` becomes ``\\n``); every other control or
    bidirectional-override character is replaced by its visible escape, so that a source
    line holding ``ESC[31m`` shows as ``\\x1b[31m`` instead of turning the terminal red; and
    ``::`` / ``##[`` are broken so that no line can become a workflow command; and the
    credentials in a URL are redacted (:func:`redact_credentials`).
    """
    # Redacted before it is cut: a cut through a URL's user-info would leave part of it.
    text = _capped(redact_credentials(text), MAX_SHOWN_BLOCK).replace("\r\n", "\n")
    return _WORKFLOW.sub(_break, _UNSAFE.sub(_replace, text))


def _break(match: re.Match[str]) -> str:
    return match.group(0) + WORKFLOW_BREAK


def no_workflow_commands(text: str) -> str:
    """``text`` with every ``::`` and ``##[`` broken by an invisible ZERO WIDTH SPACE, so no
    line of it can be read as a GitHub workflow command (see :data:`_WORKFLOW`)."""
    return _WORKFLOW.sub(_break, text)


def _replace_oneline(match: re.Match[str]) -> str:
    char = match.group(0)
    if char in "\n\r\u2028\u2029":
        return " "
    return visible_escape(char)


def oneline(text: str) -> str:
    """:func:`sanitize` for a single line: line breaks and runs of blanks become one space;
    more than :data:`MAX_SHOWN` characters are cut, saying how many there were."""
    text = _UNSAFE_ONELINE.sub(_replace_oneline, _capped(redact_credentials(text), MAX_SHOWN))
    return _WORKFLOW.sub(_break, _WHITESPACE_RUN.sub(" ", text).strip())
