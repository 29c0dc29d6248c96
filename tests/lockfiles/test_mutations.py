"""Mangled lockfiles of every format give a DepwatchError (exit 2), never another exception;
a mangled file that still reads gives a well-formed inventory."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from packaging.markers import Marker
from packaging.utils import canonicalize_name

from depwatch.errors import DepwatchError
from depwatch.lockfiles import load_reader, reader_for
from depwatch.lockfiles.base import Reader
from depwatch.model import Lockfile
from depwatch.reporters.json import packages_document

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "lockfiles"
SOURCES = sorted(
    p
    for p in FIXTURES.rglob("*")
    if p.is_file()
    and p.suffix in {".lock", ".toml", ".txt", ".yml"}
    and p.name != "pyproject.toml"
    and "broken" not in p.parts
)


def _reader(source: Path) -> Reader:
    """The reader depwatch picks for ``source`` when named on the command line; for a handmade
    file whose name no reader claims, the format of the fixture folder that holds it."""
    try:
        return reader_for(source, explicit=True)
    except DepwatchError:
        return load_reader(source.relative_to(FIXTURES).parts[0])


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
        reader = _reader(source)
        error: DepwatchError | None = None
        try:
            contents = reader.read(target)
        except DepwatchError as exc:
            error = exc
        if error is not None:
            assert error.path  # the message names the file at fault
            continue
        # a mutation may still read fine: then what it gives is a well-formed inventory
        assert_well_formed(Lockfile(source.name, reader.FORMAT, contents.packages), f"#{index}")


#: ``source`` values of the JSON inventory (DESIGN, "JSON output").
SOURCE_KINDS = {"registry", "git", "url", "path", "directory", "editable", "virtual", "workspace"}


def assert_well_formed(lock: Lockfile, where: str) -> None:
    """The inventory keeps DESIGN's contract for ``packages --format json``: every name
    PEP 503-normalised, a version that is non-empty text or null, a documented source kind,
    markers a PEP 508 marker or null, groups non-empty names, direct true/false/null."""
    (document,) = packages_document([(".", lock)])["lockfiles"]
    json.dumps(document)  # plain JSON values only
    for entry in document["packages"]:
        shown = f"{where}: {entry!r}"
        assert entry["name"], shown
        assert canonicalize_name(entry["name"]) == entry["name"], shown
        assert entry["version"] is None or (
            isinstance(entry["version"], str) and entry["version"].strip()
        ), shown
        assert entry["source"] in SOURCE_KINDS, shown
        if entry["markers"] is not None:
            Marker(entry["markers"])  # raises InvalidMarker for a broken one
        assert all(isinstance(g, str) and g for g in entry["groups"]), shown
        assert entry["direct"] in (True, False, None), shown


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.relative_to(FIXTURES).as_posix())
def test_every_unmangled_lockfile_is_well_formed(source: Path) -> None:
    """The contract above holds on the files the mutations start from."""
    reader = _reader(source)
    contents = reader.read(source)
    assert contents.packages, f"{source.name}: no package to check the contract on"
    assert_well_formed(Lockfile(source.name, reader.FORMAT, contents.packages), "unmangled")
