"""Property tests: mutated real inputs end in a result or a clean exit 2 (issue 19, Tests).

Seeds are the real lockfiles of ``../shared/corpus`` (skipped with a reason where it is absent),
the shipped rule files, the corpus' pyproject.toml files, a baseline written by depwatch and
depwatch's own sources (for the scanner). Each is mutated (:mod:`tests.hostile.mutations`) and
handed to its reader: the only acceptable outcomes are a result or a ``DepwatchError`` (which the
CLI turns into exit 2); a benign mutation (BOM, CRLF, reordering) must give the same inventory.
Example counts are modest so the suite stays fast; ``HYPOTHESIS_PROFILE=fuzz`` runs many more.
"""

from __future__ import annotations

import json
import os
import random
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from depwatch.errors import DepwatchError
from depwatch.lockfiles import load_reader
from depwatch.lockfiles.base import LockContents
from tests.conftest import REPO, SHARED
from tests.hostile.mutations import BENIGN, HOSTILE

CORPUS = SHARED / "corpus" / "lockfiles"

#: One seed per format: the smallest real lockfile of that format that is not trivial.
SEEDS = {
    "uv": "uv/langgraph-monorepo-example/uv.lock",
    "poetry": "poetry/poetry-2022-lock1.1/poetry.lock",
    "pipfile": "pipfile/pipenv-examples/Pipfile.lock",
    "pdm": "pdm/pdm/pdm.lock",
    "pylock": "pylock/pdm-demo-fixture/pylock.toml",
    "requirements": "requirements/trio-test/test-requirements.txt",
    "conda": "conda/esmvalcore-2022/conda-lock.yml",
}

settings.register_profile(
    "default",
    max_examples=12,
    deadline=None,
    database=None,  # no .hypothesis folder in the worktree
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "fuzz",
    max_examples=500,
    deadline=None,
    database=None,  # no .hypothesis folder in the worktree
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


def _corpus_seed(fmt: str) -> Path:
    path = CORPUS / SEEDS[fmt]
    if not path.is_file():
        pytest.skip(f"{CORPUS} is not present (the shared corpus sits beside the repository)")
    return path


def _mutation() -> st.SearchStrategy[tuple[str, int]]:
    return st.tuples(st.sampled_from(sorted(HOSTILE)), st.integers(0, 2**32))


def _mutate(data: bytes, kind: str, seed: int) -> bytes:
    rng = random.Random(seed)
    return HOSTILE[kind](data, lambda n: rng.randrange(n) if n > 0 else 0)


def _inventory(contents: LockContents) -> list[tuple[str, str | None]]:
    return sorted((p.name, p.version) for p in contents.packages)


def _in_folder(name: str, data: bytes) -> tuple[tempfile.TemporaryDirectory[str], Path]:
    folder = tempfile.TemporaryDirectory()
    path = Path(folder.name) / name
    path.write_bytes(data)
    return folder, path


def _attempt(call: Callable[[], Any]) -> Any:
    """What ``call`` returns, or the ``DepwatchError`` it raised (anything else propagates)."""
    try:
        return call()
    except DepwatchError as exc:
        return exc


def _read_or_error(fmt: str, name: str, data: bytes) -> LockContents | DepwatchError:
    folder, path = _in_folder(name, data)
    with folder:
        result = _attempt(lambda: load_reader(fmt).read(path))
    if isinstance(result, DepwatchError):
        assert name in str(result), str(result)  # the error names the file
    else:
        assert isinstance(result, LockContents)
    return result  # type: ignore[no-any-return]


# -- lockfile readers ------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", sorted(SEEDS))
@given(mutation=_mutation())
def test_a_mutated_lockfile_gives_a_result_or_a_clean_error(
    fmt: str, mutation: tuple[str, int]
) -> None:
    seed = _corpus_seed(fmt)
    _read_or_error(fmt, seed.name, _mutate(seed.read_bytes(), *mutation))


@pytest.mark.parametrize("benign", sorted(BENIGN))
@pytest.mark.parametrize("fmt", sorted(SEEDS))
def test_a_benign_change_gives_the_same_inventory(fmt: str, benign: str) -> None:
    seed = _corpus_seed(fmt)
    original = _read_or_error(fmt, seed.name, seed.read_bytes())
    assert isinstance(original, LockContents)
    changed = _read_or_error(fmt, seed.name, BENIGN[benign](seed.read_bytes()))
    assert isinstance(changed, LockContents), changed
    assert _inventory(changed) == _inventory(original)


def _reorder_json(data: bytes, rng: random.Random) -> bytes:
    doc = json.loads(data)
    for section in ("default", "develop"):
        items = list(doc.get(section, {}).items())
        rng.shuffle(items)
        doc[section] = dict(items)
    return json.dumps(doc, indent=4).encode()


def _reorder_blocks(data: bytes, rng: random.Random, header: bytes) -> bytes:
    head, *blocks = data.split(header)
    rng.shuffle(blocks)
    return head + b"".join(header + block.rstrip(b"\n") + b"\n\n" for block in blocks)


def _reorder_lines(data: bytes, rng: random.Random) -> bytes:
    # requirements: whole entries (a requirement and its continuation and via lines) move
    text = data.decode()
    entries = text.replace("\n    #", "\x00    #").replace("\\\n", "\\\x01").split("\n")
    rng.shuffle(entries)
    return "\n".join(entries).replace("\x00", "\n").replace("\x01", "\n").encode()


REORDER: dict[str, Callable[[bytes, random.Random], bytes]] = {
    "pipfile": _reorder_json,
    "uv": lambda data, rng: _reorder_blocks(data, rng, b"[[package]]\n"),
    "poetry": lambda data, rng: _reorder_blocks(data, rng, b"[[package]]\n"),
    "pdm": lambda data, rng: _reorder_blocks(data, rng, b"[[package]]\n"),
    "requirements": _reorder_lines,
}


@pytest.mark.parametrize("fmt", sorted(REORDER))
@given(seed=st.integers(0, 2**32))
@settings(max_examples=3)
def test_reordering_gives_the_same_inventory(fmt: str, seed: int) -> None:
    path = _corpus_seed(fmt)
    original = _read_or_error(fmt, path.name, path.read_bytes())
    assert isinstance(original, LockContents)
    reordered = REORDER[fmt](path.read_bytes(), random.Random(seed))
    changed = _read_or_error(fmt, path.name, reordered)
    assert isinstance(changed, LockContents), changed
    assert _inventory(changed) == _inventory(original)


# -- the config reader (pyproject.toml) and the baseline reader -----------------------------


def _pyprojects() -> list[Path]:
    found = sorted(CORPUS.rglob("pyproject.toml")) if CORPUS.is_dir() else []
    if not found:
        pytest.skip(f"{CORPUS} is not present (the shared corpus sits beside the repository)")
    return found


@given(which=st.integers(0, 100), mutation=_mutation())
def test_a_mutated_pyproject_gives_settings_or_a_clean_error(
    which: int, mutation: tuple[str, int]
) -> None:
    from depwatch.project import read_project
    from depwatch.settings import parse_settings

    seeds = _pyprojects()
    seed = seeds[which % len(seeds)]
    folder, path = _in_folder("pyproject.toml", _mutate(seed.read_bytes(), *mutation))
    with folder:

        def read() -> object:
            files = read_project(path.parent)
            return parse_settings(files.pyproject, path=path)

        result = _attempt(read)
    if isinstance(result, DepwatchError):
        assert "pyproject.toml" in str(result)


def _baseline_seed() -> bytes:
    from depwatch import policy
    from tests.reporters.conftest import make_report

    return policy.baseline_document(make_report().findings, Path("baseline.json")).encode()


@given(mutation=_mutation())
def test_a_mutated_baseline_gives_keys_or_a_clean_error(mutation: tuple[str, int]) -> None:
    from depwatch import policy

    folder, path = _in_folder("baseline.json", _mutate(_baseline_seed(), *mutation))
    with folder:
        keys = _attempt(lambda: policy.read_baseline(path))
    if isinstance(keys, DepwatchError):
        assert "baseline.json" in str(keys)
    else:
        assert isinstance(keys, frozenset)


# -- the rule loader -------------------------------------------------------------------------

RULE_FILES = sorted((REPO / "rules").glob("*/*.toml"))


@given(which=st.integers(0, 10_000), mutation=_mutation())
def test_a_mutated_rule_file_gives_rules_or_a_clean_error(
    which: int, mutation: tuple[str, int]
) -> None:
    from depwatch.rulebook import check_dirs

    seed = RULE_FILES[which % len(RULE_FILES)]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / seed.parent.name
        folder.mkdir()
        (folder / seed.name).write_bytes(_mutate(seed.read_bytes(), *mutation))
        rules = _attempt(lambda: check_dirs([Path(tmp)]))
    if isinstance(rules, DepwatchError):
        assert seed.name in str(rules)
    else:
        # a package declaration (_package.toml) that still loads declares names, no rule
        expected = [] if seed.name == "_package.toml" else [f"{seed.parent.name}/{seed.stem}"]
        assert [rule.id for rule in rules] == expected


# -- the scanner -----------------------------------------------------------------------------

SOURCES = sorted((REPO / "depwatch").rglob("*.py"))


@given(which=st.integers(0, 10_000), mutation=_mutation())
def test_a_mutated_source_file_is_scanned_or_skipped_with_a_warning(
    which: int, mutation: tuple[str, int]
) -> None:
    from depwatch.usage.scan import decode_source, scan_source

    seed = SOURCES[which % len(SOURCES)]
    data = _mutate(seed.read_bytes(), *mutation)
    text, notes = decode_source(data, "m.py")
    facts = scan_source(text, "m.py", ["packaging", "os", "json"], ["HOME"])
    assert all(isinstance(w, str) for w in (*notes, *facts.warnings))


@given(mutation=_mutation())
def test_a_mutated_notebook_is_scanned_or_skipped_with_a_warning(
    mutation: tuple[str, int],
) -> None:
    from depwatch.usage.scan import decode_source, scan_source

    cells = [
        {"cell_type": "code", "source": ["import json\n", f"x{i} = json.loads(s)\n"]}
        for i in range(20)
    ]
    seed = json.dumps({"cells": cells, "nbformat": 4}, indent=1).encode()
    text, _ = decode_source(_mutate(seed, *mutation), "nb.ipynb")
    facts: Any = scan_source(text, "nb.ipynb", ["json"])
    assert facts.path == "nb.ipynb"
