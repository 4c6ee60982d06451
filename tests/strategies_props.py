"""Hypothesis strategies and helpers for the guarantee tests: consent-monotone rule sets,
rule sets with forbid policies, consent revocations, payload paths and identity walks.

Built on :mod:`tests.strategies` (same vocabulary of paths and categories), which stays
as it is: these strategies only add what the properties need.

>>> sorted(node_paths({"a": {"b": 1}, "l": [{"c": 2}]}))
['a', 'a.b', 'l', 'l.c']
"""

from __future__ import annotations

import copy
import math
from typing import Any, Iterator

from hypothesis import strategies as st

from tests.strategies import ACTION_TARGETS, CATEGORIES, RUDDER_IDS, atoms

__all__ = [
    "plain_conditions", "signed_conditions", "monotone_rule_sets", "forbid_rule_sets", "FORBID_TARGETS",
    "revocations", "revoke", "node_paths", "matches_pattern", "strict_equal", "mutable_ids", "CONSENT_BLOCK",
]

CONSENT_BLOCK = (
    "consent {\n"
    + "".join(f'  category {c} from segment "{s}", rudderstack "{RUDDER_IDS[c]}"\n' for c, s in CATEGORIES.items())
    + "  opt-out ads by gpc\n"
    + '  regime eea opt_in when context.location.country in ["DE", "FR"]\n'
    + '  regime us opt_out when context.location.country = "US"\n'
    + "  default regime {regime}\n{compat}}\n"
)
CLASSIFY = "classify {\n  pii.email = traits.email, context.traits.email, properties.products.email\n  pii.ip = context.ip\n}\n"

# ------------------------------------------------------------------ conditions by consent polarity

#: atoms that never test consent (tests.strategies.atoms draws consent tests too)
plain_atoms = atoms().filter(lambda a: not a.startswith("consent "))
consent_atoms = st.sampled_from([f"consent {c}" for c in CATEGORIES])


def plain_conditions(depth: int = 1) -> st.SearchStrategy[str]:
    """Conditions that do not read consent at all."""
    if depth == 0:
        return plain_atoms
    sub = plain_conditions(depth - 1)
    return st.one_of(plain_atoms, st.builds(lambda a, b: f"({a} and {b})", sub, sub),
                     st.builds(lambda a, b: f"({a} or {b})", sub, sub), st.builds(lambda a: f"not ({a})", sub))


def signed_conditions(positive: bool, depth: int = 2) -> st.SearchStrategy[str]:
    """Conditions that can only become *false* (``positive``) or only *true* (not
    ``positive``) when a consent category is revoked: consent tests appear under an even
    (odd) number of ``not``.  ``not`` flips the sign of what it wraps."""
    leaf = st.one_of(plain_atoms, plain_atoms, consent_atoms) if positive else st.one_of(
        plain_atoms, plain_atoms, consent_atoms.map(lambda a: f"not {a}"))
    if depth == 0:
        return leaf
    same = signed_conditions(positive, depth - 1)
    flipped = signed_conditions(not positive, depth - 1)
    return st.one_of(leaf, st.builds(lambda a, b: f"({a} and {b})", same, same),
                     st.builds(lambda a, b: f"({a} or {b})", same, same), st.builds(lambda a: f"not ({a})", flipped))


@st.composite
def signed_guard(draw: st.DrawFn, more_when_granted: bool) -> str:
    """A guard that holds at least as often with more consent (``more_when_granted``) or at
    most as often: ``if C`` with C of that sign, or ``unless C`` with C of the other."""
    kind = draw(st.integers(0, 3))
    if kind == 0:
        return ""
    if kind == 1:
        return f" if {draw(signed_conditions(more_when_granted, 1))}"
    return f" unless {draw(signed_conditions(not more_when_granted, 1))}"


# ------------------------------------------------------------------ rule sets

@st.composite
def _monotone_destination(draw: st.DrawFn, index: int) -> str:
    """A destination whose deliveries and fields can only shrink when consent is revoked."""
    lines = []
    if draw(st.booleans()):
        cats = draw(st.lists(st.sampled_from(list(CATEGORIES)), min_size=1, max_size=2, unique=True))
        lines.append(("requires any of " if draw(st.booleans()) else "requires ") + ", ".join(cats))
    for _ in range(draw(st.integers(0, 2))):
        lines.append("when " + draw(signed_conditions(True)))
    if draw(st.integers(0, 3)) == 0:  # sampling stops deliveries: it may apply *less* with more consent
        lines.append(f"sample 50% by userId{draw(signed_guard(False))}")
    kept: set[str] = set()
    if draw(st.booleans()):
        targets = draw(st.lists(st.sampled_from(ACTION_TARGETS), min_size=1, max_size=4, unique=True))
        kept.update(targets)
        lines.append("keep " + ", ".join(targets) + draw(signed_guard(True)))
    for verb in ("drop", "redact", "hash", "truncate"):
        if draw(st.integers(0, 2)) == 0:
            targets = draw(st.lists(st.sampled_from(ACTION_TARGETS), min_size=1, max_size=3, unique=True))
            if verb == "drop":
                targets = [t for t in targets if not any(k == t or k.startswith(t + ".") for k in kept)] or ["nothing.here"]
            extra = {"truncate": " to " + draw(st.sampled_from(["/24", "3", "day"]))}.get(verb, "")
            # drop and redact remove paths (a redacted object becomes one leaf): they may apply
            # more often when consent is revoked, never less; hash and truncate keep the shape
            guard = draw(signed_guard(False)) if verb in ("drop", "redact") else draw(
                st.one_of(st.just(""), signed_guard(True), signed_guard(False)))
            lines.append(f"{verb} {', '.join(targets)}{extra}{guard}")
    tags = draw(st.sampled_from(["", " tagged ads", " tagged analytics"]))
    return f"destination d{index}{tags} {{\n" + "".join(f"  {line}\n" for line in lines) + "}\n"


def _consent_header(regime: str, compat: bool) -> str:
    return CONSENT_BLOCK.replace("{regime}", regime).replace("{compat}", "  compat segment\n" if compat else "") + CLASSIFY


@st.composite
def monotone_rule_sets(draw: st.DrawFn) -> str:
    """Rule sets in which consent is only ever asked for, never held against an event:
    revoking a category can only take destinations and fields away."""
    text = _consent_header(draw(st.sampled_from(["opt_in", "opt_out"])), draw(st.integers(0, 3)) == 0)
    for i in range(draw(st.integers(1, 4))):
        text += draw(_monotone_destination(i))
    if draw(st.booleans()):
        text += "policy p1 {\n"
        text += f"  forbid pii.* to tagged ads{draw(signed_guard(False))}\n"
        if draw(st.booleans()):
            text += f"  forbid events to d0{draw(signed_guard(False))}\n"
        if draw(st.booleans()):
            text += f"  require consent {draw(st.sampled_from(list(CATEGORIES)))} for tagged analytics{draw(signed_guard(False))}\n"
        text += "}\n"
    return text


#: what forbid policies name (paths, wildcards, classes) and destinations handle too
FORBID_TARGETS = ["traits.email", "traits.*", "context.ip", "pii.email", "pii.*", "properties.products.email",
                  "properties.products.*", "properties.tags", "userId", "context.traits.email", "properties.*"]


@st.composite
def forbid_rule_sets(draw: st.DrawFn) -> tuple[str, list[tuple[str, str, str]]]:
    """A rule set whose destinations keep, hash, redact and truncate the very fields that
    unconditional ``forbid`` policies remove; returns the text and the policies as
    (fields, destination set, guard) with guard "" or a category name (``unless consent``)."""
    text = _consent_header(draw(st.sampled_from(["opt_in", "opt_out"])), False)
    for i in range(draw(st.integers(1, 4))):
        lines = []
        if draw(st.booleans()):
            lines.append("keep " + ", ".join(draw(st.lists(st.sampled_from(FORBID_TARGETS + ACTION_TARGETS), min_size=1,
                                                               max_size=5, unique=True))))
        for verb, extra in (("hash", ""), ("redact", ""), ("truncate", " to 3"), ("truncate", " to /24")):
            if draw(st.integers(0, 2)) == 0:
                lines.append(f"{verb} {', '.join(draw(st.lists(st.sampled_from(FORBID_TARGETS), min_size=1, max_size=3, unique=True)))}{extra}")
        tags = draw(st.sampled_from(["", " tagged ads", " tagged crm", " tagged ads, crm"]))
        text += f"destination d{i}{tags} {{\n" + "".join(f"  {line}\n" for line in lines) + "}\n"
    policies = []
    for j in range(draw(st.integers(1, 3))):
        fields = ", ".join(draw(st.lists(st.sampled_from(FORBID_TARGETS), min_size=1, max_size=3, unique=True)))
        target = draw(st.sampled_from(["all", "tagged ads", "tagged crm", "d0", "d0, tagged crm"]))
        guard = draw(st.sampled_from(["", "", *CATEGORIES]))
        policies.append((fields, target, guard))
        text += f"policy f{j} {{\n  forbid {fields} to {target}{f' unless consent {guard}' if guard else ''}\n}}\n"
    return text, policies


# ------------------------------------------------------------------ revoking consent

@st.composite
def revocations(draw: st.DrawFn) -> list[tuple[str, str]]:
    """Steps that each withdraw one category: (where, category)."""
    where = st.sampled_from(["external", "segment", "rudder_allowed", "rudder_denied", "gpc"])
    return draw(st.lists(st.tuples(where, st.sampled_from(list(CATEGORIES))), min_size=1, max_size=3))


def revoke(event: dict[str, Any], external: dict[str, bool] | None, steps: list[tuple[str, str]]) -> tuple[dict[str, Any], dict[str, bool]]:
    """The event and external consent with every step applied (copies; inputs untouched)."""
    ev = copy.deepcopy(event)  # not a JSON round trip: it would make an int key a string
    ext = dict(external or {})
    for where, cat in steps:
        ctx = ev.get("context")
        if ctx.__class__ is not dict:
            ctx = ev["context"] = {}
        if where == "external":
            ext[cat] = False
        elif where == "segment":
            prefs = ctx.get("consent")
            if prefs.__class__ is not dict or prefs.get("categoryPreferences").__class__ is not dict:
                prefs = ctx["consent"] = {"categoryPreferences": {}}
            prefs["categoryPreferences"][CATEGORIES[cat]] = False
        elif where in ("rudder_allowed", "rudder_denied"):
            cm = ctx.get("consentManagement")
            if cm.__class__ is not dict:
                cm = ctx["consentManagement"] = {}
            ident = RUDDER_IDS[cat]
            allowed = cm.get("allowedConsentIds")
            if allowed.__class__ is list:
                cm["allowedConsentIds"] = [x for x in allowed if x != ident]
            if where == "rudder_denied":
                denied = cm.get("deniedConsentIds")
                cm["deniedConsentIds"] = (denied if denied.__class__ is list else []) + [ident]
        else:
            ctx["gpc"] = True
    return ev, ext


# ------------------------------------------------------------------ payload helpers

def node_paths(value: Any, prefix: str = "") -> set[str]:
    """Every path present in a payload (objects along the way included); list elements
    share their list's path, as in the language."""
    out: set[str] = set()
    stack = [(value, prefix)]
    while stack:
        v, p = stack.pop()
        if v.__class__ is dict:
            for k, x in v.items():
                q = f"{p}.{k}" if p else str(k)
                out.add(q)
                stack.append((x, q))
        elif v.__class__ is list:
            stack.extend((x, p) for x in v)
    return out


def matches_pattern(path: str, pattern: str) -> bool:
    """Is ``path`` the field a pattern names, or inside it?  (``*`` matches one key.)"""
    segs, pats = path.split("."), pattern.split(".")
    return len(segs) >= len(pats) and all(p == "*" or p == s for p, s in zip(pats, segs))


def strict_equal(a: Any, b: Any) -> bool:
    """Deep equality that tells apart 1, 1.0 and True, and holds NaN equal to NaN."""
    if a.__class__ is not b.__class__:
        return False
    if a.__class__ is dict:
        return list(a) == list(b) and all(strict_equal(a[k], b[k]) for k in a)
    if a.__class__ is list:
        return len(a) == len(b) and all(strict_equal(x, y) for x, y in zip(a, b))
    if a.__class__ is float and math.isnan(a):
        return math.isnan(b)
    return bool(a == b)


def mutable_ids(value: Any) -> Iterator[int]:
    """The id() of every dict and list inside ``value`` (itself included)."""
    stack = [value]
    while stack:
        v = stack.pop()
        if v.__class__ is dict:
            yield id(v)
            stack.extend(v.values())
        elif v.__class__ is list:
            yield id(v)
            stack.extend(v)
