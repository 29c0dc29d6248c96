"""Where a finding points in its lockfile: the line of the package's own entry."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from packaging.utils import canonicalize_name

from depwatch.lockfiles import reader_for
from depwatch.lockfiles.base import TOML_ENTRY, EntryLines
from depwatch.lockfiles.requirements import pin_line

FIXTURES = Path(__file__).parent.parent / "fixtures" / "lockfiles"
BENCH_LOCK = Path(__file__).parents[3] / "shared" / "bench" / "uv.lock"

# (lockfile made by the real tool or by hand, format, how its entry line names a package)
LOCKS = [
    (FIXTURES / "uv" / "basic" / "uv.lock", "uv", r'name = "([^"]+)"'),
    (FIXTURES / "uv" / "workspace" / "uv.lock", "uv", r'name = "([^"]+)"'),
    (FIXTURES / "poetry" / "app" / "poetry.lock", "poetry", r'name = "([^"]+)"'),
    (FIXTURES / "pdm" / "app" / "pdm.lock", "pdm", r'name = "([^"]+)"'),
    (FIXTURES / "pylock" / "uv-export" / "pylock.toml", "pylock", r'name = "([^"]+)"'),
    (FIXTURES / "pipfile" / "basic" / "Pipfile.lock", "pipfile", r'"([^"]+)": \{'),
    (
        FIXTURES / "requirements" / "pip-compile" / "requirements.txt",
        "requirements",
        r"([A-Za-z0-9][\w.-]*)(?:\[[^\]]*\])?(?:==| @)",
    ),
    (
        FIXTURES / "conda" / "handmade" / "multi-platform.conda-lock.yml",
        "conda",
        r"- name: (\S+)",
    ),
]


@pytest.mark.parametrize(
    ("path", "fmt", "entry"), LOCKS, ids=[f"{p.parent.name}/{p.name}" for p, _, _ in LOCKS]
)
def test_every_locked_package_points_at_its_own_entry(path: Path, fmt: str, entry: str) -> None:
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines()
    packages = [p for p in reader_for(path).read(path).packages if p.version]
    assert packages
    for package in packages:
        assert package.version is not None
        number = package.line
        assert number is not None, package
        named = re.fullmatch(rf"\s*{entry}.*", lines[number - 1])
        assert named is not None, (package, lines[number - 1])
        assert canonicalize_name(named.group(1)) == package.name
        # The version is the entry's: on its line, or on one of the lines that follow, before
        # the next entry starts.
        following = [lines[number - 1]]
        for line in lines[number:]:
            if re.fullmatch(rf"\s*{entry}.*", line) or line.strip() in {"}", "},"}:
                break
            following.append(line)
        assert any(package.version in line for line in following), (package, number)


def test_the_benchmark_lock() -> None:
    if not BENCH_LOCK.is_file():
        pytest.skip("../shared/bench/uv.lock is not beside this checkout")
    text = BENCH_LOCK.read_text(encoding="utf-8")
    lines = text.splitlines()
    packages = [p for p in reader_for(BENCH_LOCK).read(BENCH_LOCK).packages if p.version]
    assert len(packages) > 500
    for package in packages:
        assert package.version is not None
        number = package.line
        assert number is not None, package
        assert lines[number - 1] == f'name = "{package.name}"'
        assert lines[number] == f'version = "{package.version}"'


def test_a_name_locked_at_two_versions_points_at_each() -> None:
    text = (
        '[[package]]\nname = "numpy"\nversion = "1.26.4"\nsource = { registry = "x" }\n\n'
        '[[package]]\nname = "numpy"\nversion = "2.1.0"\nsource = { registry = "x" }\n'
    )
    search = EntryLines(text, TOML_ENTRY)
    assert search.locate("numpy", "1.26.4") == 2
    assert search.locate("numpy", "2.1.0") == 7
    assert search.locate("numpy", "3.0") == 2  # no entry at that version: the first entry


def test_a_dependency_mention_is_not_the_entry() -> None:
    text = (
        '[[package]]\nname = "app"\nversion = "1.0"\ndependencies = [\n'
        '    { name = "six" },\n]\n\n'
        '[[package]]\nname = "six"\nversion = "1.16.0"\n'
        'sdist = { url = "https://x/six-1.16.0.tar.gz" }\n'
    )
    assert EntryLines(text, TOML_ENTRY).locate("six", "1.16.0") == 9


def test_spellings_case_and_line_endings() -> None:
    text = "Zope.Interface==6.0 \\\r\n    --hash=sha256:00\r\nzope_interface==7.0\r\nother==1.0\r\n"
    assert pin_line(text, "zope-interface", "7.0") == 3
    assert pin_line(text, "zope-interface", "6.0") == 1
    assert pin_line(text, "zope-interface", "8.0") == 1  # named, at another version
    assert pin_line(text, "absent", "1.0") is None
    assert EntryLines("", TOML_ENTRY).locate("six", "1.0") is None


def test_lowering_that_changes_lengths_does_not_shift_lines() -> None:
    # "İ".lower() is two characters: matching ignores case without changing the text.
    text = 'name = "İİİİ"\nversion = "1"\n\n[[package]]\nname = "six"\nversion = "1.16.0"\n'
    assert EntryLines(text, TOML_ENTRY).locate("six", "1.16.0") == 5


_CORPUS_ENTRY = {
    "uv": r'name = "([^"]+)"',
    "poetry": r'name = "([^"]+)"',
    "pdm": r'name = "([^"]+)"',
    "pylock": r"name = [\"']([^\"']+)[\"']",
    "pipfile": r'"([^"]+)": \{',
    "conda": r"-?\s*name: (\S+)",
    "requirements": r"([A-Za-z0-9][\w.-]*)\s*(?:\[[^\]]*\])?\s*(?:===?|@)",
}


def _corpus_files() -> list[str]:
    root = Path(__file__).resolve().parents[3] / "shared" / "corpus" / "lockfiles"
    if not root.is_dir():
        return ["(corpus absent)"]
    return sorted(
        str(path.relative_to(root))
        for path in root.rglob("*")
        if path.is_file() and path.name not in {"environment.yml", "pyproject.toml", "Pipfile"}
    )


@pytest.mark.parametrize("relative", _corpus_files())
def test_every_corpus_package_points_at_its_own_entry(shared: Path, relative: str) -> None:
    path = shared / "corpus" / "lockfiles" / relative
    try:
        reader = reader_for(path, explicit=True)
    except Exception:
        pytest.skip(f"{relative} is not a lockfile depwatch reads")
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines()
    fmt = reader.FORMAT
    entry = re.compile(rf"\s*{_CORPUS_ENTRY[fmt]}.*")
    # A requirements file's -r includes are other files: only what this file names is here.
    own = {canonicalize_name(m.group(1)) for line in lines if (m := entry.fullmatch(line))}
    packages = [p for p in reader.read(path).packages if p.version and p.name in own]
    if not packages:  # a lock that pins nothing (uv's empty project): nothing to point at
        assert not [p for p in reader.read(path).packages if p.version]
        assert not [p for p in reader.read(path).packages if p.line is not None]
        return
    for package in packages:
        assert package.version is not None
        number = package.line
        assert number is not None, package
        named = entry.fullmatch(lines[number - 1])
        assert named is not None, (package, number)
        assert canonicalize_name(named.group(1)) == package.name
