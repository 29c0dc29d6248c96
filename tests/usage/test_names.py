"""Package declarations (``rules/<package>/_package.toml``): other spellings and instances,
matched with the shipped declarations; their validation and cache; assignment usage."""

from __future__ import annotations

import os
import textwrap
import time
from pathlib import Path

import pytest

from depwatch.rulebook import RuleErrors, check_dirs, load_rulebook
from depwatch.rulebook.model import CallPattern, Names, Usage
from depwatch.usage import evidence_for, scan_project, scan_source
from tests.conftest import run_depwatch


@pytest.fixture(scope="module")
def shipped() -> Names:
    return load_rulebook().names()


def lines(src: str, usage: Usage, names: Names | None) -> list[int]:
    modules = names.tracked(usage.modules) if names else usage.modules
    facts = scan_source(textwrap.dedent(src), "app.py", modules)
    assert facts.warnings == ()
    return [e.line for e in evidence_for([facts], usage, names)]


CASES = [
    (
        "matplotlib.cm.get_cmap",
        """\
        import matplotlib.pyplot as plt
        plt.cm.get_cmap("viridis")
        plt.get_cmap("viridis")
        plt.cm.viridis
        """,
        [2],
    ),
    (
        "jinja2.Markup",
        """\
        import jinja2.utils
        from markupsafe import Markup
        jinja2.utils.Markup("<b>")
        Markup("<b>")
        """,
        [3],
    ),
    (
        "itsdangerous.TimedJSONWebSignatureSerializer",
        """\
        from itsdangerous.jws import TimedJSONWebSignatureSerializer
        from itsdangerous import URLSafeTimedSerializer
        """,
        [1],
    ),
    (
        "pydantic.BaseSettings",
        """\
        from pydantic.env_settings import BaseSettings
        from pydantic.main import BaseModel
        """,
        [1],
    ),
    (
        "tensorflow.estimator",
        """\
        import tensorflow as tf
        tf.compat.v1.estimator.RunConfig()
        tf.compat.v1.Session()
        tf.compat.v2.estimator.LinearClassifier()
        """,
        [2, 4],
    ),
    (
        "PIL.ImageFont.ImageFont.getsize",
        """\
        from PIL import ImageFont
        ImageFont.load_default().getsize("x")
        ImageFont.load_default().getbbox("x")
        """,
        [2],
    ),
    (
        "werkzeug.wrappers.Request.is_xhr",
        """\
        from flask import request
        import flask
        if request.is_xhr or flask.request.is_json:
            pass
        flask.globals.request.is_xhr
        """,
        [3, 5],
    ),
    (
        "pydantic.BaseModel.dict",
        """\
        from pydantic import BaseModel
        class Item(BaseModel):
            name: str
        Item.parse_obj({}).dict()
        Item.parse_obj({}).name
        """,
        [4],
    ),
]


@pytest.mark.parametrize(("symbol", "src", "expected"), CASES, ids=[c[0] for c in CASES])
def test_other_spellings_of_the_shipped_packages(
    shipped: Names, symbol: str, src: str, expected: list[int]
) -> None:
    root = symbol.split(".", 1)[0]
    usage = Usage(modules=(root,), symbols=(symbol,))
    assert lines(src, usage, shipped) == expected
    # without the declarations, none of these spellings is found
    assert lines(src, usage, None) == []


def test_call_patterns_match_through_spellings_too(shipped: Names) -> None:
    usage = Usage(
        modules=("werkzeug",),
        calls=(CallPattern("werkzeug.wrappers.Request.get_json", ("cache",)),),
    )
    src = "from flask import request\nrequest.get_json(cache=False)\nrequest.get_json()\n"
    assert lines(src, usage, shipped) == [2]


def test_an_instance_is_not_its_class_and_a_rule_keeps_its_spelling(shipped: Names) -> None:
    # flask.request is *an instance of* Request: a rule about the class itself is not usage
    usage = Usage(modules=("werkzeug",), symbols=("werkzeug.wrappers.Request",))
    assert lines("from flask import request\nrequest.args\n", usage, shipped) == [2]
    assert lines("from flask import request\nrequest\n", usage, shipped) == []
    # a rule about a removed spelling is not about every spelling of the object
    removed = Usage(modules=("flask",), symbols=("flask.Markup",))
    assert lines("from markupsafe import Markup\nMarkup('x')\n", removed, shipped) == []


def test_names_are_bounded() -> None:
    names = Names({"a": "b", "b": "a", "c": "c.d"}, {"x.y": "x"})
    assert names.spellings("a.f") == ("a.f", "b.f")
    assert len(names.spellings("c.e")) <= 9
    assert names.spellings("x.y.z") == ("x.y.z", "x.z")
    assert names.spellings("x.y") == ("x.y",)
    chain = Names({f"m{i}": f"m{i + 1}" for i in range(1000)})
    assert len(chain.spellings("m0.f")) == 9
    assert chain.tracked(["m1000"])  # ends


def test_tracked_adds_the_modules_that_lead_into_a_tracked_one(shipped: Names) -> None:
    tracked = shipped.tracked(["werkzeug"])
    assert "flask" in tracked
    assert "numpy" not in tracked
    assert shipped.tracked(["numpy"]) == ("numpy",)


# --- the files ---------------------------------------------------------------------------

RULE = """\
package = "{package}"
kind = "breaking"
tag = "immediate"
affected = ">=2.0"
boundary = "2.0"
title = "t"
what = "w"
why = "y"
action = "a"
references = ["https://example.org/x"]

[usage]
{usage}

[examples]
affected = ["2.0"]
unaffected = ["1.0"]
code = '''
{code}
'''
"""


def write(root: Path, rel: str, text: str) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


BAD_PACKAGE = [
    ('package = "other"\n[aliases]\n"w.a" = "w.b"\n', "package", "does not match its folder"),
    ('package = "w"\n[aliases]\n"w a" = "w.b"\n', "aliases.'w a'", "is not a dotted name"),
    ('package = "w"\n[aliases]\n"w.a" = 3\n', "aliases.w.a", "must be a string, not an integer"),
    ('package = "w"\n[aliases]\n"w.a" = "w.a.b"\n', "aliases.w.a", "it would never end"),
    (
        'package = "w"\n[aliases]\n"w.a" = "w.b"\n"w.b" = "w.a"\n',
        "aliases.w.a",
        "go round in a circle",
    ),
    (
        'package = "w"\n[aliases]\n"w.a" = "w.b"\n[instances]\n"w.a" = "w.c"\n',
        "instances.w.a",
        "in both aliases and instances",
    ),
    ('package = "w"\n[aliasses]\n"w.a" = "w.b"\n', "aliasses", "did you mean 'aliases'"),
    ('package = "w"\n', "aliases", "declares nothing"),
    ('package = "w"\n[aliases]\nw.a = "w.b"\n', "aliases.w", "quote the whole dotted name"),
]


@pytest.mark.parametrize(("text", "key", "message"), BAD_PACKAGE, ids=[c[2] for c in BAD_PACKAGE])
def test_a_bad_package_file_is_named_with_its_key(
    tmp_path: Path, text: str, key: str, message: str
) -> None:
    write(tmp_path, "w/_package.toml", text)
    with pytest.raises(RuleErrors) as caught:
        check_dirs([tmp_path])
    shown = str(caught.value)
    assert "_package.toml" in shown
    assert f"'{key}'" in shown
    assert message in shown


def test_rules_check_reports_a_bad_package_file_with_exit_2(tmp_path: Path) -> None:
    write(tmp_path, "w/_package.toml", 'package = "w"\n[aliases]\n"w.a" = 3\n')
    result = run_depwatch("rules", "check", str(tmp_path))
    assert result.returncode == 2
    assert "_package.toml" in result.stderr
    assert "aliases.w.a" in result.stderr
    assert "Traceback" not in result.stderr


def settle(root: Path) -> None:
    past = time.time() - 60
    for folder, _, files in os.walk(root):
        for name in files:
            os.utime(Path(folder) / name, (past, past))
        os.utime(folder, (past, past))


def test_declarations_are_cached_and_an_edit_is_seen(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DEPWATCH_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("DEPWATCH_NO_CACHE", raising=False)
    rules = tmp_path / "rules"
    code = "import w.old\nw.old.f()  # expect"
    write(rules, "w/r.toml", RULE.format(package="w", usage='symbols = ["w.new.f"]', code=code))
    decl = write(rules, "w/_package.toml", 'package = "w"\n[aliases]\n"w.old" = "w.new"\n')
    settle(rules)
    first = load_rulebook([rules], include_shipped=False)
    assert first.names(["w"]).aliases == {"w.old": "w.new"}
    again = load_rulebook([rules], include_shipped=False)
    assert again.cached == (True,)
    assert again.names(["w"]).aliases == {"w.old": "w.new"}
    assert again.names(["unrelated"]).aliases == {}
    decl.write_text('package = "w"\n[aliases]\n"w.older" = "w.new"\n', encoding="utf-8")
    settle(rules)
    os.utime(decl, (time.time() - 30, time.time() - 30))  # an edit in place, later
    edited = load_rulebook([rules], include_shipped=False)
    assert edited.names(["w"]).aliases == {"w.older": "w.new"}


# --- assignments a framework reads ----------------------------------------------------------


def test_a_module_level_assignment_is_found_in_a_file_that_imports_nothing(
    tmp_path: Path,
) -> None:
    write(tmp_path, "polls/__init__.py", 'default_app_config = "polls.apps.PollsConfig"\n')
    write(
        tmp_path,
        "shop/__init__.py",
        "def setup():\n    default_app_config = 'x'\nclass C:\n    default_app_config = 'y'\n",
    )
    result = scan_project(tmp_path, [], assignments=["default_app_config"], cache=False)
    usage = Usage(modules=(), assignments=("default_app_config",))
    found = [(e.path, e.line, e.column, e.symbol) for e in evidence_for(result.facts, usage)]
    assert found == [("polls/__init__.py", 1, 1, "default_app_config =")]


def test_assignments_in_a_rule_load_and_run_their_example(tmp_path: Path) -> None:
    code = 'default_app_config = "polls.apps.PollsConfig"  # expect\nname = "polls"'
    write(
        tmp_path,
        "django/app-config.toml",
        RULE.format(package="django", usage='assignments = ["default_app_config"]', code=code),
    )
    (rule,) = check_dirs([tmp_path])
    assert rule.usage is not None
    assert rule.usage.assignments == ("default_app_config",)
    assert rule.usage.modules == ()
    facts = scan_source(code, "polls/__init__.py", (), (), rule.usage.assignments)
    assert [e.line for e in evidence_for([facts], rule.usage)] == [1]
    write(
        tmp_path,
        "django/app-config.toml",
        RULE.format(package="django", usage='assignments = ["not a name"]', code=code),
    )
    with pytest.raises(RuleErrors, match=r"usage\.assignments\[0\]"):
        check_dirs([tmp_path])


def test_check_follows_flask_request_into_a_werkzeug_rule(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    code = "from flask import request\nrequest.is_xhr  # expect"
    write(
        rules,
        "werkzeug/is-xhr.toml",
        RULE.format(
            package="werkzeug",
            usage='symbols = ["werkzeug.wrappers.Request.is_xhr"]',
            code=code,
        ),
    )
    project = tmp_path / "project"
    write(project, "requirements.txt", "flask==2.2.5\nwerkzeug==2.0.3\n")
    write(
        project,
        "app/views.py",
        "from flask import request\n\ndef v():\n    return request.is_xhr\n",
    )
    result = run_depwatch("check", str(project), "--rules", str(rules), "--format", "json")
    assert result.returncode == 1, result.stderr
    assert '"path": "app/views.py"' in result.stdout
    assert '"line": 4' in result.stdout


def test_what_factories_of_pymongo_sqlalchemy_and_click_give(shipped: Names) -> None:
    mongo = Usage(modules=("pymongo",), symbols=("pymongo.database.Database.collection_names",))
    src = """\
        from pymongo import MongoClient
        class Store:
            def load(self):
                return self._db().collection_names()
            def _db(self):
                return MongoClient(self.uri)[self.name]
        MongoClient().get_database("x").collection_names()
        MongoClient()["x"]["y"].collection_names()
        """
    assert lines(src, mongo, shipped) == [4, 7]
    engine = Usage(modules=("sqlalchemy",), symbols=("sqlalchemy.engine.Connection.execute",))
    src = """\
        import sqlalchemy as sa
        engine = sa.create_engine(url)
        with engine.begin() as conn:
            conn.execute("select 1")
        engine.connect().execute("select 1")
        engine.execute("select 1")
        """
    assert lines(src, engine, shipped) == [4, 5]
    group = Usage(modules=("click",), symbols=("click.Group.command",))
    src = """\
        import click
        @click.group()
        def cli():
            pass
        @cli.command()
        def run_all():
            pass
        """
    assert lines(src, group, shipped) == [5]


def test_a_call_pattern_that_needs_a_string_literal_argument(shipped: Names) -> None:
    usage = Usage(
        modules=("sqlalchemy",),
        calls=(CallPattern("sqlalchemy.engine.Connection.execute", string_arg=0),),
    )
    src = """\
        import sqlalchemy as sa
        conn = sa.create_engine(url).connect()
        conn.execute("select 1")
        conn.execute(f"select {n}")
        conn.execute(sa.text("select 1"))
        conn.execute(query)
        conn.execute(*args)
        conn.execute(*args, "select 1")
        """
    assert lines(src, usage, shipped) == [3, 4]


def test_string_arg_in_a_rule_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEPWATCH_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("DEPWATCH_NO_CACHE", raising=False)
    rules = tmp_path / "rules"
    code = 'import sqlalchemy\nsqlalchemy.create_engine(u).execute("x")  # expect'
    usage = (
        'calls = [{ name = "sqlalchemy.create_engine.execute", string-arg = 0 }]\n'
        'modules = ["sqlalchemy"]'
    )
    write(rules, "sqlalchemy/raw.toml", RULE.format(package="sqlalchemy", usage=usage, code=code))
    (rule,) = check_dirs([rules])
    assert rule.usage is not None
    assert rule.usage.calls[0].string_arg == 0
    settle(rules)
    for _ in range(2):  # read from the files, then from the cache
        (cached,) = load_rulebook([rules], include_shipped=False).for_package("sqlalchemy")
        assert cached.usage == rule.usage
    bad = usage.replace("string-arg = 0", "string-arg = -1")
    write(rules, "sqlalchemy/raw.toml", RULE.format(package="sqlalchemy", usage=bad, code=code))
    with pytest.raises(RuleErrors, match=r"usage\.calls\[0\]\.string-arg"):
        check_dirs([rules])
