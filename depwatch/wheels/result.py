"""What the wheel comparison gives the audit (kept apart, so that a check whose code uses no
locked package returns it without importing the comparison)."""

from __future__ import annotations

from dataclasses import dataclass, field

from depwatch.model import Finding, NotChecked, RuleInfo

__all__ = ["WheelsResult"]


@dataclass
class WheelsResult:
    findings: list[Finding] = field(default_factory=list)
    infos: dict[str, RuleInfo] = field(default_factory=dict)
    not_checked: list[NotChecked] = field(default_factory=list)
    fetched: int = 0
    """Wheels read in this run (not from the API cache)."""
