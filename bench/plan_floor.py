"""The floor under any tracking-plan check: reading every field the plan names, checking nothing.

A validator has to look at each planned field of an event at least once (its type, if
nothing else), so what it costs to *read* them is a lower bound on what any validator
written in Python costs. This module writes that reading code from a checked plan, the
way ``bench/handwritten.py`` writes the decision ceiling from the rule IR: one function
per entry that reads each planned field once (each parent once, the fields of every
element of a planned array of objects), the common section's fields, and the same
``(type, event name)`` dispatch. It returns nothing and checks nothing.

>>> import routeql
>>> rules = routeql.loads('plan { common { required messageId: string } '
...                       'track "A" { required x: number  optional items: array of object { required id: string } } }')
>>> read = floor(rules.model.plans[0])
>>> read({"type": "track", "event": "A", "messageId": "m", "properties": {"x": 1, "items": [{"id": "a"}, 3]}})
"""

from __future__ import annotations

from typing import Any, Callable

from routeql.plans import FieldRule, PlanModel

_E: dict[str, Any] = {}


class _Writer:
    def __init__(self) -> None:
        self.lines: list[str] = []
        self.count = 0

    def fresh(self, prefix: str) -> str:
        self.count += 1
        return f"{prefix}{self.count}"

    def emit(self, level: int, text: str) -> None:
        self.lines.append("    " * level + text)

    def fields(self, fields: tuple[FieldRule, ...], src: str, level: int) -> None:
        """Read each field once, each parent once; descend into arrays of objects."""
        parents: dict[tuple[str, ...], str] = {(): src}
        for f in fields:
            for i in range(1, len(f.path)):
                head = f.path[:i]
                if head not in parents:
                    o = self.fresh("o")
                    self.emit(level, f"{o} = {parents[head[:-1]]}.get({head[-1]!r})")
                    self.emit(level, f"if {o}.__class__ is not dict: {o} = _E")
                    parents[head] = o
            x = self.fresh("x")
            self.emit(level, f"{x} = {parents[f.path[:-1]]}.get({f.path[-1]!r})")
            for t in f.types:
                # an object's fields, or those of the objects in a (nested) array
                var, depth = x, level
                while t.name == "array" and t.items is not None:
                    i = self.fresh("i")
                    self.emit(depth, f"if {var}.__class__ is list:")
                    self.emit(depth + 1, f"for {i} in {var}:")
                    var, depth, t = i, depth + 2, t.items
                if t.name == "object" and t.fields:
                    self.emit(depth, f"if {var}.__class__ is dict:")
                    self.fields(t.fields, var, depth + 1)
                elif depth > level:
                    self.emit(depth, "pass")


def floor_source(plan: PlanModel) -> str:
    """Python source of ``read(e)`` for ``plan`` (see the module docstring)."""
    w = _Writer()
    names: dict[tuple[str, str | None], str] = {}
    for entry in plan.entries:
        fname = w.fresh("entry_")
        names[(entry.kind, entry.name)] = fname
        w.emit(0, f"def {fname}(e):")
        w.emit(1, f"# {entry.label}")
        src = "e"
        for key in entry.root:
            o = w.fresh("r")
            w.emit(1, f"{o} = {src}.get({key!r})")
            w.emit(1, f"if {o}.__class__ is not dict: {o} = _E")
            src = o
        w.fields(entry.fields, src, 1)
        w.emit(1, "return None")
        w.emit(0, "")
    w.emit(0, "def read(e):")
    if plan.common is not None:
        w.fields(plan.common.fields, "e", 1)
    w.emit(1, "t = e['type']")
    w.emit(1, "f = ENTRIES.get((t, e.get('event') if t == 'track' else e.get('name')))")
    w.emit(1, "if f is None: f = ENTRIES.get((t, None))")
    w.emit(1, "if f is not None: f(e)")
    w.emit(1, "return None")
    w.emit(0, "")
    w.emit(0, "ENTRIES = {" + ", ".join(f"{k!r}: {v}" for k, v in names.items()) + "}")
    return "\n".join(w.lines) + "\n"


def floor(plan: PlanModel) -> Callable[[Any], None]:
    namespace: dict[str, Any] = {"_E": _E}
    exec(compile(floor_source(plan), "<bench plan floor>", "exec"), namespace)  # noqa: S102 - our own generated text
    read: Callable[[Any], None] = namespace["read"]
    return read
