"""Tracking plans while routing (issue 6): what a plan of 50 events adds to routing time.

The D=50 rule set routes the workload with and without ``workload.plan_source(50)``
(every event and property checked, violations flagged, nothing blocked), timed round
robin, each round with the formats' memory of valid strings emptied.  Before timing:
both make the same decisions on every event; payloads are equal except that a flagged
event's payloads carry its violations; and the compiled engine agrees with the
reference interpreter on a sample.

Also timed in the same rounds: the floor under any validator, reading every planned
field and checking nothing before routing (``bench/plan_floor.py``); and the peer, the
plan exported to JSON Schema and checked by fastjsonschema before routing
(``bench/schema_peer.py``), once it has given the same verdict as RouteQL on every event.
"""

from __future__ import annotations

import copy
from typing import Any, Callable

import routeql
from routeql.plans import VALID

from . import plan_floor, schema_peer
from .conftest import FACTS, ROUNDS, Bench, interleaved, per_event_rounds
from .workload import plan_source

D = 50
LARGER = 200
PLAN_EVENTS = 50


def _without_violations(payload: dict[str, Any], plain: dict[str, Any]) -> dict[str, Any]:
    """A flagged payload with its violations (``context.protocols.violations``) taken out."""
    out = copy.deepcopy(payload)
    context = out.get("context")
    if isinstance(context, dict) and isinstance(context.get("protocols"), dict):
        context["protocols"].pop("violations", None)
        if not context["protocols"] and "protocols" not in (plain.get("context") or {}):
            del context["protocols"]
        if not context and "context" not in plain:
            del out["context"]
    return out


def cold(run: Callable[[], None]) -> Callable[[], None]:
    """A round that starts with the formats' memory of valid strings empty (it remembers
    what it checked in earlier rounds of the same events, which a stream would not have
    seen): each round costs what one pass over a fresh stream of these events costs."""

    def go() -> None:
        for memo in VALID.values():
            memo.clear()
        run()

    return go


def test_route_with_a_plan_of_50_events(bench: Bench) -> None:
    plain = bench.rulesets[D]
    planned = routeql.loads(bench.sources[D] + "\n" + plan_source(PLAN_EVENTS), f"bench-d{D}-plan.rq")
    assert len(planned.model.plans) == 1
    assert sum(kind == "track" for kind, _ in planned.model.plans[0].index) == PLAN_EVENTS

    flagged = 0
    for i, e in enumerate(bench.events):
        a, b = plain.route(e), planned.route(e)
        assert tuple(a.deliveries) == tuple(b.deliveries), f"event #{i}: a flag-only plan changed the decisions"
        if b.plan is not None and b.plan.violations:
            flagged += 1
            assert {k: _without_violations(v, a.deliveries[k]) for k, v in b.deliveries.items()} == a.deliveries
        else:
            assert b.deliveries == a.deliveries
        if i % 25 == 0:
            assert b.deliveries == planned.reference(e).deliveries, f"event #{i}: engine and interpreter differ"

    rounds = {"without": cold(per_event_rounds(plain.route, bench.events)),
              "with": cold(per_event_rounds(planned.route, bench.events)),
              # for comparison, not judged: the same stream replayed (memo warm)
              "with, memo warm": per_event_rounds(planned.route, bench.events)}
    # the floor under any validator: read every planned field, check nothing, then route
    read = plan_floor.floor(planned.model.plans[0])

    def read_then_route(e: Any) -> None:
        read(e)
        plain.route(e)

    rounds["reads only"] = per_event_rounds(read_then_route, bench.events)
    if schema_peer.available():
        # the peer: the plan exported to JSON Schema, fastjsonschema's verdict, then routing
        valid = schema_peer.validator(planned)
        for i, e in enumerate(bench.events):
            pr = planned.validate(e)
            assert valid(e) == pr.clean, f"event #{i}: fastjsonschema and RouteQL's plan disagree"

        def validate_then_route(e: Any) -> None:
            valid(e)
            plain.route(e)

        rounds["fastjsonschema"] = cold(per_event_rounds(validate_then_route, bench.events))
    medians = interleaved(rounds, ROUNDS)
    n = len(bench.events)
    FACTS["plan"] = {"D": D, "plan_events": PLAN_EVENTS, "flagged_events": flagged, "events": n,
                     "without": medians["without"] / n, "with": medians["with"] / n,
                     "with_warm": medians["with, memo warm"] / n, "reads_only": medians["reads only"] / n,
                     "with_fastjsonschema": medians["fastjsonschema"] / n if "fastjsonschema" in medians else None}

    # the same plan beside a larger rule set (shown, not judged): the plan's cost per event
    # is the same, routing's is larger
    plain, planned = bench.rulesets[LARGER], routeql.loads(bench.sources[LARGER] + "\n" + plan_source(PLAN_EVENTS),
                                                           f"bench-d{LARGER}-plan.rq")
    for i, e in enumerate(bench.events):
        assert tuple(plain.route(e).deliveries) == tuple(planned.route(e).deliveries), f"event #{i}, D={LARGER}"
    larger = interleaved({"without": cold(per_event_rounds(plain.route, bench.events)),
                          "with": cold(per_event_rounds(planned.route, bench.events))}, ROUNDS)
    FACTS["plan"]["larger"] = {"D": LARGER, "without": larger["without"] / n, "with": larger["with"] / n}
