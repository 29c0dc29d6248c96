"""Which files of a project the usage scan reads: ``*.py`` and ``*.ipynb`` under the root, minus
the folders never scanned (virtual environments, build output, caches), what git (or the
``.gitignore`` files) ignores, ``--exclude`` globs, and files over the size limit."""

from __future__ import annotations

import functools
import os
import stat
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from depwatch.errors import DepwatchError
from depwatch.files import parse_size, repository_top

__all__ = [
    "DEFAULT_MAX_SOURCE_SIZE",
    "MAX_SOURCE_SIZE_ENV",
    "SKIP_DIRS",
    "SourceFile",
    "exclude_spec",
    "iter_source_files",
    "max_source_size",
]

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


@dataclass(frozen=True, slots=True)
class SourceFile:
    """One source file: its path relative to the root (``/`` separators), its path, its size
    and ``st_mtime_ns`` (what a cached entry is checked against)."""

    rel: str
    path: str
    size: int
    mtime: int


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


def _from_git(root: Path, listed: list[str], excluded: Any) -> tuple[list[SourceFile], list[str]]:
    """The source files among ``listed``, with the walk's own skips (folders such as .venv or
    build, virtual environments, --exclude) applied to each file and the folders above it."""
    notes: list[str] = []
    found: list[SourceFile] = []
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
            notes.append(_too_large(rel, biggest))
            continue
        found.append(SourceFile(rel, os.fspath(path), st.st_size, st.st_mtime_ns))
    return found, notes


def _too_large(rel: str, biggest: int) -> str:
    """The note for a source file over the size bound (both walks say it alike)."""
    return f"{rel}: skipped, larger than {biggest:,} bytes (raise {MAX_SOURCE_SIZE_ENV} to scan it)"


def iter_source_files(
    root: Path, exclude: Sequence[str] = ()
) -> tuple[list[SourceFile], list[str]]:
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
    found: list[SourceFile] = []
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
                    notes.append(_too_large(rel, biggest))
                    continue
                found.append(SourceFile(rel, entry.path, st.st_size, st.st_mtime_ns))
        finally:
            if pushed:
                del ignores.specs[-pushed:]

    walk(os.fspath(root), "")
    return found, notes
