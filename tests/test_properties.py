"""Guarantees as properties, checked by Hypothesis over random events, consent states and
rule sets (docs/security.md lists them with these tests):

- revoking a consent category never adds a destination or a field to any delivery;
- under an opt-in regime an event with no consent signal reaches only destinations that
  require no consent, exactly as if every category were denied;
- a field covered by a ``forbid`` policy never reaches a covered destination, whatever
  that destination's own rules say;
- routing never mutates its input, and payloads share no mutable object with the input
  or with each other;
- an event's answer does not depend on the events routed before it (every cache keyed
  by exactly what decides its answer);
- ``routeql fmt`` is idempotent and preserves meaning.

Interpreter ≡ compiled engine is tests/test_equivalence.py.
"""

from __future__ import annotations

import copy
import os
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import routeql
from routeql.errors import EventError, RouteQLError
from tests.conftest import compile_random
from tests.strategies import COUNTRIES, OVERSIZED_IDS, OVERSIZED_PREFS, events, external_consent, rule_sets
from tests.strategies_props import (
    forbid_rule_sets, matches_pattern, monotone_rule_sets, mutable_ids, node_paths, revocations, revoke, strict_equal,
)

#: examples per property; raise it for a deeper run: ROUTEQL_EXAMPLES=5000 make test
EXAMPLES = int(os.environ.get("ROUTEQL_EXAMPLES", "40"))
SETTINGS = settings(max_examples=EXAMPLES, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large])

compiled = compile_random


def route_or_none(rules: routeql.RuleSet, event: Any, consent: Any = None) -> routeql.Routing | None:
    try:
        return rules.route(event, consent)
    except EventError:
        return None


# ------------------------------------------------------------------ revoking consent


@SETTINGS
@given(text=monotone_rule_sets(), evs=st.lists(st.tuples(events(), external_consent, revocations()), min_size=1, max_size=6))
def test_revoking_consent_never_adds_a_destination_or_a_field(
        text: str, evs: list[tuple[dict[str, Any], Any, list[tuple[str, str]]]]) -> None:
    rules = compiled(text)
    assume(rules is not None)
    assert rules is not None
    for event, external, steps in evs:
        before = route_or_none(rules, event, external)
        if before is None:
            continue
        event2, external2 = revoke(event, external, steps)
        after = rules.route(event2, external2)
        assert set(after.deliveries) <= set(before.deliveries), "revoking consent added a destination"
        # a revocation written into the event may add the signal's own fields to the event
        # (context.consent...): a destination that forwards them is not adding anything
        new_in_input = node_paths(event2) - node_paths(event)
        for name, payload in after.deliveries.items():
            added = node_paths(payload) - node_paths(before.deliveries[name]) - new_in_input
            assert not added, f"revoking consent added fields {sorted(added)} to {name}"
        assert after.consent.mask & ~before.consent.mask == 0, "revoking consent granted a category"


def test_revocation_property_can_fail() -> None:
    """The property is about rules: one that holds consent *against* an event is caught."""
    rules = routeql.loads('consent { category ads from segment "Advertising" }\n'
                          "destination d { when not consent ads }")
    granted = {"type": "page", "context": {"consent": {"categoryPreferences": {"Advertising": True}}}}
    revoked, _ = revoke(granted, None, [("segment", "ads")])
    assert rules.route(granted).delivered == () and rules.route(revoked).delivered == ("d",)


# ------------------------------------------------------------------ no signal under opt-in

_SIGNALS = ("consent", "consentManagement", "gpc")


def _without_signals(event: dict[str, Any], country: str | None) -> dict[str, Any]:
    ev = copy.deepcopy(event)
    ctx = ev.get("context") if isinstance(ev.get("context"), dict) else {}
    ctx = {k: v for k, v in ctx.items() if k not in _SIGNALS}
    if country is None:
        ctx.pop("location", None)
    else:
        ctx["location"] = {"country": country}
    ev["context"] = ctx
    return ev


@SETTINGS
@given(text=rule_sets(), evs=st.lists(st.tuples(events(), st.sampled_from([*COUNTRIES, None])), min_size=1, max_size=5))
def test_no_signal_under_opt_in_reaches_only_destinations_that_need_no_consent(
        text: str, evs: list[tuple[dict[str, Any], str | None]]) -> None:
    rules = compiled(text)
    assume(rules is not None)
    assert rules is not None
    needs_consent = {d.name for d in rules.model.destinations
                     if any(r.categories or r.vendors for r in d.requires)
                     or any(p.kind == "require_consent" for p in d.event_policies if p.guard is None)}
    for event, country in evs:
        ev = _without_signals(event, country)
        routing = route_or_none(rules, ev)
        if routing is None or routing.consent.regime_kind != "opt_in":
            continue
        state = routing.consent
        if "compat segment" in text:  # Segment's mode, never the default: no signal, no enforcement
            assert not state.enforced and state.mask == (1 << len(state.categories)) - 1
            continue
        assert state.mask == 0, "a category was granted without any signal under opt-in"
        assert all(d.reason == "regime" for d in state.decisions)
        assert not set(routing.deliveries) & needs_consent
        # no signal means exactly "every category denied"
        denied = rules.route(ev, {c: False for c in state.categories})
        assert denied.deliveries == routing.deliveries


def test_opt_in_with_no_signal_on_the_bundled_rules(bundled: routeql.RuleSet,
                                                    example_events: list[dict[str, Any]]) -> None:
    # the three ad platforms and the analytics tools all require consent: none of them
    # may receive an EEA event that carries no signal
    needs = {d.name for d in bundled.model.destinations if d.requires}
    assert {"google_ads", "facebook_capi", "amplitude"} <= needs
    seen = 0
    for event in example_events:
        ev = _without_signals(event, "DE")
        routing = route_or_none(bundled, ev)
        if routing is None:
            continue
        seen += 1
        assert routing.consent.regime_kind == "opt_in" and routing.consent.mask == 0
        assert not set(routing.deliveries) & needs
    assert seen > 50


# ------------------------------------------------------------------ forbid policies

#: the classes the strategies declare, expanded (forbid names classes too)
CLASSES = {"pii.email": ["traits.email", "context.traits.email", "properties.products.email"], "pii.ip": ["context.ip"]}


def _expand(field: str) -> list[str]:
    if field == "pii.*":
        return [p for paths in CLASSES.values() for p in paths]
    return CLASSES.get(field, [field])


def _covers(target: str, dest: Any) -> bool:
    for part in (t.strip() for t in target.split(",")):
        if part == "all" or part == dest.name or (part.startswith("tagged ") and part[7:] in dest.tags):
            return True
    return False


@SETTINGS
@given(drawn=forbid_rule_sets(), evs=st.lists(st.tuples(events(), external_consent), min_size=1, max_size=4))
def test_forbidden_fields_never_reach_a_covered_destination(drawn: tuple[str, list[tuple[str, str, str]]],
                                                            evs: list[tuple[dict[str, Any], Any]]) -> None:
    text, policies = drawn
    rules = compiled(text)
    assume(rules is not None)
    assert rules is not None
    for event, external in evs:
        routing = route_or_none(rules, event, external)
        if routing is not None:
            _check_forbidden(rules, routing, policies)


def _check_forbidden(rules: routeql.RuleSet, routing: routeql.Routing, policies: list[tuple[str, str, str]]) -> None:
    for dest in rules.model.destinations:
        if dest.name not in routing.deliveries:
            continue
        paths = node_paths(routing.deliveries[dest.name])
        for fields, target, unless in policies:
            if not _covers(target, dest) or (unless and routing.consent.granted(unless)):
                continue
            for f in (p for field in fields.split(", ") for p in _expand(field)):
                leaked = [p for p in paths if matches_pattern(p, f)]
                assert not leaked, f"{leaked} reached {dest.name} despite 'forbid {fields} to {target}'"


def test_forbid_beats_keep_hash_and_redact() -> None:
    rules = routeql.loads("classify { pii.email = traits.email }\n"
                          "destination crm tagged crm { keep traits.email, userId  hash pii.email }\n"
                          "destination ads tagged ads { redact traits.email }\n"
                          'policy p { forbid pii.email to tagged crm, ads }')
    routing = rules.route({"type": "identify", "userId": "u", "traits": {"email": "a@b.c"}})
    assert routing.deliveries == {"crm": {"traits": {}, "userId": "u"}, "ads": {"type": "identify", "userId": "u", "traits": {}}}


# ------------------------------------------------------------------ the input is never mutated


def _every_way(rules: routeql.RuleSet, event: Any, consent: Any) -> list[routeql.Routing]:
    """Route the event in every way the API offers, reading every lazy result."""
    out: list[routeql.Routing] = []
    for call in (lambda: rules.route(event, consent), lambda: rules.route(event, consent, trace=True)):
        try:
            out.append(call())
        except RouteQLError:
            pass
    for fn in (rules.decide, rules.reference, rules.explain):
        try:
            fn(event, consent)
        except RouteQLError:
            pass
    out += rules.route_batch([event, event], consent)
    out += list(rules.iter_route(iter([event]), consent))
    for r in out:
        if r.ok:
            r.skipped, r.explain(), r.to_dict(trace=True)
    return out


@SETTINGS
@given(text=rule_sets(), evs=st.lists(st.tuples(events(), external_consent), min_size=1, max_size=3))
def test_routing_never_mutates_its_input(text: str, evs: list[tuple[dict[str, Any], Any]]) -> None:
    rules = compiled(text)
    assume(rules is not None)
    assert rules is not None
    for event, external in evs:
        _check_no_mutation(rules, event, external)


def _check_no_mutation(rules: routeql.RuleSet, event: dict[str, Any], external: Any) -> None:
    snapshot = copy.deepcopy(event)
    consent_snapshot = copy.deepcopy(external)
    routings = _every_way(rules, event, external)
    assert strict_equal(event, snapshot), "routing changed the event"
    assert external == consent_snapshot
    # mutating what routing returned changes neither the event nor the next routing
    for r in routings:
        for payload in r.deliveries.values():
            payload.clear()
    assert strict_equal(event, snapshot)
    again = route_or_none(rules, event, external)
    fresh = route_or_none(rules, copy.deepcopy(snapshot), external)
    assert (again is None) == (fresh is None)
    if again is not None and fresh is not None:
        assert again.deliveries == fresh.deliveries


def test_bundled_rules_never_mutate_the_examples(bundled: routeql.RuleSet, example_events: list[dict[str, Any]]) -> None:
    events_ = example_events[:60]
    snapshot = copy.deepcopy(events_)
    for event in events_:
        _every_way(bundled, event, None)
    assert all(strict_equal(a, b) for a, b in zip(events_, snapshot))


@SETTINGS
@given(text=rule_sets(), evs=st.lists(st.tuples(events(), external_consent), min_size=1, max_size=4))
def test_payloads_share_no_mutable_object(text: str, evs: list[tuple[dict[str, Any], Any]]) -> None:
    rules = compiled(text)
    assume(rules is not None)
    assert rules is not None
    for event, external in evs:
        first, second = route_or_none(rules, event, external), route_or_none(rules, event, external)
        if first is not None and second is not None:
            _check_not_shared(event, first, second)


def _check_not_shared(event: dict[str, Any], first: routeql.Routing, second: routeql.Routing) -> None:
    seen = set(mutable_ids(event))
    for routing in (first, second):
        for name, payload in routing.deliveries.items():
            ids = set(mutable_ids(payload))
            shared = ids & seen
            assert not shared, f"the payload for {name} shares {len(shared)} object(s) with the input or another payload"
            seen |= ids


# ------------------------------------------------------------------ history independence


def forget(rules: routeql.RuleSet) -> None:
    """Empty every cache routing fills (consent states and decoded signals, known event
    shapes, remembered valid format strings): what a fresh process would know."""
    rules.clear_caches()


def outcome(rules: routeql.RuleSet, event: Any, consent: Any) -> Any:
    """What routing one event gives: decide, then route (deliveries and consent state)."""
    try:
        decided: Any = rules.decide(event, consent)
    except RouteQLError as e:
        decided = type(e).__name__
    try:
        r = rules.route(event, consent)
    except RouteQLError as e:
        return decided, type(e).__name__
    return decided, r.deliveries, r.consent


@SETTINGS
@given(text=rule_sets(), evs=st.lists(st.tuples(events(), external_consent), min_size=2, max_size=6))
def test_an_events_answer_does_not_depend_on_the_events_routed_before(
        text: str, evs: list[tuple[dict[str, Any], Any]]) -> None:
    # the caches are keyed by signatures of what they hold: two inputs that share a key
    # must share an answer, or an event's routing would depend on the traffic before it
    rules = compiled(text)
    assume(rules is not None)
    assert rules is not None
    forget(rules)
    warm = []
    for e, c in evs:  # each after its plain twin: the likeliest to share a cache key with it
        outcome(rules, plain_twin(e), c)
        warm.append(outcome(rules, e, c))
    for (e, c), seen in zip(evs, warm):
        forget(rules)
        assert outcome(rules, e, c) == seen


def plain_twin(event: dict[str, Any]) -> dict[str, Any]:
    """The event with the consent oddities the strategies add taken out (non-string keys,
    oversized objects and lists): what the decoders accept, with the same mapped values."""
    twin = copy.deepcopy(event)
    ctx = twin.get("context")
    if not isinstance(ctx, dict):
        return twin
    prefs = (ctx.get("consent") or {}).get("categoryPreferences") if isinstance(ctx.get("consent"), dict) else None
    if isinstance(prefs, dict):
        for k in [k for k in prefs if not isinstance(k, str) or k in OVERSIZED_PREFS]:
            del prefs[k]
    mgmt = ctx.get("consentManagement")
    if isinstance(mgmt, dict) and "allowedConsentIds" in mgmt:
        ids = mgmt["allowedConsentIds"]
        mgmt["allowedConsentIds"] = [i for i in ids if isinstance(i, str) and i not in OVERSIZED_IDS]
    return twin


def test_history_property_catches_a_cache_key_that_misses_what_decides() -> None:
    """The property above fails when two consent signals that resolve differently share
    a cache key: simulated here by filing the refusal's key under the grant's state."""
    rules = routeql.loads('consent {\n  category ads from segment "Advertising"\n}\ndestination d { requires ads }')
    granted = {"type": "track", "event": "A", "context": {"consent": {"categoryPreferences": {"Advertising": True}}}}
    refused = {"type": "track", "event": "A", "context": {"consent": {"categoryPreferences": {"Advertising": False}}}}
    assert rules.resolver is not None
    forget(rules)
    seen = outcome(rules, granted, None)
    states = rules.resolver.states
    states[rules._consent_fn(refused)] = states[rules._consent_fn(granted)]  # a key too coarse
    colliding = outcome(rules, refused, None)
    forget(rules)
    assert colliding[0] == seen[0] == ("d",)  # the refusal answered from the grant's state
    fresh = outcome(rules, refused, None)
    assert fresh[0] == () and fresh[1] == {} and fresh != colliding  # what the property compares


# ------------------------------------------------------------------ fmt


def _format() -> Any:
    fmt = pytest.importorskip("routeql.fmt", reason="routeql/fmt.py is not there yet")
    return fmt.format_source


@settings(SETTINGS, max_examples=max(10, EXAMPLES // 3))
@given(text=rule_sets(), evs=st.lists(events(), min_size=1, max_size=5), external=external_consent)
def test_fmt_is_idempotent_and_preserves_meaning(text: str, evs: list[dict[str, Any]], external: Any) -> None:
    format_source = _format()
    rules = compiled(text)
    assume(rules is not None)
    assert rules is not None
    once = format_source(text, "random.rq")
    assert format_source(once, "random.rq") == once
    formatted = routeql.loads(once, "random.rq", salts={"s": "salt"})
    assert formatted.destinations == rules.destinations
    for ev in evs:
        a, b = route_or_none(rules, ev, external), route_or_none(formatted, ev, external)
        assert (a is None) == (b is None)
        if a is not None and b is not None:
            assert a.deliveries == b.deliveries
            # the reasons quote the statements as written, so only the deciding stage must agree
            assert {k: v.stage for k, v in a.skipped.items()} == {k: v.stage for k, v in b.skipped.items()}


def test_fmt_on_the_bundled_rules_and_docs(example_events: list[dict[str, Any]]) -> None:
    format_source = _format()
    from fuzz.corpus import rule_texts

    for text in rule_texts():
        once = format_source(text, "x.rq")
        assert format_source(once, "x.rq") == once
        try:
            rules = routeql.loads(text, "x.rq", salts={"s": "x"})
        except RouteQLError:
            continue  # a fragment (one file of a rule set); formatting it is still checked above
        formatted = routeql.loads(once, "x.rq", salts={"s": "x"})
        for ev in example_events[:40]:
            assert formatted.route(ev).deliveries == rules.route(ev).deliveries


def test_no_property_test_has_a_time_limit() -> None:
    """Timed assertions fail on a loaded CI machine for reasons that are not bugs (speed
    is measured in bench/): tests/conftest.py sets no deadline, and no test sets one."""
    import re

    from hypothesis import settings as current

    from tests.conftest import ROOT

    assert current.default.deadline is None
    timed = [f"{p.relative_to(ROOT)}:{text[:m.start()].count(chr(10)) + 1}"
             for p in sorted((ROOT / "tests").rglob("*.py"))
             for text in [p.read_text(encoding="utf-8")]
             for m in re.finditer(r"deadline\s*=\s*(?!None)\w", text)]
    assert not timed, f"a per-example time limit: {timed}"
