"""The requirements reader against pip-compile and uv output, hand-written files and broken ones."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from packaging.version import InvalidVersion, Version

from depwatch.errors import DepwatchError
from depwatch.lockfiles import reader_for, requirements
from depwatch.model import Package

HERE = Path(__file__).resolve().parent
FIXTURES = HERE.parent / "fixtures" / "lockfiles" / "requirements"


def pairs(packages: tuple[Package, ...]) -> set[tuple[str, str | None]]:
    """The (name, version) pairs of a reader's packages."""
    return {(p.name, p.version) for p in packages}


def by_name(packages: tuple[Package, ...], name: str) -> list[Package]:
    """The packages called ``name``."""
    return [p for p in packages if p.name == name]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("requirements.txt", True),
        ("requirements-dev.txt", True),
        ("test-requirements.txt", True),
        ("dev_requirements.txt", True),
        ("constraints.txt", True),
        ("requirements.in", False),
        ("notes.txt", False),
        ("requirements/main.txt", True),
    ],
)
def test_matches_by_name(name: str, expected: bool) -> None:
    assert requirements.matches(Path(name)) is expected


def test_any_txt_named_explicitly_reads_as_requirements() -> None:
    assert reader_for(Path("deps/main.txt"), explicit=True) is requirements
    with pytest.raises(DepwatchError, match="not a lockfile"):
        reader_for(Path("deps/main.txt"))


def test_pip_compile_with_hashes_extras_and_via() -> None:
    contents = requirements.read(FIXTURES / "pip-compile" / "requirements.txt")
    names = {p.name for p in contents.packages}
    assert {"requests", "six", "iniconfig", "idna", "urllib3", "pysocks"} <= names
    assert all(p.version and p.source == "registry" for p in contents.packages)
    (six,) = by_name(contents.packages, "six")
    assert six.version == "1.16.0"
    (requests,) = by_name(contents.packages, "requests")  # written as requests[socks]==…
    assert requests.direct is True
    assert requests.groups == ()
    (idna,) = by_name(contents.packages, "idna")
    assert idna.direct is False  # "# via requests" only
    assert contents.warnings == ()


def test_via_naming_pyproject_is_direct_for_pip_compile_and_uv() -> None:
    for tool in ("pip-compile", "uv"):
        contents = requirements.read(FIXTURES / tool / "pyproject-requirements.txt")
        direct = {p.name: p.direct for p in contents.packages}
        if tool == "uv":
            assert direct == {"exceptiongroup": True, "idna": True, "typing-extensions": False}
        else:
            assert direct == {"packaging": True, "pluggy": True}


def test_uv_universal_fork_gives_one_package_per_version_with_markers() -> None:
    contents = requirements.read(FIXTURES / "uv" / "requirements.txt")
    iniconfig = sorted(
        by_name(contents.packages, "iniconfig"), key=lambda p: Version(p.version or "0")
    )
    assert [p.version for p in iniconfig] == ["1.1.1", "2.3.1"]
    assert iniconfig[0].markers == "python_full_version < '3.10'"
    assert iniconfig[1].markers == "python_full_version >= '3.10'"
    (tomli,) = by_name(contents.packages, "tomli")
    assert tomli.markers == "python_full_version < '3.11'"
    assert tomli.direct is True


def test_includes_are_followed_relative_to_the_including_file() -> None:
    contents = requirements.read(FIXTURES / "includes" / "requirements.txt")
    uv_pins = pairs(requirements.read(FIXTURES / "uv" / "requirements.txt").packages)
    assert uv_pins <= pairs(contents.packages)
    # nested/more-requirements.txt, included with -r, and this file's own pin
    assert ("attrs", "24.2.0") in pairs(contents.packages)
    assert ("six", "1.17.0") in pairs(contents.packages)


def test_constraint_pins_are_listed_with_the_constraint_group_once() -> None:
    contents = requirements.read(FIXTURES / "includes" / "requirements.txt")
    (idna,) = by_name(contents.packages, "idna")
    assert (idna.version, idna.groups, idna.direct) == ("3.8", ("constraint",), None)
    # six is pinned by the file itself and by the constraints file: listed once, not a constraint
    (six,) = by_name(contents.packages, "six")
    assert six.groups == ()
    assert six.direct is True


def test_an_include_cycle_is_stopped_with_a_warning() -> None:
    contents = requirements.read(FIXTURES / "includes" / "requirements.txt")
    assert len(contents.packages) == len(set(contents.packages))
    (warning,) = contents.warnings
    assert warning.startswith("nested/more-requirements.txt:2: -r ../requirements.txt")
    assert "cycle" in warning


def test_every_kind_of_line_a_requirements_file_may_hold() -> None:
    contents = requirements.read(FIXTURES / "handmade" / "mixed-requirements.txt")
    got = {p.name: (p.version, p.source) for p in contents.packages}
    assert got == {
        "six": ("1.16.0", "registry"),  # ===
        "zope-interface": ("6.4", "registry"),  # normalised name, spaces around ==
        "requests": ("2.32.3", "registry"),  # extras
        "attrs": ("24.2.0", "registry"),  # --hash on the same line
        "packaging": ("24.1", "url"),  # name @ a wheel's https URL: its file name's version
        "tomli": (None, "git"),  # name @ git+
        "mylib": (None, "directory"),  # name @ file:// folder
        "sampleproject": (None, "git"),  # -e VCS with #egg=
        "local-thing": (None, "editable"),  # -e ./local: name from its pyproject.toml
        "wheelpkg": ("1.0", "path"),  # a bare wheel path: name and version from the file name
    }
    (zope,) = by_name(contents.packages, "zope-interface")
    assert zope.markers == 'python_version >= "3.8" and sys_platform != "win32"'
    (requests_,) = by_name(contents.packages, "requests")
    assert requests_.direct is True  # an inline "# via -r requirements.in"
    warnings = "\n".join(contents.warnings)
    # two unpinned lines: one warning with the count, the lines in the details (--verbose)
    assert "2 requirements are not pinned (no ==) and are not listed" in warnings
    assert "flask" not in warnings
    assert contents.details[0] == "line 10: 'flask>=3' is not pinned; not listed"
    assert "colorama" in contents.details[1]
    assert "cannot tell the package name of 'https://example.org/archive/main.zip'" in warnings
    assert "line 19: -r https://example.org/requirements.txt is a URL; not followed" in warnings


def test_without_via_direct_is_unknown(tmp_path: Path) -> None:
    lock = tmp_path / "requirements.txt"
    lock.write_text("idna==3.7\r\nsix==1.16.0 \\\r\n    --hash=sha256:abc\r\n", encoding="utf-8")
    contents = requirements.read(lock)
    assert [(p.name, p.version, p.direct) for p in contents.packages] == [
        ("idna", "3.7", None),
        ("six", "1.16.0", None),
    ]


def test_via_the_root_project_or_an_unsafe_package(tmp_path: Path) -> None:
    """``uv export`` names the project itself (not listed); pip-compile comments out unsafe pins."""
    lock = tmp_path / "requirements.txt"
    lock.write_text(
        "idna==3.7\n    # via my-project\n"
        "six==1.16.0\n    # via\n    #   idna\n    #   setuptools\n\n"
        "# The following packages are considered to be unsafe in a requirements file:\n"
        "# setuptools\n",
        encoding="utf-8",
    )
    direct = {p.name: p.direct for p in requirements.read(lock).packages}
    assert direct == {"idna": True, "six": False}


def test_non_pep440_pin_is_kept_as_text(tmp_path: Path) -> None:
    lock = tmp_path / "requirements.txt"
    lock.write_text("legacy===2013b-custom\n", encoding="utf-8")
    (package,) = requirements.read(lock).packages
    assert package.version == "2013b-custom"


BROKEN = FIXTURES / "broken"


@pytest.mark.parametrize(
    ("fixture", "line", "message"),
    [
        (
            "missing-include-requirements.txt",
            2,
            "includes missing-requirements.txt (-r), which does not exist",
        ),
        (
            "invalid-line-requirements.txt",
            2,
            # The line itself is never quoted (a `-r` can point at a secret file).
            "is not a valid requirement (",
        ),
        ("bad-marker-requirements.txt", 1, "invalid environment marker"),
        ("include-without-file-requirements.txt", 2, "-r needs a value"),
        ("binary-junk-requirements.txt", None, "is a binary file"),
        ("not-utf8-requirements.txt", 2, "is not valid UTF-8"),
    ],
)
def test_bad_input_is_an_error_naming_the_file(
    fixture: str, line: int | None, message: str
) -> None:
    with pytest.raises(DepwatchError) as caught:
        requirements.read(BROKEN / fixture)
    error = caught.value
    assert fixture in str(error)
    assert error.line == line
    assert message in str(error)


def test_a_missing_include_names_the_including_file_not_the_missing_one(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "requirements.txt").write_text("-r sub/dev.txt\n", encoding="utf-8")
    (tmp_path / "sub" / "dev.txt").write_text("idna==3.7\n\n-c gone.txt\n", encoding="utf-8")
    with pytest.raises(DepwatchError) as caught:
        requirements.read(tmp_path / "requirements.txt")
    assert caught.value.path is not None
    assert caught.value.path.endswith("dev.txt")
    assert caught.value.line == 3
    assert "gone.txt (-c)" in str(caught.value)


def test_reads_the_570_package_benchmark(shared: Path) -> None:
    """How fast: benchmarks/bench_readers.py (a ratio to a floor, run on a quiet machine)."""
    bench = shared / "bench" / "requirements.txt"
    if not bench.is_file():
        pytest.skip(f"{bench} is not present")
    assert len(requirements.read(bench).packages) == 570


def _as_version(text: str) -> Version | str:
    try:
        return Version(text)
    except InvalidVersion:
        return text


@pytest.mark.parametrize("name", ["trio-test/test-requirements.txt", "warehouse-main/main.txt"])
def test_shared_corpus_files_give_exactly_the_expected_pins(shared: Path, name: str) -> None:
    lock = shared / "corpus" / "lockfiles" / "requirements" / name
    expected_file = shared / "corpus" / "expected" / "requirements" / f"{name}.json"
    if not lock.is_file() or not expected_file.is_file():
        pytest.skip(f"{lock} is not in the corpus")
    expected = json.loads(expected_file.read_text(encoding="utf-8"))
    got = {(p.name, _as_version(p.version)) for p in requirements.read(lock).packages if p.version}
    key = "packages_with_includes" if "packages_with_includes" in expected else "packages"
    assert got == {(n, _as_version(v)) for n, v in expected[key]}


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        ("idna==3.10\nhttp://[foo/pkg-1.0.whl\n", "Invalid IPv6 URL"),
        ("idna==3.10\ngit+https://[/x#egg=foo\n", "Invalid IPv6 URL"),
        ("-r file://[x/req.txt\n", "Invalid IPv6 URL"),
        ("-r ~nosuchuser-depwatch/x.txt\n", "home directory"),
        ("-e ~nosuchuser-depwatch/pkg\n", "home directory"),
    ],
)
def test_a_line_the_path_helpers_cannot_take_is_an_error_naming_it(
    tmp_path: Path, lines: str, message: str
) -> None:
    path = tmp_path / "requirements.txt"
    path.write_text(lines)
    with pytest.raises(DepwatchError) as raised:
        requirements.read(path)
    assert raised.value.line == lines.count("\n")
    assert message in str(raised.value)


def test_a_symbolic_link_loop_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "requirements.txt"
    path.symlink_to(path)
    with pytest.raises(DepwatchError, match=r"symbolic link loop|cannot be read"):
        requirements.read(path)


def test_an_include_in_a_folder_that_cannot_be_searched_is_an_error(tmp_path: Path) -> None:
    import os

    if os.geteuid() == 0:
        pytest.skip("root can search any folder")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "requirements.txt").write_text("idna==3.10\n")
    (tmp_path / "requirements.txt").write_text("-r sub/requirements.txt\n")
    (tmp_path / "sub").chmod(0)
    try:
        with pytest.raises(DepwatchError, match="Permission denied"):
            requirements.read(tmp_path / "requirements.txt")
    finally:
        (tmp_path / "sub").chmod(0o755)


def test_an_editable_dependency_is_not_the_project(tmp_path: Path) -> None:
    # As pip-compile writes a project (-e .) that depends on a local editable package.
    for folder, name in ((tmp_path, "my-app"), (tmp_path / "localpkg", "local-pkg")):
        folder.mkdir(exist_ok=True)
        (folder / "pyproject.toml").write_text(f'[project]\nname = "{name}"\n')
    (tmp_path / "requirements.txt").write_text(
        "-e file:.\n    # via -r requirements.in\n"
        "-e ./localpkg\n    # via my-app\n"
        "idna==3.10\n    # via my-app\n"
        "six==1.17.0\n    # via local-pkg\n"
    )
    got = {p.name: p.direct for p in requirements.read(tmp_path / "requirements.txt").packages}
    assert got == {"my-app": True, "local-pkg": True, "idna": True, "six": False}
