"""Shared state of a benchmark run: the workload, every implementation, agreement, facts.

The ``bench`` session fixture builds the events and the D=1,000 rule IR, compiles every
implementation, and checks agreement (decisions of every implementation at every D on
every event, payloads at D=50 and 200) *before* any test times anything: a mismatch
fails every benchmark.  Measurements that are not timings (memory, workload shape, the
machine) go into :data:`FACTS`, which lands in the pytest-benchmark JSON under
``routeql`` for :mod:`bench.report`.

``BENCH_QUICK=1`` runs a small version (2,000 events, fewer rounds) to try the harness.
"""

from __future__ import annotations

import gc
import json
import os
import statistics
import time
from typing import Any, Callable

import pytest

import routeql
from routeql.engine import RuleSet

from .agree import AgreementError, check_decisions, check_payloads, oracle, restrict
from .handwritten import Handwritten
from .machine import describe, load_average
from .peers import PEERS, Peer, available, make_peer
from .workload import N_EVENTS, SIZES, events, routeql_source, rules, stats

QUICK = os.environ.get("BENCH_QUICK", "") not in ("", "0")
#: events timed for RouteQL and the hand-written variants
EVENTS = 2_000 if QUICK else N_EVENTS
#: rounds per timed cell (the median is reported)
ROUNDS = 3 if QUICK else 7
#: seconds one round of a slow peer should take (it is timed on a prefix of the events)
PEER_SECONDS = 0.2 if QUICK else 1.0
PEER_ROUNDS = 3
#: D values full routing is compared at
ROUTE_SIZES = (50, 200)

FACTS: dict[str, Any] = {"quick": QUICK, "events": EVENTS, "rounds": ROUNDS, "peer_rounds": PEER_ROUNDS,
                         "peer_seconds": PEER_SECONDS}

DECIDERS = ("routeql", "lambda", "lambda+index", "fused", "fused+index")
ROUTERS = ("routeql", "handwritten", "fused+index")


def collect() -> None:
    """pytest-benchmark's ``setup``: a full collection before every round (it must return None)."""
    gc.collect()


class Bench:
    """The workload and every implementation, built once, checked before anything is timed."""

    def __init__(self) -> None:
        started = time.perf_counter()
        FACTS["machine"] = describe()  # first: its load average is the one at the start
        self.events = events(EVENTS)
        self.ir = rules(max(SIZES))
        self.expected_all = oracle(self.ir, self.events)
        self.expected = {d: restrict(self.expected_all, self.ir, d) for d in SIZES}
        self.sources = {d: routeql_source(self.ir.prefix(d)) for d in SIZES}
        self.rulesets: dict[int, RuleSet] = {d: routeql.loads(self.sources[d], f"bench-d{d}.rq") for d in SIZES}
        self.handwritten = {d: Handwritten(self.ir.prefix(d)) for d in SIZES}
        for hw in self.handwritten.values():
            hw.warm(self.events)
        self._peers: dict[str, Peer] = {}
        self.check_all()
        FACTS["workload"] = {
            "events": len(self.events),
            "mean_event_bytes": statistics.fmean(len(json.dumps(e, separators=(",", ":"))) for e in self.events),
            "shape": {str(d): stats(self.ir.prefix(d), self.events, self.expected[d]) for d in SIZES},
        }
        FACTS["setup_seconds"] = time.perf_counter() - started

    # -- implementations, by name
    def decider(self, impl: str, d: int) -> Callable[[Any], Any]:
        if impl == "routeql":
            return self.rulesets[d].decide
        hw = self.handwritten[d]
        return {"lambda": hw.decide_lambda, "lambda+index": hw.decide_lambda_index, "fused": hw.decide_fused,
                "fused+index": hw.decide_fused_index}[impl]

    def router(self, impl: str, d: int) -> Callable[[Any], Any]:
        if impl == "routeql":
            rs = self.rulesets[d]
            return lambda e: rs.route(e).deliveries
        hw = self.handwritten[d]
        return {"handwritten": hw.route_lambda, "fused+index": hw.route_fused_index}[impl]

    def peer(self, name: str) -> Peer:
        """A peer with all 1,000 destinations compiled, checked on 500 events at D=10 (as the reference)."""
        if not available(name):
            pytest.skip(f"{PEERS[name][1]} is not installed")
        if name not in self._peers:
            started = time.perf_counter()
            p = make_peer(name, self.ir)
            FACTS.setdefault("peer_compile_seconds", {})[name] = time.perf_counter() - started
            check_decisions(f"{name} at D=10", p.decider(10), self.events[:500], self.expected[10])
            self._peers[name] = p
        return self._peers[name]

    # -- agreement, before any timing
    def check_all(self) -> None:
        agreed: dict[str, Any] = {}
        for d in SIZES:
            for impl in DECIDERS:
                n = check_decisions(f"{impl} at D={d}", self.decider(impl, d), self.events, self.expected[d])
                agreed[f"decide {impl} D={d}"] = n
        for d in ROUTE_SIZES:
            n = check_payloads(f"routeql route() at D={d}", self.router("routeql", d), self.router("handwritten", d),
                               self.events)
            check_payloads(f"hand-written fused+index at D={d}", self.router("fused+index", d),
                           self.router("handwritten", d), self.events)
            agreed[f"route D={d}"] = n
        FACTS["agreement"] = agreed


_BENCH: Bench | None = None
_FAILED: BaseException | None = None


@pytest.fixture(scope="session")
def bench() -> Bench:
    """The checked workload; if agreement failed, every benchmark fails with the same error."""
    global _BENCH, _FAILED
    if _FAILED is not None:
        raise AgreementError(f"agreement failed earlier: {_FAILED}")
    if _BENCH is None:
        try:
            _BENCH = Bench()
        except AgreementError as e:
            _FAILED = e
            raise
    return _BENCH


def per_event_rounds(fn: Callable[[Any], Any], evs: list[Any]) -> Callable[[], None]:
    """One round: ``fn`` over every event (the loop's cost is paid equally by every row)."""

    def run() -> None:
        for e in evs:
            fn(e)

    return run


def interleaved(fns: dict[str, Callable[[], None]], rounds: int) -> dict[str, float]:
    """Round-robin timing: each round runs every function once (gc collected before each);
    machine noise hits them all alike.  Returns the median seconds per function."""
    times: dict[str, list[float]] = {k: [] for k in fns}
    for fn in fns.values():  # warm-up
        fn()
    for _ in range(rounds):
        for name, fn in fns.items():
            gc.collect()
            t0 = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t0)
    return {k: statistics.median(v) for k, v in times.items()}


def pytest_benchmark_update_json(config: Any, benchmarks: Any, output_json: dict[str, Any]) -> None:
    """Put the run's non-timing facts into the JSON :mod:`bench.report` reads."""
    FACTS["load_average_end"] = load_average()
    output_json["routeql"] = FACTS
