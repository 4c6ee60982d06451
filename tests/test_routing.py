"""Routing: stages in order, consent, field actions, policies, batches, explanations.

Every routing here goes through ``route_both``: the compiled engine and the reference
interpreter must agree on every delivery.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
from typing import Any

import pytest

import routeql
from routeql.errors import EventError, RouteQLError
from routeql.runtime import sample_bucket
from tests.conftest import compile_rules, load_vectors, route_both

CONSENT = '''
consent {
  category analytics from segment "Analytics", rudderstack "C0002"
  category advertising from segment "Advertising", rudderstack "C0004"
  category personalization from segment "Personalization"
  regime eea opt_in when context.location.country in ["DE", "FR"]
  regime us opt_out when context.location.country = "US"
  default regime opt_in
}
'''


def event(**kw: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"type": "track", "event": "Order Completed", "userId": "u1", "messageId": "m1",
                            "properties": {"revenue": 10}, "context": {"location": {"country": "DE"}}}
    base.update(kw)
    return base


def prefs(**cats: Any) -> dict[str, Any]:
    return {"categoryPreferences": cats}


def with_consent(ev: dict[str, Any], consent: Any, country: str | None = "DE") -> dict[str, Any]:
    ev = copy.deepcopy(ev)
    ctx = ev.setdefault("context", {})
    if consent is not None:
        ctx["consent"] = consent
    if country is None:
        ctx.pop("location", None)
    else:
        ctx["location"] = {"country": country}
    return ev


# ------------------------------------------------------------------ the integrations object

INTEGRATIONS = "destination amplitude alias \"Amplitude\" {}\ndestination braze {}\ndestination warehouse {}"


@pytest.mark.parametrize("integrations,expected", [
    (None, {"amplitude", "braze", "warehouse"}),
    ({}, {"amplitude", "braze", "warehouse"}),
    ({"All": True}, {"amplitude", "braze", "warehouse"}),
    ({"All": False}, set()),
    ({"All": False, "Amplitude": True}, {"amplitude"}),
    ({"All": False, "amplitude": {"apiKey": "x"}}, {"amplitude"}),  # an options object enables
    ({"Amplitude": False}, {"braze", "warehouse"}),
    ({"braze": False, "All": True}, {"amplitude", "warehouse"}),
    ({"amplitude": False, "Amplitude": True}, {"braze", "warehouse"}),  # the name is looked up first
    ({"All": False, "BRAZE": True}, set()),  # keys are case-sensitive
])
def test_integrations_object(integrations: Any, expected: set[str]) -> None:
    rules = compile_rules(INTEGRATIONS)
    ev = event() if integrations is None else event(integrations=integrations)
    r = route_both(rules, ev)
    assert set(r.deliveries) == expected
    for name in set(rules.destinations) - expected:
        assert r.skipped[name].stage == "integrations"


def test_integrations_is_the_first_stage() -> None:
    rules = compile_rules(CONSENT + 'destination braze { requires advertising  when type = "identify" }')
    r = route_both(rules, event(integrations={"braze": False}))
    assert r.skipped["braze"].stage == "integrations"
    assert r.skipped["braze"].detail == "integrations.braze is false"


# ------------------------------------------------------------------ consent

DESTS = CONSENT + '''
destination ga requires analytics {}
'''


def consent_rules() -> routeql.RuleSet:
    return compile_rules(CONSENT + '''
destination ga { requires analytics }
destination ads { requires analytics, advertising }
destination any { requires any of advertising, personalization }
destination free { }
''')


@pytest.mark.parametrize("consent,country,expected", [
    (prefs(Analytics=True, Advertising=True), "DE", {"ga", "ads", "any", "free"}),
    (prefs(Analytics=True), "DE", {"ga", "free"}),                     # missing key = not consented
    (prefs(Analytics=True, Advertising=False), "US", {"ga", "free"}),  # explicit denial wins in opt-out too
    (prefs(), "DE", {"free"}),                                         # empty object: all false
    (None, "DE", {"free"}),                                            # EEA: no signal means denied
    (None, "US", {"ga", "ads", "any", "free"}),                        # US: no signal means granted
    (None, None, {"free"}),                                            # unknown jurisdiction: the strictest
    (None, "BR", {"free"}),
    (prefs(Analytics="true", Advertising=1), "US", {"free"}),          # not a JSON boolean: not a grant
    (prefs(Personalization=True), "DE", {"any", "free"}),
    ({}, "DE", {"free"}),
])
def test_consent_regimes(consent: Any, country: str | None, expected: set[str]) -> None:
    rules = consent_rules()
    r = route_both(rules, with_consent(event(), consent, country))
    assert set(r.deliveries) == expected
    for name in set(rules.destinations) - expected:
        assert r.skipped[name].stage == "consent"


def test_consent_reason_names_the_category_and_the_signal() -> None:
    rules = consent_rules()
    r = rules.route(with_consent(event(), prefs(Analytics=True, Advertising=False), "DE"))
    reason = r.skipped["ads"]
    assert reason.stage == "consent" and reason.category == "advertising"
    assert reason.rule == "requires analytics, advertising" and reason.at == "t.rq:12:19"
    assert 'segment "Advertising"' in reason.detail
    assert r.consent.regime == "eea"


def test_withdrawal_wins_over_a_grant_from_another_signal() -> None:
    rules = consent_rules()
    ev = with_consent(event(), prefs(Analytics=True, Advertising=True), "US")
    ev["context"]["consentManagement"] = {"deniedConsentIds": ["C0004"], "allowedConsentIds": ["C0002"]}
    r = route_both(rules, ev)
    assert set(r.deliveries) == {"ga", "free"}
    d = r.consent.decision("advertising")
    assert not d.granted and d.reason == "signal" and "rudderstack" in d.source


def test_consent_beside_the_event() -> None:
    rules = consent_rules()
    r = route_both(rules, with_consent(event(), None, "DE"), {"analytics": True})
    assert set(r.deliveries) == {"ga", "free"}
    # a denial beside the event is a withdrawal, whatever the event says
    r = route_both(rules, with_consent(event(), prefs(Analytics=True), "DE"), {"analytics": False})
    assert set(r.deliveries) == {"free"}
    with pytest.raises(RouteQLError, match="unknown consent category 'analytic'"):
        rules.route(event(), {"analytic": True})
    with pytest.raises(RouteQLError, match="must be true or false"):
        rules.route(event(), {"analytics": "yes"})


def test_malformed_consent_signal_denies_what_it_maps_and_is_reported() -> None:
    rules = consent_rules()
    ev = with_consent(event(), {"categoryPreferences": ["Analytics"]}, "US")
    r = route_both(rules, ev)
    assert set(r.deliveries) == {"free"}
    [problem] = r.consent.problems
    assert problem.format == "segment" and problem.status == "malformed"
    assert "malformed" in r.explain()


def test_segment_compatibility_mode() -> None:
    rules = compile_rules(CONSENT.replace("default regime opt_in", "default regime opt_in\n  compat segment")
                          + "destination ga { requires analytics }")
    # no consent object: not enforced, as Segment documents
    r = route_both(rules, with_consent(event(), None, "DE"))
    assert set(r.deliveries) == {"ga"} and not r.consent.enforced
    # once a consent object is present, its categories decide
    assert set(route_both(rules, with_consent(event(), prefs(Analytics=False), "DE")).deliveries) == set()
    assert set(route_both(rules, with_consent(event(), prefs(), "DE")).deliveries) == set()


def _segment_rows() -> list[dict[str, Any]]:
    return [v for v in load_vectors("consent-vectors.json") if v["system"] == "segment"]


def _alternatives(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _ident(name: str) -> str:
    return re.sub(r"\W", "_", name)


@pytest.mark.parametrize("row", _segment_rows(), ids=lambda r: r["source"].rsplit(":", 1)[-1])
def test_segment_documented_consent_table(row: dict[str, Any]) -> None:
    mapping: dict[str, list[str]] = row["category_to_destinations"]
    names = set(row["expected_receive"]) | set(row["expected_blocked"]) | set(row.get("unspecified", []))
    names |= {d for ds in mapping.values() for d in ds}
    cats = sorted(mapping)
    text = "consent {\n  compat segment\n" + "".join(
        f'  category {_ident(c)} from segment "{c}"\n' for c in cats) + "}\n" if cats else ""
    for d in sorted(names):
        required = [_ident(c) for c in cats if d in mapping[c]]
        body = f"requires {', '.join(required)}" if required else ""
        text += f'destination {_ident(d)} alias "{d}" {{ {body} }}\n'
    rules = compile_rules(text)
    for consent in _alternatives(row["context_consent"]):
        for integrations in _alternatives(row["integrations"]):
            ev: dict[str, Any] = {"type": "track", "event": "Test", "context": {}}
            if consent != "<absent>":
                ev["context"]["consent"] = consent
            if integrations != "<absent>":
                ev["integrations"] = integrations
            got = {d for d in names if _ident(d) in route_both(rules, ev).deliveries}
            documented_blocked = set(row["expected_blocked"])
            if consent == {} and "inconsistent" in row.get("note", ""):
                # Segment's table contradicts itself for `consent: {}`; we follow the rule
                # stated everywhere else: an empty consent object means no enforcement.
                documented_blocked = {d for d in documented_blocked if not any(d in ds for ds in mapping.values())}
            assert set(row["expected_receive"]) <= got
            assert not (documented_blocked & got)


def _rudder_rows() -> list[dict[str, Any]]:
    return [v for v in load_vectors("consent-vectors.json") if v["system"] == "rudderstack" and "destinations" in v]


@pytest.mark.parametrize("row", _rudder_rows(), ids=lambda r: r["description"])
def test_rudderstack_consent_filter(row: dict[str, Any]) -> None:
    ids: set[str] = set()
    dests = []
    for d in row["destinations"]:
        if "oneTrustCookieCategories" in d:
            cats = [c for c in d["oneTrustCookieCategories"] if isinstance(c, str)]
            strategy = "and"
        else:
            [cfg] = d["consentManagement"]
            cats = [c["consent"] for c in cfg["consents"] if c.get("consent")]
            strategy = cfg.get("resolutionStrategy", "and")
        ids.update(cats)
        dests.append((d["id"], list(dict.fromkeys(cats)), strategy))
    text = "consent {\n" + "".join(f'  category {_ident(i)} from rudderstack "{i}"\n' for i in sorted(ids))
    text += "  default regime opt_out\n}\n"
    for name, cats, strategy in dests:
        req = ""
        if cats:
            req = ("requires any of " if strategy == "or" else "requires ") + ", ".join(_ident(c) for c in cats)
        text += f'destination {_ident(name)} alias "{name}" {{ {req} }}\n'
    rules = compile_rules(text)
    ev = {"type": "track", "event": "Test", "context": {"consentManagement": row["context_consentManagement"]}}
    got = {name for name, _, _ in dests if _ident(name) in route_both(rules, ev).deliveries}
    assert got == set(row["expected_receive"])


@pytest.mark.parametrize("row", [v for v in load_vectors("consent-vectors.json") if "expected_filtered" in v],
                         ids=lambda r: r["description"])
def test_rudderstack_legacy_provider_table(row: dict[str, Any]) -> None:
    ids = sorted(set(row["deniedConsentIds"]) | set(row["destination_categories"]))
    text = "consent {\n" + "".join(f'  category {_ident(i)} from rudderstack "{i}"\n' for i in ids)
    text += "  default regime opt_out\n}\n"
    cats = ", ".join(_ident(c) for c in row["destination_categories"])
    text += f"destination onetrust {{ {'requires ' + cats if cats else ''} }}\n"
    text += f"destination ketch {{ {'requires any of ' + cats if cats else ''} }}\n"
    rules = compile_rules(text)
    ev = {"type": "track", "event": "T", "context": {"consentManagement": {"deniedConsentIds": row["deniedConsentIds"]}}}
    r = route_both(rules, ev)
    assert ("onetrust" not in r.deliveries) == row["expected_filtered"]["oneTrust"]
    assert ("ketch" not in r.deliveries) == row["expected_filtered"]["ketch"]


# ------------------------------------------------------------------ when and sample

def test_when_statements_all_hold_and_the_first_false_one_is_the_reason() -> None:
    rules = compile_rules('destination d {\n  when type = "track"\n  when properties.revenue > 100\n}')
    r = route_both(rules, event())
    assert r.skipped["d"].stage == "when"
    assert (r.skipped["d"].rule, r.skipped["d"].at) == ("when properties.revenue > 100", "t.rq:3:3")
    assert "d" in route_both(rules, event(properties={"revenue": 101})).deliveries


def test_sampling_is_deterministic_and_nested() -> None:
    rules = compile_rules("\n".join(f"destination s{p} {{ sample {p}% by userId }}" for p in (10, 20, 50, 100)))
    kept: dict[int, set[str]] = {10: set(), 20: set(), 50: set(), 100: set()}
    for i in range(2000):
        uid = f"user-{i}"
        r = rules.route(event(userId=uid))
        for p in kept:
            if f"s{p}" in r.deliveries:
                kept[p].add(uid)
    assert kept[10] <= kept[20] <= kept[50] <= kept[100]
    assert len(kept[100]) == 2000
    assert 120 < len(kept[10]) < 280 and 850 < len(kept[50]) < 1150
    # the same key lands the same way in every process: the bucket is SHA-256 of its JSON
    assert sample_bucket("user-1") == int.from_bytes(hashlib.sha256(b'"user-1"').digest()[:8], "big")


def test_sample_reason_and_guard() -> None:
    rules = compile_rules('destination s { sample 0.001% by userId if type = "page" }')
    assert "s" in route_both(rules, event()).deliveries  # the guard does not apply to track
    r = route_both(rules, {"type": "page", "userId": "u1"})
    assert r.skipped["s"].stage == "sample"
    assert r.skipped["s"].detail == "not in the 0.001% sample by userId"


def test_sampling_without_key_uses_message_id() -> None:
    rules = compile_rules("destination s { sample 50% }")
    outcomes = {("s" in route_both(rules, event(messageId=f"m{i}")).deliveries) for i in range(50)}
    assert outcomes == {True, False}


# ------------------------------------------------------------------ field actions

RICH = {
    "type": "identify", "userId": "u1", "messageId": "m1", "timestamp": "2026-11-28T18:41:55.764+01:00",
    "traits": {"email": "  Jane.Doe@Example.COM ", "phone": "+1 555 0100", "name": "Jane", "age": 40,
               "address": {"city": "Berlin", "street": "Main 1"}},
    "properties": {"products": [{"sku": "a", "price": 1, "email": "x@y.io"}, {"sku": "b", "price": 2}, "junk"],
                   "tags": ["x", "y"], "empty": {}},
    "context": {"ip": "203.0.113.77", "traits": {"email": "jane@example.com"},
                "location": {"country": "DE"}},
}


def payload(rules_text: str, ev: dict[str, Any] = RICH, consent: Any = None) -> dict[str, Any]:
    rules = compile_rules(rules_text)
    r = route_both(rules, ev, consent)
    assert "d" in r.deliveries, dict(r.skipped)
    return r.deliveries["d"]


def test_keep_is_an_exact_allow_list() -> None:
    assert payload("destination d { keep userId, traits.email, nothing.here }") == {
        "userId": "u1", "traits": {"email": "  Jane.Doe@Example.COM "}}


def test_keep_keeps_containers_that_exist_on_the_way() -> None:
    assert payload("destination d { keep properties.missing }") == {"properties": {}}


def test_keep_across_lists_applies_to_every_element() -> None:
    assert payload("destination d { keep properties.products.sku }") == {
        "properties": {"products": [{"sku": "a"}, {"sku": "b"}]}}


def test_keep_wildcards_and_unions() -> None:
    got = payload("destination d { keep traits.address.*, type\n keep properties.products.price }")
    assert got == {"type": "identify", "traits": {"address": {"city": "Berlin", "street": "Main 1"}},
                   "properties": {"products": [{"price": 1}, {"price": 2}]}}


def test_drop_removes_paths_including_inside_lists() -> None:
    got = payload("destination d { drop traits, context, properties.products.price, properties.tags }")
    assert got == {"type": "identify", "userId": "u1", "messageId": "m1", "timestamp": RICH["timestamp"],
                   "properties": {"products": [{"sku": "a", "email": "x@y.io"}, {"sku": "b"}, "junk"], "empty": {}}}


def test_drop_wildcard_empties_an_object() -> None:
    got = payload("destination d { keep traits\n drop traits.* }")
    assert got == {"traits": {}}


def test_hash_normalises_emails_and_hashes_other_values_as_json() -> None:
    got = payload("destination d { keep traits.email, traits.age, traits.name\n hash traits.email, traits.age, traits.name }")
    sha = lambda s: hashlib.sha256(s.encode()).hexdigest()  # noqa: E731
    assert got["traits"] == {"email": sha("jane.doe@example.com"), "age": sha("40"), "name": sha("Jane")}


def test_hash_with_salts() -> None:
    sha = lambda s: hashlib.sha256(s.encode()).hexdigest()  # noqa: E731
    got = payload('destination d { keep traits.name\n hash traits.name salt "pepper" }')
    assert got["traits"]["name"] == sha("pepperJane")
    rules = compile_rules('destination d { keep traits.name\n hash traits.name salt config "crm" }', salts={"crm": "s1"})
    assert rules.route(RICH).deliveries["d"]["traits"]["name"] == sha("s1Jane")


def test_hash_applies_per_element_and_to_leaves() -> None:
    got = payload("destination d { keep properties\n hash properties.products.email, properties.tags }")
    sha = lambda s: hashlib.sha256(s.encode()).hexdigest()  # noqa: E731
    assert got["properties"]["products"][0]["email"] == sha("x@y.io")
    assert got["properties"]["tags"] == [sha("x"), sha("y")]
    assert got["properties"]["products"][1] == {"sku": "b", "price": 2}


def test_redact_and_truncate() -> None:
    got = payload('destination d {\n keep traits.phone, traits.name, context.ip, timestamp\n'
                  ' redact traits.phone\n redact traits.name with "***"\n'
                  ' truncate context.ip to /24\n truncate timestamp to day\n}')
    assert got == {"traits": {"phone": "[REDACTED]", "name": "***"}, "context": {"ip": "203.0.113.0"},
                   "timestamp": "2026-11-28T00:00:00.000Z"}


@pytest.mark.parametrize("value,spec,expected", [
    ("2001:db8:1234:5678::1", "/24", "2001:db8:1234::"),
    ("2001:db8:1234:5678::1", "/24 /32", "2001:db8::"),
    ("10.1.2.3", "/16", "10.1.0.0"),
    ("not an ip", "/24", None),
    (12345, "/24", None),
    ("Wonderful", "3", "Won"),
    (42, "3", 42),
    ("2026-11-28T18:41:55Z", "hour", "2026-11-28T18:00:00.000Z"),
    ("2026-11-28", "month", "2026-11-01T00:00:00.000Z"),
    ("yesterday", "day", None),
])
def test_truncate_values(value: Any, spec: str, expected: Any) -> None:
    got = payload(f"destination d {{ keep x\n truncate x to {spec} }}", {"type": "page", "x": value})
    assert got == {"x": expected}


def test_conditional_actions() -> None:
    rules = compile_rules(CONSENT + 'classify { pii.email = traits.email, context.traits.email }\n'
                          "destination d { keep traits, context.traits\n drop pii.* unless consent personalization\n"
                          ' hash traits.name if type = "identify" }')
    ev = with_consent(RICH, prefs(Personalization=True), "DE")
    got = route_both(rules, ev).deliveries["d"]
    assert got["traits"]["email"] == RICH["traits"]["email"]
    assert len(got["traits"]["name"]) == 64
    got = route_both(rules, with_consent(RICH, prefs(Personalization=False), "DE")).deliveries["d"]
    assert "email" not in got["traits"] and got["context"] == {"traits": {}}


def test_conditional_keep_adds_paths_only_when_it_applies() -> None:
    rules = compile_rules(CONSENT + "destination d { keep userId\n keep traits.email if consent personalization }")
    assert route_both(rules, with_consent(RICH, prefs(Personalization=True))).deliveries["d"] == {
        "userId": "u1", "traits": {"email": RICH["traits"]["email"]}}
    assert route_both(rules, with_consent(RICH, prefs())).deliveries["d"] == {"userId": "u1"}


def test_classes_expand_to_their_fields() -> None:
    got = payload("classify { pii.email = traits.email, context.traits.email\n pii.ip = context.ip }\n"
                  "destination d { keep context, traits.name\n drop pii.* }")
    assert got == {"context": {"traits": {}, "location": {"country": "DE"}}, "traits": {"name": "Jane"}}


def test_order_keep_drop_transforms() -> None:
    # drop runs after keep; transforms see only what is left
    got = payload("destination d { hash traits.email\n drop traits.phone, traits.name, traits.age, traits.address\n keep traits }")
    assert set(got["traits"]) == {"email"} and len(got["traits"]["email"]) == 64


# ------------------------------------------------------------------ policies

def test_policies_deny_whatever_the_destination_says() -> None:
    rules = compile_rules(CONSENT + '''
classify { pii.email = traits.email, context.traits.email }
destination ads tagged ads { keep traits.email, userId }
destination crm { keep traits.email, userId }
policy "no pii to ads without consent" { forbid pii.* to tagged ads unless consent advertising }
policy "kill switch" { forbid events to crm if userId = "blocked" }
policy "consent" { require consent analytics for crm }
''')
    ev = with_consent(RICH, prefs(Analytics=True), "DE")
    r = route_both(rules, ev)
    assert r.deliveries["ads"] == {"userId": "u1", "traits": {}}
    assert r.deliveries["crm"]["traits"]["email"] == RICH["traits"]["email"]
    fate = r.trace["ads"].field("traits.email")
    assert fate is not None and fate.fate == "dropped" and fate.stage == "policies"
    r = route_both(rules, with_consent(dict(RICH, userId="blocked"), prefs(Analytics=True), "DE"))
    assert r.skipped["crm"].stage == "policy" and r.skipped["crm"].policy == "kill switch"
    r = route_both(rules, with_consent(RICH, prefs(), "DE"))
    assert r.skipped["crm"].stage == "policy" and r.skipped["crm"].category == "analytics"


def test_policy_field_removal_comes_after_transforms() -> None:
    got = payload('destination d tagged x { keep traits.email\n hash traits.email }\n'
                  'policy p { forbid traits.email to tagged x }')
    assert got == {"traits": {}}


# ------------------------------------------------------------------ events in, payloads out

def test_input_is_never_mutated_and_payloads_share_nothing() -> None:
    rules = compile_rules("destination a { }\ndestination b { keep properties\n hash properties.products.sku }\n"
                          "destination c { drop traits.address.city }")
    ev = copy.deepcopy(RICH)
    before = json.dumps(ev, sort_keys=True)
    r = route_both(rules, ev)
    assert json.dumps(ev, sort_keys=True) == before
    a, b, c = r.deliveries["a"], r.deliveries["b"], r.deliveries["c"]
    a["properties"]["products"][0]["sku"] = "changed"
    a["traits"]["address"]["city"] = "changed"
    assert b["properties"]["products"][0]["sku"] != "changed"
    assert c["traits"]["address"] == {"street": "Main 1"}
    assert ev["properties"]["products"][0]["sku"] == "a" and ev["traits"]["address"]["city"] == "Berlin"
    assert json.dumps(ev, sort_keys=True) == before


@pytest.mark.parametrize("bad,message", [
    ([], "event must be a JSON object, got list"),
    ("x", "event must be a JSON object, got string"),
    ({}, "event has no 'type'"),
    ({"type": 5}, "'type' must be a string, got number"),
    ({"type": "click"}, "'type' must be one of track, identify, page, screen, group, alias"),
    ({"type": "track"}, "a track event needs an 'event' name (a string)"),
    ({"type": "track", "event": 5}, "'event' must be a string or null, got number"),
    ({"type": "page", "properties": []}, "'properties' must be an object or null, got list"),
    ({"type": "page", "userId": True}, "'userId' must be a string or an integer or null, got bool"),
    ({"type": "page", "integrations": "all"}, "'integrations' must be an object or null, got string"),
])
def test_malformed_events_are_rejected_with_a_reason(bad: Any, message: str) -> None:
    rules = compile_rules("destination d {}")
    with pytest.raises(EventError) as info:
        rules.route(bad)
    assert info.value.message == message
    with pytest.raises(EventError):
        rules.reference(bad)


def test_error_messages_never_echo_values() -> None:
    rules = compile_rules("destination d {}")
    with pytest.raises(EventError) as info:
        rules.route({"type": "track", "event": ["secret@example.com"]})
    assert "secret" not in str(info.value)


def test_route_batch_goes_on_after_bad_events() -> None:
    rules = compile_rules('destination d { when type = "page" }')
    results = rules.route_batch([
        {"type": "page"}, "not json", '{"type": "page", "name": "Home"}', {"type": "nope"}, b'{"type": "track"}',
        {"type": "identify"},
    ])
    assert [r.ok for r in results] == [True, False, True, False, False, True]
    assert [r.delivered for r in results] == [("d",), (), ("d",), (), (), ()]
    assert results[1].error is not None and "not valid JSON" in results[1].error.message
    assert results[5].skipped["d"].stage == "when"


def test_route_never_raises_anything_but_routeql_errors() -> None:
    rules = compile_rules('consent { category a from segment "A" }\n'
                          'destination d { requires a  when properties.x > 1 and lower(properties.y) = "z"\n'
                          ' keep properties  hash properties.x  truncate properties.y to day }')
    weird: list[Any] = [{"type": "track", "event": "E", "properties": {"x": {"a": [1]}, "y": [None]}},
                        {"type": "track", "event": "E", "properties": {"x": float("nan"), "y": 10 ** 400}},
                        {"type": "track", "event": "E", "properties": {"x": 2, "y": {1, 2}}},
                        {"type": "track", "event": "E", "context": {"consent": {"categoryPreferences": {"A": {}}}}}]
    for ev in weird:
        try:
            rules.route(ev, {"a": True})
        except RouteQLError:
            pass


# ------------------------------------------------------------------ explanations

def test_trace_has_every_destination_and_field_fates() -> None:
    rules = compile_rules(CONSENT + '''
destination a { requires advertising }
destination b { keep userId, traits.email
  hash traits.email }
''')
    r = rules.route(with_consent(RICH, prefs(Analytics=True), "DE"), trace=True)
    assert set(r.trace.destinations) == {"a", "b"}
    fates = {f.path: (f.fate, f.rule) for f in r.trace["b"].fields}
    assert fates["userId"] == ("kept", None)
    assert fates["traits.email"] == ("hashed", "hash traits.email")
    assert fates["properties.products[0].sku"] == ("dropped", "keep userId, traits.email")
    text = r.explain()
    assert "a: skipped at consent: advertising denied" in text
    assert "b: delivered" in text and "traits.email" in text
    # explanations name paths and rules, never values
    assert "Jane" not in text and "203.0.113" not in text


def test_routing_as_data() -> None:
    rules = compile_rules("destination a { }\ndestination b { when type = \"page\" }")
    r = rules.route(RICH)
    data = r.to_dict(trace=True)
    assert data["deliveries"]["a"]["userId"] == "u1"
    assert data["skipped"]["b"]["stage"] == "when"
    assert data["version"] == rules.version and len(rules.version) == 64
    json.dumps(data)


def test_predicate_api() -> None:
    pred = routeql.predicate('event matches "Product *" and properties.price >= 10')
    assert pred({"event": "Product Viewed", "properties": {"price": 12}}) is True
    assert pred({"event": "Product Viewed"}) is False
    with pytest.raises(EventError):
        pred([])  # type: ignore[arg-type]
    with pytest.raises(routeql.RouteQLCheckError):
        routeql.predicate("consent analytics")


def test_bundled_rules_agree_on_every_example_event(bundled: routeql.RuleSet, example_events: list[dict[str, Any]]) -> None:
    delivered = 0
    for ev in example_events:
        delivered += len(route_both(bundled, ev).deliveries)
    assert delivered > len(example_events)


# ------------------------------------------------------------ found by fuzzing (fuzz/)

_FUZZ_RULES = (
    "consent { category advertising }\n"
    "destination a {\n  requires advertising\n  when type = \"track\"\n  drop properties.secret\n}\n"
)


def test_explain_names_fields_under_non_string_keys() -> None:
    """A Python dict may carry keys JSON cannot (ints, tuples); explaining must not crash."""
    rules = routeql.loads(_FUZZ_RULES)
    event = {"type": "track", "event": "x", "properties": {1: "a", (2, 3): "b", "secret": "s"}}
    text = rules.explain(event, {"advertising": True})
    assert "properties[1]" in text and "properties.`(2, 3)`" in text and "properties.secret" in text
    assert "dropped" in text


class _HostileConsent(dict):  # type: ignore[type-arg]
    def items(self):  # type: ignore[no-untyped-def, override]
        raise ZeroDivisionError("hostile")

    def __iter__(self):  # type: ignore[no-untyped-def]
        raise ZeroDivisionError("hostile")


@pytest.mark.parametrize("consent", [{"advertising": "yes"}, 5, {"nope": True}, _HostileConsent(advertising=True)])
def test_reference_reports_bad_consent_as_a_routeql_error(consent: Any) -> None:
    rules = routeql.loads(_FUZZ_RULES)
    with pytest.raises(RouteQLError):
        rules.reference({"type": "track", "event": "x"}, consent)


@pytest.mark.parametrize("event", [[1], None, {"type": 5}, {"type": "track", "properties": [1]}, {(1,): 2}])
def test_reference_and_route_reject_bad_events_alike(event: Any) -> None:
    rules = routeql.loads(_FUZZ_RULES)
    with pytest.raises(EventError) as fast:
        rules.route(event, {"advertising": True})
    with pytest.raises(EventError) as slow:
        rules.reference(event, {"advertising": True})
    assert str(fast.value) == str(slow.value)
