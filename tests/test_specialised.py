"""Decision functions specialised per consent state (``engine.SpecialisedFunctions``).

The fast path runs, for each (decision function, consent bits) pair, a copy of the
function with the consent tests folded: these tests hold every copy to the generic
function it came from, for every state, and check the bounds and the clean-up.
"""

from __future__ import annotations

import os
from typing import Any, Callable

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import routeql
from routeql import runtime
from routeql.errors import RouteQLRuntimeError
from tests.conftest import compile_random, route_both
from tests.strategies import events, rule_sets
from tests.test_equivalence import large_rule_set_codegen

EXAMPLES = int(os.environ.get("ROUTEQL_EXAMPLES", "250"))


def _bits(rules: routeql.RuleSet) -> int:
    cm = rules.model.consent
    return 0 if cm is None else len(cm.categories) + len(cm.vendors)


def _functions(rules: routeql.RuleSet) -> list[str]:
    return sorted(fs.name for fs in rules.decide.__globals__["_FS"].values())


def _call(fn: Callable[..., Any], event: dict[str, Any]) -> tuple[str, ...]:
    """A specialised function takes the event and its normalised context (when the consent
    key reads it) or the event alone."""
    if fn.__code__.co_argcount == 1:
        return fn(event)  # type: ignore[no-any-return]
    context = event.get("context")
    return fn(event, context if context.__class__ is dict else runtime.EMPTY)  # type: ignore[no-any-return]


def agree_in_every_state(rules: routeql.RuleSet, evs: list[dict[str, Any]]) -> None:
    """Every decision function, specialised for every combination of consent bits, says
    what the generic function says with those bits (states no event carries included)."""
    ns = rules.decide.__globals__
    bits = _bits(rules)
    full = (1 << bits) - 1
    # every state when there are few bits; else none, all, and each bit alone and missing
    masks = range(1 << bits) if bits <= 6 else sorted({0, full, *(1 << i for i in range(bits)),
                                                      *(full ^ (1 << i) for i in range(bits))})
    for name in _functions(rules):
        generic = ns[name]
        for mask in masks:
            special = rules._specialised.function(name, mask)
            for ev in evs:
                if not isinstance(ev, dict) or not runtime.envelope_ok(ev):
                    continue
                assert _call(special, ev) == tuple(generic(ev, mask)), (name, mask)


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(text=rule_sets(), evs=st.lists(events(), min_size=1, max_size=6))
def test_specialised_functions_agree_with_the_generic_one_in_every_state(text: str, evs: list[dict[str, Any]]) -> None:
    rules = compile_random(text)
    assume(rules is not None)
    assert rules is not None
    agree_in_every_state(rules, evs)


@settings(max_examples=EXAMPLES // 2, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(text=rule_sets(), evs=st.lists(events(), min_size=1, max_size=6))
def test_specialised_merged_functions_agree_too(text: str, evs: list[dict[str, Any]]) -> None:
    # a large rule set calls a type's shared function and the name's own one: specialised,
    # the two are one function (in declaration order)
    try:
        with large_rule_set_codegen():
            rules = routeql.loads(text, "random.rq", salts={"s": "salt"})
    except routeql.RouteQLCheckError:
        rules = None
    assume(rules is not None)
    assert rules is not None
    agree_in_every_state(rules, evs)


def test_bundled_rules_in_every_state(bundled: routeql.RuleSet) -> None:
    from tests.test_hot_path import _events

    agree_in_every_state(bundled, _events()[:40])


_RULES = """
consent {
  category ads from segment "Advertising"
  category analytics from segment "Analytics"
}
destination a { requires ads  when properties.x > 1 }
destination b { requires analytics  when properties.y = "z" }
destination c { requires ads, analytics }
destination d { requires any of ads, analytics  sample 50% by userId }
"""


def route_twice(rules: routeql.RuleSet, evs: list[dict[str, Any]]) -> None:
    """Route each event both ways, twice: the first pass resolves the states (the general
    path), the second runs the specialised functions the fast path makes for them."""
    for _ in range(2):
        for ev in evs:
            route_both(rules, ev)


def _event(ads: Any, analytics: Any, **props: Any) -> dict[str, Any]:
    return {"type": "track", "event": "E", "userId": "u", "properties": props,
            "context": {"consent": {"categoryPreferences": {"Advertising": ads, "Analytics": analytics}}}}


def test_a_specialised_function_tests_and_reads_only_what_its_state_lets_through() -> None:
    rules = routeql.loads(_RULES)
    name = _functions(rules)[-1]
    _, text, _, count = rules.generated.specialise(name, 0b01)  # ads granted, analytics refused
    assert count == 2 and "properties" in text and "'x'" in text and "'y'" not in text
    assert "'a'" in text and "'d'" in text and "'b'" not in text and "'c'" not in text
    assert "g & " not in text  # the consent tests are folded away
    assert rules.generated.specialise(name, 0)[3] == 0  # refuses all: nothing to compile


def test_states_pick_their_specialisations_and_answers_match_the_interpreter() -> None:
    rules = routeql.loads(_RULES)
    evs = [_event(a, b, x=2, y="z") for a in (True, False, None, 1) for b in (True, False, "yes")]
    route_twice(rules, evs)
    made = rules._specialised
    assert made and {mask for _, mask in made} == {s.mask for s in rules.resolver.states.values()}
    assert all(fn.__name__ != "<lambda>" for fn in made.values())


def test_past_the_bound_the_generic_function_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    import routeql.engine as engine

    evs = [_event(a, b, x=2, y="z") for a in (True, False) for b in (True, False)]
    monkeypatch.setattr(engine, "MAX_SPECIALISED", 1)
    rules = routeql.loads(_RULES)
    route_twice(rules, evs)
    assert len(rules._specialised) == 1  # one compiled; the other states run the generic one
    monkeypatch.setattr(engine, "MAX_SPECIALISED", 2048)
    monkeypatch.setattr(engine, "MAX_SPECIALISED_SIZE", 0)  # too large to be worth compiling
    rules = routeql.loads(_RULES)
    route_twice(rules, evs)
    assert {fn.__name__ for fn in rules._specialised.values()} <= {"<lambda>", "_nothing"}


def test_the_keys_of_a_function_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    import routeql.engine as engine

    monkeypatch.setattr(engine, "MAX_SPECIALISED_KEYS", 2)
    rules = routeql.loads(_RULES)
    evs = [_event(a, b, x=2, y="z") for a in (True, False, None) for b in (True, False, None)]
    for _ in range(3):
        for ev in evs:
            route_both(rules, ev)
            assert all(len(fs) <= 2 for fs in rules.decide.__globals__["_FS"].values())


def test_a_failure_inside_a_specialised_function_names_its_rule(monkeypatch: pytest.MonkeyPatch) -> None:
    rules = routeql.loads(_RULES, "shop.rq")
    ev = _event(True, True, x=2, y="z")
    rules.route(ev)
    rules.route(ev)  # the state is known: the fast path compiles the specialised function
    assert rules._specialised
    lines = len(rules.generated.linemap)

    def broken(value: Any) -> int:
        raise ZeroDivisionError

    monkeypatch.setitem(rules.decide.__globals__, "_bucket", broken)
    with pytest.raises(RouteQLRuntimeError, match=r"routing failed in d \(shop\.rq:9:1\)"):
        rules.route(ev)
    rules.clear_caches()  # the specialised functions and their line-map entries go
    assert not rules._specialised and len(rules.generated.linemap) < lines
    assert not any(rules.decide.__globals__["_FS"].values())


def test_threads_missing_the_same_pair_compile_it_once() -> None:
    import sys
    import threading
    from collections import Counter

    rules = routeql.loads(_RULES)
    evs = [_event(a, b, x=2, y="z") for a in (True, False, None) for b in (True, False, None)]
    for ev in evs:  # the states resolved (the general path), nothing specialised yet
        rules.consent_state(ev)
    assert not rules._specialised
    made: Counter[tuple[str, int]] = Counter()
    specialise = rules.generated.specialise

    def counting(name: str, mask: int) -> Any:
        made[(name, mask)] += 1
        return specialise(name, mask)

    rules.generated.specialise = counting
    expected = [tuple(rules.reference(ev).deliveries) for ev in evs]
    barrier = threading.Barrier(8)
    answers: list[list[Any]] = []

    def run() -> None:
        barrier.wait()
        answers.append([rules.decide(ev) for ev in evs])

    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        threads = [threading.Thread(target=run) for _ in range(8)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
    finally:
        sys.setswitchinterval(old)
    assert len(answers) == 8 and all(a == expected for a in answers)
    assert made and set(made.values()) == {1}


def test_a_guarded_consent_policy_becomes_its_guard_where_the_state_refuses() -> None:
    rules = routeql.loads("""
consent {
  category ads from segment "Advertising"
  category analytics from segment "Analytics"
}
destination a tagged t { when properties.y = "z" }
destination b { when properties.y = "z" }
policy p { require consent ads for tagged t if properties.x > 1 }
""")
    name = _functions(rules)[-1]
    refused = rules.generated.specialise(name, 0b10)[1]  # analytics only
    granted = rules.generated.specialise(name, 0b01)[1]
    assert "not (" in refused and "'x'" in refused
    assert "not (" not in granted and "'x'" not in granted
    evs = [_event(a, True, x=x, y="z") for a in (True, False) for x in (0, 2)]
    route_twice(rules, evs)
    assert [rules.decide(ev) for ev in evs] == [("a", "b"), ("a", "b"), ("a", "b"), ("b",)]


def test_specialisation_can_be_turned_off() -> None:
    rules = routeql.loads(_RULES, specialise=False)
    evs = [_event(a, b, x=2, y="z") for a in (True, False) for b in (True, False, None)]
    route_twice(rules, evs)
    assert not rules._specialised  # nothing compiled
    tables = [fs for fs in rules.decide.__globals__["_FS"].values() if fs]
    assert tables and all(fn.__name__ == "<lambda>" for fs in tables for fn in fs.values())
