"""Field paths in expectations (``properties.products[0].sku``) -> segments, and lookups in payloads.

Paths are written as in rules: dots between keys, ``[N]`` for a list element (``[-1]``
is the last), and backticks around a key that holds a dot or a bracket.  A path that
crosses a list without an index reaches into every element (Segment's rule, as field
actions do), so ``properties.products.sku`` is the list of every product's ``sku``.

>>> parse_path("properties.products[0].`odd.key`")
('properties', 'products', 0, 'odd.key')
>>> lookup({"properties": {"products": [{"sku": "a"}, {"sku": "b"}]}}, ("properties", "products", "sku"))
(['a', 'b'], True)
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["MISSING", "parse_path", "lookup", "covers"]


class _Missing:
    """A value that is not there (distinct from ``null``, which is there)."""

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()

_KEY = re.compile(r"`((?:[^`\\]|\\.)*)`|([^.\[\]`]+)")
_INDEX = re.compile(r"\[(-?\d+)\]")


def parse_path(text: str) -> tuple[str | int, ...]:
    """Segments of a path; raises ValueError with a readable message."""
    segments: list[str | int] = []
    i = 0
    if not text.strip():
        raise ValueError("a field path cannot be empty")
    while True:
        m = _KEY.match(text, i)
        if m is None:
            where = f"at character {i + 1}" if i < len(text) else "at the end"
            raise ValueError(f"'{text}' is not a field path: a key is expected {where}")
        key = re.sub(r"\\(.)", r"\1", m.group(1)) if m.group(1) is not None else m.group(2)
        if m.group(2) is not None and (key != key.strip() or key == "*"):
            raise ValueError(f"'{text}' is not a field path: write `{key}` in backticks"
                             if key != key.strip() else f"'{text}': wildcards are not supported in expectations")
        segments.append(key)
        i = m.end()
        while (ix := _INDEX.match(text, i)) is not None:
            segments.append(int(ix.group(1)))
            i = ix.end()
        if i == len(text):
            return tuple(segments)
        if text[i] != ".":
            raise ValueError(f"'{text}' is not a field path: '.' or '[N]' expected at character {i + 1}")
        i += 1


def lookup(value: Any, segments: tuple[str | int, ...]) -> tuple[Any, bool]:
    """``(found, crossed)``: the value at the path (``MISSING`` when absent), or, when the
    path crossed a list, the list of what each element holds (with ``MISSING`` items)."""
    if not segments:
        return value, False
    head, rest = segments[0], segments[1:]
    if isinstance(head, int):
        if type(value) is list and -len(value) <= head < len(value):
            return lookup(value[head], rest)
        return MISSING, False
    if type(value) is list:
        out: list[Any] = []
        for item in value:
            found, crossed = lookup(item, segments)
            out.extend(found if crossed else [found])
        return out, True
    if type(value) is dict and head in value:
        return lookup(value[head], rest)
    return MISSING, False


def covers(want: tuple[str | int, ...], path: tuple[str | int, ...]) -> bool:
    """Whether the concrete ``path`` (a trace field, with list indexes) is ``want`` or inside it.

    List indexes in ``path`` are ignored unless ``want`` names indexes itself.

    >>> covers(("traits", "email"), ("traits", "email"))
    True
    >>> covers(("properties", "products", "email"), ("properties", "products", 2, "email"))
    True
    """
    if not any(isinstance(s, int) for s in want):
        path = tuple(s for s in path if not isinstance(s, int))
    return len(want) <= len(path) and path[: len(want)] == want
