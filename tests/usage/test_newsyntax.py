"""Files valid for the declared Pythons are scanned whatever Python runs depwatch: 3.12
f-strings and type parameters, 3.11 except*, 3.14 t-strings and ``except A, B:``."""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from depwatch.usage import scan_source
from depwatch.usage.newsyntax import downgrade

from ..conftest import FIXTURES, REPO

FILES = sorted((FIXTURES / "newsyntax").glob("*.py"))
_EXPECT = re.compile(r"# expect: (.+)$")


def _needs(path: Path) -> tuple[int, int]:
    """The Python a fixture is written for (``fstrings_312.py`` → 3.12)."""
    digits = path.stem.rsplit("_", 1)[1]
    return int(digits[0]), int(digits[1:])


def _interpreter(version: tuple[int, int]) -> str | None:
    """A CPython of exactly that minor on this machine, if there is one."""
    name = f"python{version[0]}.{version[1]}"
    candidates = [
        *(Path.home() / ".pyenv" / "versions").glob(f"{version[0]}.{version[1]}.*/bin/{name}"),
        Path("/usr/bin") / name,
        Path("/usr/local/bin") / name,
    ]
    for candidate in candidates:
        if not candidate.is_file():
            continue
        done = subprocess.run([candidate, "-c", "pass"], capture_output=True, timeout=60)
        if done.returncode == 0:
            return str(candidate)
    return None


def _scan(text: str, path: str) -> list[tuple[int, int, str]]:
    facts = scan_source(text, path, ["numpy", "os"], ["USER", "HOME"])
    assert facts.warnings == ()
    return [(r.line, r.column, r.name) for r in facts.refs if r.kind != "import"]


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_newer_syntax_is_scanned_with_every_place_where_it_is(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    if sys.version_info < _needs(path):
        with pytest.raises(SyntaxError):
            ast.parse(text)  # the shape this test is about: this Python cannot read it as is
    found = _scan(text, path.name)
    lines = text.split("\n")
    expected = {
        (number, name.strip())
        for number, line in enumerate(lines, 1)
        if (m := _EXPECT.search(line))
        for name in m.group(1).split(",")
    }
    assert {(line, name) for line, _, name in found} >= expected
    for line, column, name in found:
        # the column points at the chain as written: its first name is the alias (np/os)
        head = lines[line - 1][column - 1 :]
        assert head.startswith(("np.", "os.")), (line, column, name, head)


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_same_places_as_the_newer_python_finds(path: Path) -> None:
    """Where an interpreter that reads the file natively is installed, the places depwatch
    finds through the rewrite are the ones it finds there."""
    needs = _needs(path)
    python = _interpreter(needs)
    if python is None:
        pytest.skip(f"no Python {needs[0]}.{needs[1]} on this machine")
    program = (
        "import json, sys\n"
        "from depwatch.usage.scan import scan_compact\n"
        "from depwatch.usage.resolve import Tracker\n"
        "text = open(sys.argv[1], encoding='utf-8').read()\n"
        "facts = scan_compact(text, 'x.py', Tracker(['numpy', 'os'], ['USER', 'HOME']))\n"
        "print(json.dumps([[r[2], r[3], r[1]] for r in facts[1] if r[0] != 'import']))\n"
    )
    done = subprocess.run(
        [python, "-c", program, str(path)],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    native = [tuple(item) for item in json.loads(done.stdout)]
    assert _scan(path.read_text(encoding="utf-8"), path.name) == native


def test_rewrites_keep_lines_and_columns() -> None:
    source = 'x = f"{a["k"]}"\ntype T = int\nclass C[X]: pass\n'
    older = downgrade(source)
    assert older is not None
    assert [len(line) for line in older.split("\n")] == [len(line) for line in source.split("\n")]
    assert older == "x = f\"{a['k']}\"\nT      = int\nclass C   : pass\n"
    assert downgrade("x = 1\n") is None


def test_a_file_invalid_for_every_python_still_warns() -> None:
    facts = scan_source('import numpy\nx = f"{numpy.pi"\ndef (:\n', "bad.py", ["numpy"])
    assert facts.refs == ()
    (warning,) = facts.warnings
    assert warning.startswith("bad.py: skipped, not valid Python (line 2: ")
