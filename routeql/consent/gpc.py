"""A Global Privacy Control value from an event -> ``bool`` (True = the user opted out).

Accepted: the JavaScript ``navigator.globalPrivacyControl`` boolean (``context.gpc``),
the ``Sec-GPC`` header value ``"1"`` (as str or bytes), ``1``/``0`` and ``"0"``.  The GPC
spec says a header counts as set only if its value is exactly ``"1"``; any other text is
rejected here rather than read as "not set", so a garbled signal is seen, not hidden.
Several header values (a list or tuple) are allowed: any ``"1"`` wins, as in the spec.

>>> decode("1"), decode(False), decode(["0", "1"])
(True, False, True)
"""

from __future__ import annotations

from ._bits import describe
from .errors import ConsentDecodeError

__all__ = ["decode"]

_FORMAT = "gpc"
_VALUES: dict[object, bool] = {"1": True, "0": False, b"1": True, b"0": False}


def decode(value: object) -> bool:
    """True when the value says GPC is enabled, False when it says it is not.

    Raises:
        ConsentDecodeError: anything but True/False, 1/0, "1"/"0" (str or bytes), or a
            non-empty list/tuple of those.

    >>> decode(" 1")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    routeql.consent.errors.ConsentDecodeError: gpc: expected true/false, 1/0 or ... got string of 2 characters
    """
    if isinstance(value, (list, tuple)):
        if not value or any(isinstance(v, (list, tuple)) for v in value):
            raise _error(value)
        return any([decode(v) for v in value])  # a list, not a generator: check every value
    if value is True or value is False:
        return value
    if type(value) is int and value in (0, 1):
        return value == 1
    if type(value) in (str, bytes) and value in _VALUES:
        return _VALUES[value]
    raise _error(value)


def _error(value: object) -> ConsentDecodeError:
    return ConsentDecodeError(
        f"expected true/false, 1/0 or the header value '1'/'0', got {describe(value)}", format=_FORMAT
    )
