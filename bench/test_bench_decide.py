"""Decisions only: time to decide every destination of D for an event, per implementation.

Each cell is one pytest-benchmark test: RouteQL's ``RuleSet.decide`` and the hand-written
variants over all the events, the peers over a calibrated prefix of them (they are
100 to 100,000 times slower), median of the rounds, gc collected before each round.
``test_decide_interleaved`` times RouteQL and the hand-written variants again, round
robin within one test, so that machine noise hits them alike: the ratios in the
targets table come from it.  Nothing here asserts a time.
"""

from __future__ import annotations

import time
from typing import Any, Callable

import pytest

from .agree import check_decisions
from .conftest import DECIDERS, FACTS, PEER_ROUNDS, PEER_SECONDS, ROUNDS, Bench, collect, interleaved, per_event_rounds
from .peers import PEERS
from .workload import SIZES


@pytest.mark.parametrize(("d", "impl"), [(d, i) for d in SIZES for i in DECIDERS],
                         ids=[f"D{d}-{i}" for d in SIZES for i in DECIDERS])
def test_decide(benchmark: Any, bench: Bench, d: int, impl: str) -> None:
    benchmark.group = f"decide D={d}"
    benchmark.extra_info.update(kind="decide", impl=impl, D=d, events=len(bench.events))
    benchmark.pedantic(per_event_rounds(bench.decider(impl, d), bench.events), setup=collect, rounds=ROUNDS,
                       warmup_rounds=1, iterations=1)


def calibrate(decide: Callable[[Any], Any], events: list[Any], seconds: float) -> int:
    """How many events (a prefix) one round of ``decide`` can take in about ``seconds``."""
    n = 2
    while True:
        t0 = time.perf_counter()
        for e in events[:n]:
            decide(e)
        spent = time.perf_counter() - t0
        if spent >= seconds / 10 or n >= len(events):
            break
        n *= 2
    per_event = spent / min(n, len(events))
    return max(5, min(len(events), int(seconds / per_event)))


@pytest.mark.parametrize(("d", "peer"), [(d, p) for d in SIZES for p in PEERS],
                         ids=[f"D{d}-{p}" for d in SIZES for p in PEERS])
def test_decide_peer(benchmark: Any, bench: Bench, d: int, peer: str) -> None:
    decide = bench.peer(peer).decider(d)
    n = calibrate(decide, bench.events, PEER_SECONDS)
    evs = bench.events[:n]
    # every timed event is checked first (this pass is also the warm-up)
    check_decisions(f"{peer} at D={d}", decide, evs, bench.expected[d])
    benchmark.group = f"decide D={d}"
    benchmark.extra_info.update(kind="decide", impl=peer, D=d, events=n)
    benchmark.pedantic(per_event_rounds(decide, evs), setup=collect, rounds=PEER_ROUNDS, iterations=1)


@pytest.mark.parametrize("d", SIZES, ids=[f"D{d}" for d in SIZES])
def test_decide_interleaved(bench: Bench, d: int) -> None:
    fns = {impl: per_event_rounds(bench.decider(impl, d), bench.events) for impl in DECIDERS}
    medians = interleaved(fns, ROUNDS)
    FACTS.setdefault("interleaved", {}).setdefault("decide", {})[str(d)] = {
        impl: s / len(bench.events) for impl, s in medians.items()
    }
