"""Segment ``context.consent`` -> :class:`SegmentConsent`, or ``None`` when there is no signal.

Segment's rules, which this keeps: a missing consent object, ``null`` or ``{}`` means no
consent enforcement (``None`` here); ``{"categoryPreferences": {}}`` means every category
is false; a category absent from the object is not consented.  Category ids are
case-sensitive.  A preference that is not a JSON boolean is not a grant: it is recorded
in ``invalid`` (so the event can be reported) instead of failing the whole event; so is a
key that is not a string (it cannot name a category).  Other keys of the consent object
are ignored.

What the decoder makes of the categories a rule set maps depends on their values alone
(and on the object's size): the resolver caches states by exactly that
(``signals._segment_signature``), so the answer for one event never depends on the
events seen before it.

>>> c = decode({"categoryPreferences": {"Advertising": True, "Analytics": "yes"}})
>>> c.granted("Advertising"), c.granted("Analytics"), dict(c.invalid)
(True, False, {'Analytics': 'string of 3 characters'})
>>> decode({}) is None
True
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ._bits import FrozenMap, describe
from .errors import ConsentDecodeError

__all__ = ["MAX_CATEGORIES", "SegmentConsent", "decode"]

_FORMAT = "segment"
#: Most categories accepted in one object; a workspace has a handful.
MAX_CATEGORIES = 1024


@dataclass(frozen=True, slots=True)
class SegmentConsent:
    """Category id -> consented, and the categories whose value was not a boolean."""

    preferences: FrozenMap[bool]
    invalid: FrozenMap[str]

    def granted(self, category: str) -> bool:
        """True only for a category set to ``true``; missing or invalid is not consent."""
        return self.preferences.get(category) is True

    def to_dict(self) -> dict[str, Any]:
        return {"categoryPreferences": dict(self.preferences), "invalid": dict(self.invalid)}


def decode(obj: object) -> SegmentConsent | None:
    """Decode the value of ``context.consent``.

    Raises:
        ConsentDecodeError: the consent value is not an object, ``categoryPreferences`` is
            present but not an object, or it has more than :data:`MAX_CATEGORIES`
            categories.

    >>> decode({"categoryPreferences": ["Advertising"]})
    Traceback (most recent call last):
    ...
    routeql.consent.errors.ConsentDecodeError: segment: categoryPreferences must be an object, got array
    """
    if obj is None:
        return None
    if not isinstance(obj, dict):
        raise ConsentDecodeError(f"context.consent must be an object, got {describe(obj)}", format=_FORMAT)
    if "categoryPreferences" not in obj:
        return None  # {} or a consent object without preferences: no signal, no enforcement
    prefs = obj["categoryPreferences"]
    if not isinstance(prefs, dict):
        raise ConsentDecodeError(f"categoryPreferences must be an object, got {describe(prefs)}", format=_FORMAT)
    if len(prefs) > MAX_CATEGORIES:
        raise ConsentDecodeError(f"more than {MAX_CATEGORIES} categories", format=_FORMAT)
    granted: list[tuple[str, bool]] = []
    invalid: list[tuple[str, str]] = []
    for key, value in prefs.items():
        if not isinstance(key, str):
            invalid.append((f"<key: {describe(key)}>", "not a category id"))
        elif type(value) is bool:
            granted.append((key, value))
        else:
            invalid.append((key, describe(value)))
    return SegmentConsent(FrozenMap(granted), FrozenMap(invalid))
