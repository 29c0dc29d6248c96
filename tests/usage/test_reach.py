"""How far the resolver follows values: the project's subclasses of tracked classes, what its
own functions return, subscripts, keywords in ``**`` splats; each bounded on bad input."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from depwatch.rulebook.model import CallPattern, Usage
from depwatch.usage import ScanResult, evidence_for, scan_project, scan_source


def calls(src: str, modules: list[str]) -> list[tuple[str, int]]:
    facts = scan_source(textwrap.dedent(src), "pkg/mod.py", modules)
    assert facts.warnings == ()
    return [(r.name, r.line) for r in facts.refs if r.kind == "call"]


def test_instance_of_a_subclass_of_flask() -> None:
    src = """\
        from flask import Flask
        class Redash(Flask):
            def __init__(self, *args):
                super().__init__(__name__, *args)
                self.extensions_loaded = False
            def before_request(self, f):
                return f
        app = Redash()
        app.before_first_request(setup)
        app.before_request(check)
        app.extensions_loaded.lower()
        """
    assert calls(src, ["flask"]) == [("flask.Flask.before_first_request", 9)]


def test_pydantic_model_class_instance_and_self() -> None:
    src = """\
        from pydantic import BaseModel
        class Item(BaseModel):
            name: str
            json: str = "{}"
            def payload(self):
                return self.dict()
        Item.parse_obj({"name": "a"})
        item = Item(name="a")
        item.dict(exclude={"name"})
        item.name.upper()
        item.json.strip()
        """
    assert calls(src, ["pydantic"]) == [
        ("pydantic.BaseModel.dict", 6),
        ("pydantic.BaseModel.parse_obj", 7),
        ("pydantic.BaseModel.dict", 9),
    ]


def test_subclass_of_a_subclass_and_of_a_factory_result() -> None:
    src = """\
        from sqlalchemy.ext.declarative import declarative_base
        Base = declarative_base()
        class Model(Base):
            __abstract__ = True
        class User(Model):
            pass
        User.metadata.create_all(engine)
        User.__abstract__.x()
        """
    assert calls(src, ["sqlalchemy"]) == [
        ("sqlalchemy.ext.declarative.declarative_base", 2),
        ("sqlalchemy.ext.declarative.declarative_base.metadata.create_all", 7),
    ]


def test_value_returned_by_a_method() -> None:
    src = """\
        from pymongo import MongoClient
        class Store:
            def load(self):
                db = self._get_db()
                return db.collection_names()
            def _get_db(self):
                return MongoClient(self.uri)[self.name]
            @property
            def client(self):
                return MongoClient()
        Store().client.close()
        """
    assert calls(src, ["pymongo"]) == [
        ("pymongo.MongoClient.__getitem__.collection_names", 5),
        ("pymongo.MongoClient", 7),
        ("pymongo.MongoClient", 10),
        ("pymongo.MongoClient.close", 11),
    ]


def test_value_returned_by_a_function_through_a_local() -> None:
    src = """\
        import pymongo
        def connect():
            client = pymongo.MongoClient()
            return client
        connect().server_info()
        def untracked():
            return 1
        untracked().server_info()
        """
    assert calls(src, ["pymongo"]) == [
        ("pymongo.MongoClient", 3),
        ("pymongo.MongoClient.server_info", 5),
    ]


def test_keywords_in_dict_splats_are_passed_keywords() -> None:
    src = """\
        import requests
        requests.get(u, **dict(verify=False))
        requests.get(u, **{"verify": False})
        requests.get(u, **options)
        requests.get(u, **{name: False})
        requests.get(u, **{**options})
        """
    facts = scan_source(textwrap.dedent(src), "a.py", ["requests"])
    got = [(r.line, [k.name for k in r.keywords], r.star_kwargs) for r in facts.refs[1:]]
    assert got == [
        (2, ["verify"], False),
        (3, ["verify"], False),
        (4, [], True),
        (5, [], True),
        (6, [], True),
    ]
    usage = Usage(modules=("requests",), calls=(CallPattern("requests.get", ("verify",)),))
    found = [(e.line, e.column) for e in evidence_for([facts], usage)]
    assert found == [(2, 24), (3, 20)]
    required = Usage(
        modules=("requests",), calls=(CallPattern("requests.get", without=("timeout",)),)
    )
    assert [e.line for e in evidence_for([facts], required)] == [2, 3]


def test_dict_shadowed_is_not_the_builtin() -> None:
    src = "import requests\ndef dict(**k): return k\nrequests.get(u, **dict(verify=False))\n"
    facts = scan_source(src, "a.py", ["requests"])
    (call,) = [r for r in facts.refs if r.kind == "call"]
    assert call.keywords == ()
    assert call.star_kwargs


# --- bad input: bounded -----------------------------------------------------------------


def test_mutual_recursion_of_the_projects_functions_ends() -> None:
    src = """\
        import numpy as np
        def f(n):
            return g(n)
        def g(n):
            return f(n)
        def h():
            return h()
        f(1).sum()
        h().sum()
        np.zeros(1)
        """
    assert calls(src, ["numpy"]) == [("numpy.zeros", 10)]


def test_a_very_long_chain_of_returns_is_cut_not_a_recursion_error() -> None:
    lines = ["import numpy as np"]
    count = 3000
    for i in range(count):
        lines.append(f"def f{i}():\n    return f{i + 1}()")
    lines.append(f"def f{count}():\n    return np.zeros(3)")
    lines.append("f0().sum()")
    lines.append(f"f{count - 2}().sum()")
    facts = scan_source("\n".join(lines) + "\n", "a.py", ["numpy"])
    assert facts.warnings == ()
    names = {r.name for r in facts.refs}
    # the near end of the chain is followed; the far one is cut (a bounded depth)
    assert "numpy.zeros.sum" in names
    assert len([r for r in facts.refs if r.name == "numpy.zeros.sum"]) == 1


def test_a_very_long_chain_of_base_classes_is_cut() -> None:
    lines = ["from flask import Flask", "class C0(Flask): pass"]
    lines += [f"class C{i}(C{i - 1}): pass" for i in range(1, 500)]
    lines += ["C10().before_first_request(f)", "C499().before_first_request(f)"]
    facts = scan_source("\n".join(lines) + "\n", "a.py", ["flask"])
    assert facts.warnings == ()
    found = [r.line for r in facts.refs if r.name == "flask.Flask.before_first_request"]
    assert found == [502]


def test_a_model_defined_in_one_module_used_in_another(tmp_path: Path) -> None:
    pkg = tmp_path / "app"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "models.py").write_text(
        "from pydantic import BaseModel\n"
        "class Item(BaseModel):\n"
        "    name: str\n"
        "def load(raw):\n"
        "    return Item.parse_obj(raw)\n"
    )
    (pkg / "views.py").write_text(
        "from .models import Item, load\n"
        "class Special(Item):\n"
        "    pass\n"
        "Item.parse_raw(text)\n"
        "load(raw).dict()\n"  # what a function of another module returns: not followed
        "Special().copy()\n"
    )
    result = scan_project(tmp_path, ["pydantic"], cache=False)
    got = sorted((f.path, r.name, r.line) for f in result.facts for r in f.refs if r.kind == "call")
    assert got == [
        ("app/models.py", "pydantic.BaseModel.parse_obj", 5),
        ("app/views.py", "pydantic.BaseModel.copy", 6),
        ("app/views.py", "pydantic.BaseModel.parse_raw", 4),
    ]


def test_modules_that_import_each_other_in_a_cycle_end(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text(
        "import numpy as np\nfrom b import g\ndef f():\n    return g()\nz = np.zeros\n"
    )
    (tmp_path / "b.py").write_text("from a import f, z\ndef g():\n    return f()\nz.x()\n")
    result = scan_project(tmp_path, ["numpy"], cache=False)
    got = sorted((f.path, r.name) for f in result.facts for r in f.refs if r.kind == "call")
    assert got == [("b.py", "numpy.zeros.x")]


def test_a_lambda_in_the_body_of_a_subclass() -> None:
    src = """\
        from flask import Flask
        class App(Flask):
            handler = lambda self: self.before_first_request(f)
            def __init__(self):
                self.ready = True
        App().before_first_request(f)
        """
    # the class scans (a lambda's `self` is a parameter like any other)
    assert calls(src, ["flask"]) == [("flask.Flask.before_first_request", 6)]


def _subclass_chain(root: Path, length: int) -> None:
    (root / "m0.py").write_text("from flask import Flask\nclass C(Flask):\n    pass\n")
    for i in range(1, length):
        (root / f"m{i}.py").write_text(
            f"from m{i - 1} import C as B\nclass C(B):\n    pass\nC().before_first_request(f)\n"
        )


def _users(result: ScanResult) -> list[str]:
    return sorted(
        f.path for f in result.facts for r in f.refs if r.name == "flask.Flask.before_first_request"
    )


def test_a_chain_of_modules_subclassing_each_other_is_followed_to_its_end(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DEPWATCH_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("DEPWATCH_NO_CACHE", raising=False)
    # each round of the second pass carries the base one module further; a cold run goes on
    # until nothing changes, so the warm run after it (which starts from the cached tables)
    # finds the same, and parses nothing
    project = tmp_path / "project"
    project.mkdir()
    _subclass_chain(project, 20)
    cold = scan_project(project, ["flask"])
    assert len(_users(cold)) == 19
    warm = scan_project(project, ["flask"])
    assert warm.files_parsed == 0
    assert warm.facts == cold.facts


def test_a_chain_longer_than_the_rounds_ends(tmp_path: Path) -> None:
    _subclass_chain(tmp_path, 80)
    result = scan_project(tmp_path, ["flask"], cache=False)
    assert 19 < len(_users(result)) < 79  # bounded (64 rounds), not all 79
    assert result.warnings == ()


def test_bases_are_searched_in_order() -> None:
    src = """\
        from pydantic import BaseModel
        class Exporting:
            def dict(self):
                return {}
        class Plain:
            pass
        class A(Exporting, BaseModel):
            pass
        class B(Plain, BaseModel):
            pass
        A().dict()
        B().dict()
        A().json()
        """
    assert calls(src, ["pydantic"]) == [
        ("pydantic.BaseModel.dict", 12),
        ("pydantic.BaseModel.json", 13),
    ]


def test_what_a_removed_function_returned_is_no_use_of_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # nettacker's shape: the name bound to ssl.wrap_socket()'s result, rebound in the handler,
    # then used and returned; only the call itself uses ssl.wrap_socket
    src = """\
        import socket
        import ssl
        import torch
        import bigframes

        def connect(host, port):
            conn = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            try:
                conn = ssl.wrap_socket(conn)
                flag = True
            except Exception:
                conn = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                conn.settimeout(3)
            return conn, flag

        def predict(path, x):
            model = torch.load(path, weights_only=True)
            return model(x)

        def session():
            s = bigframes.connect()
            return s.udf
        """
    facts = scan_source(textwrap.dedent(src), "pkg/net.py", ["ssl", "torch", "bigframes"])
    removed = Usage(modules=("ssl",), symbols=("ssl.wrap_socket",))
    assert [e.line for e in evidence_for([facts], removed)] == [9]
    # a symbol that reaches past the call still matches what the result is used for
    past = Usage(modules=("bigframes",), symbols=("bigframes.connect.udf",))
    assert [e.line for e in evidence_for([facts], past)] == [22]
    callee = Usage(modules=("bigframes",), symbols=("bigframes.connect",))
    assert [e.line for e in evidence_for([facts], callee)] == [21]
    # calling what torch.load returned is no torch.load call without weights_only=
    load = Usage(modules=("torch",), calls=(CallPattern("torch.load", without=("weights_only",)),))
    assert [e.line for e in evidence_for([facts], load)] == []
    bare = Usage(modules=("torch",), calls=(CallPattern("torch.load"),))
    assert [e.line for e in evidence_for([facts], bare)] == [17]
    # the same through the usage cache
    monkeypatch.setenv("DEPWATCH_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("DEPWATCH_NO_CACHE", raising=False)
    write = tmp_path / "proj" / "pkg" / "net.py"
    write.parent.mkdir(parents=True)
    write.write_text(textwrap.dedent(src))
    for _ in range(2):  # fresh, then from the cache
        scanned = scan_project(tmp_path / "proj", ["ssl", "torch", "bigframes"])
        assert [e.line for e in evidence_for(scanned.facts, removed)] == [9]
        assert [e.line for e in evidence_for(scanned.facts, past)] == [22]
    assert scanned.files_parsed == 0


def test_parameters_annotated_with_a_class_hold_an_instance_of_it(tmp_path: Path) -> None:
    pkg = tmp_path / "app"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "schema.py").write_text(
        "from pydantic import BaseModel\nclass Query(BaseModel):\n    page: int = 1\n"
    )
    (pkg / "routes.py").write_text(
        textwrap.dedent(
            """\
            from typing import Optional
            from sqlalchemy.orm import Session
            from .schema import Query
            def page(q: Query, session: Session, limit: int = 10):
                session.execute("SELECT 1")
                return q.dict()
            def maybe(q: Optional[Query] = None, other: "Query" = None):
                other.dict()
                return q.json()
            def union(q: Query | None, *rest: Query, **named: Query):
                rest.dict()
                named.dict()
                return q.copy()
            def kinds(cls: type[Query], many: list[Query]):
                cls.parse_obj({})
                many.copy()
            def local(q: Query):
                q = {}
                return q.copy()
            from sqlalchemy.orm import SESSION_TYPES, session_like
            def aliases(s: SESSION_TYPES, t: session_like):
                s.execute("SELECT 1")
                t.execute("SELECT 1")
            """
        )
    )
    result = scan_project(tmp_path, ["pydantic", "sqlalchemy"], cache=False)
    got = sorted((r.name, r.line) for f in result.facts for r in f.refs if r.kind == "call")
    assert got == [
        ("pydantic.BaseModel.copy", 13),
        ("pydantic.BaseModel.dict", 6),
        ("pydantic.BaseModel.json", 9),
        ("sqlalchemy.orm.Session.execute", 5),
    ]
