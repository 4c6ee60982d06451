"""Analyses over rule sets and routings that the CLI shows: explanations, impact diffs, flow matrices.

Each module takes rule sets (:class:`routeql.RuleSet`), events or routings, and returns
plain data; the subcommands in :mod:`routeql.cli` only parse arguments and print.

- :mod:`.consent_args` -- ``--consent`` text -> a category -> bool mapping
- :mod:`.events`       -- event files and JSONL streams -> events, field paths
- :mod:`.explain`      -- a routing -> a per-destination, per-field explanation (no values)
- :mod:`.impact`       -- two rule sets and sample events -> the impact of the change
- :mod:`.impact_report` -- an impact -> text, Markdown or JSON
- :mod:`.flows`        -- a rule set -> what flows where, per consent state (static)
- :mod:`.matrix_report` -- a flow matrix -> Markdown, JSON or an HTML page
"""

from __future__ import annotations

from .consent_args import parse_consent
from .flows import Matrix, compute_matrix
from .impact import Impact, compute_impact

__all__ = ["parse_consent", "Matrix", "compute_matrix", "Impact", "compute_impact"]
