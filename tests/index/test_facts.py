"""The facts drawn from a page, on pages the local index serves."""

from __future__ import annotations

import pytest
from server import IndexServer, Project, Release

from depwatch.index import IndexSession, NotCheckedError
from depwatch.index.cache import PageCache
from depwatch.index.facts import release_facts
from depwatch.index.page import summarise


def _table(index: IndexServer, cache: PageCache, project: Project):  # type: ignore[no-untyped-def]
    index.add(project)
    return IndexSession(default_index=index.url, cache=cache).release_table(project.name)


def test_upper_bounds_are_not_taken_as_excluding_a_python(
    index: IndexServer, page_cache: PageCache
) -> None:
    table = _table(index, page_cache, Project("capped", [Release("1.0", "<3.15,>=3.10")]))
    _, excluded, _ = release_facts(table, "1.0", "x", ("3.9", "3.10", "3.14", "3.15"))
    assert excluded == ("3.9",)


def test_a_release_is_yanked_only_when_every_file_is(
    index: IndexServer, page_cache: PageCache
) -> None:
    project = Project("half", [Release("1.0", yanked="bad wheel"), Release("1.0"), Release("1.1")])
    index.add(project)
    page = IndexSession(default_index=index.url, cache=page_cache).project_page("half")
    facts, _, _ = release_facts(summarise(page), "1.0", "x", None)
    assert not facts.yanked
    assert facts.yanked_reason is None
    assert facts.newest == "1.1"


def test_newest_is_final_unless_a_prerelease_is_locked(
    index: IndexServer, page_cache: PageCache
) -> None:
    table = _table(
        index,
        page_cache,
        Project("pre", [Release("1.0"), Release("2.0rc1"), Release("1.1", yanked=True)]),
    )
    assert release_facts(table, "1.0", "x", None)[0].newest == "1.0"
    assert release_facts(table, "2.0rc1", "x", None)[0].newest == "2.0rc1"


def test_files_stating_no_requires_python_install_anywhere(
    index: IndexServer, page_cache: PageCache
) -> None:
    mixed = Project("mixed", [Release("1.0", ">=3.12", sdist=False)])
    mixed.releases.append(Release("1.0", None, wheel=False))
    table = _table(index, page_cache, mixed)
    _, excluded, _ = release_facts(table, "1.0", "x", ("3.9",))
    assert excluded == ()


def test_an_unknown_version_is_not_checked(index: IndexServer, page_cache: PageCache) -> None:
    table = _table(index, page_cache, Project("known", [Release("1.0")]))
    with pytest.raises(NotCheckedError, match=r"lists no file of known 9\.9"):
        release_facts(table, "9.9", "x", None)
    with pytest.raises(NotCheckedError, match="not a PEP 440 version"):
        release_facts(table, "9e", "x", None)


def test_the_table_read_straight_from_json_is_the_summary_of_the_page(
    index: IndexServer, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    index.add(
        Project(
            "both",
            [
                Release("1.0", ">=3.8", upload_time="2024-01-01T00:00:00Z"),
                Release("1.0.post1", ">=3.9", yanked="oops"),
                Release("2.0b1", ">=3.10"),
                Release("1.1", None),
            ],
        )
    )
    straight = IndexSession(default_index=index.url, cache=PageCache(tmp_path / "a"))
    via_page = IndexSession(default_index=index.url, cache=PageCache(tmp_path / "b"))
    table = straight.release_table("both")
    assert table == summarise(via_page.project_page("both"))
    assert [r.version for r in table.releases] == ["2.0b1", "1.1", "1.0.post1", "1.0"]
    assert table.find("1.0.post1") is not None
    assert table.find("1.0.post1").yanked_reason == "oops"  # type: ignore[union-attr]
    assert table.newest(prereleases=False).version == "1.1"  # type: ignore[union-attr]
    assert table.newest(prereleases=True).version == "2.0b1"  # type: ignore[union-attr]
