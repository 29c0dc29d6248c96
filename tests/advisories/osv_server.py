"""A small OSV-compatible HTTP server on 127.0.0.1, for running pip-audit for real in tests.

It serves real OSV records (the PyPA advisory database, as JSON) through the three endpoints of
the OSV API that vulnerability scanners use:

- ``POST /v1/query`` with ``{"package": {"name", "ecosystem": "PyPI"}, "version"}`` answers
  ``{"vulns": [...]}``: every record one of whose ``affected`` entries names the package and
  contains the version, in its explicit ``versions`` list or its ``ECOSYSTEM`` ranges (OSV's
  introduced / fixed / last_affected / limit events, evaluated with ``packaging``); ``{}``
  when none does, as osv.dev answers.
- ``POST /v1/querybatch`` with ``{"queries": [...]}`` answers ``{"results": [{"vulns":
  [{"id", "modified"}]}]}``.
- ``GET /v1/vulns/<id>`` answers the record, or 404.

Withdrawn records are served like any other (a real OSV service does too): dropping them is
the client's job. ``status`` makes every answer an HTTP error and ``delay`` makes every answer
late, to exercise a failing or slow service. ``queries`` records every ``(name, version)``
asked about. Used by the tests and by ``benchmarks/bench_vulns.py``; stdlib and packaging only.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

__all__ = ["OsvServer", "load_records", "serve", "version_affected"]


def load_records(*folders: Path) -> list[dict[str, Any]]:
    """Every ``*.json`` OSV record in the folders, in file-name order."""
    records: list[dict[str, Any]] = []
    for folder in folders:
        for path in sorted(folder.glob("*.json")):
            records.append(json.loads(path.read_text(encoding="utf-8")))
    return records


def _version(text: str) -> Version | None:
    try:
        return Version(text)
    except InvalidVersion:
        return None


def _in_ecosystem_range(version: Version, events: list[dict[str, str]]) -> bool:
    """OSV's range evaluation: walk the events in version order, flipping in and out."""
    ordered: list[tuple[Version, str]] = []
    for event in events:
        for kind, text in event.items():
            parsed = _version(text)
            if parsed is not None:
                ordered.append((parsed, kind))
    ordered.sort(key=lambda item: item[0])
    affected = False
    for boundary, kind in ordered:
        if kind == "introduced" and version >= boundary:
            affected = True
        elif (kind in ("fixed", "limit") and version >= boundary) or (
            kind == "last_affected" and version > boundary
        ):
            affected = False
    return affected


def version_affected(record: dict[str, Any], name: str, version: str) -> bool:
    """Whether the record affects the PyPI package ``name`` at ``version``."""
    wanted = canonicalize_name(name)
    parsed = _version(version)
    for affected in record.get("affected", []):
        package = affected.get("package", {})
        if package.get("ecosystem") != "PyPI":
            continue
        if canonicalize_name(package.get("name", "")) != wanted:
            continue
        listed = affected.get("versions", [])
        if version in listed:
            return True
        if parsed is not None and any(_version(v) == parsed for v in listed):
            return True
        if parsed is None:
            continue
        for ranges in affected.get("ranges", []):
            if ranges.get("type") == "ECOSYSTEM" and _in_ecosystem_range(
                parsed, ranges.get("events", [])
            ):
                return True
    return False


class OsvServer:
    """The records, the knobs and the bookkeeping of one running server."""

    def __init__(self, records: Iterable[dict[str, Any]]) -> None:
        self.records: dict[str, dict[str, Any]] = {}
        self.by_package: dict[str, list[dict[str, Any]]] = {}
        for record in records:
            self.records[record["id"]] = record
            names = {
                canonicalize_name(a["package"]["name"])
                for a in record.get("affected", [])
                if a.get("package", {}).get("ecosystem") == "PyPI"
            }
            for name in names:
                self.by_package.setdefault(name, []).append(record)
        self.status: int | None = None
        """When set, every request is answered with this HTTP status and no data."""
        self.delay: float = 0.0
        """Seconds to wait before answering each request."""
        self.queries: list[tuple[str, str]] = []
        self._lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- the API ----------------------------------------------------------------------------

    def query(self, name: str, version: str) -> list[dict[str, Any]]:
        with self._lock:
            self.queries.append((canonicalize_name(name), version))
        return [
            record
            for record in self.by_package.get(canonicalize_name(name), [])
            if version_affected(record, name, version)
        ]

    # -- lifecycle --------------------------------------------------------------------------

    @property
    def port(self) -> int:
        assert self._httpd is not None
        return int(self._httpd.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def query_url(self) -> str:
        """What pip-audit's ``--osv-url`` takes."""
        return f"{self.base_url}/v1/query"

    def start(self) -> OsvServer:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out in two writes: without this, Nagle's algorithm and the
            # client's delayed ACK add 40 ms to every answer on a kept-alive connection.
            disable_nagle_algorithm = True

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _send(self, status: int, payload: Any) -> None:
                body = json.dumps(payload).encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _body(self) -> Any:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                return json.loads(raw or b"{}")

            def _fail_or_wait(self) -> bool:
                if server.delay:
                    time.sleep(server.delay)
                if server.status is not None:
                    self._send(server.status, {"code": server.status, "message": "test failure"})
                    return True
                return False

            def do_POST(self) -> None:
                try:
                    body = self._body()
                except ValueError:
                    self._send(400, {"code": 3, "message": "invalid JSON"})
                    return
                if self._fail_or_wait():
                    return
                if self.path == "/v1/query":
                    package = body.get("package", {})
                    vulns = server.query(package.get("name", ""), body.get("version", ""))
                    self._send(200, {"vulns": vulns} if vulns else {})
                elif self.path == "/v1/querybatch":
                    results = []
                    for query in body.get("queries", []):
                        package = query.get("package", {})
                        vulns = server.query(package.get("name", ""), query.get("version", ""))
                        results.append(
                            {"vulns": [{"id": v["id"], "modified": v["modified"]} for v in vulns]}
                            if vulns
                            else {}
                        )
                    self._send(200, {"results": results})
                else:
                    self._send(404, {"code": 5, "message": "Not Found"})

            def do_GET(self) -> None:
                if self._fail_or_wait():
                    return
                prefix = "/v1/vulns/"
                record = None
                if self.path.startswith(prefix):
                    record = server.records.get(self.path[len(prefix) :])
                if record is None:
                    self._send(404, {"code": 5, "message": "Bug not found."})
                else:
                    self._send(200, record)

        httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        httpd.daemon_threads = True
        self._httpd = httpd
        self._thread = threading.Thread(
            target=httpd.serve_forever, args=(0.05,), name="osv-server", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)


@contextmanager
def serve(records: Iterable[dict[str, Any]]) -> Iterator[OsvServer]:
    """A running server for the duration of the block."""
    server = OsvServer(records).start()
    try:
        yield server
    finally:
        server.stop()
