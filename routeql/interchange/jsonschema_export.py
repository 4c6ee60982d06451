"""Checked RouteQL plans in, Segment Protocols tracking plans (JSON Schema draft-07) out.

Two layouts (see docs/cli/plan.md): ``"plan"``, Segment's tracking plan export
(``{"name", "rules": {"global", "events": [...], "identify", "group", ...}}``), and
``"rules"``, the Public API's list of rules (``[{"type": "TRACK", "key", "version",
"jsonSchema"}]``).  Both carry the plan's RouteQL settings in a ``"routeql"`` object,
which JSON Schema has no place for, so that ``routeql plan import`` gets them back.

Dotted fields become nested objects: ``required context.library.name: string`` is
``context`` (required, an object) holding ``library`` (required, an object) holding
``name``; optional dotted fields nest without ``"type": "object"``, since RouteQL does
not check an optional path whose parent is not an object.

>>> import routeql
>>> plan = routeql.loads('plan { track "Signed Up" { required method: string in ["email"] } }').model.plans[0]
>>> schema = export_plan(plan)["rules"]["events"][0]["rules"]
>>> schema["properties"]["properties"]
{'type': 'object', 'properties': {'method': {'type': 'string', 'enum': ['email']}}, 'required': ['method']}
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Sequence

from ..errors import did_you_mean
from ..plans import ENTRY_ROOTS, EntryModel, FieldRule, PlanModel, TypeRule
from .emit import condition_text
from .jsonschema_import import CURRENCY_PATTERN
from .pointer import InterchangeError

__all__ = ["export_plan", "export_plans", "field_schema", "DRAFT_07", "LAYOUTS"]

DRAFT_07 = "http://json-schema.org/draft-07/schema#"
LAYOUTS = ("plan", "rules")
_FORMATS_OUT = {"date_time": "date-time"}
_LOWER = {">=": "minimum", ">": "exclusiveMinimum"}
_UPPER = {"<=": "maximum", "<": "exclusiveMaximum"}


def _json(value: Any) -> Any:
    return [_json(v) for v in value] if isinstance(value, (tuple, list)) else value


def _plans(source: Any) -> tuple[PlanModel, ...]:
    if isinstance(source, PlanModel):
        return (source,)
    model = getattr(source, "model", source)
    plans = getattr(model, "plans", None)
    if plans is None:
        plans = tuple(source)
    return tuple(plans)


def export_plans(source: Any, plan: str | None = None, *, layout: str = "plan") -> Any:
    """The plans of a RuleSet (or Model, or PlanModels) as Segment tracking plans.

    ``plan`` names one; otherwise a rule set with one plan gives that plan's object and a
    rule set with several gives a list of them, in the order of the rules."""
    plans = _plans(source)
    if layout not in LAYOUTS:
        raise InterchangeError(f"layout must be one of {', '.join(LAYOUTS)}, got {layout!r}")
    if not plans:
        raise InterchangeError("these rules hold no tracking plan")
    if plan is not None:
        for p in plans:
            if p.name == plan:
                return export_plan(p, layout=layout)
        guess = did_you_mean(plan, [p.name for p in plans])
        raise InterchangeError(f"no tracking plan named '{plan}'"
                               + (f" (did you mean '{guess}'?)" if guess else "")
                               + "; plans: " + ", ".join(p.name for p in plans))
    if len(plans) == 1:
        return export_plan(plans[0], layout=layout)
    return [export_plan(p, layout=layout) for p in plans]


def export_plan(plan: PlanModel, *, layout: str = "plan") -> dict[str, Any]:
    """One plan as a Segment tracking plan document."""
    closed = plan.properties != "allow"
    settings: dict[str, Any] = {"unplannedEvents": plan.events, "unplannedProperties": plan.properties,
                                "violations": plan.violations}
    if plan.when is not None:
        settings["when"] = condition_text(plan.when)
    if layout == "rules":
        rules: list[dict[str, Any]] = []
        if plan.common is not None:
            rules.append({"type": "COMMON", "key": None, "version": 1,
                          "jsonSchema": common_schema(plan.common, description=True)})
        for e in plan.entries:
            rules.append({"type": e.kind.upper(), "key": e.name, "version": 1,
                          "jsonSchema": entry_schema(e, closed, description=True)})
        return {"name": plan.name, "rules": rules, "routeql": settings}
    out: dict[str, Any] = {}
    if plan.common is not None:
        out["global"] = common_schema(plan.common, description=True)
    out["events"] = [_event(e, closed) for e in plan.entries if e.kind == "track"]
    for e in plan.entries:
        if e.kind in ("identify", "group"):
            out[e.kind] = entry_schema(e, closed, description=True)
        elif e.kind in ("page", "screen"):
            out.setdefault(e.kind, []).append(_event(e, closed))
    return {"name": plan.name, "rules": out, "routeql": settings}


def _event(e: EntryModel, closed: bool) -> dict[str, Any]:
    out: dict[str, Any] = {"name": e.name}
    if e.description is not None:
        out["description"] = e.description
    out["version"] = 1
    out["rules"] = entry_schema(e, closed, description=False)
    return out


def common_schema(e: EntryModel, *, description: bool) -> dict[str, Any]:
    """The common entry: a schema of the whole event."""
    out: dict[str, Any] = {"$schema": DRAFT_07}
    if description and e.description is not None:
        out["description"] = e.description
    props, required = object_keywords(e.fields)
    out.update({"type": "object", "properties": props})
    if required:
        out["required"] = required
    return out


def entry_schema(e: EntryModel, closed: bool, *, description: bool) -> dict[str, Any]:
    """An entry in Segment's event layout: ``properties`` (or ``traits``) holds its fields."""
    root_key = ENTRY_ROOTS[e.kind][0]
    props, required = object_keywords(e.fields)
    root: dict[str, Any] = {"type": "object", "properties": props}
    if required:
        root["required"] = required
    if closed:
        root["additionalProperties"] = False
    layout = {"context": {}, "properties": {}, "traits": {}}
    layout[root_key] = root
    out: dict[str, Any] = {"$schema": DRAFT_07}
    if description and e.description is not None:
        out["description"] = e.description
    out.update({"type": "object", "properties": layout})
    if required:  # an event without properties at all misses every required one
        out["required"] = [root_key]
    return out


def object_keywords(fields: Sequence[FieldRule]) -> tuple[dict[str, Any], list[str]]:
    """``properties`` and ``required`` for fields; dotted paths nest by their first key."""
    groups: dict[str, list[FieldRule]] = {}
    for f in fields:
        groups.setdefault(f.path[0], []).append(f)
    props: dict[str, Any] = {}
    required: list[str] = []
    for key, group in groups.items():
        own = [f for f in group if len(f.path) == 1]
        subs = [replace(f, path=f.path[1:]) for f in group if len(f.path) > 1]
        needed = False
        schema: dict[str, Any] = {}
        if subs:
            sub_props, sub_required = object_keywords(subs)
            # a required dotted field needs its parents present and objects; optional ones
            # are not checked when a parent is not an object: no type then
            needed = any(f.required for f in subs)
            schema = {"type": "object"} if needed else {}
            schema["properties"] = sub_props
            if sub_required:
                schema["required"] = sub_required
        if own:
            mine = field_schema(own[0])
            needed = needed or own[0].required
            schema = {"allOf": [mine, schema]} if subs else mine
        props[key] = schema
        if needed:
            required.append(key)
    return props, required


def _types(types: Sequence[TypeRule]) -> dict[str, Any]:
    names = list(dict.fromkeys(t.name for t in types))
    out: dict[str, Any] = {}
    if "any" not in names:
        out["type"] = names[0] if len(names) == 1 else names
    # RouteQL checks the structure of the first type that matches: the first object, the first array
    obj = next((t for t in types if t.name == "object"), None)
    if obj is not None and obj.fields is not None:
        props, required = object_keywords(obj.fields)
        out["properties"] = props
        if required:
            out["required"] = required
    arr = next((t for t in types if t.name == "array"), None)
    if arr is not None and arr.items is not None:
        out["items"] = _types((arr.items,))
    return out


def field_schema(f: FieldRule) -> dict[str, Any]:
    """The schema of one field: its types, then each constraint as its keyword."""
    out: dict[str, Any] = {}
    if f.description is not None:
        out["description"] = f.description
    out.update(_types(f.types))
    if f.enum is not None:
        out["enum"] = _json(f.enum)
    # several bounds of one kind: the tightest is the one that counts
    lower: dict[str, Any] = {}
    upper: dict[str, Any] = {}
    for op, bound in f.ranges:
        if op in _LOWER:
            lower[op] = bound if op not in lower else max(lower[op], bound)
        elif op in _UPPER:
            upper[op] = bound if op not in upper else min(upper[op], bound)
    for op, key in _LOWER.items():
        if op in lower:
            out[key] = lower[op]
    for op, key in _UPPER.items():
        if op in upper:
            out[key] = upper[op]
    sizes: dict[str, int] = {}
    for op, n in f.lengths:
        if op in (">=", ">"):
            n = n + 1 if op == ">" else n
            sizes[">="] = max(sizes.get(">=", n), n)
        elif op in ("<=", "<"):
            n = n - 1 if op == "<" else n
            sizes["<="] = min(sizes.get("<=", n), n)
    names = f.type_names
    for op, (sk, ak) in ((">=", ("minLength", "minItems")), ("<=", ("maxLength", "maxItems"))):
        if op in sizes:
            if names & {"string", "any"}:
                out[sk] = max(sizes[op], 0)
            if names & {"array", "any"}:
                out[ak] = max(sizes[op], 0)
    if f.pattern is not None:
        out["pattern"] = f.pattern
    if f.format is not None:
        out["format"] = _FORMATS_OUT.get(f.format, f.format)
        if f.format == "currency" and f.pattern is None:
            out["pattern"] = CURRENCY_PATTERN  # for validators that skip formats they do not know
    return out
