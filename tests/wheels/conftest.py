"""A local index with range support, and real wheels the tests build."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from wheel_server import WheelIndex


@pytest.fixture
def wheel_index() -> Iterator[WheelIndex]:
    server = WheelIndex().start()
    try:
        yield server
    finally:
        server.stop()
