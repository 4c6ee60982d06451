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
