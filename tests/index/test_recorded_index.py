"""Where each lockfile format records the index of its registry entries (real tools' output)."""

from __future__ import annotations

import pytest

from depwatch import lockfiles
from depwatch.index.facts import index_of
from depwatch.model import Package

from ..conftest import FIXTURES

LOCKS = FIXTURES / "lockfiles"


@pytest.mark.parametrize(
    "path",
    [
        LOCKS / "poetry" / "app" / "poetry.lock",
        LOCKS / "pipfile" / "basic" / "Pipfile.lock",
        LOCKS / "pylock" / "uv-export" / "pylock.toml",
    ],
    ids=["poetry", "pipfile", "pylock"],
)
def test_recorded_index_is_read(path) -> None:  # type: ignore[no-untyped-def]
    contents = lockfiles.reader_for(path, explicit=True).read(path)
    registry = [p for p in contents.packages if p.source == "registry"]
    assert registry
    assert {p.index for p in registry} == {"https://pypi.org/simple"}


def test_pypi_recorded_means_the_chosen_index_and_others_are_asked_themselves() -> None:
    mirror = "http://mirror.example/simple/"
    on_pypi = Package("a", "1", index="https://pypi.org/simple")
    assert index_of(on_pypi, mirror) == mirror
    assert index_of(Package("a", "1"), mirror) == mirror
    private = Package("a", "1", index="https://u:secret@private.example/simple")
    assert index_of(private, mirror) == "https://private.example/simple/"
    assert index_of(Package("a", "1", index="conda"), mirror) is None
    assert index_of(Package("a", "1", index="../wheels"), mirror) is None
