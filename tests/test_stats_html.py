"""``routeql stats --html``: a self-contained, escaped page, rendered in headless Chromium
(no script error, every chart drawn, every event name shown) and kept as a screenshot
(tests/artifacts/stats.png)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

import routeql
from routeql.quality import collect
from routeql.quality.html import render_html
from tests.browser import browse, chromium

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
FIXTURE = Path(__file__).resolve().parent / "data" / "stats"

#: every chart of the page: figure[data-chart=NAME] holds an <svg>
CHARTS = ("volume", "anomalies", "pass-rate", "consent", "jurisdictions", "regimes")


def _hostile_report() -> str:
    """The fixture plus events whose names, sources and countries are markup."""
    rules = routeql.load(FIXTURE / "rules.rq")
    lines = (FIXTURE / "events.jsonl").read_text(encoding="utf-8").split("\n")[:-1]
    for day in range(1, 11):
        lines.append(json.dumps({"type": "track", "event": "<script>alert(1)</script>", "messageId": f"x{day}",
                                 "context": {"source": "<b>src</b>", "location": {"country": "<i>XX</i>"}},
                                 "timestamp": f"2026-03-{day:02d}T10:00:00Z"}))
    return render_html(collect(rules, lines, input_path="<img src=x onerror=alert(1)>"))


def test_the_page_is_escaped_and_self_contained() -> None:
    page = _hostile_report()
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<b>src</b>" not in page and "<i>XX</i>" not in page and "<img src=x" not in page
    # no network: no CDN, no remote font, no image; the only URL is the SVG namespace
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)
    assert set(re.findall(r"https?://[^\s\"'<>]+", page)) == {"http://www.w3.org/2000/svg"}
    assert re.findall(r"<script>", page) == ["<script>", "<script>"]  # the error trap and the "ok" mark
    for chart in CHARTS:
        assert re.search(rf'<figure data-chart="{chart}">\s*<svg class="chart', page) or (
            chart == "anomalies" and f'<div class="panels" data-chart="{chart}">' in page), chart
    assert "@media print" in page


def test_a_page_without_plans_consent_or_events() -> None:
    rules = routeql.loads("destination d { }")
    page = render_html(collect(rules, []))
    assert "The rules declare no consent block." in page
    assert "The rules have no tracking plan with required fields." in page
    assert "No day is far from what the surrounding days explain." in page
    assert "Every line is an event." in page


# ------------------------------------------------------------------ the page in Chromium


def screenshot(browser: str, page: Path, out: Path, profile: Path, size: str = "1200,2400") -> None:
    out.unlink(missing_ok=True)
    s = browse(browser, page.as_uri(), profile, f"--screenshot={out}", size=size)
    assert s.returncode == 0, s.stderr[-2000:]


@pytest.mark.browser
def test_the_report_in_headless_chromium(tmp_path: Path, bundled: routeql.RuleSet) -> None:
    browser = chromium()
    page = tmp_path / "stats.html"
    r = subprocess.run([sys.executable, "-m", "routeql.cli", "stats", "rules", "examples/events.jsonl", "--html",
                        str(page), "--format", "json"], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert re.fullmatch(r"wrote \S+: 1500 events, \d+ event names, 1 anomalies\n", r.stderr), r.stderr

    dom = browse(browser, page.as_uri(), tmp_path / "p1", "--dump-dom")
    assert dom.returncode == 0, dom.stderr[-2000:]
    html = dom.stdout
    assert 'data-js="ok"' in html  # the inline script ran to its end
    assert not re.search(r"<html[^>]*data-js-error", html)  # window.onerror saw nothing
    assert [line for line in dom.stderr.splitlines() if ":CONSOLE" in line] == []  # no console message at all
    for chart in CHARTS:  # every chart is drawn, as SVG
        figure = re.search(rf'data-chart="{chart}">(.*?)</(figure|div)>', html, re.S)
        assert figure and "<svg" in figure.group(1) and re.search(r"<(rect|path|circle)", figure.group(1)), chart
    assert len(re.findall(r"<svg", html)) >= len(CHARTS) + len(data["volume"]["series"])  # + a sparkline per row
    # every event name is on the page: in the pass-rate chart, the validation and volume tables
    chart = re.search(r'data-chart="pass-rate">(.*?)</figure>', html, re.S)
    assert chart is not None
    for e in data["validation"]["events"]:
        name = e["label"].replace("&", "&amp;")
        assert f'<tr data-event="{name}"' in html, name
        assert f'<tr data-series="{name}"' in html, name
        assert f">{name}</text>" in chart.group(1), name
    # the planted anomaly is marked on the volume chart and listed
    assert '<tr data-anomaly="2026-11-11">' in html
    volume = re.search(r'data-chart="volume">(.*?)</figure>', html, re.S)
    assert volume and '<path class="flag"' in volume.group(1) and "Order Completed (acme-shop) dropped to 1" in volume.group(1)

    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "stats.png"
    screenshot(browser, page, shot, tmp_path / "p2")
    assert shot.stat().st_size > 50_000
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
