"""A case's expectations against a :class:`~routeql.engine.Routing` -> a list of failures.

Deliveries come from the compiled engine (what gateways run); reasons and field fates
from the trace the reference interpreter records.  Payloads compare as JSON: ``1`` equals
``1.0`` but ``true`` is not ``1``, and key order does not matter.

>>> same({"a": 1, "b": [True]}, {"b": [True], "a": 1.0}), same({"a": True}, {"a": 1})
(True, False)
"""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass
from typing import Any

from ..engine import Routing
from ..result import DestinationTrace, Reason
from .fixtures import Case
from .paths import MISSING, covers, lookup, parse_path
from .schema import ExpectModel, FieldsModel, ReasonModel

__all__ = ["Failure", "check_case", "same", "payload_diff", "differences"]

_FATES = {"hashed": "hashed", "redacted": "redacted", "truncated": "truncated"}


@dataclass(frozen=True)
class Failure:
    """One expectation that did not hold, for one destination (None: the case as a whole)."""

    destination: str | None
    check: str  # "delivered", "reason", "payload", "fields.present", ..., "others", "only_destinations"
    message: str
    expected: Any = None
    actual: Any = None
    #: a unified diff (expected -> actual) for payloads, "" otherwise
    diff: str = ""

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"destination": self.destination, "check": self.check, "message": self.message}
        if self.expected is not None or self.actual is not None:
            out.update(expected=self.expected, actual=self.actual)
        if self.diff:
            out["diff"] = self.diff
        return out


# ------------------------------------------------------------------ JSON comparison


def same(a: Any, b: Any) -> bool:
    """JSON equality: numbers by value, but booleans are not numbers."""
    ta, tb = type(a), type(b)
    if ta is bool or tb is bool:
        return ta is tb and a == b
    if ta in (int, float) and tb in (int, float):
        return bool(a == b)
    if ta is dict and tb is dict:
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if ta in (list, tuple) and tb in (list, tuple):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    return ta is tb and a == b


def differences(expected: Any, actual: Any, path: str = "") -> list[str]:
    """The paths where two JSON values differ (a key missing on one side counts).

    >>> differences({"a": 1, "b": {"c": 2}}, {"a": 1, "b": {"c": 3}, "d": 0})
    ['b.c', 'd']
    """
    if type(expected) is dict and type(actual) is dict:
        out: list[str] = []
        for k in list(expected) + [k for k in actual if k not in expected]:
            sub = f"{path}.{k}" if path else str(k)
            if k not in expected or k not in actual:
                out.append(sub)
            else:
                out.extend(differences(expected[k], actual[k], sub))
        return out
    if type(expected) is list and type(actual) is list and len(expected) == len(actual):
        return [d for i, (x, y) in enumerate(zip(expected, actual)) for d in differences(x, y, f"{path}[{i}]")]
    return [] if same(expected, actual) else [path or "(the whole value)"]


def pretty(value: Any) -> str:
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False, default=str)


def payload_diff(expected: Any, actual: Any) -> str:
    """A unified diff of the two payloads as sorted, indented JSON."""
    lines = difflib.unified_diff(pretty(expected).splitlines(), pretty(actual).splitlines(),
                                 "expected", "actual", lineterm="", n=3)
    return "\n".join(lines)


def _show(v: Any) -> str:
    if v is MISSING:
        return "missing"
    text = json.dumps(v, ensure_ascii=False, default=str)
    return text if len(text) <= 80 else text[:77] + "..."


# ------------------------------------------------------------------ the checks


def check_case(case: Case, routing: Routing) -> list[Failure]:
    """Every failed expectation of ``case`` against ``routing`` (empty when it passes)."""
    failures: list[Failure] = []
    delivered = routing.deliveries
    reasons = routing.skipped
    for dest, expect in case.expect.items():
        failures.extend(_destination(dest, expect, routing))
    if case.only is not None:
        extra = [d for d in delivered if d not in case.only]
        missing = [d for d in case.only if d not in delivered and d not in case.expect]
        if extra or missing:
            parts = []
            if extra:
                parts.append("also delivered to " + ", ".join(extra))
            if missing:
                parts.append("not delivered to " + "; ".join(f"{d} ({_reason_text(reasons.get(d))})" for d in missing))
            failures.append(Failure(None, "only_destinations",
                                    f"expected exactly [{', '.join(case.only)}] to receive the event: " + "; ".join(parts),
                                    list(case.only), list(delivered)))
    elif case.others == "skipped":
        for d in delivered:
            if d not in case.expect:
                failures.append(Failure(d, "others", "delivered, but the case does not expect it (others: skipped); "
                                                     f"add `{d}: {{delivered: true}}` under expect, or `others: any`",
                                        False, True))
    return failures


def _reason_text(r: Reason | None) -> str:
    if r is None:
        return "not evaluated"
    return f"skipped at {r.stage}: {r.detail}" + (f" [{r.at}]" if r.at else "")


def _destination(dest: str, e: ExpectModel, routing: Routing) -> list[Failure]:
    want = e.delivered if e.delivered is not None else e.reason is None
    got = dest in routing.deliveries
    if want and not got:
        r = routing.skipped.get(dest)
        rule = f"\nrule: {r.rule}" if r is not None and r.rule else ""
        return [Failure(dest, "delivered", f"expected delivered, but {_reason_text(r)}{rule}", True, False)]
    if not want and got:
        return [Failure(dest, "delivered", "expected skipped, but it was delivered", False, True)]
    if not want:
        return _reason(dest, e.reason, routing.skipped.get(dest))
    out: list[Failure] = []
    payload = routing.deliveries[dest]
    if e.payload is not None and not same(e.payload, payload):
        diffs = differences(e.payload, payload)
        shown = ", ".join(diffs[:5]) + (f" (+{len(diffs) - 5} more)" if len(diffs) > 5 else "")
        out.append(Failure(dest, "payload", f"payload differs at {shown}", e.payload, payload,
                           payload_diff(e.payload, payload)))
    if e.fields is not None:
        out.extend(_fields(dest, e.fields, payload, routing.trace.destinations.get(dest)))
    return out


def _reason(dest: str, want: ReasonModel | None, r: Reason | None) -> list[Failure]:
    if want is None or r is None:
        return []
    problems: list[str] = []
    if want.stage is not None and want.stage != r.stage:
        problems.append(f"stage: expected '{want.stage}', got '{r.stage}'")
    for key in ("rule", "policy", "detail"):
        w = getattr(want, key)
        actual = getattr(r, key) or ""
        if w is not None and w not in actual:
            problems.append(f"{key}: expected to contain '{w}', got '{actual}'" if actual else f"{key}: expected '{w}', got none")
    if want.category is not None:
        cats = [c.strip() for c in (r.category or "").split(",") if c.strip()]
        if want.category not in cats:
            problems.append(f"category: expected '{want.category}', got '{r.category or 'none'}'")
    if not problems:
        return []
    expected = want.model_dump(exclude_none=True)
    return [Failure(dest, "reason", f"skipped for another reason ({_reason_text(r)}):\n  " + "\n  ".join(problems),
                    expected, r.to_dict())]


def _fields(dest: str, f: FieldsModel, payload: dict[str, Any], trace: DestinationTrace | None) -> list[Failure]:
    out: list[Failure] = []
    for path in f.present:
        found, crossed = lookup(payload, parse_path(path))
        if found is MISSING or (crossed and (not found or any(x is MISSING for x in found))):
            out.append(Failure(dest, "fields.present", f"{path} is not in the payload", "present", "missing"))
    for path in f.absent:
        found, crossed = lookup(payload, parse_path(path))
        there = [x for x in found if x is not MISSING] if crossed else ([] if found is MISSING else [found])
        if there:
            shown = _show(there if crossed else there[0])
            out.append(Failure(dest, "fields.absent", f"{path} is in the payload: {shown}", "absent",
                               there if crossed else there[0]))
    for path, want in f.equal.items():
        found, crossed = lookup(payload, parse_path(path))
        if found is MISSING or (crossed and any(x is MISSING for x in found)) or not same(want, found):
            out.append(Failure(dest, "fields.equal", f"{path}: expected {_show(want)}, got {_show(found)}",
                               want, None if found is MISSING else found))
    for check in ("hashed", "redacted", "truncated"):
        for path in getattr(f, check):
            out.extend(_fate(dest, check, path, trace))
    return out


def _fate(dest: str, check: str, path: str, trace: DestinationTrace | None) -> list[Failure]:
    want = parse_path(path)
    fates = []
    for ff in trace.fields if trace is not None else ():
        try:
            if covers(want, parse_path(ff.path)):
                fates.append(ff)
        except ValueError:  # a key the path syntax cannot spell: not one the fixture named
            continue
    if not fates:
        return [Failure(dest, f"fields.{check}", f"{path}: the event has no such field, so nothing was {check}",
                        check, "missing")]
    wrong = [ff for ff in fates if ff.fate != _FATES[check]]
    if not wrong:
        return []
    ff = wrong[0]
    by = f" by {ff.rule} [{ff.at}]" if ff.rule else ""
    return [Failure(dest, f"fields.{check}", f"{ff.path} was {ff.fate}{by}, not {check}", check, ff.fate)]
