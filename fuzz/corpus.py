"""The repository -> seed inputs for the fuzz targets: rule texts, conditions, events, consent strings.

Seeds are real, valid inputs; the mutators (:mod:`fuzz.mutate`) break them in the ways
that matter (an almost-valid input reaches deeper than random bytes do).

>>> any("destination" in text for text in rule_texts())
True
"""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path

__all__ = ["ROOT", "rule_texts", "conditions", "event_lines", "consent_values"]

ROOT = Path(__file__).resolve().parent.parent

_FENCE = re.compile(r"```(routeql|routeql-condition)\n(.*?)```", re.S)


@functools.lru_cache(maxsize=None)
def _doc_blocks() -> tuple[tuple[str, str], ...]:
    out: list[tuple[str, str]] = []
    for doc in sorted((ROOT / "docs").glob("*.md")):
        out += [(m.group(1), m.group(2)) for m in _FENCE.finditer(doc.read_text(encoding="utf-8"))]
    return tuple(out)


@functools.lru_cache(maxsize=None)
def rule_texts() -> tuple[str, ...]:
    """Every bundled rule file, all of them joined (one rule set), and every doc example."""
    files = [f.read_text(encoding="utf-8") for f in sorted((ROOT / "rules").glob("*.rq"))]
    docs = [body for kind, body in _doc_blocks() if kind == "routeql"]
    return tuple(files + ["\n".join(files)] + docs)


@functools.lru_cache(maxsize=None)
def conditions() -> tuple[str, ...]:
    """Conditions from the docs and from the bundled rules' ``when`` lines."""
    out = [line for kind, body in _doc_blocks() if kind == "routeql-condition" for line in body.splitlines() if line]
    for text in rule_texts():
        out += [m.group(1) for m in re.finditer(r"^\s*when (.+)$", text, re.M)]
    return tuple(dict.fromkeys(out))


@functools.lru_cache(maxsize=None)
def event_lines() -> tuple[bytes, ...]:
    """The example events, one JSON line each (as the CLI reads them)."""
    with (ROOT / "examples" / "events.jsonl").open("rb") as f:
        lines = [line.rstrip(b"\n") for line in f if line.strip()]
    return tuple(lines[:200])


#: Valid values of every consent format, beyond the IAB vectors (format -> examples).
_HANDMADE: dict[str, tuple[object, ...]] = {
    "usprivacy": ("1YNN", "1NYN", "1---", "1-Y-", "1YYY"),
    "onetrust": (
        "isGpcEnabled=0&datestamp=Tue+Jan+02+2024&version=202209.1.0&interactionCount=1"
        "&groups=C0001%3A1%2CC0002%3A0%2CC0003%3A1%2CC0004%3A1&AwaitingReconsent=false",
        "C0001:1,C0004:0,STACK42:1",
        ",C0001,C0002,",
    ),
    "cookiebot": (
        "{stamp:'uHZ1qLzWkAZkZEBKkcGt1xzs9emiEa5z9bPQ7pvTOPBzhv1T+QzAnQ==',necessary:true,preferences:false,"
        "statistics:true,marketing:false,method:'explicit',ver:1,utc:1734405069032,region:'cn'}",
        "-1",
    ),
    "gpc": ("1", True, 1),
    "gcm": ({"ad_storage": "granted", "analytics_storage": "denied"}, "G111", "G100"),
    "segment": ({"categoryPreferences": {"Advertising": True, "Analytics": False}},),
    "rudderstack": ({"allowedConsentIds": ["C0002"], "deniedConsentIds": ["C0004"], "resolutionStrategy": "or"},),
}


@functools.lru_cache(maxsize=None)
def consent_values() -> dict[str, tuple[object, ...]]:
    """format -> valid values: every TC and GPP string of the vectors, plus handmade ones."""
    vectors = ROOT / "tests" / "data" / "vectors"
    tcf = json.loads((vectors / "tcf-vectors.json").read_text(encoding="utf-8"))
    gpp = json.loads((vectors / "gpp-vectors.json").read_text(encoding="utf-8"))
    out = dict(_HANDMADE)
    out["tcf"] = tuple(v["tc_string"] for v in tcf if v.get("kind") == "valid")
    out["gpp"] = tuple(v["string"] for v in gpp if v.get("kind") == "gpp")
    out["gpp_section"] = tuple((v["kind"], v["string"]) for v in gpp if v.get("kind") in ("usnat", "usca", "uspv1"))
    return out
