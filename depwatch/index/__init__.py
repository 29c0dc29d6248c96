"""Knowledge from the package index (``--online``): project pages (PEP 691 JSON, PEP 503
HTML), a cache in the user's cache folder, and the facts a check draws from them.

The stable API other parts build on (the wheel diff reads pages and downloads through it):

- :class:`IndexSession` — one per run: ``project_page(name, index_url=None)`` →
  :class:`ProjectPage`, ``project_pages([(name, index_url), ...])`` (concurrent),
  ``download(url, max_bytes=...)`` → bytes, ``add_index(url)`` → the URL without credentials;
  they raise :class:`NotCheckedError` (``.reason``) and nothing else.
- :class:`ProjectPage` (``name``, ``url``, ``files``, ``versions``, ``format``) and
  :class:`ProjectFile` (``filename``, ``url``, ``version``, ``requires_python``, ``yanked``,
  ``yanked_reason``, ``upload_time``, ``hashes``, ``core_metadata``, ``size``).
- :class:`NotChecked` (``package``, ``version``, ``reason``): a package the index did not
  answer for, listed under ``"not_checked"``.

Importing this package costs nothing: the HTTP client (urllib3) is imported on the first
request.
"""

from __future__ import annotations

from depwatch.index.client import DEFAULT_INDEX, IndexSession, redact
from depwatch.index.page import NotChecked, NotCheckedError, ProjectFile, ProjectPage

__all__ = [
    "DEFAULT_INDEX",
    "IndexSession",
    "NotChecked",
    "NotCheckedError",
    "ProjectFile",
    "ProjectPage",
    "redact",
]
