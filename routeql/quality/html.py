"""A :class:`~routeql.quality.report.Report` -> one self-contained HTML page with charts.

No network at all: styles, the SVG charts (:mod:`routeql.quality.charts`) and a few
lines of script (an error trap) are inline, so the page works from a file, offline, as a
CI artefact.  Jinja autoescapes every value taken from the events.

>>> from routeql.quality.stats import Collector
>>> import routeql
>>> page = render_html(Collector(routeql.loads("destination d { }")).report())
>>> page.startswith("<!DOCTYPE html>"), "http://" in page.replace('xmlns="http://www.w3.org/2000/svg"', "")
(True, False)
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from markupsafe import Markup

from . import charts
from .charts import FLAG, OTHER_COLOUR, PALETTE, Segment
from .report import Anomaly, Report
from .words import percent, state_label

if TYPE_CHECKING:
    import jinja2

__all__ = ["render_html", "TOP_SERIES"]

#: series drawn in the volume chart; the rest are stacked as "other events"
TOP_SERIES = 8
#: anomaly panels drawn (every anomaly is in the table)
MAX_PANELS = 24

PASSED, FAILED, UNPLANNED, NO_PLAN = "#59a14f", "#e15759", "#edc948", "#c9ced6"


def _where(a: Anomaly) -> str:
    return a.source if a.source is not None else "all sources"


def _describe(a: Anomaly) -> str:
    what = "dropped to" if a.kind == "drop" else "rose to"
    return f"{a.day}: {a.label} ({_where(a)}) {what} {a.count:,}, expected {a.expected:,.1f}"


@dataclass(frozen=True)
class _Card:
    value: str
    label: str
    detail: str
    tone: str  # good | warn | bad | plain


def _cards(r: Report) -> list[_Card]:
    v, d, i, m = r.validation.totals, r.duplicates, r.identity, r.consent.malformed
    rate = v.pass_rate

    def tone(x: float | None, good: float, warn: float, higher_is_better: bool = True) -> str:
        if x is None:
            return "plain"
        if not higher_is_better:
            x, good, warn = -x, -good, -warn
        return "good" if x >= good else "warn" if x >= warn else "bad"

    return [
        _Card(f"{r.input.events:,}", "events", f"{r.input.lines:,} lines, {r.input.rejected:,} rejected",
              "bad" if r.input.rejected else "plain"),
        _Card(percent(rate), "pass the tracking plan",
              f"{v.passed:,} of {v.validated:,} validated; {v.unplanned:,} unplanned", tone(rate, 0.99, 0.9)),
        _Card(percent(d.rate, 2), "duplicates", f"{d.duplicates:,} repeat a messageId; {d.without_message_id:,} have none",
              tone(d.rate, 0.005, 0.02, higher_is_better=False)),
        _Card(percent(i.rate), "identity match", f"{i.linked:,} of {i.anonymous_ids:,} anonymousIds linked to a userId",
              "plain"),
        _Card(percent(m.share, 2), "malformed consent", f"{m.events:,} events with a signal that does not decode",
              tone(m.share, 0.001, 0.01, higher_is_better=False)),
        _Card(f"{len(r.anomalies):,}", "volume anomalies",
              "days far from what the surrounding days explain", "bad" if r.anomalies else "good"),
    ]


def _volume_chart(r: Report) -> tuple[Markup, list[tuple[str, str]]]:
    series = r.volume.series
    top = series[:TOP_SERIES]
    legend = [(_series_name(s.label, s.source), PALETTE[k % len(PALETTE)]) for k, s in enumerate(top)]
    stacks = []
    for day_i in range(len(r.period.days)):
        stack = [Segment(name, s.counts[day_i], colour) for (name, colour), s in zip(legend, top)]
        rest = sum(s.counts[day_i] for s in series[TOP_SERIES:])
        if rest:
            stack.append(Segment("other events", rest, OTHER_COLOUR))
        stacks.append(stack)
    if len(series) > TOP_SERIES:
        legend.append(("other events", OTHER_COLOUR))
    marks: dict[int, list[str]] = defaultdict(list)
    day_index = {d: k for k, d in enumerate(r.period.days)}
    for a in r.anomalies:
        marks[day_index[a.day]].append(_describe(a))
    svg = charts.stacked_bars(r.period.days, stacks, marks={k: "\n".join(v) for k, v in marks.items()},
                              label="events per day, by event")
    return svg, legend


def _series_name(label: str, source: str | None) -> str:
    return f"{label} · {source}" if source is not None else label


def _pass_chart(r: Report) -> Markup:
    rows = []
    for e in r.validation.events:
        segments = [Segment("passed", e.passed, PASSED), Segment("failed", e.failed, FAILED),
                    Segment("unplanned", e.unplanned, UNPLANNED), Segment("no plan applies", e.not_validated, NO_PLAN)]
        if e.validated:
            note = f"{percent(e.pass_rate)} of {e.validated:,}"
        elif e.unplanned:
            note = f"unplanned ({e.unplanned:,})"
        else:
            note = f"no plan ({e.events:,})"
        rows.append((_series_name(e.label, e.source), segments, note))
    return charts.hbars(rows, label="schema pass rate per event")


def _consent_charts(r: Report) -> dict[str, Any]:
    states = r.consent.states
    shown = states[:7]
    segments = [Segment(state_label(s), s.events, PALETTE[k % len(PALETTE)]) for k, s in enumerate(shown)]
    rest = sum(s.events for s in states[7:])
    if rest:
        segments.append(Segment("other states", rest, OTHER_COLOUR))
    enforced = sum(s.events for s in states if s.enforced)
    donut = charts.donut(segments, centre=f"{len(states)} states" if len(states) != 1 else "1 state",
                         label="consent states")
    juris = r.consent.jurisdictions[:12]
    peak = max((j.events for j in juris), default=0)
    jbars = charts.hbars(
        [(f"{j.regime or 'no regime'} · {j.country or 'no country'}", [Segment("events", j.events, PALETTE[0])],
          f"{percent(j.share)} ({j.events:,})") for j in juris],
        scale=peak or 1, width=500, label_width=150, right=110, label="events per jurisdiction")
    regimes = charts.hbars(
        [(f"{g.regime or 'no regime'} ({g.kind or '–'})", [Segment("events", g.events, PALETTE[1])],
          f"{percent(g.share)} ({g.events:,})") for g in r.consent.regimes],
        scale=max((g.events for g in r.consent.regimes), default=0) or 1, width=500, label_width=150, right=110,
        label="events per consent regime")
    return {"donut": donut, "legend": [(s.label, s.colour, s.value) for s in segments], "enforced": enforced,
            "jurisdictions": jbars, "regimes": regimes}


def _panels(r: Report) -> list[dict[str, Any]]:
    """One chart per flagged series (every flagged day of it marked)."""
    grouped: dict[tuple[Any, ...], list[Anomaly]] = defaultdict(list)
    for a in r.anomalies:
        grouped[(a.source, a.type, a.event)].append(a)
    day_index = {d: k for k, d in enumerate(r.period.days)}
    panels = []
    for flags in list(grouped.values())[:MAX_PANELS]:
        first = flags[0]
        svg = charts.series_bars(r.period.days, first.counts, {day_index[a.day]: a.expected for a in flags},
                                 label=f"{first.label} per day")
        panels.append({"title": first.label, "where": _where(first), "svg": svg,
                       "notes": [_describe(a) for a in flags]})
    return panels


def _sparks(r: Report) -> list[Markup]:
    """A sparkline per volume row, its flagged days red (a flag in any source of the row)."""
    day_index = {d: k for k, d in enumerate(r.period.days)}
    flagged: dict[tuple[Any, ...], set[int]] = defaultdict(set)
    for a in r.anomalies:
        if a.type is None:
            continue
        flagged[(a.source, a.type, a.event)].add(day_index[a.day])
        flagged[(None, a.type, a.event)].add(day_index[a.day])
    return [charts.sparkline(s.counts, flagged.get((s.source, s.type, s.event), set()), days=r.period.days)
            for s in r.volume.series]


def _environment() -> "jinja2.Environment":
    import jinja2  # only the page needs it: keep `routeql` start-up light

    env = jinja2.Environment(loader=jinja2.PackageLoader("routeql.quality", "templates"), autoescape=True,
                             trim_blocks=True, lstrip_blocks=True, undefined=jinja2.StrictUndefined)
    env.filters.update(percent=percent)
    env.globals.update(state_label=state_label, series_name=_series_name, describe=_describe)
    return env


def render_html(report: Report, title: str = "") -> str:
    """The report page: big-number cards, charts (volume over time with anomalies, pass
    rate per event, consent and jurisdiction mix), then the tables."""
    from .. import __version__

    volume, legend = _volume_chart(report)
    template = _environment().get_template("stats.html.j2")
    return str(template.render(
        r=report, title=title or report.input.path or "events", routeql_version=__version__,
        cards=_cards(report), volume_chart=volume, volume_legend=legend, pass_chart=_pass_chart(report),
        consent=_consent_charts(report), panels=_panels(report), sparks=_sparks(report),
        flag_colour=FLAG, colours={"passed": PASSED, "failed": FAILED, "unplanned": UNPLANNED, "no plan": NO_PLAN},
    ))
