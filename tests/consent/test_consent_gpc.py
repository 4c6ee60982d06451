"""Global Privacy Control value decoder."""

from __future__ import annotations

import pytest

from routeql.consent import gpc
from routeql.consent.errors import ConsentDecodeError


@pytest.mark.parametrize(
    "value, expected",
    [
        (True, True), (False, False), (1, True), (0, False), ("1", True), ("0", False),
        (b"1", True), (b"0", False), (["0", "1"], True), (("0",), False), ([b"1"], True),
    ],
)
def test_decode(value: object, expected: bool) -> None:
    assert gpc.decode(value) is expected


@pytest.mark.parametrize(
    "value",
    [None, "", " 1", "1 ", "true", "false", "yes", 2, -1, 1.0, 0.0, [], ["1", "x"], [["1"]], {}, {"gpc": True}, object()],
)
def test_rejects(value: object) -> None:
    with pytest.raises(ConsentDecodeError, match="expected true/false"):
        gpc.decode(value)


def test_huge_int_is_described_without_converting_it() -> None:
    with pytest.raises(ConsentDecodeError, match="got number$"):
        gpc.decode(10**5000)
