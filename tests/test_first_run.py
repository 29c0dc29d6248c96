"""A first run as a user would make it (issue 16): the project found from any folder inside it,
the conventions of ruff and uv, run as a real process."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
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


# -- 5: baselines survive a version bump ------------------------------------------------------


def _yaml_project(tmp_path: Path, version: str, *, used: bool = True) -> Path:
    project = tmp_path / "app"
    project.mkdir(parents=True, exist_ok=True)
    (project / "pyproject.toml").write_text(
        '[project]\nname = "app"\nversion = "0"\nrequires-python = ">=3.10"\n'
        'dependencies = ["pyyaml"]\n'
    )
    (project / "requirements.txt").write_text(f"pyyaml=={version}\n")
    (project / "conf.py").write_text(
        "import yaml\n\nconfig = yaml.load(open('c.yml'))\n" if used else "import yaml\n"
    )
    return project


def _check_json(project: Path, *args: str) -> tuple[int, dict]:  # type: ignore[type-arg]
    done = run_depwatch("check", "--format", "json", *args, cwd=project)
    assert "Traceback" not in done.stderr, done.stderr
    return done.returncode, json.loads(done.stdout)


RULE = "pyyaml/load-requires-loader"


@pytest.mark.slow
def test_a_baseline_entry_holds_across_a_version_bump(tmp_path: Path) -> None:
    project = _yaml_project(tmp_path, "6.0.2")
    assert run_depwatch("check", cwd=project).returncode == 1
    wrote = run_depwatch("baseline", "write", "base.json", cwd=project)
    assert wrote.returncode == 0, wrote.stderr
    for version in ("6.0.1", "6.0.3"):  # down and up, still inside the affected range
        (project / "requirements.txt").write_text(f"pyyaml=={version}\n")
        code, report = _check_json(project, "--baseline", "base.json")
        assert code == 0, report["findings"]
        assert (RULE, version) in {(s["rule"], s["version"]) for s in report["suppressed"]}


def test_a_baseline_entry_does_not_hold_a_tag_that_rose(tmp_path: Path) -> None:
    project = _yaml_project(tmp_path, "6.0.2", used=False)  # monitor: nothing uses it
    assert run_depwatch("baseline", "write", "base.json", cwd=project).returncode == 0
    (project / "conf.py").write_text("import yaml\n\nconfig = yaml.load(open('c.yml'))\n")
    code, report = _check_json(project, "--baseline", "base.json")
    assert code == 1
    assert [(f["rule"], f["tag"]) for f in report["findings"]] == [(RULE, "immediate")]
    assert all(f["package"] == "pyyaml" for f in report["findings"])


def test_a_baseline_of_the_first_format_still_reads(tmp_path: Path) -> None:
    project = _yaml_project(tmp_path, "6.0.3")
    (project / "base.json").write_text(
        json.dumps(
            {
                "schema_version": 1,
                "findings": [
                    {
                        "project": ".",
                        "rule": RULE,
                        "package": "pyyaml",
                        "version": "6.0.2",
                        "tag": "immediate",
                    }
                ],
            }
        )
    )
    code, _ = _check_json(project, "--baseline", "base.json")
    assert code == 0


@pytest.mark.slow
def test_baselined_findings_are_a_count_and_a_list_with_verbose(tmp_path: Path) -> None:
    project = _yaml_project(tmp_path, "6.0.2")
    assert run_depwatch("baseline", "write", "base.json", cwd=project).returncode == 0
    table = run_depwatch("check", "--baseline", "base.json", cwd=project)
    assert table.returncode == 0
    _, report = _check_json(project, "--baseline", "base.json")
    n = len(report["suppressed"])  # JSON lists them all
    assert RULE in {s["rule"] for s in report["suppressed"]}
    assert f"Baselined: {n} finding{'s' if n > 1 else ''} recorded in the baseline " in table.stdout
    assert "(list them with --verbose)" in table.stdout
    assert RULE not in table.stdout
    verbose = run_depwatch("check", "--baseline", "base.json", "--verbose", cwd=project)
    assert RULE in verbose.stdout
    assert "Baselined:" not in verbose.stdout


@pytest.mark.slow
def test_baseline_write_takes_checks_selection_options(tmp_path: Path) -> None:
    project = _yaml_project(tmp_path, "6.0.2")
    for args, recorded in (
        ((), {(RULE, "immediate")}),
        (("--no-usage",), {(RULE, "monitor")}),
        (("--ignore", RULE), set()),
        (("--exclude", "conf.py"), {(RULE, "monitor")}),
        (("--platform", "linux", "--rules", str(tmp_path / "none")), None),
    ):
        done = run_depwatch("baseline", "write", "base.json", *args, cwd=project)
        if recorded is None:  # a --rules folder that does not exist is an error, as for check
            assert done.returncode == 2
            assert "Traceback" not in done.stderr
            continue
        assert done.returncode == 0, done.stderr
        doc = json.loads((project / "base.json").read_text())
        mine = {(e["rule"], e["tag"]) for e in doc["findings"] if e["package"] == "pyyaml"}
        assert mine == recorded, args
    (tmp_path / "own").mkdir()
    done = run_depwatch(
        "baseline", "write", "base.json", "--platform", "linux", "--rules", "../own", cwd=project
    )
    assert done.returncode == 0, done.stderr


# -- 12: a lock format that admits only PEP 440 versions -------------------------------------

_BAD = "not a version!!"
_LOCKS = {
    "uv.lock": (
        'version = 1\nrevision = 3\nrequires-python = ">=3.10"\n\n'
        '[[package]]\nname = "six"\nversion = "1.16.0"\n'
        'source = { registry = "https://pypi.org/simple" }\n\n'
        f'[[package]]\nname = "odd"\nversion = "{_BAD}"\n'
        'source = { registry = "https://pypi.org/simple" }\n',
        10,
        "package[1].version",
    ),
    "poetry.lock": (
        '[[package]]\nname = "six"\nversion = "1.16.0"\ndescription = ""\noptional = false\n'
        'python-versions = "*"\nfiles = []\n\n'
        f'[[package]]\nname = "odd"\nversion = "{_BAD}"\ndescription = ""\noptional = false\n'
        'python-versions = "*"\nfiles = []\n\n'
        '[metadata]\nlock-version = "2.1"\npython-versions = ">=3.10"\ncontent-hash = "0"\n',
        9,
        "package[1].version",
    ),
    "pdm.lock": (
        '[metadata]\ngroups = ["default"]\nstrategy = []\nlock_version = "4.5.0"\n'
        'content_hash = "sha256:0"\n\n'
        '[[package]]\nname = "six"\nversion = "1.16.0"\ngroups = ["default"]\n\n'
        f'[[package]]\nname = "odd"\nversion = "{_BAD}"\ngroups = ["default"]\n',
        12,
        "package[1].version",
    ),
    "pylock.toml": (
        'lock-version = "1.0"\ncreated-by = "hand"\n\n'
        '[[packages]]\nname = "six"\nversion = "1.16.0"\n'
        '[packages.archive]\nurl = "https://example.org/six-1.16.0.tar.gz"\n'
        f'hashes = {{ sha256 = "{"0" * 64}" }}\n\n'
        f'[[packages]]\nname = "odd"\nversion = "{_BAD}"\n'
        '[packages.archive]\nurl = "https://example.org/odd.tar.gz"\n'
        f'hashes = {{ sha256 = "{"0" * 64}" }}\n',
        11,
        "packages[1].version",
    ),
}


@pytest.mark.parametrize("name", sorted(_LOCKS))
def test_a_version_that_is_not_pep440_is_a_malformed_lock(tmp_path: Path, name: str) -> None:
    text, line, key = _LOCKS[name]
    (tmp_path / name).write_text(text)
    for command in ("check", "packages"):
        done = run_depwatch(command, cwd=tmp_path)
        assert done.returncode == 2, (command, done.stdout)
        (message,) = [m for m in done.stderr.splitlines() if m.startswith("depwatch: error:")]
        assert message.startswith(f"depwatch: error: {name}:{line}:"), message
        assert repr(_BAD) in message
        assert key in message
        assert "Traceback" not in done.stderr


def test_conda_keeps_its_own_versions_with_a_warning(tmp_path: Path) -> None:
    shutil.copy(
        FIXTURES / "lockfiles" / "conda" / "handmade" / "multi-platform.conda-lock.yml",
        tmp_path / "conda-lock.yml",
    )
    done = run_depwatch("packages", "--format", "json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    versions = {
        p["version"] for lock in json.loads(done.stdout)["lockfiles"] for p in lock["packages"]
    }
    assert "9e" in versions


# -- 11: requirements files read as pip reads them -------------------------------------------


def _pip_reads(path: Path, env: dict[str, str]) -> list[str]:
    """The requirement lines pip's own parser yields for ``path`` (pip is the reference)."""
    code = (
        "import sys\n"
        "from pip._internal.network.session import PipSession\n"
        "from pip._internal.req.req_file import parse_requirements\n"
        "for r in parse_requirements(sys.argv[1], session=PipSession()):\n"
        "    print(r.requirement)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(path)],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
    )
    if done.returncode != 0 and "ModuleNotFoundError" in done.stderr:
        pytest.skip("pip's requirements parser is not importable here")
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


def _packages(project: Path, env: dict[str, str] | None = None) -> dict[str, str | None]:
    done = run_depwatch("packages", "--format", "json", cwd=project, env=env)
    assert done.returncode == 0, done.stderr
    (lock,) = json.loads(done.stdout)["lockfiles"]
    return {p["name"]: p["version"] for p in lock["packages"]}


@pytest.mark.slow
def test_requirements_expand_environment_variables_as_pip_does(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("six==${SIX_VERSION}\nidna==3.7\n")
    env = {"SIX_VERSION": "1.16.0"}
    assert _pip_reads(tmp_path / "requirements.txt", env)[0] == "six==1.16.0"
    assert _packages(tmp_path, env) == {"six": "1.16.0", "idna": "3.7"}
    unset = run_depwatch("check", cwd=tmp_path, env={"SIX_VERSION": ""})
    assert unset.returncode == 2
    assert "requirements.txt:1: uses ${SIX_VERSION}, which is not set in the environment" in (
        unset.stderr
    )
    assert "Traceback" not in unset.stderr


def test_a_wheel_url_carries_its_version_in_the_file_name(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text(
        "six @ https://files.example.org/packages/six-1.16.0-py2.py3-none-any.whl\n"
        "./wheels/attrs-24.2.0-py3-none-any.whl\n"
        "other @ https://files.example.org/packages/six-1.16.0-py2.py3-none-any.whl\n"
    )
    got = _packages(tmp_path)
    assert got["six"] == "1.16.0"
    assert got["attrs"] == "24.2.0"
    assert got["other"] is None  # a file name of another package says nothing about this one


def test_a_continued_line_drops_every_trailing_backslash_as_pip_does(tmp_path: Path) -> None:
    path = tmp_path / "requirements.txt"
    path.write_text("bar == 4.5\\\\\n.6\nsix==1.16\\\n.0\n")
    assert [line.replace(" ", "") for line in _pip_reads(path, {})] == ["bar==4.5.6", "six==1.16.0"]
    assert _packages(tmp_path) == {"bar": "4.5.6", "six": "1.16.0"}


# -- 10: git says what it ignores -------------------------------------------------------------


@needs_git
def test_a_file_excluded_by_core_excludes_file_is_not_evidence(tmp_path: Path) -> None:
    project = _yaml_project(tmp_path, "6.0.2", used=False)
    (project / "scratch_conf.py").write_text("import yaml\n\nyaml.load(open('c.yml'))\n")
    (project / "tracked.py").write_text("import yaml\n")
    subprocess.run(["git", "init", "-q"], cwd=project, check=True)
    excludes = tmp_path / "global-excludes"
    excludes.write_text("scratch_*.py\n")
    subprocess.run(["git", "config", "core.excludesFile", str(excludes)], cwd=project, check=True)
    code, report = _check_json(project)
    assert code == 0  # the only use is in a file git ignores
    assert [f["tag"] for f in report["findings"] if f["rule"] == RULE] == ["monitor"]
    # A tracked file that matches an ignore rule is the project's code: git lists it.
    subprocess.run(["git", "add", "-f", "scratch_conf.py"], cwd=project, check=True)
    code, report = _check_json(project)
    assert code == 1
    (finding,) = [f for f in report["findings"] if f["rule"] == RULE]
    assert [e["path"] for e in finding["evidence"]] == ["scratch_conf.py"]


# -- 6: output conventions --------------------------------------------------------------------


@pytest.mark.slow
def test_quiet_prints_the_findings_only(tmp_path: Path) -> None:
    project = _yaml_project(tmp_path, "6.0.2")
    full = run_depwatch("check", cwd=project)
    quiet = run_depwatch("check", "-q", cwd=project)
    assert quiet.returncode == full.returncode == 1
    assert quiet.stdout.startswith("IMMEDIATE (1)")
    assert RULE in quiet.stdout
    assert "Project" not in quiet.stdout  # no header
    assert full.stdout.splitlines()[-1] not in quiet.stdout  # no summary line
    assert quiet.stdout.strip() in full.stdout.replace("\n\n", "\n") or all(
        line in full.stdout for line in quiet.stdout.splitlines()
    )
    clean = tmp_path / "clean"
    clean.mkdir()
    (clean / "requirements.txt").write_text("six==1.17.0\n")
    assert "Warnings" in run_depwatch("check", cwd=clean).stdout  # no declared Python
    done = run_depwatch("check", "-q", cwd=clean)
    assert (done.returncode, done.stdout) == (0, "")


def test_short_version_flag() -> None:
    for flag in ("-V", "--version"):
        done = run_depwatch(flag)
        assert done.returncode == 0
        assert done.stdout.startswith("depwatch ")
    # Not only the fast path: beside another global option, typer answers it.
    done = run_depwatch("--color", "never", "-V")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("depwatch ")


@pytest.mark.slow
def test_color_auto_always_never(tmp_path: Path) -> None:
    project = _yaml_project(tmp_path, "6.0.2")
    piped = run_depwatch("check", cwd=project, env={"NO_COLOR": ""})
    assert "\x1b[" not in piped.stdout  # auto: not a terminal, no colour
    always = run_depwatch("check", "--color", "always", cwd=project)
    assert "\x1b[" in always.stdout  # over NO_COLOR=1 (run_depwatch sets it)
    glob = run_depwatch("--color", "always", "check", cwd=project)
    assert "\x1b[" in glob.stdout
    forced = run_depwatch("check", cwd=project, env={"NO_COLOR": "", "FORCE_COLOR": "1"})
    assert "\x1b[" in forced.stdout  # rich reads FORCE_COLOR
    never = run_depwatch(
        "check", "--color", "never", cwd=project, env={"NO_COLOR": "", "FORCE_COLOR": "1"}
    )
    assert "\x1b[" not in never.stdout
    bad = run_depwatch("check", "--color", "sometimes", cwd=project)
    assert bad.returncode == 2


@pytest.mark.slow
def test_width_comes_from_columns(tmp_path: Path) -> None:
    for columns in (60, 80, 140):
        listed = run_depwatch("rules", "list", env={"COLUMNS": str(columns)})
        assert listed.returncode == 0
        assert max(len(line) for line in listed.stdout.splitlines()) <= columns


@pytest.mark.slow
def test_rules_list_below_100_columns_wraps_words_not_cuts_them() -> None:
    rules = json.loads(run_depwatch("rules", "list", "--format", "json").stdout)["rules"]
    for columns in (80, 60):
        text = run_depwatch("rules", "list", env={"COLUMNS": str(columns)}).stdout
        words = " ".join(text.split())
        for rule in rules:
            assert rule["id"] in text.split(), (columns, rule["id"])  # never cut
            title = " ".join(rule["title"].split())
            if max(len(w) for w in title.split()) < columns - 4:
                assert title in words, (columns, rule["id"])


def test_rules_list_of_one_package() -> None:
    done = run_depwatch("rules", "list", "PyYAML", "--format", "json")
    assert done.returncode == 0, done.stderr
    assert {r["package"] for r in json.loads(done.stdout)["rules"]} == {"pyyaml"}
    none = run_depwatch("rules", "list", "no-such-package")
    assert none.returncode == 0
    assert "0 rule(s)" in none.stdout


def test_help_is_whole_and_shows_plain_metavars() -> None:
    top = run_depwatch("--help", env={"COLUMNS": "80"})
    assert "..." not in top.stdout.split("Commands:")[1]  # nothing cut
    assert "--install-completion" in top.stdout  # typer's shell completion
    assert "--color" in top.stdout
    for command in (["rules"], ["baseline"]):
        sub = run_depwatch(*command, "--help", env={"COLUMNS": "80"})
        assert "..." not in sub.stdout.split("Commands:")[1], sub.stdout
    for command, usage in (
        (["rules", "show"], "Usage: depwatch rules show [OPTIONS] RULE_ID"),
        (["baseline", "write"], "Usage: depwatch baseline write [OPTIONS] FILE [PATH...]"),
        (["check"], "Usage: depwatch check [OPTIONS] [PATH...]"),
        (["rules", "list"], "Usage: depwatch rules list [OPTIONS] [PACKAGE]"),
    ):
        done = run_depwatch(*command, "--help")
        assert done.stdout.startswith(usage), done.stdout
        assert "{" not in done.stdout.splitlines()[0]


def test_shell_completion_script() -> None:
    done = run_depwatch("--show-completion", "bash", env={"SHELL": "/bin/bash"})
    assert done.returncode == 0, done.stderr
    assert "_DEPWATCH_COMPLETE" in done.stdout


# -- 13: the repository's own files ----------------------------------------------------------


def test_the_rule_guide_in_contributing_works_as_written(tmp_path: Path) -> None:
    guide = (REPO / "CONTRIBUTING.md").read_text()
    rule = re.search(r"```toml\n(package = \"pandas\".*?)```", guide, re.DOTALL)
    assert rule is not None
    folder = tmp_path / "ci" / "depwatch-rules" / "pandas"
    folder.mkdir(parents=True)
    (folder / "dataframe-append-removed.toml").write_text(rule.group(1))
    checked = run_depwatch("rules", "check", "ci/depwatch-rules", cwd=tmp_path)
    assert checked.returncode == 0, checked.stderr
    assert checked.stdout == "1 rule(s) valid in ci/depwatch-rules\n"
    project = tmp_path / "try"
    project.mkdir()
    (project / "app.py").write_text(
        'import pandas as pd\ndf = pd.DataFrame()\ndf = df.append({"a": 2})\n'
    )
    own = "pandas/dataframe-append-removed"
    for version, tag in (("2.2.3", "immediate"), ("1.5.3", "plan")):
        (project / "requirements.txt").write_text(f"pandas=={version}\n")
        done = run_depwatch(
            "check",
            "--rules",
            "../ci/depwatch-rules",
            "--python",
            "3.12",
            "--format",
            "json",
            cwd=project,
        )
        (finding,) = [f for f in json.loads(done.stdout)["findings"] if f["rule"] == own]
        assert finding["tag"] == tag
        assert [(e["path"], e["line"]) for e in finding["evidence"]] == [("app.py", 3)]


def test_the_repository_files() -> None:
    license_text = (REPO / "LICENSE").read_text()
    assert "Apache License" in license_text
    assert "Version 2.0, January 2004" in license_text
    assert "END OF TERMS AND CONDITIONS" in license_text
    import tomllib

    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert project["name"] == "depwatch-audit"
    assert {"Homepage", "Source", "Issues", "Changelog"} <= set(project["urls"])
    assert project["scripts"] == {"depwatch": "depwatch.__main__:main"}
    assert project["optional-dependencies"]["vulns"] == ["pip-audit>=2.10"]
    assert not [d for d in project["dependencies"] if d.startswith("pip-audit")]
    readme = (REPO / "README.md").read_text()
    installs = re.findall(r"(?:pipx|pip|uv tool) install [^\n`]+", readme)
    assert installs
    named = [line for line in installs if "depwatch" in line.replace(".venv/bin/depwatch", "")]
    assert named
    for line in named:  # every install line that names depwatch names this distribution
        assert "depwatch-audit" in line, line
