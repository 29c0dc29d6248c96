"""The API diff's noise rules, on APIs griffe extracts from real sources (no network): what must
never count as a change, and what must."""

from __future__ import annotations

import textwrap

from depwatch.usage import scan_source
from depwatch.wheels.api import extract_api
from depwatch.wheels.compare import changes, lookup, prepare
from depwatch.wheels.remote import WheelSources


def _api(files: dict[str, str]):  # type: ignore[no-untyped-def]
    sources = {k: textwrap.dedent(v).encode() for k, v in files.items()}
    tops = tuple(sorted({k.split("/")[0].removesuffix(".py") for k in files}))
    return prepare(extract_api(WheelSources(sources, tops, (), 0)))


def _changes(old: dict[str, str], new: dict[str, str], code: str) -> list[str]:
    a, b = _api(old), _api(new)
    facts = scan_source(textwrap.dedent(code), "app.py", ["lib"])
    return sorted({c.symbol for ref in facts.refs for c in changes(ref, a, b)})


def test_signature_noise_is_not_a_change() -> None:
    old = {
        "lib/__init__.py": """
        class Api:
            @classmethod
            def make(cls, a, b=1):
                pass

            def run(self, x, y=3) -> int:
                return x

            def size(self):
                return 1

        def go(a, _private=1, b=2):
            pass
        """
    }
    new = {
        "lib/__init__.py": """
        class Api:
            @staticmethod
            def make(a, b=None):
                pass

            def run(self, /, x, y=None):
                return x

            @property
            def size(self):
                return 1

        def go(a, _private, b=None):
            pass
        """
    }
    code = """
    from lib import Api, go
    Api.make(1, b=2)
    Api().run(1, y=2)
    Api().size()
    go(1, b=3)
    """
    # classmethod -> staticmethod, a default now None, a removed return annotation, self
    # positional-only, function -> property, a private parameter now required: nothing
    assert _changes(old, new, code) == []


def test_removed_keyword_counts_only_where_passed_and_required_only_where_omitted() -> None:
    old = {"lib/__init__.py": "def f(a, *, old=1):\n    pass\n"}
    new = {"lib/__init__.py": "def f(a, *, new):\n    pass\n"}
    assert _changes(old, new, "from lib import f\nf(1, old=2)\n") == ["lib.f(new)", "lib.f(old=)"]
    assert _changes(old, new, "from lib import f\nf(1, new=2)\n") == []
    assert _changes(old, new, "from lib import f\nf(1, **kw)\n") == []
    # **kwargs in the new release may still take it
    new_kw = {"lib/__init__.py": "def f(a, **kwargs):\n    pass\n"}
    assert _changes(old, new_kw, "from lib import f\nf(1, old=2)\n") == []


def test_private_canonical_path_and_inherited_members_are_the_public_names() -> None:
    files = {
        "lib/__init__.py": "from lib._impl import Child, get\n",
        "lib/_impl.py": """
        from lib.base.core import Base

        def get(url, *, timeout=None):
            pass

        class Child(Base):
            pass
        """,
        "lib/base/core.py": "class Base:\n    def shared(self, x):\n        pass\n",
    }
    api = _api(files)
    assert api["objects"]["lib.get"]["p"] == [["url", 1, 1], ["timeout", 3, 0]]
    assert lookup(api, "lib.Child.shared").status == "present"  # through a namespace folder
    moved = dict(files)
    moved["lib/_impl.py"] = files["lib/_impl.py"].replace("class Child(Base)", "class Child")
    assert _changes(files, moved, "import lib\nlib.Child().shared(1)\n") == ["lib.Child.shared"]


def test_what_a_static_reading_cannot_see_is_unknown() -> None:
    lazy = _api(
        {
            "lib/__init__.py": "import lazy\n__getattr__, __dir__, __all__ = lazy.attach(__name__)\n",
        }
    )
    assert lookup(lazy, "lib.anything").status == "unknown"
    listed = _api(
        {
            "lib/__init__.py": """
            def __getattr__(name):
                if name in ("a", "b"):
                    import warnings
                    warnings.warn("use c", DeprecationWarning)
                    return 1
                raise AttributeError(name)
            """
        }
    )
    assert lookup(listed, "lib.a").status == "served"
    assert listed["objects"]["lib.a"]["d"] == "use c"
    assert lookup(listed, "lib.zzz").status == "missing"
    dyn = _api(
        {
            "lib/__init__.py": """
            import functools

            def wrap(f):
                return f

            class Open:
                def __getattr__(self, name):
                    return 1

            @wrap
            def g(a):
                pass
            """
        }
    )
    assert lookup(dyn, "lib.Open.whatever").status == "unknown"
    assert dyn["objects"]["lib.g"]["p"] is None  # a decorator may rewrite the signature
    assert lookup(dyn, "lib.g.attr").status == "unknown"  # what a function returns


def test_stdlib_bases_keep_a_class_readable() -> None:
    old = {
        "lib/__init__.py": """
        import enum

        class Color(enum.Enum):
            RED = 1
            BLUE = 2

        class Oops(ValueError):
            code = 1

        class Box(dict):
            def keys(self):
                return []
        """
    }
    new = {
        "lib/__init__.py": """
        import enum

        class Color(enum.Enum):
            RED = 1

        class Oops(ValueError):
            pass

        class Box(dict):
            pass
        """
    }
    code = """
    import lib
    lib.Color.BLUE
    lib.Oops.code
    lib.Box().keys()
    """
    # Box.keys is still there (dict's): only what the stdlib base does not have is gone
    assert _changes(old, new, code) == ["lib.Color.BLUE", "lib.Oops.code"]


def test_a_getattr_defined_under_a_condition_is_read() -> None:
    api = _api(
        {
            "lib/__init__.py": """
            import typing as t

            if not t.TYPE_CHECKING:

                def __getattr__(name):
                    if name == "__version__":
                        return "1"
                    raise AttributeError(name)
            """
        }
    )
    assert lookup(api, "lib.__version__").status == "served"
    assert lookup(api, "lib.escape").status == "missing"
    lazy = _api({"lib/__init__.py": "from lib._lazy import __getattr__\n", "lib/_lazy.py": ""})
    assert lookup(lazy, "lib.escape").status == "unknown"


def test_a_module_that_replaces_itself_is_unreadable() -> None:
    api = _api(
        {
            "lib/__init__.py": """
            import sys

            class _Module:
                x = 1

            sys.modules[__name__] = _Module()
            """
        }
    )
    assert lookup(api, "lib.anything").status == "unknown"


def test_functions_a_stub_defines_only_through_overload_exist() -> None:
    # pymssql 2.3.13 ships __init__.pyi (`from ._pymssql import *`) and _pymssql.pyi, where
    # `connect` is three @overload stubs: griffe keeps overload-only names out of the members.
    old = {
        "lib/__init__.py": "from ._impl import *\n",
        "lib/_impl.py": "def connect(server, user=None):\n    pass\n",
    }
    new = {
        "lib/__init__.py": "from ._impl import *\n",
        "lib/__init__.pyi": "from ._impl import *\n",
        "lib/_impl.pyi": """
        from typing import overload

        @overload
        def connect(server: str) -> int: ...
        @overload
        def connect(server: str, user: str) -> int: ...

        class Conn:
            @overload
            def run(self, q: str) -> None: ...
            @overload
            def run(self, q: bytes) -> None: ...
        """,
    }
    code = """
    import lib
    from lib._impl import connect, Conn
    lib.connect("db", user="sa")
    connect("db")
    Conn().run("select 1")
    """
    assert _changes(old, new, code) == []
    # a removal next to them still counts
    gone = {**new, "lib/_impl.pyi": "class Conn: ...\n"}
    assert "lib.connect" in _changes(old, gone, code)


def test_a_parameter_is_deprecated_by_its_own_branch_not_another_parameters() -> None:
    # aiohttp 3.14's ClientSession: the read_timeout warning sits inside the branch where
    # timeout is *not* passed; passing timeout= is what the message asks for.
    src = """
    import warnings
    sentinel = object()

    class Session:
        def __init__(self, timeout=sentinel, read_timeout=sentinel, loop=None, verify=None):
            if timeout is sentinel or timeout is None:
                self._timeout = 5
                if read_timeout is not sentinel:
                    warnings.warn("read_timeout is deprecated, use timeout", DeprecationWarning)
            else:
                self._timeout = timeout
            if loop is not None:
                warnings.warn("loop argument is deprecated", DeprecationWarning)
            if verify is None:
                pass
            else:
                warnings.warn("verify= is deprecated, use ssl=", DeprecationWarning)
    """
    api = _api({"lib/__init__.py": src})
    assert api["objects"]["lib.Session"]["dp"] == {
        "read_timeout": "read_timeout is deprecated, use timeout",
        "loop": "loop argument is deprecated",
        "verify": "verify= is deprecated, use ssl=",
    }
