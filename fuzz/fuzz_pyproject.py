"""atheris target: the config reader (pyproject.toml, [tool.depwatch]). See fuzz/README.md."""

from __future__ import annotations

from harness import file_target, main


def _read(path):  # type: ignore[no-untyped-def]
    from depwatch.project import read_project
    from depwatch.settings import parse_settings

    files = read_project(path.parent)
    return parse_settings(files.pyproject, path=path)


TARGET = file_target("pyproject.toml", _read)

if __name__ == "__main__":
    main(TARGET, seeds="**/pyproject.toml")
