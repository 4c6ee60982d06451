"""RouteQL: a consent-aware routing rules engine for customer event data.

>>> import routeql
>>> rules = routeql.loads('destination warehouse { }')
>>> rules.route({"type": "page", "name": "Home"}).delivered
('warehouse',)
"""

from .engine import Options, RuleSet, Routing, load, loads, predicate
from .errors import (
    Diagnostic,
    EventError,
    RouteQLCheckError,
    RouteQLError,
    RouteQLRuntimeError,
    RouteQLSyntaxError,
    Span,
)
from .reload import Reloader
from .result import DestinationTrace, FieldFate, Reason, Trace

__version__ = "0.1.0"

__all__ = [
    "load",
    "loads",
    "predicate",
    "RuleSet",
    "Routing",
    "Options",
    "Reloader",
    "Reason",
    "FieldFate",
    "DestinationTrace",
    "Trace",
    "Diagnostic",
    "Span",
    "RouteQLError",
    "RouteQLSyntaxError",
    "RouteQLCheckError",
    "RouteQLRuntimeError",
    "EventError",
    "__version__",
]
