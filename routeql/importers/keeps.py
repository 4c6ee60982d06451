"""Segment's allow-properties filters in, RouteQL ``keep`` (and ``drop P.*``) lines out.

Segment's ``allow_properties`` filters **inside one object**: at ``properties`` it
removes the keys not listed and leaves every other field of the event alone.  RouteQL's
``keep`` is an allow-list for the **whole** payload.  So the kept set is computed here:
everything the event may hold, narrowed by each active allow filter.  "Everything" is
spelled with the fields the Segment Spec defines (top level, and ``context``): a field
outside the Spec beside an allow-listed object is not delivered, which is safe (it
never sends what Segment would not) but not exact, and is reported as a note.

Allow filters with conditions combine: one ``keep`` line per combination of active
filters, each guarded so that exactly one applies to any event.

>>> from routeql.importers.filters import FieldList
>>> lines = keep_lines([(FieldList(("properties",), ("sku", "price")), None)], drops=[])
>>> [p for p in lines[0].keep if p[0] in ("properties", "type")]
[('properties', 'sku'), ('properties', 'price'), ('type',)]
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import product

from .emit import Cond, and_, not_
from .errors import UnsupportedError
from .filters import FieldList

__all__ = ["KeepLine", "keep_lines", "SPEC_FIELDS", "MAX_CONDITIONAL_ALLOWS"]

#: Fields the Segment Spec defines, by the path of the object that holds them.
SPEC_FIELDS: dict[tuple[str, ...], tuple[str, ...]] = {
    (): ("anonymousId", "category", "channel", "context", "event", "groupId", "integrations", "messageId", "name",
         "originalTimestamp", "previousId", "properties", "receivedAt", "sentAt", "timestamp", "traits", "type",
         "userId", "version", "writeKey"),
    ("context",): ("active", "app", "campaign", "channel", "consent", "device", "groupId", "instanceId", "ip",
                   "library", "locale", "location", "network", "os", "page", "protocols", "referrer", "screen",
                   "timezone", "traits", "userAgent", "userAgentData"),
}
#: Conditional allow filters on one destination: one keep line per combination (2^n).
MAX_CONDITIONAL_ALLOWS = 6


class _Node:
    """Kept structure: each child is a _Node or None (kept whole).  ``approx``: stands for
    "everything here", spelled with the Spec's fields (the rest is lost)."""

    __slots__ = ("children", "approx")

    def __init__(self, children: dict[str, "_Node | None"], approx: bool) -> None:
        self.children = children
        self.approx = approx


def _whole_at(path: tuple[str, ...]) -> _Node:
    return _Node({k: None for k in SPEC_FIELDS.get(path, ())}, approx=True)


def _restrict(node: _Node | None, segs: tuple[str, ...], keys: tuple[str, ...], here: tuple[str, ...]) -> _Node:
    """Narrow the kept set by ``allow {segs: keys}``."""
    if node is None:
        node = _whole_at(here)
    if not segs:
        out: dict[str, _Node | None] = {}
        for k in keys:
            if k in node.children:
                out[k] = node.children[k]
            elif node.approx:
                out[k] = None
        return _Node(out, approx=False)
    head = segs[0]
    if head in node.children:
        child = _restrict(node.children[head], segs[1:], keys, here + (head,))
    elif node.approx:
        child = _restrict(None, segs[1:], keys, here + (head,))
    else:
        return node  # not kept at all: nothing to narrow
    return _Node({**node.children, head: child}, node.approx)


def _without(node: _Node | None, segs: tuple[str, ...]) -> _Node | None:
    """The kept set minus a path an unconditional drop removes anyway (RouteQL rejects
    a path both kept and dropped)."""
    if node is None or segs[0] not in node.children:
        return node
    if len(segs) == 1:
        return _Node({k: v for k, v in node.children.items() if k != segs[0]}, node.approx)
    return _Node({**node.children, segs[0]: _without(node.children[segs[0]], segs[1:])}, node.approx)


@dataclass
class KeepLine:
    """``keep PATHS [if guard]`` plus ``drop P.* [if guard]`` for objects kept empty."""

    guard: Cond | None
    keep: list[tuple[str, ...]] = field(default_factory=list)
    empty: list[tuple[str, ...]] = field(default_factory=list)
    approximated: list[tuple[str, ...]] = field(default_factory=list)


#: Envelope fields that are never objects in a routed event, so ``F.x`` never exists.
_SCALAR_FIELDS = ("type", "event", "name", "messageId", "timestamp")


def _emit(node: _Node | None, prefix: tuple[str, ...], line: KeepLine, drops: list[tuple[str, ...]]) -> None:
    if node is None:
        line.keep.append(prefix)
        return
    if node.approx:
        line.approximated.append(prefix)
    if not node.children:
        if prefix:
            line.keep.append(prefix)  # the object survives, emptied by `drop P.*`
            line.empty.append(prefix)
        else:
            # Nothing at all is allowed: keep a path that cannot exist (under a field that is
            # never an object, and not one a drop removes: RouteQL rejects a kept dropped path).
            anchor = next((f for f in _SCALAR_FIELDS if (f,) not in drops), "type")
            line.keep.append((anchor, "(nothing)"))
        return
    for k, child in node.children.items():
        _emit(child, prefix + (k,), line, drops)


def keep_lines(allows: list[tuple[FieldList, Cond | None]], drops: list[tuple[str, ...]]) -> list[KeepLine]:
    """Keep lines for a destination's allow filters (in Segment's order) and its unconditional drops.

    ``allows`` pairs each allow-listed object with its filter's condition (None: always).
    """
    conditional = [c for _, c in allows if c is not None]
    unique: list[Cond] = []
    for c in conditional:
        if c.text not in (u.text for u in unique):
            unique.append(c)
    if len(unique) > MAX_CONDITIONAL_ALLOWS:
        raise UnsupportedError.plain(f"{len(unique)} allow-properties filters with different conditions on one "
                                     f"destination: RouteQL needs one keep line per combination; at most "
                                     f"{MAX_CONDITIONAL_ALLOWS} are imported", code="RQ105")
    lines: list[KeepLine] = []
    for active in product((True, False), repeat=len(unique)):
        on = {u.text for u, a in zip(unique, active) if a}
        guard = and_([u if a else not_(u) for u, a in zip(unique, active)]) if unique else None
        if guard is not None and guard.const is False:
            continue
        node: _Node | None = _whole_at(())
        for fl, c in allows:
            if c is None or c.text in on:
                node = _restrict(node, fl.path, fl.keys, ())
        for d in drops:
            node = _without(node, d)
        line = KeepLine(None if guard is None or guard.const is True else guard)
        _emit(node, (), line, drops)
        lines.append(line)
    return lines
