"""An :class:`~routeql.analysis.impact.Impact` -> plain text, a Markdown pull-request comment, or JSON.

>>> import io, routeql
>>> from routeql.analysis.impact import compute_impact
>>> old = routeql.loads('destination crm { when type = "identify" }', "old.rq")
>>> new = routeql.loads('destination crm { }', "new.rq")
>>> impact = compute_impact(old, new, io.BytesIO(b'{"type": "page", "messageId": "m1"}'))
>>> print(headline(impact))
1 destination changed, 0 added, 0 removed; 3 new flows
"""

from __future__ import annotations

import json
from typing import Counter, Iterable

from .impact import DestinationImpact, Example, Impact

__all__ = ["headline", "render_text", "render_markdown", "render_json"]

_MARK = {"added": "+", "removed": "-", "changed": "~", "unchanged": " "}
#: fields listed by name before "and N more"
_MAX_LISTED = 12


def _s(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def headline(impact: Impact) -> str:
    """One line: how many destinations changed, were added or removed, and the new flows."""
    flows = len(impact.new_flows)
    return (f"{_s(len(impact.by_status('changed')), 'destination')} changed, {len(impact.by_status('added'))} added, "
            f"{len(impact.by_status('removed'))} removed; {_s(flows, 'new flow')}")


def _pct(impact: Impact, n: int) -> str:
    return f"{impact.percent(n):.1f}%"


def _listed(items: Iterable[str], counts: Counter[str] | None = None) -> str:
    items = list(items)
    shown = [f"{x} ({counts[x]})" if counts is not None else x for x in items[:_MAX_LISTED]]
    more = len(items) - _MAX_LISTED
    return ", ".join(shown) + (f", and {more} more" if more > 0 else "")


def _example(e: Example) -> str:
    return f"line {e.line}" + (f" (messageId {e.message_id})" if e.message_id else " (no messageId)")


def _sample_line(impact: Impact) -> str:
    out = f"{_s(impact.lines, 'line')}: {_s(impact.events, 'event')} compared, {impact.invalid} invalid"
    return out


# ------------------------------------------------------------------ text


def render_text(impact: Impact) -> str:
    out = [f"impact of {impact.new_name} over {impact.old_name} on {impact.sample_name}",
           f"  {_sample_line(impact)}"]
    for number, reason in impact.invalid_lines:
        out.append(f"  {impact.sample_name}:{number}: skipped: {reason}")
    if impact.invalid > len(impact.invalid_lines):
        out.append(f"  ... and {impact.invalid - len(impact.invalid_lines)} more invalid lines")
    out.append(f"  {headline(impact)}")
    _classes_text(impact, out)
    for d in impact.destinations:
        if d.status == "unchanged":
            continue
        out.append("")
        out.extend(_destination_text(impact, d))
    unchanged = [d.name for d in impact.by_status("unchanged")]
    if unchanged:
        out.append("")
        out.append(f"unchanged: {', '.join(unchanged)}")
    flows = impact.new_flows
    out.append("")
    if flows:
        out.append(f"new flows ({len(flows)}), for privacy review:")
        out.extend(f"  + {f}" for f in flows)
    else:
        out.append("no new flows")
    return "\n".join(out)


def _classes_text(impact: Impact, out: list[str]) -> None:
    for label, items in (("classes added", impact.classes_added), ("classes removed", impact.classes_removed),
                         ("classes redefined", impact.classes_changed)):
        if items:
            out.append(f"  {label}: {', '.join(items)}")


def _destination_text(impact: Impact, d: DestinationImpact) -> list[str]:
    mark = _MARK[d.status]
    out = [f"{mark} {d.name} ({d.status}): delivered {d.old.delivered} → {d.new.delivered} of {impact.events}"]
    for label, n, reasons, examples, side in (
        ("newly delivered", d.newly, d.newly_reasons, d.newly_examples, "OLD skipped them"),
        ("no longer delivered", d.no_longer, d.no_longer_reasons, d.no_longer_examples, "NEW skips them"),
    ):
        if not n or d.status in ("added", "removed"):
            continue
        out.append(f"    {label}: {_s(n, 'event')} ({_pct(impact, n)} of the sample)")
        for why, count in reasons.most_common(5):
            out.append(f"      {side}: {why}  ×{count}")
        if examples:
            out.append("      e.g. " + "; ".join(_example(e) for e in examples))
    if d.status == "added":
        out.append(f"    receives: {_listed(sorted(d.new.fields))}" if d.new.fields else "    receives nothing in the sample")
        if d.newly_examples:
            out.append("      e.g. " + "; ".join(_example(e) for e in d.newly_examples))
    for label, items in (("field flows gained", d.field_flows_gained if d.status != "added" else []),
                         ("field flows lost", d.field_flows_lost if d.status != "removed" else []),
                         ("classes gained", d.class_flows_gained), ("classes lost", d.class_flows_lost),
                         ("now sent in clear", d.now_clear)):
        if items:
            out.append(f"    {label}: {_listed(items)}")
    if d.fields_gained:
        out.append(f"    fields gained (events): {_listed(sorted(d.fields_gained), d.fields_gained)}")
    if d.fields_lost:
        out.append(f"    fields lost (events): {_listed(sorted(d.fields_lost), d.fields_lost)}")
    for (path, old, new), count in sorted(d.treatment.items()):
        out.append(f"    treatment changed: {path}: {old} → {new} ({_s(count, 'event')})")
    if d.payload_changed:
        out.append(f"    payloads changed: {_s(d.payload_changed, 'event')}")
    return out


# ------------------------------------------------------------------ markdown


def _md(text: str) -> str:
    """Text safe inside a Markdown table cell."""
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;").replace("\n", " ")


def _code(text: str) -> str:
    return f"`{text}`" if "`" not in text else f"``{text}``"


def render_markdown(impact: Impact) -> str:
    """A pull-request comment: headline, summary table, a section per changed destination."""
    flows = impact.new_flows
    where = f"{_code(impact.old_name)} → {_code(impact.new_name)} over {_code(impact.sample_name)}"
    out = [f"### RouteQL impact: {headline(impact)}", "", f"{where}: {_sample_line(impact)}.", ""]
    if flows:
        out += [f"> **{_s(len(flows), 'new flow')} for privacy review**", ">"]
        out += [f"> - {_md(str(f))}" for f in flows]
        out.append("")
    else:
        out += ["No new flows.", ""]
    classes: list[str] = []
    _classes_text(impact, classes)
    if classes:
        out += [f"- {_md(c.strip())}" for c in classes] + [""]
    shown = [d for d in impact.destinations if d.status != "unchanged"]
    if shown:
        out += [("| destination | status | delivered (old → new) | newly delivered | no longer delivered "
                 "| fields gained | fields lost | classes gained | classes lost |"),
                "|---|---|---|---:|---:|---|---|---|---|"]
        for d in shown:
            out.append(
                f"| {_code(d.name)} | {d.status} | {d.old.delivered} → {d.new.delivered} "
                f"| {d.newly} ({_pct(impact, d.newly)}) | {d.no_longer} ({_pct(impact, d.no_longer)}) "
                f"| {_md(_listed(d.field_flows_gained)) or '–'} | {_md(_listed(d.field_flows_lost)) or '–'} "
                f"| {_md(', '.join(d.class_flows_gained)) or '–'} | {_md(', '.join(d.class_flows_lost)) or '–'} |")
        out.append("")
    for d in shown:
        out += _destination_md(impact, d)
    unchanged = [d.name for d in impact.by_status("unchanged")]
    if unchanged:
        out.append(f"Unchanged: {', '.join(_code(n) for n in unchanged)}.")
        out.append("")
    if impact.invalid:
        out += [f"<details><summary>{_s(impact.invalid, 'invalid line')} skipped</summary>", ""]
        out += [f"- line {n}: {_md(r)}" for n, r in impact.invalid_lines]
        if impact.invalid > len(impact.invalid_lines):
            out.append(f"- ... and {impact.invalid - len(impact.invalid_lines)} more")
        out += ["", "</details>", ""]
    return "\n".join(out)


def _destination_md(impact: Impact, d: DestinationImpact) -> list[str]:
    out = [f"#### {_code(d.name)} ({d.status})", "", "| change | events | % of sample |", "|---|---:|---:|"]
    out.append(f"| delivered | {d.old.delivered} → {d.new.delivered} | {_pct(impact, d.old.delivered)} → "
               f"{_pct(impact, d.new.delivered)} |")
    if d.newly:
        out.append(f"| newly delivered | {d.newly} | {_pct(impact, d.newly)} |")
    if d.no_longer:
        out.append(f"| no longer delivered | {d.no_longer} | {_pct(impact, d.no_longer)} |")
    for path, count in sorted(d.fields_gained.items()):
        out.append(f"| field gained {_code(path)} | {count} | {_pct(impact, count)} |")
    for path, count in sorted(d.fields_lost.items()):
        out.append(f"| field lost {_code(path)} | {count} | {_pct(impact, count)} |")
    for (path, old, new), count in sorted(d.treatment.items()):
        out.append(f"| {_code(path)}: {old} → {new} | {count} | {_pct(impact, count)} |")
    if d.payload_changed:
        out.append(f"| payload changed | {d.payload_changed} | {_pct(impact, d.payload_changed)} |")
    out.append("")
    notes = [("Now sent in clear", d.now_clear), ("New field flows", d.field_flows_gained),
             ("Field flows lost", d.field_flows_lost)]
    for label, items in notes:
        if items:
            out.append(f"{label}: {', '.join(_code(x) for x in items)}.")
            out.append("")
    rows = []
    for label, examples, reasons in (("newly delivered", d.newly_examples, d.newly_reasons),
                                     ("no longer delivered", d.no_longer_examples, d.no_longer_reasons)):
        for e in examples:
            rows.append(f"| {label} | {e.line} | {_code(e.message_id) if e.message_id else '–'} | {_md(e.reason)} |")
    if rows:
        out += ["<details><summary>Examples</summary>", "", "| change | line | messageId | why (the side that does not deliver) |",
                "|---|---:|---|---|", *rows, "", "</details>", ""]
    return out


# ------------------------------------------------------------------ json


def render_json(impact: Impact) -> str:
    return json.dumps(impact.to_dict(), indent=2, ensure_ascii=False)
