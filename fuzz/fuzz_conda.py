"""atheris target: the conda reader (conda-lock.yml). See fuzz/README.md."""

from __future__ import annotations

from harness import file_target, main


def _read(path):  # type: ignore[no-untyped-def]
    from depwatch.lockfiles import load_reader

    return load_reader("conda").read(path)


TARGET = file_target("conda-lock.yml", _read)

if __name__ == "__main__":
    main(TARGET, seeds="**/conda-lock.yml")
