"""OneTrust consent (``OptanonConsent`` cookie, a ``groups`` list, or ``OnetrustActiveGroups``)
-> :class:`OneTrustConsent`.

Three forms are told apart by their text:

* the ``OptanonConsent`` cookie value, a URL-encoded query string (it contains ``=``):
  ``groups=C0001%3A1%2CC0002%3A0&isGpcEnabled=0&interactionCount=1&...``;
* a bare groups list (it contains ``:``): ``C0001:1,C0002:0`` (1 granted, 0 denied);
* ``OnetrustActiveGroups``, the granted ids only: ``,C0001,C0002,``.

Group ids are tenant configuration; :data:`DEFAULT_GROUPS` names OneTrust's five defaults.

>>> c = decode("isGpcEnabled=1&interactionCount=2&groups=C0001%3A1%2CC0004%3A0")
>>> dict(c.groups), c.is_gpc_enabled, c.categories()
({'C0001': True, 'C0004': False}, True, {'strictly_necessary': True, 'targeting': False})
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_plus

from ._bits import FrozenMap, describe
from .errors import ConsentDecodeError

__all__ = ["DEFAULT_GROUPS", "OneTrustConsent", "decode"]

_FORMAT = "onetrust"

#: OneTrust's default category (group) ids.  Tenants can rename them and add their own,
#: so rules may map other ids; these are only the defaults.
DEFAULT_GROUPS = {
    "C0001": "strictly_necessary",
    "C0002": "performance",
    "C0003": "functional",
    "C0004": "targeting",
    "C0005": "social_media",
}

#: Longest value accepted, in characters (browsers cap a cookie at about 4 KB).
MAX_LENGTH = 16 * 1024
_GROUP_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
_FLAGS = {"1": True, "0": False}


@dataclass(frozen=True, slots=True)
class OneTrustConsent:
    """Group id -> granted, plus the cookie's GPC, interaction and reconsent markers
    (``None`` when the form has no such field).  ``source`` is ``"OptanonConsent"``,
    ``"groups"`` or ``"OnetrustActiveGroups"``; the last lists granted groups only."""

    groups: FrozenMap[bool]
    source: str
    is_gpc_enabled: bool | None = None
    interaction_count: int | None = None
    awaiting_reconsent: bool | None = None

    def granted(self, group_id: str) -> bool:
        """True only for a group marked granted; absent groups are not granted."""
        return self.groups.get(group_id) is True

    def categories(self, names: Mapping[str, str] = DEFAULT_GROUPS) -> dict[str, bool]:
        """The groups that ``names`` knows, keyed by category name."""
        return {names[g]: v for g, v in self.groups.items() if g in names}

    def to_dict(self) -> dict[str, Any]:
        return {
            "groups": dict(self.groups),
            "source": self.source,
            "isGpcEnabled": self.is_gpc_enabled,
            "interactionCount": self.interaction_count,
            "awaitingReconsent": self.awaiting_reconsent,
        }


def decode(value: object) -> OneTrustConsent:
    """Decode any of the three OneTrust forms.

    Raises:
        ConsentDecodeError: not a str, too long, a malformed query string, no ``groups``
            field in the cookie, a bad group id, a flag other than 0/1, a duplicate group,
            or a malformed isGpcEnabled / interactionCount / AwaitingReconsent.

    >>> decode("C0001:1,C0002:yes")
    Traceback (most recent call last):
    ...
    routeql.consent.errors.ConsentDecodeError: onetrust: group 'C0002' must be 1 or 0, got string of 3 characters
    """
    if not isinstance(value, str):
        raise ConsentDecodeError(f"expected a str, got {describe(value)}", format=_FORMAT)
    if len(value) > MAX_LENGTH:
        raise ConsentDecodeError(f"longer than {MAX_LENGTH} characters", format=_FORMAT)
    if "=" in value:
        return _cookie(value)
    if ":" in value:
        return OneTrustConsent(_groups(value), "groups")
    # OnetrustActiveGroups is wrapped in commas (",C0001,C0002,"); empty entries carry nothing.
    ids = [g for g in value.split(",") if g]
    return OneTrustConsent(FrozenMap(_unique((_group_id(g), True) for g in ids)), "OnetrustActiveGroups")


def _cookie(value: str) -> OneTrustConsent:
    params: dict[str, str] = {}
    for part in value.split("&"):
        if not part:
            continue
        key, sep, raw = part.partition("=")
        if not sep:
            raise ConsentDecodeError(f"cookie field {describe(key)} has no '='", format=_FORMAT)
        try:
            key, text = unquote_plus(key, errors="strict"), unquote_plus(raw, errors="strict")
        except UnicodeDecodeError as e:
            reason = f"cookie field {describe(key)} is not valid UTF-8 once unquoted"
            raise ConsentDecodeError(reason, format=_FORMAT) from e
        if key in params:
            raise ConsentDecodeError(f"cookie field {describe(key)} appears twice", format=_FORMAT)
        params[key] = text
    if "groups" not in params:
        raise ConsentDecodeError("the OptanonConsent cookie has no groups field", format=_FORMAT)
    return OneTrustConsent(
        _groups(params["groups"]),
        "OptanonConsent",
        is_gpc_enabled=_choice(params, "isGpcEnabled", _FLAGS),
        interaction_count=_count(params.get("interactionCount")),
        awaiting_reconsent=_choice(params, "AwaitingReconsent", {"true": True, "false": False}),
    )


def _groups(text: str) -> FrozenMap[bool]:
    """``C0001:1,C0002:0`` -> {"C0001": True, "C0002": False}; an empty text is no groups."""
    pairs = []
    for item in text.split(",") if text else ():
        gid, sep, flag = item.partition(":")
        gid = _group_id(gid)
        if not sep or flag not in _FLAGS:
            raise ConsentDecodeError(f"group {gid!r} must be 1 or 0, got {describe(flag)}", format=_FORMAT)
        pairs.append((gid, _FLAGS[flag]))
    return FrozenMap(_unique(pairs))


def _group_id(text: str) -> str:
    if not _GROUP_ID.fullmatch(text):
        raise ConsentDecodeError(
            f"bad group id {describe(text)} (letters, digits, _ and -, at most 64)", format=_FORMAT
        )
    return text


def _unique(pairs: Iterable[tuple[str, bool]]) -> list[tuple[str, bool]]:
    out = list(pairs)
    seen: set[str] = set()
    for gid, _ in out:
        if gid in seen:
            raise ConsentDecodeError(f"group {gid!r} appears twice", format=_FORMAT)
        seen.add(gid)
    return out


def _choice(params: dict[str, str], key: str, values: dict[str, bool]) -> bool | None:
    if key not in params:
        return None
    if params[key] not in values:
        raise ConsentDecodeError(f"{key} must be {' or '.join(values)}, got {describe(params[key])}", format=_FORMAT)
    return values[params[key]]


def _count(text: str | None) -> int | None:
    if text is None:
        return None
    if not (text.isascii() and text.isdigit()) or len(text) > 9:
        raise ConsentDecodeError(f"interactionCount must be a small whole number, got {describe(text)}", format=_FORMAT)
    return int(text)
