"""atheris target: the uv reader (uv.lock). See fuzz/README.md."""

from __future__ import annotations

from harness import file_target, main


def _read(path):  # type: ignore[no-untyped-def]
    from depwatch.lockfiles import load_reader

    return load_reader("uv").read(path)


TARGET = file_target("uv.lock", _read)

if __name__ == "__main__":
    main(TARGET, seeds="**/uv.lock")
