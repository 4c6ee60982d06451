"""Seed text or bytes + edit operations -> a mutated input (and Hypothesis strategies for them).

The edits are the classic fuzzer moves: flip a bit, delete a run, duplicate a run, splice
in a piece of another seed, insert a hostile token (quotes, escapes, unicode look-alikes,
bidi controls, lone surrogates, deep brackets, huge numbers).  Each edit is data drawn by
Hypothesis, so a failing input shrinks to the fewest, smallest edits.

>>> apply("keep userId", [Edit("delete", 0.0, 5, 0)])
'userId'
>>> apply(b"ab", [Edit("duplicate", 0.0, 1, 0)])
b'aab'
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence, TypeVar

from hypothesis import strategies as st

__all__ = ["Edit", "TOKENS", "apply", "edits", "mutated"]

T = TypeVar("T", str, bytes)

#: Tokens worth inserting: syntax, escapes, code-injection bait, unicode traps, size traps.
TOKENS: tuple[str, ...] = (
    '"', "'", "`", "\\", "\\u", "\\u{110000}", "\\ud800", "\n", "\r\n", "\t", "\x00", "{", "}", "[", "]", "(", ")",
    ",", ".", "*", "#", "$", "%s", "{0}", "{__class__}", "__import__('os')", "__builtins__", "__class__",
    "\u202e", "\u2066", "\u200b", "\ufeff", "\u0430", "\uff41", "\U0001d41a", "\ud800", "\udfff", "é", "😀",
    "consent", "not ", " and ", " or ", "keep ", "drop ", "when ", "destination x {", "policy p {", "forbid events to all",
    "tagged ", "alias ", "matches regex ", "(a+)+$", "(" * 70, "[" * 70, "9" * 120, "1e999", "-0", "NaN",
    "\"" + "a" * 200 + "\"", "\uffff", "\U0010ffff",
)


@dataclass(frozen=True)
class Edit:
    """One edit: ``at`` is a position as a fraction of the length, so edits survive shrinking."""

    kind: str  # flip | delete | duplicate | splice | insert
    at: float
    size: int
    pick: int  # which bit to flip, which seed to splice from, which token to insert


def _span(length: int, e: Edit) -> tuple[int, int]:
    start = min(int(e.at * length), length)
    return start, min(start + max(e.size, 0), length)


def _flip(data: T, i: int, bit: int) -> T:
    if isinstance(data, bytes):
        return data[:i] + bytes([data[i] ^ (1 << (bit % 8))]) + data[i + 1:]
    code = ord(data[i]) ^ (1 << (bit % 21))
    return data[:i] + chr(min(code, 0x10FFFF)) + data[i + 1:]


def apply(data: T, ops: Sequence[Edit], splices: Sequence[T] = ()) -> T:
    """Apply the edits in order; positions are taken on the data as it is at each step."""
    for e in ops:
        start, end = _span(len(data), e)
        if e.kind == "flip" and data:
            data = _flip(data, min(start, len(data) - 1), e.pick)
        elif e.kind == "delete":
            data = data[:start] + data[end:]
        elif e.kind == "duplicate":
            data = data[:end] + data[start:end] + data[end:]
        elif e.kind == "splice" and splices:
            other = splices[e.pick % len(splices)]
            a, b = _span(len(other), Edit("splice", (e.pick * 0.618) % 1.0, e.size, 0))
            data = data[:start] + other[a:b] + data[end:]
        elif e.kind == "insert":
            token = TOKENS[e.pick % len(TOKENS)]
            piece = token.encode("utf-8", "surrogatepass") if isinstance(data, bytes) else token
            data = data[:start] + piece + data[start:]  # type: ignore[operator]
    return data


def edits(max_edits: int = 6) -> st.SearchStrategy[list[Edit]]:
    edit = st.builds(
        Edit,
        kind=st.sampled_from(["flip", "delete", "duplicate", "splice", "insert", "insert"]),
        at=st.floats(0, 1),
        size=st.integers(0, 64),
        pick=st.integers(0, 1000),
    )
    return st.lists(edit, max_size=max_edits)


def mutated(seeds: Sequence[T], max_edits: int = 6) -> st.SearchStrategy[T]:
    """A seed with up to ``max_edits`` edits (splices come from the other seeds)."""
    return st.builds(lambda seed, ops: apply(seed, ops, seeds), st.sampled_from(list(seeds)), edits(max_edits))
