"""The fuzz targets: each takes one input and checks RouteQL's contract on it (see harness).

=============== =====================================================================
target          input -> what is checked
=============== =====================================================================
rules_text      rule text -> ``loads`` raises only RouteQLError; compiled rules have
                source that parses and route sample events without other errors
predicate       condition text -> ``predicate`` raises only RouteQLError; the
                predicate answers True/False or raises RouteQLError on any event
event_line      one JSONL line (bytes) -> ``route_batch`` never raises and returns one
                result; the CLI's per-line router agrees on accepted vs rejected
event_object    any Python value as an event, any consent mapping -> route, decide,
                reference, traces, explanations raise only RouteQLError
consent_value   a consent signal (mutated TC/GPP/USP strings, cookies, objects) -> its
                decoder raises only ConsentDecodeError; routing an event carrying it
                never raises (a malformed signal is reported, not raised)
fmt             rule text -> ``format_source`` raises only RouteQLError and is
                idempotent on what it accepts
=============== =====================================================================
"""

from __future__ import annotations

import ast
import functools
import json
import math
from typing import Any, Callable

from hypothesis import strategies as st

import routeql
from routeql.cli._common import OUTPUT_ERRORS, dump_json
from routeql.cli.route import route_line
from routeql.consent import ConsentDecodeError, cookiebot, gcm, gpc, gpp, onetrust, rudderstack, segment, tcf, usprivacy
from routeql.errors import RouteQLError

from . import corpus
from .harness import Finding, Target
from .mutate import mutated
from .values import Hostile, hostile_consent, hostile_events, hostile_values, json_edge

__all__ = ["TARGETS", "CONSENT_RULES", "bundled", "consent_rules", "sample_events"]

#: Every signal format, so routing exercises every decoder (docs/consent.md).
CONSENT_RULES = """
consent {
  category analytics   from segment "Analytics", rudderstack "C0002", onetrust "C0002", tcf purposes 1 7,
                            gcm analytics_storage, cookiebot statistics
  category advertising from segment "Advertising", rudderstack "C0004", onetrust "C0004", tcf purposes 1 2 3 4,
                            gcm ad_user_data ad_personalization, cookiebot marketing
  category sensitive   from usnat sensitive 1 2, usca sensitive 1, tcf special_features 1
  opt-out advertising by gpc, usp sale, usnat sale sharing targeted_advertising, usca sale sharing, onetrust gpc
  regime eu opt_in  when context.location.country in ["DE", "FR"]
  regime us opt_out when context.location.country = "US"
  default regime opt_in
}
classify { pii.email = traits.email, context.traits.email }
destination ads tagged ads { requires advertising  requires tcf vendor 755  hash pii.email }
destination stats { requires analytics  drop pii.* }
destination geo { requires any of sensitive, analytics  keep type, context.location }
destination open { }
policy p { forbid pii.* to tagged ads unless consent analytics }
"""


@functools.lru_cache(maxsize=None)
def bundled() -> routeql.RuleSet:
    return routeql.load(corpus.ROOT / "rules")


@functools.lru_cache(maxsize=None)
def consent_rules() -> routeql.RuleSet:
    # tiny caches: every fuzz run also exercises eviction
    return routeql.loads(CONSENT_RULES, "consent.rq", decode_cache_size=2, state_cache_size=2)


@functools.lru_cache(maxsize=None)
def sample_events() -> tuple[dict[str, Any], ...]:
    """Events to push through rule sets a target compiled: examples with every shape."""
    evs = [json.loads(line) for line in corpus.event_lines()[:24:3]]
    evs += [
        {"type": "track", "event": "Order Completed", "userId": "u1", "properties": {"revenue": 5, "products": [{"sku": "a"}]},
         "traits": {"email": "x@y.io"}, "context": {"ip": "203.0.113.9", "location": {"country": "DE"},
                                                      "consent": {"categoryPreferences": {"Advertising": True}}}},
        {"type": "identify", "userId": 7, "traits": {"email": " A@B.C ", "phone": "1"}, "integrations": {"All": False}},
        {"type": "page", "name": None, "properties": {"x": [1, [2, {"y": None}]]}, "context": {"gpc": True}},
    ]
    return tuple(evs)


# ------------------------------------------------------------------ shared checks


def route_everything(rules: routeql.RuleSet, event: Any, consent: Any = None) -> None:
    """Every way of routing one event; only RouteQLError may escape any of them."""
    try:
        r = rules.route(event, consent)
    except RouteQLError:
        r = None
    if r is not None:
        explain(r)
        try:
            if rules.decide(event, consent) != r.delivered:
                raise Finding("wrong", "decide() and route() disagree on the destinations")
        except RouteQLError:
            raise Finding("wrong", "decide() raised where route() routed") from None
    try:
        rules.reference(event, consent)
    except RouteQLError:
        pass
    batch = rules.route_batch([event, event], consent)
    if len(batch) != 2:
        raise Finding("lost", f"route_batch returned {len(batch)} results for 2 events")
    for b in batch:
        if (r is None) != (b.error is not None):
            raise Finding("wrong", "route_batch and route disagree on whether the event is bad")
        if b.ok:
            explain(b)


def explain(r: routeql.Routing) -> None:
    """A routing that succeeded can always be explained (the trace is computed lazily)."""
    try:
        r.skipped
        r.explain()
        r.to_dict(trace=True)
    except RouteQLError as e:
        raise Finding("explain", f"route() succeeded but explaining it raised {type(e).__name__}: {e.message[:200]}") from None


def _text(data: bytes) -> str:
    return data.decode("utf-8", "replace")


# ------------------------------------------------------------------ rules_text


def check_rules_text(text: str) -> None:
    try:
        rules = routeql.loads(text, "fuzz.rq", salts={"s": "x"})
    except RouteQLError:
        return
    try:
        ast.parse(rules.source)
    except SyntaxError as e:
        raise Finding("codegen", f"generated source does not parse: {e}") from None
    for event in sample_events()[-10:]:  # a few of each shape: the time bound covers the compile too
        route_everything(rules, event)


def _rule_strategy() -> st.SearchStrategy[str]:
    from tests.strategies import rule_sets

    texts = corpus.rule_texts()
    whole = [t for t in texts if len(t) > 5000]
    return st.one_of(mutated(texts), mutated(whole, 10), rule_sets().flatmap(lambda t: mutated([t], 4)),
                     st.text(max_size=200))


# ------------------------------------------------------------------ predicate


def check_predicate(text: str) -> None:
    try:
        p = routeql.predicate(text)
    except RouteQLError:
        return
    for event in sample_events()[:8]:
        try:
            answer = p(event)
        except RouteQLError:
            continue
        if answer is not True and answer is not False:
            raise Finding("wrong", f"a predicate returned {type(answer).__name__}, not a bool")


def _predicate_strategy() -> st.SearchStrategy[str]:
    from tests.strategies import conditions

    return st.one_of(mutated(corpus.conditions()), conditions().flatmap(lambda c: mutated([c], 3)), st.text(max_size=80))


# ------------------------------------------------------------------ event_line


def check_event_line(line: bytes) -> None:
    for rules in (bundled(), consent_rules()):
        batch = rules.route_batch([line])
        if len(batch) != 1:
            raise Finding("lost", f"route_batch returned {len(batch)} results for one line")
        r = batch[0]
        if r.ok:
            explain(r)
            json.dumps(r.to_dict(trace=True))
        routing, problem = route_line(rules, line)
        if (routing is None) == (problem is None):
            raise Finding("lost", "the CLI neither routed nor rejected a line")
        if routing is not None and routing.delivered != r.delivered:
            raise Finding("wrong", "the CLI and route_batch route a line differently")
        if routing is not None:
            for name, payload in routing.deliveries.items():
                # what `routeql route --out` writes (UTF-8, OUTPUT_ERRORS) must read back the same
                line = dump_json(payload)
                written = line.encode("utf-8", OUTPUT_ERRORS).decode("utf-8")
                if json.loads(written) != json.loads(line):
                    raise Finding("wrong", f"the line written for {name} does not read back as the payload")


@st.composite
def _json_lines(draw: st.DrawFn) -> bytes:
    """A JSON document around edge values (deep, wide, NaN, huge numbers, surrogates)."""
    value = draw(json_edge)
    event = draw(st.sampled_from([json.loads(x) for x in corpus.event_lines()[:20]]))
    key = draw(st.sampled_from(["properties", "traits", "context", "extra"]))
    doc = dict(event, **{key: {"v": value}}) if draw(st.booleans()) else value
    try:
        return json.dumps(doc, ensure_ascii=draw(st.booleans())).encode("utf-8", "surrogatepass")
    except (ValueError, RecursionError):
        return b"{}"


def _line_strategy() -> st.SearchStrategy[bytes]:
    lines = corpus.event_lines()
    return st.one_of(mutated(lines), mutated(lines, 12), _json_lines(), st.binary(max_size=200))


# ------------------------------------------------------------------ event_object


def check_event_object(value: tuple[Any, Any]) -> None:
    event, consent = value
    for rules in (bundled(), consent_rules()):
        route_everything(rules, event, consent)


def _object_strategy() -> st.SearchStrategy[tuple[Any, Any]]:
    from tests.strategies import events

    return st.tuples(hostile_events(events()), st.one_of(st.none(), st.none(), hostile_consent))


# ------------------------------------------------------------------ consent_value

#: format -> (decoder, where routing reads it)
DECODERS: dict[str, tuple[Callable[[Any], Any], tuple[str, ...]]] = {
    "tcf": (tcf.decode, ("context", "consent", "tcf")),
    "gpp": (gpp.decode, ("context", "consent", "gpp")),
    "gpp_section": (lambda v: gpp.decode_section(*v) if isinstance(v, tuple) and len(v) == 2 else gpp.decode_section("usnat", v),
                    ("context", "gpp")),
    "usprivacy": (usprivacy.decode, ("context", "consent", "us_privacy")),
    "onetrust": (onetrust.decode, ("context", "consent", "onetrust")),
    "cookiebot": (cookiebot.decode, ("context", "consent", "cookiebot")),
    "gpc": (gpc.decode, ("context", "gpc")),
    "gcm": (gcm.decode, ("context", "consent", "gcm")),
    "gcs": (gcm.decode_gcs, ("context", "consent", "gcm")),
    "segment": (segment.decode, ("context", "consent")),
    "rudderstack": (rudderstack.decode, ("context", "consentManagement")),
}


def _is_json(v: Any, depth: int = 0) -> bool:
    if depth > 50:
        return False
    c = v.__class__
    if c is dict:
        return all(k.__class__ is str and _is_json(x, depth + 1) for k, x in v.items())
    if c is list:
        return all(_is_json(x, depth + 1) for x in v)
    return v is None or c in (str, int, bool) or (c is float and math.isfinite(v))


def _holds_hostile(v: Any) -> bool:
    stack, seen = [v], 0
    while stack and seen < 10_000:
        x = stack.pop()
        seen += 1
        if isinstance(x, Hostile):
            return True
        if x.__class__ is dict:
            stack += [*x.keys(), *x.values()]
        elif x.__class__ in (list, tuple):
            stack += list(x)
    return False


def check_consent_value(value: tuple[str, Any]) -> None:
    fmt, raw = value
    decode, path = DECODERS[fmt]
    if not _holds_hostile(raw):  # objects that break Python's own protocols are only routed (below)
        try:
            decode(raw)
        except ConsentDecodeError:
            pass
    signal = raw[1] if fmt == "gpp_section" and isinstance(raw, tuple) else raw
    event: dict[str, Any] = {"type": "track", "event": "Order Completed", "traits": {"email": "a@b.c"},
                             "context": {"location": {"country": "DE"}}}
    node = event
    for key in path[:-1]:
        node = node.setdefault(key, {})
    node[path[-1]] = signal
    for rules in (consent_rules(), bundled()):
        try:
            r = rules.route(event)
        except RouteQLError as e:
            if _is_json(signal):
                raise Finding("contract", f"a {fmt} signal made routing raise instead of being reported: {e}") from None
            continue
        explain(r)


@st.composite
def _consent_strategy(draw: st.DrawFn) -> tuple[str, Any]:
    seeds = corpus.consent_values()
    fmt = draw(st.sampled_from(sorted(DECODERS)))
    kind = draw(st.integers(0, 9))
    if kind == 0:
        return fmt, draw(hostile_values)
    if fmt == "gpp_section":
        section, raw = draw(st.sampled_from(seeds["gpp_section"]))
        return fmt, (draw(st.sampled_from([section, "usnat", "usca", "uspv1", "tcfeuv2", 7, 99, -1])), draw(mutated([raw])))
    pool = seeds.get(fmt) or seeds.get("gcm" if fmt == "gcs" else fmt, ())
    strings = [s for s in pool if isinstance(s, str)]
    if strings and kind < 8:
        return fmt, draw(mutated(strings, 4))
    objects = [s for s in pool if isinstance(s, dict)]
    base = draw(st.sampled_from(objects)) if objects else {}
    key = draw(st.one_of(st.sampled_from(sorted(base) or ["x"]), st.text(max_size=8)))
    return fmt, dict(base, **{key: draw(st.one_of(json_edge, hostile_values, st.lists(st.text(max_size=6), max_size=4)))})


def _consent_seeds() -> list[bytes]:
    return [json.dumps([fmt, v]).encode() for fmt, vals in corpus.consent_values().items() if fmt in DECODERS
            for v in vals if isinstance(v, str)]


def _consent_raw(data: bytes) -> tuple[str, Any]:
    try:
        fmt, value = json.loads(data)
        if fmt in DECODERS:
            return fmt, value
    except (ValueError, TypeError, RecursionError):
        pass
    names = sorted(DECODERS)
    return names[data[0] % len(names)] if data else "tcf", _text(data[1:])


# ------------------------------------------------------------------ fmt


def check_fmt(text: str) -> None:
    try:
        from routeql.fmt import format_source
    except ImportError:
        return
    from routeql.errors import RouteQLSyntaxError

    try:
        once = format_source(text, "fuzz.rq")
    except RouteQLSyntaxError:
        return
    except RouteQLError as e:  # fmt checks its own output: this is fmt failing on good input
        raise Finding("wrong", f"fmt failed on text that parses: {e.message[:300]}") from None
    try:
        twice = format_source(once, "fuzz.rq")
    except RouteQLError as e:
        raise Finding("wrong", f"fmt output does not format again: {e.message[:200]}") from None
    if twice != once:
        raise Finding("wrong", "fmt is not idempotent")


TARGETS: dict[str, Target] = {
    t.name: t
    for t in (
        Target("rules_text", "rule text -> loads, compile, route", _rule_strategy, check_rules_text, _text,
               lambda: [t.encode() for t in corpus.rule_texts()]),
        Target("predicate", "condition text -> predicate, apply", _predicate_strategy, check_predicate, _text,
               lambda: [c.encode() for c in corpus.conditions()]),
        Target("event_line", "JSONL line -> route_batch, CLI line router", _line_strategy, check_event_line,
               lambda b: b, corpus.event_lines),
        Target("event_object", "hostile Python events and consent -> every routing entry point", _object_strategy,
               check_event_object),
        Target("consent_value", "consent signals -> decoders, routing", _consent_strategy, check_consent_value,
               _consent_raw, _consent_seeds),
        Target("fmt", "rule text -> format_source, twice", lambda: mutated(corpus.rule_texts()), check_fmt, _text,
               lambda: [t.encode() for t in corpus.rule_texts()]),
    )
}
