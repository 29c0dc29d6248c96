"""The uv.lock reader against lockfiles written by uv itself, handmade old formats and bad input."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from depwatch.errors import DepwatchError
from depwatch.lockfiles import reader_for, uv
from depwatch.model import Package

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "lockfiles" / "uv"
LOCAL = {"editable", "virtual", "workspace", "directory", "path"}


def _by_name(packages: tuple[Package, ...]) -> dict[str, Package]:
    return {p.name: p for p in packages}


def _uv() -> str | None:
    return shutil.which("uv") or shutil.which("uv", path=str(Path(sys.executable).parent))


def test_matches_only_uv_lock() -> None:
    assert uv.matches(Path("x/uv.lock"))
    assert not uv.matches(Path("uv.lock.bak"))
    assert reader_for(FIXTURES / "basic" / "uv.lock") is uv


def test_basic_project_every_source_kind() -> None:
    contents = uv.read(FIXTURES / "basic" / "uv.lock")
    got = _by_name(contents.packages)
    assert contents.requires_python == ">=3.10"
    assert contents.warnings == ()
    assert {name: p.source for name, p in got.items()} == {
        "attrs": "registry",
        "basic-app": "editable",
        "certifi": "registry",
        "gitpkg": "git",
        "idna": "registry",
        "iniconfig": "url",
        "localdir": "directory",
        "localpkg": "editable",
        "packaging": "registry",
        "pysocks": "registry",
        "six": "registry",
    }
    assert got["idna"].version == "3.10"
    # Groups: the root's main dependencies, its extra and its dev group, transitively.
    assert got["idna"].groups == ("main",)
    assert got["six"].groups == ("main",)  # through the git dependency
    assert got["pysocks"].groups == ("socks",)
    assert got["attrs"].groups == ("dev",)
    # Direct: what the root names, in any group; not what comes through another package.
    assert got["pysocks"].direct is True
    assert got["packaging"].direct is True
    assert got["six"].direct is False
    assert got["basic-app"].direct is False
    assert all(p.name == p.name.lower() for p in contents.packages)


def test_workspace_with_virtual_root() -> None:
    contents = uv.read(FIXTURES / "workspace" / "uv.lock")
    got = _by_name(contents.packages)
    assert got["ws-root"].source == "virtual"
    assert got["alpha"].source == "editable"
    assert got["beta"].source == "workspace"
    assert got["beta"].version is None  # dynamic version: uv records none
    assert got["alpha"].version == "0.2.0"
    assert got["iniconfig"].groups == ("dev",)
    # Direct dependencies of any workspace member count as direct.
    assert got["six"].direct is True
    assert got["idna"].direct is True
    assert got["ws-root"].direct is False


def test_fork_keeps_every_version_with_its_markers() -> None:
    contents = uv.read(FIXTURES / "fork" / "uv.lock")
    numpy = [p for p in contents.packages if p.name == "numpy"]
    assert len(numpy) >= 2
    old = next(p for p in numpy if p.version is not None and p.version.startswith("1."))
    assert old.markers == "python_full_version < '3.10'"
    assert all(p.markers for p in numpy)
    assert len({p.markers for p in numpy}) == len(numpy)
    colorama = _by_name(contents.packages)["colorama"]
    assert colorama.markers == "sys_platform == 'win32'"
    assert contents.requires_python == ">=3.9"


@pytest.mark.parametrize(
    ("name", "pairs"),
    [
        ("distribution.lock", {("anyio", "3.7.0"), ("idna", "3.6"), ("project", "0.1.0")}),
        (
            "no-revision.lock",
            {
                ("idna", "3.7"),
                ("localwheel", "1.0"),
                ("old-style-name", "2.0"),
                ("project", "0.1.0"),
                ("tomli", "1.2.3"),
                ("tomli", "2.0.1"),
            },
        ),
        (
            "revision-1.lock",
            {
                ("member", "0.2.0"),
                ("numpy", "1.26.4"),
                ("numpy", "2.0.2"),
                ("root", None),
                ("six", "1.16.0"),
                ("tool", "0.9"),
            },
        ),
        (
            "revision-2.lock",
            {
                ("member", "0.2.0"),
                ("numpy", "1.26.4"),
                ("numpy", "2.0.2"),
                ("root", None),
                ("six", "1.16.0"),
                ("tool", "0.9"),
            },
        ),
    ],
)
def test_old_formats(name: str, pairs: set[tuple[str, str | None]]) -> None:
    contents = uv.read(FIXTURES / "handmade" / name)
    assert {(p.name, p.version) for p in contents.packages} == pairs


def test_uv_0_2_string_sources() -> None:
    got = _by_name(uv.read(FIXTURES / "handmade" / "distribution.lock").packages)
    assert got["project"].source == "editable"
    assert got["anyio"].source == "registry"
    assert got["anyio"].direct is True
    assert got["idna"].direct is False


def test_no_revision_environment_markers_and_unnormalised_name() -> None:
    contents = uv.read(FIXTURES / "handmade" / "no-revision.lock")
    got = {(p.name, p.version): p for p in contents.packages}
    assert got[("tomli", "1.2.3")].markers == "python_full_version < '3.10'"
    assert got[("tomli", "2.0.1")].markers == "python_full_version >= '3.10'"
    assert got[("localwheel", "1.0")].source == "path"
    assert got[("old-style-name", "2.0")].groups == ("odd",)
    assert any("Old_Style.Name" in w for w in contents.warnings)


def test_revision_workspace_member_and_git() -> None:
    got = {
        (p.name, p.version): p for p in uv.read(FIXTURES / "handmade" / "revision-2.lock").packages
    }
    assert got[("member", "0.2.0")].source == "workspace"
    assert got[("root", None)].source == "virtual"
    assert got[("tool", "0.9")].source == "git"
    # An unconditional edge (the lint group) wins over the conditional one.
    assert got[("tool", "0.9")].markers is None
    assert got[("tool", "0.9")].groups == ("main", "lint")
    assert got[("six", "1.16.0")].direct is True  # a member's dependency


def test_lock_without_packages(tmp_path: Path) -> None:
    path = tmp_path / "uv.lock"
    path.write_text('version = 1\nrevision = 3\nrequires-python = ">=3.11"\n')
    contents = uv.read(path)
    assert contents.packages == ()
    assert contents.requires_python == ">=3.11"


def test_newer_lock_version_is_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "uv.lock"
    path.write_text(
        'version = 2\n[[package]]\nname = "weird"\nversion = "9.0"\n'
        'source = { registry = "https://pypi.org/simple" }\n'
    )
    contents = uv.read(path)
    (package,) = contents.packages
    assert package.version == "9.0"
    assert any("newer" in w for w in contents.warnings)
    assert package.direct is None  # no root in the lock: unknown


_PKG = (
    '[[package]]\nname = "a"\nversion = "1.0"\nsource = { registry = "https://pypi.org/simple" }\n'
)


@pytest.mark.parametrize(
    ("text", "message", "key"),
    [
        ("version = 1\n[[package]\nname = 'a'\n", "is not valid TOML", None),
        ('version = 1\n[[package]]\nname = "a"\nversion = "1.', "is not valid TOML", None),
        ("", "is empty", None),
        ('version = "1"\n', "'version' must be an integer", "version"),
        ("version = 1\nrevision = 1.5\n", "'revision' must be an integer", "revision"),
        ('version = 1\npackage = "oops"\n', "must be an array of tables", "package"),
        ("version = 1\npackage = [1]\n", "must be a table", "package[0]"),
        ('version = 1\n[[package]]\nversion = "1.0"\n', "has no 'name'", "package[0].name"),
        ("version = 1\n[[package]]\nname = 3\n", "name that is not a string", "package[0].name"),
        (
            f'version = 1\n{_PKG}[[package]]\nname = "b"\nversion = 1.0\n',
            "version that is not a string",
            "package[1].version",
        ),
        (
            'version = 1\n[[package]]\nname = "a"\nsource = 3\n',
            "malformed source",
            "package[0].source",
        ),
        (
            'version = 1\n[[package]]\nname = "a"\nsource = { svn = "x" }\n',
            "unknown source kind",
            "package[0].source",
        ),
        (
            f'version = 1\n{_PKG}dependencies = "idna"\n',
            "array of tables",
            "package[0].dependencies",
        ),
        (
            f"version = 1\n{_PKG}dependencies = [{{ version = '1' }}]\n",
            "with a 'name'",
            "package[0].dependencies[0]",
        ),
        (f"version = 1\n{_PKG}optional-dependencies = 3\n", "must be a table", None),
        (
            f"version = 1\n{_PKG}dependencies = [{{ name = 'b', extra = 3 }}]\n",
            "'extra' must be a list",
            "package[0].dependencies[0].extra",
        ),
        ("version = 1\n[manifest]\nmembers = 'a'\n", "list of names", "manifest.members"),
        ("version = 1\nrequires-python = 3.10\n", "must be a string", "requires-python"),
        (f"version = 1\n{_PKG}resolution-markers = 'x'\n", "list of strings", None),
    ],
)
def test_bad_input_is_a_depwatch_error(
    tmp_path: Path, text: str, message: str, key: str | None
) -> None:
    path = tmp_path / "uv.lock"
    path.write_text(text)
    with pytest.raises(DepwatchError) as caught:
        uv.read(path)
    assert message in str(caught.value)
    assert "uv.lock" in str(caught.value)
    if key is not None:
        assert caught.value.key == key


def test_bad_entry_error_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / "uv.lock"
    path.write_text(f'version = 1\n\n{_PKG}\n[[package]]\nname = "b"\nversion = 2\n')
    with pytest.raises(DepwatchError) as caught:
        uv.read(path)
    assert caught.value.line == 8


def test_truncated_real_lock_is_an_error(tmp_path: Path) -> None:
    text = (FIXTURES / "basic" / "uv.lock").read_text()
    path = tmp_path / "uv.lock"
    path.write_text(text[: len(text) // 2])
    with pytest.raises(DepwatchError, match=r"uv\.lock"):
        uv.read(path)


def test_binary_junk_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "uv.lock"
    path.write_bytes(b"\x00\x01\x02garbage")
    with pytest.raises(DepwatchError, match="binary"):
        uv.read(path)


def _exported_pins(project: Path, uv_bin: str) -> tuple[set[tuple[str, str]], str]:
    result = subprocess.run(
        [
            uv_bin,
            "export",
            "--frozen",
            "--format",
            "requirements-txt",
            "--no-hashes",
            "--all-extras",
            "--all-groups",
            "--no-header",
            "--no-annotate",
            "--offline",
        ],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    pins = set()
    for line in result.stdout.splitlines():
        requirement = line.split(";")[0].strip()
        if "==" in requirement:
            name, _, version = requirement.partition("==")
            pins.add((name.strip(), version.strip()))
    return pins, result.stdout


@pytest.mark.parametrize("project", ["basic", "workspace", "fork"])
def test_agrees_with_uv_export(project: str) -> None:
    uv_bin = _uv()
    if uv_bin is None:
        pytest.skip("uv is not installed")
    pins, text = _exported_pins(FIXTURES / project, uv_bin)
    packages = uv.read(FIXTURES / project / "uv.lock").packages
    registry = {(p.name, p.version) for p in packages if p.source == "registry"}
    assert pins == registry
    # Non-registry entries that are not the project itself appear in the export by name.
    for p in packages:
        if p.source in {"git", "url"}:
            assert p.name in text


# -- markers and groups against `uv export` -----------------------------------------------

_ENVIRONMENTS = [
    {
        "python_version": full.rsplit(".", 1)[0],
        "python_full_version": full,
        "sys_platform": platform,
        "os_name": os_name,
        "platform_system": system,
        "platform_machine": "x86_64",
        "implementation_name": "cpython",
        "platform_python_implementation": "CPython",
        "extra": "",
    }
    for full in ("3.9.0", "3.9.18", "3.10.4", "3.11.9", "3.12.3", "3.13.1")
    for platform, os_name, system in (
        ("linux", "posix", "Linux"),
        ("win32", "nt", "Windows"),
        ("darwin", "posix", "Darwin"),
    )
]


def _where(marker: str | None) -> frozenset[int]:
    """The test environments a marker admits (None admits all)."""
    from packaging.markers import Marker

    if not marker:
        return frozenset(range(len(_ENVIRONMENTS)))
    parsed = Marker(marker)
    return frozenset(i for i, env in enumerate(_ENVIRONMENTS) if parsed.evaluate(env))


def _export(project: Path, *args: str) -> dict[tuple[str, str], str | None]:
    """``uv export``'s pins: (name, version) → marker."""
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    uv_bin = _uv()
    if uv_bin is None:
        pytest.skip("uv is not installed")
    result = subprocess.run(
        [
            uv_bin,
            "export",
            "--frozen",
            "--offline",
            "--format",
            "requirements-txt",
            "--no-hashes",
            "--no-header",
            "--no-annotate",
            *args,
        ],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    pins: dict[tuple[str, str], str | None] = {}
    for line in result.stdout.splitlines():
        if not line.strip() or line.startswith(("#", "-", ".", "/")):
            continue  # comments, options, and local paths (the project's own members)
        requirement = Requirement(line)
        if requirement.url:
            continue  # git and URL sources carry no version to key them by
        (spec,) = requirement.specifier
        marker = str(requirement.marker) if requirement.marker else None
        pins[(canonicalize_name(requirement.name), spec.version)] = marker
    return pins


@pytest.mark.parametrize("project", ["paths", "fork", "basic", "workspace"])
def test_markers_say_where_uv_export_installs_each_version(project: str) -> None:
    exported = _export(FIXTURES / project, "--all-extras", "--all-groups")
    packages = {(p.name, p.version): p for p in uv.read(FIXTURES / project / "uv.lock").packages}
    assert exported
    for (name, version), marker in exported.items():
        ours = packages[(name, version)].markers
        assert _where(ours) == _where(marker), (name, version, ours, marker)


def test_each_version_belongs_to_the_groups_that_reach_it() -> None:
    project = FIXTURES / "conflicts"
    packages = {(p.name, p.version): p for p in uv.read(project / "uv.lock").packages}
    for group in ("legacy", "modern"):
        for pin in _export(project, "--only-group", group):
            assert group in packages[pin].groups, (pin, group)
    for extra in ("old", "new"):
        for pin in _export(project, "--no-default-groups", "--extra", extra):
            assert extra in packages[pin].groups or pin[0] == "attrs", (pin, extra)
    urllib3 = sorted((v, p.groups) for (n, v), p in packages.items() if n == "urllib3")
    assert [groups for _, groups in urllib3] == [("legacy",), ("modern",)]
    idna = {v: p.groups for (n, v), p in packages.items() if n == "idna"}
    assert "new" not in idna["3.7"]
    assert "old" not in idna["3.10"]
