"""AST -> model + diagnostics: names, types, consent, contradictions.

:func:`check` reads every module of a rule set, reports *every* problem at once (each
with a stable code, a position and a hint), and, when there is no error, returns the
:class:`~routeql.model.Model` both engines run.

>>> from routeql.parse import parse
>>> model, diags = check([parse('destination a { when purchse }', "a.rq")])
>>> [d.code for d in diags]
['RQ204']
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any, Iterable, Sequence

from . import nodes as n
from .codes import CODES
from .consent.signals import FORMATS
from .errors import Diagnostic, Span, did_you_mean
from .model import (
    CategoryModel, ConsentModel, ConsentReq, DestinationModel, EventPolicy, FieldAction,
    FieldPolicy, Model, Origin, Pattern, RegimeModel, SampleRule, SourceModel,
)
from .passes import fold, normalize
from .plancheck import PlanTypes, check_condition_types, check_dest_plan, check_plans
from .runtime import EVENT_TYPES, FUNCTIONS, compile_glob, compile_regex, typeof

__all__ = ["check", "ENVELOPE_TYPES", "COMPAT_MODES", "HASH_ALGORITHMS", "TIME_UNITS"]

#: What the Segment spec says top-level fields hold, for type checks visible in a rule.
ENVELOPE_TYPES: dict[str, frozenset[str]] = {
    "type": frozenset({"string"}), "event": frozenset({"string", "null"}), "name": frozenset({"string", "null"}),
    "messageId": frozenset({"string", "number", "null"}), "userId": frozenset({"string", "number", "null"}),
    "anonymousId": frozenset({"string", "number", "null"}), "groupId": frozenset({"string", "number", "null"}),
    "previousId": frozenset({"string", "number", "null"}), "timestamp": frozenset({"string", "null"}),
    "sentAt": frozenset({"string", "null"}), "receivedAt": frozenset({"string", "null"}),
    "originalTimestamp": frozenset({"string", "null"}), "properties": frozenset({"object", "null"}),
    "traits": frozenset({"object", "null"}), "context": frozenset({"object", "null"}),
    "integrations": frozenset({"object", "null"}),
}
COMPAT_MODES = ("segment",)
HASH_ALGORITHMS = ("sha256",)
TIME_UNITS = ("year", "month", "day", "hour", "minute")
_ALL_TYPES = frozenset({"string", "number", "bool", "null", "list", "object"})


class _Poison(n.Node):
    """Stands in for a sub-expression that already has an error (no cascading reports)."""

    __slots__ = ()


_POISON = _Poison()




class _Lines(dict):  # type: ignore[type-arg]
    """file -> its lines, split once (a rule set asks for thousands of origins)."""

    def __init__(self, sources: dict[str, str]) -> None:
        super().__init__()
        self.sources = sources

    def __missing__(self, file: str) -> list[str] | None:
        text = self.sources.get(file)
        self[file] = lines = None if text is None else text.split("\n")
        return lines


def _source_line(lines_of: _Lines, span: Span) -> str | None:
    lines = lines_of[span.file]
    if lines is None or span.line <= 0:
        return None
    return lines[span.line - 1] if span.line <= len(lines) else None


#: ``[*]`` followed by more of the path (``products[*].sku``)
_STAR_THEN_MORE = re.compile(r"\[\s*\*\s*\](?=\s*[.\[])")


def _one_line(lines_of: _Lines, span: Span) -> str:
    """The source text of a node, squeezed onto one line (for traces)."""
    lines = lines_of[span.file]
    if lines is None or span.line <= 0:
        return ""
    if span.end_line == span.line:
        return lines[span.line - 1][span.col - 1: span.end_col - 1].strip()
    chunk = [lines[span.line - 1][span.col - 1:]] + lines[span.line: span.end_line - 1] + [lines[span.end_line - 1][: span.end_col - 1]]
    return " ".join(part.strip() for part in chunk if part.strip())


class _Checker:
    def __init__(self, modules: Sequence[n.Module], sources: dict[str, str]) -> None:
        self.modules = modules
        self.sources = sources
        self.lines = _Lines(sources)
        self.diags: list[Diagnostic] = []
        self.categories: dict[str, n.Category] = {}
        self.classes: dict[str, n.ClassDef] = {}
        self.class_roots: set[str] = set()
        self.defines: dict[str, n.Define] = {}
        self.lists: dict[str, n.ListDefine] = {}
        self.destinations: dict[str, n.Destination] = {}
        self.policies: dict[str, n.Policy] = {}
        self.tags: dict[str, list[str]] = {}
        self.resolved_defines: dict[str, Any] = {}
        self.has_consent = False
        self.plan_nodes: list[n.Plan] = []
        self.plan_types: PlanTypes | None = None
        self.resolving: list[str] = []

    # ------------------------------------------------------------ reporting
    def error(self, code: str, message: str, span: Span, hint: str | None = None, *, severity: str = "error",
              notes: tuple[str, ...] = ()) -> None:
        assert code in CODES, code
        self.diags.append(Diagnostic(code, message, span, severity, _source_line(self.lines, span), hint, notes))

    def warn(self, code: str, message: str, span: Span, hint: str | None = None) -> None:
        self.error(code, message, span, hint, severity="warning")

    def origin(self, kind: str, owner: str, node: n.Node) -> Origin:
        return Origin(kind, owner, _one_line(self.lines, node.span), node.span)

    def unknown(self, code: str, what: str, name: str, span: Span, pool: Iterable[str], hint: str | None = None) -> None:
        guess = did_you_mean(name, pool)
        self.error(code, f"unknown {what} '{name}'", span, f"did you mean '{guess}'?" if guess else hint)

    def duplicate(self, what: str, name: str, node: n.Node, first: n.Node) -> None:
        self.error("RQ200", f"duplicate {what} '{name}'", node.span, "names are global across the rule set; rename one",
                   notes=(f"first defined at {first.span}",))

    # ------------------------------------------------------------ collect
    def collect(self) -> list[n.ConsentBlock]:
        consent_blocks: list[n.ConsentBlock] = []
        for module in self.modules:
            for decl in module.decls:
                if isinstance(decl, n.ConsentBlock):
                    consent_blocks.append(decl)
                elif isinstance(decl, n.Classify):
                    for cd in decl.defs:
                        if cd.name in self.classes:
                            self.duplicate("data class", cd.name, cd, self.classes[cd.name])
                        else:
                            self.classes[cd.name] = cd
                elif isinstance(decl, n.Define):
                    if decl.name in self.defines:
                        self.duplicate("named predicate", decl.name, decl, self.defines[decl.name])
                    else:
                        self.defines[decl.name] = decl
                elif isinstance(decl, n.ListDefine):
                    if decl.name in self.lists:
                        self.duplicate("value list", "$" + decl.name, decl, self.lists[decl.name])
                    else:
                        self.lists[decl.name] = decl
                elif isinstance(decl, n.Destination):
                    if decl.name in self.destinations:
                        self.duplicate("destination", decl.name, decl, self.destinations[decl.name])
                    else:
                        self.destinations[decl.name] = decl
                        for t in decl.tags:
                            self.tags.setdefault(t, []).append(decl.name)
                elif isinstance(decl, n.Policy):
                    if decl.name in self.policies:
                        self.duplicate("policy", decl.name, decl, self.policies[decl.name])
                    else:
                        self.policies[decl.name] = decl
                elif isinstance(decl, n.Plan):
                    self.plan_nodes.append(decl)
        for name, cd in self.classes.items():
            root = name.split(".")[0]
            if root in ENVELOPE_TYPES:
                self.error("RQ212", f"data class '{name}' starts with the event field '{root}'", cd.span,
                           "class names are used like paths in field actions; pick a name such as pii.email")
            self.class_roots.add(root)
        # aliases and names share one namespace: the keys of the integrations object
        seen: dict[str, n.Destination] = {}
        for d in self.destinations.values():
            for key in (d.name, *d.aliases):
                if key in seen and seen[key] is not d:
                    self.error("RQ200", f"'{key}' already names destination '{seen[key].name}'", d.span,
                               "each name or alias must address one destination in the integrations object")
                seen.setdefault(key, d)
        return consent_blocks

    # ------------------------------------------------------------ consent
    def consent(self, blocks: list[n.ConsentBlock]) -> ConsentModel | None:
        self.has_consent = bool(blocks)
        if not blocks:
            return None
        for extra in blocks[1:]:
            self.error("RQ207", "more than one consent block", extra.span, "merge them: a rule set has one consent block",
                       notes=(f"first consent block at {blocks[0].span}",))
        items = [i for b in blocks for i in b.items]
        cats: list[CategoryModel] = []
        optouts = []
        regimes: list[RegimeModel] = []
        default: RegimeModel | None = None
        compat: str | None = None
        signal_paths: dict[str, tuple[tuple[Any, ...], ...]] = {}
        for item in items:
            if isinstance(item, n.Category):
                if item.name in self.categories:
                    self.duplicate("consent category", item.name, item, self.categories[item.name])
                    continue
                self.categories[item.name] = item
                srcs = tuple(s for s in (self.source(s, "category") for s in item.sources) if s is not None)
                cats.append(CategoryModel(item.name, len(cats), srcs, item.span))
        for item in items:
            if isinstance(item, n.OptOut):
                for c in item.categories:
                    if c not in self.categories:
                        self.unknown("RQ206", "consent category", c, self.name_span(item.span, c), self.categories)
                sigs = tuple(s for s in (self.source(s, "opt-out") for s in item.signals) if s is not None)
                optouts.append(_optout(item.categories, sigs, self.origin("opt-out", "consent", item)))
            elif isinstance(item, n.Regime):
                if item.kind not in ("opt_in", "opt_out"):
                    self.error("RQ209", f"unknown regime kind '{item.kind}'", item.span, "regimes are opt_in or opt_out")
                if item.default:
                    if default is not None:
                        self.error("RQ207", "more than one default regime", item.span)
                    default = RegimeModel("default", item.kind, None, self.origin("regime", "consent", item))
                    continue
                name = item.name or f"{item.kind}#{len(regimes) + 1}"
                if any(r.name == name for r in regimes):
                    self.error("RQ200", f"duplicate regime '{name}'", item.span)
                when = self.condition(item.when, in_regime=True) if item.when is not None else None
                regimes.append(RegimeModel(name, item.kind, when, self.origin("regime", "consent", item)))
            elif isinstance(item, n.Compat):
                if item.name not in COMPAT_MODES:
                    self.unknown("RQ209", "compatibility mode", item.name, item.span, COMPAT_MODES,
                                 "available modes: " + ", ".join(COMPAT_MODES))
                compat = item.name
            elif isinstance(item, n.SignalAt):
                if item.format not in FORMATS:
                    self.unknown("RQ209", "consent format", item.format, item.span, FORMATS)
                for p in item.paths:
                    if p.has_wild:
                        self.error("RQ310", "a signal path cannot hold a wildcard", p.span)
                signal_paths[item.format] = tuple(p.segments for p in item.paths)
        if default is None:
            default = RegimeModel("default", "opt_in", None, None)
        return ConsentModel(tuple(cats), tuple(optouts), tuple(regimes), default, compat, tuple(signal_paths.items()))

    def source(self, src: n.Source, role: str) -> SourceModel | None:
        fmt = FORMATS.get(src.format)
        if fmt is None:
            self.unknown("RQ209", "consent format", src.format, src.span, FORMATS,
                         "formats: " + ", ".join(sorted(FORMATS)))
            return None
        if role == "category" and fmt.verdict is None:
            self.error("RQ210", f"'{src.format}' cannot grant a category; use it in an opt-out", src.span,
                       f"opt-out CATEGORY by {src.format} ...")
            return None
        if role == "opt-out" and fmt.opted_out is None:
            self.error("RQ210", f"'{src.format}' is not an opt-out signal", src.span,
                       f"map it to a category: category NAME from {src.format} ...")
            return None
        problem = fmt.check_args(src.args, role)
        if problem:
            self.error("RQ210", f"{src.format}: {problem}", src.span)
            return None
        return SourceModel(src.format, src.args, src.span, src.quoted)

    # ------------------------------------------------------------ conditions
    def condition(self, e: Any, *, in_regime: bool = False) -> Any:
        """Check a condition; return it with defines and lists resolved (no other rewrite:
        the interpreter evaluates it as written, the code generator runs the passes)."""
        return self.expr(e, in_regime=in_regime, boolean=True)

    def define(self, name: str, span: Span) -> Any:
        if name in self.resolved_defines:
            return self.resolved_defines[name]
        d = self.defines[name]
        if name in self.resolving:
            cycle = " -> ".join(self.resolving[self.resolving.index(name):] + [name])
            self.error("RQ211", f"named predicate '{name}' refers to itself ({cycle})", span)
            return _POISON
        self.resolving.append(name)
        try:
            out = self.expr(d.expr, boolean=True)
        finally:
            self.resolving.pop()
        self.resolved_defines[name] = out
        return out

    def value_types(self, e: Any) -> frozenset[str]:
        if isinstance(e, n.Literal):
            return frozenset({typeof(e.value)})
        if isinstance(e, n.Call) and e.name in FUNCTIONS:
            result = FUNCTIONS[e.name][3]
            if e.name in ("lower", "lowercase", "upper", "uppercase", "trim", "snakecase", "kebabcase", "titlecase", "string"):
                return frozenset({"string", "null"})
            if e.name in ("length", "number"):
                return frozenset({"number", "null"})
            if e.name == "bool":
                return frozenset({"bool", "null"})
            return frozenset({result})
        if isinstance(e, n.Path) and len(e.segments) == 1 and e.segments[0] in ENVELOPE_TYPES:
            return ENVELOPE_TYPES[str(e.segments[0])]
        return _ALL_TYPES

    def expr(self, e: Any, *, in_regime: bool = False, boolean: bool = False) -> Any:
        rec = lambda x, b=False: self.expr(x, in_regime=in_regime, boolean=b)  # noqa: E731
        if isinstance(e, n.Path):
            if e.has_wild:
                self.error("RQ310", "wildcards are only allowed in field actions", e.span,
                           "to test list elements use contains(list, value) or `value in list`")
            return e
        if isinstance(e, n.Literal):
            return e
        if isinstance(e, n.ListRef):
            if e.name not in self.lists:
                self.unknown("RQ205", "value list", "$" + e.name, e.span, ["$" + k for k in self.lists],
                             "declare it: define $NAME = [\"a\", \"b\"]")
                return _POISON
            return n.Literal(self.lists[e.name].values.value, span=e.span)
        if isinstance(e, n.Call):
            spec = FUNCTIONS.get(e.name)
            if spec is None:
                self.unknown("RQ208", "function", e.name, e.span, FUNCTIONS,
                             "functions: " + ", ".join(sorted(FUNCTIONS)))
                return _POISON
            _, lo, hi, _ = spec
            if not lo <= len(e.args) <= hi:
                want = str(lo) if lo == hi else f"{lo} to {hi}"
                self.error("RQ300", f"{e.name}() takes {want} argument{'s' if hi != 1 else ''}, got {len(e.args)}", e.span)
                return _POISON
            args = tuple(rec(a) for a in e.args)
            if e.name == "match":
                self.pattern(args[1], "glob")
                return n.Match(args[0], args[1], "glob", span=e.span)
            return n.Call(e.name, args, span=e.span)
        if isinstance(e, n.Compare):
            left, right = rec(e.left), rec(e.right)
            self.compare_types(e, left, right)
            return n.Compare(e.op, left, right, span=e.span)
        if isinstance(e, n.In):
            left, right = rec(e.left), rec(e.right)
            if isinstance(right, n.Literal) and not isinstance(right.value, tuple):
                self.error("RQ301", "the right side of `in` must be a list or a path to one", right.span,
                           f'write {"not in" if e.negated else "in"} [ ... ], or compare with =')
            if isinstance(left, n.Literal) and isinstance(left.value, tuple):
                self.error("RQ301", "the left side of `in` must be a single value, not a list", left.span,
                           "to test a list field for an element, write: value in field")
            if isinstance(right, n.Literal) and isinstance(right.value, tuple):
                for v in right.value:
                    self.check_value_for(left, v, right.span)
            return n.In(left, right, e.negated, span=e.span)
        if isinstance(e, n.Exists):
            return n.Exists(rec(e.operand), e.negated, span=e.span)
        if isinstance(e, n.Match):
            subject = rec(e.subject)
            self.pattern(e.pattern, e.kind)
            return n.Match(subject, e.pattern, e.kind, span=e.span)
        if isinstance(e, n.ConsentTest):
            if in_regime:
                self.error("RQ312", "a regime condition cannot test consent", e.span,
                           "the regime decides what missing consent means; test jurisdiction fields instead")
            elif e.category not in self.categories:
                self.unknown("RQ206", "consent category", e.category, e.span, self.categories,
                             "declare it in the consent block" if self.categories else "add a consent { category ... } block")
            return e
        if isinstance(e, n.DefineRef):
            if e.name not in self.defines:
                hint = None
                if e.name in ENVELOPE_TYPES or e.name[:1].islower():
                    hint = f"to test a field write `{e.name} exists` or `{e.name} = true`"
                self.unknown("RQ204", "named predicate", e.name, e.span, self.defines, hint)
                return _POISON
            return self.define(e.name, e.span)
        if isinstance(e, n.Not):
            return n.Not(rec(e.operand, True), span=e.span)
        if isinstance(e, (n.And, n.Or)):
            return type(e)(tuple(rec(x, True) for x in e.items), span=e.span)
        if isinstance(e, n.Truth):
            v = rec(e.value)
            if isinstance(v, n.Literal) and isinstance(v.value, bool):
                return v
            if isinstance(v, (n.Call, n.Match)) and (isinstance(v, n.Match) or FUNCTIONS.get(v.name, (0, 0, 0, ""))[3] == "bool"):
                return v
            if isinstance(v, n.Call):
                self.error("RQ311", f"{v.name}() gives a value, not a condition", e.span,
                           f"compare it, e.g. {v.name}(...) = \"...\"")
            elif isinstance(v, n.Path):
                self.error("RQ311", f"the field '{v}' is not a condition", e.span,
                           f"compare it (`{v} = true`) or test presence (`{v} exists`)")
            elif not isinstance(v, _Poison):
                self.error("RQ311", "a value is not a condition", e.span,
                           "compare it (x = true, x > 0) or test presence (x exists)")
            return _POISON
        raise AssertionError(f"unexpected node {e!r}")

    def check_value_for(self, subject: Any, value: Any, span: Span) -> None:
        """A literal compared (=, in) with a field whose values are known."""
        if isinstance(subject, _Poison):
            return
        if isinstance(subject, n.Path) and subject.segments == ("type",) and isinstance(value, str) and value not in EVENT_TYPES:
            guess = did_you_mean(value, EVENT_TYPES)
            self.error("RQ302", f"'{value}' is not an event type", span,
                       f"did you mean '{guess}'?" if guess else "types: " + ", ".join(sorted(EVENT_TYPES)))
        if isinstance(subject, n.Call) and subject.name == "typeof" and isinstance(value, str) \
                and value not in _ALL_TYPES:
            guess = did_you_mean(value, _ALL_TYPES | {"boolean"})
            self.error("RQ302", f"typeof() never returns '{value}'", span,
                       "typeof() returns one of: " + ", ".join(sorted(_ALL_TYPES))
                       + (" (booleans are 'bool')" if value in ("boolean", "array", "integer") else ""))
        types = self.value_types(subject)
        if typeof(value) not in types and "null" != typeof(value):
            self.error("RQ301", f"{_describe(subject)} is {_types(types)}, never {_a(typeof(value))}", span,
                       "RouteQL never converts between types: \"10\" is not 10" if types & {"string", "number"} else None)

    def compare_types(self, e: n.Compare, left: Any, right: Any) -> None:
        if isinstance(left, _Poison) or isinstance(right, _Poison):
            return
        if e.op in ("<", "<=", ">", ">="):
            bad = False
            for side in (left, right):
                if isinstance(side, n.Literal) and typeof(side.value) not in ("number", "string"):
                    self.error("RQ301", f"`{e.op}` compares numbers or strings, not {_a(typeof(side.value))}", side.span,
                               "ordering with null, booleans or lists is always false")
                    bad = True
            lt, rt = self.value_types(left), self.value_types(right)
            if not bad and not (lt & rt & {"number", "string"}):
                self.error("RQ301", f"{_describe(left)} ({_types(lt)}) cannot be ordered against {_describe(right)} ({_types(rt)})",
                           e.span, "RouteQL never converts between types")
            return
        for subject, other in ((left, right), (right, left)):
            if isinstance(other, n.Literal) and not isinstance(subject, n.Literal):
                self.check_value_for(subject, other.value, other.span)
        if isinstance(left, n.Literal) and isinstance(right, n.Literal):
            self.warn("RQ313", "this comparison of two constants is always "
                      + ("true" if (left.value == right.value and typeof(left.value) == typeof(right.value)) != (e.op == "!=") else "false"),
                      e.span)

    def pattern(self, p: Any, kind: str) -> None:
        if not (isinstance(p, n.Literal) and isinstance(p.value, str)):
            self.error("RQ304", f"a {kind} pattern must be a constant string", p.span,
                       'write the pattern in quotes: matches "Product *"')
            return
        try:
            if kind == "glob":
                compile_glob(p.value)  # what codegen will do (RE2 for all but the simplest shapes)
            else:
                compile_regex(p.value)
        except Exception as ex:  # re2.error, ValueError, or UnicodeEncodeError (RE2 takes UTF-8)
            if isinstance(ex, UnicodeEncodeError):
                bad = ex.object[ex.start:ex.end] if isinstance(ex.object, str) else ""
                detail = f"it holds {bad.encode('unicode_escape').decode('ascii') or 'a character'}, which is not text (a lone surrogate)"
            else:
                detail = ex.args[0] if ex.args else ex
            if isinstance(detail, bytes):
                detail = detail.decode("utf-8", "replace")
            self.error("RQ303", f"invalid {kind} pattern: {detail}", p.span,
                       "globs: * any text, ? one char, [a-z] a class, \\ escapes" if kind == "glob"
                       else 'RE2 syntax; lookarounds and backreferences are not supported')

    # ------------------------------------------------------------ field targets
    def targets(self, paths: Sequence[n.Path], *, allow_index: bool = False) -> tuple[Pattern, ...]:
        out: list[Pattern] = []
        for p in paths:
            head = p.segments[0]
            if isinstance(head, str) and head in self.class_roots and p.span is not None:
                out.extend(self.class_ref(p))
                continue
            if p.has_index and not allow_index:
                self.error("RQ310", "field actions apply to every element; an index is not allowed", p.span,
                           "write properties.products.sku to act on the sku of every product")
                continue
            if p.has_wild and p.span is not None:
                text = _one_line(self.lines, p.span)
                if _STAR_THEN_MORE.search(text):
                    # `[*]` is `.*` (any key); a list is crossed on its own, so this reaches one level too deep
                    self.warn("RQ319", f"in '{text}', [*] is any key of each element, not each element: "
                              "a path crosses a list on its own", p.span,
                              f"write {_STAR_THEN_MORE.sub('', text)} for every element's field")
            out.append(Pattern(p.segments))
        return tuple(out)

    def class_ref(self, p: n.Path) -> list[Pattern]:
        segs = p.segments
        if any(isinstance(s, int) for s in segs) or any(isinstance(s, n.Wild) for s in segs[:-1]):
            self.error("RQ203", f"'{p}' is not a data class reference", p.span, "classes are written pii.email or pii.*")
            return []
        if isinstance(segs[-1], n.Wild):
            prefix = ".".join(str(s) for s in segs[:-1])
            names = [c for c in self.classes if c == prefix or c.startswith(prefix + ".")]
        else:
            name = ".".join(str(s) for s in segs)
            names = [name] if name in self.classes else []
        if not names:
            name = str(p)
            children = [c for c in self.classes if c.startswith(name + ".")]
            self.unknown("RQ203", "data class", name, p.span, list(self.classes) + [c.rsplit(".", 1)[0] + ".*" for c in self.classes],
                         f"did you mean '{name}.*'?" if children else None)
            return []
        out = []
        for c in names:
            for path in self.classes[c].paths:
                out.append(Pattern(path.segments, via_class=c))
        return out

    # ------------------------------------------------------------ destinations
    def guard(self, g: n.Guard | None) -> Any:
        if g is None:
            return None
        c = self.condition(g.expr)
        return n.Not(c, span=g.span) if g.unless else c

    def name_span(self, span: Span, name: str) -> Span:
        """The span of ``name`` written inside ``span`` (for a caret under just the name)."""
        line = _source_line(self.lines, span)
        if line is None or span.line != span.end_line:
            return span
        import re as _re

        m = _re.search(r"(?<![\w`])" + _re.escape(name) + r"(?![\w`])", line[span.col - 1: span.end_col - 1])
        if m is None:
            return span
        col = span.col + m.start()
        return Span(span.file, span.line, col, span.line, col + len(name))

    def categories_of(self, names: Sequence[str], span: Span) -> tuple[str, ...]:
        ok = []
        for c in names:
            if c not in self.categories:
                self.unknown("RQ206", "consent category", c, self.name_span(span, c), self.categories,
                             "declare it in the consent block" if self.categories else "add a consent { category ... } block")
            else:
                ok.append(c)
        return tuple(ok)

    def destination(self, d: n.Destination, index: int) -> DestinationModel:
        requires, whens, samples, keeps, drops, transforms = [], [], [], [], [], []
        plan_modes: list[tuple[str, str]] = []
        for st in d.body:
            if isinstance(st, n.DestPlan):
                mode = check_dest_plan(self, st, bool(self.plan_nodes))
                if mode is not None:
                    plan_modes = [m for m in plan_modes if m[0] != mode[0]] + [mode]
                continue
            if isinstance(st, n.Requires):
                cats = self.categories_of(st.categories, st.span)
                requires.append(ConsentReq(cats, st.any, self.origin("requires", d.name, st)))
            elif isinstance(st, n.RequiresVendor):
                if not self.has_consent:
                    self.error("RQ206", "a TCF vendor requirement needs a consent block", st.span,
                               "add a consent { ... } block; it says what a missing TC string means (the regime)")
                if st.basis not in ("consent", "li", "flexible"):
                    self.error("RQ210", f"unknown legal basis '{st.basis}'", st.span,
                               "a vendor's basis is consent (the default), li or flexible")
                for v in st.vendors:
                    if not 1 <= v <= 65535:
                        self.error("RQ210", f"TCF vendor ids are 1 to 65535, not {v}", st.span)
                requires.append(ConsentReq((), False, self.origin("requires", d.name, st),
                                           tuple((v, st.basis) for v in st.vendors)))
            elif isinstance(st, n.When):
                whens.append((self.condition(st.expr), self.origin("when", d.name, st)))
            elif isinstance(st, n.Sample):
                if not 0 <= st.percent <= 100:
                    self.error("RQ307", f"sample {st.percent:g}% is not between 0% and 100%", st.span)
                by = st.by.segments if st.by is not None else ("messageId",)
                if st.by is not None and (st.by.has_wild or st.by.has_index and False):
                    self.error("RQ310", "a sampling key cannot hold a wildcard", st.by.span)
                samples.append(SampleRule(st.percent, by, self.guard(st.guard), self.origin("sample", d.name, st)))
            elif isinstance(st, (n.Keep, n.Drop, n.Hash, n.Redact, n.Truncate)):
                action = self.action(st, d.name)
                if action is None:
                    continue
                if isinstance(st, n.Keep):
                    keeps.append(action)
                elif isinstance(st, n.Drop):
                    drops.append(action)
                else:
                    transforms.append(action)
        for req in requires[1:]:
            if req.categories == requires[0].categories and req.any == requires[0].any:
                self.warn("RQ314", "this requirement repeats an earlier one", req.origin.span)
        self.kept_and_dropped(keeps, drops)
        if self.plan_types is not None and whens:
            conj = [c for expr, _ in whens for c in (expr.items if isinstance(expr, n.And) else [expr])]
            check_condition_types(self, self.plan_types, conj, [expr for expr, _ in whens])
        return DestinationModel(d.name, index, d.tags, d.aliases, d.span, tuple(requires), tuple(whens),
                                tuple(samples), tuple(keeps), tuple(drops), tuple(transforms),
                                plan_modes=tuple(plan_modes))

    def action(self, st: Any, owner: str) -> FieldAction | None:
        kind = type(st).__name__.lower()
        patterns = self.targets(st.targets)
        options: list[tuple[str, Any]] = []
        if isinstance(st, n.Hash):
            if st.algorithm not in HASH_ALGORITHMS:
                self.unknown("RQ309", "hash algorithm", st.algorithm, st.span, HASH_ALGORITHMS,
                             "supported: " + ", ".join(HASH_ALGORITHMS))
            options.append(("algorithm", st.algorithm))
            if st.salt is not None:
                options.append(("salt", (st.salt.kind, st.salt.value)))
        elif isinstance(st, n.Redact):
            options.append(("marker", st.marker if st.marker is not None else "[REDACTED]"))
        elif isinstance(st, n.Truncate):
            if st.kind == "ip":
                v4, v6 = st.v4, st.v6
                if v6 is None and v4 is not None and v4 > 32:  # a single prefix above 32 is for IPv6
                    v4, v6 = None, v4
                v4 = 24 if v4 is None else v4
                v6 = 48 if v6 is None else v6
                if not 0 <= v4 <= 32:
                    self.error("RQ308", f"an IPv4 prefix is /0 to /32, not /{v4}", st.span)
                if not 0 <= v6 <= 128:
                    self.error("RQ308", f"an IPv6 prefix is /0 to /128, not /{v6}", st.span)
                options += [("v4", v4), ("v6", v6)]
            elif st.kind == "length":
                options.append(("length", st.length))
            else:
                if st.unit not in TIME_UNITS:
                    guess = did_you_mean(str(st.unit), TIME_UNITS)
                    self.error("RQ308", f"cannot truncate to '{st.unit}'", st.span,
                               f"did you mean '{guess}'?" if guess else
                               "truncate to /24 (IP), a length such as 10, or one of: " + ", ".join(TIME_UNITS))
                options.append(("unit", st.unit))
        return FieldAction(kind if kind != "truncate" else f"truncate_{st.kind}", patterns, self.guard(st.guard),
                           self.origin(kind, owner, st), tuple(options))

    def kept_and_dropped(self, keeps: list[FieldAction], drops: list[FieldAction]) -> None:
        for k in keeps:
            if k.guard is not None:
                continue
            for d in drops:
                if d.guard is not None:
                    continue
                for kp in k.patterns:
                    for dp in d.patterns:
                        if kp.segments[: len(dp.segments)] == dp.segments:
                            self.error("RQ305", f"'{kp}' is kept and dropped by the same destination", d.origin.span,
                                       f"remove it from `keep` (line {k.origin.span.line}) or from `drop`",
                                       notes=(f"kept at {k.origin.at}",))

    # ------------------------------------------------------------ policies
    def dest_set(self, refs: Sequence[n.DestRef]) -> list[str]:
        out: list[str] = []
        for r in refs:
            if r.kind == "all":
                names = list(self.destinations)
            elif r.kind == "tag":
                if r.name not in self.tags:
                    self.unknown("RQ202", "tag", r.name, r.span, self.tags,
                                 "no destination is tagged with it" if self.tags else "tag destinations: destination x tagged ads { ... }")
                names = self.tags.get(r.name, [])
            else:
                if r.name not in self.destinations:
                    self.unknown("RQ201", "destination", r.name, r.span, self.destinations)
                    names = []
                else:
                    names = [r.name]
            out.extend(x for x in names if x not in out)
        return out

    def policy(self, p: n.Policy, by_dest: dict[str, tuple[list[EventPolicy], list[FieldPolicy]]]) -> None:
        for st in p.body:
            targets = self.dest_set(st.to)  # type: ignore[attr-defined]
            guard = self.guard(st.guard)  # type: ignore[attr-defined]
            origin = self.origin("policy", p.name, st)
            if isinstance(st, n.ForbidFields):
                fp = FieldPolicy(p.name, self.targets(st.targets), guard, origin)
                for t in targets:
                    by_dest[t][1].append(fp)
            elif isinstance(st, n.ForbidEvents):
                ep = EventPolicy("forbid_events", p.name, guard, origin)
                for t in targets:
                    by_dest[t][0].append(ep)
            elif isinstance(st, n.RequireConsent):
                cats = self.categories_of(st.categories, st.span)
                ep = EventPolicy("require_consent", p.name, guard, origin, cats, st.any)
                for t in targets:
                    by_dest[t][0].append(ep)

    # ------------------------------------------------------------ reachability
    def unreachable(self, d: DestinationModel) -> None:
        if any(isinstance(x, _Poison) for expr, _ in d.whens for x in n.walk(expr) if isinstance(expr, n.Node)):
            return  # already reported; its conditions say nothing reliable
        conj: list[Any] = []
        for raw, origin in d.whens:
            expr = fold(normalize(raw))
            if isinstance(expr, n.Literal) and expr.value is False:
                self.error("RQ306", f"destination '{d.name}' can never receive anything: this condition is always false",
                           origin.span, "remove the destination, or fix the condition")
                return
            conj.extend(expr.items if isinstance(expr, n.And) else [expr])
        why = _contradiction(conj)
        if why is not None:
            self.error("RQ306", f"destination '{d.name}' can never receive anything: {why}", d.whens[0][1].span if d.whens else d.span,
                       "its conditions contradict each other")
        for s in d.samples:
            if s.percent == 0 and s.guard is None:
                self.error("RQ306", f"destination '{d.name}' can never receive anything: it samples 0%", s.origin.span)
        for ep in d.event_policies:
            if ep.kind == "forbid_events" and ep.guard is None:
                self.warn("RQ306", f"destination '{d.name}' never receives anything: policy '{ep.policy}' forbids all its events",
                          ep.origin.span)

    # ------------------------------------------------------------ all
    def run(self) -> Model | None:
        blocks = self.collect()
        consent = self.consent(blocks)
        for d in self.defines.values():  # check every define, used or not
            self.define(d.name, d.span)
        plans = check_plans(self, self.plan_nodes)
        self.plan_types = PlanTypes(plans) if plans else None
        dests = [self.destination(d, i) for i, d in enumerate(self.destinations.values())]
        by_dest: dict[str, tuple[list[EventPolicy], list[FieldPolicy]]] = {d.name: ([], []) for d in dests}
        for p in self.policies.values():
            self.policy(p, by_dest)
        vendors = tuple(dict.fromkeys(v for d in dests for r in d.requires for v in r.vendors))
        if consent is not None and vendors:
            consent = dataclasses.replace(consent, vendors=vendors)
        final = []
        for d in dests:
            evp, fdp = by_dest[d.name]
            d2 = DestinationModel(d.name, d.index, d.tags, d.aliases, d.span, d.requires, d.whens, d.samples,
                                  d.keeps, d.drops, d.transforms, tuple(evp), tuple(fdp), d.plan_modes)
            self.unreachable(d2)
            final.append(d2)
        if any(x.is_error for x in self.diags):
            return None
        classes = {name: tuple(Pattern(p.segments, name) for p in cd.paths) for name, cd in self.classes.items()}
        salts = tuple(sorted({a.option("salt") for d in final for a in d.transforms if a.option("salt")}))
        return Model(tuple(final), consent, classes, tuple(self.policies), dict(self.sources),
                     frozenset(self.tags), salts, plans)


def _optout(categories: tuple[str, ...], sigs: tuple[SourceModel, ...], origin: Origin) -> Any:
    from .model import OptOutModel

    return OptOutModel(categories, sigs, origin)


def _describe(e: Any) -> str:
    if isinstance(e, n.Path):
        return f"'{e}'"
    if isinstance(e, n.Call):
        return f"{e.name}()"
    if isinstance(e, n.Literal):
        return repr(e.value)
    return "this value"


def _a(t: str) -> str:
    return "an object" if t == "object" else ("null" if t == "null" else f"a {t}")


def _types(ts: frozenset[str]) -> str:
    t = sorted(ts - {"null"})
    return " or ".join(_a(x) for x in t) if t else "null"


def _atom(e: Any) -> tuple[tuple[Any, ...], str, Any] | None:
    """(path, op, value) for the simple atoms the contradiction check understands."""
    if isinstance(e, n.Compare) and e.op == "=" and isinstance(e.left, n.Path) and isinstance(e.right, n.Literal):
        return e.left.segments, "in", (e.right.value,)
    if isinstance(e, n.In) and not e.negated and isinstance(e.left, n.Path) and isinstance(e.right, n.Literal) \
            and isinstance(e.right.value, tuple):
        return e.left.segments, "in", e.right.value
    if isinstance(e, n.Exists) and isinstance(e.operand, n.Path):
        return e.operand.segments, "missing" if e.negated else "exists", None
    return None


def _contradiction(conj: list[Any]) -> str | None:
    from .runtime import eq

    allowed: dict[tuple[Any, ...], tuple[Any, ...]] = {}
    presence: dict[tuple[Any, ...], str] = {}
    for c in conj:
        a = _atom(c)
        if a is None:
            continue
        path, op, value = a
        label = n.format_path(path)
        if op == "in":
            prev = allowed.get(path)
            if not value:
                return f"'{label}' is tested against an empty list"
            cur = value if prev is None else tuple(v for v in prev if any(eq(v, w) for w in value))
            if not cur:
                return f"'{label}' cannot take two different values"
            allowed[path] = cur
            if presence.get(path) == "missing" and all(v is not None for v in cur):
                return f"'{label}' cannot be missing and equal to a value"
        else:
            if presence.get(path, op) != op:
                return f"'{label}' cannot both exist and be missing"
            presence[path] = op
            if op == "missing" and path in allowed and all(v is not None for v in allowed[path]):
                return f"'{label}' cannot be missing and equal to a value"
    return None


def check(modules: Sequence[n.Module], sources: dict[str, str] | None = None) -> tuple[Model | None, list[Diagnostic]]:
    """Check a rule set; return (model or None when there is an error, all diagnostics)."""
    checker = _Checker(modules, sources or {})
    model = checker.run()
    diags = sorted(checker.diags, key=lambda d: (d.span.file, d.span.line, d.span.col, d.code))
    return model, diags
