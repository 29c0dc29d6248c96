"""Jupyter notebooks as one Python module: code cells joined (names flow between them), IPython's
own syntax blanked, each line mapped back to its cell (imported only when a notebook is scanned)."""

from __future__ import annotations

import json
import re
from typing import Any

from depwatch.usage.scan import _PARSE_ERRORS, _describe, _one_line, _parse, _split_lines

__all__ = ["notebook_source"]


def _notebook_problem(exc: BaseException) -> str:
    """Why a notebook could not be read, in the user's terms (not Python's)."""
    if isinstance(exc, json.JSONDecodeError):
        return f"not valid JSON: {exc.msg} at line {exc.lineno}"
    if isinstance(exc, RecursionError):
        return "its JSON is nested too deeply"
    if isinstance(exc, ValueError):
        return _one_line(exc)
    return "no list of cells where the notebook format puts it"


#: Cell magics whose body is Python that IPython runs (timed, captured, profiled, debugged).
_PYTHON_CELL_MAGICS = frozenset({"time", "timeit", "capture", "prun", "debug", "px"})
#: A line in IPython's own syntax: a magic or shell line, an assignment from one, or help.
_IPYTHON_LINE = re.compile(
    r"^([ \t]*)(?:[%!].*|[\w.\[\], ]+=[ \t]*[%!].*|[?].*|[\w.]+[ \t]*\?{1,2}[ \t]*)$"
)


#: ``%time stmt`` (and timeit, prun) without options: the statement is Python IPython runs.
_TIMED_LINE = re.compile(r"^([ \t]*)(%(?:time|timeit|prun)[ \t]+)(?=[^-\s])")


def _blank_magic(match: re.Match[str]) -> str:
    """The magic replaced by ``pass;`` and spaces of the same width: the statement keeps its
    indentation (it may open a block) and its columns (evidence points into it)."""
    return match.group(1) + "pass;".ljust(len(match.group(2)))


def notebook_source(
    text: str, path: str
) -> tuple[str | None, list[tuple[int, int]], list[str], list[str]]:
    """The code cells joined into one module (so names flow between cells), a line map, notes,
    and the joined lines as written (what evidence shows).

    IPython's own syntax becomes ``pass`` at its indentation (numbering kept): line magics and
    shell lines (``%time x``, ``!ls``), assignments from them (``files = !ls``), help
    (``np.product?``). A cell under a cell magic whose body is Python (``%%time``,
    ``%%capture``, ...) is read without its first line; one under any other cell magic
    (``%%bash``), or that is not valid Python, is left out with a warning.
    """
    notes: list[str] = []
    try:
        data: Any = json.loads(text)
        cells = data["cells"] if isinstance(data, dict) else data["worksheets"][0]["cells"]
        if not isinstance(cells, list):
            raise TypeError("cells is not a list")
    except (ValueError, KeyError, TypeError, IndexError, RecursionError) as exc:
        notes.append(f"{path}: skipped, not a readable notebook ({_notebook_problem(exc)})")
        return None, [], notes, []
    chunks: list[str] = []
    written: list[str] = []
    mapping: list[tuple[int, int]] = []
    line = 1
    number = 0
    for cell in cells:
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        number += 1
        raw = cell.get("source", cell.get("input", ""))
        src = "".join(s for s in raw if isinstance(s, str)) if isinstance(raw, list) else raw
        if not isinstance(src, str):
            continue
        cell_lines = original = _split_lines(src)
        first = next((ln.strip() for ln in cell_lines if ln.strip()), "")
        if first.startswith("%%"):
            magic = first.split()[0]
            if magic[2:] not in _PYTHON_CELL_MAGICS:
                notes.append(f"{path}: cell {number} skipped (cell magic {magic})")
                continue
            at = next(i for i, ln in enumerate(cell_lines) if ln.strip())
            cell_lines = [*cell_lines[:at], "", *cell_lines[at + 1 :]]
        cleaned = [
            _IPYTHON_LINE.sub(r"\1pass", _TIMED_LINE.sub(_blank_magic, ln)) for ln in cell_lines
        ]
        code = "\n".join(cleaned)
        try:
            _parse(code)
        except _PARSE_ERRORS as exc:
            notes.append(f"{path}: cell {number} skipped, not valid Python ({_describe(exc)})")
            continue
        mapping.append((line, number))
        chunks.append(code)
        written.extend(original)
        line += len(cleaned)
    return "\n".join(chunks), mapping, notes, written
