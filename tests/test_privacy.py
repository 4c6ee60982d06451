"""Privacy-safe records: explanations, traces, errors, CLI output and logs never hold a
field value that the rules withheld from every destination.

Events carry unique marker values in fields no destination receives (dropped, not kept,
forbidden by a policy, hashed, only read by a condition, malformed consent signals);
every record RouteQL produces about them is searched for the markers.  ``rejected.jsonl``
is the one exception by design: it holds the rejected input lines themselves, to be
fixed and replayed (docs/security.md).
"""

from __future__ import annotations

import hashlib
import json
import logging
import subprocess
import sys
from pathlib import Path
from typing import Any, Iterator

import pytest

import routeql
from routeql.errors import RouteQLError

RULES = """
consent {
  category analytics   from segment "Analytics", tcf purposes 1
  category advertising from segment "Advertising", onetrust "C0004"
  opt-out advertising by gpc, usp sale
  regime eu opt_in when context.location.country = "DE"
  default regime opt_out
}
classify {
  pii.email = traits.email, context.traits.email
  pii.phone = traits.phone
}
define big_spender = properties.revenue > 100 and properties.tier = "gold"
destination crm tagged crm {
  when userId exists
  keep type, userId, traits.name, traits.email, properties.revenue
  hash pii.email
}
destination ads tagged ads {
  requires advertising
  when big_spender
  keep type, event, properties.revenue
}
destination stats tagged analytics {
  requires analytics
  drop pii.*, traits.secret, traits.address, properties.tier, properties.card, context
  sample 50% by anonymousId
}
policy "no cards anywhere" { forbid properties.card to all }
"""

#: field -> marker; short markers on purpose (a message that quotes short values would show them)
MARKERS = {
    "traits.email": "mkemail7@x.io", "traits.phone": "mkphone7", "traits.secret": "mksecret7",
    "traits.address.street": "mkstreet7", "properties.tier": "mktier7", "properties.card": "mkcard7",
    "context.ip": "mkip7", "context.traits.email": "mkctxmail7@x.io",
}
#: consent signals are fields too: malformed ones must not be quoted back
SIGNAL_MARKERS = {
    "context.gpc": "mkgpc7", "context.consent.tcf": "mktcf7", "context.consent.onetrust": "mkot7",
    "context.consent.us_privacy": "mkusp7", "context.consent.categoryPreferences": "mkprefs7",
}


def put(event: dict[str, Any], path: str, value: Any) -> None:
    node = event
    keys = path.split(".")
    for k in keys[:-1]:
        node = node.setdefault(k, {})
    node[keys[-1]] = value


def marked_event(signals: bool, tier: str | None = None) -> dict[str, Any]:
    event: dict[str, Any] = {"type": "track", "event": "Order Completed", "userId": "u1", "anonymousId": "a1",
                             "messageId": "m1", "traits": {"name": "Ann"}, "properties": {"revenue": 500},
                             "context": {"location": {"country": "DE"}}}
    for path, marker in MARKERS.items():
        put(event, path, marker)
    if tier is not None:
        event["properties"]["tier"] = tier
    if signals:
        for path, marker in SIGNAL_MARKERS.items():
            put(event, path, marker)
    else:
        put(event, "context.consent.categoryPreferences", {"Advertising": True, "Analytics": True})
    return event


ALL_MARKERS = [*MARKERS.values(), *SIGNAL_MARKERS.values()]


def assert_no_marker(text: str, where: str, markers: list[str] = ALL_MARKERS) -> None:
    found = [m for m in markers if m.lower() in text.lower()]
    assert not found, f"{where} shows withheld values {found}"


@pytest.fixture(scope="module")
def rules() -> routeql.RuleSet:
    return routeql.loads(RULES, "privacy.rq")


def records(routing: routeql.Routing) -> Iterator[tuple[str, str]]:
    """Everything a routing can say about itself, but its deliveries."""
    yield "explain()", routing.explain()
    yield "explain(fields=False)", routing.explain(fields=False)
    record = routing.to_dict(trace=True)
    record.pop("deliveries", None)
    yield "to_dict(trace=True)", json.dumps(record, ensure_ascii=False)
    yield "repr", repr(routing)
    yield "skipped", " ".join(f"{k}: {v} {v.to_dict()}" for k, v in routing.skipped.items())
    yield "trace", json.dumps(routing.trace.to_dict(), ensure_ascii=False)
    yield "consent", json.dumps(routing.consent.to_dict(), ensure_ascii=False)


# ------------------------------------------------------------------ the rules do withhold the markers


@pytest.mark.parametrize("consent", [None, {"advertising": True}, {"analytics": False}])
def test_the_markers_reach_no_destination(rules: routeql.RuleSet, consent: Any) -> None:
    for event in (marked_event(False), marked_event(False, tier="gold")):
        routing = rules.route(event, consent)
        assert routing.deliveries, "the rules must deliver something for the test to mean anything"
        assert_no_marker(json.dumps(routing.deliveries), "a delivery")
    crm = rules.route(marked_event(False)).deliveries["crm"]
    assert crm["traits"]["email"] == hashlib.sha256(MARKERS["traits.email"].encode()).hexdigest()


# ------------------------------------------------------------------ explanations and traces


@pytest.mark.parametrize("consent", [None, {"advertising": True}, {"analytics": False, "advertising": False}])
@pytest.mark.parametrize("tier", [None, "gold"])
def test_explanations_and_traces_hold_no_withheld_value(rules: routeql.RuleSet, consent: Any, tier: Any) -> None:
    event = marked_event(False, tier)
    routing = rules.route(event, consent, trace=True)
    for where, text in records(routing):
        assert_no_marker(text, where)
    assert_no_marker(rules.explain(event, consent), "RuleSet.explain")
    outcome = rules.reference(event, consent)
    assert_no_marker(" ".join(str(r) for r in outcome.reasons.values()), "reference reasons")


def test_malformed_consent_signals_are_not_quoted_back(rules: routeql.RuleSet) -> None:
    routing = rules.route(marked_event(True), trace=True)
    assert routing.consent.problems, "the markers are malformed signals"
    for where, text in records(routing):
        assert_no_marker(text, where, list(SIGNAL_MARKERS.values()))


def test_malformed_consent_signals_are_reported_without_long_values(rules: routeql.RuleSet) -> None:
    # what already holds: a long value (a cookie, a TC string) is described by its length
    event = marked_event(False)
    long_marker = "mklongsignal7" * 3
    put(event, "context.consent.tcf", long_marker)
    put(event, "context.gpc", long_marker)
    routing = rules.route(event, trace=True)
    assert {p.format for p in routing.consent.problems} >= {"tcf", "gpc"}
    for where, text in records(routing):
        assert_no_marker(text, where, [long_marker])


# ------------------------------------------------------------------ errors


class Leaky:
    """A value whose every failure message carries a marker."""

    def __eq__(self, other: object) -> bool:
        raise ValueError("mkleaky7")

    def __hash__(self) -> int:
        return 1

    def __repr__(self) -> str:
        return "mkleaky7"


BAD_EVENTS: list[Any] = [
    {"type": "mktype7"},
    {"type": "track", "event": {"x": "mkevent7"}},
    {"type": "track", "event": "e", "userId": ["mkuser7"]},
    {"type": "track", "event": "e", "properties": "mkprops7"},
    {"type": "track", "event": "e", "properties": {"x": {"mkset7"}}},
    {"type": "track", "event": "e", "userId": "u1", "properties": {"revenue": Leaky()}},
    {"type": "track", "event": "e", "userId": "u1", "properties": {"tier": Leaky(), "revenue": 500}},
    {"type": "track", "event": "e", "traits": {"email": b"mkbytes7"}},
    "mkstring7",
    ["mklist7"],
]
BAD_LINES = ['{"type": "page", "x": "mkline7', '{"type": "page", "mkkey7" 1}', b'{"type": "page", "x": "mkutf7\xff"}',
             '["mkarr7"]', '{"type": "page", "mknest7": ' + "[" * 100 + "]" * 100 + "}"]
ERROR_MARKERS = ["mktype7", "mkevent7", "mkuser7", "mkprops7", "mkset7", "mkleaky7", "mkbytes7", "mkstring7",
                 "mklist7", "mkline7", "mkkey7", "mkutf7", "mkarr7", "mknest7"]


def error_texts(e: RouteQLError) -> Iterator[str]:
    yield str(e)
    yield repr(e)
    yield e.message
    for d in e.diagnostics:
        yield d.render()
        yield json.dumps(d.to_dict())


def test_error_messages_hold_no_event_value(rules: routeql.RuleSet) -> None:
    raised = 0
    for event in BAD_EVENTS:
        for call in (rules.route, rules.decide, rules.reference, rules.explain):
            try:
                call(event)
            except RouteQLError as e:
                raised += 1
                for text in error_texts(e):
                    assert_no_marker(text, f"the error of {call.__name__}", ERROR_MARKERS)
    assert raised >= 30
    for r in rules.route_batch([*BAD_EVENTS, *BAD_LINES]):
        assert r.error is not None
        for text in (r.explain(), json.dumps(r.to_dict()), repr(r), *error_texts(r.error)):
            assert_no_marker(text, "a rejected routing", ERROR_MARKERS)


def test_predicate_errors_hold_no_event_value() -> None:
    p = routeql.predicate('properties.tier = "gold"')
    for event in ("mkstring7", ["mklist7"], {"type": "page", "properties": {"tier": Leaky()}}):
        try:
            p(event)
        except RouteQLError as e:
            for text in error_texts(e):
                assert_no_marker(text, "a predicate error", ERROR_MARKERS)


# ------------------------------------------------------------------ logs


def test_logs_hold_no_withheld_value(rules: routeql.RuleSet, caplog: pytest.LogCaptureFixture, tmp_path: Path) -> None:
    from routeql.reload import Reloader

    (tmp_path / "r.rq").write_text(RULES)
    with caplog.at_level(logging.DEBUG):
        with Reloader(tmp_path, interval=None) as reloader:
            for event in (marked_event(False), marked_event(True), *BAD_EVENTS):
                for r in reloader.rules.route_batch([event]):
                    if r.ok:
                        r.explain()
            (tmp_path / "r.rq").write_text(RULES + "destination broken {")
            reloader.reload()
    text = "\n".join(f"{r.getMessage()} {r.exc_text or ''}" for r in caplog.records)
    assert caplog.records, "the reload error is logged"
    assert_no_marker(text, "the logs", ALL_MARKERS + ERROR_MARKERS)


# ------------------------------------------------------------------ the CLI


def run_cli(*args: Any, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "routeql.cli", *map(str, args)], input=stdin,
                          capture_output=True, timeout=120)


def test_cli_route_and_explain_output_holds_no_withheld_value(tmp_path: Path) -> None:
    (tmp_path / "rules.rq").write_text(RULES)
    lines = [json.dumps(marked_event(False)), json.dumps(marked_event(False, "gold")), json.dumps(marked_event(True)),
             *(json.dumps(e) for e in BAD_EVENTS if isinstance(e, (dict, list, str)) and "mkset7" not in str(e)
               and "mkleaky7" not in str(e) and "mkbytes7" not in str(e)),
             *(x.decode("utf-8", "replace") if isinstance(x, bytes) else x for x in BAD_LINES)]
    events = tmp_path / "events.jsonl"
    events.write_text("\n".join(lines) + "\n")
    out = tmp_path / "out"
    markers = [m for m in ALL_MARKERS + ERROR_MARKERS if m not in SIGNAL_MARKERS.values()]
    for fmt in ("text", "json"):
        proc = run_cli("route", tmp_path / "rules.rq", events, "--out", out, "--format", fmt)
        assert proc.returncode == 0, proc.stderr
        assert_no_marker(proc.stdout.decode(), f"route --format {fmt} (stdout)", markers)
        assert_no_marker(proc.stderr.decode(), f"route --format {fmt} (stderr)", markers)
    for f in out.glob("*.jsonl"):
        if f.name != "rejected.jsonl":  # the rejected lines themselves, by design
            assert_no_marker(f.read_text(), f"{f.name}", ALL_MARKERS)
    (tmp_path / "event.json").write_text(json.dumps(marked_event(False, "gold")))
    for args in ([], ["--format", "json", "--consent", "advertising=true"]):
        proc = run_cli("explain", tmp_path / "rules.rq", tmp_path / "event.json", *args)
        assert proc.returncode == 0, proc.stderr
        assert_no_marker(proc.stdout.decode() + proc.stderr.decode(), f"explain {' '.join(args)}", markers)
    (tmp_path / "bad.json").write_text(json.dumps({"type": "track", "event": "e", "userId": ["mkuser7"]}))
    proc = run_cli("explain", tmp_path / "rules.rq", tmp_path / "bad.json")
    assert proc.returncode == 2
    assert_no_marker(proc.stdout.decode() + proc.stderr.decode(), "explain of a malformed event", ERROR_MARKERS)
