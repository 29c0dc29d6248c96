"""Peak resident memory of this process's descendants, sampled from Linux ``/proc`` while a
benchmark runs (shared by ``bench_scale.py`` and ``bench_usage.py``)."""

from __future__ import annotations

import os
import threading
from pathlib import Path

#: What a depwatch scan worker's command line holds.
WORKER = b"depwatch.usage.worker"


class Peaks:
    """Samples ``VmHWM`` of every descendant of this process every ``interval`` seconds:
    ``peaks`` maps each pid to its largest (KiB, role), the role ``scan worker`` for a
    depwatch scan worker, else ``check``."""

    def __init__(self, interval: float = 0.005) -> None:
        self.peaks: dict[str, tuple[int, str]] = {}
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def __enter__(self) -> Peaks:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def of(self, role: str) -> list[int]:
        """The peaks (KiB) of the processes of ``role``, largest first."""
        return sorted((kib for kib, each in self.peaks.values() if each == role), reverse=True)

    @staticmethod
    def _children(pid: str) -> list[str]:
        out: list[str] = []
        try:
            tasks = list(Path(f"/proc/{pid}/task").iterdir())
        except OSError:
            return out
        for task in tasks:
            try:
                out.extend((task / "children").read_text().split())
            except OSError:
                continue
        return out

    def _poll(self) -> None:
        while True:
            todo = self._children(str(os.getpid()))
            while todo:
                pid = todo.pop()
                todo.extend(self._children(pid))
                try:
                    status = Path(f"/proc/{pid}/status").read_text()
                    cmd = Path(f"/proc/{pid}/cmdline").read_bytes()
                except OSError:
                    continue
                role = "scan worker" if WORKER in cmd else "check"
                for line in status.splitlines():
                    if line.startswith("VmHWM:"):
                        kib = int(line.split()[1])
                        if kib > self.peaks.get(pid, (0, ""))[0]:
                            self.peaks[pid] = (kib, role)
            if self._stop.wait(self._interval):
                return
