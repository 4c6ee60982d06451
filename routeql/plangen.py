"""Plan models -> Python validators, generated into the rules' module like predicates.

``plan(e)`` picks the plan (the first whose ``when`` holds) and returns a
:class:`~routeql.plans.PlanResult`; a clean event returns a constant, so the common
case allocates nothing.  Each entry gets a straight-line function that reads each
planned field once; nested objects and array items get their own functions.  The
messages come from :func:`routeql.plans.make_violation`, as in the reference validator
(:func:`routeql.plans.validate`), which the compiled one must agree with.
"""

from __future__ import annotations

import contextlib

import itertools
from typing import TYPE_CHECKING, Any, Callable

from .plans import (CURRENCIES, FORMATS, VALID, EntryModel, FieldRule, PlanModel, PlanResult, TypeRule, json_type,
                    make_violation, remembering)
from .runtime import compile_regex

if TYPE_CHECKING:
    from .codegen import _Gen

__all__ = ["generate_plans", "PLAN_RUNTIME"]


def _add(v: Any, item: Any) -> list[Any]:
    if v is None:
        return [item]
    v.append(item)
    return v


#: a value's path in generated code: the expression of a prefix known only at run time
#: (the index of an array element; None if none), then the static rest of the path
Segs = tuple["str | None", tuple[Any, ...]]

_ABSENT = object()


def violation_adder(table: list[tuple[str, tuple[Any, ...], FieldRule, str, Any]]) -> Callable[..., list[Any]]:
    """``add(v, k, x, prefix)``: record violation ``table[k]`` (kind, path, rule, plan,
    detail) in ``v``.  Generated validators call it with the entry's index only, so each
    check's failure branch is one short call: the code that runs when nothing is wrong
    stays compact.  ``x``, the value, is given for a type error (its JSON type is in the
    message); ``prefix``, for a value in an array (the path up to the element's index)."""
    def add(v: list[Any] | None, k: int, x: Any = _ABSENT, prefix: tuple[Any, ...] = ()) -> list[Any]:
        kind, segs, rule, plan, detail = table[k]
        if x is not _ABSENT:
            detail = json_type(x)
        return _add(v, make_violation(kind, prefix + segs if prefix else segs, rule, plan, detail))

    return add


#: helpers the generated validators call (the module has no builtins)
PLAN_RUNTIME: dict[str, Any] = {
    "_padd": _add,
    "_plen": len,
    "_penum": enumerate,
    "_PR": PlanResult,
    "_ptuple": tuple,
}


class _PlanGen:
    def __init__(self, gen: "_Gen") -> None:
        self.g = gen
        self.w = gen.w
        self.ids = itertools.count()
        self.table: list[tuple[str, tuple[Any, ...], FieldRule, str, Any]] = []
        self.adder: str | None = None

    def const(self, value: Any, prefix: str = "_pk") -> str:
        return self.g.const(value, prefix)

    def violation(self, kind: str, segs: Segs, rule: FieldRule, plan: str, detail: Any = None,
                  value: str | None = None) -> str:
        """The statement recording one violation: a call with the table index (see
        :func:`violation_adder`)."""
        if self.adder is None:
            self.adder = self.const(violation_adder(self.table), "_pv")
        self.table.append((kind, segs[1], rule, plan, detail))
        args = [str(len(self.table) - 1)]
        if value is not None:
            args.append(value)
        if segs[0] is not None:
            args.append(f"prefix={segs[0]}")
        return f"v = {self.adder}(v, {', '.join(args)})  # {kind}"

    # ------------------------------------------------------------ one value
    def type_test(self, t: TypeRule, x: str) -> str:
        return {
            "any": "True",
            "string": f"{x}.__class__ is str",
            "number": f"({x}.__class__ is int or {x}.__class__ is float)",
            "integer": f"({x}.__class__ is int or ({x}.__class__ is float and {x}.is_integer()))",
            "boolean": f"{x}.__class__ is bool",
            "null": f"{x} is None",
            "object": f"{x}.__class__ is dict",
            "array": f"{x}.__class__ is list",
        }[t.name]

    def value_checks(self, rule: FieldRule, x: str, segs: Segs, plan: str, missing: str | None = None) -> None:
        """Checks of a value at path ``segs``.

        With ``missing`` (the field's presence is not tested yet: ``x`` may be ``_NO``),
        the type test comes first, and the value's absence is looked at only when it
        fails: ``missing`` is the statement for an absent field ("" for none).  A
        well-formed field then costs one read and one class test.
        """
        w = self.w
        tests = [self.type_test(t, x) for t in rule.types]
        if "True" not in tests:
            type_error = self.violation("type", segs, rule, plan, value=x)  # (a table entry only when it can happen)
            with w.block(f"if not ({' or '.join(tests)}):"):  # _NO is of no JSON type: absence fails here too
                if missing is None:
                    w(type_error)
                elif missing:
                    with w.block(f"if {x} is _NO:"):
                        w(missing)
                    with w.block("else:"):
                        w(type_error)
                else:
                    with w.block(f"if {x} is not _NO:"):
                        w(type_error)
            opener: str | None = "else:"
        elif missing:  # any type: only presence to test
            with w.block(f"if {x} is _NO:"):
                w(missing)
            opener = "else:"
        else:
            opener = None if missing is None else f"if {x} is not _NO:"

        # the type test passed: with one declared type, the class guards below are known true
        names = {t.name for t in rule.types} if "True" not in tests else set()
        only_str = names == {"string"}
        only_num = bool(names) and names <= {"number", "integer"}

        def guarded(test: str, skip: bool) -> Any:
            return w.block(f"if {test}:") if not skip else contextlib.nullcontext()

        def body() -> None:
            if rule.enum is not None:
                vals = rule.enum
                if vals and all(type(e) is str for e in vals):
                    test = f"{x} in {self.const(frozenset(vals), '_ps')}"
                    if not only_str:
                        test = f"{x}.__class__ is str and {test}"
                else:
                    test = f"_in({x}, {self.const(vals)})"
                with w.block(f"if not ({test}):"):
                    w(self.violation("enum", segs, rule, plan))
            if rule.ranges:
                with guarded(f"{x}.__class__ is int or {x}.__class__ is float", only_num):
                    for op, bound in rule.ranges:
                        with w.block(f"if not ({x} {op} {self.const(bound)}):"):
                            w(self.violation("range", segs, rule, plan, (op, bound)))
            if rule.lengths:
                with guarded(f"{x}.__class__ is str or {x}.__class__ is list", only_str):
                    if len(rule.lengths) == 1:
                        op, bound = rule.lengths[0]
                        # length >= 1 of a string or a list: its truth
                        tests_ = [f"not {x}" if (op, bound) == (">=", 1) else f"not (_plen({x}) {op} {bound})"]
                    else:
                        w(f"n = _plen({x})")
                        tests_ = [f"not (n {op} {bound})" for op, bound in rule.lengths]
                    for (op, bound), test in zip(rule.lengths, tests_):
                        with w.block(f"if {test}:"):
                            w(self.violation("length", segs, rule, plan, (op, bound)))
            if rule.pattern is not None or rule.format is not None:
                with guarded(f"{x}.__class__ is str", only_str):
                    if rule.pattern is not None:
                        rx = self.const(compile_regex(rule.pattern), "_prx")
                        with w.block(f"if {rx}.search({x}) is None:"):
                            w(self.violation("pattern", segs, rule, plan))
                    if rule.format is not None:
                        if rule.format == "currency":  # a set lookup already: inline, no call
                            test = f"{x} in {self.const(CURRENCIES, '_pcur')}"
                        elif rule.format in VALID:  # valid strings seen before, else the check (which remembers)
                            memo = self.const(VALID[rule.format], "_pvalid")
                            test = f"({x} in {memo} or {self.const(remembering(rule.format), '_pfmt')}({x}))"
                        else:
                            test = f"{self.const(FORMATS[rule.format], '_pfmt')}({x})"
                        with w.block(f"if not {test}:"):
                            w(self.violation("format", segs, rule, plan))
            # (a single declared type has passed its test: the structure needs no test again)
            self.nested(rule, x, segs, plan, known=len(rule.types) == 1 and "True" not in tests)

        if opener:
            with w.block(opener):
                body()
        else:
            body()

    def nested(self, rule: FieldRule, x: str, segs: Segs, plan: str, known: bool = False) -> None:
        """Object fields and array items: by the first type that matches (as the reference).
        ``known``: ``x`` is of the rule's one type already."""
        w = self.w
        structured = [t for t in rule.types if (t.name == "object" and t.fields is not None)
                      or (t.name == "array" and t.items is not None)]
        if not structured:
            return
        first = True
        for t in rule.types:  # the first matching type decides
            test = self.type_test(t, x)
            kw = "if" if first else "elif"
            first = False
            if t in structured:
                # inline: a path is built only for a violation (not per element, per call)
                with (contextlib.nullcontext() if known else w.block(f"{kw} {test}:")):
                    if t.name == "object":
                        assert t.fields is not None
                        self.fields_fn_body(t.fields, x, segs, plan, obj_is_dict=True)
                    else:
                        assert t.items is not None
                        item = FieldRule((), True, (t.items,), rule.origin)
                        i, y = f"i{next(self.ids)}", f"y{next(self.ids)}"
                        with w.block(f"for {i}, {y} in _penum({x}):"):
                            # the element's path: known at run time only (its index)
                            self.value_checks(item, y, (f"{self.segs_expr(segs)} + ({i},)", ()), plan)
            else:
                if test == "True":
                    break
                with w.block(f"{kw} {test}:"):
                    pass  # this type matches first: no structure to check

    # ------------------------------------------------------------ functions
    def segs_expr(self, segs: Segs) -> str:
        """Python for a path's segments (a tuple)."""
        dyn, static = segs
        if dyn is None:
            return self.const(static)
        return f"({dyn})" if not static else f"({dyn}) + {self.const(static)}"

    def fields_fn_body(self, fields: tuple[FieldRule, ...], obj: str, prefix: Segs, plan: str,
                       obj_is_dict: bool = False) -> None:
        """Checks of ``fields`` under ``obj`` (known to be a dict when ``obj_is_dict``)."""
        w = self.w
        parents: dict[tuple[str, ...], str] = {}  # objects on the way, each read once
        for f in fields:
            w(f"# {'required' if f.required else 'optional'} {'.'.join(f.path)}  ({f.origin.at})")
            x = f"x{next(self.ids)}"
            src, known = obj, obj_is_dict
            for depth, k in enumerate(f.path[:-1], start=1):
                tmp = parents.get(f.path[:depth])
                if tmp is None:
                    # a parent that is missing or not an object reads as {}: what is under it is missing
                    tmp = parents[f.path[:depth]] = f"o{next(self.ids)}"
                    get = f"{src}.get({self.const(k)})"
                    w(f"{tmp} = {get}" if known else f"{tmp} = {get} if {src}.__class__ is dict else None")
                    w(f"if {tmp}.__class__ is not dict: {tmp} = _E")
                src, known = tmp, True
            get = f"{src}.get({self.const(f.path[-1])}, _NO)"
            w(f"{x} = {get}" if known else f"{x} = {get} if {src}.__class__ is dict else _NO")
            segs = (prefix[0], prefix[1] + f.path)
            missing = self.violation("required", segs, f, plan) if f.required else ""
            self.value_checks(f, x, segs, plan, missing)

    def entry_fn(self, plan: PlanModel, e: EntryModel) -> str:
        w = self.w
        name = f"pe_{next(self.ids)}"
        with w.block(f"def {name}(e, v):"):
            w(f"# plan {plan.name}: {e.label}  ({e.origin.at})")
            root = "e"
            for k in e.root:
                tmp = f"r{next(self.ids)}"
                w(f"{tmp} = {root}.get({self.const(k)})")
                w(f"if {tmp}.__class__ is not dict: {tmp} = _E")
                root = tmp
            self.fields_fn_body(e.fields, root, (None, e.root), plan.name, obj_is_dict=True)
            declared = frozenset(f.path[0] for f in e.fields)
            pname, label = self.const(plan.name), self.const(e.label)
            clean = self.const(PlanResult(plan.name, True, e.label), "_pclean")
            with w.block(f"if {self.const(declared, '_ps')}.issuperset({root}):"):
                w(f"return {clean} if v is None else _PR({pname}, True, {label}, _ptuple(v), ())")
            w("u = None")
            with w.block(f"for k in {root}:"):
                with w.block(f"if k not in {self.const(declared, '_ps')}:"):
                    w(f"u = _padd(u, {self.const(e.root)} + (k,))")
            w(f"return _PR({pname}, True, {label}, () if v is None else _ptuple(v), _ptuple(u))")
        w()
        return name

    def plan_fn(self, i: int, plan: PlanModel) -> str:
        w = self.w
        entry_fns = {key: self.entry_fn(plan, e) for key, e in plan.index.items()}

        def hit(key: tuple[str, str | None]) -> str:
            """The entry's function: it takes the event and the common fields' violations
            and returns the plan's verdict."""
            return entry_fns[key]

        # dispatch tables, at module level: built once, after the functions they hold
        tables: dict[str, str] = {}
        for kind, field in (("track", "event"), ("page", "name"), ("screen", "name")):
            named = [k for k in entry_fns if k[0] == kind and k[1] is not None]
            if named:
                table = f"_PT_{i}_{kind}"
                w(f"{table} = {{" + ", ".join(f"{self.const(k[1])}: {hit(k)}" for k in named) + "}")
                tables[kind] = table
        w()
        name = f"pl_{i}"
        pname = self.const(plan.name)
        with w.block(f"def {name}(e):"):
            w(f"# plan {plan.name}  ({plan.origin.at})")
            w("v = None")
            if plan.common is not None:
                w("# common fields")
                self.fields_fn_body(plan.common.fields, "e", (None, ()), plan.name, obj_is_dict=True)
            w("t = e['type']")
            with w.block("if t == 'track':"):
                w(f"hit = {tables['track']}.get(e.get('event'))" if "track" in tables else "hit = None")
                with w.block("if hit is None:"):
                    unplanned = self.const(PlanResult(plan.name, False, None), "_pclean")
                    w(f"return {unplanned} if v is None else _PR({pname}, False, None, _ptuple(v), ())")
            for kind in ("identify", "group"):
                if (kind, None) in entry_fns:
                    with w.block(f"elif t == {kind!r}:"):
                        w(f"hit = {hit((kind, None))}")
            for kind in ("page", "screen"):
                default = hit((kind, None)) if (kind, None) in entry_fns else "None"
                if kind in tables or default != "None":
                    with w.block(f"elif t == {kind!r}:"):
                        w(f"hit = {tables[kind]}.get(e.get('name'), {default})" if kind in tables else f"hit = {default}")
            with w.block("else:"):
                w("hit = None")
            with w.block("if hit is None:"):
                clean = self.const(PlanResult(plan.name, True, None), "_pclean")
                w(f"return {clean} if v is None else _PR({pname}, True, None, _ptuple(v), ())")
            w("return hit(e, v)")
        w()
        return name


def generate_plans(gen: "_Gen", plans: tuple[PlanModel, ...]) -> None:
    """Emit ``plan(e)`` (and its helpers) into the module being generated."""
    w = gen.w
    pg = _PlanGen(gen)
    fns = [pg.plan_fn(i, p) for i, p in enumerate(plans)]
    with w.block("def plan(e):"):
        w("# the tracking plan that applies, and what it says of the event")
        if not plans:
            w("return None")
        else:
            vars = gen.reads([p.when for p in plans if p.when is not None])
            from .codegen import _prep

            for p, fn in zip(plans, fns):
                cond = "True" if p.when is None else gen.cond(_prep(p.when), vars)
                with w.block(f"if {cond}:"):
                    w(f"return {fn}(e)")
            w("return None")
    w()
    if len(plans) == 1 and plans[0].when is None:
        w(f"plan = {fns[0]}  # one plan for every event: no call in between")
        w()
