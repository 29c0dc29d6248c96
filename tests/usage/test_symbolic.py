"""The second pass written from the first (depwatch.usage.symbolic): exact, or declined.

The property every test here leans on: for a file and any table of the project's exports,
what :func:`written` gives is either None (the file is scanned again) or exactly what a real
scan of the file with that table finds. It is checked over sources that reach every place
where the resolver's course depends on whether an imported name is bound (decorators, base
classes, bindings in branches, returns, annotations, environment reads, star imports,
``**dict(...)``), for every table over a set of values, None included.
"""

from __future__ import annotations

import itertools
import os
import textwrap
from pathlib import Path

import pytest

from depwatch.usage import scan_project, wire
from depwatch.usage.files import SourceFile
from depwatch.usage.pool import Pool
from depwatch.usage.resolve import Tracker
from depwatch.usage.scan import freeze_held, place_held, scan_compact, scan_symbolic
from depwatch.usage.symbolic import written

MODULES = ["numpy", "os", "pytest", "google.genai"]
ENV = ("HOME",)
PROJECT = frozenset({"pkg", "pkg.util", "pkg.mod", "pkg.other"})
#: Values an export may have: none, a module, a class, a function, the env getters.
VALUES = (None, "numpy", "numpy.ndarray", "numpy.linalg.norm", "os.getenv", "os.environ")

SOURCES = {
    "flows": """\
        from .util import helper, Maker, settings
        from pkg import util
        x = helper(1, key=2)
        y = Maker().build(x)[0].shape
        util.norm(x)
        settings.value
        with Maker() as made:
            made.run()
        """,
    "decorators_and_bases": """\
        from .util import deco, Base, register

        @deco
        def one():
            return 1

        @register(name="x")
        @deco
        class Two(Base):
            def run(self):
                return self.go()

        one().thing
        Two.attr
        Two().run().more
        """,
    "decorated_names": """\
        from .util import mark, deco, Base

        @mark
        def test_one():
            pass

        @mark
        class TestTwo:
            @deco
            def test_a(self):
                return self.helper()

            def helper(self):
                return self.test_a

        @deco
        def used():
            return 1

        @deco
        @mark
        def two():
            pass

        @deco(level=1)
        def three():
            pass

        @mark
        class Model(Base):
            pass

        used().x
        """,
    "branches": """\
        from .util import first, second
        try:
            import numpy as np
        except ImportError:
            np = first
        if first:
            name = second
        else:
            name = None
        name.attr
        np.ones(3)

        class C:
            if second:
                field = first
            def use(self):
                return self.field.x
        C().use()
        """,
    "returns_and_annotations": """\
        from .util import Thing, make, ArrayLike

        def get(flag):
            if flag:
                return make()
            return Thing()

        def take(value: ArrayLike, other: Thing | None = None) -> None:
            value.reshape(2)
            other.go()

        def chosen(flag):
            if flag:
                return make()
            if not flag:
                return Thing()
            return 1

        def recursive(n):
            if n:
                return make()
            return recursive(n - 1).more

        get(1).size
        chosen(0).size
        recursive(3).x
        """,
    "environment": """\
        from .util import getter, environ, source, helper
        getter("HOME")
        environ["HOME"]
        "HOME" in environ
        source.getenv("HOME")
        environ.get("HOME")
        source.environ.get("HOME")
        helper.run("HOME")
        """,
    "star_and_splat": """\
        from .util import *
        from .util import helper as named
        from .other import dict
        import numpy
        numpy.zeros(**dict(shape=2))
        helper.attr
        named.attr
        """,
}


def first_pass(text: str, tracker: Tracker) -> tuple[wire.Compact, wire.Symbolic]:
    """A file's first pass and what it held back, placed (as a worker gives it when asked)."""
    first, raw = scan_symbolic(text, "pkg/mod.py", tracker, project_modules=PROJECT)
    assert raw is not None
    return first, place_held(freeze_held(raw), text)


def _check(name: str, src: str, env: tuple[str, ...] = ENV) -> tuple[int, int]:
    """Every table over VALUES for the file's placeholders: written == a real scan, or None."""
    tracker = Tracker(MODULES, env)
    text = textwrap.dedent(src)
    first, held = first_pass(text, tracker)
    assert wire.loads(wire.dumps(held)) == held, "plain values: the worker sends them"
    pending = [p for p in held[0] if p[1] != "*"]
    plain = scan_compact(text, "pkg/mod.py", tracker, project_modules=PROJECT)
    assert first == plain, f"{name}: the first pass is the plain scan's"
    agreed = declined = 0
    for values in itertools.product(VALUES, repeat=len(pending)):
        table: dict[str, dict[str, str]] = {}
        for (module, export), value in zip(pending, values, strict=True):
            if value is not None:
                table.setdefault(module, {})[export] = value
        got = written(first, held, table, tracker.reportable)
        if got is None:
            declined += 1
            continue
        real = scan_compact(text, "pkg/mod.py", tracker, project_modules=PROJECT, exports=table)
        assert got == real, f"{name} with {table}"
        agreed += 1
    return agreed, declined


@pytest.mark.parametrize("name", sorted(SOURCES))
def test_written_is_the_scan_or_declines(name: str) -> None:
    agreed, declined = _check(name, SOURCES[name])
    # each source is written for some tables (every name unbound, at least), and every
    # table was either written or declined
    _, held = first_pass(textwrap.dedent(SOURCES[name]), Tracker(MODULES, ENV))
    assert agreed >= 1
    assert agreed + declined == len(VALUES) ** len([p for p in held[0] if p[1] != "*"])


def test_a_decorated_name_nothing_reads_is_written_whatever_its_decorator() -> None:
    tracker = Tracker(["pytest", "numpy"])
    text = "from .util import mark\n@mark\ndef test_one():\n    assert 1\n"
    first, held = first_pass(text, tracker)
    for value in ("pytest.mark.slow", "numpy.vectorize", None):
        table = {"pkg.util": {"mark": value}} if value else {}
        got = written(first, held, table, tracker.reportable)
        real = scan_compact(text, "pkg/mod.py", tracker, project_modules=PROJECT, exports=table)
        assert got == real
    # the module exports the decorated function as what the decorator gives (and the
    # decorator it imported)
    got = written(first, held, {"pkg.util": {"mark": "numpy.vectorize"}}, tracker.reportable)
    assert got is not None
    assert got[3] == (("mark", "numpy.vectorize"), ("test_one", "numpy.vectorize"))


def test_without_environment_variables_env_getters_are_plain_calls() -> None:
    agreed, declined = _check("environment", SOURCES["environment"], env=())
    assert declined == 0
    assert agreed == len(VALUES) ** 4


def test_a_call_that_cannot_be_an_env_getter_is_written_with_env_tracked() -> None:
    # `helper.run(...)` is no `os.getenv` and `helper.items` no `os.environ`, whatever
    # `helper` is: nothing is declined; `helper(...)` may be `os.getenv` itself
    src = "from .util import helper\nhelper.run('HOME')\nhelper.items['HOME']\n"
    assert _check("not a getter", src) == (len(VALUES), 0)
    src += "helper('HOME')\n"
    assert _check("maybe a getter", src) == (1, len(VALUES) - 1)


def test_a_star_import_declines_once_its_module_exports_anything() -> None:
    # `from .util import *` binds whatever pkg.util exports: with `helper` exported (the only
    # name of pkg.util a table can hold here), the file is scanned again; so is it when
    # `dict` (from pkg.other) has a value, which decides what `**dict(shape=2)` passes
    assert _check("star_and_splat", SOURCES["star_and_splat"]) == (1, len(VALUES) ** 2 - 1)


def test_flows_are_written_for_every_table() -> None:
    # names only flow there (calls, attributes, subscripts, with): nothing is declined when
    # no environment variable is tracked (a call could otherwise be `os.getenv`)
    agreed, declined = _check("flows", SOURCES["flows"], env=())
    assert declined == 0
    assert agreed == len(VALUES) ** 4


def test_places_and_call_results_are_rewritten() -> None:
    tracker = Tracker(["numpy"])
    text = "from .util import np_ones\nx = np_ones(3).reshape(2)\n"
    first, held = first_pass(text, tracker)
    assert first[1] == ()  # nothing is known of np_ones yet
    got = written(first, held, {"pkg.util": {"np_ones": "numpy.ones"}}, tracker.reportable)
    assert got is not None
    facts = wire.facts_from_wire(got)
    assert [(r.kind, r.name, r.line, r.column, r.result_at) for r in facts.refs] == [
        ("call", "numpy.ones", 2, 5, 0),
        ("call", "numpy.ones.reshape", 2, 5, len("numpy.ones")),
    ]


def test_a_stored_held_tuple_is_checked() -> None:
    tracker = Tracker(["numpy"])
    text = "from .util import f\nf.x()\n"
    _, held = first_pass(text, tracker)
    assert wire.symbolic_from_stored(held) == held
    pending, unsafe, rows, names = held
    bad_row = ((rows[0][0], "$7.x", *rows[0][2:]),)
    for junk in [
        (pending, unsafe, bad_row, names),  # a placeholder the file does not have
        (pending, (9,), rows, names),
        (pending, ("0",), rows, names),
        (pending, unsafe, rows, (("n", "numpy"),)),  # an export that is no placeholder
        ((("pkg.util",),), unsafe, rows, names),
    ]:
        with pytest.raises((ValueError, TypeError)):
            wire.symbolic_from_stored(junk)


CLIENTS = "from google import genai\nclient = genai.Client()\n"
APP = "from google import genai\nfrom .clients import client\nclient.models.generate(x=1)\n"


def write(root: Path, rel: str, text: str) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def cache_dir(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    cache = tmp_path_factory.mktemp("cache")
    monkeypatch.setenv("DEPWATCH_CACHE_DIR", str(cache))
    monkeypatch.delenv("DEPWATCH_NO_CACHE", raising=False)
    return cache


def _names(result: object, path: str) -> list[tuple[str, int]]:
    return [
        (r.name, r.line)
        for f in result.facts  # type: ignore[attr-defined]
        if f.path == path
        for r in f.refs
        if r.kind == "call"
    ]


def test_a_project_is_parsed_once_when_every_second_pass_is_written(
    tmp_path: Path, cache_dir: Path
) -> None:
    write(tmp_path, "pkg/__init__.py", "")
    write(tmp_path, "pkg/clients.py", CLIENTS)
    write(tmp_path, "pkg/app.py", APP)
    cold = scan_project(tmp_path, ["google.genai"], jobs=1)
    assert cold.files_parsed == 2  # app.py's second pass is written, not parsed
    assert ("google.genai.Client.models.generate", 3) in _names(cold, "pkg/app.py")
    # the upstream module changes: app.py's second pass is written again, from the cache
    path = write(tmp_path, "pkg/clients.py", "from google import genai\nclient = genai.Other()\n")
    os.utime(path, ns=(1, 1))
    changed = scan_project(tmp_path, ["google.genai"], jobs=1)
    assert changed.files_parsed == 1
    assert ("google.genai.Other.models.generate", 3) in _names(changed, "pkg/app.py")
    assert changed.facts == scan_project(tmp_path, ["google.genai"], cache=False, jobs=1).facts


def test_a_declined_second_pass_is_scanned(tmp_path: Path) -> None:
    # the decorator's value decides what `run` is bound to: app.py is parsed again
    write(tmp_path, "pkg/__init__.py", "")
    write(tmp_path, "pkg/marks.py", "import pytest\nslow = pytest.mark.slow\n")
    write(
        tmp_path,
        "pkg/app.py",
        "import pytest\nfrom .marks import slow\n@slow\ndef run():\n    pass\nrun.x\n",
    )
    result = scan_project(tmp_path, ["pytest"], cache=False, jobs=1)
    assert result.files_parsed == 3
    found = {
        (r.kind, r.name, r.line) for f in result.facts if f.path == "pkg/app.py" for r in f.refs
    }
    assert ("ref", "pytest.mark.slow", 3) in found
    assert ("ref", "pytest.mark.slow.x", 6) in found


def test_junk_held_in_the_cache_means_a_scan(tmp_path: Path, cache_dir: Path) -> None:
    write(tmp_path, "pkg/__init__.py", "")
    write(tmp_path, "pkg/clients.py", CLIENTS)
    write(tmp_path, "pkg/app.py", APP)
    cold = scan_project(tmp_path, ["google.genai"], jobs=1)
    [cache] = list(cache_dir.rglob("*.usage"))
    from depwatch.files import seal, unseal

    body = unseal(cache.read_bytes())
    assert body is not None
    data = wire.loads(body)
    data["files"]["pkg/app.py"]["held"] = wire.dumps(
        (
            (("pkg.clients", "client"),),
            (),
            (("call", "$5.x", 1, 1, "", (), None, 0, False, False, (), (), 0),),
            (),
        )
    )
    cache.write_bytes(seal(wire.dumps(data)))
    path = write(tmp_path, "pkg/clients.py", "from google import genai\nclient = genai.Other()\n")
    os.utime(path, ns=(1, 1))
    changed = scan_project(tmp_path, ["google.genai"], jobs=1)
    assert changed.files_parsed == 2  # clients.py, and app.py scanned (its held part is junk)
    assert ("google.genai.Other.models.generate", 3) in _names(changed, "pkg/app.py")
    assert cold.facts != changed.facts


def test_workers_keep_what_they_held_back_until_asked(tmp_path: Path) -> None:
    # scanned by two worker processes: app.py's second pass is written from what the
    # worker that scanned it kept, placed when asked for
    write(tmp_path, "pkg/__init__.py", "")
    write(tmp_path, "pkg/clients.py", CLIENTS)
    write(tmp_path, "pkg/app.py", APP)
    for i in range(6):
        write(tmp_path, f"pkg/other{i}.py", "from google import genai\nx = 1\n")
    pool = Pool(2, min_bytes=0, min_files=1)
    pooled = scan_project(tmp_path, ["google.genai"], cache=False, pool=pool)
    assert pool.pooled, "the workers scanned the first pass"
    assert pooled.files_parsed == 8
    here = scan_project(tmp_path, ["google.genai"], cache=False, jobs=1)
    assert pooled.facts == here.facts
    assert ("google.genai.Client.models.generate", 3) in _names(pooled, "pkg/app.py")


def test_what_a_closed_pool_held_back_is_gone(tmp_path: Path) -> None:
    write(tmp_path, "pkg/__init__.py", "")
    write(tmp_path, "pkg/app.py", APP)
    pool = Pool(1)
    files = [SourceFile(rel="pkg/app.py", path=str(tmp_path / "pkg/app.py"), size=1, mtime=1)]
    init = (("google.genai",), (), frozenset({"pkg", "pkg.app", "pkg.clients"}), ())
    [(_, _, parsed, kept)] = pool.scan(files, None, init)
    assert parsed
    assert kept
    [data] = pool.held(["pkg/app.py"]).values()
    pending, _, rows, _ = wire.symbolic_from_stored(wire.loads(data))
    assert pending == (("pkg.clients", "client"),)
    assert [row[1] for row in rows] == ["$0.models.generate"]
    pool.close()
    assert pool.held(["pkg/app.py"]) == {}
