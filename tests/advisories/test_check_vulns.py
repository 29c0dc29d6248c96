"""``depwatch check --vulns`` end to end: the CLI, pip-audit and an OSV server on 127.0.0.1."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from osv_server import OsvServer

from ..conftest import FIXTURES, REPO, run_depwatch

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
    # Nothing at all could be audited: the gate cannot pass blind (pip-audit itself exits 1).
    assert code == 2
    done = run_depwatch("check", "--osv-url", url, cwd=project)
    assert done.returncode == 2
    assert "depwatch: error: --vulns could audit none of the" in done.stderr
    assert f"127.0.0.1:{closed_port}" in done.stderr  # the reason
    assert "Traceback" not in done.stderr


def test_a_partial_audit_is_a_warning_and_a_gap_under_strict(
    tmp_path: Path, osv: OsvServer
) -> None:
    project = tmp_path / "partial"
    project.mkdir()
    (project / "requirements.txt").write_text(
        "requests==2.31.0\nmine @ git+https://example.org/mine.git@v1.0\n"
    )
    code, report = _check(project, "--osv-url", osv.query_url)
    assert [n["package"] for n in report["not_audited"]] == ["mine"]
    assert code == 0  # requests was audited: the one git entry is a warning, not a blind gate
    strict = run_depwatch("check", "--strict", "--osv-url", osv.query_url, cwd=project)
    assert strict.returncode == 2
    assert "not audited: mine" in strict.stderr
    assert "could audit none" not in strict.stderr


def test_without_pip_audit_vulns_says_how_to_install_it(tmp_path: Path) -> None:
    # A real environment without pip-audit: this one's packages, pip-audit left out.
    site = tmp_path / "site"
    site.mkdir()
    packages = next(Path(p) for p in sys.path if p.endswith("site-packages"))
    for entry in packages.iterdir():
        if not entry.name.lower().startswith(("pip_audit", "depwatch", "__editable__")):
            (site / entry.name).symlink_to(entry)
    env = {**os.environ, "PYTHONPATH": f"{REPO}{os.pathsep}{site}", "NO_COLOR": "1"}
    done = subprocess.run(
        [sys.executable, "-S", "-m", "depwatch", "check", "--vulns"],
        cwd=_project(tmp_path),
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 2, done.stderr
    assert "--vulns needs pip-audit, which is not installed" in done.stderr
    assert "pip install 'depwatch-audit[vulns]'" in done.stderr
    assert "Traceback" not in done.stderr


def test_bad_osv_url_is_exit_2(tmp_path: Path) -> None:
    done = run_depwatch("check", "--osv-url", "ftp://example.org", cwd=_project(tmp_path))
    assert done.returncode == 2
    assert "Traceback" not in done.stderr


def _under_a_terminal(args: list[str], cwd: Path, env: dict[str, str]) -> tuple[int, str]:
    """Run depwatch with stdin, stdout and stderr on a pseudo-terminal; all it wrote there."""
    import pty

    controller, terminal = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "depwatch", *args],
        cwd=cwd,
        env=env,
        stdin=terminal,
        stdout=terminal,
        stderr=terminal,
    )
    os.close(terminal)
    chunks = []
    while True:
        try:
            chunk = os.read(controller, 65536)
        except OSError:  # EIO: the other end is closed
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(controller)
    return process.wait(timeout=300), b"".join(chunks).decode("utf-8", "replace")


def test_a_slow_run_shows_progress_on_a_terminal_only(tmp_path: Path, osv: OsvServer) -> None:
    project = _project(tmp_path)
    osv.delay = 0.6  # every answer late: the run takes a few seconds
    env = {k: v for k, v in os.environ.items() if k not in ("PRE_COMMIT", "NO_COLOR")}
    env.update(TERM="xterm", COLUMNS="120")
    args = ["check", "--osv-url", osv.query_url]
    code, screen = _under_a_terminal(args, project, env)
    assert code == 1, screen
    assert "Waiting for the vulnerability audit" in screen
    assert "PYSEC-2018-28" in screen  # the report follows
    # Piped: nothing but the report.
    piped = subprocess.run(
        [sys.executable, "-m", "depwatch", *args],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert piped.returncode == 1
    assert "Waiting for" not in piped.stdout + piped.stderr
    assert "\x1b[?25l" not in piped.stderr  # no cursor hiding either
    # JSON, -q or pre-commit on a terminal: no progress.
    for extra, more_env in ((["--format", "json"], {}), (["-q"], {}), ([], {"PRE_COMMIT": "1"})):
        code, screen = _under_a_terminal([*args, *extra], project, {**env, **more_env})
        assert code == 1
        assert "Waiting for" not in screen, extra
