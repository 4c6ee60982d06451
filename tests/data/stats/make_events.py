#!/usr/bin/env python3
"""Seeded generator for tests/data/stats/events.jsonl: the ``routeql stats`` fixture.

seed in, JSONL out (standard library only, deterministic).  About 200 lines over ten UTC
days, 2026-03-01 to 2026-03-10, for tests/data/stats/rules.rq, with everything the
report must count planted on purpose:

- volume: fixed counts per day and series; on 2026-03-07 the shop's "Order Completed"
  falls from 6 a day to 1 (the anomaly), everything else stays flat;
- schema violations of every kind (required, type, enum, range, format, nested list
  items, unplanned properties flagged by one plan and allowed by the other, unplanned
  events, events no plan applies to, events without messageId);
- duplicates: four messageIds sent twice and one three times (SDK retries);
- identity: users identified on some of their events, four linked only by an alias
  (previousId -> userId, no anonymousId), an alias to an anonymousId never seen,
  server-side events with a userId and no anonymousId, and events with no id at all;
- consent: eight consent choices (segment preferences, none at all under compat
  segment, GPC on, and malformed segment and GPC signals) in four jurisdictions;
- dates: offsets that cross midnight, missing and unparseable timestamps (dated by
  receivedAt or sentAt), and one undated event;
- five lines that are not events (bad JSON, an empty line, a JSON array, no type, a track
  without a name).

    python tests/data/stats/make_events.py          # rewrites events.jsonl beside it

tests/test_stats.py checks the committed file equals a fresh run.
"""

from __future__ import annotations

import json
import random
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

SEED = 6
START = datetime(2026, 3, 1, tzinfo=timezone.utc)
DAYS = 10
ANOMALY_DAY = 6  # 2026-03-07
OUT = Path(__file__).resolve().parent / "events.jsonl"

COUNTRIES = ("DE", "FR", "US", "GB", None, "DE", "US", "FR")
#: consent choice per user (k % 8): context.consent, context.gpc
CONSENT: tuple[tuple[Any, Any], ...] = (
    ({"categoryPreferences": {"Analytics": True, "Advertising": True}}, None),
    ({"categoryPreferences": {"Analytics": True, "Advertising": False}}, None),
    ({"categoryPreferences": {}}, None),
    (None, None),  # no signal: not enforced under compat segment
    ({"categoryPreferences": {"Analytics": True, "Advertising": True}}, True),  # GPC withdraws ads
    ({"categoryPreferences": ["Analytics"]}, None),  # malformed segment signal
    ({"categoryPreferences": {"Analytics": True}}, None),  # Advertising missing: not consented
    ({"categoryPreferences": {"Analytics": True, "Advertising": True}}, "yes"),  # malformed GPC
)


class Maker:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.events: list[tuple[datetime, dict[str, Any]]] = []
        self.counter = 0
        self.turn: dict[str, int] = {}

    def user(self, pool: range) -> int:
        """Users take turns (round robin), so every one of them appears."""
        k = self.turn.get(str(pool), 0)
        self.turn[str(pool)] = k + 1
        return pool[k % len(pool)]

    def when(self, day: int) -> datetime:
        return START + timedelta(days=day, hours=self.rng.randint(0, 22), minutes=self.rng.randint(0, 59),
                                 seconds=self.rng.randint(0, 59))

    def event(self, day: int, source: str | None, type_: str, k: int | None, **fields: Any) -> dict[str, Any]:
        self.counter += 1
        at = self.when(day)
        e: dict[str, Any] = {"type": type_, "messageId": f"m-{self.counter:04d}"}
        context: dict[str, Any] = {"library": {"name": "analytics.js", "version": "2.1.0"}}
        if source is not None:
            context["source"] = source
        if k is not None:
            e["anonymousId"] = f"anon-{k:02d}"
            if k % 3 == 0:  # identified users send their userId on about half of their events
                if self.rng.random() < 0.5:
                    e["userId"] = f"user-{k:02d}"
                elif self.rng.random() < 0.5:
                    e["userId"] = None
            country = COUNTRIES[k % 8]
            if country is not None:
                context["location"] = {"country": country}
            consent, gpc = CONSENT[k % 8]
            if consent is not None:
                context["consent"] = json.loads(json.dumps(consent))
            if gpc is not None:
                context["gpc"] = gpc
        e["context"] = context
        e.update(fields)
        e["timestamp"] = at.isoformat(timespec="milliseconds").replace("+00:00", "Z")
        e["receivedAt"] = (at + timedelta(seconds=1)).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        self.events.append((at, e))
        return e


def generate(seed: int = SEED) -> list[str]:
    m = Maker(seed)
    shop, app = range(0, 16), range(16, 24)
    n = {"oc": 0, "pv": 0, "identify": 0, "page": 0, "signup": 0, "signin": 0}
    for day in range(DAYS):
        for _ in range(1 if day == ANOMALY_DAY else 6):
            i = n["oc"]
            n["oc"] += 1
            props: dict[str, Any] = {
                "order_id": f"o-{i:03d}", "revenue": round(m.rng.uniform(10, 200), 2),
                "currency": m.rng.choice(["EUR", "USD"]),
                "products": [{"sku": f"sku-{m.rng.randint(1, 99)}", "price": 9.5} for _ in range(1 + i % 3)],
            }
            if i in (3, 17, 30):
                del props["revenue"]
            if i in (5, 22):
                props["currency"] = "GBP"
            if i == 8:
                props["revenue"] = -5
            if i == 27:
                props["revenue"] = "12"
            if i in (11, 40):
                props["products"] = [{"price": 1.0}, {"price": 2.0}] if i == 40 else [{"price": 1.0}]
            if i == 14:
                props["debug"] = True
            m.event(day, "shop", "track", m.user(shop), event="Order Completed", properties=props)
        for _ in range(5):
            j = n["pv"]
            n["pv"] += 1
            props = {"sku": f"sku-{j}", "price": 19.0}
            if j in (2, 19):
                del props["sku"]
            if j == 7:
                props["price"] = -1
            e = m.event(day, "shop", "track", m.user(shop), event="Product Viewed", properties=props)
            if j == 33:
                del e["messageId"]
            if j in (10, 25):
                # late evening UTC, written in UTC+2: the date in the string is the next day
                at = START + timedelta(days=day, hours=23, minutes=30)
                e["timestamp"] = at.astimezone(timezone(timedelta(hours=2))).isoformat()
                e["receivedAt"] = (at + timedelta(seconds=2)).isoformat().replace("+00:00", "Z")
        j = n["identify"]
        n["identify"] += 1
        k = m.user(shop)
        m.event(day, "shop", "identify", k,
                traits={"email": "not-an-email" if j == 3 else f"u{k}@example.com"})
        for _ in range(2):
            j = n["page"]
            n["page"] += 1
            e = m.event(day, "shop", "page", m.user(shop), name="Home", properties={"path": "/"})
            if j in (4, 9):
                del e["messageId"]
            if j == 6:
                del e["timestamp"]
            if j == 13:
                e["timestamp"] = "not a date"
        for _ in range(2):
            j = n["signup"]
            n["signup"] += 1
            props = {"method": "sso" if j in (1, 12) else m.rng.choice(["email", "google"])}
            if j in (3, 6, 15):
                props["referrer"] = "ad"
            m.event(day, "app", "track", m.user(app), event="Signed Up", properties=props)
        j = n["signin"]
        n["signin"] += 1
        e = m.event(day, "app", "track", m.user(app), event="Signed In", properties={"method": "email"})
        if j == 4:
            e["timestamp"] = "yesterday"
            del e["receivedAt"]
            e["sentAt"] = (START + timedelta(days=day, hours=12)).isoformat().replace("+00:00", "Z")
        if day % 2 == 0:
            m.event(day, "app", "group", m.user(app), groupId=f"g-{day}", traits={"name": "Acme"})
        # the legacy backend: no plan, no anonymousId, a userId on every other event
        e = m.event(day, "legacy", "track", None, event="Legacy Ping", properties={})
        if day % 2 == 0:
            e["userId"] = f"srv-{day}"
        if day in (1, 3, 5, 8):  # server-side aliases: previousId -> userId, no anonymousId
            k = (1, 4, 7, 10)[(1, 3, 5, 8).index(day)]
            e = m.event(day, "shop", "alias", None, previousId=f"anon-{k:02d}", userId=f"user-{k:02d}")
        if day in (2, 7):  # no source at all: no plan applies
            m.event(day, None, "page", m.user(shop), name="Home")
    m.event(4, "shop", "alias", None, previousId="anon-ghost", userId="user-ghost")
    undated = m.event(9, "legacy", "track", None, event="Legacy Ping", properties={})
    undated["timestamp"] = None
    del undated["receivedAt"]

    m.events.sort(key=lambda x: x[0])
    lines = [json.dumps(e, separators=(",", ":")) for _, e in m.events]
    # SDK retries: the same Product Viewed again a few lines later, received later
    viewed = [i for i, (_, e) in enumerate(m.events) if e.get("event") == "Product Viewed" and "messageId" in e]
    retries = [(viewed[3], 1), (viewed[12], 1), (viewed[20], 1), (viewed[28], 1), (viewed[36], 2)]
    for position, times in sorted(retries, reverse=True):
        original = m.events[position][1]
        received = datetime.fromisoformat(original["receivedAt"])
        for t in range(times):
            copy = dict(original, receivedAt=(received + timedelta(seconds=30 * (t + 1))).isoformat(
                timespec="milliseconds").replace("+00:00", "Z"))
            lines.insert(position + 3 + t, json.dumps(copy, separators=(",", ":")))
    bad = ['{"type": "track", "event": "Broken"', "", "[1, 2]", '{"messageId": "x"}', '{"type":"track","properties":{}}']
    for position, line in zip((20, 60, 100, 140, 180), bad):
        lines.insert(position, line)
    return lines


def main(argv: list[str]) -> int:
    out = Path(argv[1]) if len(argv) > 1 else OUT
    out.write_text("\n".join(generate()) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
