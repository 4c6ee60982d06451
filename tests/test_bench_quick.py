"""The benchmark's correctness pass (no timings): workload, translations, agreement, report.

Every implementation the bench times must make the oracle's decisions on a small
workload (500 events, D=10 and 50), and RouteQL's payloads must equal the hand-written
ones; the peers are checked when the ``bench`` extra is installed and skipped otherwise.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

import routeql
from routeql.runtime import hash_value

from bench import ir as irm  # bench/ is importable: pytest's pythonpath holds the repository root
from bench import report, workload

ROOT = Path(__file__).resolve().parent.parent
from bench.agree import AgreementError, check_decisions, check_payloads, mutable_ids, oracle, restrict
from bench.handwritten import Handwritten, sha
from bench.machine import describe
from bench.peers import PEERS, available, make_peer, missing_reason

N = 500
SIZES = (10, 50)


class Quick:
    def __init__(self) -> None:
        self.events = workload.events(N)
        self.ir = workload.rules(max(SIZES))
        self.expected_all = oracle(self.ir, self.events)
        self.expected = {d: restrict(self.expected_all, self.ir, d) for d in SIZES}
        self.rulesets = {d: routeql.loads(workload.routeql_source(self.ir.prefix(d)), f"quick-d{d}.rq") for d in SIZES}
        self.handwritten = {d: Handwritten(self.ir.prefix(d)) for d in SIZES}


@pytest.fixture(scope="module")
def quick() -> Quick:
    return Quick()


# ------------------------------------------------------------------ the workload


def test_events_follow_the_reference_mix_exactly() -> None:
    evs = workload.events(1000)
    kinds = Counter((e["type"], e.get("event")) for e in evs)
    assert kinds == Counter({k: 10 * v for k, v in workload.TYPE_MIX.items()})
    consent = Counter(workload.consent_label(e) for e in evs)
    assert consent == Counter({k: 10 * v[0] for k, v in workload.CONSENT_MIX.items()})
    uid = Counter("absent" if "userId" not in e else "null" if e["userId"] is None else "string" for e in evs)
    assert uid == Counter({k: 10 * v for k, v in workload.USERID_MIX.items()})
    assert sum(1 for e in evs if e["type"] == "track" and e["properties"].get("products")) > 100
    size = sum(len(json.dumps(e)) for e in evs) / len(evs)
    assert 800 < size < 1400  # about 1.1 KB, as the reference's


def test_events_are_seeded_valid_and_independent() -> None:
    a, b = workload.events(60), workload.events(60)
    assert a == b and workload.events(60, seed=1) != a
    ids: set[int] = set()
    for e in a:
        routeql.runtime.validate_event(e)  # every event is well formed for the engine
        mine = mutable_ids(e)
        assert not mine & ids  # no dict or list shared between events
        ids |= mine


def test_rule_sets_are_nested_and_shaped_as_asked() -> None:
    big = workload.rules(1000)
    assert workload.rules(10).dests == big.dests[:10] and workload.rules(200).dests == big.dests[:200]
    assert len({d.name for d in big.dests}) == 1000
    for d in big.dests:
        assert 3 <= len(d.atoms) <= 5, d
        assert sum(isinstance(a, irm.Consent) for a in d.atoms) == 1, d
        assert 5 <= len(d.keep) <= 7 and set(d.hash) <= set(d.keep), d
    hashing = sum(bool(d.hash) for d in big.dests) / len(big)
    assert 0.3 < hashing < 0.6
    specific = sum(any(isinstance(a, irm.IsEvent) for a in d.atoms) or
                   all(a.values != ("track",) and "track" not in a.values for a in d.atoms if isinstance(a, irm.IsType))
                   for d in big.dests[10:]) / 990
    assert specific > 0.9  # at D=1,000 each event is a candidate for few destinations
    with pytest.raises(ValueError):
        workload.rules(1001)


def test_the_rule_sets_are_specific_for_this_traffic(quick: Quick) -> None:
    shape = workload.stats(workload.rules(1000), quick.events[:100])
    assert shape["candidates_per_event"] < 150  # of 1,000 destinations


def test_oracle_prefilter_equals_the_plain_walk(quick: Quick) -> None:
    assert quick.expected_all == [irm.decide(quick.ir, e) for e in quick.events]


def test_oracle_semantics_on_edge_cases() -> None:
    d = irm.Dest("d", (irm.IsType(("track",)), irm.Num(("properties", "q"), ">=", 2), irm.Consent(("advertising",))),
                 (("type",),), ())
    rules = irm.RuleIR((d,))
    yes = {"type": "track", "properties": {"q": 2},
           "context": {"consent": {"categoryPreferences": {"Advertising": True}}}}
    assert irm.decide(rules, yes) == ("d",)
    for bad in ({"q": True}, {"q": "3"}, {"q": None}, {}):
        assert irm.decide(rules, {**yes, "properties": bad}) == ()
    for prefs in ({"Advertising": 1}, {"Advertising": "true"}, {}, None):
        assert irm.decide(rules, {**yes, "context": {"consent": {"categoryPreferences": prefs}}}) == ()


# ------------------------------------------------------------------ agreement


def test_routeql_source_compiles_to_the_ir_destinations(quick: Quick) -> None:
    rs = quick.rulesets[50]
    assert rs.destinations == tuple(d.name for d in quick.ir.dests)
    assert rs.warnings == ()  # the generated rules are clean: no unreachable rule, no odd comparison


@pytest.mark.parametrize("d", SIZES)
@pytest.mark.parametrize("impl", ["routeql", "lambda", "lambda+index", "fused", "fused+index"])
def test_every_handwritten_variant_and_routeql_agree(quick: Quick, d: int, impl: str) -> None:
    hw = quick.handwritten[d]
    fn = {"routeql": quick.rulesets[d].decide, "lambda": hw.decide_lambda, "lambda+index": hw.decide_lambda_index,
          "fused": hw.decide_fused, "fused+index": hw.decide_fused_index}[impl]
    delivered = check_decisions(f"{impl} D={d}", fn, quick.events, quick.expected[d])
    assert delivered > N // 10  # the rules do deliver: agreement on "nothing" would prove nothing


@pytest.mark.parametrize("peer", sorted(PEERS))
def test_peers_agree_when_installed(quick: Quick, peer: str) -> None:
    if not available(peer):
        pytest.skip(missing_reason(peer))
    p = make_peer(peer, quick.ir)
    sample = 40 if peer == "cel-python" else 120  # CEL costs ~0.1 ms per predicate
    for d in SIZES:
        check_decisions(f"{peer} D={d}", p.decider(d), quick.events[:sample], quick.expected[d])


def test_full_routing_payloads_agree_and_share_nothing(quick: Quick) -> None:
    rs, hw = quick.rulesets[50], quick.handwritten[50]
    n = check_payloads("routeql route()", lambda e: rs.route(e).deliveries, hw.route_lambda, quick.events)
    assert n == sum(map(len, quick.expected[50]))
    check_payloads("hand-written fused+index", hw.route_fused_index, hw.route_lambda, quick.events)
    hashed = [p for e in quick.events for name, p in hw.route_lambda(e).items() if name == "dest_0000"]
    assert hashed and all(len(p["context"]["traits"]["email"]) == 64 for p in hashed if "traits" in p["context"])


def test_hand_written_hash_is_routeqls() -> None:
    values: list[Any] = ["  Jane.Doe@Example.COM ", "Jane.Doe@Example.COM", " plain Text ", "", 60, 60.0, 60.5,
                         -0.0, True, False, None, {"a": [1, " X@Y.Z "]}, [None, "a"], "ümlaut", 10**20]
    for v in values:
        assert sha(v) == hash_value(v), v


def test_agreement_fails_loudly() -> None:
    evs = [{"type": "track", "event": "Signed Up"}, {"type": "page"}]
    with pytest.raises(AgreementError, match=r"1 of 2 events; first: event #1 \(page None\)"):
        check_decisions("x", lambda e: ["a"] if e["type"] == "page" else [], evs, [(), ()])
    shared = {"type": "page", "context": {"ip": "1.2.3.4"}}
    with pytest.raises(AgreementError, match="shares a dict or list with event #0"):
        check_payloads("y", lambda e: {"d": {"context": e["context"]}}, lambda e: {"d": {"context": dict(e["context"])}},
                       [shared])
    with pytest.raises(AgreementError, match="shares a dict or list with another payload"):
        inner: dict[str, Any] = {}
        check_payloads("z", lambda e: {"a": {"x": inner}, "b": {"x": inner}}, lambda e: {"a": {"x": {}}, "b": {"x": {}}},
                       [shared])
    with pytest.raises(AgreementError, match="payloads differ on event #0 .* for 'd'"):
        check_payloads("w", lambda e: {"d": {"type": "page"}}, lambda e: {"d": {}}, [shared])


# ------------------------------------------------------------------ the report


def _bench_json(routeql_d50: float, lambda_d50: float) -> dict[str, Any]:
    def cell(kind: str, impl: str, d: int, median: float, events: int = 1000) -> dict[str, Any]:
        return {"name": f"t[{impl}]", "fullname": f"bench/t.py::t[{impl}]", "group": f"{kind} D={d}",
                "extra_info": {"kind": kind, "impl": impl, "D": d, "events": events},
                "stats": {"median": median * events, "rounds": 7}}

    return {
        "benchmarks": [cell("decide", "routeql", 50, routeql_d50), cell("decide", "lambda", 50, lambda_d50),
                       cell("decide", "rule-engine", 50, routeql_d50 * 400, 10),
                       {"name": "other", "fullname": "bench/x.py::other", "group": "g", "extra_info": {},
                        "stats": {"median": 2e-6, "rounds": 5}}],
        "routeql": {"machine": {**describe(), "cores": 2, "load_average": 0.4}, "load_average_end": 0.9, "memory": {"retained_after_load": 5_000_000, "retained_after_routing": 150_000_000,
                                                      "peak_during_load": 1, "rss_growth_after_load": 1}},
    }


def test_report_judges_targets_from_the_measurements() -> None:
    r = report.Results(_bench_json(2e-6, 8e-6))
    by_name = {t["target"]: t for t in report.targets(r)}
    assert by_name["decisions: ≥ 3× faster than lambdas at D=50"]["status"] == "met"
    assert by_name["decisions: ≥ 3× faster than lambdas at D=50"]["measured"] == "D=50: 4.00×"
    assert by_name["≥ 300× faster than rule-engine (D=50, 200)"]["status"] == "met"
    assert by_name["a compiled D=1,000 rule set holds < 100 MB"]["status"] == "**NOT met**"  # 150 MB after routing
    assert by_name["load + compile of D=1,000 < 2 s"]["status"] == "not measured"
    slow = report.Results(_bench_json(4e-6, 8e-6))
    assert {t["target"]: t for t in report.targets(slow)}["decisions: ≥ 3× faster than lambdas at D=50"]["status"] \
        == "**NOT met**"
    page = report.render(r)
    assert "| **RouteQL** `decide()` | 500k | 2.00 µs | 40 | 1.00× | 1,000 |" in page
    assert "`bench/x.py::other`" in page
    assert "Load average (1 min) at the start and the end: 0.4 / 0.9." in page and "Busy machine" not in page
    busy = _bench_json(2e-6, 8e-6)
    busy["routeql"]["load_average_end"] = 7.5
    assert "> **Busy machine**: the load average was 0.4 then 7.5 on 2 cores" in report.render(report.Results(busy))


def test_report_judges_the_plan_at_d50_and_shows_the_larger_rule_set() -> None:
    data = _bench_json(2e-6, 8e-6)
    data["routeql"]["plan"] = {"D": 50, "plan_events": 50, "flagged_events": 153, "events": 10_000,
                               "without": 7e-6, "with": 11e-6, "with_warm": 10e-6, "reads_only": 8.5e-6,
                               "with_fastjsonschema": 18e-6, "larger": {"D": 200, "without": 10e-6, "with": 12e-6}}
    row = {t["target"]: t for t in report.targets(report.Results(data))}[
        "routing with a tracking plan of 50 events adds ≤ 30% (issue 6)"]
    assert row["status"] == "**NOT met**" and row["measured"].startswith("+57% (7.00 µs → 11.00 µs per event")
    assert "the floor under any validator): +21%" in row["measured"]
    assert row["measured"].endswith("beside the D=200 rule set (shown, not judged): +20% (10.00 µs → 12.00 µs)")
    data["routeql"]["plan"]["with"] = 9e-6  # +29% at D=50: met, whatever the larger rule set says
    data["routeql"]["plan"]["larger"]["with"] = 20e-6
    row = {t["target"]: t for t in report.targets(report.Results(data))}[
        "routing with a tracking plan of 50 events adds ≤ 30% (issue 6)"]
    assert row["status"] == "met"


def test_report_command_writes_the_page(tmp_path: Path) -> None:
    src, out = tmp_path / "b.json", tmp_path / "R.md"
    src.write_text(json.dumps(_bench_json(2e-6, 8e-6)), encoding="utf-8")
    assert report.main([str(src), str(out)]) == 0
    assert out.read_text(encoding="utf-8").startswith("# RouteQL benchmark results")
    assert report.main([str(tmp_path / "missing.json"), str(out)]) == 2


def test_machine_description() -> None:
    info = describe()
    assert info["cores"] >= 1 and info["cpu"] and info["python"].startswith("CPython")
    assert set(info["packages"]) >= {"routeql", "rule-engine", "cel-python", "json-logic-qubit"}


@pytest.mark.parametrize("module", ["workload", "handwritten", "peers", "agree", "ir", "report", "machine", "plan_floor"])
def test_bench_docstring_examples(module: str) -> None:
    """bench/ is not under testpaths (its timed tests are `make bench`); its doctests run here."""
    import doctest
    import importlib

    mod = importlib.import_module(f"bench.{module}")
    result = doctest.testmod(mod, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0


def test_the_benchmark_plan_checks_every_event_and_changes_no_decision() -> None:
    rules = routeql.loads(workload.routeql_source(workload.rules(50)) + "\n" + workload.plan_source(50), "plan.rq")
    plain = routeql.loads(workload.routeql_source(workload.rules(50)), "plain.rq")
    checked = 0
    for e in workload.events(400):
        routing = rules.route(e)
        assert routing.plan is not None
        checked += 1
        assert tuple(routing.deliveries) == plain.decide(e)
    assert checked == 400


def test_the_schema_peer_gives_the_plans_verdict() -> None:
    """bench/schema_peer.py (fastjsonschema on the exported plan) agrees with RouteQL on
    which events are valid, and the workload holds both kinds."""
    from bench import schema_peer

    if not schema_peer.available():
        pytest.skip("fastjsonschema is not installed (pip install -e '.[bench]')")
    rules = routeql.loads(workload.routeql_source(workload.rules(10)) + "\n" + workload.plan_source(50), "plan.rq")
    valid = schema_peer.validator(rules)
    verdicts = Counter()
    for e in workload.events(2000):
        clean = rules.validate(e).clean
        assert valid(e) == clean
        verdicts[clean] += 1
    assert verdicts[True] and verdicts[False]
    # and it is a real check: a broken event is invalid for both
    e = next(x for x in workload.events(50) if x.get("event") == "Product Viewed")
    broken = dict(e, properties=dict(e["properties"], price="free"))
    assert not valid(broken) and not rules.validate(broken).clean


def test_the_plan_floor_reads_every_planned_field() -> None:
    """bench/plan_floor.py: each entry's function reads every field the entry names (items
    of planned arrays of objects too), and reading runs on every workload event."""
    from bench import plan_floor
    from routeql.plans import iter_fields

    plan = routeql.loads(workload.plan_source(50), "plan.rq").model.plans[0]
    source = plan_floor.floor_source(plan)
    functions = source.split("\ndef ")
    for entry in plan.entries:
        body = next(f for f in functions if f"# {entry.label}" in f)
        for path, _ in iter_fields(entry.fields):
            assert f".get({path[-1]!r})" in body, (entry.label, path)
    read = plan_floor.floor(plan)
    for e in workload.events(500):
        assert read(e) is None
