"""``--since REV``: the project as it was at a git revision, and what a change brings.

The manifests and lockfiles at ``REV`` are copied out of git into a temporary folder and read
whole there (``git archive``, one process); findings are then compared by (project, rule,
package): one there before and still there at the same or a lower tag is not news.
"""

from __future__ import annotations

import io
import os
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

from depwatch import discovery
from depwatch.errors import DepwatchError
from depwatch.files import display_path
from depwatch.model import Finding
from depwatch.projects import Project, load_project, rel_path

__all__ = ["SinceSplit", "old_project", "since_filter"]


def _git(root: Path, *args: str) -> str:
    try:
        done = subprocess.run(
            ["git", "-C", str(root), *args], capture_output=True, text=True, timeout=60
        )
    except FileNotFoundError:
        raise DepwatchError("--since needs git, and git is not installed") from None
    if done.returncode != 0:
        raise DepwatchError(
            done.stderr.strip().splitlines()[-1]
            if done.stderr.strip()
            else f"git {' '.join(args)} failed"
        )
    return done.stdout


def _needed_at_rev(rel: str, lockfiles: set[str]) -> bool:
    """Whether a file (relative to the project root) is needed to read the project at a rev:
    its manifests, its lockfiles, and requirement files an include may name."""
    base = rel.rsplit("/", 1)[-1]
    lowered = rel.lower()
    return (
        rel in lockfiles
        or rel in {"pyproject.toml", "Pipfile"}
        or ("/" not in rel and discovery.is_lockfile_name(base))
        or (
            rel.endswith((".txt", ".in"))
            and ("requirements" in lowered or "constraints" in lowered)
        )
    )


def _project_at(project: Project, rev: str, tmp: Path) -> Project:
    """The same project with its manifests and lockfiles as they were at ``rev``."""
    try:
        top = Path(_git(project.root, "rev-parse", "--show-toplevel").strip())
    except DepwatchError:
        raise DepwatchError(
            f"--since needs a git repository, and {project.shown} is not in one"
        ) from None
    try:
        _git(project.root, "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}")
    except DepwatchError:
        raise DepwatchError(
            f"--since {rev}: no such revision in the repository at {display_path(top)}",
            hint="name a branch, tag or commit that exists (fetch it first in a shallow CI clone)",
        ) from None
    prefix = rel_path(project.root.resolve(), top.resolve())
    prefix = "" if prefix == "." else prefix + "/"
    listed = _git(top, "ls-tree", "-r", "--name-only", rev, "--", prefix or ".").splitlines()
    wanted = set(project.texts)
    names = [name for name in listed if _needed_at_rev(name[len(prefix) :], wanted)]
    root = tmp / "at-rev"
    root.mkdir()
    if names:
        # One process for every file, not one per file: a large repository has many.
        archive = subprocess.run(
            ["git", "-C", str(top), "archive", "--format=tar", rev, "--", *names],
            capture_output=True,
            timeout=120,
        )
        if archive.returncode != 0:
            raise DepwatchError(f"--since {rev}: git could not read the files at that revision")
        with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
            for member in tar.getmembers():
                source = member.isfile() and tar.extractfile(member)
                rel = member.name[len(prefix) :]
                if not source or ".." in Path(rel).parts or Path(rel).is_absolute():
                    continue
                dest = root / rel
                dest.parent.mkdir(parents=True, exist_ok=True)
                dest.write_bytes(source.read())
    target = discovery.Target(root)
    for rel_lock in project.texts:
        if (root / rel_lock).is_file():
            target.lockfiles.append(root / rel_lock)
            target.explicit.add(root / rel_lock)
    # And every lockfile the folder had by name then: one renamed or moved since (or
    # replaced by another format) still holds what the project locked before the change.
    for lock in discovery.search(root):
        if lock not in target.lockfiles:
            target.lockfiles.append(lock)
    old = load_project(target)
    return Project(project.root, project.shown, old.files, old.settings, old.lockfiles, old.texts)


def old_project(project: Project, rev: str) -> Project:
    """The project as it was at ``rev`` (read whole; its files are gone afterwards)."""
    with tempfile.TemporaryDirectory(prefix="depwatch-since-") as tmp:
        try:
            return _project_at(project, rev, Path(tmp))
        except DepwatchError as exc:
            raise _at_revision(exc, Path(tmp) / "at-rev", project, rev) from None


def _at_revision(exc: DepwatchError, root: Path, project: Project, rev: str) -> DepwatchError:
    """An error about a file checked out at ``rev`` (in a temporary folder that is gone by the
    time the user reads it), named as the project's file at that revision."""
    if exc.path is not None:
        shown_root = display_path(root)
        if exc.path == shown_root or exc.path.startswith(shown_root + os.sep):
            rel = Path(os.path.relpath(exc.path, shown_root)).as_posix()
            prefix = "" if project.shown == "." else f"{project.shown}/"
            return exc.moved(f"{prefix}{rel} at {rev}")
    return exc


def _since_key(finding: Finding) -> tuple[str, str, str]:
    return (finding.project, finding.rule, finding.package)


@dataclass(frozen=True)
class SinceSplit:
    """Findings split by what the change did to them."""

    new: list[Finding]
    """Brought by the change (or their tag rose): reported."""
    unchanged: list[Finding]
    """There before the change at the same tag: not reported (an ignore that matches one is in
    use, not stale)."""
    resolved: list[Finding]
    """There before and gone now."""


def since_filter(found: list[Finding], old: list[Finding]) -> SinceSplit:
    """What the change brings: a finding that applied before and still applies is not news,
    whatever the version moved to; one whose tag rose is. Gone ones are resolved."""
    old_keys = {(*_since_key(f), f.tag) for f in old}
    now_keys = {_since_key(f) for f in found}
    return SinceSplit(
        new=[f for f in found if (*_since_key(f), f.tag) not in old_keys],
        unchanged=[f for f in found if (*_since_key(f), f.tag) in old_keys],
        resolved=[f for f in old if _since_key(f) not in now_keys],
    )
