"""Hypothesis strategies -> hostile Python values and events: what a careless caller passes in.

JSON parsing only ever yields dicts, lists, str, int, float, bool and None; an embedding
gateway may hand RouteQL anything.  These strategies cover both: JSON edge cases (NaN,
huge integers, lone surrogates, deep and wide nesting) and non-JSON objects (bytes, sets,
tuples, subclasses, objects whose ``__eq__``/``__hash__``/``__str__`` raise, cycles).

>>> deep(3)
[[[0]]]
"""

from __future__ import annotations

import datetime
import decimal
import enum
import fractions
from typing import Any

from hypothesis import strategies as st

__all__ = ["Hostile", "deep", "deep_dict", "wide", "cyclic", "json_edge", "non_json", "hostile_values",
           "inject", "hostile_events", "hostile_consent"]


class Hostile:
    """An object that fails at everything a careless engine might call on it."""

    def __eq__(self, other: object) -> bool:
        raise ValueError("Hostile.__eq__")

    def __hash__(self) -> int:  # hashable, so it can be a dict key; unique, so two never collide
        return id(self) >> 4

    def __repr__(self) -> str:  # safe: fuzz reports print inputs with repr()
        return "Hostile()"

    def __str__(self) -> str:
        raise ValueError("Hostile.__str__")

    def __len__(self) -> int:
        raise ValueError("Hostile.__len__")

    def __iter__(self) -> Any:
        raise ValueError("Hostile.__iter__")


class StrSub(str):
    """A str subclass: equal to a str, but not ``str`` (the engine tests ``__class__``)."""


class IntSub(int):
    pass


class Color(enum.IntEnum):
    RED = 1


def deep(depth: int, leaf: Any = 0) -> Any:
    """A list nested ``depth`` levels deep, built without recursion."""
    v = leaf
    for _ in range(depth):
        v = [v]
    return v


def deep_dict(depth: int, key: str = "a", leaf: Any = 1) -> Any:
    v = leaf
    for _ in range(depth):
        v = {key: v}
    return v


def wide(width: int) -> dict[str, Any]:
    return {f"k{i}": i for i in range(width)}


def cyclic(kind: str) -> Any:
    if kind == "list":
        x: list[Any] = []
        x.append(x)
        return x
    d: dict[str, Any] = {}
    d["self"] = d
    return d


#: JSON values at the edges of what JSON parsing produces.
json_edge = st.one_of(
    st.sampled_from([float("nan"), float("inf"), float("-inf"), -0.0, 10 ** 400, -(2 ** 63), 2 ** 64, 1e308, 5e-324,
                     "\ud800", "\udfff", "\x00", "\u202e", "\ufeff", "", " ", "null", "[]", "{}"]),
    st.integers(1_000, 100_000).map(lambda n: "a" * n),
    st.integers(), st.floats(), st.text(max_size=20),
    st.integers(0, 5000).map(deep), st.integers(0, 5000).map(deep_dict), st.integers(0, 2000).map(wide),
)

#: Python values that are not JSON at all.
non_json = st.one_of(
    st.sampled_from([b"bytes", bytearray(b"ba"), (1, 2), frozenset({1}), 1 + 2j, decimal.Decimal("1.5"),
                     fractions.Fraction(1, 3), datetime.datetime(2026, 1, 1), Ellipsis, int, len, Color.RED,
                     StrSub("track"), IntSub(3), object()]),
    st.builds(Hostile), st.sampled_from(["list", "dict"]).map(cyclic),
    st.builds(lambda: {1: "int key"}), st.builds(lambda: {None: 1}), st.builds(lambda: {(1, 2): 1}),
    st.builds(lambda: {Hostile(): 1}), st.builds(lambda: {"a": {2}}),
)

hostile_values = st.one_of(json_edge, non_json)

#: Where a hostile value goes: envelope fields, fields the bundled rules read, deep fields.
_PATHS = (
    ("type",), ("event",), ("userId",), ("messageId",), ("anonymousId",), ("timestamp",), ("properties",),
    ("traits",), ("context",), ("integrations",), ("properties", "revenue"), ("properties", "products"),
    ("traits", "email"), ("context", "traits", "email"), ("context", "ip"), ("context", "source"),
    ("context", "location", "country"), ("context", "consent"), ("context", "consent", "categoryPreferences"),
    ("context", "consent", "tcf"), ("context", "gpc"), ("context", "consentManagement"), ("integrations", "All"),
    ("properties", "x", "y"), ("context", "brand"),
)


def inject(event: dict[str, Any], path: tuple[str, ...], value: Any) -> dict[str, Any]:
    """A copy of ``event`` (containers along ``path`` copied) with ``value`` at ``path``."""
    out = dict(event)
    node = out
    for key in path[:-1]:
        child = node.get(key)
        child = dict(child) if child.__class__ is dict else {}
        node[key] = child
        node = child
    node[path[-1]] = value
    return out


@st.composite
def hostile_events(draw: st.DrawFn, base: st.SearchStrategy[dict[str, Any]]) -> Any:
    """A valid-looking event with one to three hostile values injected, or a hostile value itself."""
    if draw(st.integers(0, 9)) == 0:
        return draw(hostile_values)
    event = draw(base)
    for _ in range(draw(st.integers(1, 3))):
        event = inject(event, draw(st.sampled_from(_PATHS)), draw(hostile_values))
    return event


hostile_consent = st.one_of(
    st.none(), hostile_values,
    st.dictionaries(st.one_of(st.sampled_from(["analytics", "advertising", "ads", "nope"]),
                              st.sampled_from([1, None, 1.5, b"analytics", ("analytics",)]), st.builds(Hostile)),
                    st.one_of(st.booleans(), hostile_values), max_size=3),
)
