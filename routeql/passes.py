"""Small pure rewrites of conditions, applied in order (see ``PASSES``).

Each pass takes a condition and returns an equivalent one; none mutates its input.
The code generator runs them, then :func:`specialize` for each ``(type, event)`` key.

>>> from routeql.parse import parse_condition
>>> c = parse_condition('type = "track" and event != "A"')
>>> specialize(normalize(c), "track", "A", frozenset({"A"}))
Literal(value=False)
"""

from __future__ import annotations

from typing import Any, Callable

from . import nodes as n
from .runtime import FUNCTIONS, compare, compile_glob, compile_regex, in_list

__all__ = ["normalize", "fold", "specialize", "PASSES", "OTHER", "ANY", "event_dependent", "event_by_name_only", "mentioned_events", "conjuncts"]


class _Marker:
    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


#: The ``event`` value of an event whose name no rule mentions.
OTHER: Any = _Marker("OTHER")
#: An ``event`` value not known at all (specialise on ``type`` only).
ANY: Any = _Marker("ANY")

_TYPE = ("type",)
_EVENT = ("event",)


def _rebuild(e: Any, fn: Callable[[Any], Any]) -> Any:
    """Apply ``fn`` to the sub-conditions of ``e`` (one level), keeping its span."""
    if isinstance(e, n.Not):
        return n.Not(fn(e.operand), span=e.span)
    if isinstance(e, n.And):
        return n.And(tuple(fn(x) for x in e.items), span=e.span)
    if isinstance(e, n.Or):
        return n.Or(tuple(fn(x) for x in e.items), span=e.span)
    return e


def normalize(e: Any) -> Any:
    """``x != v`` becomes ``not (x = v)`` and ``x not in L`` becomes ``not (x in L)``.

    >>> from routeql.parse import parse_condition
    >>> normalize(parse_condition("a != 1"))
    Not(operand=Compare(op='=', left=Path(segments=('a',)), right=Literal(value=1)))
    """
    if isinstance(e, n.Compare) and e.op == "!=":
        return n.Not(n.Compare("=", e.left, e.right, span=e.span), span=e.span)
    if isinstance(e, n.In) and e.negated:
        return n.Not(n.In(e.left, e.right, span=e.span), span=e.span)
    return _rebuild(e, normalize)


def _lit(e: Any) -> bool:
    return isinstance(e, n.Literal)


def _value(e: Any) -> Any:
    """The constant value of a folded value expression, or raise LookupError."""
    if isinstance(e, n.Literal):
        return e.value
    raise LookupError


def fold(e: Any) -> Any:
    """Evaluate what is constant; simplify ``and`` / ``or`` / ``not`` around constants.

    >>> from routeql.parse import parse_condition
    >>> fold(parse_condition('x = 1 and (2 > 1)'))
    Compare(op='=', left=Path(segments=('x',)), right=Literal(value=1))
    >>> fold(parse_condition('length("ab") = 2 or x = 1'))
    Literal(value=True)
    """
    if isinstance(e, n.Call):
        args = tuple(fold(a) for a in e.args)
        if all(_lit(a) for a in args) and e.name in FUNCTIONS and e.name != "match":
            fn = FUNCTIONS[e.name][0]
            return n.Literal(fn(*(_value(a) for a in args)), span=e.span)
        return n.Call(e.name, args, span=e.span)
    if isinstance(e, n.Compare):
        left, right = fold(e.left), fold(e.right)
        if _lit(left) and _lit(right):
            return n.Literal(compare(e.op, left.value, right.value), span=e.span)
        return n.Compare(e.op, left, right, span=e.span)
    if isinstance(e, n.In):
        left, right = fold(e.left), fold(e.right)
        if _lit(left) and _lit(right):
            return n.Literal(in_list(left.value, right.value) != e.negated, span=e.span)
        return n.In(left, right, e.negated, span=e.span)
    if isinstance(e, n.Exists):
        op = fold(e.operand)
        if _lit(op):
            return n.Literal((op.value is not None) != e.negated, span=e.span)
        return n.Exists(op, e.negated, span=e.span)
    if isinstance(e, n.Match):
        subject = fold(e.subject)
        if _lit(subject) and _lit(e.pattern):
            if e.kind == "glob":
                return n.Literal(compile_glob(e.pattern.value)(subject.value), span=e.span)
            rx = compile_regex(e.pattern.value)
            return n.Literal(subject.value.__class__ is str and rx.search(subject.value) is not None, span=e.span)
        return n.Match(subject, e.pattern, e.kind, span=e.span)
    if isinstance(e, n.Not):
        op = fold(e.operand)
        if _lit(op):
            return n.Literal(not op.value, span=e.span)
        if isinstance(op, n.Not):
            return op.operand
        return n.Not(op, span=e.span)
    if isinstance(e, (n.And, n.Or)):
        is_and = isinstance(e, n.And)
        items: list[Any] = []
        for x in e.items:
            x = fold(x)
            if _lit(x):
                if bool(x.value) != is_and:  # False in an and / True in an or decides it
                    return n.Literal(not is_and, span=e.span)
                continue
            if type(x) is type(e):  # flatten nested and/or
                items.extend(x.items)
            else:
                items.append(x)
        if not items:
            return n.Literal(is_and, span=e.span)
        if len(items) == 1:
            return items[0]
        return type(e)(tuple(items), span=e.span)
    return e


PASSES: tuple[Callable[[Any], Any], ...] = (normalize, fold)


def _is_path(e: Any, segs: tuple[str, ...]) -> bool:
    return isinstance(e, n.Path) and e.segments == segs


def specialize(e: Any, type_: str, event: Any, mentioned: frozenset[str]) -> Any:
    """Fold a condition for events of a known ``type`` and ``event`` name.

    ``event`` is a name the rules mention, :data:`OTHER` for every other value
    (including null: a comparison of ``event`` with a mentioned name is then false), or
    :data:`ANY` to specialise on ``type`` alone.
    """

    def sub(x: Any) -> Any:
        if isinstance(x, n.Path):
            if x.segments == _TYPE:
                return n.Literal(type_, span=x.span)
            if x.segments == _EVENT and event is not OTHER and event is not ANY:
                return n.Literal(event, span=x.span)
            return x
        if event is OTHER and isinstance(x, n.Compare) and x.op == "=":
            for a, b in ((x.left, x.right), (x.right, x.left)):
                if _is_path(a, _EVENT) and _lit(b) and b.value.__class__ is str and b.value in mentioned:
                    return n.Literal(False, span=x.span)
        if event is OTHER and isinstance(x, n.In) and _is_path(x.left, _EVENT) and _lit(x.right):
            vals = x.right.value
            if isinstance(vals, tuple) and all(v.__class__ is str and v in mentioned for v in vals):
                return n.Literal(x.negated, span=x.span)
        if isinstance(x, n.Compare):
            return n.Compare(x.op, sub(x.left), sub(x.right), span=x.span)
        if isinstance(x, n.In):
            return n.In(sub(x.left), sub(x.right), x.negated, span=x.span)
        if isinstance(x, n.Exists):
            return n.Exists(sub(x.operand), x.negated, span=x.span)
        if isinstance(x, n.Match):
            return n.Match(sub(x.subject), x.pattern, x.kind, span=x.span)
        if isinstance(x, n.Call):
            return n.Call(x.name, tuple(sub(a) for a in x.args), span=x.span)
        return _rebuild(x, sub)

    return fold(sub(e))


def mentioned_events(e: Any) -> set[str]:
    """Event names a condition compares ``event`` with, by ``=`` or ``in``."""
    out: set[str] = set()
    for x in n.walk(e) if isinstance(e, n.Node) else ():
        if isinstance(x, n.Compare) and x.op in ("=", "!="):
            for a, b in ((x.left, x.right), (x.right, x.left)):
                if _is_path(a, _EVENT) and _lit(b) and b.value.__class__ is str:
                    out.add(b.value)
        elif isinstance(x, n.In) and _is_path(x.left, _EVENT) and _lit(x.right) and isinstance(x.right.value, tuple):
            out.update(v for v in x.right.value if v.__class__ is str)
    return out


def event_by_name_only(e: Any) -> bool:
    """Does a condition read ``event`` only to compare it with literal names (``=`` a
    string, ``in`` a list of strings)?  Then, for any name it does not mention, it
    specialises exactly as for :data:`OTHER`, and the code generator reuses that.

    >>> from routeql.parse import parse_condition
    >>> event_by_name_only(normalize(parse_condition('event != "A" and (event in ["B"] or x > 1)')))
    True
    >>> event_by_name_only(parse_condition('event matches "Order *"')), event_by_name_only(parse_condition('event exists'))
    (False, False)
    """
    if not isinstance(e, n.Node):
        return True
    if isinstance(e, n.Compare) and e.op == "=":
        for a, b in ((e.left, e.right), (e.right, e.left)):
            if _is_path(a, _EVENT) and _lit(b) and b.value.__class__ is str:
                return True
    if isinstance(e, n.In) and _is_path(e.left, _EVENT) and _lit(e.right) and isinstance(e.right.value, tuple) \
            and all(v.__class__ is str for v in e.right.value):
        return True
    if isinstance(e, n.Path):
        return e.segments != _EVENT
    return all(event_by_name_only(c) for c in e.children())


def event_dependent(e: Any) -> bool:
    """Does a condition still read the ``event`` field?"""
    return isinstance(e, n.Node) and any(isinstance(x, n.Path) and x.segments == _EVENT for x in n.walk(e))


def conjuncts(e: Any) -> list[Any]:
    """The items of a top-level ``and`` (or the condition itself)."""
    return list(e.items) if isinstance(e, n.And) else [e]
