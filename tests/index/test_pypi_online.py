"""The real PyPI: facts the issue names (skipped unless DEPWATCH_ONLINE=1, and when PyPI
cannot be reached)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from depwatch.index import IndexSession, NotCheckedError
from depwatch.index.cache import PageCache
from depwatch.index.facts import release_facts
from depwatch.index.page import ReleaseTable, summarise

from ..conftest import run_depwatch

pytestmark = [
    pytest.mark.online,
    pytest.mark.skipif(os.environ.get("DEPWATCH_ONLINE") != "1", reason="set DEPWATCH_ONLINE=1"),
]


def _page(name: str, tmp_path: Path) -> ReleaseTable:
    session = IndexSession(cache=PageCache(tmp_path / "cache"), retries=1)
    try:
        return summarise(session.project_page(name))
    except NotCheckedError as exc:
        pytest.skip(f"PyPI cannot be reached from here: {exc.reason}")


def test_requests_2_32_0_is_yanked_with_its_reason(tmp_path: Path) -> None:
    facts, excluded, _ = release_facts(_page("requests", tmp_path), "2.32.0", "pypi", ("3.7",))
    assert facts.yanked
    assert facts.yanked_reason == "Yanked due to conflicts with CVE-2024-35195 mitigation"
    assert excluded == ("3.7",)


def test_networkx_3_4_2_requires_python_3_10(tmp_path: Path) -> None:
    facts, excluded, _ = release_facts(
        _page("networkx", tmp_path), "3.4.2", "pypi", ("3.9", "3.10")
    )
    assert facts.requires_python == ">=3.10"
    assert excluded == ("3.9",)
    assert facts.newest is not None
    assert facts.newest_upload_time is not None


def test_check_online_against_pypi(tmp_path: Path) -> None:
    _page("requests", tmp_path)  # skips when PyPI is out of reach
    root = tmp_path / "p"
    root.mkdir()
    (root / "pyproject.toml").write_text(
        '[project]\nname = "demo"\nversion = "0"\nrequires-python = ">=3.9"\n'
    )
    (root / "requirements.txt").write_text("requests==2.32.0\nnetworkx==3.4.2\n")
    done = run_depwatch(
        "check", "--online", "-f", "json", cwd=root, env={"DEPWATCH_CACHE_DIR": str(tmp_path / "c")}
    )
    assert done.returncode == 1, done.stderr
    doc = json.loads(done.stdout)
    rules = {(f["rule"], f["package"]) for f in doc["findings"] if f["origin"] == "index"}
    assert ("index/yanked", "requests") in rules
    assert ("index/requires-python", "networkx") in rules
    assert doc["not_checked"] == []
