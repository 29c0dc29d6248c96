"""atheris target: the requirements reader (requirements.txt). See fuzz/README.md."""

from __future__ import annotations

from harness import file_target, main


def _read(path):  # type: ignore[no-untyped-def]
    from depwatch.lockfiles import load_reader

    return load_reader("requirements").read(path)


TARGET = file_target("requirements.txt", _read)

if __name__ == "__main__":
    main(TARGET, seeds="requirements/**/*.txt")
