"""``routeql matrix RULES``: what flows where, per destination, field, data class and consent state."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ..analysis.flows import compute_matrix
from ..analysis.matrix_report import render_html, render_json, render_markdown
from ._common import EXIT_OK, Console, load_rules, write_text

HELP = """\
examples:
  routeql matrix rules/ --html flows.html          # the audit page, works offline
  routeql matrix rules/                            # Markdown to stdout
  routeql matrix rules/ --format json | jq '.destinations[] | {name, receives}'
  routeql matrix rules/ --html flows.html --format md > flows.md

Computed from the rules alone, not from traffic.  For every destination and every
combination of the consent categories that matter to it: whether it can receive events,
and for every field and data class the rules name whether it is sent, hashed, redacted,
truncated or dropped.  Where a condition on the event decides, the cell says so
("sent if ...", "depends on: <rule>") instead of guessing.

exit codes: 0 written, 2 unreadable rules or output file
"""


def register(sub: Any) -> None:
    p = sub.add_parser("matrix", help="report what flows where under which consent", description=__doc__,
                       epilog=HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("rules", help="a .rq file or a directory of them")
    p.add_argument("--html", metavar="FILE", help="write the HTML page to FILE")
    p.add_argument("--format", choices=("md", "json", "html"),
                   help="print this format to stdout (default: md, or nothing when --html is given)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace, console: Console) -> int:
    rules = load_rules(args.rules)
    matrix = compute_matrix(rules.model, rules.version)
    title = Path(args.rules).name or args.rules
    if args.html:
        target = Path(args.html)
        write_text(target, render_html(matrix, title))
        console.note(f"wrote {args.html}: {len(matrix.destinations)} destinations, {len(matrix.fields)} fields, "
                     f"{len(matrix.classes)} data classes")
    fmt = args.format or (None if args.html else "md")
    if fmt == "md":
        console.text(render_markdown(matrix).rstrip("\n"))
    elif fmt == "json":
        console.text(render_json(matrix))
    elif fmt == "html":
        console.text(render_html(matrix, title))
    return EXIT_OK
