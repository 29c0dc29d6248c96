"""API changes from released wheels, end to end: real wheels built here, served by a local index
with range requests, the project's code scanned for real, findings matched to it."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from wheel_builder import build_wheel
from wheel_server import WheelIndex

from depwatch.index import IndexSession
from depwatch.index.cache import PageCache
from depwatch.model import Lockfile, Package, Tag
from depwatch.usage import scan_source
from depwatch.usage.facts import FileFacts
from depwatch.wheels import ApiCache, check_wheels

# demolib: 1.0 → 1.1 (escape behind a deprecation shim, legacy= deprecated) → 2.0 (breaks) → 2.1
_CORE_1 = """
    def fetch(url, *, timeout=None, legacy=False):
        '''Fetch.'''
        return url

    class Client:
        def __init__(self, base, retries=3):
            self.base = base

        def get(self, path):
            return path
"""
_CORE_11 = """
    import warnings

    def fetch(url, *, timeout=None, legacy=False):
        if legacy:
            warnings.warn("legacy= is deprecated; pass timeout= instead", DeprecationWarning)
        return url

    class Client:
        def __init__(self, base, retries=3):
            self.base = base

        def get(self, path):
            return path
"""
_CORE_2 = """
    def fetch(url, *, timeout=None):
        return url

    class Client:
        def __init__(self, base, token, retries=3):
            self.base = base

        def get(self, path):
            return path
"""
# a namespace sub-package (no __init__.py) holding the base class Client inherits from
_SUB = """
    class Base:
        def shared(self):
            return 1
"""
_INIT_1 = """
    from demolib._core import Client as _Client, fetch
    from demolib.sub.mod import Base

    class Client(_Client, Base):
        pass

    def old_func(x):
        return x

    def send(data, flag=False):
        return data

    def escape(s):
        return s
"""
_INIT_11 = """
    from demolib._core import Client as _Client, fetch
    from demolib.sub.mod import Base

    class Client(_Client, Base):
        pass

    def old_func(x):
        return x

    def send(data, flag=False):
        return data

    def __getattr__(name):
        if name == "escape":
            import warnings

            warnings.warn(
                "'demolib.escape' is deprecated and will be removed in demolib 2.0. Use"
                " 'markupsafe.escape' instead.",
                DeprecationWarning,
                stacklevel=2,
            )
            return str
        raise AttributeError(name)
"""
_INIT_2 = """
    from demolib._core import Client as _Client, fetch
    from demolib.sub.mod import Base

    class Client(_Client, Base):
        pass

    def send(data, *, flag=False):
        return data

    def __getattr__(name):
        if name == "__version__":
            return "2"
        raise AttributeError(name)
"""


def _release(init: str, core: str) -> dict[str, str | bytes]:
    return {"demolib/__init__.py": init, "demolib/_core.py": core, "demolib/sub/mod.py": _SUB}


RELEASES = {
    "1.0": _release(_INIT_1, _CORE_1),
    "1.1": _release(_INIT_11, _CORE_11),
    "2.0": _release(_INIT_2, _CORE_2),
    "2.1": _release(_INIT_2, _CORE_2),
}

PROJECT_CODE = """\
import demolib
from demolib import Client, escape, fetch

demolib.old_func(1)
fetch("u", legacy=True)
fetch("u", timeout=3)
client = Client("b")
client.shared()
client.get("/x")
demolib.send(1, True)
escape("x")
"""


def _serve(index: WheelIndex, releases: dict[str, dict[str, str | bytes]]) -> None:
    for version, files in releases.items():
        filename, data = build_wheel("demolib", version, files)
        index.add("demolib", filename, data)


def _run(index: WheelIndex, tmp_path: Path, locked: str, code: str = PROJECT_CODE, **kw: object):
    facts = scan_source(code, "app.py", ["demolib"])
    lock = Lockfile("uv.lock", "uv", (Package("demolib", locked),))
    with IndexSession(default_index=index.url, cache=PageCache(tmp_path / "pages")) as session:
        return check_wheels(
            [lock],
            [facts],
            session,
            cache=ApiCache(tmp_path / "api"),
            **kw,  # type: ignore[arg-type]
        )


def _by_symbol(result) -> dict[str, object]:  # type: ignore[no-untyped-def]
    return {f.rule.split("/", 2)[2]: f for f in result.findings}


def test_plan_names_the_first_release_that_changed_what_the_code_uses(
    wheel_index: WheelIndex, tmp_path: Path
) -> None:
    _serve(wheel_index, RELEASES)
    result = _run(wheel_index, tmp_path, "1.0")
    assert result.not_checked == []
    found = _by_symbol(result)
    removed = found["demolib.old_func"]
    assert removed.tag is Tag.PLAN
    assert "2.0" in removed.title
    assert [(e.path, e.line) for e in removed.evidence] == [("app.py", 4)]
    keyword = found["demolib.fetch(legacy=)"]
    assert keyword.tag is Tag.PLAN
    assert [(e.line, e.column) for e in keyword.evidence] == [(5, 12)]  # at the keyword
    assert "in demolib 2.0" in keyword.title
    required = found["demolib.Client(token)"]
    assert required.tag is Tag.PLAN
    assert [e.line for e in required.evidence] == [7]
    positional = found["demolib.send(flag)"]
    assert positional.tag is Tag.PLAN
    # a re-export of a private module is the public name; an inherited member through a
    # namespace sub-package is not "removed"; a call that passes nothing removed is silent
    assert not any("_core" in s or "shared" in s or ".get" in s for s in found)
    assert found["demolib.escape"].tag is Tag.PLAN
    assert all(f.version == "1.0" and f.lockfiles == ("uv.lock",) for f in result.findings)
    assert {f.confidence for f in result.findings} == {"static"}
    assert {f.origin for f in result.findings} == {"wheels"}


def test_immediate_when_the_locked_release_lacks_what_an_earlier_one_had(
    wheel_index: WheelIndex, tmp_path: Path
) -> None:
    _serve(wheel_index, RELEASES)
    result = _run(wheel_index, tmp_path, "2.0")
    found = _by_symbol(result)
    assert {s for s, f in found.items() if f.tag is Tag.IMMEDIATE} == {
        "demolib.old_func",
        "demolib.fetch(legacy=)",
        "demolib.Client(token)",
        "demolib.send(flag)",
        "demolib.escape",
    }
    title = found["demolib.fetch(legacy=)"].title
    assert "demolib 2.0" in title
    assert "1.1" in title
    # 2.1 changed nothing: no plan
    assert not [f for f in result.findings if f.tag is Tag.PLAN]


def test_deprecations_of_the_locked_release_carry_their_message(
    wheel_index: WheelIndex, tmp_path: Path
) -> None:
    _serve(wheel_index, RELEASES)
    result = _run(wheel_index, tmp_path, "1.1")
    found = _by_symbol(result)
    # removed later: plan, with the deprecation text and the stronger confidence
    escape = found["demolib.escape"]
    assert escape.tag is Tag.PLAN
    assert "markupsafe.escape" in escape.title
    assert escape.confidence == "static+deprecation"
    legacy = found["demolib.fetch(legacy=)"]
    assert "pass timeout= instead" in legacy.title
    assert legacy.confidence == "static+deprecation"


def test_deprecation_without_a_removal_is_monitor(wheel_index: WheelIndex, tmp_path: Path) -> None:
    releases = {"1.0": RELEASES["1.0"], "1.1": RELEASES["1.1"]}
    _serve(wheel_index, releases)
    result = _run(wheel_index, tmp_path, "1.1")
    found = _by_symbol(result)
    assert found["demolib.escape"].tag is Tag.MONITOR
    assert found["demolib.escape"].kind == "deprecation"
    assert found["demolib.fetch(legacy=)"].tag is Tag.MONITOR
    assert not [f for f in result.findings if f.tag is not Tag.MONITOR]
    # locked 1.0, newest 1.1 serves escape through a shim: monitor, not removed
    result = _run(wheel_index, tmp_path, "1.0")
    found = _by_symbol(result)
    assert [f.tag for f in result.findings] == [Tag.MONITOR]
    assert "deprecated" in result.findings[0].title


def test_what_the_code_does_not_do_is_not_reported(wheel_index: WheelIndex, tmp_path: Path) -> None:
    _serve(wheel_index, RELEASES)
    code = """\
from demolib import Client, fetch, send

fetch("u", timeout=1)
Client("b", "tok")
Client(**options)
send(1, flag=True)
"""
    assert _run(wheel_index, tmp_path, "1.0", code).findings == []


def test_a_curated_rule_on_the_same_symbol_wins(wheel_index: WheelIndex, tmp_path: Path) -> None:
    _serve(wheel_index, RELEASES)
    result = _run(wheel_index, tmp_path, "1.0", curated={"demolib": ["demolib.old_func"]})
    assert "demolib.old_func" not in _by_symbol(result)
    assert "demolib.fetch(legacy=)" in _by_symbol(result)


def test_only_imported_packages_are_fetched_and_the_cache_serves_warm_runs(
    wheel_index: WheelIndex, tmp_path: Path
) -> None:
    _serve(wheel_index, RELEASES)
    filename, data = build_wheel("unused", "1.0", {"unused/__init__.py": "X = 1\n"})
    wheel_index.add("unused", filename, data)
    lock = Lockfile("uv.lock", "uv", (Package("demolib", "1.0"), Package("unused", "1.0")))
    facts = scan_source(PROJECT_CODE, "app.py", ["demolib", "unused"])
    api_cache = ApiCache(tmp_path / "api")
    with IndexSession(default_index=wheel_index.url, cache=PageCache(tmp_path / "p")) as session:
        cold = check_wheels([lock], [facts], session, cache=api_cache)
    assert wheel_index.hits["/simple/unused/"] == 0
    assert not any(k.startswith("/files/unused") for k in wheel_index.hits)
    assert cold.fetched >= 2
    # only the .py members were read: far fewer bytes than the wheels hold
    files_before = sum(v for k, v in wheel_index.hits.items() if k.startswith("/files/"))
    with IndexSession(default_index=wheel_index.url, cache=PageCache(tmp_path / "p")) as session:
        warm = check_wheels([lock], [facts], session, cache=api_cache)
    assert warm.fetched == 0
    assert sum(v for k, v in wheel_index.hits.items() if k.startswith("/files/")) == files_before
    assert [f.rule for f in warm.findings] == [f.rule for f in cold.findings]
    cached = list((tmp_path / "api").glob("demolib-*.json"))
    assert cached
    assert all(json.loads(p.read_bytes())["objects"] for p in cached)
    assert not list((tmp_path / "api").glob("*.whl"))


def test_a_warm_run_reads_the_stored_comparison_and_a_changed_use_compares_again(
    wheel_index: WheelIndex, tmp_path: Path
) -> None:
    _serve(wheel_index, RELEASES)
    lock = Lockfile("uv.lock", "uv", (Package("demolib", "1.0"),))
    facts = scan_source(PROJECT_CODE, "app.py", ["demolib"])
    api_cache = ApiCache(tmp_path / "api")

    def run(code_facts: FileFacts) -> list[tuple[str, str, tuple[tuple[str, int], ...]]]:
        with IndexSession(
            default_index=wheel_index.url, cache=PageCache(tmp_path / "p")
        ) as session:
            found = check_wheels([lock], [code_facts], session, cache=api_cache).findings
        return sorted(
            (f.rule, f.tag.value, tuple((e.path, e.line) for e in f.evidence)) for f in found
        )

    cold = run(facts)
    assert cold
    stored = list((tmp_path / "api" / "results").glob("demolib-*.json"))
    assert len(stored) == 1
    # the APIs are not read again: a warm run works from the stored comparison alone
    for api in (tmp_path / "api").glob("demolib-*.json"):
        api.unlink()
    assert run(facts) == cold
    # a different use of the package is another comparison (and needs the APIs again)
    moved = scan_source("\n\n" + PROJECT_CODE, "app.py", ["demolib"])
    again = run(moved)
    assert [(rule, tag) for rule, tag, _ in again] == [(rule, tag) for rule, tag, _ in cold]
    assert [lines for _, _, lines in again] != [lines for _, _, lines in cold]
    assert len(list((tmp_path / "api" / "results").glob("demolib-*.json"))) == 2


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this platform")
def test_a_cache_file_replaced_by_a_fifo_a_link_or_junk_is_a_miss(
    wheel_index: WheelIndex, tmp_path: Path
) -> None:
    """A FIFO would make a plain read wait forever; a link or junk is not trusted either:
    each is a miss, compared again from the wheels, with the same findings."""
    _serve(wheel_index, RELEASES)
    lock = Lockfile("uv.lock", "uv", (Package("demolib", "1.0"),))
    facts = scan_source(PROJECT_CODE, "app.py", ["demolib"])
    api_cache = ApiCache(tmp_path / "api")

    def run() -> tuple[list[str], int]:
        with IndexSession(
            default_index=wheel_index.url, cache=PageCache(tmp_path / "p")
        ) as session:
            result = check_wheels([lock], [facts], session, cache=api_cache)
        return sorted(f.rule for f in result.findings), result.fetched

    cold, _ = run()
    assert cold
    (stored,) = (tmp_path / "api" / "results").glob("demolib-*.json")
    apis = sorted((tmp_path / "api").glob("demolib-*.json"))
    assert apis
    stored.unlink()
    os.mkfifo(stored)
    target = tmp_path / "elsewhere.json"
    target.write_bytes(apis[0].read_bytes())
    apis[0].unlink()
    apis[0].symlink_to(target)
    for api in apis[1:]:
        api.write_bytes(b"{not json")
    again, fetched = run()
    assert again == cold
    assert fetched >= 1


def test_a_host_without_range_support_is_read_whole(tmp_path: Path) -> None:
    server = WheelIndex(ranges=False).start()
    try:
        _serve(server, RELEASES)
        result = _run(server, tmp_path, "1.0")
    finally:
        server.stop()
    assert result.not_checked == []
    assert "demolib.old_func" in _by_symbol(result)


def test_a_package_the_index_does_not_know_is_not_checked(
    wheel_index: WheelIndex, tmp_path: Path
) -> None:
    _serve(wheel_index, RELEASES)
    facts = scan_source("import private_pkg\nprivate_pkg.run()\n", "app.py", ["private_pkg"])
    lock = Lockfile("uv.lock", "uv", (Package("private-pkg", "1.0"),))
    with IndexSession(default_index=wheel_index.url, cache=PageCache(tmp_path / "p")) as session:
        result = check_wheels([lock], [facts], session, cache=ApiCache(tmp_path / "api"))
    assert result.findings == []
    assert [(n.package, n.version) for n in result.not_checked] == [("private-pkg", "1.0")]
    assert "404" in result.not_checked[0].reason


@pytest.mark.parametrize(
    ("files", "reason"),
    [
        ({"demolib/__init__.py": "def f(:\n"}, None),  # griffe reads a syntax error as empty
        ({"../evil.py": "X = 1\n", "demolib/__init__.py": "X = 1\n"}, "escapes"),
    ],
)
def test_bad_wheels_are_not_checked_and_the_audit_goes_on(
    wheel_index: WheelIndex, tmp_path: Path, files: dict[str, str | bytes], reason: str | None
) -> None:
    _serve(wheel_index, {"1.0": files, "2.0": RELEASES["2.0"]})
    result = _run(wheel_index, tmp_path, "1.0")
    if reason is None:
        assert all(f.tag is not Tag.IMMEDIATE for f in result.findings)
    else:
        assert len(result.not_checked) == 1
        assert reason in result.not_checked[0].reason
        assert result.findings == []


def test_large_packages_are_read_in_worker_processes(
    wheel_index: WheelIndex, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from depwatch.wheels import extract

    monkeypatch.setattr(extract, "_POOL_MIN_BYTES", 0)  # every package goes to the workers
    _serve(wheel_index, RELEASES)
    in_workers = _by_symbol(_run(wheel_index, tmp_path / "a", "1.0"))
    monkeypatch.setattr(extract, "_POOL_MIN_BYTES", 10**12)  # none does
    in_process = _by_symbol(_run(wheel_index, tmp_path / "b", "1.0"))
    assert sorted(in_workers) == sorted(in_process)
    assert "demolib.old_func" in in_workers
    assert extract._EXTRACTOR._pool is None  # the workers are gone when the check ends


def test_import_names_are_confirmed_by_the_wheel(wheel_index: WheelIndex, tmp_path: Path) -> None:
    # distribution "demo-tools" ships the module "demotools_impl", not "demo_tools": code that
    # imports a project module named demo_tools is not compared with it
    for version, body in (("1.0", "def run(a):\n    pass\n"), ("2.0", "X = 1\n")):
        filename, data = build_wheel("demo-tools", version, {"demotools_impl/__init__.py": body})
        wheel_index.add("demo-tools", filename, data)
    facts = scan_source("import demo_tools\ndemo_tools.run(1)\n", "app.py", ["demo_tools"])
    lock = Lockfile("uv.lock", "uv", (Package("demo-tools", "1.0"),))
    with IndexSession(default_index=wheel_index.url, cache=PageCache(tmp_path / "p")) as session:
        result = check_wheels([lock], [facts], session, cache=ApiCache(tmp_path / "api"))
    assert result.findings == []
    assert result.not_checked == []
    # a known import name that differs from the distribution's (PyYAML → yaml) is followed
    for version, body in (
        ("6.0", "def load(stream, Loader=None):\n    pass\n"),
        ("7.0", "X = 1\n"),
    ):
        filename, data = build_wheel("PyYAML", version, {"yaml/__init__.py": body})
        wheel_index.add("pyyaml", filename, data)
    facts = scan_source("import yaml\nyaml.load(s)\n", "app.py", ["yaml"])
    lock = Lockfile("uv.lock", "uv", (Package("pyyaml", "6.0"),))
    with IndexSession(default_index=wheel_index.url, cache=PageCache(tmp_path / "p")) as session:
        result = check_wheels([lock], [facts], session, cache=ApiCache(tmp_path / "api"))
    assert [(f.package, f.rule) for f in result.findings] == [("pyyaml", "wheels/pyyaml/yaml.load")]
