"""A small package index on 127.0.0.1 for the tests: PEP 691 JSON and PEP 503 HTML project
pages for projects the suite defines, with the behaviours an index shows in the wild (ETag
revalidation, a 429 before the answer, a 404, a slow answer, HTML only) and hostile ones
(broken JSON, HTML served as JSON, a 50 MB page, redirect loops, another project's page).

Run it alone (``python tests/index/server.py [--latency MS] [--from-lock uv.lock]``) for the
benchmark or by hand; it prints its URL.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import html
import json
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

JSON_TYPE = "application/vnd.pypi.simple.v1+json"


@dataclass
class Release:
    version: str
    requires_python: str | None = None
    yanked: bool | str = False
    upload_time: str = "2025-01-01T00:00:00.000000Z"
    wheel: bool = True
    sdist: bool = True


@dataclass
class Project:
    """A project page; ``mode`` picks a behaviour: ``normal``, ``html-only``, ``429-once``,
    ``404``, ``slow``, ``broken-json``, ``html-as-json``, ``huge``, ``redirect-loop``,
    ``other-project``, ``500``, ``401`` (needs the server's credentials), ``gzip`` (compressed
    when the client accepts it), ``gzip-bomb`` (50 MB of JSON-to-be in 50 kB on the wire)."""

    name: str
    releases: list[Release] = field(default_factory=list)
    mode: str = "normal"
    slow_seconds: float = 3.0


class _Server(ThreadingHTTPServer):
    """Threads per connection, with a listen backlog as a real index's front has one:
    socketserver's default of 5 drops the SYNs of a client opening its 50 pooled connections
    at once, and each dropped one waits out a 1 s retransmission."""

    request_queue_size = 1024
    daemon_threads = True


class IndexServer:
    def __init__(self, *, latency: float = 0.0, auth: tuple[str, str] | None = None) -> None:
        self.projects: dict[str, Project] = {}
        self.files: dict[str, bytes] = {}
        """Path under /files/ → bytes served there (wheels a test builds)."""
        self.hits: Counter[str] = Counter()
        self.not_modified: Counter[str] = Counter()
        self.latency = latency
        self.auth = auth
        self.seen_auth: list[str | None] = []
        self.seen_encodings: list[str | None] = []
        self._lock = threading.Lock()
        self._httpd = _Server(("127.0.0.1", 0), _handler(self))
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/simple/"

    def add(self, project: Project, *, real: bool = False) -> Project:
        """Serve ``project``; ``real`` builds a real (empty) wheel for each release, so that
        a resolver (uv) can lock against this index."""
        self.projects[project.name] = project
        if real:
            for rel in project.releases:
                rel.sdist = False
                filename, body = build_wheel(project.name, rel.version, rel.requires_python)
                self.files[filename] = body
        return project

    def start(self) -> IndexServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    # -- pages ---------------------------------------------------------------------------

    def _file_rows(self, project: Project) -> list[dict[str, Any]]:
        stem = project.name.replace("-", "_")
        rows = []
        for rel in project.releases:
            names = []
            if rel.wheel:
                names.append(f"{stem}-{rel.version}-py3-none-any.whl")
            if rel.sdist:
                names.append(f"{stem}-{rel.version}.tar.gz")
            for filename in names:
                digest = hashlib.sha256(self.files.get(filename, filename.encode())).hexdigest()
                row: dict[str, Any] = {
                    "filename": filename,
                    "url": f"/files/{filename}",
                    "hashes": {"sha256": digest},
                    "upload-time": rel.upload_time,
                    "yanked": rel.yanked,
                    "size": 1000,
                    "core-metadata": False,
                }
                if rel.requires_python is not None:
                    row["requires-python"] = rel.requires_python
                rows.append(row)
        return rows

    def json_page(self, project: Project) -> bytes:
        page = {
            "meta": {"api-version": "1.1"},
            "name": project.name,
            "files": self._file_rows(project),
            "versions": [r.version for r in project.releases],
        }
        return json.dumps(page).encode()

    def html_page(self, project: Project) -> bytes:
        lines = ["<!DOCTYPE html><html><head><title>Links for", html.escape(project.name)]
        lines.append("</title></head><body>")
        for row in self._file_rows(project):
            attrs = f'href="{html.escape(row["url"])}#sha256={row["hashes"]["sha256"]}"'
            if "requires-python" in row:
                attrs += f' data-requires-python="{html.escape(row["requires-python"])}"'
            if row["yanked"] is not False:
                reason = row["yanked"] if isinstance(row["yanked"], str) else ""
                attrs += f' data-yanked="{html.escape(reason)}"'
            lines.append(f"<a {attrs}>{html.escape(row['filename'])}</a><br/>")
        lines.append("</body></html>")
        return "\n".join(lines).encode()


def build_wheel(name: str, version: str, requires_python: str | None) -> tuple[str, bytes]:
    """A real, installable wheel with no code: its file name and bytes."""
    import base64 as b64
    import io
    import zipfile

    stem = name.replace("-", "_")
    dist_info = f"{stem}-{version}.dist-info"
    metadata = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
    if requires_python:
        metadata += f"Requires-Python: {requires_python}\n"
    files = {
        f"{dist_info}/METADATA": metadata.encode(),
        f"{dist_info}/WHEEL": b"Wheel-Version: 1.0\nGenerator: depwatch-tests\n"
        b"Root-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = []
    for path, data in files.items():
        digest = b64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{path},sha256={digest},{len(data)}")
    record.append(f"{dist_info}/RECORD,,")
    files[f"{dist_info}/RECORD"] = ("\n".join(record) + "\n").encode()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        for path, data in files.items():
            zf.writestr(path, data)
    return f"{stem}-{version}-py3-none-any.whl", out.getvalue()


def _handler(server: IndexServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body go out as two writes

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _send(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None):
            self.send_response(status)
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if body:
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.wfile.write(body)

        def do_GET(self) -> None:
            if server.latency:
                time.sleep(server.latency)
            path = self.path.split("?", 1)[0]
            with server._lock:
                server.hits[path] += 1
                count = server.hits[path]
                server.seen_auth.append(self.headers.get("Authorization"))
                server.seen_encodings.append(self.headers.get("Accept-Encoding"))
            if path.startswith("/files/"):
                body = server.files.get(path[len("/files/") :])
                if body is None:
                    self._send(404)
                else:
                    self._send(200, body, {"Content-Type": "application/octet-stream"})
                return
            parts = [p for p in path.split("/") if p]
            if (
                len(parts) != 2
                or parts[0] not in ("simple", "loop")
                or parts[1] not in server.projects
            ):
                self._send(404, b"not found", {"Content-Type": "text/plain"})
                return
            project = server.projects[parts[1]]
            if server.auth is not None:
                token = base64.b64encode(":".join(server.auth).encode()).decode()
                if self.headers.get("Authorization") != f"Basic {token}":
                    self._send(401, b"", {"WWW-Authenticate": 'Basic realm="index"'})
                    return
            mode = project.mode
            if mode == "404":
                self._send(404, b"not found", {"Content-Type": "text/plain"})
                return
            if mode == "500":
                self._send(503, b"down", {"Content-Type": "text/plain", "Retry-After": "0"})
                return
            if mode == "429-once" and count == 1:
                self._send(429, b"slow down", {"Retry-After": "0"})
                return
            if mode == "slow":
                time.sleep(project.slow_seconds)
            if mode == "redirect-loop":
                target = (
                    f"/loop/{project.name}/" if parts[0] == "simple" else f"/simple/{project.name}/"
                )
                self._send(302, b"", {"Location": f"http://127.0.0.1:{server.port}{target}"})
                return
            if mode == "huge":
                self._send_huge()
                return
            if mode == "gzip-bomb":
                import gzip

                bomb = gzip.compress(b" " * (50 * 1024 * 1024), compresslevel=9)
                self._send(200, bomb, {"Content-Type": JSON_TYPE, "Content-Encoding": "gzip"})
                return
            if mode == "trickle":
                self._send_trickle(project.slow_seconds)
                return
            wants_json = JSON_TYPE in self.headers.get("Accept", "") and mode != "html-only"
            if mode == "broken-json":
                body, kind = b'{"meta": {"api-version": "1.1"}, "name": ', JSON_TYPE
            elif mode == "html-as-json":
                body, kind = server.html_page(project), JSON_TYPE
            elif mode == "other-project":
                other = Project("someone-else", project.releases)
                body, kind = server.json_page(other), JSON_TYPE
            elif wants_json:
                body, kind = server.json_page(project), JSON_TYPE
            else:
                body, kind = server.html_page(project), "text/html; charset=utf-8"
            etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
            if self.headers.get("If-None-Match") == etag:
                with server._lock:
                    server.not_modified[path] += 1
                self._send(304, b"", {"ETag": etag})
                return
            headers = {"Content-Type": kind, "ETag": etag}
            if mode == "gzip" and "gzip" in self.headers.get("Accept-Encoding", ""):
                import gzip

                body = gzip.compress(body)
                headers["Content-Encoding"] = "gzip"
            self._send(200, body, headers)

        def do_HEAD(self) -> None:
            path = self.path.split("?", 1)[0]
            body = server.files.get(path[len("/files/") :]) if path.startswith("/files/") else None
            self.send_response(200 if body is not None else 404)
            self.send_header("Content-Length", str(len(body or b"")))
            self.end_headers()

        def _send_trickle(self, seconds: float) -> None:
            """A JSON page one byte at a time, each within any read timeout."""
            body = server.json_page(Project("x", []))
            self.send_response(200)
            self.send_header("Content-Type", JSON_TYPE)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            try:
                for byte in body:
                    self.wfile.write(bytes([byte]))
                    time.sleep(seconds)
            except (BrokenPipeError, ConnectionResetError):
                pass

        def _send_huge(self) -> None:
            size = 50 * 1024 * 1024
            self.send_response(200)
            self.send_header("Content-Type", JSON_TYPE)
            self.send_header("Content-Length", str(size))
            self.end_headers()
            chunk = b" " * (1024 * 1024)
            try:
                for _ in range(50):
                    self.wfile.write(chunk)
            except (BrokenPipeError, ConnectionResetError):
                pass

    return Handler


def from_lock(server: IndexServer, lock_text: str) -> int:
    """Serve a page for every package of a uv.lock: its locked version and a newer one."""
    import tomllib

    data = tomllib.loads(lock_text)
    count = 0
    for pkg in data.get("package", []):
        if pkg.get("source", {}).get("registry") is None or "version" not in pkg:
            continue
        name, version = pkg["name"], pkg["version"]
        server.add(
            Project(name, [Release(version, ">=3.8"), Release(version + ".post99", ">=3.9")])
        )
        count += 1
    return count


def main() -> None:
    import argparse
    from pathlib import Path

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--latency", type=float, default=0.0, help="milliseconds per answer")
    parser.add_argument("--from-lock", type=Path, help="a uv.lock whose packages to serve")
    args = parser.parse_args()
    server = IndexServer(latency=args.latency / 1000)
    if args.from_lock:
        from_lock(server, args.from_lock.read_text(encoding="utf-8"))
    server.start()
    print(server.url, flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        server.stop()


if __name__ == "__main__":
    main()
