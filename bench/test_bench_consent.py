"""Decode time per consent format on typical inputs (pytest-benchmark; no timing asserts).

Run: ``.venv/bin/pytest bench/test_bench_consent.py -q``.  The target for a typical TC
string (a real CMP string with ~1,100 vendors, a range-encoded LI section and publisher
restrictions) is under 50 microseconds.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable

import pytest

from routeql.consent import cookiebot, gcm, gpc, gpp, onetrust, rudderstack, segment, tcf, usprivacy

_TCF = {v["id"]: v["tc_string"] for v in json.loads(
    (Path(__file__).parents[1] / "tests" / "data" / "vectors" / "tcf-vectors.json").read_text("utf-8")
)}

CASES: dict[str, tuple[Callable[[Any], Any], Any]] = {
    # A real 2022 CMP string: bitfield consents, range-encoded LI, three restrictions (458 chars).
    "tcf_typical": (tcf.decode, _TCF["tcf-gppes-real-vlv174"]),
    # Core plus PublisherTC and DisclosedVendors (434 vendors), segments out of order.
    "tcf_segments": (tcf.decode, _TCF["tcf-gppes-segments-any-order"]),
    "tcf_core_only": (tcf.decode, _TCF["tcf-java-core-metadata"]),
    "gpp_tcf_usp": (gpp.decode, "DBACNYA~CPSG_8APSG_8ANwAAAENAwCAAAAAAAAAAAAAAAAAAAAA.QAAA.IAAA~1YNN"),
    "gpp_usnat_usca": (gpp.decode, "DBABrw~BVVVkkkkkpFY.YA~BVWSSSVY.YA"),
    "usprivacy": (usprivacy.decode, "1YNN"),
    "gpc": (gpc.decode, "1"),
    "gcm": (gcm.decode, {"ad_storage": "granted", "ad_user_data": "granted", "ad_personalization": "denied",
                         "analytics_storage": "granted"}),
    "onetrust_cookie": (onetrust.decode, (
        "isGpcEnabled=0&datestamp=Tue+Jan+02+2024+10%3A00%3A00+GMT%2B0100&version=202209.1.0&isIABGlobal=false"
        "&hosts=&consentId=5f0e1c2a&interactionCount=1&landingPath=NotLandingPage"
        "&groups=C0001%3A1%2CC0002%3A0%2CC0003%3A1%2CC0004%3A1%2CC0005%3A1&geolocation=AT%3B9&AwaitingReconsent=false"
    )),
    "cookiebot_cookie": (cookiebot.decode, (
        "%7Bstamp%3A%27uHZ1qLzWkAZkZEBKkcGt1xzs9emiEa5z9bPQ7pvTOPBzhv1T+QzAnQ%3D%3D%27%2Cnecessary%3Atrue"
        "%2Cpreferences%3Afalse%2Cstatistics%3Atrue%2Cmarketing%3Afalse%2Cmethod%3A%27explicit%27%2Cver%3A1"
        "%2Cutc%3A1734405069032%2Cregion%3A%27de%27%7D"
    )),
    "segment": (segment.decode, {"categoryPreferences": {"Advertising": True, "Analytics": False,
                                                         "Functional": True, "DataSharing": False}}),
    "rudderstack": (rudderstack.decode, {"provider": "oneTrust", "allowedConsentIds": ["C0001", "C0003"],
                                         "deniedConsentIds": ["C0002", "C0004"], "resolutionStrategy": "and"}),
}


@pytest.mark.benchmark(group="consent-decode", max_time=0.25, min_rounds=200)
@pytest.mark.parametrize("case", sorted(CASES))
def test_decode(benchmark: Any, case: str) -> None:
    decode, value = CASES[case]
    result = benchmark(decode, value)
    assert result is not None  # the value decodes; speed is reported, not asserted


# ------------------------------------------------------------------ cached paths
# What routing pays for a consent signal it has seen before: a decoded-string cache hit,
# and a whole canonical consent state resolved once per distinct state (target < 1 µs).

_RULES = """
consent {
  category analytics   from segment "Analytics", tcf purposes 1 7 8 9
  category advertising from segment "Advertising", tcf purposes 1 2 3 4
  opt-out advertising by gpc, usp sale
  regime eea opt_in when context.location.country in ["DE", "FR"]
  default regime opt_out
}
destination a { requires analytics }
"""


@pytest.fixture(scope="module")
def consent_rules() -> Any:
    import routeql

    return routeql.loads(_RULES, "bench.rq")


def _event(tc: str) -> dict[str, Any]:
    return {"type": "track", "event": "E", "context": {"location": {"country": "DE"}, "gpc": True,
                                                       "consent": {"tcf": tc, "categoryPreferences": {"Analytics": True}}}}


@pytest.mark.benchmark(group="consent-cached", max_time=0.25, min_rounds=1000)
def test_decoded_tc_string_cache_hit(benchmark: Any, consent_rules: Any) -> None:
    from routeql.consent.signals import FORMATS

    resolver = consent_rules.resolver
    tc = _TCF["tcf-gppes-real-vlv174"]
    resolver._decode(FORMATS["tcf"], tc)
    decoded, problem = benchmark(resolver._decode, FORMATS["tcf"], tc)
    assert problem is None and decoded.vendor_consent(755)


@pytest.mark.benchmark(group="consent-cached", max_time=0.25, min_rounds=1000)
def test_repeated_consent_state(benchmark: Any, consent_rules: Any) -> None:
    """Reading the signals of an event and finding its state: what each route() pays."""
    event = _event(_TCF["tcf-gppes-real-vlv174"])
    first = consent_rules._state(event, None)
    state = benchmark(consent_rules._state, event, None)
    assert state is first


@pytest.mark.benchmark(group="consent-cached", max_time=0.25, min_rounds=200)
def test_uncached_consent_state(benchmark: Any, consent_rules: Any) -> None:
    """The same state resolved from scratch every time, for comparison."""
    event = _event(_TCF["tcf-gppes-real-vlv174"])
    resolver = consent_rules.resolver
    regime, raws = consent_rules._consent_fn(event)[0], resolver.read(event)
    cache = resolver._decode_cache
    resolver._decode_cache = None
    try:
        state = benchmark(resolver.resolve, regime, raws)
    finally:
        resolver._decode_cache = cache
    assert state.granted("analytics")
