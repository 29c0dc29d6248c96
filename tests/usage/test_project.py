"""scan_project over tmp project trees: which files, warnings, notebooks, cross-module, cache."""

from __future__ import annotations

import itertools
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from depwatch.files import seal, unseal
from depwatch.rulebook.model import CallPattern, Usage
from depwatch.usage import ScanResult, evidence_for, scan_project, wire
from depwatch.usage.pool import Pool

MODULES = ["numpy", "google.genai"]


@pytest.fixture(autouse=True)
def cache_dir(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    cache = tmp_path_factory.mktemp("cache")
    monkeypatch.setenv("DEPWATCH_CACHE_DIR", str(cache))
    monkeypatch.delenv("DEPWATCH_NO_CACHE", raising=False)
    return cache


def write(root: Path, rel: str, text: str | bytes) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def paths(result: ScanResult) -> list[str]:
    return [f.path for f in result.facts]


USE = "import numpy as np\nnp.float_(1)\n"


def test_skipped_dirs_and_venvs(tmp_path: Path) -> None:
    for rel in ("app.py", "pkg/mod.py"):
        write(tmp_path, rel, USE)
    for rel in (
        ".venv/x.py",
        "venv/x.py",
        "build/x.py",
        "dist/x.py",
        "node_modules/x.py",
        ".tox/x.py",
        "__pycache__/x.py",
        "lib/site-packages/x.py",
        ".git/x.py",
        "myenv/lib/x.py",
        "pkg.egg-info/x.py",
    ):
        write(tmp_path, rel, USE)
    write(tmp_path, "myenv/pyvenv.cfg", "home = /usr\n")
    result = scan_project(tmp_path, MODULES, cache=False)
    assert paths(result) == ["app.py", "pkg/mod.py"]
    assert result.files_scanned == 2


def test_exclude_globs(tmp_path: Path) -> None:
    write(tmp_path, "app.py", USE)
    write(tmp_path, "legacy/old.py", USE)
    write(tmp_path, "legacy/deep/older.py", USE)
    write(tmp_path, "tests/test_x.py", USE)
    result = scan_project(tmp_path, MODULES, exclude=["legacy/**", "tests/test_*.py"], cache=False)
    assert paths(result) == ["app.py"]


def _gitignore_tree(root: Path) -> None:
    write(root, ".gitignore", "generated/\n*_gen.py\n!keep_gen.py\n")
    write(root, "app.py", USE)
    write(root, "generated/x.py", USE)
    write(root, "a_gen.py", USE)
    write(root, "keep_gen.py", USE)
    write(root, "sub/.gitignore", "local.py\n")
    write(root, "sub/local.py", USE)
    write(root, "sub/other.py", USE)


def test_gitignore_honoured_in_a_git_repo(tmp_path: Path) -> None:
    _gitignore_tree(tmp_path)
    (tmp_path / ".git").mkdir()  # what a repository looks like, with or without git installed
    result = scan_project(tmp_path, MODULES, cache=False)
    assert paths(result) == ["app.py", "keep_gen.py", "sub/other.py"]


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_gitignore_with_real_git_init(tmp_path: Path) -> None:
    _gitignore_tree(tmp_path)
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    result = scan_project(tmp_path, MODULES, cache=False)
    assert paths(result) == ["app.py", "keep_gen.py", "sub/other.py"]
    # a subfolder of the repository as root: the top-level .gitignore still applies
    write(tmp_path, "sub/generated/y.py", USE)
    sub = scan_project(tmp_path / "sub", MODULES, cache=False)
    assert paths(sub) == ["other.py"]


def test_gitignore_ignored_outside_a_repo(tmp_path: Path) -> None:
    _gitignore_tree(tmp_path)
    result = scan_project(tmp_path, MODULES, cache=False)
    assert "generated/x.py" in paths(result)


def test_bad_files_are_warnings_and_the_scan_goes_on(tmp_path: Path) -> None:
    write(tmp_path, "py2.py", "import numpy\nprint 'hello'\n")
    write(tmp_path, "template.py", "import numpy\n{{ cookiecutter.name }} = 1\n")
    write(tmp_path, "nul.py", b"import numpy\x00\n")
    write(tmp_path, "good.py", USE)
    result = scan_project(tmp_path, MODULES, cache=False)
    assert paths(result) == ["good.py", "nul.py", "py2.py", "template.py"]
    assert [w.split(":")[0] for w in result.warnings] == ["nul.py", "py2.py", "template.py"]
    assert all("not valid Python" in w for w in result.warnings)
    good = next(f for f in result.facts if f.path == "good.py")
    assert [r.name for r in good.refs] == ["numpy", "numpy.float_"]


def test_latin1_file_with_coding_line(tmp_path: Path) -> None:
    src = "# -*- coding: latin-1 -*-\nimport numpy as np\ns = 'café'; np.float_(1)\n"
    write(tmp_path, "old.py", src.encode("latin-1"))
    result = scan_project(tmp_path, MODULES, cache=False)
    assert result.warnings == ()
    (facts,) = result.facts
    call = next(r for r in facts.refs if r.kind == "call")
    assert (call.line, call.column, call.code) == (3, 13, "s = 'café'; np.float_(1)")


def test_undecodable_bytes_are_replaced_with_a_warning(tmp_path: Path) -> None:
    write(tmp_path, "bad.py", b"import numpy as np\nx = '\xff\xfe'\nnp.float_(1)\n")
    result = scan_project(tmp_path, MODULES, cache=False)
    assert len(result.warnings) == 1
    assert result.warnings[0].startswith("bad.py: bytes that are not valid utf-8 (line 2)")
    (facts,) = result.facts
    assert ("numpy.float_", 3) in {(r.name, r.line) for r in facts.refs}


def test_notebook_in_project(tmp_path: Path) -> None:
    nb = {
        "cells": [
            {"cell_type": "code", "source": ["import numpy as np\n"]},
            {"cell_type": "markdown", "source": ["text"]},
            {"cell_type": "code", "source": ["%time x = 1\n", "\n", "np.float_(x)\n"]},
        ],
        "metadata": {},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    write(tmp_path, "analysis/explore.ipynb", json.dumps(nb))
    result = scan_project(tmp_path, MODULES, cache=False)
    usage = Usage(modules=("numpy",), symbols=("numpy.float_",))
    (ev,) = evidence_for(result.facts, usage)
    assert (ev.path, ev.cell, ev.line, ev.column, ev.code) == (
        "analysis/explore.ipynb",
        2,
        3,
        1,
        "np.float_(x)",
    )


def test_notebook_ipython_syntax_keeps_the_python_around_it(tmp_path: Path) -> None:
    cells = [
        "import numpy as np\n",
        "%%time\nz = np.float_(1)\n",
        "files = !ls\nw = np.float_(2)\n",
        "res = %timeit -o f()\nnp.product?\nd = np.float_(3)\n",
        "for i in range(2):\n    %time v = np.float_(4)\n    q = np.float_(5)\n",
        "%%bash\necho np.float_\n",
    ]
    nb = {
        "cells": [{"cell_type": "code", "source": cell} for cell in cells],
        "metadata": {},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    write(tmp_path, "nb.ipynb", json.dumps(nb))
    result = scan_project(tmp_path, MODULES, cache=False)
    usage = Usage(modules=("numpy",), symbols=("numpy.float_",))
    found = [(e.cell, e.line, e.column, e.code) for e in evidence_for(result.facts, usage)]
    assert found == [
        (2, 2, 5, "z = np.float_(1)"),
        (3, 2, 5, "w = np.float_(2)"),
        (4, 3, 5, "d = np.float_(3)"),
        (5, 2, 15, "%time v = np.float_(4)"),
        (5, 3, 9, "q = np.float_(5)"),
    ]
    assert result.warnings == ("nb.ipynb: cell 6 skipped (cell magic %%bash)",)


CLIENTS = "from google import genai\nclient = genai.Client()\n"
APP_CALL = "client.interactions.create(response_format='wav')\n"
USAGE = Usage(
    modules=("google.genai",),
    calls=(CallPattern("google.genai.Client.interactions.create", ("response_format",)),),
)


def test_cross_module_relative_and_absolute(tmp_path: Path) -> None:
    write(tmp_path, "src/myproj/__init__.py", "")
    write(tmp_path, "src/myproj/clients.py", CLIENTS)
    write(tmp_path, "src/myproj/app.py", "from .clients import client\n" + APP_CALL)
    write(
        tmp_path,
        "src/myproj/other.py",
        "from myproj.clients import client as c\n" + APP_CALL.replace("client.", "c."),
    )
    write(
        tmp_path, "src/myproj/mod_attr.py", "import myproj.clients\n" + "myproj.clients." + APP_CALL
    )
    # a re-export through the package
    write(tmp_path, "src/myproj/api/__init__.py", "from ..clients import client\n")
    write(tmp_path, "src/myproj/api/use.py", "from myproj.api import client\n" + APP_CALL)
    result = scan_project(tmp_path, ["google.genai"], cache=False)
    found = [(e.path, e.line) for e in evidence_for(result.facts, USAGE)]
    assert found == [
        ("src/myproj/api/use.py", 2),
        ("src/myproj/app.py", 2),
        ("src/myproj/mod_attr.py", 2),
        ("src/myproj/other.py", 2),
    ]


def test_local_module_named_like_a_tracked_one(tmp_path: Path) -> None:
    write(tmp_path, "pkg/__init__.py", "")
    write(tmp_path, "pkg/numpy.py", "float_ = 1\n")
    write(tmp_path, "pkg/use.py", "from . import numpy\nfrom .numpy import float_\nnumpy.float_\n")
    result = scan_project(tmp_path, ["numpy"], cache=False)
    assert result.facts == ()


def test_cache_hit_and_invalidation(tmp_path: Path, cache_dir: Path) -> None:
    write(tmp_path, "pkg/__init__.py", "")
    write(tmp_path, "pkg/clients.py", CLIENTS)
    write(tmp_path, "pkg/app.py", "from .clients import client\n" + APP_CALL)
    write(tmp_path, "pkg/plain.py", "x = 1\n")
    cold = scan_project(tmp_path, ["google.genai"])
    assert cold.files_parsed >= 2
    assert list(cache_dir.rglob("*.usage")), "the cache is written to the cache folder"
    assert not list(tmp_path.rglob("*.usage")), "nothing is written into the project"
    warm = scan_project(tmp_path, ["google.genai"])
    assert warm.files_parsed == 0
    assert warm.cache_hits == warm.files_scanned == 4
    assert warm.facts == cold.facts
    # a change in the exporting module reaches its importer through the second pass
    path = write(tmp_path, "pkg/clients.py", "from google import genai\nclient = genai.Other()\n")
    os.utime(path, ns=(1, 1))
    changed = scan_project(tmp_path, ["google.genai"])
    assert changed.cache_hits == 3
    assert changed.files_parsed == 2  # clients.py, and app.py again with the new exports
    assert evidence_for(changed.facts, USAGE) == ()
    assert ("google.genai.Other.interactions.create", 2) in {
        (r.name, r.line) for f in changed.facts if f.path == "pkg/app.py" for r in f.refs
    }
    path = write(tmp_path, "pkg/clients.py", "client = object()\n")
    os.utime(path, ns=(2, 2))
    gone = scan_project(tmp_path, ["google.genai"])
    assert gone.facts == ()
    # other modules extracted: a different cache key
    other = scan_project(tmp_path, ["numpy"])
    assert other.cache_hits == 0


@pytest.mark.parametrize("depth", [1, 2])
def test_an_export_removed_upstream_is_seen_through_a_cached_reexport(
    tmp_path: Path, cache_dir: Path, depth: int
) -> None:
    # app/__init__.py re-exports (through `depth` modules) a client main.py uses; when the
    # client stops being one, the unchanged re-exporting modules must not keep it alive.
    write(tmp_path, "app/clients.py", CLIENTS)
    chain = ["clients"] + [f"mid{i}" for i in range(1, depth)]
    for upstream, module in itertools.pairwise(chain):
        write(tmp_path, f"app/{module}.py", f"from .{upstream} import client\n")
    write(tmp_path, "app/__init__.py", f"from .{chain[-1]} import client\n")
    write(tmp_path, "main.py", "from app import client\n" + APP_CALL)
    used = scan_project(tmp_path, ["google.genai"])
    assert [(e.path, e.line) for e in evidence_for(used.facts, USAGE)] == [("main.py", 2)]
    path = write(tmp_path, "app/clients.py", "client = object()\n")
    os.utime(path, ns=(1, 1))
    for _ in range(2):  # the run that notices, and the run after it (from the cache)
        gone = scan_project(tmp_path, ["google.genai"])
        assert evidence_for(gone.facts, USAGE) == ()
    assert gone.facts == scan_project(tmp_path, ["google.genai"], cache=False).facts


def test_a_file_importing_along_a_reexport_chain_is_scanned_again_once(tmp_path: Path) -> None:
    # main.py imports the client from clients.py directly and through a chain of three
    # re-exports: the second pass waits for the chain to settle and then scans it once (not
    # once when the direct import is seen and again when the chain's end is)
    write(tmp_path, "app/clients.py", CLIENTS)
    write(tmp_path, "app/mid1.py", "from .clients import client\n")
    write(tmp_path, "app/mid2.py", "from .mid1 import client\n")
    write(tmp_path, "app/__init__.py", "from .mid2 import client\n")
    write(
        tmp_path,
        "main.py",
        "from app.clients import client as direct\nfrom app import client\n"
        + APP_CALL
        + APP_CALL.replace("client.", "direct."),
    )
    result = scan_project(tmp_path, ["google.genai"], cache=False, jobs=1)
    assert [(e.path, e.line) for e in evidence_for(result.facts, USAGE)] == [
        ("main.py", 3),
        ("main.py", 4),
    ]
    # clients.py in the first pass (no other file mentions a tracked module), then mid1,
    # mid2, __init__ and main.py once each
    assert result.files_parsed == 5


def test_an_import_cycle_settles_as_a_whole(tmp_path: Path, cache_dir: Path) -> None:
    # a.py and b.py import from each other; the client a.py makes reaches main.py through b.py
    write(tmp_path, "pkg/__init__.py", "")
    write(tmp_path, "pkg/a.py", "from .b import helper\n" + CLIENTS)
    write(tmp_path, "pkg/b.py", "from .a import client\nhelper = 1\n")
    write(tmp_path, "main.py", "from pkg.b import client\n" + APP_CALL)
    cold = scan_project(tmp_path, ["google.genai"])
    assert [(e.path, e.line) for e in evidence_for(cold.facts, USAGE)] == [("main.py", 2)]
    warm = scan_project(tmp_path, ["google.genai"])
    assert (warm.files_parsed, warm.facts) == (0, cold.facts)


def test_workers_serve_every_round_of_the_second_pass(tmp_path: Path) -> None:
    # once started for the first pass, the workers scan the second pass's batches too, even
    # one too small to start them for, with what the in-process scan gives
    write(tmp_path, "pkg/__init__.py", "")
    write(tmp_path, "pkg/clients.py", CLIENTS)
    for i in range(40):
        write(tmp_path, f"pkg/plain{i:02}.py", "x = 1\n")
    for i in range(3):
        write(tmp_path, f"pkg/use{i}.py", "from .clients import client\n" + APP_CALL)
    pool = Pool(2, min_bytes=0)
    pooled = scan_project(tmp_path, ["google.genai"], cache=False, pool=pool)
    alone = scan_project(tmp_path, ["google.genai"], cache=False, jobs=1)
    assert pooled.facts == alone.facts
    assert len(evidence_for(pooled.facts, USAGE)) == 3
    assert pool.pooled == [45, 3]


def test_alternating_module_sets_keep_their_own_caches(tmp_path: Path, cache_dir: Path) -> None:
    """``check`` and ``check --online`` track different modules: neither run throws the
    other's cache away; a root keeps only its few newest caches."""
    write(tmp_path, "a.py", USE)
    cold = scan_project(tmp_path, MODULES)
    online = scan_project(tmp_path, [*MODULES, "yaml"])
    assert online.files_parsed == 1
    again = scan_project(tmp_path, MODULES)
    assert (again.files_parsed, again.cache_hits) == (0, 1)
    assert again.facts == cold.facts
    assert scan_project(tmp_path, [*MODULES, "yaml"]).files_parsed == 0
    for extra in ("a", "b", "c", "d", "e"):
        scan_project(tmp_path, [*MODULES, extra])
    assert len(list(cache_dir.rglob("*.usage"))) == 4


def test_corrupt_cache_is_rebuilt(tmp_path: Path, cache_dir: Path) -> None:
    write(tmp_path, "a.py", USE)
    first = scan_project(tmp_path, MODULES)
    (cache_file,) = cache_dir.rglob("*.usage")
    cache_file.write_text("{not json", encoding="utf-8")
    again = scan_project(tmp_path, MODULES)
    assert again.files_parsed == 1
    assert again.facts == first.facts
    data = wire.loads(unseal(cache_file.read_bytes()) or b"")
    path, _, *rest = wire.unpack(data["files"]["a.py"]["facts"])
    data["files"]["a.py"]["facts"] = wire.dumps((path, (("ref", 5),), *rest))  # junk inside
    cache_file.write_bytes(seal(wire.dumps(data)))
    third = scan_project(tmp_path, MODULES)
    assert third.facts == first.facts


def test_a_cache_entry_edited_by_hand_is_not_trusted(tmp_path: Path, cache_dir: Path) -> None:
    """Emptying an entry's refs (so a used API looks unused) breaks the file's checksum."""
    write(tmp_path, "a.py", USE)
    first = scan_project(tmp_path, MODULES)
    assert first.facts
    (cache_file,) = cache_dir.rglob("*.usage")
    head, _, body = cache_file.read_bytes().partition(b"\n")
    data = wire.loads(body)
    path, _, *rest = wire.unpack(data["files"]["a.py"]["facts"])
    data["files"]["a.py"]["facts"] = wire.dumps((path, (), *rest))
    cache_file.write_bytes(head + b"\n" + wire.dumps(data))
    again = scan_project(tmp_path, MODULES)
    assert again.files_parsed == 1
    assert again.facts == first.facts


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")
def test_a_cache_file_that_is_a_symlink_or_fifo_is_ignored(tmp_path: Path, cache_dir: Path) -> None:
    write(tmp_path, "a.py", USE)
    first = scan_project(tmp_path, MODULES)
    (cache_file,) = cache_dir.rglob("*.usage")
    real = tmp_path.parent / f"{tmp_path.name}-elsewhere.usage"
    real.write_bytes(cache_file.read_bytes())
    cache_file.unlink()
    cache_file.symlink_to(real)
    assert scan_project(tmp_path, MODULES).files_parsed == 1
    cache_file.unlink()
    os.mkfifo(cache_file)
    again = scan_project(tmp_path, MODULES)  # does not block
    assert again.files_parsed == 1
    assert again.facts == first.facts


def test_no_cache_env(tmp_path: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEPWATCH_NO_CACHE", "1")
    write(tmp_path, "a.py", USE)
    scan_project(tmp_path, MODULES)
    assert scan_project(tmp_path, MODULES).files_parsed == 1
    assert not list(cache_dir.rglob("*.usage"))


def test_env_prefilter_and_pool(tmp_path: Path) -> None:
    # worker processes give what the in-process scan gives
    pool = Pool(2, min_bytes=0)
    body = "import os\nimport numpy as np\nv = os.getenv('TOKEN')\n" + "x = np.float_(1)\n" * 50
    for i in range(45):
        write(tmp_path, f"m{i:02}.py", body)
    write(tmp_path, "plain.py", "x = 1\n" * 10)
    pooled = scan_project(tmp_path, MODULES, ["TOKEN"], cache=False, pool=pool)
    alone = scan_project(tmp_path, MODULES, ["TOKEN"], cache=False, jobs=1)
    assert pooled.facts == alone.facts
    assert len(pooled.facts) == 45
    assert pooled.files_parsed == 45  # plain.py is skipped by the prefilter
    assert pool.pooled == [46]


def test_pool_falls_back_when_workers_die(tmp_path: Path) -> None:
    # a worker that cannot start (or dies) costs speed, never findings
    pool = Pool(2, min_bytes=0, boot="import sys; sys.exit(3)")
    body = "import numpy as np\n" + "x = np.float_(1)\n" * 50
    for i in range(45):
        write(tmp_path, f"m{i:02}.py", body)
    pooled = scan_project(tmp_path, MODULES, cache=False, pool=pool)
    alone = scan_project(tmp_path, MODULES, cache=False, jobs=1)
    assert pooled.facts == alone.facts
    assert len(pooled.facts) == 45


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_a_project_in_a_folder_the_enclosing_repository_ignores(tmp_path: Path) -> None:
    # another repository's ignored build/ holds a checkout of the audited project (no .git of
    # its own): the project's own root decides what is ignored below it
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    write(tmp_path, ".gitignore", "build/\n*.py\n")
    project = tmp_path / "build" / "checkout"
    write(project, "app.py", USE)
    write(project, "pkg/core.py", USE)
    write(project, "pkg/generated/out.py", USE)
    write(project, ".gitignore", "generated/\n")
    result = scan_project(project, MODULES, cache=False)
    assert paths(result) == ["app.py", "pkg/core.py"]
    # a project the enclosing repository does not ignore keeps its rules (a monorepo member)
    member = tmp_path / "services" / "api"
    write(member, "main.py", USE)
    write(tmp_path, ".gitignore", "build/\nservices/api/skip_me.py\n")
    write(member, "skip_me.py", USE)
    assert paths(scan_project(member, MODULES, cache=False)) == ["main.py"]


@pytest.mark.parametrize(
    "importer",
    [
        "from a import (\n    other,\n)\n",
        "from a import \\\n    other\n",
        "def f():\n    from a import (other,\n        other as again)\n",
    ],
)
def test_a_skipped_file_s_imports_read_as_a_parsed_file_s(tmp_path: Path, importer: str) -> None:
    """A file the prefilter skips (it names no tracked module) still says which project
    names it imports: a multi-line import of ``other`` is an import of ``other``, not of the
    whole module (which would let ``load`` be called from there, and drop its guard)."""
    write(
        tmp_path,
        "a.py",
        "import sys\nother = 1\n\ndef load(s):\n    import yaml\n    return yaml.load(s)\n\n"
        "if sys.version_info[0] == 2:\n    load('x')\n",
    )
    write(tmp_path, "b.py", "from a import other\n")
    one_line = scan_project(tmp_path, ["yaml"], cache=False)
    write(tmp_path, "b.py", importer)
    result = scan_project(tmp_path, ["yaml"], cache=False)
    assert result.files_parsed == one_line.files_parsed == 1  # b.py is never parsed
    (facts,) = result.facts
    (load,) = [ref for ref in facts.refs if ref.name == "yaml.load"]
    assert load.guards, "load() runs only where a.py calls it: under Python 2"
    assert result.facts == one_line.facts
    assert result.imported == one_line.imported
