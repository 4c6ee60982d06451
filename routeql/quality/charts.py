"""Figures -> inline SVG charts (stacked bars, horizontal bars, a donut, sparklines).

No library, no script: each function returns an SVG element as :class:`markupsafe.Markup`,
every text and attribute escaped here, so the page template can place it as it is.
Hover titles (``<title>``) carry the exact numbers.

>>> svg = sparkline([1, 4, 2], flagged={1})
>>> svg.count("<rect"), 'class="flag"' in svg
(3, True)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

from markupsafe import Markup, escape

__all__ = ["PALETTE", "Segment", "stacked_bars", "hbars", "donut", "sparkline", "series_bars", "nice_scale"]

#: categorical colours (colour-blind friendly, in the order series get them)
PALETTE = ("#4e79a7", "#f28e2b", "#59a14f", "#b07aa1", "#76b7b2", "#edc948", "#9c755f", "#ff9da7",
           "#86bcb6", "#d37295")
OTHER_COLOUR = "#bab0ac"
FLAG = "#d62728"
FONT = 'font-family="system-ui, -apple-system, Segoe UI, Roboto, sans-serif"'


@dataclass(frozen=True, slots=True)
class Segment:
    """One coloured part of a bar (or of the donut)."""

    label: str
    value: float
    colour: str


def _n(x: float) -> str:
    """A coordinate, short: ``12.0`` -> ``12``, ``3.14159`` -> ``3.14``."""
    return f"{x:.2f}".rstrip("0").rstrip(".")


def _fmt(v: float) -> str:
    return f"{v:,.0f}" if float(v).is_integer() else f"{v:,.1f}"


def nice_scale(v: float, ticks: int = 4) -> tuple[float, float]:
    """(axis maximum, tick step) for values up to ``v``: the step is 1, 2 or 5 times a
    power of ten, and at most ``ticks`` steps reach past ``v``.

    >>> nice_scale(0), nice_scale(7), nice_scale(120), nice_scale(180)
    ((1, 1), (8, 2), (150, 50), (200, 50))
    """
    if v <= 0:
        return 1, 1
    raw = v / ticks
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    step = int(step) if float(step).is_integer() else step
    top = math.ceil(v / step) * step
    return (int(top) if float(top).is_integer() else top), step


def _svg(width: float, height: float, body: list[str], label: str, cls: str) -> Markup:
    return Markup(
        f'<svg class="chart {escape(cls)}" viewBox="0 0 {_n(width)} {_n(height)}" width="{_n(width)}" '
        f'height="{_n(height)}" role="img" aria-label="{escape(label)}" xmlns="http://www.w3.org/2000/svg" {FONT}>'
        + "".join(body) + "</svg>")


def _text(x: float, y: float, text: str, *, anchor: str = "start", size: int = 11, fill: str = "#39404a",
          weight: str = "normal") -> str:
    return (f'<text x="{_n(x)}" y="{_n(y)}" text-anchor="{anchor}" font-size="{size}" fill="{fill}" '
            f'font-weight="{weight}">{escape(text)}</text>')


def _rect(x: float, y: float, w: float, h: float, fill: str, title: str = "", cls: str = "") -> str:
    c = f' class="{escape(cls)}"' if cls else ""
    t = f"<title>{escape(title)}</title>" if title else ""
    return f'<rect{c} x="{_n(x)}" y="{_n(y)}" width="{_n(max(w, 0))}" height="{_n(max(h, 0))}" fill="{fill}">{t}</rect>'


def stacked_bars(days: Sequence[str], stacks: Sequence[Sequence[Segment]], *, marks: dict[int, str] | None = None,
                 width: int = 960, height: int = 300, label: str = "volume per day") -> Markup:
    """One stacked bar per day; ``marks`` puts a red triangle (with its title) above a day's bar."""
    marks = marks or {}
    left, right, top, bottom = 48, 12, 22, 34
    plot_w, plot_h = width - left - right, height - top - bottom
    peak, step = nice_scale(max((sum(s.value for s in stack) for stack in stacks), default=0))
    body: list[str] = []
    for k in range(round(peak / step) + 1):  # gridlines and the y axis
        v = step * k
        y = top + plot_h - plot_h * v / peak
        body.append(f'<line x1="{left}" x2="{width - right}" y1="{_n(y)}" y2="{_n(y)}" stroke="#e3e6ea"/>')
        body.append(_text(left - 6, y + 4, _fmt(v), anchor="end", size=10, fill="#6b727c"))
    n = max(len(days), 1)
    slot = plot_w / n
    bar = max(slot * 0.72, 1)
    every = max(1, math.ceil(n / 14))  # at most ~14 day labels
    for i, (day, stack) in enumerate(zip(days, stacks)):
        x = left + i * slot + (slot - bar) / 2
        y = top + plot_h
        total = sum(s.value for s in stack)
        for s in stack:
            h = plot_h * s.value / peak
            y -= h
            if h > 0:
                body.append(_rect(x, y, bar, h, s.colour, f"{day} · {s.label}: {_fmt(s.value)} of {_fmt(total)}"))
        if i % every == 0:
            body.append(_text(x + bar / 2, height - bottom + 16, day[5:], anchor="middle", size=10, fill="#6b727c"))
        if i in marks:
            cx, cy = x + bar / 2, y - 5
            body.append(f'<path class="flag" d="M{_n(cx - 6)} {_n(cy - 9)} L{_n(cx + 6)} {_n(cy - 9)} L{_n(cx)} '
                        f'{_n(cy)} Z" fill="{FLAG}"><title>{escape(marks[i])}</title></path>')
    body.append(f'<line x1="{left}" x2="{width - right}" y1="{top + plot_h}" y2="{top + plot_h}" stroke="#9aa1ab"/>')
    return _svg(width, height, body, label, "volume")


def hbars(rows: Sequence[tuple[str, Sequence[Segment], str]], *, width: int = 960, label_width: int = 260,
          right: int = 150, row_height: int = 24, scale: float | None = None, label: str = "bars") -> Markup:
    """Horizontal bars, one per row: (label, segments, text at the right end).  Segments
    are stacked; with ``scale`` None each row is scaled to its own total (100% bars)."""
    plot_w = width - label_width - right
    height = row_height * len(rows) + 8
    peak = scale if scale is not None else 0
    body: list[str] = []
    for i, (name, segments, note) in enumerate(rows):
        y = 4 + i * row_height
        total = sum(s.value for s in segments)
        full = peak or total or 1
        body.append(_text(label_width - 8, y + row_height * 0.66, _clip(name, label_width // 7), anchor="end", size=12,
                          fill="#1d2126"))
        body.append(_rect(label_width, y + 3, plot_w, row_height - 8, "#f1f2f4"))
        x = float(label_width)
        for s in segments:
            w = plot_w * s.value / full
            if w > 0:
                pct = f" ({s.value / total:.1%})" if total else ""
                body.append(_rect(x, y + 3, w, row_height - 8, s.colour, f"{name} · {s.label}: {_fmt(s.value)}{pct}"))
            x += w
        body.append(_text(label_width + plot_w + 8, y + row_height * 0.66, note, size=12))
    return _svg(width, height, body, label, "hbars")


def donut(segments: Sequence[Segment], *, size: int = 220, centre: str = "", label: str = "donut") -> Markup:
    """A ring of segments (their share of the total), ``centre`` written in the middle."""
    total = sum(s.value for s in segments)
    r_out, r_in = size / 2 - 4, size / 2 - 40
    cx = cy = size / 2
    body: list[str] = []
    start = -math.pi / 2
    for s in segments:
        if total <= 0 or s.value <= 0:
            continue
        frac = s.value / total
        title = f"<title>{escape(s.label)}: {_fmt(s.value)} ({frac:.1%})</title>"
        if frac >= 0.9999:  # a full ring: two arcs cannot draw it, two circles can
            body.append(f'<circle cx="{_n(cx)}" cy="{_n(cy)}" r="{_n((r_out + r_in) / 2)}" fill="none" '
                        f'stroke="{s.colour}" stroke-width="{_n(r_out - r_in)}">{title}</circle>')
            break
        end = start + 2 * math.pi * frac
        large = 1 if end - start > math.pi else 0
        p = [(cx + r * math.cos(a), cy + r * math.sin(a)) for r, a in
             ((r_out, start), (r_out, end), (r_in, end), (r_in, start))]
        body.append(f'<path d="M{_n(p[0][0])} {_n(p[0][1])} A{_n(r_out)} {_n(r_out)} 0 {large} 1 {_n(p[1][0])} '
                    f'{_n(p[1][1])} L{_n(p[2][0])} {_n(p[2][1])} A{_n(r_in)} {_n(r_in)} 0 {large} 0 {_n(p[3][0])} '
                    f'{_n(p[3][1])} Z" fill="{s.colour}" stroke="#fff" stroke-width="1">{title}</path>')
        start = end
    if centre:
        body.append(_text(cx, cy + 6, centre, anchor="middle", size=18, fill="#1d2126", weight="600"))
    return _svg(size, size, body, label, "donut")


def sparkline(counts: Sequence[int], flagged: set[int] | frozenset[int] = frozenset(), *, width: int = 168,
              height: int = 26, days: Sequence[str] = ()) -> Markup:
    """Tiny bars, one per day, flagged days in red (with titles when ``days`` are given)."""
    peak = max(counts, default=0) or 1
    n = max(len(counts), 1)
    slot = width / n
    body = []
    for i, c in enumerate(counts):
        h = max((height - 2) * c / peak, 1 if c else 0)
        title = f"{days[i]}: {c:,}" if i < len(days) else ""
        body.append(_rect(i * slot + slot * 0.1, height - h, max(slot * 0.8, 0.5), h,
                          FLAG if i in flagged else "#8a94a6", title, "flag" if i in flagged else ""))
    return _svg(width, height, body, "events per day", "spark")


def series_bars(days: Sequence[str], counts: Sequence[int], flagged: dict[int, float], *, width: int = 440,
                height: int = 150, label: str = "series") -> Markup:
    """One series' daily bars; each flagged day red, with a dashed box at its expected count."""
    left, top, bottom = 34, 10, 22
    plot_w, plot_h = width - left - 6, height - top - bottom
    peak = nice_scale(max(list(counts) + list(flagged.values()), default=0))[0]
    n = max(len(counts), 1)
    slot = plot_w / n
    bar = max(slot * 0.7, 1)
    body = [_text(left - 4, top + 4, _fmt(peak), anchor="end", size=10, fill="#6b727c"),
            _text(left - 4, top + plot_h, "0", anchor="end", size=10, fill="#6b727c")]
    for i, c in enumerate(counts):
        x = left + i * slot + (slot - bar) / 2
        h = plot_h * c / peak
        flag = i in flagged
        title = f"{days[i]}: {c:,}" + (f" (expected {flagged[i]:,.1f})" if flag else "")
        body.append(_rect(x, top + plot_h - h, bar, h, FLAG if flag else "#8a94a6", title, "flag" if flag else ""))
        if flag:
            e = plot_h * flagged[i] / peak
            body.append(f'<rect x="{_n(x)}" y="{_n(top + plot_h - e)}" width="{_n(bar)}" height="{_n(e)}" '
                        f'fill="none" stroke="#1d2126" stroke-dasharray="3 2"/>')
    every = max(1, math.ceil(n / 7))
    for i in range(0, n, every):
        body.append(_text(left + i * slot + slot / 2, height - 6, days[i][5:], anchor="middle", size=9,
                          fill="#6b727c"))
    body.append(f'<line x1="{left}" x2="{width - 6}" y1="{top + plot_h}" y2="{top + plot_h}" stroke="#9aa1ab"/>')
    return _svg(width, height, body, label, "series")


def _clip(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"
