"""Which dotted names the scan follows and reports (:class:`Tracker`), and two small tests of
names the resolver and the written second pass share."""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["Tracker", "is_under", "spelt_as_class"]


def is_under(name: str, roots: frozenset[str] | set[str]) -> bool:
    """True when ``name`` is one of ``roots`` or below one (dotted components)."""
    while True:
        if name in roots:
            return True
        cut = name.rfind(".")
        if cut < 0:
            return False
        name = name[:cut]


def spelt_as_class(name: str) -> bool:
    """Whether a tracked name is taken for a class (a parameter annotated with it holds an
    instance): only when it is spelt as one (``Session``, ``BaseModel``). An upper-case alias
    (``PRIVATE_KEY_TYPES``) or a lower-case name may be a Union or a module, and what is below
    a rule's symbol is usage of it."""
    last = name.rsplit(".", 1)[-1]
    return last[:1].isupper() and any(c.islower() for c in last)


class Tracker:
    """Which dotted names the scan follows (``internal``) and reports (``modules``)."""

    def __init__(
        self, modules: Iterable[str], env: Iterable[str] = (), assignments: Iterable[str] = ()
    ) -> None:
        self.modules = frozenset(m.strip() for m in modules if m and m.strip())
        self.env = frozenset(env)
        self.assignments = frozenset(assignments)
        """Module-level names whose assignment is reported (``default_app_config``)."""
        internal = set(self.modules)
        if self.env:
            internal.add("os")
        self.internal = frozenset(internal)
        prefixes: set[str] = set()
        for mod in self.internal:
            parts = mod.split(".")
            for i in range(1, len(parts)):
                prefixes.add(".".join(parts[:i]))
        self.prefixes = frozenset(prefixes)
        self.roots = frozenset(m.split(".", 1)[0] for m in self.internal)
        self._reportable: dict[str, bool] = {}

    def bindable(self, name: str) -> bool:
        """A dotted name worth remembering: on the way to, or inside, a tracked module."""
        return name in self.prefixes or is_under(name, self.internal)

    def reportable(self, name: str) -> bool:
        known = self._reportable.get(name)
        if known is None:
            known = self._reportable[name] = is_under(name, self.modules)
        return known
