"""The built wheel: the rules ship inside it as depwatch/rules, and the CLI runs from it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from .conftest import REPO

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def build(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """The wheel as ``pip install .`` builds it, and the build's whole log (``-v``)."""
    out = tmp_path_factory.mktemp("wheel")
    done = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-v", "-w", str(out), str(REPO)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    (built,) = out.glob("depwatch_audit-*.whl")
    return built, done.stdout + done.stderr


@pytest.fixture(scope="module")
def wheel(build: tuple[Path, str]) -> Path:
    return build[0]


def test_the_build_is_quiet_about_the_rule_folders(build: tuple[Path, str]) -> None:
    built, log = build
    assert "setuptools" in log  # the build's own output is in the log
    assert "is absent from the `packages` configuration" not in log
    assert "Installing 'depwatch.rules." not in log
    names = zipfile.ZipFile(built).namelist()
    assert "depwatch/rules/aiohttp/" + next((REPO / "rules" / "aiohttp").glob("*.toml")).name in (
        names
    )


def test_the_distribution_is_depwatch_audit_with_a_vulns_extra(wheel: Path) -> None:
    archive = zipfile.ZipFile(wheel)
    (metadata,) = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
    text = archive.read(metadata).decode()
    assert "\nName: depwatch-audit\n" in text
    assert "Provides-Extra: vulns" in text
    assert 'Requires-Dist: pip-audit>=2.10; extra == "vulns"' in text
    assert not [
        line
        for line in text.splitlines()
        if line.startswith("Requires-Dist: pip-audit") and "extra" not in line
    ]
    (entry_points,) = [n for n in archive.namelist() if n.endswith("entry_points.txt")]
    assert "depwatch = depwatch.__main__:main" in archive.read(entry_points).decode()
    assert any(n.endswith("licenses/LICENSE") for n in archive.namelist())


def test_rules_ship_as_package_data(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    shipped = {n for n in names if n.startswith("depwatch/rules/") and n.endswith(".toml")}
    in_repo = {
        "depwatch/rules/" + p.relative_to(REPO / "rules").as_posix()
        for p in (REPO / "rules").rglob("*.toml")
    }
    assert shipped == in_repo
    assert "depwatch/rules/google-genai/response-format-wire-names.toml" in shipped
    assert "depwatch/rules/flask/_package.toml" in shipped  # package declarations ship too
    assert not [n for n in names if n.startswith("rules/")]  # no top-level "rules" package
    assert not [n for n in names if n.startswith("depwatch/rules/") and n.endswith(".py")]
    assert not [n for n in names if n.startswith("tests/")]


def test_cli_runs_from_the_wheel(wheel: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    env = {**os.environ, "PYTHONPATH": str(site), "DEPWATCH_NO_CACHE": "1"}
    where = subprocess.run(
        [sys.executable, "-c", "import depwatch; print(depwatch.__file__)"],
        env=env,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=True,
    )
    assert where.stdout.strip().startswith(str(site))
    listed = subprocess.run(
        [sys.executable, "-m", "depwatch", "rules", "list", "--format", "json"],
        env=env,
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert listed.returncode == 0, listed.stderr
    ids = {r["id"] for r in json.loads(listed.stdout)["rules"]}
    rule_files = [p for p in (REPO / "rules").rglob("*.toml") if not p.name.startswith("_")]
    assert len(ids) == len(rule_files)
    checked = subprocess.run(
        [sys.executable, "-m", "depwatch", "rules", "check"],
        env=env,
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert checked.returncode == 0, checked.stderr
    assert str(site) in checked.stdout
