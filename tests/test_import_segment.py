"""``routeql import segment``: FQL and its IR as RouteQL conditions, Segment filters as rule sets.

Every vector of ``tests/data/vectors/tsub-vectors.json`` and ``fql-vectors.json`` runs here,
through harnesses that read only the keys the reference documents (``kind``,
``ir_or_config``, ``event``, ``expected``, ``fql``, ``ir``, ``actions``), so a larger set
of the same schemas runs unchanged.

Where a vector records what tsub-js does and Segment's documentation says otherwise, the
test expects the **documented** behaviour.  The documented semantics are an oracle below
(``fql_eval``); each tsub-js behaviour the documentation contradicts is a named quirk
that can be switched on in it.  A vector whose expectation differs from the documented
one must be explained by exactly such a quirk, and every quirk is listed in
``docs/cli/import.md``.
"""

from __future__ import annotations

import copy
import json
import math
import random
import re
import subprocess
import sys
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import routeql
from routeql.errors import EventError, RouteQLError
from routeql.importers import tree as T
from routeql.importers.errors import FilterError, FQLSyntaxError, IRError, UnsupportedError
from routeql.importers.fql import lex, parse
from routeql.importers.keeps import MAX_CONDITIONAL_ALLOWS, SPEC_FIELDS
from routeql.importers.segment import (
    convert,
    convert_report,
    fql_to_ir,
    fql_to_predicate,
    ir_to_predicate,
    matcher_to_predicate,
)
from routeql.runtime import EVENT_TYPES, FUNCTIONS, compile_glob, validate_event
from tests.conftest import ROOT, load_vectors, route_both

DATA = ROOT / "tests" / "data" / "segment"
DOC = ROOT / "docs" / "cli" / "import.md"
TSUB = load_vectors("tsub-vectors.json")
FQL = load_vectors("fql-vectors.json")


def of_kind(vectors: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [v for v in vectors if v.get("kind") == kind]


def vid(v: dict[str, Any]) -> str:
    text = v.get("fql") or json.dumps(v.get("ir_or_config"), ensure_ascii=False)
    return f"{v.get('source', '?').rsplit('/', 1)[-1]} {text[:60]}"


# ====================================================================== the documented semantics

UNDEFINED = object()  # JavaScript's undefined: tsub-js has it, documented FQL has only null


class Throws(Exception):
    """The FQL is invalid: tsub-js throws, RouteQL's import raises a RouteQLError."""


class PathRef(str):
    """A bare string inside a list literal, which tsub-js reads as a path."""


#: tsub-js behaviours that Segment's documentation contradicts.  Each name is a heading
#: in docs/cli/import.md ("Deviations").
QUIRKS = {
    "missing-is-undefined": "a missing field is undefined, not null",
    "in-list-strings-are-paths": "bare strings in an `in` list (and items of a list read from a path) are paths",
    "typeof-js-names": "typeof() returns JavaScript's names",
    "length-utf16": "length() counts UTF-16 code units",
    "object-equality-by-json-text": "objects and lists compare by their JSON text",
    "js-truthiness": "and/or/! take JavaScript truthiness of function results",
    "in-non-list-throws": "`in` throws when the right side holds no list",
    "nested-functions-unevaluated": "a function call inside contains/match/in/lowercase/length/typeof is not evaluated",
}


def _kind(v: Any) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, (int, float)):
        return "number"
    if isinstance(v, str):
        return "string"
    if isinstance(v, list):
        return "list"
    if isinstance(v, dict):
        return "object"
    return "undefined"


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def fql_eval(ir: Any, event: Any, quirks: frozenset[str] = frozenset()) -> bool:
    """Evaluate compiled FQL as Segment documents it (each quirk switches one tsub-js behaviour on).

    An independent reading of the reference, written for the tests: the importer is
    checked against it, never the other way round.
    """

    def get(path: str) -> Any:
        cur = event
        for i, seg in enumerate(path.split(".")):
            if isinstance(cur, dict) and not (i and seg.isdigit()) and seg in cur:
                cur = cur[seg]
            elif isinstance(cur, list) and i and seg.isdigit() and int(seg) < len(cur):
                cur = cur[int(seg)]
            else:
                return UNDEFINED if "missing-is-undefined" in quirks else None
        return cur

    def unwrap(v: Any) -> Any:
        if isinstance(v, list):
            out = []
            for x in v:
                if isinstance(x, dict) and set(x) == {"value"}:
                    out.append(unwrap(x["value"]))
                elif isinstance(x, str) and "in-list-strings-are-paths" in quirks:
                    out.append(PathRef(x))
                else:
                    out.append(unwrap(x))
            return out
        return v

    def value(x: Any, evaluate: bool = True) -> Any:
        if isinstance(x, list):
            if not evaluate and "nested-functions-unevaluated" in quirks:
                return x  # tsub-js passes the IR array itself
            return ev(x)
        if isinstance(x, dict):
            if "value" not in x:
                raise Throws
            return unwrap(x["value"])
        if isinstance(x, str):
            return get(x)
        raise Throws

    def same(a: Any, b: Any) -> bool:
        if a is UNDEFINED or b is UNDEFINED:
            return a is b
        if "object-equality-by-json-text" in quirks and isinstance(a, (list, dict)) and isinstance(b, (list, dict)):
            return json.dumps(a) == json.dumps(b)
        ka, kb = _kind(a), _kind(b)
        if ka != kb:
            return False
        if ka == "list":
            return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
        if ka == "object":
            return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
        return bool(a == b)

    def truth(x: Any) -> bool:
        if isinstance(x, list):
            r = ev(x)
            if "js-truthiness" in quirks:
                return r not in (None, False, 0, "", UNDEFINED) and not (isinstance(r, float) and math.isnan(r))
            return r is True
        return value(x) is True

    def ev(ir: list[Any]) -> Any:
        if not ir or not isinstance(ir[0], str):
            raise Throws
        op, args = ir[0], ir[1:]
        want = {"!": 1, "=": 2, "!=": 2, "<": 2, "<=": 2, ">": 2, ">=": 2, "in": 2, "contains": 2, "match": 2}
        want.update({f: 1 for f in ("lowercase", "uppercase", "snakecase", "kebabcase", "titlecase", "typeof",
                                    "length", "bool", "string", "number")})
        if op not in ("and", "or") and (op not in want or len(args) != want[op]):
            raise Throws
        if op == "!":
            return not truth(args[0])
        if op == "and":
            return all(truth(a) for a in args)
        if op == "or":
            return any(truth(a) for a in args)
        # tsub-js evaluates nested IR only for =, != and ordering, and only function calls there.
        evaluate = op in ("=", "!=", "<", "<=", ">", ">=")
        vals = [value(a, evaluate or not _is_function_ir(a)) for a in args]
        if op in ("=", "!="):
            return same(*vals) == (op == "=")
        if op in ("<", "<=", ">", ">="):
            a, b = vals
            if not (_is_number(a) and _is_number(b)):
                return False
            return {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op]
        if op == "in":
            item, lst = vals
            if isinstance(args[1], dict) and not isinstance(lst, list):
                raise Throws  # `x in 'abc'`: not valid FQL
            if not isinstance(lst, list) and "in-non-list-throws" in quirks:
                raise Throws
            if not isinstance(lst, list) or isinstance(item, (list, dict)):
                return False
            if "in-list-strings-are-paths" in quirks and isinstance(args[1], str):
                lst = [PathRef(x) if isinstance(x, str) else x for x in lst]
            for x in lst:
                x = get(x) if isinstance(x, PathRef) else x
                if not isinstance(x, (list, dict)) and same(item, x):
                    return True
            return False
        if op == "contains":
            a, b = vals
            return isinstance(a, str) and isinstance(b, str) and b in a
        if op == "match":
            a, p = vals
            if not (isinstance(a, str) and isinstance(p, str)):
                return False
            try:
                return compile_glob(p)(a)
            except ValueError:
                return False
        (a,) = vals
        if op == "typeof":
            if "typeof-js-names" in quirks:
                return {"null": "object", "list": "object", "bool": "boolean"}.get(_kind(a), _kind(a))
            return _kind(a)
        if op == "length":
            if a is None:
                return 0
            if isinstance(a, str):
                return len(a.encode("utf-16-le")) // 2 if "length-utf16" in quirks else len(a.encode("utf-8"))
            if isinstance(a, list):
                return len(a)
            return float("nan") if "length-utf16" in quirks else None
        if op in ("lowercase", "uppercase"):
            return (a.lower() if op == "lowercase" else a.upper()) if isinstance(a, str) else None
        return FUNCTIONS[op][0](None if a is UNDEFINED else a)

    if ir is None or ir == "":
        return False
    if not isinstance(ir, list):
        return value(ir) is True
    result = ev(ir)
    return result if isinstance(result, bool) else False


def _is_function_ir(x: Any) -> bool:
    return isinstance(x, list) and bool(x) and x[0] in ("lowercase", "length", "typeof", "contains", "match")


def matcher_eval(matcher: dict[str, Any], event: Any, quirks: frozenset[str] = frozenset()) -> bool:
    """A tsub matcher {type, ir | ir_raw} under the documented semantics."""
    if matcher.get("type") == "all":
        return True
    if matcher.get("type") != "fql":
        raise Throws
    if "ir_raw" in matcher:
        if not matcher["ir_raw"]:
            return False
        try:
            ir = json.loads(matcher["ir_raw"])
        except ValueError:
            raise Throws from None
    else:
        ir = matcher.get("ir")
    return fql_eval(ir, event, quirks)


def outcome(fn: Callable[[], bool]) -> Any:
    """True, False, or {"throws": True}, the way the vectors write it."""
    try:
        return fn()
    except (Throws, RouteQLError):
        return {"throws": True}


def explaining_quirk(expected: Any, fn: Callable[[frozenset[str]], bool]) -> str | None:
    """The one quirk under which the documented semantics give the vector's expectation."""
    for q in QUIRKS:
        if outcome(lambda: fn(frozenset({q}))) == expected:
            return q
    return None


# ====================================================================== tsub-js match vectors


def ours_for_matcher(m: dict[str, Any], event: Any) -> bool:
    """Convert a vector's matcher as Segment ships it (the IR as JSON text), then evaluate it."""
    matcher = {"type": m.get("type"), "ir": m["ir_raw"] if "ir_raw" in m else json.dumps(m.get("ir"))}
    text = matcher_to_predicate(matcher)
    # tsub-js evaluates any payload; a RouteQL predicate reads a JSON object.
    return routeql.predicate(text)(event if isinstance(event, dict) else {})


@pytest.mark.parametrize("v", of_kind(TSUB, "match"), ids=vid)
def test_tsub_match_vector(v: dict[str, Any]) -> None:
    m, event, expected = v["ir_or_config"], v["event"], v["expected"]
    ours = outcome(lambda: ours_for_matcher(m, event))
    documented = outcome(lambda: matcher_eval(m, event if isinstance(event, dict) else {}))
    assert ours == documented
    if documented != expected:
        quirk = explaining_quirk(expected, lambda q: matcher_eval(m, event if isinstance(event, dict) else {}, q))
        assert quirk is not None, f"we give {documented!r}, tsub-js {expected!r}, and no documented deviation says why"
        assert f"`{quirk}`" in DOC.read_text(encoding="utf-8")
    if "ir" in m and m.get("type") == "fql":
        # the IR itself, through the public function
        assert outcome(lambda: routeql.predicate(ir_to_predicate(m["ir"]))(event if isinstance(event, dict) else {})) \
            == documented


def test_typeof_returns_documented_names_not_javascripts() -> None:
    # tsub-vectors: `"boolean" = typeof(true)` is true in tsub-js.  Segment documents
    # typeof() as one of "string" | "number" | "list" | "bool" | "null"; we follow it
    # (deviation `typeof-js-names`), so the JavaScript name never matches.
    assert ir_to_predicate(["=", {"value": "boolean"}, ["typeof", {"value": True}]]) == "false"
    assert routeql.predicate(fql_to_predicate("typeof(properties.ok) = 'bool'"))({"properties": {"ok": True}})
    assert routeql.predicate(fql_to_predicate("typeof(properties.l) = 'list'"))({"properties": {"l": []}})
    assert routeql.predicate(fql_to_predicate("typeof(properties.n) = 'null'"))({})


def test_in_list_elements_are_constants_not_paths() -> None:
    # tsub-vectors: ["in", {"value":"track"}, {"value":["event","type"]}] is true in tsub-js,
    # which reads the bare strings as paths (`type` is "track").  Segment documents list
    # literals; we follow it (deviation `in-list-strings-are-paths`).
    text = ir_to_predicate(["in", {"value": "track"}, {"value": ["event", "type"]}])
    assert routeql.predicate(text)({"event": "Blah", "type": "track"}) is False
    assert routeql.predicate(ir_to_predicate(["in", "a", {"value": ["event", "type"]}]))({"a": "type"})


def test_in_a_path_to_a_list_is_membership() -> None:
    # Documented: 'dark-mode' in properties.features.  tsub-js returns false (same quirk).
    p = routeql.predicate(ir_to_predicate(["in", {"value": "dark-mode"}, "properties.features"]))
    assert p({"properties": {"features": ["discounts", "dark-mode"]}})
    assert not p({"properties": {"features": "dark-mode"}})
    assert not p({})


def test_missing_means_null() -> None:
    # Documented (length(null) = 0, the "drop if no userId" example); tsub-js has
    # `undefined` (deviation `missing-is-undefined`).
    assert routeql.predicate(fql_to_predicate("userId = null"))({})
    assert not routeql.predicate(fql_to_predicate("userId != null"))({})
    assert routeql.predicate(fql_to_predicate("length( userId ) < 1"))({})


def test_length_counts_utf8_bytes() -> None:
    # Documented: 'a' is 1, 'ア' is 3.  tsub-js counts UTF-16 units (deviation `length-utf16`).
    p = routeql.predicate(fql_to_predicate("length(name) = 3"))
    assert p({"name": "ア"}) and p({"name": "abc"}) and not p({"name": "ab"})
    assert routeql.predicate(fql_to_predicate("length(properties.l) = 2"))({"properties": {"l": [1, 2]}})
    assert routeql.predicate(fql_to_predicate("length(properties.o) = null"))({"properties": {"o": {"a": 1}}})


def test_objects_compare_by_content_not_key_order() -> None:
    # tsub-js compares objects by their JSON text, so key order matters (deviation
    # `object-equality-by-json-text`); FQL's `=` is a comparison of values.
    a = {"value": {"a": 1, "b": 2}}
    assert ir_to_predicate(["=", a, {"value": {"b": 2, "a": 1}}]) == "true"
    with pytest.raises(UnsupportedError, match="object literals"):
        ir_to_predicate(["=", "properties.o", a])


def test_functions_of_constants_are_folded() -> None:
    assert ir_to_predicate(["=", {"value": 4}, ["length", {"value": "TEST"}]]) == "true"
    assert ir_to_predicate(["=", {"value": 2}, ["length", {"value": [{"value": 1}, {"value": 2}]}]]) == "true"
    assert ir_to_predicate(["=", {"value": "list"}, ["typeof", {"value": []}]]) == "true"
    assert fql_to_predicate("lowercase('ABC') = 'abc' and snakecase('a b') = 'a_b'") == "true"


def test_non_boolean_operands_must_be_literally_true() -> None:
    # `and`/`or`/`!` take booleans (documented); tsub-js uses JavaScript truthiness of a
    # function's result (deviation `js-truthiness`).
    assert ir_to_predicate(["and", ["length", "userId"], {"value": True}]) == "false"
    assert ir_to_predicate(["!", ["lowercase", "event"]]) == "true"
    assert ir_to_predicate(["or", "flag", {"value": False}]) == "flag = true"


# ----------------------------------------------------------------- random IR against the oracle

_PATHS = ["a", "b", "a.b", "l", "type", "event", "userId", "properties.x", "properties.l.0"]
_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-3, 3), st.sampled_from([0.5, 2.0]),
                     st.sampled_from(["", "a", "A b", "ab", "x y", "track", "page", "ア", "a*", "[", "a?"]))
_LITERAL = st.one_of(_SCALARS, st.lists(_SCALARS, max_size=3))


def _lit(v: Any) -> dict[str, Any]:
    return {"value": [{"value": x} for x in v] if isinstance(v, list) else v}


def _ir_values() -> st.SearchStrategy[Any]:
    leaf = st.one_of(st.sampled_from(_PATHS), _LITERAL.map(_lit))
    return st.recursive(leaf, lambda inner: st.one_of(
        st.tuples(st.sampled_from(["lowercase", "uppercase", "length", "typeof", "snakecase"]), inner).map(list),
        st.tuples(st.sampled_from(["=", "!=", "<", "<=", ">", ">=", "in", "contains"]), inner, inner).map(list),
        st.tuples(st.just("match"), inner, _SCALARS.map(_lit)).map(list),
        st.tuples(st.just("!"), inner).map(list),
        st.lists(inner, min_size=0, max_size=3).flatmap(lambda xs: st.sampled_from([["and", *xs], ["or", *xs]])),
    ), max_leaves=8)


_EVENTS = st.fixed_dictionaries(
    {"type": st.sampled_from(sorted(EVENT_TYPES)), "event": st.sampled_from(["a", "A b", "track"])},
    optional={"a": st.one_of(_LITERAL, st.dictionaries(st.sampled_from(["b"]), _SCALARS)),
              "b": _LITERAL, "l": st.lists(_SCALARS, max_size=3), "userId": st.one_of(st.none(), st.text(max_size=3)),
              "properties": st.fixed_dictionaries({}, optional={"x": _LITERAL, "l": st.lists(_SCALARS, max_size=2)})})


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_ir_values(), _EVENTS)
def test_random_ir_means_what_segment_documents(ir: Any, event: dict[str, Any]) -> None:
    validate_event(event)
    documented = outcome(lambda: fql_eval(ir, event))
    try:
        text = ir_to_predicate(ir)
    except UnsupportedError:
        assume(False)
        return
    except RouteQLError:
        assert documented == {"throws": True}
        return
    assert routeql.predicate(text)(event) == documented, text


# ====================================================================== tsub-js transform vectors

_ABSENT = object()


def segment_input(v: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """The vector's transformers (or rules) as CDN settings, and the destination routed to."""
    cfg = copy.deepcopy(v["ir_or_config"])
    # The destination routed to, if the vector names one (analytics-next's `integration`).
    dest = next((val for k, val in v.items() if isinstance(val, str) and val
                 and re.search(r"integration|destination", k, re.I)), None)
    if isinstance(cfg, dict) and isinstance(cfg.get("rules", cfg.get("routingRules")), list):
        dest = dest or next((val for k, val in cfg.items() if isinstance(val, str) and val
                             and re.search(r"integration|destination", k, re.I)), None)
        cfg = cfg.get("rules", cfg.get("routingRules"))
    if isinstance(cfg, dict) and "matchers" in cfg:
        cfg = [cfg]
    if isinstance(cfg, list) and cfg and all(isinstance(r, dict) and "matchers" in r for r in cfg):
        rules = cfg
        dest = dest or next((r["destinationName"] for r in cfg if r.get("destinationName")), "Vector Destination")
    else:
        dest = dest or "Vector Destination"
        rules = [{"destinationName": dest, "matchers": [{"type": "all", "ir": ""}], "transformers": [cfg]}]
    return {"integrations": {dest: {}}, "middlewareSettings": {"routingRules": rules}}, dest


def ident(rules: routeql.RuleSet, dest: str) -> str:
    [name] = [d.name for d in rules.model.destinations if dest in d.aliases or d.name == dest]
    return name


def route_as_segment(rules: routeql.RuleSet, name: str, event: Any) -> Any:
    """Route a vector's event.  RouteQL routes Segment events, so an event with no valid
    ``type`` (or a track with no ``event``) gets one for routing, taken off the payload again."""
    if not isinstance(event, dict):
        with pytest.raises(EventError):
            rules.route(event)
        return None  # RouteQL rejects it: nothing is delivered
    ev, added = copy.deepcopy(event), {}
    if ev.get("type") not in EVENT_TYPES:
        added["type"], ev["type"] = ev.get("type", _ABSENT), "track"
    if ev["type"] == "track" and not isinstance(ev.get("event"), str):
        added["event"], ev["event"] = ev.get("event", _ABSENT), "Vector Event"
    out = route_both(rules, ev).deliveries.get(name)
    if out is not None:
        for k, old in added.items():
            if k in out:
                if old is _ABSENT:
                    del out[k]
                else:
                    out[k] = old
    return out


def _targets(obj: Any, path: str) -> Iterator[dict[str, Any]]:
    """Objects at a dotted path; a list on the way applies to each element."""
    nodes = [obj]
    for seg in path.split(".") if path else []:
        nxt: list[Any] = []
        for n in nodes:
            for x in (n if isinstance(n, list) else [n]):
                if isinstance(x, dict) and seg in x:
                    nxt.append(x[seg])
        nodes = nxt
    for n in nodes:
        for x in (n if isinstance(n, list) else [n]):
            if isinstance(x, dict):
                yield x


SAMPLED = object()  # a fractional sample: delivered or not, depending on the sampling key


def segment_transform(event: Any, transformers: list[dict[str, Any]], sampled: list[bool] | None = None) -> Any:
    """What Segment's transformers do (tsub-js), for drop, sample, drop & allow properties.

    map_properties and hash_properties are skipped: RouteQL does not support them.  A
    fractional sample cannot be predicted: ``sampled`` gets a True appended.
    """
    out = copy.deepcopy(event)
    for t in transformers:
        kind, cfg = t["type"], t.get("config") or {}
        if kind == "drop":
            return None
        if kind in ("sample", "sample_event"):
            p = cfg["sample"]["percent"]
            if p <= 0:
                return None
            if p < 1:
                assert sampled is not None, "only certain sampling has one answer"
                sampled.append(True)
        if kind in ("drop_properties", "allow_properties"):
            spec = cfg["drop" if kind == "drop_properties" else "allow"]
            for path, keys in spec.items():
                for obj in list(_targets(out, path)):
                    for k in list(obj):
                        if (k in keys) == (kind == "drop_properties"):
                            del obj[k]
    return out


def spec_only(expected: Any, transformers: list[dict[str, Any]]) -> Any:
    """``expected`` without the fields our documented allow-properties approximation does not
    deliver: beside each allow-listed object, fields outside the Segment Spec."""
    if not isinstance(expected, dict):
        return expected
    out = copy.deepcopy(expected)
    for t in transformers:
        if t.get("type") != "allow_properties":
            continue
        for path in (t.get("config") or {}).get("allow", {}):
            segs = path.split(".") if path else []
            for i, seg in enumerate(segs):
                for obj in _targets(out, ".".join(segs[:i])):
                    for k in list(obj):
                        if k != seg and k not in SPEC_FIELDS.get(tuple(segs[:i]), ()):
                            del obj[k]
    return out


def _transformers(inp: dict[str, Any]) -> list[dict[str, Any]]:
    return [t for r in inp["middlewareSettings"]["routingRules"] for ts in r["transformers"] for t in ts]


def check_sampling_property(inp: dict[str, Any], dest: str) -> None:
    """Deterministic by the value at the path, and nested: what p keeps, every p' > p keeps."""
    inp = copy.deepcopy(inp)
    [t] = [t for t in _transformers(inp) if t["type"] in ("sample", "sample_event")]
    path = t["config"]["sample"].get("path") or "messageId"
    rng = random.Random(20)
    values = [rng.random() for _ in range(60)] + [f"user-{i}" for i in range(60)]

    def event(value: Any) -> dict[str, Any]:
        e: dict[str, Any] = {"type": "track", "event": "Sampled"}
        cur = e
        segs = path.split(".")
        for s in segs[:-1]:
            cur = cur.setdefault(s, {})
        cur[segs[-1]] = value
        return e

    kept: list[set[int]] = []
    for pct in [i / 10 for i in range(11)]:
        t["config"]["sample"]["percent"] = pct
        rules = routeql.loads(convert(inp), "sample.rq")
        name = ident(rules, dest)
        got = {i for i, val in enumerate(values) if name in route_both(rules, event(val)).deliveries}
        again = {i for i, val in enumerate(values) if name in rules.route(event(val)).deliveries}
        assert got == again  # the same value gets the same answer
        kept.append(got)
    assert kept[0] == set() and kept[-1] == set(range(len(values)))
    assert all(a <= b for a, b in zip(kept, kept[1:]))  # nested
    assert 0.3 < len(kept[5]) / len(values) < 0.7


@pytest.mark.parametrize("v", of_kind(TSUB, "transform"), ids=vid)
def test_tsub_transform_vector(v: dict[str, Any]) -> None:
    inp, dest = segment_input(v)
    expected = v["expected"]
    if expected == {"throws": True}:
        with pytest.raises(RouteQLError):
            convert(inp)
        return
    if isinstance(expected, dict) and set(expected) == {"property"}:
        check_sampling_property(inp, dest)
        return
    report = convert_report(inp)
    rules = routeql.loads(report.source, "vector.rq")
    got = route_as_segment(rules, ident(rules, dest), v["event"])
    transformers = _transformers(inp)
    if any(t["type"] == "map_properties" for t in transformers):
        # map_properties has no RouteQL equivalent: it is reported and not applied.
        assert "# unsupported: map_properties" in report.source
        assert any("map_properties" in u for u in report.unsupported)
        assert got == segment_transform(v["event"], transformers)
        return
    if got != expected:
        # The documented approximation of allow_properties: nothing else may differ.
        assert got == spec_only(expected, transformers), report.source
        assert report.notes


def test_routing_rules_apply_to_their_destination_only() -> None:
    # analytics-next routing-middleware test: a rule for Google Tag Manager leaves Google Analytics alone.
    rule = {"matchers": [{"ir": '["=","event",{"value":"Item Impression"}]', "type": "fql"}],
            "scope": "destinations", "target_type": "workspace::project::destination",
            "transformers": [[{"type": "drop"}]], "destinationName": "Google Tag Manager"}
    rules = routeql.loads(convert({"integrations": {"Google Analytics": {}}, "routingRules": [rule]}))
    r = route_both(rules, {"type": "track", "event": "Item Impression"})
    assert set(r.deliveries) == {"google_analytics"}
    assert r.skipped["google_tag_manager"].stage == "when"
    assert set(route_both(rules, {"type": "track", "event": "Other"}).deliveries) == {"google_analytics",
                                                                                      "google_tag_manager"}


# ====================================================================== fql-vectors.json


def paths_in(e: T.Expr) -> set[str]:
    if isinstance(e, T.Path):
        return {".".join(str(s) for s in e.segments)}
    if isinstance(e, T.Lit):
        return set()
    kids = e.args if isinstance(e, T.Call) else (e.left, e.right) if isinstance(e, (T.Cmp, T.In)) else \
        (e.operand,) if isinstance(e, T.Not) else e.items
    return set().union(*(paths_in(k) for k in kids)) if kids else set()


SIMPLE = {  # tsub-js fixtures/simple.json, as the vectors record it
    "anonymousId": "23adfd82-aa0f-45a7-a756-24f2a7a4c895", "event": "Course Clicked", "type": "track",
    "context": {"library": {"name": "analytics.js", "version": "2.11.1"}, "ip": "108.0.78.21",
                "page": {"path": "/academy/", "title": "Analytics Academy"}},
    "integrations": {}, "messageId": "ajs-f8ca1e4de5024d9430b3928bd8ac6b96",
    "properties": {"title": "Intro to Analytics", "firstName": "Mark", "phoneNumber": "123-456-7890"},
    "timestamp": "2015-12-12T19:11:01.249Z", "userId": "AiUGstSDIg",
}
PROBE_VALUES = [None, True, False, 0, 4, 6, 1.5, "", "Test", "TEST", "track", "test@test.com", "Button Clicked",
                "ア", [], [1, 2], ["event", "str"], ["discounts", "dark-mode"], {"a": 1}, _ABSENT]


def literals_in(e: T.Expr) -> list[Any]:
    """The constants an expression compares with (probing with them reaches both outcomes)."""
    if isinstance(e, T.Lit):
        return [e.value] + (list(e.value) if isinstance(e.value, list) else [])
    if isinstance(e, T.Path):
        return []
    kids = e.args if isinstance(e, T.Call) else (e.left, e.right) if isinstance(e, (T.Cmp, T.In)) else \
        (e.operand,) if isinstance(e, T.Not) else e.items
    return [x for k in kids for x in literals_in(k)]


def probe_events(paths: set[str], extra: list[Any] = (), base: dict[str, Any] | None = None  # type: ignore[assignment]
                 ) -> Iterator[dict[str, Any]]:
    """A handful of valid Segment events: the base, and each path set to each probe value."""
    base = base or SIMPLE
    yield copy.deepcopy(base)
    for path in sorted(paths):
        segs = path.split(".")
        for value in [*PROBE_VALUES, *extra]:
            e = copy.deepcopy(base)
            cur = e
            ok = True
            for s in segs[:-1]:
                nxt = cur.get(s) if isinstance(cur, dict) else None
                if not isinstance(nxt, dict):
                    if not isinstance(cur, dict):
                        ok = False
                        break
                    nxt = cur[s] = {}
                cur = nxt
            if not ok or not isinstance(cur, dict):
                continue
            if value is _ABSENT:
                cur.pop(segs[-1], None)
            else:
                cur[segs[-1]] = copy.deepcopy(value)
            try:
                validate_event(e)
            except EventError:
                continue
            yield e


@pytest.mark.parametrize("v", of_kind(FQL, "fql_to_ir"), ids=vid)
def test_fql_to_ir_pair(v: dict[str, Any]) -> None:
    from_fql = routeql.predicate(fql_to_predicate(v["fql"]))
    from_ir = routeql.predicate(ir_to_predicate(v["ir"]))
    tree = parse(v["fql"])
    paths = paths_in(tree) | (paths_in(T.from_ir(v["ir"])) if v["ir"] not in ("", None) else set())
    for e in probe_events(paths, literals_in(tree)):
        assert from_fql(e) == from_ir(e), e
    # and our own compiler gives an IR with the same meaning as Segment's
    assert ir_to_predicate(fql_to_ir(v["fql"])) == ir_to_predicate(v["ir"])


def test_fql_to_ir_follows_segments_compiler() -> None:
    # Right-nested chains (the CDN settings fixture), list literals wrapped element-wise.
    assert fql_to_ir('event = "munanyo" and type = "track" and properties.referrer = "munyaaaanyo"') == [
        "and", ["=", "event", {"value": "munanyo"}],
        ["and", ["=", "type", {"value": "track"}], ["=", "properties.referrer", {"value": "munyaaaanyo"}]]]
    assert fql_to_ir("[1, 2] = [1, 2]") == ["=", {"value": [{"value": 1}, {"value": 2}]},
                                            {"value": [{"value": 1}, {"value": 2}]}]
    assert fql_to_ir("(a = 1 or b = 2) and !c") == ["and", ["or", ["=", "a", {"value": 1}], ["=", "b", {"value": 2}]],
                                                   ["!", "c"]]


@pytest.mark.parametrize("v", of_kind(FQL, "fql_eval"), ids=vid)
def test_fql_eval(v: dict[str, Any]) -> None:
    assert routeql.predicate(fql_to_predicate(v["fql"]))(v["event"]) is v["expected"]


def fql_literal(x: Any) -> str:
    """A constant in FQL syntax (FQL strings have no escapes: pick a quote the text lacks)."""
    if x is None:
        return "null"
    if isinstance(x, bool):
        return "true" if x else "false"
    if isinstance(x, (int, float)):
        return repr(x)
    if isinstance(x, str):
        quote = "'" if "'" not in x else '"'
        assert quote not in x
        return f"{quote}{x}{quote}"
    return "[" + ", ".join(fql_literal(i) for i in x) + "]"


@pytest.mark.parametrize("v", of_kind(FQL, "fql_value"), ids=vid)
def test_fql_value(v: dict[str, Any]) -> None:
    lit = fql_literal(v["expected"])
    assert routeql.predicate(fql_to_predicate(f"{v['fql']} = {lit}"))(v.get("event") or {}) is True
    assert routeql.predicate(fql_to_predicate(f"{v['fql']} != {lit}"))(v.get("event") or {}) is False


_API_KINDS = {"DROP": "drop", "DROP_EVENT": "drop", "SAMPLE": "sample", "SAMPLE_EVENT": "sample",
              "DROP_PROPERTIES": "drop_properties", "BLOCKLIST_FIELDS": "drop_properties",
              "ALLOW_PROPERTIES": "allow_properties", "WHITELIST_FIELDS": "allow_properties"}


def _api_fields(a: dict[str, Any]) -> dict[str, list[str]]:
    return {p: ks["fields"] if isinstance(ks, dict) else ks for p, ks in (a.get("fields") or {}).items()}


def _api_transformers(actions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Public API actions as tsub transformers, in Segment's order: sample, drop, drop & allow properties."""
    order = ["sample", "drop", "drop_properties", "allow_properties"]
    out = []
    for a in sorted(actions, key=lambda a: order.index(_API_KINDS[a["type"].upper()])):
        kind = _API_KINDS[a["type"].upper()]
        if kind == "drop":
            out.append({"type": "drop"})
        elif kind == "sample":
            out.append({"type": "sample", "config": {"sample": {"percent": a["percent"], "path": a.get("path")}}})
        else:
            out.append({"type": kind, "config": {kind.split("_")[0]: _api_fields(a)}})
    return out


@pytest.mark.parametrize("v", of_kind(FQL, "fql_filter_example"), ids=vid)
def test_fql_filter_example(v: dict[str, Any]) -> None:
    f = {"if": v["fql"], "actions": v["actions"], "destinationName": "Example", "title": "example"}
    report = convert_report(f)
    rules = routeql.loads(report.source, "example.rq")
    matches = routeql.predicate(fql_to_predicate(v["fql"]))
    transformers = _api_transformers(v["actions"])
    fields = {".".join(filter(None, [p, k])) for a in v["actions"] for p, ks in _api_fields(a).items() for k in ks}
    tree = parse(v["fql"]) if v["fql"].strip() != "all" else T.Lit(True)
    paths = paths_in(tree) | fields
    matched = set()
    for e in probe_events(paths, literals_in(tree)):
        sampled: list[bool] = []
        want = segment_transform(e, transformers, sampled) if matches(e) else e
        got = route_both(rules, e).deliveries.get("example")
        if sampled and got is None:
            continue  # not in the sample: fine, the sampler decides
        assert got == want or got == spec_only(want, transformers), (e, report.source)
        matched.add(matches(e))
    if v["fql"].strip() != "all":
        assert matched == {True, False}  # the probes exercise both outcomes


def test_documented_filter_examples_behave() -> None:
    drop_anonymous = routeql.loads(convert({"if": "length( userId ) < 1", "actions": [{"type": "DROP"}],
                                            "destinationName": "D"}))
    assert route_both(drop_anonymous, {"type": "page"}).deliveries == {}
    assert route_both(drop_anonymous, {"type": "page", "userId": ""}).deliveries == {}
    assert "d" in route_both(drop_anonymous, {"type": "page", "userId": "u1"}).deliveries
    no_user = routeql.loads(convert({"if": "all", "actions": [{"type": "DROP_PROPERTIES", "fields": {"": ["userId"]}}],
                                     "destinationName": "D"}))
    assert route_both(no_user, {"type": "page", "userId": "u1", "name": "Home"}).deliveries["d"] == {
        "type": "page", "name": "Home"}


@pytest.mark.parametrize("v", of_kind(FQL, "fql_lex"), ids=vid)
def test_fql_lex(v: dict[str, Any]) -> None:
    expected = v["expected"]
    if isinstance(expected, dict) and expected.get("error"):
        with pytest.raises(RouteQLError) as info:
            lex(v["fql"])
        assert isinstance(info.value, FQLSyntaxError)
        m = re.search(r"line (\d+), column (\d+)", v.get("note", ""))
        if m:  # fql-ts counts lines from 0 and columns from 1
            span = info.value.diagnostics[0].span
            assert (span.line, span.col) == (int(m.group(1)) + 1, int(m.group(2)))
        with pytest.raises(RouteQLError):
            fql_to_predicate(v["fql"])
    else:
        assert [[t.kind, t.value] for t in lex(v["fql"])] == expected


#: fql-ts's parser serves Segment's filter builder UI and knows only these two functions.
FQL_TS_UI_FUNCTIONS = {"contains", "match"}


def calls_in(e: T.Expr) -> set[str]:
    if isinstance(e, T.Call):
        return {e.name}.union(*(calls_in(a) for a in e.args))
    kids = (e.left, e.right) if isinstance(e, (T.Cmp, T.In)) else (e.operand,) if isinstance(e, T.Not) else \
        e.items if isinstance(e, (T.And, T.Or)) else ()
    return set().union(*(calls_in(k) for k in kids)) if kids else set()


@pytest.mark.parametrize("v", of_kind(FQL, "fql_parse"), ids=vid)
def test_fql_parse(v: dict[str, Any]) -> None:
    if not v["expected"].get("error"):
        routeql.predicate(fql_to_predicate(v["fql"]))
        return
    try:
        text = fql_to_predicate(v["fql"])
    except RouteQLError:
        return
    # Documented deviation: fql-ts's UI parser knows only contains() and match(); Segment's
    # language (and this import) has every documented function.
    assert calls_in(parse(v["fql"])) - FQL_TS_UI_FUNCTIONS, f"accepted {v['fql']!r} with no documented reason"
    routeql.predicate(text)


# ====================================================================== FQL details


@pytest.mark.parametrize("fql,event,expected", [
    ("properties.product\\ 1.price = '19.99'", {"properties": {"product 1": {"price": "19.99"}}}, True),
    ("context.a\\.b = 1", {"context": {"a.b": 1}}, True),
    ("context.a\\.b = 1", {"context": {"a": {"b": 1}}}, False),
    ("properties.products.0.sku = 'x'", {"properties": {"products": [{"sku": "x"}]}}, True),
    ("properties.consent = true", {"properties": {"consent": True}}, True),
    ("match( 'ab*d', 'ab\\*d' )", {}, True),
    ("name = 'say \"hi\"'", {"name": 'say "hi"'}, True),
    ('name = "it\'s"', {"name": "it's"}, True),
    ("name = 'back\\slash'", {"name": "back\\slash"}, True),
    ("name = 'two\nlines'", {"name": "two\nlines"}, True),
    ("event = 'a' or event = 'b' and type = 'page'", {"event": "a", "type": "track"}, True),
    ("(event = 'a' or event = 'b') and type = 'page'", {"event": "a", "type": "track"}, False),
    ("!(type in ['track', 'identify'])", {"type": "page"}, True),
    ("'dark-mode' in properties.features", {"properties": {"features": ["dark-mode"]}}, True),
    ("properties.a < properties.b", {"properties": {"a": "a", "b": "b"}}, False),
    ("properties.a < properties.b", {"properties": {"a": 1, "b": 2}}, True),
    ("properties.a > 5", {"properties": {"a": "9"}}, False),
    ("contains(properties.tags, 'x')", {"properties": {"tags": ["x"]}}, False),
    ("contains(properties.tags, 'x')", {"properties": {"tags": "xyz"}}, True),
    ("lowercase(event) = 'order'", {"event": "ORDER"}, True),
    ("uppercase(event) = 'ORDER'", {"event": "order"}, True),
    ("snakecase(event) = 'order_completed'", {"event": "Order Completed"}, True),
    ("titlecase(event) = 'Order Completed'", {"event": "order completed"}, True),
    ("typeof(userId) = 'string'", {"userId": "u"}, True),
    ("type = 'Track'", {"type": "track"}, False),
    ("event = 5", {"event": "5"}, False),
    ("trueValue", {"trueValue": True}, True),
    ("trueValue", {"trueValue": "true"}, False),
    ("!trueValue", {}, True),
    ("-1 < +2.5", {}, True),
    ("null = null", {}, True),
    ("match(event, '[')", {"event": "["}, False),
    ("type = 'track' and ( event = 'Click' or match( 'Button *', event ) )", {"type": "track",
                                                                           "event": "Button Clicked"}, True),
    ("all", {}, True),
])
def test_fql_semantics(fql: str, event: dict[str, Any], expected: bool) -> None:
    assert routeql.predicate(fql_to_predicate(fql))(event) is expected


def test_paths_and_strings_are_escaped_for_routeql() -> None:
    assert fql_to_predicate("properties.product\\ 1.price = 'a\\*b'") == 'properties.`product 1`.price = "a\\\\*b"'
    assert fql_to_predicate("properties.in = 1") == "properties.in = 1"
    assert fql_to_predicate("context.consent.x = true") == "context.`consent`.x = true"
    assert ir_to_predicate(["=", "a.b`c", {"value": 'q"\\'}]) == 'a.`b\\`c` = "q\\"\\\\"'


def test_every_grammar_keyword_is_quoted_in_paths() -> None:
    from routeql.importers.emit import KEYWORDS

    assert {"consent", "in", "when", "true", "not", "matches"} <= KEYWORDS
    for word in sorted(KEYWORDS):
        p = routeql.predicate(ir_to_predicate(["and", ["!=", word, {"value": None}], ["=", f"x.{word}", {"value": 1}]]))
        assert p({word: {"a": 1}, "x": {word: 1}}) and not p({"x": {word: 1}}), word
    rules = [{"destinationName": "D", "matchers": [{"type": "fql", "ir": json.dumps(["=", f"x.{w}", {"value": 1}])}],
              "transformers": [[{"type": "drop_properties", "config": {"drop": {"x": [w]}}}]]} for w in sorted(KEYWORDS)]
    routed = routeql.loads(convert({"routingRules": rules}))
    for word in sorted(KEYWORDS):
        got = route_both(routed, track(x={word: 1, "y": 2})).deliveries["d"]
        assert got["x"] == {"y": 2}, word


_NO_SURROGATES = st.text(max_size=30).filter(lambda s: not any(0xD800 <= ord(c) <= 0xDFFF for c in s))


@given(_NO_SURROGATES)
@settings(max_examples=100, deadline=None)
def test_any_string_round_trips(s: str) -> None:
    p = routeql.predicate(ir_to_predicate(["=", "properties.s", {"value": s}]))
    assert p({"properties": {"s": s}}) and not p({"properties": {"s": s + "x"}})


@given(_NO_SURROGATES.filter(lambda k: "." not in k and not k.isdigit()))
@settings(max_examples=100, deadline=None)
def test_any_key_round_trips(k: str) -> None:
    p = routeql.predicate(ir_to_predicate(["=", ["lowercase", f"properties.{k}"], {"value": "v"}]))
    assert p({"properties": {k: "V"}}) and not p({"properties": {k + "x": "V"}})


@pytest.mark.parametrize("fql,line,col,code,message", [
    ("event = 'x", 1, 9, "RQ102", "unterminated string"),
    ("event = 'x' and\n  amount > 30.30.30", 2, 17, "RQ101", "multiple decimal points"),
    ("random(50)", 1, 1, "RQ208", "unknown function 'random'"),
    ("contains(a)", 1, 1, "RQ300", "contains() takes 2 arguments"),
    ("event = 'a' event", 1, 13, "RQ100", "unexpected 'event'"),
    ("event =", 1, 8, "RQ100", "expected a value"),
    ("(event = 'a'", 1, 13, "RQ100", "expected ')'"),
    ("", 1, 1, "RQ100", "cannot be empty"),
    ("abc/", 1, 4, "RQ101", "unexpected character '/'"),
    ("event = $x", 1, 9, "RQ101", "invalid character '$'"),
    ("type in ['a', b]", 1, 15, "RQ110", "list elements must be constants"),
    ("! event", 1, 1, "RQ101", "'!' must be followed by"),
])
def test_fql_errors_point_at_the_text(fql: str, line: int, col: int, code: str, message: str) -> None:
    with pytest.raises(FQLSyntaxError) as info:
        fql_to_predicate(fql)
    d = info.value.diagnostics[0]
    assert (d.span.line, d.span.col, d.code) == (line, col, code)
    assert message in d.message
    assert "^" in str(info.value)  # a caret under the place


@pytest.mark.parametrize("ir,message", [
    (["findTheDefiniteIntegralOf", {"value": 1}], "unknown FQL function or operator"),
    ([], "empty array"),
    (["=", "a"], "takes 2 arguments"),
    ({"val": 1}, "literal"),
    (5, "expected a path"),
    (["in", "a", {"value": "abc"}], "must be a list"),
    (["in", "a", ["lowercase", "b"]], "must be a list"),
    (["match", "a", "b"], "globs are constants"),
    (["match", ["lowercase", "a"], "b"], "globs are constants"),
    (["=", "a", {"value": float("nan")}], "finite"),
])
def test_bad_ir_raises_a_routeql_error(ir: Any, message: str) -> None:
    with pytest.raises(RouteQLError, match=message):
        ir_to_predicate(ir)


def test_deep_input_is_refused_not_crashed() -> None:
    ir: Any = "a"
    for _ in range(5000):
        ir = ["!", ir]
    with pytest.raises(IRError, match="nested"):
        ir_to_predicate(ir)
    with pytest.raises(FQLSyntaxError, match="nested"):
        fql_to_predicate("!(" * 500 + "a" + ")" * 500)
    with pytest.raises(FQLSyntaxError, match="longer than"):
        fql_to_predicate("a = 1 or " * 20000 + "a = 1")


_FQL_PIECES = list("ab.=!<>()[],'\" \\-+1\n") + ["and ", " or ", "null", " in ", "true", "match(", "x.0", "length("]


@given(st.lists(st.sampled_from(_FQL_PIECES), max_size=25).map("".join))
@settings(max_examples=300, deadline=None)
def test_any_fql_text_converts_or_raises_a_routeql_error(text: str) -> None:
    try:
        out = fql_to_predicate(text)
    except RouteQLError:
        return
    routeql.predicate(out)  # what converts, compiles


_JSON_WORDS = ["", "a", "and", "=", "in", "!", "match", "fql", "all", "drop", "DROP", "properties", "if", "actions",
               "matchers", "transformers", "value", "sample", "percent", "fields", "config"]
_JSON_KEYS = ["value", "if", "actions", "type", "fields", "percent", "path", "matchers", "transformers", "ir",
              "config", "drop", "allow", "sample", "destinationName", "integrations", "filters", "enabled",
              "categories"]
_JSON = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-2, 2), st.sampled_from(_JSON_WORDS)),
    lambda inner: st.one_of(st.lists(inner, max_size=4),
                            st.dictionaries(st.sampled_from(_JSON_KEYS), inner, max_size=4)),
    max_leaves=15)


@given(_JSON)
@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_any_json_converts_or_raises_a_routeql_error(obj: Any) -> None:
    for fn in (ir_to_predicate, convert):
        try:
            out = fn(obj)
        except RouteQLError:
            continue
        if fn is ir_to_predicate:
            routeql.predicate(out)
        else:
            routeql.loads(out)


# ====================================================================== convert: filters and rules


def load_sample(name: str) -> Any:
    return json.loads((DATA / name).read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", ["public-api-filters", "cdn-settings", "consent-mapping"])
def test_samples_match_their_golden_rules(name: str) -> None:
    source = convert(load_sample(f"{name}.json"), name=f"{name}.json")
    assert source == (DATA / f"{name}.rq").read_text(encoding="utf-8")
    routeql.loads(source, f"{name}.rq")


def track(**kw: Any) -> dict[str, Any]:
    e: dict[str, Any] = {"type": "track", "event": "Product Viewed", "userId": "u1", "messageId": "m1"}
    e.update(kw)
    return e


@pytest.fixture(scope="module")
def public_api() -> routeql.RuleSet:
    return routeql.loads(convert(load_sample("public-api-filters.json")), "public-api.rq")


def test_public_api_drop_filters(public_api: routeql.RuleSet) -> None:
    assert "google_analytics_4" not in route_both(public_api, track(userId=None)).deliveries  # no user
    assert "google_analytics_4" not in route_both(public_api, track()).deliveries  # only pages and purchases
    assert "google_analytics_4" in route_both(public_api, track(event="Order Completed")).deliveries
    internal = track(context={"traits": {"email": "me@example.com"}})
    assert "braze_cloud_mode_actions" not in route_both(public_api, internal).deliveries
    free = track(properties={"product 1": {"price": "0.00"}})
    assert "braze_cloud_mode_actions" not in route_both(public_api, free).deliveries
    assert "braze_cloud_mode_actions" in route_both(public_api, track()).deliveries


def test_public_api_sampling_is_by_user_and_deterministic(public_api: routeql.RuleSet) -> None:
    kept = [u for u in range(400)
            if "google_analytics_4" in route_both(public_api, {"type": "page", "userId": f"u{u}"}).deliveries]
    assert 0.15 < len(kept) / 400 < 0.35
    again = [u for u in range(400) if "google_analytics_4" in public_api.route({"type": "page", "userId": f"u{u}"})
             .deliveries]
    assert kept == again


def test_public_api_field_filters(public_api: routeql.RuleSet) -> None:
    purchase = track(event="Order Completed", anonymousId="a1", context={"ip": "1.2.3.4", "locale": "en"},
                     properties={"order_id": "o1", "revenue": 10, "email": "x@y.z", "coupon": "C"})
    got = route_both(public_api, purchase).deliveries["google_analytics_4"]
    assert got == {"type": "track", "event": "Order Completed", "userId": "u1", "messageId": "m1",
                   "anonymousId": "a1", "context": {"locale": "en"},
                   "properties": {"order_id": "o1", "revenue": 10}}
    page = {"type": "page", "userId": "u3", "properties": {"email": "x@y.z", "path": "/"}}
    if "google_analytics_4" in route_both(public_api, page).deliveries:
        assert route_both(public_api, page).deliveries["google_analytics_4"]["properties"] == {"path": "/"}
    ident_event = {"type": "identify", "userId": "u1", "traits": {"birthday": "1990-01-01", "name": "A"}}
    assert route_both(public_api, ident_event).deliveries["braze_cloud_mode_actions"]["traits"] == {"name": "A"}


def test_disabled_filters_are_skipped_and_said(public_api: routeql.RuleSet) -> None:
    report = convert_report(load_sample("public-api-filters.json"))
    assert report.skipped == ['filter "Old experiment" is disabled in Segment: not imported']
    assert "# skipped: filter \"Old experiment\"" in report.source


@pytest.fixture(scope="module")
def cdn() -> routeql.RuleSet:
    return routeql.loads(convert(load_sample("cdn-settings.json")), "cdn.rq")


def test_cdn_settings_consent_all_of(cdn: routeql.RuleSet) -> None:
    def consented(prefs: dict[str, bool]) -> set[str]:
        return set(route_both(cdn, track(context={"consent": {"categoryPreferences": prefs}})).deliveries)

    assert consented({"Advertising": True, "Analytics": True}) == {
        "google_tag_manager", "amplitude", "braze_web_mode_actions", "hotjar"}
    assert consented({"Advertising": True, "Analytics": False}) == {"google_tag_manager", "hotjar"}
    assert consented({}) == {"hotjar"}  # present but empty: every category false
    # No consent object: Segment does not enforce consent (compat segment).
    assert set(route_both(cdn, track()).deliveries) == {"google_tag_manager", "amplitude", "braze_web_mode_actions",
                                                        "hotjar"}
    assert "segment_io" not in cdn.destinations


def test_cdn_settings_routing_rules(cdn: routeql.RuleSet) -> None:
    assert "google_tag_manager" not in route_both(cdn, track(event="Item Impression")).deliveries
    test_lib = track(context={"library": {"name": "analytics-test"}})
    assert route_both(cdn, test_lib).deliveries == {}  # the rule without destinationName applies to all
    page = {"type": "page", "traits": {"email": "e"}, "properties": {"products": [{"sku": "1", "coupon": "c"}]}}
    amplitude = [route_both(cdn, dict(page, anonymousId=f"a{i}")).deliveries.get("amplitude") for i in range(60)]
    kept = [i for i, p in enumerate(amplitude) if p is not None]
    assert 10 < len(kept) < 50  # sampled 50% by anonymousId
    # the drop applies to identify and track only
    assert all(amplitude[i] == dict(page, anonymousId=f"a{i}") for i in kept)
    anon = f"a{kept[0]}"  # an anonymousId the sample keeps, whatever the event
    ident_event = {"type": "identify", "userId": "u1", "anonymousId": anon, "traits": {"email": "e", "plan": "pro"}}
    assert route_both(cdn, ident_event).deliveries["amplitude"]["traits"] == {"plan": "pro"}
    purchase = track(properties={"products": [{"sku": "1", "coupon": "c"}, {"sku": "2"}]}, anonymousId=anon)
    assert route_both(cdn, purchase).deliveries["amplitude"]["properties"] == {"products": [{"sku": "1"}, {"sku": "2"}]}


def test_cdn_settings_allow_properties_and_unsupported_map(cdn: routeql.RuleSet) -> None:
    e = track(context={"traits": {"email": "e", "first_name": "F", "phone": "p"}, "ip": "1.2.3.4"},
              properties={"a": 1})
    got = route_both(cdn, e).deliveries["braze_web_mode_actions"]
    assert got["context"] == {"traits": {"email": "e", "first_name": "F"}, "ip": "1.2.3.4"}
    assert got["properties"] == {"a": 1} and "traits" not in got  # map_properties not applied
    report = convert_report(load_sample("cdn-settings.json"))
    assert [u.split(": ", 1)[1].split(" ")[0] for u in report.unsupported] == ["map_properties"]


def test_filter_order_and_conditions_on_the_arriving_event() -> None:
    # Segment: sample, drop, drop properties, allow properties, all conditions on the input.
    filters = [
        {"if": "all", "actions": [{"type": "DROP_PROPERTIES", "fields": {"properties": ["flag", "email"]}}]},
        {"if": "properties.flag = true", "actions": [{"type": "DROP"}]},
        {"if": "all", "actions": [{"type": "ALLOW_PROPERTIES", "fields": {"properties": ["email", "sku"]}}]},
    ]
    rules = routeql.loads(convert([dict(f, destinationName="D") for f in filters]))
    assert route_both(rules, track(properties={"flag": True, "sku": "s"})).deliveries == {}
    got = route_both(rules, track(properties={"flag": False, "sku": "s", "email": "e", "x": 1})).deliveries["d"]
    assert got["properties"] == {"sku": "s"}


def test_conditional_allow_filters_combine() -> None:
    filters = [
        {"if": "type = 'track'", "actions": [{"type": "ALLOW_PROPERTIES", "fields": {"properties": ["a", "b"]}}]},
        {"if": "properties.vip = true", "actions": [{"type": "ALLOW_PROPERTIES", "fields": {"properties": ["b", "vip"]}}]},
    ]
    source = convert([dict(f, destinationName="D") for f in filters])
    assert source.count("\n  keep ") == 4
    rules = routeql.loads(source)
    props = {"a": 1, "b": 2, "vip": True, "c": 3}
    cases = [(track(properties=props), {"b": 2}),
             (track(properties=dict(props, vip=False)), {"a": 1, "b": 2}),
             ({"type": "page", "properties": props}, {"b": 2, "vip": True}),
             ({"type": "page", "properties": dict(props, vip=False)}, dict(props, vip=False))]
    for event, want in cases:
        assert route_both(rules, event).deliveries["d"]["properties"] == want


def test_too_many_conditional_allow_filters_are_refused() -> None:
    filters = [{"if": f"properties.k{i} = true", "destinationName": "D",
                "actions": [{"type": "ALLOW_PROPERTIES", "fields": {"properties": [f"k{i}"]}}]}
               for i in range(MAX_CONDITIONAL_ALLOWS + 1)]
    with pytest.raises(UnsupportedError, match="allow-properties filters"):
        convert(filters)


def test_allow_properties_edge_cases() -> None:
    def deliver(fields: dict[str, list[str]], event: dict[str, Any], drop: dict[str, list[str]] | None = None) -> Any:
        fs = [{"if": "all", "actions": [{"type": "ALLOW_PROPERTIES", "fields": fields}], "destinationName": "D"}]
        if drop:
            fs.append({"if": "all", "actions": [{"type": "DROP_PROPERTIES", "fields": drop}], "destinationName": "D"})
        return route_both(routeql.loads(convert(fs)), event).deliveries["d"]

    assert deliver({"properties": []}, track(properties={"a": 1})) == dict(track(), properties={})
    assert deliver({"": ["event", "type"]}, track(userId="u", x=1)) == {"event": "Product Viewed", "type": "track"}
    assert deliver({"": ["type"]}, track(), drop={"": ["type"]}) == {}
    assert deliver({"properties": ["a"]}, track(properties={"a": 1}), drop={"properties": ["a"]})["properties"] == {}
    items = track(properties={"products": [{"id": 1, "c": 2}, {"id": 2}]})
    assert deliver({"properties.products": ["id"]}, items)["properties"] == {"products": [{"id": 1}, {"id": 2}]}


def test_drop_everything_becomes_a_policy() -> None:
    report = convert_report([
        {"if": "all", "actions": [{"type": "DROP"}], "destinationName": "Gone"},
        {"if": "all", "actions": [{"type": "SAMPLE", "percent": 0}], "destinationName": "Zero"},
        {"if": "event != 'A'", "actions": [{"type": "DROP"}], "destinationName": "Only"},
        {"if": "event != 'B'", "actions": [{"type": "DROP"}], "destinationName": "Only"},
        {"if": "event = 'A'", "actions": [{"type": "DROP"}], "destinationName": "Kept"},
    ])
    rules = routeql.loads(report.source)
    assert [w.code for w in rules.warnings].count("RQ306") == 3
    for name in ("A", "B", "C"):
        assert set(route_both(rules, track(event=name)).deliveries) == ({"kept"} if name != "A" else set())
    assert 'policy "segment filters drop every event for only"' in report.source


def test_sampling_details() -> None:
    report = convert_report({"if": "all", "destinationName": "D",
                             "actions": [{"type": "SAMPLE", "percent": 1.01}]})
    assert "sample 100%" in report.source and any("outside 0..1" in n for n in report.notes)
    assert any("messageId" in n for n in report.notes)  # no path: random in Segment
    assert "sample 12.5% by properties.`cart id`" in convert(
        {"if": "all", "destinationName": "D", "actions": [{"type": "SAMPLE", "percent": 0.125,
                                                            "path": "properties.cart id"}]})


def test_destination_names_become_identifiers_with_aliases() -> None:
    source = convert({"integrationCategoryMappings": {"Google Ads": [], "google-ads": [], "1Flow": [], "When": [],
                                                      "Functional": ["Functional"]}})
    for line in ['destination google_ads alias "Google Ads"', 'destination google_ads_2 alias "google-ads"',
                 'destination d_1flow alias "1Flow"', 'destination when_ alias "When"',
                 'category functional from segment "Functional"',  # one namespace for both
                 'destination functional_2 alias "Functional" {\n  requires functional']:
        assert line in source
    rules = routeql.loads(source)
    r = route_both(rules, track(integrations={"All": False, "Google Ads": True}))
    assert set(r.deliveries) == {"google_ads"}


def test_unnamed_destinations_get_a_note() -> None:
    report = convert_report({"if": "all", "destinationId": "abc123", "actions": [{"type": "DROP"}]})
    assert "destination destination_abc123 {" in report.source
    assert any("abc123" in n for n in report.notes)


def test_input_shapes() -> None:
    f = {"if": "event = 'x'", "actions": [{"type": "drop_event"}], "destinationName": "D"}
    expected = convert(f)
    assert convert([f]) == convert({"filters": [f]}) == convert({"data": {"filters": [f]}}) == expected
    by_dest = {"destinations": [{"id": "d1", "name": "D", "filters": [dict(f, destinationName=None)]}]}
    assert "when not (event = \"x\")" in convert(by_dest)
    with_id = {"destinations": [{"id": "d1", "name": "D"}], "filters": [{"if": "all", "destinationId": "d1",
                                                                         "actions": [{"type": "DROP"}]}]}
    assert 'policy "segment filters drop every event for d"' in convert(with_id)
    legacy = {"if": "all", "destinationName": "D", "actions": [
        {"type": "whitelist_fields", "fields": {"properties": {"fields": ["a"]}}},
        {"type": "blacklist_fields", "fields": {"traits": ["b"]}},
        {"type": "sample_event", "percent": 0.5, "path": "userId"}]}
    out = convert(legacy)
    assert "drop traits.b" in out and "properties.a" in out and "sample 50% by userId" in out
    rule = {"destinationName": "D", "matchers": [{"type": "fql", "config": {"expr": "event = 'x'"}}],
            "transformers": [[{"type": "drop", "config": None}]]}
    assert "when not (event = \"x\")" in convert(rule)
    assert "when not (event = \"x\")" in convert({"routingRules": [dict(rule, matchers=[
        {"type": "fql", "ir": ["=", "event", {"value": "x"}]}])]})
    string_config = dict(rule, transformers=[[{"type": "drop_properties", "config": '{"drop": {"": ["a"]}}'}]])
    assert "drop a if event = \"x\"" in convert(string_config)
    global_only = convert({"routingRules": [{"matchers": [{"type": "all"}], "transformers": [[{"type": "drop"}]]}]})
    assert "destination all_destinations {" in global_only


@pytest.mark.parametrize("obj,message", [
    ("filters", "expected a JSON object or list"),
    ({"unrelated": 1}, "nothing to import"),
    ({"if": "all", "actions": []}, "non-empty list of actions"),
    ({"actions": [{"type": "DROP"}]}, 'needs an "if"'),
    ({"if": 5, "actions": [{"type": "DROP"}]}, "FQL text"),
    ({"if": "all", "actions": [{"type": "DROP", "fields": {"": ["a"]}}]}, "takes no fields"),
    ({"if": "all", "actions": [{"type": "SAMPLE"}]}, "needs a percent"),
    ({"if": "all", "actions": [{"type": "SAMPLE", "percent": "half"}]}, "between 0 and 1"),
    ({"if": "all", "actions": [{"type": "EXPLODE"}]}, "unknown action type"),
    ({"if": "all", "actions": [{"type": "DROP_PROPERTIES", "fields": {"": "a"}}]}, "list of strings"),
    ({"if": "all", "actions": [{"type": "ALLOW_PROPERTIES"}]}, "needs fields"),
    ({"if": "event = ", "actions": [{"type": "DROP"}]}, "expected a value"),
    ({"matchers": [{"type": "fql", "ir": "{"}], "transformers": [[]]}, "not JSON"),
    ({"matchers": [{"type": "nope"}], "transformers": [[]]}, "unknown matcher type"),
    ({"matchers": [{"type": "all"}], "transformers": []}, "go in pairs"),
    ({"matchers": [{"type": "all"}], "transformers": [[{"type": "encrypt_properties", "config": {}}]]},
     "not supported"),
    ({"matchers": [{"type": "all"}], "transformers": [[{"type": "sample", "config": None}]]}, "config.sample"),
    ({"integrationCategoryMappings": {"D": "Advertising"}}, "list of category ids"),
    ({"matchers": [{"type": "all"}], "transformers": [[]], "destinationName": 5}, "must be a destination name"),
    ({"consentCategories": [{"name": "x"}]}, "needs an id"),
])
def test_malformed_input_raises_a_clear_error(obj: Any, message: str) -> None:
    with pytest.raises(RouteQLError, match=re.escape(message)):
        convert(obj)


def test_errors_name_where_in_the_input() -> None:
    with pytest.raises(FQLSyntaxError) as info:
        convert({"filters": [{"if": "all", "actions": [{"type": "DROP"}]}, {"if": "a = = 1", "actions": [
            {"type": "DROP"}]}]})
    assert str(info.value).startswith("filters[1].if:1:5: error[RQ100]")
    with pytest.raises(FilterError) as info2:
        convert({"routingRules": [{"matchers": [{"type": "all"}], "transformers": [[{"type": "x"}]]}]})
    assert str(info2.value).startswith("routingRules[0].transformers[0][0].type:")


# ====================================================================== consent


def _segment_consent_rows() -> list[dict[str, Any]]:
    return [v for v in load_vectors("consent-vectors.json") if v["system"] == "segment"]


@pytest.mark.parametrize("row", _segment_consent_rows(), ids=lambda r: r["source"].rsplit(":", 1)[-1])
def test_segment_documented_consent_table(row: dict[str, Any]) -> None:
    mapping: dict[str, list[str]] = row["category_to_destinations"]
    names = set(row["expected_receive"]) | set(row["expected_blocked"]) | set(row.get("unspecified", []))
    names |= {d for ds in mapping.values() for d in ds}
    obj = {"integrations": {n: {} for n in sorted(names)},
           "consentCategories": [{"id": c, "destinations": ds} for c, ds in mapping.items()]}
    rules = routeql.loads(convert(obj))
    alias = {d.name: d.aliases[0] if d.aliases else d.name for d in rules.model.destinations}
    alternatives = lambda x: x if isinstance(x, list) else [x]  # noqa: E731
    for consent in alternatives(row["context_consent"]):
        for integrations in alternatives(row["integrations"]):
            ev: dict[str, Any] = {"type": "track", "event": "Test", "context": {}}
            if consent != "<absent>":
                ev["context"]["consent"] = consent
            if integrations != "<absent>":
                ev["integrations"] = integrations
            got = {alias[d] for d in route_both(rules, ev).deliveries}
            blocked = set(row["expected_blocked"])
            if consent == {} and "inconsistent" in row.get("note", ""):
                # Segment's table contradicts itself for `consent: {}`; the rule stated
                # everywhere else is that an empty consent object is not enforced.
                blocked = {d for d in blocked if not any(d in ds for ds in mapping.values())}
            assert set(row["expected_receive"]) <= got
            assert not (blocked & got)


def test_three_consent_shapes_mean_the_same() -> None:
    cdn = {"integrations": {"Ads": {"consentSettings": {"categories": ["Advertising", "Analytics"]}},
                            "Stats": {"consentSettings": {"categories": ["Analytics"]}}, "Log": {}},
           "consentSettings": {"allCategories": ["Advertising", "Analytics"]}}
    tools = {"integrationCategoryMappings": {"Ads": ["Advertising", "Analytics"], "Stats": ["Analytics"], "Log": []}}
    cats = {"consentCategories": [{"id": "Advertising", "destinations": ["Ads"]},
                                  {"id": "Analytics", "destinations": ["Ads", "Stats"]}],
            "integrations": {"Log": {}}}
    sources = [convert(x) for x in (cdn, tools, cats)]
    for s in sources:
        assert "requires advertising, analytics  # all of them" in s
        assert "compat segment" in s
    for prefs in ({"Advertising": True}, {"Analytics": True}, {"Advertising": True, "Analytics": True}, {}):
        ev = track(context={"consent": {"categoryPreferences": prefs}})
        outcomes = {tuple(sorted(route_both(routeql.loads(s), ev).deliveries)) for s in sources}
        assert len(outcomes) == 1


def test_category_names_and_ids() -> None:
    source = convert(load_sample("consent-mapping.json"))
    assert 'category performance from segment "C0002"' in source
    rules = routeql.loads(source)
    ev = track(context={"consent": {"categoryPreferences": {"C0004": True, "C0003": False}}})
    assert set(route_both(rules, ev).deliveries) == {"google_ads"}


# ====================================================================== the command line


def cli(*args: str, stdin: str | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "routeql.cli", *args], capture_output=True, text=True,
                          input=stdin, cwd=cwd, timeout=60)


def test_cli_prints_the_rules_and_reports_notes() -> None:
    r = cli("import", "segment", str(DATA / "cdn-settings.json"))
    assert r.returncode == 0, r.stderr
    assert r.stdout == (DATA / "cdn-settings.rq").read_text(encoding="utf-8")
    assert "unsupported: destination braze_web_mode_actions" in r.stderr
    assert "1 unsupported, 2 approximated" in r.stderr


def test_cli_writes_a_file_and_strict_fails_on_notes(tmp_path: Path) -> None:
    out = tmp_path / "segment.rq"
    r = cli("import", "segment", str(DATA / "public-api-filters.json"), "-o", str(out), "--strict")
    assert r.returncode == 1 and r.stdout == "" and f"wrote {out}" in r.stderr
    assert "google_analytics_4" in routeql.load(out).destinations
    assert cli("import", "segment", "-", "--strict", stdin=(DATA / "consent-mapping.json").read_text()).returncode == 0


def test_cli_reads_stdin() -> None:
    r = cli("import", "segment", "-", stdin='{"if": "all", "actions": [{"type": "DROP"}], "destinationName": "D"}')
    assert r.returncode == 0 and "(stdin)" in r.stdout and "forbid events to d" in r.stdout


@pytest.mark.parametrize("content,message", [
    ('{"filters": [1,}', "bad.json:1:16: not JSON"),
    ('{"if": "event = \'x", "actions": [{"type": "DROP"}]}', "unterminated string"),
])
def test_cli_bad_input_exits_2(tmp_path: Path, content: str, message: str) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(content, encoding="utf-8")
    r = cli("import", "segment", str(bad))
    assert r.returncode == 2 and message in r.stderr and r.stdout == ""


def test_cli_usage_errors_and_help(tmp_path: Path) -> None:
    r = cli("import", "segment", str(tmp_path / "missing.json"))
    assert r.returncode == 2 and "cannot read" in r.stderr
    h = cli("import", "--help")
    assert h.returncode == 0 and "examples:" in h.stdout and "routeql import segment filters.json" in h.stdout


def test_import_without_a_system_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    from routeql.cli import main

    assert main(["import"]) == 2
    assert "routeql import segment FILE" in capsys.readouterr().err


# ====================================================================== the docs


def _fences(kind: str) -> list[str]:
    return re.findall(rf"^```{kind}\n(.*?)^```", DOC.read_text(encoding="utf-8"), re.M | re.S)


def test_docs_sample_output_is_what_the_import_gives() -> None:
    inputs, outputs = _fences("json"), _fences("routeql")
    assert inputs and outputs
    assert convert(json.loads(inputs[0]), name="cdn-settings.json") == outputs[0]


def test_docs_error_example_is_what_the_import_says() -> None:
    [shown] = _fences("text")
    with pytest.raises(FQLSyntaxError) as info:
        convert({"filters": [{"if": "all", "actions": [{"type": "DROP"}]},
                             {"if": "properties.x > 30.30.30", "actions": [{"type": "DROP"}]}]})
    assert str(info.value) == shown.rstrip("\n")


def test_docs_list_every_deviation() -> None:
    doc = DOC.read_text(encoding="utf-8")
    for quirk in QUIRKS:
        assert f"`{quirk}`" in doc
