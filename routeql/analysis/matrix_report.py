"""A :class:`~routeql.analysis.flows.Matrix` -> Markdown, JSON, or a self-contained HTML page.

The page has no external resource (no CDN, no font, no network): styles and a small
filter script are inline, so it works offline, from a file, in a CI artefact.

>>> import routeql
>>> from routeql.analysis.flows import compute_matrix
>>> m = compute_matrix(routeql.loads('destination crm { keep userId }', "t.rq").model)
>>> print(render_markdown(m).splitlines()[4])
| `crm` | – | none | always | 1 | – |
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import TYPE_CHECKING

from .flows import Cell, DestinationFlows, Matrix

if TYPE_CHECKING:
    import jinja2

__all__ = ["render_markdown", "render_json", "render_html", "LEGEND"]

#: status -> what the colour means (the page's legend, in this order)
LEGEND = (
    ("sent", "sent in clear"),
    ("conditional", "depends on the event"),
    ("partial", "partly kept"),
    ("truncated", "truncated"),
    ("hashed", "hashed"),
    ("redacted", "redacted"),
    ("dropped", "dropped"),
    ("none", "not delivered"),
)
_WORD = {"sent": "sent", "conditional": "conditional", "partial": "partly", "truncated": "truncated",
         "hashed": "hashed", "redacted": "redacted", "dropped": "dropped", "none": "—"}
_DELIVERY_WORD = {"yes": "every event", "depends": "some events", "no": "none"}


def word(cell: Cell) -> str:
    """The short word a grid cell shows (the full text is beside or under it)."""
    return _WORD.get(cell.status, cell.status)


def detail(cell: Cell) -> str:
    """What a cell's text says beyond its word ("by policy", "if type = ...", "partly: ...").

    >>> detail(Cell("dropped", "dropped by policy")), detail(Cell("sent", "sent; partly: traits.x dropped"))
    ('by policy', 'partly: traits.x dropped')
    """
    if cell.status == "none":
        return ""
    w = word(cell)
    text = cell.text
    for prefix in (w, cell.status):
        if text.startswith(prefix):
            return text[len(prefix):].lstrip("; ").strip()
    return text


def reach(d: DestinationFlows) -> str:
    """In how many consent states a destination can receive events, and whether every event.

    >>> from routeql.analysis.flows import Delivery
    >>> d = DestinationFlows("x", (), "", False, (), (), (Delivery("yes", ""), Delivery("no", "")), (), (), ())
    >>> reach(d)
    'every event, in 1 of 2 consent states'
    """
    states = len(d.delivery)
    able = [x for x in d.delivery if x.status != "no"]
    if not able:
        return "never"
    amount = "every event" if all(x.status == "yes" for x in able) else "some events"
    if len(able) == states:
        return "always" if amount == "every event" else amount
    return f"{amount}, in {len(able)} of {states} consent states"


def _md(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;").replace("\n", " ")


def render_markdown(matrix: Matrix) -> str:
    """A summary table, then one table per destination (rows it never receives are counted, not listed)."""
    out = ["## What flows where", "",
           "| destination | tags | consent needed | can receive | fields it can receive | classes it can receive |",
           "|---|---|---|---|---:|---|"]
    for d in matrix.destinations:
        fields = str(len(d.fields_received)) + (" + every field no rule names" if d.other_fields else "")
        out.append(f"| `{d.name}` | {_md(', '.join(d.tags)) or '–'} | {_md('; '.join(d.consent)) or 'none'} "
                   f"| {reach(d)} | {fields} | {_md(', '.join(d.classes_received)) or '–'} |")
    out.append("")
    for d in matrix.destinations:
        out += _destination_md(d)
    out.append("Computed statically from the rules. \"depends on\" / \"if ...\" name the rule whose condition on the "
               "event decides; an event's `integrations` object can also switch any destination off.")
    return "\n".join(out) + "\n"


def _destination_md(d: DestinationFlows) -> list[str]:
    out = [f"### `{d.name}`", "", f"- defined at {d.at}; consent needed: {_md('; '.join(d.consent)) or 'none'}"]
    out += [f"- {c.kind}: `{c.text}` ({c.at})" for c in d.conditions]
    out += [f"- policy \"{_md(p.policy or '')}\": `{p.text}` ({p.at})" for p in d.policies]
    out += [f"- tracking plan: `{p.text}` ({p.at})" for p in d.plans]
    out.append("")
    header = "| field / class | " + " | ".join(_md(c.label) for c in d.columns) + " |"
    out += [header, "|---|" + "---|" * len(d.columns)]
    out.append("| **delivery** | " + " | ".join(_md(x.text if x.status != "yes" else "every event") for x in d.delivery) + " |")
    hidden = 0
    for row in d.rows:
        if not row.receives:
            hidden += 1
            continue
        name = f"`{row.name}` (class)" if row.kind == "class" else (row.name if row.kind == "other" else f"`{row.name}`")
        out.append(f"| {name} | " + " | ".join(_md(c.text) for c in row.cells) + " |")
    out.append("")
    if hidden:
        out += [f"{hidden} other fields and classes the rules name: never received.", ""]
    return out


def render_json(matrix: Matrix) -> str:
    return json.dumps(matrix.to_dict(), indent=2, ensure_ascii=False)


@lru_cache(maxsize=1)
def _environment() -> "jinja2.Environment":
    import jinja2  # only the HTML page needs it: keep `routeql` start-up light

    env = jinja2.Environment(loader=jinja2.PackageLoader("routeql.analysis", "templates"), autoescape=True,
                             trim_blocks=True, lstrip_blocks=True, undefined=jinja2.StrictUndefined)
    env.globals.update(word=word, detail=detail, reach=reach, legend=LEGEND, delivery_word=_DELIVERY_WORD)
    return env


def render_html(matrix: Matrix, title: str = "rules") -> str:
    """The audit page: a summary table, then one colour-coded grid per destination."""
    from .. import __version__

    template = _environment().get_template("matrix.html.j2")
    return str(template.render(matrix=matrix, title=title, routeql_version=__version__))
