"""The ``check --format json`` and ``packages --format json`` contracts, key for key."""

from __future__ import annotations

import json

from depwatch.model import Lockfile, NotAudited, Report
from depwatch.reporters import json as json_reporter
from depwatch.reporters import render, render_packages


def test_check_json_matches_schema_exactly(report: Report) -> None:
    text = render("json", report)
    assert text.endswith("}\n")
    doc = json.loads(text)
    assert list(doc) == [
        "schema_version",
        "projects",
        "findings",
        "suppressed",
        "stale_ignores",
        "summary",
        "not_audited",
        "warnings",
    ]
    assert doc["schema_version"] == 1
    assert doc["projects"] == [
        {
            "root": ".",
            "requires_python": ">=3.9",
            "lockfiles": [{"path": "uv.lock", "format": "uv", "packages": 5}],
        },
        {
            "root": "sub dir",
            "requires_python": None,
            "lockfiles": [{"path": "requirements.txt", "format": "requirements", "packages": 1}],
        },
    ]
    # immediate → plan → monitor, then project, package, version, rule
    assert [(f["tag"], f["package"]) for f in doc["findings"]] == [
        ("immediate", "google-genai"),
        ("immediate", "jinja2"),
        ("plan", "db-dtypes"),
        ("plan", "python"),
        ("monitor", "jinja2"),
        ("monitor", "evil-pkg"),
    ]
    genai = doc["findings"][0]
    assert genai == {
        "rule": "google-genai/response-format-wire-names",
        "project": ".",
        "package": "google-genai",
        "version": "2.0.0",
        "tag": "immediate",
        "kind": "behaviour",
        "title": "response_format values are now sent as wire names",
        "action": "Pass the enum members, not their string values.",
        "references": ["https://github.com/googleapis/python-genai/releases/tag/v2.0.0"],
        "lockfiles": ["uv.lock"],
        "targets": None,
        "evidence": [
            {
                "path": f"voice_bot/speak{i}.py",
                "line": 12 + i,
                "column": 9,
                "code": "response_format=audio,",
            }
            for i in range(7)
        ],
        "origin": "curated",
    }
    vuln = doc["findings"][1]
    assert vuln["origin"] == "advisory"
    assert list(vuln)[-2:] == ["aliases", "fixed_versions"]
    assert vuln["rule"] == "GHSA-h5c8-rqwp-cp95"
    assert vuln["aliases"] == ["CVE-2024-56326"]
    assert vuln["fixed_versions"] == ["3.1.5"]
    assert all("aliases" not in f for f in doc["findings"] if f["kind"] != "vulnerability")
    dtypes = doc["findings"][2]
    assert dtypes["targets"] == ["3.9"]
    interpreter = doc["findings"][3]
    assert (interpreter["package"], interpreter["version"], interpreter["lockfiles"]) == (
        "python",
        "3.9",
        [],
    )
    notebook = doc["findings"][4]["evidence"][0]
    assert notebook == {
        "path": "notebooks/explore.ipynb",
        "line": 2,
        "column": 5,
        "code": "Environment()",
        "cell": 3,
    }
    assert doc["suppressed"][0]["rule"] == "requests/verify-default"
    assert list(doc["suppressed"][0]) == ["rule", "package", "version", "reason", "until"]
    assert doc["suppressed"][0]["until"] == "2026-12-31"
    assert doc["stale_ignores"] == ["urllib3/old-rule"]
    assert doc["summary"] == {"immediate": 2, "plan": 2, "monitor": 2}
    assert doc["not_audited"][0] == {
        "package": "evil-pkg",
        "version": "1.0",
        "reason": doc["not_audited"][0]["reason"],
    }
    assert doc["not_audited"][1] == {
        "package": "myapp",
        "version": None,
        "reason": "not on PyPI (editable)",
    }
    assert doc["warnings"] == ["skipped notebooks/broken.ipynb: not valid JSON"]


def test_optional_sections(report: Report, empty_report: Report) -> None:
    doc = json.loads(render("json", empty_report))
    assert "not_audited" not in doc
    assert "resolved" not in doc
    assert doc["findings"] == []
    assert doc["summary"] == {"immediate": 0, "plan": 0, "monitor": 0}
    # An empty list is meaningful: every package was audited.
    audited = Report(projects=(), findings=(), not_audited=(), resolved=report.findings[:1])
    doc = json.loads(render("json", audited))
    assert doc["not_audited"] == []
    assert doc["resolved"][0]["rule"] == report.findings[0].rule
    assert list(doc)[-3:] == ["not_audited", "resolved", "warnings"]


def test_json_escapes_control_characters(report: Report) -> None:
    text = render("json", report)
    assert "\x1b" not in text
    assert "\x9b" not in text
    assert "\\u001b[31m" in text
    assert "\\u009b" in text
    doc = json.loads(text)  # still valid, and the text round-trips unchanged
    evil = next(f for f in doc["findings"] if f["package"] == "evil-pkg")
    original = next(f for f in report.findings if f.package == "evil-pkg")
    assert evil["title"] == original.title
    assert evil["evidence"][0]["code"] == original.evidence[0].code


def test_json_keeps_unicode_readable() -> None:
    report = Report(projects=(), findings=(), warnings=("naïve → ok",))
    assert "naïve → ok" in render("json", report)


def test_packages_json(report: Report) -> None:
    lock = report.projects[0].lockfiles[0]
    other = Lockfile("requirements.txt", "requirements", ())
    doc = json.loads(render_packages([(".", lock), ("sub", other)], "json"))
    assert doc == {
        "schema_version": 1,
        "lockfiles": [
            {
                "path": "uv.lock",
                "format": "uv",
                "project": ".",
                "packages": [
                    {
                        "name": "db-dtypes",
                        "version": "1.6.0",
                        "source": "registry",
                        "markers": "python_version < '3.10'",
                        "groups": ["main"],
                        "direct": True,
                    },
                    {
                        "name": "db-dtypes",
                        "version": "1.7.0",
                        "source": "registry",
                        "markers": "python_version >= '3.10'",
                        "groups": ["main"],
                        "direct": True,
                    },
                    {
                        "name": "google-genai",
                        "version": "2.0.0",
                        "source": "registry",
                        "markers": None,
                        "groups": ["main"],
                        "direct": True,
                    },
                    {
                        "name": "jinja2",
                        "version": "3.1.4",
                        "source": "registry",
                        "markers": None,
                        "groups": ["main"],
                        "direct": False,
                    },
                    {
                        "name": "myapp",
                        "version": None,
                        "source": "editable",
                        "markers": None,
                        "groups": ["main"],
                        "direct": None,
                    },
                ],
            },
            {
                "path": "requirements.txt",
                "format": "requirements",
                "project": "sub",
                "packages": [],
            },
        ],
    }


def test_dumps_is_deterministic_and_terminated() -> None:
    assert json_reporter.dumps({"a": [1]}) == '{\n  "a": [\n    1\n  ]\n}\n'
    assert (
        json_reporter.render(
            Report(projects=(), findings=(), not_audited=(NotAudited("x", None, "r"),))
        ).count("\n")
        > 3
    )
