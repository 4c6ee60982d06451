"""Hypothesis strategies: Segment-like events, consent states and random rule sets.

Events and rules draw paths from one small vocabulary so random conditions and actions
actually meet the fields random events carry.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import strategies as st

TYPES = ["track", "identify", "page", "screen", "group", "alias"]
EVENT_NAMES = ["Order Completed", "Product Viewed", "Signed Up", "Other Thing"]
CATEGORIES = {"analytics": "Analytics", "ads": "Advertising", "perso": "Personalization"}
RUDDER_IDS = {"analytics": "C0002", "ads": "C0004", "perso": "C0003"}
COUNTRIES = ["DE", "FR", "US", "GB", "BR"]

#: values the rules' literals use, so random conditions often meet them (and their look-alikes)
_SHARP = [None, True, False, 0, 1, 1.0, 1.5, 100, 100.0, -1, "1", "10", "a", "b", "", "Product X", "P",
          "x@y.io", " Jane@Example.COM ", "203.0.113.9", "2026-11-28T10:00:00Z", "ä", "string", "A"]
scalars = st.one_of(
    st.sampled_from(_SHARP), st.sampled_from(_SHARP), st.integers(-5, 300), st.floats(-5, 300, allow_nan=False),
)


def json_values(max_leaves: int = 6) -> st.SearchStrategy[Any]:
    return st.recursive(
        scalars,
        lambda inner: st.one_of(st.lists(inner, max_size=3),
                                st.dictionaries(st.sampled_from(["sku", "price", "email", "name", "x"]), inner, max_size=3)),
        max_leaves=max_leaves,
    )


@st.composite
def segment_consent(draw: st.DrawFn) -> Any:
    kind = draw(st.sampled_from(["absent", "empty", "prefs", "prefs", "prefs", "junk"]))
    if kind == "absent":
        return None
    if kind == "empty":
        return {}
    if kind == "junk":
        return draw(st.sampled_from([[], "yes", {"categoryPreferences": None}, {"categoryPreferences": [1]}]))
    keys = draw(st.lists(st.sampled_from(list(CATEGORIES.values())), unique=True, max_size=3))
    values = st.one_of(st.booleans(), st.booleans(), st.sampled_from(["true", 1, None]))
    prefs: dict[Any, Any] = {k: draw(values) for k in keys}
    # what only Python callers send: a key that is not a string; more categories than
    # the decoder takes (the state cache must key these apart from the plain object)
    odd = draw(st.sampled_from(["", "", "", "", "int key", "oversized"]))
    if odd == "int key":
        prefs[7] = True
    elif odd == "oversized":
        prefs.update(OVERSIZED_PREFS)
    return {"categoryPreferences": prefs}


#: more categories than the Segment decoder takes (it refuses the object)
OVERSIZED_PREFS = {f"extra{i}": True for i in range(1100)}
#: more ids than the RudderStack decoder takes
OVERSIZED_IDS = [f"X{i}" for i in range(1100)]


@st.composite
def rudder_consent(draw: st.DrawFn) -> Any:
    if draw(st.booleans()):
        return None
    ids = list(RUDDER_IDS.values()) + ["C0005"]
    out: dict[str, Any] = {}
    if draw(st.booleans()):
        out["deniedConsentIds"] = draw(st.lists(st.sampled_from(ids), max_size=3))
    if draw(st.booleans()):
        out["allowedConsentIds"] = draw(st.lists(st.sampled_from(ids), max_size=3))
        odd = draw(st.sampled_from(["", "", "", "", "object with an int key", "oversized"]))
        if odd == "object with an int key":
            out["allowedConsentIds"] = {**{i: "x" for i in out["allowedConsentIds"]}, 7: "x"}
        elif odd == "oversized":
            out["allowedConsentIds"] = out["allowedConsentIds"] + OVERSIZED_IDS
    if draw(st.booleans()):
        out["resolutionStrategy"] = draw(st.sampled_from(["and", "or", "OR", "bogus"]))
    return out


@st.composite
def events(draw: st.DrawFn) -> dict[str, Any]:
    t = draw(st.sampled_from(TYPES))
    ev: dict[str, Any] = {"type": t}
    if t == "track" or draw(st.integers(0, 5)) == 0:
        ev["event"] = draw(st.sampled_from(EVENT_NAMES + ([None] if t != "track" else [])))
    if draw(st.booleans()):
        ev["userId"] = draw(st.one_of(st.none(), st.sampled_from(["u1", "u2", "u3", "blocked"]), st.integers(1, 9)))
    if draw(st.booleans()):
        ev["messageId"] = draw(st.sampled_from(["m1", "m2", "m3", "m4"]))
    props: dict[str, Any] = {}
    for key, strat in (("revenue", scalars), ("price", scalars), ("category", scalars),
                       ("products", st.lists(st.dictionaries(st.sampled_from(["sku", "price", "email"]), scalars, max_size=3), max_size=3)),
                       ("tags", st.lists(scalars, max_size=3)), ("extra", json_values())):
        if draw(st.booleans()):
            props[key] = draw(strat)
    if props or draw(st.booleans()):
        ev["properties"] = props
    if draw(st.booleans()):
        ev["traits"] = {k: draw(scalars) for k in draw(st.lists(st.sampled_from(["email", "name", "phone", "age"]), unique=True))}
    ctx: dict[str, Any] = {}
    if draw(st.booleans()):
        ctx["location"] = {"country": draw(st.sampled_from(COUNTRIES))}
    seg = draw(segment_consent())
    if seg is not None:
        ctx["consent"] = seg
    rud = draw(rudder_consent())
    if rud is not None:
        ctx["consentManagement"] = rud
    if draw(st.booleans()):
        ctx["ip"] = draw(st.sampled_from(["203.0.113.77", "2001:db8::1", "nope", 5]))
    if draw(st.booleans()):
        ctx["traits"] = {"email": draw(scalars)}
    if ctx or draw(st.booleans()):
        ev["context"] = ctx
    if draw(st.integers(0, 4)) == 0:
        ev["integrations"] = draw(st.dictionaries(st.sampled_from(["All", "d0", "d1", "Dest 2"]), st.one_of(st.booleans(), st.just({})), max_size=3))
    if draw(st.booleans()):
        ev["timestamp"] = draw(st.sampled_from(["2026-11-28T18:41:55.764+01:00", "bad", "2026-01-01"]))
    return ev


external_consent = st.one_of(st.none(), st.dictionaries(st.sampled_from(list(CATEGORIES)), st.booleans(), max_size=3))

# ------------------------------------------------------------------ random rule sets

PATHS = ["type", "event", "userId", "properties.revenue", "properties.price", "properties.category",
         "properties.tags", "properties.products", "traits.email", "traits.age", "context.location.country",
         "context.ip", "timestamp", "properties.extra", "properties.products[0].sku"]
LITERALS = ['"a"', '"b"', '"Product X"', "1", "100", "1.5", "0", "true", "false", "null", '"10"', '""',
            '["a", "b"]', '[1, 2]', '["a", 1, null]']
ACTION_TARGETS = ["userId", "traits", "traits.email", "traits.*", "properties.products.sku", "properties.products.*",
                  "properties.tags", "properties.*", "context.ip", "context.traits.email", "timestamp", "pii.*",
                  "pii.email", "nothing.here", "properties.products.email"]


@st.composite
def atoms(draw: st.DrawFn) -> str:
    kind = draw(st.integers(0, 11))
    path = draw(st.sampled_from(PATHS[2:]))
    if kind == 0:
        return f'type = "{draw(st.sampled_from(TYPES))}"'
    if kind == 1:
        names = draw(st.lists(st.sampled_from(EVENT_NAMES), min_size=1, max_size=3, unique=True))
        return "event in [" + ", ".join(json.dumps(x) for x in names) + "]" if len(names) > 1 else f"event = {json.dumps(names[0])}"
    if kind == 2:
        op = draw(st.sampled_from(["=", "!=", "<", "<=", ">", ">="]))
        if path == "timestamp":
            path = "properties.price"  # a string field in the Segment spec: numbers would not check
        lit = draw(st.sampled_from(["1", "100", "1.5", '"b"'] if op not in ("=", "!=") else LITERALS))
        return f"{path} {op} {lit}"
    if kind == 3:
        return f"{path} {draw(st.sampled_from(['exists', 'missing']))}"
    if kind == 4:
        lit = draw(st.sampled_from(['["a", "b"]', "[1, 2, 100]", '["a", 1, null, true]', "[]"]))
        return f"{path} {draw(st.sampled_from(['in', 'not in']))} {lit}"
    if kind == 5:
        return f'{path} matches "{draw(st.sampled_from(["Product *", "*X", "a?", "[ab]*", "*"]))}"'
    if kind == 6:
        return f'{path} matches regex "{draw(st.sampled_from(["^a", "X$", "[0-9]", "(?i)product"]))}"'
    if kind == 7:
        fn = draw(st.sampled_from(["lower", "upper", "typeof", "length", "trim"]))
        lit = {"length": "1", "typeof": '"string"'}.get(fn, '"a"')
        return f"{fn}({path}) = {lit}"
    if kind == 8:
        return f'contains({path}, {draw(st.sampled_from(["1", chr(34) + "a" + chr(34)]))})'
    if kind == 9:
        return f"consent {draw(st.sampled_from(list(CATEGORIES)))}"
    if kind == 10:
        return f'"a" in {draw(st.sampled_from(["properties.tags", "properties.category"]))}'
    return f'starts_with({path}, "P")'


def conditions(depth: int = 2) -> st.SearchStrategy[str]:
    if depth == 0:
        return atoms()
    sub = conditions(depth - 1)
    return st.one_of(
        atoms(), atoms(),
        st.builds(lambda a, b: f"({a} and {b})", sub, sub),
        st.builds(lambda a, b: f"({a} or {b})", sub, sub),
        st.builds(lambda a: f"not ({a})", sub),
    )


@st.composite
def guards(draw: st.DrawFn) -> str:
    if draw(st.integers(0, 2)):
        return ""
    return f" {draw(st.sampled_from(['if', 'unless']))} {draw(conditions(1))}"


@st.composite
def destinations(draw: st.DrawFn, index: int) -> str:
    lines = []
    if draw(st.booleans()):
        cats = draw(st.lists(st.sampled_from(list(CATEGORIES)), min_size=1, max_size=2, unique=True))
        lines.append(("requires any of " if draw(st.booleans()) else "requires ") + ", ".join(cats))
    for _ in range(draw(st.integers(0, 2))):
        lines.append("when " + draw(conditions()))
    if draw(st.integers(0, 3)) == 0:
        lines.append(f"sample {draw(st.sampled_from(['10', '50', '99.5']))}% by "
                     f"{draw(st.sampled_from(['userId', 'messageId', 'properties.products']))}{draw(guards())}")
    keeps = set()
    if draw(st.booleans()):
        targets = draw(st.lists(st.sampled_from(ACTION_TARGETS), min_size=1, max_size=4, unique=True))
        keeps.update(targets)
        lines.append("keep " + ", ".join(targets) + draw(guards()))
    for verb in ("drop", "hash", "redact", "truncate"):
        if draw(st.integers(0, 2)) == 0:
            targets = draw(st.lists(st.sampled_from(ACTION_TARGETS), min_size=1, max_size=3, unique=True))
            if verb == "drop":
                targets = [t for t in targets if not any(k == t or k.startswith(t + ".") for k in keeps)] or ["nothing.here"]
            extra = {"hash": draw(st.sampled_from(["", ' salt "s"'])), "redact": "",
                     "truncate": " to " + draw(st.sampled_from(["/24", "/16 /32", "3", "day", "hour"])), "drop": ""}[verb]
            lines.append(f"{verb} {', '.join(targets)}{extra}{draw(guards())}")
    # d0 carries both tags, so policies over `tagged ads` / `tagged analytics` always resolve
    tags = " tagged ads, analytics" if index == 0 else draw(st.sampled_from(["", " tagged ads", " tagged analytics", " tagged ads, analytics"]))
    alias = draw(st.sampled_from(["", ' alias "Dest 2"'])) if index == 2 else ""
    return f"destination d{index}{tags}{alias} {{\n" + "".join(f"  {line}\n" for line in lines) + "}\n"


@st.composite
def rule_sets(draw: st.DrawFn) -> str:
    regime = draw(st.sampled_from(["opt_in", "opt_out"]))
    text = "consent {\n"
    for cat, seg in CATEGORIES.items():
        text += f'  category {cat} from segment "{seg}", rudderstack "{RUDDER_IDS[cat]}"\n'
    text += '  regime eea opt_in when context.location.country in ["DE", "FR"]\n'
    text += '  regime us opt_out when context.location.country = "US"\n'
    text += f"  default regime {regime}\n"
    if draw(st.integers(0, 3)) == 0:
        text += "  compat segment\n"
    text += "}\n"
    text += "classify {\n  pii.email = traits.email, context.traits.email, properties.products.email\n  pii.ip = context.ip\n}\n"
    for i in range(draw(st.integers(1, 5))):
        text += draw(destinations(i))
    if draw(st.booleans()):
        text += "policy p1 {\n"
        text += f"  forbid pii.* to tagged ads{draw(guards())}\n"
        if draw(st.booleans()):
            text += f"  forbid events to d0 if {draw(conditions(0))}\n"
        if draw(st.booleans()):
            cats = draw(st.lists(st.sampled_from(list(CATEGORIES)), min_size=1, max_size=2, unique=True))
            which = ("any of " if len(cats) > 1 and draw(st.booleans()) else "") + ", ".join(cats)
            text += f"  require consent {which} for tagged analytics{draw(guards())}\n"
        text += "}\n"
    return text
