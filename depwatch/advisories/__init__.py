"""Known vulnerabilities in the locked packages, from pip-audit: the only package that touches it.

pip-audit's Python API is not public, so this package drives its stable surface instead: the
command line and its JSON output. One module per job:

- :mod:`~depwatch.advisories.command`: pip-audit's command line, its environment, the
  arguments depwatch checks (service, ``--osv-url``);
- :mod:`~depwatch.advisories.plan`: which packages are sent, spread over how many runs;
- :mod:`~depwatch.advisories.run`: the processes, their temporary files, the deadline
  (:func:`start` returns a :class:`PendingAudit` at once; :meth:`PendingAudit.result` waits);
- :mod:`~depwatch.advisories.answers`: pip-audit's JSON output and stderr, read into an
  :class:`AdvisoryResult`;
- :mod:`~depwatch.advisories.results`: the typed values (:class:`Vulnerability`,
  :class:`AdvisoryResult`);
- :mod:`~depwatch.advisories.findings`: the tag, the action and the finding of an advisory.

Nothing that goes wrong with the service is an exception: a package pip-audit skipped, a run
that failed (service unreachable, timed out, HTTP error), a package outside the registry — each
becomes a :class:`~depwatch.model.NotAudited` with the reason, never a clean result. Only a bad
argument (an ``--osv-url`` that is not http(s), an unknown service) is a
:class:`~depwatch.errors.DepwatchError`.
"""

# Start-up matters here: pip-audit is started as early as the caller can, and whatever this
# package imports before that delays it. urllib.parse and packaging.utils (which pulls in
# packaging.tags) are left out for that reason.

from depwatch.advisories.command import (
    DEFAULT_TIMEOUT,
    INSTALL_HINT,
    SERVICES,
    check_osv_url,
    default_cache_dir,
    require_pip_audit,
)
from depwatch.advisories.findings import action_text, rule_info, to_findings, vulnerability_tag
from depwatch.advisories.results import AdvisoryResult, Vulnerability, canonicalize_name
from depwatch.advisories.run import PendingAudit, audit, start

__all__ = [
    "DEFAULT_TIMEOUT",
    "INSTALL_HINT",
    "SERVICES",
    "AdvisoryResult",
    "PendingAudit",
    "Vulnerability",
    "action_text",
    "audit",
    "canonicalize_name",
    "check_osv_url",
    "default_cache_dir",
    "require_pip_audit",
    "rule_info",
    "start",
    "to_findings",
    "vulnerability_tag",
]
