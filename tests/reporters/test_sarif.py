"""SARIF 2.1.0: schema-valid, levels, locations, rules and fingerprints GitHub can track."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

import depwatch
from depwatch.model import Evidence, Report
from depwatch.reporters import render, sarif


def _doc(report: Report) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(render("sarif", report))
    return doc


def _moved(report: Report, by: int) -> Report:
    """The same report with every evidence line (and lockfile line) moved down by ``by``."""
    findings = tuple(
        dataclasses.replace(
            f,
            evidence=tuple(dataclasses.replace(e, line=e.line + by) for e in f.evidence),
            lock_line=None if f.lock_line is None else f.lock_line + by,
        )
        for f in report.findings
    )
    return dataclasses.replace(report, findings=findings)


def _result(doc: dict[str, Any], package: str, rule: str | None = None) -> dict[str, Any]:
    results = doc["runs"][0]["results"]
    return next(
        r
        for r in results
        if r["properties"]["package"] == package and (rule is None or r["ruleId"] == rule)
    )


def _uri_line(location: dict[str, Any]) -> tuple[str, int]:
    physical = location["physicalLocation"]
    assert physical["artifactLocation"].get("uriBaseId") == "%SRCROOT%"
    return physical["artifactLocation"]["uri"], physical["region"]["startLine"]


@pytest.mark.parametrize("which", ["full", "empty"])
def test_validates_against_the_sarif_schema(
    shared: Path, report: Report, empty_report: Report, which: str
) -> None:
    schema = json.loads((shared / "schemas" / "sarif-schema-2.1.0.json").read_text("utf-8"))
    doc = _doc(report if which == "full" else empty_report)
    validator = jsonschema.Draft7Validator(schema)
    errors = sorted(validator.iter_errors(doc), key=str)
    assert not errors, errors[0]


def test_run_shape(report: Report) -> None:
    doc = _doc(report)
    assert doc["version"] == "2.1.0"
    assert len(doc["runs"]) == 1
    run = doc["runs"][0]
    driver = run["tool"]["driver"]
    assert driver["name"] == "depwatch"
    assert driver["version"] == depwatch.__version__
    assert driver["informationUri"].startswith("https://")
    assert run["columnKind"] == "unicodeCodePoints"
    assert "%SRCROOT%" in run["originalUriBaseIds"]
    assert len(run["results"]) == len(report.findings)
    assert "timestamp" not in json.dumps(doc).lower()
    notes = [n["message"]["text"] for n in run["invocations"][0]["toolExecutionNotifications"]]
    assert any("myapp was not audited" in n for n in notes)
    assert any("stale ignore: urllib3/old-rule" in n for n in notes)


def test_rules_one_descriptor_per_rule_and_indexes(report: Report) -> None:
    run = _doc(report)["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    ids = [r["id"] for r in rules]
    assert sorted(ids) == sorted({f.rule for f in report.findings})
    assert len(ids) == len(set(ids))
    for result in run["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
    genai = rules[ids.index("google-genai/response-format-wire-names")]
    assert genai["name"] == "ResponseFormatWireNames"
    assert genai["shortDescription"]["text"] == "response_format values are now sent as wire names"
    assert genai["fullDescription"]["text"].startswith("google-genai 2.0 sends")
    assert "Code passing the old string values" in genai["help"]["text"]
    assert "Pass the enum members" in genai["help"]["markdown"]
    assert genai["helpUri"] == "https://github.com/googleapis/python-genai/releases/tag/v2.0.0"
    assert genai["properties"]["tags"][0] == "behaviour"
    vuln = rules[ids.index("GHSA-h5c8-rqwp-cp95")]  # not in report.rules: derived from the finding
    assert vuln["shortDescription"]["text"].startswith("Jinja2 sandbox breakout")
    assert "security" in vuln["properties"]["tags"]
    evil = rules[ids.index("evil/pkg")]
    assert "helpUri" not in evil  # javascript: is not a help page
    assert all(len(r["properties"]["tags"]) <= 10 for r in rules)


def test_levels(report: Report) -> None:
    doc = _doc(report)
    assert _result(doc, "google-genai")["level"] == "error"
    assert _result(doc, "db-dtypes")["level"] == "warning"
    assert _result(doc, "python")["level"] == "warning"
    assert _result(doc, "jinja2", "jinja2/autoescape-default")["level"] == "note"
    assert _result(doc, "jinja2", "GHSA-h5c8-rqwp-cp95")["level"] == "error"


def test_locations(report: Report) -> None:
    doc = _doc(report)
    genai = _result(doc, "google-genai")
    assert [_uri_line(loc) for loc in genai["locations"]] == [
        (f"voice_bot/speak{i}.py", 12 + i) for i in range(7)
    ]
    assert genai["locations"][0]["physicalLocation"]["region"]["startColumn"] == 9
    assert "google-genai@2.0.0" in genai["message"]["text"]
    assert "Pass the enum members" in genai["message"]["text"]
    # no evidence: the lockfile line
    assert [_uri_line(loc) for loc in _result(doc, "db-dtypes")["locations"]] == [("uv.lock", 40)]
    # interpreter: pyproject.toml of the project
    assert [_uri_line(loc) for loc in _result(doc, "python")["locations"]] == [
        ("pyproject.toml", 1)
    ]
    # a project root other than "." is joined on, and the URI is percent-encoded
    evil = _result(doc, "evil-pkg")
    assert _uri_line(evil["locations"][0]) == ("sub%20dir/src/a%2Cb%3Ac%25.py", 3)
    # notebook: lines count within a cell, so the alert sits on the file, the cell in the message
    notebook = _result(doc, "jinja2", "jinja2/autoescape-default")["locations"][0]
    assert notebook["properties"] == {"cell": 3, "cellLine": 2, "cellColumn": 5}
    assert notebook["message"]["text"].startswith("cell 3, line 2")


def test_lockfile_line_falls_back_to_1(report: Report) -> None:
    finding = next(f for f in report.findings if f.package == "db-dtypes")
    one = dataclasses.replace(report, findings=(dataclasses.replace(finding, lock_line=None),))
    assert [_uri_line(loc) for loc in _doc(one)["runs"][0]["results"][0]["locations"]] == [
        ("uv.lock", 1)
    ]


def test_fingerprints_stable_when_lines_move(report: Report) -> None:
    before = _doc(report)["runs"][0]["results"]
    after = _doc(_moved(report, 17))["runs"][0]["results"]
    assert [r["partialFingerprints"] for r in before] == [r["partialFingerprints"] for r in after]
    assert [r["locations"] for r in before] != [r["locations"] for r in after]
    prints = [r["partialFingerprints"]["depwatch/v1"] for r in before]
    assert len(set(prints)) == len(prints)
    genai = next(f for f in report.findings if f.package == "google-genai")
    assert sarif.fingerprint(genai) == sarif.fingerprint(
        dataclasses.replace(genai, version="2.0.0")
    )
    assert sarif.fingerprint(genai) != sarif.fingerprint(
        dataclasses.replace(genai, version="2.0.1")
    )


def test_location_cap(report: Report) -> None:
    genai = next(f for f in report.findings if f.package == "google-genai")
    many = tuple(Evidence("a.py", i, 1, "x") for i in range(1, sarif.MAX_LOCATIONS + 6))
    one = dataclasses.replace(report, findings=(dataclasses.replace(genai, evidence=many),))
    result = _doc(one)["runs"][0]["results"][0]
    assert len(result["locations"]) == sarif.MAX_LOCATIONS
    assert "5 more uses not listed" in result["message"]["text"]


def test_control_characters_never_raw(report: Report) -> None:
    text = render("sarif", report)
    assert "\x1b" not in text
    assert "\x9b" not in text
    json.loads(text)


def test_a_log_past_githubs_result_limit_keeps_the_most_urgent_and_says_so(
    shared: Path, report: Report, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sarif, "MAX_RESULTS", 2)
    doc = _doc(report)
    (run,) = doc["runs"]
    assert [r["level"] for r in run["results"]] == ["error", "error"]
    notes = run["invocations"][0]["toolExecutionNotifications"]
    assert notes[0]["message"]["text"].startswith(f"{len(report.findings) - 2} findings (")
    referenced = {r["ruleId"] for r in run["results"]}
    assert {rule["id"] for rule in run["tool"]["driver"]["rules"]} == referenced
    schema = json.loads((shared / "schemas" / "sarif-schema-2.1.0.json").read_text("utf-8"))
    assert not list(jsonschema.Draft7Validator(schema).iter_errors(doc))
