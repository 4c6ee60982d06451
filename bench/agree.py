"""Implementations and events in, a loud failure out if any decision or payload differs.

Nothing is timed until every implementation has been checked here, one decision at a
time, against the IR's tree-walking oracle (:func:`bench.ir.decide`), and RouteQL's
payloads against the hand-written ones.  A mismatch raises :class:`AgreementError`
naming the implementation, the event and both answers.

>>> from bench.workload import rules
>>> ir = rules(10)
>>> evs = [{"type": "identify", "traits": {"email": "a@example.com"},
...         "context": {"consent": {"categoryPreferences": {"Personalization": True}}}}]
>>> exp = oracle(ir, evs)
>>> exp
[('dest_0003',)]
>>> check_decisions("always nothing", lambda e: [], evs, exp)
Traceback (most recent call last):
...
bench.agree.AgreementError: always nothing disagrees with the oracle on 1 of 1 events; first: event #0 (identify None): expected ['dest_0003'], got []
"""

from __future__ import annotations

from typing import Any, Callable, Iterable, Sequence

from .ir import IsEvent, IsType, RuleIR, holds

__all__ = ["AgreementError", "oracle", "restrict", "check_decisions", "check_payloads", "mutable_ids"]

Decisions = tuple[str, ...]


class AgreementError(AssertionError):
    """Two implementations decided or built something differently: nothing gets timed."""


def oracle(ir: RuleIR, events: Sequence[Any]) -> list[Decisions]:
    """The oracle's decisions for every event.

    It walks every atom of every destination, except that destinations whose type and
    event atoms fail for the event's ``(type, event)`` are skipped (those atoms only
    read these two fields, so the answer is the same, and D=1,000 stays affordable).
    """
    memo: dict[tuple[Any, Any], list[Any]] = {}
    out: list[Decisions] = []
    for e in events:
        key = (e.get("type"), e.get("event"))
        try:
            cands = memo.get(key)
        except TypeError:  # an unhashable type or event: no memo
            cands = None
        if cands is None:
            probe = {"type": key[0], "event": key[1]}
            cands = [d for d in ir.dests if all(holds(a, probe) for a in d.atoms if isinstance(a, (IsType, IsEvent)))]
            try:
                memo[key] = cands
            except TypeError:
                pass
        out.append(tuple(d.name for d in cands if all(holds(a, e) for a in d.atoms)))
    return out


def restrict(decisions: Sequence[Decisions], ir: RuleIR, d: int) -> list[Decisions]:
    """Decisions of the full rule set cut down to its first ``d`` destinations (sets are nested)."""
    keep = {x.name for x in ir.dests[:d]}
    return [tuple(n for n in names if n in keep) for names in decisions]


def _describe(e: Any) -> str:
    return f"({e.get('type')} {e.get('event')})" if isinstance(e, dict) else f"({type(e).__name__})"


def check_decisions(label: str, decide: Callable[[Any], Iterable[str]], events: Sequence[Any],
                    expected: Sequence[Decisions]) -> int:
    """Compare ``decide`` with the expected decisions on every event; return the deliveries."""
    if len(events) > len(expected):
        raise AgreementError(f"{label}: {len(events)} events but only {len(expected)} expected decisions")
    wrong: list[str] = []
    count = 0
    delivered = 0
    for i, e in enumerate(events):
        got = tuple(decide(e))
        delivered += len(got)
        if got != expected[i]:
            count += 1
            if len(wrong) < 3:
                wrong.append(f"event #{i} {_describe(e)}: expected {list(expected[i])}, got {list(got)}")
    if count:
        raise AgreementError(f"{label} disagrees with the oracle on {count} of {len(events)} events; "
                             f"first: {'; '.join(wrong)}")
    return delivered


def mutable_ids(v: Any, acc: set[int] | None = None) -> set[int]:
    """The ids of every dict and list inside a JSON value."""
    acc = set() if acc is None else acc
    c = v.__class__
    if c is dict:
        acc.add(id(v))
        for x in v.values():
            mutable_ids(x, acc)
    elif c is list:
        acc.add(id(v))
        for x in v:
            mutable_ids(x, acc)
    return acc


def check_payloads(label: str, route: Callable[[Any], dict[str, Any]], baseline: Callable[[Any], dict[str, Any]],
                   events: Sequence[Any]) -> int:
    """Compare full routings (destination -> payload) and check payload independence.

    Each payload must equal the baseline's and share no dict or list with the input
    event or with another payload (for both implementations).  Returns the deliveries.
    """
    delivered = 0
    for i, e in enumerate(events):
        got, want = route(e), baseline(e)
        if got != want:
            names = sorted(set(got) ^ set(want)) or [k for k in got if got[k] != want.get(k)][:1]
            detail = names[0] if names else "?"
            raise AgreementError(
                f"{label}: payloads differ on event #{i} {_describe(e)} for {detail!r}: "
                f"got {got.get(detail, '<not delivered>')!r}, expected {want.get(detail, '<not delivered>')!r}")
        delivered += len(got)
        event_ids = mutable_ids(e)
        for who, routing in ((label, got), ("baseline", want)):
            seen: set[int] = set()
            for name, payload in routing.items():
                ids = mutable_ids(payload)
                if ids & event_ids:
                    raise AgreementError(f"{who}: the payload for {name!r} shares a dict or list with event #{i}")
                if ids & seen:
                    raise AgreementError(f"{who}: the payload for {name!r} shares a dict or list with another "
                                         f"payload of event #{i}")
                seen |= ids
    return delivered
