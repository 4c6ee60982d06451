"""Shared fixtures: the bundled rules, a compiler for inline rules, and a checker that
every routing decision agrees between the compiled engine and the reference interpreter."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Mapping

import pytest
from hypothesis import settings

import routeql
from routeql.engine import RuleSet

# No property test has a time limit per example: the machines CI runs on are shared and
# noisy, and a timed assertion there fails for reasons that are not bugs. What must stay
# fast is measured in bench/; what must stay bounded (input sizes, nesting) is tested as
# behaviour.
settings.register_profile("routeql", deadline=None)
settings.load_profile("routeql")

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture(scope="session")
def bundled() -> RuleSet:
    return routeql.load(ROOT / "rules")


@pytest.fixture(scope="session")
def example_events() -> list[dict[str, Any]]:
    with (ROOT / "examples" / "events.jsonl").open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def compile_rules(text: str, name: str = "t.rq", **options: Any) -> RuleSet:
    return routeql.loads(text, name, **options)


_random_compiled: dict[str, RuleSet | None] = {}


def compile_random(text: str) -> RuleSet | None:
    """A drawn rule set, compiled once (None when it does not check: an unreachable rule,
    a kept-and-dropped path...); the salt name the strategies use is configured."""
    if text not in _random_compiled:
        try:
            _random_compiled[text] = routeql.loads(text, "random.rq", salts={"s": "salt"})
        except routeql.RouteQLCheckError:
            _random_compiled[text] = None
    return _random_compiled[text]


def route_both(rules: RuleSet, event: Any, consent: Mapping[str, bool] | None = None) -> routeql.Routing:
    """Route with the compiled engine, check the interpreter agrees, return the routing."""
    fast = rules.route(event, consent)
    ref = rules.reference(event, consent)
    assert fast.deliveries == ref.deliveries, "compiled engine and interpreter disagree"
    assert repr(fast.deliveries) == repr(ref.deliveries), "same payloads, but not in the same key order"
    assert set(ref.reasons) == set(rules.destinations) - set(fast.deliveries)
    assert rules.decide(event, consent) == tuple(fast.deliveries)
    return fast


def load_vectors(name: str) -> list[dict[str, Any]]:
    return json.loads((DATA / "vectors" / name).read_text(encoding="utf-8"))
