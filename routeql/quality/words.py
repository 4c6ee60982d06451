"""Figures -> the words both renderings (terminal and page) write for them.

>>> percent(0.98765), percent(None), percent(1.0), percent(0.0123, 2)
('98.8%', '–', '100%', '1.23%')
"""

from __future__ import annotations

from .report import ConsentStateShare

__all__ = ["percent", "state_label"]


def percent(value: float | None, digits: int = 1) -> str:
    """A share as a percentage, or an en dash when there is none."""
    if value is None:
        return "–"
    if value == 1:
        return "100%"
    return f"{value * 100:.{digits}f}%"


def state_label(state: ConsentStateShare) -> str:
    """What a consent state is called.

    >>> state_label(ConsentStateShare(granted=["analytics", "ads"], enforced=True, events=1, share=1.0))
    'analytics + ads'
    >>> state_label(ConsentStateShare(granted=[], enforced=False, events=1, share=1.0))
    'nothing granted (not enforced)'
    """
    text = " + ".join(state.granted) if state.granted else "nothing granted"
    return text if state.enforced else f"{text} (not enforced)"
