"""What every reader shares: parsed versions and markers, lines, the merge, the kinds."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from packaging.markers import Marker
from packaging.version import InvalidVersion, Version

from depwatch.lockfiles import pdm, pipfile, reader_for
from depwatch.model import LockFormat, Package, SourceKind

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "lockfiles"
LOCKS = [
    FIXTURES / "uv" / "basic" / "uv.lock",
    FIXTURES / "poetry" / "app" / "poetry.lock",
    FIXTURES / "pdm" / "app" / "pdm.lock",
    FIXTURES / "pylock" / "uv-export" / "pylock.toml",
    FIXTURES / "pipfile" / "basic" / "Pipfile.lock",
    FIXTURES / "requirements" / "pip-compile" / "requirements.txt",
    FIXTURES / "conda" / "handmade" / "multi-platform.conda-lock.yml",
]


@pytest.mark.parametrize("path", LOCKS, ids=[p.parent.name + "/" + p.name for p in LOCKS])
def test_readers_return_parsed_versions_and_markers(path: Path) -> None:
    packages = reader_for(path, explicit=True).read(path).packages
    for package in packages:
        try:
            expected = None if package.version is None else Version(package.version)
        except InvalidVersion:  # conda's own scheme (``9e``)
            expected = None
        assert package.parsed_version == expected
        if package.markers:
            assert package.parsed_markers == Marker(package.markers)
        else:
            assert package.parsed_markers is None


def test_parsed_fields_and_lines_leave_equality_and_hash_alone() -> None:
    package = Package(name="six", version="1.16.0", markers="python_version < '3.12'")
    assert package.parsed_version == Version("1.16.0")
    assert package.parsed_markers == Marker("python_version < '3.12'")
    moved = replace(package, line=42)
    assert moved == package
    assert hash(moved) == hash(package)
    assert "42" not in repr(moved)


def test_what_does_not_parse_is_none() -> None:
    package = Package(name="x", version="9e", markers="not a marker")
    assert package.parsed_version is None
    assert package.parsed_markers is None
    assert Package(name="x", version="1." + "9" * 5000).parsed_version is None


def test_kinds_are_their_json_text() -> None:
    assert json.dumps({"source": SourceKind.GIT, "format": LockFormat.UV}) == (
        '{"source": "git", "format": "uv"}'
    )
    assert f"{SourceKind.WORKSPACE}|{LockFormat.PIPFILE:>8}" == "workspace| pipfile"
    assert str(SourceKind.REGISTRY) == "registry"
    assert SourceKind("editable") is SourceKind.EDITABLE
    assert {"git": 1}[SourceKind.GIT] == 1


def test_a_pdm_archive_path_of_any_archive_suffix_is_a_path_source(tmp_path: Path) -> None:
    # pdm.py and requirements.py each had a list of archive suffixes, pdm's without .tar.xz
    # and .tar: one list now, the longer.
    path = tmp_path / "pdm.lock"
    path.write_text(
        '[metadata]\nlock_version = "4.4"\n\n'
        '[[package]]\nname = "a"\nversion = "1.0"\npath = "dist/a-1.0.tar.xz"\n\n'
        '[[package]]\nname = "b"\nversion = "1.0"\npath = "vendor/b"\n',
        encoding="utf-8",
    )
    sources = {p.name: p.source for p in pdm.read(path).packages}
    assert sources == {"a": SourceKind.PATH, "b": SourceKind.DIRECTORY}


def test_merged_entries_keep_the_first_line_and_unite_groups_and_markers(tmp_path: Path) -> None:
    path = tmp_path / "Pipfile.lock"
    path.write_text(
        json.dumps(
            {
                "_meta": {},
                "default": {"six": {"version": "==1.16.0", "markers": "sys_platform == 'win32'"}},
                "develop": {"six": {"version": "==1.16.0", "markers": "os_name == 'nt'"}},
            },
            indent=4,
        ),
        encoding="utf-8",
    )
    (six,) = pipfile.read(path).packages
    assert six.groups == ("default", "develop")
    assert six.markers == "(sys_platform == 'win32') or (os_name == 'nt')"
    assert six.parsed_markers == Marker(six.markers)
    lines = path.read_text(encoding="utf-8").splitlines()
    assert six.line is not None
    assert lines[six.line - 1].strip() == '"six": {'
    assert six.line < len(lines) // 2  # the default section's entry, the first
