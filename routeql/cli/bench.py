"""``routeql bench RULES EVENTS.jsonl``: throughput of your own rules on your own events, and what costs.

Rules and events in; out: events per second and µs per event for ``decide`` (which
destinations) and for ``route`` (decisions and payloads), p50 and p99 per event; what
the tracking plan adds, when the rules have one (the same rules compiled without their
plans, timed in alternate passes); and the slowest destinations.  A destination's cost is measured *in isolation*: it is compiled
alone into its own rule set (the same consent block, its own policies) and timed over
the events; what is reported is that time minus the time of an empty rule set with the
same consent block, i.e. what the destination adds to the fixed cost every event pays
(validation, consent, dispatch, the tracking plan).  Inside the full rule set a destination usually costs
less: field reads are shared and the (type, event) dispatch skips the destinations
that cannot match.
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import json
import statistics
import time
from typing import Any, Callable, Sequence

from rich.table import Table

from ..engine import RuleSet, line_text
from ..errors import EventError, RouteQLError
from ._common import EXIT_INPUT, EXIT_OK, Console, load_rules, open_input

HELP = """\
examples:
  routeql bench rules/ examples/events.jsonl
  routeql bench rules/ events.jsonl --repeat 10 --top 5
  routeql bench rules/ events.jsonl --sample 500 --format json > bench.json
  routeql bench rules/ events.jsonl --top 0               # throughput only

Timings are medians over --repeat passes (after one warm-up pass), each event timed
on its own with a nanosecond clock; gc stays enabled and is collected before each pass.
Lines that are not valid events are left out and counted.  Run it on a quiet machine:
numbers from a busy one vary by tens of percent.

exit codes: 0 done, 2 unreadable rules or events, or no valid event
"""

#: events timed per destination (each destination is timed over the first N valid events)
DEFAULT_SAMPLE = 1000


def register(sub: Any) -> None:
    p = sub.add_parser("bench", help="measure the speed of a rule set on your events", description=__doc__,
                       epilog=HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("rules", help="a .rq file or a directory of them")
    p.add_argument("events", help="a JSONL file of events, or - for stdin")
    p.add_argument("--repeat", type=_positive, default=5, metavar="N", help="timed passes over the events (default 5)")
    p.add_argument("--top", type=_natural, default=10, metavar="K",
                   help="how many of the slowest destinations to list (default 10; 0 skips the per-destination timing)")
    p.add_argument("--sample", type=_positive, default=DEFAULT_SAMPLE, metavar="N",
                   help=f"events each destination is timed over (default {DEFAULT_SAMPLE})")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.set_defaults(run=run)


def _positive(text: str) -> int:
    n = _natural(text)
    if n < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {text}")
    return n


def _natural(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if n < 0:
        raise argparse.ArgumentTypeError(f"must not be negative, got {text}")
    return n


def percentile(values: Sequence[float], p: float) -> float:
    """The nearest-rank percentile (no interpolation): a value that was measured.

    >>> percentile([5, 1, 4, 2, 3], 50), percentile([5, 1, 4, 2, 3], 99)
    (3, 5)
    """
    ordered = sorted(values)
    rank = max(1, min(len(ordered), -(-len(ordered) * p // 100)))
    return ordered[int(rank) - 1]


# ------------------------------------------------------------------ measuring


def read_events(rules: RuleSet, path: str) -> tuple[list[Any], int, dict[str, int]]:
    """The events that route without error, the number of lines, and why the others did not."""
    events: list[Any] = []
    problems: dict[str, int] = {}
    lines = 0
    stream = open_input(path)
    try:
        for raw in stream:
            lines += 1
            text = line_text(raw)
            if not text:
                continue
            try:
                event = rules.parse_event(text)
                rules.route(event)  # a malformed event is rejected here, before anything is timed
            except RouteQLError as e:  # malformed JSON or event, or an event the rules fail on
                reason = e.message.split(":")[0] if isinstance(e, EventError) else f"routing failed: {e.message}"
                problems[reason] = problems.get(reason, 0) + 1
                continue
            events.append(event)
    finally:
        if path != "-":
            stream.close()
    return events, lines, problems


def time_passes(fn: Callable[[Any], Any], events: Sequence[Any], repeat: int) -> tuple[list[float], list[int]]:
    """Seconds per pass (``repeat`` passes after a warm-up) and every per-event time, in ns."""
    clock = time.perf_counter_ns
    for e in events:
        fn(e)
    passes: list[float] = []
    per_event: list[int] = []
    for _ in range(repeat):
        gc.collect()
        total = 0
        for e in events:
            t0 = clock()
            fn(e)
            dt = clock() - t0
            total += dt
            per_event.append(dt)
        passes.append(total / 1e9)
    return passes, per_event


def throughput(fn: Callable[[Any], Any], events: Sequence[Any], repeat: int) -> dict[str, float]:
    passes, per_event = time_passes(fn, events, repeat)
    median = statistics.median(passes)
    return {
        "events_per_second": len(events) / median if median > 0 else float("inf"),
        "us_per_event": median / len(events) * 1e6,
        "p50_us": percentile(per_event, 50) / 1e3,
        "p99_us": percentile(per_event, 99) / 1e3,
    }


def isolated(rules: RuleSet, index: int | None) -> RuleSet:
    """A rule set holding only destination ``index`` (or none), compiled like the original."""
    model = rules.model
    dests = () if index is None else (dataclasses.replace(model.destinations[index], index=0),)
    return RuleSet(dataclasses.replace(model, destinations=dests), rules.options, f"{rules.version}/{index}")


def without_plans(rules: RuleSet) -> RuleSet:
    """The same rules compiled without their tracking plans (every event routes as if unplanned)."""
    return RuleSet(dataclasses.replace(rules.model, plans=()), rules.options, f"{rules.version}/no-plan")


def plan_cost(rules: RuleSet, events: Sequence[Any], repeat: int) -> dict[str, dict[str, float]] | None:
    """What the tracking plans add to ``decide`` and to ``route`` (µs per event, and as a
    share): the rules timed against themselves compiled without plans, in alternate passes
    so that drift hits both; None when the rules have no plan."""
    if not rules.has_plans:
        return None
    bare = without_plans(rules)
    pairs = {kind: (getattr(rules, kind), getattr(bare, kind)) for kind in ("decide", "route")}
    for e in events:  # warm-up: both compile what the events need first
        bare.route(e)
        bare.decide(e)
    times: dict[str, tuple[list[float], list[float]]] = {kind: ([], []) for kind in pairs}
    for _ in range(repeat):
        gc.collect()
        for kind, (planned, plain) in pairs.items():
            times[kind][0].append(_one_pass(planned, events))
            times[kind][1].append(_one_pass(plain, events))
    n = len(events)
    out = {}
    for kind, (planned_s, plain_s) in times.items():
        with_us, without_us = statistics.median(planned_s) / n * 1e6, statistics.median(plain_s) / n * 1e6
        out[kind] = {"with_us": with_us, "without_us": without_us, "added_us": with_us - without_us,
                     "added_share": (with_us - without_us) / without_us if without_us > 0 else 0.0}
    return out


def _one_pass(fn: Callable[[Any], Any], events: Sequence[Any]) -> float:
    clock = time.perf_counter
    t0 = clock()
    for e in events:
        fn(e)
    return clock() - t0


def per_destination(rules: RuleSet, events: Sequence[Any], repeat: int, console: Console) -> dict[str, Any]:
    """Each destination compiled and timed alone, minus an empty rule set's time (µs per event)."""
    empty = isolated(rules, None)
    alone = [isolated(rules, i) for i in range(len(rules.destinations))]
    route_of: Callable[[RuleSet], Callable[[Any], Any]] = lambda rs: rs.route  # noqa: E731
    decide_of: Callable[[RuleSet], Callable[[Any], Any]] = lambda rs: rs.decide  # noqa: E731
    delivered = [0] * len(alone)
    index = {name: i for i, name in enumerate(rules.destinations)}
    for e in events:
        for name in rules.decide(e):
            delivered[index[name]] += 1
    for rs in (empty, *alone):  # warm-up
        for e in events:
            rs.route(e)
    base: dict[str, list[float]] = {"decide": [], "route": []}
    costs: list[dict[str, list[float]]] = [{"decide": [], "route": []} for _ in alone]
    with console.progress() as progress:
        task = progress.add_task("timing destinations", total=repeat * len(alone))
        for _ in range(repeat):
            gc.collect()
            # the baseline is timed in every pass, so that drift hits both sides alike
            for kind, of in (("decide", decide_of), ("route", route_of)):
                base[kind].append(_one_pass(of(empty), events))
            for i, rs in enumerate(alone):
                for kind, of in (("decide", decide_of), ("route", route_of)):
                    costs[i][kind].append(_one_pass(of(rs), events))
                progress.advance(task)
    n = len(events)
    base_us = {k: statistics.median(v) / n * 1e6 for k, v in base.items()}
    rows = []
    for i, d in enumerate(rules.model.destinations):
        us = {k: statistics.median(v) / n * 1e6 for k, v in costs[i].items()}
        rows.append({
            "name": d.name, "at": f"{d.span.file}:{d.span.line}",
            # below the baseline's noise a cost reads as 0: the destination is cheaper than we can see
            "decide_us": max(0.0, us["decide"] - base_us["decide"]),
            "route_us": max(0.0, us["route"] - base_us["route"]),
            "delivered": delivered[i] / n,
        })
    rows.sort(key=lambda r: (-r["route_us"], -r["decide_us"], r["name"]))
    return {"events": n, "baseline_us": base_us, "destinations": rows}


# ------------------------------------------------------------------ output

METHOD = ("each destination compiled alone into its own rule set and timed over the events; cost = its time "
          "minus an empty rule set's (the fixed cost of validation, consent, dispatch and the tracking plan)")


def run(args: argparse.Namespace, console: Console) -> int:
    started = time.perf_counter()
    rules = load_rules(args.rules)
    load_seconds = time.perf_counter() - started
    events, lines, problems = read_events(rules, args.events)
    if not events:
        console.error(f"{args.events}: no valid event in {lines} lines" +
                      (f" ({', '.join(f'{k}: {v}' for k, v in problems.items())})" if problems else ""))
        return EXIT_INPUT
    report: dict[str, Any] = {
        "rules": args.rules, "destinations": len(rules.destinations), "load_seconds": load_seconds,
        "lines": lines, "events": len(events), "rejected": sum(problems.values()), "rejections": problems,
        "repeat": args.repeat,
        "decide": throughput(rules.decide, events, args.repeat),
        "route": throughput(rules.route, events, args.repeat),
    }
    plan = plan_cost(rules, events, args.repeat)
    if plan is not None:
        report["plan"] = plan
    if args.top and rules.destinations:
        sample = events[: args.sample]
        per = per_destination(rules, sample, args.repeat, console)
        report["per_destination"] = {"method": METHOD, "events": per["events"], "baseline_us": per["baseline_us"],
                                     "slowest": per["destinations"][: args.top]}
    if args.format == "json":
        console.text(json.dumps(report, indent=2, ensure_ascii=False))
    else:
        _text(report, console)
    return EXIT_OK


def _text(r: dict[str, Any], console: Console) -> None:
    console.text(f"{r['destinations']} destinations loaded and compiled in {r['load_seconds'] * 1e3:.0f} ms; "
                 f"{r['events']} events timed ({r['rejected']} of {r['lines']} lines left out), "
                 f"median of {r['repeat']} passes")
    t = Table(header_style="bold")
    for col in ("", "events/s", "µs/event", "p50 µs", "p99 µs"):
        t.add_column(col, justify="left" if not col else "right")
    for kind, label in (("decide", "decide (destinations only)"), ("route", "route (decisions + payloads)")):
        m = r[kind]
        t.add_row(label, f"{m['events_per_second']:,.0f}", f"{m['us_per_event']:.2f}", f"{m['p50_us']:.2f}",
                  f"{m['p99_us']:.2f}")
    console.print(t)
    plan = r.get("plan")
    if plan:
        parts = [f"{plan[k]['added_us']:+.2f} µs per event to {k} ({plan[k]['added_share']:+.0%})" for k in ("route", "decide")]
        console.text(f"the tracking plan adds {parts[0]} and {parts[1]}: against the same rules compiled "
                     f"without it, median of {r['repeat']} alternate passes")
    per = r.get("per_destination")
    if not per:
        return
    console.text(f"slowest destinations ({METHOD}; {per['events']} events; fixed cost "
                 f"{per['baseline_us']['decide']:.2f} µs to decide, {per['baseline_us']['route']:.2f} µs to route):")
    # plain columns, not a rich table: the file paths must never be cropped to the terminal's width
    console.text(f"{'route µs':>10} {'decide µs':>10} {'delivered':>10}  destination (declared at)")
    for d in per["slowest"]:
        console.text(f"{d['route_us']:>10.3f} {d['decide_us']:>10.3f} {d['delivered']:>10.0%}  {d['name']} ({d['at']})")
