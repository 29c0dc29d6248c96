"""One use of a package in the project's code × two releases' APIs → what changed for it.

Only what the code does counts: a removed keyword where the code passes it, a parameter that
became required where the code omits it, keyword-only where the code passes it by position, a
name (or a member inherited from a lost base) the code references. Everything a static reading
cannot see (a module ``__getattr__`` that serves unlisted names, a class with an external base or
its own ``__getattr__``, an extension module, what a function returns) is "unknown", never a
change: a wrong finding costs more than a missed one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from depwatch.usage.facts import KIND_CALL, KIND_IMPORT, Ref

__all__ = ["Change", "Lookup", "changes", "deprecations", "lookup"]

Api = dict[str, Any]

# parameter kinds (see depwatch.wheels.api)
_PO, _PK, _VARARGS, _KO, _VARKW = 0, 1, 2, 3, 4


@dataclass(frozen=True, slots=True)
class Lookup:
    status: str
    """``present``, ``served`` (by a module ``__getattr__``), ``missing`` (its parent is fully
    known and lacks it) or ``unknown``."""
    path: str
    """The path looked at: the name itself, or its first missing component."""
    record: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class Change:
    """Something the code uses that differs between two releases."""

    kind: str
    """``removed`` (a name), ``keyword`` (a keyword the code passes is gone), ``positional``
    (a parameter the code passes by position became keyword-only or went away), ``required``
    (a parameter the code omits became required)."""
    symbol: str
    """What it is about: ``click.testing.CliRunner(mix_stderr=)``, ``flask.escape``."""
    where: str
    """``call`` (evidence at the call), ``keyword`` (at the keyword) or ``ref``."""
    keyword: str | None = None


def lookup(api: Api, name: str) -> Lookup:
    objects: dict[str, dict[str, Any]] = api["objects"]
    rec = objects.get(name)
    if rec is not None:
        return Lookup("served" if rec["k"] == "s" else "present", name, rec)
    parts = name.split(".")
    for i in range(len(parts) - 1, 0, -1):
        parent = ".".join(parts[:i])
        prec = objects.get(parent)
        if prec is None:
            continue
        missing = f"{parent}.{parts[i]}"
        if prec["k"] not in ("m", "c") or prec.get("o"):
            return Lookup("unknown", missing)
        if missing in api.get("compiled", ()):
            return Lookup("unknown", missing)
        if prec["k"] == "c" and parts[i] in api.get("assigned_set", ()):
            return Lookup("unknown", missing)  # an attribute some method assigns
        if prec["k"] == "c" and prec.get("sb"):
            from depwatch.wheels.api import stdlib_class

            if any(hasattr(stdlib_class(b), parts[i]) for b in prec["sb"]):
                return Lookup("unknown", missing)  # inherited from a stdlib base
        if parts[i].startswith("_") and not parts[i].startswith("__"):
            return Lookup("unknown", missing)
        return Lookup("missing", missing)
    return Lookup("unknown", name)


def prepare(api: Api) -> Api:
    """``api`` with its lookup helpers built (once per loaded API)."""
    if "assigned_set" not in api:
        api["assigned_set"] = frozenset(api.get("assigned", ()))
    return api


def _signature(rec: dict[str, Any] | None) -> list[list[Any]] | None:
    if rec is None or rec["k"] not in ("f", "c"):
        return None
    params = rec.get("p")
    return params if isinstance(params, list) else None


def _call_changes(ref: Ref, name: str, old: list[list[Any]], new: list[list[Any]]) -> list[Change]:
    out: list[Change] = []
    old_named = {p[0]: p for p in old if p[1] in (_PK, _KO)}
    new_by_name = {p[0]: p for p in new}
    new_varkw = any(p[1] == _VARKW for p in new)
    for kw in ref.keywords:
        if kw.name not in old_named:
            continue  # the old release did not name it either: nothing changed for it
        now = new_by_name.get(kw.name)
        if now is not None and now[1] in (_PK, _KO):
            continue
        if now is None and new_varkw:
            continue  # **kwargs may still take it
        out.append(Change("keyword", f"{name}({kw.name}=)", "keyword", kw.name))
    if not ref.star_args:
        old_pos = [p for p in old if p[1] in (_PO, _PK)]
        new_pos = [p for p in new if p[1] in (_PO, _PK)]
        old_ok = len(old_pos) >= ref.positional or any(p[1] == _VARARGS for p in old)
        new_ok = len(new_pos) >= ref.positional or any(p[1] == _VARARGS for p in new)
        if old_ok and not new_ok:
            lost = old_pos[len(new_pos)][0] if len(old_pos) > len(new_pos) else "?"
            out.append(Change("positional", f"{name}({lost})", "call", lost))
    if not ref.star_args and not ref.star_kwargs:
        passed_kw = {kw.name for kw in ref.keywords}
        new_pos = [p for p in new if p[1] in (_PO, _PK)]
        passed = passed_kw | {p[0] for p in new_pos[: ref.positional]}
        old_required = {p[0] for p in old if p[2]}
        old_pos_names = [p[0] for p in old if p[1] in (_PO, _PK)]
        old_passed = passed_kw | set(old_pos_names[: ref.positional])
        for p in new:
            if not p[2] or p[1] not in (_PO, _PK, _KO) or p[0].startswith("_"):
                continue
            if p[0] in passed:
                continue
            if p[0] in old_required and p[0] not in old_passed:
                continue  # already required and omitted: the call was broken before
            out.append(Change("required", f"{name}({p[0]})", "call", p[0]))
    return out


def changes(ref: Ref, old: Api, new: Api) -> list[Change]:
    """What changed from ``old`` to ``new`` for this use (empty: nothing known)."""
    was = lookup(old, ref.name)
    now = lookup(new, ref.name)
    if now.status == "missing":
        # the first missing component must have existed before
        before = lookup(old, now.path)
        if before.status in ("present", "served"):
            return [Change("removed", now.path, "ref")]
        return []
    if ref.kind != KIND_CALL or was.status != "present" or now.status != "present":
        return []
    if (was.record or {}).get("k") != (now.record or {}).get("k"):
        return []  # function <-> property/class: a kind change is not judged
    old_sig, new_sig = _signature(was.record), _signature(now.record)
    if old_sig is None or new_sig is None:
        return []
    return _call_changes(ref, ref.name, old_sig, new_sig)


def deprecations(ref: Ref, api: Api) -> list[tuple[str, str, str | None]]:
    """(symbol, message, keyword) for what this use touches that ``api`` marks deprecated."""
    if ref.kind == KIND_IMPORT and "." not in ref.name:
        return []
    found = lookup(api, ref.name)
    out: list[tuple[str, str, str | None]] = []
    # the name itself or the object it is reached through (a deprecated class's method)
    objects: dict[str, dict[str, Any]] = api["objects"]
    parts = ref.name.split(".")
    for i in range(len(parts), 1, -1):
        path = ".".join(parts[:i])
        rec = objects.get(path)
        if rec is not None and rec.get("d") and rec["k"] != "m":
            out.append((path, rec["d"], None))
            break
    if ref.kind == KIND_CALL and found.record is not None:
        dp: dict[str, str] = found.record.get("dp") or {}
        for kw in ref.keywords:
            if kw.name in dp:
                out.append((f"{ref.name}({kw.name}=)", dp[kw.name], kw.name))
    return out
