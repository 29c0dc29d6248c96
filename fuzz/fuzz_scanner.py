"""atheris target: the source scanner (a .py file's bytes, as a worker reads them; and the
same bytes as a notebook). See fuzz/README.md."""

from __future__ import annotations

from harness import main


def _target():  # type: ignore[no-untyped-def]
    from depwatch.usage.scan import decode_source, scan_source

    def target(data: bytes) -> None:
        for name in ("m.py", "nb.ipynb"):
            text, _ = decode_source(data, name)
            scan_source(text, name, ["os", "json", "yaml"], ["HOME"])  # never raises

    return target


TARGET = _target()

if __name__ == "__main__":
    main(TARGET)
