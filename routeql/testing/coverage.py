"""Routings of fixture cases -> coverage of rule outcomes and of the consent space.

Two kinds of items, counted per destination:

- **rule outcomes**: every statement with an origin, once per outcome it can have.
  ``requires`` is met / not met, ``when`` true / false, ``sample`` kept / sampled out,
  a ``require consent`` policy allowed / stopped, a ``forbid events`` policy stopped;
  a guarded statement (``if`` / ``unless``) also has "condition false".  A field action
  (keep, drop, hash, redact, truncate) and a field policy count as applied when the
  case's trace shows them applied and, except ``keep``, acting on at least one field of
  the event (a ``hash pii.email`` run on an event without an e-mail proves nothing).
- **consent combinations**: the categories a destination depends on (its ``requires``,
  the ``consent`` tests in its conditions and guards, the policies that cover it), each
  granted or denied: 2^n combinations.  A case exercises one when the destination's
  ``when`` conditions hold for the event (consent aside, an event the destination would
  never take says nothing about consent) and the consent state resolved for the case
  has that combination.

Total coverage = covered items / all items, over both kinds.

>>> from routeql import loads
>>> rules = loads('consent { category ads from segment "Advertising" }  destination g { requires ads }')
>>> cov = Coverage(rules)
>>> cov.record({"type": "page"}, rules.route({"type": "page"}, {"ads": True}, trace=True))
>>> cov.totals()
{'outcomes': (1, 2), 'consent': (1, 2), 'total': (2, 4), 'percent': 50.0}
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from typing import Any, Iterable, Union

from .. import nodes as n
from ..consent.resolve import ConsentState
from ..engine import RuleSet, Routing
from ..model import DestinationModel, Origin

__all__ = ["Statement", "DestinationCoverage", "Coverage", "OUTCOME_WORDS", "percent"]

#: How each outcome of each kind of statement is said in reports.
OUTCOME_WORDS: dict[str, dict[str, str]] = {
    "requires": {"pass": "met", "fail": "not met"},
    "when": {"pass": "true", "fail": "false"},
    "sample": {"pass": "kept", "fail": "sampled out", "skip": "condition false"},
    "policy": {"pass": "allowed", "fail": "stopped", "skip": "condition false"},
    "field": {"pass": "applied", "skip": "condition false"},
}


#: One thing a destination's consent depends on: a category, or a TCF vendor requirement.
Dimension = Union[str, tuple[int, str]]


@dataclass
class Statement:
    """One rule statement as it applies to one destination, and the outcomes seen."""

    destination: str
    kind: str  # requires, when, sample, policy, keep, drop, hash, redact, truncate
    stage: str  # the trace stage its steps carry
    rule: str
    at: str
    outcomes: tuple[str, ...]
    #: counts as applied only when a field fate names it (drop, transforms, field policies)
    needs_effect: bool = False
    seen: set[str] = field(default_factory=set)
    #: outcomes the destination's own consent requirements rule out -> why (not counted)
    unreachable: dict[str, str] = field(default_factory=dict)

    @property
    def words(self) -> dict[str, str]:
        return OUTCOME_WORDS.get(self.kind, OUTCOME_WORDS["field"])

    def describe(self) -> str:
        """``true seen, false never``."""
        return ", ".join(f"{self.words[o]} {'seen' if o in self.seen else 'never'}" for o in self.outcomes)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind, "rule": self.rule, "at": self.at,
                               "outcomes": {self.words[o]: o in self.seen for o in self.outcomes}}
        if self.unreachable:
            out["unreachable"] = {self.words[o]: why for o, why in self.unreachable.items()}
        return out


@dataclass
class DestinationCoverage:
    name: str
    at: str
    statements: list[Statement]
    #: what the destination's consent depends on, in declaration order: category names,
    #: then TCF vendor requirements as (vendor id, basis)
    categories: tuple[Dimension, ...]
    combinations_seen: set[tuple[bool, ...]] = field(default_factory=set)

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(_label(c) for c in self.categories)

    @property
    def outcomes(self) -> tuple[int, int]:
        return sum(len(s.seen) for s in self.statements), sum(len(s.outcomes) for s in self.statements)

    @property
    def consent(self) -> tuple[int, int]:
        return (len(self.combinations_seen), 2 ** len(self.categories)) if self.categories else (0, 0)

    def combinations(self) -> list[tuple[bool, ...]]:
        return list(itertools.product((True, False), repeat=len(self.categories))) if self.categories else []

    def label(self, combo: tuple[bool, ...]) -> str:
        return ", ".join(f"{c} {'granted' if v else 'denied'}" for c, v in zip(self.labels, combo))

    def to_dict(self) -> dict[str, Any]:
        oc, ot = self.outcomes
        cc, ct = self.consent
        return {
            "at": self.at,
            "outcomes": {"covered": oc, "total": ot},
            "consent": {"covered": cc, "total": ct, "categories": list(self.labels),
                        "combinations": [{"state": dict(zip(self.labels, combo)),
                                          "covered": combo in self.combinations_seen}
                                         for combo in self.combinations()]},
            "statements": [s.to_dict() for s in self.statements],
        }


def _consent_tests(exprs: Iterable[Any]) -> set[str]:
    out: set[str] = set()
    for e in exprs:
        if e is not None:
            out.update(x.category for x in n.walk(e) if isinstance(x, n.ConsentTest))
    return out


def _tri(e: Any, granted: frozenset[str]) -> bool | None:
    """A condition's value when only the ``granted`` categories are known (None: depends
    on the event).  Finds outcomes consent makes impossible after the consent stage."""
    if isinstance(e, n.ConsentTest):
        return True if e.category in granted else None
    if isinstance(e, n.Not):
        v = _tri(e.operand, granted)
        return None if v is None else not v
    if isinstance(e, (n.And, n.Or)):
        values = [_tri(x, granted) for x in e.items]
        decisive = isinstance(e, n.Or)  # True decides an `or`, False decides an `and`
        if decisive in values:
            return decisive
        return (not decisive) if all(v is (not decisive) for v in values) else None
    return None


def _statements(d: DestinationModel) -> list[Statement]:
    # Every stage after consent runs only when each `requires` held: those categories are granted.
    required = frozenset(c for r in d.requires if not r.any or len(r.categories) == 1 for c in r.categories)
    because = f"{d.name} requires " + ", ".join(sorted(required)) if required else ""

    def st(kind: str, stage: str, origin: Origin, base: tuple[str, ...], guard: Any = None,
           effect: bool = False, impossible: tuple[str, ...] = ()) -> Statement:
        outcomes = base + (("skip",) if guard is not None else ())
        value = _tri(guard, required) if guard is not None else None
        if value is True:
            impossible += ("skip",)
        elif value is False:
            impossible += tuple(o for o in outcomes if o != "skip")
        unreachable = {o: because for o in outcomes if o in impossible}
        return Statement(d.name, kind, stage, origin.text, origin.at,
                         tuple(o for o in outcomes if o not in unreachable), effect, unreachable=unreachable)

    out = [st("requires", "consent", r.origin, ("pass", "fail")) for r in d.requires]
    for expr, origin in d.whens:
        value = _tri(expr, required)
        out.append(st("when", "when", origin, ("pass", "fail"),
                      impossible=("fail",) if value is True else ("pass",) if value is False else ()))
    out += [st("sample", "sample", s.origin, ("pass", "fail"), s.guard) for s in d.samples]
    for p in d.event_policies:
        if p.kind == "forbid_events":
            out.append(st("policy", "policies", p.origin, ("fail",), p.guard))
            continue
        # `require consent` cannot stop what the destination's own `requires` already let through
        covered = set(p.categories) & required if p.any else set(p.categories) <= required
        out.append(st("policy", "policies", p.origin, ("pass", "fail"), p.guard, impossible=("fail",) if covered else ()))
    out += [st("keep", "keep", a.origin, ("pass",), a.guard) for a in d.keeps]
    out += [st("drop", "drop", a.origin, ("pass",), a.guard, True) for a in d.drops]
    for a in d.transforms:
        kind = "truncate" if a.kind.startswith("truncate") else a.kind
        out.append(st(kind, "transforms", a.origin, ("pass",), a.guard, True))
    # a field policy's "pass" means it removed fields: it reads like a field action
    out += [st("forbid fields", "policies", p.origin, ("pass",), p.guard, True) for p in d.field_policies]
    return out


def _label(dim: Dimension) -> str:
    if isinstance(dim, str):
        return dim
    vendor, basis = dim
    return f"tcf vendor {vendor}" + (f" by {basis}" if basis != "consent" else "")


def _granted(state: ConsentState, dim: Dimension) -> bool:
    return state.granted(dim) if isinstance(dim, str) else state.vendor_ok(dim)


def _categories(d: DestinationModel, order: tuple[str, ...]) -> tuple[Dimension, ...]:
    used = {c for r in d.requires for c in r.categories}
    used |= {c for p in d.event_policies for c in p.categories}
    used |= _consent_tests([e for e, _ in d.whens])
    used |= _consent_tests(s.guard for s in d.samples)
    used |= _consent_tests(a.guard for a in (*d.keeps, *d.drops, *d.transforms))
    used |= _consent_tests(p.guard for p in (*d.event_policies, *d.field_policies))
    vendors = tuple(dict.fromkeys(v for r in d.requires for v in getattr(r, "vendors", ())))
    return (*(c for c in order if c in used), *vendors)


class Coverage:
    """Accumulates what fixture cases exercised; :meth:`record` one routing at a time."""

    def __init__(self, rules: RuleSet) -> None:
        self.rules = rules
        order = rules.model.consent.names if rules.model.consent is not None else ()
        self.destinations: dict[str, DestinationCoverage] = {}
        for d in rules.model.destinations:
            at = f"{d.span.file}:{d.span.line}:{d.span.col}"
            self.destinations[d.name] = DestinationCoverage(d.name, at, _statements(d), _categories(d, order))
        self._index = {(s.destination, s.stage, s.at): s for dc in self.destinations.values() for s in dc.statements}
        self.cases = 0

    def record(self, event: dict[str, Any], routing: Routing) -> None:
        """Count what one routed case exercised (``routing`` with its trace)."""
        self.cases += 1
        trace = routing.trace
        state = trace.consent
        interp = self.rules.interpreter
        for name, dt in trace.destinations.items():
            for step in dt.steps:
                s = self._index.get((name, step.stage, step.at))
                if s is None or step.outcome not in s.outcomes:
                    continue
                if step.outcome == "pass" and s.needs_effect and not any(
                        f.at == s.at and f.stage == s.stage for f in dt.fields):
                    continue
                s.seen.add(step.outcome)
            dc = self.destinations.get(name)
            if dc is None or not dc.categories or not dt.steps or dt.steps[0].outcome == "fail":
                continue
            model = self.rules.model.destination(name)
            if all(interp.holds(e, event, state) for e, _ in model.whens):
                dc.combinations_seen.add(tuple(_granted(state, c) for c in dc.categories))

    # ------------------------------------------------------------ numbers
    def totals(self) -> dict[str, Any]:
        oc = sum(d.outcomes[0] for d in self.destinations.values())
        ot = sum(d.outcomes[1] for d in self.destinations.values())
        cc = sum(d.consent[0] for d in self.destinations.values())
        ct = sum(d.consent[1] for d in self.destinations.values())
        return {"outcomes": (oc, ot), "consent": (cc, ct), "total": (oc + cc, ot + ct),
                "percent": percent(oc + cc, ot + ct)}

    def below(self, minimum: float) -> bool:
        """Whether total coverage is under ``minimum`` percent (exact, no rounding)."""
        covered, total = self.totals()["total"]
        return total > 0 and covered * 100 < minimum * total

    def to_dict(self) -> dict[str, Any]:
        t = self.totals()
        return {
            "percent": t["percent"],
            "covered": t["total"][0], "total": t["total"][1],
            "outcomes": {"covered": t["outcomes"][0], "total": t["outcomes"][1]},
            "consent": {"covered": t["consent"][0], "total": t["consent"][1]},
            "cases": self.cases,
            "destinations": {k: v.to_dict() for k, v in self.destinations.items()},
        }


def percent(covered: int, total: int) -> float:
    """Rounded *down* to one decimal, so a report never shows 80.0% for 79.96%."""
    if total == 0:
        return 100.0
    return math.floor(covered * 1000 / total) / 10
