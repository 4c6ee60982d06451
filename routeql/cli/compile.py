"""``routeql compile RULES``: compile and report; ``--show`` prints the generated Python source."""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

from ._common import EXIT_OK, Console, load_rules, write_text

HELP = """\
examples:
  routeql compile rules/                     # compile, report destinations, functions, lines, load time
  routeql compile rules/ --show              # the generated Python, one comment per rule (file:line)
  routeql compile rules/ --show | less
  routeql compile rules/ --output compiled.py
  routeql compile rules/ --format json

The generated module is what RouteQL runs: one decision function per (event type, event
name) the rules mention, one payload function per destination.  Each destination and
field rule is introduced by a comment with its source text and file:line.  While routing,
each decision function is also compiled again for each consent state it meets, with that
state's consent tests folded away (docs/engine.md, "Specialised again, per consent
state"); those copies are not part of this module.

exit codes: 0 compiled, 2 rules that do not compile (the errors are printed)
"""


def register(sub: Any) -> None:
    p = sub.add_parser("compile", help="compile rules; show the generated Python", description=__doc__,
                       epilog=HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("rules", help="a .rq file or a directory of them")
    p.add_argument("--show", action="store_true", help="print the generated Python source")
    p.add_argument("--output", metavar="FILE", help="write the generated Python source to FILE")
    p.add_argument("--format", choices=("text", "json"), default="text", help="format of the report")
    p.set_defaults(run=run)


def stats(rules: Any, seconds: float) -> dict[str, Any]:
    """What the compiler produced, and how long loading took."""
    return {
        "version": rules.version,
        "destinations": len(rules.destinations),
        "functions": rules.generated.keys,
        "lines": rules.source.count("\n"),
        "load_ms": round(seconds * 1000, 1),
        "warnings": len(rules.warnings),
    }


def run(args: argparse.Namespace, console: Console) -> int:
    start = time.perf_counter()
    rules = load_rules(args.rules)
    elapsed = time.perf_counter() - start
    if args.output:
        write_text(args.output, rules.source)
    if args.show:
        if console.out.is_terminal:
            from rich.syntax import Syntax  # pygments: only worth loading for a terminal

            console.print(Syntax(rules.source, "python", theme="ansi_dark", line_numbers=True, word_wrap=False))
        else:
            console.out.file.write(rules.source)
        return EXIT_OK
    s = stats(rules, elapsed)
    if args.format == "json":
        console.text(json.dumps({"rules": args.rules, **s, "output": args.output}, indent=2))
        return EXIT_OK
    for d in rules.warnings:
        console.note(d.render())
    console.text(f"{args.rules}: compiled: {s['destinations']} destinations, {s['functions']} specialised decision "
                 f"functions, {s['lines']} lines of Python, loaded in {s['load_ms']:g} ms"
                 + (f", {s['warnings']} warnings" if s["warnings"] else ""))
    if args.output:
        console.text(f"wrote {args.output}")
    return EXIT_OK
