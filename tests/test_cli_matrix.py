"""``routeql matrix``: the static flow computation on a hand-made rule set with known answers,
the Markdown and JSON outputs, and the HTML page rendered in headless Chromium."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

import routeql
from routeql.analysis.flows import OTHER_ROW, DestinationFlows, Matrix, compute_matrix
from routeql.analysis.matrix_report import render_html
from tests.browser import browse, chromium
from tests.clirun import in_process

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"

RULES = """\
consent {
  category analytics from segment "Analytics"
  category ads       from segment "Advertising"
  category personal  from segment "Personalization"
}
classify {
  pii.email = traits.email, context.traits.email
  pii.phone = traits.phone
}

destination crm tagged crm {
  requires personal
  keep userId, traits.email, traits.phone
  keep traits.plan if consent analytics
  keep properties.coupon if type = "track"
  hash traits.email
  redact traits.phone unless consent ads
}

destination adnet tagged ads {
  when type = "track"
  drop context.ip if properties.internal = true
  truncate context.ip to /24
}

destination lake {
  keep traits, userId
  drop traits.password
}

destination beacon {
  when consent analytics
}

policy "contact data to ads needs ads consent" {
  forbid pii.* to tagged ads unless consent ads
}
policy "web tracking needs analytics consent" {
  require consent analytics for tagged ads if context.channel = "web"
}
policy "no test events in the lake" {
  forbid events to lake if properties.test = true
}
"""


@pytest.fixture(scope="module")
def matrix() -> Matrix:
    return compute_matrix(routeql.loads(RULES, "t.rq").model)


def cells(d: DestinationFlows, row: str) -> list[str]:
    return [c.text for c in d.row(row).cells]


def statuses(d: DestinationFlows, row: str) -> list[str]:
    return [c.status for c in d.row(row).cells]


# ------------------------------------------------------------------ the computation


def test_columns_are_the_consent_categories_that_matter(matrix: Matrix) -> None:
    labels = {d.name: [c.label for c in d.columns] for d in matrix.destinations}
    # crm: requires personal, keep-if analytics, redact-unless ads; declaration order of the consent block
    assert labels["crm"][0] == "analytics ✓ ads ✓ personal ✓" and len(labels["crm"]) == 8
    assert labels["adnet"] == ["analytics ✓ ads ✓", "analytics ✓ ads ✗", "analytics ✗ ads ✓", "analytics ✗ ads ✗"]
    assert labels["lake"] == ["any consent"]
    assert labels["beacon"] == ["analytics ✓", "analytics ✗"]


def test_delivery_per_consent_state(matrix: Matrix) -> None:
    crm = matrix.destination("crm")
    got = {c.label: d.status for c, d in zip(crm.columns, crm.delivery)}
    assert all(status == ("yes" if "personal ✓" in label else "no") for label, status in got.items())
    assert crm.delivery[0].text == "every event"
    no = next(d for c, d in zip(crm.columns, crm.delivery) if "personal ✗" in c.label)
    assert no.text == "consent: requires personal" and no.rules[0].at == "t.rq:12:3"
    beacon = matrix.destination("beacon")
    assert [d.status for d in beacon.delivery] == ["yes", "no"]
    assert beacon.delivery[1].text == "no event can pass: when consent analytics"
    adnet = matrix.destination("adnet")
    # the when always depends on the event; the guarded require-consent policy only when analytics is denied
    assert [len(d.rules) for d in adnet.delivery] == [1, 1, 2, 2]
    assert adnet.delivery[2].text == ('depends on: when type = "track"; '
                                      'require consent analytics for tagged ads if context.channel = "web"')
    lake = matrix.destination("lake")
    assert lake.delivery[0].status == "depends" and lake.delivery[0].rules[0].policy == "no test events in the lake"


def test_keep_lists_hash_and_consent_guarded_actions(matrix: Matrix) -> None:
    crm = matrix.destination("crm")
    on = [i for i, c in enumerate(crm.columns) if "personal ✓" in c.label]  # the columns where crm receives
    assert [crm.columns[i].label for i in on] == ["analytics ✓ ads ✓ personal ✓", "analytics ✓ ads ✗ personal ✓",
                                                  "analytics ✗ ads ✓ personal ✓", "analytics ✗ ads ✗ personal ✓"]

    def pick(row: str) -> list[str]:
        return [statuses(crm, row)[i] for i in on]

    assert pick("userId") == ["sent"] * 4
    assert pick("traits.email") == ["hashed"] * 4
    assert pick("traits.phone") == ["sent", "redacted", "sent", "redacted"]  # redact unless consent ads
    assert pick("traits.plan") == ["sent", "sent", "dropped", "dropped"]  # keep if consent analytics
    assert [cells(crm, "traits.plan")[i] for i in on][2] == "dropped (not in keep)"
    assert pick("traits.password") == ["dropped"] * 4
    assert pick(OTHER_ROW) == ["dropped"] * 4
    # personal denied: nothing at all
    assert {statuses(crm, "userId")[i] for i in range(8) if i not in on} == {"none"}


def test_a_keep_guarded_by_the_event_is_sent_if_its_condition(matrix: Matrix) -> None:
    crm = matrix.destination("crm")
    assert statuses(crm, "properties.coupon")[0] == "conditional"
    assert cells(crm, "properties.coupon")[0] == 'sent if type = "track"'
    assert [r.at for r in crm.row("properties.coupon").cells[0].rules] == ["t.rq:15:3"]


def test_a_drop_guarded_by_the_event_and_a_truncation(matrix: Matrix) -> None:
    adnet = matrix.destination("adnet")
    assert cells(adnet, "context.ip") == ["truncated unless properties.internal = true"] * 4
    assert statuses(adnet, "context.ip") == ["conditional"] * 4
    assert {r.kind for r in adnet.row("context.ip").cells[0].rules} == {"drop", "truncate"}


def test_a_policy_forbidding_a_class_for_a_tag_unless_consent(matrix: Matrix) -> None:
    adnet = matrix.destination("adnet")
    # columns: analytics ✓ ads ✓ | analytics ✓ ads ✗ | analytics ✗ ads ✓ | analytics ✗ ads ✗
    assert statuses(adnet, "traits.email") == ["sent", "dropped", "sent", "dropped"]
    assert cells(adnet, "traits.email")[1] == "dropped by policy"
    assert adnet.row("traits.email").cells[1].rules[0].policy == "contact data to ads needs ads consent"
    assert statuses(adnet, "pii.email") == ["sent", "dropped", "sent", "dropped"]
    assert statuses(adnet, "pii.phone") == ["sent", "dropped", "sent", "dropped"]
    assert statuses(adnet, "traits.plan") == ["sent"] * 4  # not a class the policy names
    assert statuses(adnet, OTHER_ROW) == ["sent"] * 4  # no keep list: every field no rule names
    assert adnet.other_fields and not matrix.destination("crm").other_fields


def test_classes_take_the_most_exposing_of_their_paths(matrix: Matrix) -> None:
    crm = matrix.destination("crm")
    cell = crm.row("pii.email").cells[0]
    assert cell.status == "hashed"
    assert cell.text == "hashed: traits.email · dropped (not in keep): context.traits.email"
    assert crm.row("pii.email").paths == ("traits.email", "context.traits.email")
    assert crm.row("pii.email").kind == "class"


def test_a_parent_kept_with_a_child_dropped_is_partly_sent(matrix: Matrix) -> None:
    lake = matrix.destination("lake")
    assert cells(lake, "traits.password") == ["dropped"]
    assert statuses(lake, "traits.email") == ["sent"]
    assert statuses(lake, "context.ip") == ["dropped"]
    assert statuses(lake, OTHER_ROW) == ["dropped"]
    crm = matrix.destination("crm")
    # crm keeps some traits fields but not traits as a whole: the class row for a parent is "partly kept"
    rules = routeql.loads(RULES + "\nclassify { profile.all = traits }\n", "t.rq")
    m = compute_matrix(rules.model)
    assert m.destination("crm").row("profile.all").cells[0].status == "partial"
    assert m.destination("crm").row("profile.all").cells[0].text.startswith("partly kept: traits.email, traits.phone")
    assert m.destination("lake").row("profile.all").cells[0].text == "sent; partly: traits.password dropped"
    # traits counts: crm receives part of it
    assert crm.fields_received == ("properties.coupon", "traits", "traits.email", "traits.phone", "traits.plan", "userId")


def test_summary_facts(matrix: Matrix) -> None:
    crm, adnet = matrix.destination("crm"), matrix.destination("adnet")
    assert crm.consent == ("personal",)
    assert adnet.consent == ("analytics (policy 'web tracking needs analytics consent') (conditional)",)
    assert crm.classes_received == ("pii.email", "pii.phone")
    assert [c.text for c in adnet.conditions] == ['when type = "track"']
    assert [p.policy for p in adnet.policies] == ["web tracking needs analytics consent",
                                                  "contact data to ads needs ads consent"]
    assert matrix.fields == ("context.ip", "context.traits.email", "properties.coupon", "traits", "traits.email",
                             "traits.password", "traits.phone", "traits.plan", "userId")


def test_a_blocking_tracking_plan_is_a_delivery_condition() -> None:
    rules = routeql.loads("""
plan shop { track "Signed Up" { required method: string } }
destination strict { plan violations block }
destination relaxed { }
""", "p.rq")
    m = compute_matrix(rules.model)
    strict, relaxed = m.destination("strict"), m.destination("relaxed")
    assert strict.delivery[0].status == "depends"
    assert strict.delivery[0].rules[0].kind == "plan" and strict.delivery[0].rules[0].at == "p.rq:2:1"
    assert "violations block" in strict.plans[0].text
    assert relaxed.delivery[0].status == "yes"  # flagging never stops a delivery
    assert "violations flag" in relaxed.plans[0].text


def test_the_bundled_rules(bundled: routeql.RuleSet) -> None:
    m = compute_matrix(bundled.model)
    assert [d.name for d in m.destinations] == list(bundled.destinations)
    # a destination that requires advertising receives nothing without it
    g = m.destination("google_ads")
    for col, d in zip(g.columns, g.delivery):
        if ("advertising", False) in col.values:
            assert d.status == "no"
    # policy: no contact data to analytics destinations, in every state
    amp = m.destination("amplitude")
    assert {c.status for c in amp.row("pii.email").cells} <= {"dropped", "none"}


# ------------------------------------------------------------------ the command


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "routeql.cli", *args], capture_output=True, text=True, cwd=ROOT,
                          timeout=120)


def test_markdown_and_json(tmp_path: Path) -> None:
    path = tmp_path / "t.rq"
    path.write_text(RULES, encoding="utf-8")
    r = cli("matrix", str(path))
    assert r.returncode == 0, r.stderr
    md = r.stdout
    assert md.startswith("## What flows where\n")
    assert "| `crm` | crm | personal | every event, in 4 of 8 consent states | 6 | pii.email, pii.phone |" in md
    assert "| `beacon` | – | none | always" not in md  # beacon depends on analytics consent
    assert "| `beacon` | – | none | every event, in 1 of 2 consent states | 9 + every field no rule names" in md
    assert '| `properties.coupon` | sent if type = "track" |' in md
    assert "### `adnet`" in md and "truncated unless properties.internal = true" in md
    data = json.loads(in_process("matrix", str(path), "--format", "json").stdout)
    assert [d["name"] for d in data["destinations"]] == ["crm", "adnet", "lake", "beacon"]
    crm = data["destinations"][0]
    assert crm["columns"][0] == {"analytics": True, "ads": True, "personal": True}
    assert crm["receives"]["classes"] == ["pii.email", "pii.phone"]
    assert data["classes"] == {"pii.email": ["traits.email", "context.traits.email"], "pii.phone": ["traits.phone"]}


def test_bad_rules_and_unwritable_output_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.rq"
    bad.write_text("destination { }", encoding="utf-8")
    assert in_process("matrix", str(bad)).returncode == 2
    r = in_process("matrix", "rules", "--html", str(tmp_path / "no" / "such" / "dir" / "m.html"))
    assert r.returncode == 2 and "cannot write" in r.stderr


def test_html_is_escaped_and_self_contained() -> None:
    text = RULES.replace('"contact data to ads needs ads consent"', '"<script>alert(1)</script> & co"')
    page = render_html(compute_matrix(routeql.loads(text, "t.rq").model), title="<b>x</b>")
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt; &amp; co" in page
    assert "<b>x</b>" not in page
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)  # no network: no CDN, no remote font
    assert "@media print" in page and 'id="filter"' in page


# ------------------------------------------------------------------ the page in Chromium


@pytest.mark.browser
def test_the_page_in_headless_chromium(tmp_path: Path) -> None:
    browser = chromium()
    page = tmp_path / "matrix.html"
    r = cli("matrix", "rules", "--html", str(page))
    assert r.returncode == 0, r.stderr
    assert re.fullmatch(r"wrote \S+: 14 destinations, \d+ fields, \d+ data classes\n", r.stderr), r.stderr
    url = page.as_uri()

    dom = browse(browser, url, tmp_path / "p1", "--dump-dom", size="1400,2000")
    assert dom.returncode == 0, dom.stderr[-2000:]
    html = dom.stdout
    assert 'data-js="ok"' in html  # the inline script ran to its end
    assert not re.search(r"<html[^>]*data-js-error", html)  # window.onerror saw nothing
    assert [line for line in dom.stderr.splitlines() if ":CONSOLE" in line] == []  # no console message at all
    rules = routeql.load(ROOT / "rules")
    for name in rules.destinations:
        assert re.search(rf'<section class="dest" id="dest-\d+" data-dest="{name}"', html), name
        assert re.search(rf'<tr data-dest="{name}">', html), name
    assert "14 of 14 destinations shown" in html

    # the filter works (from the address: #q=...): only the matching destinations stay
    filtered = browse(browser, url + "#q=ga4", tmp_path / "p2", "--dump-dom", size="1400,2000").stdout
    assert "3 of 14 destinations shown" in filtered
    assert re.search(r'<section class="dest" id="dest-\d+" data-dest="amplitude" [^>]*hidden', filtered)
    assert not re.search(r'<section class="dest" id="dest-\d+" data-dest="ga4_home" [^>]*hidden', filtered)

    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "matrix.png"
    shot.unlink(missing_ok=True)
    s = browse(browser, url, tmp_path / "p3", f"--screenshot={shot}", size="1400,2000")
    assert s.returncode == 0, s.stderr[-2000:]
    assert shot.stat().st_size > 20_000
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
