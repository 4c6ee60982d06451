"""GPP decoder: header, section splitting, usnat/usca layouts, rejections and fuzzing."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from routeql.consent import gpp
from routeql.consent.errors import ConsentDecodeError
from tests.consent.mutations import mutated

VECTORS = json.loads((Path(__file__).parents[1] / "data" / "vectors" / "gpp-vectors.json").read_text("utf-8"))
ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
TCF = "CPSG_8APSG_8ANwAAAENAwCAAAAAAAAAAAAAAAAAAAAA.QAAA.IAAA"
ALL_DEFAULTS = (  # iabgpp-java GppModelTest: sections 2 and 5-22 at their defaults
    "DBACOdM~CPSG_8APSG_8AAAAAAENAACAAAAAAAAAAAAAAAAAAAAA.QAAA.IAAA~BPSG_8APSG_8AAAAAAENAACAAAAAAAAAAAAAAAAAAA."
    "YAAAAAAAAAA~1---~BAAAAAAAAABA.QA~BAAAAABA.QA~BAAAABA~BAAAAEA.QA~BAAAAAQA~BAAAAAEA.QA~BAAAAABA~BAAAAABA.QA"
    "~BAAAAAABAA.QA~BAAAAAQA.QA~BAAAAAABAA.QA~BAAAAAQA.QA~BAAAAAQA.QA~BAAAAABA.QA~BAAAAAAAQA.QA~BAAAAAQA.QA"
)


def b64(bits: str) -> str:
    """Bits -> base64url characters, zero-padded to a multiple of 6."""
    bits += "0" * (-len(bits) % 6)
    return "".join(ALPHABET[int(bits[i : i + 6], 2)] for i in range(0, len(bits), 6))


def fibonacci(n: int) -> str:
    """The Fibonacci code of n >= 1: Zeckendorf bits, smallest weight first, then a 1."""
    weights = [1, 2]
    while weights[-1] <= n:
        weights.append(weights[-1] + weights[-2])
    bits = ["0"] * len(weights)
    for i in reversed(range(len(weights))):
        if weights[i] <= n:
            bits[i], n = "1", n - weights[i]
    return "".join(bits).rstrip("0") + "1"


def header(entries: list[tuple[int, int]]) -> str:
    """A GPP header for ranges of section ids (start == end for a single id)."""
    bits = "000011" + "000001" + format(len(entries), "012b")
    last = 0
    for start, end in entries:
        bits += ("1" if start != end else "0") + fibonacci(start - last)
        if start != end:
            bits += fibonacci(end - start)
        last = end
    return b64(bits)


def rejects(s: object, *, match: str) -> ConsentDecodeError:
    with pytest.raises(ConsentDecodeError, match=match) as info:
        gpp.decode(s)
    assert info.value.format == "gpp"
    return info.value


class TestHeader:
    @pytest.mark.parametrize(
        "header, ids",
        [("DBAA", []), ("DBABM", [2]), ("DBABMA", [2]), ("DBACNY", [2, 6]), ("DBACNYA", [2, 6]), ("DBABjw", [5, 6])],
    )
    def test_section_ids_with_6_or_8_bit_padding(self, header: str, ids: list[int]) -> None:
        sections = {2: TCF, 5: "raw", 6: "1YNN"}
        s = "~".join([header] + [sections[i] for i in ids])
        assert list(gpp.decode(s).section_ids) == ids

    def test_twenty_sections(self) -> None:
        g = gpp.decode(ALL_DEFAULTS)
        assert list(g.section_ids) == [2, *range(5, 23)]
        assert [s.name for s in g.sections if s.decoded] == ["tcfeuv2", "uspv1", "usnat", "usca"]
        assert g.section("usva").raw == "BAAAABA" and not g.section(9).decoded
        assert g.usnat.legacy_layout is False and g.usca.mspa_covered_transaction == 1

    def test_test_helpers_agree_with_the_spec_examples(self) -> None:
        assert [fibonacci(n) for n in (1, 2, 3, 4)] == ["11", "011", "0011", "1011"]
        assert header([(2, 2)]) == "DBABM" and header([(2, 2), (6, 6)]) == "DBACNY" and header([(5, 6)]) == "DBABjw"

    def test_unknown_section_ids_are_kept_raw(self) -> None:
        # ids with no known prefix appear under their number
        g = gpp.decode(header([(28, 29)]) + "~x~y")
        assert list(g.section_ids) == [28, 29]
        assert g.to_dict() == {"header": {"type": 3, "version": 1, "sectionIds": [28, 29]}, "28": "x", "29": "y"}


class TestRejects:
    @pytest.mark.parametrize("value", [None, 1, b"DBAA", ["DBAA"], {"gpp": "DBAA"}])
    def test_non_str(self, value: object) -> None:
        rejects(value, match="must be a str")

    def test_too_long(self) -> None:
        rejects("DB" + "A" * 70000, match="longer than")

    @pytest.mark.parametrize("s", ["", "D", "CPSG_8APSG_8ANwAAAENAwCAAAAAAAAAAAAAAAAAAAAA", "DAAA", "DCAA", "dbaa", " DBAA"])
    def test_not_gpp(self, s: str) -> None:
        rejects(s, match="starts with 'DB'")

    def test_the_d_string_that_is_not_gpp(self) -> None:
        rejects("DP48G0AP48G0AEsACCPLAkEgAAAAAEPgAB5YAAAQaQD2F2K2kKFkPCmQWYAQBCijYEAhQAAAAkCBIAAgAUg", match="starts with 'DB'")

    def test_bad_header_character(self) -> None:
        e = rejects("DBA+~1YNN", match="invalid character")
        assert (e.position, e.unit) == (3, "char")

    @pytest.mark.parametrize("s", ["DB", "DBA", "DBAB"])
    def test_truncated_header(self, s: str) -> None:
        rejects(s, match="truncated")

    def test_fibonacci_without_terminator(self) -> None:
        rejects("DBABAAAA", match="no Fibonacci terminator")

    def test_fibonacci_too_long(self) -> None:
        rejects(header([(10**12, 10**12)]) + "~1YNN", match="longer than 48 bits")

    @pytest.mark.parametrize("s", ["DBAA~1YNN", "DBABTA", "DBABTA~1YNN~1YNN", "DBACNYA~" + TCF])
    def test_section_count_must_match_the_header(self, s: str) -> None:
        rejects(s, match="section")

    def test_a_huge_group_is_refused_before_it_is_expanded(self) -> None:
        rejects(header([(1, 10**9)]) + "~1YNN", match="more sections than")

    def test_empty_section(self) -> None:
        rejects("DBABjw~~1YNN", match="section tcfcav1 is empty")

    def test_bad_tcf_section(self) -> None:
        e = rejects("DBABMA~CPSG_8APSG", match="section tcfeuv2: core segment: truncated")
        assert e.__cause__ is not None and e.__cause__.format == "tcf"

    def test_bad_usp_section(self) -> None:
        rejects("DBABTA~1YXN", match="section uspv1: opt-out-of-sale")

    @pytest.mark.parametrize(
        "section, match",
        [
            ("BVVVkkkk", "truncated"),  # 48 bits: less than the 60 of the legacy layout
            ("BVVVkkkkkpFY.YA.YA", "only one GPC subsection"),
            ("BVVVkkkkkpFY.gA", "unknown subsection type 2"),
            ("BVVVkkkkkpFY.", "GPC subsection is empty"),
            ("BVVVkkkkkpFY.A", "unknown subsection type 0"),
            (".YA", "core is empty"),
            ("BVVVkkk!kpFY", "invalid character"),
        ],
    )
    def test_bad_usnat_section(self, section: str, match: str) -> None:
        rejects("DBABLA~" + section, match="section usnat: .*" + match)

    def test_truncated_usca(self) -> None:
        rejects("DBABBg~BVWSSSV", match="section usca: .*truncated")

    def test_unknown_section_name(self) -> None:
        with pytest.raises(ConsentDecodeError, match="unknown section 'usxx'"):
            gpp.decode_section("usxx", "BAAA")


class TestUsSections:
    def test_layout_is_chosen_by_length(self) -> None:
        legacy = gpp.decode_section("usnat", "BAAAAAABEQA").value  # 66 bits: 12/2 layout
        current = gpp.decode_section("usnat", "BAAAAAAAAQRA").value  # 72 bits: 16/3 layout
        assert legacy.legacy_layout and not current.legacy_layout
        assert legacy.sensitive_data_processing == (0,) * 11 + (1,) + (0,) * 4
        assert legacy.known_child_sensitive_data_consents == (0, 1, 0)
        assert current.sensitive_data_processing == (0,) * 15 + (1,)
        assert current.known_child_sensitive_data_consents == (0, 0, 1)

    def test_version_is_information_only(self) -> None:
        v1 = gpp.decode_section("usnat", "BVVVkkkkkpFY.YA").value
        v2 = gpp.decode_section("usnat", "CVVVkkkkkpFY.YA").value
        assert (v1.version, v2.version) == (1, 2)
        assert v1.to_dict() | {"Version": 2} == v2.to_dict()

    def test_gpc_subsection(self) -> None:
        on = gpp.decode_section("usnat", "BVVVkkkkkpFY.YA").value
        off = gpp.decode_section("usnat", "BVVVkkkkkpFY.QA").value
        none = gpp.decode_section("usnat", "BVVVkkkkkpFY").value
        assert (on.gpc_segment_included, on.gpc) == (True, True)
        assert (off.gpc_segment_included, off.gpc) == (True, False)
        assert (none.gpc_segment_included, none.gpc) == (False, False)

    def test_opt_out_helpers(self) -> None:
        usnat = gpp.decode_section("usnat", "BVVVkkkkkpFY").value
        assert usnat.opted_out_of_sale and usnat.opted_out_of_sharing and usnat.opted_out_of_targeted_advertising
        assert not gpp.decode_section("usnat", "BVQqAAAACg").value.opted_out_of_sale  # 2 = did not opt out
        assert gpp.decode_section("usca", "BVWSSSVY.YA").value.opted_out_of_sale

    def test_usnat_to_dict_has_the_iab_names(self) -> None:
        d = gpp.decode_section("usnat", "BVVVkkkkkpFY.YA").to_dict()
        assert list(d) == [
            "Version", "SharingNotice", "SaleOptOutNotice", "SharingOptOutNotice",
            "TargetedAdvertisingOptOutNotice", "SensitiveDataProcessingOptOutNotice",
            "SensitiveDataLimitUseNotice", "SaleOptOut", "SharingOptOut", "TargetedAdvertisingOptOut",
            "SensitiveDataProcessing", "KnownChildSensitiveDataConsents", "PersonalDataConsents",
            "MspaCoveredTransaction", "MspaOptOutOptionMode", "MspaServiceProviderMode",
            "GpcSegmentType", "GpcSegmentIncluded", "Gpc",
        ]

    def test_usca_to_dict_has_the_iab_names(self) -> None:
        d = gpp.decode_section("usca", "BVWSSSVY.YA").to_dict()
        assert list(d) == [
            "Version", "SaleOptOutNotice", "SharingOptOutNotice", "SensitiveDataLimitUseNotice",
            "SaleOptOut", "SharingOptOut", "SensitiveDataProcessing", "KnownChildSensitiveDataConsents",
            "PersonalDataConsents", "MspaCoveredTransaction", "MspaOptOutOptionMode",
            "MspaServiceProviderMode", "GpcSegmentType", "GpcSegmentIncluded", "Gpc",
        ]

    def test_undefined_value_3_is_kept(self) -> None:
        # SaleOptOut = 3 is undefined; it is reported, not guessed, so policy can treat it as unknown
        bits = "000001" + "00" * 6 + "11" + "00" * 2 + "00" * 19 + "01" + "00" * 2
        assert gpp.decode_section("usnat", b64(bits)).value.sale_opt_out == 3


class TestGPPString:
    G = gpp.decode("DBACNYA~" + TCF + "~1YNN")

    def test_to_dict(self) -> None:
        d = self.G.to_dict()
        assert list(d) == ["header", "tcfeuv2", "uspv1"]
        assert d["header"] == {"type": 3, "version": 1, "sectionIds": [2, 6]}
        assert d["uspv1"] == {"Version": 1, "Notice": "Y", "OptOutSale": "N", "LspaCovered": "N"}
        assert d["tcfeuv2"]["cmpId"] == 880
        assert json.loads(json.dumps(d)) == d

    def test_lookup(self) -> None:
        assert self.G.section("uspv1") is self.G.section(6)
        assert self.G.section("usnat") is None and self.G.usnat is None and self.G.usca is None
        assert self.G.tcfeuv2.cmp_id == 880 and self.G.uspv1.notice == "Y"

    def test_raw_sections_are_not_errors(self) -> None:
        g = gpp.decode("DBABjw~CPXxRfAPXxRfAAfKABENB-CgAAAAAAAAAAYgAAAAAAAA~1YNN")
        assert not g.section("tcfcav1").decoded and g.to_dict()["tcfcav1"].startswith("CPXx")

    def test_value_semantics(self) -> None:
        again = gpp.decode("DBACNYA~" + TCF + "~1YNN")
        assert again == self.G and hash(again) == hash(self.G)
        assert pickle.loads(pickle.dumps(self.G)) == self.G


# -- fuzzing ----------------------------------------------------------------------------------

GPP_STRINGS = [v["string"] for v in VECTORS if v["kind"] == "gpp"] + [ALL_DEFAULTS]


def decode_or_reject(s: object) -> None:
    try:
        result = gpp.decode(s)
    except ConsentDecodeError:
        return
    assert isinstance(result, gpp.GPPString)
    result.to_dict()


FUZZ = settings(max_examples=400)


@FUZZ
@given(st.text())
def test_fuzz_any_text(s: str) -> None:
    decode_or_reject(s)


@FUZZ
@given(st.text(alphabet=ALPHABET + "~.", max_size=200))
def test_fuzz_base64url_text(s: str) -> None:
    decode_or_reject("DB" + s)


@FUZZ
@given(mutated(GPP_STRINGS, ALPHABET + "~.="))
def test_fuzz_mutated_vectors(s: str) -> None:
    decode_or_reject(s)


@FUZZ
@given(st.sampled_from(["usnat", "usca", "uspv1", "tcfeuv2", 7, 8]), st.text(alphabet=ALPHABET + ".", max_size=40))
def test_fuzz_sections(section: str | int, raw: str) -> None:
    try:
        gpp.decode_section(section, raw).to_dict()
    except ConsentDecodeError:
        pass
