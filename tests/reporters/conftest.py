"""Reports built by hand for the reporter tests: realistic findings and hostile input text."""

from __future__ import annotations

import pytest

from depwatch.model import (
    Evidence,
    Finding,
    Lockfile,
    NotAudited,
    Package,
    ProjectReport,
    Report,
    RuleInfo,
    Suppressed,
    Tag,
)

#: Text an attacker controls (a package's metadata, a source line, an advisory) would love.
NASTY = "[bold]x[/bold] \x1b[31mred\x1b[0m ::error::pwned %0A 100% a|b <script>alert(1)</script> `tick` *star* _u_ [l](u)\nsecond line\r\n\x9b2J"

GENAI = "google-genai/response-format-wire-names"
DBDTYPES = "db-dtypes/python-floor-3-10"


def _lock() -> Lockfile:
    return Lockfile(
        path="uv.lock",
        format="uv",
        packages=(
            Package("google-genai", "2.0.0", groups=("main",), direct=True),
            Package(
                "db-dtypes",
                "1.7.0",
                markers="python_version >= '3.10'",
                groups=("main",),
                direct=True,
            ),
            Package(
                "db-dtypes",
                "1.6.0",
                markers="python_version < '3.10'",
                groups=("main",),
                direct=True,
            ),
            Package("jinja2", "3.1.4", groups=("main",), direct=False),
            Package("myapp", None, source="editable", groups=("main",), direct=None),
        ),
        requires_python=">=3.9",
    )


def _findings() -> tuple[Finding, ...]:
    genai = Finding(
        rule=GENAI,
        project=".",
        package="google-genai",
        version="2.0.0",
        tag=Tag.IMMEDIATE,
        kind="behaviour",
        title="response_format values are now sent as wire names",
        action="Pass the enum members, not their string values.",
        references=("https://github.com/googleapis/python-genai/releases/tag/v2.0.0",),
        lockfiles=("uv.lock",),
        evidence=tuple(
            Evidence(f"voice_bot/speak{i}.py", 12 + i, 9, "response_format=audio,")
            for i in range(7)
        ),
        lock_line=120,
    )
    dtypes = Finding(
        rule=DBDTYPES,
        project=".",
        package="db-dtypes",
        version="1.7.0",
        tag=Tag.PLAN,
        kind="python-drop",
        title="db-dtypes 1.7 requires Python 3.10",
        action="Drop Python 3.9 from requires-python before upgrading.",
        references=("https://pypi.org/project/db-dtypes/1.7.0/",),
        lockfiles=("uv.lock",),
        targets=("3.9",),
        lock_line=40,
    )
    monitor = Finding(
        rule="jinja2/autoescape-default",
        project=".",
        package="jinja2",
        version="3.1.4",
        tag=Tag.MONITOR,
        kind="deprecation",
        title="Environment(autoescape=...) default changes in 3.2",
        action="Nothing to do unless you render HTML.",
        lockfiles=("uv.lock",),
        evidence=(Evidence("notebooks/explore.ipynb", 2, 5, "Environment()", cell=3),),
    )
    vuln = Finding(
        rule="GHSA-h5c8-rqwp-cp95",
        project=".",
        package="jinja2",
        version="3.1.4",
        tag=Tag.IMMEDIATE,
        kind="vulnerability",
        title="Jinja2 sandbox breakout through indirect str.format",
        action="Upgrade jinja2 to 3.1.5.",
        references=("https://osv.dev/vulnerability/GHSA-h5c8-rqwp-cp95",),
        lockfiles=("uv.lock",),
        aliases=("CVE-2024-56326",),
        fixed_versions=("3.1.5",),
        lock_line=77,
    )
    interpreter = Finding(
        rule="python/eol-3-9",
        project=".",
        package="python",
        version="3.9",
        tag=Tag.PLAN,
        kind="eol",
        title="Python 3.9 reached end of life on 2025-10-31",
        action="Raise requires-python to >=3.10.",
        references=("https://peps.python.org/pep-0596/",),
    )
    nasty = Finding(
        rule="evil/" + "pkg",
        project="sub dir",
        package="evil-pkg",
        version="1.0" + NASTY,
        tag=Tag.MONITOR,
        kind="behaviour",
        title="title " + NASTY,
        action="action " + NASTY,
        references=("javascript:alert(1)",),
        lockfiles=("requirements.txt",),
        evidence=(Evidence("src/a,b:c%.py", 3, 1, "code " + NASTY),),
    )
    return (monitor, nasty, interpreter, dtypes, vuln, genai)  # deliberately unsorted


def make_report() -> Report:
    findings = _findings()
    rules = {
        GENAI: RuleInfo(
            id=GENAI,
            title="response_format values are now sent as wire names",
            kind="behaviour",
            what="google-genai 2.0 sends response_format as the API wire name.",
            why="Code passing the old string values gets a 400 from the API.",
            action="Pass the enum members, not their string values.",
            references=("https://github.com/googleapis/python-genai/releases/tag/v2.0.0",),
        ),
        DBDTYPES: RuleInfo(
            id=DBDTYPES, title="db-dtypes 1.7 requires Python 3.10", kind="python-drop"
        ),
    }
    return Report(
        projects=(
            ProjectReport(root=".", requires_python=">=3.9", lockfiles=(_lock(),)),
            ProjectReport(
                root="sub dir",
                requires_python=None,
                lockfiles=(
                    Lockfile("requirements.txt", "requirements", (Package("evil-pkg", "1.0"),)),
                ),
            ),
        ),
        findings=findings,
        rules=rules,
        suppressed=(
            Suppressed(
                rule="requests/verify-default",
                package="requests",
                version="2.32.0",
                reason="pinned until the voice feature ships " + NASTY,
                until="2026-12-31",
            ),
        ),
        stale_ignores=("urllib3/old-rule",),
        not_audited=(
            NotAudited("myapp", None, "not on PyPI (editable)"),
            NotAudited("evil-pkg", "1.0", "service timed out " + NASTY),
        ),
        warnings=("skipped notebooks/broken.ipynb: not valid JSON",),
    )


@pytest.fixture
def report() -> Report:
    return make_report()


@pytest.fixture
def empty_report() -> Report:
    return Report(projects=(ProjectReport(".", ">=3.10", (_lock(),)),), findings=())
