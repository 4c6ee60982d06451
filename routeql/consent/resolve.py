"""Signals -> one canonical consent state per event, by the ``consent`` block's rules.

For each declared category, every signal that maps it gives a verdict; then:

1. any denial wins (a withdrawal beats a grant, whatever the order of signals);
2. otherwise any grant grants;
3. otherwise the regime decides: ``opt_in`` denies, ``opt_out`` grants.

A malformed signal counts as no valid signal *and* denies what it maps: the strictest
outcome, reported in the state's ``signals``.  In ``compat segment`` mode an event that
carries no consent signal at all is not enforced (every category granted), as Segment
documents; that mode is never the default.

The result is a :class:`ConsentState`, immutable and cached per distinct signature.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any, Hashable, Mapping, Sequence

import cachetools

from ..errors import RouteQLError
from ..model import ConsentModel
from ..runtime import get_path
from .signals import DENY, FORMATS, GRANT, SignalFormat, decode_safely, scalar_key

__all__ = ["CategoryDecision", "SignalStatus", "ConsentState", "Resolver", "NO_CONSENT_MODEL"]


#: a consent key (or a raw signal string) heavier than this is resolved (or decoded) each
#: time instead of being cached: the caches hold their keys, so without it a stream of
#: distinct maximum-size signals (a 64 KiB TC string each) could make 4,096 entries hold
#: hundreds of MiB.  Real TC and GPP strings are well under a kilobyte.
MAX_CACHED_KEY_WEIGHT = 16 * 1024


def key_weight(key: Any, limit: int = MAX_CACHED_KEY_WEIGHT) -> int:
    """About how much memory a cache key holds: the characters of its strings plus one per
    item (a big int counts by its size), stopping as soon as it passes ``limit``.

    >>> key_weight((0, "abc", None, ("tuple", ("x", None))))
    18
    >>> key_weight(("x" * 100_000,)) > MAX_CACHED_KEY_WEIGHT
    True
    """
    n = 0
    stack = [key]
    while stack:
        x = stack.pop()
        c = x.__class__
        if c is str:
            n += len(x) + 1
        elif c is tuple or c is frozenset:
            n += 1
            stack.extend(x)
        elif c is int:
            n += 1 + x.bit_length() // 64
        else:
            n += 1
        if n > limit:
            break
    return n

@dataclass(frozen=True, slots=True)
class CategoryDecision:
    """Why one category is granted or denied for an event."""

    category: str
    granted: bool
    reason: str  # "signal", "withdrawn", "malformed", "regime", "not enforced", "external"
    source: str  # e.g. 'segment "Advertising"', 'gpc opt-out', 'regime eea (opt_in)'

    def to_dict(self) -> dict[str, Any]:
        return {"category": self.category, "granted": self.granted, "reason": self.reason, "source": self.source}


@dataclass(frozen=True, slots=True)
class SignalStatus:
    """What was found for one signal format: absent, ok, or malformed (with the reason)."""

    format: str
    status: str  # "absent" | "ok" | "malformed"
    detail: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"format": self.format, "status": self.status, "detail": self.detail}


@dataclass(frozen=True, slots=True)
class ConsentState:
    """The canonical consent of one event: a bit per category, plus the reasons."""

    mask: int
    categories: tuple[str, ...]
    regime: str | None
    regime_kind: str | None
    enforced: bool
    decisions: tuple[CategoryDecision, ...]
    signals: tuple[SignalStatus, ...]

    #: TCF vendor requirements, each with a bit after the categories
    vendors: tuple[tuple[int, str], ...] = ()

    def granted(self, category: str) -> bool:
        return bool(self.mask >> self.categories.index(category) & 1)

    def vendor_ok(self, vendor: tuple[int, str]) -> bool:
        """Is this TCF vendor requirement (vendor id, basis) met for the event?"""
        return bool(self.mask >> (len(self.categories) + self.vendors.index(vendor)) & 1)

    def decision(self, category: str) -> CategoryDecision:
        for d in self.decisions:
            if d.category == category:
                return d
        raise KeyError(category)

    @property
    def granted_categories(self) -> tuple[str, ...]:
        return tuple(c for i, c in enumerate(self.categories) if self.mask >> i & 1)

    @property
    def problems(self) -> tuple[SignalStatus, ...]:
        return tuple(s for s in self.signals if s.status == "malformed")

    def to_dict(self) -> dict[str, Any]:
        return {
            "granted": list(self.granted_categories),
            "denied": [c for c in self.categories if c not in self.granted_categories],
            "regime": self.regime,
            "regime_kind": self.regime_kind,
            "enforced": self.enforced,
            "decisions": [d.to_dict() for d in self.decisions],
            "signals": [s.to_dict() for s in self.signals if s.status != "absent"],
        }


NO_CONSENT_MODEL = ConsentState(0, (), None, None, False, (), ())


@dataclass(frozen=True, slots=True)
class _Use:
    """One place the rules read a format: which categories and with which args."""

    format: SignalFormat
    args: tuple[Any, ...]
    categories: tuple[str, ...]
    optout: bool
    text: str


class Resolver:
    """Resolves events to ConsentStates for one consent model; thread-safe, cached."""

    def __init__(self, model: ConsentModel, *, decode_cache_size: int = 4096, state_cache_size: int = 4096) -> None:
        self.model = model
        self.categories = model.names
        uses: list[_Use] = []
        for cat in model.categories:
            for src in cat.sources:
                uses.append(_Use(FORMATS[src.format], src.args, (cat.name,), False, str(src)))
        for oo in model.optouts:
            for sig in oo.signals:
                uses.append(_Use(FORMATS[sig.format], sig.args, oo.categories, True, f"{sig} opt-out"))
        self.uses = tuple(uses)
        self.vendors = model.vendors
        names: list[str] = []
        for u in uses:
            if u.format.name not in names:
                names.append(u.format.name)
        if self.vendors and "tcf" not in names:
            names.append("tcf")  # vendor requirements read the TC string
        #: the formats this rule set reads, in a fixed order
        self.formats: tuple[SignalFormat, ...] = tuple(FORMATS[n] for n in names)
        self.paths: tuple[tuple[tuple[Any, ...], ...], ...] = tuple(
            model.paths_for(f.name) or f.default_paths for f in self.formats
        )
        self.args_by_format: tuple[tuple[tuple[Any, ...], ...], ...] = tuple(
            tuple(u.args for u in uses if u.format is f) for f in self.formats
        )
        self._decode_cache: cachetools.LRUCache[Any, Any] | None = (
            cachetools.LRUCache(maxsize=decode_cache_size) if decode_cache_size > 0 else None
        )
        self._decode_lock = threading.Lock()
        self.state_cache_size = state_cache_size
        #: signature -> ConsentState.  A plain dict: reads are lock-free and atomic; it
        #: is cleared when full (consent states are few; a clear costs one re-resolve each).
        self.states: dict[Hashable, ConsentState] = {}

    # -- reading the event
    def read(self, event: Mapping[str, Any]) -> tuple[Any, ...]:
        """The raw value of each format, from the first of its paths that holds one."""
        out = []
        for fmt, paths in zip(self.formats, self.paths):
            if fmt.reader is not None:
                out.append(fmt.reader(event, paths))
                continue
            raw = None
            for p in paths:
                raw = get_path(event, p)
                if raw is not None:
                    break
            out.append(raw)
        return tuple(out)

    def signature(self, regime: int, raws: Sequence[Any]) -> Hashable:
        """The state-cache key of these raw signals: the compiled ``consent`` function
        computes the same key inline (see codegen)."""
        sig: list[Hashable] = [regime]
        for f, raw, uses in zip(self.formats, raws, self.args_by_format):
            if f.key_kind == "scalar":
                sig.append(scalar_key(raw))
            elif f.signature is not None:
                sig.append(f.signature(raw, uses))
            else:
                sig.append(scalar_key(raw))
        return tuple(sig)

    # -- decoding, cached for strings
    def _decode(self, fmt: SignalFormat, raw: Any) -> tuple[Any, str | None]:
        cache = self._decode_cache
        if cache is None or not fmt.cacheable or not (raw.__class__ is str or raw.__class__ is tuple):
            return decode_safely(fmt, raw)
        if key_weight(raw) > MAX_CACHED_KEY_WEIGHT:
            return decode_safely(fmt, raw)  # too heavy to keep: decoded each time
        try:
            key = (fmt.cache_key, raw)
            hash(key)
        except TypeError:
            return decode_safely(fmt, raw)
        with self._decode_lock:
            hit = cache.get(key)
        if hit is not None:
            return hit  # type: ignore[no-any-return]
        result = decode_safely(fmt, raw)  # malformed strings are cached as malformed too
        with self._decode_lock:
            cache[key] = result
        return result

    # -- the state
    def resolve(self, regime: int, raws: Sequence[Any], external: Mapping[str, bool] | None = None) -> ConsentState:
        """The consent state for these raw signal values (uncached: the reference path)."""
        model = self.model
        regimes = model.regimes
        if 0 <= regime < len(regimes):
            reg = regimes[regime]
        else:
            reg = model.default
        decoded: dict[str, Any] = {}
        statuses: list[SignalStatus] = []
        for f, raw in zip(self.formats, raws):
            if raw is None:
                statuses.append(SignalStatus(f.name, "absent"))
                continue
            value, problem = self._decode(f, raw)
            if problem is not None:
                statuses.append(SignalStatus(f.name, "malformed", problem))
                decoded[f.name] = _MALFORMED
            elif value is None:
                statuses.append(SignalStatus(f.name, "absent"))
            else:
                statuses.append(SignalStatus(f.name, "ok"))
                decoded[f.name] = value
        any_signal = bool(decoded) or bool(external)
        regime_label = f"regime {reg.name} ({reg.kind})"
        decisions: list[CategoryDecision] = []
        mask = 0
        if model.compat == "segment" and not any_signal:
            for i, cat in enumerate(self.categories):
                mask |= 1 << i
                decisions.append(CategoryDecision(cat, True, "not enforced", "compat segment: no consent signal"))
            for j, (vendor, basis) in enumerate(self.vendors):
                mask |= 1 << (len(self.categories) + j)
                decisions.append(CategoryDecision(f"tcf vendor {vendor}", True, "not enforced", "compat segment: no consent signal"))
            return ConsentState(mask, self.categories, reg.name, reg.kind, False, tuple(decisions), tuple(statuses),
                                self.vendors)
        for i, cat in enumerate(self.categories):
            grants: list[str] = []
            denials: list[tuple[str, str]] = []
            if external and cat in external:
                if external[cat] is True:
                    grants.append("external consent")
                else:
                    denials.append(("external", "external consent"))
            for use in self.uses:
                if cat not in use.categories:
                    continue
                value = decoded.get(use.format.name)
                if value is None:
                    continue
                if value is _MALFORMED:
                    denials.append(("malformed", f"{use.text} (malformed signal)"))
                    continue
                if use.optout:
                    assert use.format.opted_out is not None
                    if use.format.opted_out(value, use.args):
                        denials.append(("withdrawn", use.text))
                    continue
                assert use.format.verdict is not None
                verdict = use.format.verdict(value, use.args)
                if verdict is DENY:
                    denials.append(("signal", use.text))
                elif verdict is GRANT:
                    grants.append(use.text)
            if denials:
                reason, source = denials[0]
                decisions.append(CategoryDecision(cat, False, reason, source))
            elif grants:
                mask |= 1 << i
                decisions.append(CategoryDecision(cat, True, "signal" if grants[0] != "external consent" else "external", grants[0]))
            elif reg.kind == "opt_out":
                mask |= 1 << i
                decisions.append(CategoryDecision(cat, True, "regime", regime_label + ": no signal means granted"))
            else:
                decisions.append(CategoryDecision(cat, False, "regime", regime_label + ": no signal means denied"))
        tc = decoded.get("tcf")
        for j, (vendor, basis) in enumerate(self.vendors):
            label = f"tcf vendor {vendor}"
            if tc is _MALFORMED:
                ok, reason, source = False, "malformed", "malformed TC string"
            elif tc is None:
                ok = reg.kind == "opt_out"
                reason, source = "regime", regime_label + (": no TC string, TCF does not apply" if ok
                                                            else ": no TC string means no legal basis")
            else:
                if basis == "li":
                    ok = tc.vendor_li(vendor)
                elif basis == "flexible":
                    ok = tc.vendor_consent(vendor) or tc.vendor_li(vendor)
                else:
                    ok = tc.vendor_consent(vendor)
                reason, source = "signal", f"tcf vendor {vendor} {basis}" + ("" if ok else " not given")
            if ok:
                mask |= 1 << (len(self.categories) + j)
            decisions.append(CategoryDecision(label, ok, reason, source))
        return ConsentState(mask, self.categories, reg.name, reg.kind, True, tuple(decisions), tuple(statuses),
                            self.vendors)

    def clear(self) -> None:
        """Forget every resolved state and decoded signal (answers do not change)."""
        self.states.clear()
        if self._decode_cache is not None:
            self._decode_cache.clear()

    def cached(self, regime: int, raws: Sequence[Any]) -> ConsentState:
        """The consent state, resolved once per distinct signature."""
        return self.state_for(self.signature(regime, raws), regime, raws)

    def state_for(self, key: Hashable, regime: int, raws: Sequence[Any]) -> ConsentState:
        """The state cached under ``key`` (the signature of ``raws``), resolving it on a miss."""
        state = self.states.get(key)
        if state is None:
            state = self.resolve(regime, raws)
            if self.state_cache_size > 0 and key_weight(key) <= MAX_CACHED_KEY_WEIGHT:
                if len(self.states) >= self.state_cache_size:
                    self.states.clear()
                self.states[key] = state
        return state


class _Malformed:
    __slots__ = ()


_MALFORMED = _Malformed()


def check_external(consent: Any, categories: Sequence[str]) -> dict[str, bool]:
    """Validate a consent mapping passed beside an event: known categories, boolean values."""
    if not isinstance(consent, Mapping):
        raise RouteQLError(f"consent must be a mapping of category -> bool, got {type(consent).__name__}")
    out: dict[str, bool] = {}
    for k, v in consent.items():
        if k not in categories:
            raise RouteQLError(f"unknown consent category {k!r}; the rules declare: {', '.join(categories) or 'none'}")
        if v is not True and v is not False:
            raise RouteQLError(f"consent for {k!r} must be true or false, got {type(v).__name__}")
        out[k] = v
    return out
