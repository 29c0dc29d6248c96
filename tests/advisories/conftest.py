"""A real OSV-compatible server on 127.0.0.1 for pip-audit to query, with real records."""

from __future__ import annotations

import socket
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from osv_server import OsvServer, load_records

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "advisories"
PYPA_FIXTURES = FIXTURES / "pypa"
SYNTHETIC = FIXTURES / "synthetic"


@pytest.fixture(scope="session")
def fixture_records() -> list[dict[str, Any]]:
    """Seven real PyPA records (committed) and the test-made withdrawn / no-fix records."""
    return load_records(PYPA_FIXTURES, SYNTHETIC)


@pytest.fixture
def osv(fixture_records: list[dict[str, Any]]) -> Iterator[OsvServer]:
    server = OsvServer(fixture_records).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def shared_osv(shared: Path) -> Iterator[OsvServer]:
    """The 61 records of ../shared/advisories/pypa, plus the test-made ones."""
    server = OsvServer(load_records(shared / "advisories" / "pypa", SYNTHETIC)).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def cache_dir(tmp_path: Path) -> Path:
    return tmp_path / "pip-audit-cache"


@pytest.fixture
def closed_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
