"""Parsing: every construct, exact error texts, every error at once, AST round trips."""

from __future__ import annotations

from pathlib import Path

import pytest

from routeql import nodes as n
from routeql.errors import RouteQLSyntaxError
from routeql.parse import grammar_text, parse, parse_condition, parser

from lark import Lark


def test_grammar_builds_in_strict_mode() -> None:
    # strict=True turns shift/reduce conflicts and terminal collisions into errors
    Lark(grammar_text(), parser="lalr", strict=True, propagate_positions=True, maybe_placeholders=True)


def test_parser_is_built_once_per_process() -> None:
    assert parser() is parser()


FULL = '''
# a comment at the top
consent {
  category analytics from segment "Analytics", rudderstack "C0002"
  category advertising from segment "Advertising"
  opt-out advertising by segment "x"
  regime eea opt_in when context.location.country in $EEA
  regime opt_out when context.location.country = "US"
  default regime opt_in
  compat segment
  signal segment at context.consent, context.cmp
}
classify {
  pii.email = context.traits.email, traits.email
  pii.ip = context.ip
}
define $EEA = ["DE", "FR",]
define purchase = type = "track" and event == "Order Completed"
destination google_ads tagged ads, paid alias "Google Ads", "AdWords" {
  requires any of advertising, analytics
  requires analytics
  when purchase and properties.revenue >= 0.5 and not (x.`odd key` in [1, 2.5, null, true])
  when !contains(event, 'x') || event matches "Product *" && userId exists
  keep userId, event, properties.products.sku, properties.*
  drop pii.* unless consent advertising
  hash context.traits.email with sha256 salt env "SALT" if type = "identify"
  hash traits.phone salt config "phone"
  redact traits.phone with "***"
  truncate context.ip to /24 /48
  truncate properties.name to 10
  truncate timestamp to day
  sample 12.5% by userId if type = "track"
  sample 50%
}
policy "no pii" {
  forbid pii.* to tagged ads, google_ads unless consent advertising
  forbid events to all if event matches regex r"^Health"
  require consent any of analytics for tagged analytics
}
policy plain { forbid events to google_ads }
'''


def test_every_construct_parses() -> None:
    m = parse(FULL, "full.rq")
    kinds = [type(d).__name__ for d in m.decls]
    assert kinds == ["ConsentBlock", "Classify", "ListDefine", "Define", "Destination", "Policy", "Policy"]
    dest = m.decls[4]
    assert isinstance(dest, n.Destination)
    assert dest.tags == ("ads", "paid") and dest.aliases == ("Google Ads", "AdWords")
    body = [type(s).__name__ for s in dest.body]
    assert body == ["Requires", "Requires", "When", "When", "Keep", "Drop", "Hash", "Hash", "Redact",
                    "Truncate", "Truncate", "Truncate", "Sample", "Sample"]
    assert m.comments[0].text == "# a comment at the top"


def test_node_details() -> None:
    m = parse(FULL, "full.rq")
    dest = m.decls[4]
    req = dest.body[0]
    assert req == n.Requires(("advertising", "analytics"), any=True)
    trunc = dest.body[9]
    assert (trunc.kind, trunc.v4, trunc.v6) == ("ip", 24, 48)
    assert dest.body[10].length == 10 and dest.body[11].unit == "day"
    sample = dest.body[12]
    assert sample.percent == 12.5 and str(sample.by) == "userId" and not sample.guard.unless
    h = dest.body[6]
    assert h.salt == n.Salt("env", "SALT") and h.explicit_algorithm
    keep = dest.body[4]
    assert [str(t) for t in keep.targets] == ["userId", "event", "properties.products.sku", "properties.*"]
    when = dest.body[2].expr
    assert isinstance(when.items[2], n.Not)
    inner = when.items[2].operand
    assert inner.left == n.Path(("x", "odd key")) and inner.right == n.Literal((1, 2.5, None, True))
    lists = m.decls[2]
    assert lists.name == "EEA" and lists.values.value == ("DE", "FR")
    assert m.decls[3].expr.items[1].op == "="  # == is accepted and means =


def test_precedence_and_binds_tighter_than_or() -> None:
    c = parse_condition("a = 1 or b = 2 and c = 3")
    assert isinstance(c, n.Or) and isinstance(c.items[1], n.And)
    c = parse_condition("not a = 1 and b = 2")
    assert isinstance(c, n.And) and isinstance(c.items[0], n.Not)


def test_keywords_are_fine_as_keys_after_a_dot() -> None:
    c = parse_condition("properties.in = 1 and context.consent.when exists")
    assert c.items[0].left == n.Path(("properties", "in"))
    assert c.items[1].operand == n.Path(("context", "consent", "when"))


def test_paths_with_indexes_and_backticks() -> None:
    c = parse_condition(r"properties.products[0].`unit price` > 1 and `consent`.x = 'a\'b'")
    assert c.items[0].left.segments == ("properties", "products", 0, "unit price")
    assert c.items[1].left.segments == ("consent", "x")
    assert c.items[1].right.value == "a'b"


def test_string_escapes_and_raw_strings() -> None:
    c = parse_condition(r'a = "tab\there\u00e9\u{1F600}" and b matches regex r"^\d+$"')
    assert c.items[0].right.value == "tab\there\u00e9\U0001F600"
    assert c.items[1].pattern.value == r"^\d+$"


def test_spans_point_at_source_and_do_not_affect_equality() -> None:
    a = parse("define x = userId exists", "a.rq").decls[0]
    b = parse("\n\n   define x =\n userId   exists", "b.rq").decls[0]
    assert a == b
    assert (a.span.file, a.span.line, a.span.col) == ("a.rq", 1, 1)
    assert (b.span.file, b.span.line, b.span.col) == ("b.rq", 3, 4)


def test_dump_round_trips() -> None:
    m = parse(FULL, "full.rq")
    for decl in m.decls:
        assert n.load(n.dump(decl)) == decl
    d = m.decls[4]
    with_spans = n.load(n.dump(d, spans=True))
    assert with_spans.span == d.span


def errors_of(text: str) -> list[str]:
    with pytest.raises(RouteQLSyntaxError) as info:
        parse(text, "bad.rq")
    return [d.render() for d in info.value.diagnostics]


def test_golden_unknown_statement() -> None:
    assert errors_of("destination x {\n  kep userId\n}\n") == [
        "bad.rq:2:3: error[RQ106]: unknown statement 'kep' in destination\n"
        "    2 |   kep userId\n"
        "      |   ^^^\n"
        "hint: did you mean 'keep'?"
    ]


def test_golden_unclosed_string() -> None:
    assert errors_of('destination x { when type = "track }') == [
        'bad.rq:1:29: error[RQ102]: unclosed string\n'
        '    1 | destination x { when type = "track }\n'
        '      |                             ^^^^^^^^\n'
        'hint: a string ends on the line it starts on; close it with "'
    ]


def test_golden_unclosed_block_points_at_the_brace() -> None:
    assert errors_of("destination x {\n  keep a\n") == [
        "bad.rq:1:15: error[RQ103]: unclosed block: this '{' is never closed\n"
        "    1 | destination x {\n"
        "      |               ^\n"
        "hint: add the closing '}'"
    ]


def test_statement_outside_a_block() -> None:
    [msg] = errors_of("keep userId")
    assert "expected a declaration, found 'keep'" in msg
    assert "hint: 'keep' belongs inside a destination { ... } block" in msg


def test_list_elements_must_be_constants() -> None:
    [msg] = errors_of("define x = event in [a, b]")
    assert "RQ110" in msg and "list elements must be constants" in msg


def test_invalid_escape() -> None:
    [msg] = errors_of(r'define x = a = "\uZZ"')
    assert "RQ104" in msg and r"invalid escape '\u'" in msg


def test_unknown_escapes_keep_their_backslash() -> None:
    # so regexes read naturally and Segment FQL strings (no escapes at all) carry over
    c = parse_condition(r'a matches regex "^\d+$" and b matches "ab\*d"')
    assert c.items[0].pattern.value == r"^\d+$" and c.items[1].pattern.value == r"ab\*d"


def test_every_error_at_once() -> None:
    msgs = errors_of(
        "destination x {\n  kep userId\n}\n"
        "destination y { when = 3 }\n"
        'policy "p" { forbd a to all }\n'
        "define ok = userId exists\n"
    )
    assert [m.split(": ")[0] for m in msgs] == ["bad.rq:2:3", "bad.rq:4:22", "bad.rq:5:14"]
    assert "did you mean 'forbid'?" in msgs[2]


def test_limits_on_literals_and_nesting() -> None:
    [msg] = errors_of("define x = a = " + "(" * 100 + "b = 1" + ")" * 100)
    assert "RQ105" in msg and "nesting deeper than 64 levels" in msg
    [msg] = errors_of('define x = a = "' + "x" * 100_001 + '"')
    assert "RQ105" in msg
    [msg] = errors_of("define x = a = " + "9" * 101)
    assert "RQ105" in msg


def test_non_text_input_is_a_syntax_error() -> None:
    with pytest.raises(RouteQLSyntaxError):
        parse(b"destination x {}", "x.rq")  # type: ignore[arg-type]


def test_predicate_parse_errors_have_positions() -> None:
    with pytest.raises(RouteQLSyntaxError) as info:
        parse_condition("a = ")
    assert info.value.diagnostics[0].span.line == 1


def test_a_byte_order_mark_is_not_part_of_the_rules(tmp_path: Path) -> None:
    # (Windows editors save UTF-8 with one; it used to be "unexpected character '\ufeff'")
    import routeql
    from routeql.fmt import format_source

    text = 'destination d {\n  when event = "A"\n}\n'
    assert parse("\ufeff" + text, "f.rq") == parse(text, "f.rq")
    with pytest.raises(RouteQLSyntaxError) as e:
        parse("\ufeffdestination d { when event = }\n", "f.rq")
    assert e.value.diagnostics[0].span.col == 30  # columns count what the editor shows
    path = tmp_path / "bom.rq"
    path.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    assert routeql.load(path).decide({"type": "track", "event": "A"}) == ("d",)
    assert format_source("\ufeff" + text, "f.rq") == text  # the canonical layout has none
