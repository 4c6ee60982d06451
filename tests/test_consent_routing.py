"""Consent in routing: every format, every regime, every disagreement between signals.

Each case routes through both engines (``route_both``).
"""

from __future__ import annotations

from typing import Any

import pytest

import routeql
from routeql.errors import RouteQLCheckError
from tests.conftest import compile_rules, route_both
from tests.consent.tcf_encoder import base_model, encode

RULES = '''
consent {
  category analytics   from segment "Analytics", tcf purposes 1 7 8 9, gcm analytics_storage,
                            onetrust "C0002", cookiebot statistics
  category advertising from segment "Advertising", tcf purposes 1 2 3 4, gcm ad_user_data ad_personalization,
                            onetrust "C0004", cookiebot marketing
  category measurement from tcf flexible purposes 7 8
  category geo         from tcf special_features 1
  category health      from usnat sensitive 3
  opt-out advertising by gpc, usp sale, usnat sale sharing targeted_advertising, usca sale sharing
  regime eea opt_in  when context.location.country in ["DE", "FR"]
  regime us  opt_out when context.location.country = "US"
  default regime opt_in
}
destination ga       { requires analytics }
destination ads      { requires advertising }
destination measure  { requires measurement }
destination geo      { requires geo }
destination health   { requires health }
destination google   { requires tcf vendor 755 }
destination google_li { requires tcf vendor 5 by li }
destination free     { }
'''

ALL = {"ga", "ads", "measure", "geo", "health", "google", "google_li", "free"}


@pytest.fixture(scope="module")
def rules() -> routeql.RuleSet:
    return compile_rules(RULES)


def ev(country: str | None, **consent: Any) -> dict[str, Any]:
    ctx: dict[str, Any] = {}
    if country:
        ctx["location"] = {"country": country}
    extra = consent.pop("context", {})
    if consent:
        ctx["consent"] = consent
    ctx.update(extra)
    return {"type": "track", "event": "Order Completed", "messageId": "m", "context": ctx}


def got(rules: routeql.RuleSet, event: dict[str, Any], consent: Any = None) -> set[str]:
    return set(route_both(rules, event, consent).deliveries)


TC_FULL = encode(base_model(purposesConsent=[1, 2, 3, 4, 7, 8, 9], purposesLITransparency=[2, 7, 8],
                            specialFeatureOptIns=[1], vendorConsents=[1, 755], maxVendorIdConsent=755,
                            vendorLegitimateInterests=[5], maxVendorIdLI=5))
TC_ANALYTICS = encode(base_model(purposesConsent=[1, 7, 8, 9], purposesLITransparency=[], specialFeatureOptIns=[],
                                 vendorConsents=[1], maxVendorIdConsent=1, vendorLegitimateInterests=[], maxVendorIdLI=0))
TC_LI_ONLY = encode(base_model(purposesConsent=[], purposesLITransparency=[7, 8], specialFeatureOptIns=[],
                               vendorConsents=[], maxVendorIdConsent=0, vendorLegitimateInterests=[5], maxVendorIdLI=5))
USNAT_OPTED_OUT = "DBABLA~BVVVkkkkkpFY.YA"  # sale/sharing/targeted opted out, GPC, sensitive 3 = n/a
USNAT_DEFAULTS = "DBABLA~CAAAAAAAAABA.QA"  # every field 0 (not applicable)
USCA_OPTED_OUT = "DBABBg~BVWSSSVY.YA"


# ------------------------------------------------------------------ regimes and absent signals

def test_no_signal_under_each_regime(rules: routeql.RuleSet) -> None:
    assert got(rules, ev("DE")) == {"free"}                       # opt-in: denied
    assert got(rules, ev("US")) == ALL                            # opt-out: granted, TCF does not apply
    assert got(rules, ev("JP")) == {"free"}                       # unknown jurisdiction: the strictest
    assert got(rules, ev(None)) == {"free"}


# ------------------------------------------------------------------ TCF

def test_tcf_purposes_special_features_and_vendors(rules: routeql.RuleSet) -> None:
    assert got(rules, ev("DE", tcf=TC_FULL)) == ALL - {"health"}
    assert got(rules, ev("DE", tcf=TC_ANALYTICS)) == {"ga", "measure", "free"}
    # flexible purposes accept legitimate interest; purpose consent does not
    assert got(rules, ev("DE", tcf=TC_LI_ONLY)) == {"measure", "google_li", "free"}


def test_tcf_read_from_gdpr_consent_too(rules: routeql.RuleSet) -> None:
    assert got(rules, ev("DE", context={"gdpr_consent": TC_ANALYTICS})) == {"ga", "measure", "free"}


def test_tcf_vendor_reason(rules: routeql.RuleSet) -> None:
    r = route_both(rules, ev("DE", tcf=TC_ANALYTICS))
    reason = r.skipped["google"]
    assert reason.stage == "consent" and reason.category == "tcf vendor 755"
    assert reason.rule == "requires tcf vendor 755"
    assert "not given" in reason.detail


def test_malformed_tc_string_is_no_signal_and_denies_what_it_maps(rules: routeql.RuleSet) -> None:
    bad = TC_FULL[:20]
    r = route_both(rules, ev("US", tcf=bad))
    # in the US, no TCF signal would mean granted: a malformed one denies what it maps
    assert set(r.deliveries) == {"health", "free"}
    [problem] = r.consent.problems
    assert problem.format == "tcf" and "truncated" in problem.detail
    assert "tcf signal malformed" in r.explain()


def test_tcf_agrees_with_other_signals_or_withdrawal_wins(rules: routeql.RuleSet) -> None:
    # TCF grants analytics, the Segment object withdraws it: denied
    e = ev("DE", tcf=TC_ANALYTICS, categoryPreferences={"Analytics": False})
    assert "ga" not in got(rules, e)
    # Segment grants advertising, TCF does not: denied (the TC string lacks purposes 2-4)
    e = ev("DE", tcf=TC_ANALYTICS, categoryPreferences={"Advertising": True})
    assert "ads" not in got(rules, e)


# ------------------------------------------------------------------ US opt-outs

@pytest.mark.parametrize("signal", [
    {"context": {"gpc": True}},
    {"context": {"gpc": "1"}},
    {"us_privacy": "1YYN"},
    {"gpp": USNAT_OPTED_OUT},
    {"gpp": USCA_OPTED_OUT},
])
def test_us_opt_out_signals_withdraw_advertising(rules: routeql.RuleSet, signal: dict[str, Any]) -> None:
    assert got(rules, ev("US", **signal)) == ALL - {"ads"}


@pytest.mark.parametrize("signal", [
    {"context": {"gpc": False}},
    {"us_privacy": "1YNN"},
    {"us_privacy": "1---"},
    {"gpp": USNAT_DEFAULTS},
])
def test_us_signals_that_do_not_opt_out(rules: routeql.RuleSet, signal: dict[str, Any]) -> None:
    assert got(rules, ev("US", **signal)) == ALL


def test_opt_out_wins_over_an_explicit_grant(rules: routeql.RuleSet) -> None:
    e = ev("US", categoryPreferences={"Advertising": True}, context={"gpc": True})
    r = route_both(rules, e)
    assert "ads" not in r.deliveries
    d = r.consent.decision("advertising")
    assert d.reason == "withdrawn" and d.source == "gpc opt-out"


def test_opt_outs_apply_in_opt_in_regimes_too(rules: routeql.RuleSet) -> None:
    e = ev("DE", tcf=TC_FULL, context={"gpc": True})
    assert "ads" not in got(rules, e)


def test_gpp_applicable_sections(rules: routeql.RuleSet) -> None:
    # the opted-out usnat section is present but gpp_sid says only section 8 applies
    assert got(rules, ev("US", gpp=USNAT_OPTED_OUT, gpp_sid=[8])) == ALL
    assert got(rules, ev("US", gpp=USNAT_OPTED_OUT, gpp_sid="7")) == ALL - {"ads"}
    assert got(rules, ev("US", gpp=USNAT_OPTED_OUT, gpp_sid=[-1])) == ALL - {"ads"}


def test_sensitive_data_consent_from_usnat() -> None:
    rules = compile_rules('''consent {
  category health from usnat sensitive 1
  category religion from usnat sensitive 2
  default regime opt_out
}
destination health { requires health }
destination religion { requires religion }''')
    # SensitiveDataProcessing = [2, 1, 0, ...]: category 1 consented, 2 refused
    assert got(rules, ev("US", gpp=USNAT_OPTED_OUT)) == {"health"}


def test_malformed_gpc_is_malformed(rules: routeql.RuleSet) -> None:
    r = route_both(rules, ev("US", context={"gpc": "yes"}))
    assert "ads" not in r.deliveries
    assert r.consent.problems[0].format == "gpc"


# ------------------------------------------------------------------ CMP formats

@pytest.mark.parametrize("signal,expected", [
    ({"gcm": {"analytics_storage": "granted", "ad_user_data": "denied", "ad_personalization": "granted"}}, {"ga"}),
    ({"gcm": {"analytics_storage": "granted", "ad_user_data": "granted", "ad_personalization": "granted"}}, {"ga", "ads"}),
    ({"gcm": {"ad_user_data": "granted"}}, set()),  # ad_personalization unknown: no verdict, opt-in denies
    ({"onetrust": "C0001:1,C0002:1,C0003:0,C0004:0"}, {"ga"}),
    ({"onetrust": ",C0001,C0004,"}, {"ads"}),  # active groups: an unlisted group is denied
    ({"onetrust": "isGpcEnabled=0&groups=C0001%3A1%2CC0002%3A1%2CC0004%3A1&interactionCount=1"}, {"ga", "ads"}),
    ({"cookiebot": {"necessary": True, "preferences": False, "statistics": True, "marketing": False}}, {"ga"}),
    ({"cookiebot": "%7Bstamp%3A%27x%27%2Cnecessary%3Atrue%2Cpreferences%3Atrue%2Cstatistics%3Afalse%2Cmarketing%3Atrue%2Cmethod%3A%27explicit%27%2Cver%3A1%7D"}, {"ads"}),
])
def test_cmp_formats(rules: routeql.RuleSet, signal: dict[str, Any], expected: set[str]) -> None:
    assert got(rules, ev("DE", **signal)) - {"free"} == expected


def test_onetrust_gpc_flag_as_an_opt_out() -> None:
    rules = compile_rules('''consent {
  category ads from onetrust "C0004"
  opt-out ads by onetrust gpc
}
destination ads { requires ads }''')
    assert got(rules, ev("DE", onetrust="isGpcEnabled=0&groups=C0004%3A1")) == {"ads"}
    assert got(rules, ev("DE", onetrust="isGpcEnabled=1&groups=C0004%3A1")) == set()


# ------------------------------------------------------------------ compatibility mode and caching

def test_segment_compat_mode_with_many_formats() -> None:
    rules = compile_rules(RULES.replace("default regime opt_in", "default regime opt_in\n  compat segment"))
    assert got(rules, ev("DE")) == ALL  # no signal at all: not enforced, as Segment documents
    assert got(rules, ev("DE", context={"gpc": True})) == ALL - {"ads"} - {"ga", "measure", "geo", "health", "google", "google_li"}


def test_signal_paths_can_be_overridden() -> None:
    rules = compile_rules('''consent {
  category ads from tcf purposes 1
  signal tcf at properties.tc
}
destination ads { requires ads }''')
    assert got(rules, {"type": "page", "properties": {"tc": TC_FULL}}) == {"ads"}
    assert got(rules, {"type": "page", "context": {"consent": {"tcf": TC_FULL}}}) == set()


def test_decoded_strings_and_states_are_cached(rules: routeql.RuleSet) -> None:
    resolver = rules.resolver
    assert resolver is not None
    e = ev("DE", tcf=TC_FULL)
    rules.route(e)
    states = len(resolver.states)
    first = rules.route(e).consent
    again = rules.route(dict(e, messageId="other")).consent
    assert first is again  # the same state object: resolved once
    assert len(resolver.states) == states
    bad = TC_FULL[:20]
    rules.route(ev("DE", tcf=bad))
    assert ("tcf", bad) in resolver._decode_cache  # malformed strings are cached as malformed


def test_decode_cache_can_be_disabled() -> None:
    rules = compile_rules(RULES, decode_cache_size=0, state_cache_size=0)
    assert got(rules, ev("DE", tcf=TC_FULL)) == ALL - {"health"}
    assert rules.resolver is not None and rules.resolver._decode_cache is None and not rules.resolver.states


# ------------------------------------------------------------------ checking the mapping

@pytest.mark.parametrize("text,message", [
    ('consent { category a from tcf purposes 30 }', "tcf: expected numbers from 1 to 24, got 30"),
    ('consent { category a from tcf 1 purposes }', "tcf: write the words first, then the numbers: tcf purposes 1 7"),
    ('consent { category a from gcm ad_storag }', "gcm: unknown argument 'ad_storag'"),
    ('consent { category a from gpc }', "'gpc' cannot grant a category; use it in an opt-out"),
    ('consent { category a\n opt-out a by usnat sail }', "usnat: unknown usnat field 'sail'"),
    ('consent { category a from usnat sale }', "usnat: sale is an opt-out; use it in `opt-out ... by usnat sale`"),
    ('consent { category a from usca sensitive 12 }', "usca: usca sensitive categories are 1 to 9, got 12"),
    ('consent { category a\n opt-out a by usp }', "usp: usp carries one opt-out: opt-out ... by usp sale"),
    ('consent { category a\n opt-out a by tcf purposes 1 }', "'tcf' is not an opt-out signal"),
    ('destination a { requires tcf vendor 755 }', "a TCF vendor requirement needs a consent block"),
    ('consent { category a }\ndestination a { requires tcf vendor 755 by contract }', "unknown legal basis 'contract'"),
])
def test_mapping_errors(text: str, message: str) -> None:
    with pytest.raises(RouteQLCheckError) as info:
        routeql.loads(text)
    assert any(message in d.message for d in info.value.diagnostics), [d.message for d in info.value.diagnostics]
