"""``depwatch check --online`` and ``packages --online`` end to end: the real CLI in a real
process against a real index on 127.0.0.1."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from server import IndexServer, Project, Release

from ..conftest import run_depwatch

PYPROJECT = """\
[project]
name = "demo"
version = "0"
requires-python = "{python}"
dependencies = []
"""


def _project(root: Path, requirements: str, python: str = ">=3.9", extra: str = "") -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "pyproject.toml").write_text(PYPROJECT.format(python=python) + extra)
    (root / "requirements.txt").write_text(requirements)
    return root


@pytest.fixture
def served(index: IndexServer) -> IndexServer:
    index.add(
        Project(
            "alpha",
            [
                Release("1.0", ">=3.8"),
                Release("1.1", ">=3.8", yanked="broke it \x1b[31mred\x1b[0m\n::error::boom"),
                Release("1.2", ">=3.9"),
            ],
        )
    )
    index.add(Project("beta", [Release("1.0", ">=3.8"), Release("2.0", ">=3.10")]))
    index.add(Project("gamma", [Release("1.0", ">=3.8"), Release("2.0", ">=3.10")]))
    index.add(Project("delta", [Release("1.0", "=>3.9 garbage")]))
    index.add(Project("gone", [], "404"))
    index.add(Project("epsilon", [Release("3.0")], "html-only"))
    return index


@pytest.fixture
def cache(tmp_path: Path) -> dict[str, str]:
    return {"DEPWATCH_CACHE_DIR": str(tmp_path / "cache")}


def _json(*args: str, cwd: Path, env: dict[str, str]) -> tuple[int, dict]:  # type: ignore[type-arg]
    done = run_depwatch("check", *args, "--format", "json", cwd=cwd, env=env)
    assert done.stderr == "" or "Traceback" not in done.stderr, done.stderr
    return done.returncode, json.loads(done.stdout)


def test_online_check_reports_index_facts(
    served: IndexServer, tmp_path: Path, cache: dict[str, str]
) -> None:
    root = _project(
        tmp_path / "p",
        "alpha==1.1\nbeta==2.0\ngamma==1.0\ndelta==1.0\ngone==1.0\nepsilon==3.0\n",
    )
    exit_code, doc = _json(
        "--online", "--index-url", served.url, "--today", "2026-12-01", cwd=root, env=cache
    )
    assert exit_code == 1
    found = {(f["rule"], f["package"]): f for f in doc["findings"] if f["origin"] == "index"}
    assert set(found) == {("index/yanked", "alpha"), ("index/requires-python", "beta")}
    yanked = found[("index/yanked", "alpha")]
    assert yanked["tag"] == "immediate"
    assert yanked["title"].endswith("broke it \x1b[31mred\x1b[0m\n::error::boom")
    assert yanked["lockfiles"] == ["requirements.txt"]
    floor = found[("index/requires-python", "beta")]
    assert (floor["tag"], floor["kind"], floor["targets"]) == ("immediate", "python-drop", ["3.9"])
    # gamma's newer release drops 3.9: it joins the interpreter finding for 3.9 (a plan: 3.9
    # is past its end of life) as a held-back package.
    (eol,) = [f for f in doc["findings"] if f["package"] == "python" and f["version"] == "3.9"]
    assert (eol["origin"], eol["tag"]) == ("curated", "plan")
    assert [(h["package"], h["version"]) for h in eol["held_back"]] == [("gamma", "1.0")]
    assert all(f["origin"] == "curated" for f in doc["findings"] if f["package"] == "python")
    unchecked = {n["package"]: n for n in doc["not_checked"]}
    assert set(unchecked) == {"delta", "gone"}
    assert "invalid Requires-Python" in unchecked["delta"]["reason"]
    assert "HTTP 404" in unchecked["gone"]["reason"]
    facts = {f["package"]: f for f in doc["index"]}
    assert facts["gamma"]["newest"] == "2.0"
    assert facts["gamma"]["newest_upload_time"] == "2025-01-01T00:00:00.000000Z"
    assert facts["epsilon"] == {
        "package": "epsilon",
        "version": "3.0",
        "index": served.url,
        "yanked": False,
        "yanked_reason": None,
        "requires_python": None,
        "newest": "3.0",
        "newest_upload_time": None,  # an HTML page carries no upload times
        "newest_requires_python": None,
    }
    # Being behind alone is no finding: alpha's 1.2 is newer and installs everywhere.
    assert not [f for f in doc["findings"] if f["package"] == "epsilon"]
    # --strict: what was not checked is a gap.
    strict = run_depwatch(
        "check", "--online", "--index-url", served.url, "--strict", cwd=root, env=cache
    )
    assert strict.returncode == 2
    assert "not checked on the index: gone 1.0" in strict.stderr


def test_index_text_is_escaped_in_every_format(
    served: IndexServer, tmp_path: Path, cache: dict[str, str]
) -> None:
    root = _project(tmp_path / "p", "alpha==1.1\n")
    run_depwatch("check", "--online", "--index-url", served.url, cwd=root, env=cache)
    for fmt in ("table", "markdown", "github", "sarif", "json"):
        done = run_depwatch(
            "check", "--offline", "--index-url", served.url, "-f", fmt, cwd=root, env=cache
        )
        assert done.returncode == 1, (fmt, done.stderr)
        assert "\x1b" not in done.stdout, fmt
        assert not any(line.startswith("::error::boom") for line in done.stdout.splitlines()), fmt
        assert "boom" in done.stdout, fmt


def test_forked_lock_by_python_gets_nothing_immediate(
    served: IndexServer, tmp_path: Path, cache: dict[str, str]
) -> None:
    root = _project(
        tmp_path / "p",
        'beta==1.0 ; python_version < "3.10"\nbeta==2.0 ; python_version >= "3.10"\n',
    )
    exit_code, doc = _json("--online", "--index-url", served.url, cwd=root, env=cache)
    assert exit_code == 0
    assert [f for f in doc["findings"] if f["origin"] == "index"] == []
    assert doc["not_checked"] == []
    assert {(f["package"], f["version"]) for f in doc["index"]} == {
        ("beta", "1.0"),
        ("beta", "2.0"),
    }


def test_curated_rule_wins_over_the_same_index_fact(
    index: IndexServer, tmp_path: Path, cache: dict[str, str]
) -> None:
    index.add(
        Project(
            "requests",
            [Release("2.31.0", ">=3.7"), Release("2.32.0", ">=3.8"), Release("2.32.3", ">=3.8")],
        )
    )
    root = _project(tmp_path / "p", "requests==2.32.0\n", python=">=3.7")
    exit_code, doc = _json("--online", "--index-url", index.url, cwd=root, env=cache)
    on_requests = [f for f in doc["findings"] if f["package"] == "requests"]
    assert [(f["rule"], f["origin"]) for f in on_requests if f["tag"] == "immediate"] == [
        ("requests/python-3.8-required", "curated")
    ]
    assert {f["origin"] for f in on_requests} == {"curated"}
    # Without the curated rules the index says it itself.
    assert doc["index"][0]["requires_python"] == ">=3.8"
    behind = _project(tmp_path / "q", "requests==2.31.0\n", python=">=3.7")
    exit_code, doc = _json("--online", "--index-url", index.url, cwd=behind, env=cache)
    assert exit_code == 0
    assert all(f["origin"] == "curated" for f in doc["findings"] if f["package"] == "requests")


def test_offline_answers_from_the_cache_and_lists_the_rest(
    served: IndexServer, tmp_path: Path, cache: dict[str, str]
) -> None:
    root = _project(tmp_path / "p", "alpha==1.1\n")
    _code, online = _json("--online", "--index-url", served.url, cwd=root, env=cache)
    hits = served.hits["/simple/alpha/"]
    (root / "requirements.txt").write_text("alpha==1.1\nbeta==2.0\n")
    _code, offline = _json("--offline", "--index-url", served.url, cwd=root, env=cache)
    assert served.hits["/simple/alpha/"] == hits
    assert served.hits["/simple/beta/"] == 0
    assert [f for f in offline["findings"] if f["package"] == "alpha"] == [
        f for f in online["findings"] if f["package"] == "alpha"
    ]
    assert offline["not_checked"] == [
        {
            "package": "beta",
            "version": "2.0",
            "reason": "not in the cache, and --offline asks nothing of the index",
        }
    ]


def test_configured_online_and_index_url(
    served: IndexServer, tmp_path: Path, cache: dict[str, str]
) -> None:
    extra = f'\n[tool.depwatch]\nonline = true\nindex-url = "{served.url}"\nindex-max-age = 0\n'
    root = _project(tmp_path / "p", "alpha==1.1\n", extra=extra)
    exit_code, doc = _json(cwd=root, env=cache)
    assert exit_code == 1
    assert [f["rule"] for f in doc["findings"] if f["origin"] == "index"] == ["index/yanked"]
    # index-max-age = 0: the second run revalidates (a 304), and answers the same.
    _code, again = _json(cwd=root, env=cache)
    assert served.not_modified["/simple/alpha/"] == 1
    assert again["findings"] == doc["findings"]
    _code, off = _json("--no-online", cwd=root, env=cache)
    assert "not_checked" not in off
    assert all(f["origin"] != "index" for f in off["findings"])


def test_bad_index_url_is_exit_2(tmp_path: Path) -> None:
    root = _project(tmp_path / "p", "alpha==1.1\n")
    done = run_depwatch("check", "--online", "--index-url", "ftp://x/", cwd=root)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    (root / "pyproject.toml").write_text(
        PYPROJECT.format(python=">=3.9") + "\n[tool.depwatch]\nonline = 'yes'\n"
    )
    done = run_depwatch("check", cwd=root)
    assert done.returncode == 2
    assert "tool.depwatch.online" in done.stderr


def test_credentials_never_appear(tmp_path: Path, cache: dict[str, str]) -> None:
    server = IndexServer(auth=("alice", "s3cret-token")).start()
    try:
        server.add(Project("alpha", [Release("1.1", yanked="bad"), Release("1.2")]))
        server.add(Project("gone", [], "404"))
        root = _project(tmp_path / "p", "alpha==1.1\ngone==1.0\n")
        env = {
            **cache,
            "PIP_INDEX_URL": server.url.replace("http://", "http://alice:s3cret-token@"),
        }
        for fmt in ("json", "table", "github", "sarif", "markdown"):
            done = run_depwatch("check", "--online", "-f", fmt, "--verbose", cwd=root, env=env)
            assert done.returncode == 1, done.stderr
            assert "alice" not in done.stdout + done.stderr
            assert "s3cret" not in done.stdout + done.stderr
            assert "index/yanked" in done.stdout or "yanked" in done.stdout
        cached = "".join(p.read_text() for p in Path(cache["DEPWATCH_CACHE_DIR"]).rglob("*.json"))
        assert "s3cret" not in cached
    finally:
        server.stop()


def test_packages_online_shows_how_far_behind(
    served: IndexServer, tmp_path: Path, cache: dict[str, str]
) -> None:
    root = _project(tmp_path / "p", "gamma==1.0\nalpha==1.2\ngone==1.0\n")
    done = run_depwatch(
        "packages", "--online", "--index-url", served.url, "-f", "json", cwd=root, env=cache
    )
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    packages = {p["name"]: p for p in doc["lockfiles"][0]["packages"]}
    assert packages["gamma"]["index"]["newest"] == "2.0"
    assert packages["alpha"]["index"]["newest"] == "1.2"
    assert packages["gone"]["index"] is None
    assert [n["package"] for n in doc["not_checked"]] == ["gone"]
    table = run_depwatch("packages", "--offline", "--index-url", served.url, cwd=root, env=cache)
    assert table.returncode == 0, table.stderr
    assert "2025-01-01" in table.stdout
    assert "Not checked (1 package)" in table.stdout
    plain = run_depwatch("packages", "-f", "json", cwd=root, env=cache)
    assert "index" not in json.loads(plain.stdout)["lockfiles"][0]["packages"][0]


def test_since_reports_a_change_that_pins_a_yanked_release(
    served: IndexServer, tmp_path: Path, cache: dict[str, str]
) -> None:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    root = _project(tmp_path / "p", "alpha==1.0\n")

    def git(*args: str) -> None:
        subprocess.run(
            ["git", "-c", "user.name=t", "-c", "user.email=t@t", *args],
            cwd=root,
            check=True,
            capture_output=True,
        )

    git("init", "-q")
    git("add", ".")
    git("commit", "-qm", "one")
    (root / "requirements.txt").write_text("alpha==1.1\n")
    exit_code, doc = _json(
        "--online", "--index-url", served.url, "--since", "HEAD", cwd=root, env=cache
    )
    assert [f["rule"] for f in doc["findings"] if f["origin"] == "index"] == ["index/yanked"]
    git("commit", "-qam", "two")
    exit_code, doc = _json(
        "--online", "--index-url", served.url, "--since", "HEAD", cwd=root, env=cache
    )
    assert [f for f in doc["findings"] if f["origin"] == "index"] == []
    (root / "requirements.txt").write_text("alpha==1.2\n")
    exit_code, doc = _json(
        "--online", "--index-url", served.url, "--since", "HEAD", cwd=root, env=cache
    )
    assert exit_code == 0
    assert [f["rule"] for f in doc["resolved"] if f["origin"] == "index"] == ["index/yanked"]


_WATCH = """
import atexit, sys
events = []
def hook(event, args):
    if event.startswith("socket."):
        events.append(event)
sys.addaudithook(hook)
out = sys.argv.pop()  # where to write, not an argument of depwatch
atexit.register(lambda: open(out, "w").write(
    repr((sorted(set(events)), "urllib3" in sys.modules, "depwatch.index.client" in sys.modules))
))
sys.argv = ["depwatch", *sys.argv[1:]]
from depwatch.__main__ import main
main()
"""


@pytest.mark.parametrize("hook", [False, True])
def test_without_online_no_socket_is_opened(tmp_path: Path, hook: bool) -> None:
    root = _project(tmp_path / "p", "alpha==1.1\n")
    out = tmp_path / "events"
    env = {**os.environ, "DEPWATCH_CACHE_DIR": str(tmp_path / "cache"), "NO_COLOR": "1"}
    if hook:
        env["PRE_COMMIT"] = "1"
    done = subprocess.run(
        [sys.executable, "-c", _WATCH, "check", str(root), str(out)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert "Traceback" not in done.stderr, done.stderr
    assert done.returncode in (0, 1), done.stderr  # the check ran (the path is no argument)
    assert out.read_text() == repr(([], False, False))


_WATCH_MODULES = """
import atexit, sys
out = sys.argv.pop()  # where to write, not an argument of depwatch
atexit.register(lambda: open(out, "w").write(repr(sorted(
    m for m in ("urllib3", "depwatch.wheels.check") if m in sys.modules
))))
sys.argv = ["depwatch", *sys.argv[1:]]
from depwatch.__main__ import main
main()
"""


def test_a_warm_online_check_of_code_that_uses_no_locked_package_loads_no_client(
    served: IndexServer, tmp_path: Path
) -> None:
    # the tables are fresh in the cache and the code imports nothing of the lock: neither the
    # HTTP client nor the wheel comparison is imported
    root = _project(tmp_path / "p", "alpha==1.1\n")
    (root / "app.py").write_text("import os\nprint(os.getenv('HOME'))\n")
    out = tmp_path / "modules"
    env = {**os.environ, "DEPWATCH_CACHE_DIR": str(tmp_path / "cache"), "NO_COLOR": "1"}
    argv = [sys.executable, "-c", _WATCH_MODULES, "check", str(root), "--online"]
    argv += ["--index-url", served.url, "--format", "json", str(out)]
    first = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=120)
    assert first.returncode in (0, 1), first.stderr
    assert out.read_text() == repr(["urllib3"])  # the cold run asks the index
    warm = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=120)
    assert warm.returncode in (0, 1), warm.stderr
    assert out.read_text() == repr([])
    assert json.loads(warm.stdout)["findings"] == json.loads(first.stdout)["findings"]


def test_a_yanked_release_points_at_one_that_installs_everywhere(
    index: IndexServer, tmp_path: Path, cache: dict[str, str]
) -> None:
    index.add(
        Project(
            "omega",
            [
                Release("1.0", ">=3.8"),
                Release("1.1", ">=3.8", yanked="bad"),
                Release("1.2", ">=3.10"),
            ],
        )
    )
    root = _project(tmp_path / "p", "omega==1.1\n")
    exit_code, doc = _json("--online", "--index-url", index.url, cwd=root, env=cache)
    assert exit_code == 1
    (yanked,) = [f for f in doc["findings"] if f["rule"] == "index/yanked"]
    assert yanked["action"].startswith("Lock another release of omega: 1.0 installs on every")
    assert "the newest, 1.2, requires Python >=3.10" in yanked["action"]


def test_held_back_packages_make_one_finding_per_python(
    index: IndexServer, tmp_path: Path, cache: dict[str, str]
) -> None:
    for name in ("one", "two"):
        index.add(Project(name, [Release("1.0", ">=3.10"), Release("2.0", ">=3.12")]))
    index.add(Project("split", [Release("1.0", ">=3.10"), Release("2.0", ">=3.12")]))
    root = _project(
        tmp_path / "p",
        'one==1.0\ntwo==1.0\nsplit==1.0 ; python_version < "3.12"\n',
        python=">=3.11",
    )
    exit_code, doc = _json(
        "--online", "--index-url", index.url, "--today", "2026-12-01", cwd=root, env=cache
    )
    assert exit_code == 0
    # No index finding of its own: the held-back packages join the interpreter finding for
    # 3.11 (its end of life, 2027-10, is under a year away: monitor alone, plan once it holds
    # a package back), the same as curated Python-floor facts.
    assert not [f for f in doc["findings"] if f["origin"] == "index"]
    (held,) = [f for f in doc["findings"] if f["package"] == "python" and f["version"] == "3.11"]
    assert held["tag"] == "plan"
    assert [(h["package"], h["version"], h["newer"], h["pythons"]) for h in held["held_back"]] == [
        ("one", "1.0", "2.0", ["3.11"]),
        ("two", "1.0", "2.0", ["3.11"]),
    ]  # not split: the lock already splits it by Python
    assert held["rule"] == "python/python-3.11-eol"
    assert held["lockfiles"] == []


def test_a_lock_writes_a_version_the_index_writes_otherwise(
    index: IndexServer, tmp_path: Path, cache: dict[str, str]
) -> None:
    # django-compressor: requirements pin 4.6, the index lists 4.6.0 (the same PEP 440 version).
    index.add(Project("padded", [Release("4.6.0", ">=3.12")]))
    root = _project(tmp_path / "p", "padded==4.6\n", python=">=3.10")
    exit_code, doc = _json("--online", "--index-url", index.url, cwd=root, env=cache)
    assert doc["not_checked"] == []
    (finding,) = [f for f in doc["findings"] if f["rule"] == "index/requires-python"]
    assert (finding["package"], finding["version"], finding["tag"]) == (
        "padded",
        "4.6",
        "immediate",
    )
    assert exit_code == 1
