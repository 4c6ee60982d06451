"""The checked rule set: names resolved, classes expanded, defines inlined.

This is what both evaluation paths consume: the reference interpreter
(:mod:`routeql.interp`) and the code generator (:mod:`routeql.codegen`).  It is built
by :func:`routeql.check.check` and never mutated afterwards.  Every rule keeps an
:class:`Origin` so a decision can say which statement made it, and where.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .errors import Span
from .nodes import Expr, Segment, format_path

__all__ = [
    "Origin", "Pattern", "FieldAction", "SampleRule", "ConsentReq", "EventPolicy",
    "FieldPolicy", "DestinationModel", "CategoryModel", "SourceModel", "OptOutModel",
    "RegimeModel", "ConsentModel", "Model", "STAGES",
]

#: The order of stages per destination (SPEC §4), identical in both engines.
STAGES = ("plan", "integrations", "consent", "when", "sample", "keep", "drop", "transforms", "policies")


@dataclass(frozen=True, slots=True)
class Origin:
    """Which statement of which file a decision came from."""

    kind: str  # "requires", "when", "keep", "policy", ...
    owner: str  # destination or policy name
    text: str  # the statement's source text, on one line
    span: Span

    @property
    def at(self) -> str:
        return f"{self.span.file}:{self.span.line}:{self.span.col}"

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "owner": self.owner, "rule": self.text, "at": self.at}


@dataclass(frozen=True, slots=True)
class Pattern:
    """A path pattern a field action applies to (``*`` matches every key / element)."""

    segments: tuple[Segment, ...]
    via_class: str | None = None

    def __str__(self) -> str:
        return format_path(self.segments)


@dataclass(frozen=True, slots=True)
class FieldAction:
    """One ``keep`` / ``drop`` / ``hash`` / ``redact`` / ``truncate`` statement."""

    kind: str
    patterns: tuple[Pattern, ...]
    guard: Expr | None
    origin: Origin
    options: tuple[tuple[str, Any], ...] = ()

    def option(self, name: str, default: Any = None) -> Any:
        for k, v in self.options:
            if k == name:
                return v
        return default


@dataclass(frozen=True, slots=True)
class SampleRule:
    percent: float
    by: tuple[Segment, ...]
    guard: Expr | None
    origin: Origin


@dataclass(frozen=True, slots=True)
class ConsentReq:
    """``requires a, b`` (all of), ``requires any of a, b``, or ``requires tcf vendor N``."""

    categories: tuple[str, ...]
    any: bool
    origin: Origin
    #: TCF vendors whose own legal basis is required: (vendor id, "consent" | "li" | "flexible")
    vendors: tuple[tuple[int, str], ...] = ()


@dataclass(frozen=True, slots=True)
class EventPolicy:
    """A policy statement that can stop a delivery: forbid events / require consent."""

    kind: str  # "forbid_events" | "require_consent"
    policy: str
    guard: Expr | None
    origin: Origin
    categories: tuple[str, ...] = ()
    any: bool = False


@dataclass(frozen=True, slots=True)
class FieldPolicy:
    """``forbid FIELDS to ...``: removes fields from a delivery, after every transform."""

    policy: str
    patterns: tuple[Pattern, ...]
    guard: Expr | None
    origin: Origin


@dataclass(frozen=True, slots=True)
class DestinationModel:
    name: str
    index: int
    tags: tuple[str, ...]
    aliases: tuple[str, ...]
    span: Span
    requires: tuple[ConsentReq, ...] = ()
    whens: tuple[tuple[Expr, Origin], ...] = ()
    samples: tuple[SampleRule, ...] = ()
    keeps: tuple[FieldAction, ...] = ()
    drops: tuple[FieldAction, ...] = ()
    transforms: tuple[FieldAction, ...] = ()
    event_policies: tuple[EventPolicy, ...] = ()
    field_policies: tuple[FieldPolicy, ...] = ()
    #: this destination's own handling of the tracking plan: (target, mode) overrides
    plan_modes: tuple[tuple[str, str], ...] = ()

    def plan_mode(self, target: str, default: str) -> str:
        for t, m in self.plan_modes:
            if t == target:
                return m
        return default

    @property
    def integration_names(self) -> tuple[str, ...]:
        """Keys of the event's ``integrations`` object that address this destination."""
        return (self.name, *self.aliases)


@dataclass(frozen=True, slots=True)
class SourceModel:
    """``segment "Analytics"``: a signal format and its arguments."""

    format: str
    args: tuple[Any, ...]
    span: Span
    quoted: tuple[bool, ...] = ()

    def __str__(self) -> str:
        parts = [self.format]
        for i, a in enumerate(self.args):
            q = self.quoted[i] if i < len(self.quoted) else isinstance(a, str)
            parts.append(f'"{a}"' if q else str(a))
        return " ".join(parts)


@dataclass(frozen=True, slots=True)
class CategoryModel:
    name: str
    bit: int
    sources: tuple[SourceModel, ...]
    span: Span


@dataclass(frozen=True, slots=True)
class OptOutModel:
    categories: tuple[str, ...]
    signals: tuple[SourceModel, ...]
    origin: Origin


@dataclass(frozen=True, slots=True)
class RegimeModel:
    name: str
    kind: str  # "opt_in" | "opt_out"
    when: Expr | None
    origin: Origin | None


@dataclass(frozen=True, slots=True)
class ConsentModel:
    categories: tuple[CategoryModel, ...]
    optouts: tuple[OptOutModel, ...] = ()
    regimes: tuple[RegimeModel, ...] = ()
    default: RegimeModel = RegimeModel("default", "opt_in", None, None)
    compat: str | None = None
    #: format -> paths it is read from, overriding the format's documented defaults
    signal_paths: tuple[tuple[str, tuple[tuple[Segment, ...], ...]], ...] = ()
    #: every TCF vendor requirement of the rule set; each gets a bit after the categories
    vendors: tuple[tuple[int, str], ...] = ()

    def bit(self, category: str) -> int:
        for c in self.categories:
            if c.name == category:
                return 1 << c.bit
        raise KeyError(category)

    def vendor_bit(self, vendor: tuple[int, str]) -> int:
        return 1 << (len(self.categories) + self.vendors.index(vendor))

    def mask(self, categories: tuple[str, ...], vendors: tuple[tuple[int, str], ...] = ()) -> int:
        m = 0
        for c in categories:
            m |= self.bit(c)
        for v in vendors:
            m |= self.vendor_bit(v)
        return m

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.categories)

    def paths_for(self, fmt: str) -> tuple[tuple[Segment, ...], ...] | None:
        for f, paths in self.signal_paths:
            if f == fmt:
                return paths
        return None


@dataclass(frozen=True)
class Model:
    """A whole checked rule set."""

    destinations: tuple[DestinationModel, ...]
    consent: ConsentModel | None
    classes: dict[str, tuple[Pattern, ...]] = field(default_factory=dict)
    policies: tuple[str, ...] = ()
    sources: dict[str, str] = field(default_factory=dict)
    tags: frozenset[str] = frozenset()
    #: salts referenced by `hash ... salt config "name"` / `salt env "VAR"`
    salt_refs: tuple[tuple[str, str], ...] = ()
    #: tracking plans, tried in order (the first whose `when` holds applies)
    plans: tuple[Any, ...] = ()

    def destination(self, name: str) -> DestinationModel:
        for d in self.destinations:
            if d.name == name:
                return d
        raise KeyError(name)
