"""action.yml, the composite GitHub Action: its shell steps run here as the runner runs them
(bash -e -o pipefail, inputs through the environment), on a real project."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from .conftest import FIXTURES, REPO

pytestmark = pytest.mark.slow

ACTION = yaml.safe_load((REPO / "action.yml").read_text())
_EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")


def _step(name: str) -> dict[str, Any]:
    (step,) = [s for s in ACTION["runs"]["steps"] if s.get("name") == name]
    return step


def _value(expression: str, inputs: dict[str, str], outputs: dict[str, str]) -> str:
    if expression.startswith("inputs."):
        return inputs[expression.removeprefix("inputs.")]
    if expression.startswith("steps.check.outputs."):
        return outputs.get(expression.removeprefix("steps.check.outputs."), "")
    if expression == "steps.python.outputs.python-path":
        return sys.executable
    raise AssertionError(f"an expression this test does not know: {expression}")


def _run_step(
    name: str, cwd: Path, runner: dict[str, str], inputs: dict[str, str], outputs: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    step = _step(name)
    assert "${{" not in step["run"], "inputs reach a script through env, never pasted into it"
    env = {**os.environ, **runner}
    for key, text in step.get("env", {}).items():
        env[key] = _EXPRESSION.sub(lambda m: _value(m.group(1), inputs, outputs), str(text))
    return subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )


def test_the_action_is_composite_with_the_four_stages() -> None:
    assert ACTION["runs"]["using"] == "composite"
    uses = [s.get("uses", "") for s in ACTION["runs"]["steps"]]
    assert any(u.startswith("actions/setup-python@") for u in uses)
    assert any(u.startswith("github/codeql-action/upload-sarif@") for u in uses)
    names = [s.get("name") for s in ACTION["runs"]["steps"]]
    assert names.index("Run depwatch") < names.index("Upload SARIF to code scanning")
    assert names[-1] == "Gate on fail-on"  # the upload happens even when the gate fails
    assert "always()" in _step("Upload SARIF to code scanning")["if"]
    assert "[vulns]" in _step("Install depwatch")["run"]


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")
def test_the_action_installs_audits_summarises_and_gates(tmp_path: Path) -> None:
    project = tmp_path / "project"
    shutil.copytree(FIXTURES / "projects" / "genai-app", project)
    temp = tmp_path / "runner-temp"
    temp.mkdir()
    runner = {
        "RUNNER_TEMP": str(temp),
        "GITHUB_ACTION_PATH": str(REPO),
        "GITHUB_OUTPUT": str(tmp_path / "output"),
        "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md"),
        "NO_COLOR": "1",
    }
    inputs = {k: str(v.get("default", "")) for k, v in ACTION["inputs"].items()}
    inputs["vulns"] = "false"  # no network here; --vulns has its own tests
    outputs: dict[str, str] = {}

    installed = _run_step("Install depwatch", project, runner, inputs, outputs)
    if installed.returncode != 0 and "No matching distribution" in installed.stderr:
        pytest.skip(f"the package index cannot be reached: {installed.stderr[-300:]}")
    assert installed.returncode == 0, installed.stderr
    assert installed.stdout.startswith("depwatch ")

    ran = _run_step("Run depwatch", project, runner, inputs, outputs)
    assert ran.returncode == 0, ran.stderr  # the gate is a later step
    assert "google-genai/response-format-wire-names" in ran.stdout  # the table, in the log
    outputs = dict(
        line.split("=", 1) for line in Path(runner["GITHUB_OUTPUT"]).read_text().splitlines()
    )
    assert outputs["exit-code"] == "1"
    sarif = json.loads(Path(outputs["sarif-file"]).read_text())
    assert sarif["runs"][0]["results"]
    summary = Path(runner["GITHUB_STEP_SUMMARY"]).read_text()
    assert "google-genai/response-format-wire-names" in summary

    gate = _run_step("Gate on fail-on", project, runner, inputs, outputs)
    assert gate.returncode == 1
    assert "::error title=depwatch::" in gate.stdout

    # With fail-on never the gate passes; with no lockfile it cannot be trusted (exit 2).
    Path(runner["GITHUB_OUTPUT"]).write_text("")
    ran = _run_step("Run depwatch", project, runner, {**inputs, "fail-on": "never"}, {})
    assert ran.returncode == 0, ran.stderr
    assert "exit-code=0" in Path(runner["GITHUB_OUTPUT"]).read_text()
    empty = tmp_path / "empty"
    empty.mkdir()
    Path(runner["GITHUB_OUTPUT"]).write_text("")
    ran = _run_step("Run depwatch", empty, runner, inputs, {})
    assert "exit-code=2" in Path(runner["GITHUB_OUTPUT"]).read_text()
    assert _run_step("Gate on fail-on", empty, runner, inputs, {"exit-code": "2"}).returncode == 2
