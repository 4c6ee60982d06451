"""``routeql explain RULES EVENT.json``: why each destination gets an event or not, and each field's fate."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from ..analysis.consent_args import parse_consent
from ..analysis.events import parse_event_text
from ..analysis.explain import explain, json_explanation
from ..errors import EventError, did_you_mean
from ._common import EXIT_INPUT, EXIT_OK, Console, load_rules, open_input

HELP = """\
examples:
  routeql explain rules/ event.json
  routeql explain rules/ event.json --consent analytics=true,advertising=false
  routeql explain rules/ event.json --consent '{"advertising": true}' --destination google_ads
  routeql explain rules/ event.json --consent @consent.json --no-fields
  head -1 examples/events.jsonl | routeql explain rules/ -
  routeql explain rules/ event.json --format json | jq .trace

For every destination: delivered or skipped, the stage that decided (integrations,
consent, when, sample, policy), the rule with its file:line and the consent category.
For every field of a delivery: kept, dropped, hashed, redacted or truncated, and by
which rule.  The text never shows a field value, only paths and rules.

--consent is consent given beside the event (one more signal: false withdraws):
category=true|false pairs, a JSON object, or @FILE holding one.

exit codes: 0 explained, 2 unreadable rules, a malformed event, or bad --consent
"""


def register(sub: Any) -> None:
    p = sub.add_parser("explain", help="explain how one event is routed", description=__doc__,
                       epilog=HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("rules", help="a .rq file or a directory of them")
    p.add_argument("event", help="a JSON file holding one event, or - for stdin")
    p.add_argument("--consent", metavar="CONSENT",
                   help="consent beside the event: a=true,b=false | JSON object | @file.json")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.add_argument("--destination", action="append", metavar="NAME",
                   help="explain only this destination (repeat for several)")
    p.add_argument("--no-fields", action="store_true", help="leave out the per-field fates")
    p.set_defaults(run=run)


def read_event(path: str) -> Any:
    """The event in a file (or stdin for ``-``); EventError says why it is not one."""
    if path == "-":
        data = sys.stdin.buffer.read()
    else:
        with open_input(path) as stream:  # (a pipe is fine: explain rules <(jq ... events.jsonl))
            data = stream.read()
    return parse_event_text(data)


def run(args: argparse.Namespace, console: Console) -> int:
    rules = load_rules(args.rules)
    categories = rules.resolver.categories if rules.resolver is not None else ()
    consent = parse_consent(args.consent, categories)
    for name in args.destination or ():
        if name not in rules.destinations:
            guess = did_you_mean(name, rules.destinations)
            console.error(f"--destination: unknown destination {name!r}"
                          + (f" (did you mean {guess!r}?)" if guess else "")
                          + f"; the rules declare: {', '.join(rules.destinations)}")
            return EXIT_INPUT
    where = "<stdin>" if args.event == "-" else args.event
    try:
        event = read_event(args.event)
        routing = rules.route(event, consent or None, trace=True)
    except EventError as e:
        console.error(f"{where}: malformed event: {e.message}")
        return EXIT_INPUT
    if args.format == "json":
        data = json_explanation(routing, destinations=args.destination, consent_given=consent)
        console.text(json.dumps(data, indent=2, ensure_ascii=False))
    else:
        console.out.print(explain(routing, rules.model, destinations=args.destination,
                                  fields=not args.no_fields, event=event))
    return EXIT_OK
