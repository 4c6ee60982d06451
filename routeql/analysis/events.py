"""Event files and JSONL lines -> events (or the reason they are not); payloads -> field paths.

Reasons never quote a value of the event: they name the position or the field.

>>> parse_event_text('{"type": "track"')
Traceback (most recent call last):
...
routeql.errors.EventError: not valid JSON: Expecting ',' delimiter at line 1 column 17
>>> sorted(field_paths({"a": {"b": 1, "c": [{"d": 2}, {"d": 3}]}, "e": {}}))
[('a', 'b'), ('a', 'c', 'd')]
"""

from __future__ import annotations

import json
import re
from typing import IO, Any, Iterator

from ..errors import EventError
from ..nodes import format_path

__all__ = ["parse_event_text", "iter_jsonl", "field_paths", "label", "collapse_indexes", "leaf_values"]


def parse_event_text(text: str | bytes, *, one_line: bool = False) -> Any:
    """Parse one JSON document; a syntax error becomes an :class:`EventError` with its position
    (its column only, for a JSONL line)."""
    try:
        return json.loads(text)
    except UnicodeDecodeError as e:
        raise EventError(f"not UTF-8 text (byte {e.start})") from None
    except json.JSONDecodeError as e:
        where = f"column {e.colno}" if one_line else f"line {e.lineno} column {e.colno}"
        raise EventError(f"not valid JSON: {e.msg} at {where}") from None
    except RecursionError:
        raise EventError("not valid JSON: nested too deeply") from None


def iter_jsonl(stream: IO[bytes]) -> Iterator[tuple[int, Any, str | None]]:
    """``(line number, event, None)`` per JSON line, or ``(line number, None, reason)``.

    Blank lines are skipped (they are not events); every other line is accounted for.
    """
    for number, raw in enumerate(stream, start=1):
        text = raw.strip()
        if not text:
            continue
        try:
            yield number, parse_event_text(text, one_line=True), None
        except EventError as e:
            yield number, None, e.message


def field_paths(payload: Any) -> set[tuple[str, ...]]:
    """The fields a payload holds, as key paths with list positions removed.

    Empty objects and lists carry no data and are left out (``keep`` leaves the objects
    along a kept path in place, possibly empty).
    """
    out: set[tuple[str, ...]] = set()
    _walk(payload, (), out)
    return out


def _walk(v: Any, prefix: tuple[str, ...], out: set[tuple[str, ...]]) -> None:
    if v.__class__ is dict:
        for k, x in v.items():
            _walk(x, prefix + (k,), out)
    elif v.__class__ is list:
        for x in v:
            _walk(x, prefix, out)
    elif prefix:
        out.add(prefix)


def label(keys: tuple[str, ...]) -> str:
    """A key path as the rules write it: ``properties.products.sku``, backticks for odd keys."""
    return format_path(keys)


_INDEX = re.compile(r"\[-?\d+\]")


def collapse_indexes(path: str) -> str:
    """``properties.products[2].sku`` -> ``properties.products[*].sku`` (not inside backticks).

    >>> collapse_indexes("a[0].b[12].`x[3]`")
    'a[*].b[*].`x[3]`'
    """
    parts = re.split(r"(`(?:[^`\\]|\\.)*`)", path)
    return "".join(p if p.startswith("`") else _INDEX.sub("[*]", p) for p in parts)


def leaf_values(event: Any) -> set[str]:
    """The text of every string and number in an event (to check an output never shows one)."""
    out: set[str] = set()
    stack = [event]
    while stack:
        v = stack.pop()
        if v.__class__ is dict:
            stack.extend(v.values())
        elif v.__class__ is list:
            stack.extend(v)
        elif v.__class__ is str:
            out.add(v)
        elif v.__class__ in (int, float):
            out.add(json.dumps(v))
    return out
