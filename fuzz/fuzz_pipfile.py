"""atheris target: the pipfile reader (Pipfile.lock). See fuzz/README.md."""

from __future__ import annotations

from harness import file_target, main


def _read(path):  # type: ignore[no-untyped-def]
    from depwatch.lockfiles import load_reader

    return load_reader("pipfile").read(path)


TARGET = file_target("Pipfile.lock", _read)

if __name__ == "__main__":
    main(TARGET, seeds="**/Pipfile.lock")
