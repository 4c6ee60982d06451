"""Test-only TCF v2 encoder: a model dict -> TC string, written independently of the decoder.

The model uses the decoder's ``to_dict()`` names for what the string carries, plus the
choices an encoder makes (vendor encoding, MaxVendorId, segment order, padding), so a
round trip can compare ``decode(encode(model)).to_dict()`` with :func:`expected_dict`.
"""

from __future__ import annotations

from typing import Any

ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
SEGMENT_TYPES = {"disclosedVendors": 1, "allowedVendors": 2, "publisherTC": 3}


class BitWriter:
    def __init__(self) -> None:
        self.bits: list[str] = []

    def int(self, value: int, n: int) -> None:
        assert 0 <= value < (1 << n), (value, n)
        if n:
            self.bits.append(format(value, f"0{n}b"))

    def bool(self, value: bool) -> None:
        self.bits.append("1" if value else "0")

    def bitfield(self, ids: list[int], n: int) -> None:
        chosen = set(ids)
        self.bits.append("".join("1" if i in chosen else "0" for i in range(1, n + 1)))

    def letters(self, text: str) -> None:
        for ch in text:
            self.int(ord(ch) - ord("A"), 6)

    def range_entries(self, entries: list[tuple[int, int]]) -> None:
        self.int(len(entries), 12)
        for start, end in entries:
            self.bool(start != end)
            self.int(start, 16)
            if start != end:
                self.int(end, 16)

    def vendor_section(
        self, ids: list[int], max_id: int, use_range: bool, entries: list[tuple[int, int]] | None = None
    ) -> None:
        """``entries`` overrides the range entries derived from ``ids`` (to write bad ones)."""
        self.int(max_id, 16)
        self.bool(use_range)
        if use_range:
            self.range_entries(runs(ids) if entries is None else entries)
        else:
            self.bitfield(ids, max_id)

    def text(self, pad_to: int = 24) -> str:
        bits = "".join(self.bits)
        bits += "0" * (-len(bits) % pad_to)
        bits += "0" * (-len(bits) % 6)
        return "".join(ALPHABET[int(bits[i : i + 6], 2)] for i in range(0, len(bits), 6))


def runs(ids: list[int]) -> list[tuple[int, int]]:
    """Sorted ids -> inclusive (start, end) runs of consecutive ids."""
    out: list[tuple[int, int]] = []
    for i in sorted(set(ids)):
        if out and out[-1][1] == i - 1:
            out[-1] = (out[-1][0], i)
        else:
            out.append((i, i))
    return out


def encode(m: dict[str, Any]) -> str:
    """Encode a model.  Keys: the to_dict() core names, ``created_ds``/``last_updated_ds``,
    ``maxVendorIdConsent``/``maxVendorIdLI``, ``consentRange``/``liRange`` (bools),
    ``consentEntries`` (raw (start, end) range entries, to write invalid ones),
    ``restrictions`` (list of (purpose, type, [vendors]) in encoding order, repeats allowed),
    optional ``disclosedVendors``/``allowedVendors`` as (ids, max_id, use_range),
    optional ``publisherTC`` dict, ``segmentOrder`` (names; repeats allowed), ``padTo``,
    ``equalsPadding`` and ``truncateBits`` (bits cut from the end of the core).
    """
    w = BitWriter()
    w.int(m.get("version", 2), 6)
    w.int(m["created_ds"], 36)
    w.int(m["last_updated_ds"], 36)
    w.int(m["cmpId"], 12)
    w.int(m["cmpVersion"], 12)
    w.int(m["consentScreen"], 6)
    w.letters(m["consentLanguage"])
    w.int(m["vendorListVersion"], 12)
    w.int(m["tcfPolicyVersion"], 6)
    w.bool(m["isServiceSpecific"])
    w.bool(m["useNonStandardTexts"])
    w.bitfield(m["specialFeatureOptIns"], 12)
    w.bitfield(m["purposesConsent"], 24)
    w.bitfield(m["purposesLITransparency"], 24)
    w.bool(m["purposeOneTreatment"])
    w.letters(m["publisherCC"])
    w.vendor_section(m["vendorConsents"], m["maxVendorIdConsent"], m["consentRange"], m.get("consentEntries"))
    w.vendor_section(m["vendorLegitimateInterests"], m["maxVendorIdLI"], m["liRange"])
    w.int(len(m["restrictions"]), 12)
    for purpose, kind, vendors in m["restrictions"]:
        w.int(purpose, 6)
        w.int(kind, 2)
        w.range_entries(runs(vendors))
    if m.get("truncateBits"):  # drop trailing bits of the core, to write truncated strings
        bits = "".join(w.bits)
        w.bits = [bits[: len(bits) - m["truncateBits"]]]
    pad_to = m.get("padTo", 24)
    segments = [w.text(pad_to)]
    for name in m.get("segmentOrder", ()):
        s = BitWriter()
        s.int(SEGMENT_TYPES[name], 3)
        if name == "publisherTC":
            pub = m["publisherTC"]
            s.bitfield(pub["pubPurposesConsent"], 24)
            s.bitfield(pub["pubPurposesLITransparency"], 24)
            s.int(pub["numCustomPurposes"], 6)
            s.bitfield(pub["customPurposesConsent"], pub["numCustomPurposes"])
            s.bitfield(pub["customPurposesLITransparency"], pub["numCustomPurposes"])
        else:
            ids, max_id, use_range = m[name]
            s.vendor_section(ids, max_id, use_range)
        segments.append(s.text(pad_to))
    equals = "=" * m.get("equalsPadding", 0)
    return ".".join(seg + equals for seg in segments)


def expected_dict(m: dict[str, Any]) -> dict[str, Any]:
    """What ``decode(encode(m)).to_dict()`` must equal, minus created/lastUpdated."""
    merged: dict[tuple[int, int], set[int]] = {}
    for purpose, kind, vendors in m["restrictions"]:
        merged.setdefault((purpose, kind), set()).update(vendors)
    pub = m.get("publisherTC") if "publisherTC" in m.get("segmentOrder", ()) else None
    present = set(m.get("segmentOrder", ()))
    return {
        "version": 2,
        "cmpId": m["cmpId"],
        "cmpVersion": m["cmpVersion"],
        "consentScreen": m["consentScreen"],
        "consentLanguage": m["consentLanguage"],
        "vendorListVersion": m["vendorListVersion"],
        "tcfPolicyVersion": m["tcfPolicyVersion"],
        "isServiceSpecific": m["isServiceSpecific"],
        "useNonStandardTexts": m["useNonStandardTexts"],
        "specialFeatureOptIns": sorted(m["specialFeatureOptIns"]),
        "purposesConsent": sorted(m["purposesConsent"]),
        "purposesLITransparency": sorted(m["purposesLITransparency"]),
        "purposeOneTreatment": m["purposeOneTreatment"],
        "publisherCC": m["publisherCC"],
        "vendorConsents": sorted(m["vendorConsents"]),
        "vendorLegitimateInterests": sorted(m["vendorLegitimateInterests"]),
        "publisherRestrictions": [
            {"purposeId": p, "restrictionType": t, "vendors": sorted(v)} for (p, t), v in sorted(merged.items())
        ],
        "disclosedVendors": sorted(m["disclosedVendors"][0]) if "disclosedVendors" in present else [],
        "allowedVendors": sorted(m["allowedVendors"][0]) if "allowedVendors" in present else [],
        "pubPurposesConsent": sorted(pub["pubPurposesConsent"]) if pub else [],
        "pubPurposesLITransparency": sorted(pub["pubPurposesLITransparency"]) if pub else [],
        "numCustomPurposes": pub["numCustomPurposes"] if pub else 0,
        "customPurposesConsent": sorted(pub["customPurposesConsent"]) if pub else [],
        "customPurposesLITransparency": sorted(pub["customPurposesLITransparency"]) if pub else [],
    }


def base_model(**overrides: Any) -> dict[str, Any]:
    """A small valid model for unit tests; override any key."""
    m: dict[str, Any] = {
        "created_ds": 15_800_000_007,
        "last_updated_ds": 15_800_000_007,
        "cmpId": 10,
        "cmpVersion": 3,
        "consentScreen": 1,
        "consentLanguage": "EN",
        "vendorListVersion": 150,
        "tcfPolicyVersion": 4,
        "isServiceSpecific": True,
        "useNonStandardTexts": False,
        "specialFeatureOptIns": [1],
        "purposesConsent": [1, 2, 3, 4],
        "purposesLITransparency": [2, 7],
        "purposeOneTreatment": False,
        "publisherCC": "DE",
        "vendorConsents": [1, 5, 755],
        "maxVendorIdConsent": 755,
        "consentRange": False,
        "vendorLegitimateInterests": [5],
        "maxVendorIdLI": 5,
        "liRange": False,
        "restrictions": [],
    }
    m.update(overrides)
    return m
