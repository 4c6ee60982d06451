"""``routeql fmt``: same tree, idempotent, comments kept in order, golden layouts, the CLI.

Every file in rules/ and tests/data/fmt/ goes through the formatter; each
tests/data/fmt/NAME.rq has its exact expected layout in NAME.expected.rq.  Hypothesis
checks random rule sets, random whitespace and random comments.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import routeql
from routeql import nodes as n
from routeql.errors import RouteQLCheckError, RouteQLError, RouteQLSyntaxError
from routeql.fmt import HEAD_KEYWORDS, WIDTH, Formatter, format_module, format_source, key, number, quote
from routeql.parse import parse, parser
from tests.strategies import events, rule_sets

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "data" / "fmt"
FILES = sorted(ROOT.glob("rules/*.rq")) + sorted(CORPUS.glob("*.rq"))
GOLDEN = sorted(p for p in CORPUS.glob("*.rq") if not p.name.endswith(".expected.rq"))
EXAMPLES = int(os.environ.get("ROUTEQL_EXAMPLES", "20"))


def ids(p: Path) -> str:
    return str(p.relative_to(ROOT))


def comment_texts(text: str) -> list[str]:
    return [c.text.rstrip() for c in parse(text).comments]


def expected_of(p: Path) -> Path:
    return p.with_name(p.name[:-3] + ".expected.rq")


# ------------------------------------------------------------------ every file


@pytest.mark.parametrize("path", FILES, ids=ids)
def test_same_tree_idempotent_comments_kept(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    out = format_source(text, str(path))
    assert parse(out).decls == parse(text).decls
    assert format_source(out) == out
    assert comment_texts(out) == comment_texts(text)


@pytest.mark.parametrize("path", GOLDEN, ids=ids)
def test_golden(path: Path) -> None:
    expected = expected_of(path).read_text(encoding="utf-8")
    assert format_source(path.read_text(encoding="utf-8"), str(path)) == expected
    assert format_source(expected) == expected


def test_corpus_is_complete() -> None:
    names = {p.name for p in CORPUS.glob("*.rq")}
    assert {expected_of(p).name for p in GOLDEN} <= names
    assert len(GOLDEN) >= 10
    assert all(p.name[: -len(".expected.rq")] + ".rq" in names for p in CORPUS.glob("*.expected.rq"))


@pytest.mark.parametrize("path", [p for p in FILES if "comments" not in p.name], ids=ids)
def test_lines_fit_in_width(path: Path) -> None:
    for number_, line in enumerate(format_source(path.read_text(encoding="utf-8")).splitlines(), 1):
        assert len(line) <= WIDTH or "#" in line, f"line {number_} is {len(line)} columns"


def test_bundled_rules_would_route_the_same(example_events: list[dict[str, Any]]) -> None:
    sources = {str(p): p.read_text(encoding="utf-8") for p in sorted(ROOT.glob("rules/*.rq"))}
    before = routeql.engine.compile_sources(sources)
    after = routeql.engine.compile_sources({k: format_source(v, k) for k, v in sources.items()})
    for event in example_events[:200]:
        assert after.route(event).deliveries == before.route(event).deliveries


# ------------------------------------------------------------------ layout rules


def test_layout_does_not_depend_on_whitespace() -> None:
    loose = "destination  d\n\ttagged a ,b{keep\n x,\n\n y when a=1\n&&b=2}"
    tight = "destination d tagged a, b {\n  keep x, y\n  when a = 1 and b = 2\n}\n"
    assert format_source(loose) == format_source(tight) == tight


def test_crlf_and_tabs() -> None:
    unix = (CORPUS / "comments.rq").read_text(encoding="utf-8")
    windows = unix.replace("\n", "\r\n").replace("  ", "\t")
    assert format_source(windows) == format_source(unix)


@pytest.mark.parametrize("src,out", [
    ("define d = a = 1 or b = 2 and c = 3", "define d = a = 1 or (b = 2 and c = 3)"),
    ("define d = (a = 1 or b = 2) and c = 3", "define d = (a = 1 or b = 2) and c = 3"),
    ("define d = (a = 1 and b = 2) or c = 3", "define d = (a = 1 and b = 2) or c = 3"),
    ("define d = !(a = 1) && ((b = 2)) || c == 3", "define d = (not a = 1 and b = 2) or c = 3"),
    ("define d = not (a = 1 or b = 2)", "define d = not (a = 1 or b = 2)"),
    # a group the author wrote stays a group: it is part of the tree
    ("define d = a = 1 and (b = 2 and c = 3)", "define d = a = 1 and (b = 2 and c = 3)"),
])
def test_parentheses_only_where_needed(src: str, out: str) -> None:
    assert format_source(src) == out + "\n"
    assert parse(out).decls == parse(src).decls


def test_blank_lines() -> None:
    src = "define a = x = 1\ndefine b = x = 2\n\n\n\ndefine c = x = 3\ndestination d {\n\n  keep x\n\n\n  drop y\n\n}\n"
    assert format_source(src) == ("define a = x = 1\ndefine b = x = 2\n\ndefine c = x = 3\n\n"
                                  "destination d {\n  keep x\n\n  drop y\n}\n")


def test_long_condition_breaks_before_operators() -> None:
    cond = " and ".join(f'properties.field_{i} = "value number {i}"' for i in range(5))
    out = format_source(f"destination d {{ when {cond} }}")
    lines = out.splitlines()[1:-1]
    assert lines[0] == '  when properties.field_0 = "value number 0"'
    assert all(line.startswith('    and properties.field_') for line in lines[1:]) and len(lines) == 5


def test_list_at_the_end_of_a_condition_is_broken_not_the_condition() -> None:
    names = ", ".join(f'"Event number {i}"' for i in range(8))
    out = format_source(f'define d = type = "track" and event in [{names}]')
    assert out.splitlines()[0] == 'define d = type = "track" and event in ['
    assert out.splitlines()[-1] == "]"


def test_alignment_runs_end_at_blank_lines() -> None:
    out = format_source("classify { a.b = x\n a.bbbb = y\n\n c = z\n cc.ddddd = w }")
    assert out.splitlines()[1:6] == ["  a.b    = x", "  a.bbbb = y", "", "  c        = z", "  cc.ddddd = w"]


def test_comment_between_keep_items_stays_with_its_item() -> None:
    src = "destination d {\n  keep a,\n    # why b\n    b, c  # and c\n  drop x\n}\n"
    assert format_source(src) == src


def test_trailing_comment_at_the_end_of_a_condition_does_not_break_it() -> None:
    src = "destination d {\n  when a = 1 and b = 2  # both\n}\n"
    assert format_source(src) == src


def test_stray_comments_are_never_dropped() -> None:
    src = "define d = lower( # in a call\n x) = # after =\n 'a' # end\n"
    out = format_source(src)
    assert comment_texts(out) == ["# in a call", "# after =", "# end"]
    assert format_source(out) == out


# ------------------------------------------------------------------ literals


@pytest.mark.parametrize("value,raw,written", [
    ("Order Completed", False, '"Order Completed"'),
    ('say "hi"', False, "'say \"hi\"'"),
    ("it's \"x\"", False, '"it\'s \\"x\\""'),
    (r"^\d+$", False, r'"^\d+$"'),
    (r"^\d+$", True, r'r"^\d+$"'),
    ("C:\\new", False, r'r"C:\new"'),
    ("ends with \\", False, r'r"ends with \"'),
    ("a\tb\n", False, r'"a\tb\n"'),
    ("tab\t\\n", False, r'"tab\t\\n"'),
    ("\\u0041", False, r'r"\u0041"'),
    ("Zoë 🙂", False, '"Zoë 🙂"'),
    ("", False, '""'),
])
def test_quote_reads_back(value: str, raw: bool, written: str) -> None:
    assert quote(value, raw) == written
    lit = parse(f"define d = x = {written}").decls[0].expr.right  # type: ignore[attr-defined]
    assert lit == n.Literal(value)


@given(st.text(max_size=20), st.booleans())
def test_any_string_reads_back(value: str, raw: bool) -> None:
    assume(not any(0xD800 <= ord(c) <= 0xDFFF for c in value))
    written = quote(value, raw)
    assert parse(f"define d = x = {written}").decls[0].expr.right == n.Literal(value)  # type: ignore[attr-defined]
    assert parse(f"destination d {{ keep x.{key(value or 'k')} }}").decls[0].body[0].targets[0].segments[1] == (value or "k")  # type: ignore[attr-defined]


@pytest.mark.parametrize("value,text", [(10, "10"), (-2, "-2"), (1.0, "1.0"), (1e3, "1000.0"), (2.5e-07, "2.5e-07"), (1e300, "1e+300")])
def test_numbers(value: float, text: str) -> None:
    assert number(value) == text
    lit = parse(f"define d = x = {text}").decls[0].expr.right  # type: ignore[attr-defined]
    assert lit.value == value and type(lit.value) is type(value)


def keywords() -> list[str]:
    return sorted({t.pattern.value for t in parser().terminals
                   if t.pattern.type == "str" and n.IDENT.match(t.pattern.value)})


PATH_PLACES = ["define d = {p} = 1", "define d = 1 = {p}", "define d = x in {p}", "define d = not {p} = 1",
               "define d = (a = 1 or {p} = 1)", "define d = x matches {p}", "define d = f({p}) = 1",
               "destination x {{ keep a, {p} }}", "destination x {{ drop {p} if a = 1 }}",
               "destination x {{ sample 5% by {p} }}", "policy p {{ forbid {p} to all }}",
               "consent {{ signal s at {p} }}", "classify {{ a.b = {p} }}",
               "plan p {{ track {{ required {p}: string }} }}"]


@pytest.mark.parametrize("word", keywords())
def test_keywords_as_field_names(word: str) -> None:
    """Every keyword, as the first and as a later key of a path, in every place a path goes."""
    for place in PATH_PLACES:
        for segments in ((word, "x"), ("x", word)):
            src = place.format(p=key(segments[0], head=True) + "." + key(segments[1]))
            module = parse(src)
            assert segments in [getattr(node, "segments", None) for d in module.decls for node in n.walk(d)], src
            assert parse(format_source(src)).decls == module.decls


def test_head_keywords_are_exactly_those_that_collide() -> None:
    colliding = set()
    for word in keywords():
        for place in PATH_PLACES:
            try:
                module = parse(place.format(p=f"{word}.x"))
            except RouteQLSyntaxError:
                colliding.add(word)
                continue
            if (word, "x") not in [getattr(x, "segments", None) for d in module.decls for x in n.walk(d)]:
                colliding.add(word)
    assert colliding == HEAD_KEYWORDS


# ------------------------------------------------------------------ errors


def test_syntax_error_raises_with_position() -> None:
    with pytest.raises(RouteQLSyntaxError) as e:
        format_source("destination d {\n  keep\n}\n", "bad.rq")
    assert "bad.rq:3:1" in str(e.value)


def test_unknown_node_is_an_error_not_a_silent_drop() -> None:
    class Mystery(n.Node):
        pass

    with pytest.raises(RouteQLError, match="no layout for Mystery nodes"):
        format_module(n.Module("x.rq", (Mystery(),)))


def test_output_is_verified_before_it_is_returned(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Formatter, "visit_Compare", lambda self, node: [self.visit(node.left), " != ", self.visit(node.right)])
    with pytest.raises(RouteQLError, match="does not mean the same"):
        format_source("define d = a = 1")


def test_comments_need_the_source_text() -> None:
    with pytest.raises(RouteQLError, match="source text"):
        format_module(parse("# c\ndefine d = a = 1"))


# ------------------------------------------------------------------ random rule sets

TOKEN = re.compile(r"""#[^\n]*|r"[^"\n]*"|r'[^'\n]*'|"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'|`(?:[^`\\\n]|\\.)*`"""
                   r"""|opt-out|\$?[A-Za-z_][A-Za-z0-9_]*|[-+]?\d+(?:\.\d*)?(?:[eE][-+]?\d+)?|==|!=|<=|>=|&&|\|\||\S""")
GAPS = [" ", " ", "\n", "\t", "   ", " \n\t  ", "\n    "]


def relayout(text: str, draw: Any, comments: bool) -> tuple[str, list[str]]:
    """The same tokens with random whitespace (never a blank line), and maybe comments."""
    out, notes = [], []
    for tok in TOKEN.findall(text):
        gap = draw(st.sampled_from(GAPS))
        if comments and draw(st.integers(0, 6)) == 0:
            notes.append(f"# note {len(notes)}")
            gap = draw(st.sampled_from([" ", "\n"])) + notes[-1] + "\n"
        out.append(gap + tok)
    return "".join(out), notes


_compiled: dict[str, Any] = {}


def compiled(text: str) -> Any:
    if text not in _compiled:
        try:
            _compiled[text] = routeql.loads(text, "random.rq")
        except RouteQLCheckError:
            _compiled[text] = None
    return _compiled[text]


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(text=rule_sets(), evs=st.lists(events(), min_size=1, max_size=3))
def test_random_rule_sets(text: str, evs: list[dict[str, Any]]) -> None:
    out = format_source(text)
    assert parse(out).decls == parse(text).decls
    assert format_source(out) == out
    before = compiled(text)
    assume(before is not None)
    after = routeql.loads(out, "random.rq")
    for ev in evs:
        try:
            expected = before.route(ev).deliveries
        except RouteQLError:
            continue
        assert after.route(ev).deliveries == expected


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=rule_sets(), data=st.data())
def test_random_whitespace_formats_the_same(text: str, data: st.DataObject) -> None:
    loose, _ = relayout(text, data.draw, comments=False)
    assert format_source(loose) == format_source(text)


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=rule_sets(), data=st.data())
def test_random_comments_are_kept_in_order(text: str, data: st.DataObject) -> None:
    noted, notes = relayout(text, data.draw, comments=True)
    out = format_source(noted)
    assert comment_texts(out) == notes
    assert parse(out).decls == parse(text).decls
    assert format_source(out) == out


# ------------------------------------------------------------------ the command


def cli(*args: str, stdin: str | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "routeql.cli", "fmt", *args], input=stdin, capture_output=True,
                          text=True, encoding="utf-8", cwd=cwd, timeout=60)


@pytest.fixture
def messy(tmp_path: Path) -> Path:
    rules = tmp_path / "rules"
    (rules / "sub").mkdir(parents=True)
    (rules / "one_line.rq").write_text((CORPUS / "one_line.rq").read_text(encoding="utf-8"), encoding="utf-8")
    (rules / "sub" / "clean.rq").write_text((CORPUS / "statements.expected.rq").read_text(encoding="utf-8"),
                                            encoding="utf-8")
    (rules / "notes.txt").write_text("not rules", encoding="utf-8")
    return rules


def test_cli_rewrites_in_place_and_lists_changed_files(messy: Path) -> None:
    r = cli(str(messy))
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == [str(messy / "one_line.rq")]
    assert "1 file reformatted, 1 unchanged" in r.stderr
    assert (messy / "one_line.rq").read_text(encoding="utf-8") == (CORPUS / "one_line.expected.rq").read_text(encoding="utf-8")
    assert (messy / "notes.txt").read_text(encoding="utf-8") == "not rules"
    again = cli(str(messy), "--check")
    assert again.returncode == 0 and again.stdout == ""


def test_cli_check_lists_and_fails(messy: Path) -> None:
    before = (messy / "one_line.rq").read_text(encoding="utf-8")
    r = cli("--check", str(messy))
    assert r.returncode == 1
    assert r.stdout.splitlines() == [str(messy / "one_line.rq")]
    assert "1 file would be reformatted, 1 unchanged" in r.stderr
    assert (messy / "one_line.rq").read_text(encoding="utf-8") == before


def test_cli_diff(messy: Path) -> None:
    target = messy / "one_line.rq"
    before = target.read_text(encoding="utf-8")
    r = cli("--diff", str(target), str(messy / "sub" / "clean.rq"))
    assert r.returncode == 1
    lines = r.stdout.splitlines()
    assert lines[0] == f"--- {target}" and lines[1] == f"+++ {target}" and lines[2].startswith("@@ ")
    assert "-" + before.rstrip("\n") in lines and "+consent {" in lines
    assert "\\ No newline at end of file" not in r.stdout
    assert target.read_text(encoding="utf-8") == before
    assert cli("--diff", str(messy / "sub" / "clean.rq")).returncode == 0


def test_cli_stdin_to_stdout() -> None:
    r = cli("-", stdin="define  known=userId exists # who\n")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "define known = userId exists  # who\n"
    assert r.stderr == ""


def test_cli_syntax_error_exits_2_and_goes_on(messy: Path) -> None:
    (messy / "broken.rq").write_text("destination d {\n  keep\n}\n", encoding="utf-8")
    r = cli("--check", str(messy))
    assert r.returncode == 2
    assert f"{messy / 'broken.rq'}:3:1: error[RQ" in r.stderr and "    3 | }" in r.stderr
    assert str(messy / "one_line.rq") in r.stdout  # the other files were still checked
    assert "1 failed" in r.stderr


def test_cli_help_and_missing_path(tmp_path: Path) -> None:
    r = cli("--help")
    assert r.returncode == 0 and "routeql fmt --check rules/" in r.stdout and "exit codes" in r.stdout
    missing = cli(str(tmp_path / "nope"))
    assert missing.returncode == 2 and "no such file or directory" in missing.stderr


def test_bundled_rules_are_formatted() -> None:
    """What ``routeql fmt --check rules/`` checks in CI."""
    changed = [p.name for p in sorted(ROOT.glob("rules/*.rq"))
               if format_source(p.read_text(encoding="utf-8")) != p.read_text(encoding="utf-8")]
    assert changed == []


# ------------------------------------------------------------------ the docs


def test_docs_example_is_the_formatters_output() -> None:
    doc = (ROOT / "docs" / "cli" / "fmt.md").read_text(encoding="utf-8")
    before = re.search(r"<!-- before -->\n```text\n(.*?)```", doc, re.S)
    after = re.search(r"<!-- after -->\n```routeql\n(.*?)```", doc, re.S)
    assert before and after
    assert format_source(before.group(1)) == after.group(1)
