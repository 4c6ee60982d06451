"""A traced routing -> an explanation per destination and per field, as styled text.

It names stages, rules (with file:line), consent categories and field paths, and never
a field value: explanations can be pasted into tickets and logs (docs/cli/explain.md).

>>> import routeql
>>> rules = routeql.loads('destination crm { when type = "identify"  keep userId }', "t.rq")
>>> print(explain(rules.route({"type": "track", "event": "x", "userId": "u1"}, trace=True), rules.model).plain)
crm  skipped at when: the condition is false  [t.rq:1:19]
  ✗ when         when type = "identify"  (t.rq:1:19)
"""

from __future__ import annotations

from typing import Any, Iterable, Sequence

from rich.text import Text

from ..consent.resolve import ConsentState
from ..engine import Routing
from ..model import Model
from ..result import DestinationTrace, FieldFate
from .events import collapse_indexes, leaf_values

__all__ = ["explain", "json_explanation", "FATE_STYLE"]

#: how each field fate is shown on a terminal
FATE_STYLE = {"kept": "dim", "dropped": "red", "hashed": "yellow", "redacted": "yellow", "truncated": "cyan"}
_FATE_MARK = {"kept": "=", "dropped": "-", "hashed": "#", "redacted": "*", "truncated": "~"}
_STEP_MARK = {"pass": ("✓", "green"), "fail": ("✗", "bold red"), "skip": ("·", "dim")}
#: stages that decide delivery (the others are field rules, shown with the fields)
_DECIDING = ("plan", "integrations", "consent", "when", "sample")


def explain(routing: Routing, model: Model, *, destinations: Sequence[str] | None = None,
            fields: bool = True, event: Any = None) -> Text:
    """The explanation of one routing (routed with ``trace=True``), as rich Text.

    ``destinations`` limits it to some destinations; ``fields=False`` leaves out the
    per-field fates; ``event`` (the input) lets consent problems be reported without
    echoing any of its values.
    """
    trace = routing.trace
    out = Text()
    _consent(out, trace.consent, event)
    names = list(destinations) if destinations else list(trace.destinations)
    for name in names:
        t = trace.destinations[name]
        if out:
            out.append("\n")
        _destination(out, t, model, trace.consent, fields)
    out.rstrip()
    return out


def json_explanation(routing: Routing, *, destinations: Sequence[str] | None = None,
                     consent_given: dict[str, bool] | None = None) -> dict[str, Any]:
    """``Routing.to_dict(trace=True)`` plus the consent given on the command line."""
    data = routing.to_dict(trace=True)
    if destinations:
        keep = set(destinations)
        data["deliveries"] = {k: v for k, v in data["deliveries"].items() if k in keep}
        data["skipped"] = {k: v for k, v in data["skipped"].items() if k in keep}
        data["trace"]["destinations"] = {k: v for k, v in data["trace"]["destinations"].items() if k in keep}
    data["consent_given"] = dict(consent_given or {})
    return data


# ------------------------------------------------------------------ consent


def _consent(out: Text, c: ConsentState, event: Any) -> None:
    if not c.categories:
        return
    regime = f"regime {c.regime} ({c.regime_kind})" if c.regime else "no regime"
    out.append("consent", style="bold")
    out.append(f"  {regime}" + ("" if c.enforced else ", not enforced (compat mode, no signal)") + "\n")
    for d in c.decisions:
        out.append(f"  {d.category:<18} ")
        out.append("granted" if d.granted else "denied ", style="green" if d.granted else "red")
        out.append(f"  {d.reason}: {d.source}\n", style="dim")
    values = leaf_values(event) if event is not None else set()
    for s in c.problems:
        out.append(f"  ! {s.format} signal malformed: {_scrub(s.detail, values)}"
                   " (no valid signal: what it maps is denied)\n", style="yellow")


def _scrub(text: str, values: Iterable[str]) -> str:
    """Replace any value of the event a decoder message may quote (short consent strings)."""
    for v in sorted(values, key=len, reverse=True):
        if v and (len(v) >= 4 or repr(v) in text):
            text = text.replace(repr(v), "'…'") if repr(v) in text else text.replace(v, "…")
    return text


# ------------------------------------------------------------------ destinations


def _destination(out: Text, t: DestinationTrace, model: Model, consent: ConsentState, fields: bool) -> None:
    out.append(t.destination, style="bold")
    if t.delivered:
        out.append("  delivered", style="bold green")
    else:
        r = t.reason
        assert r is not None
        out.append(f"  skipped at {r.stage}", style="bold red")
        out.append(f": {r.detail}")
        if r.at:
            out.append(f"  [{r.at}]", style="dim")
        if r.category:
            out.append(f"  category: {r.category}", style="red")
        if r.policy:
            out.append(f"  policy: {r.policy}")
    out.append("\n")
    field_rules = []
    for step in t.steps:
        if step.stage == "integrations" and step.outcome == "pass":
            continue  # the common case: nothing in the event's integrations object
        if step.stage not in _DECIDING and not _is_event_policy(model, t.destination, step.at):
            field_rules.append(step)
            continue
        _step(out, step.stage, step.outcome, step.rule, step.at, step.detail, _categories(model, t.destination, step.at, consent))
    if t.delivered and fields:
        for step in field_rules:
            _step(out, step.stage, step.outcome, step.rule, step.at, step.detail, "")
        _fields(out, t.fields)


def _step(out: Text, stage: str, outcome: str, rule: str, at: str, detail: str, extra: str) -> None:
    mark, style = _STEP_MARK.get(outcome, ("?", ""))
    out.append("  ")
    out.append(mark, style=style)
    out.append(f" {stage:<12} ")
    out.append(rule or detail, style="dim" if outcome == "skip" else "")
    if at:
        out.append(f"  ({at})", style="dim")
    if outcome == "skip" and detail:
        out.append(f"  {detail}", style="dim")
    if extra:
        out.append(f"  {extra}", style="green" if outcome == "pass" else "red")
    out.append("\n")


def _is_event_policy(model: Model, name: str, at: str) -> bool:
    return any(p.origin.at == at for p in model.destination(name).event_policies)


def _categories(model: Model, name: str, at: str, consent: ConsentState) -> str:
    """For a consent step: each category it tests, granted or denied, and by what."""
    d = model.destination(name)
    cats: tuple[str, ...] = ()
    for req in d.requires:
        if req.origin.at == at:
            cats = req.categories + tuple(f"tcf vendor {v[0]}" for v in getattr(req, "vendors", ()))
    for p in d.event_policies:
        if p.origin.at == at and p.kind == "require_consent":
            cats = p.categories
    parts = []
    for c in cats:
        try:
            dec = consent.decision(c)
        except KeyError:  # no consent model: nothing was decided
            continue
        parts.append(f"{c} {'granted' if dec.granted else 'denied'} ({dec.source})")
    return "; ".join(parts)


def _fields(out: Text, fates: Sequence[FieldFate]) -> None:
    """One line per field (list positions collapsed), received fields first."""
    groups: dict[tuple[str, str, str | None, str | None, str | None], int] = {}
    for f in fates:
        key = (collapse_indexes(f.path), f.fate, f.rule, f.at, f.stage)
        groups[key] = groups.get(key, 0) + 1
    if not groups:
        return
    out.append("  fields\n", style="bold")
    ordered = [k for k in groups if k[1] != "dropped"] + [k for k in groups if k[1] == "dropped"]
    width = min(max(len(k[0]) for k in ordered) + 2, 48)
    for key in ordered:
        path, fate, rule, at, stage = key
        n = groups[key]
        style = FATE_STYLE.get(fate, "")
        shown = path + (f" ({n})" if n > 1 else "")
        out.append(f"    {_FATE_MARK.get(fate, '?')} {shown:<{width}} ", style=style)
        out.append(f"{fate:<9}" if rule else fate, style=style)
        if rule and stage == "keep":  # the keep list is shown once, with the steps
            out.append("  not in keep", style="dim")
            out.append(f"  ({at})", style="dim")
        elif rule:
            out.append(f"  by {rule}", style="dim" if fate == "kept" else "")
            out.append(f"  ({at})", style="dim")
        out.append("\n")
