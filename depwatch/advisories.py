"""Known vulnerabilities in the locked packages, from pip-audit: the only module that touches it.

pip-audit's Python API is not public, so this module drives its stable surface instead: the
command line and its JSON output. Every versioned registry package of the lock is written as a
plain ``name==version`` line (no markers: the whole lock is audited, not only what the running
interpreter would install) and audited with ``--no-deps --disable-pip``, so nothing is ever
resolved or installed.

:func:`start` spawns pip-audit at once and returns a :class:`PendingAudit`; the caller does its
own work meanwhile and collects an :class:`AdvisoryResult` with :meth:`PendingAudit.result`.
A name locked at several versions cannot sit twice in one requirements file, so such a lock is
audited in several runs; a large lock is also split so that its queries (one HTTP request per
package, made one after another by pip-audit) run in parallel. Runs are concurrent processes.

Nothing that goes wrong with the service is an exception: a package pip-audit skipped, a run
that failed (service unreachable, timed out, HTTP error), a package outside the registry — each
becomes a :class:`~depwatch.model.NotAudited` with the reason, never a clean result. Only a bad
argument (an ``--osv-url`` that is not http(s), an unknown service) is a
:class:`~depwatch.errors.DepwatchError`.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import weakref
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from packaging.version import Version

from depwatch.errors import DepwatchError
from depwatch.model import Finding, NotAudited, Package, RuleInfo, Tag

if TYPE_CHECKING:
    from typing import Any

# Start-up matters here: pip-audit is started as early as the caller can, and whatever this
# module imports before that delays it. urllib.parse and packaging.utils (which pulls in
# packaging.tags) are left out for that reason.

__all__ = [
    "DEFAULT_TIMEOUT",
    "SERVICES",
    "AdvisoryResult",
    "PendingAudit",
    "Vulnerability",
    "action_text",
    "audit",
    "check_osv_url",
    "default_cache_dir",
    "require_pip_audit",
    "rule_info",
    "start",
    "to_findings",
    "vulnerability_tag",
]

SERVICES = ("pypi", "osv")
"""The vulnerability services ``--vuln-service`` accepts (pip-audit's default first)."""

DEFAULT_TIMEOUT = 15
"""Seconds pip-audit waits on one network operation (pip-audit's own default)."""

OSV_LINK = "https://osv.dev/vulnerability/{id}"

#: pip-audit asks the service about one package after another, so a lock is split over
#: parallel runs (one per CPU, at most ``_MAX_PARALLEL``) once each run keeps at least this
#: many packages: below that, another pip-audit start-up (about 0.3 s of CPU, mostly imports)
#: costs more than the queries it saves on a fast service.
_MIN_PER_RUN = 50
_MAX_PARALLEL = 4

_SEPARATORS = re.compile(r"[-_.]+")
_NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]+")
_OBJECT_REPR = re.compile(r"<[\w.]+ object at 0x[0-9a-fA-F]+>:?\s*")
_USERINFO = re.compile(r"//[^/\s]*@")  # up to the last "@": a password may hold one
_LOG_LINE = re.compile(r"^(DEBUG|INFO|WARNING|ERROR|CRITICAL):[\w.]+:\s?(.*)$")
_EXCEPTION_LINE = re.compile(r"^([A-Za-z_][\w.]*(?:Error|Exception|Timeout))(?::\s*(.*))?$")
_HTTP_STATUS = re.compile(r"\b(\d{3}) (?:Client|Server) Error: (.*?)(?: for url: \S+)?$")
_NOT_ON_SERVICE = (
    "the vulnerability service answered for none of the {n} packages, "
    "all listed as not audited: {reason}"
)

_SOURCE_REASONS = {
    "git": "a git source: advisory services only know released versions on the package index",
    "url": "a direct URL source: advisory services only know released versions on the package index",
    "path": "a local path source: not on the package index, so no advisory service knows it",
    "directory": "a local directory source: not on the package index, so no advisory service knows it",
    "editable": "an editable local source: not on the package index, so no advisory service knows it",
    "virtual": "a virtual project root: not on the package index, so no advisory service knows it",
    "workspace": "a workspace member: not on the package index, so no advisory service knows it",
}


# -- results ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Vulnerability:
    """One advisory that affects one locked package version."""

    id: str
    """The advisory id pip-audit reports (PYSEC and CVE ids are preferred over GHSA)."""
    package: str
    """PEP 503-normalised name."""
    version: str
    """The version text as locked."""
    aliases: tuple[str, ...] = ()
    """Other ids of the same advisory (CVE, GHSA), sorted."""
    fixed_versions: tuple[str, ...] = ()
    """Versions that fix it, lowest first; empty when no fix is known."""
    description: str = ""
    """The advisory's summary (or its details), on one line."""
    link: str = ""

    @property
    def title(self) -> str:
        """The description cut to a short title."""
        return _shorten(self.description, 120) or self.id

    @property
    def fix(self) -> str | None:
        """The smallest fixed version above the locked one, or None when there is none."""
        return _smallest_fix_above(self.version, self.fixed_versions)


@dataclass(frozen=True, slots=True)
class AdvisoryResult:
    """What the audit found, what it could not audit, and what the user should know."""

    vulnerabilities: tuple[Vulnerability, ...] = ()
    not_audited: tuple[NotAudited, ...] = ()
    """Every package (name, locked version) the service did not answer for, with the reason."""
    warnings: tuple[str, ...] = ()
    """One line each, for the report's warnings."""
    audited: int = 0
    """How many distinct (package, version) pairs the service answered for."""
    service: str = "pypi"


# -- arguments -------------------------------------------------------------------------------


def check_osv_url(url: str) -> str:
    """``url`` if it can be pip-audit's ``--osv-url``; a :class:`DepwatchError` if not."""
    from urllib.parse import urlsplit

    hint = "give the service's /v1/query endpoint, e.g. https://api.osv.dev/v1/query"
    shown = _USERINFO.sub("//***@", _CONTROL.sub("?", url))[:200]  # never the password
    if _CONTROL.search(url) or any(c.isspace() for c in url):
        raise DepwatchError(f"--osv-url {shown!r} contains spaces or control characters", hint=hint)
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError as exc:
        raise DepwatchError(f"--osv-url {shown!r} is not a valid URL ({exc})", hint=hint) from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise DepwatchError(f"--osv-url {shown!r} is not an http:// or https:// URL", hint=hint)
    return url


def canonicalize_name(name: str) -> str:
    """The PEP 503 normalised form of a distribution name."""
    return _SEPARATORS.sub("-", name).lower()


def _resolve_service(service: str | None, osv_url: str | None) -> str:
    if service is None:
        return "osv" if osv_url is not None else "pypi"
    if service not in SERVICES:
        raise DepwatchError(
            f"unknown vulnerability service {service!r}", hint=f"use one of: {', '.join(SERVICES)}"
        )
    if osv_url is not None and service != "osv":
        raise DepwatchError(
            f"--osv-url needs the osv service, not {service!r}",
            hint="drop --vuln-service or use --vuln-service osv",
        )
    return service


def _public_url(url: str) -> str:
    """The URL without credentials, for messages."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


def default_cache_dir() -> Path:
    """pip-audit's HTTP cache under depwatch's user cache folder."""
    import platformdirs

    return Path(platformdirs.user_cache_dir("depwatch")) / "pip-audit"


# -- planning --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Pin:
    name: str
    version: Version
    locked: tuple[str, ...]
    """Every locked text of this version (``1.0`` and ``1.0.0`` are one pin)."""


def _plan(
    packages: Iterable[Package],
) -> tuple[list[_Pin], list[NotAudited]]:
    """The pins to send, and the packages that cannot be sent, with why."""
    texts: dict[tuple[str, Version], list[str]] = {}
    skipped: dict[tuple[str, str | None], NotAudited] = {}

    def skip(package: Package, reason: str) -> None:
        skipped.setdefault(
            (package.name, package.version), NotAudited(package.name, package.version, reason)
        )

    for package in packages:
        if package.source != "registry":
            skip(package, _SOURCE_REASONS.get(package.source, f"a {package.source} source"))
            continue
        if package.version is None:
            skip(package, "no version is locked, so no advisory can be matched")
            continue
        if not _NAME.match(package.name):
            skip(package, "not a valid distribution name")
            continue
        version = package.parsed_version
        if version is None:  # not PEP 440, or a number past the digit limit
            skip(package, f"version {package.version!r} is not PEP 440, so no service can match it")
            continue
        key = (canonicalize_name(package.name), version)
        locked = texts.setdefault(key, [])
        if package.version not in locked:
            locked.append(package.version)
    pins = [_Pin(name, version, tuple(locked)) for (name, version), locked in texts.items()]
    pins.sort(key=lambda pin: (pin.name, pin.version))
    # A pin that is also locked from another source is audited: drop it from the skipped.
    sent = {(pin.name, text) for pin in pins for text in pin.locked}
    return pins, [na for key, na in skipped.items() if key not in sent]


def _split(pins: Sequence[_Pin], jobs: int) -> list[list[_Pin]]:
    """Spread the pins over runs: no name twice in one run, sizes as even as can be."""
    by_name: dict[str, list[_Pin]] = {}
    for pin in pins:
        by_name.setdefault(pin.name, []).append(pin)
    count = max([jobs, *(len(group) for group in by_name.values())])
    runs: list[list[_Pin]] = [[] for _ in range(count)]
    for group in sorted(by_name.values(), key=len, reverse=True):
        order = sorted(range(count), key=lambda i: (len(runs[i]), i))
        for pin, index in zip(group, order[: len(group)], strict=True):
            runs[index].append(pin)
    return [run for run in runs if run]


def _auto_jobs(count: int) -> int:
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # macOS and Windows have no sched_getaffinity
        cpus = os.cpu_count() or 1
    return max(1, min(_MAX_PARALLEL, cpus, count // _MIN_PER_RUN))


# -- running ---------------------------------------------------------------------------------


@dataclass(slots=True)
class _Run:
    pins: list[_Pin]
    output: Path
    stderr: Path
    process: subprocess.Popen[bytes] | None
    error: str | None = None
    """Why the run could not even start."""


def _child_env() -> dict[str, str]:
    # The user's PIP_AUDIT_* settings (an output format, ignored ids, another OSV URL) must not
    # change what depwatch reads: everything it needs is on the command line.
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("PIP_AUDIT_")}
    env.update(
        {
            "PYTHONIOENCODING": "utf-8",
            "PYTHONUNBUFFERED": "1",
            "NO_COLOR": "1",
            "PIP_NO_INPUT": "1",
            "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        }
    )
    return env


def _kill(runs: Sequence[_Run]) -> None:
    for run in runs:
        if run.process is not None and run.process.poll() is None:
            run.process.kill()
            run.process.wait()


def _cleanup(runs: list[_Run], folder: str) -> None:
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
        runs: list[_Run],
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
        vulnerabilities: list[Vulnerability] = []
        not_audited: list[NotAudited] = list(self._skipped)
        failures: list[str] = []
        failed = skipped = audited = sent = 0
        first_skip: str | None = None
        for run in self._runs:
            sent += len(run.pins)
            failure = run.error or self._wait(run)
            answer = None if failure else _read_answer(run.output)
            if answer is None:
                failure = failure or _failure_reason(
                    _read_text(run.stderr),
                    run.process.returncode if run.process is not None else None,
                    where=self._where,
                    timeout=self._timeout,
                )
                failures.append(failure)
                failed += len(run.pins)
                not_audited.extend(
                    NotAudited(pin.name, text, failure) for pin in run.pins for text in pin.locked
                )
                continue
            found, missing, count = _merge(run.pins, answer)
            vulnerabilities.extend(found)
            audited += count
            skipped += len(missing)
            for pin, reason in missing:
                first_skip = first_skip or reason
                not_audited.extend(NotAudited(pin.name, text, reason) for text in pin.locked)
        warnings: list[str] = []
        if sent and audited == 0:
            reason = failures[0] if failures else (first_skip or "no answer")
            if self._service == "pypi" and not failures:
                reason += (
                    "; PyPI's per-version JSON API may be blocked here: try --vuln-service osv"
                )
            warnings.append(_NOT_ON_SERVICE.format(n=sent, reason=reason))
        else:
            if failed:
                warnings.append(
                    f"the vulnerability service could not be used for {failed} of {sent} "
                    f"packages ({failures[0]}); they are listed as not audited"
                )
            if skipped:
                warnings.append(
                    f"the vulnerability service skipped {skipped} of {sent} packages "
                    f"({first_skip}); they are listed as not audited"
                )
        vulnerabilities.sort(key=lambda v: (v.package, _sort_version(v.version), v.id))
        not_audited.sort(key=lambda n: (n.package, _sort_version(n.version), n.reason))
        return AdvisoryResult(
            vulnerabilities=tuple(vulnerabilities),
            not_audited=tuple(not_audited),
            warnings=tuple(warnings),
            audited=audited,
            service=self._service,
        )

    def _wait(self, run: _Run) -> str | None:
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
    timeout: float = DEFAULT_TIMEOUT,
    cache_dir: Path | str | None = None,
    total_timeout: float | None = None,
    jobs: int | None = None,
) -> PendingAudit:
    """Start auditing ``packages`` with pip-audit in the background.

    ``service`` is ``pypi`` or ``osv`` (default: ``osv`` when ``osv_url`` is given, else pip-audit's
    default, ``pypi``); ``osv_url`` is pip-audit's ``--osv-url`` (the ``/v1/query`` endpoint).
    ``timeout`` bounds each network operation (whole seconds, rounded up); ``total_timeout``,
    when given, bounds the whole audit from now. ``jobs`` is how many pip-audit runs to split
    the packages over (default: by size and CPU count). A package may come from several
    lockfiles: each (name, version) is audited once.

    Raises :class:`DepwatchError` only for bad arguments; everything else ends in the result.
    """
    resolved = _resolve_service(service, osv_url)
    if osv_url is not None:
        check_osv_url(osv_url)
    seconds = max(1, int(-(-timeout // 1)))
    where = (
        _public_url(osv_url) if osv_url else ("OSV (api.osv.dev)" if resolved == "osv" else "PyPI")
    )
    pins, skipped = _plan(packages)
    deadline = None if total_timeout is None else time.monotonic() + total_timeout
    folder = tempfile.mkdtemp(prefix="depwatch-audit-")
    runs: list[_Run] = []
    groups = _split(pins, jobs if jobs is not None else _auto_jobs(len(pins))) if pins else []
    cache = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    env = _child_env()
    installed = _pip_audit_installed()
    # Credentials go through the environment, out of the process list (decided once).
    url_in_env = bool(osv_url and _USERINFO.search(osv_url) and _takes_osv_url_from_environment())
    if osv_url and url_in_env:
        env["PIP_AUDIT_OSV_URL"] = osv_url
    for index, group in enumerate(groups):
        requirements = Path(folder, f"requirements-{index}.txt")
        requirements.write_text("".join(f"{pin.name}=={pin.version}\n" for pin in group), "utf-8")
        run = _Run(
            group, Path(folder, f"audit-{index}.json"), Path(folder, f"stderr-{index}.txt"), None
        )
        runs.append(run)
        if not installed:
            run.error = "pip-audit is not installed in depwatch's environment"
            continue
        command = [
            sys.executable,
            "-m",
            "pip_audit",
            "--requirement",
            str(requirements),
            "--no-deps",
            "--disable-pip",
            "--format",
            "json",
            "--desc",
            "on",
            "--aliases",
            "on",
            "--progress-spinner",
            "off",
            "--vulnerability-service",
            resolved,
            "--timeout",
            str(seconds),
            "--cache-dir",
            str(cache),
            "--output",
            str(run.output),
        ]
        if osv_url is not None and not url_in_env:
            command += ["--osv-url", osv_url]
        try:
            with run.stderr.open("wb") as err:
                run.process = subprocess.Popen(
                    command,
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    stderr=err,
                    env=env,
                    cwd=folder,
                )
        except OSError as exc:
            run.error = f"could not start pip-audit: {_clean(str(exc))}"
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


def audit(packages: Iterable[Package], **options: Any) -> AdvisoryResult:
    """:func:`start` and wait: the audit in one call."""
    with start(packages, **options) as pending:
        return pending.result()


def _takes_osv_url_from_environment() -> bool:
    """Whether the installed pip-audit reads ``PIP_AUDIT_OSV_URL`` (2.10 does; it is not
    documented, so its own source is checked: were it dropped, the URL would silently fall
    back to the public api.osv.dev, so it is used only when found)."""
    import importlib.util

    try:
        spec = importlib.util.find_spec("pip_audit._cli")
        origin = spec.origin if spec is not None else None
        return origin is not None and "PIP_AUDIT_OSV_URL" in Path(origin).read_text("utf-8")
    except (ImportError, OSError, ValueError):
        return False


#: How to get pip-audit beside depwatch (it is the ``vulns`` extra).
INSTALL_HINT = (
    "install it with: pip install 'depwatch-audit[vulns]' "
    "(pipx install 'depwatch-audit[vulns]', uv tool install 'depwatch-audit[vulns]')"
)


def require_pip_audit() -> None:
    """A :class:`DepwatchError` that says how to install pip-audit when it is missing."""
    if not _pip_audit_installed():
        raise DepwatchError(
            "--vulns needs pip-audit, which is not installed beside depwatch", hint=INSTALL_HINT
        )


def _pip_audit_installed() -> bool:
    import importlib.util

    return importlib.util.find_spec("pip_audit") is not None


# -- reading pip-audit's answer --------------------------------------------------------------


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def _read_answer(path: Path) -> list[dict[str, Any]] | None:
    """pip-audit's ``dependencies`` list, or None when it wrote no usable answer."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    dependencies = data.get("dependencies") if isinstance(data, dict) else None
    if not isinstance(dependencies, list):
        return None
    return [d for d in dependencies if isinstance(d, dict)]


def _merge(
    pins: Sequence[_Pin], answer: Sequence[dict[str, Any]]
) -> tuple[list[Vulnerability], list[tuple[_Pin, str]], int]:
    """The vulnerabilities, the pins skipped or left unanswered (with why), and how many
    pins the service answered for."""
    expected = {pin.name: pin for pin in pins}
    found: list[Vulnerability] = []
    skipped: dict[str, str] = {}
    audited: set[str] = set()
    for dependency in answer:
        name = canonicalize_name(str(dependency.get("name", "")))
        pin = expected.get(name)
        if pin is None or name in audited or name in skipped:
            continue
        skip_reason = dependency.get("skip_reason")
        vulns = dependency.get("vulns")
        if skip_reason is not None or not isinstance(vulns, list):
            skipped[name] = _clean(str(skip_reason or "")) or "skipped by pip-audit"
            continue
        audited.add(name)
        for vuln in vulns:
            if isinstance(vuln, dict) and vuln.get("id"):
                found.extend(_vulnerability(pin, vuln, text) for text in pin.locked)
    missing = [
        (pin, skipped.get(pin.name, "pip-audit gave no answer for it"))
        for pin in pins
        if pin.name not in audited
    ]
    return found, missing, len(audited)


def _vulnerability(pin: _Pin, vuln: dict[str, Any], locked: str) -> Vulnerability:
    from urllib.parse import quote

    vid = _clean(str(vuln["id"]))
    aliases = sorted({_clean(str(a)) for a in vuln.get("aliases") or ()} - {vid, ""})
    fixes: list[str] = []
    for text in vuln.get("fix_versions") or ():
        text = _clean(str(text))
        if text and text not in fixes:
            fixes.append(text)
    fixes.sort(key=_sort_version)
    return Vulnerability(
        id=vid,
        package=pin.name,
        version=locked,
        aliases=tuple(aliases),
        fixed_versions=tuple(fixes),
        description=_clean(str(vuln.get("description") or "")),
        link=OSV_LINK.format(id=quote(vid, safe="")),
    )


def _failure_reason(stderr: str, returncode: int | None, *, where: str, timeout: int) -> str:
    """One line that says why a pip-audit run gave no answer."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    errors: list[str] = []
    exceptions: list[str] = []
    for line in lines:
        log = _LOG_LINE.match(line)
        if log:
            if log.group(1) in ("ERROR", "CRITICAL") and not log.group(2).startswith("Tip:"):
                errors.append(log.group(2))
            continue
        exception = _EXCEPTION_LINE.match(line)
        if exception:
            exceptions.append(line)
    text = " | ".join([*errors, *exceptions])
    if re.search(r"No module named '?pip_audit", stderr):
        return "pip-audit is not installed in depwatch's environment"
    if re.search(
        r"Connection refused|Failed to establish a new connection|NameResolutionError|"
        r"Name or service not known|nodename nor servname|name resolution|"
        r"Network is unreachable|No route to host",
        text,
    ):
        detail = "connection refused" if "refused" in text else "no route or name resolution"
        return f"could not connect to {where} ({detail})"
    if re.search(r"Could not connect to|ConnectTimeout", text):
        return f"could not connect to {where} within {timeout} s"
    if re.search(r"ReadTimeout|timed out", text):
        return f"{where} did not answer within {timeout} s"
    status = next((m for e in exceptions if (m := _HTTP_STATUS.search(e))), None)
    if status:
        return f"{where} answered HTTP {status.group(1)} ({_clean(status.group(2))})"
    if errors:
        return f"pip-audit failed: {_clean(errors[0])}"
    if exceptions:
        return f"pip-audit failed: {_clean(exceptions[-1])}"
    if lines:
        return f"pip-audit failed: {_clean(lines[-1])}"
    if returncode is not None and returncode < 0:
        return f"pip-audit was stopped by signal {-returncode}"
    return f"pip-audit exited with status {returncode} and gave no answer"


# -- helpers for findings --------------------------------------------------------------------


def _clean(text: str, limit: int = 500) -> str:
    """One line of outside text: no control characters, object addresses or URL credentials."""
    text = _OBJECT_REPR.sub("", text)
    text = _USERINFO.sub("//***@", text)
    text = " ".join(_CONTROL.sub(" ", text).split())
    return _shorten(text, limit)


def _shorten(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0].rstrip(" ,;:.")
    return cut + "…"


def _parse(text: str | None) -> Version | None:
    if text is None:
        return None
    try:
        return Version(text)
    except ValueError:  # InvalidVersion, or a number past the digit limit
        return None


def _sort_version(text: str | None) -> tuple[int, Version | str]:
    parsed = _parse(text)
    return (0, parsed) if parsed is not None else (1, text or "")


def _smallest_fix_above(locked: str, fixed: Iterable[str]) -> str | None:
    current = _parse(locked)
    candidates = [(v, text) for text in fixed if (v := _parse(text)) is not None]
    if current is not None:
        candidates = [(v, text) for v, text in candidates if v > current]
    return min(candidates)[1] if candidates else None


def vulnerability_tag(vulnerability: Vulnerability) -> Tag:
    """DESIGN.md, Tags 5: a fixed release to upgrade to → immediate; none → plan.

    (Withdrawn advisories never get here: pip-audit drops them.)
    """
    return Tag.IMMEDIATE if vulnerability.fix is not None else Tag.PLAN


def _cited(vulnerability: Vulnerability) -> str:
    cve = next((a for a in vulnerability.aliases if a.startswith("CVE-")), None)
    return (
        vulnerability.id if cve is None or cve == vulnerability.id else f"{vulnerability.id}, {cve}"
    )


def action_text(vulnerability: Vulnerability) -> str:
    """What to do, in one sentence."""
    fix = vulnerability.fix
    name = vulnerability.package
    if fix is not None:
        return f"Upgrade {name} to {fix} or later (fixes {_cited(vulnerability)})."
    if vulnerability.fixed_versions:
        listed = ", ".join(vulnerability.fixed_versions)
        return (
            f"No release of {name} above {vulnerability.version} fixes {_cited(vulnerability)} "
            f"(fixed in {listed}): plan to mitigate or replace it, and watch the advisory."
        )
    return (
        f"No fixed release of {name} yet for {_cited(vulnerability)}: plan to mitigate or "
        f"replace it, and watch the advisory."
    )


def rule_info(vulnerability: Vulnerability) -> RuleInfo:
    """How reporters describe the advisory."""
    return RuleInfo(
        id=vulnerability.id,
        title=vulnerability.title,
        kind="vulnerability",
        what=vulnerability.description,
        action=action_text(vulnerability),
        references=(vulnerability.link,) if vulnerability.link else (),
    )


def to_findings(
    result: AdvisoryResult,
    *,
    project: str = ".",
    lockfiles: Mapping[tuple[str, str], Sequence[str]] | None = None,
) -> tuple[Finding, ...]:
    """One finding of kind ``vulnerability`` per advisory and locked package version.

    ``lockfiles`` maps ``(name, locked version)`` to the lockfiles that pin it.
    """
    findings = []
    for v in result.vulnerabilities:
        findings.append(
            Finding(
                rule=v.id,
                project=project,
                package=v.package,
                version=v.version,
                tag=vulnerability_tag(v),
                kind="vulnerability",
                title=v.title,
                action=action_text(v),
                references=(v.link,) if v.link else (),
                lockfiles=tuple((lockfiles or {}).get((v.package, v.version), ())),
                aliases=v.aliases,
                fixed_versions=v.fixed_versions,
            )
        )
    return tuple(findings)
