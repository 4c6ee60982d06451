"""RudderStack context.consentManagement decoder."""

from __future__ import annotations

import pytest

from routeql.consent import rudderstack
from routeql.consent.errors import ConsentDecodeError


def test_none_is_no_signal() -> None:
    assert rudderstack.decode(None) is None


def test_full_object() -> None:
    c = rudderstack.decode({"provider": "oneTrust", "allowedConsentIds": ["C0001", "C0002"],
                            "deniedConsentIds": ["C0004"], "resolutionStrategy": "or", "other": 1})
    assert (c.provider, c.allowed, c.denied, c.strategy) == ("oneTrust", {"C0001", "C0002"}, {"C0004"}, "or")
    assert c.to_dict() == {"provider": "oneTrust", "allowedConsentIds": ["C0001", "C0002"],
                           "deniedConsentIds": ["C0004"], "resolutionStrategy": "or"}


def test_defaults() -> None:
    c = rudderstack.decode({})
    assert (c.provider, c.allowed, c.denied, c.strategy) == (None, frozenset(), frozenset(), None)


def test_ids_as_object_keys() -> None:
    c = rudderstack.decode({"allowedConsentIds": {"C0001": "Strictly Necessary"}, "deniedConsentIds": {}})
    assert c.allowed == {"C0001"} and c.denied == frozenset()


def test_ids_are_exact() -> None:
    c = rudderstack.decode({"deniedConsentIds": [" C0004", "c0004", "C0004"]})
    assert c.denied == {" C0004", "c0004", "C0004"}


@pytest.mark.parametrize("given, expected", [("AND", "and"), ("Or", "or"), ("and", "and")])
def test_strategy_is_case_insensitive(given: str, expected: str) -> None:
    assert rudderstack.decode({"resolutionStrategy": given}).strategy == expected


def test_hashable() -> None:
    assert hash(rudderstack.decode({"allowedConsentIds": ["a"]})) == hash(rudderstack.decode({"allowedConsentIds": ["a"]}))


@pytest.mark.parametrize(
    "value, match",
    [
        ("oneTrust", "must be an object"),
        ([{}], "must be an object"),
        ({"provider": 1}, "provider must be a string"),
        ({"allowedConsentIds": "C0001"}, "allowedConsentIds must be a list"),
        ({"deniedConsentIds": [1]}, "deniedConsentIds must hold strings"),
        ({"deniedConsentIds": [["C0001"]]}, "must hold strings"),
        ({"deniedConsentIds": {1: "x"}}, "must hold strings"),
        ({"deniedConsentIds": ["x"] * 2000}, "more than 1024"),
        ({"resolutionStrategy": "any"}, "resolutionStrategy must be"),
        ({"resolutionStrategy": ""}, "resolutionStrategy must be"),
        ({"resolutionStrategy": 1}, "resolutionStrategy must be"),
    ],
)
def test_rejects(value: object, match: str) -> None:
    with pytest.raises(ConsentDecodeError, match=match):
        rudderstack.decode(value)
