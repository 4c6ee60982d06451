"""Documents -> text: a small Wadler/Prettier-style pretty printer for ``routeql fmt``.

A document is text, line breaks, groups (flat if they fit, else broken), nests
(indentation), fills (as many items per line as fit) and comments; :func:`_render`
lays it out in a given width.

>>> print(_render(_Group(["keep ", _Nest(2, _join(["a,", "b,", "c"], LINE))]), width=8))
keep a,
  b,
  c
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence, Union

__all__ = ['LINE', 'SOFT', 'HARD', 'Doc', '_Cmd', '_Comment', '_Either', '_Fill', '_Group', '_IfBreak', '_Line', '_Nest', '_breaks', '_fill_step', '_fits', '_join', '_render']

#: Lines are wrapped to fit in this many columns (trailing comments may go past it).
WIDTH = 100
INDENT = 2

# ------------------------------------------------------------------ documents

Doc = Union[str, list, "_Line", "_Group", "_Nest", "_Fill", "_IfBreak", "_Either", "_Comment"]


@dataclass(frozen=True, slots=True)
class _Line:
    """A space (or nothing, if ``soft``) when its group is flat; a newline when broken."""

    hard: bool = False
    soft: bool = False


LINE, SOFT, HARD = _Line(), _Line(soft=True), _Line(hard=True)


@dataclass(frozen=True, slots=True)
class _Comment:
    """A ``#`` comment: whatever is printed after it starts on a new line."""

    text: str


def _breaks(doc: Doc) -> bool:
    """Whether ``doc`` forces the groups around it to break (it holds a newline)."""
    if isinstance(doc, str):
        return False
    if isinstance(doc, list):
        return any(_breaks(d) for d in doc)
    if isinstance(doc, _Line):
        return doc.hard
    if isinstance(doc, _Comment):
        return True
    if isinstance(doc, _IfBreak):
        return False
    return doc.hard  # type: ignore[union-attr]


class _Group:
    __slots__ = ("doc", "hard")

    def __init__(self, doc: Doc) -> None:
        self.doc, self.hard = doc, _breaks(doc)


class _Nest:
    __slots__ = ("indent", "doc", "hard")

    def __init__(self, indent: int, doc: Doc) -> None:
        self.indent, self.doc, self.hard = indent, doc, _breaks(doc)


class _Fill:
    """Alternating contents and separators; a separator breaks only when the next item does not fit."""

    __slots__ = ("parts", "hard")

    def __init__(self, parts: Sequence[Doc]) -> None:
        self.parts, self.hard = tuple(parts), any(_breaks(p) for p in parts)


class _IfBreak:
    """Text printed only when the enclosing group is broken (a list's trailing comma)."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text


class _Either:
    """``primary`` flat if it fits; else ``alt`` if its first line fits; else ``primary`` broken."""

    __slots__ = ("primary", "alt", "hard")

    def __init__(self, primary: _Group, alt: Doc) -> None:
        self.primary, self.alt, self.hard = primary, alt, primary.hard


_Cmd = tuple[int, bool, Doc]  # indent, flat, doc


def _fits(cmd: _Cmd, rest: list[_Cmd], width: int) -> bool:
    """Whether ``cmd`` (then ``rest``) reaches the end of the line within ``width`` columns."""
    stack, r = [cmd], len(rest)
    while width >= 0:
        if not stack:
            if r == 0:
                return True
            r -= 1
            stack.append(rest[r])
            continue
        indent, flat, d = stack.pop()
        if isinstance(d, str):
            width -= len(d)
        elif isinstance(d, list):
            stack.extend((indent, flat, x) for x in reversed(d))
        elif isinstance(d, _Line):
            if d.hard or not flat:
                return True
            width -= 0 if d.soft else 1
        elif isinstance(d, _Comment):
            return True
        elif isinstance(d, (_Group, _Nest)):
            stack.append((indent, flat and not d.hard, d.doc))
        elif isinstance(d, _Fill):
            stack.extend((indent, flat, x) for x in reversed(d.parts))
        elif isinstance(d, _IfBreak):
            width -= 0 if flat else len(d.text)
        elif isinstance(d, _Either):
            stack.append((indent, flat and not d.hard, d.primary.doc))
    return False


def _render(doc: Doc, width: int = WIDTH) -> str:
    """Lay a document out in ``width`` columns."""
    out: list[str] = []
    col = 0
    fresh = True  # nothing printed on this line yet
    pending = False  # a comment ended the line: the next thing starts a new one
    cmds: list[_Cmd] = [(0, False, doc)]

    def newline(indent: int) -> None:
        nonlocal col, fresh, pending
        out.append("\n" + " " * indent)
        col, fresh, pending = indent, True, False

    while cmds:
        indent, flat, d = cmds.pop()
        if isinstance(d, str):
            if d:
                if pending:  # a comment ended the line: no leading space on the next one
                    newline(indent)
                    d = d.lstrip(" ")
                out.append(d)
                col += len(d)
                fresh = False
        elif isinstance(d, list):
            cmds.extend((indent, flat, x) for x in reversed(d))
        elif isinstance(d, _Line):
            if d.hard or not flat or pending:
                newline(indent)
            elif not d.soft:
                out.append(" ")
                col += 1
        elif isinstance(d, _Comment):
            if pending:
                newline(indent)
            while not fresh and out:  # exactly two spaces between code and a trailing comment
                stripped = out[-1].rstrip(" ")
                if stripped:
                    out[-1] = stripped
                    break
                out.pop()
            out.append(d.text if fresh else "  " + d.text)
            pending, fresh = True, False
        elif isinstance(d, _Nest):
            cmds.append((indent + d.indent, flat, d.doc))
        elif isinstance(d, _Group):
            cmds.append((indent, not d.hard and (flat or _fits((indent, True, d.doc), cmds, width - col)), d.doc))
        elif isinstance(d, _IfBreak):
            if not flat:
                cmds.append((indent, flat, d.text))
        elif isinstance(d, _Either):
            if not d.hard and (flat or _fits((indent, True, d.primary.doc), cmds, width - col)):
                cmds.append((indent, True, d.primary.doc))
            elif _fits((indent, False, d.alt), cmds, width - col):
                cmds.append((indent, False, d.alt))
            else:
                cmds.append((indent, False, d.primary.doc))
        elif isinstance(d, _Fill):
            _fill_step(d.parts, indent, flat, cmds, width - col)
    return "\n".join(line.rstrip() for line in "".join(out).split("\n"))


def _fill_step(parts: tuple[Doc, ...], indent: int, flat: bool, cmds: list[_Cmd], room: int) -> None:
    """Print the first item of a fill flat if it fits, and break the next separator only if needed."""
    if not parts:
        return
    content = parts[0]
    fits = _fits((indent, True, content), [], room)
    if len(parts) > 2:
        cmds.append((indent, flat, _Fill(parts[2:])))
        both = _fits((indent, True, [content, parts[1], parts[2]]), [], room)
        cmds.append((indent, both, parts[1]))
    elif len(parts) == 2:
        cmds.append((indent, fits, parts[1]))
    cmds.append((indent, fits, content))


def _join(docs: Sequence[Doc], sep: Doc) -> list[Doc]:
    out: list[Doc] = []
    for i, d in enumerate(docs):
        if i:
            out.append(sep)
        out.append(d)
    return out


