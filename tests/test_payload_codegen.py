"""Payload code generation: transforms applied while the payload is built, lists projected
inline, and the cases that must keep the general walk, each checked against the
reference interpreter on events of awkward shapes."""

from __future__ import annotations

from typing import Any

import pytest

import routeql
from tests.conftest import route_both

EVENTS: list[dict[str, Any]] = [
    {"type": "track", "event": "Order Completed", "userId": " Jane@Example.COM ",
     "context": {"ip": "203.0.113.77", "page": {"url": "https://a.example/x"}, "traits": {"email": "a@b.org"}},
     "properties": {"products": [{"sku": "s1", "price": 3, "name": "A"}, {"sku": "s2"}, 7, None,
                                 [{"sku": "nested"}, 5], {"name": "no sku"}],
                    "revenue": 12.5, "coupon": {"code": "X", "ip": "198.51.100.9"}, "tags": ["a", "b"]}},
    {"type": "track", "event": "Order Completed", "userId": None,
     "context": {"ip": ["203.0.113.1", "2001:db8::1"], "page": [{"url": "u1"}, {"url": "u2"}, "u3"]},
     "properties": {"products": {"sku": "not a list"}, "coupon": [{"ip": "198.51.100.1"}, {"code": 1}]}},
    {"type": "track", "event": "Order Completed", "userId": 42,
     "context": {"ip": {"v4": "203.0.113.5"}}, "properties": {"products": [], "coupon": "plain"}},
    {"type": "identify", "userId": "u", "traits": {"email": "X@Y.COM"}},
    {"type": "track", "event": "Order Completed"},
]

#: (name, destination body, whether every transform of it is applied as the payload is built)
CASES = [
    ("leaf", "keep userId, context.ip\n  hash context.ip", True),
    ("two on one leaf, in order", "keep context.ip, userId\n  truncate context.ip to /24\n  hash context.ip\n  redact userId", True),
    ("inside a whole kept object", "keep context, properties.coupon\n  hash context.ip, properties.coupon.ip", True),
    ("list of objects", "keep properties.products.sku, properties.products.price\n  hash properties.products.sku", True),
    ("through a list the keep walks", "keep context.page.url, properties.coupon.ip\n  hash context.page.url, properties.coupon.ip", True),
    ("not kept at all", "keep userId\n  hash traits.email", True),
    ("below a kept star", "keep properties.*\n  hash properties.coupon", True),
    ("a star below a kept object", "keep properties.coupon, context.page\n  redact properties.coupon.*", True),
    ("a star in the transform", "keep properties.coupon.ip, properties.coupon.code\n  hash properties.coupon.*", False),
    ("a whole object built key by key", "keep context.ip, context.page.url\n  hash context", False),
    ("after a drop", "keep context, userId\n  drop context.page\n  hash context.ip", False),
    ("guarded first", "keep context.ip, userId\n  hash userId if userId exists\n  hash context.ip", False),
    ("large list elements", "keep " + ", ".join(f"properties.products.f{i}" for i in range(12)) + ", properties.products.sku\n"
     "  hash properties.products.sku", True),
]


def _payload_source(rules: routeql.RuleSet, index: int) -> str:
    lines = rules.source.splitlines()
    start = lines.index(next(line for line in lines if line.startswith(f"def p_{index}(")))
    end = next((i for i in range(start + 1, len(lines)) if lines[i] and not lines[i].startswith(" ")), len(lines))
    return "\n".join(lines[start:end])


@pytest.mark.parametrize(("name", "body", "fused"), CASES, ids=[c[0] for c in CASES])
def test_transforms_while_building_agree_with_the_interpreter(name: str, body: str, fused: bool) -> None:
    rules = routeql.loads(f"destination d {{\n  {body}\n}}\n", "payload.rq")
    source = _payload_source(rules, 0)
    # fused: no walk over the finished payload (`_transform(p, ...)`) is left
    assert ("_transform(p," not in source) is fused, source
    for event in EVENTS:
        route_both(rules, event)


def test_list_elements_are_projected_inline_up_to_the_limit() -> None:
    rules = routeql.loads("destination d {\n  keep properties.products.sku, properties.products.price\n}\n", "p.rq")
    source = _payload_source(rules, 0)
    assert "for i" in source and "_project(" in source  # the loop; the general call stays for lists in lists
    routing = route_both(rules, EVENTS[0])
    assert routing.deliveries["d"]["properties"]["products"] == [
        {"sku": "s1", "price": 3}, {"sku": "s2"}, [{"sku": "nested"}], {}]
    wide = routeql.loads("destination d {\n  keep " + ", ".join(f"properties.products.f{i}" for i in range(12)) + "\n}\n")
    assert "for i" not in _payload_source(wide, 0)


def test_fused_hashes_do_not_touch_the_event() -> None:
    rules = routeql.loads("destination d {\n  keep context, properties.products.sku\n  hash context.ip, properties.products.sku\n}\n")
    event = {"type": "track", "event": "x", "context": {"ip": {"v4": "203.0.113.5"}},
             "properties": {"products": [{"sku": "s1"}]}}
    routing = route_both(rules, event)
    assert event["context"]["ip"] == {"v4": "203.0.113.5"}
    assert event["properties"]["products"] == [{"sku": "s1"}]
    payload = routing.deliveries["d"]
    assert payload["context"]["ip"]["v4"] != "203.0.113.5" and len(payload["context"]["ip"]["v4"]) == 64
    assert payload["context"] is not event["context"] and payload["context"]["ip"] is not event["context"]["ip"]


def test_a_large_rule_set_keeps_its_payload_code_compact(monkeypatch: pytest.MonkeyPatch) -> None:
    """Past SHARE_LIMIT keep nodes lists go through the runtime (bounded code), and the
    fused transforms still apply to the objects built by shared functions."""
    from routeql.codegen import _Gen

    text = ("destination a {\n  keep context.ip, properties.products.sku\n  hash context.ip, properties.products.sku\n}\n"
            "destination b {\n  keep context.ip, userId\n}\n")
    monkeypatch.setattr(_Gen, "SHARE_LIMIT", 0)
    rules = routeql.loads(text, "large.rq")
    assert "for i" not in _payload_source(rules, 0) and "def k_" in rules.source
    for event in EVENTS:
        route_both(rules, event)
