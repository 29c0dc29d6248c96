"""Record every output depwatch gives on the test projects, to prove a refactoring changes none.

Run it on two commits and compare the folders::

    python scripts/snapshot_outputs.py --checkout . --out /tmp/after
    git worktree add /tmp/before <rev>
    python scripts/snapshot_outputs.py --checkout /tmp/before --out /tmp/before-out
    diff -r /tmp/before-out /tmp/after

Both runs audit the same copy of the projects (``--src``, made from this checkout's fixtures on
first use), so paths in the outputs agree. For each fixture project and each extra ``--project``
folder it records ``check`` in every format (table, json, sarif, markdown, github), with
``--fix-commands``, and ``packages --format json``; for each fixture lockfile ``check --format
json``; and ``rules list`` in every format. The vulnerable project is also audited with
``--vulns`` against a local OSV server serving the fixture advisories. Each record holds the exit
code, stdout and stderr. The date, colour, terminal width and caches are fixed so the outputs are
deterministic.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent
FORMATS = ("table", "json", "sarif", "markdown", "github")
TODAY = "2026-12-01"


def _run(checkout: Path, args: list[str], cwd: Path, cache: Path, extra_env: dict[str, str]) -> str:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DEPWATCH_", "PIP_", "UV_", "GITHUB_", "CI"))
    }
    env.update(
        {
            "PYTHONPATH": str(checkout),
            "DEPWATCH_CACHE_DIR": str(cache),
            "COLUMNS": "120",
            "NO_COLOR": "1",
            "TERM": "dumb",
            **extra_env,
        }
    )
    done = subprocess.run(
        [sys.executable, "-m", "depwatch", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    return f"exit {done.returncode}\n--- stdout\n{done.stdout}--- stderr\n{done.stderr}"


def _save(out: Path, name: str, text: str) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / name).write_text(text, encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkout", type=Path, default=HERE, help="the depwatch checkout to run")
    parser.add_argument("--out", type=Path, required=True, help="folder for the records")
    parser.add_argument(
        "--src",
        type=Path,
        default=Path(tempfile.gettempdir()) / "depwatch-snapshot-src",
        help="the copy of the fixtures both runs audit (made on first use)",
    )
    parser.add_argument(
        "--project", type=Path, action="append", default=[], help="another project folder"
    )
    options = parser.parse_args()
    checkout = options.checkout.resolve()
    src: Path = options.src.resolve()
    if not src.exists():
        shutil.copytree(HERE / "tests" / "fixtures", src)
    out: Path = options.out.resolve()
    if out.exists():
        shutil.rmtree(out)

    with tempfile.TemporaryDirectory() as scratch:
        cache = Path(scratch) / "cache"

        def run(args: list[str], cwd: Path, **env: str) -> str:
            return _run(checkout, args, cwd, cache, env)

        for fmt in FORMATS:
            _save(out / "rules", f"list.{fmt}", run(["rules", "list", "--format", fmt], src))

        projects = sorted(p for p in (src / "projects").iterdir() if p.is_dir())
        projects += [p.resolve() for p in options.project]
        for project in projects:
            record = out / "projects" / project.name
            for fmt in FORMATS:
                _save(record, f"check.{fmt}", run(["check", "--today", TODAY, "-f", fmt], project))
            _save(record, "check.fix", run(["check", "--today", TODAY, "--fix-commands"], project))
            _save(record, "check.verbose", run(["check", "--today", TODAY, "-v"], project))
            _save(record, "packages.json", run(["packages", "--format", "json"], project))

        for lock in sorted((src / "lockfiles").rglob("*")):
            if not lock.is_file() or lock.suffix in {".sh", ".py"}:
                continue
            name = str(lock.relative_to(src / "lockfiles")).replace("/", "__")
            _save(
                out / "lockfiles",
                name,
                run(["check", "--today", TODAY, "--no-usage", "-f", "json", str(lock)], src),
            )

        records = HERE / "tests" / "fixtures" / "advisories"
        if records.is_dir():
            sys.path.insert(0, str(HERE / "tests" / "advisories"))
            from osv_server import OsvServer, load_records  # type: ignore[import-not-found]

            server = OsvServer(load_records(records / "pypa", records / "synthetic")).start()
            try:
                vulnerable = src / "projects" / "vulnerable-app"
                for fmt in ("json", "sarif", "markdown"):
                    _save(
                        out / "vulns",
                        f"check.{fmt}",
                        run(
                            ["check", "--today", TODAY, "--vulns", "-f", fmt],
                            vulnerable,
                            DEPWATCH_OSV_URL=server.query_url,
                        ),
                    )
            finally:
                server.stop()
    print(f"recorded in {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
