"""Model -> readable Python source: decisions specialised per (type, event), payload builders.

Safety by construction (as Jinja's compiler does it): literals enter the source only as
``repr()`` of plain values; user names never become identifiers (variables are numbered,
fields are read with string keys); larger constants (sets, tries, compiled patterns)
live in the namespace under generated names; the module runs with no builtins.  Every
destination block starts with a comment naming its rule and file:line, and a line map
points runtime errors back to the rule.

Shape of the output, for a rule set with destinations that look at ``event``::

    def decide(e, g):                  # e: the event, g: granted-categories bit mask
        ...dispatch on (type, event)...
    def t_track(e, g):                 # track events: rules that ignore the event name
    def t_track_1(e, g):               # track "Order Completed": only its candidates
    def t_track_other(e, g):           # track events with a name no rule mentions
    def p_0(e, g):                     # the payload of destination 0

and, made while routing (``specialised_source``), each decision function again for each
consent state it meets, its consent tests folded away::

    def t_track_1__9(e, c):            # t_track_1 for granted bits 9 (c: the context)
"""

from __future__ import annotations

import itertools
from contextlib import contextmanager
from typing import Any, Callable, Iterator, Mapping, Sequence

from . import nodes as n
from . import runtime as rt
from .consent import signals as sc
from .consent.resolve import Resolver
from .errors import RouteQLError
from .model import DestinationModel, FieldAction, Model, Origin
from .passes import ANY, OTHER, PASSES, event_by_name_only, event_dependent, mentioned_events, specialize
from .plangen import PLAN_RUNTIME, generate_plans
from .plans import apply_plan, plan_modes

__all__ = ["Generated", "generate", "RUNTIME_NAMES"]

#: Names of runtime helpers the generated module may call (and nothing else).
RUNTIME_NAMES: dict[str, Any] = {
    # the JSON types, for `x.__class__ is dict` tests (the module has no builtins)
    "dict": dict, "list": list, "str": str, "int": int, "float": float, "bool": bool,
    "_E": rt.EMPTY,
    "_NO": rt.MISSING,
    "_none": lambda e, g: [],
    "_Spec": rt.Specialisations,
    "_map": map, "_type": type, "_len": len,
    "_envok": rt.envelope_ok,
    "_small": rt.small_shape,
    "_TYPES": rt.EVENT_TYPES,
    "_skey": None,  # set below (import order)
    "_eq": rt.eq,
    "_cmp": rt.compare,
    "_in": rt.in_list,
    "_at": lambda x, i: x[i] if x.__class__ is list and -len(x) <= i < len(x) else None,
    "_igok": rt.integrations_allow,
    "_Exception": Exception,
    "_RouteQLError": RouteQLError,
    "_bucket": rt.sample_bucket,
    "_copy": rt.copy_json,
    "_SC": rt.JSON_SCALARS,  # the immutable JSON classes
    "_project": rt.project,
    "_drop": rt.drop_paths,
    "_transform": rt.transform_paths,
    "_trie": rt.build_trie,
}
for _name, (_fn, *_rest) in rt.FUNCTIONS.items():
    RUNTIME_NAMES[f"_f_{_name}"] = _fn
RUNTIME_NAMES["_skey"] = sc.scalar_key
RUNTIME_NAMES.update(PLAN_RUNTIME)
RUNTIME_NAMES["_plan_apply"] = apply_plan

_SAFE_SCALARS = (type(None), bool, int, float, str)


class Generated:
    """The generated source, its namespace constants and its line map.

    ``payloads`` says where each destination's payload function lies in the source, so
    the engine can compile the module without them and each one on first use (they are
    most of the source of a large rule set, and a destination may never be delivered).
    """

    def __init__(self, source: str, constants: dict[str, Any], linemap: dict[int, Origin], keys: int,
                 payloads: Mapping[str, tuple[str, int, int]] | None = None, table_line: int = 0) -> None:
        self.source = source
        self.constants = constants
        self.linemap = linemap
        #: number of specialised decision functions
        self.keys = keys
        #: destination name -> (function name, first line, line after its last), 1-based
        self.payloads: Mapping[str, tuple[str, int, int]] = payloads or {}
        #: the line of the ``PAYLOADS = {...}`` table (0: none)
        self.table_line = table_line
        self._lines: list[str] | None = None
        #: (decision function name, consent bits) -> that function specialised for them:
        #: its name, source, line map and number of destinations (_Gen.specialised_source)
        self.specialise: Callable[[str, int], tuple[str, str, dict[int, Origin], int]] = lambda f, m: ("", "", {}, 0)

    @property
    def lines(self) -> list[str]:
        """The source's lines, split once (the source of a large rule set is large)."""
        if self._lines is None:
            self._lines = self.source.split("\n")
        return self._lines

    def core_source(self) -> str:
        """The source without the payload functions and their table: blank lines in their
        place, so every other line keeps its number (and its entry in ``linemap``)."""
        lines = list(self.lines)
        for _, first, end in self.payloads.values():
            lines[first - 1:end - 1] = [""] * (end - first)
        if self.table_line:
            lines[self.table_line - 1] = ""
        return "\n".join(lines)

    def payload_source(self, name: str) -> tuple[str, str, int]:
        """One destination's payload function: its name, its source, and its first line."""
        fname, first, end = self.payloads[name]
        return fname, "\n".join(self.lines[first - 1:end - 1]) + "\n", first


class _Writer:
    def __init__(self) -> None:
        self.lines: list[str] = []
        self.level = 0
        self.linemap: dict[int, Origin] = {}
        self.origin: Origin | None = None

    def __call__(self, text: str = "") -> None:
        if not text.isprintable():
            # values reach the code through repr(), which escapes what is not printable; rule
            # text, names and file names reach it only in comments, where a line break, a NUL
            # or a lone surrogate would end the comment or the compile: made spaces here
            if not text.lstrip().startswith("#"):  # (a bug in codegen, never the rules' fault)
                raise RouteQLError(f"internal error: generated code that is not printable: {text!r}; please report it")
            text = _printable(text)
        self.lines.append("    " * self.level + text if text else "")
        if self.origin is not None:
            self.linemap[len(self.lines)] = self.origin

    @contextmanager
    def block(self, header: str) -> Iterator[None]:
        self(header)
        self.level += 1
        start = len(self.lines)
        try:
            yield
        finally:
            if len(self.lines) == start:  # a block must hold a statement
                self("pass")
            self.level -= 1

    @contextmanager
    def rule(self, origin: Origin | None) -> Iterator[None]:
        saved, self.origin = self.origin, origin
        try:
            yield
        finally:
            self.origin = saved


def _printable(text: str) -> str:
    """``text`` with every character that is not printable (line breaks, NUL, lone
    surrogates...) made a space."""
    return text if text.isprintable() else "".join(ch if ch.isprintable() else " " for ch in text)


def _comment(text: str) -> str:
    """A rule's text as a one-line comment (newlines and odd characters made harmless)."""
    clean = _printable(text)
    return clean if len(clean) <= 110 else clean[:107] + "..."


class _Gen:
    def __init__(self, model: Model, resolver: Resolver | None, salts: Mapping[tuple[str, str], str]) -> None:
        self.model = model
        self.resolver = resolver
        self.salts = salts
        self.w = _Writer()
        self.constants: dict[str, Any] = {}
        #: keep-subtree picture -> the shared function building it (see shared_projections)
        self.shared: dict[Any, str] = {}
        #: past SHARE_LIMIT keep nodes: compact payload code (shared objects, lists by the runtime)
        self.large_payloads = False
        self._prepared: dict[int, tuple[Any, Any]] = {}
        self._keep_tries: dict[str, Any] = {}
        self._const_ids: dict[Any, str] = {}
        self.counter = itertools.count()
        #: decision function name -> (its doc, its destinations and their stages), to
        #: specialise it for a consent state at routing time (specialised_source)
        self.functions: dict[str, tuple[str, list[tuple[DestinationModel, list[Any]]]]] = {}
        #: the variable holding the normalised context after the consent key's reads (the
        #: specialised decision functions take it as ``c``), or None
        self.consent_context: str | None = None

    # ------------------------------------------------------------ constants
    def const(self, value: Any, prefix: str = "_k") -> str:
        """Source text for a constant: repr() of a plain scalar, else a namespace name."""
        if type(value) in _SAFE_SCALARS:
            text = repr(value)
            if type(value) is float and not (value == value and value not in (float("inf"), float("-inf"))):
                raise ValueError("non-finite float literal")
            return text
        try:
            # type-strict: Python holds (True, 2) == (1, 2) == (1.0, 2); the language does not
            key = (prefix, _typed_key(value))
            hash(key)
        except TypeError:
            key = None
        if key is not None and key in self._const_ids:
            return self._const_ids[key]
        name = f"{prefix}{next(self.counter)}"
        self.constants[name] = value
        if key is not None:
            self._const_ids[key] = name
        return name

    # ------------------------------------------------------------ field reads
    def reads(self, exprs: list[Any], root: str = "e",
              containers: dict[tuple[Any, ...], str] | None = None) -> dict[tuple[Any, ...], str]:
        """Emit one read per distinct path used by ``exprs``; return path -> variable."""
        paths: list[tuple[Any, ...]] = []
        for e in exprs:
            if e is None:
                continue
            for x in n.walk(e):
                if isinstance(x, n.Path) and x.segments not in paths:
                    paths.append(x.segments)
        return self.read_paths(paths, root, containers)

    def read_paths(self, paths: list[tuple[Any, ...]], root: str = "e",
                   containers: dict[tuple[Any, ...], str] | None = None) -> dict[tuple[Any, ...], str]:
        """Emit reads for ``paths``, sharing every prefix; return path -> variable.

        A container on the way is read once and normalised to a dict (or the empty
        mapping), so a missing or non-object container makes every path under it null.
        ``containers`` (path -> variable) names containers already read and normalised;
        the call adds the ones it reads, so the caller can hand them on.
        """
        w = self.w
        wanted = set(paths)
        raws: dict[tuple[Any, ...], str] = {(): root}
        conts = containers if containers is not None else {}
        conts[()] = root

        def raw(p: tuple[Any, ...]) -> str:
            if p in raws:
                return raws[p]
            last = p[-1]
            if last.__class__ is int:
                src = f"_at({raw(p[:-1])}, {last})"
            else:
                src = f"{container(p[:-1])}.get({self.const(last)})"
            var = f"v{next(self.counter)}"
            w(f"{var} = {src}")
            raws[p] = var
            return var

        def container(p: tuple[Any, ...]) -> str:
            if p in conts:
                return conts[p]
            if p in wanted or p in raws or (p and p[-1].__class__ is int):
                r = raw(p)
                var = f"o{next(self.counter)}"
                w(f"{var} = {r} if {r}.__class__ is dict else _E")
            else:  # read and normalise in place: nobody needs the raw value
                var = f"o{next(self.counter)}"
                w(f"{var} = {container(p[:-1])}.get({self.const(p[-1])})")
                w(f"if {var}.__class__ is not dict: {var} = _E")
            conts[p] = var
            return var

        for p in sorted(wanted, key=lambda s: (len(s), [str(x) for x in s])):
            raw(p)
        return {p: raws[p] for p in wanted}

    # ------------------------------------------------------------ conditions
    def cond(self, e: Any, vars: dict[tuple[Any, ...], str]) -> str:
        """Python source for a condition (a boolean in an ``if``)."""
        c = self.cond
        if isinstance(e, n.Literal):
            return "True" if e.value is True else "False"
        if isinstance(e, n.Not):
            return f"not ({c(e.operand, vars)})"
        if isinstance(e, n.And):
            return "(" + " and ".join(c(x, vars) for x in e.items) + ")"
        if isinstance(e, n.Or):
            return "(" + " or ".join(c(x, vars) for x in e.items) + ")"
        if isinstance(e, n.ConsentTest):
            bit = self.model.consent.bit(e.category) if self.model.consent else 0
            return f"(g & {bit})"
        if isinstance(e, n.Compare):
            return self.compare(e, vars)
        if isinstance(e, n.In):
            return self.in_(e, vars)
        if isinstance(e, n.Exists):
            v = self.value(e.operand, vars)
            return f"{v} is None" if e.negated else f"{v} is not None"
        if isinstance(e, n.Match):
            return self.match(e, vars)
        if isinstance(e, n.Call):  # a boolean function used as a condition
            fast = self.string_test(e, vars)
            if fast is not None:
                return fast
            return f"({self.value(e, vars)} is True)"
        raise AssertionError(f"cannot compile condition {e!r}")

    def string_test(self, e: n.Call, vars: dict[tuple[Any, ...], str]) -> str | None:
        """starts_with / ends_with / contains of a field with a constant string, inlined."""
        if len(e.args) != 2 or not isinstance(e.args[0], n.Path) or not isinstance(e.args[1], n.Literal) \
                or type(e.args[1].value) is not str:
            return None
        x, lit = vars[e.args[0].segments], self.const(e.args[1].value)
        if e.name == "starts_with":
            return f"({x}.__class__ is str and {x}.startswith({lit}))"
        if e.name == "ends_with":
            return f"({x}.__class__ is str and {x}.endswith({lit}))"
        if e.name == "contains":
            return f"(({lit} in {x}) if {x}.__class__ is str else ({x}.__class__ is list and _f_contains({x}, {lit})))"
        return None

    def value(self, e: Any, vars: dict[tuple[Any, ...], str]) -> str:
        if isinstance(e, n.Path):
            return vars[e.segments]
        if isinstance(e, n.Literal):
            return self.const(e.value)
        if isinstance(e, n.Call):
            args = ", ".join(self.value(a, vars) for a in e.args)
            return f"_f_{e.name}({args})"
        raise AssertionError(f"cannot compile value {e!r}")

    @staticmethod
    def _simple(e: Any) -> bool:
        return isinstance(e, (n.Path, n.Literal))

    def compare(self, e: n.Compare, vars: dict[tuple[Any, ...], str]) -> str:
        left, right = e.left, e.right
        if isinstance(left, n.Literal) and not isinstance(right, n.Literal):
            flipped = {"=": "=", "!=": "!=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}[e.op]
            return self.compare(n.Compare(flipped, right, left, span=e.span), vars)
        if isinstance(left, n.Path) and isinstance(right, n.Literal):
            x = vars[left.segments]
            v = right.value
            lit = self.const(v)
            if e.op == "=":
                if v is None:
                    return f"{x} is None"
                if v is True or v is False:
                    return f"{x} is {v}"
                if type(v) is str:
                    return f"{x} == {lit}"
                if type(v) in (int, float):
                    return f"({x} == {lit} and {x}.__class__ is not bool)"
            elif e.op in ("<", "<=", ">", ">="):
                if type(v) in (int, float):
                    return f"(({x}.__class__ is int or {x}.__class__ is float) and {x} {e.op} {lit})"
                if type(v) is str:
                    return f"({x}.__class__ is str and {x} {e.op} {lit})"
                return "False"
        a, b = self.value(left, vars), self.value(right, vars)
        if e.op == "=":
            return f"_eq({a}, {b})"
        if e.op == "!=":
            return f"not _eq({a}, {b})"
        return f"_cmp({e.op!r}, {a}, {b})"

    def in_(self, e: n.In, vars: dict[tuple[Any, ...], str]) -> str:
        neg = "not " if e.negated else ""
        if isinstance(e.left, n.Path) and isinstance(e.right, n.Literal) and isinstance(e.right.value, tuple):
            x = vars[e.left.segments]
            vals = e.right.value
            if vals and all(type(v) is str for v in vals):
                return f"{neg}({x}.__class__ is str and {x} in {self.const(frozenset(vals), '_s')})"
            if vals and all(type(v) in (int, float) for v in vals):
                return f"{neg}(({x}.__class__ is int or {x}.__class__ is float) and {x} in {self.const(frozenset(vals), '_s')})"
            if not vals:
                return "True" if e.negated else "False"
        return f"{neg}_in({self.value(e.left, vars)}, {self.value(e.right, vars)})"

    def match(self, e: n.Match, vars: dict[tuple[Any, ...], str]) -> str:
        x = self.value(e.subject, vars)
        pattern = e.pattern.value
        if e.kind == "regex":
            rx = self.const(rt.compile_regex(pattern), "_r")
            return f"({x}.__class__ is str and {rx}.search({x}) is not None)"
        special = set("*?[\\")
        if not set(pattern) & special:
            return f"{x} == {self.const(pattern)}"
        if pattern.endswith("*") and not set(pattern[:-1]) & special:
            return f"({x}.__class__ is str and {x}.startswith({self.const(pattern[:-1])}))"
        if pattern.startswith("*") and not set(pattern[1:]) & special:
            return f"({x}.__class__ is str and {x}.endswith({self.const(pattern[1:])}))"
        return f"{self.const(rt.compile_glob(pattern), '_g')}({x})"

    # ------------------------------------------------------------ decisions
    def prepared(self, x: Any) -> Any:
        """A condition after :data:`PASSES` (memoised: it is specialised for many keys)."""
        hit = self._prepared.get(id(x))
        if hit is None or hit[0] is not x:
            hit = self._prepared[id(x)] = (x, _prep(x))
        return hit[1]

    def decision_parts(self, d: DestinationModel) -> list[tuple[str, Any, Origin | None]]:
        """The stages of one destination as (kind, condition, origin), in stage order."""
        parts: list[tuple[str, Any, Origin | None]] = []
        for expr, origin in d.whens:
            parts.append(("when", expr, origin))
        for s in d.samples:
            parts.append(("sample", s, s.origin))
        for p in d.event_policies:
            parts.append(("policy", p, p.origin))
        return parts

    def specialize_dest(self, d: DestinationModel, type_: str, event: Any, mentioned: frozenset[str]) -> list[tuple[str, Any, Any]] | None:
        """Stages of ``d`` folded for (type, event); None when it cannot receive such events."""

        def sp(x: Any) -> Any:
            if x is None:
                return None
            return specialize(self.prepared(x), type_, event, mentioned)

        out: list[tuple[str, Any, Any]] = []
        parts = self.decision_parts(d)
        for kind, obj, _ in parts:  # a `when` that names other types: nothing to fold
            if kind == "when" and not _may_have_type(self.prepared(obj), type_):
                return None
        for kind, obj, origin in parts:
            if kind == "when":
                c = sp(obj)
                if isinstance(c, n.Literal):
                    if c.value is True:
                        continue
                    return None
                out.append(("when", c, origin))
            elif kind == "sample":
                g = sp(obj.guard)
                if isinstance(g, n.Literal) and g.value is False:
                    continue
                if obj.percent >= 100:
                    continue
                if obj.percent <= 0 and g is None:
                    return None
                out.append(("sample", (obj, None if isinstance(g, n.Literal) else g), origin))
            else:
                g = sp(obj.guard)
                if isinstance(g, n.Literal) and g.value is False:
                    continue
                if obj.kind == "forbid_events" and (g is None or isinstance(g, n.Literal)):
                    return None
                out.append(("policy", (obj, None if isinstance(g, n.Literal) else g), origin))
        return out

    def respecialize(self, typed: list[tuple[str, Any, Any]], type_: str, event: Any,
                     mentioned: frozenset[str]) -> list[tuple[str, Any, Any]] | None:
        """Stages already specialised for ``type_`` (by :meth:`specialize_dest` with
        :data:`ANY`) folded further for one ``event`` name; None when it cannot match."""
        out: list[tuple[str, Any, Any]] = []
        for kind, obj, origin in typed:
            if kind == "when":
                c = specialize(obj, type_, event, mentioned)
                if isinstance(c, n.Literal):
                    if c.value is True:
                        continue
                    return None
                out.append(("when", c, origin))
                continue
            rule, guard = obj
            g = None if guard is None else specialize(guard, type_, event, mentioned)
            if isinstance(g, n.Literal) and g.value is False:
                continue
            g = None if isinstance(g, n.Literal) else g
            if kind == "policy" and rule.kind == "forbid_events" and g is None:
                return None
            out.append((kind, (rule, g), origin))
        return out

    def consent_reqs(self, d: DestinationModel) -> list[tuple[int, bool]]:
        """The consent a destination requires, as (bit mask, any of them?) pairs."""
        out = []
        cm = self.model.consent
        for req in d.requires:
            if not req.categories and not req.vendors:
                continue
            assert cm is not None
            out.append((cm.mask((), req.vendors), False) if req.vendors else (cm.mask(req.categories), req.any))
        return out

    def decision_function(self, name: str, doc: str, dests: list[tuple[DestinationModel, list[tuple[str, Any, Any]]]],
                          mask: int | None = None) -> int:
        """Emit one decision function over ``dests``; return how many destinations it tests.

        Generic (``mask`` None): ``name(e, g)`` returns the list of names, testing each
        destination's consent bits in ``g``.  Specialised for one consent state's ``mask``
        (see :meth:`specialised_source`): ``name(e, c)`` (``c``: the normalised context,
        when the consent key read it; else ``name(e)``) returns a tuple, the consent tests
        are folded away, a destination the state refuses is not there at all, and only
        the fields the others test are read.
        """
        w = self.w
        if mask is None:
            self.functions[name] = (doc, dests)
        cm = self.model.consent
        kept: list[tuple[DestinationModel, list[tuple[Any, ...]]]] = []
        for d, parts in dests:
            terms: list[tuple[Any, ...]] = []
            for bits, any_ in self.consent_reqs(d):
                if mask is None:
                    terms.append(("test", _mask_test(bits, any_)))
                elif not _mask_holds(mask, bits, any_):
                    break
            else:
                for kind, obj, _ in parts:
                    if kind == "when":
                        terms.append(("when", obj))
                    elif kind == "sample":
                        terms.append(("sample", *obj))
                    elif obj[0].kind == "forbid_events":
                        terms.append(("unless", obj[1]))
                    else:
                        p, guard = obj
                        assert cm is not None
                        bits, any_ = cm.mask(p.categories), p.any
                        if mask is None:
                            terms.append(("policy", guard, _mask_test(bits, any_)))
                        elif _mask_holds(mask, bits, any_):
                            continue  # (not guard) or True
                        elif guard is None:
                            break  # the state refuses what the policy requires
                        else:
                            terms.append(("unless", guard))
                else:
                    kept.append((d, terms))
        given = {("context",): "c"} if mask is not None and self.consent_context else None
        with w.block(f"def {name}(e, g):" if mask is None else f"def {name}(e, c):" if given else f"def {name}(e):"):
            w(f"# {_comment(doc)}")
            if mask is not None:
                w(f"g = {mask}  # the consent state's granted bits (conditions may still test them)")
            exprs: list[Any] = []
            for _, terms in kept:
                for term in terms:
                    if term[0] == "when":
                        exprs.append(term[1])
                    elif term[0] == "sample":
                        exprs += [term[2], n.Path(term[1].by)]
                    elif term[0] != "test":
                        exprs.append(term[1])
            vars = self.reads(exprs, containers=given)
            # (specialised: a tuple, grown by concatenation: the first name added is the
            # constant itself, and an event no destination takes returns the empty tuple)
            w("out = []" if mask is None else "out = ()")
            for d, terms in kept:
                w(f"# destination {_comment(d.name)}  ({d.span.file}:{d.span.line})")
                tests = []
                for term in terms:
                    kind = term[0]
                    if kind == "test":
                        tests.append(term[1])
                    elif kind == "when":
                        tests.append(self.cond(term[1], vars))
                    elif kind == "sample":
                        s, guard = term[1], term[2]
                        test = f"_bucket({vars[s.by]}) < {rt.sample_threshold(s.percent)}"
                        tests.append(test if guard is None else f"(not ({self.cond(guard, vars)}) or {test})")
                    elif kind == "unless":
                        tests.append(f"not ({self.cond(term[1], vars)})")
                    else:
                        guard, test = term[1], term[2]
                        tests.append(test if guard is None else f"(not ({self.cond(guard, vars)}) or {test})")
                with w.rule(Origin("destination", d.name, d.name, d.span)):
                    with w.block("if " + (" and ".join(tests) or "True") + ":"):
                        w(f"out.append({self.const(d.name)})" if mask is None else f"out += ({self.const(d.name)},)")
            w("# Segment's integrations object, when the event has one: a pure conjunct of every")
            w("# destination, so it filters the candidates instead of costing a test each (read only")
            w("# when there are candidates)")
            if mask is None:
                w("if out and (ig := e.get('integrations')): out = [d for d in out if _igok(ig, _IGN[d])]")
            else:
                w("if out and (ig := e.get('integrations')): out = (*[d for d in out if _igok(ig, _IGN[d])],)")
            w("return out")
        w()
        return len(kept)

    def specialised_source(self, fname: str, mask: int) -> tuple[str, str, dict[int, Origin], int]:
        """The decision function ``fname`` specialised for a consent state's ``mask``: its
        name, its source (lines from 1), its line map and how many destinations it tests
        (0: the state refuses every one; no need to compile it).  Called at routing time,
        the first time an event of ``fname``'s key arrives with a state of this mask."""
        if fname not in self.functions:
            return "", "", {}, 0  # _none: no candidates at all
        doc, dests = self.functions[fname]
        saved, self.w = self.w, _Writer()
        try:
            sname = f"{fname}__{mask}"
            count = self.decision_function(sname, f"{doc}, for consent bits {mask}", dests, mask)
            return sname, "\n".join(self.w.lines) + "\n", self.w.linemap, count
        finally:
            self.w = saved

    #: inline a type's event-independent destinations into each of its per-name functions
    #: while that costs at most this many destination blocks (bounded code, one call per event)
    INLINE_LIMIT = 2000

    def decisions(self) -> int:
        """One function per (type, event name) key holding only its candidates, and
        ``decide(e, g)``, which dispatches an event to its key's function in one lookup."""
        model = self.model
        w = self.w
        mentioned: set[str] = set()
        for d in model.destinations:
            for kind, obj, _ in self.decision_parts(d):
                mentioned |= mentioned_events(obj if kind == "when" else obj.guard)
        ment = frozenset(mentioned)
        names = sorted(ment)
        named: dict[tuple[str, Any], str] = {}
        other: dict[str, str] = {}
        count = 0
        for t in sorted(rt.EVENT_TYPES):
            gen: list[tuple[DestinationModel, list[Any]]] = []
            dependent: list[DestinationModel] = []
            #: destination -> (its stages per name it decides on, its stages for any other name)
            by_name: dict[int, tuple[dict[Any, Any], Any]] = {}
            for d in model.destinations:
                typed = self.specialize_dest(d, t, ANY, ment)
                if typed is None:
                    continue
                conds = list(_conditions(typed))
                if not any(event_dependent(x) for x in conds):
                    gen.append((d, typed))
                    continue
                dependent.append(d)
                # a destination that only compares `event` with literal names specialises,
                # for every name it does not mention, exactly as for OTHER: do that once
                own = set().union(*map(mentioned_events, conds)) if all(map(event_by_name_only, conds)) else ment
                by_name[d.index] = ({k: self.respecialize(typed, t, k, ment) for k in own},
                                    self.respecialize(typed, t, OTHER, ment))
            generic = None
            if gen:
                generic = f"t_{t}"
                self.decision_function(generic, f"{t} events: rules that do not look at the event name", gen)
                count += 1
            if not dependent:
                if generic:
                    other[t] = generic
                continue
            inline = len(gen) * (len(names) + 1) <= self.INLINE_LIMIT
            for key in [*names, OTHER]:
                chosen = [(d, parts) for d in dependent
                          if (parts := by_name[d.index][0].get(key, by_name[d.index][1]) if key is not OTHER
                              else by_name[d.index][1]) is not None]
                label = "any other name" if key is OTHER else repr(key)
                if not chosen:
                    fname = generic or "_none"  # a mentioned name with no candidates: not "other"
                elif inline:
                    fname = f"t_{t}_{'other' if key is OTHER else next(self.counter)}"
                    merged = sorted(gen + chosen, key=lambda dp: dp[0].index)
                    self.decision_function(fname, f"{t} events named {label}", merged)
                    count += 1
                else:
                    spec = f"t_{t}_{next(self.counter)}"
                    self.decision_function(spec, f"{t} events named {label}: rules that look at the name", chosen)
                    fname = f"t_{t}_{'other' if key is OTHER else next(self.counter)}"
                    self.merge_function(fname, generic, spec)
                    # (specialised for a consent state, the two are one function again)
                    self.functions[fname] = (f"{t} events named {label}", sorted(gen + chosen, key=lambda dp: dp[0].index))
                    count += 1
                if key is OTHER:
                    other[t] = fname
                else:
                    named[(t, key)] = fname
        w("_NAMED = {" + ", ".join(f"({self.const(t)}, {self.const(k)}): {f}" for (t, k), f in named.items()) + "}")
        w("_OTHER = {" + ", ".join(f"{self.const(t)}: {f}" for t, f in other.items()) + "}")
        w("# decision function -> its specialisations: consent key -> the function specialised for")
        w("# that state's bits (filled as states arrive)")
        fns = sorted({*named.values(), *other.values(), "_none"})
        w("_FS = {" + ", ".join(f"{f}: _Spec({f!r})" for f in fns) + "}")
        w()
        with w.block("def decide(e, g):"):
            w("# the destinations an event goes to, as indices in declaration order")
            w("t = e['type']")
            w("f = _NAMED.get((t, e.get('event')))")
            w("if f is None: f = _OTHER.get(t, _none)")
            w("return f(e, g)")
        w()
        return count

    def merge_function(self, name: str, generic: str | None, specific: str) -> None:
        """For very large rule sets: the type's shared function, then the name's own."""
        w = self.w
        with w.block(f"def {name}(e, g):"):
            if generic is None:
                w(f"return {specific}(e, g)")
            else:
                w(f"out = {generic}(e, g)")
                w(f"more = {specific}(e, g)")
                with w.block("if more:"):
                    w("out += more")
                    w("out.sort(key=_ORDER.__getitem__)")
                w("return out")
        w()

    # ------------------------------------------------------------ consent
    def consent(self) -> None:
        """``consent(e)``: the key of the event's consent state, computed inline.

        The key is ``(regime index, one key per signal format)``, exactly what
        ``Resolver.signature`` computes from the raw signals: the engine looks the state up
        under it and resolves it from the event on a miss.
        """
        w = self.w
        with w.block("def consent(e):"):
            w("# the regime that applies and a key for the consent signals (the state cache key)")
            w(f"return {self.consent_key()}")
        w()

    def consent_key(self) -> str:
        """Emit the reads and tests of the consent key; return its expression."""
        return "(r, " + "".join(f"{k}, " for k in self.consent_key_parts()) + ")" if self.resolver else "(-1,)"

    def consent_key_parts(self) -> list[str]:
        """Emit the reads and tests of the consent key (``r``, the regime, then one variable
        per signal format); return the formats' variables."""
        w = self.w
        r = self.resolver
        assert r is not None
        regimes = r.model.regimes
        exprs = [reg.when for reg in regimes]
        paths = [p for f, ps in zip(r.formats, r.paths) if f.reader is None or f.companion is not None
                 for p in (*ps, *(f.companion[0] if f.companion is not None else ()))]
        containers: dict[tuple[Any, ...], str] = {}
        vars = self.reads([x for x in exprs if x is not None] + [n.Path(p) for p in paths], containers=containers)
        # the event's context, read and normalised here, is handed to the specialised
        # decision functions (they would read it again)
        self.consent_context = containers.get(("context",))
        w("r = -1")
        first = True
        for i, reg in enumerate(regimes):
            cond = "True" if reg.when is None else self.cond(_prep(reg.when), vars)
            with w.rule(reg.origin):
                w(f"# regime {_comment(reg.name)} ({reg.kind})")
                with w.block(("if " if first else "elif ") + cond + ":"):
                    w(f"r = {i}")
            first = False
        keys = []
        #: formats that read the same signal the same way (GPP's US sections) share the read
        #: and, with the same signature, the key: reader call or signature call -> its variable
        shared: dict[str, str] = {}

        def first_of(var: str, paths: tuple[tuple[str, ...], ...]) -> None:
            """``var`` = the first of ``paths`` that is not null (as ``get_path`` reads them)."""
            w(f"{var} = {vars[paths[0]]}")
            for p in paths[1:]:
                w(f"if {var} is None: {var} = {vars[p]}")

        for i, (fmt, ps, uses) in enumerate(zip(r.formats, r.paths, r.args_by_format)):
            raw, key = f"s{i}", f"k{i}"
            w(f"# {fmt.name}")
            if fmt.reader is not None:
                read = f"{self.const(fmt.reader, '_read')}(e, {self.const(ps)})"
                if read in shared:
                    raw = shared[read]
                else:
                    shared[read] = raw
                    if fmt.companion is None:
                        w(f"{raw} = {read}")
                    else:  # the reader, inline: the signal, then its companion (gpp_sid)
                        cpaths, normalise = fmt.companion
                        first_of(raw, ps)
                        with w.block(f"if {raw} is not None:"):
                            c = f"c{next(self.counter)}"
                            first_of(c, cpaths)
                            w(f"{raw} = ({raw}, {self.const(normalise, '_cn')}({c}))")
            else:
                first_of(raw, ps)
            if fmt.key_kind == "scalar":
                w(f"{key} = {raw} if {raw} is None or {raw}.__class__ is str else "
                  f"(('bool', {raw}) if {raw} is True or {raw} is False else _skey({raw}))")
            elif fmt.key_kind == "segment":
                self.segment_key(raw, key, fmt, uses)
            else:
                sig = fmt.signature
                fn = (lambda raw_, f=sig, u=uses: f(raw_, u)) if sig is not None else sc.scalar_key
                call = f"{self.const(fn, '_sig')}({raw})"
                if call in shared:
                    key = shared[call]
                else:
                    shared[call] = key
                    if sig is None and fmt.companion is not None:
                        # scalar_key of (string, null or string), inline; anything else: the call
                        w(f"{key} = None if {raw} is None else ('tuple', {raw}) if {raw}[0].__class__ is str and "
                          f"({raw}[1] is None or {raw}[1].__class__ is str) else {call}")
                    elif fn(None) is None:
                        # (no signal at all, the usual case, keys as null: no call for it)
                        w(f"{key} = None if {raw} is None else {call}")
                    else:
                        w(f"{key} = {call}")
            keys.append(key)
        return keys

    def fast(self) -> None:
        """``fast(e)`` (for ``route``) and ``decide_fast(e, c=None)`` (installed as
        ``RuleSet.decide``): validation, consent and decision in one call each.  An event
        the fast path does not handle (malformed, a consent state seen for the first time,
        consent passed beside it) goes to the general path, which gives the same answer.

        Both end in the decision function specialised for the event's consent state,
        found by the consent key in the table of the event's generic function (``_FS``);
        the first event of a (function, state) pair has it made by ``_special``."""
        w = self.w
        with w.block("def fast(e):"):
            w("# validation, consent and decision in one call; None: take the general path")
            with w.block("if e.__class__ is not dict:"):
                w("return None")
            key, skey, call = self.fast_body("return None")
            if self.resolver is None:
                w("st = _NOSTATE")
            elif key != skey:
                # one signal format and no regime: the states by that format's key alone
                # (no tuple to build and hash), filled from the resolver's cache
                w(f"st = _ST1.get({key})")
                with w.block("if st is None:"):
                    with w.block(f"if (st := _STATES.get({skey})) is None:"):
                        w("return None")
                    with w.block(f"if _len(_ST1) >= {self.resolver.state_cache_size}:"):
                        w("_ST1.clear()")
                    w(f"_ST1[{key}] = st")
            else:
                w(f"st = _STATES.get({key})")
                with w.block("if st is None:"):
                    w("return None")
            w(f"sf = fs.get({key})")
            with w.block("if sf is None:"):
                w(f"sf = _special(fs, {key}, {skey}, st)")
            w(f"return st, {call}")
        w()
        with w.block("def decide_fast(e, c=None):"):
            w("# RuleSet.decide: the destinations' names; anything unusual takes the general path")
            with w.block("if c is not None or e.__class__ is not dict:"):
                w("return _decide_slow(e, c)")
            with w.block("try:"):
                key, skey, call = self.fast_body("return _decide_slow(e, c)")
                w(f"sf = fs.get({key})")
                with w.block(f"if sf is None and (sf := _special(fs, {key}, {skey}, None)) is None:"):
                    w("return _decide_slow(e, c)  # a consent state not seen yet")
                if self.model.plans:
                    # the plan's verdict: a clean event (or one no plan covers) keeps them all
                    w(f"d = {call}")
                    w("pr = plan(e)")
                    w("return d if pr is None or pr.clean else (*_gate_found(pr, d)[0],)")
                else:
                    w(f"return {call}")
            with w.block("except _RouteQLError:"):
                w("raise")
            with w.block("except _Exception:"):
                w("return _decide_slow(e, c)")
        w()

    def dispatch_miss(self) -> None:
        """``_dispatch(e, t, v)``: the envelope check and the table of the function for
        ``(type, name)`` of an event whose (type, name, shape) the fast path has not seen,
        remembered in ``_DISPATCH`` (bounded: cleared when full); None for an event the
        general path must take (a malformed envelope, a track event without a name)."""
        w = self.w
        with w.block("def _dispatch(e, t, v):"):
            w("# the envelope check: every envelope field of its JSON type")
            with w.block("if not _envok(e):"):
                w("return None")
            w("f = _NAMED.get((t, v))")
            with w.block("if f is None:"):
                w("# a (type, name) key exists only for valid types and string names")
                with w.block("if t == 'track' and v.__class__ is not str or t not in _TYPES:"):
                    w("return None")
                w("f = _OTHER.get(t, _none)")
            w("fs = _FS[f]")
            with w.block("if _small(e, v):  # (a wide event or a huge name: checked each time)"):
                with w.block(f"if _len(_DISPATCH) >= {rt.MAX_DISPATCH}:"):
                    w("_DISPATCH.clear()")
                w("_DISPATCH[(t, v, *e, *_map(_type, e.values()))] = fs")
            w("return fs")
        w()

    def fast_body(self, fail: str) -> tuple[str, str, str]:
        """Emit the dispatch (``fs``: the table of the event's decision function) and the
        consent key; return the key's expression in ``fs``, the state's key in the
        resolver's cache (``None``: no consent model) and the call of ``sf``, the
        specialised decision function."""
        w = self.w
        w("# the function for the event's type and name, by (type, name, shape): the shape is")
        w("# its keys and the class of each value, so one lookup also passes the envelope check")
        w("t = e.get('type')")
        w("v = e.get('event')")
        lookup = "fs = _DISPATCH.get((t, v, *e, *_map(_type, e.values())))"
        if fail == "return None":  # fast() is not inside a try: an unhashable type or name
            with w.block("try:"):
                w(lookup)
            with w.block("except _Exception:"):
                w("return None  # an unhashable type or name: the general path says what is wrong")
        else:
            w(lookup)
        with w.block("if fs is None and (fs := _dispatch(e, t, v)) is None:"):
            w(fail)
        if self.resolver is None:
            return "None", "None", "sf(e)"
        keys = self.consent_key_parts()
        skey = "(r, " + "".join(f"{k}, " for k in keys) + ")"
        call = f"sf(e, {self.consent_context})" if self.consent_context else "sf(e)"
        if self.resolver.model.regimes or len(keys) != 1:
            w(f"ck = {skey}")
            return "ck", "ck", call
        return keys[0], skey, call

    def segment_key(self, raw: str, key: str, fmt: Any, uses: tuple[tuple[Any, ...], ...]) -> None:
        """Segment's key inline: the mapped categoryPreferences values, each a bool, missing
        or invalid (the generic signature handles every other shape)."""
        w = self.w
        names = sc.segment_keys(uses)
        pref = f"c{next(self.counter)}"
        # (an object of more categories than the decoder takes is malformed: the signature says so)
        with w.block(f"if {raw}.__class__ is dict and ({pref} := {raw}.get('categoryPreferences', _NO)).__class__ is dict"
                     f" and _len({pref}) <= {sc.MAX_CATEGORIES}:"):
            # an int, two bits per category: 1 granted, 2 refused, 0 absent, 3 not a boolean
            # (what signals.py's segment signature computes; no other key is an int)
            # (each category's code already shifted into place, so the parts add: integer
            # addition is cheaper than shifting and or-ing in CPython 3.11)
            parts = []
            for i, name in enumerate(names):
                v = f"x{next(self.counter)}"
                w(f"{v} = {pref}.get({self.const(name)}, _NO)")
                one = 1 << (2 * i)
                parts.append(f"({one} if {v} is True else {2 * one} if {v} is False else 0 if {v} is _NO else {3 * one})")
            w(f"{key} = " + (" + ".join(parts) or "0"))
        with w.block(f"elif {raw} is None:"):
            w(f"{key} = None")
        with w.block("else:"):
            fn = lambda raw_, f=fmt.signature, u=uses: f(raw_, u)  # noqa: E731
            w(f"{key} = {self.const(fn, '_sig')}({raw})")

    # ------------------------------------------------------------ payloads
    def payload(self, d: DestinationModel) -> None:
        w = self.w
        with w.block(f"def p_{d.index}(e, g, pr):"):
            w(f"# payload for destination {_comment(d.name)}  ({d.span.file}:{d.span.line})")
            guards = [a.guard for a in (*d.keeps, *d.drops, *d.transforms)] + [p.guard for p in d.field_policies]
            prepared = {id(g): _prep(g) for g in guards if g is not None}
            vars = self.reads(list(prepared.values()))

            def guard_of(g: Any) -> str | None:
                if g is None:
                    return None
                x = prepared[id(g)]
                if isinstance(x, n.Literal):
                    return "True" if x.value is True else "False"
                return self.cond(x, vars)

            fused: list[Fused] = []
            if not d.keeps:
                w("p = _copy(e)")
            elif all(k.guard is None for k in d.keeps):
                trie = self.keep_trie(d)
                with w.rule(d.keeps[0].origin):
                    for k in d.keeps:
                        w(f"# {_comment(k.origin.text)}  ({k.origin.at})")
                    if trie.whole or trie.wild is not None:
                        w(f"p = _project(e, {self.const(trie, '_t')})")
                    else:
                        fused = self.fused_transforms(d, trie)
                        w("p = {}")
                        self.projection(trie, "e", "p", fused)
            else:
                w("k = []")
                for k in d.keeps:
                    pats = self.const(tuple(p.segments for p in k.patterns), "_k")
                    with w.rule(k.origin):
                        w(f"# {_comment(k.origin.text)}  ({k.origin.at})")
                        g = guard_of(k.guard)
                        w(f"k += {pats}" if g is None else f"if {g}: k += {pats}")
                w("p = _project(e, _trie(k))")
            for a in d.drops:
                self.field_step(a.origin, guard_of(a.guard), f"_drop(p, {self.trie(a)})")
            for a in d.transforms[len(fused):]:
                self.field_step(a.origin, guard_of(a.guard), f"_transform(p, {self.trie(a)}, {self.transform_fn(a)})")
            if self.model.plans:
                modes = {p.name: plan_modes(p, d) for p in self.model.plans}
                w("# the tracking plan: omit or flag what it found (before policies: deny wins)")
                w(f"if pr is not None and not pr.clean: _plan_apply(p, pr, {self.const(modes, '_pm')}[pr.plan])")
            for fp in d.field_policies:
                trie = self.const(rt.build_trie(p.segments for p in fp.patterns), "_t")
                self.field_step(fp.origin, guard_of(fp.guard), f"_drop(p, {trie})")
            w("return p")
        w()

    #: past this many keep-trie nodes over all destinations, an object subtree that several
    #: destinations keep alike (``context: {ip, locale}``) is built by one shared function
    #: instead of straight-line code in each: bounded code (and compile time) for large rule
    #: sets, one call more per such object for each delivery
    SHARE_LIMIT = 3000

    def keep_trie(self, d: DestinationModel) -> Any:
        """The merged keep trie of a destination whose keeps have no guard, else None."""
        if d.name not in self._keep_tries:
            unguarded = d.keeps and all(k.guard is None for k in d.keeps)
            self._keep_tries[d.name] = rt.build_trie(p.segments for k in d.keeps for p in k.patterns) if unguarded else None
        return self._keep_tries[d.name]

    def shared_projections(self) -> None:
        """Emit one function per object subtree several destinations keep alike, when the
        rule set's keep code would pass :attr:`SHARE_LIMIT` nodes."""
        tries = [t for t in map(self.keep_trie, self.model.destinations)
                 if t is not None and not t.whole and t.wild is None]
        if sum(_trie_size(t) for t in tries) <= self.SHARE_LIMIT:
            return
        self.large_payloads = True
        seen: dict[Any, int] = {}
        subtrees: dict[Any, Any] = {}
        for t in tries:
            for child in t.children.values():
                if child.children and not child.whole and child.wild is None:
                    sig = _trie_sig(child)
                    seen[sig] = seen.get(sig, 0) + 1
                    subtrees.setdefault(sig, child)
        w = self.w
        for sig, count in seen.items():
            if count < 2:
                continue
            name = f"k_{next(self.counter)}"
            with w.block(f"def {name}(x):"):
                w(f"# a kept object shared by {count} destinations")
                w("o = {}")
                self.projection(subtrees[sig], "x", "o")
                w("return o")
            w()
            self.shared[sig] = name

    #: a list of objects under a kept path (``products: [{sku}]``) is projected by an inline
    #: loop when each element keeps at most this many plain fields (else by runtime.project),
    #: and the rule set's keep code is within SHARE_LIMIT (bounded code for large rule sets)
    INLINE_ITEMS = 8

    def fused_transforms(self, d: DestinationModel, keep: Any) -> list[Fused]:
        """The destination's first transforms that can be applied while its payload is
        built (value by value, as the projection copies them) instead of by a walk over the
        finished payload: unguarded, no ``*``, not a whole object the keep builds field by
        field, and no ``drop`` in between (a drop runs before the transforms).  Each is its
        trie and its function; the rest run afterwards, in order, as before."""
        if d.drops:
            return []
        out: list[Fused] = []
        for a in d.transforms:
            trie = rt.build_trie(p.segments for p in a.patterns)
            if a.guard is not None or not _fusable(keep, trie):
                break
            out.append((trie, self.transform_fn(a), a.origin))
        return out

    def projection(self, node: Any, src: str, dst: str, fused: Sequence[Fused] = ()) -> None:
        """Straight-line code for a keep trie (the same result as ``runtime.project``):
        kept values copied, objects on the way created, lists projected per element.
        ``fused`` transforms (see :meth:`fused_transforms`) are applied on the way."""
        w = self.w
        for key, child in node.children.items():
            k = self.const(key)
            x = f"x{next(self.counter)}"
            # the fused transforms that reach below this key: (their node here, function, rule)
            here = [(t.children[key], fn, origin) for t, fn, origin in fused if key in t.children]
            if child.whole:
                # JSON scalars are immutable: shared; containers are copied
                w(f"{x} = {src}.get({k}, _NO)")
                copy = f"{x} if {x}.__class__ is str or {x}.__class__ in _SC else _copy({x})"
                if not here:
                    w(f"if {x} is not _NO: {dst}[{k}] = {copy}")
                    continue
                with w.block(f"if {x} is not _NO:"):
                    w(f"{x} = {copy}")
                    for t, fn, origin in here:
                        with w.rule(origin):
                            w(f"# {_comment(origin.text)}  ({origin.at})")
                            w(f"{x} = {fn}({x})" if t.whole else f"_transform({x}, {self.const(t, '_t')}, {fn})")
                    w(f"{dst}[{k}] = {x}")
                continue
            w(f"{x} = {src}.get({k})")
            if child.wild is not None:
                with w.block(f"if {x}.__class__ is dict or {x}.__class__ is list:"):
                    w(f"{dst}[{k}] = _project({x}, {self.const(child, '_t')})")
                    self.transform_after(f"{dst}[{k}]", here)
                continue
            shared = self.shared.get(_trie_sig(child)) if self.shared and src == "e" else None
            with w.block(f"if {x}.__class__ is dict:"):
                if shared is not None:
                    w(f"{dst}[{k}] = {shared}({x})")
                    self.transform_after(f"{dst}[{k}]", here)
                else:
                    o = f"o{next(self.counter)}"
                    w(f"{dst}[{k}] = {o} = {{}}")
                    self.projection(child, x, o, here)
            with w.block(f"elif {x}.__class__ is list:"):
                if src != "e" and not self.large_payloads and _flat(child, self.INLINE_ITEMS):
                    # a list of objects (products[].sku): each element projected inline
                    out, item, o = f"l{next(self.counter)}", f"i{next(self.counter)}", f"o{next(self.counter)}"
                    w(f"{dst}[{k}] = {out} = []")
                    with w.block(f"for {item} in {x}:"):
                        with w.block(f"if {item}.__class__ is dict:"):
                            w(f"{o} = {{}}")
                            self.projection(child, item, o, here)
                            w(f"{out}.append({o})")
                        with w.block(f"elif {item}.__class__ is list:"):
                            w(f"{out}.append({o} := _project({item}, {self.const(child, '_t')}))")
                            self.transform_after(o, here)
                else:
                    w(f"{dst}[{k}] = _project({x}, {self.const(child, '_t')})")
                    self.transform_after(f"{dst}[{k}]", here)

    def transform_after(self, target: str, fused: Sequence[Fused]) -> None:
        """Fused transforms on a part of the payload built by runtime code: walked, in order."""
        for t, fn, origin in fused:
            with self.w.rule(origin):
                self.w(f"_transform({target}, {self.const(t, '_t')}, {fn})")

    def field_step(self, origin: Origin, guard: str | None, call: str) -> None:
        w = self.w
        with w.rule(origin):
            w(f"# {_comment(origin.text)}  ({origin.at})")
            if guard is None:
                w(call)
            elif guard != "False":
                w(f"if {guard}: {call}")

    def trie(self, a: FieldAction) -> str:
        return self.const(rt.build_trie(p.segments for p in a.patterns), "_t")

    def transform_fn(self, a: FieldAction) -> str:
        fn: Callable[[Any], Any]
        if a.kind == "hash":
            ref = a.option("salt")
            salt = self.salts.get(tuple(ref), "") if ref else ""
            fn = _bind(rt.hash_value, salt)
        elif a.kind == "redact":
            fn = _bind(rt.redact_value, a.option("marker"))
        elif a.kind == "truncate_ip":
            fn = _bind(rt.truncate_ip, a.option("v4"), a.option("v6"))
        elif a.kind == "truncate_length":
            fn = _bind(rt.truncate_length, a.option("length"))
        else:
            fn = _bind(rt.truncate_time, a.option("unit"))
        return self.const(fn, "_x")

    # ------------------------------------------------------------ module
    def module(self) -> Generated:
        w = self.w
        files = ", ".join(sorted(self.model.sources)) or "<string>"
        w("# RouteQL compiled rules: generated by routeql.codegen, do not edit.")
        w(f"# sources: {_comment(files)}")
        w(f"# destinations: {len(self.model.destinations)}")
        w()
        self.consent()
        generate_plans(self, self.model.plans)
        keys = self.decisions()
        w("# (type, name, shape) -> the decision function, for events that passed the envelope check")
        w("_DISPATCH = {}")
        w("# the consent states by the key of a rule set's only signal format (no regimes)")
        w("_ST1 = {}")
        w()
        self.dispatch_miss()
        self.fast()
        self.shared_projections()
        spans: dict[str, tuple[str, int, int]] = {}
        for d in self.model.destinations:
            first = len(w.lines) + 1
            self.payload(d)
            spans[d.name] = (f"p_{d.index}", first, len(w.lines) + 1)
        dests = self.model.destinations
        names = "(" + "".join(f"{self.const(d.name)}, " for d in dests) + ")"
        w(f"NAMES = {names}")
        table_line = len(w.lines) + 1
        w("PAYLOADS = {" + "".join(f"{self.const(d.name)}: p_{d.index}, " for d in dests) + "}")
        blocks = {p.name: {d.name: plan_modes(p, d) for d in dests} for p in self.model.plans}
        w(f"PLAN_MODES = {self.const(blocks, '_pm')}")
        self.constants["_ORDER"] = {d.name: d.index for d in dests}
        self.constants["_IGN"] = {d.name: d.integration_names for d in dests}
        return Generated("\n".join(w.lines) + "\n", self.constants, w.linemap, keys, spans, table_line)


def _mask_test(mask: int, any_: bool) -> str:
    """The test of consent bits in ``g`` (used for its truth only): all of them, or any.

    >>> _mask_test(8, False), _mask_test(6, True), _mask_test(6, False), _mask_test(0, False)
    ('g & 8', 'g & 6', '(g & 6) == 6', '(g & 0) == 0')
    """
    return f"g & {mask}" if _any_bit(mask, any_) else f"(g & {mask}) == {mask}"


def _any_bit(bits: int, any_: bool) -> bool:
    """Whether a test of ``bits`` holds when any of them is set (one bit alone: the same
    as all of them), rather than only when all are."""
    return any_ or (bits > 0 and not bits & (bits - 1))


def _mask_holds(mask: int, bits: int, any_: bool) -> bool:
    """What :func:`_mask_test` says of a state whose granted bits are ``mask``.

    >>> _mask_holds(0b1010, 0b0010, False), _mask_holds(0b1010, 0b0110, False), _mask_holds(0b1010, 0b0110, True)
    (True, False, True)
    """
    return bool(mask & bits) if _any_bit(bits, any_) else mask & bits == bits


def _typed_key(v: Any) -> Any:
    """A hashable key that tells apart values Python considers equal across types."""
    if type(v) is tuple:
        return (tuple, tuple(_typed_key(x) for x in v))
    if type(v) is frozenset:
        return (frozenset, frozenset(_typed_key(x) for x in v))
    return (type(v), v)


def _may_have_type(cond: Any, type_: str) -> bool:
    """False when a top-level conjunct of ``cond`` is ``type = "X"`` or ``type in [...]``
    excluding ``type_`` (a cheap pre-test; :func:`specialize` decides the rest).

    >>> from routeql.parse import parse_condition
    >>> c = _prep(parse_condition('type = "track" and x = 1'))
    >>> _may_have_type(c, "track"), _may_have_type(c, "page")
    (True, False)
    """
    for x in (cond.items if isinstance(cond, n.And) else (cond,)):
        if isinstance(x, n.Compare) and x.op == "=":
            for a, b in ((x.left, x.right), (x.right, x.left)):
                if isinstance(a, n.Path) and a.segments == ("type",) and isinstance(b, n.Literal) \
                        and b.value.__class__ is str and b.value != type_:
                    return False
        elif isinstance(x, n.In) and not x.negated and isinstance(x.left, n.Path) and x.left.segments == ("type",) \
                and isinstance(x.right, n.Literal) and isinstance(x.right.value, tuple) \
                and all(v.__class__ is str for v in x.right.value) and type_ not in x.right.value:
            return False
    return True


#: a transform applied while the payload is built: its trie (at the current key), its
#: function's constant name, its rule
Fused = tuple[Any, str, Origin]


def _fusable(keep: Any, t: Any) -> bool:
    """Whether transform trie ``t`` can be applied during the straight-line projection of
    ``keep``: no ``*`` in it, and never a whole object that the projection builds key by
    key (the transform of that object would have to wait for all of it)."""
    if t.wild is not None:
        return False
    for key, sub in t.children.items():
        k = keep.children.get(key)
        if k is None or k.whole:
            continue  # not kept (nothing to transform), or a kept value: transformed as it is copied
        if sub.whole or not _fusable(k, sub):
            return False
    return True


def _flat(t: Any, limit: int) -> bool:
    """A keep node whose elements keep only plain fields, at most ``limit`` of them."""
    return not t.whole and t.wild is None and 0 < len(t.children) <= limit and all(c.whole for c in t.children.values())


def _trie_sig(t: Any) -> Any:
    """A hashable picture of a keep trie (equal tries, equal pictures)."""
    return (t.whole, None if t.wild is None else _trie_sig(t.wild), tuple((k, _trie_sig(c)) for k, c in t.children.items()))


def _trie_size(t: Any) -> int:
    return 1 + sum(_trie_size(c) for c in t.children.values()) + (0 if t.wild is None else _trie_size(t.wild))


def _conditions(parts: list[tuple[str, Any, Any]]) -> Iterator[Any]:
    """The conditions inside specialised decision parts."""
    for kind, obj, _ in parts:
        if kind == "when":
            yield obj
        elif obj[1] is not None:
            yield obj[1]


def _prep(e: Any) -> Any:
    for p in PASSES:
        e = p(e)
    return e


def _bind(fn: Callable[..., Any], *args: Any) -> Callable[[Any], Any]:
    return lambda v: fn(v, *args)


def generate(model: Model, resolver: Resolver | None, salts: Mapping[tuple[str, str], str]) -> Generated:
    """Generate the Python module for a checked model."""
    gen = _Gen(model, resolver, salts)
    out = gen.module()
    # the generator stays, to specialise decision functions at routing time: without the
    # module's lines (they are in out.source now) and what only loading needed
    gen.w = _Writer()
    gen._prepared.clear()
    gen._keep_tries.clear()
    gen.shared.clear()
    out.specialise = gen.specialised_source
    return out
