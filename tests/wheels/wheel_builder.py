"""Real wheels (PEP 427: a zip with METADATA, WHEEL and a RECORD of sha256 digests) of small
fixture packages, built by the tests at the versions they need."""

from __future__ import annotations

import base64
import hashlib
import io
import textwrap
import zipfile


def _digest(data: bytes) -> str:
    raw = hashlib.sha256(data).digest()
    return "sha256=" + base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def build_wheel(name: str, version: str, files: dict[str, str | bytes]) -> tuple[str, bytes]:
    """(file name, bytes) of a pure wheel holding ``files`` (archive path → source)."""
    stem = name.replace("-", "_")
    info = f"{stem}-{version}.dist-info"
    members: dict[str, bytes] = {}
    for path, text in files.items():
        data = text if isinstance(text, bytes) else textwrap.dedent(text).encode()
        members[path] = data
    members[f"{info}/METADATA"] = (
        f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n".encode()
    )
    members[f"{info}/WHEEL"] = (
        b"Wheel-Version: 1.0\nGenerator: depwatch-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    )
    tops = sorted({p.split("/")[0].removesuffix(".py") for p in files})
    members[f"{info}/top_level.txt"] = ("\n".join(tops) + "\n").encode()
    record = "".join(f"{p},{_digest(d)},{len(d)}\n" for p, d in members.items())
    record += f"{info}/RECORD,,\n"
    members[f"{info}/RECORD"] = record.encode()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for path, data in members.items():
            zf.writestr(path, data)
    return f"{stem}-{version}-py3-none-any.whl", out.getvalue()
