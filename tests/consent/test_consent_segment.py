"""Segment context.consent decoder."""

from __future__ import annotations

import pickle

import pytest

from routeql.consent import segment
from routeql.consent.errors import ConsentDecodeError


@pytest.mark.parametrize("value", [None, {}, {"other": 1}])
def test_no_signal(value: object) -> None:
    assert segment.decode(value) is None


def test_preferences() -> None:
    c = segment.decode({"categoryPreferences": {"Advertising": True, "Analytics": False}, "extra": [1]})
    assert c.preferences == {"Advertising": True, "Analytics": False} and c.invalid == {}
    assert c.granted("Advertising") and not c.granted("Analytics") and not c.granted("advertising")


def test_empty_preferences_is_a_signal_that_grants_nothing() -> None:
    c = segment.decode({"categoryPreferences": {}})
    assert c is not None and c.preferences == {} and not c.granted("Advertising")


def test_non_boolean_values_are_not_grants_and_are_reported_briefly() -> None:
    c = segment.decode({"categoryPreferences": {"A": "true", "B": 1, "C": None, "D": {"x": 1}, "E": "y" * 500, "F": True}})
    assert dict(c.preferences) == {"F": True}
    assert dict(c.invalid) == {"A": "string of 4 characters", "B": "number", "C": "null", "D": "object",
                               "E": "string of 500 characters"}
    assert not c.granted("A") and not c.granted("B")
    assert c.to_dict() == {"categoryPreferences": {"F": True}, "invalid": dict(c.invalid)}


def test_value_semantics() -> None:
    a = segment.decode({"categoryPreferences": {"A": True, "B": "x"}})
    assert a == segment.decode({"categoryPreferences": {"A": True, "B": "x"}})
    assert hash(a) == hash(pickle.loads(pickle.dumps(a)))


@pytest.mark.parametrize(
    "value, match",
    [
        ("Advertising", "context.consent must be an object, got string"),
        ([{"categoryPreferences": {}}], "context.consent must be an object, got array"),
        (True, "got boolean"),
        ({"categoryPreferences": None}, "categoryPreferences must be an object, got null"),
        ({"categoryPreferences": ["Advertising"]}, "got array"),
        ({"categoryPreferences": "x"}, "got string"),
        ({"categoryPreferences": {f"c{i}": True for i in range(2000)}}, "more than 1024"),
    ],
)
def test_rejects(value: object, match: str) -> None:
    with pytest.raises(ConsentDecodeError, match=match):
        segment.decode(value)


def test_non_string_keys_are_invalid_entries_not_a_failure() -> None:
    # a key that is not a string cannot name a category: recorded, and the rest still counts
    c = segment.decode({"categoryPreferences": {1: True, "Advertising": True}})
    assert c is not None and c.granted("Advertising")
    assert dict(c.invalid) == {"<key: number>": "not a category id"}
