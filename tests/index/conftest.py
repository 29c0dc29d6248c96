"""A real package index on 127.0.0.1 for every test that asks for ``index``."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from server import IndexServer, Project, Release

__all__ = ["IndexServer", "Project", "Release"]


@pytest.fixture
def index() -> Iterator[IndexServer]:
    server = IndexServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def page_cache(tmp_path: Path):  # type: ignore[no-untyped-def]
    from depwatch.index.cache import PageCache

    return PageCache(tmp_path / "index-cache")
