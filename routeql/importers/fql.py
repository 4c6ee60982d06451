"""Segment FQL text in, tokens and an expression tree (:mod:`.tree`) out.

The lexer follows fql-ts (Segment's TypeScript FQL lexer): ``and``, ``or`` and ``null``
are keywords only when a terminator follows (``andy`` is a name); ``true``/``false`` lex
as names and mean booleans; ``!`` before a letter or ``(`` negates; strings take single
or double quotes and have **no** escape sequences; a backslash in a name escapes any
character (``properties.product\\ 1.price``).  The parser gives Segment's documented
language: comparisons, ``in`` (a list or a path to one), ``!``, ``and`` (binding
tighter) and ``or``, parentheses, and the documented functions.

>>> [(t.kind, t.value) for t in lex("a\\\\ b = 'x'")]
[('ident', 'a b'), ('operator', '='), ('string', "'x'"), ('eos', 'eos')]
>>> parse("event = 'Click' or match(event, 'Button *')")
Or(items=(Cmp(op='=', left=Path(segments=('event',)), right=Lit(value='Click')), Call(name='match', args=(Path(segments=('event',)), Lit(value='Button *')))))
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import FQLSyntaxError
from .tree import FUNCTIONS, MAX_DEPTH, And, Call, Cmp, Expr, In, Lit, Not, Or, Path

__all__ = ["Token", "lex", "parse", "MAX_FQL_CHARS"]

#: Segment refuses an FQL query over 5 KB; we allow some slack, then refuse.
MAX_FQL_CHARS = 100_000

_WHITESPACE = " \t\n\r"
_TERMINATORS = _WHITESPACE + ",])"
# After a name, fql-ts accepts only these (or a terminator or the end).
_AFTER_NAME = _TERMINATORS + ".(=!"
_KEYWORDS = {"and": "conditional", "or": "conditional", "null": "null"}
_PUNCT = {"[": "brackleft", "]": "brackright", "(": "parenleft", ")": "parenright", ",": "comma", ".": "dot"}


@dataclass(frozen=True, slots=True)
class Token:
    """One token: its kind (fql-ts's names), its value, and its offset in the text."""

    kind: str
    value: str
    offset: int
    end: int
    escaped: bool = False  # a name written with a backslash escape is never a keyword or literal


def _is_alpha(c: str) -> bool:
    return c.isascii() and c.isalpha()


def _is_name_char(c: str) -> bool:
    return c.isascii() and (c.isalnum() or c in "_-\\")


def lex(text: str, where: str = "<fql>") -> list[Token]:
    """Tokens of an FQL text, ending with ``eos``; raise FQLSyntaxError at the first bad character.

    >>> lex("+5.4")[0]
    Token(kind='number', value='+5.4', offset=0, end=4, escaped=False)
    """
    if not isinstance(text, str):
        raise FQLSyntaxError.plain(f"FQL must be text, got {type(text).__name__}", where=where)
    if len(text) > MAX_FQL_CHARS:
        raise FQLSyntaxError.at(f"FQL longer than {MAX_FQL_CHARS} characters", text, MAX_FQL_CHARS, where=where,
                                code="RQ105")
    toks: list[Token] = []
    i, n = 0, len(text)

    def err(message: str, at: int, code: str = "RQ101", hint: str | None = None) -> FQLSyntaxError:
        return FQLSyntaxError.at(message, text, at, where=where, code=code, hint=hint)

    while True:
        while i < n and text[i] in _WHITESPACE:
            i += 1
        if i >= n:
            toks.append(Token("eos", "eos", n, n))
            return toks
        c = text[i]
        nxt = text[i + 1] if i + 1 < n else ""
        if c == "!":
            if nxt == "=":
                toks.append(Token("operator", "!=", i, i + 2))
                i += 2
            elif _is_alpha(nxt) or nxt == "(":
                toks.append(Token("operator", "!", i, i + 1))
                i += 1
            else:
                raise err("'!' must be followed by '=', a letter or '('", i,
                          hint="write !( ... ) to negate, or != to compare")
        elif c == "=":
            toks.append(Token("operator", "=", i, i + 1))
            i += 1
        elif c in "<>":
            op = c + "=" if nxt == "=" else c
            toks.append(Token("operator", op, i, i + len(op)))
            i += len(op)
        elif _is_alpha(c) or c in "_\\" or (c.isascii() and c.isdigit() and toks and toks[-1].kind == "dot"):
            # A name; after a dot a segment may start with a digit (``products.0.sku``).
            start, chars, escaped = i, [], False
            while i < n and _is_name_char(text[i]):
                if text[i] == "\\":
                    if i + 1 >= n:
                        raise err("a backslash at the end of the text escapes nothing", i,
                                  hint="write \\\\ for a literal backslash in a field name")
                    chars.append(text[i + 1])
                    escaped = True
                    i += 2
                else:
                    chars.append(text[i])
                    i += 1
            if i < n and text[i] not in _AFTER_NAME:
                raise err(f"unexpected character {text[i]!r} after the name {text[start:i]!r}", i,
                          hint="escape it with a backslash if it belongs to a field name (properties.a\\/b)")
            word = "".join(chars)
            kind = _KEYWORDS.get(word) if not escaped and (i >= n or text[i] in _TERMINATORS) else None
            toks.append(Token(kind or "ident", word, start, i, escaped))
        elif (c.isascii() and c.isdigit()) or c in "+-":
            start = i
            i += 1 if c in "+-" else 0
            digits = i
            while i < n and text[i].isascii() and text[i].isdigit():
                i += 1
            if i == digits:
                raise err(f"'{c}' must be followed by a digit", start)
            if i < n and text[i] == ".":
                i += 1
                frac = i
                while i < n and text[i].isascii() and text[i].isdigit():
                    i += 1
                if i == frac:
                    raise err("a decimal point must be followed by digits", i - 1)
                if i < n and text[i] == ".":
                    raise err("multiple decimal points in one number", i)
            toks.append(Token("number", text[start:i], start, i))
        elif c in "'\"":
            close = text.find(c, i + 1)
            if close < 0:
                raise err("unterminated string", i, code="RQ102", hint=f"close it with {c}")
            toks.append(Token("string", text[i:close + 1], i, close + 1))
            i = close + 1
        elif c in _PUNCT:
            toks.append(Token(_PUNCT[c], c, i, i + 1))
            i += 1
        else:
            raise err(f"invalid character {c!r}", i,
                      hint="characters other than letters, digits, _ and - in a field name need a backslash")


class _Parser:
    def __init__(self, text: str, where: str) -> None:
        self.text = text
        self.where = where
        self.toks = lex(text, where)
        self.pos = 0
        self.depth = 0

    @property
    def tok(self) -> Token:
        return self.toks[self.pos]

    def advance(self) -> Token:
        t = self.toks[self.pos]
        if t.kind != "eos":
            self.pos += 1
        return t

    def error(self, message: str, tok: Token | None = None, code: str = "RQ100", hint: str | None = None) -> FQLSyntaxError:
        t = tok or self.tok
        return FQLSyntaxError.at(message, self.text, t.offset, length=max(t.end - t.offset, 1), where=self.where,
                                 code=code, hint=hint)

    def describe(self, t: Token) -> str:
        return "the end of the text" if t.kind == "eos" else repr(t.value)

    def expect(self, kind: str, what: str) -> Token:
        if self.tok.kind != kind:
            raise self.error(f"expected {what}, got {self.describe(self.tok)}")
        return self.advance()

    def nest(self) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.error(f"nested more than {MAX_DEPTH} levels deep", code="RQ105")

    # -- grammar: or_expr := and_expr ("or" and_expr)* ; and_expr := unary ("and" unary)*
    def parse(self) -> Expr:
        if self.tok.kind == "eos":
            raise self.error("an FQL condition cannot be empty", hint='write "all" to match every event')
        e = self.or_expr()
        if self.tok.kind != "eos":
            raise self.error(f"unexpected {self.describe(self.tok)}",
                             hint="join conditions with and / or" if self.tok.kind in ("ident", "string", "number")
                             else None)
        return e

    def or_expr(self) -> Expr:
        items = [self.and_expr()]
        while self.tok.kind == "conditional" and self.tok.value == "or":
            self.advance()
            items.append(self.and_expr())
        return items[0] if len(items) == 1 else Or(tuple(items))

    def and_expr(self) -> Expr:
        items = [self.unary()]
        while self.tok.kind == "conditional" and self.tok.value == "and":
            self.advance()
            items.append(self.unary())
        return items[0] if len(items) == 1 else And(tuple(items))

    def unary(self) -> Expr:
        if self.tok.kind == "operator" and self.tok.value == "!":
            self.advance()
            self.nest()
            inner = self.unary()
            self.depth -= 1
            return Not(inner)
        return self.comparison()

    def comparison(self) -> Expr:
        left = self.primary()
        t = self.tok
        if t.kind == "operator" and t.value != "!":
            self.advance()
            right = self.primary()
            return Cmp(t.value, left, right)
        if t.kind == "ident" and t.value == "in" and not t.escaped:
            self.advance()
            return In(left, self.primary())
        return left

    def primary(self) -> Expr:
        t = self.tok
        if t.kind == "parenleft":
            self.advance()
            self.nest()
            e = self.or_expr()
            self.depth -= 1
            self.expect("parenright", "')'")
            return e
        if t.kind == "brackleft":
            return Lit(self.list_literal())
        if t.kind in ("string", "number", "null"):
            return Lit(self.scalar())
        if t.kind == "ident":
            nxt = self.toks[self.pos + 1]
            if nxt.kind == "parenleft":
                return self.call()
            if t.value in ("true", "false") and not t.escaped and nxt.kind != "dot":
                self.advance()
                return Lit(t.value == "true")  # fql-ts lexes them as names; they mean booleans
            return self.path()
        raise self.error(f"expected a value, got {self.describe(t)}")

    def scalar(self) -> object:
        t = self.advance()
        if t.kind == "string":
            return t.value[1:-1]  # FQL strings have no escape sequences
        if t.kind == "null":
            return None
        if t.kind == "ident" and t.value in ("true", "false") and not t.escaped:
            return t.value == "true"
        if t.kind == "number":
            if len(t.value) > 100:
                raise self.error("number longer than 100 characters", t, code="RQ105")
            return float(t.value) if "." in t.value else int(t.value)
        raise self.error(f"list elements must be constants, got {self.describe(t)}", t, code="RQ110",
                         hint="write strings in quotes: ['track', 'page']")

    def list_literal(self) -> list[object]:
        self.advance()
        self.nest()
        items: list[object] = []
        if self.tok.kind != "brackright":
            while True:
                items.append(self.list_literal() if self.tok.kind == "brackleft" else self.scalar())
                if self.tok.kind == "comma":
                    self.advance()
                    continue
                break
        self.expect("brackright", "',' or ']'")
        self.depth -= 1
        return items

    def call(self) -> Expr:
        name_tok = self.advance()
        name = name_tok.value
        if name not in FUNCTIONS or name_tok.escaped:
            raise self.error(f"unknown function '{name}'", name_tok, code="RQ208",
                             hint="FQL functions: " + ", ".join(sorted(FUNCTIONS)))
        self.advance()  # (
        self.nest()
        args: list[Expr] = []
        if self.tok.kind != "parenright":
            while True:
                args.append(self.or_expr())
                if self.tok.kind == "comma":
                    self.advance()
                    continue
                break
        self.expect("parenright", "',' or ')'")
        self.depth -= 1
        want = FUNCTIONS[name]
        if len(args) != want:
            raise self.error(f"{name}() takes {want} argument{'s' * (want != 1)}, got {len(args)}", name_tok,
                             code="RQ300")
        return Call(name, tuple(args))

    def path(self) -> Path:
        segs: list[str | int] = [self.advance().value]
        while self.tok.kind == "dot":
            self.advance()
            t = self.expect("ident", "a field name after '.'")
            value = t.value
            segs.append(int(value) if value.isascii() and value.isdigit() and not t.escaped and len(value) < 10
                        else value)
        return Path(tuple(segs))


def parse(text: str, where: str = "<fql>") -> Expr:
    """Parse FQL text into a tree; raise FQLSyntaxError (with line and column) if it is not FQL.

    >>> parse("random(50)")
    Traceback (most recent call last):
    routeql.importers.errors.FQLSyntaxError: <fql>:1:1: error[RQ208]: unknown function 'random'
        1 | random(50)
          | ^^^^^^
    hint: FQL functions: bool, contains, kebabcase, length, lowercase, match, number, snakecase, string, titlecase, typeof, uppercase
    """
    return _Parser(text, where).parse()
