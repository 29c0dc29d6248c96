"""The resolver on small real sources: exact references, lines and columns."""

from __future__ import annotations

import textwrap

import pytest

from depwatch.rulebook.model import CallPattern, Usage
from depwatch.usage import FileFacts, evidence_for, scan_source

MODULES = ["google.genai", "numpy", "bigframes.pandas"]


def refs(
    src: str, modules: list[str] | None = None, env: tuple[str, ...] = ()
) -> set[tuple[str, str, int, int]]:
    facts = scan_source(textwrap.dedent(src), "pkg/mod.py", modules or MODULES, env)
    assert facts.warnings == ()
    return {(r.kind, r.name, r.line, r.column) for r in facts.refs}


def names(src: str, **kw: object) -> set[str]:
    return {name for _, name, _, _ in refs(src, **kw)}  # type: ignore[arg-type]


def test_import_as_and_attribute_call() -> None:
    got = refs("""\
        import numpy as np
        x = np.float_(1)
        """)
    assert got == {("import", "numpy", 1, 8), ("call", "numpy.float_", 2, 5)}


def test_from_import_is_a_reference_on_its_line() -> None:
    got = refs("from numpy import float_ as f\nf(2)\n")
    assert got == {("import", "numpy.float_", 1, 19), ("call", "numpy.float_", 2, 1)}


def test_dotted_import_then_long_chain() -> None:
    got = refs("import google.genai\ngoogle.genai.types.Part.from_text(text='x')\n")
    assert ("import", "google.genai", 1, 8) in got
    assert ("call", "google.genai.types.Part.from_text", 2, 1) in got


def test_untracked_parent_import_is_not_reported() -> None:
    assert refs("import google\nimport os\n") == set()


def test_star_import_resolves_unbound_names_but_not_builtins() -> None:
    got = refs("""\
        from numpy import *
        def local(): pass
        a = array([1])
        b = len([1])
        local()
        """)
    assert got == {("import", "numpy", 1, 19), ("call", "numpy.array", 3, 5)}


def test_factory_result_and_keywords() -> None:
    src = """\
        from google import genai
        client = genai.Client()
        client.interactions.create(
            model="m",
            response_format="wav",
        )
        """
    facts = scan_source(textwrap.dedent(src), "a.py", MODULES)
    calls = [r for r in facts.refs if r.name == "google.genai.Client.interactions.create"]
    assert len(calls) == 1
    call = calls[0]
    assert (call.kind, call.line, call.column) == ("call", 3, 1)
    assert [(k.name, k.line, k.column, k.code) for k in call.keywords] == [
        ("model", 4, 5, 'model="m",'),
        ("response_format", 5, 5, 'response_format="wav",'),
    ]


def test_call_results_are_transparent() -> None:
    got = names("from google import genai\ngenai.Client().interactions.create(x=1)\n")
    assert got == {"google.genai", "google.genai.Client", "google.genai.Client.interactions.create"}


def test_self_attribute_set_in_init_used_in_another_method() -> None:
    got = refs("""\
        from google import genai
        class Bot:
            def speak(self):
                return self.client.models.generate()
            def __init__(self):
                self.client = genai.Client()
        """)
    assert ("call", "google.genai.Client.models.generate", 4, 16) in got


def test_with_as() -> None:
    got = refs("""\
        from google import genai
        with genai.Client() as c:
            c.files.upload()
        """)
    assert ("call", "google.genai.Client.files.upload", 3, 5) in got


def test_decorated_function_binds_the_decorator() -> None:
    got = refs("""\
        import bigframes.pandas as bpd
        @bpd.udf(dataset="d")
        def score(x):
            return x
        name = score.bigframes_bigquery_function
        """)
    assert ("call", "bigframes.pandas.udf", 2, 2) in got
    assert ("ref", "bigframes.pandas.udf.bigframes_bigquery_function", 5, 8) in got


def test_annotated_assignment_and_annotations() -> None:
    got = refs("""\
        import numpy as np
        arr: np.ndarray = np.zeros(3)
        def f(x: np.dtype) -> None: ...
        """)
    assert ("ref", "numpy.ndarray", 2, 6) in got
    assert ("call", "numpy.zeros", 2, 19) in got
    assert ("ref", "numpy.dtype", 3, 10) in got


def test_reassignment_stops_resolving() -> None:
    got = refs("""\
        import numpy as np
        np = object()
        np.float_
        """)
    assert got == {("import", "numpy", 1, 8)}


def test_parameter_shadows_module_name() -> None:
    got = refs("""\
        import numpy as np
        def f(np):
            return np.float_
        """)
    assert got == {("import", "numpy", 1, 8)}


def test_import_inside_function_is_scoped() -> None:
    got = refs("""\
        def f():
            import numpy as np
            return np.float_
        def g(np):
            return np.float_
        """)
    assert got == {("import", "numpy", 2, 12), ("ref", "numpy.float_", 3, 12)}


def test_function_bodies_see_final_module_bindings() -> None:
    got = refs("""\
        def f():
            return np.float_
        import numpy as np
        """)
    assert ("ref", "numpy.float_", 2, 12) in got


def test_fallback_import_in_except_keeps_binding() -> None:
    got = refs("""\
        try:
            import numpy as np
        except ImportError:
            np = None
        np.float_
        """)
    assert ("ref", "numpy.float_", 5, 1) in got


def test_relative_import_is_project_not_third_party() -> None:
    # a project module named numpy is never the third-party numpy
    got = refs("from . import numpy\nfrom .numpy import float_\nnumpy.float_\nfloat_\n")
    assert got == set()


def test_columns_count_characters() -> None:
    got = refs("import numpy as np\ns = 'é€'; np.float_\n")
    assert ("ref", "numpy.float_", 2, 11) in got


def test_env_reads() -> None:
    src = """\
        import os
        from os import environ, getenv
        a = os.environ["TOKEN"]
        b = os.environ.get("TOKEN")
        c = getenv("TOKEN", "x")
        d = environ.get("OTHER")
        e = "TOKEN" in os.environ
        """
    got = refs(src, env=("TOKEN",))
    assert {(k, n, line) for k, n, line, _ in got} == {
        ("env", "TOKEN", 3),
        ("env", "TOKEN", 4),
        ("env", "TOKEN", 5),
        ("env", "TOKEN", 7),
    }


def test_syntax_error_is_a_warning() -> None:
    facts = scan_source("print 'python 2'\n", "old.py", MODULES)
    assert facts.refs == ()
    assert len(facts.warnings) == 1
    assert facts.warnings[0].startswith("old.py: skipped, not valid Python")


def test_invalid_escape_does_not_warn() -> None:
    # pytest turns warnings into errors: a SyntaxWarning from the parse must not escape
    facts = scan_source('import numpy\nx = "\\d"\n', "a.py", MODULES)
    assert [r.name for r in facts.refs] == ["numpy"]


def test_notebook_cells_and_magics() -> None:
    import json

    nb = {
        "cells": [
            {"cell_type": "markdown", "source": ["import numpy"]},
            {"cell_type": "code", "source": ["%matplotlib inline\n", "import numpy as np\n"]},
            {"cell_type": "code", "source": ["%%bash\n", "echo hi\n"]},
            {"cell_type": "code", "source": ["!pip install x\n", "x = 1\n", "np.float_(x)\n"]},
            {"cell_type": "code", "source": "np.sum?\n"},
        ]
    }
    facts = scan_source(json.dumps(nb), "nb.ipynb", MODULES)
    got = {(r.name, r.cell, r.line, r.column) for r in facts.refs}
    assert got == {("numpy", 1, 2, 8), ("numpy.float_", 3, 3, 1)}
    assert any("cell 2 skipped" in w for w in facts.warnings)
    assert not any("cell 4" in w for w in facts.warnings)  # help (`np.sum?`) is not an error


def test_evidence_matching_semantics() -> None:
    src = textwrap.dedent("""\
        from google import genai
        from google.genai.interactions import AudioResponseFormat
        from google.genai import interactions
        client = genai.Client()
        client.interactions.create(model="m")
        client.interactions.create(
            response_format=AudioResponseFormat.WAV,
        )
        """)
    facts = scan_source(src, "bot/speak.py", MODULES)
    usage = Usage(
        modules=("google.genai",),
        symbols=("google.genai.interactions.AudioResponseFormat",),
        calls=(CallPattern("google.genai.Client.interactions.create", ("response_format",)),),
    )
    found = [(e.path, e.line, e.column, e.code) for e in evidence_for([facts], usage)]
    assert found == [
        ("bot/speak.py", 2, 39, "from google.genai.interactions import AudioResponseFormat"),
        # The keyword and the name passed to it match on one line: one place, the first.
        ("bot/speak.py", 7, 5, "response_format=AudioResponseFormat.WAV,"),
    ]
    prefix = Usage(modules=("google.genai",), symbols=("google.genai.interactions",))
    assert [e.line for e in evidence_for([facts], prefix)] == [2, 3, 7]
    any_call = Usage(
        modules=("google.genai",), calls=(CallPattern("google.genai.Client.interactions.create"),)
    )
    assert [e.line for e in evidence_for([facts], any_call)] == [5, 6]


def test_symbol_is_prefix_of_longer_chain() -> None:
    facts = scan_source("import numpy as np\nnp.float_(1).real\n", "a.py", ["numpy"])
    usage = Usage(modules=("numpy",), symbols=("numpy.float_",))
    assert [(e.line, e.column) for e in evidence_for([facts], usage)] == [(2, 1)]
    assert evidence_for([facts], Usage(modules=("numpy",), symbols=("numpy.float",))) == ()


def test_evidence_deduplicated_and_sorted() -> None:
    a = FileFacts("b.py")
    facts = [scan_source("import numpy\nnumpy.float_(numpy.float_)\n", "a.py", ["numpy"]), a]
    usage = Usage(modules=("numpy",), symbols=("numpy.float_", "numpy"))
    got = [(e.line, e.column) for e in evidence_for(facts, usage)]
    # Two uses on line 2 are one place: the first.
    assert got == [(1, 8), (2, 1)]


# -- call patterns with `without`: a call that leaves a keyword out -----------------------------

YAML_LOAD = Usage(
    modules=("yaml",),
    calls=(CallPattern("yaml.load", without=("Loader",), positional_max=1),),
)


def yaml_lines(src: str, usage: Usage = YAML_LOAD) -> list[int]:
    facts = scan_source(textwrap.dedent(src), "cfg.py", ["yaml"])
    assert facts.warnings == ()
    return [e.line for e in evidence_for([facts], usage)]


def test_call_records_positional_count_and_splats() -> None:
    facts = scan_source(
        "import yaml\nyaml.load(s, L)\nyaml.load(*a, **k)\nyaml.load(x=1)\n", "a.py", ["yaml"]
    )
    calls = [(r.line, r.positional, r.star_args, r.star_kwargs) for r in facts.refs]
    assert calls == [
        (1, 0, False, False),  # the import
        (2, 2, False, False),
        (3, 0, True, True),
        (4, 0, False, False),
    ]


def test_without_matches_a_call_that_leaves_the_keyword_out() -> None:
    src = """\
        import yaml
        from yaml import load
        yaml.load(stream)
        load(stream=text)
        yaml.load(
            stream,
        )
        """
    assert yaml_lines(src) == [3, 4, 5]


def test_without_no_match_when_the_keyword_is_given() -> None:
    assert yaml_lines("import yaml\nyaml.load(s, Loader=yaml.SafeLoader)\n") == []
    assert yaml_lines("import yaml\nyaml.load(Loader=yaml.SafeLoader, stream=s)\n") == []


def test_without_no_match_when_the_argument_is_positional() -> None:
    assert yaml_lines("import yaml\nyaml.load(s, yaml.SafeLoader)\n") == []
    # Without positional-max, a positional argument does not count as the keyword.
    no_max = Usage(modules=("yaml",), calls=(CallPattern("yaml.load", without=("Loader",)),))
    assert yaml_lines("import yaml\nyaml.load(s, yaml.SafeLoader)\n", no_max) == [2]


def test_without_no_match_through_splats() -> None:
    # `**kwargs` might hold the keyword: unknown, so no match (with or without positional-max).
    assert yaml_lines("import yaml\nyaml.load(s, **options)\n") == []
    no_max = Usage(modules=("yaml",), calls=(CallPattern("yaml.load", without=("Loader",)),))
    assert yaml_lines("import yaml\nyaml.load(s, **options)\n", no_max) == []
    # `*args` makes the positional count unknown: no match with positional-max only.
    assert yaml_lines("import yaml\nyaml.load(*args)\n") == []
    assert yaml_lines("import yaml\nyaml.load(*args)\n", no_max) == [2]


def test_without_evidence_points_at_the_call() -> None:
    facts = scan_source("import yaml\nx = [yaml.load(s)]\n", "cfg.py", ["yaml"])
    (evidence,) = evidence_for([facts], YAML_LOAD)
    assert (evidence.line, evidence.column, evidence.code) == (2, 6, "x = [yaml.load(s)]")
    assert evidence.symbol == "yaml.load() without Loader="


def test_without_a_call_of_the_result_is_not_the_call() -> None:
    # `yaml.load(s, Loader=L)(x)` calls what load returned; the call to yaml.load passes Loader.
    assert yaml_lines("import yaml\nyaml.load(s, Loader=L)(x)\n") == []
    assert yaml_lines("import yaml\nyaml.load(s)(Loader=L)\n") == [2]


def test_without_and_keywords_patterns_side_by_side() -> None:
    usage = Usage(
        modules=("yaml",),
        calls=(
            CallPattern("yaml.load", without=("Loader",), positional_max=1),
            CallPattern("yaml.dump", ("Dumper",)),
        ),
    )
    src = "import yaml\nyaml.load(s, Loader=L)\nyaml.dump(d, Dumper=D)\nyaml.load(s)\n"
    assert yaml_lines(src, usage) == [3, 4]


def test_facts_wire_round_trip_keeps_argument_shapes() -> None:
    from depwatch.usage.wire import dumps, facts_from_stored, facts_to_wire, loads

    facts = scan_source("import yaml\nyaml.load(s, *a, **k)\n", "a.py", ["yaml"])
    again = facts_from_stored(loads(dumps(facts_to_wire(facts))))
    assert again == facts
    # A cached row of the older layout (no argument shapes) is refused, so the file is rescanned.
    path, refs, *rest = facts_to_wire(facts)
    old = (path, tuple(row[:7] for row in refs), *rest)
    with pytest.raises(ValueError, match="wrong shape"):
        facts_from_stored(old)


def test_a_comprehension_variable_shadows_a_module() -> None:
    src = textwrap.dedent("""\
        import numpy as np
        vals = [np.float_ for np in (1, 2)]
        pairs = {k: np.float_ for k, np in [(1, 2)]}
        used = [np.float_(x) for x in range(3)]
        firsts = [x for x in np.float_(1) for np in [0]]
        """)
    facts = scan_source(src, "comp.py", MODULES)
    lines = sorted({r.line for r in facts.refs if r.name == "numpy.float_"})
    assert lines == [4, 5]  # the iterable of the first loop is evaluated outside the scope


def test_environment_reads_deletes_and_keywords() -> None:
    src = textwrap.dedent("""\
        import os
        os.environ["BIGTABLE_EMULATOR_HOST"] = "x"
        del os.environ["BIGTABLE_EMULATOR_HOST"]
        os.getenv(key="BIGTABLE_EMULATOR_HOST")
        os.environ.get(key="BIGTABLE_EMULATOR_HOST", default=None)
        """)
    facts = scan_source(src, "env.py", (), env=("BIGTABLE_EMULATOR_HOST",))
    assert sorted((r.kind, r.line) for r in facts.refs if r.kind == "env") == [
        ("env", 4),
        ("env", 5),
    ]


def test_an_attribute_set_in_a_later_method_is_known_above_it() -> None:
    src = textwrap.dedent("""\
        from google import genai

        class Lazy:
            def ask(self, f):
                return self.client.interactions.create(response_format=f)

            def connect(self):
                self.client = genai.Client()
        """)
    facts = scan_source(src, "lazy.py", MODULES)
    calls = {(r.name, r.line) for r in facts.refs if r.kind == "call"}
    assert ("google.genai.Client.interactions.create", 5) in calls
