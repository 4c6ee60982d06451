"""Daily counts -> the days whose volume the surrounding days do not explain (drops, spikes).

For each day, the **baseline** is the median count of the other days within ``window``
days on either side; the **spread** is their median absolute deviation (MAD).  With a
``reference`` series (the traffic around the series: the rest of its source, say), the
baseline is scaled by how busy the day was: ``expected = baseline * ref[day] / median(ref
of the other days)``, so a quiet Sunday or a partial day is not a drop.  A day is flagged
when all of these hold:

- it is far from expected in robust standard deviations: ``|count - expected| >=
  threshold * 1.4826 * max(MAD * scale, 0.5)`` (the 0.5 floor: counts are whole
  numbers, and a MAD of 0 only says the other days agree, not that nothing can move);
- it is far in proportion: ``count <= expected / min_ratio`` (a drop) or ``count >=
  expected * min_ratio`` (a spike);
- it is about enough events to matter: a drop needs ``expected >= min_volume``, a spike
  ``count >= expected + min_volume``;
- the window holds at least ``min_history`` other days.

With ``groups`` (a label per day, e.g. 1 for weekend days), a day is only compared with
days of its own group, reaching past the window for the nearest ones if need be.

>>> [(f.index, f.kind, f.count, f.expected) for f in detect([5, 5, 4, 5, 1, 5, 5, 6, 5])]
[(4, 'drop', 1, 5.0)]
>>> detect([1, 1, 0, 2, 0, 1, 1])  # tiny counts never flag
[]
"""

from __future__ import annotations

from dataclasses import dataclass
from statistics import median
from typing import Sequence

__all__ = ["Flag", "detect", "MAD_SCALE", "MAD_FLOOR"]

#: MAD -> standard deviation for normally distributed data (1 / 0.6745)
MAD_SCALE = 1.4826
#: the smallest MAD used, in events: half an event
MAD_FLOOR = 0.5


@dataclass(frozen=True, slots=True)
class Flag:
    """One flagged day of one series."""

    index: int  # the day's position in the series
    kind: str  # "drop" | "spike"
    count: int
    expected: float
    baseline: float
    change: float | None  # (count - expected) / expected
    score: float  # |count - expected| in robust standard deviations


def detect(counts: Sequence[int], reference: Sequence[int] | None = None, *, window: int = 7,
           threshold: float = 3.5, min_ratio: float = 2.0, min_volume: float = 4,
           min_history: int = 3, groups: Sequence[int] | None = None) -> list[Flag]:
    """The flagged days of one daily series (see the module docstring for the rule).

    >>> [f.kind for f in detect([10, 11, 9, 10, 30, 10, 10])]
    ['spike']
    >>> # the whole source was quiet that day: the drop is explained by the reference
    >>> detect([10, 11, 9, 10, 2, 10, 10], reference=[100, 110, 90, 100, 20, 100, 100])
    []
    """
    n = len(counts)
    flags: list[Flag] = []
    if n <= min_history or not any(counts):
        return flags
    for i, count in enumerate(counts):
        others = [j for j in range(max(0, i - window), min(n, i + window + 1)) if j != i]
        if groups is not None:
            # compare like with like (weekend days with weekend days); near the ends of
            # the data the window may hold too few of them: reach out to the nearest ones
            others = [j for j in others if groups[j] == groups[i]]
            reach = window
            while len(others) < min_history and (i - reach > 0 or i + reach < n - 1):
                reach += 1
                others += [j for j in (i - reach, i + reach) if 0 <= j < n and groups[j] == groups[i]]
            others.sort()
        if len(others) < min_history:
            continue
        values = [counts[j] for j in others]
        baseline = float(median(values))
        mad = float(median([abs(v - baseline) for v in values]))
        scale = 1.0
        if reference is not None:
            around = float(median([reference[j] for j in others]))
            if around > 0:
                scale = reference[i] / around
        expected = baseline * scale
        sigma = MAD_SCALE * max(mad * scale, MAD_FLOOR)
        deviation = count - expected
        if deviation < 0:
            if expected < min_volume or count * min_ratio > expected:
                continue
            kind = "drop"
        else:
            if count < expected + 2 * min_volume or count < expected * min_ratio:
                continue
            kind = "spike"
        score = abs(deviation) / sigma
        if score < threshold:
            continue
        change = deviation / expected if expected else None
        flags.append(Flag(i, kind, count, round(expected, 3), baseline,
                          round(change, 4) if change is not None else None, round(score, 2)))
    return flags
