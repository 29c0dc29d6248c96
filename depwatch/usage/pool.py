"""Scanning a list of files: in worker processes (fresh interpreters running
:mod:`depwatch.usage.worker`) when there is enough source to pay for starting them, else here.

A worker that cannot start or dies costs speed, never findings: the files are scanned in this
process instead."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import threading
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from depwatch.usage import worker
from depwatch.usage.wire import receive, send
from depwatch.usage.worker import Scanned

if TYPE_CHECKING:
    from depwatch.usage.files import SourceFile

__all__ = ["POOL_MIN_BYTES", "POOL_MIN_FILES", "Init", "Pool"]

POOL_MIN_BYTES = 3_000_000
"""Below this much source to parse, scanning in-process beats starting workers."""
POOL_MIN_FILES = 40

Init = tuple[tuple[str, ...], tuple[str, ...], frozenset[str], tuple[str, ...]]
"""What a worker is set up with: tracked modules, environment variables, the project's own
modules, and the module-level names whose assignment is reported (:func:`worker.init`)."""


class Pool:
    """How files are scanned: ``jobs`` worker processes (None: one per CPU, at most 8) once
    there are ``min_bytes`` of source in ``min_files`` files, else in this process. ``boot``
    is a worker's ``python -c`` program (``{path}``: this process's ``sys.path``).

    Workers, once started, serve every later :meth:`scan` until :meth:`close` (the second
    pass's rounds are often small, and a worker's start costs more than a small batch): the
    owner of a pool closes it (:func:`~depwatch.usage.scanrun.scan_project` does).
    """

    def __init__(
        self,
        jobs: int | None = None,
        *,
        min_bytes: int = POOL_MIN_BYTES,
        min_files: int = POOL_MIN_FILES,
        boot: str = worker.BOOT,
    ) -> None:
        self.jobs = jobs
        self.min_bytes = min_bytes
        self.min_files = min_files
        self.boot = boot
        self.pooled: list[int] = []
        """How many files each batch the workers scanned held (none: all scanned here)."""
        self._workers: _Workers | None = None
        self._failed = False
        self._owner: dict[str, int] = {}
        """Relative path → the worker whose first pass of it held something back."""
        self._kept: worker.Kept = {}
        """What first passes in this process held back."""

    def scan(
        self,
        files: Sequence[SourceFile],
        exports: Mapping[str, Mapping[str, str]] | None,
        init: Init,
    ) -> list[Scanned]:
        """Each file scanned (:data:`~depwatch.usage.worker.Scanned`: its facts and outline
        packed, and whether it was parsed), in no set order
        (``exports`` given: the second pass, no prefilter)."""
        if not files:
            return []
        total = sum(f.size for f in files)
        workers = self.jobs if self.jobs is not None else min(os.cpu_count() or 1, 8)
        compact: list[Scanned] | None = None
        running = self._workers
        if running is not None and running.init != init:
            self.close()
            running = None
        if (
            running is None
            and not self._failed
            and workers > 1
            and total >= self.min_bytes
            and len(files) >= self.min_files
        ):
            try:
                running = self._workers = _Workers(workers, init, self.boot)
            except Exception:  # no way to start workers: scan here instead
                self._failed = True
        if running is not None:
            try:
                compact = running.scan(files, exports, total, self._owner)
            except Exception:  # a worker died: scan here instead (and from now on)
                self.close()
                self._failed = True
                compact = None
            else:
                self.pooled.append(len(files))
        if compact is None:
            worker.init(*init)
            compact = worker.scan_chunk([(f.rel, f.path) for f in files], exports)
            if exports is None:
                for f in files:
                    self._owner.pop(f.rel, None)
                self._kept.update(worker.take_held())
        return compact

    def held(self, rels: Sequence[str]) -> dict[str, bytes]:
        """What the first pass of each of ``rels`` held back, packed
        (:data:`~depwatch.usage.wire.Symbolic`), from the process that scanned it; a file
        whose process no longer has it (a worker died) is left out."""
        out: dict[str, bytes] = {}
        groups: dict[int, list[str]] = {}
        for rel in rels:
            groups.setdefault(self._owner.get(rel, -1), []).append(rel)
        here = groups.pop(-1, None)
        if here:
            out.update((rel, data) for rel, data in worker.held(here, self._kept) if data)
        running = self._workers
        if running is None or not groups:
            return out
        try:
            # every worker asked first, then each answer read: they place at the same time
            for at, group in groups.items():
                running.ask_held(at, group)
            for at in groups:
                out.update((rel, data) for rel, data in running.answer(at) if data)
        except Exception:  # a worker died: its files are scanned again (here, from now on)
            self.close()
            self._failed = True
        return out

    def close(self) -> None:
        """End the workers (a later :meth:`scan` starts new ones when it pays), and forget
        what first passes held back."""
        self._owner.clear()
        self._kept = {}
        running, self._workers = self._workers, None
        if running is not None:
            running.close()


def _chunks(files: Sequence[SourceFile], total: int, workers: int) -> list[list[tuple[str, str]]]:
    """``files`` in batches, largest files first, each batch about a quarter of what is left
    per worker (and no smaller than a 64th of the whole per worker): the first batches are
    large (few round trips), the last small, so the workers finish close together instead of
    one scanning a twelfth of the project while the others wait."""
    ordered = sorted(files, key=lambda f: -f.size)
    floor = max(total // (workers * 64), 1)
    chunks: list[list[tuple[str, str]]] = []
    current: list[tuple[str, str]] = []
    size = 0
    left = total
    target = max(left // (workers * 4), floor)
    for f in ordered:
        current.append((f.rel, f.path))
        size += f.size
        if size >= target:
            chunks.append(current)
            left -= size
            current, size = [], 0
            target = max(left // (workers * 4), floor)
    if current:
        chunks.append(current)
    return chunks


class _Workers:
    """Worker processes, set up with ``init``, serving batches until closed. They are fresh
    interpreters running :mod:`depwatch.usage.worker` only (not multiprocessing, whose
    workers also load its machinery, the pickler and the caller's ``__main__``): each holds
    what scanning needs and nothing of the caller's state. They are our own children."""

    def __init__(self, count: int, init: Init, boot: str) -> None:
        if not sys.executable:
            raise RuntimeError("no Python executable to start workers with")
        self.init = init
        argv = [sys.executable, "-c", boot.format(path=list(sys.path))]
        self.procs: list[subprocess.Popen[bytes]] = []
        #: Which workers were sent ``init`` (by the first batch's threads: a large project's
        #: module set may not fit a pipe's buffer, and the workers start meanwhile).
        self.ready: list[bool] = []
        try:
            for _ in range(count):
                # A worker that fails is replaced by the in-process scan; its own traceback
                # would only alarm the user, so its stderr goes nowhere.
                self.procs.append(
                    subprocess.Popen(
                        argv,
                        stdin=subprocess.PIPE,
                        stdout=subprocess.PIPE,
                        stderr=subprocess.DEVNULL,
                    )
                )
                self.ready.append(False)
        except BaseException:
            self.close()
            raise

    def scan(
        self,
        files: Sequence[SourceFile],
        exports: Mapping[str, Mapping[str, str]] | None,
        total: int,
        owner: dict[str, int],
    ) -> list[Scanned]:
        """Scan ``files`` in chunks, each worker taking the next chunk when it is free (a
        first pass: ``owner`` records which worker scanned each file)."""
        chunks = _chunks(files, total, len(self.procs))
        results: list[list[Scanned] | None] = [None] * len(chunks)
        pending = iter(enumerate(chunks))
        lock = threading.Lock()
        errors: list[BaseException] = []

        def drive(at: int) -> None:
            proc = self.procs[at]
            assert proc.stdin is not None
            assert proc.stdout is not None
            try:
                if not self.ready[at]:
                    send(proc.stdin, self.init)
                    self.ready[at] = True
                while not errors:
                    with lock:
                        item = next(pending, None)
                    if item is None:
                        return
                    index, chunk = item
                    send(proc.stdin, (chunk, exports))
                    results[index] = receive(proc.stdout)
                    if exports is None:
                        for rel, _ in chunk:
                            owner[rel] = at
            except BaseException as exc:  # a worker died: the caller scans in-process
                errors.append(exc)

        threads = [
            threading.Thread(target=drive, args=(at,), daemon=True)
            for at in range(min(len(self.procs), len(chunks)))
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if errors:
            raise errors[0]
        out: list[Scanned] = []
        for part in results:
            if part is None:
                raise RuntimeError("a chunk was not scanned")
            out.extend(part)
        return out

    def ask_held(self, at: int, rels: list[str]) -> None:
        """Ask worker ``at`` what its first passes of ``rels`` held back (:func:`worker.held`;
        :meth:`answer` reads it)."""
        proc = self.procs[at]
        assert proc.stdin is not None
        send(proc.stdin, (None, rels))

    def answer(self, at: int) -> list[tuple[str, bytes | None]]:
        proc = self.procs[at]
        assert proc.stdout is not None
        found: list[tuple[str, bytes | None]] = receive(proc.stdout)
        return found

    def close(self) -> None:
        for proc in self.procs:
            for stream in (proc.stdin, proc.stdout):
                if stream is not None:
                    with contextlib.suppress(OSError):
                        stream.close()
        for proc in self.procs:
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
