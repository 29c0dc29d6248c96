"""Hostile input files end in a clean exit 2 naming the file, never a traceback, a hang, a
silently dropped package or a leaked secret (issue 19 items 1, 2, 4, 5, 8).

The commands run in-process through the CLI app, below the crash boundary of ``__main__``: an
unexpected exception fails these tests with its own traceback instead of the boundary's
one-line message. One test runs the real ``python -m depwatch`` to check the boundary itself.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from depwatch.cli import app
from tests.conftest import FIXTURES, run_depwatch

HUGE = "1" * 4400

needs_fifo = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")
needs_dev = pytest.mark.skipif(not Path("/dev/zero").exists(), reason="no /dev/zero here")


def _run(*args: str, cwd: Path, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    old = Path.cwd()
    os.chdir(cwd)
    try:
        result = CliRunner().invoke(app, list(args), env={"NO_COLOR": "1", **(env or {})})
    finally:
        os.chdir(old)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def _project(tmp_path: Path, **files: str) -> Path:
    project = tmp_path / "p"
    project.mkdir(exist_ok=True)
    for name, text in files.items():
        (project / name.replace("__", ".")).write_text(text, encoding="utf-8")
    return project


def _error(code: int, err: str, *needles: str) -> None:
    assert code == 2, err
    assert err.startswith("depwatch: error: "), err
    for needle in needles:
        assert needle in err


# -- item 1: numbers and versions past Python's 4,300-digit limit -------------------------


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("uv.lock", f"version = 1\nrevision = {HUGE}\n"),
        ("Pipfile.lock", f'{{"_meta": {{"pipfile-spec": {HUGE}}}, "default": {{}}}}'),
        ("conda-lock.yml", f"version: {HUGE}\nmetadata: {{}}\npackage: []\n"),
        ("pyproject.toml", f'[project]\nname = "x"\nversion-number = {HUGE}\n'),
    ],
)
def test_an_integer_past_the_digit_limit_is_an_input_error(
    tmp_path: Path, name: str, text: str
) -> None:
    project = _project(tmp_path, requirements__txt="idna==3.7\n")
    (project / name).write_text(text, encoding="utf-8")
    code, _, err = _run("packages", cwd=project)
    _error(code, err, name, "too many digits")


def test_a_baseline_with_a_huge_integer_is_an_input_error(tmp_path: Path) -> None:
    project = _project(tmp_path, requirements__txt="idna==3.7\n")
    (project / "base.json").write_text(f'{{"findings": [], "n": {HUGE}}}')
    code, _, err = _run("check", "--no-usage", "--baseline", "base.json", cwd=project)
    _error(code, err, "base.json", "too many digits")


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("requirements.txt", f"idna=={HUGE}\n"),
        ("Pipfile.lock", json.dumps({"_meta": {}, "default": {"idna": {"version": f"=={HUGE}"}}})),
    ],
)
def test_a_version_past_the_digit_limit_is_listed_and_checked(
    tmp_path: Path, name: str, text: str
) -> None:
    project = _project(tmp_path, pyproject__toml='[project]\nname = "x"\n')
    (project / name).write_text(text, encoding="utf-8")
    code, out, _ = _run("packages", "--format", "json", cwd=project)
    assert code == 0
    assert json.loads(out)["lockfiles"][0]["packages"][0]["name"] == "idna"
    code, _, err = _run("check", "--no-usage", "--python", "3.12", cwd=project)
    assert code == 0, err  # not PEP 440 comparable: no rule can match it


def test_requires_python_past_the_digit_limit_is_an_input_error(tmp_path: Path) -> None:
    project = _project(
        tmp_path,
        pyproject__toml=f'[project]\nname = "x"\nrequires-python = ">=3.{HUGE}"\n',
        requirements__txt="idna==3.7\n",
    )
    code, _, err = _run("check", "--no-usage", cwd=project)
    _error(code, err, "pyproject.toml", "not a valid version specifier", "characters)")
    assert len(err) < 600  # the 4,400 digits are not echoed back


def test_python_flag_past_the_digit_limit_is_a_usage_error(tmp_path: Path) -> None:
    project = _project(tmp_path, requirements__txt="idna==3.7\n")
    code, _, err = _run("check", "--no-usage", "--python", f"3.{HUGE}", cwd=project)
    assert code == 2
    assert "is not a Python version" in err


# -- item 1: rule folders that loop or hold a NUL byte --------------------------------------


def test_a_rule_folder_that_is_a_symlink_loop(tmp_path: Path) -> None:
    project = _project(tmp_path, requirements__txt="idna==3.7\n")
    (project / "a").symlink_to(project / "b")
    (project / "b").symlink_to(project / "a")
    code, _, err = _run("check", "--no-usage", "--rules", "a", cwd=project)
    _error(code, err, "a: is a symbolic link loop")
    code, _, err = _run("rules", "check", "a", cwd=project)
    _error(code, err, "a: is a symbolic link loop")


def test_a_rule_folder_holding_a_symlink_loop(tmp_path: Path) -> None:
    project = _project(tmp_path, requirements__txt="idna==3.7\n")
    rules = project / "rules"
    rules.mkdir()
    (rules / "x").symlink_to(rules / "y")
    (rules / "y").symlink_to(rules / "x")
    (rules / "idna").mkdir()
    (rules / "idna" / "loop.toml").symlink_to(rules / "idna" / "loop.toml")
    for args in (("check", "--no-usage", "--rules", "rules"), ("rules", "check", "rules")):
        code, _, err = _run(*args, cwd=project)
        _error(code, err, "rules/x: cannot be read", "loop.toml: cannot be read")


def test_a_rule_folder_name_with_a_nul_byte(tmp_path: Path) -> None:
    project = _project(
        tmp_path,
        requirements__txt="idna==3.7\n",
        pyproject__toml='[project]\nname = "x"\n[tool.depwatch]\nrules = ["a\\u0000b"]\n',
    )
    code, _, err = _run("check", "--no-usage", cwd=project)
    assert code == 2
    assert "NUL" in err or "null" in err
    code, _, err = _run("rules", "list", cwd=project)
    assert code == 2
    assert "NUL" in err or "null" in err


# -- item 2: only regular files, bounded -----------------------------------------------------


@needs_dev
@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom"])
def test_a_lockfile_symlinked_to_an_endless_device(tmp_path: Path, device: str) -> None:
    project = _project(tmp_path)
    (project / "uv.lock").symlink_to(device)
    code, _, err = _run("packages", cwd=project)
    _error(code, err, "uv.lock: is a character device, not a regular file")


@needs_fifo
def test_a_lockfile_that_is_a_fifo_does_not_hang(tmp_path: Path) -> None:
    project = _project(tmp_path)
    os.mkfifo(project / "poetry.lock")
    code, _, err = _run("packages", cwd=project)
    _error(code, err, "poetry.lock: is a named pipe (FIFO), not a regular file")


@needs_dev
@needs_fifo
def test_requirements_includes_of_devices_and_fifos(tmp_path: Path) -> None:
    project = _project(tmp_path, requirements__txt="-r /dev/zero\n")
    code, _, err = _run("packages", cwd=project)
    _error(code, err, "includes /dev/zero (-r), which is a character device")
    os.mkfifo(project / "fifo.txt")
    (project / "requirements.txt").write_text("-r fifo.txt\n")
    code, _, err = _run("packages", cwd=project)
    _error(code, err, "includes fifo.txt (-r), which is a named pipe (FIFO)")


@needs_dev
def test_a_baseline_symlinked_to_dev_zero(tmp_path: Path) -> None:
    project = _project(tmp_path, requirements__txt="idna==3.7\n")
    (project / "base.json").symlink_to("/dev/zero")
    code, _, err = _run("check", "--no-usage", "--baseline", "base.json", cwd=project)
    _error(code, err, "base.json: is a character device")


def test_an_input_over_the_size_limit(tmp_path: Path) -> None:
    project = _project(tmp_path, requirements__txt="idna==3.7\n" * 1000)
    code, _, err = _run("packages", cwd=project, env={"DEPWATCH_MAX_INPUT_SIZE": "4K"})
    _error(code, err, "requirements.txt: is larger than depwatch reads (4,096 bytes)")
    assert "DEPWATCH_MAX_INPUT_SIZE" in err
    code, _, err = _run("packages", cwd=project, env={"DEPWATCH_MAX_INPUT_SIZE": "lots"})
    _error(code, err, "DEPWATCH_MAX_INPUT_SIZE='lots' is not a size")
    code, _, _ = _run("packages", cwd=project, env={"DEPWATCH_MAX_INPUT_SIZE": "1M"})
    assert code == 0


@needs_fifo
@pytest.mark.parametrize("kind", ["folder", "fifo"])
def test_a_pyproject_that_is_not_a_file_is_an_error_not_an_absence(
    tmp_path: Path, kind: str
) -> None:
    project = _project(tmp_path, requirements__txt="idna==3.7\n")
    if kind == "folder":
        (project / "pyproject.toml").mkdir()
    else:
        os.mkfifo(project / "pyproject.toml")
    code, _, err = _run("check", "--no-usage", cwd=project)
    _error(code, err, "pyproject.toml: is a")
    code, _, err = _run("rules", "list", cwd=project)
    _error(code, err, "pyproject.toml: is a")


# -- item 4: duplicate keys ------------------------------------------------------------------


def test_a_duplicate_key_in_a_pipfile_lock(tmp_path: Path) -> None:
    project = _project(tmp_path)
    (project / "Pipfile.lock").write_text(
        '{"_meta": {}, "default": {"idna": {"version": "==3.7"}},'
        ' "default": {"six": {"version": "==1.16.0"}}}'
    )
    code, _, err = _run("packages", cwd=project)
    _error(code, err, "Pipfile.lock", "the key 'default' appears twice")


def test_a_duplicate_key_in_a_conda_lock(tmp_path: Path) -> None:
    text = (
        FIXTURES / "lockfiles" / "conda" / "handmade" / "multi-platform.conda-lock.yml"
    ).read_text(encoding="utf-8")
    project = _project(tmp_path)
    (project / "conda-lock.yml").write_text(text.replace("package:", "package: []\npackage:", 1))
    code, _, err = _run("packages", cwd=project)
    _error(code, err, "conda-lock.yml", "the key 'package' appears twice")


# -- item 5: secrets -------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["table", "json", "sarif", "markdown", "github"])
def test_url_credentials_are_redacted_in_every_format(tmp_path: Path, fmt: str) -> None:
    project = _project(
        tmp_path,
        requirements__txt="git+https://ci-bot:ghp_SECRET0123456789@github.com/o/r.git\n"
        "git+https://ghp_TOKEN0123456789@github.com/o/s.git\nidna==3.7\n",
    )
    code, out, err = _run("check", "--no-usage", "--python", "3.12", "-f", fmt, cwd=project)
    assert code == 0, err
    assert "SECRET" not in out + err
    assert "TOKEN" not in out + err
    assert "ci-bot:" in out  # the user is kept, as pip shows it


def test_a_secret_file_included_as_requirements_is_not_quoted(tmp_path: Path) -> None:
    project = _project(
        tmp_path,
        netrc="machine github.com login bot password hunter2\n",
        requirements__txt="-r netrc\n",
    )
    code, _, err = _run("packages", cwd=project)
    _error(code, err, "netrc:1: is not a valid requirement")
    assert "hunter2" not in err
    assert "machine" not in err


def test_a_broken_requirement_is_named_but_not_quoted(tmp_path: Path) -> None:
    project = _project(tmp_path, requirements__txt="idna >= 3.7 ; os_name == 'x' and and\n")
    code, _, err = _run("packages", cwd=project)
    _error(code, err, "requirements.txt:1:")
    assert "and and" not in err


# -- the boundary ----------------------------------------------------------------------------


def test_the_crash_boundary_exits_2_with_one_line_and_hides_the_message(tmp_path: Path) -> None:
    """A real process, with a bug forced in: a sitecustomize that breaks a reader."""
    hook = tmp_path / "hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(
        "import depwatch.lockfiles.requirements as r\n"
        "def boom(path):\n    raise KeyError('secret-from-input')\n"
        "r.read = boom\n"
    )
    project = _project(tmp_path, requirements__txt="idna==3.7\n")
    env = {"PYTHONPATH": os.pathsep.join([str(hook), *sys.path])}
    result = run_depwatch("packages", cwd=project, env=env)
    assert result.returncode == 2
    assert result.stderr.startswith("depwatch: internal error: KeyError at depwatch/")
    assert "Traceback" not in result.stderr
    assert "secret-from-input" not in result.stderr
    assert "https://github.com/depwatch/depwatch/issues" in result.stderr
    shown = run_depwatch("packages", cwd=project, env={**env, "DEPWATCH_TRACEBACK": "1"})
    assert shown.returncode == 1
    assert "Traceback" in shown.stderr
    assert "secret-from-input" in shown.stderr


@pytest.mark.parametrize(
    ("code", "status", "said"), [(None, 0, ""), (3, 3, ""), ("no lock found", 1, "no lock found\n")]
)
def test_the_command_ends_as_sys_exit_would_with_its_exit_handlers_run(
    code: object, status: int, said: str
) -> None:
    """The command ends the process without freeing the run's objects: the status, the exit
    handlers (temporary folders) and the flushed output are those of ``sys.exit``."""
    import subprocess

    program = (
        "import atexit, sys\n"
        "atexit.register(lambda: print('handler ran'))\n"
        "print('unflushed', end='')\n"
        "from depwatch.__main__ import _exit_now\n"
        f"_exit_now({code!r})\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == status
    assert done.stdout == "unflushedhandler ran\n"
    assert done.stderr == said


# -- item 8: caches inside the project -------------------------------------------------------


@pytest.mark.parametrize("variable", ["DEPWATCH_CACHE_DIR", "XDG_CACHE_HOME"])
def test_no_cache_is_written_into_the_project(tmp_path: Path, variable: str) -> None:
    project = _project(
        tmp_path,
        pyproject__toml='[project]\nname = "x"\nrequires-python = ">=3.10"\n',
        requirements__txt="pyyaml==6.0.1\n",
    )
    (project / "app.py").write_text("import yaml\nyaml.load(s)\n")
    before = sorted(p.relative_to(project) for p in project.rglob("*"))
    env = {variable: str(project / ".cache")}
    if variable == "XDG_CACHE_HOME":
        env["DEPWATCH_CACHE_DIR"] = ""
    code, out, err = _run("check", cwd=project, env=env)
    assert code == 1, err  # the rule is matched (yaml.load without Loader)
    assert "pyyaml" in out
    assert sorted(p.relative_to(project) for p in project.rglob("*")) == before
