"""Reading a wheel's sources over HTTP: only the .py/.pyi members, and every hostile shape a
wheel can take is refused with a reason (the package is then "not checked")."""

from __future__ import annotations

import io
import random
import zipfile
from pathlib import Path

import pytest
from wheel_builder import build_wheel
from wheel_server import WheelIndex

from depwatch.index import IndexSession
from depwatch.index.cache import PageCache
from depwatch.wheels.api import extract_api
from depwatch.wheels.remote import Limits, WheelError, read_wheel_sources


def _url(index: WheelIndex, filename: str, data: bytes) -> str:
    index.add(filename.split("-", 1)[0], filename, data)
    return index.url.replace("/simple/", f"/files/{filename}")


def _read(index: WheelIndex, tmp_path: Path, data: bytes, limits: Limits | None = None):  # type: ignore[no-untyped-def]
    url = _url(index, f"pkg-1.{len(index.files.get('pkg', []))}-py3-none-any.whl", data)
    with IndexSession(default_index=index.url, cache=PageCache(tmp_path)) as session:
        return read_wheel_sources(session, url, limits)


def _zip(members: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=method) as zf:
        for name, data in members.items():
            zf.writestr(zipfile.ZipInfo(name), data, compress_type=method)
    return out.getvalue()


def test_only_source_members_are_fetched_by_range(wheel_index: WheelIndex, tmp_path: Path) -> None:
    # a big binary member between the tail and the sources is never downloaded
    blob = bytes(range(256)) * 40_000  # 10 MB that does not compress
    data = _zip(
        {
            "pkg/__init__.py": b"from pkg.core import run\n",
            "pkg/core.py": b"def run(x):\n    return x\n",
            "pkg/_native.cpython-311-x86_64-linux-gnu.so": blob,
            "pkg/tests/test_core.py": b"def test():\n    pass\n",
            "pkg-1.0.dist-info/RECORD": b"",
        },
        zipfile.ZIP_STORED,
    )
    sources = read_wheel_sources_from(wheel_index, tmp_path, data)
    assert sorted(sources.files) == ["pkg/__init__.py", "pkg/core.py"]
    assert sources.top_level == ("pkg",)
    assert sources.compiled == ("pkg._native",)
    assert wheel_index.bytes_sent < len(data) // 10
    api = extract_api(sources)
    assert api["objects"]["pkg.run"]["p"] == [["x", 1, 1]]


def read_wheel_sources_from(index: WheelIndex, tmp_path: Path, data: bytes):  # type: ignore[no-untyped-def]
    return _read(index, tmp_path, data)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"this is not a zip archive at all" * 10, "not a zip"),
        (b"", "empty"),
        (_zip({"../outside.py": b"X = 1\n"}), "escapes"),
        (_zip({"/etc/evil.py": b"X = 1\n"}), "escapes"),
        (_zip({"pkg/bomb.py": b"#" * (6 * 1024 * 1024)}), "zip bomb"),
        (_zip({"pkg/huge.py": b"x = 1\n" * (100 * 1024 * 1024 // 6)}), "larger than"),
        (_zip({"pkg/a.py": b"x = 1\n"}, zipfile.ZIP_BZIP2), "compression method"),
    ],
    ids=["not-zip", "empty", "dotdot", "absolute", "bomb", "100MB-py", "bzip2"],
)
def test_hostile_wheels_are_refused_with_a_reason(
    wheel_index: WheelIndex, tmp_path: Path, data: bytes, reason: str
) -> None:
    with pytest.raises(WheelError, match=reason):
        _read(wheel_index, tmp_path, data)


def test_total_source_size_is_capped(wheel_index: WheelIndex, tmp_path: Path) -> None:
    data = _zip({f"pkg/m{i}.py": f"X{i} = 1\n".encode() * 5000 for i in range(20)})
    with pytest.raises(WheelError, match="MiB uncompressed"):
        _read(wheel_index, tmp_path, data, Limits(total=512 * 1024))


def test_a_wheel_larger_than_the_cap_without_ranges_is_refused(tmp_path: Path) -> None:
    server = WheelIndex(ranges=False).start()
    try:
        noise = random.Random(1).randbytes(300_000)  # does not compress
        _, data = build_wheel("pkg", "1.0", {"pkg/__init__.py": "X = 1\n", "pkg/data.bin": noise})
        with pytest.raises(WheelError, match="larger than the cap"):
            _read(server, tmp_path, data, Limits(full_download=64 * 1024))
        sources = _read(server, tmp_path, data)
    finally:
        server.stop()
    assert list(sources.files) == ["pkg/__init__.py"]


def test_a_lying_directory_size_is_caught_while_inflating(
    wheel_index: WheelIndex, tmp_path: Path
) -> None:
    data = bytearray(_zip({"pkg/a.py": b"A = 1\n" * 1000}))
    # the central directory's uncompressed size says 10 bytes; the data inflates to 6000
    at = data.rfind(b"PK\x01\x02")
    data[at + 24 : at + 28] = (10).to_bytes(4, "little")
    with pytest.raises(WheelError, match="size does not match"):
        _read(wheel_index, tmp_path, bytes(data))


def test_source_griffe_cannot_read(wheel_index: WheelIndex, tmp_path: Path) -> None:
    # a module too deeply nested to parse is skipped: it exists, its contents are unknown
    deep = "x = " + "(" * 5000 + "1" + ")" * 5000 + "\n"
    data = _zip({"pkg/__init__.py": b"def ok(a):\n    pass\n", "pkg/deep.py": deep.encode()})
    api = extract_api(_read(wheel_index, tmp_path, data))
    assert api["objects"]["pkg.ok"]["p"] == [["a", 1, 1]]
    assert api["objects"]["pkg.deep"] == {"k": "m", "o": 1}
    # undecodable source: the package is not checked, with griffe's reason
    data = _zip({"pkg/__init__.py": b"\xff\xfe def ok(a):\n"})
    sources = _read(wheel_index, tmp_path, data)
    with pytest.raises(WheelError, match="griffe could not load pkg"):
        extract_api(sources)
