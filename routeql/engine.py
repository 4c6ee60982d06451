"""Compile, cache, route, explain: the public API over the pipeline.

parse (:mod:`routeql.parse`) -> check (:mod:`routeql.check`) -> generate
(:mod:`routeql.codegen`) -> compile -> :class:`RuleSet`.

>>> rules = loads('''
... destination amplitude { when type = "track"  keep event, userId }
... ''')
>>> rules.route({"type": "track", "event": "Signed Up", "userId": "u1", "context": {"ip": "1.2.3.4"}}).deliveries
{'amplitude': {'event': 'Signed Up', 'userId': 'u1'}}
"""

from __future__ import annotations

import gc
import hashlib
import json
import os
import threading
from contextlib import contextmanager
from pathlib import Path
from types import CodeType, MappingProxyType
from typing import Any, Callable, Iterable, Iterator, Mapping, Sequence

from pydantic import BaseModel, ConfigDict, Field

from . import nodes as n
from .check import _Checker, check
from .codegen import RUNTIME_NAMES, Generated, generate
from .consent.resolve import NO_CONSENT_MODEL, ConsentState, Resolver, check_external
from .errors import (
    Diagnostic, EventError, RouteQLCheckError, RouteQLError, RouteQLRuntimeError, RouteQLSyntaxError, Span,
)
from .interp import Interpreter, Outcome
from .model import Model
from .plans import CLEAN, VALID, PlanResult, Violation, blocks, unplanned_event
from .parse import parse, parse_condition
from .result import Reason, Trace, render_trace
from .runtime import (
    MAX_SPECIALISED, MAX_SPECIALISED_KEYS, MAX_SPECIALISED_SIZE, TRUNCATED_IPS, Specialisations, validate_event,
)

__all__ = ["Options", "RuleSet", "Routing", "load", "loads", "predicate", "read_sources"]


class Options(BaseModel):
    """Settings a rule set is compiled with (``routeql.load(path, **options)``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    #: values for ``hash ... salt config "NAME"``
    salts: dict[str, str] = Field(default_factory=dict)
    #: decoded consent strings kept (LRU, keyed by the raw string); 0 disables
    decode_cache_size: int = Field(default=4096, ge=0)
    #: distinct consent states kept; 0 disables
    state_cache_size: int = Field(default=4096, ge=0)
    #: the largest serialized event accepted (JSON text: route_batch, iter_route, the CLI)
    max_event_bytes: int = Field(default=1 << 20, ge=1)
    #: the deepest nesting of objects and lists accepted in a serialized event
    max_event_depth: int = Field(default=64, ge=1)
    #: the largest serialized payload the CLI writes for one delivery
    max_payload_bytes: int = Field(default=1 << 20, ge=1)
    #: compile each decision function again for each consent state it meets, on first
    #: sight (faster decisions); False: never compile while routing (no first-event cost)
    specialise: bool = True


class Routing:
    """The outcome of routing one event.

    ``deliveries`` maps destination -> payload (in declaration order); ``skipped`` maps
    every other destination -> :class:`~routeql.result.Reason`; ``trace`` holds every
    decision, per destination and per field; ``explain()`` renders it as text.
    ``error`` is set (and nothing is delivered) when the event itself was malformed.

    ``skipped`` and ``trace`` are computed on first access by the reference interpreter
    from the input event, so do not mutate the event before reading them (or route
    with ``trace=True``).
    """

    __slots__ = ("deliveries", "consent", "version", "error", "plan", "rejected", "_rules", "_event", "_external",
                 "_outcome")

    def __init__(self, deliveries: dict[str, dict[str, Any]], consent: ConsentState, version: str,
                 rules: "RuleSet | None" = None, event: Any = None, external: Mapping[str, bool] | None = None,
                 error: RouteQLError | None = None, outcome: Outcome | None = None,
                 plan: PlanResult | None = None, rejected: bool = False) -> None:
        self.deliveries = deliveries
        self.consent = consent
        self.version = version
        self.error = error
        #: what the tracking plan said of the event (None: no plan applies)
        self.plan = plan
        #: the plan blocked the event for every destination (see ``violations``)
        self.rejected = rejected
        self._rules = rules
        self._event = event
        self._external = external
        self._outcome = outcome

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def violations(self) -> tuple[Violation, ...]:
        """The tracking plan's violations for this event (empty when it is clean)."""
        if self.plan is None:
            return ()
        out = self.plan.violations
        if not self.plan.planned:
            out = (unplanned_event(self.plan.plan or "", ""),) + out
        return out

    def _reference(self) -> Outcome | None:
        if self._outcome is None and self.error is None and self._rules is not None:
            self._outcome = self._rules.reference(self._event, self._external)
        return self._outcome

    @property
    def skipped(self) -> Mapping[str, Reason]:
        out = self._reference()
        return MappingProxyType(out.reasons if out is not None else {})

    @property
    def trace(self) -> Trace:
        out = self._reference()
        if out is None:
            return Trace(self.consent, {})
        return out.trace

    @property
    def delivered(self) -> tuple[str, ...]:
        return tuple(self.deliveries)

    def explain(self, *, fields: bool = True) -> str:
        if self.error is not None:
            return f"rejected: {self.error}"
        return render_trace(self.trace, fields=fields)

    def to_dict(self, *, trace: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {"version": self.version, "ok": self.ok}
        if self.error is not None:
            out["error"] = str(self.error)
            return out
        if self.plan is not None:
            out["plan"] = self.plan.to_dict()
            out["rejected"] = self.rejected
        out["deliveries"] = self.deliveries
        out["skipped"] = {k: v.to_dict() for k, v in self.skipped.items()}
        out["consent"] = self.consent.to_dict()
        if trace:
            out["trace"] = self.trace.to_dict()
        return out

    def __repr__(self) -> str:
        if self.error is not None:
            return f"<Routing error={self.error.message!r}>"
        return f"<Routing delivered={list(self.deliveries)}>"


class RuleSet:
    """A compiled, immutable rule set; share it freely across threads."""

    def __init__(self, model: Model, options: Options, version: str, warnings: Sequence[Diagnostic] = ()) -> None:
        self.model = model
        self.options = options
        self.version = version
        self.warnings: tuple[Diagnostic, ...] = tuple(warnings)
        self.salts = _resolve_salts(model, options)
        self.resolver = (
            Resolver(model.consent, decode_cache_size=options.decode_cache_size, state_cache_size=options.state_cache_size)
            if model.consent is not None else None
        )
        self.interpreter = Interpreter(model, self.resolver, self.salts)
        self._states = self.resolver.states if self.resolver is not None else {}
        self.generated: Generated = generate(model, self.resolver, self.salts)
        self._filename = f"<routeql {version[:12]}>"
        namespace: dict[str, Any] = {"__builtins__": {}}
        namespace.update(RUNTIME_NAMES)
        namespace.update(self.generated.constants)
        namespace["_STATES"] = self.resolver.states if self.resolver is not None else {}
        namespace["_NOSTATE"] = NO_CONSENT_MODEL
        # the payload functions are compiled on first use (see LazyPayloads); the rest now
        namespace["PAYLOADS"] = LazyPayloads(self.generated, namespace, self._filename)
        try:
            code = compile(self.generated.core_source(), self._filename, "exec")
        except (SyntaxError, ValueError, UnicodeError) as exc:  # a bug in codegen, never the rules' fault
            raise RouteQLError(f"internal error: the code generated for these rules does not compile "
                               f"({type(exc).__name__}: {exc}); please report it, with the rules") from exc
        exec(code, namespace)  # noqa: S102 - our own generated code, no builtins (see codegen)
        self._consent_fn: Callable[[Any], Any] = namespace["consent"]
        self._decide: Callable[[Any, int], list[int]] = namespace["decide"]
        self._payloads: LazyPayloads = namespace["PAYLOADS"]
        self.destinations: tuple[str, ...] = namespace["NAMES"]
        self._plan: Callable[[Any], PlanResult | None] = namespace["plan"]
        self._fast: Callable[[Any], tuple[ConsentState, list[int]] | None] = namespace["fast"]
        self._plan_modes: dict[str, dict[str, tuple[str, str, str, str]]] = namespace["PLAN_MODES"]
        self.has_plans = bool(model.plans)
        # the generated fast path is RuleSet.decide itself: one call per event (the plan's
        # verdict inline; a violation goes through _gate_found)
        namespace["_decide_slow"] = self._decide_slow
        namespace["_gate_found"] = self._gate_found
        namespace["_special"] = self._special
        self.decide = namespace["decide_fast"]  # type: ignore[method-assign]
        self._specialised = SpecialisedFunctions(self.generated, namespace, self._filename, options.specialise)
        #: the generated fast path's own tables (filled as events arrive, bounded)
        self._tables: tuple[dict[Any, Any], ...] = (
            namespace["_DISPATCH"], namespace["_ST1"], *namespace["_FS"].values(), self._specialised)

    def clear_caches(self) -> None:
        """Empty every cache routing fills, so the next event is handled as by a fresh
        process: consent states and decoded signals, the fast path's tables of event
        shapes and states, the decision functions specialised per consent state, and the
        process-wide memories of valid format strings and of truncated IP addresses.
        Answers never change (the caches only save work); tests use it to check exactly
        that."""
        if self.resolver is not None:
            self.resolver.clear()
        for table in self._tables:
            table.clear()
        for memo in VALID.values():
            memo.clear()
        TRUNCATED_IPS.clear()

    def compile_payloads(self) -> RuleSet:
        """Compile every destination's payload function now, instead of on its first
        delivery (for a server that would rather pay before its first request).  Returns
        the rule set."""
        self._payloads.compile_all()
        return self

    # ------------------------------------------------------------ introspection
    @property
    def source(self) -> str:
        """The generated Python source (``routeql compile --show``)."""
        return self.generated.source

    def __repr__(self) -> str:
        return f"<RuleSet {self.version[:12]} destinations={len(self.destinations)}>"

    # ------------------------------------------------------------ routing
    def _state(self, event: Any, consent: Mapping[str, bool] | None) -> ConsentState:
        resolver = self.resolver
        if resolver is None:
            if consent:
                raise RouteQLError("consent was given but the rules declare no consent categories")
            return NO_CONSENT_MODEL
        key = self._consent_fn(event)
        if consent is None:
            state = self._states.get(key)
            if state is None:  # first sight of this consent state: resolve it from the event
                state = resolver.state_for(key, key[0], resolver.read(event))
            return state
        return resolver.resolve(key[0], resolver.read(event), check_external(consent, resolver.categories))

    def _special(self, fs: Specialisations, key: Any, state_key: Any, state: ConsentState | None) -> Any:
        """The fast path's miss: the decision function of ``fs`` specialised for the
        consent state of ``key`` (remembered in ``fs``); None when that state has not been
        resolved yet (the general path resolves it).  ``state_key`` is the state's key in
        the resolver's cache (None: the rules have no consent model)."""
        if state is None:
            state = NO_CONSENT_MODEL if state_key is None else self._states.get(state_key)
            if state is None:
                return None
        fn = self._specialised.function(fs.name, state.mask)
        if len(fs) >= MAX_SPECIALISED_KEYS:
            fs.clear()
        fs[key] = fn
        return fn

    def _fail(self, exc: BaseException) -> RouteQLError:
        """Turn an unexpected failure in generated code into a RouteQLRuntimeError."""
        if isinstance(exc, RecursionError):
            return EventError("event is nested too deeply")
        origin = None
        tb = exc.__traceback__
        while tb is not None:
            if tb.tb_frame.f_code.co_filename == self._filename:
                origin = self.generated.linemap.get(tb.tb_lineno, origin)
            tb = tb.tb_next
        where = f" in {origin.owner} ({origin.at})" if origin is not None else ""
        return RouteQLRuntimeError(f"routing failed{where}: {type(exc).__name__}")

    def _gate(self, event: Any, idx: list[str]) -> tuple[list[str], PlanResult | None, bool]:
        """The tracking plan: what it says, the destinations it lets through, and whether
        it blocked the event for every destination."""
        pr = self._plan(event)
        if pr is None or pr.clean:
            return idx, pr, False
        return self._gate_found(pr, idx)

    def _gate_found(self, pr: PlanResult, idx: list[str]) -> tuple[list[str], PlanResult, bool]:
        """``_gate`` once the plan found something."""
        modes = self._plan_modes[pr.plan]
        if not any(blocks(pr, m) for m in modes.values()):
            return idx, pr, False
        kept = [d for d in idx if blocks(pr, modes[d]) is None]
        return kept, pr, all(blocks(pr, m) is not None for m in modes.values())

    def decide(self, event: Any, consent: Mapping[str, bool] | None = None) -> tuple[str, ...]:
        """The destinations an event goes to (no payloads built): the fast path.

        On each RuleSet this method is replaced by generated code doing the same in one
        call (``decide_fast`` in ``routeql compile --show``, the tracking plan's verdict
        inline); this definition is the same answer by the general methods.
        """
        try:
            fast = self._fast(event) if consent is None else None
            if fast is not None:
                return self._gated(event, fast[1])
        except RouteQLError:
            raise
        except Exception as exc:
            raise self._fail(exc) from None
        return self._decide_slow(event, consent)

    def _gated(self, event: Any, idx: list[str]) -> tuple[str, ...]:
        """The decided destinations the tracking plan (if any) lets through."""
        return (*(self._gate(event, idx)[0] if self.has_plans else idx),)

    def _decide_slow(self, event: Any, consent: Mapping[str, bool] | None = None) -> tuple[str, ...]:
        """``decide`` by the general path: full validation, consent resolved (and cached)."""
        try:
            validate_event(event)
            state = self._state(event, consent)
            return self._gated(event, self._decide(event, state.mask))
        except RouteQLError:
            raise
        except Exception as exc:
            raise self._fail(exc) from None

    def consent_state(self, event: Any, consent: Mapping[str, bool] | None = None) -> ConsentState:
        """The canonical consent state of an event (cached), without routing it."""
        try:
            validate_event(event)
            return self._state(event, consent)
        except RouteQLError:
            raise
        except Exception as exc:
            raise self._fail(exc) from None

    def validate(self, event: Any) -> PlanResult:
        """What the tracking plan says of an event (compiled validators)."""
        try:
            validate_event(event)
            pr = self._plan(event) if self.has_plans else None
        except RouteQLError:
            raise
        except Exception as exc:
            raise self._fail(exc) from None
        return pr if pr is not None else CLEAN

    def route(self, event: Any, consent: Mapping[str, bool] | None = None, *, trace: bool = False) -> Routing:
        """Route one event: which destinations receive it, and what each receives.

        Raises :class:`~routeql.errors.EventError` for a malformed event; never anything
        but a :class:`~routeql.errors.RouteQLError`.
        """
        try:
            fast = self._fast(event) if consent is None else None
            if fast is None:
                validate_event(event)
                state = self._state(event, consent)
                idx = self._decide(event, state.mask)
            else:
                state, idx = fast
            mask = state.mask
            payloads = self._payloads
            pr, rejected = None, False
            if self.has_plans:  # the plan's verdict inline: a clean event costs one test
                pr = self._plan(event)
                if pr is not None and not pr.clean:
                    idx, pr, rejected = self._gate_found(pr, idx)
            deliveries = {}
            for d in idx:  # a loop: cheaper than a comprehension for the usual one or two
                deliveries[d] = payloads[d](event, mask, pr)
        except RouteQLError:
            raise
        except Exception as exc:
            raise self._fail(exc) from None
        routing = Routing(deliveries, state, self.version, self, event, consent, None, None, pr, rejected)
        if trace:
            routing._reference()
        return routing

    def route_batch(self, events: Iterable[Any], consent: Mapping[str, bool] | None = None) -> list[Routing]:
        """Route many events; one result per input, in order.  A bad event (or a line of
        JSON that does not parse) gets a result with ``error`` set; the batch goes on."""
        return list(self.iter_route(events, consent))

    def iter_route(self, events: Iterable[Any], consent: Mapping[str, bool] | None = None) -> Iterator[Routing]:
        """Like :meth:`route_batch`, lazily (for streams)."""
        for item in events:
            try:
                if isinstance(item, (str, bytes, bytearray)):
                    item = self.parse_event(item)
                yield self.route(item, consent)
            except RouteQLError as e:
                yield Routing({}, NO_CONSENT_MODEL, self.version, error=e)

    def parse_event(self, data: str | bytes | bytearray) -> Any:
        """Parse one serialized event within the limits (size, then depth); EventError if not."""
        return parse_event(data, self.options.max_event_bytes, self.options.max_event_depth)

    def reference(self, event: Any, consent: Mapping[str, bool] | None = None) -> Outcome:
        """Route with the reference interpreter (slow; for tests and explanations)."""
        try:
            ext = None if consent is None else (check_external(consent, self.resolver.categories) if self.resolver else {})
            return self.interpreter.route(event, ext)
        except RouteQLError:
            raise
        except Exception as exc:
            raise self._fail(exc) from None

    def explain(self, event: Any, consent: Mapping[str, bool] | None = None) -> str:
        return self.route(event, consent, trace=True).explain()


class _NotJSON(ValueError):
    """A number JSON does not have (NaN, Infinity, or a float too large)."""


def _no_constant(name: str) -> Any:
    raise _NotJSON(f"{name} is not a JSON number")


def _finite(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise _NotJSON("a number too large for a float")
    return value


def _shift_lines(code: CodeType, by: int) -> CodeType:
    """``code`` (and the code nested in it) moved ``by`` lines down: its line table is
    relative to its first line."""
    consts = tuple(_shift_lines(c, by) if isinstance(c, CodeType) else c for c in code.co_consts)
    return code.replace(co_firstlineno=code.co_firstlineno + by, co_consts=consts)


def _define_at(text: str, fname: str, first: int, namespace: dict[str, Any], filename: str) -> Callable[..., Any]:
    """Compile the generated function ``fname`` (``text``) as if it stood at line ``first``
    of ``filename``, run it in ``namespace`` and return it, so a traceback through it
    points at that line (and the rule set's line map names the rule)."""
    code = _shift_lines(compile(text, filename, "exec"), first - 1)
    exec(code, namespace)  # noqa: S102 - our own generated code, no builtins (see codegen)
    fn: Callable[..., Any] = namespace[fname]
    return fn


class LazyPayloads(dict):  # type: ignore[type-arg]
    """Destination name -> its generated payload function, compiled the first time the
    destination is delivered to.

    Payload functions are most of a large rule set's source, and compiling Python is most
    of what loading costs once the rules are parsed: a gateway whose traffic reaches a
    few of 1,000 destinations never pays for the rest.  Each function is compiled on its
    own, under the module's file name and moved to its line in the full source, so a
    failure inside it still names the rule it came from.  Two threads missing the same
    name compile it twice and store equal functions: harmless.
    """

    def __init__(self, generated: Generated, namespace: dict[str, Any], filename: str) -> None:
        super().__init__()
        self._generated = generated
        self._namespace = namespace
        self._filename = filename

    def __missing__(self, name: str) -> Callable[[Any, int, Any], dict[str, Any]]:
        fname, text, first = self._generated.payload_source(name)  # KeyError: no such destination
        fn: Callable[[Any, int, Any], dict[str, Any]] = _define_at(text, fname, first, self._namespace, self._filename)
        self[name] = fn
        return fn

    def compile_all(self) -> None:
        """Compile every payload function now (what a server may prefer before traffic)."""
        for name in self._generated.payloads:
            self[name]


def _nothing(e: Any, context: Any = None) -> tuple[str, ...]:
    """A decision function specialised for a state that refuses all its destinations."""
    return ()


def _generic(fn: Callable[[Any, int], list[str]], mask: int) -> Callable[..., tuple[str, ...]]:
    """The generic decision function ``fn`` with the consent bits ``mask``, called as a
    specialised one is (where specialising is off, over its bound or not worth it)."""
    return lambda e, context=None: (*fn(e, mask),)


class SpecialisedFunctions(dict):  # type: ignore[type-arg]
    """(decision function, consent bits) -> that function specialised for them: compiled
    the first time an event of the function's key arrives in a state with those bits.

    A specialised function knows which of its destinations the state lets through: the
    others are not in it, their consent tests are gone, and it reads only the fields the
    rest test (``routeql.codegen``, ``specialised_source``).  Like :class:`LazyPayloads`,
    each is compiled under the module's file name, on lines after the module's own, with
    line-map entries, so a failure inside one still names its rule.  ``Options.specialise``
    False: nothing is compiled, every pair runs the generic function.  Bounded: past
    :data:`~routeql.runtime.MAX_SPECIALISED` functions, or for a function testing more
    than :data:`~routeql.runtime.MAX_SPECIALISED_SIZE` destinations, the generic function
    runs instead (the same answer, without the saving).
    """

    def __init__(self, generated: Generated, namespace: dict[str, Any], filename: str, enabled: bool = True) -> None:
        super().__init__()
        self._enabled = enabled
        self._generated = generated
        self._namespace = namespace
        self._filename = filename
        self._lock = threading.Lock()
        self._first_line = len(generated.lines) + 1
        self._next_line = self._first_line

    def function(self, name: str, mask: int) -> Callable[..., tuple[str, ...]]:
        """The decision function ``name`` specialised for the consent bits ``mask``."""
        fn = self.get((name, mask))
        if fn is None:
            with self._lock:  # (generating mutates the generator's state)
                fn = self.get((name, mask))
                if fn is None:
                    fn = self._make(name, mask)
        return fn

    def _make(self, name: str, mask: int) -> Callable[..., tuple[str, ...]]:
        if not self._enabled or len(self) >= MAX_SPECIALISED:
            return _generic(self._namespace[name], mask)
        constants = len(self._generated.constants)
        sname, text, linemap, count = self._generated.specialise(name, mask)
        if count == 0:
            fn: Callable[..., tuple[str, ...]] = _nothing
        elif count > MAX_SPECIALISED_SIZE:
            fn = _generic(self._namespace[name], mask)
        else:
            for k, v in list(self._generated.constants.items())[constants:]:
                self._namespace[k] = v  # (constants the new code added, if any)
            first = self._next_line
            fn = _define_at(text, sname, first, self._namespace, self._filename)
            del self._namespace[sname]
            self._generated.linemap.update({first - 1 + line: origin for line, origin in linemap.items()})
            self._next_line += text.count("\n")
        self[(name, mask)] = fn
        return fn

    def clear(self) -> None:
        """Forget every specialised function and its line-map entries (new ones get new
        lines: a thread still running an old one is not told another rule's name)."""
        with self._lock:
            super().clear()
            for line in range(self._first_line, self._next_line):
                self._generated.linemap.pop(line, None)
            self._first_line = self._next_line


def line_text(raw: bytes | str) -> bytes | str:
    """A line of JSON Lines without the JSON whitespace around it (space, tab, CR, LF).
    Not ``strip()``, which also takes vertical tabs and form feeds: JSON does not allow
    them, so the CLI would accept a line that ``route_batch`` rejects."""
    return raw.strip(b" \t\r\n") if isinstance(raw, (bytes, bytearray)) else raw.strip(" \t\r\n")


def parse_event(data: str | bytes | bytearray, max_bytes: int = 1 << 20, max_depth: int = 64) -> Any:
    """JSON text -> event, rejecting (EventError) text over ``max_bytes`` or nested deeper
    than ``max_depth``, and numbers JSON does not have (NaN, Infinity, 1e999).  The size is
    checked before parsing, so a huge line costs nothing.  A byte-order mark in front is
    not part of the event, in text as in bytes (``json.loads`` skips it only in bytes)."""
    if isinstance(data, str) and data.startswith("\ufeff"):
        data = data[1:]
    size = len(data.encode("utf-8", "surrogatepass")) if isinstance(data, str) and len(data) * 4 > max_bytes else len(data)
    if size > max_bytes:
        raise EventError(f"event is {size} bytes, over the limit of {max_bytes} bytes")
    try:
        event = json.loads(data, parse_constant=_no_constant, parse_float=_finite)
    except UnicodeDecodeError:
        raise EventError("not valid JSON: not UTF-8 text") from None
    except json.JSONDecodeError as e:
        raise EventError(f"not valid JSON: {e.msg} at char {e.pos}") from None
    except _NotJSON as e:
        raise EventError(f"not valid JSON: {e}") from None
    except ValueError:  # Python's limit on the digits of an integer
        raise EventError("not valid JSON: an integer with too many digits") from None
    except RecursionError:
        raise EventError(f"event nests deeper than {max_depth} levels") from None
    if _depth_over(event, max_depth):
        raise EventError(f"event nests deeper than {max_depth} levels")
    return event


def _depth_over(value: Any, limit: int) -> bool:
    """Does ``value`` nest objects/lists more than ``limit`` levels deep?  Iterative."""
    stack = [(value, 1)]
    while stack:
        v, depth = stack.pop()
        c = v.__class__
        if c is dict:
            children: Iterable[Any] = v.values()
        elif c is list:
            children = v
        else:
            continue
        if depth > limit:
            return True
        for child in children:
            if child.__class__ is dict or child.__class__ is list:
                stack.append((child, depth + 1))
    return False


def _resolve_salts(model: Model, options: Options) -> dict[tuple[str, str], str]:
    salts: dict[tuple[str, str], str] = {}
    problems: list[Diagnostic] = []
    for kind, value in model.salt_refs:
        if kind == "literal":
            salts[(kind, value)] = value
        elif kind == "env":
            if value not in os.environ:
                problems.append(Diagnostic("RQ400", f"environment variable {value!r} (a hash salt) is not set", Span("<environment>", 0, 0, 0, 0),
                                           hint=f"export {value}=... before loading the rules"))
            else:
                salts[(kind, value)] = os.environ[value]
        else:
            if value not in options.salts:
                problems.append(Diagnostic("RQ400", f"salt {value!r} is not configured", Span("<options>", 0, 0, 0, 0),
                                           hint=f"routeql.load(path, salts={{{value!r}: ...}})"))
            else:
                salts[(kind, value)] = options.salts[value]
    if problems:
        raise RouteQLError.from_diagnostics(problems)
    return salts


# ------------------------------------------------------------------ loading


def read_sources(path: str | os.PathLike[str]) -> dict[str, str]:
    """The ``.rq`` files of a file or a directory (recursively), as name -> text."""
    p = Path(path)
    if p.is_dir():
        files = sorted(f for f in p.rglob("*.rq") if f.is_file())
        if not files:
            raise RouteQLError(f"{p}: no .rq files in this directory")
    elif p.exists():  # a file, or a pipe (routeql check <(git show HEAD:rules.rq))
        files = [p]
    else:
        raise RouteQLError(f"{p}: no such file or directory")
    out: dict[str, str] = {}
    for f in files:
        try:
            out[str(f)] = f.read_text(encoding="utf-8")
        except UnicodeDecodeError as e:
            raise RouteQLError(f"{f}: not UTF-8 text ({e.reason} at byte {e.start})") from None
        except OSError as e:
            raise RouteQLError(f"{f}: cannot read ({e.strerror})") from None
    return out


def version_of(sources: Mapping[str, str]) -> str:
    h = hashlib.sha256()
    for name in sorted(sources):
        h.update(name.encode("utf-8", "surrogatepass") + b"\0" + sources[name].encode("utf-8", "surrogatepass") + b"\0")
    return h.hexdigest()


_GC_LOCK = threading.Lock()
_gc_pauses = 0
_gc_was_enabled = False


@contextmanager
def gc_paused() -> Iterator[None]:
    """The cyclic garbage collector paused for the block (nested and concurrent blocks
    resume it once, when the last one ends, and only if it was running before the first).

    Loading allocates a few hundred thousand short-lived objects (parse trees, syntax
    nodes, source lines), all freed by reference counting; each allocation burst would
    otherwise set off collections that walk the whole heap of the process, which in a
    gateway holding its traffic in memory costs more than the load itself (measured:
    1.3 s -> 2.0 s for 1,000 destinations beside a large heap).
    """
    global _gc_pauses, _gc_was_enabled
    with _GC_LOCK:
        if _gc_pauses == 0:
            _gc_was_enabled = gc.isenabled()
            gc.disable()
        _gc_pauses += 1
    try:
        yield
    finally:
        with _GC_LOCK:
            _gc_pauses -= 1
            if _gc_pauses == 0 and _gc_was_enabled:
                gc.enable()


def compile_sources(sources: Mapping[str, str], options: Options | None = None) -> RuleSet:
    """Parse, check and compile a set of sources (name -> text) into a RuleSet."""
    with gc_paused():
        return _compile_sources(sources, options)


def _compile_sources(sources: Mapping[str, str], options: Options | None) -> RuleSet:
    options = options or Options()
    modules: list[n.Module] = []
    syntax: list[Diagnostic] = []
    for name in sorted(sources):
        try:
            modules.append(parse(sources[name], name))
        except RouteQLSyntaxError as e:
            syntax.extend(e.diagnostics)
    if syntax:
        raise RouteQLSyntaxError.from_diagnostics(syntax)
    model, diags = check(modules, dict(sources))
    if model is None:
        raise RouteQLCheckError.from_diagnostics(diags)
    return RuleSet(model, options, version_of(sources), [d for d in diags if not d.is_error])


def load(path: str | os.PathLike[str], **options: Any) -> RuleSet:
    """Load a rule set from a ``.rq`` file or a directory of them.

    Raises :class:`~routeql.errors.RouteQLError` (with ``.diagnostics``) when the rules
    do not check.  Keyword options are those of :class:`Options`.
    """
    return compile_sources(read_sources(path), Options(**options))


def loads(text: str, name: str = "<string>", **options: Any) -> RuleSet:
    """Load a rule set from text."""
    if not isinstance(text, str):
        raise RouteQLError(f"rules must be text, got {type(text).__name__}")
    return compile_sources({name: text}, Options(**options))


def predicate(expr: str) -> Callable[[Mapping[str, Any]], bool]:
    """Compile one condition in the rules language, for embedding.

    >>> is_purchase = predicate('type = "track" and event = "Order Completed" and properties.revenue > 0')
    >>> is_purchase({"type": "track", "event": "Order Completed", "properties": {"revenue": 25}})
    True
    """
    node = parse_condition(expr)
    checker = _Checker([], {"<predicate>": expr})
    resolved = checker.condition(node)
    errors = [d for d in checker.diags if d.is_error]
    if errors:
        raise RouteQLCheckError.from_diagnostics(errors)
    from .codegen import _Gen, _prep

    model = Model((), None)
    gen = _Gen(model, None, {})
    w = gen.w
    prepared = _prep(resolved)
    with w.block("def predicate(e):"):
        vars = gen.reads([prepared])
        w("g = 0")
        w(f"return ({gen.cond(prepared, vars)}) is True" if not isinstance(prepared, n.Literal)
          else f"return {prepared.value is True}")
    namespace: dict[str, Any] = {"__builtins__": {}}
    namespace.update(RUNTIME_NAMES)
    namespace.update(gen.constants)
    exec(compile("\n".join(w.lines) + "\n", "<routeql predicate>", "exec"), namespace)  # noqa: S102
    fn = namespace["predicate"]
    source = expr

    def run(event: Mapping[str, Any]) -> bool:
        if event.__class__ is not dict:
            raise EventError(f"a predicate takes an event object, got {type(event).__name__}")
        try:
            return bool(fn(event))
        except RecursionError:
            raise EventError("event is nested too deeply") from None
        except Exception as exc:
            raise RouteQLRuntimeError(f"predicate failed: {type(exc).__name__}") from None

    run.__doc__ = f"RouteQL predicate: {source}"
    run.source = "\n".join(w.lines)  # type: ignore[attr-defined]
    return run
