"""Helpers shared by the decoders: base64url -> bits, a bounds-checked reader, id sets,
a frozen mapping for decoded key/value signals, and a safe describer for bad values.

IAB strings (TCF, GPP) are base64url *characters*, 6 bits each, read left to right.  They
are not byte-oriented base64: lengths that are 1 mod 4 are legal and padding is optional,
so the text is mapped character by character to a string of ``"0"``/``"1"``.

>>> r = BitReader(to_bits("DBABMA", format="gpp"), format="gpp")
>>> r.read_int(6, "Type"), r.read_int(6, "Version"), r.read_int(12, "NumSections")
(3, 1, 1)
>>> IdSet.from_bitfield("0110").to_list()
[2, 3]
"""

from __future__ import annotations

import binascii
import re
from collections.abc import Iterable, Iterator, Mapping, Set
from itertools import compress, count
from typing import TypeVar

from .errors import ConsentDecodeError

__all__ = ["ALPHABET", "EMPTY", "BitReader", "FrozenMap", "IdSet", "describe", "to_bits"]

#: RFC 4648 URL-safe alphabet; the index of a character is its 6-bit value.
ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

_VALID = re.compile(r"[A-Za-z0-9_-]*")
_TO_STANDARD = bytes.maketrans(b"-_", b"+/")

# bytes.translate table turning b"0"/b"1" into 0/1 so itertools.compress can select ids.
_ZERO_ONE = bytes.maketrans(b"01", b"\x00\x01")

# Fibonacci weights for GPP integers: bit i of a code word is worth _FIB[i].
_FIB = [1, 2]
while len(_FIB) < 64:
    _FIB.append(_FIB[-1] + _FIB[-2])
#: Longest Fibonacci code word accepted (terminator included); 48 bits reach ~7.8e9.
MAX_FIBONACCI_BITS = 48


def to_bits(text: str, *, format: str, offset: int = 0) -> str:
    """The bits of base64url ``text`` as a ``"0"/"1"`` string (6 per character).

    ``offset`` is where ``text`` starts in the caller's input, so that a bad character is
    reported at its position in the whole string.

    >>> to_bits("C-", format="tcf")
    '000010111110'
    >>> to_bits("C+", format="tcf")
    Traceback (most recent call last):
    ...
    routeql.consent.errors.ConsentDecodeError: tcf: invalid character '+' (only A-Z a-z 0-9 - _ are allowed) (at char 1)
    """
    if _VALID.fullmatch(text) is None:
        i = next(i for i, ch in enumerate(text) if ch not in ALPHABET)
        shown = text[i] if text[i].isprintable() else f"U+{ord(text[i]):04X}"
        raise ConsentDecodeError(
            f"invalid character {shown!r} (only A-Z a-z 0-9 - _ are allowed)",
            format=format,
            position=offset + i,
            unit="char",
        )
    if not text:
        return ""
    # binascii packs the 6-bit values in C.  Filling the last group of four with 'A' (six
    # zero bits each) and cutting the result back to 6 bits per character keeps this the
    # character-by-character decoding: no byte alignment, no '=', any length allowed.
    raw = binascii.a2b_base64(text.encode().translate(_TO_STANDARD) + b"A" * (-len(text) % 4), strict_mode=True)
    return f"{int.from_bytes(raw, 'big'):0{8 * len(raw)}b}"[: 6 * len(text)]


class BitReader:
    """Reads big-endian fields from a bit string; every read is bounds-checked.

    ``where`` names the part being read (e.g. ``"core segment"``) in error messages.

    >>> r = BitReader("0000101", format="tcf")
    >>> r.read_int(6, "Version")
    2
    >>> r.read_int(2, "CmpId")
    Traceback (most recent call last):
    ...
    routeql.consent.errors.ConsentDecodeError: tcf: truncated: CmpId needs 2 bits, 1 left (at bit 6)
    """

    __slots__ = ("bits", "pos", "size", "format", "where")

    def __init__(self, bits: str, *, format: str, where: str = "") -> None:
        self.bits = bits
        self.pos = 0
        self.size = len(bits)
        self.format = format
        self.where = where

    @property
    def remaining(self) -> int:
        return self.size - self.pos

    def error(self, reason: str, position: int | None = None) -> ConsentDecodeError:
        """A ConsentDecodeError naming this reader's part, at ``position`` (default: here)."""
        prefix = f"{self.where}: " if self.where else ""
        return ConsentDecodeError(
            prefix + reason, format=self.format, position=self.pos if position is None else position
        )

    def _truncated(self, n: int, what: str) -> ConsentDecodeError:
        return self.error(f"truncated: {what} needs {n} bits, {self.remaining} left")

    # The readers repeat the bounds check rather than share a helper: they run tens of
    # times per TC string, where one more call per read shows in the decode time.

    def take(self, n: int, what: str) -> str:
        """The next ``n`` bits as a string."""
        pos, end = self.pos, self.pos + n
        if end > self.size:
            raise self._truncated(n, what)
        self.pos = end
        return self.bits[pos:end]

    def read_int(self, n: int, what: str) -> int:
        pos, end = self.pos, self.pos + n
        if end > self.size:
            raise self._truncated(n, what)
        self.pos = end
        return int(self.bits[pos:end], 2) if n else 0

    def read_bool(self, what: str) -> bool:
        pos = self.pos
        if pos >= self.size:
            raise self._truncated(1, what)
        self.pos = pos + 1
        return self.bits[pos] == "1"

    def read_ids(self, n: int, what: str) -> IdSet:
        """A bitfield of ``n`` bits where bit i (from 0) set means id i+1 is in the set."""
        return IdSet.from_bitfield(self.take(n, what))

    def read_fibonacci(self, what: str) -> int:
        """A Fibonacci-coded positive integer (weights 1, 2, 3, 5, ...; ends with ``11``)."""
        start = self.pos
        end = self.bits.find("11", start)
        if end < 0:
            raise self.error(f"truncated: {what} has no Fibonacci terminator '11'", start)
        if end + 2 - start > MAX_FIBONACCI_BITS:
            raise self.error(f"{what} is longer than {MAX_FIBONACCI_BITS} bits", start)
        word = self.bits[start : end + 1]  # the value bits; the final '1' is the terminator
        self.pos = end + 2
        return sum(_FIB[i] for i, bit in enumerate(word) if bit == "1")


# Up to this many ranges IdSet.from_ranges ORs shifted masks; beyond, it fills a buffer.
_FEW_RANGES = 32


class IdSet(Set[int]):
    """An immutable set of positive ids (vendors, purposes) stored as one integer bit mask.

    Bit ``i`` of the mask is id ``i``.  Building one from a bitfield is a single ``int()``
    call, and a range covering 65,535 vendors costs about as little as one covering two, so
    large vendor lists decode cheaply.  It compares equal to any set with the same members.

    >>> s = IdSet.from_ranges([(3, 5), (9, 9)])
    >>> 4 in s, 6 in s, len(s), s == {3, 4, 5, 9}
    (True, False, 4, True)
    """

    __slots__ = ("_mask",)

    def __init__(self, ids: Iterable[int] = ()) -> None:
        mask = 0
        for i in ids:
            mask |= 1 << i
        self._mask = mask

    @classmethod
    def _of_mask(cls, mask: int) -> IdSet:
        new = cls.__new__(cls)
        new._mask = mask
        return new

    @classmethod
    def from_bitfield(cls, field: str) -> IdSet:
        """From ``"0"``/``"1"`` text where position i (from 0) stands for id i+1."""
        # Reversed, the first character is the least significant bit: id 1 lands on bit 1.
        return cls._of_mask(int(field[::-1], 2) << 1 if field else 0)

    @classmethod
    def from_ranges(cls, ranges: Iterable[tuple[int, int]]) -> IdSet:
        """From inclusive ``(start, end)`` ranges of ids >= 0, in any order, overlaps allowed."""
        spans = list(ranges)
        if len(spans) <= _FEW_RANGES:  # the usual case: one shifted mask per range
            mask = 0
            for start, end in spans:
                mask |= ((1 << (end - start + 1)) - 1) << start
            return cls._of_mask(mask)
        # Many ranges: each OR above costs the whole mask's size, so write the ids once into
        # a buffer instead (sorted spans let each id be written at most once).
        top = max(end for _, end in spans)
        buf = bytearray(b"0") * (top + 1)
        done = -1
        for start, end in sorted(spans):
            start = max(start, done + 1)
            if start <= end:
                buf[start : end + 1] = b"1" * (end - start + 1)
                done = end
        buf.reverse()
        return cls._of_mask(int(buf, 2))

    def __contains__(self, item: object) -> bool:
        return type(item) is int and item >= 0 and (self._mask >> item) & 1 == 1

    def __iter__(self) -> Iterator[int]:
        # bin() is LSB-last; reversing it puts bit i at index i.
        return compress(count(), bin(self._mask)[:1:-1].encode().translate(_ZERO_ONE))

    def __len__(self) -> int:
        return self._mask.bit_count()

    def __eq__(self, other: object) -> bool:
        if isinstance(other, IdSet):
            return self._mask == other._mask
        return Set.__eq__(self, other)

    def __hash__(self) -> int:
        return self._hash()  # the frozenset-compatible hash, so equal sets hash alike

    def __repr__(self) -> str:
        return f"IdSet({self.to_list()!r})"

    def __reduce__(self) -> tuple[object, ...]:
        return (IdSet._of_mask, (self._mask,))

    @property
    def max(self) -> int:
        """The highest id, or 0 when empty."""
        return max(self._mask.bit_length() - 1, 0)

    def to_list(self) -> list[int]:
        """The ids in ascending order."""
        return list(self)


EMPTY = IdSet()


V = TypeVar("V")


class FrozenMap(Mapping[str, V]):
    """A read-only, hashable, picklable str-keyed mapping (decoded groups, categories).

    It compares equal to a dict with the same items and keeps the input order.

    >>> m = FrozenMap([("C0001", True), ("C0002", False)])
    >>> m["C0002"], m == {"C0001": True, "C0002": False}, hash(m) == hash(FrozenMap(m.items()))
    (False, True, True)
    """

    __slots__ = ("_items",)

    def __init__(self, items: Iterable[tuple[str, V]] = ()) -> None:
        self._items = dict(items)

    def __getitem__(self, key: str) -> V:
        return self._items[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __hash__(self) -> int:
        return hash(frozenset(self._items.items()))

    def __repr__(self) -> str:
        return f"FrozenMap({self._items!r})"

    def __reduce__(self) -> tuple[object, ...]:
        return (FrozenMap, (tuple(self._items.items()),))


_JSON_TYPES = {type(None): "null", bool: "boolean", int: "number", float: "number",
               str: "string", list: "array", tuple: "array", dict: "object"}


def describe(value: object) -> str:
    """A short description of a bad value for an error message: its type and size, never
    its content (a consent value can be anything a user typed, and errors get logged).

    >>> describe("yes"), describe("x" * 100), describe(None), describe([1]), describe(True)
    ('string of 3 characters', 'string of 100 characters', 'null', 'array', 'boolean')
    """
    kind = _JSON_TYPES.get(type(value), type(value).__name__)
    if isinstance(value, str):
        return f"{kind} of {len(value)} characters"
    if isinstance(value, (bytes, bytearray)):
        return f"{len(value)} bytes"
    return kind


_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_\-]{0,31}")


def describe_name(value: object) -> str:
    """Describe a bad *name* (a consent type, a section, a cookie field key): a short
    identifier is quoted so the user can find the typo; anything else is described like a
    value, by type and size only.

    >>> describe_name("ad_storag"), describe_name("x y"), describe_name(3)
    ("'ad_storag'", 'string of 3 characters', 'number')
    """
    if isinstance(value, str) and _NAME.fullmatch(value):
        return repr(value)
    return describe(value)
