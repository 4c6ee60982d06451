"""What the engine's runtime choices buy, each beside its alternative in the same run.

- ``specialise``: ``decide`` at D = 50 with decision functions compiled per consent state
  (the default) and with ``Options.specialise=False`` (the generic functions);
- ``truncate_ip``: an address the memo has seen against parsing it again;
- ``bundled rules``: ``route`` over the bundled rules and example events (several consent
  formats and regimes, hashing, IP truncation, whole-event copies), what a real rule set
  costs beside the generated workload.

Reported in ``bench/RESULTS.md``: ``specialise`` under "Interleaved medians", the others
under "Other benchmarks" (medians, one round = every event or every address); nothing
here asserts a time.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import routeql
from routeql import runtime

from .conftest import FACTS, ROUNDS, Bench, collect, interleaved, per_event_rounds

ROOT = Path(__file__).parents[1]


def test_specialise_interleaved(bench: Bench) -> None:
    # interleaved (round robin), like the targets' ratios: the two differ by about a tenth,
    # less than what noise does to rows timed one after the other
    fns = {}
    for impl, specialise in (("routeql", True), ("routeql specialise=False", False)):
        rules = routeql.loads(bench.sources[50], "bench-d50.rq", specialise=specialise)
        fns[impl] = per_event_rounds(rules.decide, bench.events)
    medians = interleaved(fns, ROUNDS)  # (its warm-up resolves the states, compiles the copies)
    FACTS.setdefault("interleaved", {}).setdefault("decide: specialise on/off", {})["50"] = {
        impl: s / len(bench.events) for impl, s in medians.items()
    }


_ADDRESSES = [f"203.0.{i // 256}.{i % 256}" for i in range(500)]


@pytest.mark.parametrize("memo", [True, False], ids=["remembered", "parsed"])
def test_truncate_ip(benchmark: Any, memo: bool) -> None:
    fn = runtime.truncate_ip if memo else (lambda v: runtime.truncate_ip_text(v, 24, 48))
    for a in _ADDRESSES:
        assert fn(a) == runtime.truncate_ip_text(a, 24, 48)
    benchmark.group = "truncate_ip: 500 addresses"
    benchmark.pedantic(per_event_rounds(fn, _ADDRESSES), rounds=ROUNDS, warmup_rounds=1, iterations=1)


def test_bundled_rules(benchmark: Any) -> None:
    rules = routeql.load(ROOT / "rules")
    events = [json.loads(line) for line in (ROOT / "examples" / "events.jsonl").read_text("utf-8").splitlines()]

    def route(e: Any) -> None:
        try:
            rules.route(e)
        except routeql.RouteQLError:
            pass  # (the examples hold a few malformed events on purpose)

    run = per_event_rounds(route, events)
    run()
    benchmark.group = f"bundled rules: route {len(events):,} events"
    benchmark.pedantic(run, setup=collect, rounds=ROUNDS, warmup_rounds=1, iterations=1)
