"""Two rule sets + sample events -> the impact of the change, per destination and per field.

Every sample event is routed through both rule sets (the compiled engine; the reference
interpreter only for the reasons of changed decisions).  Fields are compared as key paths
with list positions removed (``properties.products.sku``), with their treatment (sent in
clear, hashed, redacted, truncated) and their data classes.  Examples name events by line
number and ``messageId`` only, never by a personal value.

A *new flow* (``routeql diff --fail-on-new-flows``) is one of: a destination receiving
events it did not receive before; a (destination, field) or (destination, data class)
pair seen with NEW and never with OLD; a field that OLD only ever sent transformed and
NEW sends in clear.

>>> import io, routeql
>>> old = routeql.loads('destination crm { keep type, userId }', "old.rq")
>>> new = routeql.loads('destination crm { keep type, userId, traits.email }', "new.rq")
>>> line = b'{"type": "identify", "userId": "u1", "traits": {"email": "a@b.c"}}'
>>> impact = compute_impact(old, new, io.BytesIO(line))
>>> [(f.destination, f.kind, f.what) for f in impact.new_flows]
[('crm', 'field', 'traits.email')]
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import IO, Any, Iterable, Mapping

from ..engine import Routing, RuleSet
from ..errors import EventError, RouteQLError
from ..model import DestinationModel, Model
from ..nodes import WILD, format_path
from .events import field_paths, iter_jsonl

__all__ = ["Example", "Flow", "DestinationImpact", "Impact", "compute_impact", "classify_path"]

_VERB = {"hash": "hashed", "redact": "redacted"}
#: invalid lines listed one by one (all are counted)
MAX_INVALID_LISTED = 20


@dataclass(frozen=True)
class Example:
    """One sample event whose delivery changed: where it is, and why the other side differs."""

    line: int
    message_id: str | None
    reason: str  # the stage, rule and file:line of the side that does not deliver

    def to_dict(self) -> dict[str, Any]:
        return {"line": self.line, "messageId": self.message_id, "reason": self.reason}


@dataclass(frozen=True)
class Flow:
    """Something NEW sends that OLD never sent over the sample: for privacy review."""

    destination: str
    kind: str  # "events" | "field" | "class" | "clear"
    what: str
    detail: str = ""

    def __str__(self) -> str:
        if self.kind == "events":
            return f"{self.destination} now receives {self.detail}"
        if self.kind == "clear":
            return f"{self.destination} now receives {self.what} in clear ({self.detail})"
        return f"{self.destination} now receives {self.kind} {self.what}" + (f" ({self.detail})" if self.detail else "")

    def to_dict(self) -> dict[str, Any]:
        return {"destination": self.destination, "kind": self.kind, "what": self.what, "detail": self.detail,
                "text": str(self)}


@dataclass
class _Side:
    """What one rule set sent one destination over the sample."""

    delivered: int = 0
    fields: Counter[str] = field(default_factory=Counter)  # path -> events it was sent in
    clear: set[str] = field(default_factory=set)  # paths sent untransformed at least once
    classes: Counter[str] = field(default_factory=Counter)

    def to_dict(self) -> dict[str, Any]:
        return {"delivered": self.delivered, "fields": dict(sorted(self.fields.items())),
                "fields_in_clear": sorted(self.clear), "classes": dict(sorted(self.classes.items()))}


@dataclass
class DestinationImpact:
    name: str
    status: str = "unchanged"  # "added" | "removed" | "changed" | "unchanged"
    old: _Side = field(default_factory=_Side)
    new: _Side = field(default_factory=_Side)
    newly: int = 0
    no_longer: int = 0
    newly_examples: list[Example] = field(default_factory=list)
    no_longer_examples: list[Example] = field(default_factory=list)
    #: why OLD skipped the newly delivered events / why NEW skips the others
    newly_reasons: Counter[str] = field(default_factory=Counter)
    no_longer_reasons: Counter[str] = field(default_factory=Counter)
    #: among events both deliver: path -> events where it is gained / lost
    fields_gained: Counter[str] = field(default_factory=Counter)
    fields_lost: Counter[str] = field(default_factory=Counter)
    #: (path, old treatment, new treatment) -> events
    treatment: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    payload_changed: int = 0

    @property
    def field_flows_gained(self) -> list[str]:
        return sorted(set(self.new.fields) - set(self.old.fields))

    @property
    def field_flows_lost(self) -> list[str]:
        return sorted(set(self.old.fields) - set(self.new.fields))

    @property
    def class_flows_gained(self) -> list[str]:
        return sorted(set(self.new.classes) - set(self.old.classes))

    @property
    def class_flows_lost(self) -> list[str]:
        return sorted(set(self.old.classes) - set(self.new.classes))

    @property
    def now_clear(self) -> list[str]:
        """Fields OLD only sent transformed and NEW sends in clear."""
        return sorted((self.new.clear - self.old.clear) & set(self.old.fields))

    @property
    def changed(self) -> bool:
        return bool(self.newly or self.no_longer or self.fields_gained or self.fields_lost or self.treatment
                    or self.payload_changed or self.field_flows_gained or self.field_flows_lost
                    or self.class_flows_gained or self.class_flows_lost)

    def to_dict(self) -> dict[str, Any]:
        return {
            "destination": self.name, "status": self.status,
            "old": self.old.to_dict(), "new": self.new.to_dict(),
            "newly_delivered": {"events": self.newly, "examples": [e.to_dict() for e in self.newly_examples],
                                "old_reasons": dict(self.newly_reasons)},
            "no_longer_delivered": {"events": self.no_longer,
                                    "examples": [e.to_dict() for e in self.no_longer_examples],
                                    "new_reasons": dict(self.no_longer_reasons)},
            "fields_gained": dict(sorted(self.fields_gained.items())),
            "fields_lost": dict(sorted(self.fields_lost.items())),
            "field_flows_gained": self.field_flows_gained, "field_flows_lost": self.field_flows_lost,
            "class_flows_gained": self.class_flows_gained, "class_flows_lost": self.class_flows_lost,
            "now_in_clear": self.now_clear,
            "treatment_changed": [{"field": p, "old": o, "new": n, "events": c}
                                  for (p, o, n), c in sorted(self.treatment.items())],
            "payload_changed": self.payload_changed,
        }


@dataclass
class Impact:
    """The whole comparison: sample accounting, every destination, the new flows."""

    old_name: str
    new_name: str
    sample_name: str
    lines: int = 0  # non-blank lines: events + invalid
    events: int = 0
    invalid: int = 0
    invalid_lines: list[tuple[int, str]] = field(default_factory=list)
    destinations: list[DestinationImpact] = field(default_factory=list)
    classes_added: list[str] = field(default_factory=list)
    classes_removed: list[str] = field(default_factory=list)
    classes_changed: list[str] = field(default_factory=list)

    def destination(self, name: str) -> DestinationImpact:
        for d in self.destinations:
            if d.name == name:
                return d
        raise KeyError(name)

    def percent(self, count: int) -> float:
        return 100.0 * count / self.events if self.events else 0.0

    def by_status(self, status: str) -> list[DestinationImpact]:
        return [d for d in self.destinations if d.status == status]

    @property
    def new_flows(self) -> list[Flow]:
        out: list[Flow] = []
        for d in self.destinations:
            if d.status == "removed":
                continue
            if d.newly:
                out.append(Flow(d.name, "events", "events",
                                f"{d.newly} sample event{'s' * (d.newly != 1)} it did not receive before"))
            out.extend(Flow(d.name, "field", f) for f in d.field_flows_gained)
            out.extend(Flow(d.name, "class", c) for c in d.class_flows_gained)
            out.extend(Flow(d.name, "clear", f, "only sent transformed before") for f in d.now_clear)
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "old": self.old_name, "new": self.new_name, "sample": self.sample_name,
            "lines": self.lines, "events": self.events, "invalid": self.invalid,
            "invalid_lines": [{"line": n, "reason": r} for n, r in self.invalid_lines],
            "destinations": [d.to_dict() for d in self.destinations],
            "classes": {"added": self.classes_added, "removed": self.classes_removed, "changed": self.classes_changed},
            "new_flows": [f.to_dict() for f in self.new_flows],
        }


# ------------------------------------------------------------------ classification and treatment


def _prefix(pattern: tuple[Any, ...], keys: tuple[str, ...]) -> bool:
    return len(pattern) <= len(keys) and all(p is WILD or p == k for p, k in zip(pattern, keys))


def classify_path(keys: tuple[str, ...], classes: Mapping[str, Iterable[tuple[Any, ...]]]) -> list[str]:
    """The data classes a field belongs to: a class pattern covers the field or one of its parents.

    >>> classify_path(("traits", "email"), {"pii.email": [("traits", "email")], "pii.any": [("traits", WILD)]})
    ['pii.email', 'pii.any']
    """
    return [name for name, patterns in classes.items() if any(_prefix(p, keys) for p in patterns)]


def _merged_classes(old: Model, new: Model) -> dict[str, tuple[tuple[Any, ...], ...]]:
    """Both sides' classes, so that a classification change is not mistaken for a flow change."""
    out: dict[str, list[tuple[Any, ...]]] = {}
    for model in (old, new):
        for name, patterns in model.classes.items():
            bucket = out.setdefault(name, [])
            bucket.extend(p.segments for p in patterns if p.segments not in bucket)
    return {k: tuple(v) for k, v in sorted(out.items())}


class _Treatments:
    """Which transform (if any) a destination applies to a field for one event: exact, per guard."""

    def __init__(self, rules: RuleSet) -> None:
        self.rules = rules
        self.by_dest: dict[str, DestinationModel] = {d.name: d for d in rules.model.destinations}

    def of(self, name: str, routing: Routing, event: Any, paths: Iterable[tuple[str, ...]]) -> dict[str, str]:
        d = self.by_dest[name]
        active = [a for a in d.transforms
                  if a.guard is None or self.rules.interpreter.holds(a.guard, event, routing.consent)]
        out: dict[str, str] = {}
        for keys in paths:
            fate = "clear"
            for a in active:  # the last transform that applies names the fate, as in traces
                if any(_prefix(p.segments, keys) for p in a.patterns):
                    fate = _VERB.get(a.kind, "truncated")
            out[format_path(keys)] = fate
        return out


# ------------------------------------------------------------------ the comparison


def _reason(routing: Routing, name: str) -> str:
    r = routing.skipped.get(name)
    if r is None:
        return ""
    rule = f" {r.rule}" if r.rule else f" {r.detail}"
    return f"{r.stage}:{rule}" + (f" ({r.at})" if r.at else "")


def _message_id(event: Any) -> str | None:
    mid = event.get("messageId") if isinstance(event, dict) else None
    if isinstance(mid, (str, int)) and not isinstance(mid, bool):
        text = str(mid)
        return text if len(text) <= 80 else text[:77] + "..."
    return None


def compute_impact(old: RuleSet, new: RuleSet, sample: IO[bytes], *, examples: int = 3,
                   old_name: str = "OLD", new_name: str = "NEW", sample_name: str = "SAMPLE") -> Impact:
    """Route every line of ``sample`` (JSONL) through both rule sets and compare."""
    impact = Impact(old_name, new_name, sample_name)
    names = list(new.destinations) + [d for d in old.destinations if d not in new.destinations]
    dests = {d: DestinationImpact(d) for d in names}
    for d in names:
        dests[d].status = "added" if d not in old.destinations else "removed" if d not in new.destinations else "unchanged"
    classes = _merged_classes(old.model, new.model)
    class_cache: dict[str, list[str]] = {}
    treat_old, treat_new = _Treatments(old), _Treatments(new)

    def record(side: _Side, treatments: dict[str, str], paths: set[tuple[str, ...]]) -> None:
        side.delivered += 1
        seen_classes: set[str] = set()
        for keys in paths:
            label = format_path(keys)
            side.fields[label] += 1
            if treatments[label] == "clear":
                side.clear.add(label)
            cls = class_cache.get(label)
            if cls is None:
                cls = class_cache[label] = classify_path(keys, classes)
            seen_classes.update(cls)
        for c in seen_classes:
            side.classes[c] += 1

    for number, event, problem in iter_jsonl(sample):
        impact.lines += 1
        if problem is None:
            try:
                r_old, r_new = old.route(event), new.route(event)
            except RouteQLError as e:
                problem = f"malformed event: {e.message}" if isinstance(e, EventError) else e.message
        if problem is not None:
            impact.invalid += 1
            if len(impact.invalid_lines) < MAX_INVALID_LISTED:
                impact.invalid_lines.append((number, problem))
            continue
        impact.events += 1
        for name in names:
            di = dests[name]
            p_old, p_new = r_old.deliveries.get(name), r_new.deliveries.get(name)
            paths_old = field_paths(p_old) if p_old is not None else set()
            paths_new = field_paths(p_new) if p_new is not None else set()
            t_old = treat_old.of(name, r_old, event, paths_old) if p_old is not None else {}
            t_new = treat_new.of(name, r_new, event, paths_new) if p_new is not None else {}
            if p_old is not None:
                record(di.old, t_old, paths_old)
            if p_new is not None:
                record(di.new, t_new, paths_new)
            if p_old is None and p_new is not None:
                di.newly += 1
                why = "destination added" if di.status == "added" else _reason(r_old, name)
                di.newly_reasons[why] += 1
                if len(di.newly_examples) < examples:
                    di.newly_examples.append(Example(number, _message_id(event), why))
            elif p_old is not None and p_new is None:
                di.no_longer += 1
                why = "destination removed" if di.status == "removed" else _reason(r_new, name)
                di.no_longer_reasons[why] += 1
                if len(di.no_longer_examples) < examples:
                    di.no_longer_examples.append(Example(number, _message_id(event), why))
            elif p_old is not None and p_new is not None and p_old != p_new:
                di.payload_changed += 1
                for label in t_new.keys() - t_old.keys():
                    di.fields_gained[label] += 1
                for label in t_old.keys() - t_new.keys():
                    di.fields_lost[label] += 1
                for label in t_old.keys() & t_new.keys():
                    if t_old[label] != t_new[label]:
                        di.treatment[(label, t_old[label], t_new[label])] += 1
    for di in dests.values():
        if di.status == "unchanged" and di.changed:
            di.status = "changed"
    impact.destinations = [dests[d] for d in names]
    _class_changes(impact, old.model, new.model)
    return impact


def _class_changes(impact: Impact, old: Model, new: Model) -> None:
    o = {k: sorted(format_path(p.segments) for p in v) for k, v in old.classes.items()}
    n = {k: sorted(format_path(p.segments) for p in v) for k, v in new.classes.items()}
    impact.classes_added = sorted(set(n) - set(o))
    impact.classes_removed = sorted(set(o) - set(n))
    impact.classes_changed = sorted(k for k in set(o) & set(n) if o[k] != n[k])
