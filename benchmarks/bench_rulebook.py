"""Rulebook benchmark: 10,000 synthetic rules over 3,000 packages, in-process.

Run on demand (not from pytest)::

    python benchmarks/bench_rulebook.py [--rules 10000] [--packages 3000] [--lookups 600]

Measures, best of N with ``time.perf_counter``:

- **floor: tomli** — read and ``tomli.loads`` every rule file (what any loader must pay cold);
- **cold load** — ``load_rulebook`` without a cache (read, parse, validate everything);
- **floor: json** — read the cache file and ``json.loads`` all of it (an eager cache);
- **warm load** — ``load_rulebook`` with the cache (stat the folder, parse the index header);
- **floor: packaging** — for the rules of the looked-up packages, ``SpecifierSet(text)`` then
  ``contains(Version(v), prereleases=True)``: the least any matcher does with ``packaging``;
- **lookups** — on a fresh rulebook, ``for_package`` for 600 packages (which builds their
  ``Rule`` objects, after hashing their files' bytes) and ``affected.contains`` for
  each rule; then the same again, memoised;
- **matching** — the real ``Matcher`` over a 600-package lock (tags, Python floors against four
  declared Pythons, findings): on a fresh rulebook, then with the rules in memory;
- **warm load + matching** — what a fresh process pays: load the cache, then match.

Targets (issue: "600 packages × 10,000 rules in ≤ 15 ms in-process; loading 10,000 rules in
≤ 15 ms"): the warm load, and matching with the rules in memory. The rulebook builds a package's
rules when it is first asked for, so the first matching in a process also pays for decoding and
building the rules it touches; that figure is printed beside them. Every figure is printed in
ms and as a ratio to a floor measured in the same run, so runs on different machines compare.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import tomli
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from depwatch.matcher import MatchContext, Matcher
from depwatch.model import Lockfile, Package
from depwatch.rulebook import RuleBook, checker, load_rulebook

WORDS = [
    "client",
    "request",
    "response",
    "session",
    "config",
    "module",
    "attribute",
    "keyword",
    "default",
    "argument",
    "behaviour",
    "removed",
    "deprecated",
    "renamed",
    "replaced",
    "release",
    "version",
    "upgrade",
    "python",
    "support",
    "interpreter",
    "wheel",
    "metadata",
    "import",
    "alias",
    "stream",
    "event",
    "format",
    "field",
    "wire",
    "name",
    "option",
]


def sentence(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(words)).capitalize() + "."


def rule_text(rng: random.Random, package: str, index: int) -> str:
    module = package.replace("-", "_")
    major, minor = rng.randrange(0, 30), rng.randrange(0, 40)
    shape = rng.random()
    lines = [f'package = "{package}"']
    if shape < 0.5:
        affected, boundary, fixed = f">={major}.{minor}.0", f"{major}.{minor}.0", None
        inside, outside = (
            [f"{major}.{minor}.0", f"{major}.{minor}.1.post1"],
            [f"{major}.{minor}.0rc1"],
        )
    elif shape < 0.8:
        affected, boundary, fixed = f"=={major}.{minor}.3", None, f"{major}.{minor}.4"
        inside, outside = [f"{major}.{minor}.3", f"{major}.{minor}.3+local"], [f"{major}.{minor}.4"]
    else:
        affected, boundary, fixed = f">={major}.{minor},<{major + 1}", f"{major}.{minor}", None
        inside, outside = [f"{major}.{minor}.5"], [f"{major + 1}.0"]
    floor = shape < 0.2
    usage = not floor and rng.random() < 0.6
    lines += [
        f'kind = "{"python-drop" if floor else rng.choice(["breaking", "behaviour", "deprecation"])}"',
        f'tag = "{rng.choice(["immediate", "plan", "monitor"])}"',
        f'affected = "{affected}"',
    ]
    if boundary:
        lines.append(f'boundary = "{boundary}"')
    if fixed:
        lines.append(f'fixed = "{fixed}"')
    lines += [
        f'title = "{package} {sentence(rng, 8)}"',
        f'what = "{sentence(rng, 60)}"',
        f'why = "{sentence(rng, 45)}"',
        f'action = "{sentence(rng, 20)}"',
        "references = [",
        f'    "https://github.com/example/{package}/releases/tag/v{major}.{minor}.0",',
        f'    "https://github.com/example/{package}/pull/{1000 + index}",',
        "]",
        'added = "0.1.0"',
    ]
    if floor:
        lines += ["", "[python]", f'requires = ">=3.{rng.randrange(9, 13)}"']
    if usage:
        lines += [
            "",
            "[usage]",
            f'symbols = ["{module}.api.Thing{index}"]',
            f'calls = [{{ name = "{module}.Client.create", keywords = ["option{index}"] }}]',
        ]
    lines += [
        "",
        "[examples]",
        f"affected = {json.dumps(inside)}",
        f"unaffected = {json.dumps(outside)}",
    ]
    if usage:
        lines += [
            "code = '''",
            f"import {module}",
            f"from {module}.api import Thing{index}  # expect",
            f"{module}.Client().create(option{index}=1)  # expect",
            "'''",
        ]
    return "\n".join(lines) + "\n"


def generate(root: Path, rules: int, packages: int, seed: int = 1) -> list[str]:
    rng = random.Random(seed)
    names = [f"pkg-{i:04d}-{rng.choice(WORDS)}" for i in range(packages)]
    for index in range(rules):
        package = names[index % packages]
        folder = root / package
        folder.mkdir(exist_ok=True)
        (folder / f"rule-{index:05d}.toml").write_text(
            rule_text(rng, package, index), encoding="utf-8"
        )
    past = time.time() - 3600  # older than the cache's "racily clean" window
    for folder, _, files in os.walk(root):
        for name in files:
            os.utime(Path(folder) / name, (past, past))
        os.utime(folder, (past, past))
    return names


def best(fn: Callable[[], object], repeat: int, setup: Callable[[], object] | None = None) -> float:
    """The best of ``repeat`` runs of ``fn``, in milliseconds."""
    times = []
    for _ in range(repeat):
        if setup is not None:
            setup()
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times) * 1000


def clear_parse_caches() -> None:
    """Forget the parsed SpecifierSet/Version objects shared between rules."""
    checker.cached_specifier.cache_clear()
    checker.cached_version.cache_clear()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rules", type=int, default=10_000)
    parser.add_argument("--packages", type=int, default=3_000)
    parser.add_argument("--lookups", type=int, default=600)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="depwatch-bench-"))
    try:
        rules_dir, cache = work / "rules", work / "cache"
        rules_dir.mkdir()
        names = generate(rules_dir, args.rules, args.packages)
        files = sorted(rules_dir.glob("*/*.toml"))
        rng = random.Random(2)
        wanted = rng.sample(names, min(args.lookups, len(names)))
        locked = {
            name: Version(f"{rng.randrange(0, 30)}.{rng.randrange(0, 40)}.3") for name in wanted
        }
        os.environ["DEPWATCH_CACHE_DIR"] = str(cache)
        os.environ.pop("DEPWATCH_NO_CACHE", None)

        def toml_floor() -> None:
            for path in files:
                tomli.loads(path.read_bytes().decode())

        def cold() -> None:
            os.environ["DEPWATCH_NO_CACHE"] = "1"
            try:
                load_rulebook([rules_dir], include_shipped=False)
            finally:
                del os.environ["DEPWATCH_NO_CACHE"]

        def write_cache() -> None:
            shutil.rmtree(cache, ignore_errors=True)
            load_rulebook([rules_dir], include_shipped=False)

        t_toml = best(toml_floor, 3)
        t_cold = best(cold, 3, setup=clear_parse_caches)
        t_cold_write = best(write_cache, 3, setup=clear_parse_caches)
        (cache_file,) = cache.glob("rules-*.json")
        size = cache_file.stat().st_size

        def json_floor() -> None:
            # An eager cache: read the file and decode all of it (header and every segment).
            data = cache_file.read_bytes()
            first = data.index(b"\n")  # line 1: the header's checksum
            end = data.index(b"\n", first + 1)
            header = json.loads(data[first + 1 : end])
            blob = data[end + 1 :]
            for _, offset, length, _ in header["packages"].values():
                chunk = blob[offset : offset + length]
                split = chunk.index(b"\n")
                json.loads(chunk[:split])
                chunk[split + 1 :].decode()

        def warm() -> None:
            load_rulebook([rules_dir], include_shipped=False)

        t_json = best(json_floor, args.repeat)
        t_warm = best(warm, args.repeat)
        assert load_rulebook([rules_dir], include_shipped=False).cached == (True,)

        # The rules the lookups will touch, for the packaging floor.
        book = load_rulebook([rules_dir], include_shipped=False)
        touched = [
            (str(rule.affected), locked[name]) for name in wanted for rule in book.for_package(name)
        ]

        def packaging_floor() -> None:
            for text, version in touched:
                SpecifierSet(text).contains(version, prereleases=True)

        books: list[object] = []

        def fresh_book() -> None:
            clear_parse_caches()
            books[:] = [load_rulebook([rules_dir], include_shipped=False)]

        def lookups() -> None:
            rulebook = books[0]
            assert hasattr(rulebook, "for_package")
            for name in wanted:
                version = locked[name]
                for rule in rulebook.for_package(name):
                    rule.affected.contains(version, prereleases=True)

        # The real matcher over a 600-package lock: tags, Python floors, findings.
        lock = Lockfile("uv.lock", "uv", tuple(Package(name, str(locked[name])) for name in wanted))
        context = MatchContext(project=".", declared=("3.10", "3.11", "3.12", "3.13"))
        found: list[int] = []

        def match() -> None:
            rulebook = books[0]
            assert isinstance(rulebook, RuleBook)
            found[:] = [len(Matcher(rulebook, context).match_lockfile(lock).findings)]

        def load_and_match() -> None:
            books[:] = [load_rulebook([rules_dir], include_shipped=False)]
            match()

        t_floor_match = best(packaging_floor, args.repeat, setup=clear_parse_caches)
        t_lookups = best(lookups, args.repeat, setup=fresh_book)
        t_memo = best(lookups, args.repeat)
        t_match_fresh = best(match, args.repeat, setup=fresh_book)
        t_match = best(match, args.repeat)
        t_end_to_end = best(load_and_match, args.repeat, setup=clear_parse_caches)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    print(f"depwatch rulebook benchmark — Python {sys.version.split()[0]}")
    print(
        f"{args.rules} rules over {args.packages} packages; {len(wanted)} packages looked up "
        f"({len(touched)} rules); best of {args.repeat}"
    )
    rows = [
        ("floor: tomli (read + parse every file)", t_toml, None, None),
        ("cold load, no cache (parse + validate)", t_cold, t_toml, "tomli"),
        ("cold load, writing the cache", t_cold_write, t_toml, "tomli"),
        ("floor: json.loads(all of the cache file)", t_json, None, None),
        ("warm load (cached index)", t_warm, t_json, "json"),
        ("floor: packaging SpecifierSet+contains", t_floor_match, None, None),
        ("lookups, fresh rulebook (builds Rules)", t_lookups, t_floor_match, "packaging"),
        ("lookups, memoised", t_memo, t_floor_match, "packaging"),
        ("matching 600 packages, fresh rulebook", t_match_fresh, t_floor_match, "packaging"),
        ("matching 600 packages, rules in memory", t_match, t_floor_match, "packaging"),
        ("warm load + matching (a fresh process)", t_end_to_end, t_json, "json"),
    ]
    for label, ms, floor, floor_name in rows:
        ratio = f"{ms / floor:6.2f}× {floor_name} floor" if floor else ""
        print(f"  {label:<42} {ms:8.2f} ms  {ratio}")
    print(
        f"  per rule looked up: {t_lookups * 1000 / max(len(touched), 1):.1f} µs fresh, "
        f"{t_memo * 1000 / max(len(touched), 1):.2f} µs memoised; "
        f"packaging floor {t_floor_match * 1000 / max(len(touched), 1):.1f} µs"
    )
    print(f"  ({found[0]} findings; cache file: {size / 1e6:.1f} MB)")

    def verdict(ms: float) -> str:
        return "met" if ms <= 15 else "NOT met"

    print(f"  target: loading 10,000 rules ≤ 15 ms — {t_warm:.1f} ms, {verdict(t_warm)}")
    print(
        f"  target: matching 600 packages ≤ 15 ms (rules in memory) — {t_match:.1f} ms, "
        f"{verdict(t_match)}"
    )
    print(
        f"  beside them: the first matching in a process also builds the rules it touches: "
        f"{t_match_fresh:.1f} ms; load and match in a fresh process: {t_end_to_end:.1f} ms"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
