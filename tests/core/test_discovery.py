"""Which files a folder search reads: the names the reader registry reads, nothing else."""

from __future__ import annotations

from pathlib import Path

import pytest

from depwatch import discovery, lockfiles
from depwatch.audit import read_projects
from depwatch.model import LockFormat

FIXTURES = Path(__file__).parent.parent / "fixtures" / "lockfiles"

#: name → what a folder search must decide (the reader that reads it, or None).
NAMES = {
    "uv.lock": LockFormat.UV,
    "poetry.lock": LockFormat.POETRY,
    "Pipfile.lock": LockFormat.PIPFILE,
    "pdm.lock": LockFormat.PDM,
    "pylock.toml": LockFormat.PYLOCK,
    "pylock.dev.toml": LockFormat.PYLOCK,
    "pylock.a.b.toml": None,  # not a pylock file by PEP 751's rule
    "conda-lock.yml": LockFormat.CONDA,
    "ci.conda-lock.yml": LockFormat.CONDA,
    "requirements.txt": LockFormat.REQUIREMENTS,
    "requirements-dev.txt": LockFormat.REQUIREMENTS,
    "dev-requirements.txt": LockFormat.REQUIREMENTS,
    "Requirements.txt": LockFormat.REQUIREMENTS,
    "constraints.txt": LockFormat.REQUIREMENTS,
    "constraints-3.12.txt": LockFormat.REQUIREMENTS,
    "test-constraints.txt": LockFormat.REQUIREMENTS,
    "requirements.in": None,
    "notes.txt": None,
    "uv.lock.bak": None,
    "Pipfile": None,
    "pyproject.toml": None,
}


@pytest.mark.parametrize(("name", "fmt"), NAMES.items())
def test_a_folder_search_reads_what_the_registry_reads(
    tmp_path: Path, name: str, fmt: LockFormat | None
) -> None:
    (tmp_path / name).write_text("", encoding="utf-8")
    found = discovery.search(tmp_path)
    assert found == ([tmp_path / name] if fmt is not None else [])
    assert discovery.is_lockfile_name(name) is (fmt is not None)
    if fmt is not None:
        assert lockfiles.reader_for(tmp_path / name).FORMAT is fmt


def test_every_txt_of_a_requirements_folder_but_not_of_a_project_named_so(tmp_path: Path) -> None:
    project = tmp_path / "requirements"  # a project folder that happens to be named so
    (project / "requirements").mkdir(parents=True)
    (project / "notes.txt").write_text("", encoding="utf-8")
    (project / "requirements" / "base.txt").write_text("", encoding="utf-8")
    assert discovery.search(project) == [project / "requirements" / "base.txt"]


def test_a_constraints_file_beside_a_requirements_file_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The fixture holds requirements.txt (uv pip compile) and the constraints.txt it was
    # compiled with; both are pins the project installs.
    source = FIXTURES / "requirements" / "uv"
    for name in ("requirements.txt", "constraints.txt"):
        (tmp_path / name).write_bytes((source / name).read_bytes())
    monkeypatch.chdir(tmp_path)
    (project,) = read_projects(["."])
    assert sorted(lock.path for lock in project.lockfiles) == [
        "constraints.txt",
        "requirements.txt",
    ]
    constraints = next(lock for lock in project.lockfiles if lock.path == "constraints.txt")
    assert constraints.format is LockFormat.REQUIREMENTS
    assert {(p.name, p.version) for p in constraints.packages} == {
        ("idna", "3.8"),
        ("six", "1.17.0"),
    }
