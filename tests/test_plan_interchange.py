"""``routeql plan import`` / ``export``: JSON Schema (Segment Protocols) <-> RouteQL plans.

Round trips both ways, every keyword, every note and error, and the semantics: on events
mutated field by field, the imported plan finds a violation exactly where a reference
JSON Schema validator (``jsonschema``) says the event is invalid.
"""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path
from typing import Any, Iterator

import jsonschema
import pytest

import routeql
from routeql.interchange import DRAFT_07, InterchangeError, export_plan, export_plans, import_plans
from routeql.interchange.emit import format_plan, path_text
from routeql.interchange.draft import Draft, Entry, Field, Type
from routeql.plans import EntryModel, FieldRule, PlanModel, TypeRule, label_of
from routeql.plans import validate as reference_validate
from routeql.runtime import validate_event

ROOT = Path(__file__).resolve().parent.parent
PLANS = Path(__file__).resolve().parent / "data" / "plans"
SEGMENT = PLANS / "segment_tracking_plan.json"
PUBLIC = PLANS / "public_api_rules.json"
KIND_ORDER = ("common", "track", "identify", "group", "page", "screen")


# ------------------------------------------------------------------ helpers


def load_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def compile_plan(source: str) -> routeql.RuleSet:
    return routeql.loads(source + "\ndestination d {}\n", "imported.rq")


def shape(x: Any) -> Any:
    """A checked plan (or part of one) without origins, for field-by-field comparison.
    Entries are grouped by kind (import writes them so; the order within a kind counts)."""
    if isinstance(x, PlanModel):
        entries = sorted(x.entries, key=lambda e: KIND_ORDER.index(e.kind))
        return ("plan", x.name, x.when, x.events, x.properties, x.violations, shape(x.common),
                tuple(shape(e) for e in entries))
    if isinstance(x, EntryModel):
        return ("entry", x.kind, x.name, x.description, tuple(shape(f) for f in x.fields))
    if isinstance(x, FieldRule):
        return ("field", x.path, x.required, tuple(shape(t) for t in x.types), x.enum, x.ranges, x.lengths,
                x.pattern, x.format, x.description)
    if isinstance(x, TypeRule):
        return ("type", x.name, None if x.fields is None else tuple(shape(f) for f in x.fields), shape(x.items))
    return x


def roundtrip(plan: PlanModel, layout: str = "plan") -> PlanModel:
    """import(export(plan)), compiled again."""
    doc = json.loads(json.dumps(export_plan(plan, layout=layout)))  # what a file would hold
    return compile_plan(import_plans(doc).source).model.plans[0]


@pytest.fixture(scope="module")
def segment_doc() -> Any:
    return load_json(SEGMENT)


@pytest.fixture(scope="module")
def segment_import(segment_doc: Any) -> Any:
    return import_plans(segment_doc, file="segment_tracking_plan.json")


@pytest.fixture(scope="module")
def segment_rules(segment_import: Any) -> routeql.RuleSet:
    return compile_plan(segment_import.source)


@pytest.fixture(scope="module")
def public_rules() -> routeql.RuleSet:
    return compile_plan(import_plans(load_json(PUBLIC)).source)


# ------------------------------------------------------------------ round trips


def test_the_segment_fixture_is_a_realistic_plan(segment_doc: Any) -> None:
    rules = segment_doc["rules"]
    assert len(rules["events"]) >= 20
    text = json.dumps(segment_doc)
    for keyword in ('"enum"', '"pattern"', '"format"', '"minimum"', '"exclusiveMinimum"', '"maxLength"',
                    '"minItems"', '"required"', '"items"', '"null"'):
        assert keyword in text, keyword
    assert {"global", "identify", "group", "page"} <= set(rules)


def test_segment_fixture_imports_without_notes_and_compiles(segment_import: Any, segment_rules: Any) -> None:
    assert segment_import.notes == ()
    plan = segment_rules.model.plans[0]
    assert plan.name == "Acme Storefront"
    assert len([e for e in plan.entries if e.kind == "track"]) == 27
    assert {e.kind for e in plan.entries} == {"track", "identify", "group", "page"}
    assert plan.common is not None


@pytest.mark.parametrize("layout", ["plan", "rules"])
def test_bundled_plans_survive_export_and_import(bundled: routeql.RuleSet, layout: str) -> None:
    assert len(bundled.model.plans) == 2
    for plan in bundled.model.plans:
        again = roundtrip(plan, layout)
        assert shape(again) == shape(plan)


@pytest.mark.parametrize("layout", ["plan", "rules"])
def test_segment_plan_survives_export_and_import(segment_rules: Any, layout: str) -> None:
    plan = segment_rules.model.plans[0]
    assert shape(roundtrip(plan, layout)) == shape(plan)


def test_import_is_a_fixed_point(segment_doc: Any, segment_import: Any, segment_rules: Any) -> None:
    """import(export(import(x))) prints the very same source as import(x)."""
    again = import_plans(export_plans(segment_rules), file="segment_tracking_plan.json")

    def body(source: str) -> str:  # the plan description above it is a comment, not exported
        return source[source.index("\nplan ") + 1:]

    assert body(again.source) == body(segment_import.source)


def normalize(schema: Any) -> Any:
    """The documented normalisations of export(import(schema)): one-element type lists
    become the type name, const becomes a one-value enum, empty required lists go, the
    format spelling date_time becomes date-time, the unused parts of an event's layout
    (context, traits) are written as {}, and an event whose properties (traits) require a
    key requires properties (traits) itself."""
    if isinstance(schema, list):
        return [normalize(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: normalize(v) for k, v in schema.items()}
    if isinstance(out.get("type"), list) and len(out["type"]) == 1:
        out["type"] = out["type"][0]
    if "const" in out:
        out["enum"] = [out.pop("const")]
    if out.get("required") == []:
        del out["required"]
    if out.get("format") == "date_time":
        out["format"] = "date-time"
    props = out.get("properties")
    if isinstance(props, dict) and set(props) <= {"context", "properties", "traits"} and "$schema" in out:
        for k in ("context", "properties", "traits"):
            if props.get(k) in (None, {}, {"type": "object"}):
                props[k] = {}
            elif props[k].get("required") and "required" not in out:
                out["required"] = [k]
    return out


def test_export_of_import_gives_the_segment_schema_back(segment_doc: Any, segment_rules: Any) -> None:
    exported = export_plans(segment_rules)
    assert exported.pop("routeql") == {"unplannedEvents": "allow", "unplannedProperties": "allow",
                                       "violations": "flag"}
    want = normalize(segment_doc)
    # not carried by a RouteQL plan: the document's ids, timestamps and description (a comment)
    for k in ("display_name", "description", "create_time", "update_time"):
        want.pop(k)
    want["name"] = segment_doc["display_name"]
    assert normalize(exported) == want


def test_export_of_import_gives_public_api_rules_back() -> None:
    doc = load_json(PUBLIC)
    rules = compile_plan(import_plans(doc).source)
    exported = export_plans(rules, layout="rules")
    assert exported["routeql"]["unplannedProperties"] == "flag"  # every entry closes its properties
    got = {(r["type"], r["key"]): r for r in exported["rules"]}
    want = {(r["type"], r["key"]): r for r in doc["data"]["rules"] if r["version"] == 1}
    assert set(got) == set(want)
    for key, rule in want.items():
        schema = copy.deepcopy(rule["jsonSchema"])
        expected = normalize(schema)
        actual = normalize(got[key]["jsonSchema"])
        if key == ("TRACK", "Order Completed"):
            # $ref and definitions are inlined; anyOf / oneOf with null become type lists
            # (enum gains null); the product's $ref description is kept on the field
            props = expected["properties"]["properties"]["properties"]
            props["revenue"] = {"type": "number", "minimum": 0}
            props["coupon"] = {"type": ["string", "null"], "pattern": "^[A-Z0-9]+$"}
            props["channel"] = {"type": ["string", "null"], "enum": ["web", "app", None]}
            props["products"]["items"] = {
                "type": "object", "required": ["product_id", "price"],
                "properties": {"product_id": {"type": "string"},
                               "price": {"description": "Unit price", "type": "number", "minimum": 0},
                               "quantity": {"type": "integer", "minimum": 1}}}
            del expected["definitions"]
        if key == ("COMMON", None):
            # a required key without a schema is written with the empty schema
            expected["properties"]["context"]["properties"]["library"] = {}
        assert actual == expected, key


@pytest.mark.parametrize("written,imported", [
    # a required object of required keys is written back with dotted paths
    ("required a: object { required b: string optional c: integer }", "required a.b: string optional a.c: integer"),
    # a key both declared and dotted into is exported as allOf, and comes back as one field
    ("optional a: object required a.b: string", "required a.b: string"),
    ("required a: object { optional x: string } optional a.y: number",
     "required a: object { optional x: string optional y: number }"),
])
def test_equivalent_spellings_normalise(written: str, imported: str) -> None:
    """Forms JSON Schema cannot tell apart come back in the canonical spelling, with the
    same verdict on every event (documented normalisations)."""
    original = compile_plan(f'plan p {{ track "E" {{ {written} }} }}')
    canonical = compile_plan(f'plan p {{ track "E" {{ {imported} }} }}')
    doc = export_plan(original.model.plans[0])
    result = import_plans(doc)
    assert result.notes == ()
    back = compile_plan(result.source)
    assert shape(back.model.plans[0]) == shape(canonical.model.plans[0])
    for props in ({}, {"a": 1}, {"a": {}}, {"a": {"b": "x"}}, {"a": {"b": 1}}, {"a": {"b": "x", "c": "y"}},
                  {"a": {"b": "x", "c": 1}}, {"a": {"x": 1, "y": "z", "b": "b"}}, {"a": {"x": "s", "y": 2}}):
        event = {"type": "track", "event": "E", "properties": props}
        assert bool(original.validate(event).violations) == bool(back.validate(event).violations), props


@pytest.mark.parametrize("text", [
    'required a.b.c: string',
    'optional a.b.c: string',
    'required a.b: string optional a.c.d: integer',
    'optional a: string | null in ["x", null] description "d"',
    'optional a: array of array of object { optional b: boolean }',
    'optional a: integer | number > 0 <= 10',
    'optional a: string | array length >= 2 length <= 3',
    'optional a: any length >= 1',
    'optional a: object {}',
    'optional a: array',
    'required `odd key`.`x.y`: string format email',
])
def test_field_forms_survive_the_round_trip(text: str) -> None:
    plan = compile_plan(f'plan p {{ track "E" {{ {text} }} }}').model.plans[0]
    assert shape(roundtrip(plan)) == shape(plan)


def test_settings_and_when_survive_the_round_trip() -> None:
    plan = compile_plan('plan "web shop" when context.source = "web" and not (userId missing) {\n'
                        '  unplanned events block\n  unplanned properties omit\n  violations omit\n'
                        '  track "E" { optional a: string }\n}').model.plans[0]
    again = roundtrip(plan)
    assert (again.name, again.events, again.properties, again.violations) == ("web shop", "block", "omit", "omit")
    assert again.when == plan.when


# ------------------------------------------------------------------ semantics against jsonschema

#: for every pattern in the fixtures: (a string that matches, one that does not)
PATTERNS = {
    "^ORD-[0-9]{8}$": ("ORD-20240501", "ORD-123"),
    "^[A-Z]{3}$": ("EUR", "eur"),
    "^[A-Z0-9-]{4,20}$": ("SPRING-24", "no"),
    "^[A-Z]{2}$": ("DE", "Germany"),
    "^\\+[1-9][0-9]{6,14}$": ("+4915112345678", "0151 1234"),
    "^[A-Z]{2}[0-9A-Z]{2,12}$": ("DE123456789", "de1"),
    "^/": ("/pricing", "pricing"),
    "^\\?": ("?q=shoes", "q=shoes"),
    "^cus_[A-Za-z0-9]{8,}$": ("cus_AbC12345", "user-1"),
    "^[0-9]+\\.[0-9]+\\.[0-9]+": ("1.4.2", "v1"),
    "^[a-z]{2}-[A-Z]{2}$": ("en-GB", "english"),
    "^[0-9]+\\.[0-9]+": ("2.1", "two"),
    "^[A-Z0-9]+$": ("SAVE10", "save 10"),
}
FORMAT_OK = {"date-time": "2024-05-01T10:20:30Z", "email": "ada@example.com", "uri": "https://example.com/p/1",
             "uuid": "3f2504e0-4f89-41d3-9a0c-0305e82c3301", "date": "2024-05-01", "ipv4": "192.0.2.10",
             "ipv6": "2001:db8::10", "hostname": "shop.example.com", "currency": "EUR"}
#: values both validators reject (jsonschema checks date, ipv4, ipv6 and "@" in e-mails
#: without extra packages; RouteQL checks every format, and e-mails more strictly)
FORMAT_BAD = {"date": "2024-02-30", "ipv4": "192.0.2.300", "ipv6": "2001:db8::g", "email": "ada.example.com"}


def deref(s: Any, root: Any) -> Any:
    while isinstance(s, dict) and "$ref" in s:
        target = root
        for part in s["$ref"][2:].split("/"):
            target = target[part]
        s = target
    return s


def types_of(s: dict[str, Any]) -> list[str]:
    t = s.get("type")
    if t is None and ("anyOf" in s or "oneOf" in s):  # the types of the branches
        return [x for b in s.get("anyOf") or s["oneOf"] for x in types_of(b)]
    return [t] if isinstance(t, str) else list(t) if t else []


def sample(s: Any, root: Any) -> Any:
    """A value the schema accepts (all optional properties included, to mutate them too)."""
    s = deref(s, root)
    if "anyOf" in s or "oneOf" in s:
        return sample((s.get("anyOf") or s["oneOf"])[0], root)
    if "const" in s:
        return s["const"]
    if "enum" in s:
        return s["enum"][0]
    names = [t for t in types_of(s) if t != "null"] or ["object" if "properties" in s else "string"]
    t = names[0]
    if t == "string":
        if "format" in s:
            return FORMAT_OK[s["format"]]
        if "pattern" in s:
            return PATTERNS[s["pattern"]][0]
        return "x" * max(s.get("minLength", 1), 1)
    if t in ("integer", "number"):
        if "minimum" in s:
            return s["minimum"]
        return s["exclusiveMinimum"] + 1 if "exclusiveMinimum" in s else 1
    if t == "boolean":
        return True
    if t == "array":
        return [sample(s.get("items", {}), root) for _ in range(max(s.get("minItems", 1), 1))]
    return {k: sample(v, root) for k, v in s.get("properties", {}).items()}


def slots(s: Any, root: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], dict[str, Any], bool]]:
    """Every property below an object schema: (path in the sample, schema, required)."""
    s = deref(s, root)
    required = set(s.get("required", []))
    for k, sub in s.get("properties", {}).items():
        sub = deref(sub, root)
        yield path + (k,), sub, k in required
        if "object" in types_of(sub) or ("properties" in sub and "type" not in sub):
            yield from slots(sub, root, path + (k,))
        if "array" in types_of(sub) and isinstance(sub.get("items"), dict):
            item = deref(sub["items"], root)
            if "properties" in item:
                yield from slots(item, root, path + (k, 0))


def mutations(s: dict[str, Any], required: bool) -> Iterator[tuple[str, Any]]:
    """(what, new value) pairs; the value ``DELETE`` removes the key."""
    names = types_of(s)
    yield ("missing" if required else "absent"), DELETE
    for wrong in ("text", 7, 2.5, True, None, [], {}):
        kind = {str: "string", int: "integer", float: "number", bool: "boolean", type(None): "null",
                list: "array", dict: "object"}[type(wrong)]
        if names and kind not in names and not (kind == "integer" and "number" in names):
            yield f"type {kind}", wrong
            break
    if "null" in names:
        yield "null", None
    branches = [b for b in s.get("anyOf") or s.get("oneOf") or [] if isinstance(b, dict)]
    for b in branches:  # the constraints of a branch, tried on the whole field
        yield from ((f"{what} (branch)", v) for what, v in mutations(b, True) if what not in ("missing", "absent"))
    if "enum" in s:
        yield "enum", "not-allowed" if "string" in names else 987654
    for key, delta in (("minimum", -1), ("exclusiveMinimum", 0), ("maximum", 1), ("exclusiveMaximum", 0)):
        if key in s:
            yield key, s[key] + delta
    if "minLength" in s and s["minLength"] > 0:
        yield "minLength", "x" * (s["minLength"] - 1)
    if "maxLength" in s:
        yield "maxLength", "x" * (s["maxLength"] + 1)
    if "minItems" in s:
        yield "minItems", []
    if "maxItems" in s:
        yield "maxItems", [sample(s["items"], {})] * (s["maxItems"] + 1)
    if "pattern" in s:
        yield "pattern", PATTERNS[s["pattern"]][1]
    if s.get("format") in FORMAT_BAD:
        yield "format", FORMAT_BAD[s["format"]]


DELETE = object()


def mutate(event: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any] | None:
    out = copy.deepcopy(event)
    parent: Any = out
    for seg in path[:-1]:
        if isinstance(parent, dict) and seg in parent:
            parent = parent[seg]
        elif isinstance(parent, list) and isinstance(seg, int) and seg < len(parent):
            parent = parent[seg]
        else:
            return None
    if not isinstance(parent, dict):
        return None
    if value is DELETE:
        parent.pop(path[-1], None)
    else:
        parent[path[-1]] = value
    return out


def json_locations(validator: Any, event: Any) -> set[str]:
    """Where jsonschema finds errors, as RouteQL labels (a missing key at the key)."""
    out: set[str] = set()
    for err in validator.iter_errors(event):
        base = tuple(err.absolute_path)
        if err.validator == "required":
            out.update(label_of(base + (k,)) for k in err.validator_value if k not in err.instance)
        elif err.validator == "additionalProperties":
            out.update(label_of(base + (k,)) for k in err.instance if k not in err.schema.get("properties", {}))
        else:
            out.add(label_of(base))
    return out


def related(a: str, b: str) -> bool:
    """The same field, or one inside the other (dotted paths report the deepest key)."""
    return a == b or any(x.startswith(y + c) for x, y in ((a, b), (b, a)) for c in ".[")


class Harness:
    """Validates events with the imported plan and with jsonschema, and compares."""

    def __init__(self, rules: routeql.RuleSet, common: Any, schemas: dict[tuple[str, str | None], Any]) -> None:
        self.rules = rules
        self.plan = rules.model.plans[0]
        checker = jsonschema.Draft7Validator.FORMAT_CHECKER
        self.common = jsonschema.Draft7Validator(common, format_checker=checker) if common else None
        self.schemas = {k: jsonschema.Draft7Validator(v, format_checker=checker) for k, v in schemas.items()}
        self.compared = 0
        self.invalid = 0

    def verdicts(self, event: dict[str, Any], key: tuple[str, str | None]) -> tuple[bool, bool, set[str], set[str]]:
        validators = [v for v in (self.common, self.schemas[key]) if v is not None]
        json_locs = set().union(*(json_locations(v, event) for v in validators))
        json_ok = all(v.is_valid(event) for v in validators)
        result = self.rules.validate(event)
        ref = reference_validate(self.plan, event)
        assert (ref.violations, ref.unplanned) == (result.violations, result.unplanned), "compiled vs reference"
        unplanned = result.unplanned if self.plan.properties != "allow" else ()
        rq_locs = {v.field for v in result.violations} | {label_of(p) for p in unplanned}
        return json_ok, not rq_locs, json_locs, rq_locs

    def compare(self, event: dict[str, Any], key: tuple[str, str | None], what: str) -> None:
        try:
            validate_event(event)
        except routeql.RouteQLError:
            return  # not an event at all (a mutated envelope field): nothing to compare
        json_ok, rq_ok, json_locs, rq_locs = self.verdicts(event, key)
        assert json_ok == rq_ok, (what, json_locs, rq_locs)
        for a in json_locs:
            assert any(related(a, b) for b in rq_locs), (what, "jsonschema only", a, rq_locs)
        for b in rq_locs:
            assert any(related(a, b) for a in json_locs), (what, "routeql only", b, json_locs)
        self.compared += 1
        self.invalid += not json_ok


def envelope(kind: str, name: str | None, common_sample: dict[str, Any], body: Any) -> dict[str, Any]:
    event = {**copy.deepcopy(common_sample), "type": kind}
    if kind == "track":
        event["event"] = name
    elif kind in ("page", "screen"):
        event["name"] = name if name is not None else "Home"
    event["properties" if kind in ("track", "page", "screen") else "traits"] = body
    return event


def run_semantics(h: Harness, common: Any, entries: list[tuple[str, str | None, Any, str]]) -> None:
    common_sample = sample(common, common) if common else {}
    for n, (kind, name, schema, root_key) in enumerate(entries):
        root = schema["properties"][root_key] if "properties" in schema.get("properties", {}) or \
            "traits" in schema.get("properties", {}) else schema
        body = sample(root, schema)
        base = envelope(kind, name, common_sample, body)
        h.compare(base, (kind, name), f"{kind} {name}: valid sample")
        for path, sub, required in slots(root, schema):
            for what, value in mutations(sub, required):
                event = mutate(base, (root_key,) + path, value)
                if event is not None:
                    h.compare(event, (kind, name), f"{kind} {name}: {label_of(path)} {what}")
        if n == 0 and common:  # the common schema's fields, on the first entry's event
            for path, sub, required in slots(common, common):
                for what, value in mutations(sub, required):
                    event = mutate(base, path, value)
                    if event is not None:
                        h.compare(event, (kind, name), f"common: {label_of(path)} {what}")
        extra = mutate(base, (root_key, "zz_unplanned"), 1)
        assert extra is not None
        h.compare(extra, (kind, name), f"{kind} {name}: unplanned property")


def test_imported_segment_plan_agrees_with_jsonschema(segment_doc: Any, segment_rules: Any) -> None:
    rules = segment_doc["rules"]
    entries: list[tuple[str, str | None, Any, str]] = []
    entries += [("track", e["name"], e["rules"], "properties") for e in rules["events"]]
    entries += [("identify", None, rules["identify"], "traits"), ("group", None, rules["group"], "traits")]
    entries += [("page", e["name"], e["rules"], "properties") for e in rules["page"]]
    h = Harness(segment_rules, rules["global"], {(k, n): s for k, n, s, _ in entries})
    run_semantics(h, rules["global"], entries)
    assert h.compared > 650 and h.invalid > 450, (h.compared, h.invalid)


def test_imported_public_api_plan_agrees_with_jsonschema(public_rules: Any) -> None:
    rules = [r for r in load_json(PUBLIC)["data"]["rules"] if r["version"] == 1]
    common = next(r["jsonSchema"] for r in rules if r["type"] == "COMMON")
    entries = [(r["type"].lower(), r["key"], r["jsonSchema"], "traits" if r["type"] in ("IDENTIFY", "GROUP")
                else "properties") for r in rules if r["type"] != "COMMON"]
    h = Harness(public_rules, common, {(k, n): s for k, n, s, _ in entries})
    # the common schema requires context.library: add it to every sample
    common_with_library = copy.deepcopy(common)
    common_with_library["properties"]["context"]["properties"]["library"] = {"type": "object"}
    run_semantics(h, common_with_library, entries)
    assert h.compared > 60 and h.invalid > 40, (h.compared, h.invalid)


def test_formats_where_jsonschema_and_routeql_differ() -> None:
    """jsonschema (without its optional packages) does not check date-time, uri, uuid or
    hostname, and takes any string with an @ for an e-mail; RouteQL checks them all. The
    semantic comparison above only mutates formats both check the same way."""
    src = import_plans({"rules": [{"type": "TRACK", "key": "E", "jsonSchema": {"properties": {"properties": {
        "properties": {f: {"type": "string", "format": f} for f in ("date-time", "uri", "uuid", "hostname",
                                                                     "email")}}}}}]}).source
    rules = compile_plan(src)
    validator = jsonschema.Draft7Validator({"properties": {f: {"format": f} for f in
                                            ("date-time", "uri", "uuid", "hostname", "email")}},
                                           format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER)
    for fmt, value in (("date-time", "yesterday"), ("uri", "not a uri"), ("uuid", "123"),
                       ("hostname", "-bad-.example"), ("email", "a@b")):
        props = {fmt: value}
        assert validator.is_valid(props), fmt  # jsonschema lets it through...
        found = rules.validate({"type": "track", "event": "E", "properties": props}).violations
        assert [v.type for v in found] == ["format"], fmt  # ...RouteQL does not


# ------------------------------------------------------------------ keywords, one by one


def fields_of(schema: dict[str, Any], **kw: Any) -> tuple[list[Field], list[str]]:
    """Import one track event whose properties have this schema: (fields, notes)."""
    result = import_plans({"rules": {"events": [{"name": "E", "rules": schema}]}}, **kw)
    compile_plan(result.source)  # whatever import writes must check
    entry = result.drafts[0].entries[0]
    return entry.fields, [f"{n.pointer}: {n.message}" for n in result.notes]


def one(props: dict[str, Any], required: list[str] | None = None) -> tuple[Field, list[str]]:
    schema: dict[str, Any] = {"type": "object", "properties": props}
    if required:
        schema["required"] = required
    fields, notes = fields_of(schema)
    assert len(fields) == 1, fields
    return fields[0], notes


P = "/rules/events/0/rules/properties/a"


@pytest.mark.parametrize("schema,expect", [
    ({"type": "string"}, "optional a: string"),
    ({"type": ["string"]}, "optional a: string"),
    ({"type": ["string", "null"]}, "optional a: string | null"),
    ({"type": ["integer", "number"]}, "optional a: integer | number"),
    ({"type": "boolean"}, "optional a: boolean"),
    ({"type": "null"}, "optional a: null"),
    ({}, "optional a: any"),
    (True, "optional a: any"),
    ({"type": "object"}, "optional a: object"),
    ({"type": "object", "properties": {}}, "optional a: object {}"),
    ({"type": "array"}, "optional a: array"),
    ({"type": "array", "items": {"type": "integer"}}, "optional a: array of integer"),
    ({"type": "array", "items": {}}, "optional a: array"),
    ({"type": "string", "enum": ["x", "y"]}, 'optional a: string in ["x", "y"]'),
    ({"enum": ["x", 1, None, True, [1]]}, 'optional a: any in ["x", 1, null, true, [1]]'),
    ({"type": "string", "const": "x"}, 'optional a: string in ["x"]'),
    ({"type": "number", "minimum": 0, "exclusiveMaximum": 10.5}, "optional a: number >= 0 < 10.5"),
    ({"type": "integer", "exclusiveMinimum": -1, "maximum": 1e3}, "optional a: integer > -1 <= 1000.0"),
    ({"type": "string", "minLength": 2, "maxLength": 4}, "optional a: string length >= 2 length <= 4"),
    ({"type": "array", "minItems": 1, "maxItems": 2.0}, "optional a: array length >= 1 length <= 2"),
    ({"type": ["string", "array"], "minLength": 1, "minItems": 1}, "optional a: string | array length >= 1"),
    ({"type": "string", "pattern": "^\\d+$"}, 'optional a: string pattern "^\\d+$"'),
    ({"type": "string", "format": "date-time"}, "optional a: string format date_time"),
    ({"type": "string", "format": "date_time"}, "optional a: string format date_time"),
    ({"type": "string", "format": "currency", "pattern": "^[A-Z]{3}$"}, "optional a: string format currency"),
    ({"type": "string", "pattern": "^[A-Z]{3}$"}, 'optional a: string pattern "^[A-Z]{3}$"'),
    ({"type": "string", "description": 'Say "hi"\n'}, 'optional a: string description "Say \\"hi\\"\\n"'),
    ({"anyOf": [{"type": "string", "maxLength": 3}, {"type": "null"}]},
     "optional a: string | null length <= 3"),
    ({"oneOf": [{"type": "integer", "enum": [1, 2]}, {"type": "null"}]}, "optional a: integer | null in [1, 2, null]"),
    ({"anyOf": [{"type": "object", "properties": {"b": {"type": "string"}}}, {"type": "string"}]},
     "optional a: object {\n  optional b: string\n} | string"),
    ({"properties": {"b": {"type": "string"}}, "required": ["b"]},
     "optional a: object {\n  required b: string\n} | any"),
    ({"type": "array", "items": {"type": "object", "description": "A line", "properties": {}}},
     'optional a: array of object {\n  description "A line"\n}'),
    ({"allOf": [{"type": ["integer", "null"]}, {"type": "number", "minimum": 1}]}, "optional a: integer >= 1"),
])
def test_keyword_mapping(schema: Any, expect: str) -> None:
    field, notes = one({"a": schema})
    assert notes == []
    assert "\n".join(l[2:] for l in _field_text(field).split("\n")) == expect


def _field_text(f: Field) -> str:
    from routeql.interchange.emit import field_lines

    return "\n".join(field_lines(f, 2))


def test_required_list_and_keys_without_a_schema() -> None:
    fields, notes = fields_of({"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a", "b", "a"]})
    assert notes == []
    assert [(f.path, f.required, [t.name for t in f.types]) for f in fields] == [
        (("a",), True, ["string"]), (("b",), True, ["any"])]


@pytest.mark.parametrize("schema,expect", [
    # required all the way down: dotted paths
    ({"type": "object", "properties": {"b": {"type": "string"}}, "required": ["b"]}, "required a.b: string"),
    # no type, nothing required: optional dotted paths
    ({"properties": {"b": {"properties": {"c": {"type": "string"}}}}}, "optional a.b.c: string"),
])
def test_grouping_objects_become_dotted_paths(schema: Any, expect: str) -> None:
    fields, notes = fields_of({"type": "object", "properties": {"a": schema},
                               "required": ["a"] if expect.startswith("required") else []})
    assert notes == []
    assert [_field_text(f).strip() for f in fields] == [expect]


def test_refs_are_resolved_and_described() -> None:
    schema = {"definitions": {"money": {"type": "number", "minimum": 0}, "alias": {"$ref": "#/definitions/money"}},
              "type": "object", "properties": {"properties": {"properties": {
                  "a": {"$ref": "#/definitions/alias", "description": "Amount"},
                  "b": {"$ref": "#/definitions/m%6Fney"}}}}}
    fields, notes = fields_of(schema)
    assert notes == []
    assert [_field_text(f).strip() for f in fields] == ['optional a: number >= 0 description "Amount"',
                                                         "optional b: number >= 0"]


def test_refs_into_the_whole_file_resolve_too() -> None:
    doc = {"definitions": {"id": {"type": "string", "format": "uuid"}},
           "rules": {"events": [{"name": "E", "rules": {"properties": {"id": {"$ref": "#/definitions/id"}}}}]}}
    entry = import_plans(doc).drafts[0].entries[0]
    assert _field_text(entry.fields[0]).strip() == "optional id: string format uuid"


@pytest.mark.parametrize("schema,fragment", [
    ({"definitions": {"n": {"type": "object", "properties": {"next": {"$ref": "#/definitions/n"}}}},
      "properties": {"a": {"$ref": "#/definitions/n"}}}, "recursive $ref"),
    ({"definitions": {"x": {"$ref": "#/definitions/y"}, "y": {"$ref": "#/definitions/x"}},
      "properties": {"a": {"$ref": "#/definitions/x"}}}, "recursive $ref"),
    ({"properties": {"a": {"$ref": "#/definitions/missing"}}}, "points nowhere"),
    ({"properties": {"a": {"$ref": 3}}}, "$ref must be a string"),
])
def test_bad_refs_are_errors_with_their_pointer(schema: Any, fragment: str) -> None:
    with pytest.raises(InterchangeError) as e:
        fields_of(schema)
    assert fragment in str(e.value)
    assert e.value.pointer.startswith("/rules/events/0/rules")
    assert e.value.pointer.endswith("$ref")


@pytest.mark.parametrize("keyword,value,fragment", [
    ("not", {"pattern": "bot"}, "not is not supported"),
    ("patternProperties", {"^x": {}}, "patternProperties"),
    ("dependencies", {"a": ["b"]}, "dependencies"),
    ("if", {"type": "string"}, "if/then/else"),
    ("multipleOf", 5, "multipleOf"),
    ("uniqueItems", True, "uniqueItems"),
    ("propertyNames", {"pattern": "^[a-z]+$"}, "propertyNames"),
    ("minProperties", 1, "minProperties"),
    ("contains", {"type": "string"}, "contains"),
    ("title", "A", "title is not kept"),
    ("default", 1, "default is not kept"),
    ("x-owner", "team", "unknown keyword 'x-owner'"),
])
def test_unsupported_keywords_are_noted_with_their_pointer(keyword: str, value: Any, fragment: str) -> None:
    field, notes = one({"a": {"type": "string", keyword: value}})
    assert [t.name for t in field.types] == ["string"]  # the rest of the schema still counts
    assert len(notes) == 1 and notes[0].startswith(f"{P}/{keyword}: ") and fragment in notes[0], notes


@pytest.mark.parametrize("schema,pointer,fragment,expect", [
    ({"type": "string", "minimum": 1}, "/minimum", "no effect on string", "optional a: string"),
    ({"type": "integer", "pattern": "x"}, "/pattern", "no effect on integer", "optional a: integer"),
    ({"type": "number", "format": "email"}, "/format", "no effect on number", "optional a: number"),
    ({"type": "string", "format": "time"}, "/format", "not one RouteQL checks", "optional a: string"),
    ({"type": "string", "pattern": "^(?!bot)"}, "/pattern", "not an RE2 regex", "optional a: string"),
    ({"minLength": 2}, "/minLength", "strings and arrays alike", "optional a: any"),
    ({"type": ["string", "array"], "minLength": 2, "minItems": 1}, "/minLength", "strings and arrays alike",
     "optional a: string | array"),
    ({"type": "string", "enum": ["x", 1, None]}, "/enum", "can never be valid", 'optional a: string in ["x"]'),
    ({"enum": [{"k": 1}]}, "/enum", "objects cannot be written", "optional a: any"),
    ({"type": "array", "items": {"type": "string", "enum": ["x"]}}, "/items", "constraints on array items",
     "optional a: array of string"),
    ({"type": "array", "items": {"type": ["string", "null"]}}, "/items", "several types", "optional a: array"),
    ({"type": "array", "items": [{"type": "string"}]}, "/items", "one schema per position", "optional a: array"),
    ({"type": "object", "additionalProperties": False, "properties": {}}, "/additionalProperties",
     "not enforced", "optional a: object {}"),
    ({"anyOf": [{"type": "string", "minLength": 1}, {"type": "integer", "minimum": 1}]}, "/anyOf",
     "cannot be expressed", "optional a: any"),
    ({"anyOf": [{"type": "string", "minLength": 1}, {"type": "array"}]}, "/anyOf", "length",
     "optional a: string | array"),
    ({"oneOf": [{"type": "integer"}, {"type": "number"}]}, "/oneOf", "read as anyOf", "optional a: integer | number"),
    ({"type": "string", "anyOf": [{"minLength": 1}]}, "/anyOf", "beside other keywords", "optional a: string"),
    ({"$ref": "other.json#/x"}, "/$ref", "not local", "optional a: any"),
    ({"type": "number", "minimum": 1, "exclusiveMinimum": True}, "/exclusiveMinimum", "draft-04",
     "optional a: number > 1"),
    ({"allOf": [{"type": "string"}, {"type": "integer"}]}, "/allOf", "nothing in common", "optional a: any"),
    ({"allOf": [{"minimum": 1}, {"minimum": 2}]}, "/allOf", "both say 'minimum'", "optional a: any"),
])
def test_approximations_are_noted_and_loose(schema: Any, pointer: str, fragment: str, expect: str) -> None:
    field, notes = one({"a": schema})
    assert _field_text(field).strip() == expect
    assert any(n.startswith(P + pointer + ": ") and fragment in n for n in notes), notes


def test_keywords_beside_ref_are_noted() -> None:
    fields, notes = fields_of({"definitions": {"x": {"type": "integer"}},
                               "properties": {"a": {"$ref": "#/definitions/x", "type": "string"}}})
    assert _field_text(fields[0]).strip() == "optional a: integer"
    assert notes == [f"{P}: keywords beside $ref are ignored in draft-07: type"]


def test_false_schemas_are_noted_and_dropped() -> None:
    fields, notes = fields_of({"properties": {"a": False, "b": {"type": "string"}}})
    assert [f.path for f in fields] == [("b",)]
    assert notes[0].startswith(f"{P}: ") and "may not be present" in notes[0]


def test_every_note_is_also_a_comment_above_the_plan() -> None:
    result = import_plans({"rules": {"events": [{"name": "E", "rules": {"properties": {
        "a": {"type": "string", "not": {"pattern": "bot"}, "uniqueItems": True}}}}]}}, file="f.json")
    assert len(result.notes) == 2
    assert "# routeql plan import: 2 notes (approximated or dropped):" in result.source
    for note in result.notes:
        assert f"# note: #{note.pointer}:" in result.source


# ------------------------------------------------------------------ document shapes


def test_public_api_rules_read_like_the_export(public_rules: Any) -> None:
    plan = public_rules.model.plans[0]
    assert [(e.kind, e.name) for e in plan.entries] == [
        ("track", "Order Completed"), ("track", "Signed Up"), ("identify", None), ("group", None),
        ("page", "Pricing")]
    assert plan.properties == "flag"  # additionalProperties false on every entry
    assert plan.entries[0].description == "An order was paid."


@pytest.mark.parametrize("versions,expect", [("oldest", "revenue"), ("latest", "total")])
def test_versions_pick_one_and_say_so(versions: str, expect: str) -> None:
    result = import_plans(load_json(PUBLIC), versions=versions)
    entry = result.drafts[0].entries[0]
    assert entry.name == "Order Completed" and expect in {f.path[0] for f in entry.fields}
    assert any("has versions 1, 2" in n.message for n in result.notes)


@pytest.mark.parametrize("doc", [
    {"name": "p", "rules": {"events": [{"name": "E", "rules": {"properties": {"a": {"type": "string"}}}}]}},
    {"tracking_plan": {"display_name": "p", "rules": {"events": [{"name": "E", "rules": {
        "properties": {"a": {"type": "string"}}}}]}}},
    {"data": {"trackingPlan": {"name": "p"}, "rules": [
        {"type": "TRACK", "key": "E", "jsonSchema": {"properties": {"a": {"type": "string"}}}}]}},
    {"name": "p", "rules": [{"type": "track", "key": "E", "json_schema": {"type": "object", "properties": {
        "properties": {"type": "object", "properties": {"a": {"type": "string"}}}}}}]},
    {"trackingPlans": [{"name": "p", "rules": {"events": [{"name": "E", "jsonSchema": {
        "properties": {"a": {"type": "string"}}}}]}}]},
])
def test_accepted_document_shapes(doc: Any) -> None:
    result = import_plans(doc)
    assert result.notes == ()
    d = result.drafts[0]
    assert d.name == "p" and [(e.kind, e.name, [f.path for f in e.fields]) for e in d.entries] == [
        ("track", "E", [("a",)])]


def test_identify_and_group_may_be_the_traits_schema_itself() -> None:
    doc = {"rules": {"identify_traits": {"properties": {"email": {"type": "string"}}},
                     "group": {"type": "object", "properties": {"traits": {"properties": {"name": {}}}}}}}
    entries = import_plans(doc).drafts[0].entries
    assert [(e.kind, [f.path for f in e.fields]) for e in entries] == [("identify", [("email",)]),
                                                                       ("group", [("name",)])]


def test_per_event_context_rules_are_noted() -> None:
    doc = {"rules": {"events": [{"name": "E", "rules": {"type": "object", "required": ["properties", "userId"],
                                                         "properties": {"context": {"required": ["ip"]},
                                                                        "properties": {}}}}]}}
    notes = [str(n) for n in import_plans(doc).notes]
    assert any("#/rules/events/0/rules/properties/context: per-event rules for context" in n for n in notes)
    assert any("requiring 'userId'" in n for n in notes)
    assert any("'properties' itself is required" in n for n in notes)


def test_several_plans_and_names() -> None:
    one_plan = {"rules": {"events": [{"name": "E", "rules": {}}]}}
    result = import_plans([{**one_plan, "name": "a"}, {**one_plan, "name": "when"}])
    rules = compile_plan(result.source)
    assert [p.name for p in rules.model.plans] == ["a", "when"]
    assert import_plans(one_plan, name="My Plan").source.startswith('plan "My Plan" {')
    unnamed = compile_plan(import_plans([one_plan, one_plan]).source)
    assert [p.name for p in unnamed.model.plans] == ["plan#1", "plan#2"]
    with pytest.raises(InterchangeError, match="appears twice"):
        import_plans([{**one_plan, "name": "a"}, {**one_plan, "name": "a"}])
    with pytest.raises(InterchangeError, match="renames one plan"):
        import_plans([{**one_plan, "name": "a"}, {**one_plan, "name": "b"}], name="x")


def test_empty_names() -> None:
    doc = {"display_name": "", "rules": [{"type": "TRACK", "key": "", "jsonSchema": {}},
                                         {"type": "PAGE", "key": "", "jsonSchema": {}}]}
    plan = compile_plan(import_plans(doc).source).model.plans[0]
    assert plan.name == "plan" and [(e.kind, e.name) for e in plan.entries] == [("track", ""), ("page", None)]


def test_settings_block_is_read_and_checked() -> None:
    doc = {"name": "p", "routeql": {"unplannedEvents": "block", "violations": "omit",
                                    "when": "context.source=='web'"}, "rules": {"events": []}}
    d = import_plans(doc).drafts[0]
    assert d.modes == {"events": "block", "violations": "omit"} and d.when == 'context.source = "web"'
    for block, pointer, fragment in (({"violations": "blok"}, "/routeql/violations", "did you mean block"),
                                     ({"when": "context.source ="}, "/routeql/when", "not a RouteQL condition"),
                                     ({"when": 3}, "/routeql/when", "a string")):
        with pytest.raises(InterchangeError) as e:
            import_plans({**doc, "routeql": block})
        assert e.value.pointer == pointer and fragment in str(e.value)


def test_additional_properties_decide_unplanned_properties() -> None:
    def doc(*closed: bool) -> Any:
        return {"rules": {"events": [
            {"name": f"E{i}", "rules": {"properties": {"properties": {
                "properties": {"a": {}}, **({"additionalProperties": False} if c else {})}}}}
            for i, c in enumerate(closed)]}}

    assert import_plans(doc(True, True)).drafts[0].modes == {"properties": "flag"}
    mixed = import_plans(doc(True, False))
    assert mixed.drafts[0].modes == {} and "not for every entry" in mixed.notes[0].message
    said = import_plans({**doc(True), "routeql": {"unplannedProperties": "allow"}})
    assert said.drafts[0].modes == {"properties": "allow"} and "the routeql setting wins" in said.notes[0].message


@pytest.mark.parametrize("doc,pointer,fragment", [
    (3, "", "expected a tracking plan"),
    ({"events": []}, "", "not a tracking plan"),
    ({"rules": 3}, "/rules", "rules must be an object"),
    ({"rules": {"events": {}}}, "/rules/events", "must be a list of events"),
    ({"rules": {"events": [3]}}, "/rules/events/0", "an event must be an object"),
    ({"rules": {"events": [{"rules": {}}]}}, "/rules/events/0/name", "needs its name"),
    ({"rules": {"events": [{"name": "E", "version": "2"}]}}, "/rules/events/0/version", "integer"),
    ({"rules": {"events": [{"name": "E"}, {"name": "E"}]}}, "/rules/events/1", "defined twice"),
    ({"rules": [{"type": "EVENT", "key": "E", "jsonSchema": {}}]}, "/rules/0/type", "rule type must be"),
    ({"rules": {"events": [{"name": "E", "rules": {"properties": {"a": {"type": "str"}}}}]}},
     "/rules/events/0/rules/properties/a/type", "unknown type 'str' (did you mean string?)"),
    ({"rules": {"events": [{"name": "E", "rules": {"properties": {"a": {"type": "Date time"}}}}]}},
     "/rules/events/0/rules/properties/a/type", '"format": "date-time"'),
    ({"rules": {"events": [{"name": "E", "rules": {"properties": {"a": {"type": []}}}}]}},
     "/rules/events/0/rules/properties/a/type", "empty type list"),
    ({"rules": {"events": [{"name": "E", "rules": {"properties": {"a": {"minimum": "1"}}}}]}},
     "/rules/events/0/rules/properties/a/minimum", "finite number"),
    ({"rules": {"events": [{"name": "E", "rules": {"properties": {"a": {"maxLength": -1}}}}]}},
     "/rules/events/0/rules/properties/a/maxLength", "non-negative integer"),
    ({"rules": {"events": [{"name": "E", "rules": {"properties": {"a": {"enum": "x"}}}}]}},
     "/rules/events/0/rules/properties/a/enum", "enum must be a list"),
    ({"rules": {"events": [{"name": "E", "rules": {"properties": []}}]}},
     "/rules/events/0/rules/properties", "properties must be an object"),
    ({"rules": {"events": [{"name": "E", "rules": {"required": "a"}}]}},
     "/rules/events/0/rules/required", "list of property names"),
    ({"rules": {"events": [{"name": "E", "rules": {"properties": {"a": 3}}}]}},
     "/rules/events/0/rules/properties/a", "a schema must be an object or a boolean"),
    ({"rules": {"events": [{"name": "a/b~c", "rules": {"properties": {"x~y/z": {"type": 1}}}}]}},
     "/rules/events/0/rules/properties/x~0y~1z/type", "type must be"),
])
def test_malformed_documents_are_errors_with_a_pointer(doc: Any, pointer: str, fragment: str) -> None:
    with pytest.raises(InterchangeError) as e:
        import_plans(doc, file="plan.json")
    assert e.value.pointer == pointer, str(e.value)
    assert fragment in str(e.value)
    assert str(e.value).startswith(f"plan.json#{pointer}: ")


def test_deeply_nested_documents_are_an_error_not_a_crash() -> None:
    schema: Any = {"type": "string"}
    for _ in range(3000):
        schema = {"type": "object", "properties": {"a": schema}}
    with pytest.raises(InterchangeError, match="nested too deeply"):
        import_plans({"rules": {"events": [{"name": "E", "rules": schema}]}})


# ------------------------------------------------------------------ the printed source


@pytest.mark.parametrize("key", ["", "true", "in", "description", "required", "a.b", "a b", "a`b", "1st", "é",
                                 "consent", "string", "plan", "#x"])
def test_any_key_and_name_reads_back(key: str) -> None:
    name = f'Event "{key}"\\'
    d = Draft(key or "p", entries=[Entry("track", name, [Field((key, key), True, [Type("string")],
                                                               enum=[key], pattern=key or "x", description=key)])])
    plan = compile_plan(format_plan(d)).model.plans[0]
    f = plan.entries[0].fields[0]
    assert (plan.name, plan.entries[0].name, f.path, f.enum, f.description) == (key or "p", name, (key, key),
                                                                              (key,), key)


def test_long_lines_wrap_and_still_read_back() -> None:
    values = [f"value_number_{i}" for i in range(30)]
    d = Draft("p", entries=[Entry("track", "E", [
        Field(("a",), True, [Type("string")], enum=values, description="d" * 120),
        Field(("b",) * 8, False, [Type("string")], enum=values[:6], pattern="^x+$" * 5, description="short"),
    ])])
    text = format_plan(d)
    assert max(len(line) for line in text.split("\n") if "d" * 120 not in line) <= 100
    plan = compile_plan(text).model.plans[0]
    assert plan.entries[0].fields[0].enum == tuple(values)
    assert plan.entries[0].fields[1].enum == tuple(values[:6])


def test_path_text_quotes_only_what_needs_it() -> None:
    assert path_text(("context", "library", "name")) == "context.library.name"
    assert path_text(("a.b", "c")) == "`a.b`.c"


# ------------------------------------------------------------------ export specifics


def test_export_shapes(bundled: routeql.RuleSet) -> None:
    docs = export_plans(bundled)
    assert isinstance(docs, list) and [d["name"] for d in docs] == ["shop", "flowboard"]
    shop = export_plans(bundled, "shop")
    assert shop["routeql"] == {"unplannedEvents": "flag", "unplannedProperties": "flag", "violations": "flag",
                               "when": 'context.source = "acme-shop"'}
    event = shop["rules"]["events"][0]
    assert event["name"] == "Product Viewed" and event["version"] == 1
    assert event["rules"]["$schema"] == DRAFT_07 == "http://json-schema.org/draft-07/schema#"
    assert event["rules"]["required"] == ["properties"]
    assert event["rules"]["properties"]["properties"]["additionalProperties"] is False
    assert shop["rules"]["identify"]["description"] == "Who the shopper is."
    rules = export_plans(bundled, "flowboard", layout="rules")["rules"]
    assert [r["type"] for r in rules][-1] == "GROUP" and rules[0]["key"] == "Signed Up"
    jsonschema.Draft7Validator.check_schema(event["rules"])
    with pytest.raises(InterchangeError, match="did you mean 'shop'"):
        export_plans(bundled, "shopp")
    with pytest.raises(InterchangeError, match="no tracking plan"):
        export_plans(routeql.loads("destination d {}"))


def test_export_keyword_mapping() -> None:
    plan = compile_plan('plan p { track "E" {\n'
                        '  required a: string | null length > 1 length < 5 pattern "^a" format date_time\n'
                        '  optional b: number >= 1 >= 2 > 0 <= 9 < 10 < 8\n'
                        '  optional c: any length >= 1\n'
                        '  optional d: string format currency\n'
                        '  optional e: array of array of boolean length <= 3\n'
                        '  optional f: object { optional g: null } | integer in [1, 2]\n'
                        '} }').model.plans[0]
    props = export_plan(plan)["rules"]["events"][0]["rules"]["properties"]["properties"]["properties"]
    assert props["a"] == {"type": ["string", "null"], "minLength": 2, "maxLength": 4, "pattern": "^a",
                          "format": "date-time"}
    assert props["b"] == {"type": "number", "minimum": 2, "exclusiveMinimum": 0, "maximum": 9, "exclusiveMaximum": 8}
    assert props["c"] == {"minLength": 1, "minItems": 1}
    assert props["d"] == {"type": "string", "format": "currency", "pattern": "^[A-Z]{3}$"}
    assert props["e"] == {"type": "array", "items": {"type": "array", "items": {"type": "boolean"}}, "maxItems": 3}
    assert props["f"] == {"type": ["object", "integer"], "properties": {"g": {"type": "null"}}, "enum": [1, 2]}


def test_export_nests_dotted_paths_exactly() -> None:
    plan = compile_plan('plan p { common { required context.library.name: string\n'
                        '  optional context.device.id: string\n  optional context: object\n } }').model.plans[0]
    schema = export_plan(plan)["rules"]["global"]
    ctx = schema["properties"]["context"]
    assert schema["required"] == ["context"]
    assert ctx == {"allOf": [{"type": "object"}, {
        "type": "object", "required": ["library"], "properties": {
            "library": {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]},
            "device": {"properties": {"id": {"type": "string"}}}}}]}


# ------------------------------------------------------------------ the CLI


def cli(*args: str, stdin: str | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "routeql.cli", *args], input=stdin, capture_output=True,
                          text=True, cwd=cwd, timeout=60)


def test_cli_import_then_check(tmp_path: Path) -> None:
    out = tmp_path / "plan.rq"
    r = cli("plan", "import", str(SEGMENT), "-o", str(out))
    assert r.returncode == 0, r.stderr
    assert f"wrote {out}" in r.stderr
    assert out.read_text(encoding="utf-8").count('track "') == 27
    r = cli("check", str(out))
    assert r.returncode == 0 and "0 errors, 0 warnings" in r.stdout, r.stdout + r.stderr


def test_cli_export_round_trip(tmp_path: Path) -> None:
    out = tmp_path / "out.json"
    r = cli("plan", "export", str(ROOT / "rules"), "-o", str(out))
    assert r.returncode == 0, r.stderr
    docs = json.loads(out.read_text(encoding="utf-8"))
    assert [d["name"] for d in docs] == ["shop", "flowboard"]
    r = cli("plan", "import", str(out), "-o", str(tmp_path / "back.rq"))
    assert r.returncode == 0 and r.stderr.count("note:") == 0, r.stderr
    assert cli("check", str(tmp_path / "back.rq")).returncode == 0


def test_cli_stdin_and_stdout() -> None:
    r = cli("plan", "export", "-", "--layout", "rules", "--indent", "0",
            stdin='plan web { identify { optional email: string format email } }')
    assert r.returncode == 0, r.stderr
    assert "\n" not in r.stdout.strip()
    doc = json.loads(r.stdout)
    assert doc["rules"][0]["type"] == "IDENTIFY"
    r = cli("plan", "import", "-", "-o", "-", stdin=r.stdout)
    assert r.returncode == 0 and "\nplan web {\n" in r.stdout, r.stdout + r.stderr
    assert r.stdout.startswith("# Tracking plan imported from stdin by `routeql plan import`.")
    assert "optional email: string format email" in r.stdout


def test_cli_notes_and_strict(tmp_path: Path) -> None:
    path = tmp_path / "p.json"
    path.write_text(json.dumps({"rules": {"events": [{"name": "E", "rules": {"properties": {
        "a": {"type": "string", "not": {"pattern": "x"}}}}}]}}), encoding="utf-8")
    r = cli("plan", "import", str(path))
    assert r.returncode == 0
    assert "note: p.json#/rules/events/0/rules/properties/a/not: not is not supported" in r.stderr
    assert "# note: #/rules/events/0/rules/properties/a/not" in r.stdout
    assert cli("plan", "import", str(path), "--strict").returncode == 1


@pytest.mark.parametrize("args,stdin,fragment", [
    (("plan", "import", "-"), '{"rules": [}', "stdin:1:12: not JSON"),
    (("plan", "import", "-"), '{"rules": {"events": [{"name": 1}]}}', "stdin#/rules/events/0/name"),
    (("plan", "import", "missing.json"), None, "missing.json: cannot read"),
    (("plan", "export", "-"), "plan p { track E {} }", "error"),
    (("plan", "export", "-", "--plan", "q"), "plan p {}", "no tracking plan named 'q'"),
    (("plan",), None, "say what to do"),
])
def test_cli_errors_exit_2(args: tuple[str, ...], stdin: str | None, fragment: str, tmp_path: Path) -> None:
    r = cli(*args, stdin=stdin, cwd=tmp_path)
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert fragment in r.stderr


def test_cli_help_has_examples() -> None:
    for args in (("plan", "import", "--help"), ("plan", "export", "--help")):
        r = cli(*args)
        assert r.returncode == 0 and "examples:" in r.stdout


# ------------------------------------------------------------------ the docs stay true


def test_docs_examples_are_what_the_commands_print() -> None:
    """docs/cli/plan.md shows a JSON input and the RouteQL import prints for it, and a
    RouteQL plan with the JSON export prints for it: both are checked here."""
    text = (ROOT / "docs" / "cli" / "plan.md").read_text(encoding="utf-8")
    import re

    blocks = dict(re.findall(r"<!-- (\w+) -->\n```\w+\n(.*?)```", text, re.S))
    assert {"import_in", "import_out", "export_in", "export_out"} <= set(blocks)
    assert import_plans(json.loads(blocks["import_in"])).source == blocks["import_out"]
    exported = export_plans(routeql.loads(blocks["export_in"]))
    assert json.dumps(exported, indent=2, ensure_ascii=False) + "\n" == blocks["export_out"]
