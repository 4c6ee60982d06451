"""Google Consent Mode v2 states (a dict of consent types, or a ``gcs`` code) -> :class:`GCMState`.

The seven consent types take ``"granted"``/``"denied"`` (gtag), or the Google Ads API
``ConsentStatus`` names ``GRANTED``/``DENIED``/``UNSPECIFIED``/``UNKNOWN``; the last two
mean "no value" and are kept as ``None``.  A type that is absent stays absent.

>>> state = decode({"ad_storage": "granted", "ad_user_data": "DENIED", "ad_personalization": "UNSPECIFIED"})
>>> dict(state), "analytics_storage" in state
({'ad_storage': True, 'ad_user_data': False, 'ad_personalization': None}, False)
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from ._bits import describe, describe_name
from .errors import ConsentDecodeError

__all__ = ["CONSENT_TYPES", "GCMState", "decode", "decode_gcs"]

_FORMAT = "gcm"

#: The Consent Mode v2 consent types, in Google's order.
CONSENT_TYPES = (
    "ad_storage",
    "ad_user_data",
    "ad_personalization",
    "analytics_storage",
    "functionality_storage",
    "personalization_storage",
    "security_storage",
)
_VALUES: dict[str, bool | None] = {
    "granted": True, "denied": False,
    "GRANTED": True, "DENIED": False, "UNSPECIFIED": None, "UNKNOWN": None,
}
# gtag command parameters that can sit beside the states; they are not consent values, and
# dropping `region` silently would apply a region-limited default everywhere.
_COMMAND_PARAMETERS = ("region", "wait_for_update")


@dataclass(frozen=True, slots=True)
class GCMState(Mapping[str, "bool | None"]):
    """Consent type -> True (granted), False (denied) or None (sent without a value).

    ``state.get(t)`` is None both for an absent type and for one sent as UNSPECIFIED.
    """

    states: tuple[tuple[str, bool | None], ...]

    def __getitem__(self, key: str) -> bool | None:
        for name, value in self.states:
            if name == key:
                return value
        raise KeyError(key)

    def __iter__(self) -> Iterator[str]:
        return (name for name, _ in self.states)

    def __len__(self) -> int:
        return len(self.states)

    def granted(self, consent_type: str) -> bool:
        """True only when the type was explicitly granted."""
        return self.get(consent_type) is True

    def to_dict(self) -> dict[str, str | None]:
        return {name: None if v is None else ("granted" if v else "denied") for name, v in self.states}


def decode(obj: object) -> GCMState:
    """Decode a ``{consent_type: value}`` dict.

    Raises:
        ConsentDecodeError: not a dict, an unknown consent type, or an unknown value.

    >>> decode({"ad_storage": "yes"})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    routeql.consent.errors.ConsentDecodeError: gcm: ad_storage must be 'granted' or 'denied' (...), got string of 3 characters
    """
    if not isinstance(obj, dict):
        raise ConsentDecodeError(f"expected an object of consent types, got {describe(obj)}", format=_FORMAT)
    states: dict[str, bool | None] = {}
    for key, value in obj.items():
        if key in _COMMAND_PARAMETERS:
            raise ConsentDecodeError(
                f"{key!r} is a gtag command parameter, not a consent state; pass the consent types only",
                format=_FORMAT,
            )
        if key not in CONSENT_TYPES:
            raise ConsentDecodeError(f"unknown consent type {describe_name(key)}", format=_FORMAT)
        if type(value) is not str or value not in _VALUES:
            raise ConsentDecodeError(
                f"{key} must be 'granted' or 'denied' (or GRANTED, DENIED, UNSPECIFIED, UNKNOWN), "
                f"got {describe(value)}",
                format=_FORMAT,
            )
        states[key] = _VALUES[value]
    return _state(states)


def decode_gcs(code: object) -> GCMState:
    """Decode a GA4 ``gcs`` parameter: ``G1`` then one digit each for ad_storage and
    analytics_storage (1 granted, 0 denied).  Google does not document it; it is a
    coarse fallback when a hit carries nothing better.

    >>> decode_gcs("G101").to_dict()
    {'ad_storage': 'denied', 'analytics_storage': 'granted'}
    """
    if type(code) is not str or len(code) != 4 or code[:2] != "G1" or not set(code[2:]) <= {"0", "1"}:
        raise ConsentDecodeError(
            f"a gcs value is 'G1' plus two 0/1 digits (e.g. 'G111'), got {describe(code)}", format=_FORMAT
        )
    return _state({"ad_storage": code[2] == "1", "analytics_storage": code[3] == "1"})


def _state(states: dict[str, bool | None]) -> GCMState:
    # Google's order, so that equal states compare and hash equal whatever the input order.
    return GCMState(tuple((t, states[t]) for t in CONSENT_TYPES if t in states))
