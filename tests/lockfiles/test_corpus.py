"""Every real lockfile of ../shared/corpus reads to exactly the (name, version) set its expected file gives."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from packaging.version import InvalidVersion, Version

from depwatch.lockfiles import reader_for

_REPO = Path(__file__).resolve().parents[2]
_CORPUS = Path(os.environ.get("DEPWATCH_SHARED", _REPO.parent / "shared")) / "corpus"
#: Files of the corpus that are not depwatch inputs (a conda spec, not a lock).
_NOT_INPUTS = {"environment.yml"}


def _lockfiles() -> list[str]:
    expected = _CORPUS / "expected"
    if not expected.is_dir():
        return ["(corpus absent)"]
    found = [
        str(path.relative_to(expected))[: -len(".json")]
        for path in expected.rglob("*.json")
        if path.name[: -len(".json")] not in _NOT_INPUTS
    ]
    return sorted(found)


def _version_key(version: str) -> object:
    try:
        return Version(version)
    except InvalidVersion:
        return version


def _pairs(items: object) -> set[tuple[str, object]]:
    assert isinstance(items, list)
    return {(name, _version_key(version)) for name, version in items}


@pytest.mark.parametrize("relative", _lockfiles())
def test_corpus_lockfile_reads_to_expected_pairs(shared: Path, relative: str) -> None:
    path = shared / "corpus" / "lockfiles" / relative
    expected = json.loads((shared / "corpus" / "expected" / f"{relative}.json").read_text())
    contents = reader_for(path, explicit=True).read(path)
    got = {(p.name, _version_key(p.version)) for p in contents.packages if p.version is not None}
    fmt = expected["format"]
    if fmt == "uv":
        local = {"editable", "virtual", "workspace"}
        got_remote = {
            (p.name, _version_key(p.version))
            for p in contents.packages
            if p.version is not None and p.source not in local
        }
        # Every version the file pins is reported, workspace and editable members included,
        # and the source kinds tell the project's own members from what it depends on.
        assert got == _pairs(expected["packages"])
        assert got_remote == _pairs(expected["packages_excluding_local"])
    elif fmt == "requirements":
        assert got == _pairs(expected.get("packages_with_includes", expected["packages"]))
    else:
        assert got == _pairs(expected["packages"])
    # Packages the file pins at several versions appear once per version.
    for name, versions in expected.get("multi_version", {}).items():
        assert {p.version for p in contents.packages if p.name == name} >= set(versions)
