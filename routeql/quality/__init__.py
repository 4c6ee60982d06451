"""Data quality over a file of events: the figures of ``routeql stats``, and their renderings.

:func:`collect` (or a :class:`Collector` fed line by line) -> :class:`Report` ->
:func:`render_text` (rich), :meth:`Report.to_dict` (JSON), :func:`render_html` (a page).
"""

from .report import SCHEMA, Report, StatsOptions
from .stats import Collector, collect

__all__ = ["SCHEMA", "Report", "StatsOptions", "Collector", "collect"]
