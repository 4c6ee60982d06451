"""Google Consent Mode v2 decoder."""

from __future__ import annotations

import pickle

import pytest

from routeql.consent import gcm
from routeql.consent.errors import ConsentDecodeError


def test_all_seven_types() -> None:
    state = gcm.decode({t: "granted" for t in gcm.CONSENT_TYPES})
    assert dict(state) == {t: True for t in gcm.CONSENT_TYPES}
    assert all(state.granted(t) for t in gcm.CONSENT_TYPES)


def test_absent_types_stay_absent() -> None:
    state = gcm.decode({"analytics_storage": "denied"})
    assert list(state) == ["analytics_storage"] and "ad_storage" not in state
    assert state.get("ad_storage") is None and not state.granted("ad_storage")
    with pytest.raises(KeyError):
        state["ad_storage"]


def test_google_ads_api_values() -> None:
    state = gcm.decode({"ad_user_data": "GRANTED", "ad_personalization": "DENIED",
                        "ad_storage": "UNSPECIFIED", "analytics_storage": "UNKNOWN"})
    assert dict(state) == {"ad_storage": None, "ad_user_data": True, "ad_personalization": False,
                           "analytics_storage": None}
    assert state.to_dict() == {"ad_storage": None, "ad_user_data": "granted", "ad_personalization": "denied",
                               "analytics_storage": None}


def test_value_semantics() -> None:
    a = gcm.decode({"ad_storage": "granted", "analytics_storage": "denied"})
    b = gcm.decode({"analytics_storage": "denied", "ad_storage": "granted"})
    assert a == b and hash(a) == hash(b) and pickle.loads(pickle.dumps(a)) == a


@pytest.mark.parametrize(
    "value, match",
    [
        (None, "expected an object"),
        ("ad_storage=granted", "expected an object"),
        ([("ad_storage", "granted")], "expected an object"),
        ({"ad_storag": "granted"}, "unknown consent type 'ad_storag'"),
        ({1: "granted"}, "unknown consent type number"),
        ({"ad_storage": "Granted"}, "ad_storage must be"),
        ({"ad_storage": True}, "got boolean"),
        ({"ad_storage": None}, "got null"),
        ({"ad_storage": "granted", "region": ["ES"]}, "command parameter"),
        ({"wait_for_update": 500}, "command parameter"),
    ],
)
def test_rejects(value: object, match: str) -> None:
    with pytest.raises(ConsentDecodeError, match=match):
        gcm.decode(value)


@pytest.mark.parametrize(
    "code, ad, analytics", [("G111", True, True), ("G110", True, False), ("G101", False, True), ("G100", False, False)]
)
def test_gcs(code: str, ad: bool, analytics: bool) -> None:
    assert dict(gcm.decode_gcs(code)) == {"ad_storage": ad, "analytics_storage": analytics}


@pytest.mark.parametrize("code", [None, "", "G1", "G11", "G1111", "G211", "G1-1", "g111", "G1１1", 111])
def test_gcs_rejects(code: object) -> None:
    with pytest.raises(ConsentDecodeError, match="gcs value"):
        gcm.decode_gcs(code)
