"""Which targets (CPython minor × ``--platform``) a lock entry is installed on, judged from its
markers; and the readable labels of a set of targets (``3.10``, ``3.10/linux``)."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence

from packaging.markers import Marker, default_environment
from packaging.version import Version

from depwatch.model import parse_markers

__all__ = ["PLATFORMS"]

#: ``--platform`` names and the marker values they stand for.
PLATFORMS: dict[str, dict[str, str]] = {
    "linux": {"sys_platform": "linux", "platform_system": "Linux", "os_name": "posix"},
    "macos": {"sys_platform": "darwin", "platform_system": "Darwin", "os_name": "posix"},
    "windows": {"sys_platform": "win32", "platform_system": "Windows", "os_name": "nt"},
}
_QUOTED = re.compile(r"""['"]([^'"]*)['"]""")
#: platform_machine values per --platform: the 64-bit Intel name, then the ARM one.
_MACHINES: tuple[dict[str, str], ...] = (
    {"linux": "x86_64", "macos": "x86_64", "windows": "AMD64"},
    {"linux": "aarch64", "macos": "arm64", "windows": "ARM64"},
)


@functools.lru_cache(maxsize=1024)
def _marker(markers: str) -> Marker | None:
    """``markers`` parsed once, whatever the targets it is judged for; None when unreadable.

    A uv.lock entry's markers are those of its dependency paths, often dozens of clauses: a
    parse costs up to a millisecond, and each entry is judged for every declared Python.
    """
    parsed = parse_markers(markers)  # the entry's own parse (cached where readers made it)
    return None if isinstance(parsed, str) else parsed


@functools.lru_cache(maxsize=4096)
def _admits(markers: str | None, python: str, platform: str | None) -> bool:
    """Whether an entry with ``markers`` is installed on ``python`` (and ``platform``)."""
    if not markers:
        return True
    marker = _marker(markers)
    if marker is None:
        return True  # a marker we cannot read limits nothing we can prove
    platforms = [platform] if platform else list(PLATFORMS)
    # Extras and dependency groups are the project's choice, not a target's: admit them all.
    names = frozenset(_QUOTED.findall(markers))
    # A platform is every machine it runs on (a conda lock's osx-arm64 entry is macOS too),
    # never the machine depwatch happens to run on.
    machines = _MACHINES if "platform_machine" in markers else _MACHINES[:1]
    extras = ["", *names] if "extra" in markers else [""]
    env: dict[str, object] = dict(default_environment())
    env.update(
        python_version=python,
        implementation_name="cpython",
        platform_python_implementation="CPython",
        extras=names,
        dependency_groups=names,
    )
    for full_version in _patch_releases(markers, python):
        env["python_full_version"] = full_version
        for name in platforms:
            env.update(PLATFORMS[name])
            for machine in machines:
                env["platform_machine"] = machine[name]
                for extra in extras:
                    env["extra"] = extra
                    try:
                        if marker.evaluate(env, "lock_file"):  # type: ignore[arg-type]
                            return True
                    except Exception:  # an unevaluable marker limits nothing we can prove
                        return True
    return False


def _patch_releases(markers: str, python: str) -> list[str]:
    """The ``python_full_version`` values a minor is judged at: its first release and, when the
    markers compare patch releases of that minor (``python_full_version >= "3.9.2"``), each
    release they name, the one after it and a late one — so that a minor is admitted when any
    of its patch releases is. Markers that name no release of the minor are judged once."""
    first = f"{python}.0"
    if "python_full_version" not in markers:
        return [first]
    major, minor = (int(part) for part in python.split("."))
    probes: set[Version] = set()
    for text in _QUOTED.findall(markers):
        try:
            named = Version(text)
        except ValueError:  # InvalidVersion, or a number past the digit limit
            continue
        if named.release[:2] != (major, minor):
            continue
        patch = named.release[2] if len(named.release) > 2 else 0
        probes.update({named, Version(f"{python}.{patch + 1}"), Version(f"{python}.99")})
    if not probes:
        return [first]
    probes.add(Version(first))
    return [str(probe) for probe in sorted(probes)]


def _labels(
    admitted: Iterable[tuple[str, str | None]],
    pythons: Sequence[str],
    platforms: Sequence[str | None],
    *,
    with_platform: bool,
) -> tuple[str, ...]:
    """Readable target labels: ``3.10`` where every platform is admitted, else ``3.10/linux``."""
    by_python: dict[str, list[str | None]] = {}
    for py, pl in admitted:
        by_python.setdefault(py, []).append(pl)
    labels = []
    for py in pythons:
        pls = by_python.get(py)
        if not pls:
            continue
        if len(pls) == len(platforms) and not with_platform:
            labels.append(py)
        else:
            labels += [f"{py}/{pl}" if pl else py for pl in pls]
    return tuple(labels)
