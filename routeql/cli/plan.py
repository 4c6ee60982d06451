"""``routeql plan import|export``: tracking plans between RouteQL and JSON Schema (Segment Protocols)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from ..errors import RouteQLError
from ._common import EXIT_FINDINGS, EXIT_INPUT, EXIT_OK, Console, read_json, write_text

HELP = """\
examples:
  routeql plan import tracking-plan.json -o rules/plan.rq     # Segment Protocols export -> RouteQL
  routeql plan import rules.json --name web --versions latest
  curl -s .../tracking-plans/$ID/rules -H "$AUTH" | routeql plan import -    # Public API rules
  routeql plan export rules/ -o tracking-plan.json           # RouteQL plans -> JSON Schema
  routeql plan export rules/ --plan shop --layout rules      # one plan, as Public API rules

import reads Segment's tracking plan export {"name", "rules": {"events": [...], "global",
"identify", "group"}}, the Public API's rules [{"type": "TRACK", "key", "jsonSchema", "version"}],
and lists of either; each event's schema is JSON Schema draft-07 (docs/cli/plan.md).

exit codes: 0 done, 1 imported with approximations (only with --strict), 2 unreadable or
malformed input (the message gives the JSON pointer), rules that do not load
"""

IMPORT_HELP = """\
examples:
  routeql plan import tracking-plan.json -o rules/plan.rq
  routeql plan import tracking-plan.json --strict   # exit 1 if anything is approximated
  cat rules.json | routeql plan import - --name web

Everything JSON Schema says that RouteQL cannot is printed as a note (with its JSON
pointer) on stderr and as a comment above the plan; nothing is dropped silently.

exit codes: 0 imported, 1 imported with notes (only with --strict), 2 unreadable or malformed
"""

EXPORT_HELP = """\
examples:
  routeql plan export rules/ -o tracking-plan.json
  routeql plan export rules/plans.rq --plan shop
  routeql plan export rules/ --layout rules         # the Public API's list of rules
  cat plan.rq | routeql plan export -

Without --plan: one plan gives its object, several give a list of them (import reads both).

exit codes: 0 exported, 2 rules that do not load, no plan, or an unknown --plan
"""


def register(sub: Any) -> None:
    p = sub.add_parser("plan", help="import and export tracking plans (JSON Schema, Segment Protocols)",
                       description=__doc__, epilog=HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.set_defaults(run=_missing)
    actions = p.add_subparsers(dest="action", metavar="ACTION")
    imp = actions.add_parser("import", help="a JSON Schema tracking plan -> RouteQL plan source",
                             description="Convert a Segment Protocols tracking plan (JSON Schema draft-07) to "
                                         "RouteQL plan source.",
                             epilog=IMPORT_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    imp.add_argument("file", metavar="FILE", help="a JSON file, or - for stdin")
    imp.add_argument("-o", "--output", metavar="OUT.rq", help="write the plan here (default: stdout; - is stdout)")
    imp.add_argument("--name", help="the plan's name (default: the document's name)")
    imp.add_argument("--versions", choices=("oldest", "latest"), default="oldest",
                     help="which version of an event with several to import (default: oldest, the one Segment "
                          "applies to events that name none)")
    imp.add_argument("--strict", action="store_true", help="exit 1 when anything was approximated or dropped")
    imp.set_defaults(run=run_import)
    exp = actions.add_parser("export", help="RouteQL plans -> a JSON Schema tracking plan",
                             description="Export the tracking plans of a rule set as Segment Protocols tracking "
                                         "plans (JSON Schema draft-07).",
                             epilog=EXPORT_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    exp.add_argument("rules", metavar="RULES", help="a .rq file, a directory of them, or - for stdin")
    exp.add_argument("-o", "--output", metavar="OUT.json", help="write the JSON here (default: stdout; - is stdout)")
    exp.add_argument("--plan", metavar="NAME", help="export this plan only")
    exp.add_argument("--layout", choices=("plan", "rules"), default="plan",
                     help="plan: Segment's tracking plan export (default); rules: the Public API's list of rules")
    exp.add_argument("--indent", type=int, default=2, metavar="N", help="JSON indentation (default 2; 0: one line)")
    exp.set_defaults(run=run_export)


def _missing(args: argparse.Namespace, console: Console) -> int:
    console.error("routeql plan: say what to do: routeql plan import FILE, or routeql plan export RULES")
    return EXIT_INPUT




def _write(console: Console, output: str | None, text: str) -> None:
    if output and output != "-":
        write_text(output, text)
        console.note(f"wrote {output}")
    else:
        console.out.file.write(text)
        console.out.file.flush()


def run_import(args: argparse.Namespace, console: Console) -> int:
    from ..interchange import import_plans

    data = read_json(args.file)
    name = "stdin" if args.file == "-" else Path(args.file).name
    result = import_plans(data, name=args.name, versions=args.versions, file=name)
    _write(console, args.output, result.source)
    for note in result.notes:
        console.note(f"note: {name}{note}")
    if result.notes:
        console.note(f"{len(result.notes)} note{'s' * (len(result.notes) != 1)}: approximated or dropped "
                     "(also written as comments above the plan)")
    return EXIT_FINDINGS if args.strict and result.notes else EXIT_OK


def run_export(args: argparse.Namespace, console: Console) -> int:
    from ..engine import compile_sources, read_sources
    from ..interchange import export_plans

    if args.indent < 0:
        raise RouteQLError("--indent must be 0 or more")
    if args.rules == "-":
        sources = {"<stdin>": sys.stdin.buffer.read().decode("utf-8-sig", "replace")}
    else:
        sources = read_sources(args.rules)
    rules = compile_sources(sources)
    doc = export_plans(rules, args.plan, layout=args.layout)
    text = json.dumps(doc, indent=args.indent or None, ensure_ascii=False) + "\n"
    _write(console, args.output, text)
    return EXIT_OK
