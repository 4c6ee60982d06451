"""Full routing: decisions, payloads (keep projection) and hashing, RouteQL against hand-written code.

``handwritten`` is per-destination code: each destination's lambda, then its payload
builder (a generated, hand-written-style projection plus SHA-256 of the hashed fields);
``fused+index`` is the ceiling: the fused, indexed decisions, then the same builders.
Payload equality (and independence from the input) was asserted before any of this
runs.  ``test_route_interleaved`` repeats the comparison round robin for the ratios.
"""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import FACTS, ROUNDS, ROUTE_SIZES, ROUTERS, Bench, collect, interleaved, per_event_rounds


@pytest.mark.parametrize(("d", "impl"), [(d, i) for d in ROUTE_SIZES for i in ROUTERS],
                         ids=[f"D{d}-{i}" for d in ROUTE_SIZES for i in ROUTERS])
def test_route(benchmark: Any, bench: Bench, d: int, impl: str) -> None:
    benchmark.group = f"route D={d}"
    benchmark.extra_info.update(kind="route", impl=impl, D=d, events=len(bench.events))
    benchmark.pedantic(per_event_rounds(bench.router(impl, d), bench.events), setup=collect, rounds=ROUNDS,
                       warmup_rounds=1, iterations=1)


@pytest.mark.parametrize("d", ROUTE_SIZES, ids=[f"D{d}" for d in ROUTE_SIZES])
def test_route_interleaved(bench: Bench, d: int) -> None:
    fns = {impl: per_event_rounds(bench.router(impl, d), bench.events) for impl in ROUTERS}
    medians = interleaved(fns, ROUNDS)
    FACTS.setdefault("interleaved", {}).setdefault("route", {})[str(d)] = {
        impl: s / len(bench.events) for impl, s in medians.items()
    }
