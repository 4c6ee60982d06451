"""Rule text -> the same rules in the one canonical layout (``routeql fmt``), comments kept.

The layout is computed from the AST, not from the input's whitespace, so two spellings
of the same rules format identically.  Comments are put back by position: a comment on
its own line goes before the next statement, a trailing comment stays at the end of its
line.  Blank lines between statements are kept (at most one); everything else is
canonical: 2-space indentation, one statement per line, ``=``/``and``/``or``/``not``,
double quotes, parentheses only where the tree needs them, lines wrapped at 100 columns.

>>> print(format_source("destination crm{keep userId,traits when type=='identify'}"), end="")
destination crm {
  keep userId, traits
  when type = "identify"
}

The layout engine is a small Wadler/Prettier-style pretty printer: node methods build a
document of text, line breaks, groups (flat if they fit, else broken) and fills (as many
items per line as fit); :mod:`routeql.layout` lays it out.
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Sequence

from . import nodes as n
from .errors import RouteQLError, RouteQLSyntaxError
from .layout import (  # the pretty printer the node methods build documents for
    HARD,
    LINE,
    SOFT,
    Doc,
    _Comment,
    _Either,
    _Fill,
    _Group,
    _IfBreak,
    _Nest,
    _fits,
    _join,
    _render,
    INDENT,
    WIDTH,
)
from .parse import parse, unescape

__all__ = ["format_source", "format_module", "WIDTH"]


# ------------------------------------------------------------------ literals

#: Path heads that would read as a keyword where a path can start (found by parsing
#: every keyword in every path position; tests/test_fmt.py keeps this list honest).
HEAD_KEYWORDS = frozenset({"consent", "events", "false", "not", "null", "regex", "true"})

_STRING_TOKEN = re.compile(r"""#[^\n]*|`(?:[^`\\\n]|\\.)*`|(?<![A-Za-z0-9_])r"[^"\n]*"|(?<![A-Za-z0-9_])r'[^'\n]*'"""
                           r"""|"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'""")
_LIST_TOKEN = re.compile(r"""\s+|#[^\n]*|r"[^"\n]*"|r'[^'\n]*'|"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'|[\[\],]"""
                         r"""|[^\s\[\],#"']+""")
_SHORT_ESCAPES = {"\\": "\\\\", "\n": "\\n", "\t": "\\t", "\r": "\\r"}


def _control(ch: str) -> bool:
    return unicodedata.category(ch) == "Cc"


def _escape_control(ch: str) -> str:
    return _SHORT_ESCAPES.get(ch) or f"\\u{{{ord(ch):X}}}"


def _reads_back(body: str, value: str) -> bool:
    try:
        return unescape(body) == value
    except Exception:  # an invalid escape such as a lone \u
        return False


def quote(value: str, raw: bool = False) -> str:
    """A string literal for ``value``: raw if the author wrote it raw, else the form needing no escapes.

    >>> quote("Order Completed"), quote('say "hi"'), quote(r"^\\d+$"), quote("C:\\\\new"), quote("a\\tb")
    ('"Order Completed"', '\\'say "hi"\\'', '"^\\\\d+$"', 'r"C:\\\\new"', '"a\\\\tb"')
    """
    visible = not any(_control(c) for c in value)
    raws = [f"r{q}{value}{q}" for q in "\"'" if q not in value] if visible else []
    if raw and raws:
        return raws[0]
    plain = visible and not value.endswith("\\") and _reads_back(value, value)
    for q in "\"'":
        if plain and q not in value:
            return f"{q}{value}{q}"
    if raws:
        return raws[0]
    return '"' + "".join(_escape_control(c) if c == "\\" or _control(c) else "\\\"" if c == '"' else c
                         for c in value) + '"'


def number(value: int | float) -> str:
    """A number as the parser reads it back: ints as ints, floats as Python's shortest repr.

    >>> number(10), number(1.0), number(1e3), number(-2.5e-07)
    ('10', '1.0', '1000.0', '-2.5e-07')
    """
    return str(value) if isinstance(value, int) else repr(float(value))


def key(segment: str, head: bool = False) -> str:
    """One path segment, in backticks when it is not a plain name (or would read as a keyword).

    >>> key("email"), key("odd key"), key("true", head=True), key("true")
    ('email', '`odd key`', '`true`', 'true')
    """
    if n.IDENT.match(segment) and not (head and segment in HEAD_KEYWORDS):
        return segment
    body = "".join("\\" + c if c in "\\`" else _escape_control(c) if _control(c) else c for c in segment)
    return f"`{body}`"


def path_text(segments: Sequence[n.Segment]) -> str:
    """A path as written in rules.

    >>> path_text(("properties", "product 1", 0, n.WILD))
    'properties.`product 1`[0].*'
    """
    out: list[str] = []
    for i, seg in enumerate(segments):
        if isinstance(seg, n.Wild):
            out.append(".*" if i else "*")
        elif isinstance(seg, int):
            out.append(f"[{seg}]")
        else:
            out.append(("." if i else "") + key(seg, head=i == 0))
    return "".join(out)


# ------------------------------------------------------------------ comments in the source


@dataclass(frozen=True, slots=True)
class _Note:
    """A comment of the input: where it is, and whether it had a line to itself."""

    offset: int
    line: int
    text: str
    own_line: bool


@dataclass(frozen=True, slots=True)
class _Range:
    """Where something is in the input: start and end offsets, and the line it ends on."""

    start: int
    end: int
    line: int
    end_line: int


@dataclass(frozen=True, slots=True)
class _Entry:
    """One line-level item of a block or file: a statement or an own-line comment."""

    doc: Doc
    first: int
    last: int
    node: n.Node | None = None


# ------------------------------------------------------------------ the formatter


class Formatter:
    """AST + source text -> document.  One ``visit_<Node>`` method per node type.

    Comments are taken from a queue in source order as the tree is walked in source
    order, so they come out in the order they went in; whatever no statement or item
    claims is flushed at the end of its block or file, never dropped.
    """

    def __init__(self, module: n.Module, text: str) -> None:
        self.text = text
        self.lines = text.split("\n")
        self.starts = [0]
        for line in self.lines[:-1]:
            self.starts.append(self.starts[-1] + len(line) + 1)
        notes = []
        for c in module.comments:
            off = self._offset(c.span.line, c.span.col)
            if off is not None:
                own = not text[self.starts[c.span.line - 1]:off].strip()
                notes.append(_Note(off, c.span.line, c.text.rstrip(), own))
        self.notes = sorted(notes, key=lambda x: x.offset)
        self.next = 0
        self.quiet = False  # while measuring: claim no comments
        self.pads: dict[int, tuple[int, ...]] = {}

    # -- positions
    def _offset(self, line: int, col: int) -> int | None:
        if not 0 < line <= len(self.starts):
            return None
        return self.starts[line - 1] + col - 1

    def _line_of(self, offset: int) -> int:
        return bisect.bisect_right(self.starts, offset)

    def _range(self, node: n.Node | None) -> _Range | None:
        sp = getattr(node, "span", None)
        if sp is None or not sp.line or not self.text:
            return None
        start, end = self._offset(sp.line, sp.col), self._offset(sp.end_line, sp.end_col)
        if start is None or end is None:
            return None
        return _Range(start, end, sp.line, sp.end_line)

    def _blank_between(self, last: int, first: int) -> bool:
        return any(not self.lines[j - 1].strip() for j in range(last + 1, first) if 0 < j <= len(self.lines))

    # -- the comment queue
    def _take_before(self, offset: int | None) -> list[_Note]:
        """Comments before ``offset`` not yet placed (``None``: all that are left)."""
        out: list[_Note] = []
        if self.quiet:
            return out
        while self.next < len(self.notes) and (offset is None or self.notes[self.next].offset < offset):
            out.append(self.notes[self.next])
            self.next += 1
        return out

    def _take_after(self, rng: _Range | None, limit: int | None, through: bool = False) -> list[_Note]:
        """Comments left inside ``rng``, then the one ending its last line (before ``limit``).

        ``through``: every comment up to ``limit``.  For the last item of a list followed by
        words that are not nodes (``to 3``, ``with sha256``): nothing else could claim the
        comments written between them, and the next run must find them where this one put them.
        """
        if rng is None or self.quiet:
            return []
        out = self._take_before(rng.end)
        if through and limit is not None:
            return out + self._take_before(limit)
        if self.next < len(self.notes):
            note = self.notes[self.next]
            if note.line == rng.end_line and (limit is None or note.offset < limit):
                out.append(note)
                self.next += 1
        return out

    @staticmethod
    def _lead(notes: Sequence[_Note]) -> list[Doc]:
        """Comments before an item: a stray trailing one stays at the end of the line before."""
        out: list[Doc] = []
        for i, note in enumerate(notes):
            out += [_Comment(note.text)] if i == 0 and not note.own_line else [HARD, _Comment(note.text)]
        return out

    @staticmethod
    def _tail(notes: Sequence[_Note], rng: _Range) -> list[Doc]:
        """Comments after an item: the first at the end of its line (unless it was on a line
        of its own after the item), the rest on lines of their own."""
        out: list[Doc] = []
        for i, note in enumerate(notes):
            trailing = i == 0 and (note.offset < rng.end or note.line == rng.end_line)
            out += [_Comment(note.text)] if trailing else [HARD, _Comment(note.text)]
        return out

    @contextmanager
    def _measuring(self) -> Iterator[None]:
        saved, self.quiet = self.quiet, True
        try:
            yield
        finally:
            self.quiet = saved

    def _raw_flags(self, rng: _Range | None, end: int | None = None) -> list[bool]:
        """For each string literal written inside ``rng`` (up to ``end``), whether it is raw."""
        if rng is None:
            return []
        stop = rng.end if end is None else end
        return [m.group().startswith("r") for m in _STRING_TOKEN.finditer(self.text, rng.start, stop)
                if m.group()[0] in "r\"'"]

    # -- dispatch
    def visit(self, node: n.Node) -> Doc:
        method: Callable[[Any], Doc] | None = getattr(self, "visit_" + type(node).__name__, None)
        if method is None:
            raise RouteQLError(f"routeql fmt has no layout for {type(node).__name__} nodes "
                               f"(add Formatter.visit_{type(node).__name__} to routeql/fmt.py)")
        return method(node)

    # -- lists of items: statements (one per line) and comma lists (filled)
    def _sequence(self, units: Sequence[n.Node], end: int | None, top: bool = False) -> tuple[list[Doc], list[Doc]]:
        """Statements of a block (or declarations of a file), one per line, with their comments.

        Returns the comment to put after the opening ``{`` and the body.
        """
        ranges = [self._range(u) for u in units]
        entries: list[_Entry] = []
        opener: list[Doc] = []
        for i, unit in enumerate(units):
            rng = ranges[i]
            lead = self._take_before(rng.start) if rng else []
            if not top and not entries and lead and not lead[0].own_line:
                opener, lead = [_Comment(lead[0].text)], lead[1:]
            entries += [_Entry([_Comment(c.text)], c.line, c.line) for c in lead]
            doc = self.visit(unit)
            nxt = ranges[i + 1] if i + 1 < len(units) else None
            tail = self._take_after(rng, nxt.start if nxt else end)
            last = max([rng.end_line if rng else 0] + [c.line for c in tail[:1]])
            entries.append(_Entry([doc, _Comment(tail[0].text)] if tail else doc, rng.line if rng else 0, last, unit))
            entries += [_Entry([_Comment(c.text)], c.line, c.line) for c in tail[1:]]
        rest = self._take_before(end)
        if not top and not entries and rest and not rest[0].own_line:
            opener, rest = [_Comment(rest[0].text)], rest[1:]
        entries += [_Entry([_Comment(c.text)], c.line, c.line) for c in rest]
        return opener, self._join_entries(entries, top)

    def _join_entries(self, entries: Sequence[_Entry], top: bool) -> list[Doc]:
        blank = [False] * len(entries)
        last = 0
        for k, e in enumerate(entries):
            if k and e.first:
                blank[k] = self._blank_between(last, e.first)
            last = max(last, e.last)
        if top:  # a blank line between declarations, except in a group of defines written together
            units = [k for k, e in enumerate(entries) if e.node is not None]
            for p, q in zip(units, units[1:]):
                grouped = all(isinstance(entries[k].node, (n.Define, n.ListDefine)) for k in (p, q))
                if not grouped and not any(blank[p + 1:q + 1]):
                    blank[p + 1] = True
        body: list[Doc] = []
        for k, e in enumerate(entries):
            if k:
                body += [HARD, HARD] if blank[k] else [HARD]
            body.append(e.doc)
        return body

    def _block(self, header: Doc, node: n.Node, units: Sequence[n.Node]) -> Doc:
        rng = self._range(node)
        opener, body = self._sequence(units, rng.end if rng else None)
        if not body:
            return [header, " {", opener, HARD, "}"] if opener else [header, " { }"]
        return [header, " {", opener, _Nest(INDENT, [HARD, body]), HARD, "}"]

    def _commas(self, items: Sequence[tuple[Callable[[], Doc], _Range | None]], *, limit: int | None,
                claim_last: bool = False, trailing_comma: bool = False) -> tuple[list[Doc], _Fill, bool]:
        """A comma-separated list filled into lines, each item with its comments.

        Returns the comments before the first item, the fill, and whether the last item
        carries a trailing comment (then it already has its trailing comma, if any).
        """
        head: list[Doc] = []
        parts: list[Doc] = []
        tailed = False
        for i, (make, rng) in enumerate(items):
            last = i == len(items) - 1
            lead = self._take_before(rng.start) if rng else []
            content: list[Doc] = [make()]
            if not last:
                content.append(",")
            if rng is not None and (claim_last or not last):
                nxt = items[i + 1][1] if not last else None
                tail = self._take_after(rng, nxt.start if nxt else limit, through=last)
                if tail:
                    if last:
                        tailed = True
                        if trailing_comma:
                            content.append(",")
                    content += self._tail(tail, rng)
            if i == 0:
                head = self._lead(lead)
            else:
                parts.append([*self._lead(lead), HARD] if lead else LINE)
            parts.append(content)
        return head, _Fill(parts), tailed

    def _items(self, nodes: Sequence[n.Node], limit: int | None = None, claim_last: bool = False) -> Doc:
        """``a, b, c`` of nodes with positions (paths, sources, destination references)."""
        head, fill, _ = self._commas([(lambda x=x: self.visit(x), self._range(x)) for x in nodes],
                                     limit=limit, claim_last=claim_last)
        return [head, HARD, fill] if head else fill

    @staticmethod
    def _names(names: Sequence[str]) -> _Fill:
        """``a, b, c`` of plain words (names and strings carry no positions of their own)."""
        parts: list[Doc] = []
        for i, x in enumerate(names):
            if i:
                parts.append(LINE)
            parts.append(x + ("," if i < len(names) - 1 else ""))
        return _Fill(parts)

    def _statement(self, words: str, targets: Sequence[n.Node], clauses: Sequence[Callable[[], Doc]] = (),
                   guard: n.Guard | None = None, follows: n.Node | None = None) -> Doc:
        """``hash a, b [with x] [salt y] [if cond]``: targets filled; when the statement does
        not fit on a line, each clause after the targets starts a line, indented once more.

        ``follows`` is the node written right after the targets, if any: a comment after
        the last target then stays there instead of moving to the end of the statement.
        Clauses are built lazily, after the targets, so comments are met in source order.
        """
        after = self._range(follows or guard)
        body: list[Doc] = [self._items(targets, limit=after.start if after else None, claim_last=after is not None)]
        body += [[LINE, clause()] for clause in clauses]
        if guard is not None:
            body.append(self.visit(guard))
        return _Group([words, " ", _Nest(INDENT, body)])

    # -- files and declarations
    def visit_Module(self, node: n.Module) -> Doc:
        self._align(node.decls)
        _, body = self._sequence(node.decls, None, top=True)
        return body

    def visit_ConsentBlock(self, node: n.ConsentBlock) -> Doc:
        self._align(node.items)
        return self._block("consent", node, node.items)

    def visit_Classify(self, node: n.Classify) -> Doc:
        self._align(node.defs)
        return self._block("classify", node, node.defs)

    def visit_Define(self, node: n.Define) -> Doc:
        pad = self.pads.get(id(node), (0,))[0]
        return ["define ", node.name.ljust(pad), " = ", self._cond(node.expr)]

    def visit_ListDefine(self, node: n.ListDefine) -> Doc:
        return ["define $", node.name, " = ", self.visit(node.values)]

    def visit_Destination(self, node: n.Destination) -> Doc:
        rng = self._range(node)
        first = self._range(node.body[0]) if node.body else None
        raws = self._raw_flags(rng, first.start if first else None)
        raws = raws if len(raws) == len(node.aliases) else [False] * len(node.aliases)
        clauses: list[Doc] = []
        if node.tags:
            clauses += [LINE, "tagged ", self._names(node.tags)]
        if node.aliases:
            clauses += [LINE, "alias ", self._names([quote(a, r) for a, r in zip(node.aliases, raws)])]
        header = _Group(["destination ", node.name, _Nest(2 * INDENT, clauses)])
        return self._block(header, node, node.body)

    def visit_Policy(self, node: n.Policy) -> Doc:
        rng = self._range(node)
        first = self._range(node.body[0]) if node.body else None
        raws = self._raw_flags(rng, first.start if first else None)
        name = quote(node.name, bool(raws and raws[0])) if node.quoted else node.name
        return self._block(["policy ", name], node, node.body)

    # -- consent block
    def visit_Category(self, node: n.Category) -> Doc:
        if not node.sources:
            return ["category ", node.name]
        pad = self.pads.get(id(node), (0,))[0]
        return _Group(["category ", node.name.ljust(pad), " from ", _Nest(INDENT, self._items(node.sources))])

    def visit_Source(self, node: n.Source) -> Doc:
        raws = iter(self._raw_flags(self._range(node)))
        words = [node.format]
        for i, arg in enumerate(node.args):
            quoted = node.quoted[i] if i < len(node.quoted) else not (isinstance(arg, str) and n.IDENT.match(arg))
            if isinstance(arg, str) and quoted:
                words.append(quote(arg, next(raws, False)))
            elif isinstance(arg, str):
                words.append(arg)
            else:
                words.append(number(arg))
        return " ".join(words)

    def visit_OptOut(self, node: n.OptOut) -> Doc:
        return _Group(["opt-out ", _Nest(INDENT, [self._names(node.categories), " by ", self._items(node.signals)])])

    def visit_Regime(self, node: n.Regime) -> Doc:
        if node.default:
            return ["default regime ", node.kind]
        names, prefixes = self.pads.get(id(node), (len(node.name or ""), 0))
        prefix = _regime_prefix(node, names)
        if node.when is None:
            return prefix
        return [prefix.ljust(prefixes), " when ", self._cond(node.when)]

    def visit_Compat(self, node: n.Compat) -> Doc:
        return ["compat ", node.name]

    def visit_SignalAt(self, node: n.SignalAt) -> Doc:
        return _Group([f"signal {node.format} at ", _Nest(INDENT, self._items(node.paths))])

    def visit_ClassDef(self, node: n.ClassDef) -> Doc:
        pad = self.pads.get(id(node), (0,))[0]
        return _Group([node.name.ljust(pad), " = ", _Nest(INDENT, self._items(node.paths))])

    def _align(self, units: Sequence[n.Node]) -> None:
        """Line up the ``from`` / ``=`` / ``when`` columns of consecutive statements of one kind.

        A run ends at a blank line or another kind of statement; among defines, only
        those that fit on one line take part (a long condition reads better unpadded).
        """
        run: list[n.Node] = []

        def kind(u: n.Node) -> type | None:
            if isinstance(u, (n.Define, n.ClassDef, n.Category)):
                return type(u)
            return n.Regime if isinstance(u, n.Regime) and not u.default else None

        def flush() -> None:
            members = [u for u in run if (not isinstance(u, n.Define) or self._one_line(u))
                       and (not isinstance(u, n.Category) or u.sources)]
            if len(members) > 1 and isinstance(members[0], n.Regime):
                names = max(len(u.name or "") for u in members)  # type: ignore[attr-defined]
                prefixes = max(len(_regime_prefix(u, names)) for u in members)  # type: ignore[arg-type]
                self.pads.update({id(u): (names, prefixes) for u in members})
            elif len(members) > 1:
                width = max(len(u.name) for u in members)  # type: ignore[attr-defined]
                self.pads.update({id(u): (width,) for u in members})
            run.clear()

        prev: n.Node | None = None
        for unit in units:
            k = kind(unit)
            if run and (k is None or k is not kind(run[-1]) or self._gap_is_blank(prev, unit)):
                flush()
            if k is not None:
                run.append(unit)
            prev = unit
        flush()

    def _gap_is_blank(self, a: n.Node | None, b: n.Node) -> bool:
        ra, rb = self._range(a), self._range(b)
        return bool(ra and rb and self._blank_between(ra.end_line, rb.line))

    def _one_line(self, node: n.Node) -> bool:
        """Whether the node fits on one line, comments aside (they move, so they must not count)."""
        with self._measuring():
            return _fits((0, True, self.visit(node)), [], WIDTH)

    # -- destination statements
    def visit_Requires(self, node: n.Requires) -> Doc:
        return _Group(["requires ", "any of " if node.any else "", _Nest(INDENT, self._names(node.categories))])

    def visit_RequiresVendor(self, node: n.RequiresVendor) -> Doc:
        basis = [" by ", node.basis] if node.explicit_basis or node.basis != "consent" else []
        return _Group(["requires tcf vendor ", _Nest(INDENT, [self._names([str(v) for v in node.vendors]), *basis])])

    def visit_When(self, node: n.When) -> Doc:
        return ["when ", self._cond(node.expr)]

    def visit_Keep(self, node: n.Keep) -> Doc:
        return self._statement("keep", node.targets, guard=node.guard)

    def visit_Drop(self, node: n.Drop) -> Doc:
        return self._statement("drop", node.targets, guard=node.guard)

    def visit_Hash(self, node: n.Hash) -> Doc:
        clauses: list[Callable[[], Doc]] = []
        if node.explicit_algorithm or node.algorithm != "sha256":
            clauses.append(lambda: "with " + node.algorithm)
        if node.salt is not None:
            clauses.append(lambda: self.visit(node.salt))  # type: ignore[arg-type]
        return self._statement("hash", node.targets, clauses, node.guard, node.salt)

    def visit_Salt(self, node: n.Salt) -> Doc:
        raws = self._raw_flags(self._range(node))
        where = "" if node.kind == "literal" else node.kind + " "
        return f"salt {where}{quote(node.value, bool(raws and raws[0]))}"

    def visit_Redact(self, node: n.Redact) -> Doc:
        raws = self._raw_flags(self._range(node))
        marker = node.marker
        clauses = [] if marker is None else [lambda: "with " + quote(marker, bool(raws and raws[0]))]
        return self._statement("redact", node.targets, clauses, node.guard)

    def visit_Truncate(self, node: n.Truncate) -> Doc:
        if node.kind == "ip":
            spec = f"/{node.v4}" + ("" if node.v6 is None else f" /{node.v6}")
        elif node.kind == "length":
            spec = str(node.length)
        elif node.kind == "time":
            spec = str(node.unit)
        else:
            raise RouteQLError(f"routeql fmt has no layout for truncate kind {node.kind!r}")
        return self._statement("truncate", node.targets, [lambda: "to " + spec], node.guard)

    def visit_Sample(self, node: n.Sample) -> Doc:
        p = node.percent
        doc: list[Doc] = ["sample ", str(int(p)) if float(p).is_integer() and abs(p) < 1e15 else number(p), "%"]
        if node.by is not None:
            doc += [" by ", self.visit(node.by)]
        if node.guard is not None:
            doc.append(_Nest(INDENT, self.visit(node.guard)))
        return _Group(doc)

    def visit_Guard(self, node: n.Guard) -> Doc:
        return [LINE, "unless " if node.unless else "if ", self._cond(node.expr)]

    # -- policies
    def visit_ForbidFields(self, node: n.ForbidFields) -> Doc:
        after = self._range(node.to[0]) if node.to else None
        body: list[Doc] = [self._items(node.targets, limit=after.start if after else None, claim_last=after is not None)]
        body += [LINE, "to ", self._dest_set(node.to, node.guard)]
        if node.guard is not None:
            body.append(self.visit(node.guard))
        return _Group(["forbid ", _Nest(INDENT, body)])

    def visit_ForbidEvents(self, node: n.ForbidEvents) -> Doc:
        body: list[Doc] = [self._dest_set(node.to, node.guard)]
        if node.guard is not None:
            body.append(self.visit(node.guard))
        return _Group(["forbid events to ", _Nest(INDENT, body)])

    def visit_RequireConsent(self, node: n.RequireConsent) -> Doc:
        body: list[Doc] = ["any of " if node.any else "", self._names(node.categories)]
        body += [LINE, "for ", self._dest_set(node.to, node.guard)]
        if node.guard is not None:
            body.append(self.visit(node.guard))
        return _Group(["require consent ", _Nest(INDENT, body)])

    def _dest_set(self, refs: Sequence[n.DestRef], guard: n.Guard | None) -> Doc:
        follows = self._range(guard)
        return self._items(refs, limit=follows.start if follows else None, claim_last=follows is not None)

    def visit_DestRef(self, node: n.DestRef) -> Doc:
        return {"name": node.name, "tag": f"tagged {node.name}", "all": "all"}[node.kind]

    # -- tracking plans
    def visit_Plan(self, node: n.Plan) -> Doc:
        rng = self._range(node)
        first = self._range(node.items[0]) if node.items else None
        header: list[Doc] = ["plan"]
        if node.name is not None:
            raws = self._raw_flags(rng, first.start if first else None)
            header.append(" " + (quote(node.name, bool(raws and raws[0])) if node.quoted else node.name))
        if node.when is not None:
            header += [" when ", self._cond(node.when)]
        return self._block(header, node, node.items)

    def visit_PlanSetting(self, node: n.PlanSetting) -> Doc:
        return ("violations " if node.target == "violations" else f"unplanned {node.target} ") + node.mode

    def visit_DestPlan(self, node: n.DestPlan) -> Doc:
        return ["plan ", self.visit(node.setting)]

    def visit_PlanEntry(self, node: n.PlanEntry) -> Doc:
        if node.kind == "common":
            header = "common"
        elif node.name is None:
            header = node.kind
        else:
            header = f"{node.kind} {quote(node.name, self._raw_for(self._range(node), node.name))}"
        return self._fields(header, node, node.fields, node.description)

    def visit_FieldSpec(self, node: n.FieldSpec) -> Doc:
        doc: list[Doc] = ["required " if node.required else "optional ", self.visit(node.path), ": ",
                          _join([self.visit(t) for t in node.types], " | ")]
        if node.enum is not None:
            doc += [" in ", self.visit(node.enum)]
        doc += [f" {op} {number(v)}" for op, v in node.ranges]
        doc += [f" length {op} {v}" for op, v in node.lengths]
        rng = self._range(node)
        if node.pattern is not None:
            doc.append(" pattern " + quote(node.pattern, self._raw_for(rng, node.pattern)))
        if node.format is not None:
            doc.append(" format " + node.format)
        if node.description is not None:
            doc.append(" description " + quote(node.description, self._raw_for(rng, node.description)))
        return doc

    def visit_TypeSpec(self, node: n.TypeSpec) -> Doc:
        if node.name == "array":
            return "array" if node.items is None else ["array of ", self.visit(node.items)]
        if node.name == "object" and (node.fields is not None or node.description is not None):
            return self._fields("object", node, node.fields or (), node.description)
        return node.name

    def _fields(self, header: str, node: n.Node, fields: Sequence[n.Node], description: str | None) -> Doc:
        """A plan entry or object body: one field per line; a lone field may share the braces' line."""
        rng = self._range(node)
        opener, body = self._sequence(fields, rng.end if rng else None)
        if description is not None:
            line = "description " + quote(description, self._raw_for(rng, description))
            body = [line, HARD, body] if body else [line]
        if not body:
            return [header, " {", opener, HARD, "}"] if opener else [header, " { }"]
        if len(fields) == 1 and description is None:
            return _Group([header, " {", opener, _Nest(INDENT, [LINE, body]), LINE, "}"])
        return [header, " {", opener, _Nest(INDENT, [HARD, body]), HARD, "}"]

    def _raw_for(self, rng: _Range | None, value: str) -> bool:
        """Whether ``value`` was written as a raw string somewhere in ``rng``."""
        if rng is None:
            return False
        return any(m.group()[2:-1] == value for m in _STRING_TOKEN.finditer(self.text, rng.start, rng.end)
                   if m.group()[:2] in ('r"', "r'"))

    # -- conditions
    def _cond(self, expr: n.Node, parent: type | None = None) -> Doc:
        doc = self.visit(expr)
        # an `and` inside an `or` keeps its parentheses: not needed, but people read it faster
        tight = {n.Or: (n.And, n.Or, n.Not), n.And: (n.And, n.Not, n.Or)}.get(type(expr), ())
        return ["(", doc, ")"] if parent in tight else doc

    def visit_Or(self, node: n.Or) -> Doc:
        return self._chain(node, node.items, "or")

    def visit_And(self, node: n.And) -> Doc:
        return self._chain(node, node.items, "and")

    def _chain(self, node: n.Node, items: Sequence[n.Node], word: str) -> Doc:
        """``a and b and c``: on one line if it fits, else one operand per line, ``and`` first.

        When only a list at the end is too long, the list is broken instead:
        ``type = "track" and event in [`` ... ``]``.
        """
        ranges = [self._range(x) for x in items]
        parts: list[Doc] = []
        docs: list[Doc] = []
        plain = True  # no comment between the operands
        for i, item in enumerate(items):
            rng = ranges[i]
            lead = self._take_before(rng.start) if rng and i else []
            doc = self._cond(item, type(node))
            docs.append(doc)
            if i:
                parts += [*self._lead(lead), HARD] if lead else [LINE]
                parts += [word + " ", doc]
            else:
                parts.append(doc)
            tail: list[_Note] = []
            if i < len(items) - 1:
                nxt = ranges[i + 1]
                tail = self._take_after(rng, nxt.start if nxt else None)
                parts += self._tail(tail, rng) if rng else []
            plain = plain and not lead and not tail
        group = _Group(_Nest(INDENT, parts))
        last = items[-1]
        ends_in_list = isinstance(last, (n.Compare, n.In)) and isinstance(last.right, n.Literal) \
            and isinstance(last.right.value, tuple) and last.right.value
        if plain and ends_in_list:
            return _Either(group, _join(docs, f" {word} "))
        return group

    def visit_Not(self, node: n.Not) -> Doc:
        return ["not ", self._cond(node.operand, n.Not)]

    def visit_Compare(self, node: n.Compare) -> Doc:
        return [self.visit(node.left), f" {node.op} ", self.visit(node.right)]

    def visit_In(self, node: n.In) -> Doc:
        return [self.visit(node.left), " not in " if node.negated else " in ", self.visit(node.right)]

    def visit_Exists(self, node: n.Exists) -> Doc:
        return [self.visit(node.operand), " missing" if node.negated else " exists"]

    def visit_Match(self, node: n.Match) -> Doc:
        return [self.visit(node.subject), " matches regex " if node.kind == "regex" else " matches ",
                self.visit(node.pattern)]

    def visit_ConsentTest(self, node: n.ConsentTest) -> Doc:
        return "consent " + node.category

    def visit_DefineRef(self, node: n.DefineRef) -> Doc:
        return key(node.name, head=True)

    def visit_Truth(self, node: n.Truth) -> Doc:
        return self.visit(node.value)

    # -- values
    def visit_Path(self, node: n.Path) -> Doc:
        return path_text(node.segments)

    def visit_ListRef(self, node: n.ListRef) -> Doc:
        return "$" + node.name

    def visit_Call(self, node: n.Call) -> Doc:
        return [node.name, "(", _join([self.visit(a) for a in node.args], ", "), ")"]

    def visit_Literal(self, node: n.Literal) -> Doc:
        rng = self._range(node)
        return self._constant(node.value, rng, rng is not None and self.text.startswith(("r\"", "r'"), rng.start))

    def _constant(self, value: Any, rng: _Range | None, raw: bool = False) -> Doc:
        if value is None:
            return "null"
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, (int, float)):
            return number(value)
        if isinstance(value, str):
            return quote(value, raw)
        if isinstance(value, tuple):
            return self._list(value, rng)
        raise RouteQLError(f"routeql fmt cannot write a {type(value).__name__} constant")

    def _list(self, values: tuple[Any, ...], rng: _Range | None) -> Doc:
        """``[a, b]``, or broken after ``[`` with the items filled and a trailing comma."""
        spots = self._elements(rng) if rng else None
        if spots is None or len(spots) != len(values):
            spots = [None] * len(values)
        items = [(lambda v=v, r=r: self._constant(v, r, r is not None and self.text.startswith(("r\"", "r'"), r.start)), r)
                 for v, r in zip(values, spots)]
        end = rng.end if rng else None
        head, fill, tailed = self._commas(items, limit=end, claim_last=True, trailing_comma=True)
        rest = self._lead(self._take_before(end)) if rng else []
        if not values:
            return _Group(["[", _Nest(INDENT, rest), SOFT, "]"]) if rest else "[]"
        comma: Doc = "" if tailed else _IfBreak(",")
        return _Group(["[", _Nest(INDENT, [head, SOFT, fill, comma, rest]), SOFT, "]"])

    def _elements(self, rng: _Range) -> list[_Range | None] | None:
        """Where each element of a list literal was written (list elements carry no spans)."""
        out: list[_Range | None] = []
        depth, pos, cur = 0, rng.start, None
        while pos < rng.end:
            m = _LIST_TOKEN.match(self.text, pos, rng.end)
            if m is None:
                return None
            tok, pos = m.group(), m.end()
            if tok[0].isspace() or tok[0] == "#":
                continue
            if tok == "[":
                depth += 1
                if depth == 1:
                    continue
            elif tok == "]":
                depth -= 1
            if depth == 0 or (depth == 1 and tok == ","):
                if cur is not None:
                    out.append(_Range(cur[0], cur[1], self._line_of(cur[0]), self._line_of(cur[1] - 1)))
                cur = None
                if depth == 0:
                    break
                continue
            cur = (m.start(), m.end()) if cur is None else (cur[0], m.end())
        return out


def _regime_prefix(node: n.Regime, names: int) -> str:
    """``regime NAME KIND`` with the name column ``names`` wide (blank for an unnamed regime)."""
    return "regime " + ((node.name or "").ljust(names) + " " if names else "") + node.kind


# ------------------------------------------------------------------ entry points


def format_module(module: n.Module, text: str = "") -> str:
    """Lay out a parsed module; ``text`` is the source it came from (for comments and blank lines)."""
    if module.comments and not text:
        raise RouteQLError("format_module: the source text is needed to put the comments back")
    out = _render(Formatter(module, text).visit(module))
    out = out.strip("\n")
    return out + "\n" if out else ""


def format_source(text: str, file: str = "<string>") -> str:
    """The canonical layout of one file of rules; raises RouteQLSyntaxError if it does not parse.

    The result is checked before it is returned: it must parse to the same tree with the
    same comments, in order, or RouteQLError is raised (the input is never lost).

    >>> format_source("define  known=userId exists # people we know")
    'define known = userId exists  # people we know\\n'
    """
    module = parse(text, file)
    out = format_module(module, text)
    try:
        again = parse(out, file)
    except RouteQLSyntaxError as e:
        raise RouteQLError(f"{file}: routeql fmt produced text that does not parse (a bug; the input is "
                           f"left as it was):\n{e}") from None
    if again.decls != module.decls or [c.text.rstrip() for c in again.comments] != [c.text.rstrip() for c in module.comments]:
        raise RouteQLError(f"{file}: routeql fmt produced text that does not mean the same as the input "
                           "(a bug; the input is left as it was)")
    return out
