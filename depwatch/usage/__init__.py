"""The usage scan: the project's own Python source, read with ``ast`` (never imported or run).

- :func:`scan_source` — one file's references into the tracked modules (and env reads);
- :func:`scan_project` — every ``*.py``/``*.ipynb`` of a project, cached and in parallel;
- :func:`evidence_for` — the places that match a rule's :class:`~depwatch.rulebook.model.Usage`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from depwatch.usage.cache import cache_path
    from depwatch.usage.facts import FileFacts, KeywordArg, Ref
    from depwatch.usage.files import iter_source_files
    from depwatch.usage.match import evidence_for, symbol_matches
    from depwatch.usage.scan import decode_source, scan_source
    from depwatch.usage.scanrun import ScanResult, scan_project

_LAZY = {
    "FileFacts": "depwatch.usage.facts",
    "KeywordArg": "depwatch.usage.facts",
    "Ref": "depwatch.usage.facts",
    "decode_source": "depwatch.usage.scan",
    "scan_source": "depwatch.usage.scan",
    "evidence_for": "depwatch.usage.match",
    "symbol_matches": "depwatch.usage.match",
    "ScanResult": "depwatch.usage.scanrun",
    "cache_path": "depwatch.usage.cache",
    "iter_source_files": "depwatch.usage.files",
    "scan_project": "depwatch.usage.scanrun",
}


def __getattr__(name: str) -> Any:
    # imported on first use: scan workers import this package (for depwatch.usage.worker)
    # and must not load dataclasses, the cache or the matcher
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)


__all__ = [
    "FileFacts",
    "KeywordArg",
    "Ref",
    "ScanResult",
    "cache_path",
    "decode_source",
    "evidence_for",
    "iter_source_files",
    "scan_project",
    "scan_source",
    "symbol_matches",
]
