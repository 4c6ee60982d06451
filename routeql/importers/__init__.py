"""Importers: other systems' routing configuration (JSON) in, RouteQL source text out.

One sub-package module per system; today Segment (:mod:`routeql.importers.segment`):

>>> from routeql.importers.segment import fql_to_predicate
>>> fql_to_predicate("event = 'Order Completed'")
'event = "Order Completed"'
"""

__all__ = ["segment"]
