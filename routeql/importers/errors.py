"""Import errors: a malformed FQL text, IR, filter or mapping in, a RouteQLError out.

Every error an importer raises derives from :class:`SegmentImportError`, itself a
:class:`routeql.RouteQLError`, and carries a :class:`~routeql.errors.Diagnostic`.  FQL
errors point at the line and column in the FQL text, with a caret:

>>> err = FQLSyntaxError.at("unterminated string", "event = 'x", 8, where="filters[0].if", code="RQ102")
>>> print(err.diagnostics[0].render())
filters[0].if:1:9: error[RQ102]: unterminated string
    1 | event = 'x
      |         ^
"""

from __future__ import annotations

from ..errors import Diagnostic, RouteQLError, Span

__all__ = ["SegmentImportError", "FQLSyntaxError", "IRError", "FilterError", "UnsupportedError"]


class SegmentImportError(RouteQLError):
    """Root of the Segment importer's errors."""

    @classmethod
    def plain(cls, message: str, *, where: str = "", code: str = "RQ301", hint: str | None = None) -> "SegmentImportError":
        """An error about a JSON input (no text position): ``where`` names the JSON path."""
        text = f"{where}: {message}" if where else message
        diag = Diagnostic(code, message, Span(where or "<segment>", 0, 0, 0, 0), hint=hint)
        return cls(text + (f"\nhint: {hint}" if hint else ""), [diag])


class FQLSyntaxError(SegmentImportError):
    """FQL text that does not lex or parse (or names an unknown function)."""

    @classmethod
    def at(cls, message: str, text: str, offset: int, *, length: int = 1, where: str = "<fql>",
           code: str = "RQ100", hint: str | None = None) -> "FQLSyntaxError":
        """An error at character ``offset`` of ``text`` (0-based), rendered 1-based."""
        offset = max(0, min(offset, len(text)))
        line = text.count("\n", 0, offset) + 1
        start = text.rfind("\n", 0, offset) + 1
        col = offset - start + 1
        end = text.find("\n", start)
        source_line = text[start:] if end < 0 else text[start:end]
        span = Span(where, line, col, line, col + max(length, 1))
        diag = Diagnostic(code, message, span, source_line=source_line, hint=hint)
        return cls(diag.render(), [diag])


class IRError(SegmentImportError):
    """A compiled FQL IR that is not valid (unknown function, wrong arity, not JSON...)."""


class FilterError(SegmentImportError):
    """A destination filter, routing rule or consent mapping of the wrong shape."""


class UnsupportedError(SegmentImportError):
    """Valid Segment input that RouteQL cannot express (an object literal, a computed glob)."""
