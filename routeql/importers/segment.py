"""Segment destination filters, routing rules and consent mappings (JSON) in, RouteQL source out.

The public API of ``routeql import segment``:

* :func:`fql_to_predicate` and :func:`ir_to_predicate`: one FQL condition (text, or the
  IR Segment compiles it to) as a RouteQL condition, usable with :func:`routeql.predicate`;
* :func:`convert`: a whole export (Public API filters, CDN ``routingRules``, a consent
  mapping) as a RouteQL rule set that routes as Segment does; :func:`convert_report`
  also says what could not be expressed exactly.

>>> fql_to_predicate("type = 'track' and ( event = 'Click' or match( event, 'Button *' ) )")
'type = "track" and (event = "Click" or event matches "Button *")'
>>> ir_to_predicate(["in", "event", {"value": [{"value": "Clicked"}, {"value": "Viewed"}]}])
'event in ["Clicked", "Viewed"]'
>>> print(convert({"if": "properties.test = true", "actions": [{"type": "DROP"}],
...                "destinationName": "Google Ads", "title": "No test events"}), end="")
# Imported from Segment by `routeql import segment` (segment).
# Segment applies a destination's filters in this order: sample, drop, drop properties,
# allow properties, each condition on the event as it arrived.  RouteQL's stages give
# the same result; `# note:` and `# unsupported:` comments mark where they cannot.
<BLANKLINE>
# Segment destination "Google Ads"
destination google_ads alias "Google Ads" {
  # filter "No test events": if properties.test = true
  when not (properties.test = true)
}
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from ..errors import RouteQLError
from . import fql
from .emit import KEYWORDS, Cond, path_text, string_literal
from .errors import FQLSyntaxError, FilterError, IRError, SegmentImportError, UnsupportedError
from .filters import Action, Imported, Rule, fql_condition, ir_condition, matcher_condition, read
from .keeps import SPEC_FIELDS, keep_lines
from .tree import to_ir

__all__ = [
    "fql_to_predicate", "ir_to_predicate", "matcher_to_predicate", "fql_to_ir", "convert", "convert_report",
    "Conversion", "SegmentImportError", "FQLSyntaxError", "IRError", "FilterError", "UnsupportedError",
]


def _guarded(fn: Any, *args: Any) -> Any:
    """Run ``fn``; a bug or a pathological input surfaces as a SegmentImportError, never another exception."""
    try:
        return fn(*args)
    except RouteQLError:
        raise
    except RecursionError:
        raise SegmentImportError.plain("the input is nested too deeply", code="RQ105") from None


def fql_to_predicate(fql_text: str) -> str:
    """An FQL condition as a RouteQL condition (``all`` is ``true``).

    >>> fql_to_predicate("properties.product\\\\ 1.price > 10")
    'properties.`product 1`.price > 10'
    """
    return _guarded(fql_condition, fql_text, "<fql>").text  # type: ignore[no-any-return]


def ir_to_predicate(ir: Any) -> str:
    """Compiled FQL IR (decoded JSON: a path string, ``{"value": x}`` or ``[op, ...]``) as a RouteQL condition.

    A non-array IR holds when the path or value is literally ``true``; an empty IR is false.

    >>> ir_to_predicate("trueValue"), ir_to_predicate(""), ir_to_predicate({"value": True})
    ('trueValue = true', 'false', 'true')
    """
    return _guarded(ir_condition, ir, "ir").text  # type: ignore[no-any-return]


def matcher_to_predicate(matcher: Any) -> str:
    """A CDN routing-rule matcher (``{"type": "fql", "ir": "<JSON text>"}`` or ``{"type": "all"}``) as a condition.

    >>> matcher_to_predicate({"type": "fql", "ir": '["=","event",{"value":"Item Impression"}]'})
    'event = "Item Impression"'
    """
    return _guarded(matcher_condition, matcher, "matcher")[0].text  # type: ignore[no-any-return]


def fql_to_ir(fql_text: str) -> Any:
    """The IR Segment's compiler gives for an FQL text (``and``/``or`` chains right-nested).

    >>> fql_to_ir("!(event = 'A' or event = 'B')")
    ['!', ['or', ['=', 'event', {'value': 'A'}], ['=', 'event', {'value': 'B'}]]]
    """
    return _guarded(lambda: to_ir(fql.parse(fql_text)))


@dataclass
class Conversion:
    """The RouteQL source, and what it could not say exactly."""

    source: str
    notes: list[str] = field(default_factory=list)
    unsupported: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def convert(obj: Any, *, name: str = "segment") -> str:
    """A Segment export (decoded JSON) as a RouteQL rule set (source text) that routes as Segment does.

    Accepts Public API destination filters (one, a list, ``{"filters": [...]}``, or
    ``{"destinations": [{"name", "filters"}]}``), CDN settings (``integrations``,
    ``middlewareSettings.routingRules``, ``consentSettings``), routing rules, and consent
    mappings.  See docs/cli/import.md.
    """
    return convert_report(obj, name=name).source


def convert_report(obj: Any, *, name: str = "segment") -> Conversion:
    """Like :func:`convert`, with the notes on approximations and unsupported transformers."""
    imp = _guarded(read, obj)
    writer = _Writer(imp, name)
    source = _guarded(writer.write, frozenset())
    never = _never_receiving(source, name)
    if never:
        # RouteQL rejects a destination whose own rules can never let an event through
        # (RQ306); Segment's filters may do that (conflicting "only send" filters), so
        # write those destinations again with a forbid-everything policy.
        writer = _Writer(imp, name)
        source = _guarded(writer.write, frozenset(never))
        if _never_receiving(source, name):
            raise SegmentImportError("the imported rules still reject a destination (please report this)")
    return Conversion(source, writer.notes, writer.unsupported, list(imp.skipped))


def _never_receiving(source: str, name: str) -> set[str]:
    """Compile the generated rules: the destinations RouteQL says can never receive.

    Any other error would be a bug in the import; it is raised, never returned as rules
    that do not load.
    """
    from ..engine import loads

    try:
        loads(source, f"{name}.rq")
    except RouteQLError as e:
        errors = [d for d in e.diagnostics if d.is_error]
        lines = source.split("\n")
        never = {_owner(lines, d.span.line) for d in errors if d.code == "RQ306"}
        if errors and all(d.code == "RQ306" for d in errors) and None not in never:
            return {n for n in never if n is not None}
        raise SegmentImportError(f"the imported rules do not compile (please report this): {e}",
                                 e.diagnostics) from None
    return set()


def _owner(lines: list[str], line: int) -> str | None:
    for text in reversed(lines[: max(line, 0)]):
        m = re.match(r"destination (\w+)", text)
        if m:
            return m.group(1)
    return None


# ------------------------------------------------------------------ writing RouteQL


def _identifier(name: str, taken: set[str]) -> str:
    """A RouteQL name for a Segment name: ``Google Ads`` -> ``google_ads`` (unique)."""
    base = re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_") or "destination"
    if base[0].isdigit():
        base = "d_" + base
    if base in KEYWORDS:
        base += "_"
    out, k = base, 2
    while out in taken:
        out, k = f"{base}_{k}", k + 1
    taken.add(out)
    return out


_WIDTH = 100


def _percent_text(p: float) -> str:
    d = (Decimal(repr(p)) * 100).normalize()
    text = format(d, "f")
    return text[:-2] if text.endswith(".0") else text


def _one_line(text: str) -> str:
    return " ".join(text.split())


class _Writer:
    """Builds the rule set text; collects notes and unsupported transformers as it goes."""

    def __init__(self, imp: Imported, name: str) -> None:
        self.imp = imp
        self.name = name
        self.notes: list[str] = []
        self.unsupported: list[str] = []
        self.out: list[str] = []
        taken: set[str] = set()  # categories and destinations share RouteQL's one namespace
        self.categories = {cid: _identifier(disp or cid, taken)
                           for cid, disp in (imp.consent.categories.items() if imp.consent else ())}
        names: list[str | None] = list(imp.destinations)
        if not names and any(r.destination is None for r in imp.rules):
            names = [None]
        self.idents = {n: _identifier(n if n is not None else "all destinations", taken) for n in names}

    def w(self, line: str = "") -> None:
        self.out.append(line)

    def note(self, text: str, where: str) -> None:
        for line in textwrap.wrap(text, _WIDTH - 10, initial_indent="  # note: ", subsequent_indent="  #   ",
                                  break_on_hyphens=False, break_long_words=False):
            self.w(line)
        self.notes.append(f"{where}: {text}")

    def comment(self, text: str) -> None:
        for line in textwrap.wrap(text, _WIDTH - 4, initial_indent="  # ", subsequent_indent="  #   ",
                                  break_on_hyphens=False, break_long_words=False):
            self.w(line)

    def statement(self, word: str, items: list[str], guard: str) -> None:
        """``  word a, b, c if guard``, continued over lines when long (newlines are not significant)."""
        indent = " " * (3 + len(word))
        line = f"  {word} "
        for i, item in enumerate(items):
            piece = item + ("," if i < len(items) - 1 else "")
            if len(line) + len(piece) > _WIDTH and line.strip() != word:
                self.w(line.rstrip())
                line = indent
            line += piece + " "
        line = line.rstrip()
        if guard and len(line) + len(guard) > _WIDTH:
            self.w(line)
            line = indent + guard.lstrip()
        else:
            line += guard
        self.w(line)

    def write(self, never: frozenset[str]) -> str:
        self.w(f"# Imported from Segment by `routeql import segment` ({_one_line(self.name)}).")
        self.w("# Segment applies a destination's filters in this order: sample, drop, drop properties,")
        self.w("# allow properties, each condition on the event as it arrived.  RouteQL's stages give")
        self.w("# the same result; `# note:` and `# unsupported:` comments mark where they cannot.")
        for s in self.imp.skipped:
            self.w(f"# skipped: {_one_line(s)}")
        if self.imp.consent:
            self.consent()
        policies: list[str] = []
        for dest, ident in self.idents.items():
            if self.destination(dest, ident, ident in never):
                policies.append(ident)
        for ident in policies:
            self.w()
            self.w(f'policy "segment filters drop every event for {ident}" {{')
            self.w(f"  forbid events to {ident}")
            self.w("}")
        return "\n".join(self.out) + "\n"

    def consent(self) -> None:
        assert self.imp.consent is not None
        self.w()
        self.w("consent {")
        self.w("  compat segment  # an event without a consent object is not enforced (Segment's rule)")
        width = max((len(i) for i in self.categories.values()), default=0)
        for cid, ident in self.categories.items():
            self.w(f"  category {ident.ljust(width)} from segment {string_literal(cid)}")
        self.w("}")

    def destination(self, dest: str | None, ident: str, never: bool) -> bool:
        """Write one destination; True when it needs a forbid-all policy."""
        rules = [r for r in self.imp.rules if r.destination in (dest, None)]
        self.w()
        where = f"destination {ident}"
        if dest is None:
            self.w("# Segment applies these rules to every destination; none is named in the input.")
            self.w(f"destination {ident} {{")
        else:
            self.w(f"# Segment destination {string_literal(dest)}")
            alias = f" alias {string_literal(dest)}" if dest != ident and dest not in self.imp.unnamed else ""
            self.w(f"destination {ident}{alias} {{")
            if dest in self.imp.unnamed:
                self.note(f"Segment names this destination only by its id {self.imp.unnamed[dest]}; add "
                          f'alias "<its name>" so the integrations object can address it', where)
        cats = self.imp.consent.destinations.get(dest, []) if self.imp.consent and dest is not None else []
        if cats:
            self.w(f"  requires {', '.join(self.categories[c] for c in cats)}  # all of them, as Segment enforces")
        drops_always = False
        allows: list[tuple[Any, Cond | None, str]] = []
        uncond_drops: list[tuple[str, ...]] = []
        for r in rules:
            if self.rule(r, ident, never, allows, uncond_drops):
                drops_always = True
        if allows:
            self.keeps(allows, uncond_drops, where)
        if never and not drops_always:
            self.note("these filters together drop every event (RouteQL says it with a policy)", where)
        self.w("}")
        return drops_always or never

    def rule(self, r: Rule, ident: str, never: bool, allows: list[tuple[Any, Cond | None, str]],
             uncond_drops: list[tuple[str, ...]]) -> bool:
        """Write one rule's statements; True when it drops every event."""
        where = f"destination {ident}, {r.label}"
        head = _one_line(r.label)
        head += f": if {_one_line(r.fql)}" if r.fql is not None else ": every event" if r.cond.const else ""
        self.comment(head)
        if r.cond.const is False:
            self.w("  # its condition is always false: it never applies")
            return False
        guard = "" if r.cond.const is True else f" if {r.cond.text}"
        drops_all = False
        for a in r.actions:
            if a.kind == "drop":
                if r.cond.const is True:
                    drops_all = True
                    self.w("  # drops every event: see the policy below")
                elif never:
                    self.w(f"  # when {_negation(r.cond)}  (with the other filters, nothing is left: see the policy)")
                else:
                    self.w(f"  when {_negation(r.cond)}")
            elif a.kind == "sample":
                drops_all |= self.sample(a, r, guard, where)
            elif a.kind == "drop_properties":
                paths = [fl.path + (k,) for fl in a.fields for k in fl.keys]
                if paths:
                    self.statement("drop", [path_text(p) for p in paths], guard)
                    if r.cond.const is True:
                        uncond_drops.extend(paths)
            elif a.kind == "allow_properties":
                for fl in a.fields:
                    allows.append((fl, None if r.cond.const is True else r.cond, r.label))
                self.w("  # allow properties: see the keep lines at the end of this destination")
            else:
                self.comment(f"unsupported: {a.note}")
                self.unsupported.append(f"{where}: {a.note}")
        return drops_all

    def sample(self, a: Action, r: Rule, guard: str, where: str) -> bool:
        if a.note:
            self.note(a.note, where)
        if a.by is None:
            self.note("no sampling path: Segment draws at random; RouteQL samples by messageId "
                      "(one draw per event, the same on retries)", where)
        by = f" by {path_text(a.by)}" if a.by is not None else ""
        if a.percent == 0 and r.cond.const is True:
            self.w("  # samples 0% of every event: see the policy below")
            return True
        self.w(f"  sample {_percent_text(a.percent)}%{by}{guard}")
        return False

    def keeps(self, allows: list[tuple[Any, Cond | None, str]], uncond_drops: list[tuple[str, ...]],
              where: str) -> None:
        labels = ", ".join(dict.fromkeys(label for _, _, label in allows))
        self.comment(f"allow properties ({_one_line(labels)}): Segment removes the keys not listed inside "
                     "each object and leaves the rest of the event alone; RouteQL's keep lists the whole payload.")
        lines = keep_lines([(fl, c) for fl, c, _ in allows], uncond_drops)
        approximated = sorted({p for line in lines for p in line.approximated})
        for p in approximated:
            spec = ", ".join(SPEC_FIELDS.get(p, ()))
            at = path_text(p) if p else "the top level"
            self.note(f"at {at} only the Segment Spec fields ({spec}) are kept beside the allow-listed "
                      f"object; any other field there is not delivered" if spec else
                      f"at {at} only the allow-listed path is kept; its siblings are not delivered", where)
        for line in lines:
            guard = f" if {line.guard.text}" if line.guard is not None else ""
            self.statement("keep", [path_text(p) for p in line.keep], guard)
            if line.empty:
                self.statement("drop", [f"{path_text(p)}.*" for p in line.empty], guard)


def _negation(c: Cond) -> str:
    """``not (c)``, the form a drop filter takes; ``not x`` simply becomes ``x``."""
    if c.inner is not None:
        return c.inner.text
    return f"not ({c.text})"
