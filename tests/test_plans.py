"""Tracking plans: every schema keyword, every mode, overrides, check-time types, and
the compiled validators agreeing with the reference validator."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import routeql
from routeql.errors import RouteQLCheckError
from routeql.plans import CLEAN
from tests.conftest import compile_rules, route_both
from tests.strategies import scalars

PLAN = '''
plan shop {
  %(settings)s
  common {
    optional context.library.name: string
  }
  track "Order Completed" {
    description "A customer completed a purchase."
    required order_id: string length >= 1 length <= 12 description "the order's id"
    required revenue: number >= 0 < 1000000
    required currency: string in ["USD", "EUR"]
    optional quantity: integer > 0
    optional gift: boolean
    optional note: string | null
    optional coupon: string pattern "^[A-Z0-9-]+$"
    optional email: string format email
    optional placed_at: string format date_time
    optional site: string format uri
    optional session: string format uuid
    optional currency_code: string format currency
    optional meta: object
    optional items: array length <= 3
    optional anything: any
    optional shipping: object {
      required city: string
      optional zip: string pattern "^[0-9]{5}$"
    }
    optional products: array of object {
      required sku: string
      optional price: number >= 0
    }
    optional tags: array of string length >= 1
  }
  identify {
    optional email: string format email
    optional plan: string in ["free", "pro"]
  }
  group { required name: string }
  page "Pricing" { required plan: string }
  page { optional path: string pattern "^/" }
}
%(destinations)s
'''

GOOD = {
    "type": "track", "event": "Order Completed",
    "properties": {"order_id": "o-1", "revenue": 10, "currency": "USD", "quantity": 2, "gift": False, "note": None,
                   "coupon": "SAVE-10", "email": "jane@example.com", "placed_at": "2026-11-28T10:00:00Z",
                   "site": "https://shop.example.com/x", "session": "123e4567-e89b-12d3-a456-426614174000",
                   "currency_code": "EUR", "meta": {"x": 1}, "items": [1, 2], "anything": [None],
                   "shipping": {"city": "Berlin", "zip": "10115"},
                   "products": [{"sku": "a", "price": 1}], "tags": ["x"]},
    "context": {"library": {"name": "analytics.js"}},
}


def rules_with(settings: str = "", destinations: str = "destination d { }") -> routeql.RuleSet:
    return compile_rules(PLAN % {"settings": settings, "destinations": destinations})


def with_props(**props: Any) -> dict[str, Any]:
    ev = copy.deepcopy(GOOD)
    for k, v in props.items():
        if v is _DEL:
            ev["properties"].pop(k, None)
        else:
            ev["properties"][k] = v
    return ev


_DEL = object()


def violations(rules: routeql.RuleSet, event: dict[str, Any]) -> list[tuple[str, str]]:
    r = route_both(rules, event)
    compiled = rules.validate(event)
    reference = rules.reference(event).plan
    assert compiled == reference, (compiled, reference)
    return [(v.type, v.field) for v in r.plan.violations] if r.plan else []


def test_a_good_event_is_clean() -> None:
    rules = rules_with()
    assert violations(rules, GOOD) == []
    assert rules.validate(GOOD).clean


@pytest.mark.parametrize("change,expected", [
    ({"order_id": _DEL}, ("required", "properties.order_id")),
    ({"order_id": 5}, ("type", "properties.order_id")),
    ({"order_id": ""}, ("length", "properties.order_id")),
    ({"order_id": "x" * 13}, ("length", "properties.order_id")),
    ({"revenue": "10"}, ("type", "properties.revenue")),
    ({"revenue": True}, ("type", "properties.revenue")),
    ({"revenue": -1}, ("range", "properties.revenue")),
    ({"revenue": 1_000_000}, ("range", "properties.revenue")),
    ({"currency": "JPY"}, ("enum", "properties.currency")),
    ({"quantity": 1.5}, ("type", "properties.quantity")),
    ({"quantity": 0}, ("range", "properties.quantity")),
    ({"gift": "yes"}, ("type", "properties.gift")),
    ({"note": 5}, ("type", "properties.note")),
    ({"coupon": "save 10"}, ("pattern", "properties.coupon")),
    ({"email": "jane"}, ("format", "properties.email")),
    ({"placed_at": "yesterday"}, ("format", "properties.placed_at")),
    ({"placed_at": "2026-13-40T10:00:00Z"}, ("format", "properties.placed_at")),
    ({"placed_at": "\u0662\u0660\u0662\u0666-11-28T10:00:00Z"}, ("format", "properties.placed_at")),  # Arabic-Indic digits
    ({"placed_at": "2026-11-28"}, ("format", "properties.placed_at")),  # a date, no time
    ({"site": "not a uri"}, ("format", "properties.site")),
    ({"session": "123"}, ("format", "properties.session")),
    ({"currency_code": "XYZ"}, ("format", "properties.currency_code")),
    ({"meta": []}, ("type", "properties.meta")),
    ({"items": [1, 2, 3, 4]}, ("length", "properties.items")),
    ({"shipping": {"zip": "1"}}, ("required", "properties.shipping.city")),
    ({"shipping": {"city": "B", "zip": "1"}}, ("pattern", "properties.shipping.zip")),
    ({"products": [{"sku": "a"}, {"price": -1}]}, ("required", "properties.products[1].sku")),
    ({"products": [{"sku": "a", "price": -1}]}, ("range", "properties.products[0].price")),
    ({"products": ["a"]}, ("type", "properties.products[0]")),
    ({"tags": []}, ("length", "properties.tags")),
    ({"tags": [1]}, ("type", "properties.tags[0]")),
])
def test_each_keyword(change: dict[str, Any], expected: tuple[str, str]) -> None:
    assert expected in violations(rules_with(), with_props(**change))


def test_integer_accepts_whole_floats_as_json_schema_does() -> None:
    assert violations(rules_with(), with_props(quantity=2.0)) == []


def test_any_and_nullable_types() -> None:
    assert violations(rules_with(), with_props(anything={"a": 1}, note=None)) == []


def test_common_fields_apply_to_every_event() -> None:
    rules = rules_with()
    ev = {"type": "screen", "name": "Home", "context": {"library": {"name": 5}}}
    assert violations(rules, ev) == [("type", "context.library.name")]


def test_identify_group_page_entries() -> None:
    rules = rules_with()
    assert violations(rules, {"type": "identify", "traits": {"plan": "gold"}}) == [("enum", "traits.plan")]
    assert violations(rules, {"type": "group", "groupId": "g"}) == [("required", "traits.name")]
    assert violations(rules, {"type": "page", "name": "Pricing"}) == [("required", "properties.plan")]
    assert violations(rules, {"type": "page", "name": "Home", "properties": {"path": "x"}}) == [("pattern", "properties.path")]
    assert violations(rules, {"type": "alias", "previousId": "a"}) == []


def test_unplanned_events_and_properties() -> None:
    rules = rules_with("unplanned events flag\n  unplanned properties flag")
    r = route_both(rules, {"type": "track", "event": "Mystery"})
    assert r.plan is not None and not r.plan.planned
    flagged = r.deliveries["d"]["context"]["protocols"]["violations"]
    assert flagged[0]["type"] == "unplanned_event"
    r = route_both(rules, with_props(surprise=1))
    assert r.plan.unplanned == (("properties", "surprise"),)
    assert [v["field"] for v in r.deliveries["d"]["context"]["protocols"]["violations"]] == ["properties.surprise"]


@pytest.mark.parametrize("mode,delivered,rejected", [("block", False, True), ("flag", True, False), ("allow", True, False)])
def test_unplanned_event_modes(mode: str, delivered: bool, rejected: bool) -> None:
    rules = rules_with(f"unplanned events {mode}")
    r = route_both(rules, {"type": "track", "event": "Mystery"})
    assert ("d" in r.deliveries) is delivered and r.rejected is rejected
    if not delivered:
        assert r.skipped["d"].stage == "plan"
        assert "not in the plan" in r.skipped["d"].detail


def test_violation_modes() -> None:
    bad = with_props(currency="JPY", revenue=-1, surprise=True)
    blocked = rules_with("violations block")
    r = route_both(blocked, bad)
    assert r.deliveries == {} and r.rejected
    assert r.skipped["d"].stage == "plan" and r.skipped["d"].at.startswith("t.rq:")
    assert {v.type for v in r.violations} == {"enum", "range"}

    omitted = rules_with("violations omit\n  unplanned properties omit")
    r = route_both(omitted, bad)
    props = r.deliveries["d"]["properties"]
    assert "currency" not in props and "revenue" not in props and "surprise" not in props
    assert r.deliveries["d"]["context"]["protocols"] == {
        "omitted": ["properties.revenue", "properties.currency", "properties.surprise"]}

    flagged = rules_with("violations flag")
    r = route_both(flagged, bad)
    assert r.deliveries["d"]["properties"]["currency"] == "JPY"
    assert [v["type"] for v in r.deliveries["d"]["context"]["protocols"]["violations"]] == ["range", "enum"]


def test_omit_takes_a_bad_list_element_with_its_list() -> None:
    rules = rules_with("violations omit")
    r = route_both(rules, with_props(products=["junk"], tags=[1]))
    props = r.deliveries["d"]["properties"]
    assert "products" not in props and "tags" not in props


def test_per_destination_overrides() -> None:
    rules = rules_with("violations block", '''
destination warehouse { plan violations flag
  plan unplanned events flag }
destination ads { }
''')
    r = route_both(rules, with_props(currency="JPY"))
    assert set(r.deliveries) == {"warehouse"} and not r.rejected
    assert r.deliveries["warehouse"]["context"]["protocols"]["violations"][0]["type"] == "enum"
    assert r.skipped["ads"].stage == "plan"


def test_blocked_events_are_rejected_in_batches_and_accounted_for() -> None:
    rules = rules_with("violations block")
    results = rules.route_batch([GOOD, with_props(currency="JPY")])
    assert [r.rejected for r in results] == [False, True]
    assert results[1].ok and results[1].deliveries == {}
    assert results[1].to_dict()["plan"]["violations"][0]["field"] == "properties.currency"


def test_plans_apply_by_condition_first_match() -> None:
    rules = compile_rules('''
plan web when context.source = "web" { violations block  track "A" { required x: string } }
plan app { violations block  track "B" { required y: string } }
destination d { }
''')
    web = {"type": "track", "event": "A", "context": {"source": "web"}}
    assert route_both(rules, web).plan.plan == "web" and route_both(rules, web).rejected
    app = {"type": "track", "event": "B", "properties": {"y": "1"}}
    r = route_both(rules, app)
    assert r.plan.plan == "app" and r.plan.clean and r.delivered == ("d",)


def test_no_plan_means_no_validation() -> None:
    rules = compile_rules("destination d { }")
    assert rules.validate(GOOD) is CLEAN and rules.route(GOOD).plan is None


def test_violations_never_hold_values() -> None:
    r = rules_with().route(with_props(currency="SECRET-VALUE", email="secret@example.com"))
    text = repr(r.plan) + str(r.to_dict()["plan"])
    assert "SECRET" not in text and "secret@" not in text


# ------------------------------------------------------------------ check time

@pytest.mark.parametrize("text,code,message", [
    ('plan { violations blok }', "RQ315", "'blok' is not a mode for violations"),
    ('plan { unplanned events omit }', "RQ315", "'omit' is not a mode for unplanned events"),
    ('plan { track { required a: string } }', "RQ316", "a track entry needs the event name"),
    ('plan { identify "x" { required a: string } }', "RQ316", "identify entries have no name"),
    ('plan { track "A" { required a: string >= 1 } }', "RQ317", "ranges apply to numbers, and 'a' is string"),
    ('plan { track "A" { required a: number length >= 1 } }', "RQ317", "length applies to strings and arrays"),
    ('plan { track "A" { required a: string format emial } }', "RQ317", "unknown format 'emial'"),
    ('plan { track "A" { required a: number in ["x"] } }', "RQ301", "allowed value 'x' is not number"),
    ('plan { track "A" { required a: string pattern "(" } }', "RQ303", "invalid regex pattern"),
    ('plan { track "A" { required a: string\n required a: number } }', "RQ200", "duplicate field 'a'"),
    ('plan { track "A" { }\n track "A" { } }', "RQ200", 'duplicate plan entry track "A"'),
    ('plan { track "A" { required a: string in $NOPE } }', "RQ205", "unknown value list '$NOPE'"),
    ('plan p { }\nplan p { }', "RQ200", "duplicate tracking plan 'p'"),
    ('plan { track "A" { required revenue: number } }\ndestination d { when event = "A" and properties.revenue = "1" }',
     "RQ301", "'properties.revenue' is number in the tracking plan, never string"),
    ('plan { track "A" { required c: string in ["x", "y"] } }\ndestination d { when event = "A" and properties.c in ["x", "z"] }',
     "RQ302", "'z' is not an allowed value of 'properties.c' in the tracking plan"),
    ('plan { violations block }\ndestination d { plan violations blok }', "RQ315", "'blok' is not a mode for violations"),
])
def test_plan_diagnostics(text: str, code: str, message: str) -> None:
    with pytest.raises(RouteQLCheckError) as info:
        routeql.loads(text, "t.rq")
    found = [(d.code, d.message) for d in info.value.diagnostics]
    assert any(c == code and message in m for c, m in found), found


def test_conditions_on_unplanned_properties_warn_with_a_suggestion() -> None:
    rules = routeql.loads('plan { track "A" { required revenue: number } }\n'
                          'destination d { when event = "A" and properties.revenu > 1 }', "t.rq")
    [w] = rules.warnings
    assert (w.code, w.hint) == ("RQ318", "did you mean 'properties.revenue'?")


def test_plan_handling_without_a_plan_warns() -> None:
    rules = routeql.loads("destination d { plan violations flag }", "t.rq")
    assert [w.code for w in rules.warnings] == ["RQ316"]


# ------------------------------------------------------------------ compiled ≡ reference

#: boundary values for every keyword of the plan above (and look-alikes of other types)
INTERESTING: list[Any] = [
    None, True, False, 0, -1, 1, 1.0, 2.0, 1.5, 999_999.99, 1_000_000, "", "x", "x" * 13, "USD", "JPY", "SAVE-10",
    "save 10", "jane@example.com", "jane", "2026-11-28T10:00:00Z", "2026-13-40T10:00:00Z", "https://a.example/x",
    "a b", "123e4567-e89b-12d3-a456-426614174000", "EUR", "XYZ", "10115", "1", [], [""], [1], [1, 2, 3, 4],
    {}, {"city": "B"}, {"city": 1, "zip": "1"}, {"zip": "10115"}, [{"sku": "a"}], [{"price": -1}], ["junk"],
    [{"sku": 1, "price": "x"}],
]


def _mutations() -> st.SearchStrategy[dict[str, Any]]:
    keys = list(GOOD["properties"]) + ["surprise"]
    value = st.one_of(st.sampled_from(INTERESTING), st.sampled_from(INTERESTING), scalars,
                      st.lists(scalars, max_size=3),
                      st.lists(st.dictionaries(st.sampled_from(["sku", "price"]), scalars, max_size=2), max_size=3))
    return st.dictionaries(st.sampled_from(keys), st.one_of(value, st.just(_DEL)), max_size=8)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(change=_mutations(), mode=st.sampled_from(["violations block", "violations omit\n unplanned properties omit",
                                                   "violations flag\n unplanned properties flag"]),
       kind=st.sampled_from(["track", "identify", "page", "group"]))
def test_compiled_validation_agrees_with_the_reference(change: dict[str, Any], mode: str, kind: str) -> None:
    rules = _RULES.get(mode) or _RULES.setdefault(mode, rules_with(mode, "destination d { }\ndestination k { keep properties, traits }"))
    ev = with_props(**change)
    if kind != "track":
        ev = {"type": kind, "name": "Pricing", "traits": ev["properties"], "properties": ev["properties"]}
    violations(rules, ev)


_RULES: dict[str, routeql.RuleSet] = {}


def _uri_by_urlsplit(s: str) -> bool:
    """The definition `format uri` implements, without the fast path."""
    from urllib.parse import urlsplit

    if len(s) > 8192 or any(c.isspace() for c in s):
        return False
    try:
        parts = urlsplit(s)
    except ValueError:
        return False
    return bool(parts.scheme) and parts.scheme[0].isalpha() and bool(parts.netloc or parts.path)


@settings(max_examples=3000, deadline=None)
@given(st.one_of(st.text(alphabet="ab:/?#[]@.-+09 \t\u00a0é%\\\x01\x7f~^_Z", max_size=16),
                 st.builds(lambda p, s: p + s, st.sampled_from(["http://", "https://x", "a:", "ftp://h:", "x+y://"]),
                           st.text(alphabet="ab:/?#[]@.-+09 \t\u00a0é%\\\x01~^_Z", max_size=16))))
def test_uri_format_fast_path_agrees_with_its_definition(s: str) -> None:
    from routeql.plans import _is_uri

    assert _is_uri(s) == _uri_by_urlsplit(s)


def _date_time_by_definition(s: str) -> bool:
    """`format date_time` as first written: RFC 3339's layout (with Unicode digits), then
    whatever datetime.fromisoformat accepts of it."""
    import re
    from datetime import datetime

    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([Zz]|[+-]\d{2}:?\d{2})?", s):
        return False
    try:
        datetime.fromisoformat(s.replace("z", "Z"))
    except ValueError:
        return False
    return True


#: date-times part by part, each part right or wrong in the ways that matter
_DATE_TIMES = st.builds(
    lambda *parts: "{}-{}-{}{}{}:{}{}{}{}".format(*parts),
    st.sampled_from(["2025", "2024", "0001", "9999", "\u0662\u0660\u0662\u0665", "202"]),
    st.sampled_from(["01", "02", "12", "13", "00", "1"]),
    st.sampled_from(["01", "28", "29", "30", "31", "32"]),
    st.sampled_from(["T", "t", " ", "x"]),
    st.sampled_from(["00", "23", "24", "9"]),
    st.sampled_from(["00", "59", "60"]),
    st.sampled_from(["", ":00", ":59", ":60", ":5"]),
    st.sampled_from(["", ".1", ".123456", ".1234567", ".", ",5"]),
    st.sampled_from(["", "Z", "z", "+05:30", "-0800", "+05", "+5:30", "+24:00", "Zz"]),
)


@settings(max_examples=3000)
@given(st.one_of(st.text(alphabet="0129-:T tZz+.,\u0662\uff11", max_size=30), _DATE_TIMES))
def test_date_time_format_agrees_with_its_definition(s: str) -> None:
    from routeql.plans import _is_date_time

    assert _is_date_time(s) == _date_time_by_definition(s)


def test_format_memo_remembers_valid_strings_only_and_stays_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    from routeql import plans

    monkeypatch.setattr(plans, "MEMO_SIZE", 4)
    check, memo = plans.remembering("uri"), plans.VALID["uri"]
    memo.clear()
    assert check("https://a.example/x") and "https://a.example/x" in memo
    assert not check("not a uri") and "not a uri" not in memo  # invalid: checked every time
    long = "https://a.example/" + "x" * plans.MEMO_MAX_CHARS
    assert check(long) and long not in memo  # too long to keep
    for i in range(10):
        assert check(f"https://a.example/{i}")
        assert len(memo) <= 4
    # the generated validator consults the memo, then the check: same verdicts either way
    rules = routeql.loads('plan { track "A" { required url: string format uri } }\ndestination d { }', "t.rq")
    for url, ok in (("https://a.example/x", True), ("nope", False), ("https://a.example/x", True), ("nope", False)):
        result = rules.validate({"type": "track", "event": "A", "properties": {"url": url}})
        assert result.clean is ok and [v.type for v in result.violations] == ([] if ok else ["format"])
