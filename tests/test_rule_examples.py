"""Every shipped rule runs its own examples (rules/README.md, ``[examples]``).

One test, parametrized over every rule file (ids are rule ids): the file loads (the loader
refuses an ``examples.affected`` version outside ``affected`` or an ``examples.unaffected`` one
inside it), and the rule it gives carries the file's examples unchanged; where there is
``examples.code``, the lines ending in ``# expect`` are exactly the
lines the usage scanner finds for the rule. Each ``[[examples.lock]]`` is judged by the
matcher's own lock conditions: whether the rule applies beside the listed entries, and, with
its own ``code``, which lines are found there.
The scanner uses the spellings every ``_package.toml`` of the
shipped rules declares (``plt.cm.get_cmap`` is ``matplotlib.cm.get_cmap``).
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

import pytest

from depwatch import tomlfile
from depwatch.matcher import lock_context, passed_on
from depwatch.model import Package
from depwatch.rulebook import load_rule_file, shipped_dir
from depwatch.rulebook.model import Names, Rule, Usage
from depwatch.usage import evidence_for, scan_source

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

    # (b) the examples the rule carries are the file's, unchanged by the trip through the
    # loader's rows (the loader itself refuses an example on the wrong side of `affected`:
    # tests/rulebook/test_loader.py), so (c) and (d) judge what the author wrote
    written = tomlfile.load(path)["examples"]
    assert list(rule.examples.affected) == written["affected"]
    assert list(rule.examples.unaffected) == written["unaffected"]
    assert rule.examples.code == written.get("code")
    locks = written.get("lock", [])
    assert [lock.applies for lock in rule.examples.locks] == [
        lock.get("applies", True) for lock in locks
    ]
    assert [len(lock.packages) for lock in rule.examples.locks] == [
        len(lock["packages"]) for lock in locks
    ]

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
