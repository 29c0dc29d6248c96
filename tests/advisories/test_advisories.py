"""depwatch.advisories against pip-audit running for real, querying a local OSV server.

No parser is mocked: every answer read here was written by pip-audit itself, from a live run
against ``osv_server`` (real PyPA advisory records) or captured from one (the PyPI 404 case).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from osv_server import OsvServer, load_records, version_affected

from depwatch import advisories
from depwatch.advisories import AdvisoryResult, Vulnerability
from depwatch.advisories.answers import failure_reason
from depwatch.advisories.plan import plan
from depwatch.advisories.run import Run
from depwatch.errors import DepwatchError
from depwatch.model import NotAudited, Package, Tag

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "advisories"


def run(packages: list[Package], server: OsvServer, cache_dir: Path, **kw: Any) -> AdvisoryResult:
    return advisories.audit(packages, osv_url=server.query_url, cache_dir=cache_dir, **kw)


def by_key(result: AdvisoryResult) -> dict[tuple[str, str, str], Vulnerability]:
    return {(v.package, v.version, v.id): v for v in result.vulnerabilities}


# -- what is found ---------------------------------------------------------------------------


def test_known_vulnerable_pins(osv: OsvServer, cache_dir: Path) -> None:
    packages = [
        Package("requests", "2.19.0"),
        Package("urllib3", "1.24.1"),
        Package("jinja2", "2.10"),
        Package("pyyaml", "5.3"),
        Package("certifi", "2024.8.30"),  # safe: nothing affects it
    ]
    result = run(packages, osv, cache_dir)

    assert result.not_audited == ()
    assert result.warnings == ()
    assert result.audited == 5
    assert result.service == "osv"
    found = by_key(result)
    assert set(found) == {
        ("jinja2", "2.10", "PYSEC-2019-217"),
        ("pyyaml", "5.3", "PYSEC-2020-96"),
        ("requests", "2.19.0", "PYSEC-2018-28"),
        ("requests", "2.19.0", "PYSEC-2023-74"),
        ("urllib3", "1.24.1", "PYSEC-2019-133"),
        ("urllib3", "1.24.1", "PYSEC-2023-192"),
    }
    old = found["requests", "2.19.0", "PYSEC-2018-28"]
    assert old.aliases == ("CVE-2018-18074", "GHSA-x84v-xcm2-53pg")
    assert old.fixed_versions == ("2.20.0",)
    assert old.link == "https://osv.dev/vulnerability/PYSEC-2018-28"
    assert old.description.startswith("The Requests package before 2.20.0")
    assert "\n" not in old.description
    assert advisories.vulnerability_tag(old) is Tag.IMMEDIATE
    assert advisories.action_text(old) == (
        "Upgrade requests to 2.20.0 or later (fixes PYSEC-2018-28, CVE-2018-18074)."
    )
    assert found["requests", "2.19.0", "PYSEC-2023-74"].fixed_versions == ("2.31.0",)
    assert found["jinja2", "2.10", "PYSEC-2019-217"].fixed_versions == ("2.10.1",)
    assert found["pyyaml", "5.3", "PYSEC-2020-96"].fixed_versions == ("5.3.1",)
    # Two fixed branches: the smallest fix above the locked version is the advice.
    two = found["urllib3", "1.24.1", "PYSEC-2023-192"]
    assert two.fixed_versions == ("1.26.17", "2.0.6")
    assert two.fix == "1.26.17"
    assert "Upgrade urllib3 to 1.26.17 or later" in advisories.action_text(two)
    assert all(advisories.vulnerability_tag(v) is Tag.IMMEDIATE for v in found.values())


def test_safe_pins_produce_nothing_and_count_as_audited(osv: OsvServer, cache_dir: Path) -> None:
    packages = [Package("requests", "2.32.3"), Package("urllib3", "2.2.3")]
    result = run(packages, osv, cache_dir)
    assert result == AdvisoryResult(audited=2, service="osv")
    assert sorted(osv.queries) == [("requests", "2.32.3"), ("urllib3", "2.2.3")]


def test_advisory_without_fix_is_plan(osv: OsvServer, cache_dir: Path) -> None:
    result = run([Package("six", "1.16.0")], osv, cache_dir)
    (vuln,) = result.vulnerabilities
    assert vuln.id == "DEPWATCH-TEST-NOFIX-1"
    assert vuln.aliases == ("GHSA-test-test-test",)
    assert vuln.fixed_versions == ()
    assert vuln.fix is None
    assert advisories.vulnerability_tag(vuln) is Tag.PLAN
    assert advisories.action_text(vuln).startswith("No fixed release of six yet")


def test_withdrawn_advisories_never_appear(osv: OsvServer, cache_dir: Path) -> None:
    # idna 3.7: only the test-made withdrawn record; aiohttp 3.9.5: only the real withdrawn
    # PYSEC-2022-43059 (every other aiohttp record is fixed by 3.9.5 or absent here).
    packages = [Package("idna", "3.7"), Package("aiohttp", "3.9.5")]
    served = [r["id"] for q in [("idna", "3.7"), ("aiohttp", "3.9.5")] for r in osv.query(*q)]
    assert served == ["DEPWATCH-TEST-WITHDRAWN-1", "PYSEC-2022-43059"]
    osv.queries.clear()

    result = run(packages, osv, cache_dir)
    assert result.vulnerabilities == ()
    assert result.not_audited == ()
    assert result.audited == 2
    assert sorted(osv.queries) == [("aiohttp", "3.9.5"), ("idna", "3.7")]


def test_a_name_locked_at_two_versions_is_audited_at_both(osv: OsvServer, cache_dir: Path) -> None:
    packages = [
        Package("urllib3", "1.24.1", markers="python_version < '3.10'"),
        Package("urllib3", "2.0.0", markers="python_version >= '3.10'"),
        Package("requests", "2.19.0"),
    ]
    result = run(packages, osv, cache_dir)
    assert sorted(osv.queries) == [
        ("requests", "2.19.0"),
        ("urllib3", "1.24.1"),
        ("urllib3", "2.0.0"),
    ]
    found = by_key(result)
    assert found["urllib3", "2.0.0", "PYSEC-2023-192"].fix == "2.0.6"
    assert found["urllib3", "1.24.1", "PYSEC-2023-192"].fix == "1.26.17"
    assert ("urllib3", "2.0.0", "PYSEC-2019-133") not in found
    assert result.audited == 3
    assert result.not_audited == ()


def test_markers_do_not_limit_the_audit(osv: OsvServer, cache_dir: Path) -> None:
    # No interpreter satisfies this marker; the lock still pins it, so it is audited.
    packages = [Package("jinja2", "2.10", markers="python_version < '2.0'")]
    result = run(packages, osv, cache_dir)
    assert [v.id for v in result.vulnerabilities] == ["PYSEC-2019-217"]


def test_the_same_pin_from_several_lockfiles_is_asked_once(osv: OsvServer, cache_dir: Path) -> None:
    packages = [
        Package("pyyaml", "5.3", groups=("main",)),
        Package("pyyaml", "5.3", groups=("dev",)),
        Package("pyyaml", "5.3.0"),  # the same version, written differently
    ]
    result = run(packages, osv, cache_dir)
    assert osv.queries == [("pyyaml", "5.3")]
    assert sorted((v.version, v.id) for v in result.vulnerabilities) == [
        ("5.3", "PYSEC-2020-96"),
        ("5.3.0", "PYSEC-2020-96"),
    ]
    assert result.audited == 1


def test_many_pins_split_over_parallel_runs(osv: OsvServer, cache_dir: Path) -> None:
    packages = [Package(f"pkg-{i:03d}", "1.0") for i in range(60)]
    packages += [Package("urllib3", v) for v in ("1.24.1", "2.0.0", "2.2.3")]
    result = run(packages, osv, cache_dir, jobs=3)
    assert result.audited == 63
    assert result.not_audited == ()
    assert len(osv.queries) == 63
    assert {v.version for v in result.vulnerabilities} == {"1.24.1", "2.0.0"}


# -- what is not audited ---------------------------------------------------------------------


def test_entries_outside_the_registry_are_not_audited(osv: OsvServer, cache_dir: Path) -> None:
    packages = [
        Package("mylib", "0.1.0", source="git"),
        Package("myproject", "1.0.0", source="editable"),
        Package("root", None, source="virtual"),
        Package("vendored", "2.0", source="path"),
        Package("wheelhouse", "1.0", source="url"),
        Package("member", "0.3", source="workspace"),
        Package("src", None, source="directory"),
        Package("nover", None),
        Package("condapkg", "9e"),
        Package("requests", "2.32.3"),
    ]
    result = run(packages, osv, cache_dir)
    assert osv.queries == [("requests", "2.32.3")]
    assert result.audited == 1
    reasons = {n.package: n.reason for n in result.not_audited}
    assert set(reasons) == {p.name for p in packages} - {"requests"}
    assert reasons["mylib"].startswith("a git source")
    assert reasons["myproject"].startswith("an editable local source")
    assert reasons["root"].startswith("a virtual project root")
    assert reasons["nover"] == "no version is locked, so no advisory can be matched"
    assert reasons["condapkg"] == "version '9e' is not PEP 440, so no service can match it"
    assert NotAudited("wheelhouse", "1.0", reasons["wheelhouse"]) in result.not_audited
    assert result.warnings == ()


def test_a_registry_pin_also_locked_from_git_is_audited(osv: OsvServer, cache_dir: Path) -> None:
    packages = [Package("jinja2", "2.10"), Package("jinja2", "2.10", source="git")]
    result = run(packages, osv, cache_dir)
    assert result.not_audited == ()
    assert [v.id for v in result.vulnerabilities] == ["PYSEC-2019-217"]


def test_nothing_to_send_starts_nothing(cache_dir: Path) -> None:
    result = advisories.audit([Package("x", None, source="git")], cache_dir=cache_dir)
    assert result.audited == 0
    assert [n.package for n in result.not_audited] == ["x"]
    assert result.warnings == ()


def test_unreachable_service(closed_port: int, cache_dir: Path) -> None:
    url = f"http://127.0.0.1:{closed_port}/v1/query"
    packages = [Package("requests", "2.19.0"), Package("idna", "3.7"), Package("x", "1", "git")]
    result = advisories.audit(packages, osv_url=url, cache_dir=cache_dir, timeout=2)
    assert result.vulnerabilities == ()
    assert result.audited == 0
    reason = f"could not connect to {url} (connection refused)"
    assert [(n.package, n.reason) for n in result.not_audited] == [
        ("idna", reason),
        ("requests", reason),
        ("x", "a git source: advisory services only know released versions on the package index"),
    ]
    assert result.warnings == (
        "the vulnerability service answered for none of the 2 packages, all listed as not "
        f"audited: {reason}",
    )


def test_credentials_in_the_url_stay_out_of_messages(closed_port: int, cache_dir: Path) -> None:
    url = f"http://user:s3cret@127.0.0.1:{closed_port}/v1/query"
    result = advisories.audit([Package("idna", "3.7")], osv_url=url, cache_dir=cache_dir)
    text = repr(result)
    assert "s3cret" not in text
    assert f"127.0.0.1:{closed_port}/v1/query" in result.not_audited[0].reason


def test_service_error_500(osv: OsvServer, cache_dir: Path) -> None:
    osv.status = 500
    result = run([Package("requests", "2.19.0"), Package("idna", "3.7")], osv, cache_dir)
    assert result.vulnerabilities == ()
    assert {n.reason for n in result.not_audited} == {
        f"{osv.query_url} answered HTTP 500 (Internal Server Error)"
    }
    assert len(result.not_audited) == 2


@pytest.mark.slow
def test_service_too_slow(osv: OsvServer, cache_dir: Path) -> None:
    osv.delay = 3.0
    result = run([Package("idna", "3.7")], osv, cache_dir, timeout=1)
    assert result.not_audited == (
        NotAudited("idna", "3.7", f"{osv.query_url} did not answer within 1 s"),
    )


def test_whole_audit_deadline(osv: OsvServer, cache_dir: Path) -> None:
    osv.delay = 5.0
    result = run([Package("idna", "3.7")], osv, cache_dir, total_timeout=0.5)
    assert result.not_audited == (
        NotAudited("idna", "3.7", f"{osv.query_url} did not finish answering within 0.5 s"),
    )


def test_one_failed_run_does_not_hide_the_others(osv: OsvServer, cache_dir: Path) -> None:
    # Three versions of one name make three runs; a bad third answer would fail only its own.
    packages = [Package("urllib3", v) for v in ("1.24.1", "2.0.0", "2.2.3")]
    pending = advisories.start(packages, osv_url=osv.query_url, cache_dir=cache_dir)
    assert len(pending._runs) == 3
    for run_ in pending._runs:
        assert run_.process is not None
        run_.process.wait()
    pending._runs[2].output.write_text("not json", encoding="utf-8")
    result = pending.result()
    assert result.audited == 2
    assert [(n.package, n.version) for n in result.not_audited] == [("urllib3", "2.2.3")]
    assert result.not_audited[0].reason.startswith("pip-audit failed")
    assert result.warnings == (
        "the vulnerability service could not be used for 1 of 3 packages "
        f"({result.not_audited[0].reason}); they are listed as not audited",
    )


# -- pip-audit's real output -----------------------------------------------------------------


def _pending_on(output: Path, stderr: Path, pins: list[Package], service: str) -> AdvisoryResult:
    """Collect a run whose answer pip-audit has already written (nothing is started)."""
    planned, skipped = plan(pins)
    runs = [Run(planned, output, stderr, None)]
    pending = advisories.PendingAudit(
        runs=runs,
        folder=str(output.parent / "unused"),
        skipped=skipped,
        service=service,
        where="PyPI",
        timeout=15,
        deadline=None,
    )
    return pending.result()


def test_pypi_answering_404_for_everything_is_not_clean(tmp_path: Path) -> None:
    # Real output of pip-audit 2.10.1 on this network: PyPI's per-version JSON API answers 404,
    # so pip-audit skips every package and still prints "No known vulnerabilities found".
    assert "No known vulnerabilities found" in (FIXTURES / "pip-audit-pypi-404.stderr").read_text()
    output = tmp_path / "audit.json"
    shutil.copy(FIXTURES / "pip-audit-pypi-404.json", output)
    stderr = tmp_path / "stderr.txt"
    shutil.copy(FIXTURES / "pip-audit-pypi-404.stderr", stderr)
    pins = [Package("requests", "2.19.0"), Package("idna", "3.7"), Package("six", "1.16.0")]

    result = _pending_on(output, stderr, pins, "pypi")

    assert result.vulnerabilities == ()
    assert result.audited == 0
    assert [n.package for n in result.not_audited] == ["idna", "requests", "six"]
    assert result.not_audited[1].reason == (
        "Dependency not found on PyPI and could not be audited: requests (2.19.0)"
    )
    (warning,) = result.warnings
    assert warning.startswith("the vulnerability service answered for none of the 3 packages")
    assert "try --vuln-service osv" in warning


def test_real_output_with_skips_is_read(osv: OsvServer, tmp_path: Path) -> None:
    # A URL requirement is one pip-audit skips itself ("cannot be pinned"): run it for real.
    requirements = tmp_path / "requirements.txt"
    requirements.write_text(
        "requests==2.19.0\nidna==3.7\nsix @ https://example.invalid/six-1.16.0.tar.gz\n"
    )
    output = tmp_path / "audit.json"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip_audit",
            "-r",
            str(requirements),
            "--no-deps",
            "--disable-pip",
            "-f",
            "json",
            "--progress-spinner",
            "off",
            "-s",
            "osv",
            "--osv-url",
            osv.query_url,
            "--cache-dir",
            str(tmp_path / "cache"),
            "-o",
            str(output),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1, done.stderr  # vulnerabilities found
    raw = json.loads(output.read_text())
    assert {"name": "six", "skip_reason": raw["dependencies"][2]["skip_reason"]} in raw[
        "dependencies"
    ]
    stderr = tmp_path / "stderr.txt"
    stderr.write_text(done.stderr)
    pins = [Package("requests", "2.19.0"), Package("idna", "3.7"), Package("six", "1.16.0")]

    result = _pending_on(output, stderr, pins, "osv")

    assert result.audited == 2
    assert result.not_audited == (
        NotAudited(
            "six", "1.16.0", "URL requirements cannot be pinned to a specific package version"
        ),
    )
    assert {v.id for v in result.vulnerabilities} == {"PYSEC-2018-28", "PYSEC-2023-74"}
    assert result.warnings == (
        "the vulnerability service skipped 1 of 3 packages (URL requirements cannot be pinned "
        "to a specific package version); they are listed as not audited",
    )


def test_failure_reasons_from_real_stderr(closed_port: int, tmp_path: Path) -> None:
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("idna==3.7\n")
    url = f"http://127.0.0.1:{closed_port}/v1/query"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip_audit",
            "-r",
            str(requirements),
            "--no-deps",
            "--disable-pip",
            "-f",
            "json",
            "-s",
            "osv",
            "--osv-url",
            url,
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode != 0
    assert done.stdout == ""
    reason = failure_reason(done.stderr, done.returncode, where=url, timeout=15)
    assert reason == f"could not connect to {url} (connection refused)"
    # What pip-audit prints for a duplicate pin, and an empty stderr.
    duplicate = (
        "WARNING:pip_audit._cli:--no-deps is supported\n"
        "ERROR:pip_audit._cli:package bokeh has duplicate requirements: bokeh==3.10.2\n"
    )
    assert failure_reason(duplicate, 1, where=url, timeout=15) == (
        "pip-audit failed: package bokeh has duplicate requirements: bokeh==3.10.2"
    )
    assert failure_reason("", -9, where=url, timeout=15) == ("pip-audit was stopped by signal 9")


# -- arguments -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "ftp://osv.example/v1/query",
        "api.osv.dev/v1/query",
        "http://",
        "file:///tmp/x",
        "http://a b",
    ],
)
def test_bad_osv_url_is_an_error(url: str) -> None:
    with pytest.raises(DepwatchError, match="--osv-url"):
        advisories.start([Package("idna", "3.7")], osv_url=url)


@pytest.mark.parametrize(
    "url",
    [
        "ftp://user:s3cret@127.0.0.1/v1/query",
        "http://user:s3cret@127.0.0.1:99999/v1/query",
        "http://user:p@ss@s3cret@127.0.0.1/v1 query",
    ],
)
def test_a_rejected_osv_url_never_shows_its_password(url: str) -> None:
    with pytest.raises(DepwatchError) as raised:
        advisories.start([Package("idna", "3.7")], osv_url=url)
    assert "s3cret" not in str(raised.value)
    assert "ss@" not in str(raised.value)
    assert "//***@" in str(raised.value)


def test_credentials_stay_out_of_the_process_list(osv: OsvServer, cache_dir: Path) -> None:
    url = osv.query_url.replace("http://", "http://user:s3cret@")
    with advisories.start([Package("jinja2", "2.10")], osv_url=url, cache_dir=cache_dir) as pending:
        for audit_run in pending._runs:  # the pip-audit processes, while they run
            assert audit_run.process is not None
            command = Path(f"/proc/{audit_run.process.pid}/cmdline")
            if command.exists():  # Linux: what `ps` shows
                assert b"s3cret" not in command.read_bytes()
            assert not any("s3cret" in str(arg) for arg in audit_run.process.args)  # type: ignore[union-attr]
        result = pending.result()
    assert result.not_audited == ()
    assert {v.id for v in result.vulnerabilities} == {"PYSEC-2019-217"}


def test_service_arguments() -> None:
    with pytest.raises(DepwatchError, match="unknown vulnerability service"):
        advisories.start([], service="esms")
    with pytest.raises(DepwatchError, match="--osv-url needs the osv service"):
        advisories.start([], service="pypi", osv_url="https://api.osv.dev/v1/query")
    assert advisories.check_osv_url("https://osv.internal:8443/v1/query")
    with advisories.start([]) as pending:
        assert pending.result() == AdvisoryResult(service="pypi")


def test_result_cleans_up_and_close_stops(osv: OsvServer, cache_dir: Path) -> None:
    pending = advisories.start([Package("idna", "3.7")], osv_url=osv.query_url, cache_dir=cache_dir)
    folder = pending._runs[0].output.parent
    assert folder.is_dir()
    first = pending.result()
    assert not folder.exists()
    assert pending.result() is first

    osv.delay = 10
    pending = advisories.start([Package("idna", "3.7")], osv_url=osv.query_url, cache_dir=cache_dir)
    process = pending._runs[0].process
    assert process is not None
    pending.close()
    assert process.returncode is not None
    assert not pending._runs[0].output.parent.exists()


def test_the_users_pip_audit_settings_do_not_leak_in(
    osv: OsvServer, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PIP_AUDIT_FORMAT", "markdown")
    monkeypatch.setenv("PIP_AUDIT_IGNORE_VULN", "PYSEC-2019-217")
    result = run([Package("jinja2", "2.10")], osv, cache_dir)
    assert [v.id for v in result.vulnerabilities] == ["PYSEC-2019-217"]


# -- findings --------------------------------------------------------------------------------


def test_to_findings_and_rule_info(osv: OsvServer, cache_dir: Path) -> None:
    result = run([Package("jinja2", "2.10"), Package("six", "1.16.0")], osv, cache_dir)
    findings = advisories.to_findings(
        result, project="app", lockfiles={("jinja2", "2.10"): ["uv.lock", "requirements.txt"]}
    )
    jinja, six = findings
    assert jinja.rule == "PYSEC-2019-217"
    assert jinja.kind == "vulnerability"
    assert jinja.tag is Tag.IMMEDIATE
    assert jinja.project == "app"
    assert jinja.lockfiles == ("uv.lock", "requirements.txt")
    assert jinja.aliases == ("CVE-2019-10906", "GHSA-462w-v97r-4m45")
    assert jinja.fixed_versions == ("2.10.1",)
    assert jinja.references == ("https://osv.dev/vulnerability/PYSEC-2019-217",)
    assert jinja.action.startswith("Upgrade jinja2 to 2.10.1 or later")
    assert six.tag is Tag.PLAN
    assert six.lockfiles == ()
    info = advisories.rule_info(result.vulnerabilities[0])
    assert info.kind == "vulnerability"
    assert info.title == jinja.title


def test_fixes_only_below_the_locked_version_are_no_fix() -> None:
    vuln = Vulnerability("X-1", "pkg", "3.0", fixed_versions=("2.9.5",))
    assert vuln.fix is None
    assert advisories.vulnerability_tag(vuln) is Tag.PLAN
    assert advisories.action_text(vuln) == (
        "No release of pkg above 3.0 fixes X-1 (fixed in 2.9.5): plan to mitigate or replace "
        "it, and watch the advisory."
    )
    long = Vulnerability("X-2", "pkg", "1", description="word " * 100)
    assert len(long.title) <= 120
    assert long.title.endswith("…")


# -- the whole shared database ---------------------------------------------------------------


def test_shared_records_end_to_end(shared_osv: OsvServer, shared: Path, cache_dir: Path) -> None:
    lock = {
        "requests": "2.19.0",
        "urllib3": "1.24.1",
        "jinja2": "2.10",
        "pyyaml": "5.3",
        "aiohttp": "3.8.0",
        "werkzeug": "2.2.2",
        "flask": "2.2.2",
        "certifi": "2022.12.7",
        "cryptography": "41.0.0",
        "setuptools": "65.5.0",
        "protobuf": "3.14.0",
        "tornado": "6.3.1",
        "idna": "3.6",
        "six": "1.16.0",
    }
    result = run([Package(n, v) for n, v in lock.items()], shared_osv, cache_dir)
    assert result.not_audited == ()
    assert result.audited == len(lock)

    records = load_records(shared / "advisories" / "pypa", FIXTURES / "synthetic")
    expected = {
        (name, version, record["id"])
        for name, version in lock.items()
        for record in records
        if version_affected(record, name, version) and "withdrawn" not in record
    }
    assert ("aiohttp", "3.8.0", "PYSEC-2022-43059") not in expected  # withdrawn: never
    assert set(by_key(result)) == expected
    assert len(expected) >= 25
    urllib3 = {v.id for v in result.vulnerabilities if v.package == "urllib3"}
    assert urllib3 == {
        "PYSEC-2019-132",
        "PYSEC-2019-133",
        "PYSEC-2020-148",
        "PYSEC-2021-108",
        "PYSEC-2023-192",
        "PYSEC-2023-207",
        "PYSEC-2023-212",
    }
    for vuln in result.vulnerabilities:
        record = next(r for r in records if r["id"] == vuln.id)
        assert set(vuln.aliases) == set(record.get("aliases", [])) - {vuln.id}
        assert advisories.vulnerability_tag(vuln) is (Tag.IMMEDIATE if vuln.fix else Tag.PLAN)


# -- the OSV server's own range evaluation ---------------------------------------------------


def test_server_range_evaluation(fixture_records: list[dict[str, Any]]) -> None:
    record = next(r for r in fixture_records if r["id"] == "PYSEC-2023-192")
    # Its events are not in version order: introduced 2.0.0, fixed 2.0.6, introduced 0, ...
    assert version_affected(record, "urllib3", "1.26.16")
    assert not version_affected(record, "urllib3", "1.26.17")
    assert version_affected(record, "urllib3", "2.0.0")
    assert version_affected(record, "urllib3", "2.0.0rc1") is False
    assert not version_affected(record, "urllib3", "2.0.6")
    assert not version_affected(record, "URLLIB3", "2.1")
    assert not version_affected(record, "requests", "1.0")
    last = {
        "id": "T",
        "affected": [
            {
                "package": {"ecosystem": "PyPI", "name": "Foo_Bar"},
                "ranges": [
                    {
                        "type": "ECOSYSTEM",
                        "events": [{"introduced": "1.0"}, {"last_affected": "1.5"}],
                    }
                ],
                "versions": ["0.9"],
            }
        ],
    }
    assert version_affected(last, "foo-bar", "1.5")
    assert version_affected(last, "foo-bar", "1.5.post1") is False
    assert version_affected(last, "foo-bar", "0.9")
    assert not version_affected(last, "foo-bar", "0.8")


# -- the real PyPI service -------------------------------------------------------------------


@pytest.mark.online
@pytest.mark.skipif(os.environ.get("DEPWATCH_ONLINE") != "1", reason="set DEPWATCH_ONLINE=1")
def test_pypi_service_online(cache_dir: Path) -> None:
    # Either PyPI answers (requests 2.19.0 has known advisories) or every package is listed as
    # not audited with a warning; never a clean result.
    result = advisories.audit(
        [Package("requests", "2.19.0"), Package("idna", "3.7")],
        service="pypi",
        timeout=20,
        cache_dir=cache_dir,
    )
    if result.audited:
        assert any(v.package == "requests" for v in result.vulnerabilities)
    else:
        assert [n.package for n in result.not_audited] == ["idna", "requests"]
        assert "answered for none of the 2 packages" in result.warnings[0]


def test_pypi_service_unreachable(
    closed_port: int, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # pip-audit's PyPI URL is fixed; a dead proxy makes PyPI unreachable without the internet.
    for name in ("NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTPS_PROXY", f"http://127.0.0.1:{closed_port}")
    monkeypatch.setenv("https_proxy", f"http://127.0.0.1:{closed_port}")
    result = advisories.audit(
        [Package("requests", "2.19.0")], service="pypi", timeout=2, cache_dir=cache_dir
    )
    assert result.audited == 0
    (item,) = result.not_audited
    assert item.reason.startswith("could not connect to PyPI")
    assert result.warnings[0].startswith(
        "the vulnerability service answered for none of the 1 packages"
    )


# -- --since: what the change brings -----------------------------------------------------------


def _git_repo(root: Path, *commands: list[str]) -> None:
    env = {
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.org",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.org",
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(root),
    }
    for command in commands:
        subprocess.run(["git", *command], cwd=root, env=env, check=True, capture_output=True)


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_since_reports_only_the_advisories_the_change_brings(
    osv: OsvServer, tmp_path: Path, cache_dir: Path
) -> None:
    project = tmp_path / "p"
    project.mkdir()
    (project / "pyproject.toml").write_text('[project]\nname = "p"\nrequires-python = ">=3.12"\n')
    (project / "requirements.txt").write_text("jinja2==2.10\nidna==3.10\n")
    _git_repo(project, ["init", "-q"], ["add", "-A"], ["commit", "-qm", "base"])
    # The change renames the lockfile and adds a vulnerable pin; jinja2's advisory was there.
    (project / "requirements.txt").rename(project / "requirements-prod.txt")
    (project / "requirements-prod.txt").write_text("jinja2==2.10\nidna==3.10\npyyaml==5.3\n")
    env = {**os.environ, "PIP_AUDIT_CACHE_DIR": str(cache_dir)}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "depwatch",
            "check",
            ".",
            "--format",
            "json",
            "--vulns",
            "--osv-url",
            osv.query_url,
            "--since",
            "HEAD",
        ],
        cwd=project,
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert "Traceback" not in done.stderr, done.stderr
    report = json.loads(done.stdout)
    assert [(f["package"], f["rule"]) for f in report["findings"]] == [("pyyaml", "PYSEC-2020-96")]
    assert report["resolved"] == []
    assert done.returncode == 1


def test_the_osv_url_can_come_from_the_environment(osv: OsvServer, tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("jinja2==2.10\n")
    env = {**os.environ, "DEPWATCH_OSV_URL": osv.query_url.replace("http://", "http://u:s3cret@")}
    done = subprocess.run(
        [sys.executable, "-m", "depwatch", "check", ".", "--vulns", "--format", "json"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert "s3cret" not in done.stdout + done.stderr
    report = json.loads(done.stdout)
    assert [f["rule"] for f in report["findings"] if f["kind"] == "vulnerability"] == [
        "PYSEC-2019-217"
    ]


def test_a_baseline_records_advisories(osv: OsvServer, tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("jinja2==2.10\n")
    env = {**os.environ, "DEPWATCH_OSV_URL": osv.query_url}

    def depwatch(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "depwatch", *args],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            env=env,
            timeout=300,
        )

    assert depwatch("check", ".", "--vulns").returncode == 1
    written = depwatch("baseline", "write", "b.json", ".", "--vulns")
    assert written.returncode == 0, written.stderr
    recorded = json.loads((tmp_path / "b.json").read_text())["findings"]
    assert "PYSEC-2019-217" in {entry["rule"] for entry in recorded}
    assert depwatch("check", ".", "--vulns", "--baseline", "b.json").returncode == 0
    # Without --vulns, DEPWATCH_OSV_URL audits nothing (a hook in the same environment).
    quiet = depwatch("check", ".", "--format", "json")
    assert "not_audited" not in json.loads(quiet.stdout)
