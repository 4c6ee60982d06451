"""A checked model -> what flows where: destination x field/class x consent state, computed statically.

No traffic is looked at.  For every destination, every combination of the consent
categories that matter to it is a column; consent tests are decided exactly in each
column, and whatever else a rule tests (event content) is reported as a condition
("sent if ...", "depends on: <rule>"), never guessed.  Rows are every field path and
data class the rules mention, plus "fields no rule names".

>>> import routeql
>>> rules = routeql.loads('''
... consent { category ads from segment "Advertising" }
... destination g tagged ads { requires ads  keep email, userId  hash email }
... ''', "t.rq")
>>> m = compute_matrix(rules.model)
>>> g = m.destinations[0]
>>> [c.label for c in g.columns]
['ads ✓', 'ads ✗']
>>> [cell.text for cell in g.row("email").cells]
['hashed', 'not delivered']
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Sequence

from .. import nodes as n
from ..errors import RouteQLError
from ..model import DestinationModel, FieldAction, Model, Origin
from ..nodes import WILD, format_path
from ..passes import fold, normalize
from .rules_text import GuardTexts

__all__ = ["RuleRef", "Cell", "Delivery", "Column", "Row", "DestinationFlows", "Matrix", "compute_matrix",
           "EXPOSURE", "OTHER_ROW"]

#: the row for fields no rule names (a key no pattern but ``*`` can match)
OTHER_ROW = "(fields no rule names)"
_OTHER_KEY = "\0other"
#: more exposing statuses sort higher (a class takes the most exposing of its paths)
EXPOSURE = {"sent": 7, "conditional": 6, "partial": 5, "truncated": 4, "hashed": 3, "redacted": 2, "dropped": 1,
            "none": 0}
_VERB = {"hash": "hashed", "redact": "redacted"}
#: a destination whose grid would exceed this many consent columns is refused
MAX_DIMENSIONS = 10


@dataclass(frozen=True)
class RuleRef:
    """A statement a verdict rests on: its kind, text and file:line:col."""

    kind: str
    text: str
    at: str
    policy: str | None = None

    @classmethod
    def of(cls, origin: Origin, policy: str | None = None) -> "RuleRef":
        return cls(origin.kind, origin.text, origin.at, policy)

    def to_dict(self) -> dict[str, Any]:
        out = {"kind": self.kind, "rule": self.text, "at": self.at}
        if self.policy:
            out["policy"] = self.policy
        return out


@dataclass(frozen=True)
class Cell:
    """What one destination receives of one field (or class) in one consent state."""

    status: str  # sent | hashed | redacted | truncated | dropped | conditional | partial | none
    text: str
    rules: tuple[RuleRef, ...] = ()

    @property
    def receives(self) -> bool:
        return self.status not in ("dropped", "none")

    def to_dict(self) -> dict[str, Any]:
        return {"status": self.status, "text": self.text, "rules": [r.to_dict() for r in self.rules]}


@dataclass(frozen=True)
class Delivery:
    """Whether a destination can receive events in one consent state: yes, no, or depends."""

    status: str  # "yes" | "no" | "depends"
    text: str
    rules: tuple[RuleRef, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"status": self.status, "text": self.text, "rules": [r.to_dict() for r in self.rules]}


@dataclass(frozen=True)
class Column:
    """One consent state: a value for each category (or TCF vendor) that matters."""

    values: tuple[tuple[str, bool], ...]

    @property
    def label(self) -> str:
        if not self.values:
            return "any consent"
        return " ".join(f"{k} {'✓' if v else '✗'}" for k, v in self.values)

    def to_dict(self) -> dict[str, bool]:
        return dict(self.values)


@dataclass(frozen=True)
class Row:
    kind: str  # "field" | "class" | "other"
    name: str
    cells: tuple[Cell, ...]
    paths: tuple[str, ...] = ()  # a class's field paths

    @property
    def receives(self) -> bool:
        return any(c.receives for c in self.cells)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind, "name": self.name, "cells": [c.to_dict() for c in self.cells]}
        if self.paths:
            out["paths"] = list(self.paths)
        return out


@dataclass(frozen=True)
class DestinationFlows:
    name: str
    tags: tuple[str, ...]
    at: str
    has_keep: bool
    consent: tuple[str, ...]  # what consent it needs, in words
    columns: tuple[Column, ...]
    delivery: tuple[Delivery, ...]
    rows: tuple[Row, ...]
    conditions: tuple[RuleRef, ...]  # its when / sample statements
    policies: tuple[RuleRef, ...]  # every policy statement that applies to it
    plans: tuple[RuleRef, ...] = ()  # the tracking plans that may apply, with this destination's modes

    def row(self, name: str) -> Row:
        for r in self.rows:
            if r.name == name:
                return r
        raise KeyError(name)

    @property
    def can_receive(self) -> bool:
        return any(d.status != "no" for d in self.delivery)

    @property
    def fields_received(self) -> tuple[str, ...]:
        return tuple(r.name for r in self.rows if r.kind == "field" and r.receives)

    @property
    def classes_received(self) -> tuple[str, ...]:
        return tuple(r.name for r in self.rows if r.kind == "class" and r.receives)

    @property
    def other_fields(self) -> bool:
        """Does it receive fields that no rule names (no keep list)?"""
        return any(r.receives for r in self.rows if r.kind == "other")

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name, "tags": list(self.tags), "at": self.at, "keep": self.has_keep,
            "consent": list(self.consent),
            "columns": [c.to_dict() for c in self.columns],
            "delivery": [d.to_dict() for d in self.delivery],
            "conditions": [c.to_dict() for c in self.conditions],
            "policies": [p.to_dict() for p in self.policies],
            "plans": [p.to_dict() for p in self.plans],
            "receives": {"fields": list(self.fields_received), "classes": list(self.classes_received),
                         "fields_no_rule_names": self.other_fields},
            "rows": [r.to_dict() for r in self.rows],
        }


@dataclass(frozen=True)
class Matrix:
    """Every destination's flows, and the fields and classes the rules mention."""

    version: str
    categories: tuple[str, ...]
    fields: tuple[str, ...]
    classes: dict[str, tuple[str, ...]] = field(default_factory=dict)
    destinations: tuple[DestinationFlows, ...] = ()

    def destination(self, name: str) -> DestinationFlows:
        for d in self.destinations:
            if d.name == name:
                return d
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "categories": list(self.categories),
            "fields": list(self.fields),
            "classes": {k: list(v) for k, v in self.classes.items()},
            "destinations": [d.to_dict() for d in self.destinations],
        }


# ------------------------------------------------------------------ three-valued logic


class _Dep:
    """Undecided without the event: depends on these statements' non-consent conditions."""

    __slots__ = ("atoms",)

    def __init__(self, atoms: Iterable["_Atom"]) -> None:
        self.atoms: tuple[_Atom, ...] = tuple(dict.fromkeys(atoms))


Tri = Any  # True | False | _Dep


@dataclass(frozen=True)
class _Atom:
    role: str  # keep | drop | transform | policy
    origin: Origin
    policy: str | None = None


def _or(xs: Iterable[Tri]) -> Tri:
    deps: list[_Atom] = []
    for x in xs:
        if x is True:
            return True
        if isinstance(x, _Dep):
            deps.extend(x.atoms)
    return _Dep(deps) if deps else False


def _and(xs: Iterable[Tri]) -> Tri:
    deps: list[_Atom] = []
    for x in xs:
        if x is False:
            return False
        if isinstance(x, _Dep):
            deps.extend(x.atoms)
    return _Dep(deps) if deps else True


def _not(x: Tri) -> Tri:
    return x if isinstance(x, _Dep) else not x


def _subst(e: Any, state: Mapping[str, bool]) -> Any:
    """Put each consent test's value in; consent tests only sit under not / and / or."""
    if isinstance(e, n.ConsentTest):
        return n.Literal(state[e.category], span=e.span)
    if isinstance(e, n.Not):
        return n.Not(_subst(e.operand, state), span=e.span)
    if isinstance(e, (n.And, n.Or)):
        return type(e)(tuple(_subst(x, state) for x in e.items), span=e.span)
    return e


def decide(expr: Any, state: Mapping[str, bool]) -> bool | None:
    """A condition under known consent: True, False, or None when the event decides.

    >>> from routeql.parse import parse_condition
    >>> decide(parse_condition('consent ads or type = "page"'), {"ads": True})
    True
    >>> decide(parse_condition('consent ads and type = "page"'), {"ads": True}) is None
    True
    """
    if expr is None:
        return True
    e = fold(normalize(_subst(expr, state)))
    if isinstance(e, n.Literal):
        return e.value is True
    return None


def _status(expr: Any, state: Mapping[str, bool], atom: _Atom) -> Tri:
    v = decide(expr, state)
    return _Dep((atom,)) if v is None else v


# ------------------------------------------------------------------ patterns and rows


def _relation(pattern: tuple[Any, ...], row: tuple[Any, ...]) -> str | None:
    """"full" when a rule's pattern covers the whole row, "part" when only some of it."""
    for p, r in zip(pattern, row):
        if not (p is WILD or r is WILD or p == r):
            return None
    covers = len(pattern) <= len(row) and all(p is WILD or (r is not WILD and p == r) for p, r in zip(pattern, row))
    return "full" if covers else "part"


def _relation_any(patterns: Iterable[Any], row: tuple[Any, ...]) -> tuple[str | None, list[str]]:
    best: str | None = None
    parts: list[str] = []
    for p in patterns:
        rel = _relation(p.segments, row)
        if rel == "full":
            best = "full"
        elif rel == "part":
            parts.append(format_path(p.segments))
            best = best or "part"
    return best, parts


def _vendor_name(v: tuple[int, str]) -> str:
    return f"tcf vendor {v[0]}" + ("" if v[1] == "consent" else f" ({v[1]})")


def _conditions(d: DestinationModel) -> Iterable[Any]:
    for expr, _ in d.whens:
        yield expr
    for s in d.samples:
        yield s.guard
    for a in (*d.keeps, *d.drops, *d.transforms):
        yield a.guard
    for p in d.event_policies:
        yield p.guard
    for fp in d.field_policies:
        yield fp.guard


def dimensions(model: Model, d: DestinationModel) -> tuple[str, ...]:
    """The consent categories (and TCF vendors) that can change what ``d`` receives."""
    found: set[str] = set()
    vendors: list[str] = []
    for req in d.requires:
        found.update(req.categories)
        vendors.extend(_vendor_name(v) for v in getattr(req, "vendors", ()))
    for p in d.event_policies:
        found.update(p.categories)
    for expr in _conditions(d):
        if isinstance(expr, n.Node):
            found.update(x.category for x in n.walk(expr) if isinstance(x, n.ConsentTest))
    order = model.consent.names if model.consent is not None else ()
    return tuple(c for c in order if c in found) + tuple(dict.fromkeys(vendors))


def mentioned_fields(model: Model) -> tuple[tuple[Any, ...], ...]:
    """Every field path a keep, action, policy or class names (classes expanded), sorted."""
    seen: dict[tuple[Any, ...], None] = {}
    for d in model.destinations:
        for a in (*d.keeps, *d.drops, *d.transforms):
            for p in a.patterns:
                seen.setdefault(p.segments)
        for fp in d.field_policies:
            for p in fp.patterns:
                seen.setdefault(p.segments)
    for patterns in model.classes.values():
        for p in patterns:
            seen.setdefault(p.segments)
    return tuple(sorted(seen, key=format_path))


# ------------------------------------------------------------------ one destination


class _Destination:
    """Computes one destination's grid."""

    def __init__(self, model: Model, d: DestinationModel, guards: GuardTexts) -> None:
        self.model = model
        self.d = d
        self.guards = guards

    # -- tracking plans
    def plans(self) -> list[tuple[RuleRef, bool]]:
        """Each tracking plan with this destination's modes, and whether it can block events.

        A plan applies when its condition holds and blocks only events that break it: the
        event decides, so a blocking plan is a delivery condition.  Omitting fields only
        ever removes data, so cells keep their upper bound ("sent") and the plan is listed.
        """
        out = []
        for p in getattr(self.model, "plans", ()):
            modes = {t: self.d.plan_mode(t, getattr(p, t)) for t in ("events", "properties", "violations")}
            head = p.origin.text.split(" {", 1)[0]
            text = (f"{head}: unplanned events {modes['events']}, unplanned properties {modes['properties']}, "
                    f"violations {modes['violations']}")
            out.append((RuleRef("plan", text, p.origin.at), "block" in (modes["events"], modes["violations"])))
        return out

    # -- delivery
    def delivery(self, state: Mapping[str, bool]) -> Delivery:
        d = self.d
        for req in d.requires:
            vendors = getattr(req, "vendors", ())
            if vendors:
                ok = all(state[_vendor_name(v)] for v in vendors)
            else:
                got = [state[c] for c in req.categories]
                ok = any(got) if req.any else all(got)
            if not ok:
                return Delivery("no", f"consent: {req.origin.text}", (RuleRef.of(req.origin),))
        conds: list[RuleRef] = [ref for ref, blocking in self.plans() if blocking]
        for expr, origin in d.whens:
            v = decide(expr, state)
            if v is False:
                return Delivery("no", f"no event can pass: {origin.text}", (RuleRef.of(origin),))
            if v is None:
                conds.append(RuleRef.of(origin))
        for s in d.samples:
            g = decide(s.guard, state)
            if g is False or s.percent >= 100:
                continue
            if s.percent <= 0 and g is True:
                return Delivery("no", f"no event can pass: {s.origin.text}", (RuleRef.of(s.origin),))
            conds.append(RuleRef.of(s.origin))
        for p in d.event_policies:
            g = decide(p.guard, state)
            if g is False:
                continue
            if p.kind == "require_consent":
                got = [state[c] for c in p.categories]
                if any(got) if p.any else all(got):
                    continue
            if g is True:
                return Delivery("no", f"policy '{p.policy}': {p.origin.text}", (RuleRef.of(p.origin, p.policy),))
            conds.append(RuleRef.of(p.origin, p.policy))
        if not conds:
            return Delivery("yes", "every event", ())
        return Delivery("depends", "depends on: " + "; ".join(c.text for c in conds), tuple(conds))

    # -- one field row
    def cell(self, row: tuple[Any, ...], state: Mapping[str, bool]) -> Cell:
        d = self.d
        used: list[RuleRef] = []
        notes: list[str] = []

        def note(parts: list[str], effect: str, status: Tri) -> None:
            if status is False:
                return
            suffix = " (conditional)" if isinstance(status, _Dep) else ""
            for p in parts:
                text = f"{p} {effect}{suffix}"
                if text not in notes:
                    notes.append(text)

        # keep
        if d.keeps:
            kept: list[Tri] = []
            kept_below: list[tuple[list[str], Tri]] = []
            for k in d.keeps:
                rel, parts = _relation_any(k.patterns, row)
                st = _status(k.guard, state, _Atom("keep", k.origin)) if rel else False
                if rel == "full" and st is not False:
                    kept.append(st)
                    used.append(RuleRef.of(k.origin))
                elif rel == "part":
                    kept_below.append((parts, st))
            keep: Tri = _or(kept)
            if keep is not True:  # only then do keeps of sub-paths matter
                for parts, st in kept_below:
                    note(parts, "sent", st)
        else:
            keep = True
        # drop, transforms, field policies
        dropped: list[Tri] = []
        for a in d.drops:
            st = self._full(row, a.patterns, a.guard, state, _Atom("drop", a.origin), used, RuleRef.of(a.origin))
            dropped.append(st)
            note(_relation_any(a.patterns, row)[1], "dropped", _status(a.guard, state, _Atom("drop", a.origin)))
        transforms: list[tuple[str, Tri, FieldAction]] = []
        for a in d.transforms:
            verb = _VERB.get(a.kind, "truncated")
            rel, parts = _relation_any(a.patterns, row)
            st = _status(a.guard, state, _Atom("transform", a.origin)) if rel else False
            if rel == "full" and st is not False:
                transforms.append((verb, st, a))
                used.append(RuleRef.of(a.origin))
            elif rel == "part":
                note(parts, verb, st)
        forbidden: list[Tri] = []
        for fp in d.field_policies:
            atom = _Atom("policy", fp.origin, fp.policy)
            forbidden.append(self._full(row, fp.patterns, fp.guard, state, atom, used, RuleRef.of(fp.origin, fp.policy)))
            note(_relation_any(fp.patterns, row)[1], "dropped by policy", _status(fp.guard, state, atom))
        drop_any, policy_any = _or(dropped), _or(forbidden)
        received = _and((keep, _not(drop_any), _not(policy_any)))
        if received is False:
            return self._dropped(keep, drop_any, notes, used)
        definite = [v for v, st, _ in transforms if st is True]
        treatment = ", then ".join(definite) if definite else "sent"
        maybe = [f"{v} {self._phrase(_Dep((_Atom('transform', a.origin),)))}" for v, st, a in transforms
                 if isinstance(st, _Dep)]
        text = treatment
        if isinstance(received, _Dep):
            text += " " + self._phrase(received)
        if maybe:
            text += "; " + "; ".join(maybe)
        if notes:
            text += "; partly: " + ", ".join(notes)
        if isinstance(received, _Dep) or maybe:
            status = "conditional"
        else:
            status = definite[-1] if definite else "sent"
        return Cell(status, text, tuple(dict.fromkeys(used)))

    @staticmethod
    def _full(row: tuple[Any, ...], patterns: Any, guard: Any, state: Mapping[str, bool], atom: _Atom,
              used: list[RuleRef], ref: RuleRef) -> Tri:
        """A drop or policy's verdict on a row it covers whole (False when it does not)."""
        rel, _ = _relation_any(patterns, row)
        if rel != "full":
            return False
        st = _status(guard, state, atom)
        if st is not False:
            used.append(ref)
        return st

    def _dropped(self, keep: Tri, drop_any: Tri, notes: list[str], used: list[RuleRef]) -> Cell:
        kept_parts = [x.replace(" sent", "") for x in notes if " sent" in x]
        if keep is False:
            refs = (RuleRef.of(self.d.keeps[0].origin),)
            if kept_parts:  # each kept sub-path has its own row, with what it receives exactly
                return Cell("partial", "partly kept: " + ", ".join(kept_parts), refs)
            return Cell("dropped", "dropped (not in keep)", refs)
        by = "dropped" if drop_any is True else "dropped by policy"
        return Cell("dropped", by, tuple(dict.fromkeys(used)))

    def _phrase(self, dep: _Dep) -> str:
        """"if <cond>" for one guarded statement; "depends on: <rules>" otherwise."""
        if len(dep.atoms) == 1:
            atom = dep.atoms[0]
            guard = self.guards.of(atom.origin)
            if guard is not None:
                keyword, cond = guard
                if atom.role in ("drop", "policy"):  # the field is sent when the drop does not apply
                    keyword = "unless" if keyword == "if" else "if"
                return f"{keyword} {cond}"
        return "depends on: " + "; ".join(f"{a.origin.text} ({a.origin.at})" for a in dep.atoms)

    # -- the grid
    def compute(self, rows: Sequence[tuple[Any, ...]], classes: Mapping[str, tuple[Any, ...]]) -> DestinationFlows:
        d = self.d
        dims = dimensions(self.model, d)
        if len(dims) > MAX_DIMENSIONS:
            raise RouteQLError(f"destination '{d.name}': {len(dims)} consent categories matter to it; "
                               f"a matrix shows at most {MAX_DIMENSIONS}")
        columns = tuple(Column(tuple(zip(dims, values))) for values in itertools.product((True, False), repeat=len(dims)))
        delivery = tuple(self.delivery(dict(c.values)) for c in columns)
        by_row: dict[tuple[Any, ...], list[Cell]] = {}
        for row in (*rows, (_OTHER_KEY,)):
            by_row[row] = [self.cell(row, dict(c.values)) if dl.status != "no" else Cell("none", "not delivered")
                           for c, dl in zip(columns, delivery)]
        out_rows = [Row("class", name, tuple(_class_cell([by_row[p][i] for p in paths], paths)
                                              for i in range(len(columns))),
                        tuple(format_path(p) for p in paths))
                    for name, paths in classes.items()]
        out_rows += [Row("field", format_path(r), tuple(by_row[r])) for r in rows]
        out_rows.append(Row("other", OTHER_ROW, tuple(by_row[(_OTHER_KEY,)])))
        conditions = tuple(RuleRef.of(o) for _, o in d.whens) + tuple(RuleRef.of(s.origin) for s in d.samples)
        policies = tuple(dict.fromkeys([RuleRef.of(p.origin, p.policy) for p in d.event_policies]
                                       + [RuleRef.of(p.origin, p.policy) for p in d.field_policies]))
        return DestinationFlows(d.name, d.tags, f"{d.span.file}:{d.span.line}", bool(d.keeps), _consent_words(d),
                                columns, delivery, tuple(out_rows), conditions, policies,
                                tuple(ref for ref, _ in self.plans()))


def _class_cell(cells: Sequence[Cell], paths: Sequence[tuple[Any, ...]]) -> Cell:
    """A class receives the most exposing of what its paths receive; the text says which path gets what."""
    if not cells:
        return Cell("dropped", "no fields")
    top = max(cells, key=lambda c: EXPOSURE[c.status])
    rules = tuple(dict.fromkeys(r for c in cells for r in c.rules))
    texts = {c.text for c in cells}
    if len(texts) == 1:
        return Cell(top.status, top.text, rules)
    groups: dict[str, list[str]] = {}
    for c, p in zip(cells, paths):
        groups.setdefault(c.text, []).append(format_path(p))
    ordered = sorted(groups.items(), key=lambda kv: -max(EXPOSURE[c.status] for c in cells if c.text == kv[0]))
    return Cell(top.status, " · ".join(f"{text}: {', '.join(ps)}" for text, ps in ordered), rules)


def _consent_words(d: DestinationModel) -> tuple[str, ...]:
    out: list[str] = []
    for req in d.requires:
        vendors = getattr(req, "vendors", ())
        if vendors:
            out.extend(_vendor_name(v) for v in vendors)
        elif req.any:
            out.append("any of " + ", ".join(req.categories))
        else:
            out.extend(req.categories)
    for p in d.event_policies:
        if p.kind == "require_consent":
            need = ("any of " + ", ".join(p.categories)) if p.any else ", ".join(p.categories)
            cond = "" if p.guard is None else " (conditional)"
            text = f"{need} (policy '{p.policy}'){cond}"
            if need not in out:
                out.append(text)
    return tuple(dict.fromkeys(out))


def compute_matrix(model: Model, version: str = "") -> Matrix:
    """What every destination of ``model`` can receive, per consent state."""
    rows = mentioned_fields(model)
    classes = {name: tuple(p.segments for p in patterns) for name, patterns in sorted(model.classes.items())}
    guards = GuardTexts(model.sources)
    dests = tuple(_Destination(model, d, guards).compute(rows, classes) for d in model.destinations)
    cats = model.consent.names if model.consent is not None else ()
    return Matrix(version, cats, tuple(format_path(r) for r in rows),
                  {k: tuple(format_path(p) for p in v) for k, v in classes.items()}, dests)
