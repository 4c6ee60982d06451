"""``routeql bench``: throughput and the slowest destinations, through the real entry point."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

RULES = """
consent {
  category analytics   from segment "Analytics"
  category advertising from segment "Advertising"
}
destination cheap {
  when type = "track"
  keep type
}
destination costly {
  requires analytics
  when type = "track"
  hash properties.*
}
destination never {
  requires advertising
  when event = "Nothing"
}
"""


def _event(i: int, **extra: Any) -> dict[str, Any]:
    e = {"type": "track", "event": "Page Scrolled", "messageId": f"m{i}",
         "properties": {f"p{k}": f"value {k} of {i}" for k in range(150)},
         "context": {"consent": {"categoryPreferences": {"Analytics": i % 2 == 0, "Advertising": False}}}}
    e.update(extra)
    return e


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("bench")
    rules = root / "rules.rq"
    rules.write_text(RULES, encoding="utf-8")
    events = root / "events.jsonl"
    lines = [json.dumps(_event(i)) for i in range(40)]
    lines += ["{not json", json.dumps({"event": "no type"}), "", json.dumps({"type": "page", "name": "Home"})]
    events.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return rules, events


def routeql(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "routeql.cli", "--color", "never", *args], capture_output=True,
                          text=True, timeout=120)


def test_help_has_examples_and_says_how_destinations_are_timed() -> None:
    p = routeql("bench", "--help")
    assert p.returncode == 0
    assert "examples:" in p.stdout and "routeql bench rules/ events.jsonl --repeat 10 --top 5" in p.stdout
    assert "compiled alone into its own rule set" in " ".join(p.stdout.split())


def test_json_report(files: tuple[Path, Path]) -> None:
    rules, events = files
    p = routeql("bench", str(rules), str(events), "--repeat", "3", "--sample", "20", "--format", "json")
    assert p.returncode == 0, p.stderr
    r = json.loads(p.stdout)
    assert (r["destinations"], r["events"], r["rejected"], r["lines"]) == (3, 41, 2, 44)
    assert set(r["rejections"]) == {"not valid JSON", "event has no 'type'"}
    for kind in ("decide", "route"):
        m = r[kind]
        assert m["events_per_second"] > 0 and 0 < m["p50_us"] <= m["p99_us"]
        assert m["us_per_event"] == pytest.approx(1e6 / m["events_per_second"])
    per = r["per_destination"]
    assert per["events"] == 20 and "empty rule set" in per["method"]
    rows = {d["name"]: d for d in per["slowest"]}
    assert set(rows) == {"cheap", "costly", "never"}
    assert rows["costly"]["delivered"] == 0.5 and rows["cheap"]["delivered"] == 1.0 and rows["never"]["delivered"] == 0
    assert rows["costly"]["at"].endswith("rules.rq:10")
    # hashing 150 fields for half the events costs some 100 times what the others do: the
    # ranking holds on a noisy machine (medians of 3 passes), and nothing else about time is asserted
    assert per["slowest"][0]["name"] == "costly"


def test_text_report_and_top(files: tuple[Path, Path]) -> None:
    rules, events = files
    p = routeql("bench", str(rules), str(events), "--repeat", "1", "--sample", "10", "--top", "1")
    assert p.returncode == 0, p.stderr
    out = p.stdout
    assert "3 destinations loaded and compiled" in out and "41 events timed (2 of 44 lines left out)" in out
    assert "decide (destinations only)" in out and "route (decisions + payloads)" in out
    assert "slowest destinations" in out and "costly" in out and "rules.rq:10" in out
    assert "cheap" not in out.split("slowest destinations")[1]  # --top 1 lists one


def test_top_zero_skips_the_per_destination_timing(files: tuple[Path, Path]) -> None:
    rules, events = files
    p = routeql("bench", str(rules), str(events), "--repeat", "1", "--top", "0", "--format", "json")
    assert p.returncode == 0, p.stderr
    assert "per_destination" not in json.loads(p.stdout)


def test_no_valid_event_is_an_input_error(tmp_path: Path, files: tuple[Path, Path]) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"type": "nope"}\n[1, 2]\n', encoding="utf-8")
    p = routeql("bench", str(files[0]), str(bad))
    assert p.returncode == 2
    assert "no valid event in 2 lines" in p.stderr


@pytest.mark.parametrize(("args", "message"), [
    (["--repeat", "0"], "must be at least 1"),
    (["--top", "-1"], "must not be negative"),
    (["--sample", "x"], "not a whole number"),
])
def test_bad_options(files: tuple[Path, Path], args: list[str], message: str) -> None:
    p = routeql("bench", str(files[0]), str(files[1]), *args)
    assert p.returncode == 2 and message in p.stderr


def test_unreadable_inputs(tmp_path: Path, files: tuple[Path, Path]) -> None:
    p = routeql("bench", str(files[0]), str(tmp_path / "missing.jsonl"))
    assert p.returncode == 2 and "no such file" in p.stderr
    broken = tmp_path / "broken.rq"
    broken.write_text("destination x { when type = }\n", encoding="utf-8")
    p = routeql("bench", str(broken), str(files[1]))
    assert p.returncode == 2 and "broken.rq:1" in p.stderr


PLAN = """
plan shop {
  unplanned events allow
  violations block
  track "Page Scrolled" {
    required p0: string
    optional p1: string length <= 40
  }
}
"""


def test_what_the_tracking_plan_adds(tmp_path: Path, files: tuple[Path, Path]) -> None:
    rules = tmp_path / "planned.rq"
    rules.write_text(RULES + PLAN, encoding="utf-8")
    p = routeql("bench", str(rules), str(files[1]), "--repeat", "2", "--top", "0", "--format", "json")
    assert p.returncode == 0, p.stderr
    plan = json.loads(p.stdout)["plan"]
    assert set(plan) == {"decide", "route"}
    for m in plan.values():
        assert m["with_us"] > 0 and m["without_us"] > 0
        assert m["added_us"] == pytest.approx(m["with_us"] - m["without_us"])
        assert m["added_share"] == pytest.approx(m["added_us"] / m["without_us"])
    text = routeql("bench", str(rules), str(files[1]), "--repeat", "1", "--top", "0").stdout
    assert "the tracking plan adds" in text and "compiled without it" in text
    # rules without a plan: no such figure
    assert "plan" not in json.loads(routeql("bench", str(files[0]), str(files[1]), "--repeat", "1", "--top", "0",
                                            "--format", "json").stdout)
    assert "tracking plan adds" not in routeql("bench", str(files[0]), str(files[1]), "--repeat", "1", "--top", "0").stdout


def test_the_comparison_is_the_same_rules_without_their_plans(tmp_path: Path) -> None:
    from routeql import loads
    from routeql.cli.bench import without_plans

    planned = loads(RULES + PLAN, "planned.rq")
    bare = without_plans(planned)
    assert planned.has_plans and not bare.has_plans
    assert bare.destinations == planned.destinations
    clean, blocked = _event(0), _event(2, properties={"p1": "x" * 50})  # no p0, a long p1: blocked
    assert planned.decide(clean) == bare.decide(clean) == ("cheap", "costly")
    assert planned.decide(blocked) == () and bare.decide(blocked) == ("cheap", "costly")
    assert planned.route(blocked).rejected and not bare.route(blocked).rejected
