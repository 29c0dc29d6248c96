"""The poetry.lock reader against a lock written by Poetry, handmade old formats and bad input."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from depwatch.errors import DepwatchError
from depwatch.lockfiles import poetry, reader_for
from depwatch.model import Package

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "lockfiles" / "poetry"


def _by_name(packages: tuple[Package, ...]) -> dict[str, Package]:
    return {p.name: p for p in packages}


def test_matches_only_poetry_lock() -> None:
    assert poetry.matches(Path("poetry.lock"))
    assert not poetry.matches(Path("poetry.toml"))
    assert reader_for(FIXTURES / "app" / "poetry.lock") is poetry


def test_generated_lock() -> None:
    contents = poetry.read(FIXTURES / "app" / "poetry.lock")
    got = _by_name(contents.packages)
    assert contents.requires_python == ">=3.10,<4"
    assert contents.warnings == ()
    assert {name: p.source for name, p in got.items()} == {
        "attrs": "registry",  # Poetry records PyPI's simple index as a "legacy" source
        "certifi": "registry",
        "colorama": "registry",
        "gitpkg": "git",
        "idna": "registry",
        "localdir": "directory",
        "localpkg": "editable",
        "packaging": "registry",
        "pysocks": "registry",
        "six": "registry",
    }
    assert got["idna"].version == "3.10"
    assert got["attrs"].groups == ("dev",)
    assert got["six"].groups == ("main",)
    assert got["colorama"].markers == 'sys_platform == "win32"'
    assert got["pysocks"].markers == 'extra == "socks"'
    assert got["idna"].markers is None
    assert all(p.direct is None for p in contents.packages)  # the audit fills it in


def test_lock_1_1_sources_categories_and_names() -> None:
    got = _by_name(poetry.read(FIXTURES / "handmade" / "lock-1.1.lock").packages)
    assert got["flask-cors"].version == "3.0.10"  # name normalised
    assert got["attrs"].groups == ("dev",)
    assert got["requests"].groups == ("main",)
    assert {name: p.source for name, p in got.items()} == {
        "attrs": "registry",
        "flask-cors": "registry",
        "mylib": "editable",
        "requests": "git",
        "wheelpkg": "path",
        "urlpkg": "url",
    }


def test_lock_1_0_marker_and_local_version() -> None:
    contents = poetry.read(FIXTURES / "handmade" / "lock-1.0.lock")
    got = _by_name(contents.packages)
    assert got["colorama"].markers == 'sys_platform == "win32"'
    assert got["legacycal"].version == "2020.1+hotfix"
    # "~3.7 || ^3.8" has no PEP 440 form: left unset, with a warning.
    assert contents.requires_python is None
    assert any("python-versions" in w for w in contents.warnings)


def test_pre_1_0_lock() -> None:
    contents = poetry.read(FIXTURES / "handmade" / "pre-1.0.lock")
    assert {(p.name, p.version, p.groups) for p in contents.packages} == {
        ("idna", "2.8", ("main",)),
        ("six", "1.12.0", ("dev",)),
    }
    assert contents.requires_python == ">=3.6,<4"


def test_lock_2_0_without_groups() -> None:
    contents = poetry.read(FIXTURES / "handmade" / "lock-2.0.lock")
    assert {(p.name, p.version) for p in contents.packages} == {
        ("colorama", "0.4.6"),
        ("exceptiongroup", "1.2.1"),
        ("pytest", "8.2.2"),
    }
    assert all(p.groups == () for p in contents.packages)
    assert contents.requires_python == ">=3.8,<4.0"


def test_lock_2_1_markers_per_group() -> None:
    got = _by_name(poetry.read(FIXTURES / "handmade" / "lock-2.1-group-markers.lock").packages)
    assert got["colorama"].groups == ("main", "dev")
    assert got["colorama"].markers == (
        '(platform_system == "Windows") or (sys_platform == "win32")'
    )
    assert got["tomli"].markers == 'python_version < "3.11"'
    # As Poetry 2.5 writes a main dependency that dev also pulls in on old Pythons: the table
    # leaves main out, so main installs it everywhere (`poetry export` writes no marker).
    assert got["typing-extensions"].groups == ("main", "dev")
    assert got["typing-extensions"].markers is None


@pytest.mark.parametrize(
    ("constraint", "expected"),
    [
        ("^3.9", ">=3.9,<4"),
        ("^3.9.2", ">=3.9.2,<4"),
        ("^0.2.3", ">=0.2.3,<0.3"),
        ("~3.9", ">=3.9,<3.10"),
        ("~3", ">=3,<4"),
        (">=3.8,<4.0", ">=3.8,<4.0"),
        (">=3.8 <4.0", ">=3.8,<4.0"),
        ("3.11.*", "==3.11.*"),
        ("*", None),
        (">=2.7 || >=3.5", None),
        ("nonsense", None),
    ],
)
def test_python_constraint_to_pep440(constraint: str, expected: str | None) -> None:
    assert poetry.python_constraint_to_pep440(constraint) == expected


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
        ('[[package]]\nname = "a"\n', "has no 'version'", "package[0].version"),
        (
            f'{_PKG}[[package]]\nname = "b"\nversion = 2.0\n',
            "version that is not a string",
            "package[1].version",
        ),
        (f"{_PKG}groups = 'main'\n", "list of strings", "package[0].groups"),
        (f"{_PKG}category = 1\n", "must be a string", "package[0].category"),
        (f"{_PKG}markers = 1\n", "string or a table", "package[0].markers"),
        (f"{_PKG}source = 'git'\n", "not a table", "package[0].source"),
        (f"{_PKG}[package.source]\nurl = 'x'\n", "without a 'type'", "package[0].source.type"),
        (
            f"{_PKG}[package.source]\ntype = 'svn'\n",
            "unknown source type",
            "package[0].source.type",
        ),
        ('metadata = "x"\n', "must be a table", "metadata"),
        ("[metadata]\nlock-version = 2.1\n", "must be a string", "metadata.lock-version"),
        ("[metadata]\npython-versions = 3\n", "must be a string", "metadata.python-versions"),
    ],
)
def test_bad_input_is_a_depwatch_error(
    tmp_path: Path, text: str, message: str, key: str | None
) -> None:
    path = tmp_path / "poetry.lock"
    path.write_text(text)
    with pytest.raises(DepwatchError) as caught:
        poetry.read(path)
    assert message in str(caught.value)
    assert "poetry.lock" in str(caught.value)
    if key is not None:
        assert caught.value.key == key


def test_newer_lock_version_is_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "poetry.lock"
    path.write_text(f'{_PKG}[metadata]\nlock-version = "3.0"\n')
    contents = poetry.read(path)
    assert [(p.name, p.version) for p in contents.packages] == [("a", "1.0")]
    assert any("newer" in w for w in contents.warnings)


def _poetry_python() -> str | None:
    """The interpreter Poetry runs on (its lock reader is the reference), if installed."""
    found = shutil.which("poetry") or shutil.which("poetry", path=str(Path(sys.executable).parent))
    if found is None and Path("/tmp/tools/poetry/bin/poetry").exists():
        found = "/tmp/tools/poetry/bin/poetry"
    if found is None:
        return None
    first = Path(found).read_text(errors="replace").splitlines()[0]
    return first[2:].strip() if first.startswith("#!") else None


_LOCKER = """
import json, sys
from pathlib import Path
from poetry.packages.locker import Locker
repo = Locker(Path(sys.argv[1]), {}).locked_repository()
print(json.dumps(sorted([p.name, p.pretty_version] for p in repo.packages)))
"""


# Today's Poetry refuses the form before 1.0 and a non-PEP 440 version (lock-1.0.lock), so
# those are checked above only.
@pytest.mark.parametrize(
    "relative",
    [
        "app/poetry.lock",
        "handmade/lock-1.1.lock",
        "handmade/lock-2.0.lock",
        "handmade/lock-2.1-group-markers.lock",
    ],
)
def test_agrees_with_poetrys_own_lock_reader(relative: str) -> None:
    python = _poetry_python()
    if python is None:
        pytest.skip("Poetry is not installed")
    result = subprocess.run(
        [python, "-c", _LOCKER, str(FIXTURES / relative)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    if result.returncode != 0 and "No module named 'poetry'" in result.stderr:
        pytest.skip("Poetry's interpreter cannot import poetry")
    assert result.returncode == 0, result.stderr
    theirs = {tuple(pair) for pair in json.loads(result.stdout)}
    ours = {(p.name, p.version) for p in poetry.read(FIXTURES / relative).packages}
    assert ours == theirs
