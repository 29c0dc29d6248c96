"""Mangled lockfiles of every format give a DepwatchError (exit 2), never another exception."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from depwatch.errors import DepwatchError
from depwatch.lockfiles import reader_for

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "lockfiles"
SOURCES = sorted(
    p
    for p in FIXTURES.rglob("*")
    if p.is_file()
    and p.suffix in {".lock", ".toml", ".txt", ".yml"}
    and p.name != "pyproject.toml"
    and "broken" not in p.parts
)


def _mutations(data: bytes, rng: random.Random) -> list[bytes]:
    text = data.decode("utf-8", "replace")
    lines = data.split(b"\n")
    rng.shuffle(lines)
    flipped = bytearray(data)
    for _ in range(5):
        if flipped:
            flipped[rng.randrange(len(flipped))] = rng.randrange(256)
    swapped = text
    for old, new in [
        ('"', ""),
        ("=", "= ["),
        ("version", "version = 1\nx"),
        ("[[", "["),
        (": ", ": ["),
    ]:
        swapped = swapped.replace(old, new, 1)
    return [
        data[: rng.randrange(len(data) + 1)],
        bytes(flipped),
        swapped.encode(),
        b"\n".join(lines),
    ]


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.relative_to(FIXTURES).as_posix())
def test_mangled_lockfile_is_a_clean_error(source: Path, tmp_path: Path) -> None:
    rng = random.Random(source.name)
    for index, data in enumerate(_mutations(source.read_bytes(), rng)):
        folder = tmp_path / str(index)
        folder.mkdir()
        target = folder / source.name
        target.write_bytes(data)
        error: DepwatchError | None = None
        try:
            reader_for(target, explicit=True).read(target)  # a mutation may still read fine
        except DepwatchError as exc:
            error = exc
        if error is not None:
            assert error.path  # the message names the file at fault
