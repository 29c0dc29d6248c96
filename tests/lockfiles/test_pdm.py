"""The pdm.lock reader against locks written by PDM, handmade old formats and bad input."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from depwatch.errors import DepwatchError
from depwatch.lockfiles import pdm, reader_for
from depwatch.model import Package

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "lockfiles" / "pdm"


def _by_name(packages: tuple[Package, ...]) -> dict[str, Package]:
    return {p.name: p for p in packages}


def _pdm() -> str | None:
    found = shutil.which("pdm") or shutil.which("pdm", path=str(Path(sys.executable).parent))
    if found is None and Path("/tmp/tools/pdm/bin/pdm").exists():
        found = "/tmp/tools/pdm/bin/pdm"
    return found


def test_matches_only_pdm_lock() -> None:
    assert pdm.matches(Path("pdm.lock"))
    assert not pdm.matches(Path("pdm.toml"))
    assert reader_for(FIXTURES / "app" / "pdm.lock") is pdm


def test_generated_lock_dedupes_extras_entries() -> None:
    contents = pdm.read(FIXTURES / "app" / "pdm.lock")
    names = [p.name for p in contents.packages]
    # coverage is written twice (plain and [toml]); it is one package.
    assert names.count("coverage") == 1
    got = _by_name(contents.packages)
    assert contents.requires_python == ">=3.10"
    assert contents.warnings == ()
    assert got["gitpkg"].source == "git"
    assert got["localpkg"].source == "editable"
    assert got["idna"].source == "registry"
    assert got["idna"].version == "3.10"
    assert got["idna"].groups == ("default",)
    assert got["coverage"].groups == ("dev",)
    assert got["pysocks"].groups == ("socks",)
    assert got["colorama"].markers == 'sys_platform == "win32"'
    assert got["six"].markers is None
    assert all(p.direct is None for p in contents.packages)


def test_targets() -> None:
    contents = pdm.read(FIXTURES / "targets" / "pdm.lock")
    assert contents.requires_python == "==3.12.*"
    got = _by_name(contents.packages)
    assert got["six"].markers == 'python_version == "3.12"'


def test_targets_with_different_ranges_warn(tmp_path: Path) -> None:
    path = tmp_path / "pdm.lock"
    path.write_text(
        '[metadata]\nlock_version = "4.5.0"\n'
        '[[metadata.targets]]\nrequires_python = ">=3.9,<3.10"\n'
        '[[metadata.targets]]\nrequires_python = ">=3.12"\n'
    )
    contents = pdm.read(path)
    assert contents.requires_python is None
    assert any("targets" in w for w in contents.warnings)


def test_lock_3_1_metadata_at_the_end() -> None:
    contents = pdm.read(FIXTURES / "handmade" / "lock-3.1.lock")
    got = _by_name(contents.packages)
    assert {(p.name, p.version) for p in contents.packages} == {
        ("certifi", "2021.10.8"),
        ("coverage", "6.3.2"),
        ("mylib", "0.1.0"),
        ("requests", "2.27.1"),
        ("tomli", "2.0.1"),
        ("zipped", "1.0"),
    }
    assert len(contents.packages) == 6
    assert got["requests"].source == "git"
    assert got["mylib"].source == "editable"
    assert got["zipped"].source == "path"
    assert got["tomli"].markers == 'python_full_version <= "3.11.0a6"'
    assert contents.warnings == ()


def test_lock_4_4_names_and_local_version() -> None:
    contents = pdm.read(FIXTURES / "handmade" / "lock-4.4.lock")
    got = _by_name(contents.packages)
    assert got["click"].groups == ("default", "lint")
    assert got["legacy"].version == "1.0+custom"
    assert got["legacy"].source == "url"


def test_same_name_and_version_from_two_sources_stay_apart(tmp_path: Path) -> None:
    path = tmp_path / "pdm.lock"
    path.write_text(
        '[metadata]\nlock_version = "4.5.0"\n'
        '[[package]]\nname = "a"\nversion = "1.0"\ngroups = ["default"]\n'
        '[[package]]\nname = "a"\nversion = "1.0"\nextras = ["x"]\ngroups = ["dev"]\n'
        "marker = \"os_name == 'nt'\"\n"
        '[[package]]\nname = "a"\nversion = "1.0"\ngit = "https://example.com/a.git"\n'
    )
    packages = pdm.read(path).packages
    assert [(p.name, p.source) for p in packages] == [("a", "registry"), ("a", "git")]
    # Groups are merged across the extras entries; one unconditional entry means no marker.
    assert packages[0].groups == ("default", "dev")
    assert packages[0].markers is None


_PKG = '[[package]]\nname = "a"\nversion = "1.0"\n'


@pytest.mark.parametrize(
    ("text", "message", "key"),
    [
        ("[[package]\nname = 'a'\n", "is not valid TOML", None),
        ('[[package]]\nname = "a"\nversion = "1.', "is not valid TOML", None),
        ("", "is empty", None),
        ('package = "oops"\n', "must be an array of tables", "package"),
        ("package = [1]\n", "must be a table", "package[0]"),
        ('[[package]]\nversion = "1.0"\n', "has no 'name'", "package[0].name"),
        ("[[package]]\nname = 1\n", "name that is not a string", "package[0].name"),
        (
            f'{_PKG}[[package]]\nname = "b"\nversion = 2.0\n',
            "version that is not a string",
            "package[1].version",
        ),
        (f"{_PKG}groups = 'default'\n", "list of strings", "package[0].groups"),
        (f"{_PKG}marker = 1\n", "must be a string", "package[0].marker"),
        ('metadata = "x"\n', "must be a table", "metadata"),
        ("[metadata]\nlock_version = 4.5\n", "must be a string", "metadata.lock_version"),
        ("[metadata]\nrequires_python = 3\n", "must be a string", "metadata.requires_python"),
        ('[metadata]\ntargets = "x"\n', "array of tables", "metadata.targets"),
        (
            "[[metadata.targets]]\nrequires_python = 3\n",
            "must be a string",
            "metadata.targets[0].requires_python",
        ),
    ],
)
def test_bad_input_is_a_depwatch_error(
    tmp_path: Path, text: str, message: str, key: str | None
) -> None:
    path = tmp_path / "pdm.lock"
    path.write_text(text)
    with pytest.raises(DepwatchError) as caught:
        pdm.read(path)
    assert message in str(caught.value)
    assert "pdm.lock" in str(caught.value)
    if key is not None:
        assert caught.value.key == key


@pytest.mark.parametrize("project", ["app", "targets"])
def test_agrees_with_pdm_export(tmp_path: Path, project: str) -> None:
    pdm_bin = _pdm()
    if pdm_bin is None:
        pytest.skip("PDM is not installed")
    work = tmp_path / project
    shutil.copytree(FIXTURES / project, work)  # PDM writes .pdm-python beside the project
    env = {**os.environ, "PDM_CHECK_UPDATE": "false", "PDM_IGNORE_SAVED_PYTHON": "1"}
    result = subprocess.run(
        [pdm_bin, "export", "-G", ":all", "-f", "requirements", "--no-hashes"],
        cwd=work,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert result.returncode == 0, result.stderr
    pins = set()
    for line in result.stdout.splitlines():
        requirement = line.split(";")[0].strip()
        if "==" in requirement and not requirement.startswith("#"):
            name, _, version = requirement.partition("==")
            pins.add((name.split("[")[0].strip(), version.strip()))
    packages = pdm.read(work / "pdm.lock").packages
    assert pins == {(p.name, p.version) for p in packages if p.source == "registry"}
    for p in packages:
        if p.source != "registry":
            assert p.name in result.stdout
