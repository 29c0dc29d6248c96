"""atheris target: the baseline reader (--baseline FILE). See fuzz/README.md."""

from __future__ import annotations

from harness import file_target, main


def _read(path):  # type: ignore[no-untyped-def]
    from depwatch.policy import read_baseline

    return read_baseline(path)


TARGET = file_target("baseline.json", _read)

if __name__ == "__main__":
    main(TARGET)
