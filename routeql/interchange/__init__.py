"""Tracking plans between RouteQL and JSON Schema: Segment Protocols documents in and out.

``import_plans(json_data)`` turns a Segment tracking plan (JSON Schema draft-07 per
event) into RouteQL ``plan`` source; ``export_plans(rules)`` turns the plans of a rule set
back into that JSON.  ``routeql plan import`` / ``routeql plan export`` are the CLI
(docs/cli/plan.md has the mapping keyword by keyword).

>>> import routeql
>>> rules = routeql.loads('plan web { track "Signed Up" { required method: string } }')
>>> doc = export_plans(rules)
>>> print(import_plans(doc).source, end="")
plan web {
  unplanned events allow
  unplanned properties allow
  violations flag
<BLANKLINE>
  track "Signed Up" { required method: string }
}
"""

from __future__ import annotations

from .draft import Note
from .jsonschema_export import DRAFT_07, LAYOUTS, export_plan, export_plans
from .plan_import import ImportResult, import_plans
from .pointer import InterchangeError

__all__ = ["import_plans", "export_plans", "export_plan", "ImportResult", "Note", "InterchangeError", "DRAFT_07",
           "LAYOUTS"]
