"""The project's own facts: the platforms a lock was made for, the declared Python from
setup.py / setup.cfg, sub-projects, code that needs a newer Python than depwatch runs on."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from .conftest import FIXTURES, run_depwatch

PROJECTS = FIXTURES / "projects"
CONDA = FIXTURES / "lockfiles" / "conda" / "handmade" / "multi-platform.conda-lock.yml"


def _check(root: Path, *args: str) -> tuple[int, dict, str]:  # type: ignore[type-arg]
    done = run_depwatch("check", "--format", "json", "--today", "2026-12-01", *args, cwd=root)
    assert "Traceback" not in done.stderr, done.stderr
    return done.returncode, json.loads(done.stdout), done.stderr


@pytest.mark.slow
def test_a_platform_no_entry_of_the_lock_is_for_is_a_gap(tmp_path: Path) -> None:
    # conda-lock for linux-64 and osx-arm64, audited for Windows
    shutil.copy(CONDA, tmp_path / "conda-lock.yml")
    code, report, _ = _check(tmp_path, "--platform", "windows")
    assert code == 0
    assert [f["package"] for f in report["findings"]] == ["python"]
    (warning,) = [w for w in report["warnings"] if "conda-lock.yml" in w]
    assert "not for --platform windows, so nothing in it was checked" in warning
    strict, _, stderr = _check(tmp_path, "--platform", "windows", "--strict")
    assert strict == 2
    assert "nothing in it was checked" in stderr
    # a platform it was made for: no gap
    fine, report, _ = _check(tmp_path, "--platform", "linux", "--strict")
    assert fine == 0
    assert not [w for w in report["warnings"] if "nothing in it was checked" in w]


def test_a_uv_lock_made_for_linux_only(tmp_path: Path) -> None:
    root = tmp_path / "linux-only"
    shutil.copytree(PROJECTS / "linux-only", root)
    code, report, _ = _check(root, "--platform", "windows", "--no-usage")
    assert code == 0
    assert not [f for f in report["findings"] if f["package"] == "setuptools"]
    assert any("uv.lock: made for sys_platform == 'linux' only" in w for w in report["warnings"])
    code, report, _ = _check(root, "--platform", "linux", "--no-usage")
    assert "setuptools/pkg-resources-removed" in [
        f["rule"] for f in report["findings"] if f["package"] == "setuptools"
    ]
    assert not any("made for" in w for w in report["warnings"])
    assert _check(root, "--platform", "windows", "--strict", "--no-usage")[0] == 2


def test_declared_python_from_setup_py(tmp_path: Path) -> None:
    root = tmp_path / "setup-py"
    shutil.copytree(PROJECTS / "setup-py", root)
    code, report, _ = _check(root, "--no-usage")
    assert code == 0
    (project,) = report["projects"]
    assert project["requires_python"] == ">=3.9"
    assert any(f["rule"] == "python/python-3.9-eol" for f in report["findings"])
    done = run_depwatch("check", "--no-usage", "--today", "2026-12-01", cwd=root)
    assert "Python >=3.9" in done.stdout
    assert "(setup.py python_requires)" in done.stdout
