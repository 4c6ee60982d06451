"""Plans on their way from JSON Schema to RouteQL text: plain mutable dataclasses.

The importer builds these, :mod:`routeql.interchange.emit` prints them.  They mirror the
checked model (:mod:`routeql.plans`) minus origins, plus the few things only the source
text can hold (an object's own ``description`` inside ``array of object { ... }``, the
plan's description and the import notes, printed as comments).

>>> f = Field(("price",), True, [Type("number")], ranges=[(">=", 0)])
>>> f.path, f.types[0].name
(('price',), 'number')
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

__all__ = ["Type", "Field", "Shape", "Entry", "Draft", "Note"]


@dataclass
class Type:
    """One alternative of a field's type: ``string``, ``object { ... }``, ``array of T``."""

    name: str  # string | number | integer | boolean | null | any | object | array
    fields: "list[Field] | None" = None  # object: its fields (None: any keys)
    items: "Type | None" = None  # array: the item type (None: any items)
    description: str | None = None  # object: written first in its body


@dataclass
class Shape:
    """Everything a schema says about one value: its types and the constraints on it."""

    types: list[Type]
    enum: list[Any] | None = None
    ranges: list[tuple[str, int | float]] = field(default_factory=list)
    lengths: list[tuple[str, int]] = field(default_factory=list)
    pattern: str | None = None
    format: str | None = None
    description: str | None = None

    @property
    def names(self) -> set[str]:
        return {t.name for t in self.types}

    def constrained(self) -> bool:
        return bool(self.enum is not None or self.ranges or self.lengths or self.pattern or self.format)

    def to_field(self, path: tuple[str, ...], required: bool) -> "Field":
        return Field(path, required, **{f.name: getattr(self, f.name) for f in fields(Shape)})


@dataclass(init=False)
class Field(Shape):
    """``required path: T1 | T2 constraints...`` (path relative to its entry or object): a
    shape at a path, written ``Field(path, required, types, enum=..., ...)``."""

    path: tuple[str, ...] = ()
    required: bool = False

    def __init__(self, path: tuple[str, ...], required: bool, types: list[Type], **constraints: Any) -> None:
        super().__init__(types, **constraints)
        self.path = path
        self.required = required


@dataclass
class Entry:
    """``track "Name" { ... }``, ``identify { ... }``, ``common { ... }`` ..."""

    kind: str
    name: str | None
    fields: list[Field]
    description: str | None = None


@dataclass(frozen=True)
class Note:
    """Something the import could only approximate or had to drop, and where (a JSON pointer)."""

    pointer: str
    message: str

    def __str__(self) -> str:
        return f"#{self.pointer}: {self.message}"


@dataclass
class Draft:
    """One ``plan NAME when COND { ... }`` block."""

    name: str | None
    when: str | None = None  # condition text, already in canonical layout
    modes: dict[str, str] = field(default_factory=dict)  # events / properties / violations -> mode
    common: Entry | None = None
    entries: list[Entry] = field(default_factory=list)
    description: str | None = None
    notes: list[Note] = field(default_factory=list)
