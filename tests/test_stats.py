"""``routeql stats``: every figure on a hand-made fixture, against answers computed here in
plain Python (never by the module under test); the anomaly rule clause by clause; the
planted anomaly in examples/events.jsonl; the JSON schema; the command (exit codes,
progress, stdin); and memory that stays flat over 100,000 events."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

import routeql
from routeql.quality import Collector, Report, StatsOptions, collect
from routeql.quality.anomalies import detect
from tests.clirun import in_process

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = Path(__file__).resolve().parent / "data" / "stats"
RULES = FIXTURE / "rules.rq"
EVENTS = FIXTURE / "events.jsonl"

# ------------------------------------------------------------------ the fixture, read independently


def fixture_lines() -> list[str]:
    return EVENTS.read_text(encoding="utf-8").split("\n")[:-1]


def parsed() -> tuple[list[dict[str, Any]], list[tuple[int, str]]]:
    """(events in line order, [(line number, reason kind)] for the other lines)."""
    events, rejected = [], []
    for number, line in enumerate(fixture_lines(), start=1):
        if not line.strip():
            rejected.append((number, "empty line"))
            continue
        try:
            e = json.loads(line)
        except ValueError:
            rejected.append((number, "invalid JSON"))
            continue
        if (not isinstance(e, dict) or not isinstance(e.get("type"), str)
                or (e["type"] == "track" and not isinstance(e.get("event"), str))):
            rejected.append((number, "malformed event"))
            continue
        events.append(e)
    return events, rejected


def is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


OC, PV = 'track "Order Completed"', 'track "Product Viewed"'


def plan_verdict(e: dict[str, Any]) -> tuple[str | None, str | None, str, list[tuple[str, str, str]], bool]:
    """The fixture plans (tests/data/stats/rules.rq), by hand: (plan, entry, status,
    violations as (entry, field, type), has unplanned properties)."""
    source = (e.get("context") or {}).get("source")
    plan = source if source in ("shop", "app") else None
    if plan is None:
        return None, None, "not_validated", [], False
    v: list[tuple[str, str, str]] = []
    if plan == "shop" and "messageId" not in e:
        v.append(("common", "messageId", "required"))
    p = e.get("properties") or {}
    extra = False
    entry = None
    if e["type"] == "track":
        name = e["event"]
        if plan == "shop" and name == "Order Completed":
            entry = OC
            for f in ("order_id", "revenue", "currency", "products"):
                if f not in p:
                    v.append((OC, f"properties.{f}", "required"))
            if "revenue" in p:
                if not is_number(p["revenue"]):
                    v.append((OC, "properties.revenue", "type"))
                elif p["revenue"] < 0:
                    v.append((OC, "properties.revenue", "range"))
            if "currency" in p and p["currency"] not in ("EUR", "USD"):
                v.append((OC, "properties.currency", "enum"))
            for item in p.get("products", []):
                if "sku" not in item:
                    v.append((OC, "properties.products[].sku", "required"))
            extra = bool(set(p) - {"order_id", "revenue", "currency", "coupon", "products"})
        elif plan == "shop" and name == "Product Viewed":
            entry = PV
            if "sku" not in p:
                v.append((PV, "properties.sku", "required"))
            if "price" in p and p["price"] < 0:
                v.append((PV, "properties.price", "range"))
            extra = bool(set(p) - {"sku", "price"})
        elif plan == "app" and name == "Signed Up":
            entry = 'track "Signed Up"'
            if p.get("method") not in ("email", "google"):
                v.append((entry, "properties.method", "enum"))
            extra = bool(set(p) - {"method"})  # the app plan allows unplanned properties
        else:
            return plan, None, "unplanned", v, False
    elif e["type"] == "identify" and plan == "shop":
        entry = "identify"
        email = (e.get("traits") or {}).get("email")
        if email is not None and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s.]+", email):
            v.append((entry, "traits.email", "format"))
    failed = bool(v) or (extra and plan == "shop")
    return plan, entry, "failed" if failed else "passed", v, extra


def day_of(e: dict[str, Any]) -> str | None:
    for key in ("timestamp", "receivedAt", "sentAt"):
        value = e.get(key)
        if isinstance(value, str):
            try:
                dt = datetime.fromisoformat(value)
            except ValueError:
                continue
            if dt.tzinfo is not None:
                dt = dt.astimezone(timezone.utc)
            return dt.date().isoformat()
    return None


def consent_of(e: dict[str, Any]) -> tuple[tuple[str, ...], bool, str, str | None, dict[str, str]]:
    """The fixture's consent block, by hand: (granted, enforced, regime, country, format -> ok/malformed)."""
    ctx = e.get("context") or {}
    country = (ctx.get("location") or {}).get("country")
    regime, kind = (("eu", "opt_in") if country in ("DE", "FR") else ("us", "opt_out") if country == "US"
                    else ("default", "opt_in"))
    signals: dict[str, str] = {}
    votes: dict[str, list[bool]] = {"analytics": [], "ads": []}
    consent = ctx.get("consent")
    if consent is not None:
        if not isinstance(consent, dict) or ("categoryPreferences" in consent
                                             and not isinstance(consent["categoryPreferences"], dict)):
            signals["segment"] = "malformed"
            votes["analytics"].append(False)
            votes["ads"].append(False)
        elif "categoryPreferences" in consent:
            signals["segment"] = "ok"
            prefs = consent["categoryPreferences"]
            votes["analytics"].append(prefs.get("Analytics") is True)
            votes["ads"].append(prefs.get("Advertising") is True)
    gpc = ctx.get("gpc")
    if gpc is True:
        signals["gpc"] = "ok"
        votes["ads"].append(False)
    elif gpc is not None:
        signals["gpc"] = "malformed"
        votes["ads"].append(False)
    if not signals:  # compat segment: no signal at all, no enforcement
        return ("analytics", "ads"), False, regime, country, signals
    granted = tuple(c for c in ("analytics", "ads")
                    if (all(votes[c]) if votes[c] else kind == "opt_out"))
    return granted, True, regime, country, signals


@pytest.fixture(scope="module")
def rules() -> routeql.RuleSet:
    return routeql.load(RULES)


@pytest.fixture(scope="module")
def report(rules: routeql.RuleSet) -> Report:
    with EVENTS.open("rb") as f:
        return collect(rules, f, rules_path=str(RULES), input_path=str(EVENTS))


def label(e: dict[str, Any]) -> str:
    return e["event"] if e["type"] == "track" else e["type"]


# ------------------------------------------------------------------ the fixture itself


def test_the_fixture_is_what_its_generator_writes() -> None:
    spec = importlib.util.spec_from_file_location("make_events", FIXTURE / "make_events.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.generate() == fixture_lines()


def test_the_fixture_has_what_it_was_made_for() -> None:
    events, rejected = parsed()
    assert 180 <= len(events) <= 220 and len(rejected) == 5
    statuses = Counter(plan_verdict(e)[2] for e in events)
    assert all(statuses[s] > 0 for s in ("passed", "failed", "unplanned", "not_validated"))
    kinds = {t for e in events for _, _, t in plan_verdict(e)[3]}
    assert kinds == {"required", "type", "enum", "range", "format"}
    assert len({consent_of(e)[:2] for e in events}) >= 4


# ------------------------------------------------------------------ every figure, computed independently


def test_lines_events_and_rejections(report: Report) -> None:
    events, rejected = parsed()
    assert report.input.lines == len(fixture_lines()) == len(events) + len(rejected)
    assert report.input.events == len(events)
    assert report.input.rejected == len(rejected)
    assert report.input.rejected_by_reason == dict(Counter(kind for _, kind in rejected))
    assert [(x.line, x.reason.split(":")[0]) for x in report.input.rejected_examples] == [
        (n, {"invalid JSON": "not valid JSON"}.get(k, k)) for n, k in rejected]


def test_pass_rate_per_event(report: Report) -> None:
    events, _ = parsed()
    want: dict[tuple[str, str | None], Counter[str]] = defaultdict(Counter)
    vtypes: dict[tuple[str, str | None], Counter[str]] = defaultdict(Counter)
    for e in events:
        _, _, status, violations, extra = plan_verdict(e)
        key = (e["type"], e.get("event") if e["type"] == "track" else None)
        want[key]["events"] += 1
        want[key][status] += 1
        want[key]["extra"] += extra
        vtypes[key].update(t for _, _, t in violations)
    got = {(x.type, x.event): x for x in report.validation.events}
    assert set(got) == set(want)
    for key, c in want.items():
        x = got[key]
        assert (x.events, x.passed, x.failed, x.unplanned, x.not_validated, x.with_unplanned_properties) == (
            c["events"], c["passed"], c["failed"], c["unplanned"], c["not_validated"], c["extra"]), key
        assert x.validated == c["passed"] + c["failed"]
        assert x.pass_rate == (round(c["passed"] / x.validated, 6) if x.validated else None)
        assert x.violations == dict(vtypes[key]), key
        assert x.label == (key[1] if key[0] == "track" else key[0])
    t = report.validation.totals
    total = Counter(plan_verdict(e)[2] for e in events)
    assert (t.passed, t.failed, t.unplanned, t.not_validated) == (
        total["passed"], total["failed"], total["unplanned"], total["not_validated"])
    assert t.pass_rate == round(total["passed"] / (total["passed"] + total["failed"]), 6)
    # the busiest event first
    assert [x.events for x in report.validation.events] == sorted((x.events for x in report.validation.events),
                                                                   reverse=True)


def test_violations_per_field(report: Report) -> None:
    events, _ = parsed()
    want: Counter[tuple[str, str, str, str]] = Counter()
    for e in events:
        plan, _, _, violations, _ = plan_verdict(e)
        for entry, fname, vtype in set(violations):  # one event counts once per field and type
            want[(plan or "", entry, fname, vtype)] += 1
    assert {(v.plan, v.entry, v.field, v.type): v.events for v in report.violations} == dict(want)
    # an order with two items missing their sku counts once
    assert want[("shop", OC, "properties.products[].sku", "required")] == 2


def test_required_property_completeness(report: Report) -> None:
    events, _ = parsed()
    seen: Counter[tuple[str, str]] = Counter()
    for e in events:
        plan, entry, *_ = plan_verdict(e)
        if plan is not None:
            seen[(plan, "common")] += 1
            if entry is not None:
                seen[(plan, entry)] += 1

    def present(entry: str, test: Any) -> int:
        return sum(1 for e in events if plan_verdict(e)[1] == entry and test(e.get("properties") or {}))

    want = [
        ("shop", "common", "messageId", seen[("shop", "common")],
         sum(1 for e in events if plan_verdict(e)[0] == "shop" and "messageId" in e)),
        ("shop", OC, "properties.order_id", seen[("shop", OC)], present(OC, lambda p: "order_id" in p)),
        ("shop", OC, "properties.revenue", seen[("shop", OC)], present(OC, lambda p: "revenue" in p)),
        ("shop", OC, "properties.currency", seen[("shop", OC)], present(OC, lambda p: "currency" in p)),
        ("shop", OC, "properties.products", seen[("shop", OC)], present(OC, lambda p: "products" in p)),
        ("shop", OC, "properties.products[].sku", seen[("shop", OC)],
         present(OC, lambda p: all("sku" in item for item in p.get("products", [])))),
        ("shop", PV, "properties.sku", seen[("shop", PV)], present(PV, lambda p: "sku" in p)),
        ("app", 'track "Signed Up"', "properties.method", seen[("app", 'track "Signed Up"')],
         present('track "Signed Up"', lambda p: "method" in p)),
    ]
    got = [(c.plan, c.entry, c.field, c.events, c.present) for c in report.completeness]
    assert got == want
    assert all(c.share == round(c.present / c.events, 6) for c in report.completeness)
    assert [c.field for c in report.completeness if c.share is not None and c.share < 1] == [
        "messageId", "properties.revenue", "properties.products[].sku", "properties.sku"]


def test_duplicates_by_message_id(report: Report) -> None:
    events, _ = parsed()
    seen: Counter[str] = Counter()
    for e in events:
        if isinstance(e.get("messageId"), str):
            seen[e["messageId"]] += 1
    with_id = sum(seen.values())
    d = report.duplicates
    assert d.with_message_id == with_id and d.without_message_id == len(events) - with_id
    assert d.distinct_message_ids == len(seen)
    assert d.duplicates == sum(n - 1 for n in seen.values()) == 6  # four ids twice, one three times
    assert d.duplicated_ids == sum(1 for n in seen.values() if n > 1) == 5
    assert d.rate == round(6 / with_id, 6)


def test_identity_match_rate(report: Report) -> None:
    events, _ = parsed()
    anonymous = {e["anonymousId"] for e in events if e.get("anonymousId")}
    with_user = {e["anonymousId"] for e in events if e.get("anonymousId") and e.get("userId")}
    aliased = {e["previousId"] for e in events if e["type"] == "alias" and e.get("userId") and e.get("previousId")}
    i = report.identity
    assert i.anonymous_ids == len(anonymous)
    assert i.linked_by_user_id == len(with_user)
    assert i.linked_by_alias_only == len((aliased & anonymous) - with_user) == 4  # anon-ghost is never seen
    assert i.linked == len(with_user | (aliased & anonymous))
    assert i.rate == round(i.linked / len(anonymous), 6)
    assert i.events_with_anonymous_id == sum(1 for e in events if e.get("anonymousId"))
    assert i.events_with_user_id == sum(1 for e in events if e.get("userId"))
    assert i.events_with_neither == sum(1 for e in events if not e.get("anonymousId") and not e.get("userId"))


def test_volume_per_event_and_day(report: Report) -> None:
    events, _ = parsed()
    days = sorted({d for e in events if (d := day_of(e))})
    span = [(date.fromisoformat(days[0]) + timedelta(n)).isoformat()
            for n in range((date.fromisoformat(days[-1]) - date.fromisoformat(days[0])).days + 1)]
    assert report.period.days == span == [f"2026-03-{n:02d}" for n in range(1, 11)]
    per: dict[tuple[str, str | None], Counter[str]] = defaultdict(Counter)
    per_source: dict[str, Counter[str]] = defaultdict(Counter)
    for e in events:
        d = day_of(e)
        if d:
            per[(e["type"], e.get("event") if e["type"] == "track" else None)][d] += 1
            per_source[(e.get("context") or {}).get("source") or "(none)"][d] += 1
    got = {(s.type, s.event): s.counts for s in report.volume.series}
    assert got == {k: [c[d] for d in span] for k, c in per.items()}
    assert {s.source: s.counts for s in report.volume.sources} == {k: [c[d] for d in span]
                                                                   for k, c in per_source.items()}
    assert report.volume.total == [sum(c[d] for c in per.values()) for d in span]
    assert got[("track", "Order Completed")] == [6, 6, 6, 6, 6, 6, 1, 6, 6, 6]
    # the two late-evening views written in UTC+2 are counted on their UTC day
    assert sum(got[("track", "Product Viewed")]) == sum(1 for e in events if e.get("event") == "Product Viewed")
    p = report.period
    assert p.undated == sum(1 for e in events if day_of(e) is None) == 1
    assert p.timestamp_unparseable == sum(1 for e in events if isinstance(e.get("timestamp"), str)
                                          and day_of({"timestamp": e["timestamp"]}) is None) == 2
    assert p.dated == len(events) - 1 and p.out_of_range == 0


def test_the_planted_anomaly_and_nothing_else(report: Report) -> None:
    assert [(a.source, a.label, a.day, a.kind, a.count) for a in report.anomalies] == [
        ("shop", "Order Completed", "2026-03-07", "drop", 1)]
    a = report.anomalies[0]
    assert a.baseline == 6 and 5 < a.expected < 6.5 and a.change is not None and a.change < -0.8
    assert a.counts == [6, 6, 6, 6, 6, 6, 1, 6, 6, 6]


def test_consent_mix(report: Report) -> None:
    events, _ = parsed()
    n = len(events)
    verdicts = [consent_of(e) for e in events]
    states = Counter((g, enforced) for g, enforced, *_ in verdicts)
    assert {(tuple(s.granted), s.enforced): s.events for s in report.consent.states} == dict(states)
    assert all(s.share == round(s.events / n, 6) for s in report.consent.states)
    assert {(j.regime, j.country): j.events for j in report.consent.jurisdictions} == dict(
        Counter((r, c) for _, _, r, c, _ in verdicts))
    assert {r.regime: r.events for r in report.consent.regimes} == dict(Counter(r for _, _, r, _, _ in verdicts))
    assert {r.regime: r.kind for r in report.consent.regimes} == {"eu": "opt_in", "us": "opt_out",
                                                                   "default": "opt_in"}
    present = Counter(f for *_, s in verdicts for f in s)
    malformed = Counter(f for *_, s in verdicts for f, status in s.items() if status == "malformed")
    m = report.consent.malformed
    assert {f.format: (f.present, f.malformed) for f in m.formats} == {f: (present[f], malformed[f]) for f in present}
    assert m.events == sum(1 for *_, s in verdicts if "malformed" in s.values())
    assert m.share == round(m.events / n, 6)
    assert report.consent.categories == ["analytics", "ads"]


def test_by_source_splits_the_per_event_figures(rules: routeql.RuleSet, report: Report) -> None:
    with EVENTS.open("rb") as f:
        split = collect(rules, f, StatsOptions(by_source=True))
    events, _ = parsed()
    want = Counter(((e.get("context") or {}).get("source") or "(none)", label(e)) for e in events)
    assert {(x.source, x.label): x.events for x in split.validation.events} == dict(want)
    assert {(s.source, s.label): s.total for s in split.volume.series} == {
        k: n - (k == ("legacy", "Legacy Ping")) for k, n in want.items()}  # one undated legacy event
    # the rest is the same report
    assert split.validation.totals == report.validation.totals
    assert split.anomalies == report.anomalies and split.consent == report.consent
    assert all(x.source is None for x in report.validation.events)


def test_event_keys_over_the_cap_are_counted_under_other(rules: routeql.RuleSet) -> None:
    with EVENTS.open("rb") as f:
        capped = collect(rules, f, StatsOptions(max_keys=3))
    events, _ = parsed()
    assert capped.input.events == len(events)
    assert sum(x.events for x in capped.validation.events) == len(events)
    assert "(other)" in {x.label for x in capped.validation.events}


def test_a_stray_date_does_not_stretch_the_period(rules: routeql.RuleSet) -> None:
    lines = [json.dumps({"type": "page", "timestamp": f"2026-03-{d:02d}T10:00:00Z"}) for d in range(1, 11)]
    lines.append(json.dumps({"type": "page", "timestamp": "1970-01-01T00:00:00Z"}))
    r = collect(rules, lines, StatsOptions(max_days=30))
    assert r.period.first_day == "2026-03-01" and r.period.last_day == "2026-03-30"
    assert r.period.out_of_range == 1 and r.period.dated == 11 and sum(r.volume.total) == 10
    r = collect(rules, lines[:-1], StatsOptions(max_days=30))
    assert r.period.days[-1] == "2026-03-10" and r.period.out_of_range == 0


def test_a_line_over_the_size_limit_is_rejected_as_too_large() -> None:
    small = routeql.load(RULES, max_event_bytes=100)
    r = collect(small, [json.dumps({"type": "page", "properties": {"x": "y" * 200}}), '{"type": "page"}'])
    assert r.input.rejected_by_reason == {"too large": 1} and r.input.events == 1
    assert r.input.rejected_examples[0].reason.startswith("event is ")


def test_add_event_and_an_empty_input(rules: routeql.RuleSet) -> None:
    c = Collector(rules)
    c.add_event({"type": "track", "event": "Signed Up", "properties": {"method": "email"},
                 "context": {"source": "app"}, "timestamp": "2026-03-01T00:00:00Z"})
    c.add_event(["not", "an", "event"], number=2)
    r = c.report()
    assert (r.input.lines, r.input.events, r.input.rejected) == (2, 1, 1)
    assert r.validation.totals.pass_rate == 1.0 and r.input.rejected_examples[0].line == 2
    empty = Collector(rules).report()
    assert empty.validation.totals.pass_rate is None and empty.duplicates.rate is None
    assert empty.period.days == [] and empty.anomalies == [] and empty.volume.total == []


# ------------------------------------------------------------------ the anomaly rule, clause by clause


def flags(counts: list[int], **kw: Any) -> list[tuple[int, str]]:
    return [(f.index, f.kind) for f in detect(counts, **kw)]


def test_a_drop_far_from_a_steady_baseline_is_flagged() -> None:
    assert flags([6, 6, 6, 6, 6, 6, 1, 6, 6, 6]) == [(6, "drop")]
    f = detect([6, 6, 6, 6, 6, 6, 1, 6, 6, 6])[0]
    assert (f.baseline, f.expected, f.count) == (6.0, 6.0, 1)
    assert f.score == round(5 / (1.4826 * 0.5), 2) and f.change == round(-5 / 6, 4)
    assert flags([6, 6, 6, 6, 6, 6, 1, 6, 6, 6], threshold=f.score + 0.1) == []


def test_tiny_counts_never_flag() -> None:
    assert flags([3, 3, 3, 3, 0, 3, 3, 3]) == []  # expected 3 < min_volume 4
    assert flags([3, 3, 3, 3, 0, 3, 3, 3], min_volume=3) == [(4, "drop")]


def test_a_change_must_be_large_in_proportion() -> None:
    # 40% lower, many deviations away (the days agree exactly), but not half: not flagged
    assert flags([10, 10, 10, 10, 6, 10, 10, 10]) == []
    assert flags([10, 10, 10, 10, 6, 10, 10, 10], min_ratio=1.5) == [(4, "drop")]


def test_a_spike_needs_twice_the_minimum_volume_above_expected() -> None:
    assert flags([2, 2, 2, 9, 2, 2, 2]) == []  # 7 above expected: under 2 * 4
    assert flags([2, 2, 2, 10, 2, 2, 2]) == [(3, "spike")]


def test_a_noisy_series_needs_a_larger_change() -> None:
    noisy = [2, 9, 4, 12, 3, 10, 2, 11, 5, 9]
    assert flags(noisy) == []
    assert flags([6, 6, 6, 6, 6, 6, 6, 6, 6, 30]) == [(9, "spike")]


def test_the_reference_traffic_explains_or_reveals() -> None:
    quiet_day = [10, 11, 9, 10, 2, 10, 10]
    assert flags(quiet_day) == [(4, "drop")]
    assert flags(quiet_day, reference=[100, 110, 90, 100, 20, 100, 100]) == []  # everything was quiet
    # the rest of the source tripled that day, this event did not: a drop against expected
    assert flags([10] * 7, reference=[100, 100, 100, 300, 100, 100, 100]) == [(3, "drop")]


def test_weekend_days_compare_with_weekend_days() -> None:
    weekdays_busy = [10, 40, 40, 40, 40, 40, 10, 10, 40, 40, 40, 40, 40, 10]  # Sun..Sat, twice
    assert (0, "drop") in flags(weekdays_busy)
    weekend = [1 if date(2026, 11, 1 + i).weekday() >= 5 else 0 for i in range(14)]
    assert flags(weekdays_busy, groups=weekend) == []
    outage = list(weekdays_busy)
    outage[9] = 3
    assert flags(outage, groups=weekend) == [(9, "drop")]


def test_too_little_history_flags_nothing() -> None:
    assert flags([6, 6, 1]) == [] and flags([]) == [] and flags([0, 0, 0, 0, 0]) == []


# ------------------------------------------------------------------ the examples: the planted anomaly


def test_the_planted_anomaly_in_the_examples_is_flagged(bundled: routeql.RuleSet) -> None:
    with (ROOT / "examples" / "events.jsonl").open("rb") as f:
        r = collect(bundled, f)
    # checked by hand: the acme-shop web "Order Completed" tag broke on 2026-11-11 (5 a day
    # -> 1); nothing else in the file is flagged (flowboard's weekends are compared with
    # weekends, the funnel's ordinary day-to-day variation stays under the thresholds)
    assert [(a.source, a.type, a.event, a.day, a.kind, a.count) for a in r.anomalies] == [
        ("acme-shop", "track", "Order Completed", "2026-11-11", "drop", 1)]
    assert r.anomalies[0].change is not None and r.anomalies[0].change < -0.75
    assert r.duplicates.duplicates == 15 and r.period.days[0] == "2026-11-01" and len(r.period.days) == 14
    # the drop is invisible when the sources are summed (5 of 8 orders a day remain): the
    # rule looks at each source's series
    oc = next(s for s in r.volume.series if s.event == "Order Completed")
    assert oc.counts[10] == 5 and detect(oc.counts) == []


# ------------------------------------------------------------------ JSON


SCHEMA_FIELDS = {
    "schema", "rules", "rules.path", "rules.version", "rules.plans", "input", "input.path", "input.lines",
    "input.events", "input.rejected", "input.rejected_by_reason", "input.rejected_examples",
    "input.rejected_examples[].line", "input.rejected_examples[].reason", "options", "options.by_source",
    "options.source_field", "options.window", "options.threshold", "options.min_ratio", "options.min_volume",
    "options.adjust", "options.max_days", "options.max_keys", "period", "period.first_day", "period.last_day",
    "period.days", "period.dated", "period.undated", "period.timestamp_unparseable", "period.out_of_range",
    "validation", "validation.totals", "validation.events",
    *(f"{p}.{f}" for p in ("validation.totals", "validation.events[]")
      for f in ("events", "validated", "passed", "failed", "unplanned", "not_validated", "with_unplanned_properties",
                "pass_rate")),
    "validation.events[].source", "validation.events[].type", "validation.events[].event",
    "validation.events[].label", "validation.events[].violations",
    "violations", *(f"violations[].{f}" for f in ("plan", "entry", "field", "type", "events")),
    "completeness", *(f"completeness[].{f}" for f in ("plan", "entry", "field", "events", "present", "share")),
    "duplicates", *(f"duplicates.{f}" for f in ("events", "with_message_id", "without_message_id",
                                               "distinct_message_ids", "duplicates", "duplicated_ids", "rate")),
    "identity", *(f"identity.{f}" for f in ("anonymous_ids", "linked", "linked_by_user_id", "linked_by_alias_only",
                                           "rate", "events_with_anonymous_id", "events_with_user_id",
                                           "events_with_neither")),
    "volume", "volume.total", "volume.series", "volume.sources",
    *(f"volume.{s}[].{f}" for s in ("series", "sources") for f in ("source", "type", "event", "label", "total",
                                                                   "counts")),
    "anomalies", *(f"anomalies[].{f}" for f in ("source", "type", "event", "label", "day", "kind", "count", "expected",
                                                "baseline", "change", "score", "counts")),
    "consent", "consent.categories", "consent.states", "consent.regimes", "consent.jurisdictions",
    "consent.malformed", *(f"consent.states[].{f}" for f in ("granted", "enforced", "events", "share")),
    *(f"consent.regimes[].{f}" for f in ("regime", "kind", "events", "share")),
    *(f"consent.jurisdictions[].{f}" for f in ("regime", "country", "events", "share")),
    "consent.malformed.events", "consent.malformed.share", "consent.malformed.formats",
    *(f"consent.malformed.formats[].{f}" for f in ("format", "present", "malformed", "share")),
}


def schema_paths(schema: dict[str, Any]) -> set[str]:
    """Every field of the JSON schema as a dotted path (list items as ``[]``)."""
    defs = schema.get("$defs", {})
    out: set[str] = set()

    def resolve(node: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in node:
            node = defs[node["$ref"].split("/")[-1]]
        return node

    def walk(node: dict[str, Any], prefix: str) -> None:
        node = resolve(node)
        for alt in node.get("anyOf", []):
            walk(alt, prefix)
        if node.get("type") == "array" and "items" in node:
            walk(node["items"], prefix + "[]")
        for name, sub in node.get("properties", {}).items():
            path = f"{prefix}.{name}" if prefix else name
            out.add(path)
            walk(sub, path)

    walk(schema, "")
    return out


def test_the_json_schema_is_stable_and_documented() -> None:
    assert schema_paths(Report.model_json_schema(by_alias=True)) == SCHEMA_FIELDS
    doc = (ROOT / "docs" / "cli" / "stats.md").read_text(encoding="utf-8")
    for path in sorted(SCHEMA_FIELDS):
        name = re.escape(path.split(".")[-1].removesuffix("[]"))
        assert re.search(rf"`([\w\[\].]*\.)?{name}(\[\])?`", doc), f"docs/cli/stats.md does not describe {path}"


def test_json_output_validates_against_the_schema(rules: routeql.RuleSet) -> None:
    r = cli("stats", str(RULES), str(EVENTS), "--format", "json")
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    again = Report.model_validate(data)  # extra fields are refused: the output is exactly the schema
    assert again.to_dict() == data
    assert data["schema"] == "routeql.stats/1"
    assert list(data) == ["schema", "rules", "input", "options", "period", "validation", "violations",
                          "completeness", "duplicates", "identity", "volume", "anomalies", "consent"]
    assert data["input"]["lines"] == data["input"]["events"] + data["input"]["rejected"]
    assert data["rules"] == {"path": str(RULES), "version": rules.version, "plans": ["shop", "app"]}
    n = len(data["period"]["days"])
    assert all(len(s["counts"]) == n for s in data["volume"]["series"] + data["volume"]["sources"])

    def shares(v: Any) -> list[float]:
        if isinstance(v, dict):
            return [x for k, y in v.items() for x in ([y] if k in ("share", "rate", "pass_rate") else shares(y))
                    if x is not None]
        if isinstance(v, list):
            return [x for y in v for x in shares(y)]
        return []

    found = shares(data)
    assert len(found) > 20 and all(0 <= x <= 1 for x in found)


# ------------------------------------------------------------------ the command


def cli(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[str]:
    # COLUMNS (which some runners set) would narrow the tables: the command honours it
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    return subprocess.run([sys.executable, "-m", "routeql.cli", *args], capture_output=True, cwd=ROOT, timeout=120,
                          input=stdin.decode() if stdin is not None else None, text=True, env=env)


def test_the_text_report_through_the_entry_point() -> None:
    r = cli("stats", str(RULES), str(EVENTS))
    assert r.returncode == 0, r.stderr  # violations, anomalies and rejected lines are findings, not failures
    assert r.stderr == ""  # no progress bar in a pipe
    out = r.stdout
    events, rejected = parsed()
    assert out.startswith(f"routeql stats: {len(events)} events in {len(fixture_lines())} lines "
                          f"({len(rejected)} rejected), 2026-03-01 to 2026-03-10 (10 days, UTC)\n")
    assert "\x1b[" not in out  # no colour in a pipe
    assert re.search(r"2026-03-07 │ shop\s+│ Order Completed │ drop │\s+1 │", out)
    for name in ("Order Completed", "Product Viewed", "Signed Up", "Signed In", "Legacy Ping", "identify", "alias"):
        assert re.search(rf"^{re.escape(name)}\s+│", out, re.M), name
    assert "line 21: not valid JSON" in out and "properties.products[].sku" in out


def test_an_empty_file_and_a_file_of_bad_lines(tmp_path: Path) -> None:
    empty = tmp_path / "empty.jsonl"
    empty.write_bytes(b"")
    r = in_process("stats", str(RULES), str(empty))
    assert r.returncode == 0 and r.stdout.startswith("routeql stats: 0 events in 0 lines (0 rejected), no dated events")
    assert "Volume: no dated events" in r.stdout and "Schema validation per event" not in r.stdout
    bad = tmp_path / "bad.jsonl"
    bad.write_bytes(b"garbage\n\n" + b'{"a":' * 100 + b"1" + b"}" * 100 + b"\n")
    data = json.loads(in_process("stats", str(RULES), str(bad), "--format", "json").stdout)
    assert data["input"]["rejected_by_reason"] == {"invalid JSON": 1, "empty line": 1, "too deep": 1}


def test_names_are_printed_as_written_never_as_markup(tmp_path: Path) -> None:
    path = tmp_path / "e.jsonl"
    path.write_text("".join(json.dumps({"type": "track", "event": name, "context": {"source": "app"}}) + "\n"
                            for name in ("[Test] Signed Up", "[bold]B[/bold]")), encoding="utf-8")
    out = in_process("stats", str(RULES), str(path)).stdout
    assert "[Test] Signed Up" in out and "[bold]B[/bold]" in out


def test_stdin_and_options() -> None:
    r = cli("stats", str(RULES), "-", "--format", "json", "--by-source", "--window", "3", "--threshold", "5",
            "--min-ratio", "3", "--min-volume", "2", "--no-adjust", stdin=EVENTS.read_bytes())
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert data["input"]["path"] == "-" and data["input"]["events"] == len(parsed()[0])
    assert data["options"] == {"by_source": True, "source_field": "context.source", "window": 3, "threshold": 5.0,
                               "min_ratio": 3.0, "min_volume": 2.0, "adjust": False, "max_days": 366,
                               "max_keys": 2000}
    assert [a["label"] for a in data["anomalies"]] == ["Order Completed"]  # 6 -> 1 passes even these bars
    other = json.loads(in_process("stats", str(RULES), str(EVENTS), "--format", "json",
                                  "--source-field", "context.library.name").stdout)
    assert {s["source"] for s in other["volume"]["sources"]} == {"analytics.js"}


@pytest.mark.parametrize("args, message", [
    (("no/such/file.jsonl",), "no/such/file.jsonl: no such file"),
    (("--window", "0"), "--window: input should be greater than or equal to 1"),
    (("--min-ratio", "0.5"), "--min-ratio: input should be greater than or equal to 1"),
])
def test_unreadable_input_and_bad_options_exit_2(args: tuple[str, ...], message: str) -> None:
    argv = ["stats", str(RULES)] + ([str(EVENTS)] if args[0].startswith("--") else []) + list(args)
    r = in_process(*argv)
    assert r.returncode == 2 and message in r.stderr, r.stderr


def test_bad_rules_and_an_unwritable_page_exit_2(tmp_path: Path) -> None:
    r = cli("stats", str(RULES), str(tmp_path / "missing.jsonl"))
    assert r.returncode == 2 and r.stderr.strip() == f"{tmp_path / 'missing.jsonl'}: no such file" and r.stdout == ""
    bad = tmp_path / "bad.rq"
    bad.write_text("destination { }", encoding="utf-8")
    r = in_process("stats", str(bad), str(EVENTS))
    assert r.returncode == 2 and "bad.rq" in r.stderr
    r = in_process("stats", str(RULES), str(EVENTS), "--html", str(tmp_path / "no" / "dir" / "x.html"))
    assert r.returncode == 2 and "cannot write" in r.stderr
    assert in_process("stats", str(RULES), str(tmp_path)).returncode == 2  # a directory is not a file
    assert in_process("stats", "--help").returncode == 0


def test_a_progress_bar_on_a_terminal() -> None:
    import pty
    import threading

    master, slave = pty.openpty()
    chunks: list[bytes] = []

    def drain() -> None:  # read while the command runs, so a full terminal buffer never blocks it
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # the other end is closed
                return
            if not chunk:
                return
            chunks.append(chunk)

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    try:
        r = subprocess.run([sys.executable, "-m", "routeql.cli", "stats", str(RULES), str(EVENTS), "--format", "json"],
                           stdout=subprocess.PIPE, stderr=slave, cwd=ROOT, timeout=120,
                           env={**os.environ, "TERM": "xterm-256color"})
    finally:
        os.close(slave)
        reader.join(timeout=10)
        os.close(master)
    seen = b"".join(chunks)
    assert r.returncode == 0
    assert b"reading events" in seen
    assert json.loads(r.stdout)["input"]["events"] == len(parsed()[0])  # stdout stays clean JSON


# ------------------------------------------------------------------ memory


#: Starts a command and prints its peak RSS in KiB.  A child's peak counts the pages it
#: shares with its parent before exec: measured from pytest (hundreds of MB late in a run)
#: it would be pytest's size, so a small fresh process starts the command instead.
_LAUNCHER = ("import os, subprocess, sys; p = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL); "
             "_, status, usage = os.wait4(p.pid, 0); print(os.waitstatus_to_exitcode(status), usage.ru_maxrss)")


def _peak_rss_mb(argv: list[str]) -> tuple[float, int]:
    r = subprocess.run([sys.executable, "-c", _LAUNCHER, *argv], capture_output=True, text=True, cwd=ROOT,
                       timeout=300)
    assert r.returncode == 0, r.stderr
    code, kib = r.stdout.split()
    return int(kib) / 1024, int(code)  # ru_maxrss is in KiB on Linux


@pytest.mark.slow
@pytest.mark.skipif(not hasattr(os, "wait4"), reason="needs os.wait4 for a child's peak RSS")
def test_memory_stays_flat_over_100k_events(tmp_path: Path) -> None:
    path = tmp_path / "many.jsonl"
    n = 100_000
    with path.open("w", encoding="utf-8") as f:
        for i in range(n):
            f.write(json.dumps({
                "type": "track", "event": ("Order Completed", "Product Viewed", "Signed Up")[i % 3],
                "messageId": f"m-{i}", "anonymousId": f"a-{i % 5000}", "userId": f"u-{i}" if i % 4 == 0 else None,
                "context": {"source": ("shop", "app")[i % 2], "location": {"country": ("DE", "US", "GB")[i % 3]},
                            "consent": {"categoryPreferences": {"Analytics": i % 5 != 0, "Advertising": i % 2 == 0}},
                            "library": {"name": "analytics.js"}},
                "properties": {"order_id": f"o-{i}", "revenue": 10.5, "currency": "EUR",
                               "products": [{"sku": "s-1", "price": 1.0, "name": "A product"}]},
                "timestamp": f"2026-03-{1 + i * 10 // n:02d}T12:00:00.000Z"}) + "\n")
    stats_mb, code = _peak_rss_mb([sys.executable, "-m", "routeql.cli", "stats", str(RULES), str(path),
                                   "--format", "json", "--html", str(tmp_path / "r.html")])
    assert code == 0
    # what holding the parsed events costs, the floor of any non-streaming version: even
    # half of them (to keep the test short) take far more than the bound
    held_mb, code = _peak_rss_mb([sys.executable, "-c", "import itertools, json, sys; "
                                  "events = [json.loads(l) for l in itertools.islice(open(sys.argv[1], 'rb'), 50000)]",
                                  str(path)])
    assert code == 0
    bound = 100
    assert held_mb > bound + 50, f"the reference should need far more than {bound} MB, used {held_mb:.0f} MB"
    assert stats_mb < bound, f"routeql stats used {stats_mb:.0f} MB over {n} events"
