"""Scanning a whole project: which files, in how many processes, and what is cached.

Two passes: every file is scanned alone (a fast byte prefilter skips files that cannot
mention a tracked module or environment variable); then files that import names other project
modules bind to tracked objects (``from .clients import client``) are resolved again with
those exports. The cache (in the user's cache folder, never in the project) stores extracted
facts keyed by path, size and mtime, the depwatch version and what was extracted.

Integrity: the cache file is read only when it is a regular file (a symlink or FIFO is
ignored) and its body matches the SHA-256 on its first line (an entry edited by hand, a file
cut short); otherwise it is rebuilt. Sources are not hashed: a cached entry is trusted when the
file's size and ``st_mtime_ns`` are the recorded ones. A checkout writes every file with a new
time stamp, so a cache restored from another branch or run matches no file whose content could
differ; what is not seen is a rewrite that keeps the size and resets the nanosecond time stamp
(hashing every source on every run would read the whole tree, the cost the cache avoids).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import stat
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from depwatch import __version__
from depwatch.errors import DepwatchError
from depwatch.files import parse_size, read_cache_file, repository_top, seal, unseal
from depwatch.usage import worker
from depwatch.usage.facts import FileFacts, facts_from_compact, facts_from_json, facts_to_json
from depwatch.usage.scan import Compact, gc_paused, module_name

__all__ = ["SKIP_DIRS", "ScanResult", "cache_path", "iter_source_files", "scan_project"]

#: Folders never scanned (virtual environments are also recognised by their pyvenv.cfg).
SKIP_DIRS = frozenset(
    {
        ".bzr",
        ".direnv",
        ".eggs",
        ".git",
        ".hg",
        ".ipynb_checkpoints",
        ".mypy_cache",
        ".nox",
        ".pants.d",
        ".pyenv",
        ".pytest_cache",
        ".pytype",
        ".ruff_cache",
        ".svn",
        ".tox",
        ".venv",
        ".vscode",
        ".idea",
        "__pycache__",
        "__pypackages__",
        "_build",
        "buck-out",
        "build",
        "dist",
        "node_modules",
        "site-packages",
        "venv",
    }
)
_SUFFIXES = (".py", ".ipynb")
#: 2: calls record positional counts and splats; 3: guards; 4: subclasses, returns,
#: subscripts, and which positional arguments are string literals; 6: and callers' guards;
#: 7: where a name's call-result part starts; 8: and parameters annotated with a class.
_CACHE_FORMAT = 8
_CALLERS = '["callers",'
_POOL_MIN_BYTES = 3_000_000
"""Below this much source to parse, scanning in-process beats starting workers."""
_POOL_MIN_FILES = 40
_MAX_ROUNDS = 4


@dataclass(frozen=True, slots=True)
class ScanResult:
    """What :func:`scan_project` found."""

    facts: tuple[FileFacts, ...]
    """One entry per file with references or warnings, sorted by path."""
    warnings: tuple[str, ...]
    """Skipped or partly read files, one line each naming the file."""
    files_scanned: int
    """Source files considered (after skipped folders, .gitignore and ``exclude``)."""
    files_parsed: int
    """Files actually parsed in this run (0 when everything came from the cache)."""
    cache_hits: int = 0
    sources: tuple[str, ...] = ()
    """Every source file considered, relative to the root (where tests and test data are)."""
    imported: frozenset[str] = frozenset()
    """Project modules some project file imports (a module tests import is not test data)."""


@dataclass(frozen=True, slots=True)
class _File:
    rel: str
    path: str
    size: int
    mtime: int


# --- which files ---------------------------------------------------------------------------


class _Ignores:
    """.gitignore files (with .git/info/exclude) of the repository holding the root."""

    def __init__(self, root: Path) -> None:
        self.top: Path | None = None
        self.prefix = ""
        self.specs: list[tuple[str, Any]] = []
        try:
            import pathspec
        except ImportError:  # pragma: no cover - a declared dependency
            return
        self._pathspec = pathspec
        self.top = repository_top(root)
        if self.top is None:
            return
        rel = root.relative_to(self.top).as_posix()
        self.prefix = "" if rel == "." else rel + "/"
        self._load(self.top / ".git" / "info" / "exclude", "")
        parts = [] if rel == "." else rel.split("/")
        for i in range(len(parts)):
            base = "/".join(parts[:i])
            self._load(self.top.joinpath(*parts[:i], ".gitignore"), base)
        if any(self._matches("/".join(parts[: i + 1]) + "/") for i in range(len(parts))):
            # The project sits in a folder the enclosing repository ignores (a checkout in
            # another repository's build/): that repository's rules are not the project's.
            # The project's own root decides what is ignored below it.
            self.specs.clear()

    def _load(self, file: Path, base: str) -> None:
        try:
            lines = file.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            return
        try:
            spec = self._pathspec.GitIgnoreSpec.from_lines(lines)
        except Exception:  # a malformed pattern must not stop the scan
            return
        self.specs.append((base, spec))

    def enter(self, dir_path: str, rel_dir: str) -> int:
        """Load ``dir_path``'s .gitignore; the number of specs to drop on leaving."""
        if self.top is None:
            return 0
        before = len(self.specs)
        base = (self.prefix + rel_dir).rstrip("/")
        self._load(Path(dir_path) / ".gitignore", base)
        return len(self.specs) - before

    def ignored(self, rel: str, is_dir: bool) -> bool:
        if self.top is None or not self.specs:
            return False
        return self._matches(self.prefix + rel + ("/" if is_dir else ""))

    def _matches(self, full: str) -> bool:
        """Whether the specs loaded so far ignore ``full`` (relative to the repository top)."""
        verdict: bool | None = None
        for base, spec in self.specs:
            if base:
                if not full.startswith(base + "/"):
                    continue
                sub = full[len(base) + 1 :]
            else:
                sub = full
            result = spec.check_file(sub).include
            if result is not None:
                verdict = result
        return bool(verdict)


@functools.lru_cache(maxsize=8)
def exclude_spec(patterns: tuple[str, ...]) -> Any:
    """``--exclude`` / ``[tool.depwatch] exclude`` globs compiled; a bad one is an error.
    Memoised: the audit checks them before the scan, which then uses them."""
    import pathspec  # only here: it costs start-up time

    for pattern in patterns:
        try:
            pathspec.GitIgnoreSpec.from_lines([pattern])
        except Exception:  # pathspec's own error types vary between releases
            raise DepwatchError(
                f"{pattern!r} is not a valid exclude pattern",
                hint="--exclude and [tool.depwatch] exclude take .gitignore-style globs",
            ) from None
    return pathspec.GitIgnoreSpec.from_lines(list(patterns))


#: Source files larger than this are skipped with a warning (a gap under --strict): a 10 MB
#: generated module took minutes and gigabytes to parse, and holds data, not API calls.
DEFAULT_MAX_SOURCE_SIZE = 2 * 1024 * 1024
MAX_SOURCE_SIZE_ENV = "DEPWATCH_MAX_SOURCE_SIZE"


def max_source_size() -> int:
    """``$DEPWATCH_MAX_SOURCE_SIZE`` (bytes, or 512K, 8M), else 2 MiB."""
    value = os.environ.get(MAX_SOURCE_SIZE_ENV)
    return parse_size(value, name=MAX_SOURCE_SIZE_ENV) if value else DEFAULT_MAX_SOURCE_SIZE


def _git_listed(root: Path) -> list[str] | None:
    """The files git lists under ``root`` (relative to it): tracked ones and untracked ones
    its ignore rules keep (``.gitignore`` files, ``.git/info/exclude``, ``core.excludesFile``).
    None outside a git work tree, without git, or where git cannot answer, or where the
    enclosing repository ignores ``root`` itself (the project's root decides: the walk below)."""
    top = repository_top(root)
    if top is None:
        return None
    command = ["git", "-C", os.fspath(root), "-c", "core.quotePath=false"]
    try:
        if root != top:
            ignored = subprocess.run(
                [*command, "check-ignore", "-q", "--", os.fspath(root) + os.sep],
                capture_output=True,
                timeout=60,
            )
            if ignored.returncode != 1:  # 0: ignored; 128: git could not tell
                return None
        done = subprocess.run(
            [*command, "ls-files", "-z", "--cached", "--others", "--exclude-standard", "--", "."],
            capture_output=True,
            timeout=120,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if done.returncode != 0:
        return None
    return [os.fsdecode(item) for item in done.stdout.split(b"\0") if item]


def _from_git(root: Path, listed: list[str], excluded: Any) -> tuple[list[_File], list[str]]:
    """The source files among ``listed``, with the walk's own skips (folders such as .venv or
    build, virtual environments, --exclude) applied to each file and the folders above it."""
    notes: list[str] = []
    found: list[_File] = []
    real_root = os.path.realpath(root)
    folders: dict[str, bool] = {}
    biggest = max_source_size()

    def skipped_folder(rel_dir: str) -> bool:
        verdict = folders.get(rel_dir)
        if verdict is None:
            parent, _, name = rel_dir.rpartition("/")
            verdict = (
                (bool(parent) and skipped_folder(parent))
                or name in SKIP_DIRS
                or name.endswith(".egg-info")
                or Path(root, rel_dir, "pyvenv.cfg").exists()
                or (excluded is not None and excluded.match_file(rel_dir + "/"))
            )
            folders[rel_dir] = verdict
        return verdict

    for rel in sorted(set(listed), key=lambda r: r.split("/")):
        if not rel.endswith(_SUFFIXES):
            continue
        folder = rel.rpartition("/")[0]
        if (folder and skipped_folder(folder)) or (
            excluded is not None and excluded.match_file(rel)
        ):
            continue
        path = root.joinpath(*rel.split("/"))
        try:
            if path.is_symlink():
                target = os.path.realpath(path)
                if not target.startswith(real_root + os.sep):
                    continue
            st = path.stat()
        except FileNotFoundError:
            continue  # tracked, deleted in the work tree
        except OSError:
            notes.append(f"{rel}: skipped, cannot be read")
            continue
        if not stat.S_ISREG(st.st_mode):
            continue
        if st.st_size > biggest:
            notes.append(
                f"{rel}: skipped, larger than {biggest:,} bytes "
                f"(raise {MAX_SOURCE_SIZE_ENV} to scan it)"
            )
            continue
        found.append(_File(rel, os.fspath(path), st.st_size, st.st_mtime_ns))
    return found, notes


def iter_source_files(root: Path, exclude: Sequence[str] = ()) -> tuple[list[_File], list[str]]:
    """The project's ``*.py`` and ``*.ipynb`` files, and warnings about folders not readable.

    In a git work tree git says which files it ignores (so ``core.excludesFile`` counts too);
    outside one, the folders are walked and ``.gitignore`` files read."""
    notes: list[str] = []
    excluded: Any = None
    if exclude:
        excluded = exclude_spec(tuple(exclude))
    listed = _git_listed(root)
    if listed is not None:
        return _from_git(root, listed, excluded)
    ignores = _Ignores(root)
    real_root = os.path.realpath(root)
    found: list[_File] = []
    biggest = max_source_size()

    def walk(dir_path: str, rel_dir: str) -> None:
        pushed = ignores.enter(dir_path, rel_dir)
        try:
            try:
                with os.scandir(dir_path) as it:
                    entries = sorted(it, key=lambda e: e.name)
            except OSError as exc:
                notes.append(f"{rel_dir or '.'}: folder skipped, cannot be read ({exc.strerror})")
                return
            for entry in entries:
                rel = rel_dir + entry.name
                try:
                    if entry.is_dir(follow_symlinks=False):
                        name = entry.name
                        if (
                            name in SKIP_DIRS
                            or name.endswith(".egg-info")
                            or Path(entry.path, "pyvenv.cfg").exists()
                            or ignores.ignored(rel, True)
                            or (excluded is not None and excluded.match_file(rel + "/"))
                        ):
                            continue
                        walk(entry.path, rel + "/")
                        continue
                    if not entry.name.endswith(_SUFFIXES):
                        continue
                    if entry.is_symlink():
                        target = os.path.realpath(entry.path)
                        if not target.startswith(real_root + os.sep):
                            continue
                    if not entry.is_file():
                        continue
                    if ignores.ignored(rel, False) or (
                        excluded is not None and excluded.match_file(rel)
                    ):
                        continue
                    st = entry.stat()
                except OSError:
                    notes.append(f"{rel}: skipped, cannot be read")
                    continue
                if st.st_size > biggest:
                    notes.append(
                        f"{rel}: skipped, larger than {biggest:,} bytes "
                        f"(raise {MAX_SOURCE_SIZE_ENV} to scan it)"
                    )
                    continue
                found.append(_File(rel, entry.path, st.st_size, st.st_mtime_ns))
        finally:
            if pushed:
                del ignores.specs[-pushed:]

    walk(os.fspath(root), "")
    return found, notes


# --- scanning files (in workers or in-process) ----------------------------------------------


def _run(
    files: list[_File],
    exports: Mapping[str, Mapping[str, str]] | None,
    init: tuple[tuple[str, ...], tuple[str, ...], frozenset[str], tuple[str, ...]],
    jobs: int | None,
) -> list[tuple[FileFacts, bool]]:
    total = sum(f.size for f in files)
    workers = jobs if jobs is not None else min(os.cpu_count() or 1, 8)
    compact: list[tuple[Compact, bool]] | None = None
    if workers > 1 and total >= _POOL_MIN_BYTES and len(files) >= _POOL_MIN_FILES:
        try:
            compact = _run_pool(files, exports, init, workers, total)
        except Exception:  # no way to start workers, a worker died, …: scan here instead
            compact = None
    if compact is None:
        worker.init(*init)
        compact = worker.scan_chunk([(f.rel, f.path) for f in files], exports)
    return [(facts_from_compact(facts), parsed) for facts, parsed in compact]


def _run_pool(
    files: list[_File],
    exports: Mapping[str, Mapping[str, str]] | None,
    init: tuple[tuple[str, ...], tuple[str, ...], frozenset[str], tuple[str, ...]],
    workers: int,
    total: int,
) -> list[tuple[Compact, bool]]:
    ordered = sorted(files, key=lambda f: -f.size)
    target = max(total // (workers * 6), 1)
    chunks: list[list[tuple[str, str]]] = []
    current: list[tuple[str, str]] = []
    size = 0
    for f in ordered:
        current.append((f.rel, f.path))
        size += f.size
        if size >= target:
            chunks.append(current)
            current, size = [], 0
    if current:
        chunks.append(current)
    # workers are fresh interpreters running depwatch.usage.worker only (not multiprocessing,
    # whose workers also load its machinery, the pickler and the caller's __main__): each holds
    # what scanning needs and nothing of the caller's state. They are our own children.
    if not sys.executable:
        raise RuntimeError("no Python executable to start workers with")
    argv = [sys.executable, "-c", worker.BOOT.format(path=list(sys.path))]
    procs: list[subprocess.Popen[bytes]] = []
    results: list[list[tuple[Compact, bool]] | None] = [None] * len(chunks)
    pending = iter(enumerate(chunks))
    lock = threading.Lock()
    errors: list[BaseException] = []

    def drive(proc: subprocess.Popen[bytes]) -> None:
        assert proc.stdin is not None
        assert proc.stdout is not None
        try:
            worker.send(proc.stdin, init)
            while not errors:
                with lock:
                    item = next(pending, None)
                if item is None:
                    return
                index, chunk = item
                worker.send(proc.stdin, (chunk, exports))
                results[index] = worker.receive(proc.stdout)
        except BaseException as exc:  # a worker died or could not start: scan in-process
            errors.append(exc)

    try:
        for _ in range(min(workers, len(chunks))):
            # A worker that fails is replaced by the in-process scan; its own traceback would
            # only alarm the user, so its stderr goes nowhere.
            procs.append(
                subprocess.Popen(
                    argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
                )
            )
        threads = [threading.Thread(target=drive, args=(p,), daemon=True) for p in procs]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        for proc in procs:
            for stream in (proc.stdin, proc.stdout):
                if stream is not None:
                    with contextlib.suppress(OSError):
                        stream.close()
        for proc in procs:
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    if errors:
        raise errors[0]
    out: list[tuple[Compact, bool]] = []
    for part in results:
        if part is None:
            raise RuntimeError("a chunk was not scanned")
        out.extend(part)
    return out


# --- the cache -----------------------------------------------------------------------------


def cache_path(root: Path) -> Path | None:
    """Where the usage cache of ``root`` lives, or None when caching is off."""
    from depwatch import cachedir

    folder = cachedir.folder("usage")
    if folder is None:
        return None
    digest = hashlib.sha256(os.fsencode(Path(root).absolute())).hexdigest()[:24]
    return folder / f"{digest}.json"


def _cache_key(
    modules: tuple[str, ...], env: tuple[str, ...], assignments: tuple[str, ...] = ()
) -> str:
    text = json.dumps(
        [_CACHE_FORMAT, __version__, sorted(modules), sorted(env), sorted(assignments)]
    )
    return hashlib.sha256(text.encode()).hexdigest()


def _load_cache(path: Path | None, key: str) -> dict[str, Any]:
    if path is None:
        return {}
    # Only a regular file (a symlink or FIFO there is ignored), whose checksum matches (an
    # entry edited by hand or a file cut short is not trusted): otherwise it is rebuilt.
    raw = read_cache_file(path, limit=1 << 30)  # a cache, not input: it may be large
    body = unseal(raw) if raw is not None else None
    if body is None:
        return {}
    try:
        # Millions of small objects that all live: collections meanwhile only re-scan them.
        with gc_paused():
            data = json.loads(body)
        if not isinstance(data, dict) or data.get("key") != key:
            return {}
        files = data.get("files")
        return files if isinstance(files, dict) else {}
    except (OSError, ValueError, RecursionError):
        return {}


def _save_cache(path: Path | None, key: str, root: Path, files: dict[str, Any]) -> None:
    if path is None:
        return
    try:
        root_real = os.path.realpath(root)
        if os.path.realpath(path).startswith(root_real + os.sep):
            return  # never write into the project
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".usage-", suffix=".tmp", dir=path.parent)
        try:
            body = json.dumps({"key": key, "root": os.fspath(root), "files": files})
            with os.fdopen(fd, "wb") as fh:
                fh.write(seal(body.encode()))
            Path(tmp).replace(path)
        except BaseException:
            with contextlib.suppress(OSError):
                Path(tmp).unlink()
            raise
    except OSError:
        return


def _cached_facts(entry: Any, field: str) -> FileFacts | None:
    try:
        return facts_from_json(entry[field])
    except (KeyError, TypeError, ValueError):
        return None


# --- the whole project ---------------------------------------------------------------------


def _dotted(rel: str) -> str | None:
    mod = module_name(rel)
    return ".".join(mod) if mod else None


def _deps(facts: FileFacts, exports: Mapping[str, Mapping[str, str]]) -> list[list[str]]:
    """The exports ``facts`` depends on (what its second-pass result is keyed by)."""
    out: set[tuple[str, str, str]] = set()
    for module, name in facts.imports:
        table = exports.get(module)
        if not table:
            continue
        if name in ("", "*"):
            out.update((module, k, v) for k, v in table.items())
        elif name in table:
            out.add((module, name, table[name]))
    return [list(item) for item in sorted(out)]


def _reached(final: Mapping[str, FileFacts]) -> dict[tuple[str, str], set[str]]:
    """(module, name) → the files importing it; name ``""`` for the module itself (``from
    pkg import mod`` imports ``mod`` of ``pkg``, and maybe the module ``pkg.mod``; ``import
    pkg.mod`` binds ``pkg``, whose attributes the file may then use)."""
    out: dict[tuple[str, str], set[str]] = {}
    for rel, facts in final.items():
        for module, name in facts.imports:
            out.setdefault((module, name), set()).add(rel)
            if name not in ("", "*"):
                out.setdefault((f"{module}.{name}", ""), set()).add(rel)
            else:
                parts = module.split(".")
                for end in range(1, len(parts)):
                    out.setdefault((".".join(parts[:end]), ""), set()).add(rel)
    return out


def resolve_callers(final: dict[str, FileFacts]) -> None:
    """Settle the guards a public function's body takes from its callers in its own file
    (``["callers", name, condition]``): they hold when no other project file imports the
    name, the module itself (and so may use any of its attributes) or all its names (``*``);
    otherwise they are dropped (the evidence counts, as when in doubt)."""
    pending = [
        rel
        for rel, facts in final.items()
        if any(g.startswith(_CALLERS) for ref in facts.refs for g in ref.guards)
    ]
    if not pending:
        return
    reached = _reached(final)
    for rel in pending:
        facts = final[rel]
        module = _dotted(rel)
        refs = []
        for ref in facts.refs:
            guards: list[str] = []
            for guard in ref.guards:
                if not guard.startswith(_CALLERS):
                    guards.append(guard)
                    continue
                try:
                    _, name, condition = json.loads(guard)
                except (ValueError, TypeError, RecursionError):
                    continue
                if module is None or not isinstance(name, str):
                    continue
                if any(reached.get((module, n), set()) - {rel} for n in ("", "*", name)):
                    continue
                guards.append(json.dumps(condition, separators=(",", ":")))
            refs.append(replace(ref, guards=tuple(guards)) if guards != list(ref.guards) else ref)
        final[rel] = replace(facts, refs=tuple(refs))


def scan_project(
    root: Path,
    modules: Iterable[str],
    env: Iterable[str] = (),
    *,
    exclude: Sequence[str] = (),
    cache: bool = True,
    jobs: int | None = None,
    assignments: Iterable[str] = (),
) -> ScanResult:
    """Scan the project's ``*.py`` and ``*.ipynb`` files under ``root`` for references.

    Never raises for the project's content: unreadable, undecodable or invalid files are
    skipped (or partly read) with a warning naming them.
    """
    root = Path(root)
    mods = tuple(sorted({m.strip() for m in modules if m and m.strip()}))
    envs = tuple(sorted({e for e in env if e}))
    names = tuple(sorted({a for a in assignments if a}))
    files, notes = iter_source_files(root, exclude)
    project = frozenset(d for d in (_dotted(f.rel) for f in files) if d)
    # top-level packages too: `import myproj` then `myproj.clients.client`
    project = project | {d.split(".", 1)[0] for d in project if "." in d}
    init = (mods, envs, project, names)
    key = _cache_key(mods, envs, names)
    where = cache_path(root) if cache else None
    old = _load_cache(where, key)
    new: dict[str, Any] = {}
    first: dict[str, FileFacts] = {}
    todo: list[_File] = []
    hits = 0
    for f in files:
        entry = old.get(f.rel)
        if (
            isinstance(entry, dict)
            and entry.get("size") == f.size
            and entry.get("mtime") == f.mtime
        ):
            cached = _cached_facts(entry, "facts")
            if cached is not None:
                first[f.rel] = cached
                new[f.rel] = entry
                hits += 1
                continue
        todo.append(f)
    parsed = 0
    by_rel = {f.rel: f for f in files}
    if todo:
        for facts, did_parse in _run(todo, None, init, jobs):
            parsed += did_parse
            first[facts.path] = facts
            f = by_rel[facts.path]
            new[f.rel] = {"size": f.size, "mtime": f.mtime, "facts": facts_to_json(facts)}
    # second pass: names imported from project modules that bind tracked objects
    final = dict(first)
    exports: dict[str, dict[str, str]] = {}
    for rel, facts in first.items():
        dotted = _dotted(rel)
        if not dotted:
            continue
        # a cached second-pass result (of an unchanged file) seeds the table: a stale seed
        # changes some file's dependencies, which are then scanned again
        second = new.get(rel, {}).get("second") if rel in new else None
        seeded = _cached_facts(second, "facts") if isinstance(second, dict) else None
        table = (seeded or facts).exports
        if table:
            exports[dotted] = dict(table)
    done_deps: dict[str, str] = {}
    dropped = False
    for _ in range(_MAX_ROUNDS):
        again: list[_File] = []
        for rel, facts in first.items():
            if not facts.imports:
                continue
            deps = _deps(facts, exports)
            if not deps:
                # Nothing it imports binds a tracked object (any more): its first pass is
                # the whole answer, and a second-pass result kept from an earlier round or
                # run is stale.
                done_deps.pop(rel, None)
                final[rel] = facts
                entry = new.get(rel)
                if isinstance(entry, dict) and entry.pop("second", None) is not None:
                    dropped = True
                continue
            deps_key = json.dumps(deps)
            if done_deps.get(rel) == deps_key:
                continue
            done_deps[rel] = deps_key
            entry = new.get(rel, {})
            second = entry.get("second") if isinstance(entry, dict) else None
            if isinstance(second, dict) and second.get("deps") == deps_key:
                cached = _cached_facts(second, "facts")
                if cached is not None:
                    final[rel] = cached
                    continue
            again.append(by_rel[rel])
        changed = False
        if again:
            for facts, did_parse in _run(again, exports, init, jobs):
                parsed += did_parse
                final[facts.path] = facts
                new[facts.path]["second"] = {
                    "deps": done_deps[facts.path],
                    "facts": facts_to_json(facts),
                }
        # Every module's exports as its final facts give them, so that a table seeded from
        # the cache but no longer true (an export removed upstream) is corrected too.
        for rel, facts in final.items():
            dotted = _dotted(rel)
            if not dotted:
                continue
            current = dict(facts.exports)
            if exports.get(dotted, {}) != current:
                if current:
                    exports[dotted] = current
                else:
                    exports.pop(dotted, None)
                changed = True
        if not changed:
            break
    if where is not None and (parsed or dropped or set(new) != set(old)):
        _save_cache(where, key, root, new)
    resolve_callers(final)
    kept = tuple(final[f.rel] for f in files if final[f.rel].refs or final[f.rel].warnings)
    warnings = list(notes)
    for facts in kept:
        warnings.extend(facts.warnings)
    imported: set[str] = set()
    for facts in final.values():
        for module, name in facts.imports:
            imported.add(module)
            if name not in ("", "*"):
                imported.add(f"{module}.{name}")
    return ScanResult(
        facts=kept,
        warnings=tuple(warnings),
        files_scanned=len(files),
        files_parsed=parsed,
        cache_hits=hits,
        sources=tuple(f.rel for f in files),
        imported=frozenset(imported),
    )
