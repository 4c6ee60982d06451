"""OneTrust decoder: OptanonConsent cookie, bare groups, OnetrustActiveGroups."""

from __future__ import annotations

import pickle

import pytest
from hypothesis import given
from hypothesis import strategies as st

from routeql.consent import onetrust
from routeql.consent.errors import ConsentDecodeError

COOKIE = (  # the commercetools README example
    "isGpcEnabled=0&datestamp=Tue+Jan+02+2024+10%3A00%3A00+GMT%2B0100&version=202209.1.0&isIABGlobal=false"
    "&hosts=&consentId=5f0e1c2a-0000-4000-8000-000000000000&interactionCount=1&landingPath=NotLandingPage"
    "&groups=C0001%3A1%2CC0002%3A0%2CC0003%3A1%2CC0004%3A1%2CC0005%3A1&geolocation=AT%3B9&AwaitingReconsent=false"
)


def test_cookie() -> None:
    c = onetrust.decode(COOKIE)
    assert c.groups == {"C0001": True, "C0002": False, "C0003": True, "C0004": True, "C0005": True}
    assert (c.source, c.is_gpc_enabled, c.interaction_count, c.awaiting_reconsent) == ("OptanonConsent", False, 1, False)
    assert c.granted("C0001") and not c.granted("C0002") and not c.granted("C0009")
    assert c.categories() == {"strictly_necessary": True, "performance": False, "functional": True,
                              "targeting": True, "social_media": True}


def test_cookie_markers() -> None:
    c = onetrust.decode("groups=C0001%3A1&isGpcEnabled=1&interactionCount=0&AwaitingReconsent=true")
    assert (c.is_gpc_enabled, c.interaction_count, c.awaiting_reconsent) == (True, 0, True)
    assert onetrust.decode("groups=").groups == {}


def test_bare_groups() -> None:
    c = onetrust.decode("C0001:1,C0004:0,STACK42:1")
    assert (dict(c.groups), c.source, c.is_gpc_enabled) == ({"C0001": True, "C0004": False, "STACK42": True}, "groups", None)


def test_active_groups() -> None:
    c = onetrust.decode(",C0001,C0003,")
    assert (dict(c.groups), c.source) == ({"C0001": True, "C0003": True}, "OnetrustActiveGroups")
    assert onetrust.decode(",,").groups == {} and onetrust.decode("").groups == {}


def test_categories_with_a_tenant_map() -> None:
    c = onetrust.decode("C0001:1,C0009:1")
    assert c.categories({"C0009": "ads"}) == {"ads": True}
    assert onetrust.DEFAULT_GROUPS["C0004"] == "targeting"


def test_value_semantics() -> None:
    a, b = onetrust.decode(COOKIE), onetrust.decode(COOKIE)
    assert a == b and hash(a) == hash(b) and pickle.loads(pickle.dumps(a)) == a
    assert a.to_dict()["groups"]["C0002"] is False


@pytest.mark.parametrize(
    "value, match",
    [
        (None, "expected a str"),
        ({"groups": "C0001:1"}, "expected a str"),
        ("x" * 20000, "longer than"),
        ("isGpcEnabled=0", "no groups field"),
        ("groups=C0001%3A1&groups=C0002%3A1", "appears twice"),
        ("groups=C0001%3A1&junk", "has no '='"),
        ("groups=C0001%3A2", "must be 1 or 0"),
        ("groups=C0001%3A", "must be 1 or 0"),
        ("groups=C0001", "must be 1 or 0"),
        ("groups=%FF%3A1", "not valid UTF-8"),
        ("groups=C0001%3A1&isGpcEnabled=yes", "isGpcEnabled must be"),
        ("groups=C0001%3A1&interactionCount=-1", "interactionCount"),
        ("groups=C0001%3A1&interactionCount=１", "interactionCount"),
        ("groups=C0001%3A1&AwaitingReconsent=1", "AwaitingReconsent must be"),
        ("C0001:1,C0001:0", "appears twice"),
        ("C0001:1,,C0002:0", "bad group id"),
        ("C 0001:1", "bad group id"),
        (",C0001,C0001,", "appears twice"),
        (",C0001;C0002,", "bad group id"),
        ("C" * 65, "bad group id"),
    ],
)
def test_rejects(value: object, match: str) -> None:
    with pytest.raises(ConsentDecodeError, match=match):
        onetrust.decode(value)


@given(st.text(alphabet="C0123:,=&%3Agroups", max_size=60))
def test_fuzz(s: str) -> None:
    try:
        onetrust.decode(s).to_dict()
    except ConsentDecodeError:
        pass
