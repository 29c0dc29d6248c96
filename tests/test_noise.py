"""Noise: many unpinned requirements are one warning naming the file (the lines with --verbose)."""

from __future__ import annotations

from pathlib import Path

from .conftest import run_depwatch


def test_many_unpinned_lines_are_one_warning(tmp_path: Path) -> None:
    names = [f"package-{i}" for i in range(43)]
    lines = ["idna==3.10", *(f"{name}>=1.0" for name in names)]
    (tmp_path / "requirements.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    done = run_depwatch("check", "--no-usage", "--today", "2026-12-01", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    out = " ".join(done.stdout.split())
    assert (
        "requirements.txt: 43 requirements are not pinned (no ==) and are not listed; "
        "--verbose names them" in out
    )
    assert "package-7" not in out
    assert "Warnings (2)" in done.stdout  # and the undeclared Python
    verbose = run_depwatch(
        "check", "--no-usage", "--verbose", "--today", "2026-12-01", cwd=tmp_path
    )
    text = " ".join(verbose.stdout.split())
    for i, name in enumerate(names):
        assert f"requirements.txt: line {i + 2}: '{name}>=1.0' is not pinned; not listed" in text


def test_one_unpinned_line_is_named(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("idna==3.10\nflask>=3\n", encoding="utf-8")
    done = run_depwatch("check", "--no-usage", "--today", "2026-12-01", cwd=tmp_path)
    assert "requirements.txt: line 2: 'flask>=3' is not pinned; not listed" in " ".join(
        done.stdout.split()
    )
