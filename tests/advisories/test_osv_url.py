"""How an OSV URL reaches pip-audit, and where pip-audit's cache goes: asked of the installed
pip-audit for real (its ``--help``), and audited for real against the local OSV server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest
from osv_server import OsvServer

from depwatch import advisories
from depwatch.advisories import command
from depwatch.model import Package

pytestmark = pytest.mark.skipif(
    not command.pip_audit_installed(), reason="pip-audit (the vulns extra) is not installed"
)

PROBE_FILE = "pip-audit-options.json"


def _help(extra: dict[str, str]) -> str:
    env = {**command.child_env(), "COLUMNS": "1000", **extra}
    done = subprocess.run(
        [sys.executable, "-m", "pip_audit", "--help"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=True,
    )
    return done.stdout


def test_the_help_shows_the_variable_as_the_default_only_when_it_is_set() -> None:
    url = "http://osv.example/v1/query"
    with_variable = _help({"PIP_AUDIT_OSV_URL": url})
    without = _help({})
    assert command.shows_osv_url_default(with_variable, url)
    assert not command.shows_osv_url_default(without, url)
    # pip-audit's own default, as its help documents it.
    assert command.shows_osv_url_default(without, "https://api.osv.dev/v1/query")
    # The usage line ([--osv-url OSV_URL]) is not the option's description.
    usage_only = without.split("\n\n", 1)[0]
    assert "--osv-url" in usage_only
    assert not command.shows_osv_url_default(usage_only, "https://api.osv.dev/v1/query")


def test_the_installed_pip_audit_is_asked_once_per_version(tmp_path: Path) -> None:
    installed = version("pip-audit")
    assert command.takes_osv_url_from_environment(tmp_path) is True  # pip-audit 2.10 reads it
    stored = json.loads((tmp_path / PROBE_FILE).read_text())
    assert stored == {"format": 1, "pip-audit": installed, "osv_url_from_environment": True}
    # The stored answer for this version is used as it is (pip-audit is not asked again) ...
    (tmp_path / PROBE_FILE).write_text(json.dumps({**stored, "osv_url_from_environment": False}))
    assert command.takes_osv_url_from_environment(tmp_path) is False
    # ... and one for another version, or a damaged one, is not.
    for other in ({**stored, "pip-audit": "0.0.1", "osv_url_from_environment": False}, [1]):
        (tmp_path / PROBE_FILE).write_text(json.dumps(other))
        assert command.takes_osv_url_from_environment(tmp_path) is True
        assert json.loads((tmp_path / PROBE_FILE).read_text()) == stored
    # Without a cache folder it is asked every time.
    assert command.takes_osv_url_from_environment(None) is True


def test_credentials_never_go_on_a_command_line(
    osv: OsvServer, cache_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A pip-audit that does not take the URL from its environment (the stored answer for the
    # installed version says so): the URL is not handed over at all.
    monkeypatch.setenv("DEPWATCH_CACHE_DIR", str(tmp_path))
    (tmp_path / PROBE_FILE).write_text(
        json.dumps(
            {"format": 1, "pip-audit": version("pip-audit"), "osv_url_from_environment": False}
        )
    )
    url = osv.query_url.replace("http://", "http://user:s3cret@")
    with advisories.start(
        [Package("jinja2", "2.10"), Package("idna", "3.7")], osv_url=url, cache_dir=cache_dir
    ) as pending:
        assert all(run.process is None for run in pending._runs)
        result = pending.result()
    assert result.audited == 0
    assert result.vulnerabilities == ()
    assert [(n.package, n.version) for n in result.not_audited] == [
        ("idna", "3.7"),
        ("jinja2", "2.10"),
    ]
    reason = result.not_audited[0].reason
    assert reason.startswith("the installed pip-audit takes an OSV URL with credentials only")
    assert "s3cret" not in reason
    assert len(result.warnings) == 1
    assert reason in result.warnings[0]
    assert osv.queries == []
    # Without credentials the URL goes on the command line, the documented --osv-url.
    result = advisories.audit([Package("jinja2", "2.10")], osv_url=osv.query_url)
    assert [v.id for v in result.vulnerabilities] == ["PYSEC-2019-217"]


def _cache_argument(pending: advisories.PendingAudit) -> Path:
    process = pending._runs[0].process
    assert process is not None
    args = [str(arg) for arg in process.args]  # type: ignore[union-attr]
    return Path(args[args.index("--cache-dir") + 1])


def test_pip_audits_cache_follows_depwatchs_cache_folder(
    osv: OsvServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "cache"
    monkeypatch.setenv("DEPWATCH_CACHE_DIR", str(cache))
    with advisories.start([Package("idna", "3.7")], osv_url=osv.query_url) as pending:
        assert _cache_argument(pending) == cache / "pip-audit"
        assert pending.result().audited == 1

    # Inside an audited project, or with caching off: a temporary cache, removed afterwards.
    project = tmp_path / "project"
    monkeypatch.setenv("DEPWATCH_CACHE_DIR", str(project / ".cache"))
    for protect, switch in (([project], "0"), ([], "1")):
        monkeypatch.setenv("DEPWATCH_NO_CACHE", switch)
        pending = advisories.start([Package("idna", "3.7")], osv_url=osv.query_url, protect=protect)
        used = _cache_argument(pending)
        folder = pending._runs[0].output.parent
        assert used.parent == folder
        assert pending.result().audited == 1
        assert not folder.exists()
    assert not project.exists()


@pytest.mark.skipif(not hasattr(os, "getuid"), reason="POSIX process lists")
def test_the_probe_keeps_credentials_out_of_the_process_list_too(
    osv: OsvServer, cache_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # No stored answer: pip-audit's help is asked first, then the audit runs with the URL in
    # its environment only.
    monkeypatch.setenv("DEPWATCH_CACHE_DIR", str(tmp_path))
    url = osv.query_url.replace("http://", "http://user:s3cret@")
    with advisories.start([Package("jinja2", "2.10")], osv_url=url, cache_dir=cache_dir) as pending:
        for run in pending._runs:
            assert run.process is not None
            assert not any("s3cret" in str(arg) for arg in run.process.args)  # type: ignore[union-attr]
        result = pending.result()
    assert {v.id for v in result.vulnerabilities} == {"PYSEC-2019-217"}
    assert json.loads((tmp_path / PROBE_FILE).read_text())["osv_url_from_environment"] is True
