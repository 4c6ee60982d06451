"""``allOf``, ``anyOf`` and ``oneOf`` in, one schema or a type union out (or a note).

RouteQL has type unions but no schema combinators.  ``allOf`` whose subschemas can be
written as one schema is merged into it; ``anyOf`` / ``oneOf`` whose branches differ by
type (with the constraints of at most one branch) becomes a union; anything else is
noted and dropped, so the plan accepts more than the schema, never less.

>>> from routeql.interchange.jsonschema_import import SchemaReader
>>> shape = SchemaReader({}).shape({"anyOf": [{"type": "string", "enum": ["a"]}, {"type": "null"}]}, "")
>>> [t.name for t in shape.types], shape.enum
(['string', 'null'], ['a', None])
"""

from __future__ import annotations

from typing import Any, Callable

from .draft import Shape, Type
from .pointer import child
from .refs import ANNOTATIONS, SILENT, Reader

__all__ = ["Combinators"]


class Combinators(Reader):
    """The combinator keywords, for :class:`~routeql.interchange.jsonschema_import.SchemaReader`
    (which reads each branch with its ``shape``)."""

    shape: Callable[..., Shape]

    # ------------------------------------------------------------ allOf
    def merge_all_of(self, s: dict[str, Any], pointer: str) -> dict[str, Any]:
        """``allOf`` whose subschemas can be written as one schema (disjoint keywords; types
        intersected, properties with distinct keys, required lists joined), merged into it;
        otherwise the schema without ``allOf`` (noted).  Export writes such an ``allOf`` for a
        field that is both declared and dotted into (``optional a: object`` + ``required a.b``)."""
        branches = s.get("allOf")
        p = child(pointer, "allOf")
        if not isinstance(branches, list) or not branches:
            raise self.error(p, "allOf must be a non-empty list of schemas")
        merged = {k: v for k, v in s.items() if k != "allOf"}
        problem = None
        for i, b in enumerate(branches):
            with self.follow(b, child(p, i)) as (bs, _, _desc):
                if bs is False:
                    problem = "a branch is false (nothing is valid)"
                    break
                for k, v in bs.items():
                    if k in SILENT:
                        continue
                    if k not in merged:
                        merged[k] = v
                    elif k == "type":
                        have = merged[k] if isinstance(merged[k], list) else [merged[k]]
                        new = v if isinstance(v, list) else [v]
                        both = [t for t in have if t in new or (t == "integer" and "number" in new)] + \
                            [t for t in new if t == "integer" and "number" in have and t not in have]
                        if not both:
                            problem = f"its types {have} and {new} have nothing in common"
                            break
                        merged[k] = both
                    elif k == "properties" and isinstance(v, dict) and isinstance(merged[k], dict) \
                            and not set(v) & set(merged[k]):
                        merged[k] = {**merged[k], **v}
                    elif k == "required" and isinstance(v, list) and isinstance(merged[k], list):
                        merged[k] = list(dict.fromkeys(merged[k] + v))
                    elif k == "description" or merged[k] == v:
                        continue
                    else:
                        problem = f"two subschemas both say '{k}'"
                        break
            if problem:
                break
        if problem is None:
            return merged
        self.note(p, f"allOf cannot be written as one schema ({problem}); dropped (the plan accepts more "
                     "than the schema)")
        return {k: v for k, v in s.items() if k != "allOf"}

    # ------------------------------------------------------------ anyOf / oneOf
    def alternatives(self, s: dict[str, Any], pointer: str) -> Shape | None:
        """anyOf / oneOf as a type union, when RouteQL can say exactly that; else None (noted,
        and the schema is read without it)."""
        key = "anyOf" if "anyOf" in s else "oneOf"
        p = child(pointer, key)
        if "anyOf" in s and "oneOf" in s:
            self.note(child(pointer, "oneOf"), "oneOf beside anyOf is not supported; dropped")
        branches = s[key]
        if not isinstance(branches, list) or not branches:
            raise self.error(p, f"{key} must be a non-empty list of schemas")
        others = sorted(k for k in s if k not in (key, "anyOf", "oneOf", "description") and k not in SILENT
                        and k not in ANNOTATIONS)
        if others:
            self.note(p, f"{key} beside other keywords ({', '.join(others)}) is not supported; {key} dropped")
            return None
        shapes: list[Shape] = []
        for i, b in enumerate(branches):
            with self.follow(b, child(p, i)) as (bs, bp, desc):
                if bs is not False:
                    shapes.append(self.shape(bs, bp, desc))
        if not shapes:
            self.note(p, f"no branch of {key} can hold; treated as any value")
            return Shape([Type("any")])
        rich = [sh for sh in shapes if sh.constrained()]
        structured = [t for sh in shapes for t in sh.types
                      if (t.name == "object" and t.fields is not None) or (t.name == "array" and t.items is not None)]
        if len(rich) > 1 or len({t.name for t in structured}) != len(structured):
            self.note(p, f"{key} whose branches each carry constraints or structure cannot be expressed; "
                         f"{key} dropped (the plan accepts more than the schema)")
            return None
        types: list[Type] = []
        seen: set[str] = set()
        for sh in shapes:
            for t in sh.types:
                if t.name not in seen:
                    seen.add(t.name)
                    types.append(t)
        if key == "oneOf":
            flat = [t.name for sh in shapes for t in sh.types]
            overlap = len(set(flat)) != len(flat) or "any" in flat or {"integer", "number"} <= set(flat)
            if overlap:
                self.note(p, "oneOf with overlapping branches read as anyOf (a value matching two branches is "
                             "accepted)")
        out = Shape(types)
        if rich:
            r = rich[0]
            rest = {t.name for sh in shapes if sh is not r for t in sh.types}
            dropped: list[str] = []
            # a RouteQL constraint applies to every value it can apply to, whichever branch it came from
            if r.ranges and rest & {"number", "integer", "any"}:
                dropped.append("minimum/maximum")
            else:
                out.ranges = r.ranges
            if r.lengths and rest & {"string", "array", "any"}:
                dropped.append("length")
            else:
                out.lengths = r.lengths
            if (r.pattern or r.format) and rest & {"string", "any"}:
                dropped.append("pattern/format")
            else:
                out.pattern, out.format = r.pattern, r.format
            if r.enum is not None:
                if rest <= {"null"}:
                    out.enum = r.enum + ([None] if rest and None not in r.enum else [])
                else:
                    dropped.append("enum")
            if dropped:
                self.note(p, f"{key}: the constraints of one branch ({', '.join(dropped)}) would also apply to "
                             "the other branches' values in RouteQL; dropped")
        out.description = next((sh.description for sh in shapes if sh.description), None)
        return out
