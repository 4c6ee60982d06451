"""A :class:`~routeql.quality.report.Report` -> rich renderables for the terminal (tables).

Colour only where the console has it; in a pipe the same tables are plain text.

>>> spark([0, 4, 8])
'▁▅█'
"""

from __future__ import annotations

from typing import Any, Sequence

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from .report import Report
from .words import percent, state_label

__all__ = ["render_text", "spark", "BLOCKS"]

BLOCKS = "▁▂▃▄▅▆▇█"
#: the widest sparkline (a longer period is drawn in buckets of several days)
SPARK_WIDTH = 56
#: rows of a long table shown before "N more"
ROWS = 25


def spark(counts: Sequence[int]) -> str:
    """Counts as block characters, the highest a full block."""
    peak = max(counts, default=0) or 1
    return "".join(BLOCKS[min(len(BLOCKS) - 1, round(c / peak * (len(BLOCKS) - 1)))] for c in counts)


def _spark_text(counts: Sequence[int], flagged: set[int]) -> Text:
    """A sparkline, flagged days in bold red; long periods summed into buckets."""
    size = max(1, -(-len(counts) // SPARK_WIDTH))
    buckets = [sum(counts[i:i + size]) for i in range(0, len(counts), size)]
    marks = {i // size for i in flagged}
    out = Text()
    for k, ch in enumerate(spark(buckets)):
        out.append(ch, style="bold red" if k in marks else "cyan")
    return out


def _n(x: int) -> str:
    return f"{x:,}"


def _table(title: str, *columns: tuple[str, str]) -> Table:
    t = Table(title=title, title_justify="left", title_style="bold", header_style="bold", show_edge=False,
              pad_edge=False)
    for name, justify in columns:
        t.add_column(name, justify=justify)  # type: ignore[arg-type]
    return t


def _row(table: Table, *cells: Any) -> None:
    """Add a row; text from the events is never read as rich markup ("[Test] Signed Up")."""
    table.add_row(*(Text(c) if isinstance(c, str) else c for c in cells))


def _more(shown: int, total: int) -> list[RenderableType]:
    return [Text(f"  ... {total - shown} more rows (--format json or --html has them all)", style="dim")] \
        if total > shown else []


def _summary(r: Report) -> list[RenderableType]:
    v, d, i, m = r.validation.totals, r.duplicates, r.identity, r.consent.malformed
    period = (f"{r.period.first_day} to {r.period.last_day} ({len(r.period.days)} days, UTC)"
              if r.period.first_day else "no dated events")
    head = Text.assemble(("routeql stats", "bold"),
                         f": {_n(r.input.events)} events in {_n(r.input.lines)} lines "
                         f"({_n(r.input.rejected)} rejected), {period}")
    t = Table.grid(padding=(0, 2))
    t.add_column(style="bold")
    t.add_column(justify="right")
    t.add_column(style="dim")
    _row(t, "schema pass rate", percent(v.pass_rate),
              f"{_n(v.passed)} of {_n(v.validated)} validated; {_n(v.unplanned)} unplanned; "
              f"{_n(v.not_validated)} with no plan")
    _row(t, "duplicates", percent(d.rate, 2),
              f"{_n(d.duplicates)} repeat an earlier messageId; {_n(d.without_message_id)} have none")
    _row(t, "identity match", percent(i.rate),
              f"{_n(i.linked)} of {_n(i.anonymous_ids)} anonymousIds linked to a userId "
              f"({_n(i.linked_by_alias_only)} only by alias)")
    bad = ", ".join(f"{f.format} {_n(f.malformed)}" for f in m.formats if f.malformed)
    _row(t, "malformed consent", percent(m.share, 2), f"{_n(m.events)} events" + (f" ({bad})" if bad else ""))
    _row(t, "anomalies", _n(len(r.anomalies)), "days the surrounding days do not explain")
    return [head, Text(), t]


def _validation(r: Report) -> list[RenderableType]:
    if not r.validation.events:
        return []
    cols: list[tuple[str, str]] = [("event", "left")]
    if r.options.by_source:
        cols.append(("source", "left"))
    cols += [("events", "right"), ("pass rate", "right"), ("passed", "right"), ("failed", "right"),
             ("unplanned", "right"), ("no plan", "right"), ("violations", "left")]
    t = _table("Schema validation per event", *cols)
    for e in r.validation.events[:ROWS]:
        low = e.pass_rate is not None and e.pass_rate < 1
        row: list[Any] = [e.label if e.type == "track" else Text(e.label, style="italic")]
        if r.options.by_source:
            row.append(e.source or "")
        row += [_n(e.events), Text(percent(e.pass_rate), style="red" if low else ""), _n(e.passed), _n(e.failed),
                _n(e.unplanned), _n(e.not_validated),
                ", ".join(f"{k} {n}" for k, n in e.violations.items())]
        _row(t, *row)
    return [t, *_more(min(ROWS, len(r.validation.events)), len(r.validation.events))]


def _completeness(r: Report) -> list[RenderableType]:
    known = [c for c in r.completeness if c.share is not None]
    low = sorted((c for c in known if c.share is not None and c.share < 1), key=lambda c: (c.share, c.plan))
    if not r.completeness:
        return []
    if not known:
        return [Text("Required-property completeness: no event was validated against an entry with required "
                     "fields", style="bold")]
    if not low:
        return [Text(f"Required-property completeness: all {len(known)} required fields present in every "
                     f"validated event", style="bold")]
    t = _table(f"Required-property completeness (fields under 100%; {len(known) - len(low)} more are complete)",
               ("plan", "left"), ("entry", "left"), ("field", "left"), ("present", "right"), ("events", "right"),
               ("share", "right"))
    for c in low[:ROWS]:
        _row(t, c.plan, c.entry, c.field, _n(c.present), _n(c.events), Text(percent(c.share), style="red"))
    return [t, *_more(min(ROWS, len(low)), len(low))]


def _volume(r: Report) -> list[RenderableType]:
    if not r.period.days:
        return [Text("Volume: no dated events", style="bold")]
    index = {d: k for k, d in enumerate(r.period.days)}
    flagged: dict[tuple[Any, ...], set[int]] = {}
    for a in r.anomalies:
        if a.type is not None:
            for key in ((a.source, a.type, a.event), (None, a.type, a.event)):
                flagged.setdefault(key, set()).add(index[a.day])
    cols: list[tuple[str, str]] = [("event", "left")]
    if r.options.by_source:
        cols.append(("source", "left"))
    cols += [("events", "right"), (f"per day, {r.period.first_day} to {r.period.last_day}", "left")]
    t = _table("Volume per event (UTC days; anomalies in red)", *cols)
    for s in r.volume.series[:ROWS]:
        row: list[Any] = [s.label if s.type == "track" else Text(s.label, style="italic")]
        if r.options.by_source:
            row.append(s.source or "")
        row += [_n(s.total), _spark_text(s.counts, flagged.get((s.source, s.type, s.event), set()))]
        _row(t, *row)
    row = [Text("all events", style="bold")] + ([""] if r.options.by_source else [])
    _row(t, *row, _n(sum(r.volume.total)), _spark_text(r.volume.total, set()))
    out: list[RenderableType] = [t, *_more(min(ROWS, len(r.volume.series)), len(r.volume.series))]
    p = r.period
    if p.undated or p.timestamp_unparseable or p.out_of_range:
        out.append(Text(f"  {_n(p.undated)} events with no usable date, {_n(p.timestamp_unparseable)} with a "
                        f"timestamp that is not ISO-8601, {_n(p.out_of_range)} outside these days", style="dim"))
    return out


def _anomalies(r: Report) -> list[RenderableType]:
    if not r.anomalies:
        return [Text("Anomalies: none (no day is far from what the surrounding days explain)", style="bold")]
    t = _table("Anomalies", ("day", "left"), ("source", "left"), ("event", "left"), ("", "left"),
               ("count", "right"), ("expected", "right"), ("change", "right"), ("score", "right"))
    for a in r.anomalies:
        _row(t, a.day, a.source if a.source is not None else "all sources", a.label,
                  Text(a.kind, style="bold red" if a.kind == "drop" else "bold yellow"), _n(a.count),
                  f"{a.expected:,.1f}", f"{a.change:+.0%}" if a.change is not None else "–", f"{a.score:.1f}")
    return [t]


def _consent(r: Report) -> list[RenderableType]:
    c = r.consent
    if not c.categories:
        return [Text("Consent mix: the rules declare no consent block", style="bold")]
    if not c.states:
        return []
    states = _table("Consent states", ("granted", "left"), ("enforced", "left"), ("events", "right"),
                    ("share", "right"))
    for s in c.states[:ROWS]:
        _row(states, state_label(s), "yes" if s.enforced else "no", _n(s.events), percent(s.share))
    juris = _table("Jurisdictions", ("regime", "left"), ("country", "left"), ("events", "right"), ("share", "right"))
    for j in c.jurisdictions[:ROWS]:
        _row(juris, j.regime or "–", j.country or "–", _n(j.events), percent(j.share))
    signals = _table("Consent signals", ("format", "left"), ("present", "right"), ("malformed", "right"),
                     ("share of events", "right"))
    for f in c.malformed.formats:
        _row(signals, f.format, _n(f.present), Text(_n(f.malformed), style="red" if f.malformed else ""),
                        percent(f.share, 2))
    out: list[RenderableType] = [states, *_more(min(ROWS, len(c.states)), len(c.states)), Text(), juris,
                                 *_more(min(ROWS, len(c.jurisdictions)), len(c.jurisdictions))]
    if c.malformed.formats:
        out += [Text(), signals]
    return out


def _rejected(r: Report) -> list[RenderableType]:
    if not r.input.rejected:
        return []
    t = _table("Rejected lines", ("reason", "left"), ("lines", "right"))
    for reason, n in r.input.rejected_by_reason.items():
        _row(t, reason, _n(n))
    lines = [Text(f"  line {x.line}: {x.reason}", style="dim") for x in r.input.rejected_examples[:10]]
    return [t, *lines]


def render_text(report: Report) -> Group:
    """The whole report as a group of tables, for ``console.print``."""
    parts: list[RenderableType] = []
    for section in (_summary, _validation, _completeness, _anomalies, _volume, _consent, _rejected):
        block = section(report)
        if block:
            parts.extend(block)
            parts.append(Text())
    return Group(*parts[:-1])
