"""A lockfile's own recorded index: uv.lock made by the real uv against the local index."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from server import IndexServer, Project, Release

from ..conftest import run_depwatch


def _uv_lock(root: Path, index: IndexServer, tmp_path: Path) -> str:
    uv = shutil.which("uv") or str(Path(os.sys.executable).parent / "uv")  # type: ignore[attr-defined]
    if not Path(uv).exists():
        pytest.skip("uv is not installed")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("UV_", "PIP_"))} | {
        "UV_CACHE_DIR": str(tmp_path / "uv-cache"),
        "UV_PYTHON_DOWNLOADS": "never",
    }
    done = subprocess.run(
        [uv, "lock", "--index-url", index.url, "--no-progress"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if done.returncode != 0:
        pytest.fail(f"uv lock failed: {done.stderr}")
    return (root / "uv.lock").read_text()


def test_uv_lock_recorded_index_is_asked(index: IndexServer, tmp_path: Path) -> None:
    index.add(
        Project(
            "alpha",
            [Release("1.0", ">=3.8"), Release("1.1", ">=3.8", yanked="use 1.2"), Release("1.2")],
        ),
        real=True,
    )
    index.add(Project("beta", [Release("1.0", ">=3.8"), Release("2.0", ">=3.10")]), real=True)
    root = tmp_path / "p"
    root.mkdir()
    (root / "pyproject.toml").write_text(
        '[project]\nname = "demo"\nversion = "0"\nrequires-python = ">=3.9"\n'
        "dependencies = [\n"
        '  "alpha==1.1",\n'
        "  \"beta==1.0; python_version < '3.10'\",\n"
        "  \"beta==2.0; python_version >= '3.10'\",\n"
        "]\n"
    )
    lock = _uv_lock(root, index, tmp_path)
    assert index.url.rstrip("/") in lock
    hits_before = sum(index.hits.values())
    done = run_depwatch(
        "check", "--online", "-f", "json", cwd=root, env={"DEPWATCH_CACHE_DIR": str(tmp_path / "c")}
    )
    assert done.returncode == 1, done.stderr
    doc = json.loads(done.stdout)
    assert sum(index.hits.values()) > hits_before  # the lock's index, not PyPI, was asked
    assert doc["not_checked"] == []
    index_findings = [(f["rule"], f["package"]) for f in doc["findings"] if f["origin"] == "index"]
    # alpha 1.1 is yanked; beta is split by Python in the lock, which is correct: nothing.
    assert index_findings == [("index/yanked", "alpha")]
    assert {(f["package"], f["version"]) for f in doc["index"]} == {
        ("alpha", "1.1"),
        ("beta", "1.0"),
        ("beta", "2.0"),
    }
    assert {f["index"] for f in doc["index"]} == {index.url}
