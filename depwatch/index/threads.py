"""Calls to a package index on threads: as many as the index's distance asks for.

Against a nearby index a few threads keep up, and more only fight over the interpreter (and
open more connections); a distant one is waited on, and then every thread the session allows
keeps a request in flight."""

from __future__ import annotations

import collections
import threading
import time
from collections.abc import Callable, Sequence
from typing import TypeVar, cast

__all__ = ["run_all"]

#: Threads :func:`run_all` starts with, and how long the quickest of the last ``FIRST_THREADS``
#: calls may take before it starts all it may (an index whose every answer takes longer is far
#: away: latency, not CPU, bounds the run).
FIRST_THREADS = 8
SLOW_CALL = 0.02

_K = TypeVar("_K")
_R = TypeVar("_R")


def run_all(work: Callable[[_K], _R], keys: Sequence[_K], most: int) -> list[_R]:
    """``work`` over ``keys`` on up to ``most`` threads, the results in the order of ``keys``;
    the first exception (in that order) is raised once all are done.

    It starts :data:`FIRST_THREADS` threads, and once the quickest of the last
    :data:`FIRST_THREADS` calls took longer than :data:`SLOW_CALL`, as many more as ``most``
    allows: after a distant index's first round trip ``most`` requests are in flight. The
    quickest call, not each call, decides: while the main thread holds the interpreter a call
    to a nearby index can wait tens of milliseconds for it, but not every call does."""
    if len(keys) <= 1:
        return [work(k) for k in keys]
    limit = min(most, len(keys))
    results: list[_R | None] = [None] * len(keys)
    failed: dict[int, BaseException] = {}
    taken = 0  # keys handed to a thread
    threads: list[threading.Thread] = []
    lock = threading.Lock()
    recent: collections.deque[float] = collections.deque(maxlen=FIRST_THREADS)

    def start() -> None:  # with the lock held
        thread = threading.Thread(target=run, name="depwatch-index", daemon=True)
        threads.append(thread)
        thread.start()

    def run() -> None:
        nonlocal taken
        while True:
            with lock:
                at = taken
                taken += 1
            if at >= len(keys):
                return
            began = time.monotonic()
            try:
                results[at] = work(keys[at])
            except BaseException as exc:  # raised by the caller, as pool.map would
                failed[at] = exc
            took = time.monotonic() - began
            with lock:
                recent.append(took)
                if len(recent) == recent.maxlen and min(recent) > SLOW_CALL:
                    for _ in range(min(limit - len(threads), len(keys) - taken)):
                        start()

    with lock:
        for _ in range(min(FIRST_THREADS, limit)):
            start()
    joined = 0
    while True:
        with lock:  # a thread is added before the one that adds it ends
            if joined == len(threads):
                break
            thread = threads[joined]
        thread.join()
        joined += 1
    if failed:
        raise failed[min(failed)]
    return cast("list[_R]", results)  # every slot is filled when none failed
