"""``depwatch check --online`` with API changes from the released wheels: the real CLI in a
real process, a uv.lock made by uv against a local index that serves wheels with ranges."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from test_check import PROJECT_CODE, RELEASES, _serve
from wheel_server import WheelIndex

from ..conftest import run_depwatch

UV = shutil.which("uv") or next(
    (str(p) for p in [Path(sys.executable).parent / "uv"] if p.is_file()), None
)


def _locked_project(root: Path, index: WheelIndex, version: str) -> Path:
    if UV is None:
        pytest.skip("uv is not installed")
    root.mkdir(parents=True)
    (root / "pyproject.toml").write_text(
        f'[project]\nname = "app"\nversion = "0"\nrequires-python = ">=3.10"\n'
        f'dependencies = ["demolib=={version}"]\n'
    )
    (root / "app.py").write_text(PROJECT_CODE)
    done = subprocess.run(
        [UV, "lock", "--default-index", index.url, "--no-cache"],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return root


def _check(root: Path, tmp_path: Path, *args: str) -> tuple[int, dict]:  # type: ignore[type-arg]
    done = run_depwatch(
        "check",
        *args,
        "--format",
        "json",
        cwd=root,
        env={"DEPWATCH_CACHE_DIR": str(tmp_path / "c")},
    )
    assert "Traceback" not in done.stderr, done.stderr
    return done.returncode, json.loads(done.stdout)


@pytest.mark.slow
def test_check_online_reports_wheel_changes_with_origin_and_confidence(
    wheel_index: WheelIndex, tmp_path: Path
) -> None:
    _serve(wheel_index, RELEASES)
    root = _locked_project(tmp_path / "p", wheel_index, "2.0")
    hits_before = sum(wheel_index.hits.values())
    code, offline = _check(root, tmp_path)
    assert sum(wheel_index.hits.values()) == hits_before  # no --online: no request
    assert not [f for f in offline["findings"] if f["origin"] == "wheels"]

    code, doc = _check(root, tmp_path, "--online", "--index-url", wheel_index.url)
    wheels = {f["rule"]: f for f in doc["findings"] if f["origin"] == "wheels"}
    removed = wheels["wheels/demolib/demolib.old_func"]
    assert removed["tag"] == "immediate"
    assert removed["confidence"] == "static"
    assert removed["version"] == "2.0"
    assert removed["lockfiles"] == ["uv.lock"]
    assert [(e["path"], e["line"]) for e in removed["evidence"]] == [("app.py", 4)]
    assert code == 1  # immediate fails the default gate
    assert doc["not_checked"] == []
    # the rule's text is there for SARIF and `show`
    assert (
        "wheels/demolib/demolib.old_func"
        in run_depwatch(
            "check",
            "--online",
            "--index-url",
            wheel_index.url,
            "--format",
            "sarif",
            cwd=root,
            env={"DEPWATCH_CACHE_DIR": str(tmp_path / "c")},
        ).stdout
    )


@pytest.mark.slow
def test_check_online_plan_before_the_upgrade(wheel_index: WheelIndex, tmp_path: Path) -> None:
    _serve(wheel_index, RELEASES)
    root = _locked_project(tmp_path / "p", wheel_index, "1.1")
    code, doc = _check(root, tmp_path, "--online", "--index-url", wheel_index.url)
    wheels = {f["rule"]: f for f in doc["findings"] if f["origin"] == "wheels"}
    assert {f["tag"] for f in wheels.values()} == {"plan"}
    escape = wheels["wheels/demolib/demolib.escape"]
    assert escape["confidence"] == "static+deprecation"
    assert "markupsafe.escape" in escape["title"]
    assert code == 0


def test_a_wheel_that_cannot_be_read_is_not_checked_and_strict_fails(
    wheel_index: WheelIndex, tmp_path: Path
) -> None:
    _serve(wheel_index, {"2.0": RELEASES["2.0"]})
    root = _locked_project(tmp_path / "p", wheel_index, "2.0")
    # the host now serves something that is no zip under the wheel's name
    for files in wheel_index.files.values():
        for f in files:
            f.data = b"not a zip" * 100
    code, doc = _check(root, tmp_path, "--online", "--index-url", wheel_index.url)
    assert [(n["package"], n["version"]) for n in doc["not_checked"]] == [("demolib", "2.0")]
    assert "not a zip" in doc["not_checked"][0]["reason"]
    assert code == 0
    code, _ = _check(root, tmp_path, "--online", "--strict", "--index-url", wheel_index.url)
    assert code == 2


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_since_a_bump_that_breaks_the_code_is_immediate(
    wheel_index: WheelIndex, tmp_path: Path
) -> None:
    _serve(wheel_index, RELEASES)
    root = _locked_project(tmp_path / "p", wheel_index, "1.1")

    def git(*args: str) -> None:
        subprocess.run(
            ["git", "-c", "user.name=t", "-c", "user.email=t@example.org", *args],
            cwd=root,
            check=True,
            capture_output=True,
        )

    git("init", "-q")
    git("add", ".")
    git("commit", "-q", "-m", "lock 1.1")
    (root / "pyproject.toml").write_text(
        (root / "pyproject.toml").read_text().replace("demolib==1.1", "demolib==2.0")
    )
    assert UV is not None
    subprocess.run(
        [UV, "lock", "--default-index", wheel_index.url, "--no-cache"],
        cwd=root,
        check=True,
        capture_output=True,
    )
    code, doc = _check(
        root, tmp_path, "--online", "--index-url", wheel_index.url, "--since", "HEAD"
    )
    new = {f["rule"]: f["tag"] for f in doc["findings"] if f["origin"] == "wheels"}
    assert new["wheels/demolib/demolib.old_func"] == "immediate"
    assert new["wheels/demolib/demolib.fetch(legacy=)"] == "immediate"
    assert code == 1
    # the version locked before the change is the release the break is measured from
    title = next(f["title"] for f in doc["findings"] if f["rule"].endswith("old_func"))
    assert "demolib 1.1 had it" in title
