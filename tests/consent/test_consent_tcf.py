"""TCF decoder: one test per rejection reason, the query API, an encode/decode round trip,
and fuzzing (malformed input raises ConsentDecodeError and nothing else)."""

from __future__ import annotations

import json
import pickle
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tcf_encoder import ALPHABET, BitWriter, base_model, encode, expected_dict

from routeql.consent import tcf
from routeql.consent.errors import ConsentDecodeError
from routeql.errors import RouteQLError
from tests.consent.mutations import mutated

VECTORS = json.loads((Path(__file__).parents[1] / "data" / "vectors" / "tcf-vectors.json").read_text("utf-8"))
VALID_STRINGS = [v["tc_string"] for v in VECTORS if v["kind"] == "valid"]
PERL_BITFIELD = "CLcVDxRMWfGmWAVAHCENAXCkAKDAADnAABRgA5mdfCKZuYJez-NQm0TBMYA4oCAAGQYIAAAAAAEAIAEgAA"


def rejects(s: object, *, match: str) -> ConsentDecodeError:
    with pytest.raises(ConsentDecodeError, match=match) as info:
        tcf.decode(s)
    assert info.value.format == "tcf"
    return info.value


# -- rejection reasons ----------------------------------------------------------------------


class TestRejects:
    @pytest.mark.parametrize("value", [None, 42, b"CO", bytearray(b"CO"), ["CO"], {"tc": "CO"}, 1.5, True])
    def test_non_str(self, value: object) -> None:
        rejects(value, match="must be a str")

    def test_too_long(self) -> None:
        rejects("C" + "A" * tcf.MAX_LENGTH, match="longer than")

    def test_empty(self) -> None:
        rejects("", match="segment 1 is empty")

    @pytest.mark.parametrize("bad, at", [("+", 3), ("/", 3), (" ", 3), ("é", 3), ("\x00", 3), ("=", 3)])
    def test_character_outside_base64url(self, bad: str, at: int) -> None:
        e = rejects(PERL_BITFIELD[:3] + bad + PERL_BITFIELD[4:], match="invalid character")
        assert (e.position, e.unit) == (at, "char")

    def test_bad_character_position_counts_earlier_segments(self) -> None:
        e = rejects(PERL_BITFIELD + ".YAAA*AAAAAA", match="invalid character")
        assert e.position == len(PERL_BITFIELD) + 1 + 4

    def test_gpp_string_is_named(self) -> None:
        rejects("DBABMA~CPSG_8APSG_8ANwAAAENAwCAAAAAAAAAAAAAAAAAAAAA", match="GPP string")

    def test_version_1(self) -> None:
        e = rejects("BONciguONcjGKADACHENAOCIAC0ta__AACiQABgAAYA", match="TCF v1")
        assert e.position == 0

    @pytest.mark.parametrize("first", ["A", "D", "_"])  # versions 0, 3 ("D" not followed by "B"), 63
    def test_other_versions(self, first: str) -> None:
        rejects(first + PERL_BITFIELD[1:], match="only version 2")

    def test_truncated_core_metadata(self) -> None:
        e = rejects("CONciguONcjGKADACHENAOCIAC0ta__AACiQAA", match="truncated: MaxVendorId")
        assert e.position == 213

    def test_every_prefix_of_a_core_is_rejected(self) -> None:
        # The core's last field ends in its last character, so dropping any character loses data.
        for n in range(len(PERL_BITFIELD) - 4):
            with pytest.raises(ConsentDecodeError):
                tcf.decode(PERL_BITFIELD[:n])

    def test_bitfield_longer_than_string(self) -> None:
        rejects("CONciguONcjGKADACHENAOCIAC0ta__AACiQAeAA", match="vendor bitfield of 60 bits")

    def test_range_entries_run_past_the_end(self) -> None:
        rejects("CONciguONcjGKADACHENAOCIAC0ta__AACiQABwAQQ", match="truncated: StartOrOnlyVendorId")
        rejects("CONciguONcjGKADACHENAOCIAC0ta__AACiQABwAYQAC", match="truncated: EndVendorId")

    def test_range_start_after_end(self) -> None:
        e = rejects("CONciguONcjGKADACHENAOCIAC0ta__AACiQABwAoABAACA", match="start is after the end")
        assert e.position == 242  # the entry's first bit, as go-gdpr reports it

    @pytest.mark.parametrize("entry", [(0, 0), (0, 3), (4, 4), (2, 4)])
    def test_range_outside_max_vendor_id(self, entry: tuple[int, int]) -> None:
        s = encode(base_model(maxVendorIdConsent=3, consentRange=True, vendorConsents=[], consentEntries=[entry]))
        rejects(s, match="outside the valid vendors 1-3")

    def test_missing_li_section(self) -> None:
        # go-gdpr: "legitimate interest without required content"
        rejects("COvcSpYOvcSpYC9AAAENAPCAAAAAAAAAAAAAAFQBgAAgABAACAAEAAQAAgAA", match="truncated")

    def test_missing_publisher_restriction_count(self) -> None:
        # NumPubRestrictions is required even when 0 (spec); 12 bits cannot be padding.
        rejects(encode(base_model(truncateBits=12, padTo=6)), match="truncated: NumPubRestrictions")

    def test_restriction_for_purpose_0(self) -> None:
        rejects(encode(base_model(restrictions=[(0, 0, [1])])), match="purpose 0")

    def test_restriction_type_3(self) -> None:
        rejects(encode(base_model(restrictions=[(2, 3, [1])])), match="type 3")

    def test_language_letter_out_of_range(self) -> None:
        good = encode(base_model())
        bits = "".join(format(ALPHABET.index(c), "06b") for c in good)
        bad = bits[:108] + "111111" + bits[114:]  # ConsentLanguage first letter = 63
        s = "".join(ALPHABET[int(bad[i : i + 6], 2)] for i in range(0, len(bad), 6))
        e = rejects(s, match="ConsentLanguage has a letter value above 25")
        assert e.position == 108

    @pytest.mark.parametrize("suffix", [".", "..YAAAAAAAAAAA", ".YAAAAAAAAAAA."])
    def test_empty_segment(self, suffix: str) -> None:
        rejects(PERL_BITFIELD + suffix, match="is empty")

    def test_duplicate_segment(self) -> None:
        rejects(PERL_BITFIELD + ".YAAAAAAAAXA.YAAAAAAAAXA", match="duplicate segment type 3")

    def test_duplicate_disclosed_vendors(self) -> None:
        m = base_model(segmentOrder=["disclosedVendors", "disclosedVendors"], disclosedVendors=([1], 1, False))
        rejects(encode(m), match=r"duplicate segment type 1 \(DisclosedVendors\)")

    @pytest.mark.parametrize("first", ["g", "o", "w", "4"])  # segment types 4, 5, 6, 7
    def test_unknown_segment_type(self, first: str) -> None:
        rejects(PERL_BITFIELD + "." + first + "AAAAAAAAAAA", match="unknown segment type")

    def test_second_core_segment(self) -> None:
        rejects(PERL_BITFIELD + ".AAAAAAAA", match="core segment")

    def test_too_much_padding(self) -> None:
        rejects(PERL_BITFIELD + "===", match="more than two '='")

    def test_truncated_publisher_tc(self) -> None:
        w = BitWriter()
        w.bits = ["011" + "0" * 48 + "111111"]  # type 3, no purposes, NumCustomPurposes = 63, then nothing
        rejects(PERL_BITFIELD + "." + w.text(6), match="PublisherTC segment: truncated: CustomPurposesConsent")

    def test_bad_range_in_disclosed_vendors(self) -> None:
        w = BitWriter()
        w.int(1, 3)  # DisclosedVendors
        w.vendor_section([], 2, True, entries=[(5, 5)])  # vendor 5 > MaxVendorId 2
        e = rejects(PERL_BITFIELD + "." + w.text(), match="DisclosedVendors segment: range entry 5-5")
        assert e.position == 32  # 3 + 16 + 1 + 12 bits in: the entry itself

    def test_error_is_a_routeql_error(self) -> None:
        e = rejects("C", match="truncated")
        assert isinstance(e, RouteQLError)
        assert pickle.loads(pickle.dumps(e)).reason == e.reason


# -- what decoding returns --------------------------------------------------------------------


class TestDecoded:
    def test_deciseconds_are_kept(self) -> None:
        tc = tcf.decode(PERL_BITFIELD)
        assert (tc.created, tc.last_updated) == ("2008-12-07T10:04:17.700Z", "2012-01-10T17:10:13.400Z")
        assert tc.created_ds == 12286442577

    def test_whole_seconds_print_without_fraction(self) -> None:
        assert tcf.decode(encode(base_model(created_ds=15_800_000_000))).created == "2020-01-26T00:53:20Z"

    def test_queries(self) -> None:
        tc = tcf.decode(
            encode(
                base_model(
                    restrictions=[(2, 0, [5]), (2, 1, [5, 6]), (7, 2, [1])],
                    segmentOrder=["publisherTC", "disclosedVendors"],
                    publisherTC={"pubPurposesConsent": [1], "pubPurposesLITransparency": [2],
                                 "numCustomPurposes": 2, "customPurposesConsent": [2],
                                 "customPurposesLITransparency": [1]},
                    disclosedVendors=([1, 5, 755, 900], 900, True),
                )
            )
        )
        assert tc.purpose_consent(1) and not tc.purpose_consent(5)
        assert tc.purpose_li(7) and not tc.purpose_li(1)
        assert tc.special_feature(1) and not tc.special_feature(2)
        assert tc.vendor_consent(755) and not tc.vendor_consent(756) and not tc.vendor_consent(0)
        assert tc.vendor_li(5) and not tc.vendor_li(1)
        assert tc.vendor_disclosed(900) and not tc.vendor_disclosed(2)
        assert not tc.vendor_allowed(1) and not tc.has_allowed_vendors
        assert tc.publisher_restriction_types(2, 5) == {0, 1}
        assert tc.publisher_restriction_types(2, 6) == {1}
        assert tc.publisher_restriction_types(3, 5) == frozenset()
        assert tc.restricted(7, 2, 1) and not tc.restricted(7, 0, 1)
        assert tc.publisher_restrictions_for_vendor(5) == {2: [0, 1]}
        assert tc.pub_purpose_consent(1) and tc.pub_purpose_li(2) and not tc.pub_purpose_consent(2)
        assert tc.custom_purpose_consent(2) and tc.custom_purpose_li(1) and not tc.custom_purpose_li(2)

    def test_absent_optional_segments(self) -> None:
        tc = tcf.decode(PERL_BITFIELD)
        assert (tc.disclosed_vendors, tc.allowed_vendors, tc.publisher_tc) == (None, None, None)
        assert not (tc.has_disclosed_vendors or tc.has_allowed_vendors or tc.has_publisher_tc)
        assert not tc.pub_purpose_consent(1) and not tc.custom_purpose_consent(1) and not tc.vendor_disclosed(2)
        d = tc.to_dict()
        assert (d["disclosedVendors"], d["allowedVendors"], d["pubPurposesConsent"]) == ([], [], [])
        assert (d["numCustomPurposes"], d["customPurposesConsent"], d["customPurposesLITransparency"]) == (0, [], [])

    def test_is_service_specific_0_is_decoded_not_rejected(self) -> None:
        assert tcf.decode(encode(base_model(isServiceSpecific=False))).is_service_specific is False

    @pytest.mark.parametrize("policy", [0, 2, 4, 5, 63])
    def test_any_policy_version(self, policy: int) -> None:
        assert tcf.decode(encode(base_model(tcfPolicyVersion=policy))).tcf_policy_version == policy

    def test_cmp_id_0(self) -> None:
        assert tcf.decode(encode(base_model(cmpId=0))).cmp_id == 0

    def test_repeated_restriction_entries_merge(self) -> None:
        tc = tcf.decode(encode(base_model(restrictions=[(1, 1, [7, 20]), (1, 1, [20, 71])])))
        assert [r.to_dict() for r in tc.publisher_restrictions] == [
            {"purposeId": 1, "restrictionType": 1, "vendors": [7, 20, 71]}
        ]

    def test_restriction_vendors_are_not_bounded_by_max_vendor_id(self) -> None:
        tc = tcf.decode(encode(base_model(restrictions=[(2, 0, [65535])])))
        assert tc.restricted(2, 0, 65535)

    def test_a_huge_range_is_cheap(self) -> None:
        tc = tcf.decode(encode(base_model(maxVendorIdConsent=65535, consentRange=True, vendorConsents=list(range(1, 65536)))))
        assert len(tc.vendor_consents) == 65535 and tc.vendor_consent(65535)

    def test_worst_case_strings_stay_cheap(self) -> None:
        """The most range entries a 64 KiB string can hold, each covering every vendor id:
        decoding must stay linear (no per-id work, no quadratic merging)."""
        restrictions = _core_prefix()
        restrictions.vendor_section([], 0, False)
        restrictions.vendor_section([], 0, False)
        restrictions.int(4095, 12)
        for i in range(4095):
            restrictions.int(1 + i % 24, 6)
            restrictions.int(i // 24 % 3, 2)
            restrictions.range_entries([(1, 65535)])
        ranges = _core_prefix()
        for _ in range(2):
            ranges.vendor_section([], 65535, True, entries=[(1, 65535)] * 4095)
        ranges.int(0, 12)
        start = time.perf_counter()
        a, b = tcf.decode(restrictions.text()), tcf.decode(ranges.text())
        assert time.perf_counter() - start < 2.0  # about 25 ms; a generous bound, not a benchmark
        assert len(a.publisher_restrictions) == 72 and a.restricted(24, 2, 65535)
        assert len(b.vendor_consents) == len(b.vendor_legitimate_interests) == 65535

    def test_equals_padding_is_stripped(self) -> None:
        assert tcf.decode(encode(base_model(equalsPadding=2))) == tcf.decode(encode(base_model()))

    def test_results_are_hashable_picklable_and_compare_by_value(self) -> None:
        a, b = tcf.decode(VALID_STRINGS[0]), tcf.decode(VALID_STRINGS[0])
        assert a == b and hash(a) == hash(b)
        assert pickle.loads(pickle.dumps(a)) == a
        assert a.purposes_consent == {2, 10} and a.purposes_consent == frozenset({2, 10})
        with pytest.raises(AttributeError):
            a.cmp_id = 1  # type: ignore[misc]


def _core_prefix() -> BitWriter:
    """A core segment written up to (not including) the vendor consent section."""
    w = BitWriter()
    for value, bits in [(2, 6), (1, 36), (1, 36), (1, 12), (1, 12), (1, 6)]:
        w.int(value, bits)
    w.letters("EN")
    w.int(1, 12)
    w.int(4, 6)
    w.bool(True)
    w.bool(False)
    w.bitfield([], 12)
    w.bitfield([], 24)
    w.bitfield([], 24)
    w.bool(False)
    w.letters("DE")
    return w


# -- round trip -------------------------------------------------------------------------------

LETTERS = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=2, max_size=2)


@st.composite
def vendor_ids(draw: st.DrawFn, top: int = 3000) -> list[int]:
    """Scattered ids plus a few dense runs, so both encodings meet runs and gaps."""
    ids = set(draw(st.lists(st.integers(1, top), max_size=30)))
    for start, length in draw(st.lists(st.tuples(st.integers(1, top), st.integers(0, 80)), max_size=3)):
        ids.update(range(start, min(start + length, top) + 1))
    return sorted(ids)


@st.composite
def vendor_list(draw: st.DrawFn) -> tuple[list[int], int, bool]:
    ids = draw(vendor_ids())
    return ids, (ids[-1] if ids else 0) + draw(st.integers(0, 5)), draw(st.booleans())


@st.composite
def tc_models(draw: st.DrawFn) -> dict[str, Any]:
    consents, max_consent, consent_range = draw(vendor_list())
    lis, max_li, li_range = draw(vendor_list())
    m = base_model(
        created_ds=draw(st.integers(0, 2**36 - 1)),
        last_updated_ds=draw(st.integers(0, 2**36 - 1)),
        cmpId=draw(st.integers(0, 4095)),
        cmpVersion=draw(st.integers(0, 4095)),
        consentScreen=draw(st.integers(0, 63)),
        consentLanguage=draw(LETTERS),
        vendorListVersion=draw(st.integers(0, 4095)),
        tcfPolicyVersion=draw(st.integers(0, 63)),
        isServiceSpecific=draw(st.booleans()),
        useNonStandardTexts=draw(st.booleans()),
        specialFeatureOptIns=sorted(draw(st.sets(st.integers(1, 12)))),
        purposesConsent=sorted(draw(st.sets(st.integers(1, 24)))),
        purposesLITransparency=sorted(draw(st.sets(st.integers(1, 24)))),
        purposeOneTreatment=draw(st.booleans()),
        publisherCC=draw(LETTERS),
        vendorConsents=consents, maxVendorIdConsent=max_consent, consentRange=consent_range,
        vendorLegitimateInterests=lis, maxVendorIdLI=max_li, liRange=li_range,
        restrictions=draw(st.lists(st.tuples(st.integers(1, 24), st.integers(0, 2), vendor_ids()), max_size=4)),
        padTo=draw(st.sampled_from([6, 24])),
        equalsPadding=draw(st.integers(0, 2)),
    )
    optional = draw(st.permutations(["disclosedVendors", "allowedVendors", "publisherTC"]))
    m["segmentOrder"] = [name for name in optional if draw(st.booleans())]
    m["disclosedVendors"] = draw(vendor_list())
    m["allowedVendors"] = draw(vendor_list())
    n = draw(st.integers(0, 63))
    m["publisherTC"] = {
        "pubPurposesConsent": sorted(draw(st.sets(st.integers(1, 24)))),
        "pubPurposesLITransparency": sorted(draw(st.sets(st.integers(1, 24)))),
        "numCustomPurposes": n,
        "customPurposesConsent": sorted(draw(st.sets(st.integers(1, n)))) if n else [],
        "customPurposesLITransparency": sorted(draw(st.sets(st.integers(1, n)))) if n else [],
    }
    return m


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tc_models())
def test_round_trip(m: dict[str, Any]) -> None:
    tc = tcf.decode(encode(m))
    got = tc.to_dict()
    del got["created"], got["lastUpdated"]
    assert got == expected_dict(m)
    assert (tc.created_ds, tc.last_updated_ds) == (m["created_ds"], m["last_updated_ds"])
    assert (tc.max_vendor_id_consent, tc.max_vendor_id_li) == (m["maxVendorIdConsent"], m["maxVendorIdLI"])
    assert tc.has_publisher_tc == ("publisherTC" in m["segmentOrder"])


# -- fuzzing ----------------------------------------------------------------------------------


def decode_or_reject(s: object) -> None:
    """The contract: a TCString or a ConsentDecodeError, nothing else."""
    try:
        result = tcf.decode(s)
    except ConsentDecodeError:
        return
    assert isinstance(result, tcf.TCString)
    result.to_dict()  # a decoded result must also be fully usable


FUZZ = settings(max_examples=400)


@FUZZ
@given(st.text())
def test_fuzz_any_text(s: str) -> None:
    decode_or_reject(s)


@FUZZ
@given(st.text(alphabet=ALPHABET + ".=", max_size=400))
def test_fuzz_base64url_text(s: str) -> None:
    decode_or_reject("C" + s)


@FUZZ
@given(mutated(VALID_STRINGS, ALPHABET + ".=~+"))
def test_fuzz_mutated_vectors(s: str) -> None:
    decode_or_reject(s)


@settings(max_examples=200, deadline=None)
@given(tc_models(), st.data())
def test_fuzz_flipped_bits_of_valid_strings(m: dict[str, Any], data: st.DataObject) -> None:
    s = list(encode(m))
    for _ in range(data.draw(st.integers(1, 3))):
        i = data.draw(st.integers(0, len(s) - 1))
        if s[i] not in ".=":
            s[i] = ALPHABET[ALPHABET.index(s[i]) ^ (1 << data.draw(st.integers(0, 5)))]
    decode_or_reject("".join(s))
