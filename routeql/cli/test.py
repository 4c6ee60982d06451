"""``routeql test RULES FIXTURES...``: fixture cases against a rule set, with coverage and JUnit XML."""

from __future__ import annotations

import argparse
import json
from typing import Any

from ..testing import FixtureError, find_fixtures, load_fixtures, run
from ..testing.report import render_coverage, render_text, to_json, to_junit
from ._common import EXIT_FINDINGS, EXIT_INPUT, EXIT_OK, Console, load_rules, write_bytes

HELP = """\
examples:
  routeql test rules/ rules-tests/                       # every *.rqtest.yaml|yml|json under rules-tests/
  routeql test rules/ rules-tests/retail.rqtest.yaml --run "purchase"
  routeql test rules/ rules-tests/ --junit out/routeql-junit.xml
  routeql test rules/ rules-tests/ --coverage --min-coverage 80
  routeql test rules/ rules-tests/ --format json > results.json

A fixture file is a list of cases: an event, the consent beside it (or several consent
states, one case each), and what each destination should get. See docs/cli/test.md.

Coverage counts rule outcomes (every requires / when / sample / policy both met and not,
every field action applied) and consent combinations (per destination, each combination of
the categories it depends on, granted or denied). Total = covered items / all items.

exit codes: 0 every case passed, 1 a case failed (or --fail-on-empty with no cases, or
coverage below --min-coverage), 2 unloadable rules, malformed fixtures (file:line) or a
case that could not run
"""


def _percent(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0 <= value <= 100:
        raise argparse.ArgumentTypeError("a percentage between 0 and 100")
    return value


def register(sub: Any) -> None:
    p = sub.add_parser("test", help="run fixture cases against the rules, with coverage", description=__doc__,
                       epilog=HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("rules", help="a .rq file or a directory of them")
    p.add_argument("fixtures", nargs="+", metavar="FIXTURES",
                   help="fixture files, or directories searched for *.rqtest.yaml / .yml / .json")
    p.add_argument("--format", choices=("text", "json"), default="text", help="output format (default: text)")
    p.add_argument("--junit", metavar="FILE", help="also write JUnit XML here")
    p.add_argument("--coverage", action="store_true", help="report coverage of rule outcomes and consent combinations")
    p.add_argument("--min-coverage", type=_percent, metavar="N",
                   help="exit 1 when total coverage is below N percent (implies computing coverage)")
    p.add_argument("--fail-on-empty", action="store_true", help="exit 1 when no case was found or selected")
    p.add_argument("--run", dest="select", metavar="REGEX", help="only cases whose 'file::name' matches this regular expression")
    p.set_defaults(run=run_command)


def run_command(args: argparse.Namespace, console: Console) -> int:
    rules = load_rules(args.rules)
    try:
        fixtures = load_fixtures(find_fixtures(args.fixtures))
        result = run(rules, fixtures, coverage=args.coverage or args.min_coverage is not None, select=args.select)
    except FixtureError as e:
        if args.format == "json":
            console.text(json.dumps({"problems": [p.to_dict() for p in e.problems]}, indent=2, ensure_ascii=False))
        else:
            for p in e.problems:
                console.error(str(p))
            console.error(f"{len(e.problems)} problem{'s' * (len(e.problems) != 1)} in fixtures; no case was run")
        return EXIT_INPUT
    if args.junit:
        write_bytes(args.junit, to_junit(result), parents=True)
    cov = result.coverage
    if args.format == "json":
        console.text(json.dumps(to_json(result), indent=2, ensure_ascii=False))
    else:
        _print_text(console, render_text(result))
        if cov is not None and args.coverage:
            console.text("")
            console.text(render_coverage(cov))
    code = EXIT_OK
    if not result.results:
        console.note("no test cases found" + (" (--run selected none)" if args.select else ""))
        if args.fail_on_empty:
            code = EXIT_FINDINGS
    if not result.ok:
        code = EXIT_FINDINGS
    if cov is not None and args.min_coverage is not None and cov.below(args.min_coverage):
        console.error(f"coverage {cov.totals()['percent']:.1f}% is below the minimum {args.min_coverage:g}%")
        code = EXIT_FINDINGS
    if result.counts["errors"]:
        code = EXIT_INPUT
    return code


_STYLES = {"  PASS": "green", "  FAIL": "red", "  ERROR": "red", "  SKIP": "yellow", "FAILURES": "bold red",
           "ERRORS": "bold red"}


def _print_text(console: Console, text: str) -> None:
    if not console.out.is_terminal:
        console.text(text)
        return
    for line in text.splitlines():
        style = next((s for prefix, s in _STYLES.items() if line.startswith(prefix)), None)
        console.out.print(line, markup=False, style=style)
