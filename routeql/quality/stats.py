"""Lines of JSONL events -> a :class:`~routeql.quality.report.Report`, in one streaming pass.

:class:`Collector` reads one line at a time and keeps only counters: its memory does not
grow with the number of events, except for three sets of 64-bit id hashes (messageIds
for duplicates, anonymousIds and their links for the identity match rate), which grow
with the number of *distinct* ids (about 70 bytes each).  Counters keyed by event name,
source or country are capped (``max_keys``); the rest is counted under ``(other)``.

>>> import routeql
>>> rules = routeql.loads('plan { track "Signed Up" { required method: string } }  destination d { }')
>>> c = Collector(rules)
>>> for n, line in enumerate([b'{"type": "track", "event": "Signed Up", "messageId": "m1", "properties": {}}',
...                           b'{"type": "track", "event": "Signed Up", "messageId": "m1", "properties": {"method": "sso"}}',
...                           b'not json'], start=1):
...     c.add_line(n, line)
>>> r = c.report()
>>> r.validation.totals.pass_rate, r.duplicates.duplicates, r.input.rejected
(0.5, 1, 1)
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import Any, Iterable, Iterator

from ..engine import RuleSet, line_text
from ..errors import EventError, RouteQLError
from ..plans import ENTRY_ROOTS, EntryModel, FieldRule, PlanModel, PlanResult, TypeRule
from ..runtime import get_path
from . import anomalies
from .report import (
    Anomaly, Completeness, ConsentMix, ConsentStateShare, Duplicates, EventValidation, FormatProblems, Identity,
    InputInfo, JurisdictionShare, MalformedConsent, Period, RegimeShare, Rejection, Report, RulesInfo, Series,
    StatsOptions, Validation, ValidationCounts, ViolationCount, Volume, share,
)

__all__ = ["Collector", "collect", "OTHER", "NO_SOURCE", "ALL_EVENTS", "day_of", "required_fields", "label_for"]

#: the name counted in place of keys over the cap
OTHER = "(other)"
#: the source of events without one
NO_SOURCE = "(none)"
#: the label of a total series
ALL_EVENTS = "(all events)"
#: rejected lines kept as examples (line number and reason)
EXAMPLES = 20

_INDEX = re.compile(r"\[\d+\]")
_UTC = timezone.utc

Key = tuple[str, str, "str | None"]  # (source, type, event name for track events)


def day_of(value: Any) -> int | None:
    """An ISO-8601 date-time -> its UTC day (a proleptic ordinal), or None if it is not one.
    A time without an offset is taken as UTC.

    >>> date.fromordinal(day_of("2026-11-11T01:30:00+02:00")).isoformat()
    '2026-11-10'
    >>> day_of("yesterday"), day_of(1700000000)
    (None, None)
    """
    if value.__class__ is not str or len(value) > 64:
        return None
    try:
        dt = datetime.fromisoformat(value)
        if dt.tzinfo is not None:
            dt = dt.astimezone(_UTC)
    except (ValueError, OverflowError):
        return None
    return dt.toordinal()


def _id(value: Any) -> str | None:
    """An id as text, or None when there is none (absent, null, empty, blank)."""
    if value.__class__ is str:
        return value if value.strip() else None
    if value.__class__ is int:
        return str(value)
    return None


def label_for(type_: str | None, event: str | None) -> str:
    """What a table calls an event: its name for a track event, else its type.

    >>> label_for("track", "Order Completed"), label_for("page", None)
    ('Order Completed', 'page')
    """
    if type_ is None:
        return ALL_EVENTS
    return event if type_ == "track" and event is not None else type_


def _field_label(prefix: str, path: tuple[str, ...]) -> str:
    tail = ".".join(path)
    return f"{prefix}.{tail}" if prefix and tail else prefix or tail


def _walk_fields(rules: tuple[FieldRule, ...], prefix: str) -> Iterator[tuple[str, FieldRule]]:
    """(field label, rule) for every field rule, nested ones included; list items are ``[]``."""
    for f in rules:
        label = _field_label(prefix, f.path)
        yield label, f
        for t in f.types:
            inner: TypeRule | None = t
            item_label = label
            while inner is not None and inner.name == "array":
                item_label += "[]"
                inner = inner.items
            if inner is not None and inner.name == "object" and inner.fields is not None:
                yield from _walk_fields(inner.fields, item_label)


def _entries(plan: PlanModel) -> Iterator[tuple[str, EntryModel]]:
    if plan.common is not None:
        yield "common", plan.common
    for entry in plan.entries:
        yield entry.label, entry


def required_fields(plan: PlanModel) -> list[tuple[str, str]]:
    """(entry label, field label) for every required field of a plan, in plan order.

    >>> import routeql
    >>> rules = routeql.loads('plan p { track "A" { required items: array of object { required sku: string } } }'
    ...                       ' destination d { }')
    >>> required_fields(rules.model.plans[0])
    [('track "A"', 'properties.items'), ('track "A"', 'properties.items[].sku')]
    """
    out: list[tuple[str, str]] = []
    for label, entry in _entries(plan):
        root = ".".join(ENTRY_ROOTS[entry.kind])
        out.extend((label, name) for name, f in _walk_fields(entry.fields, root) if f.required)
    return out


@dataclass(slots=True)
class _KeyStats:
    """The counters kept per (source, type, event name)."""

    events: int = 0
    passed: int = 0
    failed: int = 0
    unplanned: int = 0
    not_validated: int = 0
    unplanned_properties: int = 0
    violations: Counter[str] = field(default_factory=Counter)
    days: Counter[int] = field(default_factory=Counter)

    def merge(self, other: "_KeyStats") -> None:
        self.events += other.events
        self.passed += other.passed
        self.failed += other.failed
        self.unplanned += other.unplanned
        self.not_validated += other.not_validated
        self.unplanned_properties += other.unplanned_properties
        self.violations.update(other.violations)
        self.days.update(other.days)

    def counts(self) -> dict[str, Any]:
        validated = self.passed + self.failed
        return {"events": self.events, "validated": validated, "passed": self.passed, "failed": self.failed,
                "unplanned": self.unplanned, "not_validated": self.not_validated,
                "with_unplanned_properties": self.unplanned_properties, "pass_rate": share(self.passed, validated)}


class Collector:
    """Feed it lines (:meth:`add_line`) or parsed events (:meth:`add_event`), then ask for
    the :meth:`report`.  Not thread-safe; one per file."""

    def __init__(self, rules: RuleSet, options: StatsOptions | None = None, *, rules_path: str = "",
                 input_path: str = "") -> None:
        self.rules = rules
        self.options = options or StatsOptions()
        self.rules_path = rules_path
        self.input_path = input_path
        self._source_path = tuple(self.options.source_field.split("."))
        self._plans: dict[str, PlanModel] = {p.name: p for p in rules.model.plans}
        # which entry a violated field belongs to, by the place its specification is written
        self._entry_at: dict[tuple[str, str], str] = {}
        for plan in self._plans.values():
            for label, entry in _entries(plan):
                for _, f in _walk_fields(entry.fields, ""):
                    self._entry_at.setdefault((plan.name, f.origin.at), label)
        self.lines = 0
        self.rejected: Counter[str] = Counter()
        self.examples: list[Rejection] = []
        self._keys: dict[Key, _KeyStats] = {}
        self._plan_events: Counter[str] = Counter()
        self._entry_events: Counter[tuple[str, str]] = Counter()
        self._missing: Counter[tuple[str, str, str]] = Counter()
        self._violations: Counter[tuple[str, str, str, str]] = Counter()
        self._undated = 0
        self._bad_timestamps = 0
        # duplicates and identity: 64-bit hashes of the ids (see the module docstring)
        self._message_ids: set[int] = set()
        self._duplicated: set[int] = set()
        self._duplicates = 0
        self._without_message_id = 0
        self._anonymous: set[int] = set()
        self._with_user: set[int] = set()
        self._aliased: set[int] = set()
        self._events_anonymous = 0
        self._events_user = 0
        self._events_neither = 0
        # consent
        #: (granted categories as a bit mask, enforced) -> events; the names come at the end
        self._states: Counter[tuple[int, bool]] = Counter()
        self._categories: tuple[str, ...] = tuple(rules.resolver.categories) if rules.resolver is not None else ()
        self._category_bits = (1 << len(self._categories)) - 1
        self._regimes: Counter[tuple[str | None, str | None]] = Counter()
        self._jurisdictions: Counter[tuple[str | None, str | None]] = Counter()
        self._signal_present: Counter[str] = Counter()
        self._signal_malformed: Counter[str] = Counter()
        self._malformed_events = 0
        self._countries: set[str] = set()

    # ------------------------------------------------------------ input

    @property
    def events(self) -> int:
        return sum(k.events for k in self._keys.values())

    def reject(self, number: int, kind: str, reason: str) -> None:
        self.rejected[kind] += 1
        if len(self.examples) < EXAMPLES:
            self.examples.append(Rejection(line=number, reason=reason))

    def add_line(self, number: int, raw: bytes | str) -> None:
        """Count one line of JSONL (``number`` is its 1-based line number, for messages)."""
        self.lines += 1
        text = line_text(raw)
        if not text:
            self.reject(number, "empty line", "empty line")
            return
        try:
            event = self.rules.parse_event(text)
        except EventError as e:
            message = e.message
            kind = ("too large" if "over the limit" in message else "too deep" if "deeper than" in message
                    else "invalid JSON")
            self.reject(number, kind, message)
            return
        self._add(number, event)

    def add_event(self, event: Any, number: int = 0) -> None:
        """Count one parsed event (a line of its own)."""
        self.lines += 1
        self._add(number, event)

    def _add(self, number: int, event: Any) -> None:
        try:
            result = self.rules.validate(event)
            # The consent state without routing: RuleSet.route would also build every
            # destination's payload, several times the cost of what is needed here.
            state = self.rules.consent_state(event)
        except EventError as e:
            self.reject(number, "malformed event", f"malformed event: {e.message}")
            return
        except RouteQLError as e:
            self.reject(number, "validation failed", f"validation failed: {e.message}")
            return
        source = get_path(event, self._source_path)
        source = source if source.__class__ is str else NO_SOURCE
        type_ = event["type"]
        key: Key = (source, type_, event.get("event") if type_ == "track" else None)
        stats = self._keys.get(key)
        if stats is None:
            if len(self._keys) >= self.options.max_keys:
                key = (OTHER, type_, OTHER if type_ == "track" else None)
                stats = self._keys.get(key)
            if stats is None:
                stats = self._keys[key] = _KeyStats()
        stats.events += 1
        self._validation(stats, result)
        self._volume(stats, event)
        self._ids(event, type_)
        self._consent(event, state)

    # ------------------------------------------------------------ per event

    def _validation(self, stats: _KeyStats, result: PlanResult) -> None:
        if result.plan is None:
            stats.not_validated += 1
            return
        plan = result.plan
        if not result.planned:
            stats.unplanned += 1
        elif result.violations or (result.unplanned and self._plans[plan].properties != "allow"):
            stats.failed += 1
        else:
            stats.passed += 1
        if result.unplanned:
            stats.unplanned_properties += 1
        self._plan_events[plan] += 1
        if result.entry is not None:
            self._entry_events[(plan, result.entry)] += 1
        if not result.violations:
            return
        seen: set[tuple[str, str, str]] = set()
        for v in result.violations:
            stats.violations[v.type] += 1
            entry = self._entry_at.get((plan, v.at), result.entry or "common")
            name = _INDEX.sub("[]", v.field)
            if (entry, name, v.type) in seen:
                continue  # one event counts once per field and type, however many list items
            seen.add((entry, name, v.type))
            self._violations[(plan, entry, name, v.type)] += 1
            if v.type == "required":
                self._missing[(plan, entry, name)] += 1

    def _volume(self, stats: _KeyStats, event: dict[str, Any]) -> None:
        ts = event.get("timestamp")
        day = day_of(ts)
        if day is None:
            if ts is not None:
                self._bad_timestamps += 1
            day = day_of(event.get("receivedAt"))
            if day is None:
                day = day_of(event.get("sentAt"))
        if day is None:
            self._undated += 1
        else:
            stats.days[day] += 1

    def _ids(self, event: dict[str, Any], type_: str) -> None:
        message_id = _id(event.get("messageId"))
        if message_id is None:
            self._without_message_id += 1
        else:
            h = hash(message_id)
            if h in self._message_ids:
                self._duplicates += 1
                self._duplicated.add(h)
            else:
                self._message_ids.add(h)
        anonymous = _id(event.get("anonymousId"))
        user = _id(event.get("userId"))
        if anonymous is not None:
            self._events_anonymous += 1
            h = hash(anonymous)
            self._anonymous.add(h)
            if user is not None:
                self._with_user.add(h)
        if user is not None:
            self._events_user += 1
        if anonymous is None and user is None:
            self._events_neither += 1
        if type_ == "alias" and user is not None:
            previous = _id(event.get("previousId"))
            if previous is not None:
                self._aliased.add(hash(previous))

    def _consent(self, event: dict[str, Any], state: Any) -> None:
        self._states[(state.mask & self._category_bits, state.enforced)] += 1
        self._regimes[(state.regime, state.regime_kind)] += 1
        country = get_path(event, ("context", "location", "country"))
        if country.__class__ is not str:
            country = None
        elif country not in self._countries:
            if len(self._countries) >= self.options.max_keys:
                country = OTHER
            else:
                self._countries.add(country)
        self._jurisdictions[(state.regime, country)] += 1
        bad = False
        for signal in state.signals:
            if signal.status != "absent":
                self._signal_present[signal.format] += 1
                if signal.status == "malformed":
                    self._signal_malformed[signal.format] += 1
                    bad = True
        self._malformed_events += bad

    # ------------------------------------------------------------ the report

    def report(self) -> Report:
        events = self.events
        o = self.options
        days, out_of_range = self._period()
        index = {d: i for i, d in enumerate(days)}
        day_names = [date.fromordinal(d).isoformat() for d in days]

        def series_of(stats: _KeyStats) -> list[int]:
            counts = [0] * len(days)
            for d, c in stats.days.items():
                i = index.get(d)
                if i is not None:
                    counts[i] += c
            return counts

        # per table key: per event (per source with by_source)
        table: dict[Key | tuple[None, str, str | None], _KeyStats] = {}
        per_source: dict[str, _KeyStats] = {}
        for key, stats in self._keys.items():
            tkey = key if o.by_source else (None, key[1], key[2])
            table.setdefault(tkey, _KeyStats()).merge(stats)  # type: ignore[arg-type]
            per_source.setdefault(key[0], _KeyStats()).merge(stats)
        order = sorted(table, key=lambda k: (-table[k].events, label_for(k[1], k[2]), k[1], k[0] or ""))
        totals = _KeyStats()
        for stats in table.values():
            totals.merge(stats)

        validation = Validation(
            totals=ValidationCounts(**totals.counts()),
            events=[EventValidation(source=k[0], type=k[1], event=k[2], label=label_for(k[1], k[2]),
                                    violations=dict(sorted(table[k].violations.items())), **table[k].counts())
                    for k in order],
        )
        total_counts = series_of(totals)
        source_counts = {s: series_of(st) for s, st in per_source.items()}
        volume = Volume(
            total=total_counts,
            series=[_series(k, series_of(table[k])) for k in order],
            sources=[_series((s, None, None), source_counts[s])
                     for s in sorted(per_source, key=lambda s: (-per_source[s].events, s))],
        )
        dated = sum(sum(st.days.values()) for st in self._keys.values())
        period = Period(first_day=day_names[0] if days else None, last_day=day_names[-1] if days else None,
                        days=day_names, dated=dated, undated=self._undated,
                        timestamp_unparseable=self._bad_timestamps, out_of_range=out_of_range)
        flags = self._anomalies(day_names, series_of, total_counts, source_counts)
        return Report(
            rules=RulesInfo(path=self.rules_path, version=self.rules.version, plans=list(self._plans)),
            input=InputInfo(path=self.input_path, lines=self.lines, events=events, rejected=sum(self.rejected.values()),
                            rejected_by_reason=dict(self.rejected.most_common()), rejected_examples=self.examples),
            options=o, period=period, validation=validation,
            violations=[ViolationCount(plan=p, entry=e, field=f, type=t, events=n)
                        for (p, e, f, t), n in sorted(self._violations.items(), key=lambda x: (-x[1], x[0]))],
            completeness=self._completeness(),
            duplicates=Duplicates(events=events, with_message_id=events - self._without_message_id,
                                  without_message_id=self._without_message_id,
                                  distinct_message_ids=len(self._message_ids), duplicates=self._duplicates,
                                  duplicated_ids=len(self._duplicated),
                                  rate=share(self._duplicates, events - self._without_message_id)),
            identity=self._identity(),
            volume=volume, anomalies=flags, consent=self._consent_mix(events),
        )

    def _period(self) -> tuple[list[int], int]:
        """The reported days, and how many dated events fall outside them."""
        per_day: Counter[int] = Counter()
        for stats in self._keys.values():
            per_day.update(stats.days)
        if not per_day:
            return [], 0
        first, last = min(per_day), max(per_day)
        span = self.options.max_days
        if last - first < span:
            return list(range(first, last + 1)), 0
        # a stray date (a clock in 1970, a typo in 2099) must not stretch the report over
        # decades: keep the busiest span of max_days days
        ordered = sorted(per_day)
        best, best_start, lo, running = -1, first, 0, 0
        for d in ordered:
            running += per_day[d]
            while ordered[lo] <= d - span:
                running -= per_day[ordered[lo]]
                lo += 1
            if running > best:
                best, best_start = running, ordered[lo]
        days = list(range(best_start, best_start + span))
        return days, sum(per_day.values()) - best

    def _anomalies(self, day_names: list[str], series_of: Any, total: list[int],
                   sources: dict[str, list[int]]) -> list[Anomaly]:
        """Each source's events, each source's total (against the other sources), and the
        total (against nothing)."""
        o = self.options
        params = dict(window=o.window, threshold=o.threshold, min_ratio=o.min_ratio, min_volume=o.min_volume)
        weekend = [int(date.fromisoformat(d).weekday() >= 5) for d in day_names]
        found: list[Anomaly] = []

        def add(counts: list[int], reference: list[int] | None, source: str | None, type_: str | None,
                event: str | None, groups: list[int] | None = None) -> None:
            for f in anomalies.detect(counts, reference if o.adjust else None, groups=groups, **params):  # type: ignore[arg-type]
                found.append(Anomaly(source=source, type=type_, event=event, label=label_for(type_, event),
                                     day=day_names[f.index], kind=f.kind, count=f.count,  # type: ignore[arg-type]
                                     expected=f.expected, baseline=f.baseline, change=f.change, score=f.score,
                                     counts=counts))

        for (source, type_, event), stats in self._keys.items():
            counts = series_of(stats)
            around = [s - c for s, c in zip(sources[source], counts)]
            add(counts, around, source, type_, event)
        if len(sources) > 1:
            for source, counts in sources.items():
                add(counts, [t - c for t, c in zip(total, counts)], source, None, None, weekend)
        add(total, None, None, None, None, weekend)
        found.sort(key=lambda a: (a.day, a.source or "", a.label))
        return found

    def _completeness(self) -> list[Completeness]:
        out: list[Completeness] = []
        for name, plan in self._plans.items():
            for entry, fname in required_fields(plan):
                seen = self._plan_events[name] if entry == "common" else self._entry_events[(name, entry)]
                present = seen - self._missing.get((name, entry, fname), 0)
                out.append(Completeness(plan=name, entry=entry, field=fname, events=seen, present=present,
                                        share=share(present, seen)))
        return out

    def _identity(self) -> Identity:
        by_user = len(self._with_user)
        by_alias = len((self._aliased & self._anonymous) - self._with_user)
        n = len(self._anonymous)
        return Identity(anonymous_ids=n, linked=by_user + by_alias, linked_by_user_id=by_user,
                        linked_by_alias_only=by_alias, rate=share(by_user + by_alias, n),
                        events_with_anonymous_id=self._events_anonymous, events_with_user_id=self._events_user,
                        events_with_neither=self._events_neither)

    def _consent_mix(self, events: int) -> ConsentMix:
        formats = sorted(self._signal_present, key=lambda f: (-self._signal_malformed[f], -self._signal_present[f], f))
        cats = self._categories
        states = Counter({(tuple(c for i, c in enumerate(cats) if mask >> i & 1), enforced): n
                          for (mask, enforced), n in self._states.items()})
        return ConsentMix(
            categories=list(cats),
            states=[ConsentStateShare(granted=list(g), enforced=e, events=n, share=share(n, events))
                    for (g, e), n in sorted(states.items(), key=lambda x: (-x[1], x[0]))],
            regimes=[RegimeShare(regime=r, kind=k, events=n, share=share(n, events))
                     for (r, k), n in sorted(self._regimes.items(), key=lambda x: (-x[1], str(x[0])))],
            jurisdictions=[JurisdictionShare(regime=r, country=c, events=n, share=share(n, events))
                           for (r, c), n in sorted(self._jurisdictions.items(), key=lambda x: (-x[1], str(x[0])))],
            malformed=MalformedConsent(
                events=self._malformed_events, share=share(self._malformed_events, events),
                formats=[FormatProblems(format=f, present=self._signal_present[f], malformed=self._signal_malformed[f],
                                        share=share(self._signal_malformed[f], events)) for f in formats]),
        )


def _series(key: tuple[str | None, str | None, str | None], counts: list[int]) -> Series:
    return Series(source=key[0], type=key[1], event=key[2], label=label_for(key[1], key[2]), total=sum(counts),
                  counts=counts)


def collect(rules: RuleSet, lines: Iterable[bytes | str], options: StatsOptions | None = None,
            **names: str) -> Report:
    """The report over an iterable of JSONL lines (a file opened in binary mode, say)."""
    c = Collector(rules, options, **names)
    for number, line in enumerate(lines, start=1):
        c.add_line(number, line)
    return c.report()
