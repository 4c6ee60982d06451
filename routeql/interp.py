"""The reference semantics: a small tree-walking interpreter over the model.

It is deliberately plain: no caches, no specialisation, no tries.  The compiled engine
(:mod:`routeql.codegen`) must agree with it on every event and consent state (the
Hypothesis tests check that), and explanations come from here because it records every
step it takes.
"""

from __future__ import annotations

from typing import Any, Iterator, Mapping

from . import nodes as n
from .consent.resolve import ConsentState, Resolver, NO_CONSENT_MODEL
from .errors import EventError
from .model import DestinationModel, FieldAction, Model, Origin
from .plans import PlanResult, apply_plan, blocks, plan_modes
from .plans import validate as validate_plan
from .nodes import WILD, format_path
from .result import DestinationTrace, FieldFate, Reason, Step, Trace
from .runtime import (
    FUNCTIONS, compare, compile_glob, compile_regex, get_path, hash_value, in_list, redact_value,
    sample_bucket, sample_threshold, truncate_ip, truncate_length, truncate_time, validate_event,
)

__all__ = ["Interpreter", "Outcome"]


class Outcome:
    """The interpreter's answer for one event."""

    __slots__ = ("deliveries", "reasons", "trace", "plan")

    def __init__(self, deliveries: dict[str, dict[str, Any]], reasons: dict[str, Reason], trace: Trace,
                 plan: PlanResult | None = None) -> None:
        self.deliveries = deliveries
        self.reasons = reasons
        self.trace = trace
        self.plan = plan


class Interpreter:
    """Evaluates a model directly.  ``salts`` maps (kind, value) salt references to text."""

    def __init__(self, model: Model, resolver: Resolver | None, salts: Mapping[tuple[str, str], str]) -> None:
        self.model = model
        self.resolver = resolver
        self.salts = salts
        self._globs: dict[str, Any] = {}
        self._regexes: dict[str, Any] = {}

    # ------------------------------------------------------------ conditions
    def evaluate(self, e: Any, event: Any, state: ConsentState) -> Any:
        ev = self.evaluate
        if isinstance(e, n.Path):
            return get_path(event, e.segments)
        if isinstance(e, n.Literal):
            return e.value
        if isinstance(e, n.Call):
            return FUNCTIONS[e.name][0](*(ev(a, event, state) for a in e.args))
        if isinstance(e, n.Compare):
            return compare(e.op, ev(e.left, event, state), ev(e.right, event, state))
        if isinstance(e, n.In):
            return in_list(ev(e.left, event, state), ev(e.right, event, state)) != e.negated
        if isinstance(e, n.Exists):
            return (ev(e.operand, event, state) is not None) != e.negated
        if isinstance(e, n.Match):
            subject = ev(e.subject, event, state)
            pattern = e.pattern.value
            if e.kind == "glob":
                m = self._globs.get(pattern)
                if m is None:
                    m = self._globs[pattern] = compile_glob(pattern)
                return m(subject)
            rx = self._regexes.get(pattern)
            if rx is None:
                rx = self._regexes[pattern] = compile_regex(pattern)
            return subject.__class__ is str and rx.search(subject) is not None
        if isinstance(e, n.ConsentTest):
            return state.granted(e.category)
        if isinstance(e, n.Not):
            return not ev(e.operand, event, state)
        if isinstance(e, n.And):
            return all(ev(x, event, state) for x in e.items)
        if isinstance(e, n.Or):
            return any(ev(x, event, state) for x in e.items)
        raise AssertionError(f"cannot evaluate {e!r}")

    def holds(self, e: Any, event: Any, state: ConsentState) -> bool:
        return e is None or self.evaluate(e, event, state) is True

    # ------------------------------------------------------------ consent
    def consent(self, event: Any, external: Mapping[str, bool] | None = None) -> ConsentState:
        if self.resolver is None:
            return NO_CONSENT_MODEL
        regime = -1
        cm = self.resolver.model
        for i, r in enumerate(cm.regimes):
            if r.when is None or self.evaluate(r.when, event, NO_CONSENT_MODEL) is True:
                regime = i
                break
        return self.resolver.resolve(regime, self.resolver.read(event), external)

    # ------------------------------------------------------------ routing
    def route(self, event: Any, external: Mapping[str, bool] | None = None) -> Outcome:
        try:
            return self._route(event, external)
        except RecursionError:
            raise EventError("event is nested too deeply") from None

    def plan(self, event: Any) -> tuple[PlanResult | None, Any]:
        """The plan that applies (the first whose condition holds) and its verdict."""
        for p in self.model.plans:
            if p.when is None or self.evaluate(p.when, event, NO_CONSENT_MODEL) is True:
                return validate_plan(p, event), p
        return None, None

    def _route(self, event: Any, external: Mapping[str, bool] | None = None) -> Outcome:
        validate_event(event)
        state = self.consent(event, external)
        pr, plan = self.plan(event)
        deliveries: dict[str, dict[str, Any]] = {}
        reasons: dict[str, Reason] = {}
        traces: dict[str, DestinationTrace] = {}
        for d in self.model.destinations:
            steps: list[Step] = []
            modes = plan_modes(plan, d) if plan is not None else None
            reason = None
            if pr is not None and modes is not None:
                blocked = blocks(pr, modes)
                if blocked is not None:
                    where = blocked.at
                    reason = Reason("plan", f"plan {pr.plan}", where, blocked.description)
                    steps.append(Step("plan", "fail", f"plan {pr.plan}", where, blocked.description))
                else:
                    steps.append(Step("plan", "pass" if pr.clean else "skip", f"plan {pr.plan}", "",
                                      "" if pr.clean else "violations handled by omitting or flagging"))
            if reason is None:
                reason = self.decide(d, event, state, steps)
            if reason is not None:
                reasons[d.name] = reason
                traces[d.name] = DestinationTrace(d.name, False, reason, tuple(steps))
                continue
            payload, fates = self.payload(d, event, state, steps, pr, modes)
            deliveries[d.name] = payload
            traces[d.name] = DestinationTrace(d.name, True, None, tuple(steps), tuple(fates))
        return Outcome(deliveries, reasons, Trace(state, traces), pr)

    def decide(self, d: DestinationModel, event: Any, state: ConsentState, steps: list[Step]) -> Reason | None:
        """The first stage that stops ``d`` (integrations, consent, when, sample, policy)."""
        # 1. the integrations object, as Segment documents it
        integrations = event.get("integrations") or {}
        switch, key = None, None
        for name in d.integration_names:
            if name in integrations:
                switch, key = integrations[name], name
                break
        if switch is None and key is None and "All" in integrations:
            switch, key = integrations["All"], "All"
        if switch is False:
            r = Reason("integrations", "", "", f"integrations.{key} is false")
            steps.append(Step("integrations", "fail", detail=r.detail))
            return r
        steps.append(Step("integrations", "pass"))
        # 2. consent
        for req in d.requires:
            if req.vendors:
                missing = [v for v in req.vendors if not state.vendor_ok(v)]
                if missing:
                    vendor = missing[0]
                    why = state.decision(f"tcf vendor {vendor[0]}").source
                    r = Reason("consent", req.origin.text, req.origin.at, why, category=f"tcf vendor {vendor[0]}")
                    steps.append(Step("consent", "fail", req.origin.text, req.origin.at, why))
                    return r
                steps.append(Step("consent", "pass", req.origin.text, req.origin.at))
                continue
            granted = [c for c in req.categories if state.granted(c)]
            ok = bool(granted) if req.any else len(granted) == len(req.categories)
            if not ok:
                denied = [c for c in req.categories if c not in granted]
                why = "; ".join(f"{c} denied ({state.decision(c).source})" for c in denied)
                r = Reason("consent", req.origin.text, req.origin.at, why,
                           category=denied[0] if not req.any else ", ".join(denied))
                steps.append(Step("consent", "fail", req.origin.text, req.origin.at, why))
                return r
            steps.append(Step("consent", "pass", req.origin.text, req.origin.at))
        # 3. when
        for expr, origin in d.whens:
            if not self.holds(expr, event, state):
                r = Reason("when", origin.text, origin.at, "the condition is false")
                steps.append(Step("when", "fail", origin.text, origin.at, r.detail))
                return r
            steps.append(Step("when", "pass", origin.text, origin.at))
        # 4. sample
        for s in d.samples:
            if not self.holds(s.guard, event, state):
                steps.append(Step("sample", "skip", s.origin.text, s.origin.at, "condition not met"))
                continue
            key_value = get_path(event, s.by)
            if not sample_bucket(key_value) < sample_threshold(s.percent):
                r = Reason("sample", s.origin.text, s.origin.at, f"not in the {s.percent:g}% sample by {format_path(s.by)}")
                steps.append(Step("sample", "fail", s.origin.text, s.origin.at, r.detail))
                return r
            steps.append(Step("sample", "pass", s.origin.text, s.origin.at))
        # 5. policies that stop a delivery
        for p in d.event_policies:
            if not self.holds(p.guard, event, state):
                steps.append(Step("policies", "skip", p.origin.text, p.origin.at, "condition not met"))
                continue
            if p.kind == "forbid_events":
                r = Reason("policy", p.origin.text, p.origin.at, f"policy '{p.policy}' forbids this event", policy=p.policy)
                steps.append(Step("policies", "fail", p.origin.text, p.origin.at, r.detail))
                return r
            granted = [c for c in p.categories if state.granted(c)]
            if not (granted if p.any else len(granted) == len(p.categories)):
                denied = [c for c in p.categories if c not in granted]
                r = Reason("policy", p.origin.text, p.origin.at,
                           f"policy '{p.policy}' requires consent: {', '.join(denied)} denied",
                           category=denied[0], policy=p.policy)
                steps.append(Step("policies", "fail", p.origin.text, p.origin.at, r.detail))
                return r
            steps.append(Step("policies", "pass", p.origin.text, p.origin.at))
        return None

    # ------------------------------------------------------------ payloads
    def _active(self, actions: tuple[FieldAction, ...], event: Any, state: ConsentState) -> list[FieldAction]:
        return [a for a in actions if self.holds(a.guard, event, state)]

    def payload(self, d: DestinationModel, event: Any, state: ConsentState, steps: list[Step] | None = None,
                pr: PlanResult | None = None, modes: Any = None) -> tuple[dict[str, Any], list[FieldFate]]:
        keeps = self._active(d.keeps, event, state)
        drops = self._active(d.drops, event, state)
        transforms = self._active(d.transforms, event, state)
        policies = [p for p in d.field_policies if self.holds(p.guard, event, state)]
        if steps is not None:  # which field rules applied to this event (for coverage)
            for stage, every, active in (("keep", d.keeps, keeps), ("drop", d.drops, drops),
                                         ("transforms", d.transforms, transforms),
                                         ("policies", d.field_policies, policies)):
                for a in every:
                    on = a in active
                    steps.append(Step(stage, "pass" if on else "skip", a.origin.text, a.origin.at,
                                      "" if on else "condition not met"))
        if d.keeps:
            payload = _project(event, [p.segments for k in keeps for p in k.patterns])
        else:
            payload = _copy(event)
        for a in drops:
            for path in _outermost(_all_matches(payload, a)):
                _delete(payload, path)
        for a in transforms:
            fn = self.transform_fn(a)
            for path in _outermost(_all_matches(payload, a)):
                _replace(payload, path, fn)
        if pr is not None and not pr.clean:
            apply_plan(payload, pr, modes)
        for p in policies:
            for path in _outermost([m for pat in p.patterns for m in _matches(payload, pat.segments)]):
                _delete(payload, path)
        return payload, self.fates(d, event, keeps, drops, transforms, policies)

    def transform_fn(self, a: FieldAction) -> Any:
        if a.kind == "hash":
            salt_ref = a.option("salt")
            salt = self.salts.get(tuple(salt_ref), "") if salt_ref else ""
            return lambda v: hash_value(v, salt)
        if a.kind == "redact":
            marker = a.option("marker")
            return lambda v: redact_value(v, marker)
        if a.kind == "truncate_ip":
            v4, v6 = a.option("v4"), a.option("v6")
            return lambda v: truncate_ip(v, v4, v6)
        if a.kind == "truncate_length":
            length = a.option("length")
            return lambda v: truncate_length(v, length)
        if a.kind == "truncate_time":
            unit = a.option("unit")
            return lambda v: truncate_time(v, unit)
        raise AssertionError(a.kind)

    def fates(self, d: DestinationModel, event: Any, keeps: list[FieldAction], drops: list[FieldAction],
              transforms: list[FieldAction], policies: list[Any]) -> list[FieldFate]:
        """Per leaf of the input event: kept, dropped, hashed... and by which rule."""
        out: list[FieldFate] = []
        verbs = {"hash": "hashed", "redact": "redacted"}
        for path in _leaves(event):
            keys = tuple(s for s in path if s.__class__ is str)
            label = format_path(path)
            fate: FieldFate | None = None
            if d.keeps and not any(_prefix(p.segments, keys) for k in keeps for p in k.patterns):
                first = keeps[0].origin if keeps else d.keeps[0].origin
                fate = _fate(label, "dropped", first, "keep")
            if fate is None:
                for a in drops:
                    if any(_prefix(p.segments, keys) for p in a.patterns):
                        fate = _fate(label, "dropped", a.origin, "drop")
                        break
            if fate is None:
                for a in transforms:
                    if any(_prefix(p.segments, keys) for p in a.patterns):
                        fate = _fate(label, verbs.get(a.kind, "truncated"), a.origin, "transforms")
                for p in policies:
                    if any(_prefix(pat.segments, keys) for pat in p.patterns):
                        fate = _fate(label, "dropped", p.origin, "policies")
                        break
            out.append(fate or FieldFate(label, "kept"))
        return out


# ------------------------------------------------------------------ reference field ops


def _fate(path: str, fate: str, origin: Origin, stage: str) -> FieldFate:
    return FieldFate(path, fate, origin.text, origin.at, stage)


def _copy(v: Any) -> Any:
    if type(v) is dict:
        return {k: _copy(x) for k, x in v.items()}
    if type(v) in (list, tuple):
        return [_copy(x) for x in v]
    if v is None or type(v) in (str, int, float, bool):
        return v
    raise EventError(f"event holds a value of type {type(v).__name__}, which is not JSON")


_NOTHING = object()


def _project(v: Any, patterns: list[tuple[Any, ...]]) -> Any:
    """Keep what the patterns reach; containers along the way survive, possibly empty."""
    if any(len(p) == 0 for p in patterns):
        return _copy(v)
    if type(v) is dict:
        # keys in the order the patterns name them; a wildcard adds the rest in event order
        named = list(dict.fromkeys(p[0] for p in patterns if p[0] is not WILD and p[0] in v))
        if any(p[0] is WILD for p in patterns):
            named += [k for k in v if k not in named]
        out = {}
        for k in named:
            sub = [p[1:] for p in patterns if p[0] is WILD or p[0] == k]
            r = _project(v[k], sub)
            if r is not _NOTHING:
                out[k] = r
        return out
    if type(v) is list:
        return [r for r in (_project(x, patterns) for x in v) if r is not _NOTHING]
    return _NOTHING


def _matches(v: Any, segs: tuple[Any, ...], prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Concrete paths (keys and list indices) a pattern reaches in ``v``."""
    if not segs:
        yield prefix
        return
    if type(v) is list:
        for i, x in enumerate(v):
            yield from _matches(x, segs, prefix + (i,))
    elif type(v) is dict:
        head = segs[0]
        keys = list(v) if head is WILD else ([head] if head in v else [])
        for k in keys:
            yield from _matches(v[k], segs[1:], prefix + (k,))


def _all_matches(v: Any, action: FieldAction) -> list[tuple[Any, ...]]:
    return [m for p in action.patterns for m in _matches(v, p.segments)]


def _outermost(paths: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """Unique paths, without those inside another one (an action applies once per value)."""
    unique = list(dict.fromkeys(paths))
    return [p for p in unique if not any(len(q) < len(p) and p[: len(q)] == q for q in unique)]


def _parent(v: Any, path: tuple[Any, ...]) -> Any:
    for seg in path[:-1]:
        v = v[seg]
    return v


def _delete(v: Any, path: tuple[Any, ...]) -> None:
    del _parent(v, path)[path[-1]]


def _replace(v: Any, path: tuple[Any, ...], fn: Any) -> None:
    parent = _parent(v, path)
    parent[path[-1]] = fn(parent[path[-1]])


def _leaves(v: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if type(v) is dict and v:
        for k, x in v.items():
            yield from _leaves(x, prefix + (k,))
    elif type(v) is list and v:
        for i, x in enumerate(v):
            yield from _leaves(x, prefix + (i,))
    elif prefix:
        yield prefix


def _prefix(pattern: tuple[Any, ...], keys: tuple[str, ...]) -> bool:
    return len(pattern) <= len(keys) and all(p is WILD or p == k for p, k in zip(pattern, keys))
