"""How a rule's tag is decided (DESIGN.md "Tags"), at the edges."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import replace

import pytest
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from depwatch.heldback import HELD_BACK_INFO, HELD_BACK_RULE, fold_held_back, held_back_phrase
from depwatch.matcher import MatchContext, Matcher, passed_on
from depwatch.merge import merge
from depwatch.model import Evidence, Finding, HeldBack, Lockfile, Package, RuleInfo, Tag
from depwatch.pythons import admitted_minors
from depwatch.rulebook.model import CallPattern, LockCondition, Rule, Usage

PY39 = admitted_minors(SpecifierSet(">=3.9"))
PY310 = admitted_minors(SpecifierSet(">=3.10"))
TODAY = datetime.date(2026, 11, 24)

FLOOR = Rule(
    id="db-dtypes/python-3.10-required",
    package="db-dtypes",
    kind="python-drop",
    tag=Tag.IMMEDIATE,
    affected=SpecifierSet(">=1.7.0"),
    boundary=Version("1.7.0"),
    python_requires=SpecifierSet(">=3.10"),
    title="t",
    what="w",
    why="y",
    action="a",
    references=("https://example.org",),
)
WIRE = Rule(
    id="google-genai/response-format-wire-names",
    package="google-genai",
    kind="behaviour",
    tag=Tag.IMMEDIATE,
    affected=SpecifierSet("==2.0.0"),
    fixed=Version("2.0.1"),
    usage=Usage(
        modules=("google.genai",),
        calls=(CallPattern("google.genai.Client.interactions.create", ("response_format",)),),
    ),
    title="t",
    what="w",
    why="y",
    action="a",
    references=("https://example.org",),
)
BREAK = Rule(
    id="numpy/namespace-removals-2.0",
    package="numpy",
    kind="breaking",
    tag=Tag.IMMEDIATE,
    affected=SpecifierSet(">=2.0.0"),
    boundary=Version("2.0.0"),
    usage=Usage(modules=("numpy",), symbols=("numpy.float_",)),
    title="t",
    what="w",
    why="y",
    action="a",
    references=("https://example.org",),
)
PLAIN = Rule(
    id="jax/pallas",
    package="jax",
    kind="new-capability",
    tag=Tag.MONITOR,
    affected=SpecifierSet(">=0.10.1"),
    title="t",
    what="w",
    why="y",
    action="a",
    references=("https://example.org",),
)
EOL = Rule(
    id="python/3.9-end-of-life",
    package="python",
    kind="eol",
    tag=Tag.PLAN,
    affected=SpecifierSet("==3.9.*"),
    eol=datetime.date(2025, 10, 31),
    title="t",
    what="w",
    why="y",
    action="a",
    references=("https://example.org",),
)
EVIDENCE = (Evidence(path="app.py", line=3, column=1, code="x"),)


class Book:
    def __init__(self, rules: Sequence[Rule]) -> None:
        self.rules = rules

    def for_package(self, name: str) -> Sequence[Rule]:
        return [r for r in self.rules if r.package == name]

    def interpreter_rules(self) -> Sequence[Rule]:
        return [r for r in self.rules if r.package == "python"]


def _lock(*packages: Package) -> Lockfile:
    return Lockfile(path="uv.lock", format="uv", packages=packages)


def _match(rules: Sequence[Rule], *packages: Package, declared=PY39, usage=None, **kw):  # type: ignore[no-untyped-def]
    ctx = MatchContext(project=".", declared=declared, today=TODAY, usage=usage, **kw)
    matched = Matcher(Book(rules), ctx).match([_lock(*packages)])
    return matched, merge(matched.findings)


def test_python_floor_crossed_is_immediate() -> None:
    _, (finding,) = _match([FLOOR], Package("db-dtypes", "1.9.0"))
    assert finding.tag is Tag.IMMEDIATE
    assert finding.targets == ("3.9",)
    assert finding.lockfiles == ("uv.lock",)


def test_forked_lock_gets_nothing_immediate() -> None:
    _, findings = _match(
        [FLOOR],
        Package("db-dtypes", "1.6.0", markers="python_full_version < '3.10'"),
        Package("db-dtypes", "1.9.0", markers="python_full_version >= '3.10'"),
    )
    # The lock already moves to 1.9.0 where it can: the 1.6.0 entry for 3.9 asks for nothing.
    assert findings == []


def test_project_already_on_newer_python_gets_nothing() -> None:
    _, findings = _match([FLOOR], Package("db-dtypes", "1.9.0"), declared=PY310)
    assert findings == []


def test_python_floor_without_declared_python_is_skipped() -> None:
    matched, findings = _match([FLOOR], Package("db-dtypes", "1.9.0"), declared=None)
    assert findings == []
    assert matched.skipped_python_rules == {FLOOR.id}


def test_usage_decides_the_tag() -> None:
    pkg = Package("google-genai", "2.0.0")
    _, (used,) = _match([WIRE], pkg, usage=lambda u: EVIDENCE)
    assert (used.tag, used.evidence) == (Tag.IMMEDIATE, EVIDENCE)
    _, (unused,) = _match([WIRE], pkg, usage=lambda u: ())
    assert unused.tag is Tag.MONITOR
    _, silent = _match([WIRE._replace(when_unused="silent")], pkg, usage=lambda u: ())
    assert silent == []
    _, fixed = _match([WIRE], Package("google-genai", "2.0.1"), usage=lambda u: EVIDENCE)
    assert fixed == []


def test_usage_scan_off_gives_monitor_and_says_so() -> None:
    matched, (finding,) = _match([WIRE], Package("google-genai", "2.0.0"), usage=None)
    assert finding.tag is Tag.MONITOR
    assert matched.usage_unknown == {WIRE.id}


def test_below_breaking_boundary_with_usage_is_plan() -> None:
    _, (finding,) = _match([BREAK], Package("numpy", "1.26.4"), usage=lambda u: EVIDENCE)
    assert finding.tag is Tag.PLAN
    _, none = _match([BREAK], Package("numpy", "1.26.4"), usage=lambda u: ())
    assert none == []


@pytest.mark.parametrize(
    ("version", "matches"),
    [
        ("2.0.0", True),
        ("2.0.0.post1", True),
        ("2.0.0+cpu", True),
        ("2.1.0rc1", True),
        ("2.0.0rc1", False),
        ("1.26.4", False),
    ],
)
def test_version_edges(version: str, matches: bool) -> None:
    _, findings = _match([BREAK], Package("numpy", version), usage=lambda u: EVIDENCE)
    tags = {f.tag for f in findings}
    assert (Tag.IMMEDIATE in tags) is matches


def test_non_pep440_version_matches_nothing() -> None:
    matched, findings = _match([PLAIN], Package("jax", "9e"))
    assert findings == []
    assert matched.not_pep440 == ("jax 9e in uv.lock",)


def test_rule_without_condition() -> None:
    _, (finding,) = _match([PLAIN], Package("jax", "0.10.2"))
    assert finding.tag is Tag.MONITOR
    _, none = _match([PLAIN], Package("jax", "0.10.0"))
    assert none == []


@pytest.mark.parametrize(
    ("today", "tag"),
    [
        (datetime.date(2026, 1, 1), Tag.PLAN),
        (datetime.date(2025, 6, 1), Tag.MONITOR),
        (datetime.date(2024, 1, 1), None),
    ],
)
def test_end_of_life(today: datetime.date, tag: Tag | None) -> None:
    ctx = MatchContext(project=".", declared=PY39, today=today)
    findings = Matcher(Book([EOL]), ctx).match_interpreter().findings
    assert [f.tag for f in findings] == ([tag] if tag else [])
    if tag:
        assert (findings[0].package, findings[0].version, findings[0].lockfiles) == (
            "python",
            "3.9",
            (),
        )


def test_explicit_targets_filter_entries() -> None:
    pkgs = (Package("jax", "0.10.2", markers="python_version < '3.11'"),)
    _, findings = _match([PLAIN], *pkgs, declared=("3.13",), explicit_targets=True)
    assert findings == []
    _, (finding,) = _match([PLAIN], *pkgs, declared=("3.10", "3.13"), explicit_targets=True)
    assert finding.targets == ("3.10",)


def test_targets_without_flags_say_where_an_entry_is_limited() -> None:
    pkg = Package("jax", "0.10.2", markers="sys_platform == 'linux'")
    _, (finding,) = _match([PLAIN], pkg, declared=("3.12",))
    assert finding.targets == ("3.12/linux",)


def test_merge_unites_lockfiles() -> None:
    _, one = _match([PLAIN], Package("jax", "0.10.2"))
    other = replace(one[0], lockfiles=("requirements.txt",))
    (merged,) = merge([one[0], other])
    assert merged.lockfiles == ("uv.lock", "requirements.txt")


STDLIB = Rule(
    id="python/stdlib-removals-3.12",
    package="python",
    kind="breaking",
    tag=Tag.PLAN,
    affected=SpecifierSet(">=3.12"),
    boundary=Version("3.12"),
    usage=Usage(modules=("imp",), symbols=("imp",)),
    title="t",
    what="w",
    why="y",
    action="a",
    references=("https://example.org",),
)


@pytest.mark.parametrize(
    ("declared", "evidence", "expected"),
    [
        (PY39, EVIDENCE, [("3.12", Tag.PLAN)]),
        (PY39, (), [("3.12", Tag.MONITOR)]),
        (("3.10", "3.11"), EVIDENCE, [("3.11", Tag.PLAN)]),
        (("3.10", "3.11"), (), []),
    ],
)
def test_stdlib_removal(
    declared: tuple[str, ...], evidence: tuple[Evidence, ...], expected: list[tuple[str, Tag]]
) -> None:
    ctx = MatchContext(project=".", declared=declared, today=TODAY, usage=lambda u: evidence)
    findings = Matcher(Book([STDLIB]), ctx).match_interpreter().findings
    assert [(f.version, f.tag) for f in findings] == expected


def test_stdlib_removal_names_the_lowest_declared_python_whatever_the_order() -> None:
    ctx = MatchContext(
        project=".", declared=("3.13", "3.12"), today=TODAY, usage=lambda u: EVIDENCE
    )
    (finding,) = Matcher(Book([STDLIB]), ctx).match_interpreter().findings
    assert finding.version == "3.12"


@pytest.mark.parametrize(
    ("markers", "version", "expected"),
    [
        # A floor crossed on the patch releases of a declared minor the markers admit.
        ("python_full_version >= '3.9.2'", "1.7.0", [("1.7.0", Tag.IMMEDIATE, ("3.9",))]),
        # Below the boundary: Python 3.9 holds it back (the interpreter finding for 3.9).
        ("python_full_version >= '3.9.2'", "1.6.0", [("3.9", Tag.PLAN, None)]),
        (
            "python_full_version >= '3.9.2' and python_full_version < '3.9.5'",
            "1.7.0",
            [("1.7.0", Tag.IMMEDIATE, ("3.9",))],
        ),
        (
            "python_full_version > '3.9.2' and python_full_version < '3.9.4'",
            "1.7.0",
            [("1.7.0", Tag.IMMEDIATE, ("3.9",))],
        ),
        # Installed from 3.10 on only: the project's 3.9 never gets it.
        ("python_full_version >= '3.10.1'", "1.7.0", []),
    ],
)
def test_patch_level_markers_are_judged_at_every_patch_release(
    markers: str, version: str, expected: list[tuple[str, Tag, tuple[str, ...] | None]]
) -> None:
    _, findings = _match([FLOOR], Package("db-dtypes", version, markers=markers))
    assert [(f.version, f.tag, f.targets) for f in findings] == expected


def test_a_fork_at_a_patch_release() -> None:
    _, findings = _match(
        [FLOOR],
        Package("db-dtypes", "1.6.0", markers="python_full_version < '3.9.2'"),
        Package("db-dtypes", "1.7.0", markers="python_full_version >= '3.9.2'"),
    )
    # 1.6.0 is where the lock keeps 3.9.0 and 3.9.1: already split, it asks for nothing.
    assert sorted((f.version, f.tag) for f in findings) == [("1.7.0", Tag.IMMEDIATE)]


def test_python_floor_targets_keep_the_platforms_the_entry_is_limited_to() -> None:
    _, (finding,) = _match(
        [FLOOR], Package("db-dtypes", "1.7.0", markers="sys_platform == 'win32'")
    )
    assert finding.tag is Tag.IMMEDIATE
    assert finding.targets == ("3.9/windows",)


def test_an_entry_installed_on_no_declared_python_has_no_target_labels() -> None:
    _, (finding,) = _match(
        [PLAIN], Package("jax", "0.10.1", markers="python_version < '3.9'"), declared=PY310
    )
    assert finding.targets is None


def test_versions_that_are_not_pep440_are_listed_with_or_without_rules() -> None:
    matched, findings = _match([PLAIN], Package("openssl", "9e"), Package("jax", "0.10.x"))
    assert findings == []
    assert matched.not_pep440 == ("openssl 9e in uv.lock", "jax 0.10.x in uv.lock")


@pytest.mark.parametrize(
    ("platform", "expected"), [("macos", ["2.0.1"]), ("linux", ["1.26.4"]), ("windows", [])]
)
def test_a_platform_is_every_machine_it_runs_on(platform: str, expected: list[str]) -> None:
    # A conda lock's osx-arm64 and linux-64 entries, judged wherever depwatch runs.
    _, findings = _match(
        [BREAK],
        Package(
            "numpy", "2.0.1", markers="sys_platform == 'darwin' and platform_machine == 'arm64'"
        ),
        Package(
            "numpy", "1.26.4", markers="sys_platform == 'linux' and platform_machine == 'x86_64'"
        ),
        explicit_targets=True,
        platforms=(platform,),
        usage=lambda u: EVIDENCE,
    )
    assert sorted(f.version for f in findings) == expected


# -- one finding per (rule, package) ------------------------------------------------------

TORCH = Rule(
    id="torch/load-weights-only-default-2.6",
    package="torch",
    kind="behaviour",
    tag=Tag.PLAN,
    affected=SpecifierSet(">=2.6.0"),
    boundary=Version("2.6.0"),
    usage=Usage(
        modules=("torch",),
        calls=(
            CallPattern(
                "torch.load", without=("weights_only",), not_passed_to=("load_state_dict",)
            ),
        ),
    ),
    title="t",
    what="w",
    why="y",
    action="inside",
    action_below="below",
    references=("https://example.org",),
)


def test_two_entries_of_one_package_make_one_finding_listing_both() -> None:
    _, findings = _match(
        [TORCH],
        Package("torch", "2.6.0", markers="sys_platform == 'darwin'"),
        Package("torch", "2.6.0+cu126", markers="sys_platform == 'linux'"),
        usage=lambda usage: EVIDENCE,
    )
    (finding,) = findings
    assert (finding.version, finding.versions) == ("2.6.0", ("2.6.0", "2.6.0+cu126"))
    assert finding.evidence == EVIDENCE
    assert finding.action == "inside"


def test_the_action_fits_where_the_lock_is() -> None:
    _, (below,) = _match([TORCH], Package("torch", "2.5.1"), usage=lambda usage: EVIDENCE)
    _, (inside,) = _match([TORCH], Package("torch", "2.7.0"), usage=lambda usage: EVIDENCE)
    assert (below.tag, below.action) == (Tag.PLAN, "below")
    assert inside.action == "inside"


def test_an_immediate_floor_finding_names_every_python_to_drop() -> None:
    rule = FLOOR._replace(python_requires=SpecifierSet(">=3.12"), action="prose")
    _, (finding,) = _match([rule], Package("db-dtypes", "1.9.0"))
    assert finding.tag is Tag.IMMEDIATE
    assert finding.action.startswith(
        "Drop Python 3.9, 3.10 and 3.11 (raise requires-python to >=3.12)"
    )
    assert "db-dtypes<1.7.0 for python_version < '3.12'" in finding.action


# -- conditions on the rest of the lock --------------------------------------------------

FLASK = Rule(
    id="flask/werkzeug-3.1-version-removed",
    package="flask",
    kind="breaking",
    tag=Tag.IMMEDIATE,
    affected=SpecifierSet(">=2.2.4,<2.3"),
    when_locked=(LockCondition("werkzeug", SpecifierSet(">=3.1.0")),),
    title="t",
    what="w",
    why="y",
    action="a",
    references=("https://example.org",),
)
REMOVALS = Rule(
    id="python/stdlib-removals-3.12",
    package="python",
    kind="breaking",
    tag=Tag.PLAN,
    affected=SpecifierSet(">=3.12"),
    boundary=Version("3.12"),
    usage=Usage(modules=("distutils", "imp"), symbols=("distutils", "imp")),
    unless_locked=(LockCondition("setuptools", runtime=True, symbols=("distutils",)),),
    title="t",
    what="w",
    why="y",
    action="a",
    references=("https://example.org",),
)


@pytest.mark.parametrize(
    ("werkzeug", "expected"), [("3.1.3", [Tag.IMMEDIATE]), ("3.0.6", []), ("2.3.8", [])]
)
def test_when_locked(werkzeug: str, expected: list[Tag]) -> None:
    _, findings = _match([FLASK], Package("flask", "2.2.5"), Package("werkzeug", werkzeug))
    assert [f.tag for f in findings] == expected


def test_when_locked_looks_in_the_same_lockfile_only() -> None:
    matcher = Matcher(Book([FLASK]), MatchContext(project=".", declared=PY39, today=TODAY))
    found = matcher.match_lockfile(_lock(Package("flask", "2.2.5"))).findings
    found += matcher.match_lockfile(
        Lockfile(path="other.txt", format="requirements", packages=(Package("werkzeug", "3.1.3"),))
    ).findings
    assert found == ()


@pytest.mark.parametrize(
    ("groups", "symbols"),
    [
        (("main",), ["imp"]),  # setuptools at run time provides distutils
        ((), ["imp"]),  # a requirements file: installed, whatever its groups
        (("dev",), ["distutils", "imp"]),  # only a development tool: distutils is gone
        (("constraint",), ["distutils", "imp"]),  # a constraint installs nothing
    ],
)
def test_unless_locked_takes_symbols_out_of_the_usage(
    groups: tuple[str, ...], symbols: list[str]
) -> None:
    asked: list[Usage] = []

    def usage(wanted: Usage) -> tuple[Evidence, ...]:
        asked.append(wanted)
        return EVIDENCE

    _, findings = _match(
        [REMOVALS], Package("setuptools", "75.8.0", groups=groups), declared=PY39, usage=usage
    )
    assert [f.rule for f in findings] == [REMOVALS.id]
    assert list(asked[-1].symbols) == symbols


def test_unless_locked_without_symbols_silences_the_rule() -> None:
    rule = FLASK._replace(when_locked=(), unless_locked=(LockCondition("werkzeug"),))
    _, findings = _match([rule], Package("flask", "2.2.5"), Package("werkzeug", "2.3.8"))
    assert findings == []
    _, findings = _match([rule], Package("flask", "2.2.5"))
    assert [f.tag for f in findings] == [Tag.IMMEDIATE]


# -- what matching returns -------------------------------------------------------------------


def test_the_findings_of_a_rule_share_its_description_and_the_result_lists_it() -> None:
    other = Lockfile("requirements.txt", "requirements", (Package("db-dtypes", "1.8.0"),))
    ctx = MatchContext(project=".", declared=PY39, today=TODAY)
    matched = Matcher(Book([FLOOR, EOL]), ctx).match([_lock(Package("db-dtypes", "1.9.0")), other])
    floor = [f for f in matched.findings if f.rule == FLOOR.id]
    assert [f.version for f in floor] == ["1.9.0", "1.8.0"]
    assert floor[0].info is floor[1].info is matched.rules[FLOOR.id]
    assert matched.rules[FLOOR.id] == RuleInfo(
        id=FLOOR.id,
        title="t",
        kind="python-drop",
        what="w",
        why="y",
        action="a",
        references=("https://example.org",),
    )
    assert (
        sorted(matched.rules)
        == sorted({f.rule for f in matched.findings})
        == [
            FLOOR.id,
            EOL.id,
        ]
    )


def test_a_held_back_finding_the_matcher_makes_is_described_as_one() -> None:
    matched, (finding,) = _match([FLOOR], Package("db-dtypes", "1.6.0"))
    assert finding.rule == HELD_BACK_RULE
    assert finding.info is HELD_BACK_INFO
    assert matched.rules == {HELD_BACK_RULE: HELD_BACK_INFO}


def test_the_notes_of_each_lockfile_and_the_interpreter_pass_are_joined() -> None:
    ctx = MatchContext(project=".", declared=None, today=TODAY)
    matched = Matcher(Book([FLOOR, EOL]), ctx).match(
        [
            _lock(Package("db-dtypes", "1.9.0"), Package("jax", "9e")),
            Lockfile("requirements.txt", "requirements", (Package("openssl", "1.1.1w"),)),
        ]
    )
    assert matched.findings == ()
    assert matched.skipped_python_rules == {FLOOR.id, EOL.id}
    assert matched.not_pep440 == (
        "jax 9e in uv.lock",
        "openssl 1.1.1w in requirements.txt",
    )


def test_a_finding_made_without_a_description_is_described_by_its_own_texts() -> None:
    finding = Finding(
        rule="r/x",
        project=".",
        package="p",
        version="1",
        tag=Tag.PLAN,
        kind="breaking",
        title="T",
        action="A",
        references=("https://example.org",),
    )
    assert finding.description == RuleInfo(
        id="r/x", title="T", kind="breaking", action="A", references=("https://example.org",)
    )
    described = replace(finding, info=HELD_BACK_INFO)
    assert described.description is HELD_BACK_INFO
    assert described == finding  # the description is no part of what the finding is


# -- "newer releases drop Python X", joined into the interpreter finding ---------------------


def test_fold_held_back_joins_the_end_of_life_finding_and_makes_one_where_none_is() -> None:
    _, (eol,) = _match([EOL], declared=PY39)
    held = [
        HeldBack("numpy", "2.0.2", "2.1.0", ("3.9",), lockfiles=("uv.lock",)),
        HeldBack("pandas", "2.2.3", "3.0.0", ("3.9", "3.10")),
        HeldBack("pytest", "8.4.2", "9.0.0", ("3.9",), dev=True),
        HeldBack("numpy", "2.0.2", "2.1.0", ("3.9",), lockfiles=("requirements.txt",)),
    ]
    folded = fold_held_back([eol], held, project=".", declared=PY39)
    by_version = {f.version: f for f in folded}
    assert by_version["3.9"].rule == EOL.id
    assert by_version["3.9"].tag is Tag.PLAN
    assert [(h.package, h.lockfiles) for h in by_version["3.9"].held_back] == [
        ("numpy", ("uv.lock", "requirements.txt")),
        ("pandas", ()),
        ("pytest", ()),
    ]
    made = by_version["3.10"]
    assert (made.rule, made.tag, made.title) == (
        HELD_BACK_RULE,
        Tag.PLAN,
        "Python 3.10 holds back pandas 2.2.3",
    )
    assert made.action.startswith("Drop Python 3.9 and 3.10 (raise requires-python to >=3.11)")


def test_the_phrase_counts_development_tools() -> None:
    items = [HeldBack(f"p{i}", "1", "2", ("3.9",)) for i in range(6)]
    items += [HeldBack(f"d{i}", "1", "2", ("3.9",), dev=True) for i in range(5)]
    assert held_back_phrase(items) == (
        "holds back p0 1, p1 1, p2 1, p3 1, 2 more packages and 5 development tools"
    )


@pytest.mark.parametrize(
    ("code", "kept"),
    [
        ("model.load_state_dict(torch.load(p))", False),
        ("net.load_state_dict(th.load(p, map_location='cpu'), strict=False)", False),
        ("state = torch.load(p)", True),
        ("model.load_state_dict(torch.load(p)['model'])", True),  # a part of a bigger pickle
        ("model.load_state_dict(torch.load(a)); b = torch.load(c)", True),
        ("torch.load(p))", True),  # the tail of a statement over several lines: in doubt
    ],
)
def test_a_result_passed_straight_on_is_no_usage(code: str, kept: bool) -> None:
    evidence = (Evidence("m.py", 1, 1, code, symbol="torch.load() without weights_only="),)
    assert passed_on(TORCH.usage, evidence) == (evidence if kept else ())  # type: ignore[arg-type]
