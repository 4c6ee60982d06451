"""``routeql diff OLD NEW --events SAMPLE.jsonl``: the impact of a rule change over sample traffic."""

from __future__ import annotations

import argparse
from typing import Any

from ..analysis.impact import compute_impact
from ..analysis.impact_report import render_json, render_markdown, render_text
from ..errors import RouteQLError
from ._common import EXIT_FINDINGS, EXIT_OK, Console, load_rules, open_input

HELP = """\
examples:
  routeql diff main-rules/ rules/ --events examples/events.jsonl
  routeql diff main-rules/ rules/ --events sample.jsonl --format md > comment.md
  routeql diff main-rules/ rules/ --events sample.jsonl --fail-on-new-flows
  git worktree add ../base origin/main && routeql diff ../base/rules rules --events sample.jsonl

Every sample event is routed through OLD and NEW.  Per destination: events newly
delivered and no longer delivered (counts, % of the sample, examples by line number and
messageId, and the rule that decided on the side that does not deliver); fields gained
or lost (paths without list positions: properties.products.sku); data classes gained or
lost; fields whose treatment changed (hashed, redacted, truncated, sent in clear).
Destinations added or removed are reported as such.  Invalid lines are counted and
listed, never fatal.

A new flow is: a destination receiving events it did not receive before; a
(destination, field) or (destination, data class) pair NEW sends and OLD never sent; a
field OLD only sent transformed that NEW sends in clear.

exit codes: 0 compared (no new flows, or no --fail-on-new-flows), 1 new flows with
--fail-on-new-flows, 2 unreadable rules or sample
"""


def register(sub: Any) -> None:
    p = sub.add_parser("diff", help="the impact of a rule change over sample events", description=__doc__,
                       epilog=HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("old", help="the rules before the change (a .rq file or a directory)")
    p.add_argument("new", help="the rules after the change")
    p.add_argument("--events", required=True, metavar="SAMPLE.jsonl", help="sample events, one JSON per line (- for stdin)")
    p.add_argument("--format", choices=("text", "md", "json"), default="text")
    p.add_argument("--fail-on-new-flows", action="store_true", help="exit 1 when NEW creates a flow OLD never had")
    p.add_argument("--examples", type=int, default=3, metavar="N", help="example events per change (default 3)")
    p.set_defaults(run=run)


def _load(path: str, which: str) -> Any:
    try:
        return load_rules(path)
    except RouteQLError as e:
        raise RouteQLError(f"{which} rules {path}: {e.message}", e.diagnostics) from None


def run(args: argparse.Namespace, console: Console) -> int:
    if args.examples < 0:
        raise RouteQLError("--examples must be 0 or more")
    old, new = _load(args.old, "OLD"), _load(args.new, "NEW")
    stream = open_input(args.events)
    try:
        impact = compute_impact(old, new, stream, examples=args.examples, old_name=args.old, new_name=args.new,
                                sample_name="<stdin>" if args.events == "-" else args.events)
    finally:
        if args.events != "-":
            stream.close()
    render = {"text": render_text, "md": render_markdown, "json": render_json}[args.format]
    console.text(render(impact))
    if args.fail_on_new_flows and impact.new_flows:
        if args.format != "text":  # the text report lists them already; say why we fail
            console.note(f"{len(impact.new_flows)} new flows:")
            for f in impact.new_flows:
                console.note(f"  + {f}")
        return EXIT_FINDINGS
    return EXIT_OK
