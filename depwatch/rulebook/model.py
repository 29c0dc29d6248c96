"""A rule, parsed and validated: what changed in which versions, and when it concerns a project.

The file format is documented in ``rules/README.md``; ``depwatch.rulebook.loader`` turns a
TOML file into a :class:`Rule` (parsing is validation) and nothing in a rule is ever executed.

These records are immutable named tuples rather than frozen dataclasses, like
``packaging``'s own version key: the first lookup of a package builds its rules from the
compiled cache, and a frozen dataclass sets each field through ``object.__setattr__`` — 1.7 µs
for a ``Rule`` against 0.2 µs for the tuple here, a quarter of what building 2,000 rules costs.
Use ``rule._replace(...)`` for a changed copy.
"""

from __future__ import annotations

import datetime
from typing import NamedTuple

from packaging.specifiers import SpecifierSet
from packaging.version import Version

from depwatch.model import Tag

__all__ = ["KINDS", "CallPattern", "Examples", "LockCondition", "LockExample", "Rule", "Usage"]

#: Rule kinds (DESIGN.md); ``vulnerability`` is reserved for advisories.
KINDS = frozenset(
    {
        "breaking",
        "python-drop",
        "behaviour",
        "deprecation",
        "new-capability",
        "security-hardening",
        "eol",
    }
)


class CallPattern(NamedTuple):
    """A call to ``name`` (dotted, call results transparent) passing any of ``keywords``.

    With no keywords (and no ``without``), any call to ``name`` matches. With ``without``, a
    call matches when it passes none of those keywords by name, passes no ``**kwargs`` splat
    (which might hold them) and, with ``positional_max``, passes at most that many positional
    arguments and no ``*args`` splat. ``keywords`` and ``without`` are never both set.
    """

    name: str
    keywords: tuple[str, ...] = ()
    without: tuple[str, ...] = ()
    """Keywords the call must *not* pass: the call is usage when it leaves them all out."""
    positional_max: int | None = None
    """With ``without``: the call passes at most this many positional arguments (so a
    keyword's value was not passed by position instead)."""
    not_passed_to: tuple[str, ...] = ()
    """A call whose result goes straight to a call of one of these names (the last part:
    ``load_state_dict``) is not usage: what the change does depends on how the result is used."""


class Usage(NamedTuple):
    """Where a rule looks in the project's code. Any one match is usage."""

    modules: tuple[str, ...]
    """Import names the rule is about (``google.genai``): what the scanner must follow."""
    symbols: tuple[str, ...] = ()
    """Dotted names; a reference to the name or anything below it matches."""
    calls: tuple[CallPattern, ...] = ()
    env: tuple[str, ...] = ()
    """Environment variable names read through ``os.environ``/``os.getenv``."""


class LockCondition(NamedTuple):
    """A condition on the rest of the lock (``[[when-locked]]`` / ``[[unless-locked]]``).

    It holds when the same lockfile (for interpreter rules: any lockfile of the project) has an
    entry of ``package`` whose version is inside ``versions`` (any version when None) and, with
    ``runtime``, that is installed at run time (not only in development groups).
    """

    package: str
    """Normalised distribution name."""
    versions: SpecifierSet | None = None
    runtime: bool = False
    symbols: tuple[str, ...] = ()
    """``unless-locked`` only: the names of ``[usage]`` the locked package makes harmless
    (``distutils`` while setuptools is locked); empty means the whole rule."""


class LockExample(NamedTuple):
    """A lock context a rule's examples are judged in (``[[examples.lock]]``)."""

    packages: tuple[tuple[str, str, bool], ...]
    """The other locked entries: (normalised name, version, development only)."""
    applies: bool = True
    """Whether the rule still concerns the ``examples.affected`` versions in this lock."""
    code: str | None = None
    """A code sample judged in this lock: lines ending in ``# expect`` must be found."""


class Examples(NamedTuple):
    """A rule's own test cases, run by one test over every rule file."""

    affected: tuple[str, ...] = ()
    """Locked versions (or Python versions, for interpreter rules) that must match."""
    unaffected: tuple[str, ...] = ()
    """Versions that must not match."""
    code: str | None = None
    """A code sample; lines ending in ``# expect`` must be found, and no other line."""
    locks: tuple[LockExample, ...] = ()
    """Lock contexts for rules with ``when-locked``/``unless-locked``."""


class Rule(NamedTuple):
    """One curated change rule."""

    id: str
    """``<normalised distribution>/<slug>``, from the file's path."""
    package: str
    """Normalised distribution name, or ``python`` for interpreter rules."""
    kind: str
    tag: Tag
    """The base tag: the tag when the condition holds inside the affected range."""
    affected: SpecifierSet
    title: str
    what: str
    why: str
    action: str
    references: tuple[str, ...]
    boundary: Version | None = None
    """First release with the change: a lock below it whose condition holds gets ``plan``."""
    fixed: Version | None = None
    """The release to move to."""
    python_requires: SpecifierSet | None = None
    """The ``Requires-Python`` of the releases in ``affected`` (Python-floor rules)."""
    usage: Usage | None = None
    when_unused: str = "monitor"
    """``monitor`` or ``silent``: what a usage rule gives inside the range when unused."""
    eol: datetime.date | None = None
    """Interpreter rules: the end-of-life date of the Python versions in ``affected``."""
    added: str | None = None
    examples: Examples = Examples()
    source: str | None = None
    """The rule file, for messages."""
    action_below: str | None = None
    """The action for a lock below ``boundary`` (``action`` is then for a lock inside the
    range); None when ``action`` fits both."""
    when_locked: tuple[LockCondition, ...] = ()
    """The rule concerns a lock only when every one of these holds."""
    unless_locked: tuple[LockCondition, ...] = ()
    """The rule (or the named part of its usage) does not concern a lock where one holds."""

    @property
    def is_interpreter(self) -> bool:
        return self.package == "python"
