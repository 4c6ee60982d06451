"""The AST: frozen, slotted dataclass nodes; source spans kept apart from meaning.

Every node carries a ``span`` that equality and hashing ignore, so two rules that mean
the same thing compare equal wherever they were written.  ``dump()`` turns a tree into
plain JSON-able data and ``load()`` rebuilds it:

>>> p = Path(("properties", "revenue"))
>>> c = Compare(">", p, Literal(100))
>>> load(dump(c)) == c
True
>>> str(p)
'properties.revenue'
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields
from typing import Any, Iterator, Union

from .errors import NOSPAN, Span

__all__ = [
    "Node", "Wild", "WILD", "Segment", "Path", "Literal", "ListRef", "Call", "Compare", "In",
    "Exists", "Match", "ConsentTest", "DefineRef", "Not", "And", "Or", "Truth", "Expr",
    "Source", "Category", "OptOut", "Regime", "Compat", "SignalAt", "ConsentBlock",
    "ClassDef", "Classify", "Define", "ListDefine", "Guard", "Requires", "RequiresVendor", "When", "Keep",
    "Drop", "Hash", "Redact", "Truncate", "Sample", "Salt", "DestRef", "Destination",
    "ForbidFields", "ForbidEvents", "RequireConsent", "Policy", "Module", "Comment",
    "TypeSpec", "FieldSpec", "PlanSetting", "PlanEntry", "Plan", "DestPlan",
    "walk", "dump", "load", "format_path", "IDENT",
]

#: A path segment that needs no backticks.
IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def _span() -> Any:
    return field(default=NOSPAN, compare=False, repr=False, kw_only=True)


@dataclass(frozen=True, slots=True)
class Node:
    """Base of every AST node."""

    span: Span = _span()

    def children(self) -> Iterator["Node"]:
        for f in fields(self):
            if f.name == "span":
                continue
            value = getattr(self, f.name)
            if isinstance(value, Node):
                yield value
            elif isinstance(value, tuple):
                for item in value:
                    if isinstance(item, Node):
                        yield item


# ------------------------------------------------------------------ paths and values


@dataclass(frozen=True, slots=True)
class Wild:
    """The ``*`` / ``[*]`` segment: any key of an object (a list is crossed element by element
    on its own, before the segment applies)."""

    def __repr__(self) -> str:
        return "WILD"


WILD = Wild()
Segment = Union[str, int, Wild]


def format_path(segments: tuple[Segment, ...]) -> str:
    """Render segments the way they are written in rules.

    >>> format_path(("properties", "product 1", 0, WILD))
    'properties.`product 1`[0].*'
    """
    out: list[str] = []
    for i, seg in enumerate(segments):
        if isinstance(seg, Wild):
            out.append(".*" if i else "*")
        elif isinstance(seg, int) and not isinstance(seg, bool):
            out.append(f"[{seg}]")
        else:
            if not isinstance(seg, str):  # a non-string key (possible in a Python dict, never in JSON)
                seg = repr(seg)
            text = seg if IDENT.match(seg) else "`" + seg.replace("\\", "\\\\").replace("`", "\\`") + "`"
            out.append(("." if i else "") + text)
    return "".join(out)


@dataclass(frozen=True, slots=True)
class Path(Node):
    """A field of the event: ``context.traits.email``, ``products[0].sku``, ``pii.*``."""

    segments: tuple[Segment, ...]

    def __str__(self) -> str:
        return format_path(self.segments)

    @property
    def has_wild(self) -> bool:
        return any(isinstance(s, Wild) for s in self.segments)

    @property
    def has_index(self) -> bool:
        return any(isinstance(s, int) for s in self.segments)


@dataclass(frozen=True, slots=True)
class Literal(Node):
    """A constant: None, bool, int, float, str, or a tuple of constants (a list)."""

    value: Any


@dataclass(frozen=True, slots=True)
class ListRef(Node):
    """A named value list: ``$EEA``."""

    name: str


@dataclass(frozen=True, slots=True)
class Call(Node):
    """A function call: ``lower(event)``."""

    name: str
    args: tuple["Expr", ...]


# ------------------------------------------------------------------ conditions


@dataclass(frozen=True, slots=True)
class Compare(Node):
    """``left OP right`` with OP one of ``= != < <= > >=``."""

    op: str
    left: "Expr"
    right: "Expr"


@dataclass(frozen=True, slots=True)
class In(Node):
    """``left in right`` (``not in`` when negated); right is a list or a path to one."""

    left: "Expr"
    right: "Expr"
    negated: bool = False


@dataclass(frozen=True, slots=True)
class Exists(Node):
    """``x exists`` (not null); ``x missing`` when negated."""

    operand: "Expr"
    negated: bool = False


@dataclass(frozen=True, slots=True)
class Match(Node):
    """``x matches "glob"`` or ``x matches regex "re"``."""

    subject: "Expr"
    pattern: "Expr"
    kind: str = "glob"  # "glob" | "regex"


@dataclass(frozen=True, slots=True)
class ConsentTest(Node):
    """``consent advertising``: the category is granted for this event."""

    category: str


@dataclass(frozen=True, slots=True)
class DefineRef(Node):
    """A named predicate from ``define``."""

    name: str


@dataclass(frozen=True, slots=True)
class Not(Node):
    operand: "Expr"


@dataclass(frozen=True, slots=True)
class And(Node):
    items: tuple["Expr", ...]


@dataclass(frozen=True, slots=True)
class Or(Node):
    items: tuple["Expr", ...]


@dataclass(frozen=True, slots=True)
class Truth(Node):
    """A bare value where a condition was expected (checked: only booleans and calls)."""

    value: "Expr"


Expr = Union[Path, Literal, ListRef, Call, Compare, In, Exists, Match, ConsentTest, DefineRef, Not, And, Or, Truth]

# ------------------------------------------------------------------ consent block


@dataclass(frozen=True, slots=True)
class Source(Node):
    """A consent signal reference: ``segment "Analytics"``, ``tcf purposes 1 7``."""

    format: str
    args: tuple[str | int | float, ...] = ()
    #: which args were written as quoted strings (matters to ``fmt``)
    quoted: tuple[bool, ...] = ()


@dataclass(frozen=True, slots=True)
class Category(Node):
    name: str
    sources: tuple[Source, ...] = ()


@dataclass(frozen=True, slots=True)
class OptOut(Node):
    """``opt-out advertising by gpc, usp sale``: signals that withdraw categories."""

    categories: tuple[str, ...]
    signals: tuple[Source, ...]


@dataclass(frozen=True, slots=True)
class Regime(Node):
    """``regime [name] opt_in|opt_out [when cond]``; ``default`` for the fallback."""

    kind: str
    name: str | None = None
    when: "Expr | None" = None
    default: bool = False


@dataclass(frozen=True, slots=True)
class Compat(Node):
    """``compat segment``: a named compatibility mode."""

    name: str


@dataclass(frozen=True, slots=True)
class SignalAt(Node):
    """``signal tcf at context.gdpr_consent``: where a signal format is read from."""

    format: str
    paths: tuple[Path, ...]


@dataclass(frozen=True, slots=True)
class ConsentBlock(Node):
    items: tuple[Node, ...]


# ------------------------------------------------------------------ classify / define


@dataclass(frozen=True, slots=True)
class ClassDef(Node):
    name: str
    paths: tuple[Path, ...]


@dataclass(frozen=True, slots=True)
class Classify(Node):
    defs: tuple[ClassDef, ...]


@dataclass(frozen=True, slots=True)
class Define(Node):
    name: str
    expr: Expr


@dataclass(frozen=True, slots=True)
class ListDefine(Node):
    name: str
    values: Literal


# ------------------------------------------------------------------ destinations


@dataclass(frozen=True, slots=True)
class Guard(Node):
    """``if cond`` / ``unless cond`` after an action or policy statement."""

    expr: Expr
    unless: bool = False


@dataclass(frozen=True, slots=True)
class Requires(Node):
    categories: tuple[str, ...]
    any: bool = False


@dataclass(frozen=True, slots=True)
class RequiresVendor(Node):
    """``requires tcf vendor 755 [by consent|li|flexible]``: the TCF vendors' own basis."""

    vendors: tuple[int, ...]
    basis: str = "consent"
    explicit_basis: bool = False


@dataclass(frozen=True, slots=True)
class When(Node):
    expr: Expr


@dataclass(frozen=True, slots=True)
class Keep(Node):
    targets: tuple[Path, ...]
    guard: Guard | None = None


@dataclass(frozen=True, slots=True)
class Drop(Node):
    targets: tuple[Path, ...]
    guard: Guard | None = None


@dataclass(frozen=True, slots=True)
class Salt(Node):
    """Where a hash salt comes from: a literal, an environment variable, or configuration."""

    kind: str  # "literal" | "env" | "config"
    value: str


@dataclass(frozen=True, slots=True)
class Hash(Node):
    targets: tuple[Path, ...]
    algorithm: str = "sha256"
    salt: Salt | None = None
    guard: Guard | None = None
    explicit_algorithm: bool = False


@dataclass(frozen=True, slots=True)
class Redact(Node):
    targets: tuple[Path, ...]
    marker: str | None = None
    guard: Guard | None = None


@dataclass(frozen=True, slots=True)
class Truncate(Node):
    """``truncate x to /24 [/48]`` (IP), ``to 10`` (string length), ``to day`` (time)."""

    targets: tuple[Path, ...]
    kind: str  # "ip" | "length" | "time"
    v4: int | None = None
    v6: int | None = None
    length: int | None = None
    unit: str | None = None
    guard: Guard | None = None


@dataclass(frozen=True, slots=True)
class Sample(Node):
    percent: float
    by: Path | None = None
    guard: Guard | None = None


@dataclass(frozen=True, slots=True)
class Destination(Node):
    name: str
    tags: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    body: tuple[Node, ...] = ()


# ------------------------------------------------------------------ policies


@dataclass(frozen=True, slots=True)
class DestRef(Node):
    """One member of a destination set: a name, ``tagged TAG``, or ``all``."""

    kind: str  # "name" | "tag" | "all"
    name: str = ""


@dataclass(frozen=True, slots=True)
class ForbidFields(Node):
    targets: tuple[Path, ...]
    to: tuple[DestRef, ...]
    guard: Guard | None = None


@dataclass(frozen=True, slots=True)
class ForbidEvents(Node):
    to: tuple[DestRef, ...]
    guard: Guard | None = None


@dataclass(frozen=True, slots=True)
class RequireConsent(Node):
    categories: tuple[str, ...]
    to: tuple[DestRef, ...]
    any: bool = False
    guard: Guard | None = None


@dataclass(frozen=True, slots=True)
class Policy(Node):
    name: str
    body: tuple[Node, ...] = ()
    quoted: bool = True


# ------------------------------------------------------------------ tracking plans


@dataclass(frozen=True, slots=True)
class TypeSpec(Node):
    """A type in a tracking plan: ``string``, ``array of object { ... }``, ..."""

    name: str  # string | number | integer | boolean | null | any | object | array
    #: for ``object { ... }``: the fields of the object (None: any keys)
    fields: "tuple[FieldSpec, ...] | None" = None
    #: for ``array of T``: the item type (None: any items)
    items: "TypeSpec | None" = None
    description: str | None = None


@dataclass(frozen=True, slots=True)
class FieldSpec(Node):
    """``required revenue: number >= 0 description "..."`` in a plan entry."""

    path: Path
    required: bool
    types: tuple[TypeSpec, ...]
    enum: "Literal | ListRef | None" = None
    ranges: tuple[tuple[str, int | float], ...] = ()
    lengths: tuple[tuple[str, int], ...] = ()
    pattern: str | None = None
    format: str | None = None
    description: str | None = None


@dataclass(frozen=True, slots=True)
class PlanSetting(Node):
    """``unplanned events flag``, ``unplanned properties omit``, ``violations block``."""

    target: str  # "events" | "properties" | "violations"
    mode: str


@dataclass(frozen=True, slots=True)
class PlanEntry(Node):
    """``track "Order Completed" { ... }``, ``identify { ... }``, ``common { ... }``."""

    kind: str  # "common" | "track" | "identify" | "page" | "screen" | "group"
    name: str | None
    fields: tuple[FieldSpec, ...]
    description: str | None = None


@dataclass(frozen=True, slots=True)
class Plan(Node):
    """A tracking plan: settings and entries, applied to events matching ``when``."""

    name: str | None
    items: tuple[Node, ...]
    when: "Expr | None" = None
    quoted: bool = False


@dataclass(frozen=True, slots=True)
class DestPlan(Node):
    """``plan violations flag`` in a destination: its own handling of the plan."""

    setting: PlanSetting


# ------------------------------------------------------------------ files


@dataclass(frozen=True, slots=True)
class Comment(Node):
    text: str


@dataclass(frozen=True, slots=True)
class Module(Node):
    """One ``.rq`` file."""

    file: str
    decls: tuple[Node, ...]
    comments: tuple[Comment, ...] = ()


# ------------------------------------------------------------------ utilities


def walk(node: Node) -> Iterator[Node]:
    """Every node of a tree, parents before children."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(reversed(list(current.children())))


_CLASSES: dict[str, type[Node]] = {}


def _register() -> None:
    for name in __all__:
        obj = globals().get(name)
        if isinstance(obj, type) and issubclass(obj, Node):
            _CLASSES[obj.__name__] = obj


def _dump_value(value: Any) -> Any:
    if isinstance(value, Node):
        return dump(value)
    if isinstance(value, Wild):
        return {"_": "Wild"}
    if isinstance(value, tuple):
        return {"_": "tuple", "items": [_dump_value(v) for v in value]}
    if isinstance(value, Span):
        return value.to_dict()
    return value


def dump(node: Node, *, spans: bool = False) -> dict[str, Any]:
    """A node as plain data (``spans=True`` keeps positions too)."""
    out: dict[str, Any] = {"_": type(node).__name__}
    for f in fields(node):
        if f.name == "span":
            if spans:
                out["span"] = node.span.to_dict()
            continue
        out[f.name] = _dump_value(getattr(node, f.name))
    return out


def _load_value(value: Any) -> Any:
    if isinstance(value, dict) and "_" in value:
        kind = value["_"]
        if kind == "Wild":
            return WILD
        if kind == "tuple":
            return tuple(_load_value(v) for v in value["items"])
        return load(value)
    return value


def load(data: dict[str, Any]) -> Node:
    """Rebuild a node from :func:`dump` output."""
    if not _CLASSES:
        _register()
    cls = _CLASSES[data["_"]]
    kwargs = {k: _load_value(v) for k, v in data.items() if k not in ("_", "span")}
    if "span" in data:
        kwargs["span"] = Span(**data["span"])
    return cls(**kwargs)
