"""Plan AST -> checked PlanModels, and the plan's types applied to rule conditions.

Called by :mod:`routeql.check` (which owns the error reporting): plans are checked like
everything else (every problem at once, codes, positions, hints), and once checked,
their field types let the checker catch conditions that can never hold, such as
``properties.revenue = "10"`` when the plan says revenue is a number.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterable

from . import nodes as n
from .errors import did_you_mean
from .plans import ENTRY_ROOTS, FORMATS, MODES, EntryModel, FieldRule, PlanModel, TypeRule, iter_fields
from .runtime import compile_regex, eq, typeof

if TYPE_CHECKING:
    from .check import _Checker

__all__ = ["check_plans", "check_dest_plan", "PlanTypes"]

_TYPE_OF_LITERAL = {"string": {"string"}, "number": {"number", "integer"}, "bool": {"boolean"}, "null": {"null"},
                    "list": {"array"}}




def check_mode(c: "_Checker", setting: n.PlanSetting) -> bool:
    allowed, _ = MODES[setting.target]
    if setting.mode not in allowed:
        guess = did_you_mean(setting.mode, allowed)
        what = {"events": "unplanned events", "properties": "unplanned properties", "violations": "violations"}
        c.error("RQ315", f"'{setting.mode}' is not a mode for {what[setting.target]}", setting.span,
                f"did you mean '{guess}'?" if guess else "modes: " + ", ".join(allowed))
        return False
    return True


def check_plans(c: "_Checker", plans: list[n.Plan]) -> tuple[PlanModel, ...]:
    out: list[PlanModel] = []
    names: dict[str, n.Plan] = {}
    for i, p in enumerate(plans):
        name = p.name or (f"plan#{i + 1}" if len(plans) > 1 else "plan")
        if name in names:
            c.duplicate("tracking plan", name, p, names[name])
            continue
        names[name] = p
        when = c.condition(p.when) if p.when is not None else None
        modes = {t: MODES[t][1] for t in MODES}
        seen_settings: set[str] = set()
        common: EntryModel | None = None
        entries: list[EntryModel] = []
        index: dict[tuple[str, str | None], EntryModel] = {}
        for item in p.items:
            if isinstance(item, n.PlanSetting):
                if item.target in seen_settings:
                    c.warn("RQ314", f"this plan sets '{item.target}' twice; the last one counts", item.span)
                seen_settings.add(item.target)
                if check_mode(c, item):
                    modes[item.target] = item.mode
            elif isinstance(item, n.PlanEntry):
                entry = check_entry(c, name, item)
                if entry is None:
                    continue
                if item.kind == "common":
                    if common is not None:
                        c.error("RQ316", f"plan '{name}' has more than one common entry", item.span,
                                "merge them into one `common { ... }`")
                    common = entry
                    continue
                key = (entry.kind, entry.name)
                if key in index:
                    c.error("RQ200", f"duplicate plan entry {entry.label}", item.span,
                            "each event appears once in a plan", notes=(f"first defined at {index[key].origin.at}",))
                    continue
                index[key] = entry
                entries.append(entry)
        out.append(PlanModel(name, when, c.origin("plan", name, p), modes["events"], modes["properties"],
                             modes["violations"], common, tuple(entries), index))
    return tuple(out)


def check_entry(c: "_Checker", plan: str, e: n.PlanEntry) -> EntryModel | None:
    if e.kind == "track" and e.name is None:
        c.error("RQ316", "a track entry needs the event name", e.span, 'write: track "Order Completed" { ... }')
        return None
    if e.kind in ("identify", "group", "common") and e.name is not None:
        c.error("RQ316", f"{e.kind} entries have no name", e.span, f"write: {e.kind} {{ ... }}")
        return None
    fields = check_fields(c, plan, e.fields, top=True)
    return EntryModel(e.kind, e.name, fields, c.origin("plan", plan, e), e.description)


def check_fields(c: "_Checker", plan: str, specs: Iterable[n.FieldSpec], *, top: bool = False) -> tuple[FieldRule, ...]:
    out: list[FieldRule] = []
    seen: dict[tuple[str, ...], n.FieldSpec] = {}
    for f in specs:
        segs = f.path.segments
        if any(not isinstance(s, str) for s in segs):
            c.error("RQ310", "a field in a plan is a plain path: no wildcards or indexes", f.path.span,
                    "describe list items with `array of ...`")
            continue
        path = tuple(str(s) for s in segs)
        if path in seen:
            c.error("RQ200", f"duplicate field '{f.path}' in this entry", f.span,
                    notes=(f"first defined at {seen[path].span}",))
            continue
        seen[path] = f
        rule = check_field(c, plan, f, path)
        if rule is not None:
            out.append(rule)
    return tuple(out)


def _type_rule(c: "_Checker", plan: str, t: n.TypeSpec) -> TypeRule:
    fields = check_fields(c, plan, t.fields) if t.fields is not None else None
    items = _type_rule(c, plan, t.items) if t.items is not None else None
    return TypeRule(t.name, fields, items, t.description)


def check_field(c: "_Checker", plan: str, f: n.FieldSpec, path: tuple[str, ...]) -> FieldRule | None:
    types = tuple(_type_rule(c, plan, t) for t in f.types)
    names = {t.name for t in types}
    ok = True
    numeric = bool(names & {"number", "integer", "any"})
    sized = bool(names & {"string", "array", "any"})
    textual = bool(names & {"string", "any"})
    for op, _ in f.ranges:
        if op in ("=", "==", "!="):
            c.error("RQ317", f"'{op}' is not a range", f.span, "ranges use >= > <= <; fixed values use `in [ ... ]`")
            ok = False
    if f.ranges and not numeric:
        c.error("RQ317", f"ranges apply to numbers, and '{f.path}' is {' or '.join(sorted(names))}", f.span)
        ok = False
    for op, _ in f.lengths:
        if op in ("=", "==", "!="):
            c.error("RQ317", f"'length {op}' is not a bound", f.span, "write length >= N and length <= N")
            ok = False
    if f.lengths and not sized:
        c.error("RQ317", f"length applies to strings and arrays, and '{f.path}' is {' or '.join(sorted(names))}", f.span)
        ok = False
    if f.pattern is not None:
        if not textual:
            c.error("RQ317", f"a pattern applies to strings, and '{f.path}' is {' or '.join(sorted(names))}", f.span)
            ok = False
        else:
            try:
                compile_regex(f.pattern)
            except Exception as ex:  # re2.error
                detail = ex.args[0] if ex.args else ex
                if isinstance(detail, bytes):
                    detail = detail.decode("utf-8", "replace")
                c.error("RQ303", f"invalid regex pattern: {detail}", f.span,
                        "RE2 syntax; lookarounds and backreferences are not supported")
                ok = False
    if f.format is not None:
        if f.format not in FORMATS:
            guess = did_you_mean(f.format.replace("-", "_"), FORMATS)
            c.error("RQ317", f"unknown format '{f.format}'", f.span,
                    f"did you mean '{guess}'?" if guess else "formats: " + ", ".join(sorted(FORMATS)))
            ok = False
        elif not textual:
            c.error("RQ317", f"a format applies to strings, and '{f.path}' is {' or '.join(sorted(names))}", f.span)
            ok = False
    enum: tuple[Any, ...] | None = None
    if f.enum is not None:
        resolved = c.expr(f.enum)
        if isinstance(resolved, n.Literal) and isinstance(resolved.value, tuple):
            enum = resolved.value
            if "any" not in names:
                for v in enum:
                    if not (_TYPE_OF_LITERAL.get(typeof(v), set()) & names):
                        c.error("RQ301", f"allowed value {v!r} is not {' or '.join(sorted(names))}", f.span)
                        ok = False
                        break
        else:
            ok = False
    if not ok:
        return None
    return FieldRule(path, f.required, types, c.origin("plan", plan, f), enum, f.ranges, f.lengths,
                     f.pattern, f.format, f.description)


def check_dest_plan(c: "_Checker", st: n.DestPlan, has_plans: bool) -> tuple[str, str] | None:
    if not has_plans:
        c.warn("RQ316", "this destination sets how to handle a tracking plan, but the rule set has none", st.span)
    if check_mode(c, st.setting):
        return (st.setting.target, st.setting.mode)
    return None


# ------------------------------------------------------------------ plan types in conditions


class PlanTypes:
    """The plans' field types, to check conditions on ``properties`` and ``traits``."""

    def __init__(self, plans: tuple[PlanModel, ...]) -> None:
        self.plans = plans
        #: (plan index, kind, name) -> {full path: FieldRule}
        self.fields: dict[tuple[int, str, str | None], dict[tuple[str, ...], FieldRule]] = {}
        self.common: dict[int, dict[tuple[str, ...], FieldRule]] = {}
        #: what each plan's own condition pins down (path -> allowed values)
        self.scope: list[dict[tuple[Any, ...], set[str]]] = []
        for i, p in enumerate(plans):
            for e in p.entries:
                table = self.fields.setdefault((i, e.kind, e.name), {})
                for path, rule in iter_fields(e.fields):
                    table[ENTRY_ROOTS[e.kind] + path] = rule
            self.common[i] = {path: rule for path, rule in iter_fields(p.common.fields)} if p.common else {}
            pinned: dict[tuple[Any, ...], set[str]] = {}
            for x in (p.when.items if isinstance(p.when, n.And) else [p.when] if p.when is not None else []):
                for path, values in _allowed(x):
                    pinned[path] = pinned[path] & values if path in pinned else values
            self.scope.append(pinned)

    def entries_for(self, conjuncts: list[Any]) -> list[tuple[int, str, str | None]] | None:
        """The plan entries events satisfying these conditions can match (None: unknown).

        A plan whose own condition contradicts the conditions (another source, say) is out."""
        pinned: dict[tuple[Any, ...], set[str]] = {}
        for x in conjuncts:
            for path, values in _allowed(x):
                pinned[path] = pinned[path] & values if path in pinned else values
        types, events = pinned.get(("type",)), pinned.get(("event",))
        plans = [i for i, scope in enumerate(self.scope)
                 if not any(path in pinned and not (pinned[path] & values) for path, values in scope.items())]
        if events is not None and (types is None or types == {"track"}):
            return [(i, "track", e) for i in plans for e in events]
        if types is not None and types <= {"identify", "group"}:
            return [(i, t, None) for i in plans for t in types]
        return None

    def lookup(self, entries: list[tuple[int, str, str | None]], path: tuple[Any, ...]) -> tuple[list[FieldRule], bool]:
        """(rules for the path in any of the entries, whether every entry is planned)."""
        found = []
        planned = True
        for key in entries:
            if path[0] != ENTRY_ROOTS[key[1]][0]:
                continue  # traits on a track event, properties on an identify: not the entry's
            table = self.fields.get(key)
            if table is None:
                planned = False
                continue
            rule = table.get(path)
            if rule is not None:
                found.append(rule)
        for i in {key[0] for key in entries}:
            rule = self.common[i].get(path)
            if rule is not None:
                found.append(rule)
        if not any(path[0] == ENTRY_ROOTS[key[1]][0] for key in entries):
            planned = False  # no entry covers this root: nothing to say
        return found, planned

    def known_paths(self, entries: list[tuple[int, str, str | None]], root: str) -> list[str]:
        out = []
        for key in entries:
            for path in self.fields.get(key, {}):
                if path and path[0] == root:
                    out.append(".".join(path))
        return out


def _allowed(x: Any) -> list[tuple[tuple[Any, ...], set[str]]]:
    if isinstance(x, n.Compare) and x.op == "=" and isinstance(x.left, n.Path) and isinstance(x.right, n.Literal) \
            and isinstance(x.right.value, str):
        return [(x.left.segments, {x.right.value})]
    if isinstance(x, n.In) and not x.negated and isinstance(x.left, n.Path) and isinstance(x.right, n.Literal) \
            and isinstance(x.right.value, tuple) and all(isinstance(v, str) for v in x.right.value):
        return [(x.left.segments, set(x.right.value))]
    if isinstance(x, n.And):
        return [a for item in x.items for a in _allowed(item)]
    return []


def check_condition_types(c: "_Checker", types: PlanTypes, conjuncts: list[Any], exprs: list[Any]) -> None:
    """Within a destination whose conditions pin down the planned events, check each
    comparison of a planned field with a literal against the plan's types and values."""
    entries = types.entries_for(conjuncts)
    if not entries:
        return
    labels = ", ".join(dict.fromkeys(f'{k} "{nm}"' if nm else k for _, k, nm in entries))
    for expr in exprs:
        for x in n.walk(expr):
            pairs: list[tuple[n.Path, list[Any], Any]] = []
            if isinstance(x, n.Compare) and x.op in ("=", "!=", "<", "<=", ">", ">="):
                for a, b in ((x.left, x.right), (x.right, x.left)):
                    if isinstance(a, n.Path) and isinstance(b, n.Literal):
                        pairs.append((a, [b.value], x))
            elif isinstance(x, n.In) and isinstance(x.left, n.Path) and isinstance(x.right, n.Literal) \
                    and isinstance(x.right.value, tuple):
                pairs.append((x.left, list(x.right.value), x))
            elif isinstance(x, n.Exists) and isinstance(x.operand, n.Path):
                pairs.append((x.operand, [], x))
            for path, values, node in pairs:
                segs = path.segments
                if not segs or segs[0] not in ("properties", "traits") or len(segs) < 2:
                    continue
                if any(not isinstance(s, str) for s in segs):
                    continue
                rules, planned = types.lookup(entries, segs)
                if not rules:
                    if planned:
                        guess = did_you_mean(str(path), types.known_paths(entries, str(segs[0])))
                        c.warn("RQ318", f"'{path}' is not in the tracking plan for {labels}", path.span,
                               f"did you mean '{guess}'?" if guess else "add it to the plan, or fix the name")
                    continue
                for v in values:
                    vt = typeof(v)
                    if vt == "null":
                        continue
                    if not any(_TYPE_OF_LITERAL.get(vt, set()) & r.type_names or "any" in r.type_names for r in rules):
                        want = " or ".join(sorted({t for r in rules for t in r.type_names}))
                        c.error("RQ301", f"'{path}' is {want} in the tracking plan, never {vt}", node.span,
                                "RouteQL never converts between types")
                        break
                    enums = [r.enum for r in rules if r.enum is not None]
                    if enums and len(enums) == len(rules) and isinstance(node, (n.Compare, n.In)) \
                            and (not isinstance(node, n.Compare) or node.op in ("=", "!=")) \
                            and not any(any(eq(v, e) for e in en) for en in enums):
                        allowed = sorted({repr(e) for en in enums for e in en})
                        c.error("RQ302", f"{v!r} is not an allowed value of '{path}' in the tracking plan", node.span,
                                "allowed: " + ", ".join(allowed[:10]))
                        break
