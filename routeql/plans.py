"""Tracking plans: the checked plan model and the reference validator.

A plan says what events mean and what shape they must have (Segment Protocols'
job).  :func:`validate` is the reference semantics; the compiled engine runs
validators generated from the same model (:mod:`routeql.plangen`) and must agree.

>>> from routeql import loads
>>> rules = loads('''
... plan { track "Signed Up" { required plan: string in ["free", "pro"] } }
... destination d { }''')
>>> [v.type for v in rules.validate({"type": "track", "event": "Signed Up", "properties": {"plan": "gold"}}).violations]
['enum']
"""

from __future__ import annotations

import functools
import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable, Iterator
from urllib.parse import urlsplit

from .model import Origin
from .runtime import MISSING, eq

__all__ = [
    "Violation", "TypeRule", "FieldRule", "EntryModel", "PlanModel", "PlanResult", "FORMATS", "MODES",
    "ENTRY_ROOTS", "validate", "check_format", "type_matches", "find_entry", "label_of", "unplanned_event",
    "unplanned_property", "iter_fields", "CLEAN", "make_violation", "json_type", "plan_modes", "blocks",
    "apply_plan",
]

#: The modes each plan setting accepts, and the default.
MODES: dict[str, tuple[tuple[str, ...], str]] = {
    "events": (("allow", "block", "flag"), "allow"),
    "properties": (("allow", "omit", "flag"), "allow"),
    "violations": (("block", "omit", "flag"), "flag"),
}

#: Where an entry's fields are read from, per kind of entry.
ENTRY_ROOTS: dict[str, tuple[str, ...]] = {
    "common": (), "track": ("properties",), "page": ("properties",), "screen": ("properties",),
    "identify": ("traits",), "group": ("traits",),
}


@dataclass(frozen=True, slots=True)
class Violation:
    """One way an event breaks its tracking plan.  Never holds the offending value."""

    type: str  # required | type | enum | range | length | pattern | format | unplanned_event | unplanned_property
    field: str  # e.g. "properties.products[1].price" ("" for an unplanned event)
    description: str
    plan: str
    at: str = ""  # file:line:col of the plan statement that was broken
    #: the field as path segments (keys and list indexes), to omit it from payloads
    segments: tuple[Any, ...] = ()

    def to_dict(self) -> dict[str, str]:
        return {"type": self.type, "field": self.field, "description": self.description, "plan": self.plan, "at": self.at}


@dataclass(frozen=True, slots=True)
class TypeRule:
    name: str
    fields: tuple["FieldRule", ...] | None = None
    items: "TypeRule | None" = None
    description: str | None = None


@dataclass(frozen=True, slots=True)
class FieldRule:
    """A checked field specification; ``path`` is relative to its entry's root."""

    path: tuple[str, ...]
    required: bool
    types: tuple[TypeRule, ...]
    origin: Origin
    enum: tuple[Any, ...] | None = None
    ranges: tuple[tuple[str, Any], ...] = ()
    lengths: tuple[tuple[str, int], ...] = ()
    pattern: str | None = None
    format: str | None = None
    description: str | None = None

    @property
    def type_names(self) -> frozenset[str]:
        return frozenset(t.name for t in self.types)


@dataclass(frozen=True, slots=True)
class EntryModel:
    kind: str
    name: str | None
    fields: tuple[FieldRule, ...]
    origin: Origin
    description: str | None = None

    @property
    def root(self) -> tuple[str, ...]:
        return ENTRY_ROOTS[self.kind]

    @property
    def label(self) -> str:
        return f'{self.kind} "{self.name}"' if self.name is not None else self.kind


@dataclass(frozen=True)
class PlanModel:
    name: str
    when: Any
    origin: Origin
    events: str = "allow"
    properties: str = "allow"
    violations: str = "flag"
    common: EntryModel | None = None
    entries: tuple[EntryModel, ...] = ()
    #: (kind, name) -> entry, for lookups
    index: dict[tuple[str, str | None], EntryModel] = field(default_factory=dict)

    def mode(self, target: str) -> str:
        return str(getattr(self, target))


@dataclass(frozen=True, slots=True)
class PlanResult:
    """What the plan says of one event (shared by every destination)."""

    plan: str | None  # None: no plan applies
    planned: bool = True
    entry: str | None = None  # e.g. 'track "Order Completed"'
    #: schema violations (required, type, enum, ...)
    violations: tuple[Violation, ...] = ()
    #: properties (or traits) the entry does not define, as path segments
    unplanned: tuple[tuple[Any, ...], ...] = ()
    #: planned, with no violation and nothing unplanned: computed once, because routing
    #: tests it for the event and again for each delivery (a property would be a call each)
    clean: bool = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "clean", self.planned and not self.violations and not self.unplanned)

    def offending(self) -> tuple[tuple[Any, ...], ...]:
        """The fields to omit for ``violations omit``: each violating field, once."""
        return tuple(dict.fromkeys(v.segments for v in self.violations if v.segments))

    def to_dict(self) -> dict[str, Any]:
        return {"plan": self.plan, "planned": self.planned, "entry": self.entry,
                "violations": [v.to_dict() for v in self.violations],
                "unplanned": [label_of(p) for p in self.unplanned]}


CLEAN = PlanResult(None)

# ------------------------------------------------------------------ formats

_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]+")
# (ASCII digits, as RFC 3339 and datetime.fromisoformat take them: [0-9] matches faster
# than \d, which takes every Unicode digit; no group captures)
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_DATE_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]+)?)?(?:[Zz]|[+-][0-9]{2}:?[0-9]{2})?")
_HOSTNAME = re.compile(r"(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*")

#: ISO 4217 active currency codes (and the precious-metal and SDR codes payment systems use).
CURRENCIES = frozenset("""
AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN BWP BYN BZD CAD
CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GNF GTQ
GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR
LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN
PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB
TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD UYU UZS VED VES VND VUV WST XAF XCD XCG XOF XPF YER ZAR ZMW
ZWG XAU XAG XPT XPD XDR
""".split())


def _is_date_time(s: str) -> bool:
    if not _DATE_TIME.fullmatch(s):
        return False
    try:
        datetime.fromisoformat(s.replace("z", "Z") if "z" in s else s)
    except ValueError:
        return False
    return True


def _is_date(s: str) -> bool:
    if not _DATE.fullmatch(s):
        return False
    try:
        datetime.fromisoformat(s)
    except ValueError:
        return False
    return True


_SPACE = re.compile(r"\s")  # the characters str.isspace() holds to be whitespace
#: the common case, decided without urlsplit: an ASCII scheme://host[:port][/path...] with no
#: space, bracket or backslash (everything it accepts, the general check below accepts too)
_PLAIN_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://[A-Za-z0-9.\-]+(?::[0-9]+)?(?:/[!-Z^-~]*)?")


def _is_uri(s: str) -> bool:
    """An absolute URI: a scheme, then an authority or a path; no whitespace.

    >>> _is_uri("https://shop.example/p/1?x=2#top"), _is_uri("mailto:a@b.c"), _is_uri("http://"), _is_uri("/p/1")
    (True, True, False, False)
    """
    if len(s) > 8192:
        return False
    if _PLAIN_URI.fullmatch(s):
        return True
    if _SPACE.search(s):
        return False
    try:
        parts = urlsplit(s)
    except ValueError:
        return False
    return bool(parts.scheme) and parts.scheme[0].isalpha() and bool(parts.netloc or parts.path)


def _is_uuid(s: str) -> bool:
    try:
        uuid.UUID(s)
    except ValueError:
        return False
    return len(s) == 36


def _is_ip(s: str, version: int) -> bool:
    import ipaddress

    try:
        return ipaddress.ip_address(s).version == version
    except ValueError:
        return False


#: format name -> check (strings only; JSON Schema's hyphenated names are written with _)
FORMATS: dict[str, Any] = {
    "email": lambda s: len(s) <= 320 and _EMAIL.fullmatch(s) is not None,
    "date_time": _is_date_time,
    "date": _is_date,
    "uri": _is_uri,
    "uuid": _is_uuid,
    "currency": lambda s: s in CURRENCIES,
    "ipv4": lambda s: _is_ip(s, 4),
    "ipv6": lambda s: _is_ip(s, 6),
    "hostname": lambda s: _HOSTNAME.fullmatch(s) is not None,
}


def check_format(name: str, value: str) -> bool:
    return bool(FORMATS[name](value))


#: strings known to be valid, per format, for the compiled validators.  Traffic repeats
#: its URLs and e-mail addresses far more than it invents them, and a regular expression
#: costs ten times a set lookup (``currency`` is a set lookup already: not remembered).  Only valid strings of at most
#: ``MEMO_MAX_CHARS`` are remembered (an invalid one is rare, and checked each time), and
#: each set is emptied when it reaches ``MEMO_SIZE``: bounded whatever the traffic.
VALID: dict[str, set[str]] = {name: set() for name in FORMATS if name != "currency"}
MEMO_SIZE = 8192
MEMO_MAX_CHARS = 512


@functools.lru_cache(maxsize=None)
def remembering(name: str) -> Callable[[str], bool]:
    """The check of format ``name``, adding what passes to ``VALID[name]`` (generated code
    tests ``s in VALID[name]`` first and calls this only on a miss)."""
    check, memo = FORMATS[name], VALID[name]

    def run(s: str) -> bool:
        if not check(s):
            return False
        if len(s) <= MEMO_MAX_CHARS:
            if len(memo) >= MEMO_SIZE:
                memo.clear()
            memo.add(s)
        return True

    return run


# ------------------------------------------------------------------ the reference validator


def type_matches(t: TypeRule, v: Any) -> bool:
    """Does ``v`` have type ``t``?  (integer: a number with no fraction, as JSON Schema says)"""
    name = t.name
    c = v.__class__
    if name == "any":
        return True
    if name == "string":
        return c is str
    if name == "number":
        return c is int or c is float
    if name == "integer":
        return c is int or (c is float and v.is_integer())
    if name == "boolean":
        return c is bool
    if name == "null":
        return v is None
    if name == "object":
        return c is dict
    return c is list


def make_violation(kind: str, segs: tuple[Any, ...], rule: FieldRule, plan: str, detail: Any = None) -> Violation:
    """The one place violation messages are written (both engines call it)."""
    label = label_of(segs)
    if kind == "required":
        text = f"{label} is required"
    elif kind == "type":
        text = f"{label} must be {' or '.join(t.name for t in rule.types)}, got {detail}"
    elif kind == "enum":
        text = f"{label} is not one of the allowed values"
    elif kind == "range":
        text = f"{label} must be {detail[0]} {detail[1]}"
    elif kind == "length":
        text = f"{label} length must be {detail[0]} {detail[1]}"
    elif kind == "pattern":
        text = f"{label} does not match the pattern"
    else:
        text = f"{label} is not a valid {rule.format}"
    return Violation(kind, label, text, plan, rule.origin.at, segs)


def json_type(v: Any) -> str:
    """The JSON type name of a value, for messages."""
    c = v.__class__
    if v is None:
        return "null"
    if c is bool:
        return "boolean"
    if c is int or c is float:
        return "number"
    if c is str:
        return "string"
    if c is list:
        return "array"
    if c is dict:
        return "object"
    return c.__name__


_OPS = {">=": lambda a, b: a >= b, ">": lambda a, b: a > b, "<=": lambda a, b: a <= b, "<": lambda a, b: a < b}


def _path_text(prefix: str, key: str) -> str:
    return f"{prefix}.{key}" if prefix else key


def label_of(segments: tuple[Any, ...]) -> str:
    """``("properties", "products", 1, "price")`` -> ``properties.products[1].price``"""
    out = ""
    for s in segments:
        out += f"[{s}]" if s.__class__ is int else (f".{s}" if out else str(s))
    return out


def _walk(v: Any, path: tuple[str, ...]) -> Any:
    for k in path:
        if v.__class__ is not dict or k not in v:
            return MISSING
        v = v[k]
    return v


def _check_object(obj: Any, fields: tuple[FieldRule, ...], prefix: tuple[Any, ...], plan: str,
                  out: list[Violation], unplanned: list[tuple[Any, ...]] | None) -> None:
    for f in fields:
        segs = prefix + f.path
        value = _walk(obj, f.path)
        if value is MISSING:
            if f.required:
                out.append(make_violation("required", segs, f, plan))
            continue
        _check_value(value, f, segs, plan, out)
    if unplanned is not None and obj.__class__ is dict:
        declared = {f.path[0] for f in fields}
        unplanned.extend(prefix + (k,) for k in obj if k not in declared)


def _check_value(value: Any, f: FieldRule, segs: tuple[Any, ...], plan: str, out: list[Violation]) -> None:
    matching = [t for t in f.types if type_matches(t, value)]
    if not matching:
        out.append(make_violation("type", segs, f, plan, json_type(value)))
        return
    if f.enum is not None and not any(eq(value, e) for e in f.enum):
        out.append(make_violation("enum", segs, f, plan))
    c = value.__class__
    if c is int or c is float:
        for op, bound in f.ranges:
            if not _OPS[op](value, bound):
                out.append(make_violation("range", segs, f, plan, (op, bound)))
    if c is str or c is list:
        size = len(value)
        for op, bound in f.lengths:
            if not _OPS[op](size, bound):
                out.append(make_violation("length", segs, f, plan, (op, bound)))
    if c is str:
        if f.pattern is not None:
            from .runtime import compile_regex

            if compile_regex(f.pattern).search(value) is None:
                out.append(make_violation("pattern", segs, f, plan))
        if f.format is not None and not check_format(f.format, value):
            out.append(make_violation("format", segs, f, plan))
    # nested structure: the first matching type decides (object fields, array items)
    t = matching[0]
    if t.name == "object" and t.fields is not None:
        _check_object(value, t.fields, segs, plan, out, None)
    elif t.name == "array" and t.items is not None:
        item_rule = FieldRule((), True, (t.items,), f.origin)
        for i, item in enumerate(value):
            _check_value(item, item_rule, segs + (i,), plan, out)


def find_entry(plan: PlanModel, event: dict[str, Any]) -> EntryModel | None | bool:
    """The entry for an event: an EntryModel, None (no entry: not validated), or False
    (an unplanned track event)."""
    t = event.get("type")
    if t == "track":
        return plan.index.get(("track", event.get("event")), False)
    if t in ("identify", "group"):
        return plan.index.get((t, None))
    if t in ("page", "screen"):
        return plan.index.get((t, event.get("name"))) or plan.index.get((t, None))
    return None


def validate(plan: PlanModel, event: dict[str, Any]) -> PlanResult:
    """The reference validation of one event against one plan."""
    entry = find_entry(plan, event)
    violations: list[Violation] = []
    unplanned: list[str] = []
    if plan.common is not None:
        _check_object(event, plan.common.fields, (), plan.name, violations, None)
    if entry is False:
        return PlanResult(plan.name, False, None, tuple(violations), ())
    if entry is None:
        return PlanResult(plan.name, True, None, tuple(violations), ())
    root: Any = event
    for k in entry.root:
        root = root.get(k) if root.__class__ is dict else None
    if root is None:
        root = {}
    # the envelope is validated first, so properties / traits are objects here
    _check_object(root, entry.fields, entry.root, plan.name, violations, unplanned)
    return PlanResult(plan.name, True, entry.label, tuple(violations), tuple(unplanned))


def unplanned_event(plan: str, at: str) -> Violation:
    return Violation("unplanned_event", "", f"this track event is not in the plan '{plan}'", plan, at)


def unplanned_property(plan: str, segments: tuple[Any, ...], at: str) -> Violation:
    label = label_of(segments)
    return Violation("unplanned_property", label, f"{label} is not in the plan", plan, at, segments)


def iter_fields(rules: tuple[FieldRule, ...], prefix: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], FieldRule]]:
    """Every field rule with its full path below the entry root (array items included)."""
    for f in rules:
        path = prefix + f.path
        yield path, f
        for t in f.types:
            inner = t
            while inner.name == "array" and inner.items is not None:
                inner = inner.items
            if inner.name == "object" and inner.fields is not None:
                yield from iter_fields(inner.fields, path)


# ------------------------------------------------------------------ per destination


def plan_modes(plan: PlanModel, dest: Any) -> tuple[str, str, str, str]:
    """(unplanned events, unplanned properties, violations, plan origin) for a destination."""
    return (dest.plan_mode("events", plan.events), dest.plan_mode("properties", plan.properties),
            dest.plan_mode("violations", plan.violations), plan.origin.at)


def blocks(result: PlanResult, modes: tuple[str, str, str, str]) -> Violation | None:
    """The reason a destination does not receive the event under its plan modes, if any."""
    events, _, violations, at = modes
    if not result.planned and events == "block":
        return unplanned_event(result.plan or "", at)
    if result.violations and violations == "block":
        return result.violations[0]
    return None


def apply_plan(payload: dict[str, Any], result: PlanResult, modes: tuple[str, str, str, str]) -> None:
    """Omit and flag, in place: ``violations omit`` / ``unplanned properties omit`` remove
    fields; ``flag`` records the violations under ``context.protocols.violations``."""
    events, properties, violations, at = modes
    omit: list[tuple[Any, ...]] = []
    if violations == "omit":
        omit.extend(result.offending())
    if properties == "omit":
        omit.extend(result.unplanned)
    flagged: list[Violation] = []
    if not result.planned and events == "flag":
        flagged.append(unplanned_event(result.plan or "", at))
    if violations == "flag":
        flagged.extend(result.violations)
    if properties == "flag":
        flagged.extend(unplanned_property(result.plan or "", p, at) for p in result.unplanned)
    omitted = [label_of(done) for done in (_delete_path(payload, p) for p in dict.fromkeys(omit)) if done]
    if not flagged and not omitted:
        return
    ctx = payload.get("context")
    if ctx.__class__ is not dict:
        ctx = payload["context"] = {}
    protocols: dict[str, Any] = {}
    if flagged:
        # no rule positions in customer payloads: they would change with the rules' paths
        protocols["violations"] = [{"type": v.type, "field": v.field, "description": v.description, "plan": v.plan}
                                   for v in flagged]
    if omitted:
        protocols["omitted"] = omitted
    ctx["protocols"] = protocols


def _delete_path(v: Any, segs: tuple[Any, ...]) -> tuple[Any, ...] | None:
    """Remove a field; a bad list element takes its whole list field with it (elements are
    never removed one by one: positions mean something).  Returns what was removed."""
    while segs and segs[-1].__class__ is int:
        segs = segs[:-1]
    if not segs:
        return None
    for s in segs[:-1]:
        if s.__class__ is int:
            if v.__class__ is not list or not -len(v) <= s < len(v):
                return None
        elif v.__class__ is not dict or s not in v:
            return None
        v = v[s]
    last = segs[-1]
    if v.__class__ is dict and last in v:
        del v[last]
        return segs
    return None
