"""JSON Schema (draft-07) in, draft plan fields out: the keyword-by-keyword mapping.

:class:`SchemaReader` reads the schemas of one tracking plan.  Every keyword either maps
exactly onto RouteQL, or is recorded as a :class:`~routeql.interchange.draft.Note` with
its JSON pointer and then approximated the loose way (dropped: the imported plan accepts
everything the schema accepts, and maybe more) -- never silently.  Shapes that make no
sense (a ``type`` that is not a JSON type, ``required`` that is not a list of names, a
``$ref`` that points nowhere or at itself) raise
:class:`~routeql.interchange.pointer.InterchangeError`.

>>> r = SchemaReader({})
>>> fields = r.object_fields({"properties": {"revenue": {"type": "number", "minimum": 0}},
...                           "required": ["revenue"]}, "")
>>> f = fields[0]
>>> f.path, f.required, [t.name for t in f.types], f.ranges
(('revenue',), True, ['number'], [('>=', 0)])
"""

from __future__ import annotations

import math
from typing import Any

from ..errors import did_you_mean
from ..runtime import compile_regex
from .draft import Field, Shape, Type
from .jsonschema_combine import Combinators
from .pointer import child, json_kind
from .refs import ANNOTATIONS, SILENT

__all__ = ["SchemaReader", "JSON_TYPES", "FORMATS_IN", "CURRENCY_PATTERN"]

JSON_TYPES = ("string", "number", "integer", "boolean", "null", "object", "array")

#: JSON Schema format name -> RouteQL format name (``currency`` is RouteQL's own, written by export)
FORMATS_IN = {"date-time": "date_time", "date_time": "date_time", "email": "email", "uri": "uri", "uuid": "uuid",
              "date": "date", "ipv4": "ipv4", "ipv6": "ipv6", "hostname": "hostname", "currency": "currency"}

#: what export writes next to ``format: currency`` for validators that skip unknown formats
CURRENCY_PATTERN = "^[A-Z]{3}$"

#: type names people write that JSON Schema spells otherwise
_TYPE_HINTS = {"str": "string", "int": "integer", "float": "number", "double": "number", "bool": "boolean",
               "dict": "object", "list": "array", "date time": "string", "datetime": "string", "date-time": "string",
               "any": "(no type keyword)", "enum": "string with an enum"}

_HANDLED = frozenset({"type", "properties", "required", "enum", "const", "minimum", "maximum", "exclusiveMinimum",
                      "exclusiveMaximum", "minLength", "maxLength", "pattern", "format", "items", "minItems",
                      "maxItems", "description", "additionalProperties", "anyOf", "oneOf", "allOf", "$ref"})
#: draft-07 keywords RouteQL cannot say; each is reported and dropped
_UNSUPPORTED = {
    "not": "not", "patternProperties": "patternProperties",
    "dependencies": "dependencies", "if": "if/then/else", "then": "if/then/else", "else": "if/then/else",
    "multipleOf": "multipleOf", "uniqueItems": "uniqueItems", "propertyNames": "propertyNames",
    "minProperties": "minProperties", "maxProperties": "maxProperties", "contains": "contains",
    "additionalItems": "additionalItems", "dependentRequired": "dependentRequired",
    "dependentSchemas": "dependentSchemas", "unevaluatedProperties": "unevaluatedProperties",
    "unevaluatedItems": "unevaluatedItems", "prefixItems": "prefixItems",
}
_RANGE_KEYS = (("minimum", ">="), ("exclusiveMinimum", ">"), ("maximum", "<="), ("exclusiveMaximum", "<"))


def _enum_fits(v: Any, names: set[str]) -> bool:
    """Could value ``v`` of an enum ever pass a field of these types?"""
    k = json_kind(v)
    if k == "number":
        return bool(names & {"number", "integer"})
    return k in names


class SchemaReader(Combinators):
    """Reads the schemas of one document into draft fields (see the module docstring)."""

    # ------------------------------------------------------------ objects
    def object_fields(self, s: dict[str, Any], pointer: str, prefix: tuple[str, ...] = (),
                      chain: bool = True) -> list[Field]:
        """The fields of an object schema (``properties`` and ``required``), with paths below
        ``prefix``.  ``chain``: every key of ``prefix`` is required and must be an object, so a
        required key here may be written as the dotted path ``required a.b``."""
        props = s.get("properties", {})
        if not isinstance(props, dict):
            raise self.error(child(pointer, "properties"), f"properties must be an object, got {json_kind(props)}")
        required = s.get("required", [])
        if not isinstance(required, list) or not all(isinstance(r, str) for r in required):
            raise self.error(child(pointer, "required"), "required must be a list of property names "
                             "(draft-07; the boolean form is draft-03)")
        wanted = set(required)
        out: list[Field] = []
        for key, sub in props.items():
            out.extend(self.field(prefix + (key,), sub, child(child(pointer, "properties"), key), key in wanted, chain))
        for key in dict.fromkeys(required):
            if key not in props:  # present, any value: as JSON Schema says
                out.append(Field(prefix + (key,), True, [Type("any")]))
        return out

    def field(self, path: tuple[str, ...], schema: Any, pointer: str, required: bool, chain: bool) -> list[Field]:
        """One property: a field, or the fields of an object it only groups (dotted paths)."""
        with self.follow(schema, pointer) as (s, sp, desc):
            if s is False:
                self.note(sp, f"'{path[-1]}' may not be present (schema false); RouteQL cannot forbid a key "
                              "(use unplanned properties); dropped")
                return []
            if "allOf" in s:
                s = self.merge_all_of(s, sp)
            kind = self._container(s) if desc is None else None
            # A bare grouping object reads best as dotted paths, when that means exactly the same:
            # required all the way down (a required key of a required object), or optional all
            # the way (no type, nothing required: nothing is checked unless it is an object).
            if kind == "required" and required and chain:
                return self.object_fields(s, sp, path, True)
            if kind == "optional" and not required:
                return self.object_fields(s, sp, path, False)
            return [self.shape(s, sp, desc).to_field(path, required)]

    @staticmethod
    def _container(s: dict[str, Any]) -> str | None:
        if not set(s) <= {"type", "properties", "required"} or not isinstance(s.get("properties", {}), dict):
            return None
        if not s.get("properties") and not s.get("required"):
            return None
        t = s.get("type")
        if t in ("object", ["object"]) and s.get("required"):
            return "required"
        if t is None and not s.get("required"):
            return "optional"
        return None

    def root_fields(self, schema: Any, pointer: str, *, what: str,
                    unplanned: bool = True) -> tuple[list[Field], bool | None, str | None]:
        """An entry's top object (properties, traits, or the whole event for common):
        (fields, additionalProperties is false, description)."""
        with self.follow(schema, pointer) as (s, sp, desc):
            if s is False:
                self.note(sp, f"the schema of {what} is false (nothing valid); RouteQL has no way to say that; "
                              "treated as any object")
                return [], None, desc
            if "allOf" in s:
                s = self.merge_all_of(s, sp)
            t = s.get("type")
            names = [t] if isinstance(t, str) else t if isinstance(t, list) else []
            if t is not None and "object" not in names:
                self.note(child(sp, "type"), f"{what} is always an object; type {t!r} ignored")
            for k in s:
                if k in ("properties", "required", "additionalProperties", "type", "description") or k in SILENT:
                    continue
                self._unknown(s, k, sp)
            closed = None
            ap = s.get("additionalProperties", True)
            if ap is False and unplanned:
                closed = True
            elif ap is False:
                self.note(child(sp, "additionalProperties"), f"additionalProperties false on {what} is not "
                          "enforced (RouteQL flags unplanned properties of events' properties and traits only); "
                          "dropped")
            elif ap is not True and ap != {}:
                self.note(child(sp, "additionalProperties"), "additionalProperties as a schema is not supported; "
                          "dropped (other properties may have any value)")
            fields = self.object_fields(s, sp, (), True)
            d = s.get("description")
            return fields, closed, d if isinstance(d, str) else desc

    # ------------------------------------------------------------ one value
    def _unknown(self, s: dict[str, Any], k: str, pointer: str) -> None:
        p = child(pointer, k)
        if k in _UNSUPPORTED:
            self.note(p, f"{_UNSUPPORTED[k]} is not supported; dropped (the plan accepts more than the schema)")
        elif k in ANNOTATIONS:
            self.note(p, f"{k} is not kept (RouteQL keeps descriptions only)")
        elif k not in SILENT and k not in _HANDLED:
            self.note(p, f"unknown keyword '{k}' ignored")

    def _type_names(self, s: dict[str, Any], pointer: str) -> list[str] | None:
        if "type" not in s:
            return None
        t = s["type"]
        p = child(pointer, "type")
        if isinstance(t, str):
            names = [t]
        elif isinstance(t, list) and all(isinstance(x, str) for x in t):
            if not t:
                raise self.error(p, "an empty type list matches nothing")
            names = list(dict.fromkeys(t))
        else:
            raise self.error(p, f"type must be a type name or a list of them, got {json_kind(t)}")
        for name in names:
            if name not in JSON_TYPES:
                guess = _TYPE_HINTS.get(name.lower()) or did_you_mean(name, JSON_TYPES)
                hint = f" (did you mean {guess}?)" if guess else ""
                if name.lower() in ("date time", "datetime", "date-time"):
                    hint = ' (a date-time is "type": "string" with "format": "date-time")'
                raise self.error(p, f"unknown type '{name}'{hint}; JSON Schema types: {', '.join(JSON_TYPES)}")
        return names

    def shape(self, s: dict[str, Any], pointer: str, desc: str | None = None) -> Shape:
        """What one (dereferenced) schema says of a value."""
        if "allOf" in s:
            s = self.merge_all_of(s, pointer)
        for k in s:
            self._unknown(s, k, pointer)
        if "anyOf" in s or "oneOf" in s:
            alt = self.alternatives(s, pointer)
            if alt is not None:
                d = s.get("description")
                alt.description = d if isinstance(d, str) else (desc if desc is not None else alt.description)
                return alt
        names = self._type_names(s, pointer)
        if names is None:
            # no type: anything goes, but an object's keys and an array's items are still
            # checked (object { ... } | any: the first type that matches checks the structure)
            structured = any(k in s for k in ("properties", "required")) or s.get("additionalProperties") is False
            names = (["object"] if structured else []) + (["array"] if "items" in s else []) + ["any"]
        types: list[Type] = []
        for name in names:
            if name == "object":
                has = "properties" in s or "required" in s
                types.append(Type("object", self.object_fields(s, pointer, (), True) if has else None))
                ap = s.get("additionalProperties", True)
                if ap is False:
                    self.note(child(pointer, "additionalProperties"), "additionalProperties false inside an object "
                              "is not enforced (RouteQL flags unplanned keys at the top of properties and traits "
                              "only); dropped")
                elif ap is not True and ap != {}:
                    self.note(child(pointer, "additionalProperties"), "additionalProperties as a schema is not "
                              "supported; dropped")
            elif name == "array":
                items = self._items(s["items"], child(pointer, "items")) if "items" in s else None
                types.append(Type("array", items=items))
            else:
                types.append(Type(name))
        kinds = {t.name for t in types}
        for k, needs in (("properties", "object"), ("required", "object"), ("items", "array")):
            if k in s and needs not in kinds and "any" not in kinds:
                self.note(child(pointer, k), f"{k} has no effect on {' | '.join(t.name for t in types)}; dropped")
        ap = s.get("additionalProperties", True)
        if ap is not True and ap != {} and "object" not in kinds and "any" not in kinds:
            self.note(child(pointer, "additionalProperties"), "additionalProperties has no effect on "
                      f"{' | '.join(t.name for t in types)}; dropped")
        shape = Shape(types)
        self._constraints(s, pointer, shape)
        d = s.get("description")
        if d is not None and not isinstance(d, str):
            self.note(child(pointer, "description"), "description is not a string; dropped")
            d = None
        shape.description = d if d is not None else desc
        return shape

    def _items(self, items: Any, pointer: str) -> Type | None:
        if isinstance(items, list):
            self.note(pointer, "items as a list (one schema per position) is not supported; items not checked")
            return None
        with self.follow(items, pointer) as (s, sp, desc):
            if s is False:
                self.note(sp, "items false (only an empty array is valid) cannot be expressed; items not checked")
                return None
            shape = self.shape(s, sp, desc)
            if len(shape.types) != 1:
                self.note(sp, "array items of several types (" + " | ".join(t.name for t in shape.types) + ") "
                              "cannot be expressed (`array of T` names one type); items not checked")
                return None
            t = shape.types[0]
            dropped = [k for k, on in (("enum", shape.enum is not None), ("minimum/maximum", bool(shape.ranges)),
                                       ("length", bool(shape.lengths)), ("pattern", shape.pattern is not None),
                                       ("format", shape.format is not None)) if on]
            if dropped:
                self.note(sp, f"constraints on array items ({', '.join(dropped)}) cannot be expressed "
                              f"(`array of {t.name}` takes none); dropped")
            if shape.description is not None:
                if t.name == "object" and t.fields is not None:
                    t.description = shape.description
                else:
                    self.note(sp, "a description of array items is kept only for objects with properties; dropped")
            return None if t.name == "any" else t

    # ------------------------------------------------------------ constraints
    def _number(self, s: dict[str, Any], k: str, pointer: str) -> int | float:
        v = s[k]
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise self.error(child(pointer, k), f"{k} must be a finite number, got {json_kind(v)}")
        return v

    def _count(self, s: dict[str, Any], k: str, pointer: str) -> int:
        v = s[k]
        if isinstance(v, float) and v.is_integer():
            v = int(v)
        if isinstance(v, bool) or not isinstance(v, int) or v < 0:
            raise self.error(child(pointer, k), f"{k} must be a non-negative integer, got {v!r}")
        return v

    def _constraints(self, s: dict[str, Any], pointer: str, shape: Shape) -> None:
        names = shape.names
        numbers = bool(names & {"number", "integer", "any"})
        strings = bool(names & {"string", "any"})
        arrays = bool(names & {"array", "any"})
        type_text = " | ".join(t.name for t in shape.types)
        # ranges: numbers only, in both languages
        for k, op in _RANGE_KEYS:
            if k not in s:
                continue
            if k.startswith("exclusive") and isinstance(s[k], bool):
                # draft-04: a boolean turning minimum/maximum exclusive
                base = "minimum" if k == "exclusiveMinimum" else "maximum"
                if s[k] and base in s:
                    self.note(child(pointer, k), f"draft-04 boolean {k} read as the draft-07 form")
                continue
            bound = self._number(s, k, pointer)
            if not numbers:
                self.note(child(pointer, k), f"{k} has no effect on {type_text}; dropped")
                continue
            if k in ("minimum", "maximum") and s.get("exclusive" + k[0].upper() + k[1:]) is True:
                op = op[0]
            shape.ranges.append((op, bound))
        # lengths: JSON Schema counts string characters and array items apart; RouteQL's
        # `length` counts whichever the value is, so both must agree when both can occur
        for op, sk, ak in ((">=", "minLength", "minItems"), ("<=", "maxLength", "maxItems")):
            sv = self._count(s, sk, pointer) if sk in s else None
            av = self._count(s, ak, pointer) if ak in s else None
            if sv is not None and not strings:
                self.note(child(pointer, sk), f"{sk} has no effect on {type_text}; dropped")
                sv = None
            if av is not None and not arrays:
                self.note(child(pointer, ak), f"{ak} has no effect on {type_text}; dropped")
                av = None
            if strings and arrays:
                if sv is not None and sv == av:
                    shape.lengths.append((op, sv))
                elif sv is not None or av is not None:
                    k = sk if sv is not None else ak
                    self.note(child(pointer, k), f"{k} cannot be kept: RouteQL's `length {op}` would apply to "
                              "strings and arrays alike, and this value may be either; dropped")
            elif sv is not None or av is not None:
                shape.lengths.append((op, sv if sv is not None else av))  # type: ignore[arg-type]
        # enum / const
        values: list[Any] | None = None
        if "enum" in s:
            if not isinstance(s["enum"], list):
                raise self.error(child(pointer, "enum"), f"enum must be a list, got {json_kind(s['enum'])}")
            values = list(s["enum"])
            vp = child(pointer, "enum")
            if "const" in s:
                self.note(child(pointer, "const"), "const beside enum: only the enum is kept")
        elif "const" in s:
            values, vp = [s["const"]], child(pointer, "const")
        if values is not None:
            shape.enum = self._enum(values, vp, names)
        # pattern and format: strings only, in both languages
        fmt = s.get("format")
        if fmt is not None:
            p = child(pointer, "format")
            if not isinstance(fmt, str):
                raise self.error(p, f"format must be a string, got {json_kind(fmt)}")
            if fmt not in FORMATS_IN:
                known = ", ".join(sorted(set(FORMATS_IN) - {"date_time"}))
                self.note(p, f"format '{fmt}' is not one RouteQL checks ({known}); dropped")
            elif not strings:
                self.note(p, f"format has no effect on {type_text}; dropped")
            else:
                shape.format = FORMATS_IN[fmt]
        pat = s.get("pattern")
        if pat is not None:
            p = child(pointer, "pattern")
            if not isinstance(pat, str):
                raise self.error(p, f"pattern must be a string, got {json_kind(pat)}")
            if not strings:
                self.note(p, f"pattern has no effect on {type_text}; dropped")
            elif shape.format == "currency" and pat == CURRENCY_PATTERN:
                pass  # written by export beside format currency; the format implies it
            else:
                try:
                    compile_regex(pat)
                    shape.pattern = pat
                except Exception as ex:  # re2.error
                    detail = ex.args[0] if ex.args else ex
                    if isinstance(detail, bytes):
                        detail = detail.decode("utf-8", "replace")
                    self.note(p, f"pattern is not an RE2 regex ({detail}; lookarounds and backreferences are "
                                 "not linear-time); dropped")

    def _enum(self, values: list[Any], pointer: str, names: set[str]) -> list[Any] | None:
        def plain(v: Any) -> bool:
            if isinstance(v, dict):
                return False
            if isinstance(v, float) and not math.isfinite(v):
                return False
            return all(plain(x) for x in v) if isinstance(v, list) else True

        if not all(plain(v) for v in values):
            self.note(pointer, "enum values that are objects cannot be written in RouteQL; enum dropped")
            return None
        if "any" in names:
            return values
        kept = [v for v in values if _enum_fits(v, names)]
        if len(kept) != len(values):
            gone = [v for v in values if not _enum_fits(v, names)]
            self.note(pointer, f"enum values {gone!r} can never be valid ({' | '.join(sorted(names))}); left out")
        return kept

