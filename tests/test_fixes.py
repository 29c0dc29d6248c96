"""Fix commands: the command for the tool that wrote each real lockfile, the constraint to
change first, requires-python edits, and names/versions/paths that could inject into a shell."""

from __future__ import annotations

import json
import shlex
import shutil
from pathlib import Path

import pytest

from depwatch import audit
from depwatch.audit import CheckOptions
from depwatch.fixes import FixContext, commands, fixes_for
from depwatch.model import Finding, Tag
from tests.conftest import FIXTURES, run_depwatch

LOCKS = FIXTURES / "lockfiles"


def _rule(folder: Path, package: str, slug: str, locked: str, fixed: str) -> str:
    """A rule file in ``folder``: ``package`` at ``locked`` has a bug fixed in ``fixed``."""
    (folder / package).mkdir(parents=True, exist_ok=True)
    (folder / package / f"{slug}.toml").write_text(
        f"""package = "{package}"
kind = "behaviour"
tag = "immediate"
affected = "=={locked}"
fixed = "{fixed}"
title = "A bug in {locked}"
what = "w"
why = "y"
action = "Upgrade {package} to {fixed}."
references = ["https://example.org/{slug}"]

[examples]
affected = ["{locked}"]
unaffected = ["{fixed}"]
""",
        encoding="utf-8",
    )
    return f"{package}/{slug}"


def _fixes(project: Path, rules: Path, wanted: list[str]) -> dict[str, dict]:
    """The JSON ``fix`` of each wanted rule's finding, running depwatch as a user would."""
    done = run_depwatch(
        "check", str(project), "--rules", str(rules), "--no-usage", "-f", "json", cwd=project
    )
    assert done.returncode in (0, 1), done.stderr
    found = {f["rule"]: f for f in json.loads(done.stdout)["findings"]}
    assert set(wanted) <= set(found), sorted(found)
    return {rule: found[rule]["fix"] for rule in wanted}


@pytest.fixture
def rules(tmp_path: Path) -> Path:
    return tmp_path / "rules"


def test_uv_upgrade_and_blocking_constraint(rules: Path) -> None:
    free = _rule(rules, "certifi", "fix-free", "2026.10.19.post1", "2026.10.20")
    pinned = _rule(rules, "idna", "fix-pinned", "3.10", "3.11")
    fixes = _fixes(LOCKS / "uv" / "basic", rules, [free, pinned])
    assert fixes[free]["tool"] == "uv"
    assert fixes[free]["command"] == "uv lock --upgrade-package certifi==2026.10.20"
    assert fixes[free]["constraint"] is None
    # pyproject.toml pins idna==3.10: no command, the constraint to change first instead.
    assert fixes[pinned]["command"] is None
    constraint = fixes[pinned]["constraint"]
    text = (LOCKS / "uv" / "basic" / "pyproject.toml").read_text().splitlines()
    assert constraint["path"] == "pyproject.toml"
    assert '"idna==3.10"' in text[constraint["line"] - 1]


def test_poetry_update_or_add(rules: Path) -> None:
    free = _rule(rules, "certifi", "fix-free", "2026.10.19.post1", "2026.10.20")
    pinned = _rule(rules, "idna", "fix-pinned", "3.10", "3.11")
    fixes = _fixes(LOCKS / "poetry" / "app", rules, [free, pinned])
    assert fixes[free]["command"] == "poetry update certifi"
    assert fixes[pinned]["command"] == "poetry add 'idna@^3.11'"
    assert fixes[pinned]["constraint"]["text"] == "idna (==3.10)"


def test_pdm_update_or_add(rules: Path) -> None:
    free = _rule(rules, "certifi", "fix-free", "2026.10.19.post1", "2026.10.20")
    pinned = _rule(rules, "idna", "fix-pinned", "3.10", "3.11")
    dev = _rule(rules, "packaging", "fix-dev", "26.3", "27.0")
    fixes = _fixes(LOCKS / "pdm" / "app", rules, [free, pinned, dev])
    assert fixes[free]["command"] == "pdm update certifi"
    assert fixes[pinned]["command"] == "pdm add 'idna>=3.11'"
    assert fixes[dev]["command"] == "pdm update packaging"  # >=24 allows 27.0


def test_pipenv_upgrade_and_exports_skipped(rules: Path) -> None:
    free = _rule(rules, "attrs", "fix-free", "26.1.0", "26.2.0")
    pinned = _rule(rules, "idna", "fix-pinned", "3.7", "3.8")
    done = run_depwatch(
        "check", ".", "--rules", str(rules), "--no-usage", "-f", "json",
        cwd=LOCKS / "pipfile" / "basic",
    )  # fmt: skip
    found = {f["rule"]: f for f in json.loads(done.stdout)["findings"]}
    # The finding lists Pipfile.lock and its exported requirements files: one fix, pipenv's.
    assert found[free]["fix"]["command"] == "pipenv upgrade attrs==26.2.0"
    assert "fixes" not in found[free]
    assert found[pinned]["fix"]["command"] is None
    assert found[pinned]["fix"]["constraint"]["path"] == "Pipfile"
    assert found[pinned]["fix"]["constraint"]["text"] == 'idna = "==3.7"'


def test_pip_compile_uses_the_files_own_output_name(rules: Path) -> None:
    free = _rule(rules, "iniconfig", "fix-free", "2.3.1", "2.4.0")
    pinned = _rule(rules, "six", "fix-pinned", "1.16.0", "1.17.0")
    unknown_source = _rule(rules, "pluggy", "fix-src", "1.7.0", "1.8.0")
    fixes = _fixes(LOCKS / "requirements" / "pip-compile", rules, [free, pinned, unknown_source])
    assert fixes[free]["tool"] == "pip-compile"
    assert fixes[free]["command"] == (
        "pip-compile --upgrade-package iniconfig==2.4.0 --output-file=requirements.txt "
        "requirements.in"
    )
    # requirements.in pins six==1.16.0: that line changes first.
    assert fixes[pinned]["command"] is None
    assert fixes[pinned]["constraint"] == {
        "path": "requirements.in",
        "line": 4,
        "text": "six==1.16.0",
    }
    # pyproject-requirements.txt's header does not name its input: the line to write.
    assert fixes[unknown_source]["command"] is None
    assert fixes[unknown_source]["edit"]["path"] == "pyproject-requirements.txt"
    assert fixes[unknown_source]["edit"]["text"] == "pluggy==1.8.0"


def test_uv_pip_compile(rules: Path) -> None:
    rule = _rule(rules, "tomli", "fix-free", "2.5.0", "2.6.0")
    fixes = _fixes(LOCKS / "requirements" / "uv", rules, [rule])
    assert fixes[rule]["tool"] == "uv-pip-compile"
    assert fixes[rule]["command"] == (
        "uv pip compile --upgrade-package tomli==2.6.0 -o requirements.txt requirements.in"
    )


def test_plain_requirements_edit_and_requires_python(tmp_path: Path, rules: Path) -> None:
    project = tmp_path / "app"
    shutil.copytree(FIXTURES / "projects" / "vulnerable-app", project)
    (project / "requirements.in").unlink()
    rule = _rule(rules, "idna", "fix-plain", "2.7", "2.8")
    fixes = _fixes(project, rules, [rule])
    edit = fixes[rule]["edit"]
    assert fixes[rule]["tool"] == "requirements"
    lines = (project / "requirements.txt").read_text().splitlines()
    assert lines[edit["line"] - 1].startswith("idna==2.7")
    assert edit["text"] == "idna==2.8"


def test_fix_commands_prints_only_commands(rules: Path) -> None:
    _rule(rules, "certifi", "fix-free", "2026.10.19.post1", "2026.10.20")
    _rule(rules, "idna", "fix-pinned", "3.10", "3.11")
    project = LOCKS / "uv" / "basic"
    done = run_depwatch(
        "check", ".", "--rules", str(rules), "--no-usage", "--fix-commands", cwd=project
    )
    assert done.returncode == 1, done.stderr
    assert done.stdout.splitlines() == ["uv lock --upgrade-package certifi==2026.10.20"]
    assert any(
        line.startswith("# idna: first change pyproject.toml:") for line in done.stderr.splitlines()
    )
    # Two projects: each command runs in its own folder, in a subshell.
    done = run_depwatch(
        "check", "uv/basic", "poetry/app", "--rules", str(rules), "--no-usage",
        "--fix-commands", "-q", cwd=LOCKS,
    )  # fmt: skip
    assert done.stdout.splitlines() == [
        "(cd poetry/app && poetry update certifi)",
        "(cd poetry/app && poetry add 'idna@^3.11')",
        "(cd uv/basic && uv lock --upgrade-package certifi==2026.10.20)",
    ]
    assert done.stderr == ""


def test_table_markdown_and_sarif_show_the_fix(rules: Path) -> None:
    import jsonschema

    _rule(rules, "certifi", "fix-free", "2026.10.19.post1", "2026.10.20")
    project = LOCKS / "uv" / "basic"
    args = ("check", ".", "--rules", str(rules), "--no-usage")
    table = run_depwatch(*args, cwd=project).stdout
    assert "$ uv lock --upgrade-package certifi==2026.10.20" in table
    markdown = run_depwatch(*args, "-f", "markdown", cwd=project).stdout
    assert "$ uv lock --upgrade-package certifi==2026.10.20" in markdown
    sarif = json.loads(run_depwatch(*args, "-f", "sarif", cwd=project).stdout)
    schema_path = Path(__file__).resolve().parents[2] / "shared/schemas/sarif-schema-2.1.0.json"
    if schema_path.is_file():
        jsonschema.validate(sarif, json.loads(schema_path.read_text()))
    fixes = [
        fix
        for result in sarif["runs"][0]["results"]
        if result["ruleId"] == "certifi/fix-free"
        for fix in result["fixes"]
    ]
    assert fixes[0]["description"]["text"] == "$ uv lock --upgrade-package certifi==2026.10.20"


# -- hostile input -------------------------------------------------------------------------


def _finding(package: str, version: str, fixed: tuple[str, ...], lock: str) -> Finding:
    return Finding(
        rule="GHSA-test",
        project=".",
        package=package,
        version=version,
        tag=Tag.IMMEDIATE,
        kind="vulnerability",
        title="t",
        action="a",
        lockfiles=(lock,),
        fixed_versions=fixed,
        versions=(version,),
    )


@pytest.mark.parametrize(
    ("package", "fixed"),
    [
        ("evil;touch pwned", ("2.0",)),
        ("$(touch pwned)", ("2.0",)),
        ("evil", ("2.0;touch pwned",)),
        ("evil", ("2.0$(touch pwned)",)),
        ("evil", ("`touch pwned`",)),
    ],
)
def test_hostile_names_and_versions_give_no_command(
    tmp_path: Path, package: str, fixed: tuple[str, ...]
) -> None:
    (tmp_path / "uv.lock").write_text("version = 1\n")
    ctx = FixContext(root=tmp_path, lock_paths={"uv.lock": tmp_path / "uv.lock"},
                     formats={"uv.lock": "uv"})  # fmt: skip
    assert fixes_for(_finding(package, "1.0", fixed, "uv.lock"), ctx) == ()


def test_hostile_lock_is_read_and_its_commands_are_quoted(tmp_path: Path) -> None:
    """A requirements file whose name and pinned text try to break out of the command."""
    name = "requirements-$(touch pwned);x.txt"
    (tmp_path / name).write_text(
        "#\n# This file is autogenerated by pip-compile with Python 3.11\n"
        "# by the following command:\n#\n#    pip-compile 'x;y.in'\n#\n"
        "six==1.16.0\nwhat===1.0`touch`pwned\n"
    )
    (tmp_path / "requirements-$(touch pwned);x.in").write_text("six\n")
    rules = tmp_path / "rules"
    _rule(rules, "six", "fix", "1.16.0", "1.17.0")
    done = run_depwatch(
        "check", ".", "--rules", str(rules), "--no-usage", "--fix-commands", cwd=tmp_path
    )
    assert done.returncode == 1, done.stderr
    [line] = done.stdout.splitlines()
    assert shlex.split(line) == [
        "pip-compile",
        "--upgrade-package",
        "six==1.17.0",
        f"--output-file={name}",
        "requirements-$(touch pwned);x.in",
    ]
    assert not (tmp_path / "pwned").exists()


def test_commands_dedupe(tmp_path: Path) -> None:
    (tmp_path / "uv.lock").write_text("version = 1\n")
    ctx = FixContext(root=tmp_path, lock_paths={"uv.lock": tmp_path / "uv.lock"},
                     formats={"uv.lock": "uv"})  # fmt: skip
    one = _finding("six", "1.0", ("1.1", "2.0"), "uv.lock")
    fixes = fixes_for(one, ctx)
    assert [f.command for f in fixes] == ["uv lock --upgrade-package six==1.1"]
    from dataclasses import replace

    out, _ = commands([replace(one, fixes=fixes), replace(one, rule="other", fixes=fixes)])
    assert out == ["uv lock --upgrade-package six==1.1"]


def test_check_json_has_fix_key_for_every_finding() -> None:
    import datetime

    options = CheckOptions(
        paths=(str(FIXTURES / "projects" / "genai-app"),),
        usage=False,
        today=datetime.date(2026, 12, 1),
    )
    report = audit.check(options).report
    from depwatch.reporters.json import report_document

    document = report_document(report)
    assert all("fix" in f for f in document["findings"])
    [python] = [f for f in document["findings"] if f["rule"] == "python/python-3.10-eol"]
    assert python["fix"]["edit"] == {
        "path": "pyproject.toml",
        "line": 4,
        "text": 'requires-python = ">=3.11"',
    }
    assert python["fix"]["command"] == "uv lock"


def test_conda_lock_environment_edit(tmp_path: Path, rules: Path) -> None:
    shutil.copy(
        LOCKS / "conda" / "handmade" / "multi-platform.conda-lock.yml",
        tmp_path / "conda-lock.yml",
    )
    (tmp_path / "environment.yml").write_text(
        "channels:\n  - conda-forge\ndependencies:\n  - python=3.11\n  - numpy=1.26\n"
    )
    rule = _rule(rules, "numpy", "fix-conda", "1.26.4", "1.26.5")
    fix = _fixes(tmp_path, rules, [rule])[rule]
    assert fix["tool"] == "conda-lock"
    assert fix["edit"] == {"path": "environment.yml", "line": 5, "text": "  - numpy>=1.26.5"}
    assert fix["command"] == "conda-lock lock"


@pytest.mark.slow
@pytest.mark.parametrize("tool", ["uv", "pip-compile"])
def test_the_command_resolves_the_finding(tmp_path: Path, rules: Path, tool: str) -> None:
    """Lock iniconfig 1.1.1 with the real tool, run the command depwatch prints, check again."""
    import os
    import subprocess
    import sys

    bin_dir = Path(sys.executable).parent
    exe = bin_dir / ("uv" if tool == "uv" else "pip-compile")
    if not exe.exists():
        pytest.skip(f"{exe.name} is not installed")
    env = {**os.environ, "UV_NO_CONFIG": "1", "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "app"\nversion = "0.1.0"\nrequires-python = ">=3.10"\n'
        'dependencies = ["iniconfig"]\n\n[tool.uv]\npackage = false\n'
    )
    if tool == "uv":
        made = subprocess.run(
            [str(exe), "lock", "--upgrade-package", "iniconfig==1.1.1"],
            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
        )  # fmt: skip
    else:
        (tmp_path / "requirements.in").write_text("iniconfig\n")
        made = subprocess.run(
            [str(exe), "--quiet", "--upgrade-package", "iniconfig==1.1.1",
             "--output-file=requirements.txt", "requirements.in"],
            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
        )  # fmt: skip
    if made.returncode != 0:
        pytest.skip(f"{tool} could not lock (no index?): {made.stderr.strip()[-200:]}")
    rule = _rule(rules, "iniconfig", "fix-e2e", "1.1.1", "2.0.0")
    args = ("check", ".", "--rules", str(rules), "--no-usage", "--fix-commands", "-q")
    done = run_depwatch(*args, cwd=tmp_path)
    [command] = done.stdout.splitlines()
    ran = subprocess.run(
        shlex.split(command), cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300
    )
    assert ran.returncode == 0, ran.stderr
    after = run_depwatch(
        "check", ".", "--rules", str(rules), "--no-usage", "-f", "json", cwd=tmp_path
    )
    assert rule not in {f["rule"] for f in json.loads(after.stdout)["findings"]}
    assert run_depwatch(*args, cwd=tmp_path).stdout == ""


def test_a_release_that_drops_a_declared_python_names_requires_python(rules: Path) -> None:
    """uv/basic declares >=3.10; a rule says certifi 2026.10.20 needs Python 3.11."""
    rule = _rule(rules, "certifi", "fix-free", "2026.10.19.post1", "2026.10.20")
    (rules / "certifi" / "python-3.11-required.toml").write_text(
        """package = "certifi"
kind = "python-drop"
tag = "immediate"
affected = ">=2026.10.20"
boundary = "2026.10.20"
title = "certifi 2026.10.20 requires Python 3.11 or newer"
what = "w"
why = "y"
action = "Drop Python 3.10."
references = ["https://example.org/floor"]

[python]
requires = ">=3.11"

[examples]
affected = ["2026.10.20"]
unaffected = ["2026.10.19.post1"]
""",
        encoding="utf-8",
    )
    fix = _fixes(LOCKS / "uv" / "basic", rules, [rule])[rule]
    assert fix["command"] is None
    assert fix["constraint"] == {
        "path": "pyproject.toml",
        "line": 4,
        "text": 'requires-python = ">=3.10"',
    }
