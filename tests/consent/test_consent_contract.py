"""The contract every decoder keeps: any input gives a result or ConsentDecodeError, quickly;
and every docstring example is true."""

from __future__ import annotations

import doctest
import importlib
import re
from pathlib import Path
from typing import Any, Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import routeql.consent as consent
from routeql.consent import cookiebot, gcm, gpc, gpp, onetrust, rudderstack, segment, tcf, usprivacy
from routeql.consent.errors import ConsentDecodeError

DECODERS: dict[str, Callable[[Any], Any]] = {
    "tcf": tcf.decode,
    "gpp": gpp.decode,
    "usprivacy": usprivacy.decode,
    "gpc": gpc.decode,
    "gcm": gcm.decode,
    "gcs": gcm.decode_gcs,
    "onetrust": onetrust.decode,
    "cookiebot": cookiebot.decode,
    "segment": segment.decode,
    "rudderstack": rudderstack.decode,
}

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.integers(min_value=10**4400), st.floats(), st.text(), st.binary(),
)
# JSON-like trees with the keys the decoders look for, so the fuzz reaches past type checks.
KEYS = st.sampled_from(
    ["categoryPreferences", "allowedConsentIds", "deniedConsentIds", "resolutionStrategy", "provider",
     "ad_storage", "necessary", "preferences", "statistics", "marketing", "method", "ver", "x"]
)
values = st.recursive(
    scalars, lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(KEYS, inner, max_size=5)),
    max_leaves=12,
)


@pytest.mark.parametrize("name", sorted(DECODERS))
@settings(max_examples=150)
@given(value=values)
def test_any_input_gives_a_result_or_consent_decode_error(name: str, value: object) -> None:
    try:
        result = DECODERS[name](value)
    except ConsentDecodeError as e:
        assert e.reason and str(e).startswith(e.format)
        return
    if result is not None and hasattr(result, "to_dict"):
        result.to_dict()


def test_package_exports() -> None:
    assert set(consent.__all__) == {"ConsentDecodeError", *(m for m in DECODERS if m != "gcs")}
    assert consent.ConsentDecodeError is ConsentDecodeError


MODULES = ["_bits", "tcf", "gpp", "usprivacy", "gpc", "gcm", "onetrust", "cookiebot", "segment", "rudderstack"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    module = importlib.import_module(f"routeql.consent.{name}")
    result = doctest.testmod(module)
    assert result.attempted > 0 and result.failed == 0


def test_user_docs_examples() -> None:
    """docs/consent-formats.md shows decoder calls with their output; keep them true."""
    text = (Path(__file__).parents[2] / "docs" / "consent-formats.md").read_text("utf-8")
    text = re.sub(r"(?m)^\s*```.*$", "", text)  # a closing fence would read as expected output
    test = doctest.DocTestParser().get_doctest(text, {}, "consent-formats.md", "consent-formats.md", 0)
    runner = doctest.DocTestRunner()
    runner.run(test)
    assert runner.failures == 0 and runner.tries > 20
