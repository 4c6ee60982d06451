"""A target and one input -> pass, a known bug, or a Finding: the contract every fuzz target checks.

The contract (docs/security.md): whatever the input, RouteQL raises nothing but
:class:`~routeql.errors.RouteQLError` (``ConsentDecodeError`` and ``EventError`` are
kinds of it), reports bad events per event in batches, and answers within
:data:`TIME_BOUND` seconds.  A target's ``check`` does the work, catches the errors its
contract allows and lets anything else escape; :func:`run_one` turns that into a
:class:`Finding`.

>>> t = Target("demo", "a target that divides", lambda: None, lambda x: 1 // x)
>>> run_one(t, 1) is None
True
>>> try:
...     run_one(t, 0)
... except Finding as f:
...     print(f.kind)
exception
"""

from __future__ import annotations

import signal
import threading
import time
import traceback
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Iterator

from hypothesis.strategies import SearchStrategy

from .known import KNOWN, KnownBug

__all__ = ["TIME_BOUND", "Target", "Finding", "TooSlow", "run_one", "time_bound", "cpu_seconds"]

#: CPU seconds one input may take, whatever it is.  Generous on purpose: the slowest honest
#: input a target builds (compiling the whole bundled rule set, then routing a few dozen
#: events through it) takes about 0.1 s on a laptop, so 2 s leaves room for a slow CI
#: machine and coverage instrumentation, while anything super-linear (catastrophic
#: backtracking, exponential expansion, a quadratic walk of a 5,000-deep event) blows
#: through it by orders of magnitude.
TIME_BOUND = 2.0


class Finding(AssertionError):
    """An input broke the contract: an unexpected exception, a wrong result, or too slow."""

    def __init__(self, kind: str, message: str, detail: str = "") -> None:
        super().__init__(f"{kind}: {message}" + (f"\n{detail}" if detail else ""))
        self.kind = kind
        self.message = message
        self.detail = detail


class TooSlow(BaseException):
    """Raised by the alarm inside a slow input.  A BaseException, so that no
    ``except Exception`` in the code under test can swallow it."""


@dataclass(frozen=True)
class Target:
    """One fuzz target: how to draw inputs, and the contract to check on each."""

    name: str
    doc: str
    strategy: Callable[[], SearchStrategy[Any] | None]
    check: Callable[[Any], None]
    #: bytes -> input, for byte-level fuzzers (atheris); None: draw through Hypothesis
    raw: Callable[[bytes], Any] | None = None
    #: seed inputs, as bytes, for byte-level fuzzers
    seeds: Callable[[], Iterable[bytes]] | None = None


@contextmanager
def time_bound(seconds: float) -> Iterator[None]:
    """Interrupt the block with TooSlow after ``seconds`` of CPU time (main thread only;
    elsewhere the caller's elapsed-time check still catches a slow input once it returns).

    CPU time, not wall-clock time: a loaded machine (CI, parallel test runs) stretches
    wall-clock time, never the work an input costs.
    """
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer"):
        yield
        return

    def alarm(signum: int, frame: Any) -> None:
        raise TooSlow()

    previous = signal.signal(signal.SIGVTALRM, alarm)
    signal.setitimer(signal.ITIMER_VIRTUAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_VIRTUAL, 0)
        signal.signal(signal.SIGVTALRM, previous)


def cpu_seconds() -> float:
    """CPU time of this process: what an input costs, whatever else the machine runs."""
    return time.process_time()


def known_bug(exc: BaseException) -> KnownBug | None:
    """The known (reported, not yet fixed) bug this exception is, if any."""
    text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    for bug in KNOWN:
        if bug.matches(exc, text):
            return bug
    return None


def run_one(target: Target, value: Any, bound: float = TIME_BOUND) -> KnownBug | None:
    """Check one input: None if it passes, the KnownBug it hit, else raise Finding."""
    start = cpu_seconds()
    try:
        with time_bound(bound * 2):
            target.check(value)
    except TooSlow:
        raise Finding("slow", f"{target.name}: an input took over {bound * 2:.1f} s (interrupted)", _show(value)) from None
    except Finding:
        raise
    except Exception as exc:  # anything else escaping the API breaks the contract
        bug = known_bug(exc)
        if bug is not None:
            return bug
        detail = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__, limit=-6))
        raise Finding("exception", f"{target.name}: {type(exc).__name__}: {_safe_str(exc)}", detail) from exc
    elapsed = cpu_seconds() - start
    if elapsed > bound:
        raise Finding("slow", f"{target.name}: an input took {elapsed:.2f} s (bound {bound} s)", _show(value))
    return None


def _show(value: Any, limit: int = 2000) -> str:
    """The input, for the report (slow inputs may not shrink: timing is not deterministic)."""
    try:
        text = repr(value)
    except Exception:
        text = f"<{type(value).__name__}>"
    return f"input ({len(text)} chars): " + (text if len(text) <= limit else text[:limit] + "...")


def _safe_str(exc: BaseException) -> str:
    try:
        return str(exc)[:300]
    except Exception:
        return "<unprintable>"
