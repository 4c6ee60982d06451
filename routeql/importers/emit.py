"""An FQL tree (:mod:`.tree`) in, a RouteQL condition (text) out, with FQL's documented meaning.

RouteQL's conditions are close to FQL but not identical, so the translation adds what
FQL means and RouteQL would not assume (each rule from Segment's FQL documentation):

* a bare value as a condition holds only when it is literally ``true`` (``x = true``);
* ``< <= > >=`` compare **numbers only** (RouteQL also orders strings: a guard is added);
* ``contains(s, sub)`` is about strings only (RouteQL also searches lists: a guard is added);
* ``in`` takes a list of constants or a path to a list; list elements are constants;
* comparisons RouteQL can prove impossible (``typeof(x) = "boolean"``, ``length(x) = "a"``,
  ``type = "Track"``) are folded to ``false`` instead of being rejected, because FQL
  simply evaluates them to false;
* a glob that is not valid matches nothing.

>>> from routeql.importers.fql import parse
>>> predicate_text(parse("length(userId) < 1 and !contains(context.library.name, 'js')"))
'length(userId) < 1 and not (typeof(context.library.name) = "string" and contains(context.library.name, "js"))'
>>> predicate_text(parse("typeof(properties.ok) = 'boolean'"))
'false'
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Iterable

from ..check import ENVELOPE_TYPES
from ..errors import RouteQLError
from ..parse import grammar_text, parse, parse_condition
from ..runtime import EVENT_TYPES, FUNCTIONS, eq, glob_to_regex, typeof
from .errors import UnsupportedError
from .tree import And, Call, Cmp, Expr, In, Lit, Not, Or, Path

__all__ = ["Cond", "TRUE", "FALSE", "and_", "or_", "not_", "predicate_text", "condition", "value",
           "string_literal", "path_text", "format_key", "KEYWORDS"]

ALL_TYPES = frozenset({"string", "number", "bool", "null", "list", "object"})
#: What RouteQL's typeof() returns (Segment documents string/number/list/bool/null).
TYPE_NAMES = ALL_TYPES
#: Words of the RouteQL grammar (read from it, so new keywords count).  A destination or
#: category named like one is renamed; a field, written in backticks where it would not parse.
KEYWORDS = frozenset(re.findall(r'"([a-z_][a-z0-9_-]*)"', grammar_text()))


@lru_cache(maxsize=None)
def _plain_key_parses(word: str) -> bool:
    """Does a keyword still read as a field name wherever the import writes paths?

    Most keywords do (``properties``, ``events``): the parser only expects them in other
    places.  Asked of the parser itself, so grammar changes are followed.
    """
    probes = (f"{word} = 1", f"x.{word} = 1", f"{word}.x = 1 and not ({word} = 2)", f"x = 1 or {word}[0] < 2",
              f"lower({word}) = 'a'", f"contains({word}, 'a')", f"{word} in [1]", f"1 in {word}",
              f"{word} not in [1]", f"{word} matches 'a*'", f"typeof({word}) = 'string' and {word} < 3")
    rules = (f"destination d {{\n  when {word} = 1\n  drop {word}, x.{word} if {word} = 1\n"
             f"  keep {word}, x.{word} if not ({word} = 1)\n  drop {word}.*\n  sample 1% by {word} if {word} = 1\n"
             f"  sample 1% by x.{word}\n  keep {word}\n}}")
    try:
        parse_condition(" and ".join(f"({p})" for p in probes))
        parse(rules)
    except RouteQLError:
        return False
    return True
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_ROUTEQL_FUNCTION = {"lowercase": "lower", "uppercase": "upper"}
_VALUE_TYPES = {
    "lowercase": {"string", "null"}, "uppercase": {"string", "null"}, "snakecase": {"string", "null"},
    "kebabcase": {"string", "null"}, "titlecase": {"string", "null"}, "string": {"string", "null"},
    "length": {"number", "null"}, "number": {"number", "null"}, "bool": {"bool", "null"},
    "typeof": {"string"}, "contains": {"bool"}, "match": {"bool"},
}

# ------------------------------------------------------------------ conditions as text

_OR, _AND, _ATOM = 1, 2, 3


@dataclass(frozen=True, slots=True)
class Cond:
    """RouteQL condition text, its precedence, its constant value if any, and its negation if simple."""

    text: str
    prec: int = _ATOM
    const: bool | None = None
    negated: str | None = None  # the negation as atom text (``a != b`` for ``a = b``)
    inner: "Cond | None" = None  # for ``not x``: x

    def wrapped(self, prec: int) -> str:
        return self.text if self.prec >= prec else f"({self.text})"


TRUE = Cond("true", const=True, negated="false")
FALSE = Cond("false", const=False, negated="true")


def _const(b: bool) -> Cond:
    return TRUE if b else FALSE


def not_(c: Cond) -> Cond:
    """``not c``, simplified: constants flip, ``=`` becomes ``!=``, ``not not x`` is ``x``."""
    if c.const is not None:
        return _const(not c.const)
    if c.inner is not None:
        return c.inner
    if c.negated is not None:
        return Cond(c.negated, _ATOM, None, c.wrapped(_ATOM), inner=c)
    inner = c.wrapped(_ATOM)
    if " " in inner and not (inner.startswith("(") and inner.endswith(")")):
        inner = f"({inner})"  # `not (a < 1)` reads better than `not a < 1`
    return Cond(f"not {inner}", _ATOM, inner=c)


def _join(items: Iterable[Cond], word: str, prec: int, unit: bool) -> Cond:
    parts: list[Cond] = []
    for c in items:
        if c.const is unit:
            continue
        if c.const is (not unit):
            return _const(not unit)
        if c.text not in (p.text for p in parts):
            parts.append(c)
    if not parts:
        return _const(unit)
    if len(parts) == 1:
        return parts[0]
    # `and` binds tighter, but an `and` inside an `or` reads better in parentheses.
    return Cond(f" {word} ".join(p.wrapped(_ATOM if prec == _OR else prec) for p in parts), prec)


def and_(items: Iterable[Cond]) -> Cond:
    return _join(items, "and", _AND, True)


def or_(items: Iterable[Cond]) -> Cond:
    return _join(items, "or", _OR, False)


def _atom(text: str, negated: str | None = None) -> Cond:
    return Cond(text, _ATOM, None, negated)


# ------------------------------------------------------------------ literals and paths


def string_literal(s: str) -> str:
    r"""A RouteQL string literal for ``s``: backslashes, quotes and control characters escaped.

    >>> print(string_literal('ab\\*d "x"'))
    "ab\\*d \"x\""
    """
    out = ['"']
    for ch in s:
        o = ord(ch)
        if ch in '"\\':
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ch == "\r":
            out.append("\\r")
        elif 0xD800 <= o <= 0xDFFF:
            raise UnsupportedError.plain("a string holds a lone surrogate, which RouteQL text cannot carry")
        elif o < 0x20 or o == 0x7F or 0x80 <= o < 0xA0 or o in (0x2028, 0x2029):
            out.append("\\u{%x}" % o)
        else:
            out.append(ch)
    out.append('"')
    if len(s) > 100_000:
        raise UnsupportedError.plain("a string literal is longer than RouteQL's 100,000 characters", code="RQ105")
    return "".join(out)


def format_key(key: str) -> str:
    """A key as a RouteQL path segment: a plain name, or in backticks."""
    if _NAME.match(key) and (key not in KEYWORDS or _plain_key_parses(key)):
        return key
    body = (key.replace("\\", "\\\\").replace("`", "\\`").replace("\n", "\\n").replace("\r", "\\r")
            .replace("\t", "\\t"))
    for ch in set(body):
        if 0xD800 <= ord(ch) <= 0xDFFF:
            raise UnsupportedError.plain("a field name holds a lone surrogate, which RouteQL text cannot carry")
    return f"`{body}`"


def path_text(segments: tuple[str | int, ...]) -> str:
    """A path as RouteQL text: ``properties.`product 1`.price``, ``products[0].sku``.

    >>> path_text(("properties", "product 1", "price"))
    'properties.`product 1`.price'
    """
    out = format_key(str(segments[0]))
    for s in segments[1:]:
        out += f"[{s}]" if isinstance(s, int) else "." + format_key(s)
    return out


def _number(v: int | float) -> str:
    if isinstance(v, float):
        if not math.isfinite(v):
            raise UnsupportedError.plain("numbers must be finite")
        text = repr(v)
    else:
        text = str(v)
    if len(text) > 100:
        raise UnsupportedError.plain("a number is longer than RouteQL's 100 characters", code="RQ105")
    return text


def literal_text(v: Any) -> str:
    """A JSON constant as RouteQL text; objects have no RouteQL spelling (UnsupportedError)."""
    if v is None:
        return "null"
    if v is True or v is False:
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return _number(v)
    if isinstance(v, str):
        return string_literal(v)
    if isinstance(v, list):
        return "[" + ", ".join(literal_text(x) for x in v) + "]"
    raise UnsupportedError.plain("RouteQL has no object literals; this FQL compares with a JSON object",
                                 hint="compare the object's fields one by one")


def _spellable(v: Any) -> bool:
    if isinstance(v, list):
        return all(_spellable(x) for x in v)
    return not isinstance(v, dict)




# ------------------------------------------------------------------ values


_NO = object()


@dataclass(frozen=True, slots=True)
class Val:
    """A RouteQL value expression: its text, the types it may have, its constant value."""

    text: str
    types: frozenset[str]
    lit: Any = _NO
    kind: str = ""  # "typeof" (a typeof() call) or "type" (the `type` field): their values are known

    @property
    def is_lit(self) -> bool:
        return self.lit is not _NO


def _check(*nodes: Expr) -> None:
    """Translate and discard: an invalid sub-expression is an error even where its value is not needed."""
    for e in nodes:
        if _is_bool_node(e):
            condition(e)
        else:
            value(e)


def _is_bool_node(e: Expr) -> bool:
    """Nodes that are conditions in RouteQL (they cannot stand where a value is expected)."""
    return isinstance(e, (Cmp, In, Not, And, Or)) or (isinstance(e, Call) and e.name in ("contains", "match"))


def value(e: Expr) -> Val:
    """A non-condition node as a RouteQL value."""
    if isinstance(e, Lit):
        # Objects have no RouteQL spelling: the text is made only where it is needed.
        text = literal_text(e.value) if _spellable(e.value) else ""
        return Val(text, frozenset({typeof(e.value)}), e.value)
    if isinstance(e, Path):
        segs = e.segments
        types = ENVELOPE_TYPES.get(str(segs[0]), ALL_TYPES) if len(segs) == 1 else ALL_TYPES
        return Val(path_text(segs), frozenset(types), kind="type" if segs == ("type",) else "")
    assert isinstance(e, Call) and e.name not in ("contains", "match")
    arg_node = e.args[0]
    if _is_bool_node(arg_node):
        # The argument is a boolean: fold what FQL's functions give for one.
        condition(arg_node)  # (still an error if it is not valid FQL)
        if e.name == "typeof":
            return value(Lit("bool"))
        if e.name == "bool":
            raise UnsupportedError.plain("bool() of a condition has no RouteQL spelling; use the condition itself")
        if e.name == "string":
            raise UnsupportedError.plain("string() of a condition has no RouteQL spelling")
        return value(Lit(None))  # lowercase/length/number/... of a bool are null
    arg = value(arg_node)
    if arg.is_lit:
        # A function of a constant is a constant.  (Folded here also because RouteQL's
        # runtime reads a list literal as a tuple, which its length() does not count.)
        return value(Lit(FUNCTIONS[e.name][0](arg.lit)))
    name = _ROUTEQL_FUNCTION.get(e.name, e.name)
    return Val(f"{name}({arg.text})", frozenset(_VALUE_TYPES[e.name]), kind="typeof" if e.name == "typeof" else "")


def _possible(v: Val, x: Any) -> bool:
    """Can ``v`` ever equal the constant ``x``?  (RouteQL rejects comparisons it proves impossible.)"""
    t = typeof(x)
    if t == "null":
        return True
    if t not in v.types:
        return False
    if v.kind == "typeof" and isinstance(x, str) and x not in TYPE_NAMES:
        return False
    if v.kind == "type" and isinstance(x, str) and x not in EVENT_TYPES:
        return False
    return True


def _equals(left: Expr, right: Expr) -> Cond:
    """``left = right`` with FQL's meaning: same type and equal (lists element by element)."""
    lb, rb = _is_bool_node(left), _is_bool_node(right)
    if lb and rb:
        a, b = condition(left), condition(right)
        return or_([and_([a, b]), and_([not_(a), not_(b)])])
    if lb or rb:
        c, other = (condition(left), right) if lb else (condition(right), left)
        o = value(other)
        if o.is_lit:
            return (c if o.lit else not_(c)) if isinstance(o.lit, bool) else FALSE
        if "bool" not in o.types:
            return FALSE
        return or_([and_([c, _atom(f"{o.text} = true")]), and_([not_(c), _atom(f"{o.text} = false")])])
    lv, rv = value(left), value(right)
    if lv.is_lit and rv.is_lit:
        return _const(eq(lv.lit, rv.lit))
    if lv.is_lit or rv.is_lit:
        x, other = (lv.lit, rv) if lv.is_lit else (rv.lit, lv)
        if not _possible(other, x):
            return FALSE
        lit = literal_text(x)
        a, b = (lit, other.text) if lv.is_lit else (other.text, lit)
        return _atom(f"{a} = {b}", f"{a} != {b}")
    return _atom(f"{lv.text} = {rv.text}", f"{lv.text} != {rv.text}")


def _is_number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def _order(op: str, left: Expr, right: Expr) -> Cond:
    """``< <= > >=``: numbers only (FQL); false for any other pair."""
    if _is_bool_node(left) or _is_bool_node(right):
        _check(left, right)
        return FALSE
    lv, rv = value(left), value(right)
    if lv.is_lit and rv.is_lit:
        if not (_is_number(lv.lit) and _is_number(rv.lit)):
            return FALSE
        return _const({"<": lv.lit < rv.lit, "<=": lv.lit <= rv.lit,
                       ">": lv.lit > rv.lit, ">=": lv.lit >= rv.lit}[op])
    for v in (lv, rv):
        if v.is_lit and not _is_number(v.lit):
            return FALSE
        if "number" not in v.types:
            return FALSE
    test = _atom(f"{lv.text} {op} {rv.text}")
    if lv.is_lit or rv.is_lit or not ("string" in lv.types and "string" in rv.types):
        return test
    # RouteQL also orders two strings; FQL does not.
    return and_([_atom(f'typeof({lv.text}) = "number"'), test])


def _membership(left: Expr, right: Expr) -> Cond:
    """``left in right``: right is a list of constants or a path to a list."""
    if isinstance(right, Lit):
        if not isinstance(right.value, list):
            raise UnsupportedError.plain(f"the right side of `in` must be a list or a path to one, "
                                         f"got {typeof(right.value)}", code="RQ301")
        # Lists and objects never match: FQL's left side is a single value.
        items = [x for x in right.value if typeof(x) not in ("list", "object")]
    elif not isinstance(right, Path):
        raise UnsupportedError.plain("the right side of `in` must be a list or a path to one, "
                                     "not a computed value", code="RQ301")
    else:
        items = []
    if _is_bool_node(left):
        c = condition(left)
        if isinstance(right, Lit):
            has_true = any(x is True for x in items)
            has_false = any(x is False for x in items)
            return TRUE if has_true and has_false else c if has_true else not_(c) if has_false else FALSE
        r = path_text(right.segments)
        return or_([and_([c, _atom(f"true in {r}")]), and_([not_(c), _atom(f"false in {r}")])])
    lv = value(left)
    if lv.is_lit and typeof(lv.lit) in ("list", "object"):
        return FALSE
    if isinstance(right, Path):
        r = path_text(right.segments)
        return _atom(f"{lv.text} in {r}", f"{lv.text} not in {r}")
    if lv.is_lit:
        return _const(any(eq(lv.lit, x) for x in items))
    items = [x for x in items if _possible(lv, x)]
    if not items:
        return FALSE
    lst = literal_text(items)
    return _atom(f"{lv.text} in {lst}", f"{lv.text} not in {lst}")


def _valid_glob(pattern: str) -> bool:
    try:
        glob_to_regex(pattern)
    except ValueError:
        return False
    return True


def _call_condition(e: Call) -> Cond:
    """contains() and match(), the two FQL functions that give a boolean."""
    a_node, b_node = e.args
    if _is_bool_node(a_node) or _is_bool_node(b_node):
        _check(a_node, b_node)
        return FALSE  # both take strings; a boolean argument gives false
    a, b = value(a_node), value(b_node)
    for v in (a, b):
        if (v.is_lit and not isinstance(v.lit, str)) or "string" not in v.types:
            return FALSE
    if e.name == "contains":
        test = _atom(f"contains({a.text}, {b.text})")
        if "list" in a.types:
            # RouteQL's contains() also finds list elements; FQL's is about strings only.
            return and_([_atom(f'typeof({a.text}) = "string"'), test])
        return test
    if a.is_lit and not b.is_lit:
        # Segment's documentation writes match() both ways (its Subexpressions example has
        # match('Button *', event)); a RouteQL glob is a constant, so the constant is the pattern.
        a, b = b, a
    if not b.is_lit:
        raise UnsupportedError.plain("match() with a pattern read from the event has no RouteQL spelling: "
                                     "RouteQL globs are constants", code="RQ304")
    if not _valid_glob(b.lit):
        return FALSE  # an invalid pattern matches nothing (Go's glob, tsub-js)
    return _atom(f"{a.text} matches {b.text}")


def condition(e: Expr) -> Cond:
    """A tree as a RouteQL condition with FQL's meaning."""
    if isinstance(e, And):
        return and_(condition(x) for x in e.items)
    if isinstance(e, Or):
        return or_(condition(x) for x in e.items)
    if isinstance(e, Not):
        return not_(condition(e.operand))
    if isinstance(e, Cmp):
        if e.op in ("=", "!="):
            c = _equals(e.left, e.right)
            return c if e.op == "=" else not_(c)
        return _order(e.op, e.left, e.right)
    if isinstance(e, In):
        return _membership(e.left, e.right)
    if isinstance(e, Call) and e.name in ("contains", "match"):
        return _call_condition(e)
    # A value as a condition: it must be literally true (Segment's evaluator).
    return _equals(e, Lit(True))


def predicate_text(e: Expr) -> str:
    """The RouteQL condition text for a tree (``true``/``false`` when constant)."""
    return condition(e).text
