"""The per-event path does only per-event work: no import machinery, no read done twice."""

from __future__ import annotations

import json
import sys
from typing import Any, Callable

from hypothesis import given
from hypothesis import strategies as st

import routeql
from tests.conftest import ROOT


def _events() -> list[dict[str, Any]]:
    lines = (ROOT / "examples" / "events.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines[:300]]


def _called_in(rules: routeql.RuleSet, events: list[dict[str, Any]], where: Callable[[str], bool]) -> set[str]:
    """The Python functions whose file name ``where`` accepts that deciding and routing
    ``events`` calls, once they have been routed once (first-use work is fine)."""
    for e in events:
        rules.route(e)
    seen: set[str] = set()

    def hook(frame: Any, event: str, arg: Any) -> None:
        if event == "call" and where(frame.f_code.co_filename):
            seen.add(frame.f_code.co_name)

    sys.setprofile(hook)
    try:
        for e in events:
            rules.decide(e)
            rules.route(e)
    finally:
        sys.setprofile(None)
    return seen


def test_routing_runs_no_import_machinery(bundled: routeql.RuleSet) -> None:
    """A function-level ``import`` in a per-event helper costs about a microsecond per call
    (the GPP reader had one: a third of `decide` on the bundled rules)."""
    seen = _called_in(bundled, _events(), lambda f: "importlib" in f)
    assert not seen, f"routing an event ran the import machinery: {sorted(seen)}"


def test_formats_reading_the_same_signal_read_it_once(bundled: routeql.RuleSet) -> None:
    # usnat and usca both read the GPP string: one read (inline: no call), one key, used twice
    formats = [f.name for f in bundled.resolver.formats]
    assert {"usnat", "usca"} <= set(formats)
    source = bundled.source
    fast = source[source.index("def fast(e):"):]
    fast = fast[:fast.index("\ndef ")]
    assert "_read" not in fast  # the GPP reader is inline
    keys = [line for line in fast.splitlines() if "('tuple', " in line]
    assert len(keys) == 1, keys
    # and the shared key is still the resolver's signature (the general path's key)
    resolver = bundled.resolver
    gpp = "DBABMA~CPXxRfAPXxRfAAfKABENB-CgAAAAAAAAAAYgAAAAAAAA"
    odd: list[dict[str, Any]] = [
        {"type": "page", "context": {"gpp": gpp, "gpp_sid": sid}} for sid in ([7], "7", 7, None, True, {"x": 1}, [7, "8", None])
    ] + [
        {"type": "page", "context": {"consent": {"gpp": gpp, "gpp_sid": "7"}, "gpp_sid": [2]}},
        {"type": "page", "context": {"gpp": 12, "gpp_sid": "7"}},
        {"type": "page", "context": {"gpp": ["x"]}},
        {"type": "page", "context": {"consent": {"gpp": None}, "gpp": gpp}},
    ]
    for e in _events()[:100] + odd:
        key = bundled._consent_fn(e)
        assert key == resolver.signature(key[0], resolver.read(e))


# ------------------------------------------------------------------ the fast path's own tables

_RULES = """
consent {
  category ads from segment "Advertising"
}
destination d { when type == "track" and userId exists  requires ads }
destination e { when type == "page" }
"""


def _granted(**fields: Any) -> dict[str, Any]:
    return {"type": "track", "event": "A", "userId": "u",
            "context": {"consent": {"categoryPreferences": {"Advertising": True}}}, **fields}


def _answer(rules: routeql.RuleSet, event: Any) -> Any:
    """decide and route, or the class of the error each raises."""
    out = []
    for call in (rules.decide, lambda e: rules.route(e).delivered):
        try:
            out.append(call(event))
        except routeql.RouteQLError as exc:
            out.append(type(exc).__name__)
    return out


def _tables(rules: routeql.RuleSet) -> tuple[dict[Any, Any], dict[Any, Any]]:
    ns = rules.decide.__globals__
    return ns["_DISPATCH"], ns["_ST1"]


def test_a_seen_shape_does_not_vouch_for_a_malformed_twin() -> None:
    # (type, name, keys) as a valid event had them, one value of another class: the
    # dispatch table is keyed by the classes too, so the envelope check still rejects it
    rules = routeql.loads(_RULES)
    assert _answer(rules, _granted()) == [("d",), ("d",)]
    for bad in ([1], {"x": 1}, 1.5, True):
        assert _answer(rules, _granted(userId=bad)) == ["EventError", "EventError"], bad
    # an unhashable name cannot be looked up: the general path says what is wrong
    assert _answer(rules, _granted(event=["A"])) == ["EventError", "EventError"]
    assert _answer(rules, _granted(type=["track"])) == ["EventError", "EventError"]
    assert _answer(rules, _granted()) == [("d",), ("d",)]


def test_the_dispatch_table_is_bounded_and_answers_do_not_change() -> None:
    from routeql.runtime import MAX_DISPATCH

    rules = routeql.loads(_RULES)
    dispatch, _ = _tables(rules)
    for i in range(MAX_DISPATCH + 50):  # one new (type, name) each: a high-cardinality stream
        assert rules.decide(_granted(event=f"e{i}")) == ("d",)
        assert len(dispatch) <= MAX_DISPATCH
    assert 0 < len(dispatch) <= 50  # cleared once when full, then filled again
    assert rules.decide(_granted(userId=None)) == ()


def test_states_by_the_only_format_key_respect_the_cache_size() -> None:
    refused = _granted(context={"consent": {"categoryPreferences": {"Advertising": False}}})
    rules = routeql.loads(_RULES, state_cache_size=0)  # no state is cached: each resolved again
    _, states = _tables(rules)
    for _ in range(3):
        assert _answer(rules, _granted()) == [("d",), ("d",)]
        assert _answer(rules, refused) == [(), ()]
    assert states == {} and rules.resolver.states == {}
    rules = routeql.loads(_RULES, state_cache_size=1)
    _, states = _tables(rules)
    for _ in range(3):
        assert _answer(rules, _granted()) == [("d",), ("d",)]
        assert _answer(rules, refused) == [(), ()]
        assert len(states) <= 1


def test_clear_caches_empties_every_table_and_changes_no_answer() -> None:
    rules = routeql.loads(_RULES)
    events = [_granted(), _granted(event="B"), {"type": "page"},
              _granted(context={"consent": {"categoryPreferences": {"Advertising": "yes"}}})]
    before = [_answer(rules, e) for e in events]
    dispatch, states = _tables(rules)
    assert dispatch and states and rules.resolver.states
    rules.clear_caches()
    assert not dispatch and not states and not rules.resolver.states
    assert [_answer(rules, e) for e in events] == before


def test_a_clean_event_with_a_plan_calls_nothing_in_plans_py(bundled: routeql.RuleSet) -> None:
    """Routing tests the plan's verdict for the event and again for each delivery: the
    verdict is an attribute, not a property (a Python call each time)."""
    assert bundled.has_plans
    clean = [e for e in _events() if bundled.validate(e).clean and bundled.decide(e)]
    assert len(clean) > 20
    seen = _called_in(bundled, clean, lambda f: f.endswith("plans.py"))
    assert not seen, f"routing a clean event called {sorted(seen)} in plans.py"


def test_wide_events_and_huge_names_are_routed_but_not_remembered() -> None:
    # the table holds the keys and the name of each shape: a hostile stream of wide
    # events, or of huge keys or names, must not fill memory with them
    from routeql.runtime import MAX_SHAPE_CHARS, MAX_SHAPE_KEYS

    rules = routeql.loads(_RULES)
    dispatch, _ = _tables(rules)
    rules.clear_caches()
    wide = [_granted(**{f"f{j}_{i}": j for j in range(MAX_SHAPE_KEYS)}) for i in range(20)]
    long_key = [_granted(**{"k" * (MAX_SHAPE_CHARS + i): 1}) for i in range(20)]
    long_name = [_granted(event="n" * (MAX_SHAPE_CHARS + i)) for i in range(20)]
    for e in wide + long_key + long_name:
        assert _answer(rules, e) == [("d",), ("d",)]
        assert _answer(rules, {**e, "userId": [1]}) == ["EventError", "EventError"]
    assert not dispatch
    # a small one is remembered
    assert _answer(rules, _granted(event="n" * 10)) == [("d",), ("d",)]
    assert len(dispatch) == 1


def _truncated(text: str, v4: int, v6: int) -> str | None:
    """What truncating an address means, written out again with ipaddress."""
    import ipaddress

    try:
        addr = ipaddress.ip_address(text.strip())
    except ValueError:
        return None
    net = ipaddress.ip_network((addr, v4 if addr.version == 4 else v6), strict=False)
    return str(net.network_address)


_ADDRESSES = st.one_of(
    st.ip_addresses().map(str),
    st.builds(lambda a, pad: pad + str(a) + pad, st.ip_addresses(), st.sampled_from([" ", "\t", ""])),
    st.text(max_size=20),
    st.sampled_from(["203.0.113.077", "1.2.3", "::ffff:1.2.3.4", "fe80::1%eth0", "256.1.1.1", ""]),
)


@given(texts=st.lists(_ADDRESSES, min_size=1, max_size=6), v4=st.sampled_from([8, 16, 24, 32]),
       v6=st.sampled_from([32, 48, 64, 128]))
def test_remembered_ip_truncations_are_the_computed_ones(texts: list[str], v4: int, v6: int) -> None:
    from routeql.runtime import truncate_ip

    for text in texts + texts:  # each twice: computed, then remembered
        assert truncate_ip(text, v4, v6) == _truncated(text, v4, v6), text


def test_the_ip_memory_is_bounded_and_cleared_with_the_caches() -> None:
    from routeql import runtime

    rules = routeql.loads("destination d { truncate context.ip to /24 }")
    for i in range(runtime.MAX_TRUNCATED_IPS + 50):
        ip = f"10.{i // 65536 % 256}.{i // 256 % 256}.{i % 256}"
        assert rules.route({"type": "page", "context": {"ip": ip}}).deliveries["d"]["context"]["ip"] == ip.rsplit(".", 1)[0] + ".0"
        assert len(runtime.TRUNCATED_IPS) <= runtime.MAX_TRUNCATED_IPS
    assert runtime.TRUNCATED_IPS
    rules.clear_caches()
    assert not runtime.TRUNCATED_IPS


def test_copies_share_scalars_and_refuse_what_is_not_json() -> None:
    rules = routeql.loads("destination d { when type = \"track\" }")  # no keep: a whole copy
    event = {"type": "track", "event": "A", "properties": {"tags": ["a", {"b": 1.5}], "n": None}}
    payload = rules.route(event).deliveries["d"]
    assert payload == event
    assert payload["properties"] is not event["properties"]
    assert payload["properties"]["tags"][1] is not event["properties"]["tags"][1]
    for odd in ({1, 2}, object(), b"x"):
        for where in ({"x": odd}, {"x": [1, odd]}, {"x": {"y": odd}}):
            try:
                rules.route({"type": "track", "event": "A", "properties": where})
            except routeql.EventError as exc:
                assert f"value of type {type(odd).__name__}, which is not JSON" in str(exc)
            else:
                raise AssertionError(f"{where!r} was routed")
