"""The option lines of a requirements file (``-r``/``-c``/``-e`` and the options that pin
nothing) and pip's ``${NAME}`` environment variables."""

from __future__ import annotations

import os
import re

from depwatch.errors import DepwatchError

_INCLUDE_OPTIONS = {
    "-r": "requirement",
    "--requirement": "requirement",
    "-c": "constraint",
    "--constraint": "constraint",
    "-e": "editable",
    "--editable": "editable",
}


#: Options pip accepts in a requirements file that say nothing about what is pinned.
_IGNORED_OPTIONS = frozenset(
    {
        "-i",
        "--index-url",
        "--extra-index-url",
        "--no-index",
        "-f",
        "--find-links",
        "--pre",
        "--trusted-host",
        "--prefer-binary",
        "--require-hashes",
        "--only-binary",
        "--no-binary",
        "--use-feature",
        "-Z",
        "--always-unzip",
        "--hash",
        "--config-settings",
        "--global-option",
    }
)


def _split_option(line: str) -> tuple[str, str]:
    """``-r x``, ``-rx``, ``--requirement=x``, ``--requirement x`` → (option, value)."""
    if line.startswith("--"):
        head, sep, tail = line.partition("=")
        if sep and " " not in head:
            return head, tail.strip()
        head, _, tail = line.partition(" ")
        return head, tail.strip()
    option, rest = line[:2], line[2:]
    return option, rest.strip()


#: pip's environment variables in a requirements file: ``${NAME}``, upper case, digits, ``_``.
_ENV_VAR = re.compile(r"\$\{([A-Z0-9_]+)\}")


def _expand(line: str, *, shown: str, lineno: int) -> str:
    """``${NAME}`` replaced by the environment's value, as pip does. pip leaves an unset (or
    empty) one as written, which makes a requirement invalid: that is an error here; in an
    option line (an index URL, say) it stays as written, as pip keeps it."""
    missing: list[str] = []

    def value(found: re.Match[str]) -> str:
        got = os.environ.get(found.group(1))
        if not got:
            missing.append(found.group(1))
            return found.group(0)
        return got

    expanded = _ENV_VAR.sub(value, line)
    # A requirement, an include or an editable needs the value; other options keep the text.
    needed = not line.startswith("-") or _split_option(line)[0] in _INCLUDE_OPTIONS
    if missing and needed:
        names = ", ".join(f"${{{name}}}" for name in dict.fromkeys(missing))
        raise DepwatchError(
            f"uses {names}, which is not set in the environment: pip expands environment "
            "variables in a requirements file, and leaves this line invalid without it",
            path=shown,
            line=lineno,
            hint="set the variable for the run (or pin the version in the file)",
        )
    return expanded
