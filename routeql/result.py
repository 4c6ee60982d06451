"""What routing returns: reasons, field fates, traces, and their text rendering.

None of these records holds a field *value*: traces name paths, rules and fates, so
they can be logged without leaking what the rules withheld (docs/security.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .consent.resolve import ConsentState

__all__ = ["Reason", "FieldFate", "Step", "DestinationTrace", "Trace", "render_trace"]


@dataclass(frozen=True, slots=True)
class Reason:
    """Why a destination did not receive an event: the deciding stage and rule."""

    stage: str  # "integrations" | "consent" | "when" | "sample" | "policy"
    rule: str  # the statement's text ("" when the stage has no statement)
    at: str  # file:line:col of the statement ("" when none)
    detail: str  # a sentence for people
    category: str | None = None
    policy: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out = {"stage": self.stage, "rule": self.rule, "at": self.at, "detail": self.detail}
        if self.category is not None:
            out["category"] = self.category
        if self.policy is not None:
            out["policy"] = self.policy
        return out

    def __str__(self) -> str:
        where = f" ({self.at})" if self.at else ""
        return f"{self.stage}: {self.detail}{where}"


@dataclass(frozen=True, slots=True)
class FieldFate:
    """What happened to one field of the event on its way to one destination."""

    path: str
    fate: str  # "kept" | "dropped" | "hashed" | "redacted" | "truncated"
    rule: str | None = None
    at: str | None = None
    stage: str | None = None  # "keep" | "drop" | "transforms" | "policies"

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"path": self.path, "fate": self.fate}
        if self.rule is not None:
            out.update(rule=self.rule, at=self.at, stage=self.stage)
        return out


@dataclass(frozen=True, slots=True)
class Step:
    """One stage of one destination's decision: passed, failed or not applicable."""

    stage: str
    outcome: str  # "pass" | "fail" | "skip"
    rule: str = ""
    at: str = ""
    detail: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"stage": self.stage, "outcome": self.outcome, "rule": self.rule, "at": self.at, "detail": self.detail}


@dataclass(frozen=True, slots=True)
class DestinationTrace:
    destination: str
    delivered: bool
    reason: Reason | None
    steps: tuple[Step, ...] = ()
    fields: tuple[FieldFate, ...] = ()

    @property
    def stage(self) -> str:
        return "delivered" if self.delivered else (self.reason.stage if self.reason else "")

    def field(self, path: str) -> FieldFate | None:
        for f in self.fields:
            if f.path == path:
                return f
        return None

    def to_dict(self) -> dict[str, Any]:
        return {
            "destination": self.destination,
            "delivered": self.delivered,
            "stage": self.stage,
            "reason": None if self.reason is None else self.reason.to_dict(),
            "steps": [s.to_dict() for s in self.steps],
            "fields": [f.to_dict() for f in self.fields],
        }


@dataclass(frozen=True)
class Trace:
    """Every decision for one event: the consent state, then each destination."""

    consent: ConsentState
    destinations: dict[str, DestinationTrace] = field(default_factory=dict)

    def __getitem__(self, name: str) -> DestinationTrace:
        return self.destinations[name]

    def to_dict(self) -> dict[str, Any]:
        return {"consent": self.consent.to_dict(), "destinations": {k: v.to_dict() for k, v in self.destinations.items()}}


_FATE_MARK = {"kept": "=", "dropped": "-", "hashed": "#", "redacted": "*", "truncated": "~"}


def render_trace(trace: Trace, *, fields: bool = True) -> str:
    """The plain-text explanation of a trace (the CLI adds colour on a terminal)."""
    out: list[str] = []
    c = trace.consent
    if c.categories:
        regime = f"regime {c.regime} ({c.regime_kind})" if c.regime else "no regime"
        enforced = "" if c.enforced else ", not enforced"
        out.append(f"consent: {regime}{enforced}")
        for d in c.decisions:
            mark = "granted" if d.granted else "denied "
            out.append(f"  {d.category:<18} {mark}  {d.reason}: {d.source}")
        for s in c.problems:
            out.append(f"  ! {s.format} signal malformed: {s.detail}")
    for name, t in trace.destinations.items():
        if t.delivered:
            out.append(f"{name}: delivered")
            if fields:
                for f in t.fields:
                    rule = f"  by {f.rule} ({f.at})" if f.rule else ""
                    out.append(f"  {_FATE_MARK.get(f.fate, '?')} {f.path:<36} {f.fate}{rule}")
        else:
            r = t.reason
            assert r is not None
            out.append(f"{name}: skipped at {r.stage}: {r.detail}" + (f"  [{r.at}]" if r.at else ""))
            if r.rule:
                out.append(f"  rule: {r.rule}")
    return "\n".join(out)
