"""RudderStack ``context.consentManagement`` -> :class:`RudderStackConsent`, or ``None``.

``{"provider": "oneTrust", "allowedConsentIds": [...], "deniedConsentIds": [...],
"resolutionStrategy": "and" | "or"}``.  The id lists may also arrive as objects whose
keys are the ids (some SDKs send that).  Ids are case-sensitive and kept exactly as sent
(no trimming), as rudder-server compares them.  ``resolutionStrategy`` is matched
case-insensitively and normalised to lower case; when missing it is ``None``, meaning
the destination's configured (or default ``and``) strategy applies.  Other keys are ignored.

>>> c = decode({"provider": "oneTrust", "allowedConsentIds": ["C0001"], "deniedConsentIds": {"C0004": "Targeting"}})
>>> sorted(c.allowed), sorted(c.denied), c.strategy
(['C0001'], ['C0004'], None)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ._bits import describe
from .errors import ConsentDecodeError

__all__ = ["MAX_IDS", "RudderStackConsent", "decode"]

_FORMAT = "rudderstack"
#: Most ids accepted per list.
MAX_IDS = 1024
_STRATEGIES = ("and", "or")


@dataclass(frozen=True, slots=True)
class RudderStackConsent:
    """The CMP provider, the allowed and denied consent ids, and the resolution strategy."""

    provider: str | None
    allowed: frozenset[str]
    denied: frozenset[str]
    strategy: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "provider": self.provider,
            "allowedConsentIds": sorted(self.allowed),
            "deniedConsentIds": sorted(self.denied),
            "resolutionStrategy": self.strategy,
        }


def decode(obj: object) -> RudderStackConsent | None:
    """Decode the value of ``context.consentManagement``; ``None`` gives ``None``.

    Raises:
        ConsentDecodeError: not an object, ``provider`` not a string, an id list that is
            neither a list of strings nor an object, or an unknown ``resolutionStrategy``.

    >>> decode({"deniedConsentIds": "C0004"})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    routeql.consent.errors.ConsentDecodeError: rudderstack: deniedConsentIds must be a list of strings or ...
    """
    if obj is None:
        return None
    if not isinstance(obj, dict):
        raise ConsentDecodeError(f"context.consentManagement must be an object, got {describe(obj)}", format=_FORMAT)
    provider = obj.get("provider")
    if provider is not None and not isinstance(provider, str):
        raise ConsentDecodeError(f"provider must be a string, got {describe(provider)}", format=_FORMAT)
    strategy = obj.get("resolutionStrategy")
    if strategy is not None:
        if not isinstance(strategy, str) or strategy.lower() not in _STRATEGIES:
            reason = f"resolutionStrategy must be 'and' or 'or', got {describe(strategy)}"
            raise ConsentDecodeError(reason, format=_FORMAT)
        strategy = strategy.lower()
    return RudderStackConsent(
        provider, _ids(obj, "allowedConsentIds"), _ids(obj, "deniedConsentIds"), strategy
    )


def _ids(obj: dict[Any, Any], key: str) -> frozenset[str]:
    value = obj.get(key)
    if value is None:
        return frozenset()
    if isinstance(value, dict):
        ids = list(value)  # {"C0001": "Strictly Necessary", ...}: the keys are the ids
    elif isinstance(value, list):
        ids = value
    else:
        raise ConsentDecodeError(
            f"{key} must be a list of strings or an object keyed by id, got {describe(value)}", format=_FORMAT
        )
    if len(ids) > MAX_IDS:
        raise ConsentDecodeError(f"{key} has more than {MAX_IDS} ids", format=_FORMAT)
    for i in ids:
        if not isinstance(i, str):
            raise ConsentDecodeError(f"{key} must hold strings, got {describe(i)}", format=_FORMAT)
    return frozenset(ids)
