"""pip-audit's command line: the arguments depwatch checks, the command it runs, its environment.

pip-audit's Python API is not public, so depwatch drives its stable surface instead: the
command line (as ``python -m pip_audit``, never imported) and its JSON output.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

from depwatch.advisories.results import CONTROL, USERINFO
from depwatch.errors import DepwatchError

__all__ = [
    "DEFAULT_TIMEOUT",
    "INSTALL_HINT",
    "SERVICES",
    "check_osv_url",
    "child_env",
    "command",
    "default_cache_dir",
    "pip_audit_installed",
    "public_url",
    "require_pip_audit",
    "resolve_service",
]

SERVICES = ("pypi", "osv")
"""The vulnerability services ``--vuln-service`` accepts (pip-audit's default first)."""

DEFAULT_TIMEOUT = 15
"""Seconds pip-audit waits on one network operation (pip-audit's own default)."""

#: How to get pip-audit beside depwatch (it is the ``vulns`` extra).
INSTALL_HINT = (
    "install it with: pip install 'depwatch-audit[vulns]' "
    "(pipx install 'depwatch-audit[vulns]', uv tool install 'depwatch-audit[vulns]')"
)


# -- arguments -------------------------------------------------------------------------------


def check_osv_url(url: str) -> str:
    """``url`` if it can be pip-audit's ``--osv-url``; a :class:`DepwatchError` if not."""
    from urllib.parse import urlsplit

    hint = "give the service's /v1/query endpoint, e.g. https://api.osv.dev/v1/query"
    shown = USERINFO.sub("//***@", CONTROL.sub("?", url))[:200]  # never the password
    if CONTROL.search(url) or any(c.isspace() for c in url):
        raise DepwatchError(f"--osv-url {shown!r} contains spaces or control characters", hint=hint)
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError as exc:
        raise DepwatchError(f"--osv-url {shown!r} is not a valid URL ({exc})", hint=hint) from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise DepwatchError(f"--osv-url {shown!r} is not an http:// or https:// URL", hint=hint)
    return url


def resolve_service(service: str | None, osv_url: str | None) -> str:
    """The service to ask: ``service``, checked against ``osv_url``, or the default."""
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


def public_url(url: str) -> str:
    """The URL without credentials, for messages."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


def default_cache_dir() -> Path | None:
    """pip-audit's HTTP cache: ``pip-audit/`` in depwatch's cache folder, or None when caching
    is off (see :mod:`depwatch.cachedir`)."""
    from depwatch import cachedir

    return cachedir.folder("pip-audit")


# -- the command -----------------------------------------------------------------------------


def child_env() -> dict[str, str]:
    """The environment pip-audit runs in."""
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


def command(
    requirements: Path,
    output: Path,
    *,
    service: str,
    timeout: int,
    cache: Path,
    osv_url: str | None,
) -> list[str]:
    """The pip-audit command that audits ``requirements`` into ``output`` (JSON).

    ``osv_url`` is the URL to put on the command line (None when it is not given or goes
    through the environment).
    """
    args = [
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
        service,
        "--timeout",
        str(timeout),
        "--cache-dir",
        str(cache),
        "--output",
        str(output),
    ]
    if osv_url is not None:
        args += ["--osv-url", osv_url]
    return args


#: What the probe puts in ``PIP_AUDIT_OSV_URL``: no hyphen, so that no help line breaks in it.
_PROBE_URL = "http://depwatch.invalid/probe/v1/query"
#: The probe's answer, per pip-audit version, in depwatch's cache folder.
_PROBE_FILE = "pip-audit-options.json"


def takes_osv_url_from_environment(cache: Path | None = None) -> bool:
    """Whether the installed pip-audit takes ``--osv-url`` from ``PIP_AUDIT_OSV_URL``.

    A URL with credentials is handed over that way, out of the process list (any other goes
    on the command line: ``--osv-url`` is documented in pip-audit's help since 2.10.0, the
    lowest version the ``vulns`` extra allows). pip-audit's README does not list
    ``PIP_AUDIT_OSV_URL`` among the variables it reads, so the installed pip-audit is
    asked, through its public command line: with the variable set, its ``--help`` shows the
    variable's value as ``--osv-url``'s default exactly when it reads it. Were that dropped
    one day, the URL would otherwise silently fall back to the public api.osv.dev. The answer
    is kept per pip-audit version in ``cache`` (a folder, when given), so that pip-audit is
    asked once per version.
    """
    version = _pip_audit_version()
    if version is None:
        return False
    stored = _stored_answer(cache, version)
    if stored is not None:
        return stored
    answer = _ask_help()
    if answer is None:  # the help did not run: no answer to keep
        return False
    if cache is not None:
        from depwatch.files import write_json_atomic

        write_json_atomic(
            cache / _PROBE_FILE,
            {"format": 1, "pip-audit": version, "osv_url_from_environment": answer},
        )
    return answer


def _pip_audit_version() -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("pip-audit")
    except (PackageNotFoundError, ValueError):
        return None


def _stored_answer(cache: Path | None, version: str) -> bool | None:
    if cache is None:
        return None
    import json

    from depwatch.files import read_cache_file

    data = read_cache_file(cache / _PROBE_FILE, limit=4096)
    try:
        stored = json.loads(data) if data is not None else None
    except ValueError:
        return None
    if (
        isinstance(stored, dict)
        and stored.get("format") == 1
        and stored.get("pip-audit") == version
        and isinstance(answer := stored.get("osv_url_from_environment"), bool)
    ):
        return answer
    return None


def _ask_help() -> bool | None:
    """Whether ``pip-audit --help`` shows ``PIP_AUDIT_OSV_URL`` as ``--osv-url``'s default;
    None when the help could not be had."""
    import subprocess

    env = child_env()
    env.update({"PIP_AUDIT_OSV_URL": _PROBE_URL, "COLUMNS": "1000"})
    try:
        done = subprocess.run(
            [sys.executable, "-m", "pip_audit", "--help"],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            env=env,
            timeout=60,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if done.returncode != 0:
        return None
    return shows_osv_url_default(done.stdout.decode("utf-8", "replace"), _PROBE_URL)


def shows_osv_url_default(help_text: str, url: str) -> bool:
    """Whether ``help_text`` (pip-audit's ``--help``) gives ``url`` as ``--osv-url``'s default."""
    text = " ".join(help_text.split())
    for option in re.finditer(r"(?<!\[)--osv-url\b", text):  # not the usage line's [--osv-url …]
        following = re.compile(r" --?[A-Za-z]").search(text, option.end())
        if f"(default: {url})" in text[option.end() : following.start() if following else None]:
            return True
    return False


def require_pip_audit() -> None:
    """A :class:`DepwatchError` that says how to install pip-audit when it is missing."""
    if not pip_audit_installed():
        raise DepwatchError(
            "--vulns needs pip-audit, which is not installed beside depwatch", hint=INSTALL_HINT
        )


def pip_audit_installed() -> bool:
    """Whether ``python -m pip_audit`` can run beside depwatch."""
    import importlib.util

    return importlib.util.find_spec("pip_audit") is not None
