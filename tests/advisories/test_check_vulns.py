"""``depwatch check --vulns`` end to end: the CLI, pip-audit and an OSV server on 127.0.0.1."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from osv_server import OsvServer

from ..conftest import FIXTURES, run_depwatch

pytestmark = pytest.mark.slow


def _project(tmp_path: Path) -> Path:
    dest = tmp_path / "vulnerable-app"
    shutil.copytree(FIXTURES / "projects" / "vulnerable-app", dest)
    return dest


def _check(project: Path, *args: str) -> tuple[int, dict]:  # type: ignore[type-arg]
    done = run_depwatch("check", "--format", "json", *args, cwd=project)
    assert "Traceback" not in done.stderr, done.stderr
    return done.returncode, json.loads(done.stdout)


def test_advisories_join_the_actions(tmp_path: Path, osv: OsvServer) -> None:
    code, report = _check(_project(tmp_path), "--osv-url", osv.query_url)
    vulns = {f["rule"]: f for f in report["findings"] if f["kind"] == "vulnerability"}
    requests = vulns["PYSEC-2018-28"]
    assert (requests["package"], requests["version"], requests["tag"]) == (
        "requests",
        "2.19.0",
        "immediate",
    )
    assert "CVE-2018-18074" in requests["aliases"]
    assert "2.20.0" in requests["fixed_versions"]
    assert requests["lockfiles"] == ["requirements.txt"]
    assert "2.20.0" in requests["action"]
    assert report["not_audited"] == []
    assert code == 1


def test_ignore_by_alias_applies_to_advisories(tmp_path: Path, osv: OsvServer) -> None:
    project = _project(tmp_path)
    with (project / "pyproject.toml").open("a") as fh:
        fh.write('\n[[tool.depwatch.ignore]]\nid = "CVE-2018-18074"\nreason = "no proxies"\n')
    _, report = _check(project, "--osv-url", osv.query_url)
    assert "PYSEC-2018-28" not in {f["rule"] for f in report["findings"]}
    assert any(s["rule"] == "PYSEC-2018-28" for s in report["suppressed"])


def test_unreachable_service_is_not_audited_never_clean(tmp_path: Path, closed_port: int) -> None:
    project = _project(tmp_path)
    url = f"http://127.0.0.1:{closed_port}/v1/query"
    code, report = _check(project, "--osv-url", url)
    assert {n["package"] for n in report["not_audited"]} >= {"requests", "jinja2", "urllib3"}
    assert all(n["reason"] for n in report["not_audited"])
    assert code == 0  # nothing immediate among the rules; the gap fails only under --strict
    assert run_depwatch("check", "--strict", "--osv-url", url, cwd=project).returncode == 2


def test_bad_osv_url_is_exit_2(tmp_path: Path) -> None:
    done = run_depwatch("check", "--osv-url", "ftp://example.org", cwd=_project(tmp_path))
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
