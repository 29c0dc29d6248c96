"""The PEP 751 reader against files exported by uv and PDM, a handmade file and bad input."""

from __future__ import annotations

from pathlib import Path

import pytest
import tomli
from packaging.pylock import Pylock, PylockValidationError

from depwatch.errors import DepwatchError
from depwatch.lockfiles import pylock, reader_for
from depwatch.model import Package

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "lockfiles" / "pylock"
#: What both exports pin (idna is pinned ``==3.10`` in the project; the rest float on regeneration).
EXPORTED = {"certifi", "colorama", "idna", "packaging", "pysocks"}


def _by_name(packages: tuple[Package, ...]) -> dict[str, Package]:
    return {p.name: p for p in packages}


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("pylock.toml", True),
        ("pylock.dev.toml", True),
        ("pylock.a.b.toml", False),
        ("pylock..toml", False),
        ("mylock.toml", False),
    ],
)
def test_matches_pep_751_names(name: str, expected: bool) -> None:
    assert pylock.matches(Path(name)) is expected


@pytest.mark.parametrize("relative", ["uv-export/pylock.toml", "pdm-export/pylock.pdm.toml"])
def test_exported_by_real_tools(relative: str) -> None:
    path = FIXTURES / relative
    assert reader_for(path) is pylock
    contents = pylock.read(path)
    assert {p.name for p in contents.packages} == EXPORTED
    assert all(p.version for p in contents.packages)
    assert contents.requires_python == ">=3.10"
    assert contents.warnings == ()
    got = _by_name(contents.packages)
    assert all(p.source == "registry" for p in contents.packages)
    assert got["colorama"].markers is not None
    assert "win32" in got["colorama"].markers
    assert got["idna"].markers is None
    assert got["idna"].version == "3.10"


def test_unnormalised_names_read_with_a_warning() -> None:
    path = FIXTURES / "handmade" / "pylock.unnormalised.toml"
    # packaging.pylock alone refuses the file ...
    with pytest.raises(PylockValidationError, match="not normalized"):
        Pylock.from_dict(tomli.loads(path.read_text()))
    # ... depwatch normalises the names first, says so, and reads it.
    contents = pylock.read(path)
    got = _by_name(contents.packages)
    assert set(got) == {"pysocks", "zope-interface", "gitpkg", "localpkg", "archived"}
    assert len(contents.warnings) == 2
    assert any("PySocks" in w for w in contents.warnings)
    assert got["gitpkg"].source == "git"
    assert got["gitpkg"].version is None
    assert got["localpkg"].source == "editable"
    assert got["archived"].source == "path"
    assert got["zope-interface"].markers == "sys_platform == 'linux'"
    assert got["zope-interface"].version == "6.4"


_HEAD = 'lock-version = "1.0"\ncreated-by = "test"\n'
_WHEEL = (
    'wheels = [{ url = "https://example.com/a-1.0-py3-none-any.whl", '
    'hashes = { sha256 = "00" } }]\n'
)


@pytest.mark.parametrize(
    ("text", "message", "key"),
    [
        ("[[packages]\nname = 'a'\n", "is not valid TOML", None),
        ("", "is empty", None),
        (_HEAD, "has no 'packages'", "packages"),
        (f'{_HEAD}packages = "oops"\n', "array of tables", "packages"),
        (f"{_HEAD}packages = [1]\n", "must be a table", "packages[0]"),
        (f'{_HEAD}[[packages]]\nversion = "1.0"\n', "has no 'name'", "packages[0].name"),
        (f"{_HEAD}[[packages]]\nname = 1\n", "name that is not a string", "packages[0].name"),
        (
            f'{_HEAD}[[packages]]\nname = "a"\nversion = 1.0\n{_WHEEL}',
            "not a valid pylock file",
            "packages[0].version",
        ),
        (
            f'{_HEAD}[[packages]]\nname = "a"\nversion = "1.0"\n',
            "Exactly one of vcs, directory, archive",
            "packages[0]",
        ),
        (
            f'created-by = "x"\n[[packages]]\nname = "a"\nversion = "1.0"\n{_WHEEL}',
            "lock-version",
            None,
        ),
        (
            f'lock-version = "2.0"\ncreated-by = "x"\n[[packages]]\nname = "a"\n{_WHEEL}',
            "unsupported lock-version",
            "lock-version",
        ),
        (
            f'{_HEAD}[[packages]]\nname = "b"\nversion = "1.0"\n{_WHEEL}',
            "not consistent",
            "packages[0].wheels[0]",
        ),
    ],
)
def test_bad_input_is_a_depwatch_error(
    tmp_path: Path, text: str, message: str, key: str | None
) -> None:
    path = tmp_path / "pylock.toml"
    path.write_text(text)
    with pytest.raises(DepwatchError) as caught:
        pylock.read(path)
    assert message in str(caught.value)
    assert "pylock.toml" in str(caught.value)
    if key is not None:
        assert caught.value.key == key
