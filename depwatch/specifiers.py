"""Version specifiers from input, refused when Python could not compare them.

``SpecifierSet(">=3.<4301 digits>")`` parses, and then every ``contains()`` dies in ``int()``
(``ValueError: Exceeds the limit (4300 digits)``) far from the file that held it. Checking the
versions a specifier names once, where it is read, turns that into the reader's own
"not a valid specifier" error.
"""

from __future__ import annotations

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

__all__ = ["specifier_set"]


def specifier_set(text: str) -> SpecifierSet:
    """``SpecifierSet(text)``; ``InvalidSpecifier`` also when a version it names holds a number
    too long to convert."""
    spec = SpecifierSet(text)
    for item in spec:
        if item.operator == "===":
            continue  # arbitrary equality compares text, never numbers
        try:
            Version(item.version.removesuffix(".*"))
        except InvalidVersion:
            continue
        except ValueError:
            raise InvalidSpecifier(f"{text[:80]!r}: a number in it is too long") from None
    return spec
