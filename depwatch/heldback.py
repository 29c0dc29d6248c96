""" "Newer releases drop Python X" facts joined into the interpreter finding for each X.

A locked package whose newer releases require a newer Python than the project declares is held
back by that Python: :func:`fold_held_back` adds it to that Python's end-of-life finding, or
makes a ``python/held-back`` finding where no end-of-life rule speaks of that Python. The facts
come from curated Python-floor rules (:mod:`depwatch.matcher`) and from the package index
(:mod:`depwatch.index.facts`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace

from packaging.version import Version

from depwatch.model import Finding, HeldBack, RuleInfo, RuleKind, Tag
from depwatch.pythons import CANDIDATE_PYTHONS

__all__ = [
    "HELD_BACK_INFO",
    "HELD_BACK_RULE",
    "fold_held_back",
    "held_back_phrase",
    "join",
    "version_key",
]

#: The interpreter finding made for a Python that holds packages back when no interpreter rule
#: (end of life) speaks of that Python yet.
HELD_BACK_RULE = "python/held-back"
HELD_BACK_INFO = RuleInfo(
    id=HELD_BACK_RULE,
    title="Newer releases of locked packages drop a Python version the project declares",
    kind=RuleKind.PYTHON_DROP,
    what="Newer releases of some locked packages require a newer Python than the oldest one "
    "the project declares, so the lock stays on older releases for as long as that Python is "
    "declared.",
    why="Bug and security fixes arrive in the newer releases only.",
    action="Drop the Python versions named, or keep them and stay on the locked releases.",
    references=("https://packaging.python.org/en/latest/guides/dropping-older-python-versions/",),
)


def join(items: Sequence[str]) -> str:
    """``3.9``, ``3.9 and 3.10``, ``3.8, 3.9 and 3.10``."""
    if len(items) < 2:
        return "".join(items)
    return f"{', '.join(items[:-1])} and {items[-1]}"


def fold_held_back(
    findings: Sequence[Finding],
    held: Iterable[HeldBack],
    *,
    project: str,
    declared: Sequence[str],
    explicit_targets: bool = False,
) -> list[Finding]:
    """Join "newer releases drop Python X" facts into the interpreter finding for each X.

    ``findings`` are one project's interpreter findings (others pass through unchanged); each
    item of ``held`` names a locked package and version, the newer release, and the declared
    Pythons that release drops. The item joins the end-of-life finding of every such Python
    (made **plan** at least: a declared Python holds the project back), or a
    ``python/held-back`` finding made for it when no end-of-life rule speaks of that Python.
    Items for the same package and version are united (their lockfiles and Pythons).
    """
    by_python: dict[str, dict[tuple[str, str], HeldBack]] = {}
    for item in held:
        for python in item.pythons:
            known_items = by_python.setdefault(python, {})
            seen = known_items.get((item.package, item.version))
            joined = item
            if seen is not None:
                # For this Python, the first newer release that drops it is the one named.
                first = min((seen, item), key=lambda h: version_key(h.newer))
                joined = replace(
                    first,
                    lockfiles=tuple(dict.fromkeys(seen.lockfiles + item.lockfiles)),
                    dev=seen.dev and item.dev,
                )
            known_items[(item.package, item.version)] = joined
    result = list(findings)
    order = sorted(declared, key=Version)
    for python in sorted(by_python, key=Version):
        items = sorted(by_python[python].values(), key=lambda i: (i.dev, i.package, i.version))
        drop = [py for py in order if Version(py) <= Version(python)]
        later = [py for py in CANDIDATE_PYTHONS if Version(py) > Version(python)]
        at = next(
            (
                index
                for index, finding in enumerate(result)
                if finding.package == "python"
                and finding.version == python
                and (finding.kind == RuleKind.EOL or finding.rule == HELD_BACK_RULE)
            ),
            None,
        )
        if at is not None:
            known = result[at]
            tag = known.tag if known.tag.rank < Tag.PLAN.rank else Tag.PLAN
            result[at] = replace(known, tag=tag, held_back=known.held_back + tuple(items))
            continue
        floor = f" (raise requires-python to >={later[0]})" if later else ""
        result.append(
            Finding(
                rule=HELD_BACK_RULE,
                project=project,
                package="python",
                version=python,
                tag=Tag.PLAN,
                kind=RuleKind.PYTHON_DROP,
                title=f"Python {python} {held_back_phrase(items)}",
                action=f"Drop Python {join(drop)}{floor} so that these packages can move to "
                f"their newer releases, or keep Python {python} and stay on the locked ones.",
                references=HELD_BACK_INFO.references,
                targets=(python,) if explicit_targets else None,
                held_back=tuple(items),
            )
        )
    return result


def held_back_phrase(items: Sequence[HeldBack], limit: int = 4) -> str:
    """``holds back numpy 2.0.2, pandas 2.2.3 and 5 development tools``."""
    runtime = [f"{item.package} {item.version}" for item in items if not item.dev]
    dev = sum(1 for item in items if item.dev)
    shown = runtime[:limit]
    parts = list(shown)
    if len(runtime) > limit:
        parts.append(
            f"{len(runtime) - limit} more package{'s' if len(runtime) - limit > 1 else ''}"
        )
    if dev:
        parts.append(f"{dev} development tool{'s' if dev > 1 else ''}")
    return f"holds back {join(parts)}"


def version_key(text: str) -> tuple[int, Version | str]:
    try:
        return (0, Version(text))
    except ValueError:  # InvalidVersion, or a number past the digit limit
        return (1, text)
