"""The one rule IR every implementation is translated from, and its tree-walking oracle.

A destination is a conjunction of atoms (3 to 5, one of them a consent requirement), a
keep list of nested paths and the subset of those paths to hash.  :func:`decide` walks
the IR over an event and is the oracle every engine is compared with, decision by
decision.  The semantics are RouteQL's under an ``opt_in`` regime:

- a path that crosses a missing key, a null or a non-object reads as null;
- a null makes every atom false (there is no negation in the IR);
- numeric atoms are false on anything but a number (a bool is not a number);
- a consent category is granted only when ``categoryPreferences[id]`` is exactly ``true``.

>>> d = Dest("d0", (IsType(("track",)), Num(("properties", "revenue"), ">", 250.0), Consent(("advertising",))), (), ())
>>> grant = {"context": {"consent": {"categoryPreferences": {"Advertising": True}}}}
>>> decide(RuleIR((d,)), {"type": "track", "properties": {"revenue": 300.0}, **grant})
('d0',)
>>> decide(RuleIR((d,)), {"type": "track", "properties": {"revenue": "300"}, **grant})
()
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Union

__all__ = [
    "Path", "IsType", "IsEvent", "Num", "Prefix", "Suffix", "Exists", "AnyOf", "Consent", "Atom",
    "Dest", "RuleIR", "CATEGORIES", "CONSENT_PATH", "read", "holds", "decide", "fmt_path",
]

Path = tuple[str, ...]

#: canonical category -> its Segment category id (``context.consent.categoryPreferences``)
CATEGORIES: dict[str, str] = {
    "analytics": "Analytics",
    "advertising": "Advertising",
    "personalization": "Personalization",
    "functional": "Functional",
}
CONSENT_PATH: Path = ("context", "consent", "categoryPreferences")


@dataclass(frozen=True, slots=True)
class IsType:
    """``type == v`` (one value) or ``type in {...}``."""

    values: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class IsEvent:
    """``event == v`` (one value) or ``event in {...}``."""

    values: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Num:
    """``path OP value`` for OP in ``>``, ``>=``, ``<``; false unless the field is a number."""

    path: Path
    op: str
    value: int | float


@dataclass(frozen=True, slots=True)
class Prefix:
    """The field is a string starting with ``text``."""

    path: Path
    text: str


@dataclass(frozen=True, slots=True)
class Suffix:
    """The field is a string ending with ``text``."""

    path: Path
    text: str


@dataclass(frozen=True, slots=True)
class Exists:
    """The field is present and not null."""

    path: Path


@dataclass(frozen=True, slots=True)
class AnyOf:
    """A nested ``or`` of atoms (none of them consent or type/event atoms)."""

    items: tuple["Atom", ...]


@dataclass(frozen=True, slots=True)
class Consent:
    """Every category is granted (all-of)."""

    categories: tuple[str, ...]


Atom = Union[IsType, IsEvent, Num, Prefix, Suffix, Exists, AnyOf, Consent]


@dataclass(frozen=True, slots=True)
class Dest:
    """One destination: its predicate (a conjunction), what it keeps and what it hashes."""

    name: str
    atoms: tuple[Atom, ...]
    keep: tuple[Path, ...]
    hash: tuple[Path, ...]


@dataclass(frozen=True, slots=True)
class RuleIR:
    """A rule set: destinations in declaration order (the order decisions are listed in)."""

    dests: tuple[Dest, ...]

    def prefix(self, d: int) -> "RuleIR":
        """The first ``d`` destinations (rule sets are nested: D=10 is a prefix of D=50)."""
        return RuleIR(self.dests[:d])

    def __len__(self) -> int:
        return len(self.dests)


def fmt_path(path: Path) -> str:
    """``("context", "ip")`` -> ``"context.ip"``."""
    return ".".join(path)


def read(event: Any, path: Path) -> Any:
    """The value at a path; null when anything on the way is missing or not an object."""
    v = event
    for key in path:
        if v.__class__ is not dict:
            return None
        v = v.get(key)
    return v


def _number(v: Any) -> bool:
    return v.__class__ is int or v.__class__ is float


def holds(atom: Atom, event: Any) -> bool:
    """Whether one atom holds for an event (the IR's meaning, written plainly)."""
    if isinstance(atom, IsType):
        return read(event, ("type",)) in atom.values
    if isinstance(atom, IsEvent):
        v = read(event, ("event",))
        return v.__class__ is str and v in atom.values
    if isinstance(atom, Num):
        v = read(event, atom.path)
        if not _number(v):
            return False
        if atom.op == ">":
            return bool(v > atom.value)
        if atom.op == ">=":
            return bool(v >= atom.value)
        return bool(v < atom.value)
    if isinstance(atom, Prefix):
        v = read(event, atom.path)
        return v.__class__ is str and v.startswith(atom.text)
    if isinstance(atom, Suffix):
        v = read(event, atom.path)
        return v.__class__ is str and v.endswith(atom.text)
    if isinstance(atom, Exists):
        return read(event, atom.path) is not None
    if isinstance(atom, AnyOf):
        return any(holds(a, event) for a in atom.items)
    if isinstance(atom, Consent):
        prefs = read(event, CONSENT_PATH)
        if prefs.__class__ is not dict:
            return False
        return all(prefs.get(CATEGORIES[c]) is True for c in atom.categories)
    raise TypeError(f"not an atom: {atom!r}")


def decide(rules: RuleIR, event: Any) -> tuple[str, ...]:
    """The destinations an event goes to, in declaration order: the oracle."""
    return tuple(d.name for d in rules.dests if all(holds(a, event) for a in d.atoms))
