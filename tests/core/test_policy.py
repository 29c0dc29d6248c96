"""Ignores (reason, package/version binding, expiry, stale), the baseline and the exit code."""

from __future__ import annotations

import datetime
import json
from dataclasses import replace
from pathlib import Path

import pytest
from packaging.specifiers import SpecifierSet

from depwatch.errors import DepwatchError, ExitCode
from depwatch.model import Finding, HeldBack, Tag
from depwatch.policy import (
    apply_baseline,
    apply_ignores,
    baseline_document,
    exit_code,
    read_baseline,
)
from depwatch.settings import IgnoreEntry

TODAY = datetime.date(2026, 11, 24)


def _finding(
    rule: str = "google-genai/response-format-wire-names",
    version: str = "2.0.0",
    tag: Tag = Tag.IMMEDIATE,
    aliases: tuple[str, ...] = (),
    project: str = ".",
) -> Finding:
    return Finding(
        rule=rule,
        project=project,
        package="google-genai",
        version=version,
        tag=tag,
        kind="behaviour",
        title="t",
        action="a",
        aliases=aliases,
    )


def test_ignore_by_id_package_and_version() -> None:
    entry = IgnoreEntry(
        id="google-genai/response-format-wire-names",
        reason="pinned",
        package="google-genai",
        versions=SpecifierSet("==2.0.0"),
    )
    result = apply_ignores([_finding(), _finding(version="2.0.1")], [entry], TODAY)
    assert [f.version for f in result.findings] == ["2.0.1"]
    assert result.suppressed[0].reason == "pinned"
    assert result.stale == ()


def test_ignore_by_alias() -> None:
    entry = IgnoreEntry(id="CVE-2024-1", reason="not reachable")
    result = apply_ignores([_finding(rule="GHSA-x", aliases=("CVE-2024-1",))], [entry], TODAY)
    assert result.findings == ()


def test_expired_ignore_stops_suppressing() -> None:
    entry = IgnoreEntry(
        id="google-genai/response-format-wire-names", reason="r", until=datetime.date(2026, 11, 1)
    )
    result = apply_ignores([_finding()], [entry], TODAY)
    assert len(result.findings) == 1
    assert "expired on 2026-11-01" in result.expired[0]
    assert result.stale == ()


def test_stale_ignore() -> None:
    result = apply_ignores([_finding()], [IgnoreEntry(id="numpy/x", reason="r")], TODAY)
    assert result.stale == ("numpy/x",)


def test_baseline_round_trip(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    path = Path("baseline.json")
    path.write_text(baseline_document([_finding()], path))
    keys = read_baseline(path)
    kept, suppressed = apply_baseline([_finding(), _finding(rule="other/x")], keys, path)
    assert [f.rule for f in kept] == ["other/x"]
    assert suppressed[0].reason == "in the baseline baseline.json"
    # A finding whose tag rose is new.
    kept, _ = apply_baseline(
        [_finding(tag=Tag.IMMEDIATE)],
        frozenset(
            {(".", "google-genai/response-format-wire-names", "google-genai", "2.0.0", "monitor")}
        ),
        path,
    )
    assert len(kept) == 1


def test_a_baseline_names_projects_from_its_own_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "app").mkdir()
    monkeypatch.chdir(tmp_path)
    written = Path("baseline.json")
    written.write_text(baseline_document([_finding(project="app")], written))
    assert json.loads(written.read_text())["findings"][0]["project"] == "app"
    # The same project checked from inside its folder, the baseline named from there.
    monkeypatch.chdir(tmp_path / "app")
    read = Path("../baseline.json")
    kept, suppressed = apply_baseline([_finding(project=".")], read_baseline(read), read)
    assert kept == []
    assert len(suppressed) == 1
    # ... and by an absolute path from elsewhere.
    monkeypatch.chdir("/")
    absolute = tmp_path / "baseline.json"
    kept, _ = apply_baseline(
        [_finding(project=str(tmp_path / "app"))], read_baseline(absolute), absolute
    )
    assert kept == []


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("{", "not valid JSON"),
        ("[]", "not a depwatch baseline"),
        ('{"findings": [{"rule": 1}]}', "findings[0]"),
    ],
)
def test_bad_baseline(tmp_path: Path, text: str, needle: str) -> None:
    path = tmp_path / "b.json"
    path.write_text(text)
    with pytest.raises(DepwatchError) as info:
        read_baseline(path)
    assert needle in str(info.value)


def test_baseline_is_deterministic() -> None:
    findings = [_finding(rule="b/x"), _finding(rule="a/x")]
    path = Path("baseline.json")
    doc = json.loads(baseline_document(findings, path))
    assert [e["rule"] for e in doc["findings"]] == ["a/x", "b/x"]
    assert baseline_document(findings, path) == baseline_document(list(reversed(findings)), path)


@pytest.mark.parametrize(
    ("tags", "fail_on", "code"),
    [
        ([Tag.IMMEDIATE], "immediate", ExitCode.FINDINGS),
        ([Tag.PLAN], "immediate", ExitCode.OK),
        ([Tag.PLAN], "plan", ExitCode.FINDINGS),
        ([Tag.MONITOR], "plan", ExitCode.OK),
        ([Tag.MONITOR], "monitor", ExitCode.FINDINGS),
        ([Tag.IMMEDIATE], "never", ExitCode.OK),
        ([], "monitor", ExitCode.OK),
    ],
)
def test_exit_code(tags: list[Tag], fail_on: str, code: ExitCode) -> None:
    assert exit_code([_finding(tag=t) for t in tags], fail_on) == code


def test_strict_gap_is_exit_2() -> None:
    assert exit_code([], "immediate", gaps=["not audited: x"], strict=True) == ExitCode.ERROR
    assert exit_code([], "immediate", gaps=["not audited: x"], strict=False) == ExitCode.OK


def test_a_baseline_entry_matches_an_advisory_by_id_or_alias(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    path = Path("baseline.json")
    by_alias = (".", "CVE-2099-0001", "google-genai", "2.0.0", "immediate")
    advisory = _finding(rule="PYSEC-9999-1", aliases=("CVE-2099-0001", "GHSA-aaaa-bbbb-cccc"))
    kept, suppressed = apply_baseline([advisory], frozenset({by_alias}), path)
    assert kept == []
    assert len(suppressed) == 1
    other = _finding(rule="PYSEC-9999-2", aliases=("CVE-2099-0002",))
    kept, _ = apply_baseline([other], frozenset({by_alias}), path)
    assert kept == [other]


def test_an_ignore_with_versions_covers_every_entry_of_a_finding() -> None:
    finding = replace(_finding(), versions=("2.0.0", "2.1.0"))
    only_one = IgnoreEntry(id=finding.rule, reason="r", versions=SpecifierSet("==2.0.0"))
    both = IgnoreEntry(id=finding.rule, reason="r", versions=SpecifierSet(">=2.0.0"))
    assert apply_ignores([finding], [only_one], TODAY).findings == (finding,)
    assert apply_ignores([finding], [both], TODAY).findings == ()


def test_an_ignore_of_a_python_floor_rule_silences_its_held_back_fact() -> None:
    numpy = HeldBack("numpy", "2.0.2", "2.1.0", ("3.9",), rule="numpy/python-3.10-required")
    pytest_ = HeldBack("pytest", "8.4.2", "9.0.0", ("3.9",), dev=True, rule="pytest/x")
    eol = Finding(
        rule="python/python-3.9-eol",
        project=".",
        package="python",
        version="3.9",
        tag=Tag.PLAN,
        kind="eol",
        title="t",
        action="a",
        held_back=(numpy, pytest_),
    )
    made = replace(eol, rule="python/held-back", kind="python-drop", held_back=(numpy,))
    entry = IgnoreEntry(id="numpy/python-3.10-required", reason="pinned for the old ABI")
    result = apply_ignores([eol, made], [entry], TODAY)
    # The end-of-life finding stays, without numpy; the finding made only of numpy goes.
    assert [(f.rule, f.held_back) for f in result.findings] == [
        ("python/python-3.9-eol", (pytest_,))
    ]
    assert [(s.rule, s.package, s.version) for s in result.suppressed] == [
        ("numpy/python-3.10-required", "numpy", "2.0.2"),
        ("numpy/python-3.10-required", "numpy", "2.0.2"),
    ]
    assert result.stale == ()
