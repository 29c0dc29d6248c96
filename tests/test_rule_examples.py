"""Every shipped rule runs its own examples (rules/README.md, ``[examples]``).

One test, parametrized over every rule file (ids are rule ids): the file loads; each
``examples.affected`` version is inside ``affected`` and each ``examples.unaffected`` one is not
(``SpecifierSet.contains(Version(v), prereleases=True)``; Python versions for interpreter
rules); and where there is ``examples.code``, the lines ending in ``# expect`` are exactly the
lines the usage scanner finds for the rule. Each ``[[examples.lock]]`` is judged by the
matcher's own lock conditions: whether the rule applies beside the listed entries, and, with
its own ``code``, which lines are found there.
The scanner uses the spellings every ``_package.toml`` of the
shipped rules declares (``plt.cm.get_cmap`` is ``matplotlib.cm.get_cmap``).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from depwatch.matcher import lock_context, passed_on
from depwatch.model import Package
from depwatch.rulebook import load_rule_file, shipped_dir
from depwatch.rulebook.model import Names, Rule, Usage

scan_source: Callable[..., Any] | None
evidence_for: Callable[..., Any] | None
try:
    from depwatch.usage import evidence_for, scan_source  # type: ignore[attr-defined]
except ImportError:
    try:
        from depwatch.usage.match import evidence_for
        from depwatch.usage.scan import scan_source
    except ImportError:
        scan_source = evidence_for = None

_EXPECT = re.compile(r"#\s*expect\s*$")


def rule_files() -> list[Path]:
    root = shipped_dir()
    return sorted(
        path
        for path in root.glob("*/*.toml")
        if not path.name.startswith((".", "_")) and not path.parent.name.startswith((".", "_"))
    )


def rule_id(path: Path) -> str:
    return f"{path.parent.name}/{path.stem}"


FILES = rule_files()


def contains(affected: SpecifierSet, versions: Iterable[str]) -> dict[str, bool]:
    return {text: affected.contains(Version(text), prereleases=True) for text in versions}


def expected_lines(code: str) -> set[int]:
    return {number for number, line in enumerate(code.splitlines(), 1) if _EXPECT.search(line)}


@functools.cache
def shipped_names() -> Names:
    from depwatch.rulebook import load_rulebook

    return load_rulebook().names()


def found_lines(rule: Rule, code: str | None = None, usage: Usage | None = None) -> set[int]:
    usage = usage or rule.usage
    code = code or rule.examples.code
    assert usage is not None
    assert code is not None
    assert scan_source is not None
    assert evidence_for is not None
    names = shipped_names()
    facts = scan_source(
        code,
        "example.py",
        names.tracked(usage.modules),
        usage.env,
        usage.assignments,
    )
    assert not facts.warnings, f"{rule.id}: the example did not scan cleanly: {facts.warnings}"
    return {evidence.line for evidence in passed_on(usage, evidence_for([facts], usage, names))}


def check_code(rule: Rule, code: str, usage: Usage | None = None, where: str = "") -> None:
    """The '# expect' lines of ``code`` are exactly the lines found, with ``usage``."""
    if scan_source is None or evidence_for is None:
        pytest.skip("usage scanner not available")
    expected = expected_lines(code)
    found = found_lines(rule, code, usage)
    lines = code.splitlines()
    missed = [f"{n}: {lines[n - 1].strip()}" for n in sorted(expected - found)]
    extra = [f"{n}: {lines[n - 1].strip()}" for n in sorted(found - expected)]
    assert (missed, extra) == ([], []), (
        f"{rule.id}{where}: usage not found on {missed or 'no line'}; "
        f"found but not marked '# expect' on {extra or 'no line'}"
    )


def check_locks(rule: Rule) -> None:
    """Each ``[[examples.lock]]``: the rule's own entry at every ``examples.affected`` version
    beside the listed entries, judged by the matcher's own lock conditions."""
    for index, example in enumerate(rule.examples.locks):
        where = f" (examples.lock[{index}])"
        others = [
            Package(name, version, groups=("dev",) if dev else ("main",))
            for name, version, dev in example.packages
        ]
        for version in rule.examples.affected:
            own = [] if rule.is_interpreter else [Package(rule.package, version, groups=("main",))]
            applies, usage = lock_context(rule, [*own, *others])
            assert applies == example.applies, (
                f"{rule.id}{where}: the rule {'does not apply' if example.applies else 'applies'}"
                f" beside {', '.join(' '.join(map(str, p)) for p in example.packages)}"
            )
        if example.code is not None and applies:
            check_code(rule, example.code, usage, where)


@pytest.mark.skipif(not FILES, reason="no shipped rules yet")
@pytest.mark.parametrize("path", FILES, ids=[rule_id(path) for path in FILES])
def test_rule_examples(path: Path) -> None:
    # (a) it loads, with the id its path gives it
    rule = load_rule_file(path)
    assert rule.id == rule_id(path)

    # (b) the versions it must and must not match
    assert rule.examples.affected, f"{rule.id}: no examples.affected"
    assert rule.examples.unaffected, f"{rule.id}: no examples.unaffected"
    inside = contains(rule.affected, rule.examples.affected)
    assert all(inside.values()), f"{rule.id}: outside {rule.affected}: " + ", ".join(
        text for text, hit in inside.items() if not hit
    )
    outside = contains(rule.affected, rule.examples.unaffected)
    assert not any(outside.values()), f"{rule.id}: inside {rule.affected}: " + ", ".join(
        text for text, hit in outside.items() if hit
    )

    # (c) the lock contexts (when-locked / unless-locked), each with its own code sample
    check_locks(rule)

    # (d) the code sample: the '# expect' lines, and no other line
    if rule.examples.code is None:
        return
    check_code(rule, rule.examples.code)


def test_the_shipped_rules_all_load_together() -> None:
    from depwatch.rulebook import check_dirs

    rules = check_dirs([shipped_dir()])
    assert sorted(rule.id for rule in rules) == sorted(rule_id(path) for path in FILES)
