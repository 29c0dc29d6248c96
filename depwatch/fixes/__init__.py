"""The command (or edit) that resolves a finding, for the tool that wrote the lockfile.

depwatch never runs these: reporters show them and ``check --fix-commands`` prints them.

The target is the lowest version that resolves the finding: for an advisory the lowest fixed
version above the locked one; for a rule its ``fixed`` (or ``boundary``) version when that lies
above the locked version and outside ``affected``. A rule whose change has already happened (the
lock is past its boundary) asks for a code change, not an upgrade, and gets no fix. Python-floor
and end-of-life findings get the ``requires-python`` edit (and the re-lock).

The command is only offered when the project's own constraints (pyproject.toml, Pipfile, a
pip-compile ``.in`` file) allow the target; otherwise the fix names the constraint to change
first (Poetry and PDM: ``poetry add``/``pdm add``, which rewrite it).

Safety: a command is built only from a name that is a valid PEP 508 name, a version that parses
as PEP 440 (written in its normal form) and paths without control characters, each quoted with
:func:`shlex.quote`. Anything else gets no command.

``--online`` hook: :class:`FixContext` takes ``newest``, a callable answering "the newest
release of this package that installs on the declared Pythons" (``depwatch.index`` can supply
it); when set, it is the target instead of the lowest fixing version, still subject to the
project's constraints. Nothing passes it yet.

One module per job:

- :mod:`~depwatch.fixes.safe`: what may go into a command;
- :mod:`~depwatch.fixes.constraints`: the project's own constraints on a package;
- :mod:`~depwatch.fixes.context`: :class:`FixContext`, what a project offers to build fixes from;
- :mod:`~depwatch.fixes.packages`: the command or edit per lock format and tool;
- :mod:`~depwatch.fixes.python`: the ``requires-python`` edit;
- :mod:`~depwatch.fixes.finding`: the fixes of one finding;
- :mod:`~depwatch.fixes.render`: the ``--fix-commands`` output.
"""

from __future__ import annotations

from depwatch.fixes.context import FixContext, context_of
from depwatch.fixes.finding import fixes_for, with_fixes
from depwatch.fixes.render import commands
from depwatch.fixes.safe import safe_name, safe_version

__all__ = [
    "FixContext",
    "commands",
    "context_of",
    "fixes_for",
    "safe_name",
    "safe_version",
    "with_fixes",
]
