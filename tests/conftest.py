"""Shared test helpers: where the repository and ../shared are, and running the real CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("DEPWATCH_SHARED", REPO.parent / "shared"))
FIXTURES = REPO / "tests" / "fixtures"


@pytest.fixture(autouse=True, scope="session")
def _private_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Keep every cache the tests write (in-process and in subprocesses) out of the user's."""
    os.environ["DEPWATCH_CACHE_DIR"] = str(tmp_path_factory.mktemp("depwatch-cache"))


@pytest.fixture
def shared() -> Path:
    """The shared research folder beside the repository; skips where it is absent."""
    if not SHARED.is_dir():
        pytest.skip(f"{SHARED} is not present (it sits beside the repository in CI)")
    return SHARED


def run_depwatch(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None, input: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m depwatch`` as a user would, in a real process."""
    full_env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "120", **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "depwatch", *args],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        input=input,
        timeout=300,
    )
