"""[tool.depwatch]: every key validated, unknown keys rejected."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest

from depwatch import tomlfile
from depwatch.errors import DepwatchError
from depwatch.settings import parse_settings


def _settings(tmp_path: Path, text: str):  # type: ignore[no-untyped-def]
    path = tmp_path / "pyproject.toml"
    path.write_text(text)
    return parse_settings(tomlfile.load(path), path=path)


def test_full_settings(tmp_path: Path) -> None:
    settings = _settings(
        tmp_path,
        '[tool.depwatch]\nfail-on = "plan"\nrules = ["ci/rules"]\nexclude = ["legacy/**"]\n'
        '[[tool.depwatch.ignore]]\nid = "google-genai/response-format-wire-names"\n'
        'package = "Google_GenAI"\nversions = "==2.0.0"\nreason = "pinned"\nuntil = 2026-12-31\n',
    )
    assert settings.fail_on == "plan"
    assert settings.rules == (tmp_path / "ci/rules",)
    assert settings.exclude == ("legacy/**",)
    (entry,) = settings.ignore
    assert entry.package == "google-genai"
    assert entry.until == datetime.date(2026, 12, 31)
    assert entry.versions is not None
    assert "2.0.0" in entry.versions


def test_absent_table(tmp_path: Path) -> None:
    assert _settings(tmp_path, '[project]\nname = "x"\n').ignore == ()


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ('[tool.depwatch]\nfail_on = "plan"\n', "tool.depwatch.fail_on"),
        ('[tool.depwatch]\nfail-on = "sometimes"\n', "tool.depwatch.fail-on"),
        ('[tool.depwatch]\nrules = "x"\n', "tool.depwatch.rules"),
        ('[[tool.depwatch.ignore]]\nid = "x"\n', "tool.depwatch.ignore[0].reason"),
        (
            '[[tool.depwatch.ignore]]\nid = "x"\nreason = "r"\nuntill = 2026-01-01\n',
            "tool.depwatch.ignore[0].untill",
        ),
        (
            '[[tool.depwatch.ignore]]\nid = "x"\nreason = "r"\nuntil = "2026-01-01"\n',
            "expected a date",
        ),
        (
            '[[tool.depwatch.ignore]]\nid = "x"\nreason = "r"\nversions = "=>2"\n',
            "tool.depwatch.ignore[0].versions",
        ),
        ('[tool.depwatch]\nignore = "x"\n', "tool.depwatch.ignore"),
    ],
)
def test_bad_settings(tmp_path: Path, text: str, needle: str) -> None:
    with pytest.raises(DepwatchError) as info:
        _settings(tmp_path, text)
    assert needle in str(info.value)
