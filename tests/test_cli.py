"""End to end: ``python -m depwatch`` on projects whose lockfiles the real uv wrote."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from depwatch import __version__

from .conftest import FIXTURES, REPO, run_depwatch

PROJECTS = FIXTURES / "projects"
WIRE = "google-genai/response-format-wire-names"


def _copy(name: str, tmp_path: Path) -> Path:
    dest = tmp_path / name
    shutil.copytree(PROJECTS / name, dest)
    return dest


def _json(*args: str, cwd: Path) -> tuple[int, dict]:  # type: ignore[type-arg]
    done = run_depwatch("check", "--format", "json", *args, cwd=cwd)
    assert "Traceback" not in done.stderr, done.stderr
    return done.returncode, json.loads(done.stdout)


def _by_rule(report: dict, rule: str) -> dict:  # type: ignore[type-arg]
    (finding,) = [f for f in report["findings"] if f["rule"] == rule]
    return finding


def test_version() -> None:
    done = run_depwatch("--version")
    assert (done.returncode, done.stdout) == (0, f"depwatch {__version__}\n")


def test_usage_makes_the_wire_name_rule_immediate(tmp_path: Path) -> None:
    project = _copy("genai-app", tmp_path)
    code, report = _json(cwd=project)
    assert code == 1
    finding = _by_rule(report, WIRE)
    assert (finding["tag"], finding["package"], finding["version"]) == (
        "immediate",
        "google-genai",
        "2.0.0",
    )
    assert finding["lockfiles"] == ["uv.lock"]
    paths = {(e["path"], e["code"]) for e in finding["evidence"]}
    assert ("voice_bot/speak.py", "response_format=audio,") in paths
    speak = (project / "voice_bot/speak.py").read_text().splitlines()
    for evidence in finding["evidence"]:
        line = (project / evidence["path"]).read_text().splitlines()[evidence["line"] - 1]
        assert line.strip() == evidence["code"]
        assert 1 <= evidence["column"] <= len(line)
    assert any("AudioResponseFormat" in e["code"] for e in finding["evidence"])
    # the evidence is every line of the project that builds or passes a response format, and
    # no other (chat.py uses google-genai too, but not response_format)
    uses = {
        number
        for number, line in enumerate(speak, 1)
        if "AudioResponseFormat(" in line or "response_format=" in line
    }
    assert sorted((e["path"], e["line"]) for e in finding["evidence"]) == [
        ("voice_bot/speak.py", number) for number in sorted(uses)
    ]
    tags = [f["tag"] for f in report["findings"]]
    assert report["summary"] == {tag: tags.count(tag) for tag in ("immediate", "plan", "monitor")}
    assert report["projects"][0]["requires_python"] == ">=3.10"
    assert report["projects"][0]["lockfiles"][0]["packages"] == 28


def test_without_the_usage_it_is_only_monitor(tmp_path: Path) -> None:
    project = _copy("genai-plain", tmp_path)
    code, report = _json(cwd=project)
    assert _by_rule(report, WIRE)["tag"] == "monitor"
    assert _by_rule(report, WIRE)["evidence"] == []
    assert code == 0


def test_no_usage_flag(tmp_path: Path) -> None:
    _, report = _json("--no-usage", cwd=_copy("genai-app", tmp_path))
    assert _by_rule(report, WIRE)["tag"] == "monitor"
    assert any("usage scan off" in w for w in report["warnings"])


def test_python_floor_crossed_by_a_compiled_lock(tmp_path: Path) -> None:
    code, report = _json(cwd=_copy("dtypes-compiled", tmp_path))
    floor = [f for f in report["findings"] if f["package"] == "db-dtypes"]
    assert [(f["tag"], f["targets"]) for f in floor] == [("immediate", ["3.9"])]
    assert code == 1


def test_forked_lock_is_correct_and_not_immediate(tmp_path: Path) -> None:
    code, report = _json(cwd=_copy("dtypes-fork", tmp_path))
    # 1.6.x for Python 3.9, 1.7+ elsewhere: the lock already splits db-dtypes by Python, so
    # neither entry asks for anything, and Python 3.9 holds nothing of it back.
    assert [f for f in report["findings"] if f["package"] == "db-dtypes"] == []
    held = [h["package"] for f in report["findings"] for h in f.get("held_back", [])]
    assert "db-dtypes" not in held
    assert code == 0


def test_python_flag_overrides_the_declared_range(tmp_path: Path) -> None:
    _, report = _json("--python", "3.12", cwd=_copy("dtypes-compiled", tmp_path))
    assert not [f for f in report["findings"] if f["package"] == "db-dtypes"]


def test_table_output_and_output_file(tmp_path: Path) -> None:
    project = _copy("genai-app", tmp_path)
    done = run_depwatch("check", "--format", "sarif", "--output", "out.sarif", cwd=project)
    assert done.returncode == 1
    assert WIRE in done.stdout  # the table still goes to the screen
    sarif = json.loads((project / "out.sarif").read_text())
    assert sarif["version"] == "2.1.0"


@pytest.mark.parametrize("fmt", ["table", "json", "sarif", "markdown", "github"])
def test_every_format_is_deterministic(tmp_path: Path, fmt: str) -> None:
    project = _copy("genai-app", tmp_path)
    first = run_depwatch("check", "--format", fmt, cwd=project)
    second = run_depwatch("check", "--format", fmt, cwd=project)
    assert first.returncode == second.returncode == 1
    assert first.stdout == second.stdout
    assert "google-genai" in first.stdout


def test_packages_json(tmp_path: Path) -> None:
    project = _copy("genai-app", tmp_path)
    done = run_depwatch("packages", "--format", "json", cwd=project)
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert doc["schema_version"] == 1
    (lock,) = doc["lockfiles"]
    assert (lock["path"], lock["format"], lock["project"]) == ("uv.lock", "uv", ".")
    genai = [p for p in lock["packages"] if p["name"] == "google-genai"]
    assert genai[0]["version"] == "2.0.0"
    assert genai[0]["direct"] is True
    assert set(genai[0]) == {"name", "version", "source", "markers", "groups", "direct"}


def test_lockfile_path_uses_its_project_root(tmp_path: Path) -> None:
    project = _copy("genai-app", tmp_path)
    done = run_depwatch("check", "--format", "json", str(project / "uv.lock"), cwd=tmp_path)
    report = json.loads(done.stdout)
    finding = _by_rule(report, WIRE)
    assert finding["project"] == "genai-app"
    assert finding["tag"] == "immediate"  # usage scanned from the root found upward


# -- bad input ---------------------------------------------------------------------------


def _error(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr
    assert done.stderr.startswith("depwatch: error: ")
    return done.stderr


def test_empty_folder_is_exit_2(tmp_path: Path) -> None:
    assert "no lockfile found" in _error(run_depwatch("check", cwd=tmp_path))


def test_hook_mode_passes_quietly_without_lockfile(tmp_path: Path) -> None:
    done = run_depwatch("check", cwd=tmp_path, env={"PRE_COMMIT": "1"})
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")


def test_malformed_lockfile_names_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "uv.lock").write_text('version = 1\n[[package]]\nname = "x"\nversion = \n')
    stderr = _error(run_depwatch("check", cwd=tmp_path))
    assert "uv.lock:4" in stderr


def test_unknown_config_key_is_exit_2(tmp_path: Path) -> None:
    project = _copy("genai-app", tmp_path)
    with (project / "pyproject.toml").open("a") as fh:
        fh.write('\n[tool.depwatch]\nfail_on = "plan"\n')
    assert "tool.depwatch.fail_on" in _error(run_depwatch("check", cwd=project))


def test_bad_flag_is_exit_2(tmp_path: Path) -> None:
    done = run_depwatch("check", "--fail-on", "sometimes", cwd=tmp_path)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr


def test_bad_rules_dir_is_exit_2(tmp_path: Path) -> None:
    project = _copy("genai-app", tmp_path)
    rules = tmp_path / "my-rules" / "google-genai"
    rules.mkdir(parents=True)
    (rules / "broken.toml").write_text('package = "google-genai"\naffected = "=>2"\n')
    stderr = _error(run_depwatch("check", "--rules", str(tmp_path / "my-rules"), cwd=project))
    assert "broken.toml" in stderr


# -- policy ------------------------------------------------------------------------------


def test_ignore_with_reason_and_stale_entries(tmp_path: Path) -> None:
    project = _copy("genai-app", tmp_path)
    with (project / "pyproject.toml").open("a") as fh:
        fh.write(
            f'\n[[tool.depwatch.ignore]]\nid = "{WIRE}"\npackage = "google-genai"\n'
            'versions = "==2.0.0"\nreason = "voice feature ships after the upgrade"\n'
            '\n[[tool.depwatch.ignore]]\nid = "numpy/never-matches"\nreason = "old"\n'
        )
    code, report = _json(cwd=project)
    assert not [f for f in report["findings"] if f["rule"] == WIRE]
    assert report["suppressed"][0]["reason"] == "voice feature ships after the upgrade"
    assert report["stale_ignores"] == ["numpy/never-matches"]
    assert code == 0
    assert run_depwatch("check", "--strict", cwd=project).returncode == 2


def test_expired_ignore_suppresses_no_more(tmp_path: Path) -> None:
    project = _copy("genai-app", tmp_path)
    with (project / "pyproject.toml").open("a") as fh:
        fh.write(f'\n[[tool.depwatch.ignore]]\nid = "{WIRE}"\nreason = "r"\nuntil = 2026-01-01\n')
    code, report = _json("--today", "2026-06-01", cwd=project)
    assert _by_rule(report, WIRE)["tag"] == "immediate"
    assert any("expired on 2026-01-01" in w for w in report["warnings"])
    assert code == 1


def test_baseline_write_then_check(tmp_path: Path) -> None:
    project = _copy("genai-app", tmp_path)
    done = run_depwatch("baseline", "write", "depwatch-baseline.json", cwd=project)
    assert done.returncode == 0, done.stderr
    code, report = _json("--baseline", "depwatch-baseline.json", cwd=project)
    assert code == 0
    assert report["findings"] == []
    assert any(s["rule"] == WIRE for s in report["suppressed"])
    # A moved line is not a new finding.
    speak = project / "voice_bot/speak.py"
    speak.write_text("\n\n# moved\n" + speak.read_text())
    assert (
        run_depwatch("check", "--baseline", "depwatch-baseline.json", cwd=project).returncode == 0
    )


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(
        ["git", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
        env={
            "GIT_AUTHOR_NAME": "t",
            "GIT_AUTHOR_EMAIL": "t@example.org",
            "GIT_COMMITTER_NAME": "t",
            "GIT_COMMITTER_EMAIL": "t@example.org",
            "PATH": "/usr/bin:/bin",
            "HOME": str(cwd),
        },
    )


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_since_reports_what_the_change_brings(tmp_path: Path) -> None:
    project = _copy("genai-app", tmp_path)
    lock = project / "uv.lock"
    good = lock.read_text().replace(
        'name = "google-genai"\nversion = "2.0.0"', 'name = "google-genai"\nversion = "2.0.1"'
    )
    assert good != lock.read_text()
    bad = lock.read_text()
    lock.write_text(good)
    _git(project, "init", "-q")
    _git(project, "add", "-A")
    _git(project, "commit", "-qm", "base")
    lock.write_text(bad)  # the change under review downgrades to the buggy release
    code, report = _json("--since", "HEAD", cwd=project)
    assert [f["rule"] for f in report["findings"] if f["tag"] == "immediate"] == [WIRE]
    assert report["resolved"] == []
    assert code == 1
    # The other way round: the change fixes it.
    _git(project, "commit", "-qam", "bad")
    lock.write_text(good)
    code, report = _json("--since", "HEAD", cwd=project)
    assert [f["rule"] for f in report["resolved"]] == [WIRE]
    assert not [f for f in report["findings"] if f["rule"] == WIRE]
    assert code == 0
    assert "no such revision" in _error(run_depwatch("check", "--since", "nope", cwd=project))


def test_since_outside_git_is_exit_2(tmp_path: Path) -> None:
    project = _copy("genai-app", tmp_path)
    assert "git repository" in _error(run_depwatch("check", "--since", "HEAD", cwd=project))


# -- rules -------------------------------------------------------------------------------


def test_rules_list_show_check() -> None:
    listed = run_depwatch("rules", "list", "--format", "json")
    assert listed.returncode == 0, listed.stderr
    ids = {r["id"] for r in json.loads(listed.stdout)["rules"]}
    assert WIRE in ids
    assert len(ids) >= 23
    shown = run_depwatch("rules", "show", WIRE)
    assert shown.returncode == 0
    assert "2.0.1" in shown.stdout
    assert run_depwatch("rules", "show", "nope/nothing").returncode == 2
    checked = run_depwatch("rules", "check")
    assert checked.returncode == 0, checked.stderr


def test_markers_follow_the_dependency_paths(tmp_path: Path) -> None:
    """A dev group uv restricts to >=3.10 pulls pytest 9: not immediate for a >=3.9 project."""
    project = _copy("group-python", tmp_path)
    done = run_depwatch("packages", "--format", "json", cwd=project)
    packages = {p["name"]: p for p in json.loads(done.stdout)["lockfiles"][0]["packages"]}
    assert packages["pytest"]["markers"] == "python_full_version >= '3.10'"
    assert packages["idna"]["markers"] is None
    code, report = _json(cwd=project)
    assert not [f for f in report["findings"] if f["kind"] == "python-drop"]
    assert code == 0


def test_real_lock_with_group_python_limits(shared: Path) -> None:
    """ruff's uv.lock declares >=3.7 but its dev tools are locked for >=3.12 only."""
    lock = shared / "corpus" / "lockfiles" / "uv" / "ruff"
    code, report = _json("--today", "2026-11-24", str(lock), cwd=lock)
    assert [f["rule"] for f in report["findings"] if f["tag"] == "immediate"] == []
    assert code == 0


def test_lockfile_that_is_a_directory(tmp_path: Path) -> None:
    (tmp_path / "uv.lock").mkdir()
    assert "is a directory" in _error(run_depwatch("check", cwd=tmp_path))
    assert "is a directory" in _error(run_depwatch("packages", "uv.lock", cwd=tmp_path))


def test_lockfile_symlink_loop(tmp_path: Path) -> None:
    (tmp_path / "poetry.lock").symlink_to(tmp_path / "poetry.lock")
    stderr = _error(run_depwatch("check", cwd=tmp_path))
    assert "poetry.lock" in stderr
    assert "loop" in stderr


@pytest.mark.parametrize(
    ("name", "content", "needle"),
    [
        ("uv.lock", b"\x00\x01\x02junk\xff", "binary"),
        ("poetry.lock", b'[[package]]\nname = "x"\nversion = 1\n', "version"),
        ("pdm.lock", b'package = "x"\n', "package"),
        ("Pipfile.lock", b'{"default": {"requests": {"version": "==2.0"}', "not valid JSON"),
        ("uv.lock", b'version = 1\n[[package]]\nname = "x', "uv.lock:3"),
        ("requirements.txt", b"-r missing.txt\n", "missing.txt"),
        ("conda-lock.yml", b"package: [\n", "conda-lock.yml"),
    ],
)
def test_bad_lockfiles_are_exit_2(tmp_path: Path, name: str, content: bytes, needle: str) -> None:
    (tmp_path / name).write_bytes(content)
    stderr = _error(run_depwatch("check", cwd=tmp_path))
    assert name in stderr
    assert needle in stderr


@pytest.mark.slow
def test_one_bad_source_file_never_sinks_the_audit(tmp_path: Path) -> None:
    project = _copy("genai-app", tmp_path)
    (project / "voice_bot" / "broken.py").write_text(
        "from google import genai\ndef f(:\n    print 'python 2'\n"
    )
    (project / "voice_bot" / "latin.py").write_bytes(b"# -*- coding: latin-1 -*-\nx = '\xe9'\n")
    code, report = _json(cwd=project)
    assert _by_rule(report, WIRE)["tag"] == "immediate"
    assert any("broken.py" in w for w in report["warnings"])
    assert code == 1
    assert run_depwatch("check", "--strict", cwd=project).returncode == 2


def test_uv_lock_and_its_export_give_one_finding_each(tmp_path: Path) -> None:
    uv = shutil.which("uv") or str(Path(sys.executable).parent / "uv")
    if not Path(uv).exists():
        pytest.skip("uv is not installed (it is in the test dependency group)")
    project = _copy("genai-app", tmp_path)
    subprocess.run(
        [
            uv,
            "export",
            "--frozen",
            "--no-hashes",
            "--format",
            "requirements-txt",
            "-q",
            "-o",
            "requirements.txt",
        ],
        cwd=project,
        check=True,
        capture_output=True,
    )
    _, report = _json(cwd=project)
    assert [lock["path"] for lock in report["projects"][0]["lockfiles"]] == [
        "requirements.txt",
        "uv.lock",
    ]
    finding = _by_rule(report, WIRE)  # exactly one
    assert finding["lockfiles"] == ["requirements.txt", "uv.lock"]


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_since_follows_includes_at_the_revision(tmp_path: Path) -> None:
    project = tmp_path / "report"
    (project / "requirements").mkdir(parents=True)
    (project / "pyproject.toml").write_text('[project]\nname = "r"\nrequires-python = ">=3.9"\n')
    (project / "requirements.txt").write_text("-r requirements/base.txt\n")
    base = project / "requirements" / "base.txt"
    base.write_text("db-dtypes==1.6.0\n")
    (project / "notes.txt").write_text("not a requirements file\n")
    _git(project, "init", "-q")
    _git(project, "add", "-A")
    _git(project, "commit", "-qm", "base")
    base.write_text("db-dtypes==1.9.0\n")  # the change crosses the Python 3.10 floor
    code, report = _json("--since", "HEAD", cwd=project)
    assert [(f["rule"], f["tag"]) for f in report["findings"] if f["package"] == "db-dtypes"] == [
        ("db-dtypes/python-3.10-required", "immediate")
    ]
    assert code == 1


def test_error_messages_show_control_characters_inertly(tmp_path: Path) -> None:
    (tmp_path / "Pipfile.lock").write_text(
        '{"_meta": {}, "default": {"x\\u001b[31m": {"version": 1}}}'
    )
    stderr = _error(run_depwatch("check", cwd=tmp_path))
    assert "\x1b" not in stderr
    assert "\\x1b[31m" in stderr


INJECTED = "\n::error file=README.md,line=1::INJECTED"


def _no_injected_line(text: str) -> None:
    """No line of ``text`` starts with what a CI runner reads as a workflow command."""
    assert not [line for line in text.splitlines() if line.lstrip().startswith("::error")], text


def test_a_file_name_with_a_newline_cannot_start_a_line_on_stderr(tmp_path: Path) -> None:
    project = tmp_path / "p"
    project.mkdir()
    (project / "pyproject.toml").write_text('[project]\nname = "p"\nrequires-python = ">=3.10"\n')
    bad = project / f"requirements{INJECTED}.txt"
    bad.write_text("not a ][ requirement\n")
    result = run_depwatch("check", str(bad))
    assert result.returncode == 2
    # The newline is shown as an escape, and the colons are broken by a ZERO WIDTH SPACE.
    assert "\\n:\u200b:error" in result.stderr
    _no_injected_line(result.stderr)


def test_a_toml_key_with_a_newline_cannot_start_a_line_on_stderr(tmp_path: Path) -> None:
    shutil.copytree(FIXTURES / "lockfiles" / "requirements" / "pip-compile", tmp_path / "p")
    (tmp_path / "p" / "pyproject.toml").write_text(
        '[project]\nname = "p"\nrequires-python = ">=3.10"\n'
        '[[tool.depwatch.ignore]]\nid = "x"\nreason = "y"\n'
        '"k\\n::error file=README.md,line=1::INJECTED" = 1\n'
    )
    result = run_depwatch("check", str(tmp_path / "p"))
    assert result.returncode == 2
    assert "unknown key" in result.stderr
    _no_injected_line(result.stderr)


def test_strict_gaps_are_one_line_each(tmp_path: Path) -> None:
    shutil.copytree(FIXTURES / "lockfiles" / "requirements" / "pip-compile", tmp_path / "p")
    project = tmp_path / "p"
    (project / "pyproject.toml").write_text(
        '[project]\nname = "p"\nrequires-python = ">=3.10"\n'
        f'[[tool.depwatch.ignore]]\nid = "none{INJECTED.encode("unicode_escape").decode()}"\n'
        'reason = "x"\n'
    )
    (project / f"x{INJECTED}.py").write_text("import yaml\nx = (\n")
    result = run_depwatch("check", str(project), "--strict", "--format", "github")
    assert result.returncode == 2
    assert "--strict: the audit has gaps" in result.stderr
    _no_injected_line(result.stderr)
    _no_injected_line(result.stdout)


def test_rules_check_shows_a_hostile_folder_name_inert(tmp_path: Path) -> None:
    folder = tmp_path / "rules\x1b[31mRED\u202e"
    shutil.copytree(REPO / "rules" / "pyyaml", folder / "pyyaml")
    result = run_depwatch("rules", "check", str(folder))
    assert result.returncode == 0, result.stderr
    assert "\x1b" not in result.stdout
    assert "\u202e" not in result.stdout
    assert "rules\\x1b[31mRED\\u202e" in result.stdout


@pytest.mark.slow
def test_a_source_file_name_that_is_not_utf8_is_shown_escaped(tmp_path: Path) -> None:
    import os

    project = tmp_path / "p"
    project.mkdir()
    (project / "pyproject.toml").write_text('[project]\nname = "p"\nrequires-python = ">=3.10"\n')
    (project / "requirements.txt").write_text("pyyaml==6.0.1\n")
    try:
        fd = os.open(os.fsencode(project) + b"/bad\xff.py", os.O_CREAT | os.O_WRONLY)
    except OSError:
        pytest.skip("this file system only takes UTF-8 file names")
    os.write(fd, b"import yaml\nyaml.load(a)\n")
    os.close(fd)
    for fmt in ("json", "sarif", "table", "markdown", "github"):
        out = tmp_path / f"out.{fmt}"
        result = run_depwatch("check", str(project), "--format", fmt, "--output", str(out))
        assert result.returncode == 1, (fmt, result.stderr)
        text = out.read_bytes().decode("utf-8")  # strict: every byte is UTF-8
        assert "bad" in text, fmt
    evidence = json.loads((tmp_path / "out.json").read_text())["findings"][0]["evidence"]
    assert evidence[0]["path"] == "bad\\xff.py"


DEEP_TOML = "x = " + "[" * 2000 + "]" * 2000 + "\n"  # past every tomli's limit (400 to 1000)
DEEP_JSON = "[" * 2000 + "]" * 2000 + "\n"
CONDA_PYTHON_X = """\
metadata: {platforms: [linux-64], sources: [environment.yml]}
package:
- {name: python, manager: conda, platform: linux-64, version: "x", dependencies: {},
   url: "https://conda.anaconda.org/conda-forge/linux-64/python-3.10.2-h0_cpython.tar.bz2",
   hash: {md5: 3a8fc8b627d5fb6af827e126a10a86c6}, category: main, optional: false}
"""


@pytest.mark.parametrize(
    ("files", "args", "code", "message"),
    [
        ({"uv.lock": DEEP_TOML}, (), 2, "nested too deeply"),
        ({"pyproject.toml": DEEP_TOML, "requirements.txt": "idna==3.10\n"}, (), 2, "nested"),
        ({"Pipfile.lock": DEEP_JSON}, (), 2, "nested too deeply"),
        ({"requirements.txt": "idna==3.10\n"}, ("--baseline", "deep.json"), 2, "nested"),
        ({"requirements.txt": "idna==3.10\n"}, ("--python", "\u00b3.10"), 2, "3.10"),
        ({"poetry.lock": '[metadata]\nlock-version = "\u00b2"\n'}, (), 0, ""),
        ({"pdm.lock": '[metadata]\nlock_version = "\u00b2"\n'}, (), 0, ""),
        ({"conda-lock.yml": CONDA_PYTHON_X}, (), 0, ""),
        ({"uv.lock": "x = 1\n"}, (), 2, "is not a uv lockfile"),
        ({"poetry.lock": "x = 1\n"}, (), 2, "is not a Poetry lockfile"),
        ({"pdm.lock": "x = 1\n"}, (), 2, "is not a PDM lockfile"),
        (
            {"requirements.txt": "idna==3.10\n", "a.py": "x = 1\n"},
            ("--exclude", "foo\\"),
            2,
            "not a valid exclude pattern",
        ),
    ],
)
def test_odd_input_is_an_answer_not_a_traceback(
    tmp_path: Path, files: dict[str, str], args: tuple[str, ...], code: int, message: str
) -> None:
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    (tmp_path / "deep.json").write_text(DEEP_JSON)
    result = run_depwatch("check", ".", *args, cwd=tmp_path)
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == code, result.stderr
    assert message in result.stderr


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_since_names_a_broken_file_as_it_was_at_the_revision(tmp_path: Path) -> None:
    project = _copy("genai-app", tmp_path)
    lock = project / "uv.lock"
    good = lock.read_text()
    lock.write_text("garbage [[[\n")
    _git(project, "init", "-q")
    _git(project, "add", "-A")
    _git(project, "commit", "-qm", "broken")
    lock.write_text(good)
    error = _error(run_depwatch("check", "--since", "HEAD", cwd=project))
    assert error.startswith("depwatch: error: uv.lock at HEAD:1: is not valid TOML"), error
    result = run_depwatch("check", "--since", "", cwd=project)
    assert result.returncode == 2
    assert "'--since': needs a git revision" in result.stderr


def test_a_link_named_like_a_lockfile_reads_as_that_lockfile(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    shutil.copy(
        FIXTURES / "lockfiles" / "uv" / "basic" / "uv.lock", tmp_path / "real" / "data.toml"
    )
    (tmp_path / "uv.lock").symlink_to(Path("real") / "data.toml")
    result = run_depwatch("packages", "uv.lock", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("uv.lock (uv)")


def test_rules_show_suggests_rules_of_the_same_package_only() -> None:
    named = run_depwatch("rules", "show", "Google_GenAI/nope")
    assert "hint: rules for that package: google-genai/" in named.stderr
    empty = run_depwatch("rules", "show", "")
    assert "hint: list them with: depwatch rules list" in empty.stderr


def test_rules_check_names_a_rule_file_that_is_not_a_file(tmp_path: Path) -> None:
    folder = tmp_path / "rules"
    shutil.copytree(REPO / "rules" / "pyyaml", folder / "pyyaml")
    (folder / "pyyaml" / "gone.toml").symlink_to(tmp_path / "nowhere.toml")
    (folder / "pyyaml" / "folder.toml").mkdir()
    result = run_depwatch("rules", "check", str(folder))
    assert result.returncode == 2
    assert "gone.toml: cannot be read" in result.stderr
    assert "folder.toml: is a directory, not a file" in result.stderr


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_since_keeps_an_ignore_of_an_unchanged_finding_in_use(tmp_path: Path) -> None:
    project = _copy("genai-app", tmp_path)
    pyproject = project / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text()
        + f'\n[[tool.depwatch.ignore]]\nid = "{WIRE}"\nreason = "tracked in #12"\n'
    )
    _git(project, "init", "-q")
    _git(project, "add", "-A")
    _git(project, "commit", "-qm", "base")
    (project / "notes.txt").write_text("a change that touches no lockfile\n")
    code, report = _json("--since", "HEAD", "--strict", cwd=project)
    assert report["stale_ignores"] == []
    assert code == 0


def test_rules_list_and_show_read_the_rule_folders_of_the_pyproject_here(tmp_path: Path) -> None:
    shutil.copytree(REPO / "rules" / "pyyaml", tmp_path / "ci" / "rules" / "pyyaml")
    source = tmp_path / "ci" / "rules" / "pyyaml" / "load-requires-loader.toml"
    source.rename(source.with_name("ours.toml"))
    (tmp_path / "pyproject.toml").write_text('[tool.depwatch]\nrules = ["ci/rules"]\n')
    shown = run_depwatch("rules", "show", "pyyaml/ours", cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    listed = run_depwatch("rules", "list", "--format", "json", cwd=tmp_path)
    assert "pyyaml/ours" in {rule["id"] for rule in json.loads(listed.stdout)["rules"]}


@pytest.mark.slow
def test_each_project_gates_by_its_own_fail_on(tmp_path: Path) -> None:
    quiet = _copy("genai-app", tmp_path)
    pyproject = quiet / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + '\n[tool.depwatch]\nfail-on = "never"\n')
    gated = tmp_path / "gated"
    shutil.copytree(PROJECTS / "genai-app", gated)
    for order in (["genai-app", "gated"], ["gated", "genai-app"]):
        code, _ = _json(*order, cwd=tmp_path)
        assert code == 1, order  # gated has an immediate finding, whatever quiet says
    code, _ = _json("genai-app", cwd=tmp_path)
    assert code == 0
    assert (
        run_depwatch("check", "genai-app", "gated", "--fail-on", "never", cwd=tmp_path).returncode
        == 0
    )
    summary = run_depwatch("check", "genai-app", "gated", cwd=tmp_path).stdout.splitlines()[-1]
    assert summary.endswith("failing on each project's fail-on"), summary


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_ci_paths_are_from_the_repository_top_wherever_depwatch_runs(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / "services").mkdir(parents=True)
    shutil.copytree(PROJECTS / "genai-app", repo / "services" / "api")
    (repo / "services" / "web").mkdir()
    _git(repo, "init", "-q")
    runs = {
        "top": run_depwatch("check", "services/api", "--format", "sarif", cwd=repo),
        "inside": run_depwatch("check", "--format", "sarif", cwd=repo / "services" / "api"),
        "beside": run_depwatch(
            "check", "../api", "--format", "sarif", cwd=repo / "services" / "web"
        ),
    }
    located = {}
    for where, done in runs.items():
        (run,) = json.loads(done.stdout)["runs"]
        located[where] = sorted(
            (
                result["partialFingerprints"]["depwatch/v1"],
                location["physicalLocation"]["artifactLocation"]["uri"],
            )
            for result in run["results"]
            for location in result["locations"]
        )
    assert located["top"] == located["inside"] == located["beside"]
    assert "services/api/voice_bot/speak.py" in {uri for _, uri in located["top"]}
    github = run_depwatch("check", "--format", "github", cwd=repo / "services" / "api")
    assert "file=services/api/voice_bot/speak.py,line=10" in github.stdout
    # Interpreter findings point at the line that declares the Python range.
    assert "file=services/api/pyproject.toml,line=4,title=python/" in github.stdout
