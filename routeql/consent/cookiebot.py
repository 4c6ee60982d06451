"""Cookiebot ``CookieConsent`` cookie (or an already-parsed object) -> :class:`CookiebotConsent`.

The cookie is a URL-encoded JavaScript object literal, not JSON (single quotes, unquoted
keys): ``{stamp:'...',necessary:true,preferences:false,statistics:false,marketing:false,
method:'explicit',ver:1,utc:1734405069032,region:'cn'}``.  A small strict tokenizer reads
it; the four category booleans are required, other known keys are type-checked, unknown
keys are ignored.

The bare value ``-1`` is what Cookiebot writes when the visitor's region needs no consent;
it decodes like the object form seen with it (``stamp:'-1'``, ``method:'implied'``, all
categories true) and :attr:`CookiebotConsent.consent_not_required` lets policy tell it
apart.  Other bare values (such as ``0``) are not documented and are rejected.

>>> c = decode("%7Bstamp%3A%27a1%27%2Cnecessary%3Atrue%2Cpreferences%3Afalse%2C"
...            "statistics%3Atrue%2Cmarketing%3Afalse%2Cmethod%3A%27explicit%27%2Cver%3A1%7D")
>>> c.statistics, c.marketing, c.method
(True, False, 'explicit')
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from ._bits import describe
from .errors import ConsentDecodeError

__all__ = ["CATEGORIES", "CookiebotConsent", "decode"]

_FORMAT = "cookiebot"
#: The Cookiebot consent categories, each a required boolean.
CATEGORIES = ("necessary", "preferences", "statistics", "marketing")
#: Longest cookie text accepted, in characters (browsers cap a cookie at about 4 KB).
MAX_LENGTH = 16 * 1024
_MAX_DEPTH = 8  # nesting of objects/arrays; bounded so a hostile cookie cannot recurse deep
_OPTIONAL = {"method": str, "stamp": str, "region": str, "ver": int, "utc": int}
_ESCAPES = {"\\": "\\", "'": "'", '"': '"', "/": "/", "n": "\n", "t": "\t", "r": "\r"}
_WORDS = {"true": True, "false": False, "null": None}
_IDENTIFIER = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*")


@dataclass(frozen=True, slots=True)
class CookiebotConsent:
    """The four Cookiebot categories plus the cookie's metadata (``None`` when absent)."""

    necessary: bool
    preferences: bool
    statistics: bool
    marketing: bool
    method: str | None = None
    stamp: str | None = None
    ver: int | None = None
    utc: int | None = None
    region: str | None = None

    @property
    def consent_not_required(self) -> bool:
        """True for Cookiebot's "no consent needed in this region" marker (stamp ``-1``)."""
        return self.stamp == "-1"

    def to_dict(self) -> dict[str, Any]:
        return {
            "necessary": self.necessary,
            "preferences": self.preferences,
            "statistics": self.statistics,
            "marketing": self.marketing,
            "method": self.method,
            "stamp": self.stamp,
            "ver": self.ver,
            "utc": self.utc,
            "region": self.region,
        }


_NOT_REQUIRED = CookiebotConsent(True, True, True, True, method="implied", stamp="-1")


def decode(value: object) -> CookiebotConsent:
    """Decode a ``CookieConsent`` cookie value (URL-encoded or not) or a parsed dict.

    Raises:
        ConsentDecodeError: not a str/dict, a malformed literal, a missing or non-boolean
            category, or a known key of the wrong type.

    >>> decode("{necessary:true,preferences:false,statistics:false}")
    Traceback (most recent call last):
    ...
    routeql.consent.errors.ConsentDecodeError: cookiebot: 'marketing' is missing (the four categories are required)
    """
    if isinstance(value, dict):
        return _from_object(value)
    if not isinstance(value, str):
        raise ConsentDecodeError(f"expected the cookie text or an object, got {describe(value)}", format=_FORMAT)
    if len(value) > MAX_LENGTH:
        raise ConsentDecodeError(f"longer than {MAX_LENGTH} characters", format=_FORMAT)
    if value == "-1":
        return _NOT_REQUIRED
    text = value
    if "%" in text:
        try:
            text = unquote(text, errors="strict")
        except UnicodeDecodeError as e:
            raise ConsentDecodeError("not valid UTF-8 once URL-decoded", format=_FORMAT) from e
    parser = _Parser(text)
    obj = parser.value(0)
    parser.skip_space()
    if parser.pos != len(text):
        raise parser.error("unexpected text after the object")
    if not isinstance(obj, dict):
        raise ConsentDecodeError(
            f"expected an object literal (the only bare value understood is -1), got {describe(obj)}", format=_FORMAT
        )
    return _from_object(obj)


def _from_object(obj: dict[Any, Any]) -> CookiebotConsent:
    flags = []
    for name in CATEGORIES:
        if name not in obj:
            raise ConsentDecodeError(f"{name!r} is missing (the four categories are required)", format=_FORMAT)
        if type(obj[name]) is not bool:
            raise ConsentDecodeError(f"{name!r} must be true or false, got {describe(obj[name])}", format=_FORMAT)
        flags.append(obj[name])
    extra = {}
    for key, kind in _OPTIONAL.items():
        v = obj.get(key)
        if v is not None and type(v) is not kind:
            raise ConsentDecodeError(f"{key!r} must be a {kind.__name__}, got {describe(v)}", format=_FORMAT)
        extra[key] = v
    return CookiebotConsent(*flags, **extra)


class _Parser:
    """Recursive descent over a JavaScript object literal: objects, arrays, quoted strings,
    numbers, true/false/null; keys may be bare identifiers.  Depth is capped."""

    __slots__ = ("text", "pos")

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def error(self, reason: str) -> ConsentDecodeError:
        return ConsentDecodeError(reason, format=_FORMAT, position=self.pos, unit="char")

    def skip_space(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos] in " \t\r\n":
            self.pos += 1

    def peek(self) -> str:
        self.skip_space()
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def expect(self, ch: str) -> None:
        if self.peek() != ch:
            raise self.error(f"expected {ch!r}")
        self.pos += 1

    def value(self, depth: int) -> Any:
        if depth > _MAX_DEPTH:
            raise self.error(f"nested deeper than {_MAX_DEPTH} levels")
        ch = self.peek()
        if ch == "{":
            return self.object(depth)
        if ch == "[":
            return self.array(depth)
        if ch in ("'", '"'):
            return self.string()
        if ch and ch in "-0123456789":
            return self.number()
        if not ch:
            raise self.error("unexpected end of text")
        word = self.identifier()
        if word not in _WORDS:
            raise self.error(f"unexpected {describe(word or ch)}")
        return _WORDS[word]

    def object(self, depth: int) -> dict[str, Any]:
        self.expect("{")
        out: dict[str, Any] = {}
        if self.peek() == "}":
            self.pos += 1
            return out
        while True:
            key = self.string() if self.peek() in ("'", '"') else self.identifier()
            if not key:
                raise self.error("expected a key")
            if key in out:
                raise self.error(f"duplicate key {key!r}")
            self.expect(":")
            out[key] = self.value(depth + 1)
            if self.peek() == "}":
                self.pos += 1
                return out
            self.expect(",")

    def array(self, depth: int) -> list[Any]:
        self.expect("[")
        out: list[Any] = []
        if self.peek() == "]":
            self.pos += 1
            return out
        while True:
            out.append(self.value(depth + 1))
            if self.peek() == "]":
                self.pos += 1
                return out
            self.expect(",")

    def identifier(self) -> str:
        """A bare key or word (``necessary``, ``true``); empty if none starts here."""
        self.skip_space()
        match = _IDENTIFIER.match(self.text, self.pos)
        if match is None:
            return ""
        self.pos = match.end()
        return match.group()

    def string(self) -> str:
        quote = self.text[self.pos]
        self.pos += 1
        parts = []
        while True:
            end = self.pos
            while end < len(self.text) and self.text[end] not in (quote, "\\"):
                end += 1
            parts.append(self.text[self.pos : end])
            self.pos = end
            if end >= len(self.text):
                raise self.error("unterminated string")
            if self.text[end] == quote:
                self.pos += 1
                return "".join(parts)
            escaped = self.text[end + 1 : end + 2]
            if escaped not in _ESCAPES:
                raise self.error(f"unsupported escape \\{escaped}")
            parts.append(_ESCAPES[escaped])
            self.pos = end + 2

    def number(self) -> int | float:
        start = self.pos
        if self.text[self.pos] == "-":
            self.pos += 1
        digits = self.pos
        while self.pos < len(self.text) and self.text[self.pos] in "0123456789.":
            self.pos += 1
        text = self.text[start : self.pos]
        body = self.text[digits : self.pos]
        if not body or body.count(".") > 1 or body[0] == "." or body[-1] == "." or len(body) > 20:
            self.pos = start
            raise self.error(f"malformed number {describe(text)}")
        return float(text) if "." in body else int(text)
