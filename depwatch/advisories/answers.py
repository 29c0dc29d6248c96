"""Reading pip-audit's answers: its JSON output and its stderr, into typed values.

Nothing that goes wrong with the service is an exception: a package pip-audit skipped, a run
that failed (service unreachable, timed out, HTTP error) — each becomes a
:class:`~depwatch.model.NotAudited` with the reason, never a clean result.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from depwatch.advisories.plan import Pin
from depwatch.advisories.results import (
    AdvisoryResult,
    Vulnerability,
    canonicalize_name,
    clean,
    sort_version,
)
from depwatch.model import NotAudited

__all__ = ["OSV_LINK", "RunAnswer", "failure_reason", "merge_answers", "read_run"]

OSV_LINK = "https://osv.dev/vulnerability/{id}"

_LOG_LINE = re.compile(r"^(DEBUG|INFO|WARNING|ERROR|CRITICAL):[\w.]+:\s?(.*)$")
_EXCEPTION_LINE = re.compile(r"^([A-Za-z_][\w.]*(?:Error|Exception|Timeout))(?::\s*(.*))?$")
_HTTP_STATUS = re.compile(r"\b(\d{3}) (?:Client|Server) Error: (.*?)(?: for url: \S+)?$")
_NOT_ON_SERVICE = (
    "the vulnerability service answered for none of the {n} packages, "
    "all listed as not audited: {reason}"
)


# -- reading pip-audit's answer --------------------------------------------------------------


def read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def read_answer(path: Path) -> list[dict[str, Any]] | None:
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
    pins: Sequence[Pin], answer: Sequence[dict[str, Any]]
) -> tuple[list[Vulnerability], list[tuple[Pin, str]], int]:
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
            skipped[name] = clean(str(skip_reason or "")) or "skipped by pip-audit"
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


def _vulnerability(pin: Pin, vuln: dict[str, Any], locked: str) -> Vulnerability:
    from urllib.parse import quote

    vid = clean(str(vuln["id"]))
    aliases = sorted({clean(str(a)) for a in vuln.get("aliases") or ()} - {vid, ""})
    fixes: list[str] = []
    for text in vuln.get("fix_versions") or ():
        text = clean(str(text))
        if text and text not in fixes:
            fixes.append(text)
    fixes.sort(key=sort_version)
    return Vulnerability(
        id=vid,
        package=pin.name,
        version=locked,
        aliases=tuple(aliases),
        fixed_versions=tuple(fixes),
        description=clean(str(vuln.get("description") or "")),
        link=OSV_LINK.format(id=quote(vid, safe="")),
    )


def failure_reason(stderr: str, returncode: int | None, *, where: str, timeout: int) -> str:
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
        return f"{where} answered HTTP {status.group(1)} ({clean(status.group(2))})"
    if errors:
        return f"pip-audit failed: {clean(errors[0])}"
    if exceptions:
        return f"pip-audit failed: {clean(exceptions[-1])}"
    if lines:
        return f"pip-audit failed: {clean(lines[-1])}"
    if returncode is not None and returncode < 0:
        return f"pip-audit was stopped by signal {-returncode}"
    return f"pip-audit exited with status {returncode} and gave no answer"


# -- one run's answer, and the audit's result ------------------------------------------------


@dataclass(slots=True)
class RunAnswer:
    """What one pip-audit run answered for its pins."""

    pins: Sequence[Pin]
    failure: str | None = None
    """Why the run gave no answer at all (then every pin is not audited for it)."""
    vulnerabilities: list[Vulnerability] = field(default_factory=list)
    missing: list[tuple[Pin, str]] = field(default_factory=list)
    """The pins pip-audit skipped or left unanswered, with why."""
    audited: int = 0


def read_run(
    pins: Sequence[Pin],
    output: Path,
    stderr: Path,
    returncode: int | None,
    *,
    failure: str | None,
    where: str,
    timeout: int,
) -> RunAnswer:
    """The answer of a finished run (``failure``: why it did not even finish)."""
    answer = None if failure else read_answer(output)
    if answer is None:
        failure = failure or failure_reason(
            read_text(stderr), returncode, where=where, timeout=timeout
        )
        return RunAnswer(pins, failure)
    found, missing, count = _merge(pins, answer)
    return RunAnswer(pins, None, found, missing, count)


def merge_answers(
    answers: Sequence[RunAnswer], skipped: Sequence[NotAudited], service: str
) -> AdvisoryResult:
    """Every run's answer in one result; ``skipped``: the packages that were never sent."""
    vulnerabilities: list[Vulnerability] = []
    not_audited: list[NotAudited] = list(skipped)
    failures: list[str] = []
    failed = skipped_count = audited = sent = 0
    first_skip: str | None = None
    for run in answers:
        sent += len(run.pins)
        if run.failure is not None:
            failures.append(run.failure)
            failed += len(run.pins)
            not_audited.extend(
                NotAudited(pin.name, text, run.failure) for pin in run.pins for text in pin.locked
            )
            continue
        vulnerabilities.extend(run.vulnerabilities)
        audited += run.audited
        skipped_count += len(run.missing)
        for pin, reason in run.missing:
            first_skip = first_skip or reason
            not_audited.extend(NotAudited(pin.name, text, reason) for text in pin.locked)
    warnings: list[str] = []
    if sent and audited == 0:
        reason = failures[0] if failures else (first_skip or "no answer")
        if service == "pypi" and not failures:
            reason += "; PyPI's per-version JSON API may be blocked here: try --vuln-service osv"
        warnings.append(_NOT_ON_SERVICE.format(n=sent, reason=reason))
    else:
        if failed:
            warnings.append(
                f"the vulnerability service could not be used for {failed} of {sent} "
                f"packages ({failures[0]}); they are listed as not audited"
            )
        if skipped_count:
            warnings.append(
                f"the vulnerability service skipped {skipped_count} of {sent} packages "
                f"({first_skip}); they are listed as not audited"
            )
    vulnerabilities.sort(key=lambda v: (v.package, sort_version(v.version), v.id))
    not_audited.sort(key=lambda n: (n.package, sort_version(n.version), n.reason))
    return AdvisoryResult(
        vulnerabilities=tuple(vulnerabilities),
        not_audited=tuple(not_audited),
        warnings=tuple(warnings),
        audited=audited,
        service=service,
    )
