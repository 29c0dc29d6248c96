"""Reading a wheel's API with griffe: in this process or in up to two worker processes, a few
wheels' sources in memory at once."""

from __future__ import annotations

import os
import threading
from typing import TYPE_CHECKING, Any

from depwatch.wheels.cache import Api

if TYPE_CHECKING:
    from depwatch.wheels.remote import WheelSources


_READING = threading.BoundedSemaphore(4)
"""Wheels being read (their sources held in memory) at once; griffe itself runs one at a time."""


_POOL_MIN_BYTES = 64_000
"""Sources smaller than this are read in this process (starting a worker costs more)."""


class _Extractor:
    """griffe runs in up to two worker processes (it is CPU-bound: threads gain nothing), so a
    cold run uses both cores of a small machine, and griffe's memory is given back with them.
    Workers are started only when a large package needs reading; small ones, a machine with
    one core, or a pool that broke are read in this process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pool: Any = None
        self._broken = False

    def extract(self, sources: WheelSources) -> Api:
        from depwatch.wheels.api import extract_api, extract_api_from

        size = sum(len(data) for data in sources.files.values())
        pool = self._get() if size >= _POOL_MIN_BYTES else None
        if pool is None:
            return extract_api(sources)
        from concurrent.futures.process import BrokenProcessPool

        try:
            future = pool.submit(
                extract_api_from, sources.files, sources.top_level, sources.compiled
            )
            return future.result()  # type: ignore[no-any-return]
        except BrokenProcessPool:
            with self._lock:
                self._broken = True
            return extract_api(sources)

    def _get(self) -> Any:
        with self._lock:
            if self._broken or (os.cpu_count() or 1) < 2:
                return None
            if self._pool is None:
                import multiprocessing
                from concurrent.futures import ProcessPoolExecutor

                # spawn: this process runs threads, and a fork would copy their locks
                self._pool = ProcessPoolExecutor(
                    max_workers=2, mp_context=multiprocessing.get_context("spawn")
                )
            return self._pool

    def close(self) -> None:
        with self._lock:
            if self._pool is not None:
                self._pool.shutdown(wait=True, cancel_futures=True)
                self._pool = None


_EXTRACTOR = _Extractor()
