"""The distribution name a requirement's path or URL names, where that is knowable without a
build: ``#egg=``, a wheel's or sdist's file name, a local folder's ``[project] name``."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlsplit

from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    parse_sdist_filename,
    parse_wheel_filename,
)

from depwatch.errors import DepwatchError

__all__ = ["name_of_location"]


def name_of_location(location: str, *, base: Path) -> str | None:
    """The distribution name a path or URL names, where that is knowable without a build."""
    fragment = urlsplit(location).fragment
    for part in fragment.split("&"):
        key, _, value = part.partition("=")
        if key == "egg" and value:
            return value.split("[", 1)[0]
    url_path = (
        urlsplit(location).path if "://" in location or location.startswith("file:") else location
    )
    filename = unquote(url_path.rstrip("/").rsplit("/", 1)[-1])
    if filename.endswith(".whl"):
        try:
            return parse_wheel_filename(filename)[0]
        except InvalidWheelFilename:
            return None
    if filename.endswith((".tar.gz", ".zip")):
        try:
            return parse_sdist_filename(filename)[0]
        except InvalidSdistFilename:
            return None
    if "://" in location and not location.startswith("file:"):
        return None
    folder = Path(unquote(url_path)).expanduser()
    if not folder.is_absolute():
        folder = base / folder
    return _project_name(folder)


def _project_name(folder: Path) -> str | None:
    """``[project] name`` of a local project's pyproject.toml, read as data (nothing is built)."""
    pyproject = folder / "pyproject.toml"
    if not pyproject.is_file():
        return None
    from depwatch import tomlfile

    try:
        data = tomlfile.load(pyproject)
    except DepwatchError:
        return None
    project = data.get("project")
    name = project.get("name") if isinstance(project, dict) else None
    return name if isinstance(name, str) else None
