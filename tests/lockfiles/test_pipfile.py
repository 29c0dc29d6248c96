"""The Pipfile.lock reader against pipenv's own output, handmade older/odd files and broken ones."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from packaging.version import InvalidVersion, Version

from depwatch.errors import DepwatchError
from depwatch.lockfiles import pipfile, reader_for, requirements
from depwatch.model import Package

HERE = Path(__file__).resolve().parent
FIXTURES = HERE.parent / "fixtures" / "lockfiles" / "pipfile"
BASIC = FIXTURES / "basic"


def by_name(packages: tuple[Package, ...], name: str) -> list[Package]:
    """The packages called ``name``."""
    return [p for p in packages if p.name == name]


def in_group(packages: tuple[Package, ...], group: str) -> set[tuple[str, str | None]]:
    """(name, version) of the packages in ``group``."""
    return {(p.name, p.version) for p in packages if group in p.groups}


def test_matches_only_pipfile_lock() -> None:
    assert pipfile.matches(Path("proj/Pipfile.lock"))
    assert not pipfile.matches(Path("proj/Pipfile"))
    assert reader_for(Path("Pipfile.lock")) is pipfile


def test_pipenv_lock_default_and_develop() -> None:
    contents = pipfile.read(BASIC / "Pipfile.lock")
    assert in_group(contents.packages, "default") == {
        ("attrs", "26.1.0"),
        ("idna", "3.7"),
        ("six", "1.17.0"),
        ("local-pkg", None),
        ("tomli", None),
    }
    assert in_group(contents.packages, "develop") == {("idna", "3.7"), ("iniconfig", "2.3.1")}
    (idna,) = by_name(contents.packages, "idna")  # same version in both sections: one package
    assert idna.groups == ("default", "develop")
    assert idna.markers == "python_version >= '3.5'"
    assert all(p.direct is None for p in contents.packages)


def test_pipenv_editable_path_entry_has_no_version() -> None:
    contents = pipfile.read(BASIC / "Pipfile.lock")
    (local,) = by_name(contents.packages, "local-pkg")
    assert (local.version, local.source) == (None, "editable")


def test_pipenv_star_version_is_listed_without_version_and_warned() -> None:
    contents = pipfile.read(BASIC / "Pipfile.lock")
    (tomli,) = by_name(contents.packages, "tomli")
    assert (tomli.version, tomli.source, tomli.markers) == (
        None,
        "registry",
        "python_version < '3.11'",
    )
    assert contents.warnings == (
        "default.tomli: locked version '*' is not an exact pin; listed without a version",
    )


def test_requires_python_version_is_that_minor_release() -> None:
    assert pipfile.read(BASIC / "Pipfile.lock").requires_python == "==3.11.*"


def test_requires_python_full_version_wins() -> None:
    contents = pipfile.read(FIXTURES / "handmade" / "different-pins.Pipfile.lock")
    assert contents.requires_python == "==3.11.4"


def test_a_name_pinned_differently_in_default_and_develop_is_two_packages() -> None:
    contents = pipfile.read(FIXTURES / "handmade" / "different-pins.Pipfile.lock")
    idna = {(p.version, p.groups, p.markers) for p in by_name(contents.packages, "idna")}
    assert idna == {
        ("3.7", ("default",), "python_version >= '3.5'"),
        ("3.8", ("develop",), "python_version >= '3.6'"),
    }


def test_git_path_file_entries_and_custom_categories() -> None:
    contents = pipfile.read(FIXTURES / "handmade" / "different-pins.Pipfile.lock")
    got = {p.name: (p.version, p.source) for p in contents.packages if p.name != "idna"}
    assert got == {
        "django-extensions": (None, "git"),
        "vendored": (None, "path"),
        "remote-wheel": (None, "url"),
        "iniconfig": ("2.0.0", "registry"),
    }
    (iniconfig,) = by_name(contents.packages, "iniconfig")
    assert iniconfig.groups == ("develop", "docs")
    assert iniconfig.markers is None  # installed everywhere in develop


def test_pipfile_spec_5_with_unnamed_editables() -> None:
    contents = pipfile.read(FIXTURES / "handmade" / "pipfile-spec-5.Pipfile.lock")
    assert {(p.name, p.version, p.source) for p in contents.packages} == {
        ("six", "1.11.0", "registry"),
        ("e1839a8", None, "editable"),
    }
    assert contents.requires_python == "==2.7.*"
    assert contents.warnings == (
        "default.-e ./other: '-e ./other' is not a package name; not listed",
    )


def test_agrees_with_the_committed_pipenv_requirements_export() -> None:
    """``pipenv requirements`` (made by regenerate.sh) read back gives the same pins."""
    lock = pipfile.read(BASIC / "Pipfile.lock").packages
    default = requirements.read(BASIC / "requirements-default.txt").packages
    dev = requirements.read(BASIC / "requirements-dev-only.txt").packages
    versioned = {(p.name, p.version) for p in lock if p.version}
    assert {(p.name, p.version) for p in default if p.version} == {
        pair for pair in versioned if pair in in_group(lock, "default")
    }
    assert {(p.name, p.version) for p in dev} == in_group(lock, "develop")


def _pipenv() -> str:
    # The dev group installs pipenv beside the interpreter; the venv need not be activated.
    found = (
        os.environ.get("PIPENV")
        or shutil.which("pipenv")
        or shutil.which("pipenv", path=str(Path(sys.executable).parent))
    )
    if not found:
        pytest.skip("pipenv is not installed (set PIPENV=/path/to/pipenv to run this test)")
    return found


@pytest.mark.parametrize(("flag", "group"), [(None, "default"), ("--dev-only", "develop")])
def test_agrees_with_pipenv_requirements_live(tmp_path: Path, flag: str | None, group: str) -> None:
    """The installed pipenv exports the lock; its pins equal the reader's (name, version) set."""
    pipenv = _pipenv()
    shutil.copytree(BASIC, tmp_path / "basic")
    env = {
        **os.environ,
        "PIPENV_IGNORE_VIRTUALENVS": "1",
        "PIPENV_VERBOSITY": "-1",
        "NO_COLOR": "1",
    }
    result = subprocess.run(
        [pipenv, "requirements", *([flag] if flag else [])],
        cwd=tmp_path / "basic",
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    export = tmp_path / "exported-requirements.txt"
    export.write_text(result.stdout, encoding="utf-8")
    exported = {(p.name, p.version) for p in requirements.read(export).packages if p.version}
    lock = pipfile.read(BASIC / "Pipfile.lock").packages
    assert exported == {pair for pair in in_group(lock, group) if pair[1] is not None}


BROKEN = FIXTURES / "broken"


@pytest.mark.parametrize(
    ("fixture", "line", "key", "message"),
    [
        ("truncated.Pipfile.lock", 4, None, "is not valid JSON"),
        (
            "default-is-a-list.Pipfile.lock",
            None,
            "default",
            "must be an object of packages, not a list",
        ),
        (
            "version-is-a-number.Pipfile.lock",
            None,
            "default.requests.version",
            "must be a string, not a number",
        ),
        ("top-level-list.Pipfile.lock", None, None, "the top level is a list"),
        ("binary-junk.Pipfile.lock", None, None, "is a binary file"),
        ("bad-marker.Pipfile.lock", None, "default.idna.markers", "invalid environment marker"),
        ("entry-is-a-string.Pipfile.lock", None, "default.idna", "an entry must be an object"),
        (
            "python-version-is-a-number.Pipfile.lock",
            None,
            "_meta.requires.python_version",
            "must be a string",
        ),
    ],
)
def test_bad_input_is_an_error_naming_the_file(
    fixture: str, line: int | None, key: str | None, message: str
) -> None:
    with pytest.raises(DepwatchError) as caught:
        pipfile.read(BROKEN / fixture)
    error = caught.value
    assert fixture in str(error)
    assert (error.line, error.key) == (line, key)
    assert message in str(error)


def _as_version(text: str) -> Version | str:
    try:
        return Version(text)
    except InvalidVersion:
        return text


@pytest.mark.parametrize("name", ["pipenv", "pipenv-examples"])
def test_shared_corpus_files_give_exactly_the_expected_pins(shared: Path, name: str) -> None:
    lock = shared / "corpus" / "lockfiles" / "pipfile" / name / "Pipfile.lock"
    expected_file = shared / "corpus" / "expected" / "pipfile" / name / "Pipfile.lock.json"
    if not lock.is_file() or not expected_file.is_file():
        pytest.skip(f"{lock} is not in the corpus")
    expected = json.loads(expected_file.read_text(encoding="utf-8"))
    packages = pipfile.read(lock).packages
    for key, group in (("packages_default", "default"), ("packages_develop", "develop")):
        got = {(n, _as_version(v)) for n, v in in_group(packages, group) if v}
        assert got == {(n, _as_version(v)) for n, v in expected[key]}
    got_all = {(p.name, _as_version(p.version)) for p in packages if p.version}
    assert got_all == {(n, _as_version(v)) for n, v in expected["packages"]}
