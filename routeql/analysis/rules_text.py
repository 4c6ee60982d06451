"""A checked model's sources + a rule's origin -> the text of the rule's ``if``/``unless`` guard.

The model keeps each statement's text but not its guard's; reports say "sent if
<condition>", so the guard is found again in the parsed source, by position.

>>> import routeql
>>> rules = routeql.loads('destination crm { drop traits.phone unless type = "identify" }', "t.rq")
>>> GuardTexts(rules.model.sources).of(rules.model.destinations[0].drops[0].origin)
('unless', 'type = "identify"')
"""

from __future__ import annotations

from typing import Mapping

from .. import nodes as n
from ..errors import RouteQLError, Span
from ..model import Origin
from ..parse import parse

__all__ = ["GuardTexts", "one_line"]


def one_line(source: str, span: Span) -> str:
    """The text a span covers, squeezed onto one line."""
    lines = source.split("\n")
    if span.line <= 0 or span.line > len(lines):
        return ""
    if span.end_line == span.line:
        return lines[span.line - 1][span.col - 1: span.end_col - 1].strip()
    chunk = [lines[span.line - 1][span.col - 1:]] + lines[span.line: span.end_line - 1]
    if span.end_line <= len(lines):
        chunk.append(lines[span.end_line - 1][: span.end_col - 1])
    return " ".join(part.strip() for part in chunk if part.strip())


class GuardTexts:
    """Finds the guard of any statement of a rule set from the statement's origin."""

    def __init__(self, sources: Mapping[str, str]) -> None:
        self.sources = sources
        self._by_file: dict[str, dict[tuple[int, int], n.Guard]] = {}

    def _index(self, file: str) -> dict[tuple[int, int], n.Guard]:
        found = self._by_file.get(file)
        if found is None:
            found = {}
            try:
                module = parse(self.sources[file], file)
            except (KeyError, RouteQLError):  # not ours to report: the model came from these sources
                module = None
            if module is not None:
                for node in n.walk(module):
                    guard = getattr(node, "guard", None)
                    if isinstance(guard, n.Guard):
                        found[(node.span.line, node.span.col)] = guard
            self._by_file[file] = found
        return found

    def of(self, origin: Origin) -> tuple[str, str] | None:
        """``("if" | "unless", condition text)`` for a guarded statement, else None."""
        guard = self._index(origin.span.file).get((origin.span.line, origin.span.col))
        if guard is None:
            return None
        text = one_line(self.sources[origin.span.file], guard.span)
        keyword, _, cond = text.partition(" ")
        if keyword not in ("if", "unless") or not cond:
            return None
        return keyword, cond.strip()
