"""The closed sets of values depwatch passes around (enums): where a package comes from, a
lockfile's format, a finding's tag, a rule's kind and the gate's ``--fail-on``.

Values are the JSON text. Imports nothing of depwatch; :mod:`depwatch.model` re-exports them.
"""

from __future__ import annotations

import enum

__all__ = ["FailOn", "LockFormat", "RuleKind", "SourceKind", "Tag"]


class _Text(str, enum.Enum):
    """An enum whose members are their JSON text: equal to it, hashed and printed as it."""

    def __str__(self) -> str:
        return str(self.value)

    def __format__(self, spec: str) -> str:
        return format(str(self.value), spec)


class SourceKind(_Text):
    """Where a locked package comes from (DESIGN.md, JSON output ``source``)."""

    REGISTRY = "registry"
    GIT = "git"
    URL = "url"
    PATH = "path"
    DIRECTORY = "directory"
    EDITABLE = "editable"
    VIRTUAL = "virtual"
    """uv's virtual root."""
    WORKSPACE = "workspace"
    """A uv workspace member that is not editable."""


class LockFormat(_Text):
    """A lockfile format (DESIGN.md, JSON output ``format``)."""

    UV = "uv"
    POETRY = "poetry"
    PIPFILE = "pipfile"
    PDM = "pdm"
    PYLOCK = "pylock"
    REQUIREMENTS = "requirements"
    CONDA = "conda"


class Tag(str, enum.Enum):
    """How soon a finding needs the project's attention."""

    IMMEDIATE = "immediate"
    PLAN = "plan"
    MONITOR = "monitor"

    @property
    def rank(self) -> int:
        """0 for the most urgent tag; sort by this."""
        return _TAG_RANK[self]

    def __str__(self) -> str:
        return self.value


_TAG_RANK = {Tag.IMMEDIATE: 0, Tag.PLAN: 1, Tag.MONITOR: 2}


class RuleKind(str, enum.Enum):
    """What kind of change a rule (or advisory, or index fact) is about (DESIGN.md).

    A rule file has one of the first seven; ``vulnerability`` is for advisories and ``yanked``
    for the package index's facts (``--online``). The values are what JSON and SARIF show.
    """

    BREAKING = "breaking"
    PYTHON_DROP = "python-drop"
    BEHAVIOUR = "behaviour"
    DEPRECATION = "deprecation"
    NEW_CAPABILITY = "new-capability"
    SECURITY_HARDENING = "security-hardening"
    EOL = "eol"
    VULNERABILITY = "vulnerability"
    YANKED = "yanked"

    def __str__(self) -> str:
        return self.value


class FailOn(str, enum.Enum):
    """``--fail-on`` / ``[tool.depwatch] fail-on``: the lowest tag that fails the gate, or never
    (``depwatch.policy`` decides what fails)."""

    IMMEDIATE = "immediate"
    PLAN = "plan"
    MONITOR = "monitor"
    NEVER = "never"

    def __str__(self) -> str:
        return self.value
