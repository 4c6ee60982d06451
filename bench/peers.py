"""Rule IR in, the same rules for the peer engines out: rule-engine, cel-python, json-logic-qubit.

Each peer is imported lazily; :func:`available` says which are installed (the ``bench``
extra).  Every translation keeps the IR's semantics (a missing or null field makes the
atom false, consent only on an exact ``true``), working around each engine's pitfalls
as ``reference/peer-bench.md`` lists them:

- rule-engine: safe navigation ``&['k']``, ``Context(default_value=None)`` for missing
  top-level symbols, ``?? sentinel`` before an order comparison (``null > x`` raises),
  ``?? ''`` before ``starts_with``;
- cel-python: the compiled runner, the whole event bound as one root ``e`` (binding each
  field turns an absent one into an "undeclared reference"); a missing field is an error
  value, which ``&&`` / ``||`` absorb when the other side decides and which otherwise
  ends in ``CELEvalError``, counted as "not delivered" (the IR has no negation, so an
  erroring atom is always a false one); its logger is silenced; the activation
  ``celpy.json_to_cel(event)`` is built once per event and shared by all programs, and its
  cost is included;
- json-logic: ``var`` reads null natively; ``===`` for consent (``==`` coerces); no
  ``startsWith``, so ``substr`` on ``{"var": [path, ""]}`` (``substr`` of null raises).

>>> from bench.workload import rules
>>> print(rule_engine_text(rules(1).dests[0]))  # doctest: +NORMALIZE_WHITESPACE
type == 'track' and event in {'Checkout Started', 'Order Completed'}
  and (properties&['revenue'] ?? 250.0) > 250.0
  and context&['consent']&['categoryPreferences']&['Advertising'] == true
"""

from __future__ import annotations

import importlib.util
import json
import logging
from typing import Any, Callable

from .ir import CATEGORIES, CONSENT_PATH, AnyOf, Atom, Consent, Dest, Exists, IsEvent, IsType, Num, Path, Prefix, RuleIR, Suffix

__all__ = ["PEERS", "available", "missing_reason", "rule_engine_text", "cel_text", "json_logic_rule", "Peer",
           "make_peer"]

#: peer name -> the module it needs (and the package that provides it)
PEERS: dict[str, tuple[str, str]] = {
    "rule-engine": ("rule_engine", "rule-engine"),
    "cel-python": ("celpy", "cel-python"),
    "json-logic": ("json_logic", "json-logic-qubit"),
}


def available(name: str) -> bool:
    """Whether the peer's module can be imported."""
    return importlib.util.find_spec(PEERS[name][0]) is not None


def missing_reason(name: str) -> str:
    module, package = PEERS[name]
    return f"{package} is not installed (pip install -e '.[bench]'; module {module})"


# ------------------------------------------------------------------ rule-engine


def _re_path(path: Path) -> str:
    head, *rest = path
    return head + "".join(f"&[{k!r}]" for k in rest)


def _re_set(values: tuple[str, ...]) -> str:
    return "{" + ", ".join(repr(v) for v in values) + "}"


def _re_sentinel(op: str, value: int | float) -> int | float:
    """A stand-in for null that makes the comparison false (``null > x`` raises in rule-engine)."""
    return value if op in (">", "<") else value - 1


def _re_atom(a: Atom) -> str:
    if isinstance(a, IsType):
        return f"type == {a.values[0]!r}" if len(a.values) == 1 else f"type in {_re_set(a.values)}"
    if isinstance(a, IsEvent):
        return f"event == {a.values[0]!r}" if len(a.values) == 1 else f"event in {_re_set(a.values)}"
    if isinstance(a, Num):
        return f"({_re_path(a.path)} ?? {_re_sentinel(a.op, a.value)!r}) {a.op} {a.value!r}"
    if isinstance(a, Prefix):
        return f"({_re_path(a.path)} ?? '').starts_with({a.text!r})"
    if isinstance(a, Suffix):
        return f"({_re_path(a.path)} ?? '').ends_with({a.text!r})"
    if isinstance(a, Exists):
        return f"{_re_path(a.path)} != null"
    if isinstance(a, AnyOf):
        return "(" + " or ".join(_re_atom(x) for x in a.items) + ")"
    if isinstance(a, Consent):
        return " and ".join(f"{_re_path(CONSENT_PATH + (CATEGORIES[c],))} == true" for c in a.categories)
    raise TypeError(a)


def rule_engine_text(d: Dest) -> str:
    """One destination as a rule-engine expression."""
    return " and ".join(_re_atom(a) for a in d.atoms)


# ------------------------------------------------------------------ CEL


def _cel_path(path: Path) -> str:
    return "e." + ".".join(path)


def _cel_atom(a: Atom) -> str:
    if isinstance(a, IsType):
        return f"e.type == {json.dumps(a.values[0])}" if len(a.values) == 1 else f"e.type in {json.dumps(list(a.values))}"
    if isinstance(a, IsEvent):
        return f"e.event == {json.dumps(a.values[0])}" if len(a.values) == 1 else f"e.event in {json.dumps(list(a.values))}"
    if isinstance(a, Num):
        return f"{_cel_path(a.path)} {a.op} {a.value!r}"
    if isinstance(a, Prefix):
        return f"{_cel_path(a.path)}.startsWith({json.dumps(a.text)})"
    if isinstance(a, Suffix):
        return f"{_cel_path(a.path)}.endsWith({json.dumps(a.text)})"
    if isinstance(a, Exists):  # a missing field is an error value: "not delivered", like false
        return f"{_cel_path(a.path)} != null"
    if isinstance(a, AnyOf):
        return "(" + " || ".join(_cel_atom(x) for x in a.items) + ")"
    if isinstance(a, Consent):
        return " && ".join(f"{_cel_path(CONSENT_PATH + (CATEGORIES[c],))} == true" for c in a.categories)
    raise TypeError(a)


def cel_text(d: Dest) -> str:
    """One destination as a CEL expression over the root variable ``e``.

    >>> from bench.workload import rules
    >>> cel_text(rules(3).dests[2])
    'e.type == "page" && e.context.locale.startsWith("de") && e.userId != null && e.context.consent.categoryPreferences.Analytics == true'
    """
    return " && ".join(_cel_atom(a) for a in d.atoms)


# ------------------------------------------------------------------ json-logic


def _jl_var(path: Path) -> dict[str, Any]:
    return {"var": ".".join(path)}


def _jl_atom(a: Atom) -> dict[str, Any]:
    if isinstance(a, IsType):
        return {"in": [{"var": "type"}, list(a.values)]} if len(a.values) > 1 else {"===": [{"var": "type"}, a.values[0]]}
    if isinstance(a, IsEvent):
        return {"in": [{"var": "event"}, list(a.values)]} if len(a.values) > 1 else {"===": [{"var": "event"}, a.values[0]]}
    if isinstance(a, Num):
        return {a.op: [_jl_var(a.path), a.value]}
    if isinstance(a, Prefix):
        safe = {"var": [".".join(a.path), ""]}
        return {"===": [{"substr": [safe, 0, len(a.text)]}, a.text]}
    if isinstance(a, Suffix):
        safe = {"var": [".".join(a.path), ""]}
        return {"===": [{"substr": [safe, -len(a.text)]}, a.text]}
    if isinstance(a, Exists):
        return {"!==": [_jl_var(a.path), None]}
    if isinstance(a, AnyOf):
        return {"or": [_jl_atom(x) for x in a.items]}
    if isinstance(a, Consent):
        tests = [{"===": [_jl_var(CONSENT_PATH + (CATEGORIES[c],)), True]} for c in a.categories]
        return tests[0] if len(tests) == 1 else {"and": tests}
    raise TypeError(a)


def json_logic_rule(d: Dest) -> dict[str, Any]:
    """One destination as a JsonLogic rule."""
    return {"and": [_jl_atom(a) for a in d.atoms]}


# ------------------------------------------------------------------ runners


class Peer:
    """One peer engine with every destination of a rule set compiled once.

    ``decider(d)`` evaluates the first ``d`` destinations (rule sets are nested), so the
    D=1,000 programs serve every D.
    """

    def __init__(self, name: str, decider: Callable[[int], Callable[[Any], list[str]]], version: str) -> None:
        self.name = name
        self.decider = decider
        self.version = version


def _version(package: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(package)
    except PackageNotFoundError:
        return "?"


def _rule_engine(ir: RuleIR) -> Peer:
    import rule_engine

    ctx = rule_engine.Context(default_value=None)
    progs = [(d.name, rule_engine.Rule(rule_engine_text(d), context=ctx).matches) for d in ir.dests]

    def decider(n: int) -> Callable[[Any], list[str]]:
        chosen = progs[:n]
        return lambda e: [name for name, matches in chosen if matches(e)]

    return Peer("rule-engine", decider, _version("rule-engine"))


def _cel(ir: RuleIR) -> Peer:
    import celpy

    logging.getLogger("celpy").setLevel(logging.CRITICAL)  # the compiled runner logs absorbed errors
    # celpy keeps one process-wide parser tied to the first Environment's tree class.
    celpy.celparser.CELParser.CEL_PARSER = None
    env = celpy.Environment(runner_class=celpy.CompiledRunner)
    progs = [(d.name, env.program(env.compile(cel_text(d)))) for d in ir.dests]
    convert = celpy.json_to_cel
    error = celpy.CELEvalError

    def decider(n: int) -> Callable[[Any], list[str]]:
        chosen = progs[:n]

        def decide(e: Any) -> list[str]:
            act = {"e": convert(e)}  # built once per event, shared by all programs
            out = []
            for name, prog in chosen:
                try:
                    if prog.evaluate(act):  # a celpy BoolType
                        out.append(name)
                except error:
                    pass  # an error value: not delivered
            return out

        return decide

    return Peer("cel-python", decider, _version("cel-python"))


def _json_logic(ir: RuleIR) -> Peer:
    from json_logic import jsonLogic

    progs = [(d.name, json_logic_rule(d)) for d in ir.dests]

    def decider(n: int) -> Callable[[Any], list[str]]:
        chosen = progs[:n]
        return lambda e: [name for name, rule in chosen if jsonLogic(rule, e) is True]

    return Peer("json-logic", decider, _version("json-logic-qubit"))


_MAKERS = {"rule-engine": _rule_engine, "cel-python": _cel, "json-logic": _json_logic}


def make_peer(name: str, ir: RuleIR) -> Peer:
    """Compile every destination of ``ir`` for one peer (ImportError if it is not installed)."""
    return _MAKERS[name](ir)
