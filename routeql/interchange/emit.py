"""Draft plans in, RouteQL source text out: one canonical, readable layout.

Two spaces of indentation, one field per line, constraints in a fixed order (``in``,
ranges, ``length``, ``pattern``, ``format``, ``description``), lines wrapped at
:data:`routeql.fmt.WIDTH` columns: constraints that do not fit continue on the next
line, a long ``in [...]`` list breaks one line per row of values.  Names that are not
plain identifiers are quoted (event names are strings, keys go in backticks).

>>> from routeql.interchange.draft import Draft, Entry, Field, Type
>>> d = Draft("shop", entries=[Entry("track", "Order Completed", [
...     Field(("order id",), True, [Type("string")], description="The order")])])
>>> print(format_plan(d), end="")
plan shop {
  unplanned events allow
  unplanned properties allow
  violations flag
<BLANKLINE>
  track "Order Completed" {
    required `order id`: string description "The order"
  }
}
"""

from __future__ import annotations

import textwrap
from typing import Any, Sequence

from .. import nodes as n
from ..fmt import WIDTH, key, number, quote
from ..plans import MODES
from .draft import Draft, Entry, Field, Type

__all__ = ["format_plan", "format_plans", "literal", "path_text"]

INDENT = 2
#: words that cannot be a bare plan name (they mean something right after `plan`)
_PLAN_NAME_WORDS = frozenset({"when"})
_SETTINGS = (("events", "unplanned events"), ("properties", "unplanned properties"), ("violations", "violations"))


def literal(value: Any) -> str:
    """A constant as RouteQL writes it.

    >>> literal(["a", 1, 2.5, True, None, ["x"]])
    '["a", 1, 2.5, true, null, ["x"]]'
    """
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, (int, float)):
        return number(value)
    if isinstance(value, str):
        return quote(value)
    return "[" + ", ".join(literal(v) for v in value) + "]"


def path_text(path: Sequence[str]) -> str:
    """A field path, each key in backticks unless it is a plain name.

    >>> path_text(("context", "library", "name")), path_text(("a.b", "x y"))
    ('context.library.name', '`a.b`.`x y`')
    """
    return ".".join(key(seg, head=i == 0) for i, seg in enumerate(path))


def plan_name(name: str) -> str:
    return name if n.IDENT.match(name) and name not in _PLAN_NAME_WORDS else quote(name)


def _comment(text: str, hang: str = "") -> list[str]:
    """``# `` comment lines, wrapped; continuation lines of a paragraph indented by ``hang``."""
    out: list[str] = []
    for para in text.splitlines() or [""]:
        wrapped = textwrap.wrap(para, WIDTH - 2, subsequent_indent=hang, break_long_words=False,
                                break_on_hyphens=False)
        out.extend(f"# {w}" if w else "#" for w in wrapped or [""])
    return out


def format_plans(drafts: Sequence[Draft], header: Sequence[str] = ()) -> str:
    """Several plans, one after the other, under optional header comment lines."""
    parts: list[str] = []
    if header:
        parts.append("\n".join(line for h in header for line in _comment(h)))
    parts.extend(format_plan(d).rstrip("\n") for d in drafts)
    return "\n\n".join(parts) + "\n"


def format_plan(d: Draft) -> str:
    """One ``plan`` block, preceded by its description and import notes as comments."""
    lines: list[str] = []
    if d.description:
        lines.extend(_comment(d.description))
    if d.notes:
        lines.append(f"# routeql plan import: {len(d.notes)} note{'s' * (len(d.notes) != 1)}"
                     " (approximated or dropped):")
        for note in d.notes:
            first = f"# note: #{note.pointer}: {note.message}"
            if len(first) <= WIDTH:
                lines.append(first)
            else:  # the pointer on its own line (it does not break), the message below it
                lines.append(f"# note: #{note.pointer}:")
                lines.extend(_comment("  " + note.message, hang="  "))
    head = "plan" + (f" {plan_name(d.name)}" if d.name is not None else "")
    if d.when:
        head += f" when {d.when}"
    lines.append(head + " {")
    pad = " " * INDENT
    for target, words in _SETTINGS:
        lines.append(f"{pad}{words} {d.modes.get(target, MODES[target][1])}")
    for entry in ([d.common] if d.common is not None else []) + list(d.entries):
        lines.append("")
        lines.extend(entry_lines(entry, INDENT))
    lines.append("}")
    return "\n".join(lines) + "\n"


def entry_lines(e: Entry, ind: int) -> list[str]:
    pad = " " * ind
    head = pad + e.kind + (f" {quote(e.name)}" if e.name is not None else "")
    if not e.fields and e.description is None:
        return [head + " {}"]
    return [head + " {"] + body_lines(e.description, e.fields, ind + INDENT) + [pad + "}"]


def body_lines(description: str | None, fields: Sequence[Field], ind: int) -> list[str]:
    out = [" " * ind + f"description {quote(description)}"] if description is not None else []
    for f in fields:
        out.extend(field_lines(f, ind))
    return out


def type_lines(t: Type, ind: int) -> list[str]:
    """A type; the first line continues the current one, the last ends where the type ends."""
    if t.name == "object" and t.fields is not None:
        if not t.fields and t.description is None:
            return ["object {}"]
        return ["object {"] + body_lines(t.description, t.fields, ind + INDENT) + [" " * ind + "}"]
    if t.name == "array" and t.items is not None:
        inner = type_lines(t.items, ind)
        return ["array of " + inner[0]] + inner[1:]
    return [t.name]


def constraint_units(f: Field) -> list[str]:
    units: list[str] = []
    if f.enum is not None:
        units.append("in " + literal(f.enum))
    units.extend(f"{op} {number(bound)}" for op, bound in f.ranges)
    units.extend(f"length {op} {bound}" for op, bound in f.lengths)
    if f.pattern is not None:
        units.append(f"pattern {quote(f.pattern)}")
    if f.format is not None:
        units.append(f"format {f.format}")
    if f.description is not None:
        units.append(f"description {quote(f.description)}")
    return units


def field_lines(f: Field, ind: int) -> list[str]:
    lines: list[str] = []
    for i, t in enumerate(f.types):
        part = type_lines(t, ind)
        if i == 0:
            lines = part
        else:
            lines[-1] += " | " + part[0]
            lines.extend(part[1:])
    lines[0] = " " * ind + f"{'required' if f.required else 'optional'} {path_text(f.path)}: " + lines[0]
    _place(lines, constraint_units(f), f.enum, ind + INDENT)
    return lines


def _place(lines: list[str], units: list[str], enum: list[Any] | None, cont: int) -> None:
    """Append constraint units to the last line, continuing on new lines (indent ``cont``)
    when they do not fit; an ``in [...]`` list too long for any line breaks into rows."""
    for unit in units:
        is_list = enum is not None and unit.startswith("in [")
        if len(lines[-1]) + 1 + len(unit) <= WIDTH:
            lines[-1] += " " + unit
        elif is_list and len(lines[-1]) + 5 <= WIDTH:
            _break_list(lines, enum or [], " ")
        else:
            lines.append(" " * cont)
            if is_list and cont + len(unit) > WIDTH:
                _break_list(lines, enum or [], "")
            else:
                lines[-1] += unit


def _break_list(lines: list[str], values: list[Any], sep: str) -> None:
    """``in [`` at the end of the last line, the values in rows one step deeper, ``]`` back."""
    ind = len(lines[-1]) - len(lines[-1].lstrip())
    lines[-1] += sep + "in ["
    row = " " * (ind + INDENT)
    for i, v in enumerate(values):
        text = literal(v) + ("," if i < len(values) - 1 else "")
        if row.strip() and len(row) + 1 + len(text) > WIDTH:
            lines.append(row)
            row = " " * (ind + INDENT)
        row += (" " if row.strip() else "") + text
    lines.append(row)
    lines.append(" " * ind + "]")


def condition_text(expr: n.Node) -> str:
    """A condition (parsed or checked) as canonical RouteQL text.

    >>> from routeql.parse import parse_condition
    >>> condition_text(parse_condition("context.source=='shop'&&!(userId exists)"))
    'context.source = "shop" and not userId exists'
    """
    from ..fmt import format_module

    text = format_module(n.Module("<when>", (n.Define("_", expr),)))
    return text[len("define _ = "):].rstrip("\n")
