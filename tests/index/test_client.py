"""The index client against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from server import IndexServer, Project, Release

from depwatch.index import IndexSession, NotCheckedError
from depwatch.index.cache import PageCache


def _session(index: IndexServer, cache: PageCache, **kw: object) -> IndexSession:
    return IndexSession(default_index=index.url, cache=cache, **kw)  # type: ignore[arg-type]


def test_json_page_parsed_with_yank_reason_and_requires_python(
    index: IndexServer, page_cache: PageCache
) -> None:
    index.add(
        Project(
            "alpha",
            [
                Release("1.0", ">=3.8"),
                Release("1.1", ">=3.10", yanked="broke the \x1b[31mworld ::error::x"),
            ],
        )
    )
    page = _session(index, page_cache).project_page("Alpha")
    assert page.format == "json"
    assert page.name == "alpha"
    assert page.versions == ("1.0", "1.1")
    by_name = {f.filename: f for f in page.files}
    wheel = by_name["alpha-1.1-py3-none-any.whl"]
    assert wheel.version == "1.1"
    assert wheel.requires_python == ">=3.10"
    assert wheel.yanked
    assert wheel.yanked_reason == "broke the \x1b[31mworld ::error::x"
    assert wheel.url == f"http://127.0.0.1:{index.port}/files/alpha-1.1-py3-none-any.whl"
    assert wheel.hashes[0][0] == "sha256"
    assert wheel.upload_time == "2025-01-01T00:00:00.000000Z"
    assert not by_name["alpha-1.0.tar.gz"].yanked


def test_html_only_index_is_read_with_the_stdlib_parser(
    index: IndexServer, page_cache: PageCache
) -> None:
    index.add(
        Project("beta", [Release("2.0", "<4,>=3.9"), Release("2.1", yanked="bad")], "html-only")
    )
    page = _session(index, page_cache).project_page("beta")
    assert page.format == "html"
    files = {f.filename: f for f in page.files}
    assert files["beta-2.0-py3-none-any.whl"].requires_python == "<4,>=3.9"
    assert files["beta-2.1.tar.gz"].yanked
    assert files["beta-2.1.tar.gz"].yanked_reason == "bad"
    assert not files["beta-2.0.tar.gz"].yanked
    assert page.versions == ("2.0", "2.1")


def test_fresh_cache_asks_nothing_and_stale_cache_revalidates_with_etag(
    index: IndexServer, page_cache: PageCache
) -> None:
    index.add(Project("gamma", [Release("1.0")]))
    first = _session(index, page_cache).project_page("gamma")
    assert index.hits["/simple/gamma/"] == 1
    again = _session(index, page_cache).project_page("gamma")
    assert again == first
    assert index.hits["/simple/gamma/"] == 1  # fresh: no request
    stale = _session(index, page_cache, max_age=0.0).project_page("gamma")
    assert stale == first
    assert index.hits["/simple/gamma/"] == 2
    assert index.not_modified["/simple/gamma/"] == 1


def test_offline_answers_from_the_cache_only(index: IndexServer, page_cache: PageCache) -> None:
    index.add(Project("delta", [Release("1.0")]))
    index.add(Project("epsilon", [Release("1.0")]))
    _session(index, page_cache).project_page("delta")
    offline = _session(index, page_cache, offline=True, max_age=0.0)
    assert offline.project_page("delta").versions == ("1.0",)
    with pytest.raises(NotCheckedError, match="--offline"):
        offline.project_page("epsilon")
    assert index.hits["/simple/epsilon/"] == 0
    assert index.hits["/simple/delta/"] == 1


def test_429_then_success_is_retried(index: IndexServer, page_cache: PageCache) -> None:
    index.add(Project("zeta", [Release("1.0")], "429-once"))
    page = _session(index, page_cache).project_page("zeta")
    assert page.versions == ("1.0",)
    assert index.hits["/simple/zeta/"] == 2


def test_5xx_is_retried_a_bounded_number_of_times(
    index: IndexServer, page_cache: PageCache
) -> None:
    index.add(Project("eta", [Release("1.0")], "500"))
    with pytest.raises(NotCheckedError, match="HTTP 503"):
        _session(index, page_cache, retries=2).project_page("eta")
    assert index.hits["/simple/eta/"] == 3


@pytest.mark.parametrize(
    ("mode", "reason"),
    [
        ("404", "no page for theta"),
        ("broken-json", "broken JSON"),
        ("html-as-json", "broken JSON"),
        ("huge", "more than 25 MB"),
        ("redirect-loop", "redirects in a loop"),
        ("other-project", "another project"),
        ("gzip-bomb", "more than 25 MB"),
    ],
)
def test_bad_answers_are_not_checked_with_the_reason(
    index: IndexServer, page_cache: PageCache, mode: str, reason: str
) -> None:
    index.add(Project("theta", [Release("1.0")], mode))
    started = time.monotonic()
    with pytest.raises(NotCheckedError, match=reason):
        _session(index, page_cache).project_page("theta")
    assert time.monotonic() - started < 20
    assert page_cache.get(index.url, "theta") is None


def test_slow_answer_times_out(index: IndexServer, page_cache: PageCache) -> None:
    project = index.add(Project("iota", [Release("1.0")], "slow"))
    project.slow_seconds = 3.0
    with pytest.raises(NotCheckedError, match=r"did not answer within 0\.5 s"):
        _session(index, page_cache, timeout=0.5, retries=0).project_page("iota")


def test_a_trickle_cannot_hold_the_run(index: IndexServer, page_cache: PageCache) -> None:
    project = index.add(Project("mu", [Release("1.0")], "trickle"))
    project.slow_seconds = 0.2  # every byte well within the 0.5 s read timeout
    started = time.monotonic()
    with pytest.raises(NotCheckedError, match="took longer than"):
        _session(index, page_cache, timeout=0.5, retries=0).project_page("mu")
    assert time.monotonic() - started < 5


def test_unreachable_index_is_not_checked(page_cache: PageCache) -> None:
    session = IndexSession(default_index="http://127.0.0.1:9/simple/", cache=page_cache, retries=0)
    with pytest.raises(NotCheckedError, match="could not be reached"):
        session.project_page("kappa")


def test_credentials_are_sent_and_never_shown(
    page_cache: PageCache, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = IndexServer(auth=("alice", "s3cret")).start()
    try:
        server.add(Project("lambda", [Release("1.0")]))
        url = server.url.replace("http://", "http://alice:s3cret@")
        session = IndexSession(default_index=url, cache=page_cache)
        assert "s3cret" not in session.default_index
        page = session.project_page("lambda")
        assert "s3cret" not in page.url
        assert all("s3cret" not in f.url for f in page.files)
        cached = next((tmp_path / "index-cache").rglob("*.json")).read_text()
        assert "s3cret" not in cached
        assert "alice" not in cached
        # Without credentials: refused, and the reason names no secret.
        bare = IndexSession(default_index=server.url, cache=PageCache(tmp_path / "other"))
        with pytest.raises(NotCheckedError, match="refused") as caught:
            bare.project_page("lambda")
        assert "s3cret" not in caught.value.reason
        # From netrc.
        netrc = tmp_path / "netrc"
        netrc.write_text("machine 127.0.0.1 login alice password s3cret\n")
        netrc.chmod(0o600)
        monkeypatch.setenv("NETRC", str(netrc))
        from_netrc = IndexSession(default_index=server.url, cache=PageCache(tmp_path / "third"))
        assert from_netrc.project_page("lambda").versions == ("1.0",)
    finally:
        server.stop()


def test_many_pages_at_once(index: IndexServer, page_cache: PageCache) -> None:
    index.latency = 0.2
    for n in range(40):
        index.add(Project(f"pkg{n}", [Release("1.0")]))
    index.add(Project("missing", [], "404"))
    session = _session(index, page_cache)
    started = time.monotonic()
    pages = session.project_pages([(f"pkg{n}", None) for n in range(40)] + [("missing", None)])
    elapsed = time.monotonic() - started
    assert elapsed < 40 * 0.2 / 2  # concurrent, not serial
    assert sum(1 for p in pages.values() if isinstance(p, NotCheckedError)) == 1
    assert pages[("pkg7", None)].versions == ("1.0",)  # type: ignore[union-attr]


def test_a_distant_index_gets_more_threads_until_workers_are_in_flight(
    index: IndexServer, page_cache: PageCache
) -> None:
    """The session starts a few threads and, once every recent answer was slow, adds one for
    each answer: 100 pages at 0.2 s each take a few round trips, not 100 / 8 of them."""
    index.latency = 0.2
    for n in range(100):
        index.add(Project(f"far{n}", [Release("1.0")]))
    session = _session(index, page_cache)
    started = time.monotonic()
    tables = session.release_tables([(f"far{n}", None) for n in range(100)])
    elapsed = time.monotonic() - started
    assert elapsed < 100 / 8 * 0.2 * 0.75  # 8 threads throughout would take 2.5 s
    assert all(not isinstance(t, NotCheckedError) for t in tables.values())


def test_map_keeps_the_order_and_raises_the_first_failure_after_all_ran(
    index: IndexServer, page_cache: PageCache
) -> None:
    session = _session(index, page_cache)
    assert session.map(lambda n: n * 2, list(range(100))) == [n * 2 for n in range(100)]
    ran: list[int] = []

    def work(n: int) -> int:
        ran.append(n)
        if n in (30, 70):
            raise ValueError(f"failed at {n}")
        return n

    with pytest.raises(ValueError, match="failed at 30"):
        session.map(work, list(range(100)))
    assert sorted(ran) == list(range(100))


def test_a_page_read_for_its_table_is_not_fetched_again_for_the_whole_page(
    index: IndexServer, page_cache: PageCache
) -> None:
    index.add(Project("nu", [Release("1.0", ">=3.9"), Release("2.0")]))
    session = _session(index, page_cache)
    table = session.release_table("nu")
    page = session.project_page("nu")
    assert index.hits["/simple/nu/"] == 1
    assert [f.version for f in page.files] == ["1.0", "1.0", "2.0", "2.0"]
    assert table.find("1.0") is not None
    # Written to the cache too: a new session reads both without asking.
    again = _session(index, page_cache)
    assert again.project_page("nu") == page
    assert again.release_table("nu") == table
    assert index.hits["/simple/nu/"] == 1


def test_whole_pages_read_after_their_tables_do_not_rewrite_the_tables_file(
    index: IndexServer, page_cache: PageCache
) -> None:
    """The wheel diff asks for the whole page of each imported package after the tables were
    fetched: those pages come from the bodies read for the tables, whose tables are written,
    so the tables file (rewritten whole on a write) is left as it is."""
    names = [f"omicron{n}" for n in range(5)]
    for name in names:
        index.add(Project(name, [Release("1.0", ">=3.9"), Release("2.0")]))
    session = _session(index, page_cache)
    tables = session.release_tables([(name, None) for name in names])
    (bundle,) = Path(str(page_cache.folder)).rglob("releases.jsonl")
    written = bundle.stat().st_ino, bundle.read_bytes()
    pages = [session.project_page(name) for name in names]
    assert (bundle.stat().st_ino, bundle.read_bytes()) == written
    assert [p.name for p in pages] == names
    assert all(index.hits[f"/simple/{name}/"] == 1 for name in names)
    again = _session(index, page_cache)
    assert again.release_tables([(name, None) for name in names]) == tables
    assert [again.project_page(name) for name in names] == pages
    assert all(index.hits[f"/simple/{name}/"] == 1 for name in names)


def test_pages_are_asked_for_compressed_and_read_decompressed(
    index: IndexServer, page_cache: PageCache
) -> None:
    index.add(Project("xi", [Release("1.0", ">=3.9", yanked="bad"), Release("1.1")], "gzip"))
    session = _session(index, page_cache)
    table = session.release_table("xi")
    assert [r.version for r in table.releases] == ["1.1", "1.0"]
    assert table.find("1.0").yanked_reason == "bad"  # type: ignore[union-attr]
    assert index.hits["/simple/xi/"] == 1
    assert "gzip" in (index.seen_encodings[-1] or "")
