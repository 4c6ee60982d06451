"""Every diagnostic code RouteQL emits, with its one-line title.

Codes are stable: once published a code keeps its meaning.  ``docs/diagnostics.md`` has
a section per code (a test keeps the two in step).

* ``RQ1xx`` syntax: the text does not parse.
* ``RQ2xx`` names: unknown or duplicate names, consent sources.
* ``RQ3xx`` meaning: types, patterns, unreachable rules, contradictions.
* ``RQ4xx`` loading: configuration the rules need at load time (salts, limits).
"""

from __future__ import annotations

CODES: dict[str, str] = {
    "RQ100": "unexpected token",
    "RQ101": "unexpected character",
    "RQ102": "unclosed string or quoted name",
    "RQ103": "unclosed block or unexpected end of file",
    "RQ104": "invalid escape sequence",
    "RQ105": "limit exceeded (literal size, nesting depth, file size)",
    "RQ106": "unknown statement",
    "RQ107": "expected a declaration",
    "RQ108": "expected a value, condition or operator",
    "RQ109": "misplaced comma",
    "RQ110": "list elements must be constants",
    "RQ200": "duplicate name",
    "RQ201": "unknown destination",
    "RQ202": "unknown tag",
    "RQ203": "unknown data class",
    "RQ204": "unknown named predicate",
    "RQ205": "unknown value list",
    "RQ206": "unknown consent category",
    "RQ207": "more than one consent block or default regime",
    "RQ208": "unknown function",
    "RQ209": "unknown consent format or mode",
    "RQ210": "invalid consent source arguments",
    "RQ211": "recursive definition",
    "RQ212": "data class name shadows an event field",
    "RQ300": "wrong number of arguments",
    "RQ301": "type mismatch",
    "RQ302": "value can never occur",
    "RQ303": "invalid pattern",
    "RQ304": "pattern must be a constant string",
    "RQ305": "path both kept and dropped",
    "RQ306": "destination can never receive anything",
    "RQ307": "invalid sample percentage",
    "RQ308": "invalid truncate target",
    "RQ309": "unknown hash algorithm",
    "RQ310": "wildcard or index not allowed here",
    "RQ311": "a field is not a condition",
    "RQ312": "consent test inside a regime condition",
    "RQ313": "condition is always true or always false",
    "RQ314": "repeated statement",
    "RQ315": "unknown tracking plan mode",
    "RQ316": "invalid tracking plan entry",
    "RQ317": "invalid field specification",
    "RQ318": "property not in the tracking plan",
    "RQ319": "[*] in an action reaches past each element",
    "RQ400": "hash salt not available",
}
