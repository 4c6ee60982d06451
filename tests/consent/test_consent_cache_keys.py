"""The consent state cache is keyed by a signature of the signals: two signals with one
signature must resolve alike, or the answer for an event would depend on the events
routed before it.  Each case is a pair: a well-formed signal, then a signal that shares
the mapped values but that the decoder treats differently (too large, not strings).
Both the compiled fast path and the general path must give the fresh answer."""

from __future__ import annotations

from typing import Any

import pytest

import routeql
from tests.conftest import ROOT

RULES = """
consent {
  category ads   from segment "Advertising"
  category crm   from rudderstack "C0004"
  default regime opt_in
}
destination by_segment { requires ads }
destination by_rudder  { requires crm }
"""


def event(consent: Any = None, management: Any = None) -> dict[str, Any]:
    context: dict[str, Any] = {}
    if consent is not None:
        context["consent"] = consent
    if management is not None:
        context["consentManagement"] = management
    return {"type": "track", "event": "Order Completed", "context": context}


CASES = {
    "segment: more categories than the decoder takes": (
        event({"categoryPreferences": {"Advertising": True}}),
        event({"categoryPreferences": {"Advertising": True, **{f"c{i}": True for i in range(2000)}}}),
    ),
    "rudderstack: more ids than the decoder takes": (
        event(management={"allowedConsentIds": ["C0004"]}),
        event(management={"allowedConsentIds": ["C0004", *(f"x{i}" for i in range(2000))]}),
    ),
    "rudderstack: an id object with a key that is not a string": (
        event(management={"allowedConsentIds": {"C0004": "Targeting"}}),
        event(management={"allowedConsentIds": {"C0004": "Targeting", 7: "?"}}),
    ),
}


@pytest.mark.parametrize("first, second", CASES.values(), ids=CASES.keys())
def test_answer_does_not_depend_on_the_events_before(first: dict[str, Any], second: dict[str, Any]) -> None:
    fresh = routeql.loads(RULES)
    expected_decide = fresh.decide(second)
    expected_route = sorted(routeql.loads(RULES).route(second).deliveries)
    assert expected_decide == ()  # a malformed signal denies what it maps
    for route_first in (False, True):
        rs = routeql.loads(RULES)
        assert rs.decide(first) != ()
        if route_first:
            rs.route(first)
        assert rs.decide(second) == expected_decide
        assert sorted(rs.route(second).deliveries) == expected_route
        assert rs.reference(second).deliveries.keys() == set(expected_route)


def test_a_non_string_category_key_is_ignored_not_fatal() -> None:
    rs = routeql.loads(RULES)
    e = event({"categoryPreferences": {"Advertising": True, 5: True}})
    assert rs.decide(e) == ("by_segment",)
    assert rs.route(e).consent.signals[0].status == "ok"


def _deep(levels: int) -> Any:
    x: Any = "v"
    for _ in range(levels):
        x = {"a": [x]}
    return x


def test_a_signal_nested_past_the_stack_is_malformed_not_an_error() -> None:
    """The key of a malformed signal looks at most MAX_KEY_DEPTH levels down, so it never
    runs out of stack: decide, route and the interpreter agree however deep the signal is
    (and however much stack the caller has left; the fuzzer once found decide() failing
    where route() routed, one frame from the limit)."""
    from routeql.consent.signals import MAX_KEY_DEPTH, scalar_key

    rules = routeql.load(ROOT / "rules")
    for levels in (MAX_KEY_DEPTH - 1, MAX_KEY_DEPTH + 1, 5000):
        e = {"type": "track", "event": "Order Completed", "userId": "u1",
             "context": {"consent": {"tcf": _deep(levels)}, "gpp": _deep(levels)}}
        routing = rules.route(e)
        assert rules.decide(e) == tuple(routing.deliveries) == tuple(rules.reference(e).deliveries)
        status = {s.format: s.status for s in routing.consent.signals}
        assert status["tcf"] == "malformed" and status["gpp" if "gpp" in status else "usnat"] == "malformed"
    # within the bound the key tells signals apart; below it, they are alike "too deep"
    assert scalar_key(_deep(3)) != scalar_key(_deep(4))
    assert scalar_key(_deep(20)) == scalar_key(_deep(30))


def test_heavy_signals_are_resolved_each_time_not_kept() -> None:
    """The caches hold their keys: a stream of distinct maximum-size signals must not fill
    them (4,096 entries of 64 KiB each would be 256 MiB). A signal past the weight bound
    is decoded and resolved each time, with the same answer as a cached one."""
    from routeql.consent.resolve import MAX_CACHED_KEY_WEIGHT

    rules = routeql.load(ROOT / "rules")
    heavy = [{"type": "track", "event": "Order Completed", "userId": "u1",
              "context": {"consent": {"tcf": "C" + "A" * (MAX_CACHED_KEY_WEIGHT + i)}, "gpp": "D" * (20_000 + i)}}
             for i in range(30)]
    wide = [{"type": "track", "event": "Order Completed", "userId": "u1",
             "context": {"us_privacy": [f"x{j}" for j in range(MAX_CACHED_KEY_WEIGHT // 4 + i)]}}
            for i in range(5)]
    rules.clear_caches()
    for e in heavy + wide:
        routing = rules.route(e)
        assert rules.decide(e) == tuple(routing.deliveries) == tuple(rules.reference(e).deliveries)
        assert "malformed" in {s.status for s in routing.consent.signals}
    assert rules.resolver is not None
    assert not rules.resolver.states and not rules.resolver._decode_cache
    # a light one is kept
    light = {**heavy[0], "context": {"consent": {"tcf": "CAAA"}}}
    assert rules.decide(light) == tuple(rules.route(light).deliveries)
    assert len(rules.resolver.states) == 1
