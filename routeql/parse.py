"""Text -> nodes: the Lark facade, the tree-to-AST transformer, and syntax errors.

:func:`parse` turns the text of one ``.rq`` file into a :class:`~routeql.nodes.Module`
or raises :class:`~routeql.errors.RouteQLSyntaxError` carrying *every* syntax error it
can find: when the whole file does not parse, each top-level declaration is parsed on
its own so one typo does not hide the next.

>>> m = parse('define known = userId exists', "x.rq")
>>> m.decls[0].name
'known'
"""

from __future__ import annotations

import functools
import re
from importlib import resources
from pathlib import Path as FsPath
from typing import Any, Callable

from lark import Lark, Token, Transformer, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken, VisitError

from . import nodes as n
from .errors import Diagnostic, RouteQLSyntaxError, Span, did_you_mean

__all__ = ["parse", "parse_condition", "grammar_text", "parser", "DECLARATION_KEYWORDS", "STATEMENT_KEYWORDS"]

DECLARATION_KEYWORDS = ("consent", "classify", "define", "destination", "policy", "plan")
STATEMENT_KEYWORDS = ("requires", "when", "keep", "drop", "hash", "redact", "truncate", "sample", "plan")
PLAN_KEYWORDS = ("unplanned", "violations", "common", "track", "identify", "page", "screen", "group")
FIELD_KEYWORDS = ("required", "optional")
POLICY_KEYWORDS = ("forbid", "require")
CONSENT_KEYWORDS = ("category", "opt-out", "regime", "default", "compat", "signal")

#: Literal sizes and nesting the parser accepts (see docs/security.md).
MAX_SOURCE_CHARS = 4_000_000
MAX_STRING_CHARS = 100_000
MAX_NUMBER_DIGITS = 100
MAX_NESTING = 64


def grammar_text() -> str:
    """The grammar, from inside the installed package or from the source tree."""
    try:
        return resources.files("routeql").joinpath("grammar/routeql.lark").read_text(encoding="utf-8")
    except (FileNotFoundError, NotADirectoryError):
        here = FsPath(__file__).resolve().parent.parent / "grammar" / "routeql.lark"
        return here.read_text(encoding="utf-8")


@functools.lru_cache(maxsize=None)
def parser(start: str = "start", strict: bool = False) -> Lark:
    """The Lark parser, built once per process and start symbol."""
    return Lark(
        grammar_text(),
        parser="lalr",
        lexer="contextual",
        start=start,
        propagate_positions=True,
        maybe_placeholders=True,
        strict=strict,
    )


# ------------------------------------------------------------------ tokens -> values

_ESCAPES = {"\\": "\\", '"': '"', "'": "'", "`": "`", "n": "\n", "t": "\t", "r": "\r", "0": "\0", "/": "/"}
_ESCAPE_RE = re.compile(r"\\(u\{[0-9A-Fa-f]{1,6}\}|u[0-9A-Fa-f]{4}|.)", re.S)


class _BadEscape(Exception):
    def __init__(self, escape: str, offset: int) -> None:
        self.escape = escape
        self.offset = offset


def unescape(body: str) -> str:
    """Decode the escapes of a quoted string body.

    >>> unescape(r'a\\tb\\u00e9\\\\')
    'a\\tbé\\\\'
    """

    def repl(m: re.Match[str]) -> str:
        esc = m.group(1)
        if esc in _ESCAPES:
            return _ESCAPES[esc]
        if esc.startswith("u{"):
            code = int(esc[2:-1], 16)
        elif esc.startswith("u") and len(esc) == 5:
            code = int(esc[1:], 16)
        elif esc == "u":
            raise _BadEscape(esc, m.start())
        else:
            # Any other escape keeps its backslash, so patterns read naturally
            # ("^\d+$", "ab\*d") and Segment FQL strings (which have no escapes) carry over.
            return "\\" + esc
        if code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
            raise _BadEscape(esc, m.start())
        return chr(code)

    return _ESCAPE_RE.sub(repl, body)


def _tok_span(tok: Token, file: str) -> n.Span:
    return Span(file, tok.line or 0, tok.column or 0, tok.end_line or tok.line or 0, tok.end_column or tok.column or 0)


class _SyntaxProblem(Exception):
    """Raised inside the transformer for a token that lexes but is not acceptable."""

    def __init__(self, diagnostic: Diagnostic) -> None:
        self.diagnostic = diagnostic


class _ToAst(Transformer[Token, Any]):
    """Lark tree -> routeql.nodes.  One method per grammar alias."""

    def __init__(self, file: str, lines: list[str]) -> None:
        super().__init__(visit_tokens=False)  # no method per token type: tokens pass as they are
        self.file = file
        self.lines = lines

    # -- helpers
    def _span(self, meta: Any) -> Span:
        if getattr(meta, "empty", True):
            return n.NOSPAN
        return Span(self.file, meta.line, meta.column, meta.end_line, meta.end_column)

    def _problem(self, tok: Token, code: str, message: str, hint: str | None = None) -> _SyntaxProblem:
        span = _tok_span(tok, self.file)
        line = self.lines[span.line - 1] if 0 < span.line <= len(self.lines) else None
        return _SyntaxProblem(Diagnostic(code, message, span, source_line=line, hint=hint))

    def _string(self, tok: Token) -> str:
        text = str(tok)
        if len(text) > MAX_STRING_CHARS:
            raise self._problem(tok, "RQ105", f"string literal longer than {MAX_STRING_CHARS} characters",
                                "long lists of values belong in a `define $NAME = [...]` list, one item per line")
        if text[0] == "r":
            return text[2:-1]
        try:
            return unescape(text[1:-1])
        except _BadEscape as e:
            raise self._problem(tok, "RQ104", f"invalid escape '\\{e.escape}' in string",
                                'write \\u followed by 4 hex digits, or \\u{...} with 1 to 6')

    def _name(self, tok: Token) -> str:
        text = str(tok)
        if text.startswith("`"):
            try:
                return unescape(text[1:-1])
            except _BadEscape as e:
                raise self._problem(tok, "RQ104", f"invalid escape '\\{e.escape}' in quoted name",
                                    "write \\\\ for a backslash and \\` for a backtick")
        return text

    def _number(self, tok: Token) -> int | float:
        text = str(tok)
        if len(text) > MAX_NUMBER_DIGITS:
            raise self._problem(tok, "RQ105", f"number literal longer than {MAX_NUMBER_DIGITS} characters")
        if re.fullmatch(r"[-+]?\d+", text):
            return int(text)
        value = float(text)
        if value != value or value in (float("inf"), float("-inf")):
            raise self._problem(tok, "RQ105", "number literal out of range")
        return value

    # -- top level
    def start(self, children: list[Any]) -> list[n.Node]:
        return [c for c in children if c is not None]

    @v_args(meta=True)
    def consent_block(self, meta: Any, items: list[Any]) -> n.ConsentBlock:
        return n.ConsentBlock(tuple(items), span=self._span(meta))

    @v_args(meta=True)
    def category(self, meta: Any, ch: list[Any]) -> n.Category:
        return n.Category(str(ch[0]), tuple(c for c in ch[1:] if c is not None), span=self._span(meta))

    @v_args(meta=True)
    def opt_out(self, meta: Any, ch: list[Any]) -> n.OptOut:
        return n.OptOut(ch[1], tuple(c for c in ch[2:] if c is not None), span=self._span(meta))

    @v_args(meta=True)
    def source(self, meta: Any, ch: list[Any]) -> n.Source:
        args = tuple(value for value, _ in ch[1:])
        quoted = tuple(q for _, q in ch[1:])
        return n.Source(str(ch[0]), args, quoted, span=self._span(meta))

    def arg_string(self, ch: list[Token]) -> tuple[str, bool]:
        return self._string(ch[0]), True

    def arg_number(self, ch: list[Token]) -> tuple[int | float, bool]:
        return self._number(ch[0]), False

    def arg_name(self, ch: list[Token]) -> tuple[str, bool]:
        return str(ch[0]), False

    def regime_kind(self, ch: list[Token]) -> str:
        return str(ch[0])

    @v_args(meta=True)
    def regime(self, meta: Any, ch: list[Any]) -> n.Regime:
        name, kind, when = ch
        return n.Regime(kind, None if name is None else str(name), when, span=self._span(meta))

    @v_args(meta=True)
    def default_regime(self, meta: Any, ch: list[Any]) -> n.Regime:
        return n.Regime(ch[0], None, None, default=True, span=self._span(meta))

    @v_args(meta=True)
    def compat(self, meta: Any, ch: list[Any]) -> n.Compat:
        return n.Compat(str(ch[0]), span=self._span(meta))

    @v_args(meta=True)
    def signal_at(self, meta: Any, ch: list[Any]) -> n.SignalAt:
        return n.SignalAt(str(ch[0]), tuple(ch[1:]), span=self._span(meta))

    @v_args(meta=True)
    def classify_block(self, meta: Any, ch: list[Any]) -> n.Classify:
        return n.Classify(tuple(ch), span=self._span(meta))

    @v_args(meta=True)
    def class_def(self, meta: Any, ch: list[Any]) -> n.ClassDef:
        return n.ClassDef(ch[0], tuple(ch[1:]), span=self._span(meta))

    def dotted_name(self, ch: list[Token]) -> str:
        return ".".join(str(t) for t in ch)

    @v_args(meta=True)
    def define(self, meta: Any, ch: list[Any]) -> n.Define:
        return n.Define(str(ch[0]), ch[1], span=self._span(meta))

    @v_args(meta=True)
    def list_define(self, meta: Any, ch: list[Any]) -> n.ListDefine:
        return n.ListDefine(str(ch[0])[1:], ch[1], span=self._span(meta))

    # -- destinations
    @v_args(meta=True)
    def destination(self, meta: Any, ch: list[Any]) -> n.Destination:
        tags: list[str] = []
        aliases: list[str] = []
        body: list[n.Node] = []
        for c in ch[1:]:
            if isinstance(c, tuple) and c and c[0] == "tags":
                tags.extend(c[1])
            elif isinstance(c, tuple) and c and c[0] == "aliases":
                aliases.extend(c[1])
            elif c is not None:
                body.append(c)
        return n.Destination(str(ch[0]), tuple(tags), tuple(aliases), tuple(body), span=self._span(meta))

    def tags(self, ch: list[Token]) -> tuple[str, tuple[str, ...]]:
        return ("tags", tuple(str(t) for t in ch))

    def aliases(self, ch: list[Token]) -> tuple[str, tuple[str, ...]]:
        return ("aliases", tuple(self._string(t) for t in ch))

    def name_list(self, ch: list[Token]) -> tuple[str, ...]:
        return tuple(str(t) for t in ch)

    def targets(self, ch: list[n.Path]) -> tuple[n.Path, ...]:
        return tuple(ch)

    @v_args(meta=True)
    def requires(self, meta: Any, ch: list[Any]) -> n.Requires:
        return n.Requires(ch[1], any=ch[0] is not None, span=self._span(meta))

    @v_args(meta=True)
    def requires_vendor(self, meta: Any, ch: list[Any]) -> n.RequiresVendor:
        basis = ch[-1]
        ids = tuple(int(t) for t in ch[:-1])
        return n.RequiresVendor(ids, "consent" if basis is None else str(basis), basis is not None,
                                span=self._span(meta))

    @v_args(meta=True)
    def when(self, meta: Any, ch: list[Any]) -> n.When:
        return n.When(ch[0], span=self._span(meta))

    @v_args(meta=True)
    def keep(self, meta: Any, ch: list[Any]) -> n.Keep:
        return n.Keep(ch[0], ch[1], span=self._span(meta))

    @v_args(meta=True)
    def drop(self, meta: Any, ch: list[Any]) -> n.Drop:
        return n.Drop(ch[0], ch[1], span=self._span(meta))

    @v_args(meta=True)
    def hash(self, meta: Any, ch: list[Any]) -> n.Hash:
        targets, algo, salt, guard = ch
        return n.Hash(targets, algo or "sha256", salt, guard, explicit_algorithm=algo is not None, span=self._span(meta))

    def hash_with(self, ch: list[Token]) -> str:
        return str(ch[0])

    @v_args(meta=True)
    def salt_literal(self, meta: Any, ch: list[Token]) -> n.Salt:
        return n.Salt("literal", self._string(ch[0]), span=self._span(meta))

    @v_args(meta=True)
    def salt_env(self, meta: Any, ch: list[Token]) -> n.Salt:
        return n.Salt("env", self._string(ch[0]), span=self._span(meta))

    @v_args(meta=True)
    def salt_config(self, meta: Any, ch: list[Token]) -> n.Salt:
        return n.Salt("config", self._string(ch[0]), span=self._span(meta))

    @v_args(meta=True)
    def redact(self, meta: Any, ch: list[Any]) -> n.Redact:
        targets, marker, guard = ch
        return n.Redact(targets, None if marker is None else self._string(marker), guard, span=self._span(meta))

    @v_args(meta=True)
    def truncate(self, meta: Any, ch: list[Any]) -> n.Truncate:
        targets, spec, guard = ch
        return n.Truncate(targets, guard=guard, span=self._span(meta), **spec)

    def trunc_ip(self, ch: list[Any]) -> dict[str, Any]:
        return {"kind": "ip", "v4": int(ch[0]), "v6": None if ch[1] is None else int(ch[1])}

    def trunc_length(self, ch: list[Token]) -> dict[str, Any]:
        return {"kind": "length", "length": int(ch[0])}

    def trunc_time(self, ch: list[Token]) -> dict[str, Any]:
        return {"kind": "time", "unit": str(ch[0])}

    @v_args(meta=True)
    def sample(self, meta: Any, ch: list[Any]) -> n.Sample:
        return n.Sample(float(self._number(ch[0])), ch[1], ch[2], span=self._span(meta))

    @v_args(meta=True)
    def guard_if(self, meta: Any, ch: list[Any]) -> n.Guard:
        return n.Guard(ch[1], unless=False, span=self._span(meta))

    @v_args(meta=True)
    def guard_unless(self, meta: Any, ch: list[Any]) -> n.Guard:
        return n.Guard(ch[1], unless=True, span=self._span(meta))

    # -- policies
    @v_args(meta=True)
    def policy(self, meta: Any, ch: list[Any]) -> n.Policy:
        tok = ch[0]
        quoted = tok.type == "STRING"
        name = self._string(tok) if quoted else str(tok)
        return n.Policy(name, tuple(c for c in ch[1:] if c is not None), quoted=quoted, span=self._span(meta))

    @v_args(meta=True)
    def forbid_fields(self, meta: Any, ch: list[Any]) -> n.ForbidFields:
        return n.ForbidFields(ch[0], ch[1], ch[2], span=self._span(meta))

    @v_args(meta=True)
    def forbid_events(self, meta: Any, ch: list[Any]) -> n.ForbidEvents:
        return n.ForbidEvents(ch[0], ch[1], span=self._span(meta))

    @v_args(meta=True)
    def require_consent(self, meta: Any, ch: list[Any]) -> n.RequireConsent:
        return n.RequireConsent(ch[1], ch[2], any=ch[0] is not None, guard=ch[3], span=self._span(meta))

    def dest_set(self, ch: list[n.DestRef]) -> tuple[n.DestRef, ...]:
        return tuple(ch)

    @v_args(meta=True)
    def dest_name(self, meta: Any, ch: list[Token]) -> n.DestRef:
        return n.DestRef("name", str(ch[0]), span=self._span(meta))

    @v_args(meta=True)
    def dest_tag(self, meta: Any, ch: list[Token]) -> n.DestRef:
        return n.DestRef("tag", str(ch[0]), span=self._span(meta))

    @v_args(meta=True)
    def dest_all(self, meta: Any, ch: list[Token]) -> n.DestRef:
        return n.DestRef("all", "", span=self._span(meta))

    # -- tracking plans
    @v_args(meta=True)
    def plan(self, meta: Any, ch: list[Any]) -> n.Plan:
        name_tok, when, *items = ch
        quoted = name_tok is not None and name_tok.type == "STRING"
        name = None if name_tok is None else (self._string(name_tok) if quoted else str(name_tok))
        return n.Plan(name, tuple(i for i in items if i is not None), when, quoted, span=self._span(meta))

    def _setting(self, meta: Any, target: str, tok: Token) -> n.PlanSetting:
        return n.PlanSetting(target, str(tok), span=self._span(meta))

    @v_args(meta=True)
    def unplanned_events(self, meta: Any, ch: list[Token]) -> n.PlanSetting:
        return self._setting(meta, "events", ch[0])

    @v_args(meta=True)
    def unplanned_properties(self, meta: Any, ch: list[Token]) -> n.PlanSetting:
        return self._setting(meta, "properties", ch[0])

    @v_args(meta=True)
    def violations(self, meta: Any, ch: list[Token]) -> n.PlanSetting:
        return self._setting(meta, "violations", ch[0])

    @v_args(meta=True)
    def dest_plan(self, meta: Any, ch: list[Any]) -> n.DestPlan:
        return n.DestPlan(ch[0], span=self._span(meta))

    def plan_body(self, ch: list[Any]) -> tuple[str | None, tuple[n.FieldSpec, ...]]:
        desc = None if ch[0] is None else self._string(ch[0])
        return desc, tuple(ch[1:])

    @v_args(meta=True)
    def plan_common(self, meta: Any, ch: list[Any]) -> n.PlanEntry:
        desc, fields = ch[0]
        return n.PlanEntry("common", None, fields, desc, span=self._span(meta))

    @v_args(meta=True)
    def plan_entry(self, meta: Any, ch: list[Any]) -> n.PlanEntry:
        kind, name, (desc, fields) = ch
        return n.PlanEntry(str(kind), None if name is None else self._string(name), fields, desc, span=self._span(meta))

    @v_args(meta=True)
    def field_spec(self, meta: Any, ch: list[Any]) -> n.FieldSpec:
        required, path, types, *constraints = ch
        kw: dict[str, Any] = {"ranges": [], "lengths": []}
        for kind, value in constraints:
            if kind in ("ranges", "lengths"):
                kw[kind].append(value)
            else:
                kw[kind] = value
        kw["ranges"] = tuple(kw["ranges"])
        kw["lengths"] = tuple(kw["lengths"])
        return n.FieldSpec(path, str(required) == "required", types, span=self._span(meta), **kw)

    def type_union(self, ch: list[n.TypeSpec]) -> tuple[n.TypeSpec, ...]:
        return tuple(ch)

    @v_args(meta=True)
    def type_simple(self, meta: Any, ch: list[Token]) -> n.TypeSpec:
        return n.TypeSpec(str(ch[0]), span=self._span(meta))

    @v_args(meta=True)
    def type_object(self, meta: Any, ch: list[Any]) -> n.TypeSpec:
        if ch[0] is None:
            return n.TypeSpec("object", span=self._span(meta))
        desc, fields = ch[0]
        return n.TypeSpec("object", fields, None, desc, span=self._span(meta))

    @v_args(meta=True)
    def type_array(self, meta: Any, ch: list[Any]) -> n.TypeSpec:
        return n.TypeSpec("array", None, ch[0], span=self._span(meta))

    def c_enum(self, ch: list[Any]) -> tuple[str, Any]:
        value = ch[0]
        if isinstance(value, Token):  # a $LIST
            return "enum", n.ListRef(str(value)[1:], span=_tok_span(value, self.file))
        return "enum", value

    def c_range(self, ch: list[Token]) -> tuple[str, Any]:
        return "ranges", (str(ch[0]), self._number(ch[1]))

    def c_length(self, ch: list[Token]) -> tuple[str, Any]:
        return "lengths", (str(ch[0]), int(ch[1]))

    def c_pattern(self, ch: list[Token]) -> tuple[str, Any]:
        return "pattern", self._string(ch[0])

    def c_format(self, ch: list[Token]) -> tuple[str, Any]:
        return "format", str(ch[0])

    def c_description(self, ch: list[Token]) -> tuple[str, Any]:
        return "description", self._string(ch[0])

    # -- conditions
    @v_args(meta=True)
    def or_(self, meta: Any, ch: list[Any]) -> Any:
        return ch[0] if len(ch) == 1 else n.Or(tuple(ch), span=self._span(meta))

    @v_args(meta=True)
    def and_(self, meta: Any, ch: list[Any]) -> Any:
        return ch[0] if len(ch) == 1 else n.And(tuple(ch), span=self._span(meta))

    @v_args(meta=True)
    def not_(self, meta: Any, ch: list[Any]) -> n.Not:
        return n.Not(ch[0], span=self._span(meta))

    @v_args(meta=True)
    def compare(self, meta: Any, ch: list[Any]) -> n.Compare:
        op = str(ch[1])
        return n.Compare("=" if op == "==" else op, ch[0], ch[2], span=self._span(meta))

    @v_args(meta=True)
    def in_(self, meta: Any, ch: list[Any]) -> n.In:
        return n.In(ch[0], ch[1], span=self._span(meta))

    @v_args(meta=True)
    def not_in(self, meta: Any, ch: list[Any]) -> n.In:
        return n.In(ch[0], ch[1], negated=True, span=self._span(meta))

    @v_args(meta=True)
    def exists(self, meta: Any, ch: list[Any]) -> n.Exists:
        return n.Exists(ch[0], span=self._span(meta))

    @v_args(meta=True)
    def missing(self, meta: Any, ch: list[Any]) -> n.Exists:
        return n.Exists(ch[0], negated=True, span=self._span(meta))

    @v_args(meta=True)
    def glob(self, meta: Any, ch: list[Any]) -> n.Match:
        return n.Match(ch[0], ch[1], "glob", span=self._span(meta))

    @v_args(meta=True)
    def regex(self, meta: Any, ch: list[Any]) -> n.Match:
        return n.Match(ch[0], ch[1], "regex", span=self._span(meta))

    @v_args(meta=True)
    def consent_test(self, meta: Any, ch: list[Token]) -> n.ConsentTest:
        return n.ConsentTest(str(ch[0]), span=self._span(meta))

    @v_args(meta=True)
    def truth(self, meta: Any, ch: list[Any]) -> Any:
        value = ch[0]
        # A single plain name in condition position is a named predicate (`define`).
        if isinstance(value, n.Path) and len(value.segments) == 1 and isinstance(value.segments[0], str):
            if n.IDENT.match(value.segments[0]):
                return n.DefineRef(value.segments[0], span=value.span)
        return n.Truth(value, span=self._span(meta))

    @v_args(meta=True)
    def call(self, meta: Any, ch: list[Any]) -> n.Call:
        return n.Call(str(ch[0]), tuple(c for c in ch[1:] if c is not None), span=self._span(meta))

    @v_args(meta=True)
    def list_ref(self, meta: Any, ch: list[Token]) -> n.ListRef:
        return n.ListRef(str(ch[0])[1:], span=self._span(meta))

    @v_args(meta=True)
    def string(self, meta: Any, ch: list[Token]) -> n.Literal:
        return n.Literal(self._string(ch[0]), span=self._span(meta))

    @v_args(meta=True)
    def number(self, meta: Any, ch: list[Token]) -> n.Literal:
        return n.Literal(self._number(ch[0]), span=self._span(meta))

    @v_args(meta=True)
    def true(self, meta: Any, ch: list[Token]) -> n.Literal:
        return n.Literal(True, span=self._span(meta))

    @v_args(meta=True)
    def false(self, meta: Any, ch: list[Token]) -> n.Literal:
        return n.Literal(False, span=self._span(meta))

    @v_args(meta=True)
    def null(self, meta: Any, ch: list[Token]) -> n.Literal:
        return n.Literal(None, span=self._span(meta))

    @v_args(meta=True)
    def list(self, meta: Any, ch: list[Any]) -> n.Literal:
        return n.Literal(tuple(c.value for c in ch if c is not None), span=self._span(meta))

    @v_args(meta=True)
    def path(self, meta: Any, ch: list[Any]) -> n.Path:
        head = self._name(ch[0])
        return n.Path((head, *ch[1:]), span=self._span(meta))

    def key(self, ch: list[Token]) -> str:
        return self._name(ch[0])

    def index(self, ch: list[Token]) -> int:
        return int(ch[0])

    def wild(self, ch: list[Token]) -> n.Wild:
        return n.WILD


# ------------------------------------------------------------------ syntax errors

_TOKEN_NAMES = {
    "$END": "end of file", "RBRACE": "'}'", "LBRACE": "'{'", "LPAR": "'('", "RPAR": "')'",
    "LSQB": "'['", "RSQB": "']'", "COMMA": "','", "DOT": "'.'", "STRING": "a string",
    "NUMBER": "a number", "INT": "a whole number", "NAME": "a name", "QNAME": "a `quoted name`",
    "COMPARE": "a comparison (= != < <= > >=)", "LISTREF": "a $list", "PERCENT": "'%'",
    "SLASH": "'/'", "STAR": "'*'", "EQUAL": "'='", "BANG": "'!'", "OPTOUT": "'opt-out'",
    "ANY": "'any'", "IF": "'if'", "UNLESS": "'unless'",
}


def _token_name(t: str) -> str:
    if t in _TOKEN_NAMES:
        return _TOKEN_NAMES[t]
    if t.startswith("__ANON") or not t.isupper():
        return t
    return "'" + t.lower() + "'"


def _keyword_of(token_type: str) -> str | None:
    return token_type.lower() if token_type.isupper() and token_type.isalpha() else None


def _expected_keywords(expected: set[str]) -> list[str]:
    return sorted(k for k in (_keyword_of(t) for t in expected) if k)


def _describe(exc: UnexpectedInput, text: str, file: str, lines: list[str]) -> Diagnostic:
    """Turn a Lark error into a named, hinted diagnostic."""
    line = getattr(exc, "line", 0) or 0
    col = getattr(exc, "column", 0) or 0
    src = lines[line - 1] if 0 < line <= len(lines) else None

    def diag(code: str, message: str, hint: str | None = None, span: Span | None = None) -> Diagnostic:
        sp = span or Span(file, line, col, line, col + 1)
        srcline = lines[sp.line - 1] if 0 < sp.line <= len(lines) else src
        return Diagnostic(code, message, sp, source_line=srcline, hint=hint)

    if isinstance(exc, UnexpectedCharacters):
        ch = text[exc.pos_in_stream] if exc.pos_in_stream < len(text) else ""
        if ch in "\"'":
            end = len(src) + 1 if src else col + 1
            return diag("RQ102", "unclosed string", "a string ends on the line it starts on; close it with " + ch,
                        Span(file, line, col, line, end))
        if ch == "`":
            return diag("RQ102", "unclosed `quoted name`", "close the name with a backtick")
        if ch == "-" and src and "opt" in src[max(col - 5, 0):col]:
            return diag("RQ101", "unexpected '-'", "regime kinds are written opt_in and opt_out")
        allowed = sorted(_token_name(t) for t in exc.allowed or ())
        hint = f"expected {', '.join(allowed[:8])}" if allowed else None
        if ch == "@":
            hint = "classes are written without '@': pii.email, pii.*"
        return diag("RQ101", f"unexpected character {ch!r}", hint)

    if isinstance(exc, (UnexpectedToken, UnexpectedEOF)):
        token = getattr(exc, "token", None)
        expected = set(getattr(exc, "expected", ()) or ())
        value = str(token) if token is not None else ""
        ttype = token.type if token is not None else "$END"
        if ttype == "$END":
            opened = _unclosed_brace(text)
            if opened is not None:
                oline, ocol = opened
                return diag("RQ103", "unclosed block: this '{' is never closed", "add the closing '}'",
                            Span(file, oline, ocol, oline, ocol + 1))
            return diag("RQ103", "unexpected end of file", _expect_hint(expected),
                        Span(file, len(lines), max(len(lines[-1]) if lines else 1, 1), len(lines), max(len(lines[-1]) if lines else 1, 1) + 1))
        span = Span(file, token.line or line, token.column or col, token.end_line or line,
                    token.end_column or (col + max(len(value), 1)))
        keywords = _expected_keywords(expected)
        before = _strip_strings(text[: getattr(token, "start_pos", None) or 0]).rstrip()
        if before.endswith(",") and ttype != "COMMA":
            comma = before.rstrip()
            cline = comma.count("\n") + 1
            ccol = len(comma) - (comma.rfind("\n") + 1)
            return diag("RQ109", "trailing comma", "a list of paths, names or sources does not end with a comma",
                        Span(file, cline, ccol, cline, ccol + 1))
        if ttype == "COMMA" and "RSQB" not in expected and "COMMA" not in expected:
            return diag("RQ109", "unexpected ','", "commas separate the items of a list; join conditions with `and` / `or`", span)
        if ttype == "NAME" and any(k in keywords for k in STATEMENT_KEYWORDS):
            guess = did_you_mean(value, STATEMENT_KEYWORDS)
            return diag("RQ106", f"unknown statement '{value}' in destination",
                        f"did you mean '{guess}'?" if guess else "statements are: " + ", ".join(STATEMENT_KEYWORDS), span)
        if ttype == "NAME" and any(k in keywords for k in POLICY_KEYWORDS):
            guess = did_you_mean(value, POLICY_KEYWORDS)
            return diag("RQ106", f"unknown statement '{value}' in policy",
                        f"did you mean '{guess}'?" if guess else "policy statements start with 'forbid' or 'require consent'", span)
        if ttype == "NAME" and "UNPLANNED" in expected:
            guess = did_you_mean(value, PLAN_KEYWORDS)
            return diag("RQ106", f"unknown statement '{value}' in plan",
                        f"did you mean '{guess}'?" if guess else "plans hold settings (unplanned, violations) and "
                        "entries (common, track, identify, page, screen, group)", span)
        if ttype == "NAME" and "REQUIRED" in expected:
            guess = did_you_mean(value, FIELD_KEYWORDS)
            return diag("RQ106", f"expected 'required' or 'optional' before a field, found '{value}'",
                        f"did you mean '{guess}'?" if guess else "write: required revenue: number", span)
        if ttype == "NAME" and "CATEGORY" in expected:
            guess = did_you_mean(value, CONSENT_KEYWORDS)
            return diag("RQ106", f"unknown statement '{value}' in consent block",
                        f"did you mean '{guess}'?" if guess else "consent statements are: " + ", ".join(CONSENT_KEYWORDS), span)
        if "DESTINATION" in expected and "CONSENT" in expected:
            guess = did_you_mean(value, DECLARATION_KEYWORDS)
            hint = f"did you mean '{guess}'?" if guess else "a file holds consent, classify, define, destination and policy declarations"
            if value in STATEMENT_KEYWORDS:
                hint = f"'{value}' belongs inside a destination {{ ... }} block"
            return diag("RQ107", f"expected a declaration, found {_describe_token(token)}", hint, span)
        if ttype in ("RBRACE", "RPAR", "RSQB") or (ttype not in ("COMMA",) and expected & {"NAME", "QNAME", "STRING", "NUMBER"} and "COMPARE" not in expected and not (expected & {"DOT"})):
            if expected >= {"NAME", "STRING", "NUMBER"} or expected >= {"NAME", "STRING"}:
                return diag("RQ108", f"expected a value or condition, found {_describe_token(token)}",
                            "a condition looks like: properties.revenue > 100", span)
        if ttype == "COMMA" and "RSQB" not in expected:
            return diag("RQ109", "unexpected ','", "commas separate items of one list; a trailing comma is only allowed in [ ... ]", span)
        if "RSQB" in expected and ttype == "NAME":
            return diag("RQ110", f"list elements must be constants, found {_describe_token(token)}",
                        'quote strings: ["a", "b"]; to test a field against another field use `in` with a path', span)
        if ttype == "NAME" and "COMPARE" in expected and value in ("is", "equals", "eq"):
            return diag("RQ108", f"unknown operator '{value}'", "comparisons are = != < <= > >=", span)
        if ttype == "NAME" and "COMPARE" in expected:
            return diag("RQ108", f"expected an operator after a value, found {_describe_token(token)}",
                        "a condition looks like: event = \"Order Completed\"; join conditions with `and` / `or`", span)
        return diag("RQ100", f"unexpected {_describe_token(token)}", _expect_hint(expected), span)

    return diag("RQ100", str(exc).splitlines()[0])


def _describe_token(token: Token) -> str:
    if token.type == "$END":
        return "end of file"
    value = str(token)
    if len(value) > 30:
        value = value[:27] + "..."
    return f"'{value}'"


def _expect_hint(expected: set[str]) -> str | None:
    names = sorted({_token_name(t) for t in expected})
    if not names:
        return None
    if len(names) > 10:
        names = names[:10] + ["..."]
    return "expected " + ", ".join(names)


def _strip_strings(text: str) -> str:
    """The text with string, name and comment contents blanked (positions kept)."""
    return _TOKENS_WITH_COMMENTS.sub(lambda m: " " * len(m.group(0)), text)


def _unclosed_brace(text: str) -> tuple[int, int] | None:
    """Line and column of the outermost '{' that is never closed, if any."""
    stack: list[tuple[int, int]] = []
    for lineno, line in enumerate(_strip_strings(text).split("\n"), start=1):
        for col, ch in enumerate(line, start=1):
            if ch == "{":
                stack.append((lineno, col))
            elif ch == "}" and stack:
                stack.pop()
    return stack[0] if stack else None


_DECL_START = re.compile(r"^(?:" + "|".join(DECLARATION_KEYWORDS) + r")\b", re.M)


def _chunks(text: str) -> list[tuple[int, str]]:
    """Split a file at top-level declarations (a keyword at column 1) for error recovery."""
    starts = [m.start() for m in _DECL_START.finditer(_strip_strings(text))]
    if not starts or starts[0] != 0:
        starts.insert(0, 0)
    out = []
    for i, s in enumerate(starts):
        e = starts[i + 1] if i + 1 < len(starts) else len(text)
        out.append((s, text[s:e]))
    return out


_TOKENS_WITH_COMMENTS = re.compile(
    r"(?<![A-Za-z0-9_])r\"[^\"\n]*\"|(?<![A-Za-z0-9_])r'[^'\n]*'"  # raw strings have no escapes
    r"|\"(?:[^\"\\\n]|\\.)*\"|'(?:[^'\\\n]|\\.)*'|`(?:[^`\\\n]|\\.)*`|(#[^\n]*)"
)


def _comments(text: str, file: str) -> tuple[n.Comment, ...]:
    out = []
    for m in _TOKENS_WITH_COMMENTS.finditer(text):
        if m.group(1) is not None:
            line = text.count("\n", 0, m.start()) + 1
            col = m.start() - (text.rfind("\n", 0, m.start()) + 1) + 1
            out.append(n.Comment(m.group(1), span=Span(file, line, col, line, col + len(m.group(1)))))
    return tuple(out)


def _check_nesting(text: str, file: str, lines: list[str]) -> Diagnostic | None:
    depth = 0
    stripped = _strip_strings(text)
    for i, ch in enumerate(stripped):
        if ch in "([":
            depth += 1
            if depth > MAX_NESTING:
                line = stripped.count("\n", 0, i) + 1
                col = i - (stripped.rfind("\n", 0, i) + 1) + 1
                return Diagnostic("RQ105", f"nesting deeper than {MAX_NESTING} levels", Span(file, line, col, line, col + 1),
                                  source_line=lines[line - 1], hint="split the condition into named predicates with `define`")
        elif ch in ")]":
            depth = max(depth - 1, 0)
    return None


def _run(fn: Callable[[], Any]) -> Any:
    try:
        return fn()
    except VisitError as e:  # a transformer method raised: unwrap our own problems
        if isinstance(e.orig_exc, _SyntaxProblem):
            raise e.orig_exc from None
        raise


def parse(text: str, file: str = "<string>") -> n.Module:
    """Parse one file of rules; raise RouteQLSyntaxError with every error found."""
    if not isinstance(text, str):
        raise RouteQLSyntaxError(f"{file}: rules must be text, got {type(text).__name__}")
    if text.startswith("\ufeff"):  # a UTF-8 byte-order mark (Windows editors write one): not part of the rules
        text = text[1:]
    lines = text.split("\n")
    if len(text) > MAX_SOURCE_CHARS:
        d = Diagnostic("RQ105", f"file larger than {MAX_SOURCE_CHARS} characters", Span(file, 1, 1, 1, 2),
                       hint="split the rules into several .rq files in one directory")
        raise RouteQLSyntaxError.from_diagnostics([d])
    deep = _check_nesting(text, file, lines)
    if deep is not None:
        raise RouteQLSyntaxError.from_diagnostics([deep])
    lark = parser()
    try:
        tree = lark.parse(text)
        decls = _run(lambda: _ToAst(file, lines).transform(tree))
        return n.Module(file, tuple(decls), _comments(text, file), span=Span(file, 1, 1, len(lines), len(lines[-1]) + 1))
    except _SyntaxProblem as p:
        first: Diagnostic = p.diagnostic
    except UnexpectedInput as e:
        first = _describe(e, text, file, lines)
    except RecursionError:
        first = Diagnostic("RQ105", "rules nested too deeply", Span(file, 1, 1, 1, 2),
                           hint="split the condition into named predicates with `define`")
    raise RouteQLSyntaxError.from_diagnostics(_all_errors(text, file, lines, first))


def _all_errors(text: str, file: str, lines: list[str], first: Diagnostic) -> list[Diagnostic]:
    """Parse declaration by declaration to report every syntax error, not just the first."""
    found: list[Diagnostic] = []
    lark = parser()
    for offset, chunk in _chunks(text):
        padded = "\n" * text.count("\n", 0, offset) + chunk
        try:
            tree = lark.parse(padded)
            _run(lambda: _ToAst(file, lines).transform(tree))
        except _SyntaxProblem as p:
            found.append(p.diagnostic)
        except UnexpectedInput as e:
            found.append(_describe(e, padded, file, lines))
        except RecursionError:
            pass
    if not found:
        return [first]
    seen = set()
    unique = []
    for d in found:
        key = (d.span.line, d.span.col, d.code)
        if key not in seen:
            seen.add(key)
            unique.append(d)
    return unique


def parse_condition(text: str, file: str = "<predicate>") -> n.Node:
    """Parse a standalone condition (for :func:`routeql.predicate`)."""
    if not isinstance(text, str):
        raise RouteQLSyntaxError(f"{file}: a condition must be text, got {type(text).__name__}")
    lines = text.split("\n")
    deep = _check_nesting(text, file, lines)
    if deep is not None:
        raise RouteQLSyntaxError.from_diagnostics([deep])
    try:
        tree = parser("condition").parse(text)
        return _run(lambda: _ToAst(file, lines).transform(tree))  # type: ignore[no-any-return]
    except _SyntaxProblem as p:
        raise RouteQLSyntaxError.from_diagnostics([p.diagnostic]) from None
    except UnexpectedInput as e:
        raise RouteQLSyntaxError.from_diagnostics([_describe(e, text, file, lines)]) from None
    except RecursionError:
        raise RouteQLSyntaxError.from_diagnostics(
            [Diagnostic("RQ105", "condition nested too deeply", Span(file, 1, 1, 1, 2))]) from None
