"""Declared Python ranges and direct dependencies from pyproject.toml and Pipfile."""

from __future__ import annotations

from pathlib import Path

import pytest
from packaging.specifiers import SpecifierSet

from depwatch.errors import DepwatchError
from depwatch.project import read_project
from depwatch.pythons import admitted_minors, minor_admitted, poetry_constraint


@pytest.mark.parametrize(
    ("spec", "minors"),
    [
        (">=3.10", ("3.10", "3.11", "3.12", "3.13", "3.14", "3.15")),
        (">=3.9,<3.12", ("3.9", "3.10", "3.11")),
        (">=3.9.2,<3.11", ("3.9", "3.10")),
        ("==3.11.4", ("3.11",)),
        ("==3.11.*", ("3.11",)),
        ("~=3.12", ("3.12", "3.13", "3.14", "3.15")),
        ("!=3.10.*,>=3.9,<3.12", ("3.9", "3.11")),
    ],
)
def test_admitted_minors(spec: str, minors: tuple[str, ...]) -> None:
    assert admitted_minors(SpecifierSet(spec)) == minors


def test_minor_admitted_edges() -> None:
    assert minor_admitted(SpecifierSet("<3.9.5"), "3.9")
    assert not minor_admitted(SpecifierSet(">=3.10"), "3.9")


@pytest.mark.parametrize(
    ("constraint", "expected"),
    [
        ("^3.9", ["3.9", "3.10", "3.11", "3.12", "3.13", "3.14", "3.15"]),
        ("~3.9", ["3.9"]),
        (">=3.8,<3.10", ["3.8", "3.9"]),
        (">=3.8 <3.10", ["3.8", "3.9"]),
        ("3.11.*", ["3.11"]),
        ("~2.7 || ^3.12", ["3.12", "3.13", "3.14", "3.15"]),
        ("=3.11", ["3.11"]),
        ("*", [f"3.{m}" for m in range(16)]),
    ],
)
def test_poetry_constraint(constraint: str, expected: list[str]) -> None:
    minors = {m for spec in poetry_constraint(constraint) for m in admitted_minors(spec)}
    assert sorted(minors, key=lambda m: int(m.split(".")[1])) == expected


def test_pyproject_facts(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "Voice_Bot"\nrequires-python = ">=3.9"\n'
        'dependencies = ["Google_GenAI>=2; python_version>=\'3.10\'", "db-dtypes"]\n'
        '[project.optional-dependencies]\naudio = ["numpy"]\n'
        '[dependency-groups]\ndev = ["pytest", {include-group = "lint"}]\nlint = ["ruff"]\n'
    )
    files = read_project(tmp_path)
    assert files.declared == admitted_minors(SpecifierSet(">=3.9"))
    assert files.facts.requires_python == ">=3.9"
    assert files.facts.name == "voice-bot"
    assert files.facts.direct == {"google-genai", "db-dtypes", "numpy", "pytest", "ruff"}


def test_poetry_python(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[tool.poetry.dependencies]\npython = "^3.8"\nrequests = "^2"\n'
        '[tool.poetry.group.dev.dependencies]\npytest = "*"\n'
    )
    files = read_project(tmp_path)
    assert files.declared is not None
    assert files.declared[0] == "3.8"
    assert files.facts.python_source == "pyproject.toml Poetry python dependency"
    assert files.facts.direct == {"requests", "pytest"}


def test_pipfile_requires(tmp_path: Path) -> None:
    (tmp_path / "Pipfile").write_text(
        '[packages]\nrequests = "*"\n[dev-packages]\npytest = "*"\n[requires]\npython_version = "3.11"\n'
    )
    files = read_project(tmp_path)
    assert files.declared == ("3.11",)
    assert files.facts.requires_python == "==3.11.*"
    assert files.facts.direct == {"requests", "pytest"}


def test_no_declared_python(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n')
    assert read_project(tmp_path).declared is None


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("[project]\nrequires-python = 3.10\n", "project.requires-python"),
        ('[project]\nrequires-python = ">=three"\n', "not a valid version specifier"),
        ("[project\n", "is not valid TOML"),
        ("[tool.poetry.dependencies]\npython = 3\n", "tool.poetry.dependencies.python"),
    ],
)
def test_bad_pyproject(tmp_path: Path, text: str, needle: str) -> None:
    (tmp_path / "pyproject.toml").write_text(text)
    with pytest.raises(DepwatchError) as info:
        read_project(tmp_path)
    assert needle in str(info.value)
    assert "pyproject.toml" in str(info.value)


def test_an_empty_requires_python_declares_nothing(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "p"\nrequires-python = ""\n'
        '[tool.poetry.dependencies]\npython = "^3.10"\n'
    )
    files = read_project(tmp_path)
    assert files.declared == admitted_minors(SpecifierSet(">=3.10,<4"))
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "p"\nrequires-python = " "\n')
    assert read_project(tmp_path).declared is None


def test_direct_names_from_pdm_editables_and_pipfile_categories(tmp_path: Path) -> None:
    (tmp_path / "libs" / "helper").mkdir(parents=True)
    (tmp_path / "libs" / "helper" / "pyproject.toml").write_text('[project]\nname = "My_Helper"\n')
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "app"\ndependencies = ["requests"]\n'
        "[tool.pdm.dev-dependencies]\n"
        'editables = ["-e file:///${PROJECT_ROOT}/libs/helper", "-e ./other#egg=other-pkg"]\n'
    )
    (tmp_path / "Pipfile").write_text(
        '[packages]\nflask = "*"\n[dev-packages]\npytest = "*"\n[lint]\nruff = "*"\n'
        '[requires]\npython_version = "3.11"\n[[source]]\nname = "pypi"\n'
    )
    facts = read_project(tmp_path).facts
    assert facts.direct >= {"requests", "my-helper", "other-pkg", "flask", "pytest", "ruff"}
    assert "pypi" not in facts.direct
    assert "python-version" not in facts.direct


@pytest.mark.parametrize(
    ("text", "declares"),
    [
        ('[project]\nname = "a"\ndependencies = ["requests"]\n', True),
        ('[project]\nname = "a"\ndependencies = []\n', True),
        ('[project]\nname = "a"\ndynamic = ["dependencies"]\n', False),
        ('[build-system]\nrequires = ["hatchling"]\n', False),
        ('[tool.poetry.dependencies]\npython = "^3.10"\nrequests = "*"\n', True),
        ('[dependency-groups]\ndev = ["pytest"]\n', True),
    ],
)
def test_when_a_pyproject_says_which_dependencies_are_direct(text: str, declares: bool) -> None:
    import tomli

    from depwatch.project import declares_dependencies

    assert declares_dependencies(tomli.loads(text)) is declares


def test_declared_python_from_setup_py_read_statically(tmp_path: Path) -> None:
    (tmp_path / "setup.py").write_text(
        "import sys\nfrom setuptools import setup\n"
        "sys.exit('never run')\n"
        "setup(name='x', python_requires='>=3.8, <3.12')\n",
        encoding="utf-8",
    )
    files = read_project(tmp_path)
    assert files.declared == ("3.8", "3.9", "3.10", "3.11")
    assert files.facts.python_source == "setup.py python_requires"
    # setuptools lets setup.py's argument override setup.cfg
    (tmp_path / "setup.cfg").write_text("[options]\npython_requires = >=3.6\n", encoding="utf-8")
    assert read_project(tmp_path).declared == ("3.8", "3.9", "3.10", "3.11")
    # a value computed at run time is not guessed: setup.cfg then decides
    (tmp_path / "setup.py").write_text(
        "from setuptools import setup\nsetup(python_requires=compute())\n", encoding="utf-8"
    )
    files = read_project(tmp_path)
    assert files.declared == tuple(f"3.{m}" for m in range(6, 16))
    assert files.facts.python_source == "setup.cfg [options] python_requires"
    # pyproject.toml's [project] requires-python comes first
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "x"\nversion = "1"\nrequires-python = ">=3.12"\n', encoding="utf-8"
    )
    assert read_project(tmp_path).facts.python_source == "pyproject.toml [project] requires-python"


def test_setup_files_that_declare_nothing_or_junk(tmp_path: Path) -> None:
    (tmp_path / "setup.py").write_text("this is not python(\n", encoding="utf-8")
    assert read_project(tmp_path).declared is None
    (tmp_path / "setup.cfg").write_text("[metadata]\nname = x\n", encoding="utf-8")
    assert read_project(tmp_path).declared is None
    (tmp_path / "setup.cfg").write_text("[options]\npython_requires = three\n", encoding="utf-8")
    with pytest.raises(DepwatchError, match="not a valid version specifier") as bad:
        read_project(tmp_path)
    assert bad.value.key == "options.python_requires"
    (tmp_path / "setup.cfg").write_text("no section header\n", encoding="utf-8")
    with pytest.raises(DepwatchError, match=r"not a readable setup\.cfg"):
        read_project(tmp_path)


def test_a_sub_project_without_project_table_takes_the_enclosing_declaration(
    tmp_path: Path,
) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "mono"\nversion = "1"\nrequires-python = ">=3.11"\n', encoding="utf-8"
    )
    sub = tmp_path / "services" / "api"
    sub.mkdir(parents=True)
    (sub / "pyproject.toml").write_text("[tool.ruff]\nline-length = 100\n", encoding="utf-8")
    files = read_project(sub)
    assert files.declared == ("3.11", "3.12", "3.13", "3.14", "3.15")
    assert files.facts.python_source == "../../pyproject.toml [project] requires-python"
    # a sub-project with its own [project] (and no requires-python) does not borrow
    (sub / "pyproject.toml").write_text('[project]\nname = "api"\nversion = "1"\n', "utf-8")
    assert read_project(sub).declared is None
    # outside a repository nothing above the project is read
    (tmp_path / ".git").rmdir()
    (sub / "pyproject.toml").write_text("[tool.ruff]\n", encoding="utf-8")
    assert read_project(sub).declared is None
