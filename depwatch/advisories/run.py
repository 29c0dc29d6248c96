"""Running pip-audit: the processes, their temporary files, the deadline.

:func:`start` spawns pip-audit at once and returns a :class:`PendingAudit`; the caller does its
own work meanwhile and collects an :class:`~depwatch.advisories.results.AdvisoryResult` with
:meth:`PendingAudit.result`. Runs are concurrent processes, audited with ``--no-deps
--disable-pip``, so nothing is ever resolved or installed.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
import weakref
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from depwatch import cachedir
from depwatch.advisories import answers, command
from depwatch.advisories.plan import Pin, auto_jobs, plan, split
from depwatch.advisories.results import USERINFO, AdvisoryResult, clean
from depwatch.model import NotAudited, Package

__all__ = ["PendingAudit", "Run", "audit", "start"]


@dataclass(slots=True)
class Run:
    """One pip-audit process and the files it reads and writes."""

    pins: list[Pin]
    output: Path
    stderr: Path
    process: subprocess.Popen[bytes] | None
    error: str | None = None
    """Why the run could not even start."""


def _kill(runs: Sequence[Run]) -> None:
    for run in runs:
        if run.process is not None and run.process.poll() is None:
            run.process.kill()
            run.process.wait()


def _cleanup(runs: list[Run], folder: str) -> None:
    _kill(runs)
    shutil.rmtree(folder, ignore_errors=True)


class PendingAudit:
    """pip-audit running in the background; :meth:`result` waits for it and reads its answer.

    Use it as a context manager (or call :meth:`close`) so that an abandoned audit kills its
    processes and removes its temporary files; :meth:`result` does that too.
    """

    def __init__(
        self,
        *,
        runs: list[Run],
        folder: str,
        skipped: list[NotAudited],
        service: str,
        where: str,
        timeout: int,
        deadline: float | None,
        total_timeout: float | None = None,
    ) -> None:
        self._runs = runs
        self._skipped = skipped
        self._service = service
        self._where = where
        self._timeout = timeout
        self._deadline = deadline
        self._total = total_timeout
        self._result: AdvisoryResult | None = None
        self._finalizer = weakref.finalize(self, _cleanup, runs, folder)

    def __enter__(self) -> PendingAudit:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop whatever still runs and remove the temporary files."""
        self._finalizer()

    def result(self) -> AdvisoryResult:
        """Wait for every run and merge their answers (the same object on later calls)."""
        if self._result is None:
            try:
                self._result = self._collect()
            finally:
                self.close()
        return self._result

    def _collect(self) -> AdvisoryResult:
        read: list[answers.RunAnswer] = []
        for run in self._runs:
            failure = run.error or self._wait(run)  # first: the return code is known after it
            read.append(
                answers.read_run(
                    run.pins,
                    run.output,
                    run.stderr,
                    run.process.returncode if run.process is not None else None,
                    failure=failure,
                    where=self._where,
                    timeout=self._timeout,
                )
            )
        return answers.merge_answers(read, self._skipped, self._service)

    def _wait(self, run: Run) -> str | None:
        if run.process is None:  # nothing was started: the answer is already on disk
            return None
        remaining = None if self._deadline is None else max(0.0, self._deadline - time.monotonic())
        try:
            run.process.wait(timeout=remaining)
        except subprocess.TimeoutExpired:
            run.process.kill()
            run.process.wait()
            return f"{self._where} did not finish answering within {self._total:g} s"
        return None


def start(
    packages: Iterable[Package],
    *,
    service: str | None = None,
    osv_url: str | None = None,
    timeout: float = command.DEFAULT_TIMEOUT,
    cache_dir: Path | str | None = None,
    total_timeout: float | None = None,
    jobs: int | None = None,
    protect: Sequence[Path | str] = (),
) -> PendingAudit:
    """Start auditing ``packages`` with pip-audit in the background.

    ``service`` is ``pypi`` or ``osv`` (default: ``osv`` when ``osv_url`` is given, else pip-audit's
    default, ``pypi``); ``osv_url`` is pip-audit's ``--osv-url`` (the ``/v1/query`` endpoint).
    ``timeout`` bounds each network operation (whole seconds, rounded up); ``total_timeout``,
    when given, bounds the whole audit from now. ``jobs`` is how many pip-audit runs to split
    the packages over (default: by size and CPU count). A package may come from several
    lockfiles: each (name, version) is audited once. ``cache_dir`` is pip-audit's HTTP cache
    (default: in depwatch's cache folder, unless that is off or inside a folder of ``protect``,
    the audited projects: then a temporary one).

    Raises :class:`DepwatchError` only for bad arguments; everything else ends in the result.
    """
    resolved = command.resolve_service(service, osv_url)
    if osv_url is not None:
        command.check_osv_url(osv_url)
    seconds = max(1, int(-(-timeout // 1)))
    where = (
        command.public_url(osv_url)
        if osv_url
        else ("OSV (api.osv.dev)" if resolved == "osv" else "PyPI")
    )
    pins, skipped = plan(packages)
    deadline = None if total_timeout is None else time.monotonic() + total_timeout
    folder = tempfile.mkdtemp(prefix="depwatch-audit-")
    runs: list[Run] = []
    groups = split(pins, jobs if jobs is not None else auto_jobs(len(pins))) if pins else []
    cache = (
        Path(cache_dir)
        if cache_dir is not None
        else _unless_protected(command.default_cache_dir(), protect)
        or Path(folder, "pip-audit-cache")  # removed with the folder
    )
    env = command.child_env()
    installed = command.pip_audit_installed()
    # Credentials go through the environment, out of the process list (decided once), or
    # nowhere: never on a command line, which every user of the machine can read.
    url_in_env = bool(installed and osv_url and USERINFO.search(osv_url))
    refused = None
    if osv_url and url_in_env and groups:
        if command.takes_osv_url_from_environment(_unless_protected(cachedir.root(), protect)):
            env["PIP_AUDIT_OSV_URL"] = osv_url
        else:
            refused = _NO_SAFE_WAY
    for index, group in enumerate(groups):
        requirements = Path(folder, f"requirements-{index}.txt")
        requirements.write_text("".join(f"{pin.name}=={pin.version}\n" for pin in group), "utf-8")
        run = Run(
            group, Path(folder, f"audit-{index}.json"), Path(folder, f"stderr-{index}.txt"), None
        )
        runs.append(run)
        if not installed:
            run.error = "pip-audit is not installed in depwatch's environment"
            continue
        if refused:
            run.error = refused
            continue
        args = command.command(
            requirements,
            run.output,
            service=resolved,
            timeout=seconds,
            cache=cache,
            osv_url=None if url_in_env else osv_url,
        )
        try:
            with run.stderr.open("wb") as err:
                run.process = subprocess.Popen(
                    args,
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    stderr=err,
                    env=env,
                    cwd=folder,
                )
        except OSError as exc:
            run.error = f"could not start pip-audit: {clean(str(exc))}"
    return PendingAudit(
        runs=runs,
        folder=folder,
        skipped=skipped,
        service=resolved,
        where=where,
        timeout=seconds,
        deadline=deadline,
        total_timeout=total_timeout,
    )


_NO_SAFE_WAY = (
    "the installed pip-audit takes an OSV URL with credentials only on its command line, "
    "which every user of this machine can read: upgrade pip-audit, or give a URL without them"
)


def _unless_protected(folder: Path | None, protect: Sequence[Path | str]) -> Path | None:
    """``folder``, unless it is inside one of the ``protect`` folders (the audited projects)."""
    return folder if folder is not None and cachedir.outside(folder, protect) else None


def audit(
    packages: Iterable[Package],
    *,
    service: str | None = None,
    osv_url: str | None = None,
    timeout: float = command.DEFAULT_TIMEOUT,
    cache_dir: Path | str | None = None,
    total_timeout: float | None = None,
    jobs: int | None = None,
    protect: Sequence[Path | str] = (),
) -> AdvisoryResult:
    """:func:`start` and wait: the audit in one call."""
    with start(
        packages,
        service=service,
        osv_url=osv_url,
        timeout=timeout,
        cache_dir=cache_dir,
        total_timeout=total_timeout,
        jobs=jobs,
        protect=protect,
    ) as pending:
        return pending.result()
