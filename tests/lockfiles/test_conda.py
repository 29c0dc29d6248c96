"""The conda-lock.yml reader against handmade files in the real format, the corpus and broken files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from packaging.version import InvalidVersion, Version

from depwatch.errors import DepwatchError
from depwatch.lockfiles import conda, reader_for
from depwatch.model import Package

HERE = Path(__file__).resolve().parent
FIXTURES = HERE.parent / "fixtures" / "lockfiles" / "conda"
MULTI = FIXTURES / "handmade" / "multi-platform.conda-lock.yml"
LINUX_64 = "sys_platform == 'linux' and platform_machine == 'x86_64'"
OSX_ARM64 = "sys_platform == 'darwin' and platform_machine == 'arm64'"


def by_name(packages: tuple[Package, ...], name: str) -> list[Package]:
    """The packages called ``name``."""
    return [p for p in packages if p.name == name]


def test_matches_conda_lock_names_only() -> None:
    assert conda.matches(Path("conda-lock.yml"))
    assert conda.matches(Path("ci.conda-lock.yml"))
    assert not conda.matches(Path("environment.yml"))
    assert reader_for(Path("x/conda-lock.yml")) is conda


def test_same_version_on_several_platforms_is_one_package_without_markers() -> None:
    contents = conda.read(MULTI)
    (python,) = by_name(contents.packages, "python")
    assert (python.version, python.markers, python.groups) == ("3.11.9", None, ("main",))
    (pytest_,) = by_name(contents.packages, "pytest")
    assert pytest_.groups == ("dev",)


def test_different_versions_per_platform_are_several_packages_with_platform_markers() -> None:
    numpy = {(p.version, p.markers) for p in by_name(conda.read(MULTI).packages, "numpy")}
    assert numpy == {("1.26.4", LINUX_64), ("2.0.1", OSX_ARM64)}


def test_pip_packages_are_read_and_names_normalised() -> None:
    contents = conda.read(MULTI)
    (typing_ext,) = by_name(contents.packages, "typing-extensions")  # Typing_Extensions on osx
    assert (typing_ext.version, typing_ext.source, typing_ext.markers) == (
        "4.12.2",
        "registry",
        None,
    )
    (mytool,) = by_name(contents.packages, "mytool")
    assert (mytool.source, mytool.markers) == ("git", LINUX_64)
    assert by_name(contents.packages, "-libgcc-mutex")[0].version == "0.1"


def test_non_pep440_conda_version_is_kept_as_text_and_noted() -> None:
    contents = conda.read(MULTI)
    (jpeg,) = by_name(contents.packages, "jpeg")
    assert jpeg.version == "9e"
    assert jpeg.note is not None
    assert "not a PEP 440 version" in jpeg.note
    assert all(p.note is None for p in contents.packages if p.name != "jpeg")


def test_locked_python_versions_are_reported() -> None:
    contents = conda.read(MULTI)
    assert contents.python_versions == ("3.11.9",)
    assert contents.requires_python is None
    assert contents.warnings == ()


def test_early_format_without_version_key() -> None:
    contents = conda.read(FIXTURES / "handmade" / "no-version-key.conda-lock.yml")
    assert {(p.name, p.version) for p in contents.packages} == {
        ("python", "3.10.2"),
        ("font-ttf-inconsolata", "3.000"),  # written as locked, not PEP 440-normalised
    }
    assert contents.python_versions == ("3.10.2",)


def test_newer_format_version_reads_with_a_warning_and_categories() -> None:
    contents = conda.read(FIXTURES / "handmade" / "future-version.conda-lock.yml")
    (idna,) = contents.packages
    assert (idna.name, idna.version, idna.groups) == ("idna", "3.7", ("main", "docs"))
    (warning,) = contents.warnings
    assert "version 7 is newer" in warning


BROKEN = FIXTURES / "broken"


@pytest.mark.parametrize(
    ("fixture", "line", "key", "message"),
    [
        ("malformed.conda-lock.yml", 4, None, "is not valid YAML"),
        ("truncated.conda-lock.yml", None, "package[1].name", "'name' is missing"),
        (
            "version-is-a-number.conda-lock.yml",
            None,
            "package[0].version",
            "must be text, not a number",
        ),
        ("version-missing.conda-lock.yml", None, "package[0].version", "'version' is missing"),
        ("package-is-a-mapping.conda-lock.yml", None, "package", "must be a list, not a mapping"),
        ("unknown-manager.conda-lock.yml", None, "package[0].manager", "must be conda or pip"),
        ("environment-yml-given.conda-lock.yml", None, "package", "has no 'package' list"),
        ("top-level-list.conda-lock.yml", None, None, "the top level is a list"),
        ("binary-junk.conda-lock.yml", None, None, "is a binary file"),
    ],
)
def test_bad_input_is_an_error_naming_the_file(
    fixture: str, line: int | None, key: str | None, message: str
) -> None:
    with pytest.raises(DepwatchError) as caught:
        conda.read(BROKEN / fixture)
    error = caught.value
    assert fixture in str(error)
    assert (error.line, error.key) == (line, key)
    assert message in str(error)


def _as_version(text: str) -> Version | str:
    try:
        return Version(text)
    except InvalidVersion:
        return text


def test_shared_corpus_conda_lock_gives_exactly_the_expected_pins(shared: Path) -> None:
    lock = shared / "corpus" / "lockfiles" / "conda" / "esmvalcore-2022" / "conda-lock.yml"
    expected_file = (
        shared / "corpus" / "expected" / "conda" / "esmvalcore-2022" / "conda-lock.yml.json"
    )
    if not lock.is_file() or not expected_file.is_file():
        pytest.skip(f"{lock} is not in the corpus")
    expected = json.loads(expected_file.read_text(encoding="utf-8"))
    contents = conda.read(lock)
    got = {(p.name, _as_version(p.version)) for p in contents.packages if p.version}
    assert got == {(n, _as_version(v)) for n, v in expected["packages"]}
    noted = {p.name for p in contents.packages if p.note}
    not_pep440 = {n for n, _, why in expected["version_warnings"] if why == "not PEP 440"}
    assert noted == not_pep440
    assert contents.python_versions == ("3.10.2",)
