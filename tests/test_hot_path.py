"""The per-event path does only per-event work: no import machinery, no read done twice."""

from __future__ import annotations

import json
import sys
from typing import Any

import routeql
from tests.conftest import ROOT


def _events() -> list[dict[str, Any]]:
    lines = (ROOT / "examples" / "events.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines[:300]]


def test_routing_runs_no_import_machinery(bundled: routeql.RuleSet) -> None:
    """A function-level ``import`` in a per-event helper costs about a microsecond per call
    (the GPP reader had one: a third of `decide` on the bundled rules)."""
    events = _events()
    for e in events:  # warm: decoders are imported on first use, and that is fine
        bundled.route(e)
    seen: set[str] = set()

    def hook(frame: Any, event: str, arg: Any) -> None:
        if event == "call" and "importlib" in frame.f_code.co_filename:
            seen.add(frame.f_code.co_name)

    sys.setprofile(hook)
    try:
        for e in events:
            bundled.decide(e)
            bundled.route(e)
    finally:
        sys.setprofile(None)
    assert not seen, f"routing an event ran the import machinery: {sorted(seen)}"


def test_formats_reading_the_same_signal_read_it_once(bundled: routeql.RuleSet) -> None:
    # usnat and usca both read the GPP string: one read (inline: no call), one key, used twice
    formats = [f.name for f in bundled.resolver.formats]
    assert {"usnat", "usca"} <= set(formats)
    source = bundled.source
    fast = source[source.index("def fast(e):"):]
    fast = fast[:fast.index("\ndef ")]
    assert "_read" not in fast  # the GPP reader is inline
    keys = [line for line in fast.splitlines() if "('tuple', " in line]
    assert len(keys) == 1, keys
    # and the shared key is still the resolver's signature (the general path's key)
    resolver = bundled.resolver
    gpp = "DBABMA~CPXxRfAPXxRfAAfKABENB-CgAAAAAAAAAAYgAAAAAAAA"
    odd: list[dict[str, Any]] = [
        {"type": "page", "context": {"gpp": gpp, "gpp_sid": sid}} for sid in ([7], "7", 7, None, True, {"x": 1}, [7, "8", None])
    ] + [
        {"type": "page", "context": {"consent": {"gpp": gpp, "gpp_sid": "7"}, "gpp_sid": [2]}},
        {"type": "page", "context": {"gpp": 12, "gpp_sid": "7"}},
        {"type": "page", "context": {"gpp": ["x"]}},
        {"type": "page", "context": {"consent": {"gpp": None}, "gpp": gpp}},
    ]
    for e in _events()[:100] + odd:
        key = bundled._consent_fn(e)
        assert key == resolver.signature(key[0], resolver.read(e))
