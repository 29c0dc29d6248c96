"""Guards: the conditions under which a piece of code runs, extracted as data and judged later.

The scan records, for each reference, the conditions of the branches it sits in (a
``sys.version_info`` or platform test, ``if TYPE_CHECKING:``, the ``except ImportError:`` of a
try that imports modules). These are facts about the file, cached with it; whether a branch
runs on the project's declared Pythons and ``--platform`` targets is decided at match time by
:func:`reachable`, so a change of the declared range never needs a new scan.

A condition is JSON text of a small expression tree:

- ``["py", op, [3, 8], part]``: ``sys.version_info`` (``part`` ``"full"``), its major
  (``"major"``) or minor (``"minor"``) compared with ``op``;
- ``["plat", key, op, [values]]``: ``sys.platform``/``os.name``/``platform.system()``
  (``key`` ``"sys"``/``"os"``/``"system"``) with ``op`` ``==``, ``!=``, ``in``, ``not in``
  or ``startswith``;
- ``["typing"]``: ``TYPE_CHECKING`` (never true when the code runs);
- ``["fails", [modules]]``: importing one of the modules fails (an ``except ImportError:``);
- ``["and", …]``, ``["or", …]``, ``["not", x]``, and ``["?"]`` for what cannot be judged;
- ``["callers", name, x]``: ``x``, derived from the places in the file that call the public
  function ``name``, if no other project file may call it (the project scan settles this
  and replaces it by ``x`` or drops it; unsettled, it cannot be judged).

This module is imported by scan workers: it imports nothing but the standard library.
"""

from __future__ import annotations

import ast
import functools
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

__all__ = [
    "condition",
    "import_fallback",
    "negate",
    "reachable",
    "stdlib_available",
]

UNKNOWN = '["?"]'
_OPS: dict[type[ast.cmpop], str] = {
    ast.Eq: "==",
    ast.NotEq: "!=",
    ast.Lt: "<",
    ast.LtE: "<=",
    ast.Gt: ">",
    ast.GtE: ">=",
    ast.In: "in",
    ast.NotIn: "not in",
}
_FLIP = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "==", "!=": "!="}

# --- extraction (at scan time) -----------------------------------------------------------------


def _dotted(node: ast.AST) -> str | None:
    parts: list[str] = []
    while type(node) is ast.Attribute:
        parts.append(node.attr)
        node = node.value
    if type(node) is not ast.Name:
        return None
    parts.append(node.id)
    return ".".join(reversed(parts))


def _version_part(node: ast.AST) -> str | None:
    """What part of ``sys.version_info`` ``node`` is: full (or a prefix slice), major, minor."""
    name = _dotted(node)
    if name in ("sys.version_info", "version_info"):
        return "full"
    if name in ("sys.version_info.major", "version_info.major"):
        return "major"
    if name in ("sys.version_info.minor", "version_info.minor"):
        return "minor"
    if type(node) is ast.Subscript and _dotted(node.value) in ("sys.version_info", "version_info"):
        index = node.slice
        if type(index) is ast.Constant and index.value in (0, 1):
            return "major" if index.value == 0 else "minor"
        if (
            type(index) is ast.Slice
            and index.lower is None
            and index.step is None
            and type(index.upper) is ast.Constant
            and type(index.upper.value) is int
            and index.upper.value >= 1
        ):
            return "full"
    return None


def _ints(node: ast.AST) -> list[int] | None:
    if type(node) is ast.Constant and type(node.value) is int:
        return [node.value]
    if type(node) is ast.Tuple and node.elts:
        out = []
        for elt in node.elts:
            if type(elt) is not ast.Constant or type(elt.value) is not int:
                return None
            out.append(elt.value)
        return out
    return None


def _strings(node: ast.AST) -> list[str] | None:
    if type(node) is ast.Constant and isinstance(node.value, str):
        return [node.value]
    if type(node) in (ast.Tuple, ast.List, ast.Set):
        out = []
        for elt in node.elts:  # type: ignore[attr-defined]
            if type(elt) is not ast.Constant or not isinstance(elt.value, str):
                return None
            out.append(elt.value)
        return out
    return None


def _platform_key(node: ast.AST) -> str | None:
    name = _dotted(node)
    if name == "sys.platform":
        return "sys"
    if name == "os.name":
        return "os"
    if (
        type(node) is ast.Call
        and not node.args
        and not node.keywords
        and _dotted(node.func) == "platform.system"
    ):
        return "system"
    return None


def _tree(node: ast.AST, names: Mapping[str, Any]) -> Any:
    """The expression tree of a test (``["?"]`` where it cannot be judged)."""
    kind = type(node)
    if kind is ast.BoolOp:
        op = "and" if type(node.op) is ast.And else "or"  # type: ignore[attr-defined]
        return [op, *(_tree(v, names) for v in node.values)]  # type: ignore[attr-defined]
    if kind is ast.UnaryOp and type(node.op) is ast.Not:  # type: ignore[attr-defined]
        return ["not", _tree(node.operand, names)]  # type: ignore[attr-defined]
    if kind is ast.Name and node.id in names:  # type: ignore[attr-defined]
        return names[node.id]  # type: ignore[attr-defined]
    name = _dotted(node)
    if name is not None and (name == "TYPE_CHECKING" or name.endswith(".TYPE_CHECKING")):
        return ["typing"]
    if name in ("six.PY2", "six.PY3"):
        return ["py", "==", [2 if name == "six.PY2" else 3], "major"]
    if kind is ast.Compare and len(node.ops) == 1:  # type: ignore[attr-defined]
        return _compare(node.left, node.ops[0], node.comparators[0])  # type: ignore[attr-defined]
    if (
        kind is ast.Call
        and type(node.func) is ast.Attribute  # type: ignore[attr-defined]
        and node.func.attr == "startswith"  # type: ignore[attr-defined]
        and len(node.args) == 1  # type: ignore[attr-defined]
        and not node.keywords  # type: ignore[attr-defined]
    ):
        key = _platform_key(node.func.value)  # type: ignore[attr-defined]
        values = _strings(node.args[0])  # type: ignore[attr-defined]
        if key is not None and values is not None:
            return ["plat", key, "startswith", values]
    return ["?"]


def _compare(left: ast.AST, op_node: ast.cmpop, right: ast.AST) -> Any:
    op = _OPS.get(type(op_node))
    if op is None:
        return ["?"]
    part = _version_part(left)
    if part is None and op in _FLIP:
        part = _version_part(right)
        if part is not None:
            left, right, op = right, left, _FLIP[op]
    if part is not None:
        value = _ints(right)
        if value is None or op in ("in", "not in"):
            return ["?"]
        if part != "full" and len(value) != 1:
            return ["?"]
        return ["py", op, value, part]
    key = _platform_key(left)
    if key is None and op in ("==", "!="):
        key = _platform_key(right)
        if key is not None:
            left, right = right, left
    if key is not None:
        values = _strings(right)
        if values is None or (op in ("==", "!=") and len(values) != 1):
            return ["?"]
        if op in ("<", "<=", ">", ">="):
            return ["?"]
        return ["plat", key, op, values]
    return ["?"]


def _known(tree: Any) -> bool:
    if tree[0] == "?":
        return False
    if tree[0] in ("and", "or", "not"):
        return any(_known(t) for t in tree[1:])
    return True


def condition(test: ast.AST, names: Mapping[str, Any] | None = None) -> str | None:
    """The condition a branch test states, as JSON text; None when nothing in it is known.

    ``names`` maps module-level names to conditions already extracted (``PY2 = …``).
    """
    tree = _tree(test, names or {})
    return json.dumps(tree, separators=(",", ":")) if _known(tree) else None


def condition_tree(test: ast.AST, names: Mapping[str, Any] | None = None) -> Any | None:
    """Like :func:`condition`, as the tree (for remembering ``PY2 = sys.version_info …``)."""
    tree = _tree(test, names or {})
    return tree if _known(tree) else None


def negate(cond: str) -> str:
    """The condition of the other branch."""
    return f'["not",{cond}]'


_IMPORT_ERRORS = frozenset({"ImportError", "ModuleNotFoundError"})


def _catches_import_error(handler: ast.ExceptHandler) -> bool:
    kind = handler.type
    if kind is None:
        return False
    items = kind.elts if type(kind) is ast.Tuple else [kind]
    return bool(items) and all(
        type(item) is ast.Name and item.id in _IMPORT_ERRORS for item in items
    )


def _import_only(body: Sequence[ast.stmt]) -> list[str] | None:
    """The modules a try body imports, when importing is all it does (what may fail)."""
    modules: list[str] = []
    for stmt in body:
        if type(stmt) is ast.Pass:
            continue
        if type(stmt) is ast.Import:
            modules += [alias.name for alias in stmt.names]
        elif type(stmt) is ast.ImportFrom:
            if stmt.level or not stmt.module:
                return None
            for alias in stmt.names:
                if alias.name == "*":
                    modules.append(stmt.module)
                else:
                    modules.append(f"{stmt.module}:{alias.name}")
        elif (type(stmt) is ast.Expr and type(stmt.value) is ast.Constant) or (
            type(stmt) is ast.Assign
            and len(stmt.targets) == 1
            and type(stmt.targets[0]) is ast.Name
            and type(stmt.value) in (ast.Constant, ast.Name)
        ):
            continue
        else:
            return None
    return modules or None


def import_fallback(node: ast.Try, handler: ast.ExceptHandler) -> str | None:
    """The condition of an ``except ImportError:`` handler of a try that only imports."""
    if not _catches_import_error(handler):
        return None
    modules = _import_only(node.body)
    if modules is None:
        return None
    return json.dumps(["fails", modules], separators=(",", ":"))


# --- judging (at match time) -------------------------------------------------------------------

_PLATFORM_VALUES = {
    "linux": {"sys": "linux", "os": "posix", "system": "Linux"},
    "macos": {"sys": "darwin", "os": "posix", "system": "Darwin"},
    "windows": {"sys": "win32", "os": "nt", "system": "Windows"},
}

#: Standard library modules (top-level and a few submodules) with the first 3.x minor that
#: has them; modules not listed here but in ``_SINCE_3_0`` are there since 3.0.
_ADDED: dict[str, int] = {
    "importlib": 1,
    "argparse": 2,
    "concurrent": 2,
    "concurrent.futures": 2,
    "sysconfig": 2,
    "faulthandler": 3,
    "ipaddress": 3,
    "lzma": 3,
    "venv": 3,
    "unittest.mock": 3,
    "collections.abc": 3,
    "asyncio": 4,
    "enum": 4,
    "ensurepip": 4,
    "pathlib": 4,
    "selectors": 4,
    "statistics": 4,
    "tracemalloc": 4,
    "typing": 5,
    "zipapp": 5,
    "secrets": 6,
    "contextvars": 7,
    "dataclasses": 7,
    "importlib.resources": 7,
    "importlib.metadata": 8,
    "graphlib": 9,
    "zoneinfo": 9,
    "tomllib": 11,
    "annotationlib": 14,
    "compression": 14,
}
#: The first 3.x minor without the module.
_REMOVED: dict[str, int] = {
    "macpath": 8,
    "dummy_threading": 9,
    "xml.etree.cElementTree": 9,
    "formatter": 10,
    "parser": 10,
    "symbol": 10,
    "binhex": 11,
    "asynchat": 12,
    "asyncore": 12,
    "distutils": 12,
    "imp": 12,
    "smtpd": 12,
    "aifc": 13,
    "audioop": 13,
    "cgi": 13,
    "cgitb": 13,
    "chunk": 13,
    "crypt": 13,
    "imghdr": 13,
    "lib2to3": 13,
    "mailcap": 13,
    "msilib": 13,
    "nis": 13,
    "nntplib": 13,
    "ossaudiodev": 13,
    "pipes": 13,
    "sndhdr": 13,
    "spwd": 13,
    "sunau": 13,
    "telnetlib": 13,
    "uu": 13,
    "xdrlib": 13,
}
#: Modules only some platforms have.
_ONLY_ON: dict[str, frozenset[str]] = {
    "winreg": frozenset({"windows"}),
    "winsound": frozenset({"windows"}),
    "msvcrt": frozenset({"windows"}),
    "msilib": frozenset({"windows"}),
    "fcntl": frozenset({"linux", "macos"}),
    "grp": frozenset({"linux", "macos"}),
    "pwd": frozenset({"linux", "macos"}),
    "resource": frozenset({"linux", "macos"}),
    "termios": frozenset({"linux", "macos"}),
    "tty": frozenset({"linux", "macos"}),
    "pty": frozenset({"linux", "macos"}),
    "posix": frozenset({"linux", "macos"}),
    "syslog": frozenset({"linux", "macos"}),
    "crypt": frozenset({"linux", "macos"}),
    "nis": frozenset({"linux", "macos"}),
    "spwd": frozenset({"linux"}),
    "ossaudiodev": frozenset({"linux"}),
}
#: Python 2 modules no Python 3 has.
_PYTHON2_ONLY = frozenset(
    [
        "ConfigParser",
        "Queue",
        "urllib2",
        "urlparse",
        "StringIO",
        "cStringIO",
        "cPickle",
        "__builtin__",
        "HTMLParser",
        "httplib",
        "cookielib",
        "Cookie",
        "Tkinter",
        "tkMessageBox",
        "commands",
        "md5",
        "sha",
        "sets",
        "thread",
        "dummy_thread",
        "SocketServer",
        "SimpleHTTPServer",
        "BaseHTTPServer",
        "CGIHTTPServer",
        "xmlrpclib",
        "SimpleXMLRPCServer",
        "htmlentitydefs",
        "robotparser",
        "anydbm",
        "dbhash",
        "whichdb",
        "copy_reg",
        "UserDict",
        "UserList",
        "UserString",
        "exceptions",
        "new",
        "popen2",
        "repr",
        "imputil",
        "mimetools",
        "rfc822",
        "dircache",
    ]
)
#: Modules every 3.x has (and that were not removed): the ones a fallback is judged against.
_SINCE_3_0 = frozenset(
    [
        "abc",
        "array",
        "ast",
        "atexit",
        "base64",
        "bdb",
        "binascii",
        "bisect",
        "builtins",
        "bz2",
        "calendar",
        "cmath",
        "cmd",
        "code",
        "codecs",
        "codeop",
        "collections",
        "colorsys",
        "compileall",
        "configparser",
        "contextlib",
        "copy",
        "copyreg",
        "cProfile",
        "csv",
        "datetime",
        "dbm",
        "decimal",
        "difflib",
        "dis",
        "doctest",
        "email",
        "encodings",
        "errno",
        "filecmp",
        "fileinput",
        "fnmatch",
        "fractions",
        "ftplib",
        "functools",
        "gc",
        "getopt",
        "getpass",
        "gettext",
        "glob",
        "gzip",
        "hashlib",
        "heapq",
        "hmac",
        "html",
        "http",
        "imaplib",
        "inspect",
        "io",
        "itertools",
        "json",
        "keyword",
        "linecache",
        "locale",
        "logging",
        "mailbox",
        "marshal",
        "math",
        "mimetypes",
        "mmap",
        "modulefinder",
        "multiprocessing",
        "netrc",
        "numbers",
        "opcode",
        "operator",
        "optparse",
        "os",
        "pdb",
        "pickle",
        "pickletools",
        "pkgutil",
        "platform",
        "plistlib",
        "poplib",
        "pprint",
        "profile",
        "pstats",
        "py_compile",
        "pyclbr",
        "pydoc",
        "queue",
        "quopri",
        "random",
        "re",
        "reprlib",
        "rlcompleter",
        "runpy",
        "sched",
        "select",
        "shelve",
        "shlex",
        "shutil",
        "signal",
        "site",
        "smtplib",
        "socket",
        "socketserver",
        "stat",
        "string",
        "stringprep",
        "struct",
        "subprocess",
        "sys",
        "tabnanny",
        "tarfile",
        "tempfile",
        "textwrap",
        "threading",
        "time",
        "timeit",
        "token",
        "tokenize",
        "trace",
        "traceback",
        "types",
        "unicodedata",
        "unittest",
        "urllib",
        "uuid",
        "warnings",
        "wave",
        "weakref",
        "webbrowser",
        "wsgiref",
        "xml",
        "xmlrpc",
        "zipfile",
        "zipimport",
        "zlib",
        "_thread",
        "xml.etree.ElementTree",
        "xml.dom",
        "xml.dom.minidom",
        "xml.sax",
        "urllib.request",
        "urllib.parse",
        "urllib.error",
        "http.client",
        "http.server",
        "http.cookies",
        "email.mime",
        "logging.handlers",
        "logging.config",
        "os.path",
        "json.decoder",
    ]
)
#: Names of ``from module import name`` whose first 3.x minor is known.
_NAMES_ADDED: dict[str, int] = {
    "importlib.metadata:version": 8,
    "importlib.metadata:PackageNotFoundError": 8,
    "importlib.metadata:distribution": 8,
    "importlib.metadata:distributions": 8,
    "importlib.metadata:metadata": 8,
    "importlib.metadata:entry_points": 8,
    "importlib.metadata:requires": 8,
    "importlib.metadata:files": 8,
    "importlib.metadata:Distribution": 8,
    "importlib.metadata:EntryPoint": 8,
    "importlib.metadata:packages_distributions": 10,
    "importlib.resources:files": 9,
    "importlib.resources:as_file": 9,
    "functools:cached_property": 8,
    "functools:cache": 9,
    "typing:Protocol": 8,
    "typing:Literal": 8,
    "typing:Final": 8,
    "typing:TypedDict": 8,
    "typing:runtime_checkable": 8,
    "typing:Annotated": 9,
    "typing:ParamSpec": 10,
    "typing:TypeAlias": 10,
    "typing:TypeGuard": 10,
    "typing:Concatenate": 10,
    "typing:Self": 11,
    "typing:LiteralString": 11,
    "typing:Never": 11,
    "typing:NotRequired": 11,
    "typing:Required": 11,
    "typing:TypeVarTuple": 11,
    "typing:Unpack": 11,
    "typing:assert_never": 11,
    "typing:reveal_type": 11,
    "typing:dataclass_transform": 11,
    "typing:override": 12,
    "typing:TypeAliasType": 12,
    "typing:TypeIs": 13,
    "typing:ReadOnly": 13,
    "contextlib:nullcontext": 7,
    "contextlib:asynccontextmanager": 7,
    "contextlib:chdir": 11,
    "datetime:UTC": 11,
    "enum:StrEnum": 11,
    "asyncio:TaskGroup": 11,
    "asyncio:timeout": 11,
    "itertools:pairwise": 10,
    "itertools:batched": 12,
    "math:isqrt": 8,
    "math:prod": 8,
    "shlex:join": 8,
    "html:escape": 2,
    "types:NoneType": 10,
    "types:EllipsisType": 10,
    "collections.abc:Buffer": 12,
}


def stdlib_available(module: str, python: str, platform: str) -> bool | None:
    """Whether ``import module`` (or ``module:name`` for ``from module import name``) works on
    CPython ``python`` (``"3.9"``) on ``platform``; None when not known (a third-party module,
    a name not listed)."""
    name: str | None = None
    if ":" in module:
        module, name = module.split(":", 1)
        sub = f"{module}.{name}"
        if sub in _ADDED or sub in _REMOVED or sub in _SINCE_3_0:
            module, name = sub, None
    major_s, _, minor_s = python.partition(".")
    if major_s != "3" or not minor_s.isdigit():
        return None
    minor = int(minor_s)
    top = module.split(".", 1)[0]
    if top in _PYTHON2_ONLY:
        return False
    known = module in _ADDED or module in _REMOVED or module in _SINCE_3_0 or module in _ONLY_ON
    if not known:
        return None
    if module in _ADDED and minor < _ADDED[module]:
        return False
    if module in _REMOVED and minor >= _REMOVED[module]:
        return False
    if top in _REMOVED and minor >= _REMOVED[top]:
        return False
    only = _ONLY_ON.get(top)
    if only is not None and platform not in only:
        return False
    if name is None:
        return True
    since = _NAMES_ADDED.get(f"{module}:{name}")
    if since is None:
        return None
    return minor >= since


def _version_test(op: str, value: list[int], part: str, python: str) -> bool | None:
    major, minor = (int(p) for p in python.split(".")[:2])
    if part == "major":
        left, right = [major], value[:1]
    elif part == "minor":
        left, right = [minor], value[:1]
    else:
        # (major, minor, micro, …) against the tuple: equal on a third item is unknown
        if len(value) >= 3 and value[:2] == [major, minor]:
            return None
        mine = (major, minor)
        other = tuple(value[:2])
        if op in ("==", "!="):
            # version_info is longer than any 1- or 2-tuple, and a longer tuple that differs
            # in its first two items differs: never equal
            return op == "!="
        if mine == other[: len(mine)] or other == mine[: len(other)]:
            # the tuple is a prefix of version_info: version_info is greater
            cmp = 1
        else:
            cmp = (mine > other) - (mine < other)
        return {"<": cmp < 0, "<=": cmp <= 0, ">": cmp > 0, ">=": cmp >= 0}.get(op)
    a, b = left[0], right[0]
    return {
        "==": a == b,
        "!=": a != b,
        "<": a < b,
        "<=": a <= b,
        ">": a > b,
        ">=": a >= b,
    }.get(op)


def _platform_test(key: str, op: str, values: list[str], platform: str) -> bool | None:
    actual = _PLATFORM_VALUES.get(platform, {}).get(key)
    if actual is None:
        return None
    if op == "==":
        return actual == values[0]
    if op == "!=":
        return actual != values[0]
    if op == "in":
        return actual in values
    if op == "not in":
        return actual not in values
    if op == "startswith":
        return any(actual.startswith(v) for v in values)
    return None


def _evaluate(tree: Any, python: str, platform: str) -> bool | None:
    head = tree[0]
    if head == "and":
        results = [_evaluate(t, python, platform) for t in tree[1:]]
        if any(r is False for r in results):
            return False
        return True if all(r is True for r in results) else None
    if head == "or":
        results = [_evaluate(t, python, platform) for t in tree[1:]]
        if any(r is True for r in results):
            return True
        return False if all(r is False for r in results) else None
    if head == "not":
        inner = _evaluate(tree[1], python, platform)
        return None if inner is None else not inner
    if head == "typing":
        return False
    if head == "py":
        return _version_test(tree[1], tree[2], tree[3], python)
    if head == "plat":
        return _platform_test(tree[1], tree[2], tree[3], platform)
    if head == "fails":
        # the fallback runs when any of the imports fails; it is known not to run only when
        # every one of them is known to work
        results = [stdlib_available(m, python, platform) for m in tree[1]]
        if all(r is True for r in results):
            return False
        return True if any(r is False for r in results) else None
    return None


@functools.lru_cache(maxsize=4096)
def _parsed(cond: str) -> Any:
    try:
        tree = json.loads(cond)
    except (ValueError, RecursionError):
        return ["?"]
    return tree if isinstance(tree, list) and tree else ["?"]


def _safe_evaluate(cond: str, python: str, platform: str) -> bool | None:
    try:
        return _evaluate(_parsed(cond), python, platform)
    except (TypeError, ValueError, IndexError, KeyError, AttributeError, RecursionError):
        return None  # a cached condition of another layout, or nested too deeply: it runs


@functools.lru_cache(maxsize=4096)
def reachable(
    guards: tuple[str, ...], pythons: tuple[str, ...], platforms: tuple[str, ...]
) -> bool:
    """Whether code under all of ``guards`` may run on some (Python, platform) target.

    A condition that cannot be judged counts as true: when in doubt the code runs.
    """
    if not guards:
        return True
    for python in pythons:
        for platform in platforms:
            if all(_safe_evaluate(g, python, platform) is not False for g in guards):
                return True
    return False


def typing_only(guards: Iterable[str]) -> bool:
    """Whether one of the guards is ``TYPE_CHECKING`` taken (the code never runs)."""
    return any(_parsed(g) == ["typing"] for g in guards)
