"""The shared helpers: base64url -> bits, the bounds-checked reader, IdSet, FrozenMap."""

from __future__ import annotations

import base64
import pickle

import pytest
from hypothesis import given
from hypothesis import strategies as st

from routeql.consent._bits import ALPHABET, BitReader, FrozenMap, IdSet, describe, describe_name, to_bits
from routeql.consent.errors import ConsentDecodeError


@given(st.binary(max_size=60))
def test_to_bits_agrees_with_base64_on_whole_bytes(data: bytes) -> None:
    text = base64.urlsafe_b64encode(data).decode().rstrip("=")
    bits = to_bits(text, format="t")
    assert len(bits) == 6 * len(text)
    assert bits[: 8 * len(data)] == "".join(format(b, "08b") for b in data)


def test_to_bits_handles_lengths_base64_cannot() -> None:
    assert to_bits("DBABM", format="gpp") == "000011000001000000000001001100"  # 5 chars = 1 mod 4


def test_reader_bounds() -> None:
    r = BitReader("101", format="t", where="part")
    assert r.read_bool("a") and r.read_int(2, "b") == 1 and r.remaining == 0
    assert r.read_int(0, "nothing") == 0 and r.read_ids(0, "none") == set()
    with pytest.raises(ConsentDecodeError, match="part: truncated: c needs 1 bits, 0 left") as info:
        r.read_bool("c")
    assert info.value.position == 3


@pytest.mark.parametrize("bits, value", [("11", 1), ("011", 2), ("0011", 3), ("1011", 4), ("00011", 5), ("10101011", 1 + 3 + 8 + 21)])
def test_fibonacci(bits: str, value: int) -> None:
    r = BitReader(bits + "01", format="t")
    assert r.read_fibonacci("n") == value and r.pos == len(bits)


@given(st.sets(st.integers(0, 5000)))
def test_idset_behaves_like_a_frozenset(ids: set[int]) -> None:
    s = IdSet(ids)
    assert s == frozenset(ids) and hash(s) == hash(frozenset(ids)) and len(s) == len(ids)
    assert s.to_list() == sorted(ids) and s.max == max(ids, default=0)
    assert all(i in s for i in ids) and -1 not in s and "1" not in s and True not in s
    assert pickle.loads(pickle.dumps(s)) == s


@given(st.lists(st.tuples(st.integers(0, 3000), st.integers(0, 300)), max_size=80))  # both paths: few and many
def test_idset_from_ranges(spans: list[tuple[int, int]]) -> None:
    ranges = [(start, start + length) for start, length in spans]
    expected = {i for start, end in ranges for i in range(start, end + 1)}
    assert IdSet.from_ranges(ranges) == expected


def test_idset_from_bitfield() -> None:
    assert IdSet.from_bitfield("1001") == {1, 4} and IdSet.from_bitfield("") == set()


def test_frozen_map() -> None:
    m = FrozenMap([("b", 1), ("a", 2)])
    assert list(m) == ["b", "a"] and m == {"a": 2, "b": 1} and m.get("c") is None
    assert pickle.loads(pickle.dumps(m)) == m and hash(m) == hash(FrozenMap({"a": 2, "b": 1}.items()))
    with pytest.raises(TypeError):
        m["a"] = 3  # type: ignore[index]


def test_describe_never_echoes_long_values() -> None:
    assert describe("a" * 17) == "string of 17 characters"
    assert describe("yes") == "string of 3 characters", "never the content, however short"
    assert describe(10**30) == "number" and describe(-5) == "number" and describe(b"x") == "1 bytes"
    assert describe(object()) == "object" and describe({}) == "object" and describe(2.5) == "number"


def test_describe_name_quotes_only_short_identifiers() -> None:
    assert describe_name("ad_storag") == "'ad_storag'" and describe_name("usxx") == "'usxx'"
    assert describe_name("a b") == "string of 3 characters" and describe_name("x" * 33) == "string of 33 characters"
    assert describe_name(1) == "number" and describe_name(None) == "null"


def test_alphabet() -> None:
    assert len(ALPHABET) == len(set(ALPHABET)) == 64
