"""A rule, parsed and validated: what changed in which versions, and when it concerns a project.

The file format is documented in ``rules/README.md``; ``depwatch.rulebook.validate`` turns a
TOML file into a :class:`Rule` (parsing is validation) and nothing in a rule is ever executed.

These records are immutable named tuples rather than frozen dataclasses, like
``packaging``'s own version key: the first lookup of a package builds its rules from the
compiled cache, and a frozen dataclass sets each field through ``object.__setattr__`` — 1.7 µs
for a ``Rule`` against 0.2 µs for the tuple here, a quarter of what building 2,000 rules costs.
Use ``rule._replace(...)`` for a changed copy.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from typing import NamedTuple

from packaging.specifiers import SpecifierSet
from packaging.version import Version

from depwatch.model import RuleKind, Tag

__all__ = [
    "INTERPRETER",
    "KINDS",
    "NAMESPACE_ROOTS",
    "CallPattern",
    "Examples",
    "LockCondition",
    "LockExample",
    "Names",
    "Rule",
    "Usage",
    "default_module",
]

#: The folder (and ``package``) of rules about the interpreter itself.
INTERPRETER = "python"

#: Import roots that are namespace packages: the module a name belongs to is its first two
#: components (``google.genai``), not its first (``google``).
NAMESPACE_ROOTS = frozenset({"google", "azure", "jaraco", "zope", "backports", "sphinxcontrib"})

#: The kinds a rule file may have (``vulnerability`` and ``yanked`` are for advisories and the
#: package index).
KINDS = frozenset(
    kind for kind in RuleKind if kind not in (RuleKind.VULNERABILITY, RuleKind.YANKED)
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
    string_arg: int | None = None
    """The call matches only when its positional argument at this index (0-based) is a string
    literal (``conn.execute("select 1")``, an f-string too)."""


class Usage(NamedTuple):
    """Where a rule looks in the project's code. Any one match is usage."""

    modules: tuple[str, ...]
    """Import names the rule is about (``google.genai``): what the scanner must follow."""
    symbols: tuple[str, ...] = ()
    """Dotted names; a reference to the name or anything below it matches."""
    calls: tuple[CallPattern, ...] = ()
    env: tuple[str, ...] = ()
    """Environment variable names read through ``os.environ``/``os.getenv``."""
    assignments: tuple[str, ...] = ()
    """Module-level names a framework reads (``default_app_config``): assigning one is usage."""


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
    kind: RuleKind
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


#: How many rewrites one name goes through (a chain of aliases; a cycle ends here).
_MAX_REWRITES = 8


class Names:
    """Other spellings of a package's modules and objects (``rules/<package>/_package.toml``).

    ``aliases``: ``name`` is the same module or object as ``target`` (``matplotlib.pyplot.cm``
    is ``matplotlib.cm``): the name and everything below it are read as the target's.
    ``instances``: the attributes of ``name`` are those of the class ``target`` (a
    module-level object such as ``flask.request``, a function that returns an instance, a
    subclass): everything *below* the name is read as below the target; the name itself is not
    the class.
    """

    __slots__ = ("_memo", "aliases", "instances")

    def __init__(
        self, aliases: Mapping[str, str] | None = None, instances: Mapping[str, str] | None = None
    ) -> None:
        self.aliases: dict[str, str] = dict(aliases or {})
        self.instances: dict[str, str] = dict(instances or {})
        self._memo: dict[str, tuple[str, ...]] = {}

    def __bool__(self) -> bool:
        return bool(self.aliases or self.instances)

    def _rewrite(self, name: str) -> str | None:
        """One rewrite of ``name`` by its longest declared prefix, or None."""
        aliases, instances = self.aliases, self.instances
        cut = len(name)
        while cut > 0:
            prefix = name[:cut]
            target = aliases.get(prefix)
            if target is None and cut < len(name):
                target = instances.get(prefix)
            if target is not None:
                return target + name[cut:]
            cut = name.rfind(".", 0, cut)
        return None

    def spellings(self, name: str) -> tuple[str, ...]:
        """``name``, then each spelling it is rewritten to (at most ``_MAX_REWRITES``)."""
        found = self._memo.get(name)
        if found is not None:
            return found
        out = [name]
        current: str | None = name
        for _ in range(_MAX_REWRITES):
            current = self._rewrite(current)  # type: ignore[arg-type]
            if current is None or current in out:
                break
            out.append(current)
        found = self._memo[name] = tuple(out)
        return found

    def tracked(self, modules: Iterable[str]) -> tuple[str, ...]:
        """``modules`` and the modules whose names are declared to lead into them
        (``flask``, whose ``request`` is a ``werkzeug`` object, when ``werkzeug`` is tracked)."""
        out = set(modules)
        pairs = [*self.aliases.items(), *self.instances.items()]
        for _ in range(_MAX_REWRITES):
            added = False
            for name, target in pairs:
                if _under_any(target, out) or any(_under_any(m, (target,)) for m in out):
                    root = default_module(name)
                    if not _under_any(root, out) and root not in out:
                        out.add(root)
                        added = True
            if not added:
                break
        return tuple(sorted(out))


def _under_any(name: str, roots: Iterable[str]) -> bool:
    return any(name == root or name.startswith(root + ".") for root in roots)


def default_module(name: str) -> str:
    """The import name a dotted ``name`` belongs to: its root, or two components under a
    namespace root (``google.genai.Client`` → ``google.genai``)."""
    parts = name.split(".")
    if parts[0] in NAMESPACE_ROOTS and len(parts) > 1:
        return f"{parts[0]}.{parts[1]}"
    return parts[0]
