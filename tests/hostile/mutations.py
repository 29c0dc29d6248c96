"""Mutations of real input files for the property tests and the atheris targets (issue 19).

Each mutation takes the file's bytes and hypothesis' ``draw``-like random choices and returns new
bytes. Hostile ones: truncation, byte flips, a duplicated key line, a type swap, a huge integer,
deep nesting, a NUL byte, invalid UTF-8. Benign ones (the same inventory must come back): a BOM,
CRLF line ends.
"""

from __future__ import annotations

import re
from collections.abc import Callable

HUGE = b"9" * 5000
#: A line holding one key of a TOML table, a JSON object or a YAML mapping.
_KEY_LINE = re.compile(rb"^[ \t]*(?:\"[^\"\n]+\"[ \t]*:|[A-Za-z0-9_.-]+[ \t]*[=:])[^\n]*$", re.M)
_STRING = re.compile(rb"\"[^\"\n]{0,80}\"|'[^'\n]{0,80}'")
_NUMBER = re.compile(rb"\b[0-9]+\b")

Pick = Callable[[int], int]
"""``pick(n)``: a number in ``range(n)`` (from hypothesis or from atheris' data)."""


def _at(data: bytes, pick: Pick) -> int:
    return pick(len(data) + 1)


def truncate(data: bytes, pick: Pick) -> bytes:
    return data[: _at(data, pick)]


def flip(data: bytes, pick: Pick) -> bytes:
    if not data:
        return data
    at = pick(len(data))
    return data[:at] + bytes([data[at] ^ (1 << pick(8))]) + data[at + 1 :]


def duplicate_key(data: bytes, pick: Pick) -> bytes:
    lines = list(_KEY_LINE.finditer(data))
    if not lines:
        return data
    found = lines[pick(len(lines))]
    return data[: found.end()] + b"\n" + found.group() + data[found.end() :]


def swap_type(data: bytes, pick: Pick) -> bytes:
    strings = list(_STRING.finditer(data))
    if not strings:
        return data
    found = strings[pick(len(strings))]
    other = (b"1", b"[]", b"{}", b"true", b"null", b"1.5")[pick(6)]
    return data[: found.start()] + other + data[found.end() :]


def huge_integer(data: bytes, pick: Pick) -> bytes:
    numbers = list(_NUMBER.finditer(data))
    if not numbers:
        return data + b"\n" + HUGE
    found = numbers[pick(len(numbers))]
    return data[: found.start()] + HUGE + data[found.end() :]


def deep_nesting(data: bytes, pick: Pick) -> bytes:
    depth = 2000 + pick(8000)
    strings = list(_STRING.finditer(data))
    if not strings:
        return b"[" * depth + data
    found = strings[pick(len(strings))]
    return data[: found.start()] + b"[" * depth + b"]" * depth + data[found.end() :]


def nul(data: bytes, pick: Pick) -> bytes:
    at = _at(data, pick)
    return data[:at] + b"\x00" + data[at:]


def invalid_utf8(data: bytes, pick: Pick) -> bytes:
    at = _at(data, pick)
    return (
        data[:at]
        + (b"\xff", b"\xc3\x28", b"\xed\xa0\x80", b"\xf8\x88\x80\x80\x80")[pick(4)]
        + data[at:]
    )


HOSTILE: dict[str, Callable[[bytes, Pick], bytes]] = {
    "truncate": truncate,
    "flip": flip,
    "duplicate-key": duplicate_key,
    "swap-type": swap_type,
    "huge-integer": huge_integer,
    "deep-nesting": deep_nesting,
    "nul": nul,
    "invalid-utf8": invalid_utf8,
}


def bom(data: bytes) -> bytes:
    return b"\xef\xbb\xbf" + data


def crlf(data: bytes) -> bytes:
    return data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


BENIGN: dict[str, Callable[[bytes], bytes]] = {"bom": bom, "crlf": crlf}
