"""Real release pairs from PyPI (marked online: DEPWATCH_ONLINE=1, and skipped with the reason
when the index or its file host cannot be reached)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from depwatch.index import IndexSession, NotCheckedError
from depwatch.index.cache import PageCache
from depwatch.model import Lockfile, Package, Tag
from depwatch.usage import scan_source
from depwatch.wheels import ApiCache, check_wheels

pytestmark = [
    pytest.mark.online,
    pytest.mark.skipif(os.environ.get("DEPWATCH_ONLINE") != "1", reason="set DEPWATCH_ONLINE=1"),
]


@pytest.fixture(scope="module")
def pypi(tmp_path_factory: pytest.TempPathFactory) -> IndexSession:
    session = IndexSession(cache=PageCache(tmp_path_factory.mktemp("pages")))
    try:
        page = session.project_page("click")
        wheel = next(f for f in page.files if f.filename == "click-8.2.0-py3-none-any.whl")
        answer = session.get(wheel.url, headers={"Range": "bytes=-22"}, max_bytes=1024)
    except (NotCheckedError, StopIteration) as exc:
        pytest.skip(f"PyPI or its file host cannot be reached here: {exc}")
    if answer.status != 206:
        pytest.skip(f"the file host answered a range request with HTTP {answer.status}")
    return session


def _check(pypi: IndexSession, tmp_path: Path, name: str, version: str, code: str):  # type: ignore[no-untyped-def]
    facts = scan_source(code, "app.py", [name])
    lock = Lockfile("uv.lock", "uv", (Package(name, version),))
    result = check_wheels([lock], [facts], pypi, cache=ApiCache(tmp_path / "api"))
    assert result.not_checked == []
    return {f.rule.split("/", 2)[2]: f for f in result.findings}, result


CLICK = "from click.testing import CliRunner\n\nrunner = CliRunner(mix_stderr=False)\n"


def test_click_mix_stderr_plan_before_and_immediate_after(
    pypi: IndexSession, tmp_path: Path
) -> None:
    before, _ = _check(pypi, tmp_path, "click", "8.1.8", CLICK)
    plan = before["click.testing.CliRunner(mix_stderr=)"]
    assert plan.tag is Tag.PLAN
    assert "click 8.2.0" in plan.title
    assert [(e.line, e.column) for e in plan.evidence] == [(3, 20)]
    after, _ = _check(pypi, tmp_path, "click", "8.2.1", CLICK)
    now = after["click.testing.CliRunner(mix_stderr=)"]
    assert now.tag is Tag.IMMEDIATE
    assert "click 8.2.0" in now.title
    assert "8.2.1 is locked" in now.title


def test_httpx_proxies_and_app_with_their_deprecation_messages(
    pypi: IndexSession, tmp_path: Path
) -> None:
    code = "import httpx\n\nhttpx.Client(proxies='http://p')\nhttpx.AsyncClient(app=object())\n"
    found, _result = _check(pypi, tmp_path, "httpx", "0.27.2", code)
    proxies, app = found["httpx.Client(proxies=)"], found["httpx.AsyncClient(app=)"]
    assert proxies.tag is app.tag is Tag.PLAN
    assert "httpx 0.28.0" in proxies.title
    assert "'proxies' argument is now deprecated" in proxies.title
    assert "'app' shortcut is now deprecated" in app.title
    assert proxies.confidence == "static+deprecation"


def test_flask_escape_and_markup_served_by_getattr_then_gone(
    pypi: IndexSession, tmp_path: Path
) -> None:
    code = "from flask import Markup, escape\n\nescape('<x>')\n"
    found, _result = _check(pypi, tmp_path, "flask", "2.3.3", code)
    for name in ("flask.escape", "flask.Markup"):
        assert found[name].tag is Tag.PLAN
        assert "flask 3.0.0" in found[name].title
        assert "markupsafe" in found[name].title
        assert found[name].confidence == "static+deprecation"
    # locked 3.0.0: gone now, and 2.3.3 served them (through its module __getattr__)
    found, _ = _check(pypi, tmp_path, "flask", "3.0.0", code)
    assert found["flask.escape"].tag is Tag.IMMEDIATE
