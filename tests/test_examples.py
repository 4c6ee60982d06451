"""examples/events.jsonl: the committed file is what its generator makes, and the mix is as documented.

The tolerances are loose on purpose: they pin what examples/README.md promises (roughly), not
the exact numbers of one seed.
"""
from __future__ import annotations

import importlib.util
import json
import statistics
import subprocess
import sys
from collections import Counter, defaultdict
from datetime import datetime, timezone
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "examples" / "generate_events.py"
EVENTS = ROOT / "examples" / "events.jsonl"

SEGMENT_TYPES = {"track", "page", "screen", "identify", "group", "alias"}
SOURCES = {"acme-shop", "flowboard", "northwind"}
BRANDS = {"northwind-outdoor", "northwind-home", "northwind-kids"}
EEA = {"AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE", "IT", "LV", "LT",
       "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE", "IS", "LI", "NO"}


def _load_generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("routeql_examples_generate_events", SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def gen() -> ModuleType:
    return _load_generator()


@pytest.fixture(scope="module")
def lines() -> list[str]:
    return EVENTS.read_text(encoding="utf-8").splitlines()


@pytest.fixture(scope="module")
def events(lines: list[str]) -> list[dict[str, Any]]:
    return [json.loads(line) for line in lines]


def share(items: list[dict[str, Any]], pred) -> float:
    return sum(1 for e in items if pred(e)) / len(items) if items else 0.0


def country(e: dict[str, Any]) -> str | None:
    return e["context"].get("location", {}).get("country")


def consent(e: dict[str, Any]) -> dict[str, Any]:
    return e["context"].get("consent") or {}


def lib(e: dict[str, Any]) -> str:
    return e["context"]["library"]["name"]


# -- the file is reproducible ------------------------------------------------------------


def test_committed_file_equals_fresh_generation(gen: ModuleType) -> None:
    fresh = gen.generate(gen.DEFAULT_SEED, gen.DEFAULT_COUNT)
    assert gen.DEFAULT_SEED == 20261128 and gen.DEFAULT_COUNT == 1500
    assert EVENTS.read_bytes() == fresh.encode("utf-8"), (
        "examples/events.jsonl is stale: run `python examples/generate_events.py` and commit the result")


def test_cli_same_seed_same_bytes(tmp_path: Path) -> None:
    def run(seed: int, out: Path) -> bytes:
        subprocess.run([sys.executable, str(SCRIPT), "--seed", str(seed), "--count", "400", "--out", str(out)],
                       check=True, cwd=tmp_path)
        return out.read_bytes()

    a = run(7, tmp_path / "a.jsonl")
    b = run(7, tmp_path / "nested" / "b.jsonl")
    c = run(8, tmp_path / "c.jsonl")
    assert a == b
    assert a != c
    assert a.count(b"\n") == 400


# -- every line is a Segment-spec event ------------------------------------------------------


def test_every_line_is_a_compact_segment_event(lines: list[str], gen: ModuleType) -> None:
    assert len(lines) >= 1500
    for n, line in enumerate(lines, 1):
        e = json.loads(line)
        assert isinstance(e, dict), n
        assert json.dumps(e, separators=(",", ":"), ensure_ascii=False) == line, n
        assert e["type"] in SEGMENT_TYPES, n
        assert isinstance(e["messageId"], str) and 0 < len(e["messageId"]) < 100, n
        assert isinstance(e.get("userId"), str) or isinstance(e.get("anonymousId"), str), n
        for k in ("timestamp", "sentAt", "receivedAt"):
            datetime.fromisoformat(e[k].replace("Z", "+00:00"))
        t = e["type"]
        if t == "track":
            assert isinstance(e["event"], str) and e["event"], n
        if t in ("page", "screen"):
            assert isinstance(e["name"], str), n
        if t == "identify":
            assert e.get("traits") or e["context"].get("traits"), n
        if t == "group":
            assert isinstance(e["groupId"], str) and isinstance(e["traits"], dict), n
        if t == "alias":
            assert isinstance(e["previousId"], str) and isinstance(e["userId"], str), n
        ctx = e["context"]
        assert ctx["source"] in SOURCES, n
        assert set(ctx["library"]) == {"name", "version"}, n
        # keys in one stable order across the whole file
        assert list(e) == [k for k in gen.TOP_ORDER if k in e], n
        assert list(ctx) == [k for k in gen.CONTEXT_ORDER if k in ctx], n


def test_size_and_time_window(lines: list[str], events: list[dict[str, Any]]) -> None:
    mean = statistics.mean(len(line.encode()) + 1 for line in lines)
    assert 800 <= mean <= 1400, mean
    start, end = datetime(2026, 11, 1, tzinfo=timezone.utc), datetime(2026, 11, 15, tzinfo=timezone.utc)
    stamps = [datetime.fromisoformat(e["timestamp"].replace("Z", "+00:00")) for e in events]
    assert all(start <= t < end for t in stamps)
    assert len({t.date() for t in stamps}) == 14
    for e in events:
        assert e["receivedAt"] >= e["sentAt"][:23], e["messageId"]


# -- the mix ---------------------------------------------------------------------------------


@pytest.mark.parametrize("key, expected", [
    ("track", 0.58), ("page", 0.22), ("identify", 0.09), ("screen", 0.05), ("group", 0.04), ("alias", 0.02)])
def test_type_mix(events: list[dict[str, Any]], key: str, expected: float) -> None:
    assert share(events, lambda e: e["type"] == key) == pytest.approx(expected, abs=0.03)


@pytest.mark.parametrize("key, expected", [("acme-shop", 0.50), ("flowboard", 0.25), ("northwind", 0.25)])
def test_source_mix(events: list[dict[str, Any]], key: str, expected: float) -> None:
    assert share(events, lambda e: e["context"]["source"] == key) == pytest.approx(expected, abs=0.03)


def test_source_specific_shapes(events: list[dict[str, Any]]) -> None:
    assert {e["context"]["source"] for e in events if e["type"] == "screen"} == {"acme-shop"}
    assert {e["context"]["source"] for e in events if e["type"] == "group"} == {"flowboard"}
    for e in events:
        src, ctx = e["context"]["source"], e["context"]
        assert (ctx.get("brand") in BRANDS) == (src == "northwind"), e["messageId"]
        if lib(e) == "analytics-ios":
            assert src == "acme-shop" and ctx["device"]["manufacturer"] == "Apple" and "page" not in ctx
        if lib(e) in ("analytics.js", "RudderLabs JavaScript SDK"):
            assert {"path", "url", "title", "referrer"} <= set(ctx["page"]) and ctx["userAgent"]
        if lib(e) == "RudderLabs JavaScript SDK":
            assert src == "flowboard" and e["integrations"].get("All") is True
    acme_tracks = {e["event"] for e in events if e["type"] == "track" and e["context"]["source"] == "acme-shop"}
    assert {"Products Searched", "Product Viewed", "Product Added", "Cart Viewed", "Checkout Started",
            "Coupon Applied", "Order Completed", "Signed Up"} <= acme_tracks
    flowboard_tracks = {e["event"] for e in events if e["type"] == "track" and e["context"]["source"] == "flowboard"}
    assert {"Signed Up", "Signed In", "Workspace Created", "Integration Connected", "Report Exported",
            "Trial Started", "Plan Upgraded", "Seat Added"} <= flowboard_tracks
    statuses = {e["traits"]["customer_status"] for e in events
                if e["type"] == "identify" and e["context"]["source"] == "northwind"}
    assert statuses == {"existing", "prospect"}


def test_orders_add_up(events: list[dict[str, Any]]) -> None:
    orders = [e for e in events if e.get("event") == "Order Completed"]
    assert orders
    for e in orders:
        p = e["properties"]
        assert 1 <= len(p["products"]) <= 5
        assert p["total"] == pytest.approx(p["revenue"] + p["tax"] + p["shipping"], abs=0.02)
        assert {"order_id", "currency", "discount"} <= set(p)


@pytest.mark.parametrize("key, expected", [
    ("EEA", 0.45), ("GB", 0.08), ("CH", 0.03), ("US", 0.30), ("other", 0.06), (None, 0.08)])
def test_jurisdiction_mix(events: list[dict[str, Any]], key: str | None, expected: float) -> None:
    def group(e: dict[str, Any]) -> str | None:
        c = country(e)
        return None if c is None else "EEA" if c in EEA else c if c in ("GB", "CH", "US") else "other"

    assert share(events, lambda e: group(e) == key) == pytest.approx(expected, abs=0.03)


def test_location_regions(events: list[dict[str, Any]]) -> None:
    us = [e for e in events if country(e) == "US"]
    for e in events:
        loc = e["context"].get("location")
        if loc:
            assert len(loc["country"]) == 2 and loc["country"].isupper()
            assert ("region" in loc) == (loc["country"] in ("US", "CA"))
    assert share(us, lambda e: e["context"]["location"]["region"] == "CA") == pytest.approx(1 / 3, abs=0.08)


def test_identity_mix(events: list[dict[str, Any]]) -> None:
    assert share(events, lambda e: isinstance(e.get("userId"), str)) == pytest.approx(0.65, abs=0.05)
    assert share(events, lambda e: "userId" in e and e["userId"] is None) == pytest.approx(0.20, abs=0.05)
    assert share(events, lambda e: "userId" not in e) == pytest.approx(0.15, abs=0.05)
    assert share(events, lambda e: isinstance(e.get("anonymousId"), str)) > 0.95


def test_duplicates_are_sdk_retries(events: list[dict[str, Any]]) -> None:
    by_id: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for e in events:
        by_id[e["messageId"]].append(e)
    dups = [v for v in by_id.values() if len(v) > 1]
    assert 0.005 <= len(dups) / len(events) <= 0.02
    strip = lambda e: {k: v for k, v in e.items() if k not in ("sentAt", "receivedAt")}  # noqa: E731
    for first, *again in dups:
        for retry in again:
            assert strip(retry) == strip(first)
            assert retry["receivedAt"] > first["receivedAt"]


def test_integrations(events: list[dict[str, Any]]) -> None:
    assert share(events, lambda e: e["integrations"] == {}) > 0.6
    assert share(events, lambda e: e["integrations"] == {"All": True}) > 0.05
    switched = share(events, lambda e: any(k != "All" for k in e["integrations"]) or e["integrations"].get("All") is False)
    assert 0.01 <= switched <= 0.08


def test_campaign_and_ipv6(events: list[dict[str, Any]]) -> None:
    assert share(events, lambda e: "campaign" in e["context"]) == pytest.approx(0.15, abs=0.05)
    with_ip = [e for e in events if "ip" in e["context"]]
    assert 0.05 <= share(with_ip, lambda e: ":" in e["context"]["ip"]) <= 0.35


# -- consent ---------------------------------------------------------------------------------


def _prefs_state(e: dict[str, Any]) -> str | None:
    prefs = consent(e).get("categoryPreferences")
    if prefs is None:
        return None
    if prefs == {}:
        return "empty"
    if any(not isinstance(v, bool) for v in prefs.values()):
        return "junk"
    if "Advertising" not in prefs:
        return "no_advertising_key"
    on = {k for k, v in prefs.items() if v}
    return {4: "all_true", 0: "all_false"}.get(len(on)) or {
        frozenset({"Analytics", "Functional"}): "analytics_functional", frozenset({"Analytics"}): "analytics_only",
        frozenset({"Advertising", "Functional", "Personalization"}): "all_but_analytics"}.get(frozenset(on), "other")


@pytest.mark.parametrize("state, expected, tol", [
    ("all_true", 0.30, 0.08), ("analytics_functional", 0.18, 0.05), ("analytics_only", 0.08, 0.03),
    ("all_false", 0.08, 0.03), ("no_advertising_key", 0.06, 0.03), ("all_but_analytics", 0.05, 0.03),
    ("empty", 0.02, 0.015), ("junk", 0.01, 0.008)])
def test_segment_category_preferences_mix(events: list[dict[str, Any]], state: str, expected: float, tol: float) -> None:
    assert share(events, lambda e: _prefs_state(e) == state) == pytest.approx(expected, abs=tol)


def test_no_consent_object_mostly_us(events: list[dict[str, Any]]) -> None:
    bare = [e for e in events if "consent" not in e["context"] and "consentManagement" not in e["context"]]
    assert len(bare) / len(events) == pytest.approx(0.10, abs=0.03)
    assert Counter(country(e) for e in bare).most_common(1)[0][0] == "US"


def test_rudderstack_and_onetrust_formats(events: list[dict[str, Any]]) -> None:
    flowboard = [e for e in events if e["context"]["source"] == "flowboard"]
    northwind = [e for e in events if e["context"]["source"] == "northwind"]
    assert share(flowboard, lambda e: "consentManagement" in e["context"]) == pytest.approx(0.5, abs=0.12)
    assert share(northwind, lambda e: "onetrust" in consent(e)) == pytest.approx(0.3, abs=0.08)
    for e in events:
        cm = e["context"].get("consentManagement")
        if cm:
            assert e["context"]["source"] == "flowboard" and cm["provider"] == "oneTrust"
            assert cm["resolutionStrategy"] == "and" and "C0001" in cm["allowedConsentIds"]
            assert set(cm["allowedConsentIds"]) | set(cm["deniedConsentIds"]) == {"C0001", "C0002", "C0003", "C0004", "C0005"}
        ot = consent(e).get("onetrust")
        if ot:
            assert e["context"]["source"] == "northwind"
            assert all(g.split(":")[0].startswith("C000") and g.split(":")[1] in "01" for g in ot.split(","))


def test_iab_signals(events: list[dict[str, Any]], gen: ModuleType) -> None:
    eu_web = [e for e in events if e["context"]["source"] == "acme-shop" and lib(e) == "analytics.js"
              and (country(e) in EEA or country(e) == "GB")]
    valid = set(gen.TCF_ALL + gen.TCF_PARTIAL + gen.TCF_NONE)
    assert share(eu_web, lambda e: consent(e).get("tcf") in valid) == pytest.approx(0.40, abs=0.10)
    truncated = share(eu_web, lambda e: "tcf" in consent(e) and consent(e)["tcf"] not in valid)
    assert 0.005 <= truncated <= 0.06
    assert all(country(e) in EEA | {"GB"} for e in events if "tcf" in consent(e))

    us = [e for e in events if country(e) == "US"]
    us_acme = [e for e in us if e["context"]["source"] == "acme-shop"]
    assert share(us, lambda e: e["context"].get("gpc") is True) == pytest.approx(0.12, abs=0.05)
    assert share(us_acme, lambda e: consent(e).get("us_privacy") in ("1YNN", "1YYN", "1---", "1YNY")) == pytest.approx(0.30, abs=0.10)
    assert share(us, lambda e: "gpp" in consent(e)) == pytest.approx(0.10, abs=0.05)
    for e in events:
        gpp = consent(e).get("gpp")
        if gpp:
            assert country(e) == "US"
            header, section = gpp.split("~")
            assert (header, consent(e)["gpp_sid"]) in (("DBABLA", [7]), ("DBABBg", [8]))


# -- the planted anomaly -------------------------------------------------------------------


def test_acme_order_completed_drops_on_the_anomaly_day(events: list[dict[str, Any]], gen: ModuleType) -> None:
    def per_day(pred) -> Counter:
        return Counter(e["timestamp"][:10] for e in events if e["context"]["source"] == "acme-shop" and pred(e))

    day = gen.ANOMALY_DAY.isoformat()
    orders = per_day(lambda e: e.get("event") == "Order Completed")
    normal = [n for d, n in orders.items() if d != day]
    assert len(normal) == 13 and min(normal) >= 2
    assert orders[day] <= 0.35 * statistics.median(normal)
    # only the web tag broke: iOS orders keep flowing, and the top of the funnel looks normal
    assert all(lib(e) == "analytics-ios" for e in events
               if e.get("event") == "Order Completed" and e["timestamp"].startswith(day) and e["context"]["source"] == "acme-shop")
    checkouts = per_day(lambda e: e.get("event") == "Checkout Started")
    assert checkouts[day] >= 0.6 * statistics.median(n for d, n in checkouts.items() if d != day)
    totals = per_day(lambda e: True)
    assert totals[day] >= 0.8 * statistics.median(n for d, n in totals.items() if d != day)
