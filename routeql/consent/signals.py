"""Signal formats: where each is read from, how it is keyed, and what it says.

A *format* turns the raw value found in an event into verdicts for the ``consent``
block's rules.  ``category analytics from segment "Analytics"`` asks the ``segment``
format for a verdict on its argument ``"Analytics"``; ``opt-out advertising by gpc``
asks the ``gpc`` format whether the user opted out.

Verdicts are ``GRANT``, ``DENY`` or ``None`` (this signal says nothing about it).  A
malformed signal is handled by the resolver (it denies what it maps).

Every format also gives a cheap, hashable *signature* of its raw value, holding exactly
what its verdicts depend on, so resolved consent states can be cached per distinct
signature rather than per event.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Hashable, Iterable

from ..runtime import MISSING
from .errors import ConsentDecodeError

__all__ = ["GRANT", "DENY", "SignalFormat", "FORMATS", "format_names", "arg_error"]

GRANT = True
DENY = False

Verdict = "bool | None"


@dataclass(frozen=True)
class SignalFormat:
    """How one consent format is read, keyed, decoded and mapped."""

    name: str
    description: str
    default_paths: tuple[tuple[str, ...], ...]
    decode: Callable[[Any], Any]
    #: verdict for a category source `FORMAT args...`; None when the format cannot map categories
    verdict: Callable[[Any, tuple[Any, ...]], "bool | None"] | None = None
    #: for `opt-out CATS by FORMAT args...`: did the user opt out?
    opted_out: Callable[[Any, tuple[Any, ...]], bool] | None = None
    #: validates the args of a source; returns an error message or None
    check_args: Callable[[tuple[Any, ...], str], "str | None"] = lambda args, role: None
    #: hashable key of a raw value, given every args tuple the rules use with this format
    signature: Callable[[Any, tuple[tuple[Any, ...], ...]], Hashable] | None = None
    #: decoded values of string signals are worth caching (TC strings and the like)
    cacheable: bool = False


def _hashable(raw: Any) -> Hashable:
    """A raw scalar as-is; anything unhashable stands for itself by type (it is malformed)."""
    c = raw.__class__
    if raw is None or c is str or c is bool or c is int or c is float:
        return raw
    return ("<malformed>", c.__name__)


def arg_error(args: tuple[Any, ...], *, strings: bool = False, names: Iterable[str] | None = None,
              at_least: int = 1) -> str | None:
    if len(args) < at_least:
        return f"expected at least {at_least} argument{'s' if at_least != 1 else ''}"
    for a in args:
        if strings and not isinstance(a, str):
            return f"expected quoted ids, got {a!r}"
        if names is not None and a not in names:
            allowed = ", ".join(sorted(names))
            return f"unknown argument {a!r}; expected one of {allowed}"
    return None


# ------------------------------------------------------------------ segment


def _segment_decode(raw: Any) -> Any:
    from . import segment

    return segment.decode(raw)


def _segment_verdict(decoded: Any, args: tuple[Any, ...]) -> bool | None:
    # Segment: a category the consent object does not list counts as not consented,
    # and so does a value that is not a JSON boolean.
    if decoded is None:
        return None
    prefs = decoded.preferences
    return GRANT if all(prefs.get(a) is True for a in args) else DENY


def _segment_signature(raw: Any, uses: tuple[tuple[Any, ...], ...]) -> Hashable:
    if raw is None:
        return None
    if raw.__class__ is not dict:
        return _hashable(raw)
    cp = raw.get("categoryPreferences", MISSING)
    if cp is MISSING:
        return ("<no-preferences>",)
    if cp.__class__ is not dict:
        return ("<preferences>", _hashable(cp))
    keys = sorted({a for args in uses for a in args})
    return ("<preferences>",) + tuple(
        v if (v is True or v is False or v is MISSING) else "<invalid>" for v in (cp.get(k, MISSING) for k in keys)
    )


# ------------------------------------------------------------------ rudderstack


def _rudder_decode(raw: Any) -> Any:
    from . import rudderstack

    return rudderstack.decode(raw)


def _rudder_verdict(decoded: Any, args: tuple[Any, ...]) -> bool | None:
    """RudderStack semantics: ``and`` denies if any id is denied, ``or`` only if all are."""
    if decoded is None:
        return None
    strategy = (decoded.strategy or "and").lower()
    denied = [a in decoded.denied for a in args]
    allowed = [a in decoded.allowed for a in args]
    if strategy == "or":
        if all(denied):
            return DENY
        if any(allowed):
            return GRANT
        return None
    if any(denied):
        return DENY
    if all(allowed):
        return GRANT
    return None


def _ids(v: Any) -> Any:
    if v.__class__ is list:
        if all(x.__class__ is str for x in v):
            return frozenset(v)
        return ("<malformed>",)
    if v.__class__ is dict:
        return frozenset(v)
    return _hashable(v)


def _rudder_signature(raw: Any, uses: tuple[tuple[Any, ...], ...]) -> Hashable:
    if raw is None:
        return None
    if raw.__class__ is not dict:
        return _hashable(raw)
    wanted = frozenset(a for args in uses for a in args)
    allowed = _ids(raw.get("allowedConsentIds"))
    denied = _ids(raw.get("deniedConsentIds"))
    if allowed.__class__ is frozenset:
        allowed = allowed & wanted
    if denied.__class__ is frozenset:
        denied = denied & wanted
    return (_hashable(raw.get("resolutionStrategy")), _hashable(raw.get("provider")), allowed, denied)


# ------------------------------------------------------------------ registry

FORMATS: dict[str, SignalFormat] = {}


def register(fmt: SignalFormat) -> SignalFormat:
    FORMATS[fmt.name] = fmt
    return fmt


register(SignalFormat(
    name="segment",
    description="Segment consent object, context.consent.categoryPreferences",
    default_paths=(("context", "consent"),),
    decode=_segment_decode,
    verdict=_segment_verdict,
    check_args=lambda args, role: "segment is not an opt-out signal" if role == "opt-out" else arg_error(args, strings=True),
    signature=_segment_signature,
))

register(SignalFormat(
    name="rudderstack",
    description="RudderStack consent, context.consentManagement (allowed/denied consent ids)",
    default_paths=(("context", "consentManagement"),),
    decode=_rudder_decode,
    verdict=_rudder_verdict,
    check_args=lambda args, role: "rudderstack is not an opt-out signal" if role == "opt-out" else arg_error(args, strings=True),
    signature=_rudder_signature,
))


def format_names() -> list[str]:
    return sorted(FORMATS)


def decode_safely(fmt: SignalFormat, raw: Any) -> tuple[Any, str | None]:
    """(decoded, None) or (None, reason) for a malformed signal; never raises."""
    try:
        return fmt.decode(raw), None
    except ConsentDecodeError as e:
        return None, e.reason
    except Exception as e:  # a decoder bug must not take routing down: treat as malformed
        return None, f"decoder failed: {type(e).__name__}"
