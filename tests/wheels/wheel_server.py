"""A package index on 127.0.0.1 that serves wheels with HTTP range requests (206), for the
wheel tests and the benchmark: PEP 691 JSON project pages listing the files a test adds, and the
files themselves (``Range: bytes=a-b`` and ``bytes=-n``; ``ranges=False`` answers 200 with the
whole file, as a host without range support does).

Run it alone (``python tests/wheels/wheel_server.py FOLDER``) to serve every ``*.whl`` in FOLDER.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import threading
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

JSON_TYPE = "application/vnd.pypi.simple.v1+json"
_RANGE = re.compile(r"bytes=(\d*)-(\d*)\Z")


@dataclass
class WheelFile:
    filename: str
    data: bytes
    yanked: bool | str = False


@dataclass
class WheelIndex:
    ranges: bool = True
    files: dict[str, list[WheelFile]] = field(default_factory=dict)
    """Normalised project name → its files."""
    hits: Counter[str] = field(default_factory=Counter)
    bytes_sent: int = 0

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/simple/"

    def add(self, project: str, filename: str, data: bytes, yanked: bool | str = False) -> None:
        name = re.sub(r"[-_.]+", "-", project).lower()
        self.files.setdefault(name, []).append(WheelFile(filename, data, yanked))

    def add_folder(self, folder: Path) -> None:
        for path in sorted(folder.glob("*.whl")):
            self.add(path.name.split("-", 1)[0], path.name, path.read_bytes())

    def start(self) -> WheelIndex:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def page(self, name: str) -> bytes:
        rows = [
            {
                "filename": f.filename,
                "url": f"/files/{f.filename}",
                "hashes": {"sha256": hashlib.sha256(f.data).hexdigest()},
                "yanked": f.yanked,
                "size": len(f.data),
            }
            for f in self.files[name]
        ]
        return json.dumps({"meta": {"api-version": "1.1"}, "name": name, "files": rows}).encode()

    def file(self, filename: str) -> bytes | None:
        for files in self.files.values():
            for f in files:
                if f.filename == filename:
                    return f.data
        return None


def _handler(server: WheelIndex) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            with server._lock:
                server.bytes_sent += len(body)
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self.wfile.write(body)

        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            with server._lock:
                server.hits[path] += 1
            parts = [p for p in path.split("/") if p]
            if len(parts) == 2 and parts[0] == "simple" and parts[1] in server.files:
                self._send(200, server.page(parts[1]), {"Content-Type": JSON_TYPE})
                return
            if len(parts) == 2 and parts[0] == "files":
                data = server.file(parts[1])
                if data is not None:
                    self._file(data)
                    return
            self._send(404, b"not found", {"Content-Type": "text/plain"})

        def do_HEAD(self) -> None:
            path = self.path.split("?", 1)[0]
            parts = [p for p in path.split("/") if p]
            data = server.file(parts[1]) if len(parts) == 2 and parts[0] == "files" else None
            self.send_response(200 if data is not None else 404)
            if data is not None and server.ranges:
                self.send_header("Accept-Ranges", "bytes")
            self.send_header("Content-Length", str(len(data or b"")))
            self.end_headers()

        def _file(self, data: bytes) -> None:
            asked = self.headers.get("Range")
            found = _RANGE.match(asked or "")
            if not server.ranges or found is None:
                self._send(200, data, {"Content-Type": "application/octet-stream"})
                return
            size = len(data)
            first, last = found[1], found[2]
            if first == "":
                start, end = max(0, size - int(last or 0)), size - 1
            else:
                start, end = int(first), min(int(last) if last else size - 1, size - 1)
            if size == 0 or start > end:
                self._send(416, b"", {"Content-Range": f"bytes */{size}"})
                return
            self._send(
                206,
                data[start : end + 1],
                {
                    "Content-Type": "application/octet-stream",
                    "Content-Range": f"bytes {start}-{end}/{size}",
                },
            )

    return Handler


def main() -> None:
    import argparse
    import sys

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("folder", type=Path)
    args = parser.parse_args()
    server = WheelIndex()
    server.add_folder(args.folder)
    server.start()
    sys.stdout.write(server.url + "\n")
    sys.stdout.flush()
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        server.stop()


if __name__ == "__main__":
    main()
