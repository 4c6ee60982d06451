"""Hypothesis strategy shared by the decoders' fuzz tests: a known-good string with a few
characters replaced, deleted, inserted, or the tail cut off."""

from __future__ import annotations

from typing import Sequence

from hypothesis import strategies as st


@st.composite
def mutated(draw: st.DrawFn, strings: Sequence[str], alphabet: str) -> str:
    s = list(draw(st.sampled_from(list(strings))))
    for _ in range(draw(st.integers(1, 4))):
        i = draw(st.integers(0, len(s)))
        op = draw(st.sampled_from(["replace", "delete", "insert", "truncate"]))
        char = draw(st.sampled_from(alphabet))
        if op == "replace" and i < len(s):
            s[i] = char
        elif op == "delete" and i < len(s):
            del s[i]
        elif op == "insert":
            s.insert(i, char)
        else:
            del s[i:]
    return "".join(s)
