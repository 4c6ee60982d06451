"""Cookiebot decoder: the CookieConsent JavaScript literal, parsed objects, the bare -1."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from routeql.consent import cookiebot
from routeql.consent.errors import ConsentDecodeError

LITERAL = (
    "{stamp:'uHZ1qLzWkAZkZEBKkcGt1xzs9emiEa5z9bPQ7pvTOPBzhv1T+QzAnQ==',necessary:true,preferences:false,"
    "statistics:true,marketing:false,method:'explicit',ver:1,utc:1734405069032,region:'cn'}"
)


@pytest.mark.parametrize("text", [LITERAL, quote(LITERAL, safe=""), LITERAL.replace("'", "%27").replace(",", "%2C")])
def test_cookie_plain_and_url_encoded(text: str) -> None:
    c = cookiebot.decode(text)
    assert (c.necessary, c.preferences, c.statistics, c.marketing) == (True, False, True, False)
    assert (c.method, c.ver, c.utc, c.region) == ("explicit", 1, 1734405069032, "cn")
    assert c.stamp.endswith("==") and not c.consent_not_required


def test_parsed_object() -> None:
    c = cookiebot.decode({"necessary": True, "preferences": True, "statistics": False, "marketing": True, "method": "implied"})
    assert c.to_dict() == {"necessary": True, "preferences": True, "statistics": False, "marketing": True,
                           "method": "implied", "stamp": None, "ver": None, "utc": None, "region": None}


def test_not_required_marker() -> None:
    c = cookiebot.decode("-1")
    assert c.consent_not_required and c.method == "implied" and c.marketing
    assert cookiebot.decode("{stamp:'-1',necessary:true,preferences:true,statistics:true,marketing:true,method:'implied'}") == c


def test_literal_syntax() -> None:
    text = ' { "necessary" : true , preferences:false,statistics:false,marketing:false,x:null,y:[1,-2.5,"a\\\'b"],z:{w:{}} } '
    assert cookiebot.decode(text).necessary
    assert cookiebot.decode("{necessary:true,preferences:false,statistics:false,marketing:false,stamp:'it\\'s'}").stamp == "it's"


@pytest.mark.parametrize(
    "value, match",
    [
        (None, "expected the cookie text or an object"),
        (1, "expected the cookie text or an object"),
        ("0", "only bare value understood is -1"),
        ("true", "only bare value understood is -1"),
        ("", "unexpected end of text"),
        ("{", "expected a key"),
        ("{necessary:", "unexpected end of text"),
        ("{necessary:true", "expected ','"),
        ("{necessary:true,}", "expected a key"),
        ("{necessary:true} x", "unexpected text after the object"),
        ("{necessary:tru}", "unexpected string of 3 characters"),
        ("{necessary:true,necessary:false}", "duplicate key"),
        ("{1a:true}", "expected a key"),
        ("{a:'open}", "unterminated string"),
        ("{a:'\\x'}", "unsupported escape"),
        ("{a:1.2.3}", "malformed number"),
        ("{a:-}", "malformed number"),
        ("{a:" + "[" * 20 + "]" * 20 + "}", "nested deeper"),
        ("%7B%FF%7D", "not valid UTF-8"),
        ("x" * 20000, "longer than"),
        ("{necessary:true,preferences:false,statistics:false}", "'marketing' is missing"),
        ("{necessary:1,preferences:false,statistics:false,marketing:false}", "'necessary' must be true or false"),
        ("{necessary:true,preferences:'false',statistics:false,marketing:false}", "'preferences' must be"),
        ("{necessary:true,preferences:false,statistics:false,marketing:false,ver:'1'}", "'ver' must be a int"),
        ("{necessary:true,preferences:false,statistics:false,marketing:false,method:true}", "'method' must be a str"),
        ({"necessary": True}, "'preferences' is missing"),
    ],
)
def test_rejects(value: object, match: str) -> None:
    with pytest.raises(ConsentDecodeError, match=match):
        cookiebot.decode(value)


@given(st.text(alphabet="{}[]:,'\"\\-.0123456789abcnrtuefls%27 ", max_size=80))
def test_fuzz(s: str) -> None:
    try:
        cookiebot.decode(s).to_dict()
    except ConsentDecodeError:
        pass
