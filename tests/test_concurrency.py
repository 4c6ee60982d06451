"""A RuleSet shared by 8 threads gives exactly the results of sequential routing.

The consent caches are made tiny (8 decoded strings, 8 states) so that threads evict
each other's entries while they race; Python's switch interval is shortened so that
threads interleave inside the engine, not just between events.
"""

from __future__ import annotations

import json
import random
import sys
import threading
from typing import Any, Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import routeql
from routeql.errors import RouteQLError
from tests.conftest import ROOT
from tests.strategies import events

THREADS = 8

#: consent signals to mix into events: TC strings (valid and not), Segment preferences,
#: US signals; more distinct values than the caches hold
TC = ["CPXxRfAPXxRfAAfKABENB-CgAAAAAAAAAAYgAAAAAAAA", "COtybn4PA_zT4KjACBENAPCIAEBAAECAAIAAAAAAAAAA",
      "CPtGDMAPtGDMALMAAAENA_E_AAAAAAAAACiQAAAAAAAA", "COx3XOeOx3XOeLkAAAENAfCIAAAAAHgAAIAAAAAAAAAA", "bad", "C"]
PREFS = [{"Advertising": True, "Analytics": True}, {"Advertising": False}, {"Analytics": True, "Personalization": True},
         {}, {"Functional": True}, {"Advertising": "yes"}]
EXTERNAL = [None, None, {"advertising": False}, {"analytics": True, "personalization": True}, {"functional": False}]


def with_consent(event: dict[str, Any], i: int) -> dict[str, Any]:
    ev = dict(event)
    ctx = dict(ev.get("context") or {})
    consent = dict(ctx.get("consent") or {}) if isinstance(ctx.get("consent"), dict) else {}
    if i % 3 == 0:
        consent["tcf"] = TC[i % len(TC)]
    if i % 2 == 0:
        consent["categoryPreferences"] = PREFS[i % len(PREFS)]
    if i % 5 == 0:
        ctx["gpc"] = True
    if i % 7 == 0:
        ctx["us_privacy"] = ["1YNN", "1NNN", "1---"][i % 3]
    ctx["consent"] = consent
    ev["context"] = ctx
    return ev


def workload(example_events: list[dict[str, Any]], extra: list[dict[str, Any]]) -> list[tuple[Any, Any]]:
    evs = [with_consent(e, i) for i, e in enumerate(example_events + extra)]
    evs += ["not an event", {"type": "nope"}]  # bad events race too
    return [(e, EXTERNAL[i % len(EXTERNAL)]) for i, e in enumerate(evs)]


def outcome(rules: routeql.RuleSet, event: Any, consent: Any, explain: bool) -> Any:
    """Everything routing says about one event, in comparable form."""
    try:
        r = rules.route(event, consent)
    except RouteQLError as e:
        return ("error", type(e).__name__, e.message)
    out: tuple[Any, ...] = (r.deliveries, r.consent.mask, r.consent.to_dict(), r.version)
    if explain:
        out += ({k: v.to_dict() for k, v in r.skipped.items()},)
    return out


@pytest.fixture(scope="module")
def shared() -> routeql.RuleSet:
    return routeql.load(ROOT / "rules", decode_cache_size=8, state_cache_size=8)


@pytest.fixture
def fast_switching() -> Iterator[None]:
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)
    try:
        yield
    finally:
        sys.setswitchinterval(old)


def race(rules: routeql.RuleSet, work: list[tuple[Any, Any]], explain_every: int = 5) -> list[dict[int, Any]]:
    """Each thread routes every item, in its own shuffled order; results by index."""
    barrier = threading.Barrier(THREADS)
    results: list[dict[int, Any]] = [{} for _ in range(THREADS)]
    failures: list[BaseException] = []

    def run(t: int) -> None:
        order = list(range(len(work)))
        random.Random(t).shuffle(order)
        try:
            barrier.wait()
            for i in order:
                event, consent = work[i]
                results[t][i] = outcome(rules, event, consent, explain=i % explain_every == 0)
        except BaseException as e:  # noqa: BLE001 - reported by the test
            failures.append(e)

    threads = [threading.Thread(target=run, args=(t,)) for t in range(THREADS)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not failures, failures
    return results


def test_eight_threads_give_the_sequential_results(shared: routeql.RuleSet, example_events: list[dict[str, Any]],
                                                   fast_switching: None) -> None:
    work = workload(example_events[:120], [])
    reference = routeql.load(ROOT / "rules")  # default caches, routed alone
    expected = {i: outcome(reference, e, c, explain=i % 5 == 0) for i, (e, c) in enumerate(work)}
    assert any(v[0] == "error" for v in expected.values())
    for per_thread in race(shared, work):
        assert per_thread == expected


@settings(max_examples=4, deadline=None, suppress_health_check=list(HealthCheck))
@given(evs=st.lists(events(), min_size=30, max_size=40))
def test_eight_threads_on_random_events(shared: routeql.RuleSet, evs: list[dict[str, Any]]) -> None:
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)
    try:
        work = workload([], evs)
        expected = {i: outcome(shared, e, c, explain=True) for i, (e, c) in enumerate(work)}
        for per_thread in race(shared, work, explain_every=1):
            assert per_thread == expected
    finally:
        sys.setswitchinterval(old)


def test_batches_in_threads(shared: routeql.RuleSet, example_events: list[dict[str, Any]], fast_switching: None) -> None:
    work = workload(example_events[:60], [])
    lines = [e if isinstance(e, str) else json.dumps(e) for e, _ in work]
    expected = [(r.deliveries, r.error is None) for r in shared.route_batch(lines)]
    got: list[Any] = [None] * THREADS

    def run(t: int) -> None:
        got[t] = [(r.deliveries, r.error is None) for r in shared.route_batch(lines)]

    threads = [threading.Thread(target=run, args=(t,)) for t in range(THREADS)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert all(g == expected for g in got)
