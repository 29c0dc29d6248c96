"""A first run as a user would make it (issue 16): the project found from any folder inside it,
the conventions of ruff and uv, run as a real process."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from .conftest import FIXTURES, REPO, run_depwatch

PROJECTS = FIXTURES / "projects"
needs_git = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


def _git_project(tmp_path: Path, name: str = "genai-app") -> Path:
    repo = tmp_path / "repo"
    shutil.copytree(PROJECTS / name, repo)
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    return repo


# -- 2: the project is found upward -----------------------------------------------------------


@needs_git
def test_check_from_a_subfolder_finds_the_project_upward(tmp_path: Path) -> None:
    repo = _git_project(tmp_path)
    inside = repo / "voice_bot"
    done = run_depwatch("check", "--format", "json", cwd=inside)
    assert done.returncode == 1, done.stderr
    report = json.loads(done.stdout)
    (project,) = report["projects"]
    # Shown as display_path shows a folder above the working one: in full.
    assert Path(project["root"]).resolve() == repo.resolve()
    (finding,) = [
        f for f in report["findings"] if f["rule"] == "google-genai/response-format-wire-names"
    ]
    assert finding["tag"] == "immediate"
    assert {e["path"] for e in finding["evidence"]} == {"voice_bot/speak.py"}
    # The same answer as from the top folder.
    top = json.loads(run_depwatch("check", "--format", "json", cwd=repo).stdout)
    assert [(f["rule"], f["tag"], f["evidence"]) for f in top["findings"]] == [
        (f["rule"], f["tag"], f["evidence"]) for f in report["findings"]
    ]


@needs_git
def test_packages_and_baseline_from_a_subfolder(tmp_path: Path) -> None:
    repo = _git_project(tmp_path)
    listed = run_depwatch("packages", "--format", "json", cwd=repo / "voice_bot")
    assert listed.returncode == 0, listed.stderr
    assert json.loads(listed.stdout)["lockfiles"][0]["path"] == "uv.lock"
    wrote = run_depwatch("baseline", "write", "../base.json", cwd=repo / "voice_bot")
    assert wrote.returncode == 0, wrote.stderr
    again = run_depwatch("check", "--baseline", "base.json", cwd=repo)
    assert again.returncode == 0, again.stdout


@needs_git
def test_rules_list_in_a_subfolder_reads_the_projects_rule_folders(tmp_path: Path) -> None:
    repo = _git_project(tmp_path)
    shutil.copytree(REPO / "rules" / "pyyaml", repo / "ci" / "rules" / "pyyaml")
    source = repo / "ci" / "rules" / "pyyaml" / "load-requires-loader.toml"
    source.rename(source.with_name("ours.toml"))
    pyproject = repo / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + '\n[tool.depwatch]\nrules = ["ci/rules"]\n')
    listed = run_depwatch("rules", "list", "--format", "json", cwd=repo / "voice_bot")
    assert listed.returncode == 0, listed.stderr
    assert "pyyaml/ours" in {rule["id"] for rule in json.loads(listed.stdout)["rules"]}
    shown = run_depwatch("rules", "show", "pyyaml/ours", cwd=repo / "voice_bot")
    assert shown.returncode == 0, shown.stderr


@needs_git
def test_a_workspace_member_without_a_lock_uses_the_workspace_lock(tmp_path: Path) -> None:
    repo = _git_project(tmp_path)
    member = repo / "packages" / "member"
    member.mkdir(parents=True)
    (member / "pyproject.toml").write_text('[project]\nname = "member"\nversion = "0"\n')
    done = run_depwatch("packages", "--format", "json", cwd=member)
    assert done.returncode == 0, done.stderr
    assert Path(json.loads(done.stdout)["lockfiles"][0]["project"]).resolve() == repo.resolve()


@needs_git
def test_the_search_stops_at_the_repository_top(tmp_path: Path) -> None:
    shutil.copy(PROJECTS / "genai-app" / "uv.lock", tmp_path / "uv.lock")
    repo = tmp_path / "inner"
    (repo / "src").mkdir(parents=True)
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    done = run_depwatch("check", cwd=repo / "src")
    assert done.returncode == 2
    assert "no lockfile found in ." in done.stderr


def test_a_named_folder_is_still_read_as_named(tmp_path: Path) -> None:
    project = tmp_path / "p"
    shutil.copytree(PROJECTS / "genai-app", project)
    done = run_depwatch("check", "voice_bot", cwd=project)
    assert done.returncode == 2
    assert "no lockfile found in voice_bot" in done.stderr
