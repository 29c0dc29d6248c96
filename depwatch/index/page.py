"""A project's page on a package index, parsed: PEP 691 JSON or PEP 503 HTML.

Everything here is pure: bytes in, a :class:`ProjectPage` out, or :class:`NotCheckedError`
with a reason a user can read. Index text is kept as the index wrote it (reporters escape it).
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from depwatch.model import NotChecked

__all__ = [
    "JSON_TYPE",
    "NotChecked",
    "NotCheckedError",
    "ProjectFile",
    "ProjectPage",
    "Release",
    "ReleaseTable",
    "parse_html",
    "parse_json",
    "summarise",
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
    """The version the file name carries, normalised (None for a name that is no wheel or
    sdist of the project, or a version that is not PEP 440)."""
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


_SDIST_ENDINGS = (".tar.gz", ".zip", ".tar.bz2", ".tgz", ".tar.xz", ".tar")


@functools.lru_cache(maxsize=4096)
def _canonical(name: str) -> str:
    return canonicalize_name(name)


def _version_of(filename: str, project: str) -> str | None:
    """The version (normalised) in a wheel or sdist file name, if the name is ``project``'s
    and the version is PEP 440; the name is read by the file name's shape (a large page has
    tens of thousands of files)."""
    if filename.endswith(".whl"):
        parts = filename[:-4].split("-")
        if len(parts) not in (5, 6):
            return None
        name, version = parts[0], parts[1]
    else:
        ending = next((e for e in _SDIST_ENDINGS if filename.endswith(e)), None)
        if ending is None:
            return None
        name, _, version = filename[: -len(ending)].rpartition("-")
    if not name or not version or _canonical(name) != project:
        return None
    return _normal(version)


@functools.lru_cache(maxsize=65536)
def _normal(text: str) -> str | None:
    parsed = _parse(text)
    return str(parsed) if parsed is not None else None


@functools.lru_cache(maxsize=65536)
def _parse(text: str) -> Version | None:
    try:
        return Version(text)
    except InvalidVersion:
        return None


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


def _json_page(body: bytes, project: str) -> dict[str, Any]:
    """The JSON of a PEP 691 page for ``project``, checked for what every reader relies on."""
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
    return data


def table_from_json(body: bytes, project: str, url: str) -> ReleaseTable:
    """A PEP 691 JSON page straight to its release table (what a check reads): no object per
    file, no URL handling — a large page has tens of thousands of files."""
    data = _json_page(body, project)
    grouped: dict[str, list[dict[str, Any]]] = {}
    for item in data["files"]:
        if isinstance(item, dict):
            filename = item.get("filename")
            version = _version_of(filename, project) if isinstance(filename, str) else None
            if version is not None:
                grouped.setdefault(version, []).append(item)
    if data["files"] and not grouped:
        raise NotCheckedError(f"the index answered with a page that lists no file of {project}")
    rows: list[Row] = []
    for version in sorted(grouped, key=_parse, reverse=True):  # type: ignore[arg-type]
        items = grouped[version]
        flags = [item.get("yanked", False) for item in items]
        yanked = all(bool(flag) for flag in flags)
        reason = next((f for f in flags if isinstance(f, str) and f), None) if yanked else None
        requires = [_text(item.get("requires-python")) or None for item in items]
        uploads = [u for item in items if (u := _text(item.get("upload-time")))]
        parsed = _parse(version)
        rows.append(
            [
                version,
                parsed is not None and parsed.is_prerelease,
                yanked,
                reason,
                list(dict.fromkeys(requires)),
                min(uploads) if uploads else None,
            ]
        )
    return ReleaseTable(project, _strip_credentials(url), tuple(rows))


def parse_json(body: bytes, project: str, url: str) -> ProjectPage:
    """A PEP 691 JSON page for ``project`` (normalised), fetched from ``url``."""
    data = _json_page(body, project)
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
        if href.startswith(("https://", "http://")) and "@" not in href:
            absolute = href  # PyPI's own form: no join or credentials to strip
        else:
            absolute = _strip_credentials(urljoin(url, href))
        files.append(
            ProjectFile(
                filename=filename,
                url=absolute,
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


@functools.cache
def _anchors() -> type[Any]:
    """The ``<a>`` collector, built on first use: only an HTML index needs html.parser."""
    from html.parser import HTMLParser

    class _Anchors(HTMLParser):
        def __init__(self) -> None:
            super().__init__(convert_charrefs=True)
            self.anchors: list[dict[str, str | None]] = []

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            if tag == "a":
                self.anchors.append(dict(attrs))

    return _Anchors


def parse_html(body: bytes, project: str, url: str) -> ProjectPage:
    """A PEP 503 HTML page for ``project`` (normalised), fetched from ``url``."""
    parser = _anchors()()
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


@dataclass(frozen=True, slots=True)
class Release:
    """What the facts need of one version of a page: a summary of its files."""

    version: str
    """Normalised (``str(Version(...))``)."""
    prerelease: bool
    yanked: bool
    """True when every file of the version is yanked (PEP 592: the release is)."""
    yanked_reason: str | None
    requires_python: tuple[str | None, ...]
    """The distinct Requires-Python of its files (None: a file states none)."""
    upload_time: str | None
    """The earliest upload time of its files."""


#: One release as a row: (version, prerelease, yanked, yanked_reason, requires_python list,
#: upload_time) — kept as the cache's JSON gives it, so a warm run builds no object per release.
Row = Sequence[Any]


@dataclass(frozen=True, slots=True)
class ReleaseTable:
    """A page reduced to its releases: what a check reads (small, and cached on its own)."""

    name: str
    url: str
    rows: Sequence[Row]
    """Newest first (by PEP 440 order); versions that are not PEP 440 are left out."""

    @staticmethod
    def _release(row: Row) -> Release:
        return Release(row[0], row[1], row[2], row[3], tuple(row[4]), row[5])

    @property
    def releases(self) -> tuple[Release, ...]:
        return tuple(self._release(row) for row in self.rows)

    def find(self, version: str) -> Release | None:
        """The release of ``version`` (normalised text), if listed: the same text, else the same
        PEP 440 version written otherwise (a lock's ``4.6`` is the index's ``4.6.0``)."""
        found = next((self._release(r) for r in self.rows if r[0] == version), None)
        if found is not None:
            return found
        try:
            wanted = Version(version)
        except ValueError:
            return None
        for row in self.rows:
            try:
                if Version(row[0]) == wanted:
                    return self._release(row)
            except ValueError:
                continue
        return None

    def newest(self, *, prereleases: bool) -> Release | None:
        """The newest release that is not yanked (and final unless ``prereleases``)."""
        return next(
            (self._release(r) for r in self.rows if not r[2] and (prereleases or not r[1])),
            None,
        )


def summarise(page: ProjectPage) -> ReleaseTable:
    """The page's releases, newest first: each version parsed once, here, so that a warm run
    parses only the locked versions."""
    by_version: dict[Version, list[ProjectFile]] = {}
    for f in page.files:
        version = _parse(f.version) if f.version is not None else None
        if version is not None:
            by_version.setdefault(version, []).append(f)
    rows: list[Row] = []
    for version, files in sorted(by_version.items(), reverse=True):
        yanked = all(f.yanked for f in files)
        reason = next((f.yanked_reason for f in files if f.yanked and f.yanked_reason), None)
        uploads = [f.upload_time for f in files if f.upload_time]
        rows.append(
            [
                str(version),
                version.is_prerelease,
                yanked,
                reason if yanked else None,
                list(dict.fromkeys(f.requires_python for f in files)),
                min(uploads) if uploads else None,
            ]
        )
    return ReleaseTable(page.name, page.url, tuple(rows))
