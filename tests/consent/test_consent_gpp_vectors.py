"""Every vector in tests/data/vectors/gpp-vectors.json, each expected key interpreted generically.

Schema (consent-formats.md section 3.4): ``kind`` is gpp | usnat | usca | uspv1 | invalid,
``assertion`` is decode | encode | spec-example.  Encode vectors are symmetric, so every
vector is checked by decoding.  A held-back set with the same schema runs later: unknown
kinds, assertions, sections or keys fail loudly here.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from tcf_checks import check_tc

from routeql.consent import gpp
from routeql.consent.errors import ConsentDecodeError

VECTORS = json.loads((Path(__file__).parents[1] / "data" / "vectors" / "gpp-vectors.json").read_text("utf-8"))
SECTION_KINDS = {"usnat", "usca", "uspv1"}
ASSERTIONS = {"decode", "encode", "spec-example"}
HEADER_KEYS = {"type", "version", "sectionIds"}
# Older usnat expectations list the legacy 12 categories / 2 child consents; the decoder
# always reports 16 / 3, the added ones being "not applicable" (0).
USNAT_LENGTHS = {"SensitiveDataProcessing": 16, "KnownChildSensitiveDataConsents": 3}


def check_section(section: gpp.Section, expected: Any) -> None:
    """A section expectation is its raw text (a str) or a dict of IAB field values."""
    if isinstance(expected, str):
        assert section.raw == expected
        return
    assert isinstance(expected, dict), f"unknown expectation shape {expected!r}"
    assert section.decoded, f"section {section.name} was not decoded"
    if section.name == "tcfeuv2":
        check_tc(section.value, expected)  # type: ignore[arg-type]
        return
    got = section.to_dict()
    assert isinstance(got, dict)
    for key, want in expected.items():
        assert key in got, f"unknown {section.name} field {key!r}"
        if section.name == "usnat" and key in USNAT_LENGTHS:
            want = list(want) + [0] * (USNAT_LENGTHS[key] - len(want))
        assert got[key] == want, f"{section.name}.{key}"


def check_gpp(g: gpp.GPPString, expected: dict[str, Any]) -> list[str]:
    """Check ``expected``; return the sections whose field values were not checked because
    RouteQL keeps them raw by design (only their presence is)."""
    header = g.to_dict()["header"]
    out_of_scope = []
    for key, want in expected.items():
        if key == "header":
            assert set(want) <= HEADER_KEYS, f"unknown header keys {set(want) - HEADER_KEYS}"
            for k, v in want.items():
                assert header[k] == v, f"header.{k}"
        elif key in gpp.SECTION_NAMES.values():
            section = g.section(key)
            assert section is not None, f"section {key} missing"
            if isinstance(want, dict) and not section.decoded:
                out_of_scope.append(key)
            else:
                check_section(section, want)
        else:
            pytest.fail(f"unknown expected key {key!r}: teach this harness what it means")
    return out_of_scope


@pytest.mark.parametrize("vector", VECTORS, ids=[v["id"] for v in VECTORS])
def test_vector(vector: dict[str, Any]) -> None:
    assert vector["assertion"] in ASSERTIONS, f"unknown assertion {vector['assertion']!r}"
    kind, string, expected = vector["kind"], vector["string"], vector["expected"]
    if kind == "invalid":
        with pytest.raises(ConsentDecodeError):
            gpp.decode(string)
    elif kind == "gpp":
        out_of_scope = check_gpp(gpp.decode(string), expected)
        if out_of_scope:  # everything else passed; say loudly what was not checked
            pytest.skip(f"fields of {', '.join(out_of_scope)} not checked: RouteQL keeps that section raw")
    elif kind in SECTION_KINDS:
        check_section(gpp.decode_section(kind, string), expected)
    else:
        pytest.fail(f"unknown vector kind {kind!r}")


def test_vector_ids_are_unique() -> None:
    ids = [v["id"] for v in VECTORS]
    assert len(ids) == len(set(ids))


class TestHarness:
    """Wrong expectations must fail."""

    G = gpp.decode("DBACNYA~CPSG_8APSG_8ANwAAAENAwCAAAAAAAAAAAAAAAAAAAAA.QAAA.IAAA~1YNN")

    @pytest.mark.parametrize(
        "expected",
        [
            {"header": {"sectionIds": [2]}},
            {"header": {"size": 2}},
            {"uspv1": {"OptOutSale": "Y"}},
            {"uspv1": "1YNY"},
            {"tcfeuv2": {"cmpId": 1}},
            {"usnat": {"Version": 1}},
            {"bogus": 1},
        ],
    )
    def test_wrong_expectation_fails(self, expected: dict[str, Any]) -> None:
        with pytest.raises((AssertionError, pytest.fail.Exception)):
            check_gpp(self.G, expected)

    def test_expectations_on_raw_sections_are_reported(self) -> None:
        g = gpp.decode("DBABjw~CPXxRfAPXxRfAAfKABENB-CgAAAAAAAAAAYgAAAAAAAA~1YNN")
        assert check_gpp(g, {"tcfcav1": {"CmpId": 50}, "uspv1": "1YNN"}) == ["tcfcav1"]

    def test_short_usnat_lists_are_padded(self) -> None:
        check_section(
            gpp.decode_section("usnat", "BVVVkkkklWA.YA"),
            {"SensitiveDataProcessing": [2, 1, 0, 2, 1, 0, 2, 1, 0, 2, 1, 0], "KnownChildSensitiveDataConsents": [2, 1]},
        )
