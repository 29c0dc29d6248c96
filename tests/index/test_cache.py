"""The index cache on disk: what a run writes, and that a cache file which was cut short,
edited, replaced by a link or a FIFO, or written by another format is a miss (the index is
asked again) and never an error."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest
from server import IndexServer, Project, Release

from depwatch.index import IndexSession
from depwatch.index.cache import PageCache, TableEntry
from depwatch.index.page import ReleaseTable


def _session(index: IndexServer, cache: PageCache, **kw: object) -> IndexSession:
    return IndexSession(default_index=index.url, cache=cache, **kw)  # type: ignore[arg-type]


def _table_file(cache: PageCache, project: str) -> Path:
    (found,) = Path(str(cache.folder)).rglob(f"{project}.releases.json")
    return found


def test_a_run_writes_one_small_file_per_table_and_no_temporary_file(
    index: IndexServer, page_cache: PageCache
) -> None:
    index.add(Project("alpha", [Release("1.0", ">=3.8"), Release("1.1", yanked="bad \x1b[31m")]))
    table = _session(index, page_cache).release_table("alpha")
    files = sorted(p.name for p in Path(str(page_cache.folder)).rglob("*") if p.is_file())
    assert files == ["alpha.releases.json"]
    data = json.loads(_table_file(page_cache, "alpha").read_bytes())
    assert data[5] == "alpha"
    assert data[7] == [list(row) for row in table.rows]
    assert _session(index, page_cache).release_table("alpha") == table
    assert index.hits["/simple/alpha/"] == 1


BROKEN = {
    "cut short": lambda text: text[: len(text) // 2],
    "not JSON": lambda _text: "\x00\xff garbage",
    "an object": lambda _text: json.dumps({"format": 3}),
    "another format": lambda text: json.dumps([2, *json.loads(text)[1:]]),
    "another index": lambda text: json.dumps(
        [3, "https://elsewhere/simple/", *json.loads(text)[2:]]
    ),
    "another project": lambda text: json.dumps(
        [*json.loads(text)[:5], "beta", *json.loads(text)[6:]]
    ),
    "a row of the wrong shape": lambda text: json.dumps([*json.loads(text)[:7], [["1.0", False]]]),
    "a row of wrong types": lambda text: json.dumps(
        [*json.loads(text)[:7], [["1.0", "no", False, None, [">=3.8"], None]]]
    ),
    "a Requires-Python that is no text": lambda text: json.dumps(
        [*json.loads(text)[:7], [["1.0", False, False, None, [3.8], None]]]
    ),
    "rows that are no list": lambda text: json.dumps([*json.loads(text)[:7], {"1.0": 1}]),
    "a time in the future": lambda text: json.dumps(
        [*json.loads(text)[:2], 4e12, *json.loads(text)[3:]]
    ),
    "a time that is no number": lambda text: json.dumps(
        [*json.loads(text)[:2], "now", *json.loads(text)[3:]]
    ),
    "nested past the recursion limit": lambda _text: "[" * 100_000 + "]" * 100_000,
}


@pytest.mark.parametrize("damage", sorted(BROKEN))
def test_a_damaged_table_file_is_a_miss_and_the_index_is_asked_again(
    index: IndexServer, page_cache: PageCache, damage: str
) -> None:
    index.add(Project("gamma", [Release("1.0", ">=3.8"), Release("2.0", ">=3.10")]))
    first = _session(index, page_cache).release_table("gamma")
    path = _table_file(page_cache, "gamma")
    path.write_text(BROKEN[damage](path.read_text()))
    assert page_cache.get_table(index.url, "gamma") is None
    again = _session(index, page_cache).release_table("gamma")
    assert again == first
    assert index.hits["/simple/gamma/"] == 2
    # and the file is whole again
    assert page_cache.get_table(index.url, "gamma") is not None


def test_a_validator_that_cannot_be_sent_back_is_dropped_not_sent(
    index: IndexServer, page_cache: PageCache
) -> None:
    """An ETag edited to hold a line break would make a request header of it: it is dropped,
    and the stale table is fetched whole instead of revalidated."""
    index.add(Project("delta", [Release("1.0")]))
    first = _session(index, page_cache).release_table("delta")
    path = _table_file(page_cache, "delta")
    data = json.loads(path.read_text())
    data[3] = '"abc"\r\nX-Injected: 1'
    path.write_text(json.dumps(data))
    entry = page_cache.get_table(index.url, "delta")
    assert entry is not None
    assert entry.etag is None
    stale = _session(index, page_cache, max_age=0.0).release_table("delta")
    assert stale == first
    assert index.hits["/simple/delta/"] == 2
    assert index.not_modified["/simple/delta/"] == 0  # asked whole, not revalidated


@pytest.mark.skipif(sys.platform == "win32", reason="symbolic links and FIFOs")
def test_a_link_or_a_fifo_in_place_of_a_cache_file_is_a_miss(
    index: IndexServer, page_cache: PageCache, tmp_path: Path
) -> None:
    index.add(Project("epsilon", [Release("1.0")]))
    index.add(Project("zeta", [Release("1.0")]))
    session = _session(index, page_cache)
    session.release_table("epsilon")
    session.release_table("zeta")
    linked = _table_file(page_cache, "epsilon")
    elsewhere = tmp_path / "elsewhere.json"
    elsewhere.write_bytes(linked.read_bytes())
    linked.unlink()
    linked.symlink_to(elsewhere)
    fifo = _table_file(page_cache, "zeta")
    fifo.unlink()
    os.mkfifo(fifo)
    assert page_cache.get_table(index.url, "epsilon") is None
    assert page_cache.get_table(index.url, "zeta") is None  # and does not wait on the FIFO
    again = _session(index, page_cache)
    assert again.release_table("epsilon").name == "epsilon"
    assert again.release_table("zeta").name == "zeta"
    assert index.hits["/simple/epsilon/"] == 2
    assert index.hits["/simple/zeta/"] == 2


def test_a_damaged_page_file_is_a_miss(index: IndexServer, page_cache: PageCache) -> None:
    index.add(Project("eta", [Release("1.0", ">=3.8")]))
    page = _session(index, page_cache).project_page("eta")
    (path,) = Path(str(page_cache.folder)).rglob("eta.page.json")
    data = json.loads(path.read_text())
    data["page"]["files"][0][4] = "yes"  # yanked must be true or false
    path.write_text(json.dumps(data))
    assert page_cache.get(index.url, "eta") is None
    assert _session(index, page_cache).project_page("eta") == page
    assert index.hits["/simple/eta/"] == 2


def test_a_name_that_is_no_normalised_project_name_is_never_a_cache_path(
    tmp_path: Path,
) -> None:
    """A lockfile may hold any name; only a normalised one becomes a file name, so that none
    can point outside the cache folder."""
    cache = PageCache(tmp_path / "cache")
    outside = tmp_path / "outside"
    for name in (str(outside), "../outside", "a/b", ""):
        table = ReleaseTable(name, "http://127.0.0.1/simple/x/", ())
        cache.put_table("http://127.0.0.1/simple/", TableEntry(table, 1.0))
        assert cache.get_table("http://127.0.0.1/simple/", name) is None
    assert not list(tmp_path.glob("outside*"))
    assert not list((tmp_path / "cache").rglob("*.json"))
