"""depwatch's cache folder: the one rule every cache follows.

- ``DEPWATCH_NO_CACHE`` set to anything but empty or ``0`` turns every cache off;
- else ``DEPWATCH_CACHE_DIR``, when set and not empty, is the folder;
- else the user's cache folder for ``depwatch`` from platformdirs: ``$XDG_CACHE_HOME/depwatch``
  when ``XDG_CACHE_HOME`` is set, else ``~/.cache/depwatch`` on Linux,
  ``~/Library/Caches/depwatch`` on macOS, ``%LOCALAPPDATA%\\depwatch\\Cache`` on Windows. A
  relative ``XDG_CACHE_HOME`` never gives a folder under the working directory (the XDG base
  directory rule: platformdirs ignores it; an older one took it as it is, and then there is
  no cache).

Each cache keeps its own subfolder (:func:`folder`): ``usage/``, ``index/``, ``wheel-api/``,
``pip-audit/``; ``rules-*.json`` and ``pip-audit-options.json`` sit at the top. A cache is never
written inside an audited project, even when one of these variables points there
(:func:`outside`).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

__all__ = ["disabled", "folder", "outside", "root"]


def disabled() -> bool:
    """Whether ``DEPWATCH_NO_CACHE`` turns caching off."""
    return os.environ.get("DEPWATCH_NO_CACHE", "").strip() not in ("", "0")


def root() -> Path | None:
    """depwatch's cache folder, or None when caching is off or there is no such folder."""
    if disabled():
        return None
    override = os.environ.get("DEPWATCH_CACHE_DIR")
    if override:
        return Path(override)
    try:
        import platformdirs  # only here: it costs start-up time

        base = platformdirs.user_cache_dir("depwatch")
    except Exception:  # no home folder, say: no cache rather than an error
        return None
    # An older platformdirs takes a relative XDG_CACHE_HOME as it is: a folder under the
    # working directory, which may be the audited project. No cache is better.
    path = Path(base)
    return path if path.is_absolute() else None


def folder(name: str) -> Path | None:
    """The subfolder ``name`` of the cache folder, or None when caching is off."""
    top = root()
    return None if top is None else top / name


def outside(path: Path | str, projects: Iterable[Path | str]) -> bool:
    """Whether ``path`` may be written as a cache: it is inside none of the ``projects``
    (resolved; when in doubt it is not)."""
    from depwatch.files import inside

    return not inside(path, projects)
