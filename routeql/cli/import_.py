"""``routeql import segment FILE``: Segment destination filters and consent mappings (JSON) in, RouteQL source out."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ..errors import RouteQLError
from ._common import EXIT_FINDINGS, EXIT_INPUT, EXIT_OK, Console, read_json, write_text

HELP = """\
examples:
  routeql import segment filters.json                  # Public API destination filters
  routeql import segment cdn-settings.json -o rules/segment.rq
  curl -s https://cdn.segment.com/v1/projects/$WRITE_KEY/settings | routeql import segment -
  routeql import segment consent.json --strict         # exit 1 if anything is approximated

FILE holds any of (see docs/cli/import.md):
  destination filters   {"if": FQL, "actions": [...]} , a list of them, {"filters": [...]},
                        or {"destinations": [{"name": ..., "filters": [...]}]}
  CDN settings          {"integrations": {...}, "middlewareSettings": {"routingRules": [...]},
                         "consentSettings": {"allCategories": [...]}}
  consent mappings      {"integrationCategoryMappings": {"Name": ["CategoryId"]}} or
                        {"consentCategories": [{"id", "name", "destinations": [...]}]}

exit codes: 0 converted, 1 converted with approximations or unsupported transformers
(only with --strict), 2 unreadable or malformed input
"""

SEGMENT_HELP = "convert Segment destination filters, routing rules and consent mappings to RouteQL"


def register(sub: Any) -> None:
    p = sub.add_parser("import", help="convert another system's routing configuration to RouteQL",
                       description="Convert another system's routing configuration to RouteQL source.",
                       epilog=HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.set_defaults(run=_missing_system)
    systems = p.add_subparsers(dest="system", metavar="SYSTEM")
    seg = systems.add_parser("segment", help=SEGMENT_HELP, description=__doc__, epilog=HELP,
                             formatter_class=argparse.RawDescriptionHelpFormatter)
    seg.add_argument("file", metavar="FILE", help="a JSON file, or - for stdin")
    seg.add_argument("-o", "--output", metavar="OUT.rq", help="write the rules here instead of stdout")
    seg.add_argument("--strict", action="store_true",
                     help="exit 1 when something could only be approximated or is not supported")
    seg.set_defaults(run=run)


def _missing_system(args: argparse.Namespace, console: Console) -> int:
    console.error("routeql import: name the system to import from: routeql import segment FILE")
    return EXIT_INPUT




def run(args: argparse.Namespace, console: Console) -> int:
    from ..importers.segment import convert_report

    data = read_json(args.file)
    name = "stdin" if args.file == "-" else Path(args.file).name
    try:
        report = convert_report(data, name=name)
    except RouteQLError as e:
        console.error(f"{args.file}: {e}")
        return EXIT_INPUT
    if args.output:
        write_text(args.output, report.source)
        console.note(f"wrote {args.output}")
    else:
        console.out.file.write(report.source)
        console.out.file.flush()
    for s in report.skipped:
        console.note(f"skipped: {s}")
    for u in report.unsupported:
        console.note(f"unsupported: {u}")
    for n in report.notes:
        console.note(f"note: {n}")
    if report.unsupported or report.notes:
        console.note(f"{len(report.unsupported)} unsupported, {len(report.notes)} approximated "
                     "(see the # unsupported: and # note: comments)")
    if args.strict and (report.unsupported or report.notes):
        return EXIT_FINDINGS
    return EXIT_OK
