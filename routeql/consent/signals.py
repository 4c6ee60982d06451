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

import importlib
from dataclasses import dataclass
from typing import Any, Callable, Hashable, Iterable

from ..runtime import MISSING, get_path
from .errors import ConsentDecodeError
from .rudderstack import MAX_IDS
from .segment import MAX_CATEGORIES

__all__ = ["GRANT", "DENY", "SignalFormat", "FORMATS", "format_names", "arg_error", "scalar_key"]

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
    #: formats sharing one decoder share decoded values (gpp, usnat, usca read one string)
    decoder_key: str = ""
    #: a custom reader, when the signal is more than one value (GPP string + gpp_sid)
    reader: Callable[[Any, tuple[tuple[str, ...], ...]], Any] | None = None
    #: what ``reader`` does, for compiled code to do inline: it reads the first non-null of
    #: the signal's paths and, when there is one, pairs it with the first non-null of these
    #: companion paths passed through this function (None: call ``reader``)
    companion: "tuple[tuple[tuple[str, ...], ...], Callable[[Any], Any]] | None" = None
    #: how compiled code keys the state cache on this signal: "segment" (the mapped
    #: preferences), "scalar" (the raw string or flag) or "call" (``signature``)
    key_kind: str = "call"

    @property
    def cache_key(self) -> str:
        return self.decoder_key or self.name


def _hashable(raw: Any) -> Hashable:
    """A string or null as-is, a number or boolean tagged with its type (Python holds
    True == 1 == 1.0; the signals do not), anything else by its type (it is malformed).
    Never an int: compiled code keys the common case of some formats with ints."""
    c = raw.__class__
    if raw is None or c is str:
        return raw
    if c is bool or c is int or c is float:
        return (c.__name__, raw)
    return ("<malformed>", c.__name__)


#: how deep :func:`scalar_key` looks into a malformed signal.  No consent format reads
#: anything that deep (a signal is a string, a flag or a shallow object), so what lies
#: below only has to key as "too deep": the key, and so the answer, never depends on how
#: much of Python's stack the caller had left.
MAX_KEY_DEPTH = 16


def scalar_key(raw: Any, depth: int = 0) -> Hashable:
    """A cache key for a raw value: strings and null as they are, anything else tagged with
    its type (Python holds True == 1 == 1.0; the signals do not).

    >>> scalar_key([1, "a"]), scalar_key({"b": True})
    (('list', (('int', 1), 'a')), ('dict', (('b', ('bool', True)),)))
    """
    c = raw.__class__
    if raw is None or c is str:
        return raw
    if c is bool or c is int or c is float:
        return (c.__name__, raw)
    if c is list or c is tuple or c is dict:
        if depth >= MAX_KEY_DEPTH:
            return ("<too deep>", c.__name__)
        if c is dict:
            try:
                return ("dict", tuple(sorted((k, scalar_key(v, depth + 1)) for k, v in raw.items())))
            except TypeError:
                return ("dict", repr(raw))
        return (c.__name__, tuple(scalar_key(x, depth + 1) for x in raw))
    return ("<other>", c.__name__)


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


def _decoder(module: str) -> Callable[[Any], Any]:
    """``routeql.consent.<module>.decode``, imported on first use (the decoder modules
    import this one's helpers, so they cannot be imported at the top)."""

    def decode(raw: Any) -> Any:
        return importlib.import_module(f"{__package__}.{module}").decode(raw)

    decode.__qualname__ = f"{module}.decode"
    return decode


# ------------------------------------------------------------------ segment


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
    if cp.__class__ is not dict or len(cp) > MAX_CATEGORIES:
        return ("<preferences>", _hashable(cp))
    # two bits per category the rules read: 1 granted, 2 refused, 0 absent, 3 not a boolean
    # (the compiled consent function computes the same int inline)
    code = 0
    for i, k in enumerate(segment_keys(uses)):
        v = cp.get(k, MISSING)
        code |= (1 if v is True else 2 if v is False else 0 if v is MISSING else 3) << (2 * i)
    return code


def segment_keys(uses: tuple[tuple[Any, ...], ...]) -> list[str]:
    """The categoryPreferences keys a rule set reads, in a fixed order."""
    return sorted({a for args in uses for a in args})


# ------------------------------------------------------------------ rudderstack


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
    """An id list's part of the signature: malformed exactly when the decoder fails on it."""
    if v.__class__ is list or v.__class__ is dict:
        if len(v) <= MAX_IDS and all(x.__class__ is str for x in v):
            return frozenset(v)
        return ("<malformed>",)
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
    decode=_decoder('segment'),
    verdict=_segment_verdict,
    check_args=lambda args, role: "segment is not an opt-out signal" if role == "opt-out" else arg_error(args, strings=True),
    signature=_segment_signature,
    key_kind="segment",
))

register(SignalFormat(
    name="rudderstack",
    description="RudderStack consent, context.consentManagement (allowed/denied consent ids)",
    default_paths=(("context", "consentManagement"),),
    decode=_decoder('rudderstack'),
    verdict=_rudder_verdict,
    check_args=lambda args, role: "rudderstack is not an opt-out signal" if role == "opt-out" else arg_error(args, strings=True),
    signature=_rudder_signature,
))


# ------------------------------------------------------------------ shared helpers


def _all(checks: list[bool | None]) -> bool | None:
    """All granted -> GRANT; any denied -> DENY; otherwise no verdict."""
    if any(c is False for c in checks):
        return DENY
    if checks and all(c is True for c in checks):
        return GRANT
    return None


def _ints(args: tuple[Any, ...], lo: int, hi: int) -> str | None:
    if not args:
        return "expected at least one number"
    for a in args:
        if not isinstance(a, int) or isinstance(a, bool) or not lo <= a <= hi:
            return f"expected numbers from {lo} to {hi}, got {a!r}"
    return None


def _names(args: tuple[Any, ...], allowed: Iterable[str], *, at_least: int = 1) -> str | None:
    return arg_error(args, names=tuple(allowed), at_least=at_least)


# ------------------------------------------------------------------ OneTrust


def _onetrust_verdict(decoded: Any, args: tuple[Any, ...]) -> bool | None:
    # OnetrustActiveGroups lists granted groups only: a group it does not list is denied.
    # The cookie and groups forms list every group with 1/0: an absent group says nothing.
    absent = DENY if decoded.source == "OnetrustActiveGroups" else None
    return _all([decoded.groups.get(a, absent) for a in args])


def _onetrust_check(args: tuple[Any, ...], role: str) -> str | None:
    if role == "opt-out":
        return None if args == ("gpc",) else "as an opt-out, onetrust takes `gpc` (the cookie's isGpcEnabled flag)"
    return arg_error(args, strings=True)


register(SignalFormat(
    name="onetrust",
    description="OneTrust groups: the OptanonConsent cookie, a groups string, or OnetrustActiveGroups",
    default_paths=(("context", "consent", "onetrust"), ("context", "onetrust")),
    decode=_decoder('onetrust'),
    verdict=_onetrust_verdict,
    opted_out=lambda d, args: d.is_gpc_enabled is True,
    check_args=_onetrust_check,
    cacheable=True,
    key_kind="scalar",
))

# ------------------------------------------------------------------ Cookiebot

_COOKIEBOT = ("necessary", "preferences", "statistics", "marketing")


register(SignalFormat(
    name="cookiebot",
    description="Cookiebot: the CookieConsent cookie or its object (necessary, preferences, statistics, marketing)",
    default_paths=(("context", "consent", "cookiebot"), ("context", "cookiebot")),
    decode=_decoder('cookiebot'),
    verdict=lambda d, args: _all([bool(getattr(d, a)) for a in args]),
    check_args=lambda args, role: "cookiebot is not an opt-out signal" if role == "opt-out" else _names(args, _COOKIEBOT),
    cacheable=True,
    key_kind="scalar",
))

# ------------------------------------------------------------------ Google Consent Mode

_GCM_TYPES = ("ad_storage", "ad_user_data", "ad_personalization", "analytics_storage",
              "functionality_storage", "personalization_storage", "security_storage")


register(SignalFormat(
    name="gcm",
    description="Google Consent Mode v2: {ad_storage: granted|denied, ...}",
    default_paths=(("context", "consent", "gcm"), ("context", "consent_mode")),
    decode=_decoder('gcm'),
    verdict=lambda d, args: _all([d.get(a) for a in args]),
    opted_out=lambda d, args: any(d.get(a) is False for a in args),
    check_args=lambda args, role: _names(args, _GCM_TYPES),
))

# ------------------------------------------------------------------ TCF


_TCF_QUALIFIERS = {"li", "flexible", "publisher", "custom"}


def _tcf_parse(args: tuple[Any, ...]) -> tuple[str, str, tuple[int, ...]] | str:
    """``[li|flexible|publisher|custom] purposes N...`` or ``special_features N...``."""
    words = [a for a in args if isinstance(a, str)]
    numbers = tuple(a for a in args if not isinstance(a, str))
    if args[: len(words)] != tuple(words):
        return "write the words first, then the numbers: tcf purposes 1 7"
    qualifier = words[0] if len(words) == 2 and words[0] in _TCF_QUALIFIERS else ""
    what = words[-1] if words else ""
    if what not in ("purposes", "special_features") or len(words) > 2 or (len(words) == 2 and not qualifier):
        return "expected [li | flexible | publisher | custom] purposes N..., or special_features N..."
    if what == "special_features" and qualifier:
        return "special_features takes no qualifier"
    hi = 12 if what == "special_features" else (64 if qualifier == "custom" else 24)
    problem = _ints(numbers, 1, hi)
    return problem if problem else (qualifier, what, numbers)


def _tcf_check(args: tuple[Any, ...], role: str) -> str | None:
    if role == "opt-out":
        return "tcf is not an opt-out signal: TCF carries consent, map it to a category"
    parsed = _tcf_parse(args)
    return parsed if isinstance(parsed, str) else None


def tcf_verdict(tc: Any, args: tuple[Any, ...]) -> bool | None:
    """Every listed purpose (or special feature) set in the TC string -> GRANT, else DENY."""
    parsed = _tcf_parse(args)
    assert not isinstance(parsed, str)
    qualifier, what, numbers = parsed
    if what == "special_features":
        test = tc.special_feature
    elif qualifier == "li":
        test = tc.purpose_li
    elif qualifier == "flexible":
        test = lambda n: tc.purpose_consent(n) or tc.purpose_li(n)  # noqa: E731
    elif qualifier == "publisher":
        test = tc.pub_purpose_consent
    elif qualifier == "custom":
        test = tc.custom_purpose_consent
    else:
        test = tc.purpose_consent
    return GRANT if all(test(n) for n in numbers) else DENY


register(SignalFormat(
    name="tcf",
    description="IAB TCF v2.2/2.3 TC string (purpose consent, legitimate interest, special features)",
    default_paths=(("context", "consent", "tcf"), ("context", "gdpr_consent")),
    decode=_decoder('tcf'),
    verdict=tcf_verdict,
    check_args=_tcf_check,
    cacheable=True,
    key_kind="scalar",
))

# ------------------------------------------------------------------ GPP and its US sections


#: where the event says which GPP sections apply
GPP_SID_PATHS = (("context", "consent", "gpp_sid"), ("context", "gpp_sid"))


def _gpp_read(event: Any, paths: tuple[tuple[str, ...], ...]) -> Any:
    """The GPP string, and the applicable section ids (``gpp_sid``) when the event gives
    them (what the formats' ``companion`` says, for compiled code)."""
    raw = None
    for p in paths:
        raw = get_path(event, p)
        if raw is not None:
            break
    if raw is None:
        return None
    sid = None
    for p in GPP_SID_PATHS:
        sid = get_path(event, p)
        if sid is not None:
            break
    return (raw, _hashable_sid(sid))


def _hashable_sid(sid: Any) -> Any:
    if sid is None or sid.__class__ is str or sid.__class__ is int:
        return sid
    if sid.__class__ is list:
        return tuple(x if x.__class__ in (int, str) else "<malformed>" for x in sid)
    return "<malformed>"


def _parse_sid(sid: Any) -> frozenset[int] | None:
    if sid is None:
        return None
    items = sid.split(",") if sid.__class__ is str else list(sid) if sid.__class__ is tuple else [sid]
    out = set()
    for x in items:
        try:
            out.add(int(str(x).strip()))
        except ValueError:
            raise ConsentDecodeError(f"gpp_sid must list section ids, got {str(x)[:20]!r}", format="gpp") from None
    return frozenset(out)


class GPPSignal:
    """A decoded GPP string and the sections in force for this event."""

    __slots__ = ("gpp", "applicable")

    def __init__(self, gpp: Any, applicable: frozenset[int] | None) -> None:
        self.gpp = gpp
        self.applicable = applicable

    def section(self, name: str) -> Any:
        sec = self.gpp.section(name)
        if sec is None or sec.value is None:
            return None
        if self.applicable is not None and -1 not in self.applicable and sec.id not in self.applicable:
            return None  # present, but not the section in force for this event
        return sec.value


def _gpp_decode(raw: Any) -> Any:
    from . import gpp

    if raw.__class__ is tuple:
        string, sid = raw
    else:
        string, sid = raw, None
    return GPPSignal(gpp.decode(string), _parse_sid(sid))


_US_OPTOUTS = {"sale": "sale_opt_out", "sharing": "sharing_opt_out",
               "targeted_advertising": "targeted_advertising_opt_out"}


def _us_section_opted_out(section: Any, args: tuple[Any, ...]) -> bool:
    """An MSPA section says the user opted out (1) of any listed processing."""
    for a in args:
        if a == "gpc":
            if getattr(section, "gpc", False):
                return True
        elif a == "sensitive" or a == "known_child":
            continue  # handled with their numbers below
        elif isinstance(a, str):
            if getattr(section, _US_OPTOUTS[a], 0) == 1:
                return True
    for field, numbers in _numbered(args):
        values = section.sensitive_data_processing if field == "sensitive" else section.known_child_sensitive_data_consents
        if any(0 < n <= len(values) and values[n - 1] == 1 for n in numbers):
            return True
    return False


def _numbered(args: tuple[Any, ...]) -> list[tuple[str, tuple[int, ...]]]:
    out: list[tuple[str, tuple[int, ...]]] = []
    current: str | None = None
    nums: list[int] = []
    for a in args:
        if isinstance(a, str):
            if current:
                out.append((current, tuple(nums)))
            current, nums = (a, []) if a in ("sensitive", "known_child") else (None, [])
        elif current:
            nums.append(a)
    if current:
        out.append((current, tuple(nums)))
    return out


def _us_section_verdict(section: Any, args: tuple[Any, ...]) -> bool | None:
    """Sensitive-data consents: 2 (consent) grants, 1 (no consent) denies, 0 (n/a) says nothing."""
    checks: list[bool | None] = []
    for field, numbers in _numbered(args):
        values = section.sensitive_data_processing if field == "sensitive" else section.known_child_sensitive_data_consents
        for n in numbers:
            v = values[n - 1] if 0 < n <= len(values) else 0
            checks.append(True if v == 2 else False if v == 1 else None)
    return _all(checks)


_SECTION_SIZES = {"usnat": (16, 3), "usca": (9, 2)}


def _us_check(section: str, args: tuple[Any, ...], role: str) -> str | None:
    if not args:
        return "expected what to read: sale, sharing, targeted_advertising, gpc, sensitive N..., known_child N..."
    allowed = {"sale", "sharing", "gpc", "sensitive", "known_child"} | ({"targeted_advertising"} if section == "usnat" else set())
    sizes = _SECTION_SIZES[section]
    current = None
    for a in args:
        if isinstance(a, str):
            if a not in allowed:
                return f"unknown {section} field {a!r}; expected one of {', '.join(sorted(allowed))}"
            current = a
            if role == "category" and a not in ("sensitive", "known_child"):
                return f"{a} is an opt-out; use it in `opt-out ... by {section} {a}`"
        else:
            if current not in ("sensitive", "known_child"):
                return f"a number must follow `sensitive` or `known_child`, got {a!r}"
            hi = sizes[0] if current == "sensitive" else sizes[1]
            if not isinstance(a, int) or not 1 <= a <= hi:
                return f"{section} {current} categories are 1 to {hi}, got {a!r}"
    for field, numbers in _numbered(args):
        if not numbers:
            return f"`{field}` needs category numbers, e.g. {field} 8"
    return None


def _gpp_dispatch(kind: str) -> Callable[..., Any]:
    def verdict(d: Any, args: tuple[Any, ...]) -> bool | None:
        section, rest = args[0], args[1:]
        value = d.section(section)
        if value is None:
            return None
        if section == "tcfeuv2":
            return tcf_verdict(value, rest)
        return _us_section_verdict(value, rest)

    def opted_out(d: Any, args: tuple[Any, ...]) -> bool:
        section, rest = args[0], args[1:]
        value = d.section(section)
        if value is None:
            return False
        if section == "uspv1":
            return bool(value.opted_out_of_sale)
        return _us_section_opted_out(value, rest)

    return verdict if kind == "verdict" else opted_out


def _gpp_check(args: tuple[Any, ...], role: str) -> str | None:
    if not args or args[0] not in ("tcfeuv2", "uspv1", "usnat", "usca"):
        return "expected a section first: tcfeuv2, uspv1, usnat or usca"
    section, rest = args[0], args[1:]
    if section == "tcfeuv2":
        return _tcf_check(rest, role)
    if section == "uspv1":
        if role != "opt-out" or rest != ("sale",):
            return "uspv1 is an opt-out signal: opt-out ... by gpp uspv1 sale"
        return None
    return _us_check(section, rest, role)


_GPP_PATHS = (("context", "consent", "gpp"), ("context", "gpp"))

register(SignalFormat(
    name="gpp",
    description="IAB GPP string (sections tcfeuv2, uspv1, usnat, usca), honouring gpp_sid",
    default_paths=_GPP_PATHS,
    decode=_gpp_decode,
    verdict=_gpp_dispatch("verdict"),
    opted_out=_gpp_dispatch("opted_out"),
    check_args=_gpp_check,
    cacheable=True,
    decoder_key="gpp",
    reader=_gpp_read,
    companion=(GPP_SID_PATHS, _hashable_sid),
))

for _section in ("usnat", "usca"):
    register(SignalFormat(
        name=_section,
        description=f"the {_section} section of the event's GPP string",
        default_paths=_GPP_PATHS,
        decode=_gpp_decode,
        verdict=(lambda sec: lambda d, args: _gpp_dispatch("verdict")(d, (sec, *args)))(_section),
        opted_out=(lambda sec: lambda d, args: _gpp_dispatch("opted_out")(d, (sec, *args)))(_section),
        check_args=(lambda sec: lambda args, role: _us_check(sec, args, role))(_section),
        cacheable=True,
        decoder_key="gpp",
        reader=_gpp_read,
        companion=(GPP_SID_PATHS, _hashable_sid),
    ))

# ------------------------------------------------------------------ US Privacy and GPC


register(SignalFormat(
    name="usp",
    description="IAB US Privacy string (1YNN): position 3 is the sale opt-out",
    default_paths=(("context", "consent", "us_privacy"), ("context", "us_privacy")),
    decode=_decoder('usprivacy'),
    opted_out=lambda d, args: bool(d.opted_out_of_sale),
    check_args=lambda args, role: None if args == ("sale",) else "usp carries one opt-out: opt-out ... by usp sale",
    cacheable=True,
    key_kind="scalar",
))


def _gpc_decode(raw: Any) -> Any:
    from . import gpc

    # GPC off is no signal at all (it is not a grant): only a set preference counts
    return True if gpc.decode(raw) else None


register(SignalFormat(
    name="gpc",
    description="Global Privacy Control (Sec-GPC: 1, navigator.globalPrivacyControl)",
    default_paths=(("context", "gpc"), ("context", "consent", "gpc")),
    decode=_gpc_decode,
    opted_out=lambda d, args: d is True,
    check_args=lambda args, role: None if not args else "gpc takes no arguments",
    key_kind="scalar",
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
