"""Errors and diagnostics: one error root, every problem as data with a position.

Every failure RouteQL reports derives from :class:`RouteQLError`.  Problems found in
rule text are :class:`Diagnostic` records (stable code, file:line:col, the source line,
a caret and a hint) so the CLI can print them, serialise them to JSON or SARIF, and
editors can consume them.

>>> d = Diagnostic("RQ201", "unknown destination 'gogle_ads'", Span("ads.rq", 1, 17, 1, 26),
...                source_line="forbid pii.* to gogle_ads", hint="did you mean 'google_ads'?")
>>> print(d.render())
ads.rq:1:17: error[RQ201]: unknown destination 'gogle_ads'
    1 | forbid pii.* to gogle_ads
      |                 ^^^^^^^^^
hint: did you mean 'google_ads'?
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

__all__ = [
    "Span",
    "NOSPAN",
    "Diagnostic",
    "RouteQLError",
    "RouteQLSyntaxError",
    "RouteQLCheckError",
    "EventError",
    "RouteQLRuntimeError",
    "did_you_mean",
    "MAX_REPORTED",
]

#: At most this many diagnostics are rendered in an exception message; the rest are
#: counted ("and 12 more").  ``.diagnostics`` always holds all of them.
MAX_REPORTED = 50


@dataclass(frozen=True, slots=True)
class Span:
    """Where a node came from: file and 1-based line/column of its first and last char.

    ``end_col`` is exclusive.  Spans never take part in node equality.
    """

    file: str
    line: int
    col: int
    end_line: int
    end_col: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "line": self.line,
            "col": self.col,
            "end_line": self.end_line,
            "end_col": self.end_col,
        }


NOSPAN = Span("<unknown>", 0, 0, 0, 0)


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One problem found in rules: what, where, and how to fix it."""

    code: str
    message: str
    span: Span = NOSPAN
    severity: str = "error"  # "error" | "warning"
    source_line: str | None = None
    hint: str | None = None
    notes: tuple[str, ...] = field(default=())

    @property
    def is_error(self) -> bool:
        return self.severity == "error"

    def render(self) -> str:
        """The human form: header, source line with caret, hint."""
        sp = self.span
        where = f"{sp.file}:{sp.line}:{sp.col}" if sp.line else sp.file
        out = [f"{where}: {self.severity}[{self.code}]: {self.message}"]
        if self.source_line is not None and sp.line:
            src = self.source_line.rstrip("\n").expandtabs(4)
            gutter = f"{sp.line:>5} | "
            out.append(gutter + src)
            start = max(sp.col - 1, 0)
            if sp.end_line == sp.line and sp.end_col > sp.col:
                width = sp.end_col - sp.col
            else:
                width = max(len(src) - start, 1)
            width = max(1, min(width, max(len(src) - start, 1)))
            out.append(" " * (len(gutter) - 2) + "| " + " " * start + "^" * width)
        for note in self.notes:
            out.append(f"note: {note}")
        if self.hint:
            out.append(f"hint: {self.hint}")
        return "\n".join(out)

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "severity": self.severity,
            "message": self.message,
            **self.span.to_dict(),
            "source_line": self.source_line,
            "hint": self.hint,
            "notes": list(self.notes),
        }

    def __str__(self) -> str:
        return self.render()


class RouteQLError(Exception):
    """Root of every error RouteQL raises.  ``.diagnostics`` holds the details as data."""

    def __init__(self, message: str, diagnostics: Sequence[Diagnostic] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.diagnostics: list[Diagnostic] = list(diagnostics)

    def __reduce__(self) -> Any:  # keep exceptions picklable (multiprocessing, logging)
        return (self.__class__, (self.message, self.diagnostics))

    @classmethod
    def from_diagnostics(cls, diagnostics: Sequence[Diagnostic]) -> "RouteQLError":
        errors = [d for d in diagnostics if d.is_error]
        shown = list(diagnostics)[:MAX_REPORTED]
        head = f"{len(errors)} error{'s' if len(errors) != 1 else ''} in rules"
        body = "\n\n".join(d.render() for d in shown)
        more = len(diagnostics) - len(shown)
        tail = f"\n\n... and {more} more" if more > 0 else ""
        return cls(f"{head}:\n\n{body}{tail}", diagnostics)


class RouteQLSyntaxError(RouteQLError):
    """The rule text does not parse."""


class RouteQLCheckError(RouteQLError):
    """The rule text parses but does not check (names, types, consent...)."""


class EventError(RouteQLError):
    """An event is malformed (not an object, wrong envelope types, over a limit)."""

    def __init__(self, message: str, diagnostics: Sequence[Diagnostic] = (), *, path: str = "") -> None:
        super().__init__(message, diagnostics)
        self.path = path

    def __reduce__(self) -> Any:
        return (_rebuild_event_error, (self.message, self.diagnostics, self.path))


def _rebuild_event_error(message: str, diagnostics: Sequence[Diagnostic], path: str) -> EventError:
    return EventError(message, diagnostics, path=path)


class RouteQLRuntimeError(RouteQLError):
    """Generated code failed on an event; carries the rule position it came from."""


def did_you_mean(name: str, candidates: Iterable[str], *, cutoff: float = 0.6) -> str | None:
    """The closest candidate to a misspelt ``name``, or None.

    >>> did_you_mean("gogle_ads", ["google_ads", "amplitude"])
    'google_ads'
    """
    pool = sorted(set(candidates))
    lowered = {c.lower(): c for c in pool}
    if name.lower() in lowered and lowered[name.lower()] != name:
        return lowered[name.lower()]
    best = difflib.get_close_matches(name, pool, n=1, cutoff=cutoff)
    return best[0] if best else None
