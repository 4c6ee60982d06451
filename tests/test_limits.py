"""Limits (docs/security.md): every bound on input size, nesting and time, at its edge.

Events: size and depth of serialized events (Options.max_event_bytes, max_event_depth),
dict events deeper than Python's recursion limit, cyclic events.  Rules: file size,
literal sizes, nesting (routeql.parse MAX_*).  Regular expressions: linear time.  The
CLI: payloads over Options.max_payload_bytes are not written.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any, Callable

import pytest

import routeql
from fuzz.harness import TooSlow, cpu_seconds, time_bound
from fuzz.values import cyclic, deep, deep_dict
from routeql.engine import Options
from routeql.errors import EventError, RouteQLError
from routeql.parse import MAX_NESTING, MAX_NUMBER_DIGITS, MAX_SOURCE_CHARS, MAX_STRING_CHARS

BASE = {"type": "track", "event": "Order Completed", "userId": "u1", "properties": {"revenue": 10},
        "context": {"source": "acme-shop", "location": {"country": "US"}}}


def rejected(rules: routeql.RuleSet, line: str | bytes) -> str:
    """The per-event error message route_batch gives a serialized event (it must give one)."""
    [r] = rules.route_batch([line])
    assert r.error is not None and isinstance(r.error, EventError)
    return r.error.message


# ------------------------------------------------------------------ events: size and depth


def test_defaults_are_documented_values() -> None:
    o = Options()
    assert (o.max_event_bytes, o.max_event_depth, o.max_payload_bytes) == (1 << 20, 64, 1 << 20)


def test_event_at_the_size_limit_is_accepted_one_byte_more_is_rejected() -> None:
    rules = routeql.loads("destination d { }", max_event_bytes=200)
    head = '{"type":"page","p":"'
    fits = head + "x" * (200 - len(head) - 2) + '"}'
    assert len(fits.encode()) == 200
    [ok] = rules.route_batch([fits])
    assert ok.delivered == ("d",)
    over = head + "x" * (200 - len(head) - 1) + '"}'
    assert rejected(rules, over) == "event is 201 bytes, over the limit of 200 bytes"
    # bytes are counted, not characters: 'é' is two bytes in UTF-8
    assert "over the limit" in rejected(rules, head + "é" * 90 + '"}')


def test_default_event_size_limit(bundled: routeql.RuleSet) -> None:
    line = json.dumps(dict(BASE, properties={"blob": "x" * (1 << 20)}))
    assert f"over the limit of {1 << 20} bytes" in rejected(bundled, line)


def test_size_is_checked_before_parsing(bundled: routeql.RuleSet) -> None:
    # 50 MB of garbage is turned away by its size, at once, without being parsed
    garbage = b"[" * (50 << 20)
    start = cpu_seconds()
    message = rejected(bundled, garbage)
    assert "over the limit" in message and cpu_seconds() - start < 1.0


def test_event_at_the_depth_limit_is_accepted_one_level_more_is_rejected() -> None:
    rules = routeql.loads("destination d { }", max_event_depth=5)
    # the event object is level 1: properties level 2, then 3 more nested objects
    ok = {"type": "page", "properties": {"a": {"b": {"c": {}}}}}
    assert rules.route_batch([json.dumps(ok)])[0].delivered == ("d",)
    too_deep = {"type": "page", "properties": {"a": {"b": {"c": {"d": {}}}}}}
    assert rejected(rules, json.dumps(too_deep)) == "event nests deeper than 5 levels"
    lists = {"type": "page", "properties": {"a": [[[[1]]]]}}
    assert rejected(rules, json.dumps(lists)) == "event nests deeper than 5 levels"


def test_default_depth_limit(bundled: routeql.RuleSet) -> None:
    line = json.dumps(dict(BASE, properties={"x": deep(64)}))
    assert rejected(bundled, line) == "event nests deeper than 64 levels"
    assert bundled.route_batch([json.dumps(dict(BASE, properties={"x": deep(61)}))])[0].ok


def test_nesting_beyond_the_json_parsers_recursion(bundled: routeql.RuleSet) -> None:
    # a line of 200,000 '[' is under the size limit; the parser would recurse past Python's stack
    assert rejected(bundled, "[" * 200_000) == "event nests deeper than 64 levels"
    assert rejected(bundled, '{"a":' * 100_000 + "1" + "}" * 100_000) == "event nests deeper than 64 levels"


def test_huge_integer_literal_is_rejected_with_its_own_reason(bundled: routeql.RuleSet) -> None:
    line = '{"type":"page","properties":{"n":' + "1" * 5000 + "}}"
    message = rejected(bundled, line)
    assert "nest" not in message and ("number" in message or "digits" in message or "integer" in message)


@pytest.mark.parametrize("token", ["NaN", "Infinity", "-Infinity", "1e999"])
def test_non_json_numbers_are_rejected(bundled: routeql.RuleSet, token: str) -> None:
    rejected(bundled, '{"type":"page","properties":{"n":' + token + "}}")


# ------------------------------------------------------------------ events: Python objects


DEEP = sys.getrecursionlimit() * 3
ENTRY_POINTS: dict[str, Callable[[routeql.RuleSet, Any], Any]] = {
    "route": lambda r, e: r.route(e),
    "reference": lambda r, e: r.reference(e),
    "trace": lambda r, e: r.route(e, trace=True),
    "explain": lambda r, e: r.explain(e),
    "lazy trace": lambda r, e: r.route(e).explain(),
}


@pytest.mark.parametrize("where", [("properties", "deep"), ("traits", "deep"), ("context", "gpc"), ("context", "consent"),
                                   ("context", "traits", "email")])
@pytest.mark.parametrize("value", ["list", "dict", "cycle"])
def test_dict_events_deeper_than_the_recursion_limit(bundled: routeql.RuleSet, where: tuple[str, ...], value: str) -> None:
    event: dict[str, Any] = json.loads(json.dumps(BASE))
    node = event
    for key in where[:-1]:
        node = node.setdefault(key, {})
    node[where[-1]] = {"list": lambda: deep(DEEP), "dict": lambda: deep_dict(DEEP), "cycle": lambda: cyclic("dict")}[value]()
    for name, call in ENTRY_POINTS.items():
        with pytest.raises(EventError, match="nested too deeply"):
            call(bundled, event)
    # decide() builds no payload, so it may route the event without walking the deep part;
    # if it does walk it, the answer is the same EventError
    try:
        bundled.decide(event)
    except EventError as e:
        assert "nested too deeply" in e.message
    [r] = bundled.route_batch([event])
    assert isinstance(r.error, EventError)


def test_deep_event_in_a_predicate() -> None:
    p = routeql.predicate("properties.deep = properties.deep")
    with pytest.raises(EventError, match="nested too deeply"):
        p(dict(BASE, properties={"deep": deep(DEEP)}))


# ------------------------------------------------------------------ rules


def _codes(text: str) -> list[str]:
    try:
        routeql.loads(text)
    except RouteQLError as e:
        return [d.code for d in e.diagnostics]
    return []


def _limit_diagnostic(text: str) -> routeql.Diagnostic:
    with pytest.raises(RouteQLError) as e:
        routeql.loads(text, "limits.rq")
    [d] = [d for d in e.value.diagnostics if d.code == "RQ105"]
    assert d.span.file == "limits.rq" and d.span.line >= 1
    return d


def test_rule_file_size_limit() -> None:
    head = "destination d { }\n"
    fits = head + "#" * (MAX_SOURCE_CHARS - len(head))
    assert len(fits) == MAX_SOURCE_CHARS and _codes(fits) == []
    start = cpu_seconds()
    d = _limit_diagnostic(fits + "#")
    assert "larger than" in d.message and cpu_seconds() - start < 1.0


def test_string_literal_limit() -> None:
    # the limit counts the literal as written, quotes included
    assert _codes(f'destination d {{ when event = "{"x" * (MAX_STRING_CHARS - 2)}" }}') == []
    d = _limit_diagnostic(f'destination d {{\n  when event = "{"x" * (MAX_STRING_CHARS - 1)}" }}')
    assert (d.span.line, d.span.col) == (2, 16) and "string literal longer than" in d.message


def test_number_literal_limit() -> None:
    assert _codes(f"destination d {{ when properties.n = {'1' * MAX_NUMBER_DIGITS} }}") == []
    d = _limit_diagnostic(f"destination d {{ when properties.n = {'1' * (MAX_NUMBER_DIGITS + 1)} }}")
    assert d.span.col == 37 and "number literal" in d.message


def test_float_literals_must_be_finite() -> None:
    assert _codes("destination d { when properties.n < 1.7e308 }") == []
    assert "RQ105" in _codes("destination d { when properties.n < 1e309 }")


@pytest.mark.parametrize("open_, close", [("(", ")"), ("[", "]")])
def test_rule_nesting_limit(open_: str, close: str) -> None:
    def text(depth: int) -> str:
        inner = "userId exists" if open_ == "(" else "1"
        cond = open_ * depth + inner + close * depth
        return f"destination d {{ when {cond} }}" if open_ == "(" else f"destination d {{ when properties.x in {cond} }}"

    assert _codes(text(MAX_NESTING)) == []
    d = _limit_diagnostic(text(MAX_NESTING + 1))
    assert "nesting deeper than" in d.message


def test_long_flat_rules_compile_in_linear_time() -> None:
    # the parser, checker and generator are linear: 4x the terms costs about 4x the time
    def compile_time(n: int) -> float:
        text = "destination d { when " + " or ".join(f"properties.x = {i}" for i in range(n)) + " }"
        start = cpu_seconds()
        routeql.loads(text)
        return cpu_seconds() - start

    compile_time(50)  # warm the parser
    small, large = compile_time(100), compile_time(400)
    assert large < 10 * small + 0.5


# ------------------------------------------------------------------ regular expressions and globs

#: Patterns that make a backtracking engine (Python's re) take exponential time on input
#: of the form "aaaa...a!", and the input.  RE2 matches in time linear in the input.
CATASTROPHIC = ["(a+)+$", "(a|aa)+$", "(a*)*$", "^(a|a?)+$", "(\\w+\\s?)*$", "(.*a){12}"]
HOSTILE = "a" * 50_000 + "!"


@pytest.mark.parametrize("pattern", CATASTROPHIC)
def test_regex_is_linear_time(pattern: str) -> None:
    rules = routeql.loads(f'destination d {{ when properties.s matches regex "{pattern}" }}')
    event = dict(BASE, properties={"s": HOSTILE})
    # 1 CPU second is generous (RE2 takes a few ms here on a laptop; a backtracking engine
    # would run for longer than the age of the universe); the alarm turns a hang into a failure
    for call in (lambda: rules.decide(event), lambda: rules.reference(event)):
        start = cpu_seconds()
        try:
            with time_bound(5.0):
                call()
        except TooSlow:
            pytest.fail(f"{pattern!r} did not finish in 5 s")
        assert cpu_seconds() - start < 1.0


def test_glob_is_linear_time() -> None:
    rules = routeql.loads('destination d { when properties.s matches "*a*a*a*a*a*a*a*a*a*b" }')
    start = cpu_seconds()
    assert rules.decide(dict(BASE, properties={"s": HOSTILE})) == ()
    assert cpu_seconds() - start < 1.0


@pytest.mark.parametrize("pattern", ["(a)\\\\1", "(?=a)", "(?<=a)b", "a{1001}", "((a{100}){100}){100}"])
def test_regex_features_that_need_backtracking_are_check_errors(pattern: str) -> None:
    assert _codes(f'destination d {{ when properties.s matches regex "{pattern}" }}') == ["RQ303"]


# ------------------------------------------------------------------ the CLI's payload limit


def test_cli_does_not_write_payloads_over_the_limit(tmp_path: Path) -> None:
    # hashing turns each short value into 64 hex digits: a 40 kB event makes a 1.3 MB payload
    rules = tmp_path / "r.rq"
    rules.write_text("destination big { hash properties.l }\ndestination small { keep type }\n")
    events = tmp_path / "e.jsonl"
    big = {"type": "page", "properties": {"l": [0] * 20_000}}
    events.write_text(json.dumps(big) + "\n" + json.dumps({"type": "page", "properties": {"l": [1]}}) + "\n")
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, "-m", "routeql.cli", "route", str(rules), str(events), "--out", str(out),
                           "--format", "json", "--no-reasons"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    assert summary["destinations"]["big"]["payloads_over_limit"] == 1
    assert f"payload for big is over {1 << 20} bytes: not written" in proc.stderr
    written = (out / "big.jsonl").read_text().splitlines()
    assert len(written) == 1 and json.loads(written[0])["properties"]["l"] != [1]
    assert len((out / "small.jsonl").read_text().splitlines()) == 2


# ------------------------------------------------------------------ docs/security.md stays true


def test_security_doc_names_only_real_tests_and_real_limits() -> None:
    import re

    from fuzz.harness import TIME_BOUND
    from tests.conftest import ROOT

    doc = (ROOT / "docs" / "security.md").read_text(encoding="utf-8")
    defined = {m for f in (ROOT / "tests").glob("test_*.py") for m in re.findall(r"^def (test_\w+)", f.read_text(), re.M)}
    named = set(re.findall(r"`(?:tests/\w+\.py::)?(test_\w+)`", doc))
    assert len(named) > 60 and not named - defined, f"docs/security.md names tests that do not exist: {named - defined}"
    for f in re.findall(r"`(tests/test_\w+\.py)", doc):
        assert (ROOT / f).is_file(), f
    o = Options()
    assert f"{o.max_event_bytes >> 20} MiB (`Options.max_event_bytes`)" in doc
    assert f"{o.max_event_depth} levels (`Options.max_event_depth`)" in doc
    assert f"{o.max_payload_bytes >> 20} MiB (`Options.max_payload_bytes`)" in doc
    assert f"{MAX_SOURCE_CHARS:,} characters" in doc and f"{MAX_STRING_CHARS:,} characters" in doc
    assert f"{MAX_NUMBER_DIGITS} characters (`MAX_NUMBER_DIGITS`)" in doc and f"{MAX_NESTING} levels (`MAX_NESTING`)" in doc
    assert f"{o.decode_cache_size} decoded strings" in doc and f"{o.state_cache_size} states" in doc
    assert f"{TIME_BOUND:g} CPU seconds per input" in doc
