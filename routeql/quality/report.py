"""The data-quality report as data: the models ``routeql stats --format json`` writes.

The JSON schema is these models (``Report.model_json_schema()``); its name and version
are in ``schema`` ("routeql.stats/1").  A field is only ever added within a version;
renaming or removing one makes a new version.  Shares are fractions in [0, 1] rounded
to 6 places, or ``null`` when their denominator is zero.

>>> Report.model_fields["schema_"].alias
'schema'
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "SCHEMA", "Report", "RulesInfo", "Rejection", "InputInfo", "StatsOptions", "Period", "ValidationCounts",
    "EventValidation", "Validation", "ViolationCount", "Completeness", "Duplicates", "Identity", "Series", "Volume",
    "Anomaly", "ConsentStateShare", "RegimeShare", "JurisdictionShare", "FormatProblems", "MalformedConsent",
    "ConsentMix", "share",
]

SCHEMA = "routeql.stats/1"

_STRICT = ConfigDict(extra="forbid", populate_by_name=True)


def share(part: int, whole: int) -> float | None:
    """``part / whole`` rounded to 6 places, or None when ``whole`` is 0.

    >>> share(1, 3), share(0, 0)
    (0.333333, None)
    """
    return round(part / whole, 6) if whole else None


class StatsOptions(BaseModel):
    """How the figures were computed (``routeql stats`` options); all have defaults."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    #: split the per-event figures (validation, volume) by source
    by_source: bool = False
    #: where an event's source is read (dots for nesting)
    source_field: str = "context.source"
    #: days on each side of a day that make its baseline
    window: int = Field(default=7, ge=1, le=366)
    #: how many robust standard deviations (1.4826 x MAD) a day must be from expected
    threshold: float = Field(default=3.5, gt=0)
    #: how many times lower (drop) or higher (spike) than expected a day must be
    min_ratio: float = Field(default=2.0, ge=1)
    #: a drop needs at least this many expected events; a spike this many more than expected
    min_volume: float = Field(default=4, ge=0)
    #: scale the baseline by the day's surrounding traffic (see docs/cli/stats.md)
    adjust: bool = True
    #: the longest span of days reported; events outside the busiest span are counted apart
    max_days: int = Field(default=366, ge=1, le=3660)
    #: distinct (source, type, event name) keys kept; more are counted under "(other)"
    max_keys: int = Field(default=2000, ge=1)


class RulesInfo(BaseModel):
    model_config = _STRICT
    path: str
    version: str
    plans: list[str]


class Rejection(BaseModel):
    model_config = _STRICT
    line: int
    reason: str


class InputInfo(BaseModel):
    """Every line is accounted for: ``lines == events + rejected``."""

    model_config = _STRICT
    path: str
    lines: int
    events: int
    rejected: int
    #: reason kind -> lines: "empty line", "invalid JSON", "too large", "too deep", "malformed event",
    #: "validation failed"
    rejected_by_reason: dict[str, int]
    #: the first rejected lines, with the reason (never the line's content)
    rejected_examples: list[Rejection]


class Period(BaseModel):
    model_config = _STRICT
    first_day: str | None
    last_day: str | None
    #: every UTC day from first_day to last_day (days without events included)
    days: list[str]
    #: events with a usable date (timestamp, else receivedAt, else sentAt)
    dated: int
    #: events with no usable date at all (not in the volume figures)
    undated: int
    #: events whose ``timestamp`` is present but not an ISO-8601 date-time (dated by a fallback or undated)
    timestamp_unparseable: int
    #: dated events outside the reported span (only when the data spans more than max_days)
    out_of_range: int


class ValidationCounts(BaseModel):
    model_config = _STRICT
    events: int
    #: a plan applies and knows the event: passed + failed
    validated: int
    passed: int
    failed: int
    #: track events a plan applies to but does not list
    unplanned: int
    #: no plan applies to the event
    not_validated: int
    #: events with properties (or traits) their entry does not define
    with_unplanned_properties: int
    #: passed / validated
    pass_rate: float | None


class EventValidation(ValidationCounts):
    source: str | None
    type: str
    event: str | None
    label: str
    #: violation type -> occurrences (one event may have several)
    violations: dict[str, int]


class Validation(BaseModel):
    model_config = _STRICT
    totals: ValidationCounts
    events: list[EventValidation]


class ViolationCount(BaseModel):
    """Events breaking one field's specification one way (list indexes written ``[]``)."""

    model_config = _STRICT
    plan: str
    entry: str
    field: str
    type: str
    events: int


class Completeness(BaseModel):
    model_config = _STRICT
    plan: str
    #: the entry (``track "Order Completed"``) or ``common``
    entry: str
    #: the required field, from the event's root (list items written ``[]``)
    field: str
    #: events validated against the entry
    events: int
    #: of those, events where the field is present
    present: int
    share: float | None


class Duplicates(BaseModel):
    model_config = _STRICT
    events: int
    with_message_id: int
    without_message_id: int
    distinct_message_ids: int
    #: events whose messageId was seen on an earlier line
    duplicates: int
    #: messageIds seen more than once
    duplicated_ids: int
    #: duplicates / with_message_id
    rate: float | None


class Identity(BaseModel):
    model_config = _STRICT
    #: distinct anonymousIds in the data
    anonymous_ids: int
    #: of those, linked to a userId (on an event of their own, or as an alias's previousId)
    linked: int
    #: linked through an event carrying both the anonymousId and a userId
    linked_by_user_id: int
    #: linked only through an alias (previousId -> userId)
    linked_by_alias_only: int
    #: linked / anonymous_ids
    rate: float | None
    events_with_anonymous_id: int
    events_with_user_id: int
    events_with_neither: int


class Series(BaseModel):
    model_config = _STRICT
    source: str | None
    type: str | None
    event: str | None
    label: str
    total: int
    #: one count per day of ``period.days``
    counts: list[int]


class Volume(BaseModel):
    model_config = _STRICT
    #: all events per day
    total: list[int]
    #: per event name (per source with by_source), the busiest first
    series: list[Series]
    #: per source, the busiest first
    sources: list[Series]


class Anomaly(BaseModel):
    model_config = _STRICT
    #: the series: one source's event ("type"/"event" set), one source's total, or everything (source null)
    source: str | None
    type: str | None
    event: str | None
    label: str
    day: str
    kind: Literal["drop", "spike"]
    count: int
    #: the baseline scaled by the day's surrounding traffic
    expected: float
    #: the median of the other days in the window
    baseline: float
    #: (count - expected) / expected, or null when expected is 0
    change: float | None
    #: |count - expected| in robust standard deviations
    score: float
    #: the whole series, one count per day of ``period.days`` (the context of the flag)
    counts: list[int]


class ConsentStateShare(BaseModel):
    model_config = _STRICT
    granted: list[str]
    enforced: bool
    events: int
    share: float | None


class RegimeShare(BaseModel):
    model_config = _STRICT
    regime: str | None
    kind: str | None
    events: int
    share: float | None


class JurisdictionShare(BaseModel):
    model_config = _STRICT
    regime: str | None
    #: ``context.location.country`` when it is a string
    country: str | None
    events: int
    share: float | None


class FormatProblems(BaseModel):
    model_config = _STRICT
    format: str
    #: events carrying the signal (decoded or malformed)
    present: int
    malformed: int
    #: malformed / all events
    share: float | None


class MalformedConsent(BaseModel):
    model_config = _STRICT
    #: events with at least one malformed signal
    events: int
    share: float | None
    formats: list[FormatProblems]


class ConsentMix(BaseModel):
    model_config = _STRICT
    #: the categories the rules declare (empty: no consent block)
    categories: list[str]
    states: list[ConsentStateShare]
    regimes: list[RegimeShare]
    jurisdictions: list[JurisdictionShare]
    malformed: MalformedConsent


class Report(BaseModel):
    """Everything ``routeql stats`` computes over one file of events."""

    model_config = _STRICT
    schema_: Literal["routeql.stats/1"] = Field(SCHEMA, alias="schema")
    rules: RulesInfo
    input: InputInfo
    options: StatsOptions
    period: Period
    validation: Validation
    violations: list[ViolationCount]
    completeness: list[Completeness]
    duplicates: Duplicates
    identity: Identity
    volume: Volume
    anomalies: list[Anomaly]
    consent: ConsentMix

    def to_dict(self) -> dict[str, object]:
        return self.model_dump(mode="json", by_alias=True)
