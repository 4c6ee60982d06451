"""FQL expressions as a small tree: compiled IR (JSON) in, nodes out, and back to IR.

Segment ships a destination filter twice: as FQL text and as the IR its server compiles
it to (``["=", "event", {"value": "Test"}]``).  Both become the same tree here, so one
translator (:mod:`routeql.importers.emit`) gives them one meaning.

IR grammar (tsub-js ``matchers.ts``, Segment's compiler): a bare string is a field path
read with dotted lookup, ``{"value": X}`` a literal (list elements wrapped one by one),
an array ``[op, arg, ...]`` an operation.  ``and``/``or`` take any number of arguments.

>>> from_ir(["and", ["=", "event", {"value": "Test"}], "properties.ok"])
And(items=(Cmp(op='=', left=Path(segments=('event',)), right=Lit(value='Test')), Path(segments=('properties', 'ok'))))
>>> to_ir(from_ir(["in", "type", {"value": [{"value": "track"}]}]))
['in', 'type', {'value': [{'value': 'track'}]}]
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Union

from .errors import IRError

__all__ = [
    "Path", "Lit", "Call", "Cmp", "In", "Not", "And", "Or", "Expr",
    "FUNCTIONS", "COMPARISONS", "from_ir", "to_ir", "split_path", "MAX_DEPTH",
]

#: FQL functions (Segment's documentation) and their number of arguments.
FUNCTIONS: dict[str, int] = {
    "contains": 2, "match": 2,
    "lowercase": 1, "uppercase": 1, "snakecase": 1, "kebabcase": 1, "titlecase": 1,
    "length": 1, "typeof": 1,
    "bool": 1, "string": 1, "number": 1,
}
COMPARISONS = ("=", "!=", "<", "<=", ">", ">=")
#: Deeper IR or FQL than this is refused (Segment caps an FQL query at 5 KB anyway).
MAX_DEPTH = 60


@dataclass(frozen=True, slots=True)
class Path:
    """A field path; ``int`` segments index lists."""

    segments: tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class Lit:
    """A constant: None, bool, int, float, str, list or dict (JSON)."""

    value: Any


@dataclass(frozen=True, slots=True)
class Call:
    name: str
    args: tuple["Expr", ...]


@dataclass(frozen=True, slots=True)
class Cmp:
    op: str
    left: "Expr"
    right: "Expr"


@dataclass(frozen=True, slots=True)
class In:
    left: "Expr"
    right: "Expr"


@dataclass(frozen=True, slots=True)
class Not:
    operand: "Expr"


@dataclass(frozen=True, slots=True)
class And:
    items: tuple["Expr", ...]


@dataclass(frozen=True, slots=True)
class Or:
    items: tuple["Expr", ...]


Expr = Union[Path, Lit, Call, Cmp, In, Not, And, Or]


def split_path(text: str) -> Path:
    """A dotted IR path; all-digit segments after the first index lists.

    >>> split_path("properties.products.0.sku")
    Path(segments=('properties', 'products', 0, 'sku'))
    """
    parts = text.split(".")
    segs: list[str | int] = [parts[0]]
    for p in parts[1:]:
        segs.append(int(p) if p.isascii() and p.isdigit() and len(p) < 10 else p)
    return Path(tuple(segs))


def _literal(value: Any, where: str) -> Any:
    """A ``{"value": X}`` payload as a plain value; list elements are unwrapped."""
    if isinstance(value, float) and not math.isfinite(value):
        raise IRError.plain("numbers must be finite", where=where)
    if isinstance(value, list):
        out = []
        for i, item in enumerate(value):
            if isinstance(item, dict) and set(item) == {"value"}:
                out.append(_literal(item["value"], f"{where}[{i}]"))
            else:
                # A bare element is a constant: Segment documents list literals, and
                # tsub-js's reading of bare strings as paths is a known divergence.
                out.append(_literal(item, f"{where}[{i}]"))
        return out
    return value


def from_ir(ir: Any, where: str = "ir", depth: int = 0) -> Expr:
    """Parse compiled FQL IR (already JSON-decoded) into a tree; raise IRError if invalid.

    >>> from_ir({"value": [{"value": 1}, 2]})
    Lit(value=[1, 2])
    >>> from_ir(["findTheDefiniteIntegralOf", {"value": 1}])
    Traceback (most recent call last):
    routeql.importers.errors.IRError: ir: unknown FQL function or operator 'findTheDefiniteIntegralOf'
    """
    if depth > MAX_DEPTH:
        raise IRError.plain(f"nested more than {MAX_DEPTH} levels deep", where=where, code="RQ105")
    if isinstance(ir, str):
        return split_path(ir)
    if isinstance(ir, dict):
        if "value" not in ir:
            raise IRError.plain('an object in IR must be a literal {"value": ...}', where=where)
        return Lit(_literal(ir["value"], f"{where}.value"))
    if not isinstance(ir, list):
        raise IRError.plain(f"expected a path, a {{\"value\": ...}} literal or an [op, ...] array, "
                            f"got {type(ir).__name__}", where=where)
    if not ir:
        raise IRError.plain("an empty array is not an operation", where=where)
    op = ir[0]
    if not isinstance(op, str):
        raise IRError.plain("an operation must start with its name", where=where)
    args = ir[1:]

    def sub(i: int) -> Expr:
        return from_ir(args[i], f"{where}[{i + 1}]", depth + 1)

    def arity(n: int) -> None:
        if len(args) != n:
            raise IRError.plain(f"'{op}' takes {n} argument{'s' * (n != 1)}, got {len(args)}", where=where,
                                code="RQ300")

    if op in ("and", "or"):
        items = tuple(sub(i) for i in range(len(args)))
        return And(items) if op == "and" else Or(items)
    if op == "!":
        arity(1)
        return Not(sub(0))
    if op in COMPARISONS:
        arity(2)
        return Cmp(op, sub(0), sub(1))
    if op == "in":
        arity(2)
        return In(sub(0), sub(1))
    if op in FUNCTIONS:
        arity(FUNCTIONS[op])
        return Call(op, tuple(sub(i) for i in range(len(args))))
    raise IRError.plain(f"unknown FQL function or operator '{op}'", where=where, code="RQ208")


def _lit_ir(value: Any) -> Any:
    if isinstance(value, list):
        return {"value": [_lit_ir(v) for v in value]}
    return {"value": value}


def to_ir(e: Expr) -> Any:
    """The IR Segment's compiler gives for a tree: ``and``/``or`` chains right-nested.

    >>> to_ir(And((Path(("a",)), Path(("b",)), Path(("c",)))))
    ['and', 'a', ['and', 'b', 'c']]
    """
    if isinstance(e, Path):
        return ".".join(str(s) for s in e.segments)
    if isinstance(e, Lit):
        return _lit_ir(e.value)
    if isinstance(e, Call):
        return [e.name, *(to_ir(a) for a in e.args)]
    if isinstance(e, Cmp):
        return [e.op, to_ir(e.left), to_ir(e.right)]
    if isinstance(e, In):
        return ["in", to_ir(e.left), to_ir(e.right)]
    if isinstance(e, Not):
        return ["!", to_ir(e.operand)]
    op = "and" if isinstance(e, And) else "or"
    items = [to_ir(x) for x in e.items]
    if len(items) < 2:
        return [op, *items]
    out = items[-1]
    for item in reversed(items[:-1]):
        out = [op, item, out]
    return out
