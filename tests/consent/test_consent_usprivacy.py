"""US Privacy string decoder."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from routeql.consent import usprivacy
from routeql.consent.errors import ConsentDecodeError


@pytest.mark.parametrize(
    "s, opted_out, applies",
    [("1YNN", False, True), ("1YYN", True, True), ("1NYY", True, True), ("1---", False, False), ("1-Y-", True, True)],
)
def test_decode(s: str, opted_out: bool, applies: bool) -> None:
    usp = usprivacy.decode(s)
    assert (usp.opted_out_of_sale, usp.applies, str(usp)) == (opted_out, applies, s)


def test_to_dict_and_helpers() -> None:
    usp = usprivacy.decode("1YNY")
    assert usp.to_dict() == {"version": 1, "notice": "Y", "optOutSale": "N", "lspaCovered": "Y"}
    assert usp.notice_given and usp.lspa and not usp.opted_out_of_sale


def test_lower_case_y_n_is_accepted_and_normalised() -> None:
    assert usprivacy.decode("1yyn") == usprivacy.decode("1YYN")
    assert str(usprivacy.decode("1nY-")) == "1NY-"


@pytest.mark.parametrize(
    "value, match, position",
    [
        (None, "must be a str", None),
        (b"1YNN", "must be a str", None),
        (1, "must be a str", None),
        ("", "exactly 4 characters, got 0", None),
        ("1YN", "exactly 4 characters, got 3", None),
        ("1YNNN", "exactly 4 characters, got 5", None),
        ("2YNN", "version '2'", 0),
        ("1XNN", "notice flag", 1),
        ("1Y N", "opt-out-of-sale flag", 2),
        ("1YN1", "LSPA-covered flag", 3),
        ("1ÝNN", "notice flag", 1),
    ],
)
def test_rejects(value: object, match: str, position: int | None) -> None:
    with pytest.raises(ConsentDecodeError, match=match) as info:
        usprivacy.decode(value)
    assert info.value.position == position and info.value.format == "usprivacy"


@given(st.text(max_size=8))
def test_fuzz(s: str) -> None:
    try:
        assert len(str(usprivacy.decode(s))) == 4
    except ConsentDecodeError:
        pass
