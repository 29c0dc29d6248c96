"""Source written for a newer Python than the one running depwatch, rewritten so ``ast`` of the
running Python can read it, every line and (almost) every column where it was.

Used only when ``ast.parse`` fails. The rewrites keep what the usage scan looks at (names,
attribute chains, calls, keyword arguments) and change what it does not:

- PEP 701 f-strings (3.12): a string inside a replacement field that reuses the f-string's
  quote gets the other quote (same length, same value); one that cannot (a backslash, both
  quotes) becomes ``0`` and spaces;
- PEP 750 t-strings (3.14): ``t"…"`` is read as ``f"…"`` (same references);
- PEP 695 (3.12): ``type X[T] = …`` is read as ``X = …`` (the value keeps its columns) and the
  type parameters of ``def f[T](…)`` / ``class C[T]:`` become spaces;
- PEP 758 (3.14): ``except A, B:`` is read as ``except(A,B):`` (the names between move by one);
- PEP 654 (3.11, for depwatch on 3.10): ``except* E:`` is read as ``except E:``.

Scan workers import this module: standard library only.
"""

from __future__ import annotations

import re

__all__ = ["downgrade"]

_IDENT = re.compile(r"[A-Za-z0-9_]")
_PREFIX = re.compile(r"([rRbBuUfFtT]{0,2})('''|\"\"\"|'|\")")
_QUOTES = frozenset("'\"")


class _Rewriter:
    def __init__(self, text: str) -> None:
        self.text = text
        self.n = len(text)
        self.edits: list[tuple[int, int, str]] = []
        """(start, end, replacement); replacements keep the length unless said otherwise."""
        self.masked = list(text)
        """The text with strings and comments blanked (for the statement patterns)."""

    # --- strings ------------------------------------------------------------------------

    def literal_at(self, i: int) -> re.Match[str] | None:
        """A string literal's prefix and opening quote at ``i`` (not inside an identifier)."""
        if i > 0 and _IDENT.match(self.text[i - 1]):
            return None
        found = _PREFIX.match(self.text, i)
        if found is None:
            return None
        prefix = found.group(1).lower()
        if len(set(prefix)) != len(prefix) or not _valid_prefix(prefix):
            return None
        return found

    def literal(self, found: re.Match[str], enclosing: tuple[str, ...]) -> int:
        """Scan a literal starting at ``found``; the index after it."""
        prefix = found.group(1)
        quote = found.group(2)
        lowered = prefix.lower()
        formatted = "f" in lowered or "t" in lowered
        if "t" in lowered:
            at = found.start() + lowered.index("t")
            self.edits.append((at, at + 1, "f"))
        start = found.end()
        if formatted:
            return self.fstring_body(start, quote, (*enclosing, quote))
        return self.plain_body(start, quote)

    def plain_body(self, j: int, quote: str) -> int:
        text, n = self.text, self.n
        while j < n:
            c = text[j]
            if c == "\\":
                j += 2
                continue
            if text.startswith(quote, j):
                return j + len(quote)
            if c == "\n" and len(quote) == 1:
                return j
            j += 1
        return n

    def fstring_body(self, j: int, quote: str, quotes: tuple[str, ...]) -> int:
        text, n = self.text, self.n
        while j < n:
            c = text[j]
            if c == "\\":
                j += 1 if j + 1 < n and text[j + 1] in "{}" else 2
                continue
            if c == "{":
                if text.startswith("{{", j):
                    j += 2
                    continue
                j = self.field(j + 1, quotes)
                continue
            if text.startswith(quote, j):
                return j + len(quote)
            if c == "\n" and len(quote) == 1:
                return j
            j += 1
        return n

    def field(self, j: int, quotes: tuple[str, ...]) -> int:
        """A replacement field's expression (after ``{``); the index after its ``}``."""
        text, n = self.text, self.n
        depth = 0
        while j < n:
            c = text[j]
            if c in "([{":
                depth += 1
            elif c in ")]}":
                if c == "}" and depth == 0:
                    return j + 1
                depth -= 1
            elif depth == 0 and c == ":":
                return self.format_spec(j + 1, quotes)
            elif depth == 0 and c == "!" and not text.startswith("!=", j):
                j += 1
                continue
            elif c in _QUOTES or (c.isalpha() and c in "rRbBuUfFtT"):
                found = self.literal_at(j)
                if found is not None:
                    j = self.inner(found, quotes)
                    continue
            j += 1
        return n

    def format_spec(self, j: int, quotes: tuple[str, ...]) -> int:
        text, n = self.text, self.n
        while j < n:
            c = text[j]
            if c == "{":
                j = self.field(j + 1, quotes)
                continue
            if c == "}":
                return j + 1
            if any(text.startswith(q, j) for q in quotes):
                return j  # the f-string ended inside: malformed, let the parser say so
            j += 1
        return n

    def inner(self, found: re.Match[str], quotes: tuple[str, ...]) -> int:
        """A string inside a replacement field: older Pythons allow neither an enclosing
        f-string's quote nor a backslash there."""
        quote = found.group(2)
        used = {q[0] for q in quotes}
        start, body = found.start(), found.end()
        mark = len(self.edits)
        target = quote
        if quote[0] in used:
            free = sorted(_QUOTES - used)
            target = free[0] * len(quote) if free else ""
        end = self.literal(found, quotes if not target else (*quotes, target))
        closed = self.text.startswith(quote, end - len(quote)) and end - len(quote) >= body
        content = self.text[body : end - len(quote)] if closed else ""
        if (
            not closed
            or not target
            or "\\" in content
            or (target != quote and target[0] in content)
        ):
            del self.edits[mark:]
            self.blank(start, end)
            return end
        if target != quote:
            self.edits.append((body - len(quote), body, target))
            self.edits.append((end - len(quote), end, target))
        return end

    def blank(self, start: int, end: int) -> None:
        """The literal becomes the expression ``0`` and spaces (newlines kept)."""
        span = self.text[start:end]
        self.edits.append((start, end, "0" + "".join("\n" if c == "\n" else " " for c in span[1:])))

    # --- the whole text -----------------------------------------------------------------

    def run(self) -> None:
        text, n = self.text, self.n
        i = 0
        while i < n:
            c = text[i]
            if c == "#":
                end = text.find("\n", i)
                end = n if end < 0 else end
                self.mask(i, end)
                i = end
                continue
            if c in _QUOTES or c in "rRbBuUfFtT":
                found = self.literal_at(i)
                if found is not None:
                    end = self.literal(found, ())
                    self.mask(i, end)
                    i = end
                    continue
            i += 1

    def mask(self, start: int, end: int) -> None:
        for k in range(start, end):
            if self.masked[k] != "\n":
                self.masked[k] = "x"


def _valid_prefix(prefix: str) -> bool:
    return prefix in {"", "r", "b", "u", "f", "t", "rb", "br", "fr", "rf", "tr", "rt"}


def _closing(masked: str, at: int) -> int | None:
    """The index of the bracket closing the one at ``at``."""
    depth = 0
    for k in range(at, len(masked)):
        c = masked[k]
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
            if depth == 0:
                return k
    return None


_TYPE_ALIAS = re.compile(r"(?m)^([ \t]*)type([ \t]+)([A-Za-z_]\w*)[ \t]*(\[)?")
_GENERIC = re.compile(r"\b(?:def|class)[ \t]+[A-Za-z_]\w*[ \t]*(\[)")
_EXCEPT = re.compile(r"(?m)^([ \t]*)except(\*?)([ \t]+)(?=[^\s(])")
_EXCEPT_STAR = re.compile(r"(?m)^([ \t]*)except\*")


def _statements(masked: str, text: str) -> list[tuple[int, int, str]]:
    edits: list[tuple[int, int, str]] = []
    for found in _TYPE_ALIAS.finditer(masked):
        end = found.end()
        if found.group(4):
            close = _closing(masked, found.start(4))
            if close is None:
                continue
            end = close + 1
        rest = re.match(r"[ \t]*=(?!=)", masked[end:])
        if rest is None:
            continue
        equals = end + rest.end() - 1
        start = found.start() + len(found.group(1))
        name = found.group(3)
        if "\n" in masked[start:equals]:
            continue
        edits.append((start, equals, name.ljust(equals - start)))
    for found in _GENERIC.finditer(masked):
        open_at = found.start(1)
        close = _closing(masked, open_at)
        if close is None:
            continue
        span = text[open_at : close + 1]
        edits.append((open_at, close + 1, "".join("\n" if c == "\n" else " " for c in span)))
    for found in _EXCEPT.finditer(masked):
        start = found.end()
        line_end = masked.find("\n", start)
        line_end = len(masked) if line_end < 0 else line_end
        depth = 0
        commas: list[int] = []
        colon = None
        for k in range(start, line_end):
            c = masked[k]
            if c in "([{":
                depth += 1
            elif c in ")]}":
                depth -= 1
            elif depth == 0 and c == ",":
                commas.append(k)
            elif depth == 0 and c == ":":
                colon = k
                break
        if not commas or colon is None or re.search(r"\bas\b", masked[start:colon]):
            continue
        blank = found.start(3)
        edits.append((blank, blank + 1, "("))
        edits.append((colon, colon, ")"))
        # the ")" is one character more: a blank after a comma makes room, so what follows
        # the ":" on this line keeps its columns
        spaced = next((k for k in commas if masked[k + 1] in " \t"), None)
        if spaced is not None:
            edits.append((spaced + 1, spaced + 2, ""))
    for found in _EXCEPT_STAR.finditer(masked):
        star = found.end() - 1
        edits.append((star, star + 1, " "))
    return edits


def downgrade(text: str) -> str | None:
    """``text`` rewritten for an older parser (see the module's docstring); None when there is
    nothing to rewrite."""
    rewriter = _Rewriter(text)
    try:
        rewriter.run()
    except RecursionError:
        return None
    edits = rewriter.edits + _statements("".join(rewriter.masked), text)
    if not edits:
        return None
    out = text
    # from the end: earlier positions stay valid; an edit inside a blanked span is dropped
    last_start = len(text) + 1
    for start, end, replacement in sorted(edits, key=lambda e: (e[0], e[1]), reverse=True):
        if end > last_start:
            continue
        out = out[:start] + replacement + out[end:]
        last_start = start
    return out
