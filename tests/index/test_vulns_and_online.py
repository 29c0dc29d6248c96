"""``--vulns`` and ``--online`` in one run: pip-audit against the tests' OSV server and the
index facts against the tests' package index, both on 127.0.0.1."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest
from server import IndexServer, Project, Release

from ..conftest import FIXTURES, run_depwatch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "advisories"))

from osv_server import OsvServer, load_records

pytestmark = pytest.mark.slow


def test_vulns_and_online_together(index: IndexServer, tmp_path: Path) -> None:
    if shutil.which("pip-audit") is None and not _has_pip_audit():
        pytest.skip("pip-audit is not installed (the [vulns] extra)")
    project = tmp_path / "app"
    shutil.copytree(FIXTURES / "projects" / "vulnerable-app", project)
    for line in (project / "requirements.txt").read_text().splitlines():
        if "==" in line and not line.startswith(" "):
            name, version = line.split("==")
            index.add(Project(name, [Release(version, ">=3.6"), Release(version + ".post1")]))
    index.projects["requests"].releases[0].yanked = "testing both switches"
    records = load_records(FIXTURES / "advisories" / "pypa", FIXTURES / "advisories" / "synthetic")
    osv = OsvServer(records).start()
    try:
        done = run_depwatch(
            "check",
            "--format",
            "json",
            "--osv-url",
            osv.query_url,
            "--online",
            "--index-url",
            index.url,
            cwd=project,
            env={"DEPWATCH_CACHE_DIR": str(tmp_path / "cache")},
        )
    finally:
        osv.stop()
    assert "Traceback" not in done.stderr, done.stderr
    assert done.returncode == 1
    doc = json.loads(done.stdout)
    origins = {(f["origin"], f["rule"]) for f in doc["findings"] if f["package"] == "requests"}
    assert ("advisory", "PYSEC-2018-28") in origins
    assert ("index", "index/yanked") in origins
    assert doc["not_audited"] == []
    assert doc["not_checked"] == []


def _has_pip_audit() -> bool:
    import importlib.util

    return importlib.util.find_spec("pip_audit") is not None
