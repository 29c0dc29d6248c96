"""The compiled rule index: cache hits and misses, invalidation, overrides, lookups."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from depwatch.rulebook import RuleBook, RuleErrors, load_rulebook
from depwatch.rulebook import shipped as shipped_module

RULE = """\
package = "{package}"
kind = "breaking"
tag = "plan"
affected = ">={boundary}"
boundary = "{boundary}"
title = "{title}"
what = "Something changed."
why = "It matters."
action = "Do something."
references = ["https://example.org/changelog"]

[usage]
symbols = ["{module}.thing"]

[examples]
affected = ["{boundary}"]
unaffected = ["0.0.1"]
code = '''
import {module}
{module}.thing()  # expect
'''
"""

EOL = """\
package = "python"
kind = "eol"
tag = "plan"
affected = "==3.9.*"
eol = 2025-10-31
title = "Python 3.9 reached end of life"
what = "No more fixes."
why = "No more fixes."
action = "Require Python >=3.10."
references = ["https://peps.python.org/pep-0596/"]

[examples]
affected = ["3.9"]
unaffected = ["3.10"]
"""


def write_rule(
    root: Path,
    folder: str,
    slug: str,
    *,
    title: str = "A change",
    boundary: str = "2.0.0",
    package: str | None = None,
    module: str = "mod",
) -> Path:
    path = root / folder / f"{slug}.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    text = RULE.format(package=package or folder, boundary=boundary, title=title, module=module)
    path.write_text(text, encoding="utf-8")
    return path


def settle(root: Path, age: float = 60.0) -> None:
    """Date every file and folder under ``root`` back, as if written a while ago."""
    past = time.time() - age
    for folder, _, files in os.walk(root):
        for name in files:
            os.utime(Path(folder) / name, (past, past))
        os.utime(folder, (past, past))


@pytest.fixture(autouse=True)
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("DEPWATCH_CACHE_DIR", str(folder))
    monkeypatch.delenv("DEPWATCH_NO_CACHE", raising=False)
    return folder


@pytest.fixture
def shipped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A stand-in for the shipped rules folder."""
    folder = tmp_path / "shipped"
    write_rule(folder, "google-genai", "wire-names", title="shipped wire names")
    write_rule(folder, "google-genai", "floor", title="shipped floor")
    write_rule(folder, "numpy", "aliases", module="numpy")
    (folder / "python").mkdir()
    (folder / "python" / "3.9-eol.toml").write_text(EOL, encoding="utf-8")
    (folder / "README.md").write_text("# rules\n", encoding="utf-8")
    settle(folder)
    monkeypatch.setattr(shipped_module, "shipped_dir", lambda: folder)
    return folder


def titles(book: RuleBook, package: str) -> list[str]:
    return [rule.title for rule in book.for_package(package)]


# -- lookups ---------------------------------------------------------------------------------


def test_lookups_are_normalised(shipped: Path) -> None:
    book = load_rulebook()
    ids = [rule.id for rule in book.for_package("Google_GenAI")]
    assert ids == ["google-genai/floor", "google-genai/wire-names"]
    assert book.for_package("google.genai") == book.for_package("google-genai")
    assert book.for_package("unknown-package") == ()
    assert book.packages() == frozenset({"google-genai", "numpy"})


def test_interpreter_rules_are_apart(shipped: Path) -> None:
    book = load_rulebook()
    assert [rule.id for rule in book.interpreter_rules()] == ["python/3.9-eol"]
    assert book.for_package("python") == ()  # a conda lock's python package is not a rule target
    assert book.get("python/3.9-eol") is not None


def test_get_iter_len(shipped: Path) -> None:
    book = load_rulebook()
    assert len(book) == 4
    assert [rule.id for rule in book] == [
        "google-genai/floor",
        "google-genai/wire-names",
        "numpy/aliases",
        "python/3.9-eol",
    ]
    rule = book.get("google-genai/wire-names")
    assert rule is not None
    assert rule.title == "shipped wire names"
    assert book.get("Google_GenAI/wire-names") is rule
    assert book.get("google-genai/nope") is None
    assert book.get("nope") is None


def test_rules_are_memoised(shipped: Path) -> None:
    book = load_rulebook()
    assert book.for_package("numpy") is book.for_package("NumPy")


def test_from_rules(shipped: Path) -> None:
    rules = list(load_rulebook())
    book = RuleBook.from_rules(rules)
    assert [rule.id for rule in book] == [rule.id for rule in rules]
    assert len(book.for_package("google-genai")) == 2
    assert len(book.interpreter_rules()) == 1


# -- user folders ----------------------------------------------------------------------------


def test_a_user_rule_replaces_a_shipped_rule_with_the_same_id(
    shipped: Path, tmp_path: Path
) -> None:
    user = tmp_path / "user"
    write_rule(user, "google-genai", "wire-names", title="team's own wire names")
    write_rule(user, "google-genai", "extra", title="team extra")
    book = load_rulebook([user])
    assert titles(book, "google-genai") == ["team extra", "shipped floor", "team's own wire names"]
    rule = book.get("google-genai/wire-names")
    assert rule is not None
    assert rule.source is not None
    assert "user" in rule.source
    assert len(book) == 5
    # the later of two user folders wins too
    later = tmp_path / "later"
    write_rule(later, "google-genai", "wire-names", title="later wins")
    assert "later wins" in titles(load_rulebook([user, later]), "google-genai")


def test_without_the_shipped_rules(shipped: Path, tmp_path: Path) -> None:
    user = tmp_path / "user"
    write_rule(user, "numpy", "mine", module="numpy")
    book = load_rulebook([user], include_shipped=False)
    assert [rule.id for rule in book] == ["numpy/mine"]


def test_errors_of_every_folder_are_raised_together(shipped: Path, tmp_path: Path) -> None:
    one, two = tmp_path / "one", tmp_path / "two"
    write_rule(one, "numpy", "a", boundary="x", module="numpy")
    write_rule(two, "numpy", "b", package="pandas", module="numpy")
    with pytest.raises(RuleErrors) as info:
        load_rulebook([one, two, tmp_path / "missing"])
    message = str(info.value)
    assert "a.toml" in message
    assert "(at 'boundary')" in message
    assert "b.toml" in message
    assert "(at 'package')" in message
    assert "rule folder not found" in message


def test_the_same_folder_twice_is_read_once(shipped: Path) -> None:
    book = load_rulebook([shipped])
    assert len(book) == 4


# -- the cache -------------------------------------------------------------------------------


def test_cache_miss_then_hit(shipped: Path, cache: Path) -> None:
    first = load_rulebook()
    assert first.cached == (False,)
    files = list(cache.glob("rules-*.json"))
    assert len(files) == 1
    header = json.loads(files[0].read_bytes().split(b"\n", 2)[1])  # line 1: its checksum
    assert header["root"] == str(shipped)
    assert set(header["packages"]) == {"google-genai", "numpy", "python"}
    second = load_rulebook()
    assert second.cached == (True,)
    assert list(second) == list(first)


def test_no_cache(shipped: Path, cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEPWATCH_NO_CACHE", "1")
    assert load_rulebook().cached == (False,)
    assert load_rulebook().cached == (False,)
    assert not cache.exists()


def test_an_edit_in_place_is_seen(shipped: Path) -> None:
    load_rulebook()
    path = shipped / "google-genai" / "wire-names.toml"
    path.write_text(path.read_text().replace("shipped wire names", "shipped WIRE names"))
    settle(shipped / "google-genai" / "wire-names.toml", age=30)  # same size, new mtime
    book = load_rulebook()
    assert book.cached == (True,)
    assert "shipped WIRE names" in titles(book, "google-genai")
    # and the cache was brought up to date
    again = load_rulebook()
    assert "shipped WIRE names" in titles(again, "google-genai")


def test_an_edit_in_the_same_clock_tick_is_seen(shipped: Path) -> None:
    path = write_rule(shipped, "pandas", "fresh", title="first", module="pandas")
    load_rulebook()  # written just now: its time stamps are too recent to trust
    path.write_text(path.read_text().replace("first", "secnd"))  # same size, maybe same mtime
    assert titles(load_rulebook(), "pandas") == ["secnd"]


def test_added_and_removed_files_are_seen(shipped: Path) -> None:
    load_rulebook()
    write_rule(shipped, "google-genai", "new-rule", title="new")
    (shipped / "numpy" / "aliases.toml").unlink()
    write_rule(shipped, "jax", "pallas", module="jax")
    settle(shipped)
    book = load_rulebook()
    assert "new" in titles(book, "google-genai")
    assert book.for_package("numpy") == ()
    assert len(book.for_package("jax")) == 1


def test_a_new_file_in_a_package_folder_is_seen(shipped: Path) -> None:
    load_rulebook()
    write_rule(shipped, "google-genai", "new-rule", title="new")
    settle(shipped / "google-genai", age=30)
    book = load_rulebook()
    assert book.cached == (True,)
    assert "new" in titles(book, "google-genai")
    assert len(book) == 5


def test_a_rule_broken_since_the_cache_was_written_is_an_error(shipped: Path) -> None:
    load_rulebook()
    path = shipped / "numpy" / "aliases.toml"
    path.write_text(path.read_text().replace('tag = "plan"', 'tag = "soon"'))
    settle(path, age=30)
    book = load_rulebook()
    with pytest.raises(RuleErrors, match=r"aliases.toml: unknown tag 'soon'"):
        book.for_package("numpy")


@pytest.mark.parametrize(
    "junk",
    [
        b"",
        b"not json\n",
        b'{"format": 1}\n',
        b"\x00\xff\xfe garbage",
        b'{"format": 999, "depwatch": "0", "root": "/", "mtime": 0, "packages": {}}\n',
    ],
    ids=["empty", "not-json", "no-keys", "binary", "other-format"],
)
def test_a_corrupt_cache_is_rebuilt(shipped: Path, cache: Path, junk: bytes) -> None:
    load_rulebook()
    (target,) = cache.glob("rules-*.json")
    target.write_bytes(junk)
    book = load_rulebook()
    assert book.cached == (False,)
    assert len(book) == 4
    assert load_rulebook().cached == (True,)


def test_a_corrupt_segment_is_reread(shipped: Path, cache: Path) -> None:
    load_rulebook()
    (target,) = cache.glob("rules-*.json")
    check, head, blob = target.read_bytes().split(b"\n", 2)
    target.write_bytes(check + b"\n" + head + b"\n" + b"x" * len(blob))
    book = load_rulebook()
    assert book.cached == (True,)
    assert titles(book, "google-genai") == ["shipped floor", "shipped wire names"]
    assert load_rulebook().for_package("numpy")  # and the cache was repaired


def test_a_segment_of_the_wrong_shape_is_reread(shipped: Path, cache: Path) -> None:
    load_rulebook()
    (target,) = cache.glob("rules-*.json")
    data = target.read_bytes()
    assert b"\0plan\0" in data  # a tag, between two other fields of a row
    target.write_bytes(data.replace(b"\0plan\0", b"\0weird\0"))
    assert len(load_rulebook().for_package("numpy")) == 1


def test_a_segment_with_a_field_missing_is_reread(shipped: Path, cache: Path) -> None:
    load_rulebook()
    (target,) = cache.glob("rules-*.json")
    data = target.read_bytes()
    assert b"\0plan\0" in data
    target.write_bytes(data.replace(b"\0plan\0", b"\0", 1))  # one field fewer
    assert len(load_rulebook().for_package("numpy")) == 1
    assert load_rulebook().cached == (True,)


def test_an_unwritable_cache_is_not_kept(shipped: Path, cache: Path) -> None:
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_text("a file where the cache folder should be")
    book = load_rulebook()
    assert len(book) == 4
    assert load_rulebook().cached == (False,)


def test_each_folder_has_its_own_cache(shipped: Path, tmp_path: Path, cache: Path) -> None:
    user = tmp_path / "user"
    write_rule(user, "numpy", "mine", module="numpy")
    settle(user)
    load_rulebook([user])
    assert len(list(cache.glob("rules-*.json"))) == 2
    assert load_rulebook([user]).cached == (True, True)
    assert load_rulebook().cached == (True,)


def test_texts_round_trip_through_the_cache(shipped: Path) -> None:
    path = write_rule(shipped, "pandas", "unicode", title="Sérieux → changé 🐼", module="pandas")
    text = path.read_text(encoding="utf-8")
    text = text.replace('what = "Something changed."', 'what = """Line one\n\tline two\n"""')
    path.write_text(text, encoding="utf-8")
    settle(shipped)
    first = load_rulebook()
    assert first.cached == (False,)
    second = load_rulebook()
    assert second.cached == (True,)
    (rule,) = second.for_package("pandas")
    assert rule.title == "Sérieux → changé 🐼"
    assert rule.what == "Line one\n\tline two"
    assert list(second) == list(first)
    floor = second.get("google-genai/floor")
    assert floor is not None
    assert floor.examples.code is not None
    eol = second.get("python/3.9-eol")
    assert eol is not None
    assert eol.examples.code is None


def test_call_patterns_round_trip_through_the_cache(shipped: Path) -> None:
    path = write_rule(shipped, "pyyaml", "load", module="yaml")
    text = path.read_text(encoding="utf-8").replace(
        'symbols = ["yaml.thing"]',
        'calls = [{ name = "yaml.load", without = ["Loader"], positional-max = 1 },'
        ' { name = "yaml.dump", keywords = ["Dumper"] }]',
    )
    text = text.replace("yaml.thing()  # expect", "yaml.load(s)  # expect")
    path.write_text(text, encoding="utf-8")
    settle(shipped)
    first = load_rulebook()
    assert first.cached == (False,)
    second = load_rulebook()
    assert second.cached == (True,)
    (rule,) = second.for_package("pyyaml")
    assert rule.usage is not None
    assert [(c.name, c.keywords, c.without, c.positional_max) for c in rule.usage.calls] == [
        ("yaml.load", (), ("Loader",), 1),
        ("yaml.dump", ("Dumper",), (), None),
    ]
    assert list(second) == list(first)


def test_an_edited_cache_row_is_not_trusted(shipped: Path, cache: Path) -> None:
    """Editing a rule's range in the cache (the segment's checksum no longer matches) makes
    the package be read from its files again, not matched with the edited range."""
    first = {rule.id: str(rule.affected) for rule in load_rulebook()}
    (target,) = cache.glob("rules-*.json")
    data = target.read_bytes()
    edited = data.replace(b">=2.0.0", b">=9.0.0", 1)
    assert edited != data
    target.write_bytes(edited)
    assert {rule.id: str(rule.affected) for rule in load_rulebook()} == first


def test_an_edited_header_is_not_trusted(shipped: Path, cache: Path) -> None:
    load_rulebook()
    (target,) = cache.glob("rules-*.json")
    data = target.read_bytes()
    target.write_bytes(data.replace(b'"numpy"', b'"numpz"', 1))
    book = load_rulebook()
    assert book.cached == (False,)
    assert book.for_package("numpy")


def test_a_rewrite_keeping_size_and_mtime_is_seen(shipped: Path) -> None:
    """Entries are keyed by the rule file's bytes, not by its size and time stamp."""
    load_rulebook()
    path = shipped / "google-genai" / "wire-names.toml"
    before = path.stat()
    path.write_text(path.read_text().replace("shipped wire names", "shipped WIRE names"))
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert path.stat().st_size == before.st_size
    assert "shipped WIRE names" in titles(load_rulebook(), "google-genai")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")
def test_a_cache_file_that_is_a_symlink_or_fifo_is_ignored(
    shipped: Path, cache: Path, tmp_path: Path
) -> None:
    load_rulebook()
    (target,) = cache.glob("rules-*.json")
    elsewhere = tmp_path / "elsewhere.json"
    elsewhere.write_bytes(target.read_bytes())
    target.unlink()
    target.symlink_to(elsewhere)
    assert load_rulebook().cached == (False,)
    target.unlink()
    os.mkfifo(target)
    assert load_rulebook().cached == (False,)  # and it did not block


def test_the_cache_is_never_written_into_a_protected_project(
    shipped: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = tmp_path / "project"
    project.mkdir()
    monkeypatch.setenv("DEPWATCH_CACHE_DIR", str(project / ".cache"))
    book = load_rulebook(protect=[project])
    assert len(book) == 4
    assert not (project / ".cache").exists()
    load_rulebook()
    assert (project / ".cache").exists()  # unprotected, the same folder is used
