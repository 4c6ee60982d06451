"""The one exception every consent decoder raises on malformed input."""

from __future__ import annotations

from typing import Any

from ..errors import RouteQLError

__all__ = ["ConsentDecodeError"]


class ConsentDecodeError(RouteQLError):
    """A consent signal is malformed.

    ``format`` names the signal format (``"tcf"``, ``"gpp"``, ``"usprivacy"`` ...),
    ``reason`` says what was wrong in words, ``position`` is the bit or character
    offset where decoding stopped, when one is known.

    >>> str(ConsentDecodeError("version 3 is not supported", format="tcf", position=0))
    'tcf: version 3 is not supported (at bit 0)'
    """

    def __init__(self, reason: str, *, format: str = "consent", position: int | None = None, unit: str = "bit") -> None:
        where = f" (at {unit} {position})" if position is not None else ""
        super().__init__(f"{format}: {reason}{where}")
        self.reason = reason
        self.format = format
        self.position = position
        self.unit = unit

    def __reduce__(self) -> Any:
        return (_rebuild, (self.reason, self.format, self.position, self.unit))


def _rebuild(reason: str, format: str, position: int | None, unit: str) -> ConsentDecodeError:
    return ConsentDecodeError(reason, format=format, position=position, unit=unit)
