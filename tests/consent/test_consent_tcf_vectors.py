"""Every vector in tests/data/vectors/tcf-vectors.json, each expected key interpreted generically.

The schema is documented in the reference (consent-formats.md section 2.1).  A larger,
held-back set with the same schema runs against the decoder later, so every documented
key is handled (by tcf_checks.check_tc), and a key the harness does not know fails loudly.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from tcf_checks import check_tc

from routeql.consent import tcf
from routeql.consent.errors import ConsentDecodeError

VECTORS = json.loads((Path(__file__).parents[1] / "data" / "vectors" / "tcf-vectors.json").read_text("utf-8"))
VALID_KINDS = {"valid"}
REJECTED_KINDS = {"invalid", "disputed"}  # disputed strings only decode by reading past the end
VALID = [v for v in VECTORS if v["kind"] in VALID_KINDS]


def test_vector_file_is_well_formed() -> None:
    ids = [v["id"] for v in VECTORS]
    assert len(ids) == len(set(ids)), "duplicate vector ids"
    for v in VECTORS:
        assert v["kind"] in VALID_KINDS | REJECTED_KINDS, v["id"]
        assert isinstance(v["tc_string"], str) and isinstance(v["expected"], dict), v["id"]


@pytest.mark.parametrize("vector", VECTORS, ids=[v["id"] for v in VECTORS])
def test_vector(vector: dict[str, Any]) -> None:
    if vector["kind"] in REJECTED_KINDS:
        with pytest.raises(ConsentDecodeError):
            tcf.decode(vector["tc_string"])
        return
    assert vector["expected"].get("error") is not True, "a valid vector expecting an error"
    check_tc(tcf.decode(vector["tc_string"]), vector["expected"])


@pytest.mark.parametrize("vector", VALID, ids=[v["id"] for v in VALID])
def test_valid_vector_round_trips_through_to_dict(vector: dict[str, Any]) -> None:
    """to_dict() has exactly the IAB field names, JSON-serialisable, stable across decodes."""
    d = tcf.decode(vector["tc_string"]).to_dict()
    assert list(d) == [
        "version", "created", "lastUpdated", "cmpId", "cmpVersion", "consentScreen", "consentLanguage",
        "vendorListVersion", "tcfPolicyVersion", "isServiceSpecific", "useNonStandardTexts",
        "specialFeatureOptIns", "purposesConsent", "purposesLITransparency", "purposeOneTreatment",
        "publisherCC", "vendorConsents", "vendorLegitimateInterests", "publisherRestrictions",
        "disclosedVendors", "allowedVendors", "pubPurposesConsent", "pubPurposesLITransparency",
        "numCustomPurposes", "customPurposesConsent", "customPurposesLITransparency",
    ]
    assert json.loads(json.dumps(d)) == d
    assert tcf.decode(vector["tc_string"]) == tcf.decode(vector["tc_string"])


ISSUE_201 = (  # iabtcf-es issue 201: vendors repeated under one restriction
    "CO4VGswO4VGswAfZCBDEAzCsAP_AAH_AAAigGUNf_X9fb2vj-_599_t0eY1f9_63t-wzjheMs-8NyZ-X_J4Wv2MyvB34JqQKGRgkunLBAQdtHGncTQ"
    "gBwIlViTLMY02MjzNKJrJEilsbe2dYGH9vn8XT_ZKZ70-_v__7v3___33_5Ayhr_6_r7e18f3_Pvv9ujzGr_v_W9v2GccLxln3huTPy_5PC1-xmV"
    "4O_BNSBQyMEl05YICDto407iaEAOBEqsSZZjGmxkeZpRNZIkUtjb2zrAw_t8_i6f7JTPen39___d-___--__ICgKAOAAcAA4AFAAjgB6AEYALcGACA"
    "W0AtoJAHAAOAAcACgARwA9ACMAFuFABALaAW0GgDgAHAAOABQAI4AegBGAC3DgAgFtALaEQBwADgAHAAoAEcAPQAjABbiQAQC2gFtCoA4ABwADgAUA"
    "COAHoARgAtxYAIBbQC2hkAcAA4ABwAKABHAD0AIwAW40AEAtoBbQ6AOAAcAA4AFAAjgB6AEYALceACAW0AtohAHAAOAAcACgARwA9ACMAFuRABALaA"
    "W0SgDgAHAAOABQAI4AegBGAC3JgAgFtALaKQBwADgAHAAoAEcAPQAjABblQAQC2gFtA"
)


@pytest.mark.parametrize(
    "shape",
    [
        {"purposeId": 1, "restrictionType": 1, "vendors": [7, 20, 71, 122, 140, 183]},
        [{"purposeId": 1, "restrictionType": 1, "vendorIds": [7, 20, 71, 122, 140, 183]}],
        {"1": {"1": [7, 20, 71, 122, 140, 183]}},
    ],
)
def test_restriction_vendor_shapes(shape: Any) -> None:
    """iabtcf-es asserts getVendors(PurposeRestriction(1, 1)) for issue 201; each shape a
    vector might use for that assertion is understood."""
    check_tc(tcf.decode(ISSUE_201), {"version": 2, "publisherRestrictionVendors": shape})


class TestHarness:
    """The harness itself must fail on wrong expectations, or a passing run proves nothing."""

    TC = tcf.decode("COtybn4PA_zT4KjACBENAPCIAEBAAECAAIAAAAAAAAAA")

    @pytest.mark.parametrize(
        "expected",
        [
            {"cmpId": 1},
            {"purposesConsent_includes": [3]},
            {"purposesConsent_excludes": [2]},
            {"purposesConsent_count": 3},
            {"created_to_second": "2020-01-26T17:01:01Z"},
            {"maxVendorIdConsent": 1},
            {"hasPublisherTC": True},
            {"publisherRestrictionChecks": [{"purposeId": 1, "restrictionType": 0, "vendorId": 1, "restricted": True}]},
            {"publisherRestrictionsForVendor": {"1": {"1": [0]}}},
            {"publisherRestrictionVendors": {"purposeId": 1, "restrictionType": 0, "vendors": [1]}},
            {"somethingNew": 1},
        ],
    )
    def test_wrong_expectation_fails(self, expected: dict[str, Any]) -> None:
        with pytest.raises((AssertionError, pytest.fail.Exception)):
            check_tc(self.TC, expected)

    def test_right_expectations_pass(self) -> None:
        check_tc(
            self.TC,
            {
                "cmpId": 675,
                "useNonStandardStacks": False,
                "purposesConsent_includes": [2],
                "purposesConsent_excludes": [1],
                "purposesConsent_count": 2,
                "created_to_second": "2020-01-26T17:01:00Z",
                "hasDisclosedVendors": False,
                "publisherRestrictionsForVendor": {"1": {}},
                "publisherRestrictionVendors": [],
                "error_message_in_source": "ignored",
            },
        )
