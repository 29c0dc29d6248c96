"""API changes derived from the released wheels (``check --online``).

- :mod:`depwatch.wheels.remote` — a wheel's ``.py``/``.pyi`` members over HTTP range requests;
- :mod:`depwatch.wheels.api` — the public API extracted statically with griffe (compact JSON);
- :mod:`depwatch.wheels.deprecations` — a static scan of deprecation notices and shims;
- :mod:`depwatch.wheels.compare` — one use of a package × two releases → what changed for it;
- :mod:`depwatch.wheels.cache` — the wheel-API cache (APIs and stored comparisons);
- :mod:`depwatch.wheels.extract` — griffe in this process or in worker processes;
- :mod:`depwatch.wheels.releases` — which releases (and which wheel of each) are compared;
- :mod:`depwatch.wheels.hits` — what the code's uses meet across those releases;
- :mod:`depwatch.wheels.findings` — hits → findings and their rule information;
- :mod:`depwatch.wheels.check` — :func:`check_wheels`, what the audit calls.

Importing this package imports nothing else: griffe is imported on the first extraction.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from depwatch.wheels.check import ApiCache, WheelsResult, check_wheels, import_names

__all__ = ["ApiCache", "WheelsResult", "check_wheels", "import_names"]


def __getattr__(name: str) -> Any:
    if name == "import_names":  # asked of every locked package: without the comparison
        from depwatch.wheels.names import import_names

        return import_names
    if name in __all__:
        from depwatch.wheels import check

        return getattr(check, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
