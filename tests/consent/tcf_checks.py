"""The generic interpreter of TCF vector expectations (consent-formats.md section 2.1).

Used by the TCF and GPP vector tests.  Every documented key is handled; an unknown key
fails the test, so a new kind of assertion is noticed instead of silently skipped.
"""

from __future__ import annotations

import re
from typing import Any, Callable

import pytest

from routeql.consent import tcf

# Keys that are not assertions: notes carried alongside the data.
INFORMATIONAL = {"error_message_in_source"}
# Accessors for documented keys that are not to_dict() fields.
ATTRIBUTES: dict[str, Callable[[tcf.TCString], Any]] = {
    "maxVendorIdConsent": lambda tc: tc.max_vendor_id_consent,
    "maxVendorIdLI": lambda tc: tc.max_vendor_id_li,
    "hasPublisherTC": lambda tc: tc.has_publisher_tc,
    "hasDisclosedVendors": lambda tc: tc.has_disclosed_vendors,
    "hasAllowedVendors": lambda tc: tc.has_allowed_vendors,
}
# Former spec names of fields the decoder reports under their current name.
ALIASES = {"useNonStandardStacks": "useNonStandardTexts"}


def check_tc(tc: tcf.TCString, expected: dict[str, Any]) -> None:
    """Assert every key of ``expected`` against ``tc``; unknown keys fail."""
    d = tc.to_dict()
    for key, want in expected.items():
        where = f"key {key!r}"
        field = ALIASES.get(key, key)
        if key in INFORMATIONAL:
            continue
        if key == "error":
            assert want is False, f"{where}: a valid vector cannot expect an error"
        elif field in d:
            assert d[field] == want, where
        elif key in ATTRIBUTES:
            assert ATTRIBUTES[key](tc) == want, where
        elif key.endswith("_to_second"):
            base = key.removesuffix("_to_second")
            assert base in ("created", "lastUpdated"), where
            assert re.sub(r"\.\d+Z$", "Z", d[base]) == want, where
        elif key.endswith(("_includes", "_excludes", "_count")):
            base, _, suffix = key.rpartition("_")
            assert base in d and isinstance(d[base], list), f"{where}: no list field {base!r}"
            if suffix == "includes":
                assert set(want) <= set(d[base]), where
            elif suffix == "excludes":
                assert not set(want) & set(d[base]), where
            else:
                assert len(d[base]) == want, where
        elif key == "publisherRestrictionChecks":
            for check in want:
                got = tc.restricted(check["purposeId"], check["restrictionType"], check["vendorId"])
                assert got == check["restricted"], f"{where}: {check}"
        elif key == "publisherRestrictionsForVendor":
            for vendor, by_purpose in want.items():
                got = tc.publisher_restrictions_for_vendor(int(vendor))
                assert {str(p): sorted(t) for p, t in got.items()} == {
                    str(p): sorted(t) for p, t in by_purpose.items()
                }, f"{where}: vendor {vendor}"
        elif key == "publisherRestrictionVendors":
            check_restriction_vendors(tc, want)
        else:
            pytest.fail(f"unknown expected key {key!r}: teach this harness what it means")


def check_restriction_vendors(tc: tcf.TCString, want: Any) -> None:
    """The vendors under a (purpose, restriction type), in any of the shapes sources use:
    ``{"purposeId", "restrictionType", "vendors"|"vendorIds"}`` or a list of those,
    ``{purpose: {type: [vendors]}}``, or a bare list meaning every restricted vendor."""
    entries = {(r.purpose_id, r.restriction_type): r.vendors.to_list() for r in tc.publisher_restrictions}
    if isinstance(want, list) and all(isinstance(v, int) for v in want):
        assert sorted({v for vs in entries.values() for v in vs}) == sorted(want)
        return
    if isinstance(want, dict) and want and all(isinstance(v, dict) for v in want.values()) and "purposeId" not in want:
        want = [
            {"purposeId": int(p), "restrictionType": int(t), "vendors": vendors}
            for p, by_type in want.items()
            for t, vendors in by_type.items()
        ]
    for item in want if isinstance(want, list) else [want]:
        vendor_key = "vendors" if "vendors" in item else "vendorIds"
        assert set(item) == {"purposeId", "restrictionType", vendor_key}, f"unknown shape {item!r}"
        got = entries.get((item["purposeId"], item["restrictionType"]), [])
        assert got == sorted(item[vendor_key]), item
