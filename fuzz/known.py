"""Exceptions -> known bugs: failures already reported and not fixed yet, so fuzzing keeps going.

Each entry names a bug in the core that a fuzz target found.  While it is listed, the
fuzz runner counts hits on it instead of stopping, so ``make test`` stays green; its
deterministic reproduction (``repro``) runs as a ``xfail(strict=True)`` test
(``tests/test_fuzz_short.py::test_known_bug``), which turns red the moment the bug is
fixed: then delete the entry here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

__all__ = ["KnownBug", "KNOWN"]


@dataclass(frozen=True)
class KnownBug:
    id: str
    summary: str
    #: (exception, formatted traceback) -> is it this bug?
    matches: Callable[[BaseException, str], bool]
    #: does what the bug breaks; raises the bug's exception while it is there
    repro: Callable[[], object]


def _frames(text: str, *needles: str) -> bool:
    return all(n in text for n in needles)


KNOWN: tuple[KnownBug, ...] = ()  # none open: the bugs found so far are fixed and tested
