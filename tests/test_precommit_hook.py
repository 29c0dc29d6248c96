"""The published pre-commit hook, installed and run by the real pre-commit (``try-repo``)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import FIXTURES, REPO

pytestmark = pytest.mark.slow

PRE_COMMIT = shutil.which("pre-commit") or str(Path(sys.executable).parent / "pre-commit")


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "PRE_COMMIT"))}
    env.update(
        PRE_COMMIT_HOME=str(home),
        GIT_AUTHOR_NAME="t",
        GIT_AUTHOR_EMAIL="t@example.org",
        GIT_COMMITTER_NAME="t",
        GIT_COMMITTER_EMAIL="t@example.org",
        NO_COLOR="1",
    )
    return env


@pytest.fixture(scope="module")
def hook_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not Path(PRE_COMMIT).exists():
        pytest.skip("pre-commit is not installed (it is in the test dependency group)")
    if not (REPO / ".git").exists():
        pytest.skip("try-repo needs the depwatch checkout to be a git repository")
    return tmp_path_factory.mktemp("pre-commit-home")


def _repo(tmp_path: Path, project: str | None) -> Path:
    repo = tmp_path / "repo"
    if project:
        shutil.copytree(FIXTURES / "projects" / project, repo)
    else:
        repo.mkdir()
        (repo / "pyproject.toml").write_text('[project]\nname = "empty"\nversion = "0"\n')
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    subprocess.run(["git", "add", "-A"], cwd=repo, check=True)
    subprocess.run(["git", "commit", "-qm", "init"], cwd=repo, check=True, env=_env(tmp_path))
    return repo


def _try_repo(
    repo: Path, home: Path, *files: str, hook: str = "depwatch"
) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [PRE_COMMIT, "try-repo", str(REPO), hook, "--files", *files],
        cwd=repo,
        env=_env(home),
        capture_output=True,
        text=True,
        timeout=900,
    )
    if done.returncode == 3:  # pre-commit's "unexpected error": the hook could not install
        pytest.skip(f"pre-commit could not install the hook here: {done.stdout[-500:]}")
    return done


def test_hook_fails_on_an_immediate_action(tmp_path: Path, hook_home: Path) -> None:
    done = _try_repo(_repo(tmp_path, "genai-app"), hook_home, "uv.lock")
    assert done.returncode == 1, done.stdout
    assert "google-genai/response-format-wire-names" in done.stdout
    assert "Failed" in done.stdout


def test_hook_passes_when_nothing_is_immediate(tmp_path: Path, hook_home: Path) -> None:
    done = _try_repo(_repo(tmp_path, "genai-plain"), hook_home, "uv.lock", "pyproject.toml")
    assert done.returncode == 0, done.stdout
    assert "Passed" in done.stdout


def test_hook_passes_quietly_without_a_lockfile(tmp_path: Path, hook_home: Path) -> None:
    done = _try_repo(_repo(tmp_path, None), hook_home, "pyproject.toml")
    assert done.returncode == 0, done.stdout
    assert "Passed" in done.stdout


def test_hook_checks_a_change_to_python_code(tmp_path: Path, hook_home: Path) -> None:
    # Evidence lives in the code: a commit that only touches speak.py is checked.
    done = _try_repo(_repo(tmp_path, "genai-app"), hook_home, "voice_bot/speak.py")
    assert done.returncode == 1, done.stdout
    assert "google-genai/response-format-wire-names" in done.stdout


def test_hook_finds_the_project_of_a_changed_file_in_a_subfolder(
    tmp_path: Path, hook_home: Path
) -> None:
    repo = tmp_path / "repo"
    shutil.copytree(FIXTURES / "projects" / "genai-app", repo / "services" / "voice")
    (repo / "README.md").write_text("monorepo\n")
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    subprocess.run(["git", "add", "-A"], cwd=repo, check=True)
    done = _try_repo(repo, hook_home, "services/voice/voice_bot/speak.py")
    assert done.returncode == 1, done.stdout
    assert "google-genai/response-format-wire-names" in done.stdout


def test_hook_ignores_other_files(tmp_path: Path, hook_home: Path) -> None:
    repo = _repo(tmp_path, "genai-app")
    (repo / "notes.md").write_text("notes\n")
    done = _try_repo(repo, hook_home, "notes.md")
    assert done.returncode == 0, done.stdout
    assert "no files to check" in done.stdout


def test_rules_hook_skips_pyproject_and_checks_rule_folders(
    tmp_path: Path, hook_home: Path
) -> None:
    repo = _repo(tmp_path, None)  # pyproject.toml and no rules/ folder
    skipped = _try_repo(repo, hook_home, "pyproject.toml", hook="depwatch-rules")
    assert skipped.returncode == 0, skipped.stdout
    assert "no files to check" in skipped.stdout
    shutil.copytree(REPO / "rules" / "pyyaml", repo / "rules" / "pyyaml")
    bad = repo / "rules" / "pyyaml" / "broken.toml"
    bad.write_text('id = "x"\n')
    done = _try_repo(repo, hook_home, "rules/pyyaml/broken.toml", hook="depwatch-rules")
    assert done.returncode != 0, done.stdout
    assert "broken.toml" in done.stdout
    bad.unlink()
    done = _try_repo(
        repo, hook_home, "rules/pyyaml/load-requires-loader.toml", hook="depwatch-rules"
    )
    assert done.returncode == 0, done.stdout
    assert "rule(s) valid" in done.stdout or "Passed" in done.stdout
