"""``routeql diff OLD NEW --events SAMPLE``: exact counts over a hand-made change and sample."""

from __future__ import annotations

import functools
import io
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import routeql
from routeql.analysis.impact import compute_impact
from tests.clirun import in_process

ROOT = Path(__file__).resolve().parent.parent

OLD = """\
consent { category ads from segment "Advertising"  default regime opt_in }
classify { pii.email = traits.email, context.traits.email }

destination crm {
  when type = "identify"
  keep type, userId, traits.plan
}
destination adnet {
  requires ads
  keep type, event, context.traits.email
  hash context.traits.email
}
destination lake {
  drop traits.password
}
destination legacy {
  when type = "track"
}
"""

# NEW: crm keeps one more field and takes group events; adnet stops hashing; lake gets a
# `when`; legacy is removed; warehouse is added.
NEW = """\
consent { category ads from segment "Advertising"  default regime opt_in }
classify { pii.email = traits.email, context.traits.email }

destination crm {
  when type in ["identify", "group"]
  keep type, userId, traits.plan, traits.email
}
destination adnet {
  requires ads
  keep type, event, context.traits.email
}
destination lake {
  when type != "page"
  drop traits.password
}
destination warehouse {
  when type = "track"
  keep type, event
}
"""

ADS = {"consent": {"categoryPreferences": {"Advertising": True}}}
SAMPLE: list[Any] = [
    {"type": "identify", "messageId": "m-1", "userId": "user-aaa-111", "context": ADS,
     "traits": {"email": "Ann.Lee@example.org", "plan": "gold", "password": "pw-zz-9"}},
    {"type": "identify", "messageId": "m-2", "userId": "user-bbb-222", "traits": {"plan": "free"}},
    {"type": "track", "event": "Order Completed", "messageId": "m-3", "userId": "user-ccc-333",
     "context": {**ADS, "traits": {"email": "cee@example.org"}}},
    {"type": "page", "name": "Home", "messageId": "m-4"},
    {"type": "group", "messageId": "m-5", "userId": "user-ddd-444", "traits": {"email": "dee@example.org"}},
    '{"type": "track", "event": ',  # line 6: not JSON
    {"type": "track", "messageId": "m-7"},  # line 7: a track without an event name
    {"type": "page", "name": "Pricing", "messageId": "m-8", "context": ADS},
    "",  # a blank line is not an event
]
PERSONAL = ["user-aaa-111", "Ann.Lee@example.org", "pw-zz-9", "cee@example.org", "dee@example.org", "user-ddd-444"]


@functools.lru_cache(maxsize=None)
def cli(*args: str) -> subprocess.CompletedProcess[str]:
    """``python -m routeql.cli ARGS`` (memoised: tests reading the same output share one process)."""
    return subprocess.run([sys.executable, "-m", "routeql.cli", *args], capture_output=True, text=True, cwd=ROOT,
                          timeout=120)


@pytest.fixture(scope="module")
def dirs(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str, str]:
    tmp = tmp_path_factory.mktemp("diff")
    for name, text in (("old", OLD), ("new", NEW)):
        (tmp / name).mkdir()
        (tmp / name / "rules.rq").write_text(text, encoding="utf-8")
    lines = [x if isinstance(x, str) else json.dumps(x) for x in SAMPLE]
    (tmp / "sample.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(tmp / "old"), str(tmp / "new"), str(tmp / "sample.jsonl")


@pytest.fixture(scope="module")
def report(dirs: tuple[str, str, str]) -> dict[str, Any]:
    old, new, sample = dirs
    r = cli("diff", old, new, "--events", sample, "--format", "json", "--fail-on-new-flows")
    assert r.returncode == 1, r.stderr  # there are new flows
    return json.loads(r.stdout)


def dest(report: dict[str, Any], name: str) -> dict[str, Any]:
    return next(d for d in report["destinations"] if d["destination"] == name)


# ------------------------------------------------------------------ exact counts


def test_sample_accounting_and_invalid_lines(report: dict[str, Any]) -> None:
    assert (report["lines"], report["events"], report["invalid"]) == (8, 6, 2)
    assert [x["line"] for x in report["invalid_lines"]] == [6, 7]
    assert report["invalid_lines"][0]["reason"] == "not valid JSON: Expecting value at column 27"  # the end of the stripped line
    assert report["invalid_lines"][1]["reason"].startswith("malformed event: a track event needs")


def test_destination_statuses(report: dict[str, Any]) -> None:
    assert {d["destination"]: d["status"] for d in report["destinations"]} == {
        "crm": "changed", "adnet": "changed", "lake": "changed", "warehouse": "added", "legacy": "removed"}


def test_a_field_added_to_a_keep_list_and_a_widened_when(report: dict[str, Any]) -> None:
    crm = dest(report, "crm")
    assert (crm["old"]["delivered"], crm["new"]["delivered"]) == (2, 3)
    assert crm["newly_delivered"]["events"] == 1 and crm["no_longer_delivered"]["events"] == 0
    assert crm["newly_delivered"]["examples"][0]["line"] == 5
    assert crm["newly_delivered"]["examples"][0]["messageId"] == "m-5"
    assert crm["newly_delivered"]["examples"][0]["reason"].startswith('when: when type = "identify" (')
    assert crm["fields_gained"] == {"traits.email": 1}  # among events both deliver: only line 1 has an e-mail
    assert crm["field_flows_gained"] == ["traits.email"]
    assert crm["class_flows_gained"] == ["pii.email"]
    assert crm["payload_changed"] == 1


def test_a_removed_hash_is_a_treatment_change_and_a_new_clear_flow(report: dict[str, Any]) -> None:
    adnet = dest(report, "adnet")
    assert (adnet["old"]["delivered"], adnet["new"]["delivered"]) == (3, 3)
    assert adnet["treatment_changed"] == [{"field": "context.traits.email", "old": "hashed", "new": "clear", "events": 1}]
    assert adnet["now_in_clear"] == ["context.traits.email"]
    assert adnet["field_flows_gained"] == [] and adnet["class_flows_gained"] == []
    assert adnet["payload_changed"] == 1


def test_a_narrowed_when_loses_events_and_fields(report: dict[str, Any]) -> None:
    lake = dest(report, "lake")
    assert (lake["old"]["delivered"], lake["new"]["delivered"]) == (6, 4)
    no_longer = lake["no_longer_delivered"]
    assert no_longer["events"] == 2
    assert [(e["line"], e["messageId"]) for e in no_longer["examples"]] == [(4, "m-4"), (8, "m-8")]
    rule = routeql.loads(NEW, "x").model.destination("lake").whens[0][1]
    [(why, count)] = no_longer["new_reasons"].items()
    assert count == 2 and why.startswith('when: when type != "page" (') and why.endswith(f":{rule.span.line}:{rule.span.col})")
    assert lake["field_flows_lost"] == ["name"]  # only page events carry a name
    assert lake["fields_gained"] == {} and lake["fields_lost"] == {} and lake["payload_changed"] == 0


def test_added_and_removed_destinations(report: dict[str, Any]) -> None:
    warehouse, legacy = dest(report, "warehouse"), dest(report, "legacy")
    assert (warehouse["old"]["delivered"], warehouse["new"]["delivered"], warehouse["newly_delivered"]["events"]) == (0, 1, 1)
    assert warehouse["newly_delivered"]["examples"][0]["reason"] == "destination added"
    assert sorted(warehouse["new"]["fields"]) == ["event", "type"]
    assert (legacy["old"]["delivered"], legacy["new"]["delivered"], legacy["no_longer_delivered"]["events"]) == (1, 0, 1)


def test_new_flows_are_exactly_these(report: dict[str, Any]) -> None:
    flows = {(f["destination"], f["kind"], f["what"]) for f in report["new_flows"]}
    assert flows == {
        ("crm", "events", "events"), ("crm", "field", "traits.email"), ("crm", "class", "pii.email"),
        ("adnet", "clear", "context.traits.email"),
        ("warehouse", "events", "events"), ("warehouse", "field", "event"), ("warehouse", "field", "type"),
    }
    assert len(report["new_flows"]) == 7  # none for the removed destination, none for lost fields


def test_failing_on_new_flows_lists_them(dirs: tuple[str, str, str]) -> None:
    old, new, sample = dirs
    r = cli("diff", old, new, "--events", sample, "--format", "json", "--fail-on-new-flows")
    assert r.returncode == 1
    assert "7 new flows:" in r.stderr
    assert "  + adnet now receives context.traits.email in clear (only sent transformed before)" in r.stderr
    assert "  + crm now receives class pii.email" in r.stderr


def test_without_the_flag_new_flows_do_not_fail(dirs: tuple[str, str, str]) -> None:
    old, new, sample = dirs
    r = cli("diff", old, new, "--events", sample)
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert "8 lines: 6 events compared, 2 invalid" in out
    assert f"{sample}:6: skipped: not valid JSON" in out
    assert "3 destinations changed, 1 added, 1 removed; 7 new flows" in out
    assert "~ lake (changed): delivered 6 → 4 of 6" in out
    assert "no longer delivered: 2 events (33.3% of the sample)" in out
    assert "e.g. line 4 (messageId m-4); line 8 (messageId m-8)" in out
    assert "treatment changed: context.traits.email: hashed → clear (1 event)" in out
    assert "+ warehouse (added)" in out and "- legacy (removed)" in out
    assert "new flows (7), for privacy review:" in out


def test_same_rules_have_no_new_flows_and_pass(dirs: tuple[str, str, str]) -> None:
    old, _, sample = dirs
    r = in_process("diff", old, old, "--events", sample, "--fail-on-new-flows")
    assert r.returncode == 0, r.stdout
    assert "0 destinations changed, 0 added, 0 removed; 0 new flows" in r.stdout
    assert "unchanged: crm, adnet, lake, legacy" in r.stdout and "no new flows" in r.stdout


def test_only_losses_are_not_new_flows(dirs: tuple[str, str, str], tmp_path: Path) -> None:
    old, _, sample = dirs
    fewer = tmp_path / "fewer.rq"
    fewer.write_text(OLD.replace("keep type, userId, traits.plan", "keep type, userId"), encoding="utf-8")
    r = in_process("diff", old, str(fewer), "--events", sample, "--format", "json", "--fail-on-new-flows")
    assert r.returncode == 0, r.stderr
    crm = dest(json.loads(r.stdout), "crm")
    assert crm["fields_lost"] == {"traits.plan": 2}
    assert crm["field_flows_lost"] == ["traits.plan"]
    assert json.loads(r.stdout)["new_flows"] == []


def test_markdown_is_a_pull_request_comment(dirs: tuple[str, str, str]) -> None:
    old, new, sample = dirs
    r = cli("diff", old, new, "--events", sample, "--format", "md", "--examples", "1")
    assert r.returncode == 0
    md = r.stdout
    assert md.startswith("### RouteQL impact: 3 destinations changed, 1 added, 1 removed; 7 new flows\n")
    assert "> **7 new flows for privacy review**" in md
    assert "| destination | status | delivered (old → new) |" in md
    assert "| `lake` | changed | 6 → 4 | 0 (0.0%) | 2 (33.3%) |" in md
    assert "#### `adnet` (changed)" in md and "| `context.traits.email`: hashed → clear | 1 | 16.7% |" in md
    # one block per destination whose deliveries changed: crm, lake, warehouse, legacy
    assert md.count("<details><summary>Examples</summary>") == 4
    # --examples 1: one example per change
    assert "| no longer delivered | 4 | `m-4` |" in md and "| no longer delivered | 8 |" not in md
    assert "<details><summary>2 invalid lines skipped</summary>" in md


def test_outputs_never_name_personal_values(dirs: tuple[str, str, str]) -> None:
    old, new, sample = dirs
    outputs = [cli("diff", old, new, "--events", sample).stdout,
               cli("diff", old, new, "--events", sample, "--format", "md", "--examples", "1").stdout,
               cli("diff", old, new, "--events", sample, "--format", "json", "--fail-on-new-flows").stdout]
    for out in outputs:
        assert [v for v in PERSONAL if v in out] == []


def test_unreadable_inputs_exit_2(dirs: tuple[str, str, str], tmp_path: Path) -> None:
    old, new, sample = dirs
    r = in_process("diff", old, new, "--events", str(tmp_path / "missing.jsonl"))
    assert r.returncode == 2 and "no such file" in r.stderr
    bad = tmp_path / "bad.rq"
    bad.write_text("destination x { keep }", encoding="utf-8")
    r = in_process("diff", str(bad), new, "--events", sample)
    assert r.returncode == 2 and r.stderr.startswith(f"OLD rules {bad}:")
    r = in_process("diff", old, new, "--events", sample, "--examples", "-1")
    assert r.returncode == 2 and "--examples" in r.stderr


def test_compute_impact_unit_examples_cap_and_percent() -> None:
    old = routeql.loads('destination a { when type = "track" }', "o.rq")
    new = routeql.loads("destination a { }", "n.rq")
    lines = b"\n".join(json.dumps({"type": "page", "messageId": f"p{i}"}).encode() for i in range(5))
    impact = compute_impact(old, new, io.BytesIO(lines + b"\n" + b'{"type": "track", "event": "x"}'), examples=2)
    a = impact.destination("a")
    assert (a.newly, len(a.newly_examples), impact.events) == (5, 2, 6)
    assert [e.message_id for e in a.newly_examples] == ["p0", "p1"]
    assert impact.percent(a.newly) == pytest.approx(500 / 6)


def test_bundled_rules_and_examples_smoke(tmp_path: Path) -> None:
    """The bundled rules, with facebook_capi no longer hashing e-mails, over the example events."""
    new = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", new)
    retail = (new / "retail.rq").read_text(encoding="utf-8")
    start = retail.index("destination facebook_capi")
    at = retail.index("hash pii.email, pii.phone", start)
    (new / "retail.rq").write_text(retail[:at] + "hash pii.phone" + retail[at + len("hash pii.email, pii.phone"):],
                                   encoding="utf-8")
    r = cli("diff", "rules", str(new), "--events", "examples/events.jsonl", "--format", "json", "--fail-on-new-flows")
    assert r.returncode == 1, r.stderr
    data = json.loads(r.stdout)
    lines = [line for line in (ROOT / "examples" / "events.jsonl").read_text(encoding="utf-8").splitlines() if line]
    assert (data["events"], data["invalid"]) == (len(lines), 0)
    for d in data["destinations"]:
        if d["destination"] == "facebook_capi":
            continue
        # nothing else is delivered, sent or treated differently.  (Payloads may still differ:
        # flagged plan violations carry the plan's file:line, and the two rule sets live in two places.)
        assert (d["newly_delivered"]["events"], d["no_longer_delivered"]["events"]) == (0, 0), d["destination"]
        assert d["fields_gained"] == d["fields_lost"] == {} and d["treatment_changed"] == [], d["destination"]
    # exactly the deliveries to facebook_capi that carry an e-mail changed treatment
    rules = routeql.load(ROOT / "rules")
    with_email = sum(1 for line in lines
                     if "email" in rules.route(json.loads(line)).deliveries.get("facebook_capi", {}).get("context", {})
                     .get("traits", {}))
    assert with_email > 0
    fb = dest(data, "facebook_capi")
    assert fb["treatment_changed"] == [{"field": "context.traits.email", "old": "hashed", "new": "clear",
                                        "events": with_email}]
    assert [(f["destination"], f["kind"], f["what"]) for f in data["new_flows"]] == [
        ("facebook_capi", "clear", "context.traits.email")]


def test_diff_help_has_examples() -> None:
    r = in_process("diff", "--help")
    assert r.returncode == 0
    assert "examples:" in r.stdout and "--fail-on-new-flows" in r.stdout and "exit codes:" in r.stdout
