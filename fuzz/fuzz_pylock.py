"""atheris target: the pylock reader (pylock.toml). See fuzz/README.md."""

from __future__ import annotations

from harness import file_target, main


def _read(path):  # type: ignore[no-untyped-def]
    from depwatch.lockfiles import load_reader

    return load_reader("pylock").read(path)


TARGET = file_target("pylock.toml", _read)

if __name__ == "__main__":
    main(TARGET, seeds="**/pylock*.toml")
