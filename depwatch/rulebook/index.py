"""The rulebook: validated rules indexed by package, from one or more rule folders.

Each rule folder is read through its compiled cache (:mod:`depwatch.rulebook.cache`) in the
user cache folder (``platformdirs.user_cache_dir("depwatch")``; ``DEPWATCH_CACHE_DIR`` moves
it, ``DEPWATCH_NO_CACHE=1`` turns it off).

Several folders (the shipped rules, then each ``--rules DIR`` / ``[tool.depwatch] rules`` in
order) make one rulebook: a rule whose id is also in an earlier folder **replaces** it, so a
team can correct a shipped rule without waiting for a release. Within one folder ids cannot
repeat (they come from paths).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, Protocol

from packaging.utils import canonicalize_name

from depwatch.errors import DepwatchError
from depwatch.files import display_path
from depwatch.rulebook.cache import CACHE_FORMAT, DirSource
from depwatch.rulebook.checker import RuleErrors
from depwatch.rulebook.model import INTERPRETER, Names, Rule

__all__ = ["CACHE_FORMAT", "RuleBook", "cache_dir", "load_rulebook"]


def cache_dir() -> Path | None:
    """Where rule caches live; None when caching is turned off (``DEPWATCH_NO_CACHE=1``)."""
    from depwatch import cachedir

    return cachedir.root()


class _Source(Protocol):
    def packages(self) -> Iterable[str]: ...

    def rules(self, package: str) -> tuple[Rule, ...]: ...

    def refresh(self, again: set[str] | frozenset[str] = ...) -> None: ...

    def names(self, package: str) -> dict[str, Any] | None: ...


class _MemorySource:
    """Rules given as objects (tests, advisories turned into rules)."""

    def __init__(self, rules: Iterable[Rule]) -> None:
        self._by_package: dict[str, list[Rule]] = {}
        for rule in rules:
            self._by_package.setdefault(rule.package, []).append(rule)

    def packages(self) -> Iterable[str]:
        return self._by_package.keys()

    def rules(self, package: str) -> tuple[Rule, ...]:
        return tuple(self._by_package.get(package, ()))

    def refresh(self, again: set[str] | frozenset[str] = frozenset()) -> None:
        return None

    def names(self, package: str) -> dict[str, Any] | None:
        return None


class RuleBook:
    """Rules indexed by normalised package name; built lazily and memoised per package.

    Sources come in order (the shipped rules, then user folders); a rule whose id is also in an
    earlier source replaces that one.
    """

    def __init__(self, sources: Sequence[_Source]) -> None:
        self._sources = tuple(sources)
        self._memo: dict[str, tuple[Rule, ...]] = {}
        self._names: dict[str, str] = {}

    @classmethod
    def from_rules(cls, rules: Iterable[Rule]) -> RuleBook:
        """A rulebook of rules already in memory (for tests and callers that make rules)."""
        return cls([_MemorySource(rules)])

    @property
    def cached(self) -> tuple[bool, ...]:
        """Per rule folder, in order: whether it was read from the cache (for ``--verbose``)."""
        return tuple(getattr(source, "cache_hit", False) for source in self._sources)

    def _merged(self, package: str) -> tuple[Rule, ...]:
        found = self._memo.get(package)
        if found is not None:
            return found
        if len(self._sources) == 1:
            found = self._sources[0].rules(package)
        else:
            by_id: dict[str, Rule] = {}
            for source in self._sources:
                for rule in source.rules(package):
                    by_id[rule.id] = rule
            found = tuple(sorted(by_id.values(), key=lambda rule: rule.id))
        self._memo[package] = found
        return found

    def for_package(self, name: str) -> tuple[Rule, ...]:
        """The rules about distribution ``name`` (any spelling), sorted by id.

        Interpreter rules are never returned here (a conda lock's ``python`` package is the
        interpreter, which :meth:`interpreter_rules` covers).
        """
        key = self._names.get(name)
        if key is None:
            key = self._names[name] = canonicalize_name(name)
        if key == INTERPRETER:
            return ()
        return self._merged(key)

    def interpreter_rules(self) -> tuple[Rule, ...]:
        """The rules about the interpreter (``package = "python"``)."""
        return self._merged(INTERPRETER)

    def packages(self) -> frozenset[str]:
        """The normalised names of the distributions that have rules."""
        names: set[str] = set()
        for source in self._sources:
            names.update(source.packages())
        names.discard(INTERPRETER)
        return frozenset(names)

    def names(self, packages: Iterable[str] | None = None) -> Names:
        """The other spellings the ``_package.toml`` files of ``packages`` (any spelling;
        every package when None) declare; a later folder's entry replaces an earlier one's."""
        if packages is None:
            wanted = set(self._all_packages())
        else:
            wanted = {canonicalize_name(name) for name in packages}
            wanted.add(INTERPRETER)
        aliases: dict[str, str] = {}
        instances: dict[str, str] = {}
        for source in self._sources:
            present = set(source.packages())
            for package in sorted(wanted & present):
                raw = source.names(package)
                if raw:
                    aliases.update((name, target) for name, target in raw.get("aliases", ()))
                    instances.update((name, target) for name, target in raw.get("instances", ()))
        return Names(aliases, instances)

    def get(self, rule_id: str) -> Rule | None:
        """The rule with id ``rule_id`` (its package part in any spelling), or None."""
        package, _, slug = rule_id.partition("/")
        package = canonicalize_name(package)
        wanted = f"{package}/{slug}"
        for rule in self._merged(package):
            if rule.id == wanted:
                return rule
        return None

    def _all_packages(self) -> list[str]:
        for source in self._sources:
            source.refresh()
        names = set(self.packages())
        if any(INTERPRETER in source.packages() for source in self._sources):
            names.add(INTERPRETER)
        return sorted(names)

    def __iter__(self) -> Iterator[Rule]:
        """Every rule, by id (checks every rule file against the cache first)."""
        for package in self._all_packages():
            yield from self._merged(package)

    def __len__(self) -> int:
        return sum(len(self._merged(package)) for package in self._all_packages())


def _resolved_folder(folder: Path) -> Path:
    """``folder`` made absolute, or an error naming it (a symbolic link loop, a NUL byte)."""
    shown = display_path(folder)
    try:
        return folder.resolve()
    except ValueError:  # a NUL byte in the name
        raise DepwatchError(
            "is not a valid folder name (it holds a NUL byte)", path=shown
        ) from None
    except (OSError, RuntimeError):  # a loop: RuntimeError before Python 3.13, OSError after
        raise DepwatchError("is a symbolic link loop", path=shown) from None


def load_rulebook(
    extra_dirs: Sequence[Path] = (),
    *,
    include_shipped: bool = True,
    protect: Sequence[Path] = (),
) -> RuleBook:
    """The shipped rules (unless excluded) and the rules of ``extra_dirs``, in that order.

    The cache is never written inside a folder of ``protect`` (the audited projects), even
    when ``DEPWATCH_CACHE_DIR`` or ``XDG_CACHE_HOME`` points there.

    A rule in a later folder replaces one with the same id in an earlier folder. Raises
    :class:`~depwatch.rulebook.checker.RuleErrors` (a ``DepwatchError``) listing every problem
    when a rule file is malformed.
    """
    from depwatch.rulebook.shipped import shipped_dir

    roots: list[Path] = []
    if include_shipped:
        roots.append(shipped_dir())
    roots.extend(_resolved_folder(Path(folder)) for folder in extra_dirs)
    cache = cache_dir()
    sources: list[_Source] = []
    seen: set[Path] = set()
    errors: list[DepwatchError] = []
    for root in roots:
        if root in seen:
            continue
        seen.add(root)
        try:
            sources.append(DirSource(root, cache, protect))
        except RuleErrors as exc:
            errors.extend(exc.errors)
        except DepwatchError as exc:
            errors.append(exc)
    if errors:
        raise RuleErrors(errors)
    return RuleBook(sources)
