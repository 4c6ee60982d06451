"""``routeql stats RULES EVENTS.jsonl``: data-quality figures over a file of events."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ..errors import RouteQLError
from ..quality.report import StatsOptions
from ..quality.stats import Collector
from ._common import EXIT_OK, Console, input_size, load_rules, open_input, write_text

HELP = """\
examples:
  routeql stats rules/ examples/events.jsonl
  routeql stats rules/ examples/events.jsonl --by-source --html report.html
  routeql stats rules/ events.jsonl --format json > stats.json
  zcat events.jsonl.gz | routeql stats rules/ -

Figures: the share of events passing the tracking plan (per event name), required-property
completeness, the duplicate rate (by messageId), the identity match rate (anonymousIds
linked to a userId), volume per event and UTC day with drops and spikes flagged, and the
consent mix (per consent state and jurisdiction, malformed signals by format).  Every
line is accounted for: an event, or a rejected line with its reason.  The input is read
once, as a stream; a progress bar shows on a terminal.  See docs/cli/stats.md.

anomalies: a day is flagged when it is --threshold robust deviations (MAD) and
--min-ratio times away from what the --window days around it predict, scaled by the
rest of the source's traffic that day, and the drop is from at least --min-volume
expected events (a spike: at least twice that many more than expected).

exit codes: 0 done (even with violations, anomalies or rejected lines), 2 unreadable
rules or input, or an HTML file that cannot be written
"""


def register(sub: Any) -> None:
    p = sub.add_parser("stats", help="data-quality figures over a JSONL file of events", description=__doc__,
                       epilog=HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("rules", help="a .rq file or a directory of them")
    p.add_argument("events", help="a JSONL file of events, or - for stdin")
    p.add_argument("--format", choices=("text", "json"), default="text", help="output format (default: text)")
    p.add_argument("--html", metavar="FILE", help="also write a self-contained HTML report with charts")
    p.add_argument("--by-source", action="store_true", help="split the per-event figures by source")
    p.add_argument("--source-field", metavar="PATH", default="context.source",
                   help="where an event's source is read (default: context.source)")
    d = StatsOptions()
    p.add_argument("--max-days", type=int, metavar="DAYS", default=d.max_days,
                   help=f"the longest span of days reported (default: {d.max_days})")
    g = p.add_argument_group("anomalies")
    g.add_argument("--window", type=int, metavar="DAYS", default=d.window,
                   help=f"days on each side of a day that make its baseline (default: {d.window})")
    g.add_argument("--threshold", type=float, metavar="Z", default=d.threshold,
                   help=f"robust deviations from expected to flag (default: {d.threshold})")
    g.add_argument("--min-ratio", type=float, metavar="R", default=d.min_ratio,
                   help=f"times lower or higher than expected to flag (default: {d.min_ratio})")
    g.add_argument("--min-volume", type=float, metavar="N", default=d.min_volume,
                   help=f"expected events a drop needs; a spike needs twice as many extra (default: {d.min_volume:g})")
    g.add_argument("--no-adjust", action="store_true",
                   help="do not scale the baseline by the rest of the source's traffic that day")
    p.set_defaults(run=run)


def options_from(args: argparse.Namespace) -> StatsOptions:
    """The command line's options, checked (a RouteQLError names the bad one)."""
    try:
        return StatsOptions(by_source=args.by_source, source_field=args.source_field, window=args.window,
                            threshold=args.threshold, min_ratio=args.min_ratio, min_volume=args.min_volume,
                            adjust=not args.no_adjust, max_days=args.max_days)
    except ValidationError as e:
        err = e.errors()[0]
        name = "--" + str(err["loc"][0]).replace("_", "-")
        raise RouteQLError(f"{name}: {err['msg'].lower()}") from None


def run(args: argparse.Namespace, console: Console) -> int:
    options = options_from(args)
    rules = load_rules(args.rules)
    stream = open_input(args.events)
    collector = Collector(rules, options, rules_path=args.rules, input_path=args.events)
    try:
        size = input_size(stream)
        with console.progress() as progress:
            task = progress.add_task("reading events", total=size or None)
            for number, raw in enumerate(stream, start=1):
                collector.add_line(number, raw)
                progress.advance(task, len(raw))
    except OSError as e:
        raise RouteQLError(f"{args.events}: cannot read ({e.strerror or e})") from None
    finally:
        if args.events != "-":
            stream.close()
    report = collector.report()
    if args.html:
        from ..quality.html import render_html

        path = Path(args.html)
        write_text(path, render_html(report))
        console.note(f"wrote {args.html}: {report.input.events} events, {len(report.validation.events)} event "
                     f"names, {len(report.anomalies)} anomalies")
    if args.format == "json":
        console.text(json.dumps(report.to_dict(), indent=2, ensure_ascii=False))
    else:
        from ..quality.text import render_text

        if not console.out.is_terminal and "COLUMNS" not in os.environ:
            # in a pipe rich assumes 80 columns; the tables read better unwrapped in a log
            console.out.width = max(console.out.width, 160)
        console.print(render_text(report))
    return EXIT_OK
