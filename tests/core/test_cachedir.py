"""depwatch.cachedir: the one rule for depwatch's cache folder, read from the real environment."""

from __future__ import annotations

import sys
from pathlib import Path

import platformdirs
import pytest

from depwatch import cachedir


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in ("DEPWATCH_CACHE_DIR", "DEPWATCH_NO_CACHE", "XDG_CACHE_HOME"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_default_is_the_user_cache_folder(clean_env: pytest.MonkeyPatch) -> None:
    expected = Path(platformdirs.user_cache_dir("depwatch"))
    assert expected.is_absolute()
    assert cachedir.root() == expected
    assert cachedir.folder("usage") == expected / "usage"
    clean_env.setenv("DEPWATCH_CACHE_DIR", "")  # empty: not set
    assert cachedir.root() == expected


def test_depwatch_cache_dir_moves_it(clean_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    clean_env.setenv("DEPWATCH_CACHE_DIR", str(tmp_path))
    clean_env.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cachedir.root() == tmp_path
    assert cachedir.folder("index") == tmp_path / "index"


@pytest.mark.parametrize(
    ("value", "off"),
    [("1", True), ("yes", True), (" 1 ", True), ("0", False), ("", False), (" 0 ", False)],
)
def test_depwatch_no_cache_turns_every_cache_off(
    clean_env: pytest.MonkeyPatch, tmp_path: Path, value: str, off: bool
) -> None:
    clean_env.setenv("DEPWATCH_CACHE_DIR", str(tmp_path))
    clean_env.setenv("DEPWATCH_NO_CACHE", value)
    assert cachedir.disabled() is off
    assert cachedir.root() == (None if off else tmp_path)
    assert cachedir.folder("wheel-api") == (None if off else tmp_path / "wheel-api")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="XDG_CACHE_HOME is the Linux rule")
def test_xdg_cache_home(clean_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    clean_env.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert cachedir.root() == tmp_path / "depwatch"
    # A relative XDG_CACHE_HOME is not a folder under the working directory.
    clean_env.chdir(tmp_path)
    clean_env.setenv("XDG_CACHE_HOME", "relative")
    found = cachedir.root()
    assert found is None or (found.is_absolute() and not found.is_relative_to(tmp_path))


def test_every_cache_follows_the_rule(clean_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from depwatch import advisories
    from depwatch.index.cache import default_cache_dir as index_cache
    from depwatch.rulebook.index import cache_dir as rule_cache
    from depwatch.wheels.check import ApiCache

    clean_env.setenv("DEPWATCH_CACHE_DIR", str(tmp_path))
    assert rule_cache() == tmp_path
    assert index_cache() == tmp_path / "index"
    assert ApiCache.default().folder == tmp_path / "wheel-api"
    assert advisories.default_cache_dir() == tmp_path / "pip-audit"
    clean_env.setenv("DEPWATCH_NO_CACHE", "1")
    assert rule_cache() is None
    assert index_cache() is None
    assert ApiCache.default().folder is None
    assert advisories.default_cache_dir() is None


def test_outside_the_audited_projects(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    assert not cachedir.outside(project / ".cache" / "depwatch", [project])
    assert not cachedir.outside(project, [project])
    assert cachedir.outside(tmp_path / "cache", [project])
    assert cachedir.outside(tmp_path / "project-cache", [project])
    assert cachedir.outside(project, [])
    link = tmp_path / "link"
    link.symlink_to(project)
    assert not cachedir.outside(link / "cache", [project])
