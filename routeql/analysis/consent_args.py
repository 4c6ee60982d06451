"""``--consent`` text (``a=true,b=false``, a JSON object, or ``@file.json``) -> category -> bool.

>>> parse_consent("analytics=true, advertising=no", ("analytics", "advertising"))
{'analytics': True, 'advertising': False}
>>> parse_consent('{"analytics": false}', ("analytics",))
{'analytics': False}
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Sequence

from ..errors import RouteQLError, did_you_mean

__all__ = ["parse_consent"]

_TRUE = frozenset({"true", "yes", "1", "granted", "on"})
_FALSE = frozenset({"false", "no", "0", "denied", "off"})


def parse_consent(text: str | None, categories: Sequence[str]) -> dict[str, bool]:
    """The consent given beside an event on the command line, checked against the rules.

    Raises :class:`RouteQLError` (an input error) for an unknown category, naming the
    categories the rules declare, or for a value that is not a boolean.
    """
    if text is None:
        return {}
    text = text.strip()
    if text.startswith("@"):
        raw: Any = _read_json_file(text[1:])
    elif text.startswith("{"):
        raw = _json(text, "--consent")
    else:
        raw = _pairs(text)
    if not isinstance(raw, dict):
        raise RouteQLError(f"--consent: expected an object of category -> true/false, got {_kind(raw)}")
    out: dict[str, bool] = {}
    for name, value in raw.items():
        if name not in categories:
            raise RouteQLError(_unknown(str(name), categories))
        if value is not True and value is not False:
            raise RouteQLError(f"--consent: {name} must be true or false, got {_kind(value)}")
        out[name] = value
    return out


def _pairs(text: str) -> dict[str, bool]:
    out: dict[str, bool] = {}
    for item in text.split(","):
        item = item.strip()
        if not item:
            continue
        name, eq, value = item.partition("=")
        name, value = name.strip(), value.strip().lower()
        if not eq or not name:
            raise RouteQLError(f"--consent: expected category=true|false, got {item!r}")
        if value in _TRUE:
            out[name] = True
        elif value in _FALSE:
            out[name] = False
        else:
            raise RouteQLError(f"--consent: {name} must be true or false (or yes/no, 1/0), got {value!r}")
    return out


def _read_json_file(path: str) -> Any:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise RouteQLError(f"--consent: {path}: no such file") from None
    except (OSError, UnicodeDecodeError) as e:
        raise RouteQLError(f"--consent: {path}: cannot read ({e})") from None
    return _json(text, f"--consent: {path}")


def _json(text: str, where: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise RouteQLError(f"{where}: not valid JSON: {e.msg} at line {e.lineno} column {e.colno}") from None
    except RecursionError:
        raise RouteQLError(f"{where}: not valid JSON: nested too deeply") from None


def _unknown(name: str, categories: Sequence[str]) -> str:
    known = ", ".join(categories) if categories else "none (the rules have no consent block)"
    guess = did_you_mean(name, categories)
    hint = f" (did you mean {guess!r}?)" if guess else ""
    return f"--consent: unknown consent category {name!r}{hint}; the rules declare: {known}"


def _kind(v: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean", type(None): "null"}.get(
        type(v), "a number" if isinstance(v, (int, float)) else type(v).__name__)
