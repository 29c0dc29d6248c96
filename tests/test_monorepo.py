"""``check --recursive``: every project below a folder, a workspace once, decoys skipped, a
malformed project reported with exit 2 while the others are still audited."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from depwatch.errors import DepwatchError
from depwatch.monorepo import find_projects
from tests.conftest import FIXTURES, run_depwatch

LOCKS = FIXTURES / "lockfiles"
GENAI = FIXTURES / "projects" / "genai-app"


@pytest.fixture
def monorepo(tmp_path: Path) -> Path:
    """A repository with a uv workspace, a poetry project, a uv project with an immediate
    finding, a malformed lock, and lockfiles in places that are not projects."""
    root = tmp_path / "repo"
    root.mkdir()
    shutil.copytree(LOCKS / "uv" / "workspace", root / "ws")
    # A member's own requirements file is still the workspace's: counted once, at the root.
    (root / "ws" / "packages" / "alpha" / "requirements.txt").write_text("six==1.16.0\n")
    shutil.copytree(LOCKS / "poetry" / "app", root / "services" / "poet")
    shutil.copytree(GENAI, root / "services" / "genai")
    (root / "broken").mkdir()
    (root / "broken" / "uv.lock").write_text("version = 1\n[[package]]\nname = 3\n")
    for decoy in (".venv/lib", "node_modules/x", "build/y", "ignored/z", "env-like"):
        (root / decoy).mkdir(parents=True)
        shutil.copy(GENAI / "uv.lock", root / decoy / "uv.lock")
    (root / "env-like" / "pyvenv.cfg").write_text("home = /usr\n")
    (root / ".gitignore").write_text("ignored/\n")
    if shutil.which("git"):
        subprocess.run(["git", "init", "-q", str(root)], check=True)
    return root


def _rel(root: Path, folders: list[Path]) -> list[str]:
    return [f.relative_to(root).as_posix() for f in folders]


def test_finds_each_project_once_and_skips_decoys(monorepo: Path) -> None:
    if not shutil.which("git"):
        pytest.skip("git is not installed: git-ignored trees cannot be told")
    assert _rel(monorepo, find_projects(monorepo)) == [
        "broken",
        "services/genai",
        "services/poet",
        "ws",
    ]


def test_recursive_reports_every_project_and_exits_2_for_the_malformed_one(
    monorepo: Path,
) -> None:
    done = run_depwatch("check", ".", "--recursive", "-f", "json", "--no-usage", cwd=monorepo)
    assert done.returncode == 2, done.stderr
    assert "broken/uv.lock" in done.stderr
    assert "Traceback" not in done.stderr
    document = json.loads(done.stdout)
    roots = [p["root"] for p in document["projects"]]
    assert sorted(roots) == ["services/genai", "services/poet", "ws"]
    projects = {f["project"] for f in document["findings"]}
    assert {"services/genai", "services/poet", "ws"} <= projects
    assert any("broken/uv.lock" in w for w in document["warnings"])
    # Each project's findings are those of its own check.
    alone = run_depwatch(
        "check", "services/genai", "-f", "json", "--no-usage", cwd=monorepo
    )  # fmt: skip
    mine = [f for f in document["findings"] if f["project"] == "services/genai"]
    assert mine == json.loads(alone.stdout)["findings"]


def test_exit_code_is_the_highest_of_the_projects(monorepo: Path) -> None:
    shutil.rmtree(monorepo / "broken")
    done = run_depwatch("check", ".", "-r", "-f", "sarif", cwd=monorepo)
    assert done.returncode == 1, done.stderr  # services/genai's code hits an immediate rule
    results = json.loads(done.stdout)["runs"][0]["results"]
    texts = [r["message"]["text"] for r in results]
    assert any("(project services/genai)" in t for t in texts)
    assert any("(project ws)" in t for t in texts)
    markdown = run_depwatch("check", ".", "-r", "--no-usage", "-f", "markdown", cwd=monorepo)
    assert "<br>in services/genai" in markdown.stdout


def test_projects_listed_in_pyproject(monorepo: Path) -> None:
    (monorepo / "pyproject.toml").write_text(
        '[tool.depwatch]\nprojects = ["ws", "services/poet"]\n'
    )
    assert _rel(monorepo, find_projects(monorepo)) == ["ws", "services/poet"]
    done = run_depwatch("check", ".", "-r", "-f", "json", "--no-usage", cwd=monorepo)
    assert done.returncode == 0, done.stderr
    assert [p["root"] for p in json.loads(done.stdout)["projects"]] == ["ws", "services/poet"]


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("../elsewhere", "is not a folder below"),
        ("nowhere", "no such folder"),
        ("ws/packages", "holds no lockfile"),
    ],
)
def test_listed_projects_are_validated(monorepo: Path, entry: str, message: str) -> None:
    (monorepo / "pyproject.toml").write_text(f'[tool.depwatch]\nprojects = ["{entry}"]\n')
    with pytest.raises(DepwatchError, match=message) as caught:
        find_projects(monorepo)
    assert caught.value.key == "tool.depwatch.projects[0]"
    done = run_depwatch("check", ".", "-r", cwd=monorepo)
    assert done.returncode == 2
    assert "tool.depwatch.projects[0]" in done.stderr


def test_recursive_needs_a_folder_with_projects(tmp_path: Path) -> None:
    done = run_depwatch("check", ".", "--recursive", cwd=tmp_path)
    assert done.returncode == 2
    assert "no project with a lockfile found below" in done.stderr
