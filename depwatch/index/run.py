"""``--online`` within a run: which index, which pages, fetched in the background while the
rules are loaded and matched (and pip-audit runs), then turned into findings per lockfile."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING

from depwatch.index.client import DEFAULT_INDEX, IndexSession, clean_index
from depwatch.index.facts import answered_releases, askable, index_of
from depwatch.index.page import NotCheckedError, ReleaseTable
from depwatch.model import IndexFacts, Lockfile, NotChecked

if TYPE_CHECKING:
    pass

__all__ = ["DEFAULT_MAX_AGE", "PendingIndex", "choose_index", "package_facts"]

DEFAULT_MAX_AGE = 3600
_ENV = ("PIP_INDEX_URL", "UV_DEFAULT_INDEX", "UV_INDEX_URL")

Answers = Mapping[tuple[str, str], ReleaseTable | NotCheckedError]


def choose_index(flag: str | None, configured: str | None) -> str:
    """``--index-url``, else ``[tool.depwatch] index-url``, else PIP_INDEX_URL,
    UV_DEFAULT_INDEX, UV_INDEX_URL, else PyPI (credentials still inside)."""
    if flag:
        return flag
    if configured:
        return configured
    for name in _ENV:
        value = os.environ.get(name, "").strip()
        if value:
            return value.split()[0]
    return DEFAULT_INDEX


class PendingIndex:
    """Project pages being fetched on a background thread; ``answers()`` waits for them."""

    def __init__(
        self,
        session: IndexSession,
        lockfiles: Iterable[tuple[Sequence[Lockfile], str, str | None]],
    ) -> None:
        """``lockfiles``: (a project's lockfiles, its index with credentials, its own name)."""
        self.session = session
        wanted: list[tuple[str, str]] = []
        seen: set[tuple[str, str]] = set()
        for locks, raw_index, own in lockfiles:
            default = clean_index(session.add_index(raw_index))
            for lock in locks:
                for pkg in lock.packages:
                    if not askable(pkg, own):
                        continue
                    recorded = index_of(pkg, default)
                    if recorded is None:
                        continue
                    if recorded != default and pkg.index is not None:
                        session.add_index(pkg.index)  # its credentials, if it carries any
                    key = (pkg.name, recorded)
                    if key not in seen:
                        seen.add(key)
                        wanted.append(key)
        self.wanted = wanted
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="depwatch-index")
        self._future: Future[dict[tuple[str, str | None], ReleaseTable | NotCheckedError]] = (
            self._pool.submit(session.release_tables, wanted)
        )

    def answers(self) -> dict[tuple[str, str], ReleaseTable | NotCheckedError]:
        done = self._future.result()
        return {(name, index or ""): page for (name, index), page in done.items()}

    def close(self) -> None:
        self._pool.shutdown(wait=True)
        self.session.close()


def package_facts(
    lock: Lockfile, answers: Answers, default: str, own: str | None = None
) -> tuple[dict[tuple[str, str], IndexFacts], list[NotChecked]]:
    """How far behind each registry entry of ``lock`` is (``packages --online``)."""
    facts: dict[tuple[str, str], IndexFacts] = {}
    missing: list[NotChecked] = []
    for pkg, version, _, fact, _, _ in answered_releases(
        lock, answers, default, own, None, missing
    ):
        facts[(pkg.name, version)] = fact
    return facts, missing
