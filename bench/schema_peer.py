"""The tracking-plan peer: the same plan, exported to JSON Schema, checked by fastjsonschema.

fastjsonschema compiles a JSON Schema into Python source, as RouteQL compiles a plan: it
is the fastest JSON Schema validator for CPython, and what a team would reach for to
enforce a Segment Protocols export without RouteQL.  The plan goes through
``routeql plan export`` (Segment's layout: a schema per track event, one for pages and
screens, a global one), each schema is compiled once, and an event is valid when the
global schema and its own schema accept it; an event the plan does not list is not valid
(the benchmark plan flags unplanned events).  The format checks are RouteQL's own,
passed to fastjsonschema, so both sides mean the same by ``uri`` or ``currency``.

The verdict is what is compared (valid or not): fastjsonschema stops at the first
violation, RouteQL lists them all, which only costs RouteQL more.
"""

from __future__ import annotations

import importlib.util
from typing import Any, Callable

from routeql.engine import RuleSet
from routeql.interchange.jsonschema_export import export_plans
from routeql.plans import FORMATS

PACKAGE = "fastjsonschema"


def available() -> bool:
    return importlib.util.find_spec(PACKAGE) is not None


def validator(rules: RuleSet) -> Callable[[Any], bool]:
    """``valid(event)`` for the one plan of ``rules``, by fastjsonschema."""
    import fastjsonschema

    formats = {name.replace("_", "-"): check for name, check in FORMATS.items()}

    def compiled(schema: dict[str, Any]) -> Callable[[Any], Any]:
        return fastjsonschema.compile(schema, formats=formats)

    doc = export_plans(rules)["rules"]
    common = compiled(doc["global"]) if "global" in doc else None
    track = {e["name"]: compiled(e["rules"]) for e in doc.get("events", [])}
    named = {t: {e.get("name"): compiled(e["rules"]) for e in doc.get(t, [])} for t in ("page", "screen")}
    single = {t: compiled(doc[t]) for t in ("identify", "group") if t in doc}
    invalid = fastjsonschema.JsonSchemaException

    def valid(e: Any) -> bool:
        try:
            if common is not None:
                common(e)
            t = e["type"]
            if t == "track":
                check = track.get(e.get("event"))
            elif t in named:
                by_name = named[t]
                check = by_name.get(e.get("name"), by_name.get(None))
            else:
                check = single.get(t)
            if check is None:
                return False  # an unplanned event
            check(e)
            return True
        except invalid:
            return False

    return valid
