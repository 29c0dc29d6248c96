"""A project's page on a package index, parsed: PEP 691 JSON or PEP 503 HTML.

Everything here is pure: bytes in, a :class:`ProjectPage` out, or :class:`NotCheckedError`
with a reason a user can read. Index text is kept as the index wrote it (reporters escape it).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import unquote, urljoin, urlsplit

from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)

from depwatch.model import NotChecked

__all__ = [
    "JSON_TYPE",
    "NotChecked",
    "NotCheckedError",
    "ProjectFile",
    "ProjectPage",
    "parse_html",
    "parse_json",
]

#: The PEP 691 content type asked for first.
JSON_TYPE = "application/vnd.pypi.simple.v1+json"


class NotCheckedError(Exception):
    """The index did not give a usable answer; ``reason`` says why, for the user."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class ProjectFile:
    """One file (wheel or sdist) of a project's page."""

    filename: str
    url: str
    """Absolute, without credentials."""
    version: str | None
    """The version the file name carries (None for a name that is no wheel or sdist)."""
    requires_python: str | None = None
    """As the index wrote it (may be invalid: :mod:`depwatch.index.facts` decides)."""
    yanked: bool = False
    yanked_reason: str | None = None
    upload_time: str | None = None
    """ISO 8601 as the index wrote it (JSON pages only)."""
    hashes: tuple[tuple[str, str], ...] = ()
    """(algorithm, hex digest) pairs."""
    core_metadata: bool = False
    """Whether the index serves the file's METADATA alone (PEP 658/714) at ``url + ".metadata"``."""
    size: int | None = None


@dataclass(frozen=True, slots=True)
class ProjectPage:
    """A project's page: its files, and the versions the index lists."""

    name: str
    """Normalised project name."""
    url: str
    """The page's address, without credentials."""
    files: tuple[ProjectFile, ...]
    versions: tuple[str, ...]
    """The versions the page names (PEP 700's ``versions``, else those of its files)."""
    format: str = "json"
    """``json`` (PEP 691) or ``html`` (PEP 503)."""


def _version_of(filename: str, project: str) -> str | None:
    """The version in a wheel or sdist file name, if the name is ``project``'s."""
    try:
        if filename.endswith(".whl"):
            name, version, _, _ = parse_wheel_filename(filename)
        else:
            name, version = parse_sdist_filename(filename)
    except (InvalidWheelFilename, InvalidSdistFilename, ValueError):
        return None
    return str(version) if name == project else None


def _strip_credentials(url: str) -> str:
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]).geturl()


def _hashes_of(value: object) -> tuple[tuple[str, str], ...]:
    if not isinstance(value, dict):
        return ()
    return tuple(sorted((str(k), str(v)) for k, v in value.items() if isinstance(v, str) and v))


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _finish(
    project: str, url: str, files: list[ProjectFile], versions: list[str], fmt: str
) -> ProjectPage:
    if files and not any(f.version is not None for f in files):
        raise NotCheckedError(f"the index answered with a page that lists no file of {project}")
    if not versions:
        versions = sorted({f.version for f in files if f.version is not None})
    return ProjectPage(project, _strip_credentials(url), tuple(files), tuple(versions), fmt)


def parse_json(body: bytes, project: str, url: str) -> ProjectPage:
    """A PEP 691 JSON page for ``project`` (normalised), fetched from ``url``."""
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        raise NotCheckedError("the index answered with broken JSON") from None
    if not isinstance(data, dict) or not isinstance(data.get("files"), list):
        raise NotCheckedError("the index answered with JSON that is not a project page")
    meta = data.get("meta")
    api = meta.get("api-version") if isinstance(meta, dict) else None
    if not isinstance(api, str) or not api.startswith("1."):
        raise NotCheckedError("the index answered with an unknown simple API version")
    name = data.get("name")
    if not isinstance(name, str) or canonicalize_name(name) != project:
        raise NotCheckedError("the index answered with the page of another project")
    files: list[ProjectFile] = []
    for item in data["files"]:
        if not isinstance(item, dict):
            continue
        filename, href = item.get("filename"), item.get("url")
        if not isinstance(filename, str) or not isinstance(href, str):
            continue
        yanked = item.get("yanked", False)
        metadata = item.get("core-metadata", item.get("dist-info-metadata", False))
        size = item.get("size")
        files.append(
            ProjectFile(
                filename=filename,
                url=_strip_credentials(urljoin(url, href)),
                version=_version_of(filename, project),
                requires_python=_text(item.get("requires-python")) or None,
                yanked=bool(yanked),
                yanked_reason=yanked if isinstance(yanked, str) and yanked else None,
                upload_time=_text(item.get("upload-time")),
                hashes=_hashes_of(item.get("hashes")),
                core_metadata=bool(metadata),
                size=size if isinstance(size, int) and not isinstance(size, bool) else None,
            )
        )
    listed = data.get("versions")
    versions = [v for v in listed if isinstance(v, str)] if isinstance(listed, list) else []
    return _finish(project, url, files, versions, "json")


_FRAGMENT = re.compile(r"^([a-z0-9_]+)=([0-9a-fA-F]+)$")


class _Anchors(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.anchors: list[dict[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self.anchors.append(dict(attrs))


def parse_html(body: bytes, project: str, url: str) -> ProjectPage:
    """A PEP 503 HTML page for ``project`` (normalised), fetched from ``url``."""
    parser = _Anchors()
    try:
        parser.feed(body.decode("utf-8", errors="replace"))
        parser.close()
    except (ValueError, AssertionError):  # html.parser's own errors on hostile markup
        raise NotCheckedError("the index answered with an HTML page that cannot be read") from None
    files: list[ProjectFile] = []
    for attrs in parser.anchors:
        href = attrs.get("href")
        if not href:
            continue
        absolute = urljoin(url, href)
        parts = urlsplit(absolute)
        filename = unquote(parts.path.rsplit("/", 1)[-1])
        found = _FRAGMENT.match(parts.fragment)
        hashes = ((found[1], found[2].lower()),) if found else ()
        yanked = attrs.get("data-yanked")
        metadata = attrs.get("data-core-metadata", attrs.get("data-dist-info-metadata"))
        files.append(
            ProjectFile(
                filename=filename,
                url=_strip_credentials(parts._replace(fragment="").geturl()),
                version=_version_of(filename, project),
                requires_python=attrs.get("data-requires-python") or None,
                yanked="data-yanked" in attrs,
                yanked_reason=yanked or None,
                hashes=hashes,
                core_metadata=metadata is not None and metadata != "false",
            )
        )
    return _finish(project, url, files, [], "html")
