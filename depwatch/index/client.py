"""Talking to a package index: one pooled, thread-safe session with timeouts, a read cap,
bounded retries with back-off on 429 and 5xx, redirects followed by hand (loops end), and
credentials kept out of every URL that is shown, logged or cached.

urllib3 (not requests, httpx or niquests): it pools connections per host and is safe to share
between threads, has per-read timeouts, and costs the least to import of them (requests and
niquests are built on it or a fork of it; httpx brings httpcore, h11 and anyio). It is imported
only when a check runs with ``--online``.
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar, overload
from urllib.parse import quote, urljoin, urlsplit, urlunsplit

from packaging.utils import canonicalize_name

from depwatch.index.cache import CacheEntry, PageCache, TableEntry, default_cache_dir
from depwatch.index.page import (
    JSON_TYPE,
    NotCheckedError,
    ProjectPage,
    ReleaseTable,
    parse_html,
    parse_json,
    summarise,
    table_from_json,
)
from depwatch.index.threads import run_all

if TYPE_CHECKING:
    import urllib3

__all__ = [
    "DEFAULT_INDEX",
    "IndexSession",
    "Response",
    "clean_index",
    "redact",
    "split_credentials",
]

DEFAULT_INDEX = "https://pypi.org/simple/"
_ACCEPT = f"{JSON_TYPE}, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.01"
_USER_AGENT = "depwatch (+https://github.com/depwatch/depwatch)"
#: Sent with every request. gzip: a large JSON page shrinks about tenfold on the wire; the
#: read cap counts the decoded bytes, so a compressed bomb is cut off too.
_HEADERS = {"User-Agent": _USER_AGENT, "Accept-Encoding": "gzip, deflate"}
_MAX_REDIRECTS = 5
#: A normalised project name, which needs no quoting or joining to make its page's address.
_PLAIN_NAME = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
#: A path urllib3 sends as it is (nothing to quote or normalise).
_PLAIN_PATH = re.compile(r"/[A-Za-z0-9\-_~/!$&'()*+,;=:@.]*")
_RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
#: How many bytes of JSON pages a session holds for a later whole-page request.
_KEEP_BYTES = 32 * 1024 * 1024
_K = TypeVar("_K")
_R = TypeVar("_R")


def split_credentials(url: str) -> tuple[str, str | None]:
    """``url`` without user and password, and the Basic authorization they make (if any)."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url, None
    userinfo, host = parts.netloc.rsplit("@", 1)
    user, _, password = userinfo.partition(":")
    import base64
    from urllib.parse import unquote

    token = base64.b64encode(f"{unquote(user)}:{unquote(password)}".encode()).decode()
    return urlunsplit(parts._replace(netloc=host)), f"Basic {token}"


def redact(url: str) -> str:
    """``url`` as it may be shown: no credentials, no query (tokens hide there too)."""
    clean, _ = split_credentials(url)
    parts = urlsplit(clean)
    return urlunsplit(parts._replace(query="", fragment=""))


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme.lower(), parts.netloc.lower()


def _netrc_auth(host: str) -> str | None:
    import base64
    import netrc

    try:
        found = netrc.netrc(os.environ.get("NETRC") or None).authenticators(host)
    except (OSError, netrc.NetrcParseError):
        return None
    if not found:
        return None
    login, _, password = found
    token = base64.b64encode(f"{login}:{password or ''}".encode()).decode()
    return f"Basic {token}"


def normalise_index(url: str) -> str:
    """An index URL with one trailing slash (project pages are ``<index>/<name>/``)."""
    return url if url.endswith("/") else url + "/"


def clean_index(url: str) -> str:
    """An index URL as it is keyed and shown: no credentials, one trailing slash."""
    return normalise_index(split_credentials(url.strip())[0])


@dataclass(frozen=True, slots=True)
class Response:
    """A finished answer: final status, headers (lower-cased names) and body."""

    status: int
    url: str
    """The address that answered, without credentials."""
    headers: dict[str, str]
    body: bytes


class IndexSession:
    """One per run, shared by every thread: pooled connections, the page cache, and the
    credentials of each index (never shown).

    ``project_page`` and ``download`` raise :class:`NotCheckedError` with a reason a user can
    read; nothing else escapes them.
    """

    def __init__(
        self,
        *,
        default_index: str = DEFAULT_INDEX,
        offline: bool = False,
        max_age: float = 3600.0,
        timeout: float | None = None,
        max_bytes: int = 25 * 1024 * 1024,
        workers: int = 50,  # as uv's concurrent downloads: latency, not bandwidth, bounds it
        cache: PageCache | None = None,
        retries: int = 3,
    ) -> None:
        self.offline = offline
        self.max_age = max_age
        self.timeout = timeout if timeout is not None else _env_timeout()
        self.max_bytes = max_bytes
        self.workers = workers
        self.retries = retries
        self.cache = cache if cache is not None else PageCache(default_cache_dir())
        self._auth: dict[tuple[str, str], str] = {}
        self._looked_up: set[tuple[str, str]] = set()
        self._netrc_due: set[tuple[str, str]] = set()
        self._added: dict[str, str] = {}
        self._bodies: dict[tuple[str, str], tuple[bytes, str, str | None, str | None]] = {}
        self._kept_bytes = 0
        self._lock = threading.Lock()
        self._pool: urllib3.PoolManager | None = None
        self._pools: dict[tuple[str, str], urllib3.HTTPConnectionPool] = {}
        self._plain: dict[str, bool] = {}
        self.default_index = self.add_index(default_index)

    # -- indexes and credentials -------------------------------------------------------

    def add_index(self, url: str) -> str:
        """Remember ``url``'s credentials (from the URL, else netrc, read when the host is
        first asked) for its host; returns the index URL without them, the form every other
        call and every output uses."""
        known = self._added.get(url)
        if known is not None:
            return known
        clean, auth = split_credentials(normalise_index(url.strip()))
        origin = _origin(clean)
        with self._lock:
            if auth is not None:
                self._auth[origin] = auth
            elif origin not in self._auth and origin not in self._looked_up:
                self._netrc_due.add(origin)
            self._added[url] = clean
        return clean

    def _credentials(self, origin: tuple[str, str]) -> str | None:
        """The Authorization for ``origin``: given with its index URL, else from netrc (read
        once per index host, found or not, and only when a request is made)."""
        if origin in self._netrc_due:
            with self._lock:
                if origin in self._netrc_due:
                    self._netrc_due.discard(origin)
                    self._looked_up.add(origin)
                    host = urlsplit(f"{origin[0]}://{origin[1]}").hostname
                    found = _netrc_auth(host) if host else None
                    if found is not None and origin not in self._auth:
                        self._auth[origin] = found
        return self._auth.get(origin)

    # -- HTTP --------------------------------------------------------------------------

    def _manager(self) -> urllib3.PoolManager:
        with self._lock:
            if self._pool is None:
                import urllib3

                timeout = urllib3.Timeout(connect=min(self.timeout, 10.0), read=self.timeout)
                self._pool = urllib3.PoolManager(
                    num_pools=16,
                    maxsize=self.workers,
                    block=False,
                    timeout=timeout,
                    retries=False,
                )
            return self._pool

    def _host_pool(self, origin: tuple[str, str], url: str) -> urllib3.HTTPConnectionPool:
        """The connection pool of ``url``'s host, kept per origin (finding it in the
        PoolManager parses the URL and builds a key on every request). A pool the manager
        has closed since (it keeps 16 hosts) is looked up again."""
        pool = self._pools.get(origin)
        if pool is None or pool.pool is None:
            pool = self._pools[origin] = self._manager().connection_from_url(url)
        return pool

    def close(self) -> None:
        with self._lock:
            self._bodies.clear()
            self._pools.clear()
            self._kept_bytes = 0
            if self._pool is not None:
                self._pool.clear()
                self._pool = None

    def __enter__(self) -> IndexSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def get(
        self,
        url: str,
        *,
        headers: dict[str, str] | None = None,
        max_bytes: int | None = None,
    ) -> Response:
        """GET ``url`` (credentials for its host added), following redirects and retrying
        429/5xx and dropped connections a bounded number of times. A 304 or 4xx is returned;
        a network failure, a redirect loop, a body over the cap or a 5xx after the retries
        raises :class:`NotCheckedError`."""
        if self.offline:
            raise NotCheckedError("not in the cache, and --offline asks nothing of the index")
        cap = self.max_bytes if max_bytes is None else max_bytes
        seen: set[str] = set()
        current = url
        for _ in range(_MAX_REDIRECTS + 1):
            if current in seen:
                raise NotCheckedError(f"the index redirects in a loop at {redact(current)}")
            seen.add(current)
            answer = self._get_once(current, headers or {}, cap)
            if answer.status in (301, 302, 303, 307, 308) and "location" in answer.headers:
                current = urljoin(current, answer.headers["location"])
                if urlsplit(current).scheme not in ("http", "https"):
                    raise NotCheckedError("the index redirects to an address that is not HTTP")
                continue
            return answer
        raise NotCheckedError(f"the index redirects more than {_MAX_REDIRECTS} times")

    def _get_once(self, url: str, headers: dict[str, str], cap: int) -> Response:
        import urllib3 as u3

        clean, inline = split_credentials(url)
        parts = urlsplit(clean)
        origin = (parts.scheme.lower(), parts.netloc.lower())
        if _PLAIN_PATH.fullmatch(parts.path) and not parts.query and "/." not in parts.path:
            target = parts.path  # what urllib3 would send, without parsing the URL again
        else:  # urllib3 quotes what needs it and drops dot segments
            target = u3.util.parse_url(clean).request_uri
        sent = {**_HEADERS, **headers}
        auth = inline or self._credentials(origin)
        if auth is not None:
            sent["Authorization"] = auth
        shown = redact(clean)
        deadline = time.monotonic() + self.timeout * 4  # the whole answer, retries included
        delay = 0.25
        attempt = 0
        while True:
            attempt += 1
            try:
                # Straight to the host's pool: PoolManager.request would parse the URL again,
                # and headers given to it replace (not join) the pool's own.
                raw = self._host_pool(origin, clean).urlopen(
                    "GET",
                    target,
                    headers=sent,
                    redirect=False,
                    assert_same_host=False,
                    preload_content=False,
                )
            except u3.exceptions.NewConnectionError as exc:  # a subclass of the timeout error
                problem = f"the index could not be reached ({_why(exc)})"
            except u3.exceptions.TimeoutError:
                problem = f"the index did not answer within {self.timeout:g} s"
            except u3.exceptions.HTTPError as exc:
                problem = f"the index could not be reached ({_why(exc)})"
            else:
                try:
                    body = _read_capped(raw, cap, deadline, self.timeout)
                finally:
                    raw.release_conn()
                answer = Response(
                    raw.status,
                    shown,
                    {k.lower(): v for k, v in raw.headers.items()},
                    body,
                )
                if answer.status not in _RETRY_STATUSES:
                    return answer
                problem = f"the index answered HTTP {answer.status}"
                wait = _retry_after(answer.headers.get("retry-after"))
                if wait is not None:
                    delay = max(delay, wait)
            if attempt > self.retries or time.monotonic() + delay > deadline:
                raise NotCheckedError(problem)
            import random

            time.sleep(min(delay, 5.0) * (1 + random.random() / 4))
            delay = min(delay * 2, 5.0)

    # -- project pages -----------------------------------------------------------------

    def _fresh(self, fetched: float) -> bool:
        return self.offline or time.time() - fetched < self.max_age

    def _index(self, index_url: str | None) -> str:
        return self.add_index(index_url) if index_url else self.default_index

    def project_page(self, name: str, index_url: str | None = None) -> ProjectPage:
        """The parsed page of ``name`` on ``index_url`` (the default index when None): from
        the cache while fresh, revalidated with ETag/Last-Modified when older, fetched when
        missing. ``--offline`` answers from the cache whatever its age."""
        project = canonicalize_name(name)
        index = self._index(index_url)
        cached = self.cache.get(index, project)
        if cached is not None and self._fresh(cached.fetched):
            return cached.page
        kept = self._kept(index, project)
        if kept is not None:
            answer: tuple[ProjectPage, str | None, str | None] | None = kept
        elif cached is not None:
            answer = self._fetch(project, index, cached.etag, cached.last_modified)
        else:
            answer = self._fetch(project, index, None, None)
        if answer is None:
            assert cached is not None
            return self.cache.touch(index, cached).page
        page, etag, modified = answer
        now = time.time()
        self.cache.put(index, CacheEntry(page, now, etag, modified))
        if kept is None:  # a kept body's table was put when it was read (the tables file
            # is rewritten whole: the wheel diff asks for a page per imported package)
            self.cache.put_table(index, TableEntry(summarise(page), now, etag, modified))
        return page

    def cached_page(self, name: str, index_url: str | None = None) -> ProjectPage | None:
        """The page from the cache when it may be used without asking the index, else None."""
        cached = self.cache.get(self._index(index_url), canonicalize_name(name))
        return cached.page if cached is not None and self._fresh(cached.fetched) else None

    def release_table(self, name: str, index_url: str | None = None) -> ReleaseTable:
        """The page of ``name`` reduced to its releases (what a check needs), cached on its own:
        a warm run reads these, never the whole pages."""
        project = canonicalize_name(name)
        index = self._index(index_url)
        cached = self.cache.get_table(index, project)
        if cached is not None and self._fresh(cached.fetched):
            return cached.table
        return self._table(project, index, cached)

    def _table(self, project: str, index: str, cached: TableEntry | None) -> ReleaseTable:
        """The release table of ``project`` from the index (revalidating ``cached``, a table
        that is no longer fresh, when there is one)."""
        if cached is not None:
            answer = self._fetch(project, index, cached.etag, cached.last_modified, table=True)
        else:
            answer = self._fetch(project, index, None, None, table=True)
        if answer is None:
            assert cached is not None
            return self.cache.touch_table(index, cached).table
        found, etag, modified = answer
        table = found if isinstance(found, ReleaseTable) else summarise(found)
        self.cache.put_table(index, TableEntry(table, time.time(), etag, modified))
        return table

    @overload
    def _fetch(
        self, project: str, index: str, etag: str | None, modified: str | None
    ) -> tuple[ProjectPage, str | None, str | None] | None: ...

    @overload
    def _fetch(
        self, project: str, index: str, etag: str | None, modified: str | None, *, table: bool
    ) -> tuple[ProjectPage | ReleaseTable, str | None, str | None] | None: ...

    def _fetch(
        self,
        project: str,
        index: str,
        etag: str | None,
        modified: str | None,
        *,
        table: bool = False,
    ) -> tuple[ProjectPage | ReleaseTable, str | None, str | None] | None:
        """The page (or, with ``table``, a JSON page straight to its release table) with its
        ETag and Last-Modified, or None when the index says the cached one is still good."""
        if _PLAIN_NAME.fullmatch(project) and self._joins_plainly(index):
            page_url = index + project + "/"  # what urljoin makes of it, without its cost
        else:
            page_url = urljoin(index, quote(project) + "/")
        headers = {"Accept": _ACCEPT}
        if etag:
            headers["If-None-Match"] = etag
        if modified:
            headers["If-Modified-Since"] = modified
        answer = self.get(page_url, headers=headers)
        if answer.status == 304 and (etag or modified):
            return None
        if answer.status == 404:
            raise NotCheckedError(f"{redact(index)} has no page for {project} (HTTP 404)")
        if answer.status in (401, 403):
            raise NotCheckedError(
                f"{redact(index)} refused the page of {project} (HTTP {answer.status}); "
                "give credentials in the index URL or in ~/.netrc"
            )
        if answer.status != 200:
            raise NotCheckedError(f"{redact(index)} answered HTTP {answer.status} for {project}")
        kind = answer.headers.get("content-type", "").split(";", 1)[0].strip().lower()
        page: ProjectPage | ReleaseTable
        if (kind == JSON_TYPE or kind == "application/json") and table:
            page = table_from_json(answer.body, project, page_url)
            self._keep(index, project, answer, page_url)
        elif kind == JSON_TYPE or kind == "application/json":
            page = parse_json(answer.body, project, page_url)
        elif kind in ("text/html", "application/vnd.pypi.simple.v1+html", ""):
            page = parse_html(answer.body, project, page_url)
        else:
            raise NotCheckedError(f"the index answered with content of type {kind[:60]!r}")
        return page, answer.headers.get("etag"), answer.headers.get("last-modified")

    def _joins_plainly(self, index: str) -> bool:
        """Whether joining a plain project name to ``index`` is appending it (urljoin drops
        empty and dot segments, a query and a fragment: an index URL holding none of those
        is left as it is)."""
        plain = self._plain.get(index)
        if plain is None:
            plain = self._plain[index] = urljoin(index, "x/") == index + "x/"
        return plain

    def _keep(self, index: str, project: str, answer: Response, page_url: str) -> None:
        """Hold a JSON page read for its release table for this run (up to a budget), so that
        asking for the whole page later (the wheel diff) does not fetch it again."""
        with self._lock:
            if self._kept_bytes + len(answer.body) > _KEEP_BYTES:
                return
            self._kept_bytes += len(answer.body)
            self._bodies[(index, project)] = (
                answer.body,
                page_url,
                answer.headers.get("etag"),
                answer.headers.get("last-modified"),
            )

    def _kept(self, index: str, project: str) -> tuple[ProjectPage, str | None, str | None] | None:
        with self._lock:
            held = self._bodies.pop((index, project), None)
            if held is not None:
                self._kept_bytes -= len(held[0])
        if held is None:
            return None
        body, page_url, etag, modified = held
        return parse_json(body, project, page_url), etag, modified

    def project_pages(
        self, wanted: Iterable[tuple[str, str | None]]
    ) -> dict[tuple[str, str | None], ProjectPage | NotCheckedError]:
        """Many pages at once, over the pooled connections: (name, index or None) → the page,
        or the :class:`NotCheckedError` that says why there is none."""
        with self.cache.batch():
            return self._many(wanted, self.project_page, self.cached_page)

    def release_tables(
        self, wanted: Iterable[tuple[str, str | None]]
    ) -> dict[tuple[str, str | None], ReleaseTable | NotCheckedError]:
        """Many release tables at once (as :meth:`project_pages`)."""
        stale: dict[tuple[str, str | None], TableEntry | None] = {}

        def cached(name: str, index_url: str | None) -> ReleaseTable | None:
            entry = self.cache.get_table(self._index(index_url), name)
            if entry is not None and self._fresh(entry.fetched):
                return entry.table
            stale[(name, index_url)] = entry
            return None

        def fetch(name: str, index_url: str | None) -> ReleaseTable:
            # the entry read (and found stale or missing) a moment ago: not read again
            return self._table(name, self._index(index_url), stale.get((name, index_url)))

        with self.cache.batch():  # the tables fetched are written once, together
            return self._many(wanted, fetch, cached)

    def _many(
        self,
        wanted: Iterable[tuple[str, str | None]],
        fetch: Callable[[str, str | None], _R],
        cached: Callable[[str, str | None], _R | None],
    ) -> dict[tuple[str, str | None], _R | NotCheckedError]:
        """``fetch`` for each (normalised name, index) that ``cached`` cannot answer."""
        keys: list[tuple[str, str | None]] = list(
            dict.fromkeys((str(canonicalize_name(n)), i) for n, i in wanted)
        )

        def one(key: tuple[str, str | None]) -> _R | NotCheckedError:
            try:
                return fetch(*key)
            except NotCheckedError as exc:
                return exc

        # Fresh cache entries are read here, one after another: threads would only fight
        # over the interpreter for them. Only what needs the index goes to the pool.
        answers: dict[tuple[str, str | None], _R | NotCheckedError] = {}
        for key in keys:
            found = cached(*key)
            if found is not None:
                answers[key] = found
        rest = [key for key in keys if key not in answers]
        answers.update(zip(rest, self.map(one, rest), strict=True))
        return {key: answers[key] for key in keys}

    def map(self, work: Callable[[_K], _R], keys: Sequence[_K]) -> list[_R]:
        """``work`` over ``keys`` on threads, at most ``workers`` at once
        (:func:`~depwatch.index.threads.run_all`: few against a nearby index)."""
        return run_all(work, keys, self.workers)

    def download(self, url: str, *, max_bytes: int | None = None) -> bytes:
        """The body of a file the index lists (a wheel, its ``.metadata``)."""
        answer = self.get(url, max_bytes=max_bytes)
        if answer.status != 200:
            raise NotCheckedError(f"{answer.url} answered HTTP {answer.status}")
        return answer.body


def _env_timeout() -> float:
    try:
        value = float(os.environ.get("DEPWATCH_INDEX_TIMEOUT", "15"))
    except ValueError:
        return 15.0
    return value if 0 < value <= 600 else 15.0


def _why(exc: Exception) -> str:
    """A short cause in fixed words (urllib3's messages repeat the address, which may carry a
    token)."""
    text = f"{type(exc).__name__} {type(getattr(exc, 'reason', None)).__name__} {exc}"
    for needle, said in (
        ("NameResolution", "name not resolved"),
        ("Name or service not known", "name not resolved"),
        ("refused", "connection refused"),
        ("SSL", "TLS error"),
        ("Protocol", "connection dropped"),
        ("reset", "connection reset"),
    ):
        if needle.lower() in text.lower():
            return said
    return type(exc).__name__


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, min(float(value), 5.0))
    except ValueError:
        return None


def _read_capped(raw: urllib3.BaseHTTPResponse, cap: int, deadline: float, timeout: float) -> bytes:
    import urllib3

    chunks: list[bytes] = []
    size = 0
    try:
        while True:
            # read1: what has arrived, so that a trickle cannot hold the loop past the deadline.
            chunk = raw.read1(256 * 1024)
            if not chunk:
                break
            size += len(chunk)
            if size > cap:
                raise NotCheckedError(
                    f"the index answered with more than {cap // (1024 * 1024)} MB; not read"
                )
            if time.monotonic() > deadline:
                raise NotCheckedError(f"the index answer took longer than {timeout * 4:g} s")
            chunks.append(chunk)
    except urllib3.exceptions.TimeoutError:
        raise NotCheckedError(f"the index did not answer within {timeout:g} s") from None
    except urllib3.exceptions.HTTPError as exc:
        raise NotCheckedError(f"the index answer broke off ({_why(exc)})") from None
    return b"".join(chunks)
