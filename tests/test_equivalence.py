"""Two paths, one answer: the compiled engine agrees with the reference interpreter.

On the bundled rules and on randomly generated rule sets, for random events and
consent states: the same deliveries with the same payloads, and a skip reason for
every destination that did not receive the event.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from typing import Any, Iterator

import pytest

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import routeql
from routeql.codegen import _Gen
from routeql.errors import EventError, RouteQLCheckError
from tests.conftest import ROOT, compile_random, route_both
from tests.strategies import events, external_consent, rule_sets

#: examples per property; raise it for a deeper run: ROUTEQL_EXAMPLES=5000 make test
EXAMPLES = int(os.environ.get("ROUTEQL_EXAMPLES", "250"))

EXTERNAL_BUNDLED = st.one_of(st.none(), st.dictionaries(
    st.sampled_from(["analytics", "advertising", "personalization", "functional"]), st.booleans(), max_size=4))


def agree(rules: routeql.RuleSet, event: dict[str, Any], consent: Any) -> None:
    try:
        route_both(rules, event, consent)
    except EventError:
        # a malformed event must be malformed for both engines
        try:
            rules.reference(event, consent)
        except EventError:
            return
        raise AssertionError("the interpreter accepted an event the engine rejected")


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(event=events(), consent=EXTERNAL_BUNDLED)
def test_bundled_rules(bundled: routeql.RuleSet, event: dict[str, Any], consent: Any) -> None:
    for source in ("acme-shop", "flowboard", "northwind"):
        ev = dict(event, context=dict(event.get("context") or {}, source=source, brand="northwind-kids"))
        agree(bundled, ev, consent)


compile_or_none = compile_random


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(text=rule_sets(), evs=st.lists(events(), min_size=1, max_size=8), consent=external_consent)
def test_random_rule_sets(text: str, evs: list[dict[str, Any]], consent: Any) -> None:
    rules = compile_or_none(text)
    assume(rules is not None)
    assert rules is not None
    for ev in evs:
        agree(rules, ev, consent)


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(event=events())
def test_compiled_consent_key_is_the_resolvers_signature(bundled: routeql.RuleSet, event: dict[str, Any]) -> None:
    """The state cache is keyed inline by generated code; it must be the generic signature."""
    resolver = bundled.resolver
    assert resolver is not None
    for tc in (None, "CPXxRfAPXxRfAAfKABENB-CgAAAAAAAAAAYgAAAAAAAA", "bad"):
        ev = event if tc is None else dict(event, context=dict(event.get("context") or {}, consent={"tcf": tc}))
        key = bundled._consent_fn(ev)
        assert key == resolver.signature(key[0], resolver.read(ev))


def test_random_rule_sets_mostly_check() -> None:
    """Guard against the generator drifting into rules that never compile (a vacuous test)."""
    samples: list[str] = []

    @settings(max_examples=60, deadline=None, database=None)
    @given(rule_sets())
    def collect(text: str) -> None:
        samples.append(text)

    collect()
    ok = sum(compile_or_none(text) is not None for text in samples)
    assert ok >= len(samples) * 0.6, f"only {ok}/{len(samples)} random rule sets compile"


VALUES: list[Any] = [None, True, False, 0, 1, 1.0, 1.5, 2, -1, 100, "1", "10", "a", "b", "", "P", "Product X",
                     [], [1], [1, 2], ["a"], {}, {"a": 1}, float("inf")]
OPERATORS = ["=", "!=", "<", "<=", ">", ">="]
LITERAL_TEXT = ["1", "1.0", "1.5", "0", "-1", '"1"', '"a"', '""', "true", "false", "null", "[1, 2]", '["a"]', "[]"]


def test_operator_grid() -> None:
    """Every comparison form the code generator inlines, against every kind of value."""
    conds = []
    for lit in LITERAL_TEXT:
        for op in OPERATORS:
            if op not in ("=", "!=") and lit in ("true", "false", "null", "[1, 2]", '["a"]', "[]"):
                continue
            conds.append(f"x {op} {lit}")
            conds.append(f"{lit} {op} x")
        if lit != "[]":
            conds.append(f"x in [{lit}, 2]" if not lit.startswith("[") else f"x in {lit}")
        conds.append(f"x not in [{lit}]" if not lit.startswith("[") else f"x not in {lit}")
    conds += ["x exists", "x missing", 'x matches "P*"', 'x matches "*a"', 'x matches "[ab]"',
              'x matches regex "^P"', "x in y", 'contains(x, "a")', "length(x) = 1", 'lower(x) = "a"',
              'typeof(x) = "number"', "x = y", "x < y", 'starts_with(x, "P")']
    text = "".join(f"destination d{i} {{ when {c} }}\n" for i, c in enumerate(conds))
    rules = routeql.loads(text, "grid.rq")
    for value in VALUES:
        for other in (None, 1, "a", [1, "a"], True):
            ev: dict[str, Any] = {"type": "page", "y": other}
            if value is not None:
                ev["x"] = value
            agree(rules, ev, None)


# ------------------------------------------------------------ the code paths of large rule sets

@contextmanager
def large_rule_set_codegen() -> Iterator[None]:
    """Generate code as for a huge rule set: no generic destination inlined into the
    per-name functions (merged calls instead), every repeated keep subtree shared."""
    saved = _Gen.INLINE_LIMIT, _Gen.SHARE_LIMIT
    _Gen.INLINE_LIMIT, _Gen.SHARE_LIMIT = 0, 0
    try:
        yield
    finally:
        _Gen.INLINE_LIMIT, _Gen.SHARE_LIMIT = saved


@pytest.fixture(scope="module")
def bundled_large_style() -> routeql.RuleSet:
    with large_rule_set_codegen():
        rules = routeql.load(ROOT / "rules")
    assert "def k_" in rules.source and "out.sort(key=_ORDER.__getitem__)" in rules.source
    return rules


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(event=events(), consent=EXTERNAL_BUNDLED)
def test_bundled_rules_compiled_as_a_large_rule_set(bundled_large_style: routeql.RuleSet, event: dict[str, Any],
                                                    consent: Any) -> None:
    for source in ("acme-shop", "flowboard", "northwind"):
        ev = dict(event, context=dict(event.get("context") or {}, source=source, brand="northwind-kids"))
        agree(bundled_large_style, ev, consent)


@settings(max_examples=EXAMPLES // 2, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(text=rule_sets(), evs=st.lists(events(), min_size=1, max_size=8), consent=external_consent)
def test_random_rule_sets_compiled_as_large_rule_sets(text: str, evs: list[dict[str, Any]], consent: Any) -> None:
    try:
        with large_rule_set_codegen():
            rules = routeql.loads(text, "random.rq", salts={"s": "salt"})
    except RouteQLCheckError:
        rules = None
    assume(rules is not None)
    assert rules is not None
    for ev in evs:
        agree(rules, ev, consent)
