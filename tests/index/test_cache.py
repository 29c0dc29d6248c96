"""The index cache on disk: what a run writes, and that a cache file which was cut short,
edited, replaced by a link or a FIFO, or written by another format is a miss (the index is
asked again) and never an error."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from server import IndexServer, Project, Release

from depwatch.index import IndexSession
from depwatch.index.cache import PageCache, TableEntry
from depwatch.index.page import ReleaseTable


def _session(index: IndexServer, cache: PageCache, **kw: object) -> IndexSession:
    return IndexSession(default_index=index.url, cache=cache, **kw)  # type: ignore[arg-type]


def _table_file(cache: PageCache) -> Path:
    """The release tables file of the one index a test asks."""
    (found,) = Path(str(cache.folder)).rglob("releases.jsonl")
    return found


def _edit(project: str, change: Callable[[list[Any]], list[Any]]) -> Callable[[str], str]:
    """A damage to ``project``'s line of a tables file (its JSON array changed)."""

    def damage(text: str) -> str:
        lines = text.splitlines()
        for number, line in enumerate(lines[1:], 1):
            if line.startswith(f'["{project}"'):
                lines[number] = json.dumps(change(json.loads(line)))
        return "\n".join(lines) + "\n"

    return damage


def _header(header: list[Any]) -> Callable[[str], str]:
    return lambda text: "\n".join([json.dumps(header), *text.splitlines()[1:]]) + "\n"


def test_a_run_writes_one_file_for_its_tables_and_no_temporary_file(
    index: IndexServer, page_cache: PageCache
) -> None:
    index.add(Project("alpha", [Release("1.0", ">=3.8"), Release("1.1", yanked="bad \x1b[31m")]))
    index.add(Project("beta", [Release("2.0", ">=3.9")]))
    tables = _session(index, page_cache).release_tables([("alpha", None), ("beta", None)])
    files = sorted(p.name for p in Path(str(page_cache.folder)).rglob("*") if p.is_file())
    assert files == ["releases.jsonl"]
    header, *lines = _table_file(page_cache).read_text().splitlines()
    assert json.loads(header) == [4, index.url]
    entries = {entry[0]: entry for entry in map(json.loads, lines)}
    assert sorted(entries) == ["alpha", "beta"]
    for name in ("alpha", "beta"):
        table = tables[(name, None)]
        assert isinstance(table, ReleaseTable)
        assert entries[name][5] == [list(row) for row in table.rows]
    again = _session(index, page_cache)
    assert again.release_tables([("alpha", None), ("beta", None)]) == tables
    assert again.release_table("alpha") == tables[("alpha", None)]
    assert index.hits["/simple/alpha/"] == 1
    assert index.hits["/simple/beta/"] == 1


def test_tables_written_by_two_runs_are_both_kept(index: IndexServer, tmp_path: Path) -> None:
    """Two runs on one cache folder (each its own PageCache): the second writes its tables
    over what the first wrote, not in place of it."""
    index.add(Project("alpha", [Release("1.0")]))
    index.add(Project("beta", [Release("2.0")]))
    _session(index, PageCache(tmp_path / "c")).release_tables([("alpha", None)])
    _session(index, PageCache(tmp_path / "c")).release_tables([("beta", None)])
    third = _session(index, PageCache(tmp_path / "c"), offline=True)
    answers = third.release_tables([("alpha", None), ("beta", None)])
    assert all(isinstance(table, ReleaseTable) for table in answers.values())
    assert index.hits["/simple/alpha/"] == 1
    assert index.hits["/simple/beta/"] == 1


def test_the_tables_of_format_3_are_removed_when_the_file_is_first_written(
    index: IndexServer, page_cache: PageCache
) -> None:
    index.add(Project("alpha", [Release("1.0")]))
    _session(index, page_cache).release_table("alpha")
    folder = _table_file(page_cache).parent
    _table_file(page_cache).unlink()
    old = folder / "alpha.releases.json"
    old.write_text("[3]")
    _session(index, page_cache).release_table("alpha")
    assert sorted(p.name for p in folder.iterdir()) == ["releases.jsonl"]


def test_the_tables_file_drops_its_oldest_entries_past_its_size(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from depwatch.index import cache as cache_module

    monkeypatch.setattr(cache_module, "_MAX_BUNDLE", 400)
    cache = PageCache(tmp_path / "cache")
    url = "http://127.0.0.1/simple/"
    rows = (["1.0", False, False, None, [">=3.8"], "2025-01-01T00:00:00Z"],)
    names = [f"project-{n}" for n in range(8)]
    for name in names:
        cache.put_table(url, TableEntry(ReleaseTable(name, url + name + "/", rows), 1.0))
    kept = [name for name in names if cache.get_table(url, name) is not None]
    assert kept == names[-len(kept) :]
    assert 0 < len(kept) < len(names)
    assert _table_file(cache).stat().st_size <= 400


BROKEN: dict[str, Callable[[str], str]] = {
    "cut short": lambda text: text[: len(text) // 2],
    "not JSON": lambda _text: "\x00\xff garbage",
    "an object": lambda _text: json.dumps({"format": 4}),
    "the header alone": lambda text: text.splitlines()[0] + "\n",
    "another format": _header([3, "INDEX"]),
    "another index": _header([4, "https://elsewhere/simple/"]),
    "another project": _edit("gamma", lambda e: ["beta", *e[1:]]),
    "an entry on two lines": lambda text: text.replace('["gamma",', '["gamma",\n', 1),
    "a row of the wrong shape": _edit("gamma", lambda e: [*e[:5], [["1.0", False]]]),
    "a row of wrong types": _edit(
        "gamma", lambda e: [*e[:5], [["1.0", "no", False, None, [">=3.8"], None]]]
    ),
    "a Requires-Python that is no text": _edit(
        "gamma", lambda e: [*e[:5], [["1.0", False, False, None, [3.8], None]]]
    ),
    "rows that are no list": _edit("gamma", lambda e: [*e[:5], {"1.0": 1}]),
    "a time in the future": _edit("gamma", lambda e: [e[0], 4e12, *e[2:]]),
    "a time that is no number": _edit("gamma", lambda e: [e[0], "now", *e[2:]]),
    "an address that is no text": _edit("gamma", lambda e: [*e[:4], 7, e[5]]),
    "nested past the recursion limit": lambda text: (
        text.splitlines()[0] + '\n["gamma",' + "[" * 100_000 + "]" * 100_000 + "]\n"
    ),
}


@pytest.mark.parametrize("damage", sorted(BROKEN))
def test_a_damaged_tables_file_is_a_miss_and_the_index_is_asked_again(
    index: IndexServer, page_cache: PageCache, damage: str
) -> None:
    index.add(Project("gamma", [Release("1.0", ">=3.8"), Release("2.0", ">=3.10")]))
    first = _session(index, page_cache).release_table("gamma")
    path = _table_file(page_cache)
    path.write_text(BROKEN[damage](path.read_text().replace("INDEX", index.url)))
    assert page_cache.get_table(index.url, "gamma") is None
    again = _session(index, page_cache).release_table("gamma")
    assert again == first
    assert index.hits["/simple/gamma/"] == 2
    # and the file is whole again
    assert page_cache.get_table(index.url, "gamma") is not None


def test_a_damaged_line_is_a_miss_for_its_project_alone(
    index: IndexServer, page_cache: PageCache
) -> None:
    index.add(Project("gamma", [Release("1.0")]))
    index.add(Project("theta", [Release("1.0")]))
    wanted = [("gamma", None), ("theta", None)]
    first = _session(index, page_cache).release_tables(wanted)
    path = _table_file(page_cache)
    path.write_text(_edit("gamma", lambda e: [e[0], "now", *e[2:]])(path.read_text()))
    assert _session(index, page_cache).release_tables(wanted) == first
    assert index.hits["/simple/gamma/"] == 2
    assert index.hits["/simple/theta/"] == 1


def test_a_validator_that_cannot_be_sent_back_is_dropped_not_sent(
    index: IndexServer, page_cache: PageCache
) -> None:
    """An ETag edited to hold a line break would make a request header of it: it is dropped,
    and the stale table is fetched whole instead of revalidated."""
    index.add(Project("delta", [Release("1.0")]))
    first = _session(index, page_cache).release_table("delta")
    path = _table_file(page_cache)
    injected = '"abc"\r\nX-Injected: 1'
    path.write_text(_edit("delta", lambda e: [*e[:2], injected, *e[3:]])(path.read_text()))
    entry = page_cache.get_table(index.url, "delta")
    assert entry is not None
    assert entry.etag is None
    stale = _session(index, page_cache, max_age=0.0).release_table("delta")
    assert stale == first
    assert index.hits["/simple/delta/"] == 2
    assert index.not_modified["/simple/delta/"] == 0  # asked whole, not revalidated


@pytest.mark.skipif(sys.platform == "win32", reason="symbolic links and FIFOs")
def test_a_link_or_a_fifo_in_place_of_the_tables_file_is_a_miss(
    index: IndexServer, page_cache: PageCache, tmp_path: Path
) -> None:
    index.add(Project("epsilon", [Release("1.0")]))
    index.add(Project("zeta", [Release("1.0")]))
    wanted = [("epsilon", None), ("zeta", None)]
    _session(index, page_cache).release_tables(wanted)
    linked = _table_file(page_cache)
    elsewhere = tmp_path / "elsewhere.jsonl"
    copied = linked.read_bytes()
    elsewhere.write_bytes(copied)
    linked.unlink()
    linked.symlink_to(elsewhere)
    assert page_cache.get_table(index.url, "epsilon") is None
    answers = _session(index, page_cache).release_tables(wanted)
    assert [table.name for table in answers.values()] == ["epsilon", "zeta"]  # type: ignore[union-attr]
    assert not _table_file(page_cache).is_symlink()  # replaced, not written through
    assert elsewhere.read_bytes() == copied
    fifo = _table_file(page_cache)
    fifo.unlink()
    os.mkfifo(fifo)
    assert page_cache.get_table(index.url, "zeta") is None  # and does not wait on the FIFO
    again = _session(index, page_cache).release_tables(wanted)
    assert [table.name for table in again.values()] == ["epsilon", "zeta"]  # type: ignore[union-attr]
    assert index.hits["/simple/epsilon/"] == 3
    assert index.hits["/simple/zeta/"] == 3


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
    assert not list((tmp_path / "cache").rglob("*.json*"))
