"""``routeql route RULES EVENTS.jsonl``: one JSONL file per destination, and a summary."""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path
from typing import IO, Any, Sequence

from rich.table import Table

from ..engine import RuleSet, Routing, line_text
from ..errors import EventError, RouteQLError
from ._common import EXIT_OK, OUTPUT_ERRORS, Console, cannot_write, dump_json, input_size, load_rules, open_input

HELP = """\
examples:
  routeql route rules/ examples/events.jsonl --out out/
  cat events.jsonl | routeql route rules/ - --out out/
  routeql route rules/ events.jsonl --format json          # summary only, as JSON

Each input line is accounted for exactly once: delivered to at least one destination,
skipped by every destination (with reasons), or rejected (written to rejected.jsonl
with its line number and reason).  A progress bar shows on a terminal.

exit codes: 0 done (even if some lines were rejected), 2 unreadable rules or input
"""

STAGES = ("integrations", "consent", "when", "sample", "policy")


def register(sub: Any) -> None:
    p = sub.add_parser("route", help="route a JSONL file of events", description=__doc__,
                       epilog=HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("rules", help="a .rq file or a directory of them")
    p.add_argument("events", help="a JSONL file of events, or - for stdin")
    p.add_argument("--out", metavar="DIR", help="write <destination>.jsonl and rejected.jsonl here")
    p.add_argument("--format", choices=("text", "json"), default="text", help="summary format")
    p.add_argument("--no-reasons", action="store_true", help="skip the per-stage reasons (faster)")
    p.set_defaults(run=run)


class Summary:
    """Counts for a routing run: per destination delivered / skipped by stage / fields."""

    def __init__(self, destinations: tuple[str, ...]) -> None:
        self.destinations = destinations
        self.lines = 0
        self.events = 0
        self.rejected = 0
        self.delivered_any = 0
        self.skipped_all = 0
        self.delivered: Counter[str] = Counter()
        self.skipped: dict[str, Counter[str]] = {d: Counter() for d in destinations}
        self.fields: dict[str, set[str]] = {d: set() for d in destinations}
        self.rejections: Counter[str] = Counter()
        self.oversized: Counter[str] = Counter()

    def add(self, routing: Routing, reasons: bool = True) -> None:
        self.events += 1
        if routing.deliveries:
            self.delivered_any += 1
        else:
            self.skipped_all += 1
        for name, payload in routing.deliveries.items():
            self.delivered[name] += 1
            _paths(payload, "", self.fields[name])
        if reasons:
            for name, reason in routing.skipped.items():
                self.skipped[name][reason.stage] += 1
        else:
            for name in self.destinations:
                if name not in routing.deliveries:
                    self.skipped[name]["(not computed)"] += 1

    def reject(self, reason: str) -> None:
        self.rejected += 1
        self.rejections[reason.split(":")[0]] += 1

    def to_dict(self) -> dict[str, Any]:
        return {
            "lines": self.lines,
            "events": self.events,
            "rejected": self.rejected,
            "delivered_to_at_least_one": self.delivered_any,
            "skipped_everywhere": self.skipped_all,
            "destinations": {
                d: {"delivered": self.delivered[d], "skipped": dict(self.skipped[d]),
                    "fields_sent": sorted(self.fields[d]), "payloads_over_limit": self.oversized[d]}
                for d in self.destinations
            },
            "rejections": dict(self.rejections),
        }

    def table(self) -> Table:
        t = Table(title=None, show_lines=False, header_style="bold")
        t.add_column("destination")
        t.add_column("delivered", justify="right")
        t.add_column("skipped by reason")
        t.add_column("fields sent", justify="right")
        for d in self.destinations:
            skipped = ", ".join(f"{stage} {count}" for stage, count in sorted(self.skipped[d].items(),
                                                                                key=lambda x: -x[1]))
            t.add_row(d, str(self.delivered[d]), skipped or "-", str(len(self.fields[d])))
        return t

    def footer(self) -> str:
        return (f"{self.lines} lines: {self.events} events routed ({self.delivered_any} delivered to at least one "
                f"destination, {self.skipped_all} skipped everywhere), {self.rejected} rejected")


def _paths(v: Any, prefix: str, out: set[str]) -> None:
    if v.__class__ is dict and v:
        for k, x in v.items():
            _paths(x, f"{prefix}.{k}" if prefix else str(k), out)
    elif v.__class__ is list and v:
        for x in v:
            _paths(x, prefix, out)
    elif prefix:
        out.add(prefix)


def _open_outputs(out_dir: Path, destinations: Sequence[str]) -> dict[str, IO[str]]:
    """``<destination>.jsonl`` and ``rejected.jsonl`` in ``out_dir`` (created), open for writing;
    a RouteQLError (and none left open) when the directory or a file cannot be written."""
    files: dict[str, IO[str]] = {}
    path = out_dir
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        for d in destinations:
            path = out_dir / f"{_safe(d)}.jsonl"
            files[d] = path.open("w", encoding="utf-8", errors=OUTPUT_ERRORS)
        path = out_dir / "rejected.jsonl"
        files["\0rejected"] = path.open("w", encoding="utf-8", errors=OUTPUT_ERRORS)
    except OSError as e:
        for f in files.values():
            f.close()
        raise cannot_write(path, e) from None
    return files


def run(args: argparse.Namespace, console: Console) -> int:
    rules = load_rules(args.rules)
    summary = Summary(rules.destinations)
    stream = open_input(args.events)
    size = input_size(stream)
    out_dir = Path(args.out) if args.out else None
    files: dict[str, IO[str]] = {}
    shown = 0
    try:
        if out_dir is not None:
            files = _open_outputs(out_dir, rules.destinations)
        with console.progress() as progress:
            task = progress.add_task("routing", total=size)
            for number, raw in enumerate(stream, start=1):
                summary.lines += 1
                progress.advance(task, len(raw))
                routing, problem = route_line(rules, raw)
                if problem is not None:
                    summary.reject(problem)
                    if shown < 20:
                        console.note(f"{args.events}:{number}: rejected: {problem}")
                    elif shown == 20:
                        console.note("... more rejected lines are in rejected.jsonl" if out_dir else "... more rejected lines")
                    shown += 1
                    if out_dir is not None:
                        files["\0rejected"].write(dump_json({"line": number, "reason": problem,
                                                             "raw": raw.decode("utf-8", "replace").rstrip("\r\n")}) + "\n")
                    continue
                assert routing is not None
                summary.add(routing, reasons=not args.no_reasons)
                for name, payload in routing.deliveries.items():
                    if name in files:
                        line = dump_json(payload)
                        if len(line) > rules.options.max_payload_bytes:
                            summary.oversized[name] += 1
                            console.note(f"{args.events}:{number}: payload for {name} is over "
                                         f"{rules.options.max_payload_bytes} bytes: not written")
                            continue
                        files[name].write(line + "\n")
    finally:
        for f in files.values():
            f.close()
        if args.events != "-":
            stream.close()
    if args.format == "json":
        console.text(json.dumps(summary.to_dict(), indent=2, ensure_ascii=False))
    else:
        console.print(summary.table())
        console.text(summary.footer())
        if out_dir is not None:
            console.text(f"wrote {len(rules.destinations)} destination files and rejected.jsonl to {out_dir}/")
    return EXIT_OK


def route_line(rules: RuleSet, raw: bytes) -> tuple[Routing | None, str | None]:
    """Route one raw JSONL line: (routing, None), or (None, why it was rejected)."""
    text = line_text(raw)
    if not text:
        return None, "empty line"
    try:
        event = rules.parse_event(text)
    except EventError as e:
        return None, e.message
    try:
        routing = rules.route(event)
        if routing.rejected:  # the tracking plan blocked it for every destination
            why = "; ".join(v.description for v in routing.violations[:5])
            return None, f"blocked by tracking plan '{routing.plan.plan if routing.plan else ''}': {why}"
        return routing, None
    except EventError as e:
        return None, f"malformed event: {e.message}"
    except RouteQLError as e:
        return None, f"routing failed: {e.message}"


def _safe(name: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in name)
