"""``routeql explain`` and ``routeql compile``, through the real entry point."""

from __future__ import annotations

import functools
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import routeql
from routeql.analysis.consent_args import parse_consent
from routeql.analysis.events import leaf_values
from routeql.errors import RouteQLError
from tests.clirun import in_process

ROOT = Path(__file__).resolve().parent.parent

RULES = """\
consent {
  category analytics   from segment "Analytics"
  category advertising from segment "Advertising"
  category functional  from segment "Functional"
  default regime opt_in
}

classify {
  pii.email = traits.email, context.traits.email
  pii.phone = traits.phone
}

destination crm tagged crm {
  requires functional
  when type = "identify"
  keep type, userId, traits
  drop traits.password
  hash pii.email
  redact pii.phone unless consent advertising
}

destination ads tagged ads {
  requires advertising
  keep type, event, userId
}

destination lake {
  truncate context.ip to /24
}

policy "no contact data to the lake" {
  forbid pii.* to lake
}
"""

#: distinctive values: none of them is written in the rules above
EVENT: dict[str, Any] = {
    "type": "identify",
    "userId": "user-7f3a9c-zeta",
    "messageId": "msg-5521-omega",
    "traits": {"email": "Jane.Quill@example.org", "phone": "+44 20 7946 0123", "password": "hunter2-secret",
               "plan": "enterprise-gold", "tags": [{"name": "vip-tier-x"}, {"name": "beta-club-y"}]},
    "context": {"ip": "203.0.113.77", "consent": {"categoryPreferences": {"Functional": True, "Analytics": True}}},
}


@functools.lru_cache(maxsize=None)
def cli(*args: str, stdin: str | None = None, color: str | None = None) -> subprocess.CompletedProcess[str]:
    """``python -m routeql.cli ARGS`` (memoised: tests that read the same output share one process)."""
    pre = ["--color", color] if color else []
    return subprocess.run([sys.executable, "-m", "routeql.cli", *pre, *args], capture_output=True, text=True,
                          input=stdin, cwd=ROOT, timeout=60)


def cli_many(*calls: tuple[tuple[str, ...], str | None]) -> list[subprocess.CompletedProcess[str]]:
    """Tables of input variants: the first through a real process, the rest through the same
    ``main`` in this process (a process costs a second of imports; the suite must stay fast)."""
    first, *rest = calls
    return [cli(*first[0], stdin=first[1])] + [in_process(*argv, stdin=text) for argv, text in rest]


@pytest.fixture(scope="module")
def case(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    tmp_path = tmp_path_factory.mktemp("explain")
    rules = tmp_path / "rules.rq"
    rules.write_text(RULES, encoding="utf-8")
    event = tmp_path / "event.json"
    event.write_text(json.dumps(EVENT), encoding="utf-8")
    return rules, event


def _at(rules: Path, dest: str, kind: str, index: int = 0) -> str:
    model = routeql.load(rules).model.destination(dest)
    return getattr(model, kind)[index].origin.at


# ------------------------------------------------------------------ explain: what it says


def test_explain_says_per_destination_stage_rule_category_and_position(case: tuple[Path, Path]) -> None:
    rules, event = case
    r = cli("explain", str(rules), str(event))
    assert r.returncode == 0, r.stderr
    out = r.stdout
    # ads: skipped at consent, by its requires, naming the category and file:line
    ads_at = _at(rules, "ads", "requires")
    assert re.search(rf"^ads  skipped at consent: advertising denied .*\[{re.escape(ads_at)}\]  category: advertising$",
                     out, re.M), out
    assert re.search(rf"✗ consent +requires advertising  \({re.escape(ads_at)}\)", out)
    # crm: delivered, with the consent category and its source, and the when that passed
    assert re.search(r"^crm  delivered$", out, re.M)
    assert re.search(rf"✓ consent +requires functional  \({re.escape(_at(rules, 'crm', 'requires'))}\)  "
                     r"functional granted \(segment \"Functional\"\)", out)
    when_at = routeql.load(rules).model.destination("crm").whens[0][1].at
    assert f'✓ when         when type = "identify"  ({when_at})' in out
    # the consent section: every category, granted or denied, and why
    assert re.search(r"^  advertising +denied +signal: segment \"Advertising\"", out, re.M)
    assert re.search(r"^  functional +granted +signal: segment \"Functional\"", out, re.M)


def test_explain_gives_each_fields_fate_and_rule(case: tuple[Path, Path]) -> None:
    rules, event = case
    out = cli("explain", str(rules), str(event), "--destination", "crm").stdout
    model = routeql.load(rules).model.destination("crm")
    hash_at, redact_at = model.transforms[0].origin.at, model.transforms[1].origin.at
    drop_at, keep_at = model.drops[0].origin.at, model.keeps[0].origin.at
    lines = {m.group(1): m.group(0) for m in re.finditer(r"^    . (\S+).*$", out, re.M)}
    assert re.search(rf"hashed +by hash pii\.email  \({re.escape(hash_at)}\)", lines["traits.email"])
    assert re.search(rf"redacted +by redact pii\.phone unless consent advertising  \({re.escape(redact_at)}\)",
                     lines["traits.phone"])
    assert re.search(rf"dropped +by drop traits\.password  \({re.escape(drop_at)}\)", lines["traits.password"])
    assert re.search(rf"dropped +not in keep  \({re.escape(keep_at)}\)", lines["context.ip"])
    assert lines["userId"].rstrip().endswith("kept")
    # list elements are collapsed into one line with a count
    assert "traits.tags[*].name (2)" in out
    # only crm was asked for
    assert "ads " not in out and "lake" not in out


def test_explain_text_never_shows_a_value_of_the_event(case: tuple[Path, Path]) -> None:
    rules, event = case
    plain, coloured = cli("explain", str(rules), str(event)), cli("explain", str(rules), str(event), color="always")
    out = plain.stdout + coloured.stdout
    values = {v for v in leaf_values(EVENT) if v not in RULES}  # "identify" is in a when; the rest are not
    assert len(values) >= 9
    leaked = [v for v in values if v in out]
    assert leaked == []
    assert "traits.password" in out and "userId" in out  # the paths are there, their values are not


def test_a_malformed_consent_signal_is_reported_without_its_value(case: tuple[Path, Path], tmp_path: Path) -> None:
    rules, _ = case
    event = {**EVENT, "context": {"consent": {"categoryPreferences": "optin-zz9"}}}
    path = tmp_path / "bad-consent.json"
    path.write_text(json.dumps(event), encoding="utf-8")
    r = in_process("explain", str(rules), str(path), "--no-fields")
    assert r.returncode == 0, r.stderr
    assert re.search(r"! segment signal malformed: categoryPreferences must be an object, got string of 9 characters "
                     r"\(no valid signal: what it maps is denied\)", r.stdout), r.stdout
    assert "optin-zz9" not in r.stdout
    assert "crm  skipped at consent: functional denied" in r.stdout


def test_explain_json_is_the_routing_with_trace_plus_the_consent_given(case: tuple[Path, Path]) -> None:
    rules, event = case
    r = cli("explain", str(rules), str(event), "--format", "json", "--consent", "advertising=false")
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    expected = routeql.load(rules).route(EVENT, {"advertising": False}, trace=True).to_dict(trace=True)
    assert data["consent_given"] == {"advertising": False}
    del data["consent_given"]
    assert data == json.loads(json.dumps(expected))
    assert set(data["trace"]["destinations"]) == {"crm", "ads", "lake"}
    assert data["trace"]["destinations"]["ads"]["reason"]["category"] == "advertising"


def test_explain_json_with_destination_keeps_only_it(case: tuple[Path, Path]) -> None:
    rules, event = case
    data = json.loads(in_process("explain", str(rules), str(event), "--format", "json", "--destination", "lake").stdout)
    assert list(data["trace"]["destinations"]) == ["lake"]
    assert list(data["deliveries"]) == ["lake"] and data["skipped"] == {}


def test_no_fields_leaves_out_the_field_fates(case: tuple[Path, Path]) -> None:
    rules, event = case
    with_fields = cli("explain", str(rules), str(event)).stdout
    without = cli("explain", str(rules), str(event), "--no-fields").stdout
    assert "  fields" in with_fields and "traits.password" in with_fields
    assert "  fields" not in without and "traits.password" not in without
    assert "crm  delivered" in without


# ------------------------------------------------------------------ explain: consent and inputs


def test_consent_beside_the_event_in_all_three_forms(case: tuple[Path, Path], tmp_path: Path) -> None:
    rules, event = case
    # the event grants functional; a withdrawal beside it wins, whatever the form
    (tmp_path / "consent.json").write_text('{"functional": false}', encoding="utf-8")
    forms = (f"@{tmp_path / 'consent.json'}", "functional=false", '{"functional": false}', "functional=no",
             "functional=true")
    results = cli_many(*(((("explain", str(rules), str(event), "--consent", f, "--no-fields")), None) for f in forms))
    for form, r in zip(forms[:-1], results):
        assert re.search(r"^crm  skipped at consent: functional denied", r.stdout, re.M), (form, r.stdout, r.stderr)
    assert "crm  delivered" in results[-1].stdout


def test_unknown_consent_category_is_an_input_error_listing_the_known_ones(case: tuple[Path, Path]) -> None:
    rules, event = case
    r = cli("explain", str(rules), str(event), "--consent", "analytcs=true")
    assert r.returncode == 2
    assert "unknown consent category 'analytcs'" in r.stderr
    assert "did you mean 'analytics'" in r.stderr
    assert "analytics, advertising, functional" in r.stderr
    assert r.stdout == ""


BAD_CONSENT = [
    ("analytics=maybe", "analytics must be true or false"),
    ('{"analytics": "yes"}', "analytics must be true or false, got a string"),
    ('{"analytics": tru', "not valid JSON"),
    ("[1, 2]", "expected category=true|false"),
    ("@/nonexistent/consent.json", "no such file"),
    ("analytics", "expected category=true|false"),
]


def test_bad_consent_argument_is_an_input_error(case: tuple[Path, Path]) -> None:
    rules, event = case
    results = cli_many(*((("explain", str(rules), str(event), "--consent", form), None) for form, _ in BAD_CONSENT))
    for (form, message), r in zip(BAD_CONSENT, results):
        assert r.returncode == 2, (form, r.stdout)
        assert message in r.stderr, (form, r.stderr)
        assert "Traceback" not in r.stderr


def test_parse_consent_unit() -> None:
    cats = ("analytics", "advertising")
    assert parse_consent(" analytics = TRUE , advertising=0 ", cats) == {"analytics": True, "advertising": False}
    assert parse_consent(None, cats) == {}
    assert parse_consent("", cats) == {}
    with pytest.raises(RouteQLError, match="got a list"):
        parse_consent('@' + str(ROOT / "tests" / "data" / "vectors" / "fql-vectors.json"), cats)
    with pytest.raises(RouteQLError, match="the rules have no consent block"):
        parse_consent("analytics=true", ())


def test_event_from_stdin(case: tuple[Path, Path]) -> None:
    rules, _ = case
    r = cli("explain", str(rules), "-", "--no-fields", stdin=json.dumps(EVENT))
    assert r.returncode == 0, r.stderr
    assert "crm  delivered" in r.stdout


MALFORMED = [
    ('{"type": "identify", ', ("<stdin>: malformed event: not valid JSON: Expecting property name enclosed in "
                               "double quotes at line 1 column 22")),
    ('{"userId": "secret-user-1"}', "<stdin>: malformed event: event has no 'type'"),
    ('{"type": "track", "event": 12}', "<stdin>: malformed event: 'event' must be a string"),
    ("[1, 2]", "<stdin>: malformed event: event must be a JSON object, got list"),
    ("", "<stdin>: malformed event: not valid JSON: Expecting value at line 1 column 1"),
]


def test_malformed_event_exits_2_with_the_reason(case: tuple[Path, Path]) -> None:
    rules, _ = case
    results = cli_many(*((("explain", str(rules), "-"), text) for text, _ in MALFORMED))
    for (text, reason), r in zip(MALFORMED, results):
        assert r.returncode == 2, text
        assert reason in r.stderr, r.stderr
        assert "secret-user-1" not in r.stderr
        assert "Traceback" not in r.stderr


def test_missing_event_file_and_bad_rules_exit_2(case: tuple[Path, Path], tmp_path: Path) -> None:
    rules, event = case
    r = in_process("explain", str(rules), str(tmp_path / "nope.json"))
    assert r.returncode == 2 and "no such file" in r.stderr
    bad = tmp_path / "bad.rq"
    bad.write_text("destination x { when }", encoding="utf-8")
    r = cli("explain", str(bad), str(event))
    assert r.returncode == 2 and "bad.rq:1" in r.stderr


def test_unknown_destination_is_an_input_error(case: tuple[Path, Path]) -> None:
    rules, event = case
    r = in_process("explain", str(rules), str(event), "--destination", "crn")
    assert r.returncode == 2
    assert "unknown destination 'crn' (did you mean 'crm'?)" in r.stderr


# ------------------------------------------------------------------ explain: colour


def test_colour_on_request_and_plain_in_a_pipe(case: tuple[Path, Path]) -> None:
    rules, event = case
    plain = cli("explain", str(rules), str(event)).stdout
    assert "\x1b[" not in plain
    coloured = cli("explain", str(rules), str(event), color="always").stdout
    assert "\x1b[" in coloured
    assert re.search(r"\x1b\[1;32m +delivered", coloured)  # bold green
    assert re.search(r"\x1b\[1;31m +skipped at consent", coloured)  # bold red
    assert re.search(r"\x1b\[2m *= userId", coloured)  # kept fields dim
    # the same words once the escapes are removed
    assert re.sub(r"\x1b\[[0-9;]*m", "", coloured) == plain


def test_explain_on_the_bundled_rules_and_an_example_event(example_events: list[dict[str, Any]],
                                                           tmp_path: Path) -> None:
    event = next(e for e in example_events if e.get("context", {}).get("source") == "acme-shop"
                 and e.get("event") == "Order Completed")
    path = tmp_path / "e.json"
    path.write_text(json.dumps(event), encoding="utf-8")
    r = cli("explain", "rules", str(path))
    assert r.returncode == 0, r.stderr
    rules = routeql.load(ROOT / "rules")
    for name in rules.destinations:
        assert re.search(rf"^{name}  (delivered|skipped at \w+)", r.stdout, re.M), name
    assert [v for v in leaf_values(event) if len(v) > 3 and v in r.stdout
            and not any(v in src for src in rules.model.sources.values())] == []


def test_explain_help_has_examples() -> None:
    r = cli("explain", "--help")
    assert r.returncode == 0
    assert "examples:" in r.stdout and "--consent analytics=true,advertising=false" in r.stdout


# ------------------------------------------------------------------ compile


def test_compile_reports_stats(case: tuple[Path, Path]) -> None:
    rules, _ = case
    r = cli("compile", str(rules))
    assert r.returncode == 0, r.stderr
    rs = routeql.load(rules)
    m = re.fullmatch(r"\S+: compiled: 3 destinations, (\d+) specialised decision functions, (\d+) lines of Python, "
                     r"loaded in [\d.]+ ms\n", r.stdout)
    assert m, r.stdout
    assert int(m.group(1)) == rs.generated.keys
    assert int(m.group(2)) == rs.source.count("\n")
    data = json.loads(in_process("compile", str(rules), "--format", "json").stdout)
    assert data["destinations"] == 3 and data["functions"] == rs.generated.keys and data["load_ms"] > 0


def test_compile_show_prints_the_generated_source(case: tuple[Path, Path]) -> None:
    rules, _ = case
    r = in_process("compile", str(rules), "--show")
    assert r.returncode == 0
    assert r.stdout == routeql.load(rules).source
    compile(r.stdout, "<shown>", "exec")  # it is Python


def test_compile_output_writes_the_source(case: tuple[Path, Path], tmp_path: Path) -> None:
    rules, _ = case
    out = tmp_path / "compiled.py"
    r = in_process("compile", str(rules), "--output", str(out))
    assert r.returncode == 0
    assert out.read_text(encoding="utf-8") == routeql.load(rules).source
    assert f"wrote {out}" in r.stdout


def test_compile_errors_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.rq"
    bad.write_text("destination a { requires nothing_declared }", encoding="utf-8")
    r = cli("compile", str(bad), "--show")
    assert r.returncode == 2
    assert "RQ206" in r.stderr and r.stdout == ""


def _comments(source: str) -> str:
    return "\n".join(line.strip() for line in source.splitlines() if line.strip().startswith("#"))


def test_every_destination_and_field_rule_is_commented_with_its_position(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)  # file names in comments are as given on the command line
    rules = routeql.load("rules")
    comments = _comments(cli("compile", "rules", "--show").stdout)
    for d in rules.model.destinations:
        assert f"# payload for destination {d.name}  ({d.span.file}:{d.span.line})" in comments, d.name
        for rule in (*d.drops, *d.transforms, *d.field_policies):
            assert f"({rule.origin.at})" in comments, rule.origin.text
            assert rule.origin.text[:60] in comments


def test_every_keep_statement_is_commented_with_its_position() -> None:
    rules = routeql.load(ROOT / "rules")
    comments = _comments(rules.source)
    for d in rules.model.destinations:
        for k in d.keeps:
            assert f"({k.origin.at})" in comments, k.origin.text
