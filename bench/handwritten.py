"""Rule IR in, the hand-written Python baselines out: lambdas, an index, fused functions, payloads.

What a careful engineer would write by hand for this rule set (generated here from the
IR so that every variant makes the same decisions), in the forms the team measured
(``reference/peer-bench.md``):

- ``lambda``: one plain lambda per destination over the raw dict;
- ``lambda+index``: the same lambdas behind a memoised ``(type, event)`` -> candidates table;
- ``fused``: the whole rule set as one function, every field read once per event;
- ``fused+index``: one such function per ``(type, event)``, generated on first sight and
  holding only the candidates, with the type and event atoms removed: the practical
  CPython ceiling for a rules-to-Python compiler;
- payload builders per destination (keep projection, then SHA-256 of the hashed fields
  with RouteQL's normalisation), for the full-routing baseline.

Hand-written code may rely on what it knows of its traffic: ``x or {}`` for containers
and ``is not None`` before a numeric comparison, exactly as in the reference's lambdas.
That is exact on this workload (the bench asserts it, event by event) and never slower
than the fully type-guarded tests RouteQL must make on arbitrary input.

>>> from bench.workload import rules
>>> hw = Handwritten(rules(10))
>>> e = {"type": "identify", "traits": {"email": "a@example.com"},
...      "context": {"consent": {"categoryPreferences": {"Personalization": True}}}}
>>> hw.decide_lambda(e), hw.decide_fused_index(e)
(['dest_0003'], ['dest_0003'])
>>> hw.route_lambda(e)["dest_0003"]["traits"]["email"][:12]
'08168cd80dfd'
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any, Callable

from .ir import CATEGORIES, CONSENT_PATH, AnyOf, Atom, Consent, Dest, Exists, IsEvent, IsType, Num, Path, Prefix, RuleIR, Suffix

__all__ = ["Handwritten", "sha", "LIST_PATHS", "lambda_source", "fused_source", "payload_source"]

#: Paths the traffic holds lists of objects at (hand-written code knows its data).
LIST_PATHS: frozenset[Path] = frozenset({("properties", "products")})

_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def sha(v: Any) -> Any:
    """SHA-256 hex of a value as RouteQL hashes it: strings trimmed (e-mails lower-cased),
    numbers and booleans as JSON text, containers leaf by leaf, null kept.

    >>> sha("  Jane@Example.COM ") == sha("jane@example.com"), sha(None), sha(2.0) == sha(2)
    (True, None, True)
    """
    c = v.__class__
    if v is None:
        return None
    if c is str:
        text = v.strip()
        if _EMAIL.fullmatch(text):
            text = text.lower()
    elif c is bool:
        text = "true" if v else "false"
    elif c is float or c is int:
        text = json.dumps(int(v) if c is float and v.is_integer() else v)
    elif c is dict:
        return {k: sha(x) for k, x in v.items()}
    elif c is list:
        return [sha(x) for x in v]
    else:
        text = json.dumps(v, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


# ------------------------------------------------------------------ predicates as Python text


class _Reads:
    """Field reads for fused code: each container and leaf read once, in a fixed order."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.conts: dict[Path, str] = {(): "e"}
        self.leaves: dict[Path, str] = {}

    def container(self, path: Path) -> str:
        if path not in self.conts:
            parent = self.container(path[:-1])
            var = f"c{len(self.conts)}"
            self.lines.append(f"{var} = {parent}.get({path[-1]!r}) or _E")
            self.conts[path] = var
        return self.conts[path]

    def leaf(self, path: Path) -> str:
        if path not in self.leaves:
            parent = self.container(path[:-1])
            var = f"v{len(self.leaves)}"
            self.lines.append(f"{var} = {parent}.get({path[-1]!r})")
            self.leaves[path] = var
        return self.leaves[path]


class _Inline:
    """Field reads written inline, as in a lambda: ``(e.get('a') or _E).get('b')``."""

    def __init__(self) -> None:
        self.walrus = 0

    def container(self, path: Path) -> str:
        text = "e"
        for k in path:
            text = f"({text}.get({k!r}) or _E)"
        return text

    def leaf(self, path: Path) -> str:
        return f"{self.container(path[:-1])}.get({path[-1]!r})"


def _set(values: tuple[str, ...]) -> str:
    return "{" + ", ".join(repr(v) for v in values) + "}"


def _atom(a: Atom, r: Any) -> str:
    """Python text for one atom, reading fields through ``r`` (inline or hoisted)."""
    if isinstance(a, IsType):
        v = r.leaf(("type",))
        return f"{v} == {a.values[0]!r}" if len(a.values) == 1 else f"{v} in {_set(a.values)}"
    if isinstance(a, IsEvent):
        v = r.leaf(("event",))
        return f"{v} == {a.values[0]!r}" if len(a.values) == 1 else f"{v} in {_set(a.values)}"
    if isinstance(a, Num):
        v = r.leaf(a.path)
        if isinstance(r, _Inline):  # a lambda names its value with := to test it twice
            r.walrus += 1
            name = f"_v{r.walrus}"
            return f"(({name} := {v}) is not None and {name} {a.op} {a.value!r})"
        return f"({v} is not None and {v} {a.op} {a.value!r})"
    if isinstance(a, Prefix):
        return f"({r.leaf(a.path)} or '').startswith({a.text!r})"
    if isinstance(a, Suffix):
        return f"({r.leaf(a.path)} or '').endswith({a.text!r})"
    if isinstance(a, Exists):
        return f"{r.leaf(a.path)} is not None"
    if isinstance(a, AnyOf):
        return "(" + " or ".join(_atom(x, r) for x in a.items) + ")"
    if isinstance(a, Consent):
        return " and ".join(f"{r.leaf(CONSENT_PATH + (CATEGORIES[c],))} is True" for c in a.categories)
    raise TypeError(f"not an atom: {a!r}")


def lambda_source(d: Dest) -> str:
    """One destination as a lambda over the raw event.

    >>> from bench.workload import rules
    >>> print(lambda_source(rules(1).dests[0]))  # doctest: +NORMALIZE_WHITESPACE
    lambda e: e.get('type') == 'track' and e.get('event') in {'Checkout Started', 'Order Completed'}
      and ((_v1 := (e.get('properties') or _E).get('revenue')) is not None and _v1 > 250.0)
      and (((e.get('context') or _E).get('consent') or _E).get('categoryPreferences') or _E).get('Advertising') is True
    """
    r = _Inline()
    return "lambda e: " + " and ".join(_atom(a, r) for a in d.atoms)


def fused_source(fname: str, dests: list[Dest], drop_dispatch: bool) -> str:
    """One function deciding ``dests``: every field read once, then one ``if`` each.

    ``drop_dispatch`` leaves out the type and event atoms (the caller dispatched on them).
    """
    r = _Reads()
    tests: list[tuple[str, str]] = []
    for d in dests:
        atoms = [a for a in d.atoms if not (drop_dispatch and isinstance(a, (IsType, IsEvent)))]
        tests.append((d.name, " and ".join(_atom(a, r) for a in atoms) or "True"))
    body = [f"def {fname}(e):", *(f"    {line}" for line in r.lines), "    out = []"]
    body += [f"    if {cond}: out.append({name!r})" for name, cond in tests]
    body.append("    return out")
    return "\n".join(body) + "\n"


def _dispatch_ok(d: Dest, type_: Any, event: Any) -> bool:
    """Whether the type and event atoms of ``d`` hold for an event with this type and name."""
    for a in d.atoms:
        if isinstance(a, IsType) and type_ not in a.values:
            return False
        if isinstance(a, IsEvent) and not (event.__class__ is str and event in a.values):
            return False
    return True


# ------------------------------------------------------------------ payloads


def _keep_tree(paths: tuple[Path, ...]) -> dict[str, Any]:
    tree: dict[str, Any] = {}
    for p in paths:
        node = tree
        for k in p[:-1]:
            node = node.setdefault(k, {})
        node[p[-1]] = None  # a leaf
    return tree


def payload_source(fname: str, d: Dest) -> str:
    """A hand-written-style payload builder: the keep projection, then the hashes.

    Objects along a kept path are created (possibly empty), a missing key is left out, a
    null or non-object container stops the path, and a list of objects is projected
    element by element: RouteQL's ``keep``.  Leaves here are JSON scalars, which are
    immutable, so the payload shares no mutable structure with the event.
    """
    lines: list[str] = [f"def {fname}(e):"]
    counter = [0]
    hashed = set(d.hash)

    def emit(level: int, text: str) -> None:
        lines.append("    " * level + text)

    def fresh(prefix: str) -> str:
        counter[0] += 1
        return f"{prefix}{counter[0]}"

    def project(node: dict[str, Any], src: str, dst: str, path: Path, level: int) -> None:
        for key, child in node.items():
            here = path + (key,)
            if child is None:
                value = f"{src}[{key!r}]"
                if here in hashed:
                    value = f"_sha({value})"
                emit(level, f"if {key!r} in {src}: {dst}[{key!r}] = {value}")
                continue
            x = fresh("x")
            emit(level, f"{x} = {src}.get({key!r})")
            if here in LIST_PATHS:
                item, out = fresh("i"), fresh("o")
                emit(level, f"if {x}.__class__ is list:")
                emit(level + 1, f"{dst}[{key!r}] = {out}l = []")
                emit(level + 1, f"for {item} in {x}:")
                emit(level + 2, f"if {item}.__class__ is dict:")
                emit(level + 3, f"{out} = {{}}")
                project(child, item, out, here, level + 3)
                emit(level + 3, f"{out}l.append({out})")
            else:
                out = fresh("o")
                emit(level, f"if {x}.__class__ is dict:")
                emit(level + 1, f"{dst}[{key!r}] = {out} = {{}}")
                project(child, x, out, here, level + 1)

    emit(1, "p = {}")
    project(_keep_tree(d.keep), "e", "p", (), 1)
    emit(1, "return p")
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------ the baselines


def _compile(source: str, namespace: dict[str, Any]) -> None:
    exec(compile(source, "<bench handwritten>", "exec"), namespace)  # noqa: S102 - our own generated text


class Handwritten:
    """Every hand-written variant for one rule set; all ``decide_*`` return destination names."""

    def __init__(self, ir: RuleIR) -> None:
        self.ir = ir
        self.namespace: dict[str, Any] = {"_E": {}, "_sha": sha}
        src = ["LAMBDAS = ("]
        src += [f"    ({d.name!r}, {lambda_source(d)})," for d in ir.dests]
        src.append(")")
        _compile("\n".join(src) + "\n", self.namespace)
        self.lambdas: tuple[tuple[str, Callable[[Any], bool]], ...] = self.namespace["LAMBDAS"]
        self._lambda_index: dict[tuple[Any, Any], tuple[tuple[str, Callable[[Any], bool]], ...]] = {}
        _compile(fused_source("fused_all", list(ir.dests), drop_dispatch=False), self.namespace)
        self.decide_fused: Callable[[Any], list[str]] = self.namespace["fused_all"]
        self._fused_index: dict[tuple[Any, Any], Callable[[Any], list[str]]] = {}
        self._fused_count = 0
        for i, d in enumerate(ir.dests):
            _compile(payload_source(f"payload_{i}", d), self.namespace)
        self.payloads: dict[str, Callable[[Any], dict[str, Any]]] = {
            d.name: self.namespace[f"payload_{i}"] for i, d in enumerate(ir.dests)
        }
        self.full = tuple((name, fn, self.payloads[name]) for name, fn in self.lambdas)

    # -- decisions
    def decide_lambda(self, e: Any) -> list[str]:
        """Every lambda, in order."""
        return [name for name, fn in self.lambdas if fn(e)]

    def decide_lambda_index(self, e: Any) -> list[str]:
        """Only the candidate lambdas of the event's ``(type, event)``, memoised."""
        key = (e.get("type"), e.get("event"))
        cands = self._lambda_index.get(key)
        if cands is None:
            cands = tuple((n, fn) for (n, fn), d in zip(self.lambdas, self.ir.dests) if _dispatch_ok(d, *key))
            self._lambda_index[key] = cands
        return [name for name, fn in cands if fn(e)]

    def decide_fused_index(self, e: Any) -> list[str]:
        """The fused function of the event's ``(type, event)``, generated on first sight."""
        key = (e.get("type"), e.get("event"))
        fn = self._fused_index.get(key)
        if fn is None:
            fn = self._fused_for(key)
        return fn(e)

    def _fused_for(self, key: tuple[Any, Any]) -> Callable[[Any], list[str]]:
        cands = [d for d in self.ir.dests if _dispatch_ok(d, *key)]
        self._fused_count += 1
        fname = f"fused_{self._fused_count}"
        _compile(fused_source(fname, cands, drop_dispatch=True), self.namespace)
        fn: Callable[[Any], list[str]] = self.namespace[fname]
        self._fused_index[key] = fn
        return fn

    # -- full routing: decisions + payloads
    def route_lambda(self, e: Any) -> dict[str, dict[str, Any]]:
        """Per-destination code: each lambda, and each delivered destination's payload."""
        return {name: payload(e) for name, fn, payload in self.full if fn(e)}

    def route_fused_index(self, e: Any) -> dict[str, dict[str, Any]]:
        """The fused, indexed decisions, then the payload builders."""
        payloads = self.payloads
        return {name: payloads[name](e) for name in self.decide_fused_index(e)}

    def warm(self, events: list[Any]) -> None:
        """Fill the memoised tables (their one-off build cost is not what is measured)."""
        for e in events:
            self.decide_lambda_index(e)
            self.decide_fused_index(e)
