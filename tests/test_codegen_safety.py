"""Code-generation safety: hostile names and literals in rules cannot inject code or crash
the compiler.  One test per attack.

Every attack is compiled twice: once as written, once with each hostile name and literal
replaced by a plain one.  The two generated modules must have exactly the same shape
(``ast.dump`` with string and number constants blanked): user text reaches the generated
code only ever as a constant, never as code or an identifier.  Then the hostile rules must
route as they say, and the source must hold nothing but printable characters and newlines
(no bidi controls: "trojan source").
"""

from __future__ import annotations

import ast
import builtins
import functools
import os
import re
from pathlib import Path
from typing import Any

import pytest

import routeql
from routeql.codegen import RUNTIME_NAMES
from routeql.errors import RouteQLError
from routeql.parse import MAX_NESTING, MAX_NUMBER_DIGITS

TRACK = {"type": "track", "event": "Order Completed", "userId": "u1"}


def shape(source: str) -> str:
    """The generated module with every string and number constant blanked."""
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and type(node.value) in (str, int, float):
            node.value = "<const>"
    return ast.dump(tree)


def compile_twins(hostile: str, plain: str) -> routeql.RuleSet:
    """Compile both; check same shape and clean source; return the hostile rule set."""
    bad = routeql.loads(hostile, "hostile.rq")
    good = routeql.loads(plain, "plain.rq")
    assert shape(bad.source) == shape(good.source), "user text changed the shape of the generated code"
    assert bad.source.count("\n") == good.source.count("\n"), "user text added or removed a line"
    odd = {ch for ch in bad.source if not (ch.isprintable() or ch == "\n")}
    assert not odd, f"generated source holds unprintable characters {odd!r}"
    return bad


def identifiers(source: str) -> set[str]:
    out: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Name):
            out.add(node.id)
        elif isinstance(node, ast.Attribute):
            out.add("." + node.attr)
        elif isinstance(node, (ast.FunctionDef, ast.arg)):
            out.add(node.name if isinstance(node, ast.FunctionDef) else node.arg)
    return out


def _stem(name: str) -> str:
    """An identifier without its number: generated locals and constants are numbered."""
    return re.sub(r"\d+$", "#", name)


@functools.lru_cache(maxsize=None)
def vocabulary() -> frozenset[str]:
    """What the generator itself names, learnt from its output on the project's own rules
    (bundled rules and every doc example), numbers stripped, plus the runtime helpers."""
    from fuzz.corpus import rule_texts

    words = {_stem(n) for n in RUNTIME_NAMES}
    for text in rule_texts():
        try:
            rules = routeql.loads(text, "corpus.rq", salts={"s": "x"})
        except RouteQLError:
            continue
        words |= {_stem(n) for n in identifiers(rules.source)}
    return frozenset(words)


def assert_own_vocabulary(source: str) -> None:
    strange = {n for n in identifiers(source) if _stem(n) not in vocabulary()}
    assert not strange, f"identifiers the generator does not use on its own rules: {sorted(strange)}"


# ------------------------------------------------------------------ literals


def test_quotes_in_string_literals() -> None:
    hostile = r'''destination d { when event = "a\"b'c" and properties.s = 'it\'s "q"' keep event }'''
    plain = '''destination d { when event = "abc" and properties.s = "xyz" keep event }'''
    rules = compile_twins(hostile, plain)
    assert rules.decide(dict(TRACK, event="a\"b'c", properties={"s": "it's \"q\""})) == ("d",)
    assert rules.decide(dict(TRACK, event="abc", properties={"s": "xyz"})) == ()


def test_backslashes_in_string_literals() -> None:
    hostile = r'''destination d { when properties.p = "C:\\dir\\" and properties.q = "\\" and properties.r matches regex r"^\d+\\$" }'''
    plain = '''destination d { when properties.p = "C" and properties.q = "D" and properties.r matches regex "^E" }'''
    rules = compile_twins(hostile, plain)
    assert rules.decide(dict(TRACK, properties={"p": "C:\\dir\\", "q": "\\", "r": "12\\"})) == ("d",)
    assert rules.decide(dict(TRACK, properties={"p": "C:\\dir\\", "q": "\\", "r": "12"})) == ()


def test_newlines_in_literals_are_escaped() -> None:
    # escaped newlines, carriage returns and the characters Python's str.splitlines breaks on
    hostile = r'''destination d { when properties.x = "1\n# 2\r\n)\u2028\u0085\u000c3" redact properties.y if properties.x = "\n" }'''
    plain = '''destination d { when properties.x = "A" redact properties.y if properties.x = "B" }'''
    rules = compile_twins(hostile, plain)
    assert not any(line.lstrip().startswith(("# 2", ")")) for line in rules.source.split("\n")), \
        "a literal broke out onto a line of its own"
    assert rules.decide(dict(TRACK, properties={"x": "1\n# 2\r\n)\u2028\u0085\f3"})) == ("d",)
    with pytest.raises(RouteQLError):  # a raw newline inside quotes is a syntax error, not code
        routeql.loads('destination d { when event = "a\nb" }')


def test_python_code_in_literals_stays_data(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    code = f"__import__('os').system('touch {marker}')"
    hostile = (f'destination d alias "{code}" {{\n'
               f'  when event = "{code}" or event = "\'); {code}; (\'" or event = "\\"\\"\\" + {code} + \\"\\"\\""\n'
               f'  redact properties.x with "{code}"\n}}')
    plain = 'destination d alias "A" {\n  when event = "B" or event = "C" or event = "D"\n  redact properties.x with "E"\n}'
    rules = compile_twins(hostile, plain)
    routing = rules.route(dict(TRACK, event=code, properties={"x": 1}))
    assert routing.deliveries == {"d": dict(TRACK, event=code, properties={"x": code})}
    assert not marker.exists()
    assert_own_vocabulary(rules.source)


def test_format_strings_in_literals_stay_data() -> None:
    formats = ["{0}", "{__class__}", "{e.__class__.__mro__}", "%s%d%(x)s", "{{}}", "%", "{!r}"]
    hostile = "destination d {\n" + "".join(f'  when properties.f{i} = "{f}"\n' for i, f in enumerate(formats)) + "}"
    plain = "destination d {\n" + "".join(f'  when properties.f{i} = "P{i}"\n' for i, _ in enumerate(formats)) + "}"
    rules = compile_twins(hostile, plain)
    props = {f"f{i}": f for i, f in enumerate(formats)}
    assert rules.decide(dict(TRACK, properties=props)) == ("d",)
    assert rules.decide(dict(TRACK, properties=dict(props, f0="0"))) == ()


def test_unicode_lookalikes_and_bidi_controls() -> None:
    lookalike = "p\u0430yp\u0430l"  # Cyrillic a: not "paypal"
    bidi = "admin\u202e\u2066txt.exe\u2069"
    hostile = (f'destination d {{ when properties.site = "{lookalike}" and properties.`{bidi}` = "\\u202e" '
               f'keep properties.`{bidi}` }}')
    plain = 'destination d { when properties.site = "A" and properties.B = "C" keep properties.B }'
    rules = compile_twins(hostile, plain)
    assert "\u202e" not in rules.source and "\u2066" not in rules.source
    event = dict(TRACK, properties={"site": lookalike, bidi: "\u202e", "other": 1})
    assert rules.route(event).deliveries == {"d": {"properties": {bidi: "\u202e"}}}
    assert rules.decide(dict(TRACK, properties={"site": "paypal", bidi: "\u202e"})) == ()


def test_huge_numbers() -> None:
    big = "9" * MAX_NUMBER_DIGITS
    hostile = f"destination d {{ when properties.n = {big} and properties.m < 1e308 and properties.k > -{big[1:]} }}"
    plain = "destination d { when properties.n = 1 and properties.m < 2 and properties.k > -3 }"
    rules = compile_twins(hostile, plain)
    assert rules.decide(dict(TRACK, properties={"n": int(big), "m": 1.5, "k": 0})) == ("d",)
    assert rules.decide(dict(TRACK, properties={"n": int(big) - 1, "m": 1.5, "k": 0})) == ()
    for too_big in ("9" * (MAX_NUMBER_DIGITS + 1), "1e999", "-1e400"):
        with pytest.raises(RouteQLError) as e:
            routeql.loads(f"destination d {{ when properties.n = {too_big} }}")
        assert [d.code for d in e.value.diagnostics] == ["RQ105"]


def test_deep_nesting() -> None:
    cond = "(" * MAX_NESTING + "userId exists" + ")" * MAX_NESTING
    rules = compile_twins(f"destination d {{ when {cond} }}", "destination d { when userId exists }")
    assert rules.decide(TRACK) == ("d",)
    deep_list = "[" * (MAX_NESTING - 1) + "1" + "]" * (MAX_NESTING - 1)
    routeql.loads(f"destination d {{ when properties.x in [{deep_list}] }}")
    for text in ("(" * (MAX_NESTING + 1) + "userId exists" + ")" * (MAX_NESTING + 1),
                 "not " * 5000 + "userId exists",
                 "lower(" * 500 + "userId" + ")" * 500 + ' = "a"',
                 "properties.x in " + "[" * 5000 + "]" * 5000):
        with pytest.raises(RouteQLError) as e:
            routeql.loads(f"destination d {{ when {text} }}")
        assert "RQ105" in [d.code for d in e.value.diagnostics]


# ------------------------------------------------------------------ names


#: Python's and the generator's own names, used as every kind of name in the language.
PY_NAMES = ["__class__", "e", "g", "out", "dict", "__builtins__", "__import__", "None", "exec", "decide",
            "t_page_other", "NAMES", "PAYLOADS", "p_0", "t_track", "_E", "self", "lambda", "import"]


def plain_names(names: list[str], prefix: str = "n") -> list[str]:
    """Neutral stand-ins that sort like ``names`` (the generator orders some things by name)."""
    rank = {n: i for i, n in enumerate(sorted(names))}
    return [f"{prefix}{rank[n]:03d}" for n in names]


def _named_rules(names: list[str]) -> str:
    """A rule set that uses each name as a destination, tag, category, class, define and policy."""
    text = "consent {\n" + "".join(f'  category {n} from segment "S{i}"\n' for i, n in enumerate(names)) + "}\n"
    text += "classify {\n" + "".join(f"  {n}.email = traits.e{i}\n" for i, n in enumerate(names)) + "}\n"
    text += "".join(f"define {n} = properties.k{i} exists\n" for i, n in enumerate(names))
    for i, n in enumerate(names):
        text += (f'destination {n} tagged {n}, {names[(i + 1) % len(names)]} alias "{n}" {{\n'
                 f"  requires {n}\n  when {n}\n  keep traits\n  hash {n}.email\n}}\n")
    text += "".join(f"policy {n} {{ forbid {n}.* to tagged {n} unless consent {n} }}\n" for n in names)
    return text


def test_python_names_as_rule_names() -> None:
    names = [n for n in PY_NAMES if n not in ("lambda", "import")]  # keywords of Python, not of RouteQL
    hostile = _named_rules(names)
    plain = _named_rules(plain_names(names))
    rules = compile_twins(hostile, plain)
    assert_own_vocabulary(rules.source)
    assert rules.destinations == tuple(names)
    # destination `out`: its category granted, its define true; its class e-mail hashed by
    # its own rule and forbidden to the destinations tagged `out` (itself and the one
    # before it) unless consent `out`, which it has
    i = names.index("out")
    consent = {n: n == "out" for n in names}
    event = dict(TRACK, properties={f"k{i}": 1}, traits={f"e{i}": "x@y.io", f"e{i - 1}": "g's"})
    routing = rules.route(event, consent)
    assert routing.delivered == ("out",)
    traits = routing.deliveries["out"]["traits"]
    assert traits[f"e{i}"] not in (None, "x@y.io") and traits[f"e{i - 1}"] == "g's"
    assert rules.route(event, dict(consent, out=False)).delivered == ()


def test_python_keywords_as_rule_names() -> None:
    # `lambda` and `import` are not RouteQL keywords: fine as names, never as Python
    rules = compile_twins(_named_rules(["lambda", "import"]), _named_rules(plain_names(["lambda", "import"])))
    assert rules.route(dict(TRACK, properties={"k0": 1}), {"lambda": True, "import": False}).delivered == ("lambda",)


def test_aliases_and_policy_names_with_code() -> None:
    hostile = ('destination d alias "\'); import os #", "{0}%s\\n" { }\n'
               'policy "\\"); __import__(\'os\') #\\n\\u202e" { forbid events to d if properties.stop = true }')
    plain = 'destination d alias "A", "B" { }\npolicy "C" { forbid events to d if properties.stop = true }'
    rules = compile_twins(hostile, plain)
    assert rules.decide(dict(TRACK, integrations={"All": False, "{0}%s\n": True})) == ("d",)
    routing = rules.route(dict(TRACK, properties={"stop": True}))
    assert routing.delivered == () and routing.skipped["d"].stage == "policy"


def test_backticked_keys() -> None:
    keys = ["__builtins__", "it's", 'say "hi"', "a`b", "{0}", "%s", "e", "__class__", "x.y", "", " "]
    quoted = ["__builtins__", "it's", 'say "hi"', "a\\`b", "{0}", "%s", "e", "__class__", "x.y", "", " "]
    hostile = "destination d {\n" + "".join(f"  when properties.`{q}` = {i}\n" for i, q in enumerate(quoted)) + \
        "  keep " + ", ".join(f"properties.`{q}`" for q in quoted) + "\n}"
    stand_in = plain_names(keys, "k")
    plain = "destination d {\n" + "".join(f"  when properties.{k} = {i}\n" for i, k in enumerate(stand_in)) + \
        "  keep " + ", ".join(f"properties.{k}" for k in stand_in) + "\n}"
    rules = compile_twins(hostile, plain)
    props = {k: i for i, k in enumerate(keys)}
    assert rules.route(dict(TRACK, properties=dict(props, extra=1))).deliveries == {"d": {"properties": props}}
    assert rules.decide(dict(TRACK, properties=dict(props, **{"it's": 0}))) == ()


def test_backticked_top_level_keys() -> None:
    hostile = "destination d { when `__builtins__` = 1 and `e` = 2 keep `__builtins__`, `e` }"
    plain = "destination d { when a0 = 1 and e0 = 2 keep a0, e0 }"
    rules = compile_twins(hostile, plain)
    event = dict(TRACK, __builtins__=1, e=2)
    assert rules.route(event).deliveries == {"d": {"__builtins__": 1, "e": 2}}



#: characters that end a line or a compile if they reach generated code raw: line breaks
#: (CR, NEL, U+2028), NUL, a lone surrogate (cannot be encoded), a form feed, a bidi control
ODD = ["\r", "\x85", "\u2028", "\x00", "\ud800", "\x0c", "\u202e"]


@pytest.mark.parametrize("ch", ODD, ids=repr)
def test_odd_characters_in_plan_entries_fields_and_names(ch: str) -> None:
    # (found by the fuzzer: a track event's name in a plan went raw into a comment)
    # (written as a \u escape, except the lone surrogate, which the language refuses to
    # spell: it can arrive only raw, as the fuzzer sent it)
    esc = f"\\u{ord(ch):04x}" if ch != "\ud800" else ch
    name, key = f"Order{ch}Completed", f"a{ch}b"
    hostile = (f'plan p {{\n  track "Order{esc}Completed" {{\n    required `a{esc}b`: string\n  }}\n}}\n'
               f'destination d alias "x{esc}y" {{ when event = "Order{esc}Completed" keep properties.`a{esc}b` }}\n')
    plain = ('plan p {\n  track "Order_Completed" {\n    required a_b: string\n  }\n}\n'
             'destination d alias "x_y" { when event = "Order_Completed" keep properties.a_b }\n')
    rules = compile_twins(hostile, plain)
    clean = dict(TRACK, event=name, properties={key: "v"})
    assert rules.route(clean).deliveries == {"d": {"properties": {key: "v"}}}
    violation = rules.route(dict(TRACK, event=name, properties={})).plan.violations[0]
    assert violation.segments == ("properties", key) and violation.at == "hostile.rq:3:5"


@pytest.mark.parametrize("ch", ODD, ids=repr)
def test_odd_characters_in_file_names(ch: str) -> None:
    rules = routeql.loads('plan p { track "A" { required x: string } }\ndestination d { when event = "A" }\n',
                          f"rules{ch}.rq")
    assert not {c for c in rules.source if not (c.isprintable() or c == "\n")}
    assert rules.route(dict(TRACK, event="A", properties={"x": "1"})).delivered == ("d",)
    assert rules.route(dict(TRACK, event="A")).plan.violations[0].at == f"rules{ch}.rq:1:22"



def test_generated_code_that_does_not_compile_is_a_routeql_error(monkeypatch: pytest.MonkeyPatch) -> None:
    # a codegen bug (as the two above were) reaches the caller as a RouteQLError that says
    # so, never as a bare SyntaxError: callers catch RouteQLError
    import routeql.engine as engine

    def broken(source: str, filename: str, mode: str) -> Any:
        raise SyntaxError("source code string cannot contain null bytes")

    monkeypatch.setattr(engine, "compile", broken, raising=False)
    with pytest.raises(RouteQLError, match="internal error: the code generated for these rules does not compile"):
        routeql.loads('destination d { when event = "A" }', "x.rq")


def test_the_writer_refuses_unprintable_code_and_cleans_comments() -> None:
    from routeql.codegen import _Writer

    w = _Writer()
    w("# a name with a\nline break and a \x00 NUL")
    assert w.lines == ["# a name with a line break and a   NUL"]
    with pytest.raises(RouteQLError, match="internal error: generated code that is not printable"):
        w("x = 'a\nb'")  # (values go through repr(), which never gives this)


# ------------------------------------------------------------------ the namespace


def test_generated_code_runs_with_no_builtins(bundled: routeql.RuleSet) -> None:
    namespace = bundled._decide.__globals__
    assert namespace["__builtins__"] == {}
    for fn in (bundled._consent_fn, *(bundled._payloads[d] for d in bundled.destinations)):
        assert fn.__globals__ is namespace
    for call in ("len([])", "__import__('os')", "open('/etc/passwd')", "eval('1')", "getattr(1, 'real')"):
        with pytest.raises(NameError):
            exec(call, namespace)  # noqa: S102 - the point: nothing to call


LAZY = """
destination first {
  keep userId, properties.products.sku
  hash userId
}
destination second {
  when event = "Signed Up"
  keep userId
}
"""


def test_payload_functions_compile_on_first_delivery() -> None:
    rules = routeql.loads(LAZY, "lazy.rq")
    assert dict(rules._payloads) == {}  # nothing compiled at load time
    e = {"type": "track", "event": "Order Completed", "userId": "u1", "properties": {"products": [{"sku": "a"}]}}
    assert rules.route(e).deliveries["first"]["properties"] == {"products": [{"sku": "a"}]}
    assert set(rules._payloads) == {"first"}
    assert rules.compile_payloads() is rules
    assert set(rules._payloads) == {"first", "second"}
    with pytest.raises(KeyError):
        rules._payloads["nobody"]
    # the full source still holds every payload function (routeql compile --show)
    assert "def p_0(" in rules.source and "def p_1(" in rules.source


def test_a_failure_in_a_lazily_compiled_payload_names_its_rule() -> None:
    rules = routeql.loads(LAZY, "lazy.rq")
    namespace = rules._decide.__globals__

    def broken(*args: object) -> None:
        raise ValueError("the hashing helper is broken")

    # the hash runs as the payload is built (its transform function, a constant `_x…`)
    hashers = [name for name in namespace if name.startswith("_x")]
    assert hashers
    for name in hashers:
        namespace[name] = broken
    e = {"type": "track", "event": "Order Completed", "userId": "u1"}
    with pytest.raises(RouteQLError, match=r"routing failed in first \(lazy\.rq:4:3\): ValueError"):
        rules.route(e)


def test_runtime_names_hold_no_dangerous_builtin() -> None:
    shadowed = {name for name in RUNTIME_NAMES if hasattr(builtins, name)}
    assert shadowed <= {"dict", "list", "str", "int", "float", "bool"}  # the JSON types, for class tests
    for name, value in RUNTIME_NAMES.items():
        assert value not in (eval, exec, open, __import__, getattr, setattr, compile, globals, vars), name


def test_predicate_runs_with_no_builtins() -> None:
    p = routeql.predicate('properties.`__import__` = "os" and event = "{0}"')
    inner = [c.cell_contents for c in p.__closure__ or () if callable(c.cell_contents) and hasattr(c.cell_contents, "__globals__")]
    generated = [f for f in inner if f.__globals__.get("__builtins__") == {}]
    assert generated, "the predicate's generated function was not found"
    with pytest.raises(NameError):
        exec("len([])", generated[0].__globals__)  # noqa: S102
    assert p(dict(TRACK, event="{0}", properties={"__import__": "os"})) is True
    assert p(dict(TRACK, event="{0}")) is False


def test_environment_salts_are_constants_not_code(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ROUTEQL_TEST_SALT", "'); __import__('os') #\n")
    rules = routeql.loads('destination d { hash userId salt env "ROUTEQL_TEST_SALT" }')
    assert "__import__" not in rules.source
    assert rules.route(TRACK).deliveries["d"]["userId"] != "u1"
    assert os.environ["ROUTEQL_TEST_SALT"] not in rules.source
