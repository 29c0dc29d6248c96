"""Usage evidence for the rules: the project's code scanned once, on the first rule that asks,
and judged where it lives (DESIGN.md, "Evidence that counts")."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from depwatch.errors import DepwatchError
from depwatch.files import display_path
from depwatch.model import Evidence
from depwatch.settings import Settings

if TYPE_CHECKING:
    from depwatch.options import CheckOptions
    from depwatch.projects import Project
    from depwatch.rulebook import RuleBook
    from depwatch.rulebook.model import Names, Usage
    from depwatch.usage import FileFacts
    from depwatch.usage.context import PathContexts

__all__ = ["NOT_COUNTED", "UsageLookup", "check_globs", "not_counted_lines", "usage_lookup"]


class UsageLookup:
    """Scans the project's code once, on the first rule that asks, then answers from memory.

    Evidence is judged where it lives (DESIGN.md, "Evidence that counts"): vendored code,
    test data, ``TYPE_CHECKING`` blocks and branches no target takes are kept out (listed
    with ``--verbose``); what counts carries its context.
    """

    def __init__(
        self,
        root: Path,
        modules: Iterable[str],
        env: Iterable[str],
        exclude: Sequence[str],
        assignments: Iterable[str] = (),
        names: Names | None = None,
        *,
        pythons: Sequence[str] = (),
        platforms: Sequence[str] = (),
        settings: Settings | None = None,
    ) -> None:
        self.root, self.exclude = root, exclude
        self.modules, self.env = sorted(set(modules)), sorted(set(env))
        self.assignments, self.names = sorted(set(assignments)), names
        self.pythons = tuple(pythons)
        self.platforms = tuple(platforms)
        self.settings = settings or Settings()
        self.facts: tuple[FileFacts, ...] | None = None
        self.warnings: tuple[str, ...] = ()
        self.not_counted: dict[tuple[str, int | None, int, int], Evidence] = {}
        self._memo: dict[tuple[Usage, tuple[str, ...]], tuple[Evidence, ...]] = {}
        self._raw: dict[Usage, tuple[Evidence, ...]] = {}
        self._contexts: PathContexts | None = None

    def __call__(self, usage: Usage) -> tuple[Evidence, ...]:
        """The evidence of ``usage`` that counts on the declared targets."""
        return self.on(usage, ())

    def on(self, usage: Usage, pythons: Sequence[str]) -> tuple[Evidence, ...]:
        """The evidence of ``usage`` that counts on ``pythons`` (none given: the declared)."""
        from depwatch import usage as scanner
        from depwatch.usage.context import judge

        targets = tuple(pythons) if pythons else self.pythons
        found = self._memo.get((usage, targets))
        if found is None:
            raw = self._raw.get(usage)
            if raw is None:
                raw = self._raw[usage] = scanner.evidence_for(self.all_facts(), usage, self.names)
            assert self._contexts is not None
            found, dropped = judge(raw, self._contexts, targets, self.platforms)
            self._memo[(usage, targets)] = found
            for item in dropped:
                self.not_counted.setdefault((item.path, item.cell, item.line, item.column), item)
        return found

    def all_facts(self) -> tuple[FileFacts, ...]:
        """Every reference found (the scan runs now if no rule asked yet)."""
        if self.facts is None:
            from depwatch import usage as scanner
            from depwatch.usage.context import PathContexts

            result = scanner.scan_project(
                self.root,
                self.modules,
                self.env,
                exclude=self.exclude,
                assignments=self.assignments,
            )
            self.facts, self.warnings = result.facts, result.warnings
            self._contexts = PathContexts(
                vendored=self.settings.vendored,
                fixtures=self.settings.fixtures,
                sources=result.sources,
                imported=result.imported,
                root=self.root,
            )
        return self.facts

    def counted_facts(self) -> tuple[FileFacts, ...]:
        """The references that count as evidence on the declared targets (DESIGN.md, "Evidence
        that counts"): no vendored code or test data, no branch that no target takes, nothing
        under ``TYPE_CHECKING`` — what the wheel comparison matches against."""
        from dataclasses import replace

        from depwatch.usage import guards as _guards
        from depwatch.usage.context import COUNTED

        facts = self.all_facts()
        assert self._contexts is not None
        out = []
        for item in facts:
            if self._contexts.of(item.path) not in COUNTED:
                continue
            refs = tuple(
                ref
                for ref in item.refs
                if not ref.guards
                or (
                    not _guards.typing_only(ref.guards)
                    and _guards.reachable(ref.guards, self.pythons, self.platforms)
                )
            )
            out.append(replace(item, refs=refs) if len(refs) != len(item.refs) else item)
        return tuple(out)


def usage_lookup(
    project: Project,
    rulebook: RuleBook,
    exclude: Sequence[str],
    options: CheckOptions,
    *,
    declared: tuple[str, ...] | None,
    online: bool = False,
) -> UsageLookup:
    """What the rules that concern the project's locked packages ask of its code (read on first
    need); with ``online``, every locked package the code imports too."""
    from depwatch.pythons import UNDECLARED_PYTHONS
    from depwatch.targets import PLATFORMS

    modules: set[str] = set()
    env: set[str] = set()
    assignments: set[str] = set()
    names = {p.name for lock in project.lockfiles for p in lock.packages}
    rules = [r for name in names for r in rulebook.for_package(name)]
    rules += list(rulebook.interpreter_rules())
    for rule in rules:
        if rule.usage is not None:
            modules.update(rule.usage.modules)
            env.update(rule.usage.env)
            assignments.update(rule.usage.assignments)
    # the locked packages' other spellings; a module whose names lead into a tracked one
    # (flask.request is a werkzeug Request) is followed too
    spellings = rulebook.names(names) if modules else None
    if spellings:
        modules.update(spellings.tracked(modules))
    if online:  # the released wheels are compared for every locked package the code imports
        from depwatch.wheels import import_names

        modules.update(m for name in names for m in import_names(name))
    return UsageLookup(
        project.root,
        modules,
        env,
        exclude,
        assignments,
        spellings,
        pythons=declared or UNDECLARED_PYTHONS,
        platforms=options.platforms or tuple(PLATFORMS),
        settings=project.settings,
    )


NOT_COUNTED = {
    "vendored": "vendored code",
    "fixture": "test data",
    "typing": "under TYPE_CHECKING, never run",
    "unreachable": "in a branch that does not run on the Pythons or platforms concerned",
}


def not_counted_lines(usage: UsageLookup, prefix: str) -> list[str]:
    """``--verbose``: one line per use the scan found that does not count as evidence."""
    return [
        f"{prefix}{e.path}:{e.line}: {e.symbol or 'use'} not counted as evidence "
        f"({NOT_COUNTED[e.context]})"
        for e in sorted(usage.not_counted.values(), key=lambda e: (e.path, e.line))
    ]


def check_globs(project: Project, exclude: Sequence[str]) -> None:
    """``--exclude`` and ``[tool.depwatch] exclude`` / ``vendored`` / ``fixtures`` compiled: a
    bad glob is an error whether or not a rule needs the scan."""
    if exclude:
        from depwatch.usage.files import exclude_spec

        exclude_spec(tuple(exclude))
    settings = project.settings
    if settings.vendored is None and settings.fixtures is None:
        return
    from depwatch.usage.context import compile_globs

    path = project.files.pyproject_path
    try:
        if settings.vendored is not None:
            compile_globs(settings.vendored, "vendored")
        if settings.fixtures is not None:
            compile_globs(settings.fixtures, "fixtures")
    except DepwatchError as exc:
        raise exc.with_path(display_path(path) if path else "pyproject.toml") from None
