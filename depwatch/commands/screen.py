"""The screen the report goes to: colour and width as rich decides them, with ``--color`` over
the environment (rich is imported only when a command asks)."""

from __future__ import annotations

import sys
from enum import Enum

__all__ = ["ColorChoice", "color", "screen", "set_color", "width"]


class ColorChoice(str, Enum):
    auto = "auto"
    always = "always"
    never = "never"


_choice = ColorChoice.auto
"""``--color``: auto lets rich decide from the terminal, NO_COLOR and FORCE_COLOR."""


def screen() -> tuple[bool, int]:
    """Whether stdout gets colour, and its width, as rich decides them (a terminal or not,
    NO_COLOR, FORCE_COLOR, COLUMNS), with ``--color`` over the environment."""
    from rich.console import Console

    force = {ColorChoice.always: True, ColorChoice.never: False}.get(_choice)
    console = Console(file=sys.stdout, force_terminal=force)
    color = (
        _choice is not ColorChoice.never
        and console.is_terminal
        and not console.no_color
        and console.color_system is not None
    ) or _choice is ColorChoice.always
    return color, console.width


def color() -> bool:
    """Whether stdout gets colour."""
    return screen()[0]


def width() -> int:
    """The width of stdout."""
    return screen()[1]


def set_color(value: ColorChoice | None) -> ColorChoice | None:
    """``--color``'s callback: the choice holds for the rest of the run."""
    global _choice
    if value is not None:
        _choice = value
    return value
