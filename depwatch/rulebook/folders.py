"""Rule folders on disk: ``<dir>/<package>/<slug>.toml`` and each package's ``_package.toml``.

:func:`scan_dir` reads a whole rule folder and collects the problems of every file;
:func:`check_dirs` is ``depwatch rules check``; :func:`load_rule_file` reads one file on its
own. A folder's problems are raised together as one :class:`RuleErrors`, one line each, so a
rule author sees all of them.
"""

from __future__ import annotations

import errno
import hashlib
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from packaging.utils import InvalidName, canonicalize_name

from depwatch import tomlfile
from depwatch.errors import DepwatchError
from depwatch.files import display_path, read_bytes
from depwatch.rulebook.checker import (
    Checker,
    RuleErrors,
    check_package_folder,
    is_dotted,
    type_name,
)
from depwatch.rulebook.model import INTERPRETER, Rule
from depwatch.rulebook.validate import deep_check, validate

__all__ = [
    "PACKAGE_FILE",
    "ScannedDir",
    "check_dirs",
    "content_digest",
    "load_rule_file",
    "rule_files",
    "scan_dir",
    "scan_package",
    "validate_package",
]

#: The file of a package folder that declares its names (not a rule).
PACKAGE_FILE = "_package.toml"
_PACKAGE_KEYS = ("package", "aliases", "instances")


@dataclass(frozen=True, slots=True)
class ScannedDir:
    """A rule folder as read: per package, its files' identities and validated rules."""

    root: Path
    files: dict[str, list[tuple[str, int, int, str]]] = field(default_factory=dict)
    """package → ``[(file name, size, mtime_ns, content digest), ...]`` of the rule files read
    (the digest: :func:`content_digest` of the file's bytes)."""
    rules: dict[str, list[Rule]] = field(default_factory=dict)
    """package → its validated rules, in file-name order."""
    mtimes: dict[str, int] = field(default_factory=dict)
    """package → the package folder's ``st_mtime_ns`` when it was listed."""
    declarations: dict[str, dict[str, Any]] = field(default_factory=dict)
    """package → its validated ``_package.toml`` (see :func:`validate_package`), if any."""
    errors: list[DepwatchError] = field(default_factory=list)


def validate_package(
    data: Mapping[str, Any], *, folder: str, source: str
) -> tuple[dict[str, Any] | None, list[DepwatchError]]:
    """Check a package folder's ``_package.toml``: the other spellings of its names.

    The raw form: ``{"aliases": [[name, target], ...], "instances": [[name, target], ...]}``.
    """
    check = Checker(source)
    check.unknown_keys(data, _PACKAGE_KEYS, "")
    package = check.text(data, "package", required=True, hint=f'add package = "{folder}"')
    if package is not None and folder != INTERPRETER:
        check_package_folder(check, package, folder)
    elif package is not None and package != INTERPRETER:
        check.error(f"package {package!r} does not match its folder 'python'", "package")
    raw: dict[str, Any] = {}
    seen: dict[str, str] = {}
    for key in ("aliases", "instances"):
        table = check.get(data, key, dict, "")
        pairs: list[list[str]] = []
        for name, target in (table or {}).items():
            where = f"{key}.{name}" if is_dotted(name) else f"{key}.{name!r}"
            if not is_dotted(name):
                check.error(f"{name!r} is not a dotted name", where, 'quote it: "pkg.mod.name"')
                continue
            if isinstance(target, dict):
                check.error(
                    "must be a string, not a table",
                    where,
                    f'quote the whole dotted name: "{name}.…" = "…" (unquoted, TOML splits it)',
                )
                continue
            if not isinstance(target, str):
                check.error(f"must be a string, not {type_name(target)}", where)
                continue
            if not is_dotted(target):
                check.error(f"{target!r} is not a dotted name", where)
                continue
            if target == name or target.startswith(name + "."):
                check.error(f"{name!r} cannot be read as {target!r}: it would never end", where)
                continue
            if name in seen:
                check.error(f"{name!r} is in both aliases and instances", where)
                continue
            seen[name] = target
            pairs.append([name, target])
        raw[key] = sorted(pairs)
    if not seen and not check.errors:
        check.error(
            "declares nothing", "aliases", "add [aliases] or [instances], or remove the file"
        )
    aliases = dict(map(tuple, raw.get("aliases", ())))
    for name in aliases:
        current, steps = name, 0
        while current in aliases and steps <= len(aliases):
            current, steps = aliases[current], steps + 1
        if current == name or steps > len(aliases):
            check.error(f"the aliases of {name!r} go round in a circle", f"aliases.{name}")
    if check.errors:
        return None, check.errors
    return raw, []


def rule_files(folder: Path) -> list[os.DirEntry[str]]:
    """The rule files of one package folder, by name: ``*.toml``, not hidden.

    A folder or a broken link under a rule file's name is kept: reading it says what is wrong,
    where skipping it would leave a rule out without a word.
    """
    with os.scandir(folder) as entries:
        found = [
            entry
            for entry in entries
            if entry.name.endswith(".toml") and not entry.name.startswith(".")
        ]
    return sorted(found, key=lambda entry: entry.name)


def _package_folders(root: Path) -> tuple[list[str], list[DepwatchError]]:
    """The package folders of a rule folder, and the files that are misplaced in it."""
    shown = display_path(root)
    try:
        entries = sorted(os.scandir(root), key=lambda entry: entry.name)
    except FileNotFoundError:
        raise DepwatchError("rule folder not found", path=shown) from None
    except NotADirectoryError:
        raise DepwatchError(
            "is not a folder", path=shown, hint="--rules takes a folder of <package>/<slug>.toml"
        ) from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise DepwatchError("is a symbolic link loop", path=shown) from None
        raise DepwatchError(f"cannot be read: {exc.strerror or exc}", path=shown) from None
    except ValueError:  # a NUL byte in the name
        raise DepwatchError(
            "is not a valid folder name (it holds a NUL byte)", path=shown
        ) from None
    folders, errors = [], []
    for entry in entries:
        if entry.name.startswith((".", "_")):
            continue
        try:
            is_dir = entry.is_dir()
        except OSError as exc:  # a symbolic link loop
            errors.append(
                DepwatchError(
                    f"cannot be read: {exc.strerror or exc}", path=display_path(entry.path)
                )
            )
            continue
        if is_dir:
            folders.append(entry.name)
        elif entry.name.endswith(".toml"):
            errors.append(
                DepwatchError(
                    "a rule file must be in a folder named after its package",
                    path=display_path(entry.path),
                    hint=f"move it to {shown}{os.sep}<package>{os.sep}{entry.name}",
                )
            )
    return folders, errors


def content_digest(content: bytes) -> str:
    """What a rule cache entry is keyed by: a hash of the rule file's bytes (BLAKE2b, 128 bits)."""
    return hashlib.blake2b(content, digest_size=16).hexdigest()


def scan_package(root: Path, package: str, shown_root: str, into: ScannedDir) -> None:
    """Read and validate every rule file of ``root/package`` into ``into``."""
    folder = root / package
    shown_folder = f"{shown_root}{os.sep}{package}"
    if package != INTERPRETER:
        try:
            normalised = canonicalize_name(package, validate=True)
        except InvalidName:
            normalised = None
        if normalised != package:
            into.errors.append(
                DepwatchError(
                    "a rule folder must be named after a normalised distribution name or 'python'",
                    path=shown_folder,
                    hint=f"rename it to {normalised!r}"
                    if normalised
                    else "use the package's PEP 503 normalised name",
                )
            )
            return
    try:
        mtime = folder.stat().st_mtime_ns
        entries = rule_files(folder)
    except OSError as exc:
        into.errors.append(
            DepwatchError(f"cannot be read: {exc.strerror or exc}", path=shown_folder)
        )
        return
    files: list[tuple[str, int, int, str]] = []
    rules: list[Rule] = []
    for entry in entries:
        shown = f"{shown_folder}{os.sep}{entry.name}"
        declares = entry.name == PACKAGE_FILE
        try:
            stat = entry.stat()
            content = read_bytes(Path(entry.path))  # a regular file, bounded: no FIFO, no /dev/zero
            data = tomlfile.loads(content.decode("utf-8-sig"), path=shown)
        except DepwatchError as exc:
            into.errors.append(exc.with_path(shown))
            continue
        except UnicodeDecodeError as exc:
            into.errors.append(
                DepwatchError(f"is not valid UTF-8 (byte {exc.start + 1})", path=shown)
            )
            continue
        except OSError as exc:
            into.errors.append(DepwatchError(f"cannot be read: {exc.strerror or exc}", path=shown))
            continue
        files.append((entry.name, stat.st_size, stat.st_mtime_ns, content_digest(content)))
        if declares:
            declared, problems = validate_package(data, folder=package, source=shown)
            if declared is None:
                into.errors.extend(problems)
            else:
                into.declarations[package] = declared
            continue
        rule, problems = validate(data, folder=package, slug=entry.name[:-5], source=shown)
        if rule is None:
            into.errors.extend(problems)
        else:
            rules.append(rule)
    into.files[package] = files
    into.rules[package] = rules
    into.mtimes[package] = mtime


def scan_dir(root: Path) -> ScannedDir:
    """Read and validate every rule file under ``root``; problems are collected, not raised."""
    folders, errors = _package_folders(root)
    scanned = ScannedDir(root=root, errors=errors)
    shown_root = display_path(root)
    for package in folders:
        scan_package(root, package, shown_root, scanned)
    return scanned


def load_rule_file(path: Path) -> Rule:
    """One rule file on its own (its id from its folder and name); raises :class:`RuleErrors`."""
    shown = display_path(path)
    try:
        data = tomlfile.load(path)
    except DepwatchError as exc:
        raise RuleErrors([exc.with_path(shown)]) from None
    slug = path.name[:-5] if path.name.endswith(".toml") else path.name
    rule, problems = validate(data, folder=path.parent.name, slug=slug, source=shown)
    if rule is None:
        raise RuleErrors(problems)
    return rule


def check_dirs(dirs: Iterable[Path]) -> list[Rule]:
    """Validate every rule file of ``dirs`` (``depwatch rules check``), never using the cache.

    Returns the rules of all folders in order (ids sorted within a folder); raises one
    :class:`RuleErrors` with every problem of every folder.
    """
    rules: list[Rule] = []
    errors: list[DepwatchError] = []
    for root in dirs:
        try:
            scanned = scan_dir(root)
        except DepwatchError as exc:
            errors.append(exc)
            continue
        errors.extend(scanned.errors)
        for found in scanned.rules.values():
            for rule in found:
                errors.extend(deep_check(rule))
                rules.append(rule)
    if errors:
        raise RuleErrors(errors)
    return rules
