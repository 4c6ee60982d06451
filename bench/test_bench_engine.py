"""RouteQL alone: load and compile time, memory held by a compiled rule set, consent state cost.

- load: ``routeql.loads`` on the generated source (parse, check, generate, compile), a
  fresh source text each round (a trailing comment differs) so no cache can answer;
  payload functions compile on first delivery, so D=1,000 is also timed with every one
  of them compiled up front (``RuleSet.compile_payloads``);
- memory: what a compiled D=1,000 rule set holds, by tracemalloc (Python allocations
  still alive after the load, then after routing every event once, which fills the
  engine's caches), with the peak during the load and the process RSS growth as
  cross-checks;
- consent: ``RuleSet._state`` on an event whose consent state was seen before (reading
  the signals from the event, then the cache hit), and ``Resolver.cached`` alone.
"""

from __future__ import annotations

import gc
import itertools
import os
import statistics
import time
import tracemalloc
from pathlib import Path
from typing import Any

import pytest

import routeql

from .conftest import FACTS, QUICK, Bench, collect
from .workload import consent_label

LOAD_SIZES = (50, 1000)
CONSENT_STATES = ("all", "partial (advertising missing)", "no consent object")


@pytest.mark.parametrize("d", LOAD_SIZES, ids=[f"D{d}" for d in LOAD_SIZES])
def test_load(benchmark: Any, bench: Bench, d: int) -> None:
    source = bench.sources[d]
    rounds = itertools.count()

    def fresh() -> tuple[tuple[str, str], dict[str, Any]]:
        collect()
        return (f"{source}\n# round {next(rounds)}\n", f"bench-load-d{d}.rq"), {}

    benchmark.group = "load + compile"
    benchmark.extra_info.update(kind="load", D=d, source_bytes=len(source.encode("utf-8")))
    rs = benchmark.pedantic(routeql.loads, setup=fresh, rounds=1 if QUICK else 3, iterations=1)
    assert len(rs.destinations) == d


def test_load_with_every_payload_compiled(bench: Bench) -> None:
    """D=1,000 loaded, then every payload function compiled (``compile_payloads``): what
    a server that compiles everything before its first request pays."""
    times = []
    for i in range(1 if QUICK else 3):
        collect()
        t0 = time.perf_counter()
        rs = routeql.loads(f"{bench.sources[1000]}\n# all payloads {i}\n", "bench-load-all.rq").compile_payloads()
        times.append(time.perf_counter() - t0)
        assert len(rs._payloads) == 1000
    FACTS["load_all_payloads"] = {"D": 1000, "seconds": statistics.median(times)}


def _rss() -> int:
    """Resident set size of this process, in bytes (Linux), or 0 where unknown."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
    except (OSError, ValueError, IndexError):
        return 0
    return pages * os.sysconf("SC_PAGE_SIZE")


def test_memory_d1000(bench: Bench) -> None:
    source = bench.sources[1000]
    routeql.loads(bench.sources[10] + "\n# warm\n", "warm.rq")  # per-process setup (the parser) is not the rule set's
    gc.collect()
    rss_before = _rss()
    rs = routeql.loads(source + "\n# memory, rss\n", "bench-memory.rq")  # texts differ: no cache can answer
    gc.collect()
    rss_delta = _rss() - rss_before
    del rs
    gc.collect()

    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    rs = routeql.loads(source + "\n# memory, traced\n", "bench-memory.rq")
    gc.collect()
    current, peak = tracemalloc.get_traced_memory()
    for e in bench.events:
        rs.route(e)
    gc.collect()
    warm = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    FACTS["memory"] = {
        "destinations": len(rs.destinations),
        "retained_after_load": current - base,
        "peak_during_load": peak - base,
        "retained_after_routing": warm - base,
        "rss_growth_after_load": rss_delta,
    }
    assert current > base  # the rule set holds something: the measurement saw it


def _event_with(bench: Bench, label: str) -> dict[str, Any]:
    for e in bench.events:
        if consent_label(e) == label:
            return e
    pytest.skip(f"no event with consent state {label!r} in this workload")


@pytest.mark.parametrize("state", CONSENT_STATES)
def test_consent_state_repeated(benchmark: Any, bench: Bench, state: str) -> None:
    rs = bench.rulesets[50]
    resolve = getattr(rs, "_state", None)
    if resolve is None:
        pytest.skip("RuleSet._state is gone: update bench/test_bench_engine.py to the engine's consent path")
    event = _event_with(bench, state)
    first = resolve(event, None)  # the first sight resolves; every call measured is a repeat
    benchmark.group = "consent state (repeated)"
    benchmark.extra_info.update(kind="consent", what="RuleSet._state", state=state)
    again = benchmark(resolve, event, None)
    assert again.mask == first.mask


def test_consent_cached(benchmark: Any, bench: Bench) -> None:
    rs = bench.rulesets[50]
    resolver, key_of = getattr(rs, "resolver", None), getattr(rs, "_consent_fn", None)
    if resolver is None or key_of is None or not hasattr(resolver, "cached") or not hasattr(resolver, "read"):
        pytest.skip("RuleSet.resolver.cached / RuleSet._consent_fn are gone: update this benchmark")
    event = _event_with(bench, "all")
    regime, raws = key_of(event)[0], resolver.read(event)  # the generated consent() leads with the regime
    resolver.cached(regime, raws)
    benchmark.group = "consent state (repeated)"
    benchmark.extra_info.update(kind="consent", what="Resolver.cached", state="all")
    benchmark(resolver.cached, regime, raws)
