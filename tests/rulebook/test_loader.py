"""Rule files → Rule: every validation problem names the file and the key, all at once."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from depwatch.errors import DepwatchError
from depwatch.model import RuleKind, Tag
from depwatch.rulebook import RuleErrors, check_dirs, load_rule_file
from depwatch.rulebook.folders import scan_dir
from depwatch.rulebook.model import CallPattern, Rule, Usage, default_module
from depwatch.rulebook.rows import rule_from_row, to_row
from depwatch.rulebook.validate import validate

GOOD = '''\
package = "Google_GenAI"
kind = "behaviour"
tag = "immediate"
affected = ">=2.0.0,<2.0.1"
fixed = "2.0.1"
title = "Interactions response_format fields are sent with camelCase wire names"
what = "2.0.0 sends camelCase names."
why = "The service may ignore the options."
action = "Upgrade google-genai to 2.0.1 or later."
references = ["https://github.com/googleapis/python-genai/commit/97142b1"]
added = "0.1.0"
when-unused = "silent"

[usage]
symbols = ["google.genai.interactions.AudioResponseFormat"]
calls = [{ name = "google.genai.Client.interactions.create", keywords = ["response_format"] }]
env = ["GOOGLE_CLOUD_DISABLE_METRICS"]

[examples]
affected = ["2.0.0", "2.0.0.post1", "2.0.0+local"]
unaffected = ["1.99.0", "2.0.1", "2.0.1rc1"]
code = """
from google import genai
client = genai.Client()
client.interactions.create(model="m", response_format=fmt)  # expect
"""
'''

FLOOR = """\
package = "db-dtypes"
kind = "python-drop"
tag = "immediate"
affected = ">=1.7.0"
boundary = "1.7.0"
title = "db-dtypes 1.7.0 drops Python 3.9"
what = "Requires-Python is now >=3.10."
why = "The lock cannot be installed on 3.9."
action = "Drop Python 3.9, or pin db-dtypes<1.7 there."
references = ["https://github.com/googleapis/google-cloud-python/pull/16966"]

[python]
requires = ">=3.10"

[examples]
affected = ["1.7.0", "1.7.0.post1"]
unaffected = ["1.6.0", "1.7.0rc1"]
"""

EOL = """\
package = "python"
kind = "eol"
tag = "plan"
affected = "==3.9.*"
eol = 2025-10-31
title = "Python 3.9 reached end of life"
what = "No more security fixes."
why = "Declared Python versions get no fixes."
action = "Require Python >=3.10."
references = ["https://peps.python.org/pep-0596/"]

[examples]
affected = ["3.9", "3.9.18"]
unaffected = ["3.10", "3.8"]
"""


def write(root: Path, folder: str, slug: str, text: str) -> Path:
    path = root / folder / f"{slug}.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def problems(path: Path) -> str:
    with pytest.raises(RuleErrors) as info:
        load_rule_file(path)
    return str(info.value)


# -- a good rule -----------------------------------------------------------------------------


def test_good_rule_round_trips(tmp_path: Path) -> None:
    rule = load_rule_file(write(tmp_path, "google-genai", "response-format-wire-names", GOOD))
    assert rule.id == "google-genai/response-format-wire-names"
    assert rule.package == "google-genai"
    assert rule.kind == "behaviour"
    assert rule.tag is Tag.IMMEDIATE
    assert rule.affected == SpecifierSet(">=2.0.0,<2.0.1")
    assert rule.fixed == Version("2.0.1")
    assert rule.boundary is None
    assert rule.when_unused == "silent"
    assert rule.added == "0.1.0"
    assert rule.references == ("https://github.com/googleapis/python-genai/commit/97142b1",)
    assert rule.usage == Usage(
        modules=("google.genai",),
        symbols=("google.genai.interactions.AudioResponseFormat",),
        calls=(CallPattern("google.genai.Client.interactions.create", ("response_format",)),),
        env=("GOOGLE_CLOUD_DISABLE_METRICS",),
    )
    assert rule.examples.affected == ("2.0.0", "2.0.0.post1", "2.0.0+local")
    assert rule.examples.code is not None
    assert "# expect" in rule.examples.code
    assert rule.source is not None
    assert rule.source.endswith("response-format-wire-names.toml")


def _through_the_row(rule: Rule) -> Rule:
    """``rule`` as the cache keeps it (a row, its structured part through JSON) and back."""
    import json

    row, structured = to_row(rule)
    return rule_from_row(rule.package, row, json.loads(json.dumps(structured)), rule.source)


def test_row_is_json_ready_and_rebuilds_the_same_rule(tmp_path: Path) -> None:
    import tomli

    rule, errors = validate(
        tomli.loads(GOOD), folder="google-genai", slug="response-format-wire-names", source="x"
    )
    assert errors == []
    assert rule is not None
    assert _through_the_row(rule) == rule


def test_the_kind_is_an_enum_whose_value_is_the_text(tmp_path: Path) -> None:
    rule = load_rule_file(write(tmp_path, "google-genai", "x", GOOD))
    assert rule.kind is RuleKind.BEHAVIOUR
    assert to_row(rule)[0][1] == "behaviour"
    assert _through_the_row(rule).kind is RuleKind.BEHAVIOUR
    eol = load_rule_file(write(tmp_path, "python", "3.9-eol", EOL))
    assert eol.kind is RuleKind.EOL


def test_advisory_kinds_are_not_rule_kinds(tmp_path: Path) -> None:
    for kind in ("vulnerability", "yanked"):
        text = GOOD.replace('kind = "behaviour"', f'kind = "{kind}"')
        with pytest.raises(RuleErrors, match=f"unknown kind '{kind}'"):
            load_rule_file(write(tmp_path, "google-genai", "x", text))


def test_python_floor_and_interpreter_rules(tmp_path: Path) -> None:
    floor = load_rule_file(write(tmp_path, "db-dtypes", "python-3.10-required", FLOOR))
    assert floor.python_requires == SpecifierSet(">=3.10")
    assert floor.boundary == Version("1.7.0")
    assert floor.usage is None
    assert floor.when_unused == "monitor"
    eol = load_rule_file(write(tmp_path, "python", "3.9-eol", EOL))
    assert eol.is_interpreter
    assert eol.eol == datetime.date(2025, 10, 31)


@pytest.mark.parametrize(
    ("symbol", "module"),
    [
        ("google.genai.interactions.X", "google.genai"),
        ("numpy.bool8", "numpy"),
        ("azure.storage.blob.BlobClient", "azure.storage"),
        ("google", "google"),
        ("jaraco.text.foo", "jaraco.text"),
        ("sqlalchemy.orm.Query", "sqlalchemy"),
    ],
)
def test_default_modules_are_the_roots(symbol: str, module: str) -> None:
    assert default_module(symbol) == module


def test_explicit_modules_are_kept(tmp_path: Path) -> None:
    text = GOOD.replace("[usage]\n", '[usage]\nmodules = ["google.genai", "google.auth"]\n')
    rule = load_rule_file(write(tmp_path, "google-genai", "x", text))
    assert rule.usage is not None
    assert rule.usage.modules == ("google.genai", "google.auth")


def test_call_without_keywords(tmp_path: Path) -> None:
    text = GOOD.replace(', keywords = ["response_format"]', "")
    rule = load_rule_file(write(tmp_path, "google-genai", "x", text))
    assert rule.usage is not None
    assert rule.usage.calls == (CallPattern("google.genai.Client.interactions.create", ()),)


YAML_CALLS = 'calls = [{ name = "yaml.load", without = ["Loader"], positional-max = 1 }]'
YAML = (
    GOOD.replace('package = "Google_GenAI"', 'package = "PyYAML"')
    .replace('symbols = ["google.genai.interactions.AudioResponseFormat"]\n', "")
    .replace('env = ["GOOGLE_CLOUD_DISABLE_METRICS"]\n', "")
    .replace(
        'calls = [{ name = "google.genai.Client.interactions.create", keywords = ["response_format"] }]',
        YAML_CALLS,
    )
    .replace(
        "from google import genai\nclient = genai.Client()\n"
        'client.interactions.create(model="m", response_format=fmt)  # expect',
        "import yaml\nyaml.load(s)  # expect",
    )
)


def test_call_without_keywords_and_positional_max(tmp_path: Path) -> None:
    rule = load_rule_file(write(tmp_path, "pyyaml", "load", YAML))
    assert rule.usage == Usage(
        modules=("yaml",),
        calls=(CallPattern("yaml.load", without=("Loader",), positional_max=1),),
    )
    bare = YAML.replace(", positional-max = 1", "")
    rule = load_rule_file(write(tmp_path, "pyyaml", "bare", bare))
    assert rule.usage is not None
    assert rule.usage.calls == (CallPattern("yaml.load", without=("Loader",)),)


def test_without_survives_the_row() -> None:
    import tomli

    rule, errors = validate(tomli.loads(YAML), folder="pyyaml", slug="load", source="x")
    assert errors == []
    assert rule is not None
    assert to_row(rule)[1][0][2] == [["yaml.load", [], ["Loader"], 1, [], None]]
    again = _through_the_row(rule)
    assert again == rule
    assert again.usage is not None
    assert again.usage.calls[0].positional_max == 1


@pytest.mark.parametrize(
    ("calls", "expected"),
    [
        (
            'calls = [{ name = "yaml.load", keywords = ["Loader"], without = ["Loader"] }]',
            ["keywords and without cannot both be set", "(at 'usage.calls[0].without')"],
        ),
        (
            'calls = [{ name = "yaml.load", without = [] }]',
            ["must not be empty", "(at 'usage.calls[0].without')"],
        ),
        (
            'calls = [{ name = "yaml.load", without = "Loader" }]',
            ["must be an array, not a string", "(at 'usage.calls[0].without')"],
        ),
        (
            'calls = [{ name = "yaml.load", without = ["Loader="] }]',
            ["not a keyword argument name", "(at 'usage.calls[0].without[0]')"],
        ),
        (
            'calls = [{ name = "yaml.load", positional-max = 1 }]',
            ["only a call pattern with without", "(at 'usage.calls[0].positional-max')"],
        ),
        (
            'calls = [{ name = "yaml.load", keywords = ["x"], positional-max = 1 }]',
            ["only a call pattern with without", "(at 'usage.calls[0].positional-max')"],
        ),
        (
            'calls = [{ name = "yaml.load", without = ["Loader"], positional-max = -1 }]',
            ["must not be negative", "(at 'usage.calls[0].positional-max')"],
        ),
        (
            'calls = [{ name = "yaml.load", without = ["Loader"], positional-max = "1" }]',
            ["must be an integer, not a string", "(at 'usage.calls[0].positional-max')"],
        ),
        (
            'calls = [{ name = "yaml.load", without = ["Loader"], positional-max = true }]',
            ["must be an integer, not a boolean", "(at 'usage.calls[0].positional-max')"],
        ),
        (
            'calls = [{ name = "yaml.load", without = ["Loader"], positional_max = 1 }]',
            ["(at 'usage.calls[0].positional_max')", "did you mean 'positional-max'?"],
        ),
    ],
)
def test_bad_without(tmp_path: Path, calls: str, expected: list[str]) -> None:
    path = write(tmp_path, "pyyaml", "bad-without", YAML.replace(YAML_CALLS, calls))
    message = problems(path)
    assert "bad-without.toml" in message
    for part in expected:
        assert part in message


# -- every problem, by file and key ----------------------------------------------------------


def _drop(key: str) -> tuple[str, str]:
    line = next(line for line in GOOD.splitlines(keepends=True) if line.startswith(f"{key} ="))
    return (line, "")


BAD: list[tuple[str, tuple[str, str] | str, list[str]]] = [
    # (case id, (old, new) replacement in GOOD or a text appended to it, expected substrings)
    ("missing-package", _drop("package"), ["missing required key 'package'", "(at 'package')"]),
    ("missing-kind", _drop("kind"), ["missing required key 'kind'"]),
    ("missing-tag", _drop("tag"), ["(at 'tag')"]),
    ("missing-affected", _drop("affected"), ["missing required key 'affected'"]),
    ("missing-title", _drop("title"), ["(at 'title')"]),
    ("missing-what", _drop("what"), ["(at 'what')"]),
    ("missing-why", _drop("why"), ["(at 'why')"]),
    ("missing-action", _drop("action"), ["(at 'action')"]),
    ("missing-references", _drop("references"), ["(at 'references')", "https://"]),
    ("unknown-key", "actoin = 'x'\n", ["unknown key 'actoin'", "did you mean 'action'?"]),
    (
        "unknown-key-in-table",
        ("[usage]\n", '[usage]\nsymbol = ["google.genai.x"]\n'),
        ["(at 'usage.symbol')", "did you mean 'symbols'?"],
    ),
    (
        "package-type",
        ('package = "Google_GenAI"', "package = 3"),
        ["must be a string, not an integer", "(at 'package')"],
    ),
    (
        "package-folder",
        ('package = "Google_GenAI"', 'package = "google-ai"'),
        ["does not match its folder", "(at 'package')"],
    ),
    (
        "package-invalid",
        ('package = "Google_GenAI"', 'package = "-bad-"'),
        ["not a valid distribution name"],
    ),
    (
        "kind-enum",
        ('kind = "behaviour"', 'kind = "behavior"'),
        ["unknown kind 'behavior'", "(at 'kind')", "breaking"],
    ),
    (
        "tag-enum",
        ('tag = "immediate"', 'tag = "urgent"'),
        ["unknown tag 'urgent'", "(at 'tag')", "monitor"],
    ),
    (
        "affected-invalid",
        ('affected = ">=2.0.0,<2.0.1"', 'affected = ">=2.0,<"'),
        ["'>=2.0,<' is not a valid PEP 440 version specifier", "(at 'affected')"],
    ),
    (
        "affected-empty",
        ('affected = ">=2.0.0,<2.0.1"', 'affected = ""'),
        ["(at 'affected')", "must not be empty"],
    ),
    (
        "affected-type",
        ('affected = ">=2.0.0,<2.0.1"', 'affected = ["==2.0.0"]'),
        ["must be a string, not an array", "(at 'affected')"],
    ),
    (
        "fixed-invalid",
        ('fixed = "2.0.1"', 'fixed = "two"'),
        ["'two' is not a valid PEP 440 version", "(at 'fixed')"],
    ),
    (
        "fixed-inside",
        ('fixed = "2.0.1"', 'fixed = "2.0.0"'),
        ["fixed '2.0.0' is inside affected", "(at 'fixed')"],
    ),
    ("boundary-invalid", "boundary = 'x.y'\n", ["not a valid PEP 440 version", "(at 'boundary')"]),
    (
        "boundary-outside",
        "boundary = '1.0'\n",
        ["boundary '1.0' is not inside affected", "(at 'boundary')"],
    ),
    ("added-invalid", ('added = "0.1.0"', 'added = "soon"'), ["(at 'added')"]),
    (
        "title-empty",
        ('title = "Interactions', 'title = "  "\ntitlex = "'),
        ["must not be empty", "(at 'title')"],
    ),
    (
        "references-empty",
        (
            'references = ["https://github.com/googleapis/python-genai/commit/97142b1"]',
            "references = []",
        ),
        ["(at 'references')", "must not be empty"],
    ),
    (
        "references-http",
        ('references = ["https://github.com', 'references = ["http://github.com'),
        ["is not an https:// URL", "(at 'references[0]')"],
    ),
    (
        "references-type",
        (
            'references = ["https://github.com/googleapis/python-genai/commit/97142b1"]',
            'references = ["https://a.example", 3]',
        ),
        ["(at 'references[1]')", "not an integer"],
    ),
    (
        "reference-with-markup",
        (
            'references = ["https://github.com/googleapis/python-genai/commit/97142b1"]',
            'references = ["https://a.example/>[click](https://evil.example)<x"]',
        ),
        ["holds characters a URL does not", "(at 'references[0]')"],
    ),
    (
        "when-unused-enum",
        ('when-unused = "silent"', 'when-unused = "quiet"'),
        ["unknown value 'quiet'", "(at 'when-unused')"],
    ),
    ("eol-not-python", "eol = 2025-10-31\n", ["only rules about the interpreter", "(at 'eol')"]),
    (
        "control-character",
        ('why = "The service may ignore the options."', 'why = "The \\u001b[31mservice"'),
        ["contains U+001B, a control or text-direction character", "(at 'why')"],
    ),
    (
        "control-character-in-list",
        ('env = ["GOOGLE_CLOUD_DISABLE_METRICS"]', 'env = ["A\\u0000"]'),
        ["contains U+0000", "(at 'usage.env[0]')"],
    ),
    (
        "c1-control",
        ('why = "The service may ignore the options."', 'why = "The \\u009b31mservice"'),
        ["contains U+009B", "(at 'why')"],
    ),
    (
        "bidi-override",
        ('why = "The service may ignore the options."', 'why = "The \\u202eecivres"'),
        ["contains U+202E", "(at 'why')"],
    ),
    (
        "carriage-return",
        ('why = "The service may ignore the options."', 'why = "The\\rOVERWRITE"'),
        ["contains U+000D", "(at 'why')"],
    ),
    (
        "usage-empty",
        ("[usage]\n", "[usage]\n[x]\n"),
        [
            "unknown key 'x'",
            "[usage] needs at least one of symbols, calls, env or assignments",
            "(at 'usage')",
        ],
    ),
    (
        "usage-dotted",
        (
            'symbols = ["google.genai.interactions.AudioResponseFormat"]',
            'symbols = ["google..genai"]',
        ),
        ["is not a dotted name", "(at 'usage.symbols[0]')"],
    ),
    (
        "usage-modules-cover",
        ("symbols = [", 'modules = ["numpy"]\nsymbols = ['),
        ["is not under any of usage.modules", "(at 'usage.symbols[0]')", "add 'google.genai'"],
    ),
    (
        "usage-call-table",
        (
            'calls = [{ name = "google.genai.Client.interactions.create", keywords = ["response_format"] }]',
            'calls = ["google.genai.Client"]',
        ),
        ["must be a table, not a string", "(at 'usage.calls[0]')"],
    ),
    (
        "usage-call-name",
        (
            'calls = [{ name = "google.genai.Client.interactions.create", keywords = ["response_format"] }]',
            'calls = [{ name = "google.genai.x" }, { keywords = ["a"] }]',
        ),
        ["missing required key 'name'", "(at 'usage.calls[1].name')"],
    ),
    (
        "usage-call-unknown",
        ('keywords = ["response_format"] }', 'keyword = ["response_format"] }'),
        ["(at 'usage.calls[0].keyword')", "did you mean 'keywords'?"],
    ),
    (
        "usage-call-keyword",
        ('keywords = ["response_format"]', 'keywords = ["response-format"]'),
        ["not a keyword argument name", "(at 'usage.calls[0].keywords[0]')"],
    ),
    (
        "usage-env",
        ('env = ["GOOGLE_CLOUD_DISABLE_METRICS"]', 'env = ["NOT VALID"]'),
        ["not an environment variable name", "(at 'usage.env[0]')"],
    ),
    (
        "examples-missing",
        ("[examples]", "[examplez]"),
        ["missing required key 'examples'", "unknown key 'examplez'"],
    ),
    (
        "examples-affected-missing",
        ('affected = ["2.0.0", "2.0.0.post1", "2.0.0+local"]', ""),
        ["(at 'examples.affected')"],
    ),
    (
        "examples-version-invalid",
        ('unaffected = ["1.99.0"', 'unaffected = ["one"'),
        ["'one' is not a valid PEP 440 version", "(at 'examples.unaffected[0]')"],
    ),
    (
        "examples-affected-outside",
        ('affected = ["2.0.0", ', 'affected = ["2.0.2", '),
        ["'2.0.2' is not inside affected", "(at 'examples.affected[0]')"],
    ),
    (
        "examples-unaffected-inside",
        ('unaffected = ["1.99.0"', 'unaffected = ["2.0.0"'),
        ["'2.0.0' is inside affected", "(at 'examples.unaffected[0]')"],
    ),
    (
        "examples-code-missing",
        ('code = """', 'codex = """'),
        ["needs examples.code", "(at 'examples.code')"],
    ),
    ("examples-code-no-expect", ("  # expect", ""), ["no line ending in '# expect'"]),
    (
        "when-unused-without-usage",
        ("[usage]", "[usagex]"),
        ["only a rule with [usage] has when-unused"],
    ),
]


def _apply(change: tuple[str, str] | str) -> str:
    if isinstance(change, str):
        head, sep, tail = GOOD.partition("\n[usage]")
        return head + "\n" + change + sep + tail
    old, new = change
    assert old in GOOD, old
    return GOOD.replace(old, new, 1)


@pytest.mark.parametrize(("change", "expected"), [c[1:] for c in BAD], ids=[c[0] for c in BAD])
def test_bad_rule(tmp_path: Path, change: tuple[str, str] | str, expected: list[str]) -> None:
    path = write(tmp_path, "google-genai", "bad-rule", _apply(change))
    message = problems(path)
    assert "bad-rule.toml" in message
    for part in expected:
        assert part in message


BAD_FILES: list[tuple[str, str, str, list[str]]] = [
    (
        "not-toml",
        "google-genai",
        'package = "google-genai"\nkind = ',
        ["is not valid TOML", "bad.toml:2"],
    ),
    ("bad-slug", "google-genai", GOOD, ["is not a valid rule slug"]),
    (
        "python-table-on-interpreter",
        "python",
        EOL.replace("[examples]", '[python]\nrequires = ">=3.10"\n\n[examples]'),
        ["a rule about the interpreter has no [python] table", "(at 'python')"],
    ),
    (
        "python-requires-invalid",
        "db-dtypes",
        FLOOR.replace('requires = ">=3.10"', 'requires = "3.10"'),
        ["(at 'python.requires')", "not a valid PEP 440 version specifier"],
    ),
    (
        "python-unknown-key",
        "db-dtypes",
        FLOOR.replace('requires = ">=3.10"', 'requires = ">=3.10"\nrequire = ">=3.10"'),
        ["(at 'python.require')"],
    ),
    (
        "eol-datetime",
        "python",
        EOL.replace("eol = 2025-10-31", "eol = 2025-10-31T00:00:00"),
        ["must be a date, not a date-time", "(at 'eol')"],
    ),
    (
        "eol-string",
        "python",
        EOL.replace("eol = 2025-10-31", 'eol = "2025-10-31"'),
        ["must be a date, not a string"],
    ),
    (
        "code-without-usage",
        "db-dtypes",
        FLOOR + 'code = "import db_dtypes  # expect"\n',
        ["only a rule with [usage] has examples.code"],
    ),
]


@pytest.mark.parametrize(
    ("folder", "text", "expected"), [c[1:] for c in BAD_FILES], ids=[c[0] for c in BAD_FILES]
)
def test_bad_rule_file(tmp_path: Path, folder: str, text: str, expected: list[str]) -> None:
    slug = "Bad Rule" if "slug" in expected[0] else "bad"
    message = problems(write(tmp_path, folder, slug, text))
    for part in expected:
        assert part in message


def test_every_problem_of_a_file_is_reported(tmp_path: Path) -> None:
    text = GOOD.replace('kind = "behaviour"', 'kind = "x"').replace('tag = "immediate"', "tag = 1")
    with pytest.raises(RuleErrors) as info:
        load_rule_file(write(tmp_path, "google-genai", "two", text))
    assert [error.key for error in info.value.errors] == ["kind", "tag"]
    assert all(error.path and error.path.endswith("two.toml") for error in info.value.errors)


def test_a_single_problem_reads_like_itself(tmp_path: Path) -> None:
    path = write(tmp_path, "google-genai", "one", GOOD.replace('tag = "immediate"', 'tag = "x"'))
    with pytest.raises(DepwatchError) as info:
        load_rule_file(path)
    error = info.value
    assert error.key == "tag"
    assert error.path is not None
    assert error.path.endswith("one.toml")
    assert error.hint is not None
    assert "immediate" in error.hint


# -- folders ---------------------------------------------------------------------------------


def test_a_folder_collects_every_problem_of_every_file(tmp_path: Path) -> None:
    write(tmp_path, "google-genai", "good", GOOD)
    write(tmp_path, "google-genai", "bad-kind", GOOD.replace('kind = "behaviour"', 'kind = "x"'))
    write(tmp_path, "db-dtypes", "bad-affected", FLOOR.replace('">=1.7.0"', '"=>1.7"', 1))
    write(tmp_path, "db-dtypes", "broken", "package = \n")
    write(tmp_path, "Not_Normal", "rule", GOOD)
    (tmp_path / "stray.toml").write_text(GOOD, encoding="utf-8")
    with pytest.raises(RuleErrors) as info:
        check_dirs([tmp_path])
    message = str(info.value)
    assert message.startswith("5 problems in 5 rule files:")
    lines = message.splitlines()
    assert len(lines) == 1 + 5 + 1  # heading, one line per problem, the hint
    assert any("bad-kind.toml" in line and "(at 'kind')" in line for line in lines)
    assert any("bad-affected.toml" in line and "(at 'affected')" in line for line in lines)
    assert any("broken.toml:1" in line and "not valid TOML" in line for line in lines)
    assert any("Not_Normal" in line and "rename it to 'not-normal'" in line for line in lines)
    assert any("stray.toml" in line and "folder named after its package" in line for line in lines)


def test_errors_are_collected_across_folders(tmp_path: Path) -> None:
    one, two = tmp_path / "one", tmp_path / "two"
    write(one, "google-genai", "a", GOOD.replace('tag = "immediate"', 'tag = "x"'))
    write(two, "google-genai", "b", GOOD.replace('kind = "behaviour"', 'kind = "x"'))
    with pytest.raises(RuleErrors) as info:
        check_dirs([one, two, tmp_path / "missing"])
    paths = [error.path or "" for error in info.value.errors]
    assert paths[0].endswith("a.toml")
    assert paths[1].endswith("b.toml")
    assert "missing" in paths[2]
    assert "rule folder not found" in str(info.value)


def test_non_rule_files_are_skipped(tmp_path: Path) -> None:
    write(tmp_path, "google-genai", "good", GOOD)
    (tmp_path / "README.md").write_text("# rules\n", encoding="utf-8")
    (tmp_path / "google-genai" / "fixture.py").write_text("import x\n", encoding="utf-8")
    (tmp_path / "google-genai" / "notes.md").write_text("notes\n", encoding="utf-8")
    (tmp_path / "google-genai" / "fixtures").mkdir()
    (tmp_path / "google-genai" / "fixtures" / "x.toml").write_text("junk", encoding="utf-8")
    (tmp_path / "__pycache__").mkdir()
    (tmp_path / ".hidden").mkdir()
    rules = check_dirs([tmp_path])
    assert [rule.id for rule in rules] == ["google-genai/good"]


def test_scan_dir_reports_problems_without_raising(tmp_path: Path) -> None:
    write(tmp_path, "google-genai", "good", GOOD)
    write(tmp_path, "google-genai", "bad", GOOD.replace('tag = "immediate"', 'tag = "x"'))
    scanned = scan_dir(tmp_path)
    assert [rule.id for rule in scanned.rules["google-genai"]] == ["google-genai/good"]
    assert [error.key for error in scanned.errors] == ["tag"]
    assert [name for name, *_ in scanned.files["google-genai"]] == ["bad.toml", "good.toml"]


def test_check_dirs_checks_that_code_examples_are_python(tmp_path: Path) -> None:
    write(tmp_path, "google-genai", "bad", GOOD.replace("client = genai.Client()", "client = ("))
    with pytest.raises(RuleErrors, match=r"examples.code is not valid Python"):
        check_dirs([tmp_path])


# -- conditions on the rest of the lock, and the action below the boundary --------------------

CONDITIONS = '''\
package = "python"
kind = "breaking"
tag = "plan"
affected = ">=3.12"
boundary = "3.12"
title = "Python 3.12 removes distutils and imp"
what = "Removed."
why = "Imports fail."
action = "Replace them."
action-below = "Before adding 3.12, replace them."
references = ["https://docs.python.org/3/whatsnew/3.12.html"]

[usage]
symbols = ["distutils", "imp"]

[[unless-locked]]
package = "SetupTools"
runtime = true
symbols = ["distutils"]

[[when-locked]]
package = "pip"
versions = ">=20"

[examples]
affected = ["3.12"]
unaffected = ["3.11"]
code = """
import imp  # expect
"""

[[examples.lock]]
packages = ["setuptools 75.8.0", "pip 24.0", "pytest 8.3.5 dev"]
code = """
import imp  # expect
import distutils
"""

[[examples.lock]]
packages = ["setuptools 75.8.0"]
applies = false
'''


def test_lock_conditions_and_action_below_round_trip(tmp_path: Path) -> None:

    import tomli

    rule = load_rule_file(write(tmp_path, "python", "removals", CONDITIONS))
    assert rule.action_below == "Before adding 3.12, replace them."
    (unless,) = rule.unless_locked
    assert (unless.package, unless.versions, unless.runtime, unless.symbols) == (
        "setuptools",
        None,
        True,
        ("distutils",),
    )
    (when,) = rule.when_locked
    assert (when.package, str(when.versions), when.runtime) == ("pip", ">=20", False)
    first, second = rule.examples.locks
    assert first.packages == (
        ("setuptools", "75.8.0", False),
        ("pip", "24.0", False),
        ("pytest", "8.3.5", True),
    )
    assert (first.applies, second.applies, second.code) == (True, False, None)
    validated, errors = validate(tomli.loads(CONDITIONS), folder="python", slug="r", source="x")
    assert errors == []
    assert validated is not None
    assert _through_the_row(validated) == validated


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            (
                '[[when-locked]]\npackage = "pip"',
                '[[when-locked]]\npackage = "pip"\nsymbols = ["imp"]',
            ),
            ["unknown key 'symbols' (at 'when-locked[0].symbols')"],
        ),
        (
            ('versions = ">=20"', 'versions = "at least 20"'),
            [
                "'at least 20' is not a valid PEP 440 version specifier (at 'when-locked[0].versions')"
            ],
        ),
        (
            ('symbols = ["distutils"]\n\n[[when', 'symbols = ["asyncore"]\n\n[[when'),
            [
                "'asyncore' covers nothing in usage.symbols or usage.calls (at 'unless-locked[0].symbols[0]')"
            ],
        ),
        (
            ('package = "SetupTools"', 'package = "python"'),
            [
                "a lock condition names another package than the rule's own (at 'unless-locked[0].package')"
            ],
        ),
        (
            ("runtime = true", 'runtime = "yes"'),
            ["must be a boolean, not a string (at 'unless-locked[0].runtime')"],
        ),
        (
            ('boundary = "3.12"\n', ""),
            ["only a rule with a boundary has action-below (at 'action-below')"],
        ),
        (
            ('packages = ["setuptools 75.8.0"]\n', 'packages = ["setuptools"]\n'),
            [
                "'setuptools' is not 'name version' or 'name version dev' (at 'examples.lock[1].packages[0]')"
            ],
        ),
        (
            ('"pytest 8.3.5 dev"', '"pytest 8.3.5 test"'),
            [
                "'pytest 8.3.5 test' is not 'name version' or 'name version dev' (at 'examples.lock[0].packages[2]')"
            ],
        ),
    ],
)
def test_bad_lock_conditions(tmp_path: Path, change: tuple[str, str], expected: list[str]) -> None:
    assert change[0] in CONDITIONS
    text = problems(
        write(tmp_path, "python", "removals", CONDITIONS.replace(change[0], change[1], 1))
    )
    for message in expected:
        assert message in text
    assert "removals.toml" in text


def test_a_rule_with_lock_conditions_needs_lock_examples(tmp_path: Path) -> None:
    text = CONDITIONS[: CONDITIONS.index("[[examples.lock]]")]
    found = problems(write(tmp_path, "python", "removals", text))
    assert "a rule with when-locked or unless-locked needs [[examples.lock]]" in found
    assert "(at 'examples.lock')" in found


def test_not_passed_to(tmp_path: Path) -> None:
    text = YAML.replace(
        "positional-max = 1 }", 'positional-max = 1, not-passed-to = ["load_state_dict"] }'
    )
    assert text != YAML
    rule = load_rule_file(write(tmp_path, "pyyaml", "load", text))
    assert rule.usage is not None
    assert rule.usage.calls[0].not_passed_to == ("load_state_dict",)
    bad = text.replace('["load_state_dict"]', '["model.load_state_dict"]')
    found = problems(write(tmp_path, "pyyaml", "load", bad))
    assert "'model.load_state_dict' is not a function or method name" in found
    assert "(at 'usage.calls[0].not-passed-to[0]')" in found
