"""Text no output can encode: a lone surrogate, which JSON spells (``"\\ud800"``) and UTF-8
cannot hold.  Events carry them; every command that prints or writes event data must
write them as ``\\ud800`` (in JSON, the same escape they came in as), never crash.

These run the real entry point in a new process: stdout and stderr are then real UTF-8
streams, which is where the crash was (an in-process StringIO takes anything).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
RULES = str(ROOT / "rules")

#: an event of the bundled retailer, its names and values holding lone surrogates
EVENT = {
    "type": "track", "event": "Order Completed\ud800", "userId": "u\ud800", "anonymousId": "a\udfff",
    "messageId": "m\ud800", "timestamp": "2026-11-02T10:00:00Z",
    "properties": {"k\ud800": 1, "order_id": "o\ud800"},
    "context": {"source": "acme-shop", "library": {"name": "x\ud800"}, "location": {"country": "D\ud800"},
                "consent": {"categoryPreferences": {"Advertising": True, "Analytics": True}}},
}


def routeql(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "routeql.cli", "--color", "never", *args], capture_output=True,
                          encoding="utf-8", errors="strict", timeout=120)


@pytest.fixture(scope="module")
def events(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("odd") / "events.jsonl"
    path.write_text(json.dumps(EVENT) + "\n", encoding="ascii")  # (json.dumps escapes them)
    return path


def test_route_writes_them_back_as_they_came(events: Path, tmp_path: Path) -> None:
    p = routeql("route", RULES, str(events), "--out", str(tmp_path))
    assert p.returncode == 0, p.stderr
    line = (tmp_path / "snowflake.jsonl").read_text(encoding="utf-8").strip()
    payload = json.loads(line)
    assert payload["userId"] == "u\ud800" and payload["properties"]["k\ud800"] == 1  # the very same strings
    assert "\\ud800" in line


@pytest.mark.parametrize("args", [
    ("stats", "--format", "json"),
    ("stats",),
    ("explain",),
    ("route", "--format", "json"),
    ("bench", "--repeat", "1", "--top", "1", "--sample", "1"),
], ids=" ".join)
def test_commands_print_them_escaped(events: Path, args: tuple[str, ...]) -> None:
    p = routeql(args[0], RULES, str(events), *args[1:])
    assert p.returncode == 0, p.stderr
    assert "Traceback" not in p.stderr
    if args == ("stats", "--format", "json"):
        report = json.loads(p.stdout)
        assert "Order Completed\ud800" in {e["event"] for e in report["validation"]["events"]}
    if args == ("explain",):  # (the fields the warehouse receives)
        assert "properties.`k\\ud800`" in p.stdout


def test_stats_page_holds_them_escaped(events: Path, tmp_path: Path) -> None:
    page = tmp_path / "stats.html"
    p = routeql("stats", RULES, str(events), "--html", str(page))
    assert p.returncode == 0, p.stderr
    assert "Order Completed\\ud800" in page.read_text(encoding="utf-8")


def test_plan_import_says_where_it_cannot_carry_one(tmp_path: Path) -> None:
    plan = {"name": "p", "rules": {"events": [{"name": "Signed Up", "rules": {"type": "object", "properties": {
        "properties": {"type": "object", "properties": {"method\ud800": {"type": "string"}}}}}}]}}
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(plan), encoding="ascii")
    p = routeql("plan", "import", str(path))
    assert p.returncode == 2 and p.stdout == ""
    assert "plan.json#/rules/events/0/rules/properties/properties/properties/method\\ud800: " in p.stderr
    assert "lone surrogate" in p.stderr
