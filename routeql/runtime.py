"""Value semantics (SPEC §4) and the few helpers generated code may call.

These functions *are* the language's meaning for values: the interpreter calls them
directly, and the code generator either calls them or inlines a faster form that the
interpreter ≡ compiled tests hold to the same answers.

Missing is null; ``=`` needs equal types (int and float are both numbers, bool is not a
number); ordering compares two numbers or two strings and is false otherwise:

>>> eq(1, 1.0), eq("10", 10), eq(True, 1), compare("<", None, 3)
(True, False, False, False)
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import re
from datetime import datetime, timezone
from fractions import Fraction
from types import MappingProxyType
from typing import Any, Callable, Iterable, Mapping

import re2

from .errors import EventError

__all__ = [
    "MISSING", "EMPTY", "typeof", "eq", "compare", "in_list", "get_path", "glob_to_regex",
    "compile_glob", "compile_regex", "FUNCTIONS", "sample_threshold", "sample_bucket",
    "hash_value", "normalize_for_hash", "redact_value", "truncate_ip", "truncate_length",
    "truncate_time", "copy_json", "validate_event", "EVENT_TYPES", "Trie", "build_trie",
    "project", "drop_paths", "transform_paths", "integrations_allow", "RE2_OPTIONS",
]


class _Missing:
    __slots__ = ()

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()
#: An empty, read-only mapping: what a missing or non-object container reads as.
EMPTY: Mapping[str, Any] = MappingProxyType({})

EVENT_TYPES = frozenset({"track", "identify", "page", "screen", "group", "alias"})

# ------------------------------------------------------------------ value semantics


def typeof(v: Any) -> str:
    """The language's type name of a value.

    >>> [typeof(x) for x in (None, True, 1, 1.5, "a", [1], {"a": 1})]
    ['null', 'bool', 'number', 'number', 'string', 'list', 'object']
    """
    c = v.__class__
    if v is None:
        return "null"
    if c is bool:
        return "bool"
    if c is int or c is float:
        return "number"
    if c is str:
        return "string"
    if c is list or c is tuple:
        return "list"
    if c is dict or isinstance(v, Mapping):
        return "object"
    return "unknown"


def eq(a: Any, b: Any) -> bool:
    """``a = b``: same type and equal; numbers compare numerically; lists and objects deeply."""
    ta, tb = typeof(a), typeof(b)
    if ta != tb:
        return False
    if ta == "number" or ta == "string":
        return bool(a == b)
    if ta == "bool":
        return a is b
    if ta == "null":
        return True
    if ta == "list":
        return len(a) == len(b) and all(eq(x, y) for x, y in zip(a, b))
    if ta == "object":
        return a.keys() == b.keys() and all(eq(a[k], b[k]) for k in a)
    return False


_ORDER = {
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}


def compare(op: str, a: Any, b: Any) -> bool:
    """``a < b`` and friends: two numbers, or two strings (code point order); else false."""
    if op == "=":
        return eq(a, b)
    if op == "!=":
        return not eq(a, b)
    ta, tb = typeof(a), typeof(b)
    if ta != tb or ta not in ("number", "string"):
        return False
    return bool(_ORDER[op](a, b))


def in_list(a: Any, b: Any) -> bool:
    """``a in b``: b is a list holding an element equal to a; false for anything else."""
    if typeof(b) != "list":
        return False
    return any(eq(a, x) for x in b)


def get_path(value: Any, segments: Iterable[Any]) -> Any:
    """Read a path; anything missing along the way reads as null (None)."""
    for seg in segments:
        c = value.__class__
        if seg.__class__ is int:
            if c is list and -len(value) <= seg < len(value):
                value = value[seg]
            else:
                return None
        elif c is dict:
            value = value.get(seg)
        else:
            return None
    return value


# ------------------------------------------------------------------ patterns

RE2_OPTIONS = re2.Options()
RE2_OPTIONS.max_mem = 8 << 20  # bound memory per compiled pattern (8 MiB)
RE2_OPTIONS.log_errors = False  # errors are reported as diagnostics, not on stderr


def _class_char(c: str) -> str:
    return "\\x{%x}" % ord(c)


def glob_to_regex(pattern: str) -> str:
    r"""Segment's glob as an RE2 pattern, with Go's rules (Segment's glob is Go's).

    ``*`` any run of characters (``/`` included), ``?`` one character, ``[a-z]`` and
    ``[^a-z]`` classes, ``\x`` a literal ``x``.  Inside a class an unescaped ``-`` or
    ``]`` where a character is expected makes the pattern invalid (ValueError).

    >>> glob_to_regex("ab[^c]*?")
    '(?s:ab[^\\x{63}].*.)'
    """
    out: list[str] = []
    i = 0
    n = len(pattern)

    def char_at(j: int) -> tuple[str, int]:
        if j >= n:
            raise ValueError("unclosed '[' in pattern")
        c = pattern[j]
        if c in "-]":
            raise ValueError(f"'{c}' must be escaped inside [...]")
        if c == "\\":
            if j + 1 >= n:
                raise ValueError("pattern ends with a lone backslash")
            return pattern[j + 1], j + 2
        return c, j + 1

    while i < n:
        c = pattern[i]
        if c == "*":
            out.append(".*")
            i += 1
        elif c == "?":
            out.append(".")
            i += 1
        elif c == "\\":
            if i + 1 >= n:
                raise ValueError("pattern ends with a lone backslash")
            out.append(re.escape(pattern[i + 1]))
            i += 2
        elif c == "[":
            j = i + 1
            negate = j < n and pattern[j] == "^"
            if negate:
                j += 1
            parts: list[str] = []
            count = 0
            while True:
                if j < n and pattern[j] == "]" and count > 0:
                    j += 1
                    break
                lo, j = char_at(j)
                hi = lo
                if j < n and pattern[j] == "-":
                    hi, j = char_at(j + 1)
                if lo <= hi:  # an inverted range matches nothing (as in Go)
                    parts.append(_class_char(lo) if lo == hi else f"{_class_char(lo)}-{_class_char(hi)}")
                count += 1
            if parts:
                out.append("[" + ("^" if negate else "") + "".join(parts) + "]")
            else:
                out.append("[\\x{0}-\\x{10ffff}]" if negate else "[^\\x{0}-\\x{10ffff}]")
            i = j
        else:
            out.append(re.escape(c))
            i += 1
    return "(?s:" + "".join(out) + ")"


def compile_glob(pattern: str) -> Callable[[Any], bool]:
    """A matcher for one glob: whole string, case-sensitive; non-strings never match.

    Common shapes become plain string tests; everything else runs on RE2 (linear time).

    >>> m = compile_glob("Product *"); m("Product Viewed"), m("product viewed"), m(None)
    (True, False, False)
    """
    special = set("*?[\\")
    if not (set(pattern) & special):
        return lambda v: v.__class__ is str and v == pattern
    body = pattern[:-1]
    if pattern.endswith("*") and not (set(body) & special):
        return lambda v: v.__class__ is str and v.startswith(body)
    tail = pattern[1:]
    if pattern.startswith("*") and not (set(tail) & special):
        return lambda v: v.__class__ is str and v.endswith(tail)
    rx = re2.compile(glob_to_regex(pattern), RE2_OPTIONS)
    return lambda v: v.__class__ is str and rx.fullmatch(v) is not None


def compile_regex(pattern: str) -> Any:
    """An RE2 regex (searches anywhere unless anchored).  Raises re2.error if invalid."""
    return re2.compile(pattern, RE2_OPTIONS)


# ------------------------------------------------------------------ functions


def _lower(v: Any) -> Any:
    return v.lower() if v.__class__ is str else None


def _upper(v: Any) -> Any:
    return v.upper() if v.__class__ is str else None


def _trim(v: Any) -> Any:
    return v.strip() if v.__class__ is str else None


def _length(v: Any) -> Any:
    """Strings count UTF-8 bytes (as Segment's FQL does); lists count elements; null is 0."""
    c = v.__class__
    if c is str:
        return len(v.encode("utf-8", "surrogatepass"))
    if c is list or c is tuple:  # a list literal is a tuple
        return len(v)
    if v is None:
        return 0
    return None


def _contains(v: Any, sub: Any) -> bool:
    c = v.__class__
    if c is str:
        return sub.__class__ is str and sub in v
    if c is list or c is tuple:  # a list literal is a tuple
        return any(eq(x, sub) for x in v)
    return False


def _starts_with(v: Any, p: Any) -> bool:
    return v.__class__ is str and p.__class__ is str and v.startswith(p)


def _ends_with(v: Any, p: Any) -> bool:
    return v.__class__ is str and p.__class__ is str and v.endswith(p)


def _snakecase(v: Any) -> Any:
    return "_".join(v.lower().split(" ")) if v.__class__ is str else None


def _kebabcase(v: Any) -> Any:
    return "-".join(v.lower().split(" ")) if v.__class__ is str else None


def _titlecase(v: Any) -> Any:
    if v.__class__ is not str:
        return None
    return " ".join(w[:1].upper() + w[1:].lower() for w in v.split(" "))


def _to_string(v: Any) -> Any:
    c = v.__class__
    if c is str:
        return v
    if c is bool:
        return "true" if v else "false"
    if c is int:
        return str(v)
    if c is float:
        return json.dumps(v)
    return None


_NUMBER_RE = re.compile(r"-?(?:0|[1-9]\d*)(\.\d+)?([eE][-+]?\d+)?")


def _to_number(v: Any) -> Any:
    c = v.__class__
    if c is int or c is float:
        return v
    if c is str and len(v) <= 100 and _NUMBER_RE.fullmatch(v):
        if "." in v or "e" in v or "E" in v:
            f = float(v)
            return f if f not in (float("inf"), float("-inf")) else None
        return int(v)
    return None


def _to_bool(v: Any) -> Any:
    if v is True or v is False:
        return v
    if v == "true":
        return True
    if v == "false":
        return False
    return None


def _match(v: Any, pattern: Any) -> bool:
    if pattern.__class__ is not str:
        return False
    try:
        return compile_glob(pattern)(v)
    except (ValueError, re2.error):
        return False


#: name -> (callable, min args, max args, result type).  Aliases from Segment's FQL included.
FUNCTIONS: dict[str, tuple[Callable[..., Any], int, int, str]] = {
    "lower": (_lower, 1, 1, "string"),
    "lowercase": (_lower, 1, 1, "string"),
    "upper": (_upper, 1, 1, "string"),
    "uppercase": (_upper, 1, 1, "string"),
    "trim": (_trim, 1, 1, "string"),
    "length": (_length, 1, 1, "number"),
    "contains": (_contains, 2, 2, "bool"),
    "starts_with": (_starts_with, 2, 2, "bool"),
    "ends_with": (_ends_with, 2, 2, "bool"),
    "typeof": (typeof, 1, 1, "string"),
    "match": (_match, 2, 2, "bool"),
    "snakecase": (_snakecase, 1, 1, "string"),
    "kebabcase": (_kebabcase, 1, 1, "string"),
    "titlecase": (_titlecase, 1, 1, "string"),
    "string": (_to_string, 1, 1, "string"),
    "number": (_to_number, 1, 1, "number"),
    "bool": (_to_bool, 1, 1, "bool"),
}

# ------------------------------------------------------------------ sampling


def sample_threshold(percent: float) -> int:
    """The bucket bound for ``sample N%``: a bucket below it is kept.

    >>> sample_threshold(100) == 2**64, sample_threshold(0)
    (True, 0)
    """
    p = Fraction(str(percent))
    return int(p * (1 << 64) / 100)


def _canonical(v: Any) -> str:
    if v.__class__ is float and v.is_integer():
        v = int(v)
    return json.dumps(v, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def sample_bucket(value: Any) -> int:
    """A stable 64-bit bucket for a sampling key: SHA-256 of its canonical JSON.

    The same value lands in the same bucket in every process and on every machine, so
    ``sample 10% by userId`` keeps a subset of what ``sample 20% by userId`` keeps.
    """
    data = _canonical(value).encode("utf-8", "surrogatepass")
    return int.from_bytes(hashlib.sha256(data).digest()[:8], "big")


# ------------------------------------------------------------------ field transforms

_EMAIL_RE = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def normalize_for_hash(v: Any) -> str:
    """The text that gets hashed: strings trimmed, e-mail addresses also lower-cased.

    >>> normalize_for_hash("  Jane.Doe@Example.COM ")
    'jane.doe@example.com'
    """
    if v.__class__ is str:
        t = v.strip()
        return t.lower() if _EMAIL_RE.fullmatch(t) else t
    if v is True or v is False:
        return "true" if v else "false"
    return _canonical(v)


def hash_value(v: Any, salt: str = "") -> Any:
    """SHA-256 (hex) of the normalised value; containers hash leaf by leaf; null stays null."""
    c = v.__class__
    if v is None:
        return None
    if c is dict:
        return {k: hash_value(x, salt) for k, x in v.items()}
    if c is list:
        return [hash_value(x, salt) for x in v]
    text = salt + normalize_for_hash(v)
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def redact_value(v: Any, marker: str = "[REDACTED]") -> Any:
    """The marker in place of any value but null."""
    return None if v is None else marker


#: (text, v4 bits, v6 bits) -> what truncate_ip makes of it: a process-wide memo, cleared
#: when full (keys are strings of at most 64 characters: at most a few MB)
TRUNCATED_IPS: dict[tuple[str, int, int], str | None] = {}
MAX_TRUNCATED_IPS = 4096


def truncate_ip(v: Any, v4: int = 24, v6: int = 48) -> Any:
    """Zero the host part of an IP address; anything that is not an IP becomes null.

    >>> truncate_ip("203.0.113.77"), truncate_ip("2001:db8:1234:5678::1")
    ('203.0.113.0', '2001:db8:1234::')
    """
    c = v.__class__
    if c is list:
        return [truncate_ip(x, v4, v6) for x in v]
    if c is dict:
        return {k: truncate_ip(x, v4, v6) for k, x in v.items()}
    if v is None:
        return None
    if c is not str or len(v) > 64:
        return None
    # the same addresses come back event after event (a visitor's session): parsing one
    # with ipaddress costs microseconds, a repeat costs a lookup
    key = (v, v4, v6)
    out = TRUNCATED_IPS.get(key, MISSING)
    if out is MISSING:
        out = truncate_ip_text(v, v4, v6)
        if len(TRUNCATED_IPS) >= MAX_TRUNCATED_IPS:
            TRUNCATED_IPS.clear()
        TRUNCATED_IPS[key] = out
    return out


def truncate_ip_text(v: str, v4: int, v6: int) -> str | None:
    """:func:`truncate_ip` of one string, computed (no memo)."""
    try:
        addr = ipaddress.ip_address(v.strip())
    except ValueError:
        return None
    bits = v4 if addr.version == 4 else v6
    net = ipaddress.ip_network(f"{addr}/{bits}", strict=False)
    return str(net.network_address)


def truncate_length(v: Any, length: int) -> Any:
    """Strings cut to ``length`` characters; other values unchanged."""
    c = v.__class__
    if c is str:
        return v[:length]
    if c is list:
        return [truncate_length(x, length) for x in v]
    if c is dict:
        return {k: truncate_length(x, length) for k, x in v.items()}
    return v


_TIME_UNITS = ("year", "month", "day", "hour", "minute")


def truncate_time(v: Any, unit: str = "day") -> Any:
    """An ISO-8601 timestamp cut to the unit, in UTC; anything unparseable becomes null.

    >>> truncate_time("2026-11-28T18:41:55.764+01:00")
    '2026-11-28T00:00:00.000Z'
    """
    c = v.__class__
    if c is list:
        return [truncate_time(x, unit) for x in v]
    if c is dict:
        return {k: truncate_time(x, unit) for k, x in v.items()}
    if v is None:
        return None
    if c is not str or len(v) > 64:
        return None
    try:
        t = datetime.fromisoformat(v.strip())
    except ValueError:
        return None
    if t.tzinfo is None:
        t = t.replace(tzinfo=timezone.utc)
    t = t.astimezone(timezone.utc)
    if unit == "year":
        t = t.replace(month=1, day=1, hour=0, minute=0, second=0, microsecond=0)
    elif unit == "month":
        t = t.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    elif unit == "day":
        t = t.replace(hour=0, minute=0, second=0, microsecond=0)
    elif unit == "hour":
        t = t.replace(minute=0, second=0, microsecond=0)
    else:
        t = t.replace(second=0, microsecond=0)
    return t.strftime("%Y-%m-%dT%H:%M:%S.000Z")


# ------------------------------------------------------------------ events


#: the immutable JSON classes: a copy shares them
JSON_SCALARS = frozenset({str, int, float, bool, type(None)})


def copy_json(v: Any) -> Any:
    """A deep copy of JSON data (dicts, lists, scalars), far cheaper than copy.deepcopy.

    Scalars are shared, tested inline (no call per leaf: most of an event is leaves).

    >>> e = {"a": [1, {"b": None}], "c": "x"}
    >>> c = copy_json(e)
    >>> c == e, c["a"] is e["a"], c["a"][1] is e["a"][1]
    (True, False, False)
    """
    c = v.__class__
    if c is dict:
        return {k: x if x.__class__ in JSON_SCALARS else copy_json(x) for k, x in v.items()}
    if c is list or c is tuple:
        return [x if x.__class__ in JSON_SCALARS else copy_json(x) for x in v]
    if c in JSON_SCALARS:
        return v
    raise EventError(f"event holds a value of type {c.__name__}, which is not JSON")


_STR = (str,)
_STR_NULL = (str, type(None))
_ID = (str, int, type(None))
_OBJ = (dict, type(None))

#: Envelope fields of the Segment spec and the JSON types each may hold.
ENVELOPE: dict[str, tuple[type, ...]] = {
    "type": _STR, "event": _STR_NULL, "name": _STR_NULL, "category": _STR_NULL, "messageId": _ID,
    "userId": _ID, "anonymousId": _ID, "groupId": _ID, "previousId": _ID,
    "timestamp": _STR_NULL, "sentAt": _STR_NULL, "receivedAt": _STR_NULL, "originalTimestamp": _STR_NULL,
    "properties": _OBJ, "traits": _OBJ, "context": _OBJ, "integrations": _OBJ,
}

_JSON_NAMES = {str: "a string", int: "an integer", type(None): "null", dict: "an object"}

#: the classes parsed JSON holds
JSON_TYPES = frozenset({dict, list, str, int, float, bool, type(None)})
#: JSON classes map to themselves, anything else to None (so it can be tested as a class)
JSON_CLASS = {c: c for c in JSON_TYPES}
#: every (envelope field, class) pair that is malformed, None standing for any non-JSON
#: class: an object passes the envelope check exactly when none of its
#: (key, JSON_CLASS.get(type(value))) pairs is in here
BAD_ENVELOPE = frozenset((k, c) for k, allowed in ENVELOPE.items() for c in (*JSON_TYPES, None) if c not in allowed)


class Specialisations(dict):  # type: ignore[type-arg]
    """One decision function's table: consent key -> the function specialised for that
    state (generated code fills it, bounded); ``name`` is the generic function's."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name

    def __repr__(self) -> str:
        return f"<Specialisations of {self.name}: {len(self)} keys>"


#: decision functions specialised for a consent state, per rule set: past this many, a new
#: (function, state) pair runs the generic function instead of compiling another
MAX_SPECIALISED = 2048
#: consent keys remembered per decision function (the table is cleared when full)
MAX_SPECIALISED_KEYS = 4096
#: a decision function testing more destinations than this (for one state) is not
#: specialised: compiling it would cost more than it saves
MAX_SPECIALISED_SIZE = 256

#: bound of each rule set's (type, name, shape) -> decision function table, the fast
#: path's memory of events that passed the envelope check (generated code)
MAX_DISPATCH = 8192
#: only shapes this small are remembered (the table holds the keys and the name): a
#: stream of wide events, or of huge keys or names, is checked each time instead of
#: filling memory with them
MAX_SHAPE_KEYS = 64
MAX_SHAPE_CHARS = 1024


def small_shape(e: dict[Any, Any], name: Any = None) -> bool:
    """Whether the shape of ``e`` (and its name) is small enough to remember: at most
    :data:`MAX_SHAPE_KEYS` keys, all strings, and :data:`MAX_SHAPE_CHARS` characters of
    keys and name together.

    >>> small_shape({"type": "track", "event": "A"}, "A"), small_shape({"k" * 2000: 1})
    (True, False)
    """
    if len(e) > MAX_SHAPE_KEYS:
        return False
    n = len(name) if name.__class__ is str else 0
    for k in e:
        if k.__class__ is not str:
            return False
        n += len(k)
    return n <= MAX_SHAPE_CHARS


def envelope_ok(e: dict[str, Any]) -> bool:
    """Does every envelope field of ``e`` hold a value of its JSON type?  (One pass in C;
    :func:`validate_event` says what is wrong.)

    >>> envelope_ok({"type": "page", "userId": 7}), envelope_ok({"type": "page", "userId": [7]})
    (True, False)
    """
    return BAD_ENVELOPE.isdisjoint(zip(e, map(JSON_CLASS.get, map(type, e.values()))))


def validate_event(e: Any) -> None:
    """Raise EventError unless ``e`` is an object with a well-typed Segment envelope.

    Messages name the field and the types, never the value (values may be personal data).
    """
    if e.__class__ is not dict:
        raise EventError(f"event must be a JSON object, got {typeof(e) if typeof(e) != 'unknown' else type(e).__name__}")
    t = e.get("type")
    if t.__class__ is not str:
        if t is None:
            raise EventError("event has no 'type'", path="type")
        raise EventError(f"'type' must be a string, got {typeof(t)}", path="type")
    if t not in EVENT_TYPES:
        raise EventError("'type' must be one of track, identify, page, screen, group, alias", path="type")
    for k, v in e.items():
        allowed = ENVELOPE.get(k)
        if allowed is not None and v.__class__ not in allowed:
            want = " or ".join(_JSON_NAMES[a] for a in allowed)
            raise EventError(f"'{k}' must be {want}, got {typeof(v)}", path=k)
    if t == "track" and e.get("event").__class__ is not str:
        raise EventError("a track event needs an 'event' name (a string)", path="event")


def integrations_allow(integrations: Any, names: tuple[str, ...]) -> bool:
    """Segment's integrations object: a named switch wins, else ``All`` (default true).

    >>> integrations_allow({"All": False, "Amplitude": True}, ("amplitude", "Amplitude"))
    True
    >>> integrations_allow({"Google Ads": False}, ("google_ads", "Google Ads"))
    False
    """
    if not integrations:
        return True
    for name in names:
        if name in integrations:
            return integrations[name] is not False
    return integrations.get("All") is not False


# ------------------------------------------------------------------ path tries


class Trie:
    """Path patterns merged into a tree: ``whole`` keeps everything below this node."""

    __slots__ = ("children", "wild", "whole", "_merged")

    def __init__(self) -> None:
        self.children: dict[str, Trie] = {}
        self.wild: Trie | None = None
        self.whole = False
        self._merged: dict[str, Trie] = {}

    def child(self, key: str) -> "Trie | None":
        """The node for key ``key`` (its own subtree merged with the ``*`` subtree)."""
        exact = self.children.get(key)
        if self.wild is None:
            return exact
        if exact is None:
            return self.wild
        merged = self._merged.get(key)
        if merged is None:
            merged = _merge(exact, self.wild)
            self._merged[key] = merged
        return merged


def _merge(a: Trie, b: Trie) -> Trie:
    t = Trie()
    t.whole = a.whole or b.whole
    for k in set(a.children) | set(b.children):
        x, y = a.children.get(k), b.children.get(k)
        t.children[k] = _merge(x, y) if x and y else (x or y)  # type: ignore[assignment]
    if a.wild and b.wild:
        t.wild = _merge(a.wild, b.wild)
    else:
        t.wild = a.wild or b.wild
    return t


def build_trie(patterns: Iterable[tuple[Any, ...]]) -> Trie:
    root = Trie()
    for segs in patterns:
        node = root
        for seg in segs:
            if seg.__class__ is str:
                nxt = node.children.get(seg)
                if nxt is None:
                    nxt = node.children[seg] = Trie()
            else:  # wildcard
                if node.wild is None:
                    node.wild = Trie()
                nxt = node.wild
            node = nxt
        node.whole = True
    return root


def project(v: Any, node: Trie) -> Any:
    """Copy only what the trie keeps; lists are projected element by element.

    A kept object lists its keys in the order the rules keep them (a ``*`` adds the
    remaining keys in the event's order): the same order generated projections use.
    """
    if node.whole:
        return copy_json(v)
    c = v.__class__
    if c is dict:
        out = {}
        for k, sub in node.children.items():
            if k in v:
                if node.wild is not None:
                    sub = node.child(k)  # type: ignore[assignment]
                r = project(v[k], sub)
                if r is not MISSING:
                    out[k] = r
        if node.wild is not None:
            for k, x in v.items():
                if k not in node.children:
                    r = project(x, node.wild)
                    if r is not MISSING:
                        out[k] = r
        return out
    if c is list:
        out_l = []
        for x in v:
            r = project(x, node)
            if r is not MISSING:
                out_l.append(r)
        return out_l
    return MISSING


def drop_paths(v: Any, node: Trie) -> None:
    """Remove, in place, everything the trie matches (per element across lists)."""
    c = v.__class__
    if c is dict:
        if node.wild is None:  # only the trie's own keys can match: visit those, not every key
            for k, sub in node.children.items():
                if k in v:
                    if sub.whole:
                        del v[k]
                    else:
                        drop_paths(v[k], sub)
            return
        for k in [k for k in v if node.child(k) is not None]:
            sub = node.child(k)
            assert sub is not None
            if sub.whole:
                del v[k]
            else:
                drop_paths(v[k], sub)
    elif c is list:
        for x in v:
            drop_paths(x, node)


def transform_paths(v: Any, node: Trie, fn: Callable[[Any], Any]) -> None:
    """Replace, in place, every value the trie matches with ``fn(value)``."""
    c = v.__class__
    if c is dict:
        if node.wild is None:  # only the trie's own keys can match: visit those, not every key
            for k, sub in node.children.items():
                if k in v:
                    if sub.whole:
                        v[k] = fn(v[k])
                    else:
                        transform_paths(v[k], sub, fn)
            return
        for k in list(v):
            sub = node.child(k)
            if sub is None:
                continue
            if sub.whole:
                v[k] = fn(v[k])
            else:
                transform_paths(v[k], sub, fn)
    elif c is list:
        for x in v:
            transform_paths(x, node, fn)
