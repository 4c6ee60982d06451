"""The checker: every problem at once, stable codes, positions, hints, "did you mean"."""

from __future__ import annotations

import pytest

import routeql
from routeql.codes import CODES
from routeql.engine import compile_sources
from routeql.errors import RouteQLCheckError, RouteQLError


def problems(text: str) -> list[tuple[str, str, str | None]]:
    with pytest.raises(RouteQLError) as info:
        routeql.loads(text, "t.rq")
    return [(d.code, d.message, d.hint) for d in info.value.diagnostics]


CASES = [
    ('destination google_ads tagged ads {}\npolicy p { forbid events to gogle_ads }',
     ("RQ201", "unknown destination 'gogle_ads'", "did you mean 'google_ads'?")),
    ('destination a tagged ads {}\npolicy p { forbid events to tagged adz }',
     ("RQ202", "unknown tag 'adz'", "did you mean 'ads'?")),
    ('classify { pii.email = traits.email }\ndestination a { drop pii.emial }',
     ("RQ203", "unknown data class 'pii.emial'", "did you mean 'pii.email'?")),
    ('classify { pii.email = traits.email }\ndestination a { drop pii }',
     ("RQ203", "unknown data class 'pii'", "did you mean 'pii.*'?")),
    ('define purchase = event = "x"\ndestination a { when purchse }',
     ("RQ204", "unknown named predicate 'purchse'", "did you mean 'purchase'?")),
    ('define $EEA = ["DE"]\ndestination a { when x in $EAA }',
     ("RQ205", "unknown value list '$EAA'", "did you mean '$EEA'?")),
    ('consent { category analytics from segment "A" }\ndestination a { requires analytcs }',
     ("RQ206", "unknown consent category 'analytcs'", "did you mean 'analytics'?")),
    ('destination a { requires analytics }',
     ("RQ206", "unknown consent category 'analytics'", "add a consent { category ... } block")),
    ('destination a {}\ndestination a {}',
     ("RQ200", "duplicate destination 'a'", "names are global across the rule set; rename one")),
    ('consent { category a }\nconsent { category b }',
     ("RQ207", "more than one consent block", "merge them: a rule set has one consent block")),
    ('destination a { when lowr(event) = "x" }', ("RQ208", "unknown function 'lowr'", "did you mean 'lower'?")),
    ('consent { category a from segmnt "A" }', ("RQ209", "unknown consent format 'segmnt'", "did you mean 'segment'?")),
    ('consent { category a from segment }', ("RQ210", "segment: expected at least 1 argument", None)),
    ('define a = b\ndefine b = a\ndestination x { when a }', ("RQ211", "named predicate 'a' refers to itself (a -> b -> a)", None)),
    ('classify { context.x = traits.email }',
     ("RQ212", "data class 'context.x' starts with the event field 'context'",
      "class names are used like paths in field actions; pick a name such as pii.email")),
    ('destination a { when length(a, b) = 1 }', ("RQ300", "length() takes 1 argument, got 2", None)),
    ('destination a { when event = 5 }',
     ("RQ301", "'event' is a string, never a number", 'RouteQL never converts between types: "10" is not 10')),
    ('destination a { when x > true }',
     ("RQ301", "`>` compares numbers or strings, not a bool", "ordering with null, booleans or lists is always false")),
    ('destination a { when length(x) > "a" }',
     ("RQ301", "length() (a number) cannot be ordered against 'a' (a string)", "RouteQL never converts between types")),
    ('destination a { when x in 5 }',
     ("RQ301", "the right side of `in` must be a list or a path to one", "write in [ ... ], or compare with =")),
    ('destination a { when type = "trak" }', ("RQ302", "'trak' is not an event type", "did you mean 'track'?")),
    ('destination a { when type in ["track", "idenfity"] }', ("RQ302", "'idenfity' is not an event type", "did you mean 'identify'?")),
    ('destination a { when x matches regex "(a" }',
     ("RQ303", "invalid regex pattern: missing ): (a", "RE2 syntax; lookarounds and backreferences are not supported")),
    ('destination a { when x matches regex "(?=a)" }', None),  # lookahead: RE2 rejects it
    ('destination a { when x matches "[a" }',
     ("RQ303", "invalid glob pattern: unclosed '[' in pattern", "globs: * any text, ? one char, [a-z] a class, \\ escapes")),
    ('destination a { when x matches y }',
     ("RQ304", "a glob pattern must be a constant string", 'write the pattern in quotes: matches "Product *"')),
    ('destination a { keep traits.email\n drop traits.email }',
     ("RQ305", "'traits.email' is kept and dropped by the same destination", "remove it from `keep` (line 1) or from `drop`")),
    ('destination a { keep traits.email\n drop traits }',
     ("RQ305", "'traits.email' is kept and dropped by the same destination", "remove it from `keep` (line 1) or from `drop`")),
    ('destination a { when type = "track" and type = "page" }',
     ("RQ306", "destination 'a' can never receive anything: 'type' cannot take two different values",
      "its conditions contradict each other")),
    ('destination a { when userId exists\n when userId missing }',
     ("RQ306", "destination 'a' can never receive anything: 'userId' cannot both exist and be missing",
      "its conditions contradict each other")),
    ('destination a { when false }',
     ("RQ306", "destination 'a' can never receive anything: this condition is always false",
      "remove the destination, or fix the condition")),
    ('destination a { sample 0% }', ("RQ306", "destination 'a' can never receive anything: it samples 0%", None)),
    ('destination a { sample 120% }', ("RQ307", "sample 120% is not between 0% and 100%", None)),
    ('destination a { truncate x to /40 /48 }', ("RQ308", "an IPv4 prefix is /0 to /32, not /40", None)),
    ('destination a { truncate x to dya }', ("RQ308", "cannot truncate to 'dya'", "did you mean 'day'?")),
    ('destination a { hash x with md5 }', ("RQ309", "unknown hash algorithm 'md5'", "supported: sha256")),
    ('destination a { when properties.* = 1 }',
     ("RQ310", "wildcards are only allowed in field actions", "to test list elements use contains(list, value) or `value in list`")),
    ('destination a { drop properties.products[0] }',
     ("RQ310", "field actions apply to every element; an index is not allowed",
      "write properties.products.sku to act on the sku of every product")),
    ('destination a { when context.gpc }',
     ("RQ311", "the field 'context.gpc' is not a condition", "compare it (`context.gpc = true`) or test presence (`context.gpc exists`)")),
    ('destination a { when lower(event) }', ("RQ311", "lower() gives a value, not a condition", 'compare it, e.g. lower(...) = "..."')),
    ('consent { category a from segment "A"\n regime opt_in when consent a }',
     ("RQ312", "a regime condition cannot test consent",
      "the regime decides what missing consent means; test jurisdiction fields instead")),
    ('destination a { when typeof(x) = "boolean" }',
     ("RQ302", "typeof() never returns 'boolean'",
      "typeof() returns one of: bool, list, null, number, object, string (booleans are 'bool')")),
    ('destination a alias "X" {}\ndestination b alias "X" {}',
     ("RQ200", "'X' already names destination 'a'", "each name or alias must address one destination in the integrations object")),
]


@pytest.mark.parametrize("text,expected", CASES, ids=[c[1][0] if c[1] else "lookahead" for c in CASES])
def test_diagnostic(text: str, expected: tuple[str, str, str | None] | None) -> None:
    found = problems(text)
    if expected is None:
        assert found and found[0][0] == "RQ303"
        return
    assert expected in found, found
    assert len(found) == 1, f"cascading diagnostics: {found}"


def test_every_code_used_is_registered() -> None:
    for _, expected in CASES:
        if expected:
            assert expected[0] in CODES


def test_every_problem_at_once_with_positions() -> None:
    text = (
        'consent { category analytics from segment "A" }\n'
        "destination a {\n"
        "  requires analytcs\n"
        '  when type = "trak"\n'
        "}\n"
        "policy p { forbid events to b }\n"
    )
    with pytest.raises(RouteQLCheckError) as info:
        routeql.loads(text, "t.rq")
    got = [(d.code, d.span.line, d.span.col) for d in info.value.diagnostics]
    assert got == [("RQ206", 3, 12), ("RQ302", 4, 15), ("RQ201", 6, 29)]


def test_golden_rendering() -> None:
    with pytest.raises(RouteQLCheckError) as info:
        routeql.loads("destination google_ads {}\npolicy p {\n  forbid events to gogle_ads\n}\n", "ads.rq")
    assert str(info.value) == (
        "1 error in rules:\n\n"
        "ads.rq:3:20: error[RQ201]: unknown destination 'gogle_ads'\n"
        "    3 |   forbid events to gogle_ads\n"
        "      |                    ^^^^^^^^^\n"
        "hint: did you mean 'google_ads'?"
    )


def test_duplicates_across_files_name_the_first_definition() -> None:
    with pytest.raises(RouteQLCheckError) as info:
        compile_sources({"a.rq": "destination x {}\n", "b.rq": "\ndestination x {}\n"})
    [d] = info.value.diagnostics
    assert d.code == "RQ200" and d.span.file == "b.rq" and d.span.line == 2
    assert d.notes == ("first defined at a.rq:1:1",)


def test_names_are_global_across_files() -> None:
    rules = compile_sources({
        "consent.rq": 'consent { category analytics from segment "Analytics" }',
        "defs.rq": 'define tracked = type = "track"',
        "dest.rq": "destination a tagged x { requires analytics when tracked }",
        "pol.rq": "policy p { forbid events to tagged x if event = \"Spam\" }",
    })
    assert rules.destinations == ("a",)


def test_warnings_do_not_block_loading() -> None:
    rules = routeql.loads('destination a { when 1 = 1 and type = "track" }\npolicy p { forbid events to a }', "t.rq")
    codes = sorted(w.code for w in rules.warnings)
    assert codes == ["RQ306", "RQ313"]


def test_bundled_rules_check_clean(bundled: routeql.RuleSet) -> None:
    assert bundled.warnings == ()
    assert len(bundled.destinations) >= 12


def test_salts_must_be_available_at_load(monkeypatch: pytest.MonkeyPatch) -> None:
    text = 'destination a { hash traits.email salt env "RQ_TEST_SALT" }'
    monkeypatch.delenv("RQ_TEST_SALT", raising=False)
    with pytest.raises(RouteQLError) as info:
        routeql.loads(text)
    assert info.value.diagnostics[0].code == "RQ400"
    monkeypatch.setenv("RQ_TEST_SALT", "pepper")
    routeql.loads(text)
    with pytest.raises(RouteQLError):
        routeql.loads('destination a { hash traits.email salt config "s" }')
    routeql.loads('destination a { hash traits.email salt config "s" }', salts={"s": "x"})


@pytest.mark.parametrize(("action", "warned", "hint"), [
    ("keep properties.products[*].sku", True, "write properties.products.sku for every element's field"),
    ("drop properties.products[ * ].sku, userId", True, "write properties.products.sku for every element's field"),
    ("hash properties.a[*].b[*].c", True, "write properties.a.b.c for every element's field"),
    ("keep properties.products.*.sku", False, None),  # written as a key wildcard: meant
    ("drop properties.products[*]", False, None),  # the whole of each element: what it says
    ("keep properties.products.sku", False, None),
])
def test_a_bracket_star_in_an_action_path_warns(action: str, warned: bool, hint: str | None) -> None:
    rules = routeql.loads(f"destination d {{\n  {action}\n}}\n", "t.rq")
    found = [w for w in rules.warnings if w.code == "RQ319"]
    assert bool(found) is warned
    if warned:
        assert found[0].hint == hint and found[0].span.line == 2
        # the warning is about what it does: the path reaches nothing in a list of flat products
        e = {"type": "track", "event": "x", "properties": {"products": [{"sku": "a"}]}}
        if action.startswith("keep"):
            assert rules.route(e).deliveries["d"] == {"properties": {"products": [{}]}}


@pytest.mark.parametrize("condition", ['properties.category matches "Product *\ud800"', 'event matches "[ab]\ud800*"',
                                       'event matches regex "a\ud800"'])
def test_a_pattern_holding_a_lone_surrogate_is_a_diagnostic_not_a_crash(condition: str) -> None:
    """Only Python callers can pass one (a UTF-8 file cannot hold it, and `\\ud800` escapes
    are refused): RE2 takes UTF-8, so the checker compiles each pattern as codegen will."""
    [(code, message, _)] = problems(f"destination d {{ when {condition} }}")
    assert code == "RQ303" and "lone surrogate" in message
