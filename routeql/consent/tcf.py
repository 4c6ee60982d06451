"""IAB TCF v2 TC string -> :class:`TCString` (core, DisclosedVendors, AllowedVendors, PublisherTC).

Strict: every read is bounds-checked, range entries are validated, a duplicate or unknown
segment is an error, and anything malformed raises :class:`ConsentDecodeError`.  The
decoder reports what the string says; policy (IsServiceSpecific must be 1, the policy
version, which legal basis applies to a vendor) belongs to the rules.

>>> tc = decode("COtybn4PA_zT4KjACBENAPCIAEBAAECAAIAAAAAAAAAA")
>>> tc.cmp_id, tc.created, tc.purposes_consent.to_list(), tc.purpose_consent(2)
(675, '2020-01-26T17:01:00Z', [2, 10], True)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from ._bits import EMPTY, BitReader, IdSet, to_bits
from .errors import ConsentDecodeError

__all__ = ["MAX_LENGTH", "PublisherRestriction", "PublisherTC", "TCString", "decode"]

#: Longest TC string accepted, in characters.  Real strings are a few kilobytes at most.
MAX_LENGTH = 64 * 1024

_FORMAT = "tcf"
_SEGMENT_NAMES = {0: "core", 1: "DisclosedVendors", 2: "AllowedVendors", 3: "PublisherTC"}
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_MAX_VENDOR_ID = 65535  # a 16-bit vendor id bounds range entries without a MaxVendorId


@dataclass(frozen=True, slots=True)
class PublisherRestriction:
    """The vendors a publisher restricted for one purpose: 0 not allowed, 1 require
    consent, 2 require legitimate interest.  Entries repeated in the string are merged."""

    purpose_id: int
    restriction_type: int
    vendors: IdSet

    def to_dict(self) -> dict[str, Any]:
        return {
            "purposeId": self.purpose_id,
            "restrictionType": self.restriction_type,
            "vendors": self.vendors.to_list(),
        }


@dataclass(frozen=True, slots=True)
class PublisherTC:
    """The PublisherTC segment (type 3): the publisher's own purposes and custom purposes."""

    pub_purposes_consent: IdSet
    pub_purposes_li_transparency: IdSet
    num_custom_purposes: int
    custom_purposes_consent: IdSet
    custom_purposes_li_transparency: IdSet


_NO_PUBLISHER_TC = PublisherTC(EMPTY, EMPTY, 0, EMPTY, EMPTY)


@dataclass(frozen=True, slots=True)
class TCString:
    """A decoded TC string.  Id sets are :class:`IdSet` (bit i-1 of a field is id i).

    ``created_ds``/``last_updated_ds`` are deciseconds since the epoch, as encoded;
    ``created``/``last_updated`` give them as ISO-8601 UTC text.  Optional segments are
    ``None`` when absent; ``to_dict()`` shows them as empty lists and 0.
    """

    version: int
    created_ds: int
    last_updated_ds: int
    cmp_id: int
    cmp_version: int
    consent_screen: int
    consent_language: str
    vendor_list_version: int
    tcf_policy_version: int
    is_service_specific: bool
    use_non_standard_texts: bool
    special_feature_opt_ins: IdSet
    purposes_consent: IdSet
    purposes_li_transparency: IdSet
    purpose_one_treatment: bool
    publisher_cc: str
    max_vendor_id_consent: int
    vendor_consents: IdSet
    max_vendor_id_li: int
    vendor_legitimate_interests: IdSet
    publisher_restrictions: tuple[PublisherRestriction, ...]
    disclosed_vendors: IdSet | None = None
    allowed_vendors: IdSet | None = None
    publisher_tc: PublisherTC | None = None

    # -- timestamps -------------------------------------------------------------------

    @property
    def created(self) -> str:
        return _iso(self.created_ds)

    @property
    def last_updated(self) -> str:
        return _iso(self.last_updated_ds)

    # -- segment presence ---------------------------------------------------------------

    @property
    def has_disclosed_vendors(self) -> bool:
        return self.disclosed_vendors is not None

    @property
    def has_allowed_vendors(self) -> bool:
        return self.allowed_vendors is not None

    @property
    def has_publisher_tc(self) -> bool:
        return self.publisher_tc is not None

    # -- queries the router uses ---------------------------------------------------------

    def purpose_consent(self, purpose: int) -> bool:
        return purpose in self.purposes_consent

    def purpose_li(self, purpose: int) -> bool:
        """The raw LI transparency bit (policy >= 4 forbids LI for purposes 1 and 3-6)."""
        return purpose in self.purposes_li_transparency

    def special_feature(self, feature: int) -> bool:
        return feature in self.special_feature_opt_ins

    def vendor_consent(self, vendor: int) -> bool:
        return vendor in self.vendor_consents

    def vendor_li(self, vendor: int) -> bool:
        return vendor in self.vendor_legitimate_interests

    def vendor_disclosed(self, vendor: int) -> bool:
        """False when the DisclosedVendors segment is absent."""
        return self.disclosed_vendors is not None and vendor in self.disclosed_vendors

    def vendor_allowed(self, vendor: int) -> bool:
        """False when the (deprecated) AllowedVendors segment is absent."""
        return self.allowed_vendors is not None and vendor in self.allowed_vendors

    def publisher_restriction_types(self, purpose: int, vendor: int) -> frozenset[int]:
        """The restriction types the publisher set for ``vendor`` on ``purpose``.

        Several types can apply at once; the policy should let type 0 (not allowed) win.
        """
        return frozenset(
            r.restriction_type
            for r in self.publisher_restrictions
            if r.purpose_id == purpose and vendor in r.vendors
        )

    def restricted(self, purpose: int, restriction_type: int, vendor: int) -> bool:
        return restriction_type in self.publisher_restriction_types(purpose, vendor)

    def publisher_restrictions_for_vendor(self, vendor: int) -> dict[int, list[int]]:
        """``{purpose: [restriction types]}`` for one vendor (empty if unrestricted)."""
        out: dict[int, list[int]] = {}
        for r in self.publisher_restrictions:  # sorted by (purpose, type)
            if vendor in r.vendors:
                out.setdefault(r.purpose_id, []).append(r.restriction_type)
        return out

    def pub_purpose_consent(self, purpose: int) -> bool:
        return self.publisher_tc is not None and purpose in self.publisher_tc.pub_purposes_consent

    def pub_purpose_li(self, purpose: int) -> bool:
        return (
            self.publisher_tc is not None
            and purpose in self.publisher_tc.pub_purposes_li_transparency
        )

    def custom_purpose_consent(self, purpose: int) -> bool:
        return (
            self.publisher_tc is not None and purpose in self.publisher_tc.custom_purposes_consent
        )

    def custom_purpose_li(self, purpose: int) -> bool:
        return (
            self.publisher_tc is not None
            and purpose in self.publisher_tc.custom_purposes_li_transparency
        )

    def to_dict(self) -> dict[str, Any]:
        """The IAB field names, id sets as sorted lists, absent segments as empty/0."""
        pub = self.publisher_tc or _NO_PUBLISHER_TC
        return {
            "version": self.version,
            "created": self.created,
            "lastUpdated": self.last_updated,
            "cmpId": self.cmp_id,
            "cmpVersion": self.cmp_version,
            "consentScreen": self.consent_screen,
            "consentLanguage": self.consent_language,
            "vendorListVersion": self.vendor_list_version,
            "tcfPolicyVersion": self.tcf_policy_version,
            "isServiceSpecific": self.is_service_specific,
            "useNonStandardTexts": self.use_non_standard_texts,
            "specialFeatureOptIns": self.special_feature_opt_ins.to_list(),
            "purposesConsent": self.purposes_consent.to_list(),
            "purposesLITransparency": self.purposes_li_transparency.to_list(),
            "purposeOneTreatment": self.purpose_one_treatment,
            "publisherCC": self.publisher_cc,
            "vendorConsents": self.vendor_consents.to_list(),
            "vendorLegitimateInterests": self.vendor_legitimate_interests.to_list(),
            "publisherRestrictions": [r.to_dict() for r in self.publisher_restrictions],
            "disclosedVendors": (self.disclosed_vendors or EMPTY).to_list(),
            "allowedVendors": (self.allowed_vendors or EMPTY).to_list(),
            "pubPurposesConsent": pub.pub_purposes_consent.to_list(),
            "pubPurposesLITransparency": pub.pub_purposes_li_transparency.to_list(),
            "numCustomPurposes": pub.num_custom_purposes,
            "customPurposesConsent": pub.custom_purposes_consent.to_list(),
            "customPurposesLITransparency": pub.custom_purposes_li_transparency.to_list(),
        }


def decode(s: object) -> TCString:
    """Decode a TCF v2 TC string.

    Raises:
        ConsentDecodeError: ``s`` is not a str, or is not a well-formed version-2 TC string.

    >>> decode("DBABMA~CPSG_8APSG_8ANwAAAENAwCAAAAAAAAAAAAAAAAAAAAA")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    routeql.consent.errors.ConsentDecodeError: tcf: this is a GPP string (it starts with 'DB'), not a TC string; ...
    """
    if not isinstance(s, str):
        raise ConsentDecodeError(f"a TC string must be a str, not {type(s).__name__}", format=_FORMAT)
    if len(s) > MAX_LENGTH:
        raise ConsentDecodeError(f"longer than {MAX_LENGTH} characters", format=_FORMAT)
    if s.startswith("DB"):
        raise ConsentDecodeError(
            "this is a GPP string (it starts with 'DB'), not a TC string; "
            "decode it with routeql.consent.gpp",
            format=_FORMAT,
        )
    core, *optional = _segment_readers(s)
    fields = _core(core)
    seen = {0}
    for r in optional:
        kind = r.read_int(3, "SegmentType")
        if kind == 0:
            raise r.error("a core segment (type 0) may only come first", 0)
        if kind not in _SEGMENT_NAMES:
            raise r.error(f"unknown segment type {kind}", 0)
        if kind in seen:
            raise r.error(f"duplicate segment type {kind} ({_SEGMENT_NAMES[kind]})", 0)
        seen.add(kind)
        r.where = f"{_SEGMENT_NAMES[kind]} segment"
        if kind == 3:
            fields["publisher_tc"] = _publisher_tc(r)
        else:
            _, vendors = _vendor_section(r, "MaxVendorId")
            fields["disclosed_vendors" if kind == 1 else "allowed_vendors"] = vendors
    return TCString(**fields)


def _segment_readers(s: str) -> list[BitReader]:
    """One reader per '.'-separated segment, trailing '=' padding removed."""
    out = []
    offset = 0
    for i, seg in enumerate(s.split(".")):
        text = seg.rstrip("=")
        if len(seg) - len(text) > 2:
            raise ConsentDecodeError(
                "more than two '=' padding characters", format=_FORMAT,
                position=offset + len(text), unit="char",
            )
        if not text:
            raise ConsentDecodeError(
                f"segment {i + 1} is empty", format=_FORMAT, position=offset, unit="char"
            )
        where = "core segment" if i == 0 else f"segment {i + 1}"
        out.append(BitReader(to_bits(text, format=_FORMAT, offset=offset), format=_FORMAT, where=where))
        offset += len(seg) + 1
    return out


def _core(r: BitReader) -> dict[str, Any]:
    version = r.read_int(6, "Version")
    if version != 2:
        why = "TCF v1 strings are not supported" if version == 1 else "only version 2 is supported"
        raise r.error(f"TC string version {version}: {why}", 0)
    fields: dict[str, Any] = {
        "version": version,
        "created_ds": r.read_int(36, "Created"),
        "last_updated_ds": r.read_int(36, "LastUpdated"),
        "cmp_id": r.read_int(12, "CmpId"),
        "cmp_version": r.read_int(12, "CmpVersion"),
        "consent_screen": r.read_int(6, "ConsentScreen"),
        "consent_language": _letters(r, "ConsentLanguage"),
        "vendor_list_version": r.read_int(12, "VendorListVersion"),
        "tcf_policy_version": r.read_int(6, "TcfPolicyVersion"),
        "is_service_specific": r.read_bool("IsServiceSpecific"),
        "use_non_standard_texts": r.read_bool("UseNonStandardTexts"),
        "special_feature_opt_ins": r.read_ids(12, "SpecialFeatureOptIns"),
        "purposes_consent": r.read_ids(24, "PurposesConsent"),
        "purposes_li_transparency": r.read_ids(24, "PurposesLITransparency"),
        "purpose_one_treatment": r.read_bool("PurposeOneTreatment"),
        "publisher_cc": _letters(r, "PublisherCC"),
    }
    fields["max_vendor_id_consent"], fields["vendor_consents"] = _vendor_section(r, "MaxVendorId (consent)")
    fields["max_vendor_id_li"], fields["vendor_legitimate_interests"] = _vendor_section(r, "MaxVendorId (LI)")
    fields["publisher_restrictions"] = _restrictions(r)
    return fields


def _letters(r: BitReader, what: str) -> str:
    """Two letters, 6 bits each, a=0 ... z=25, returned upper case."""
    start = r.pos
    a, b = r.read_int(6, what), r.read_int(6, what)
    if a > 25 or b > 25:
        raise r.error(f"{what} has a letter value above 25 ({a}, {b})", start)
    return chr(65 + a) + chr(65 + b)


def _vendor_section(r: BitReader, what: str) -> tuple[int, IdSet]:
    """MaxVendorId(16), IsRangeEncoding(1), then a bitfield or range entries."""
    max_id = r.read_int(16, what)
    if r.read_bool("IsRangeEncoding"):
        return max_id, IdSet.from_ranges(_range_entries(r, max_id))
    return max_id, r.read_ids(max_id, f"vendor bitfield of {max_id} bits")


def _range_entries(r: BitReader, max_id: int) -> list[tuple[int, int]]:
    """NumEntries(12), then IsARange(1) StartOrOnlyVendorId(16) [EndVendorId(16)] each,
    validated as 1 <= start <= end <= max_id."""
    entries = []
    for _ in range(r.read_int(12, "NumEntries")):
        at = r.pos
        is_range = r.read_bool("IsARange")
        start = r.read_int(16, "StartOrOnlyVendorId")
        end = r.read_int(16, "EndVendorId") if is_range else start
        if start > end:
            raise r.error(f"range entry {start}-{end}: the start is after the end", at)
        if start < 1 or end > max_id:
            raise r.error(f"range entry {start}-{end} is outside the valid vendors 1-{max_id}", at)
        entries.append((start, end))
    return entries


def _restrictions(r: BitReader) -> tuple[PublisherRestriction, ...]:
    """NumPubRestrictions(12), then PurposeId(6) RestrictionType(2) and range entries each."""
    merged: dict[tuple[int, int], list[tuple[int, int]]] = {}
    for _ in range(r.read_int(12, "NumPubRestrictions")):
        at = r.pos
        purpose = r.read_int(6, "PurposeId")
        kind = r.read_int(2, "RestrictionType")
        if purpose == 0:
            raise r.error("publisher restriction for purpose 0 (purpose ids start at 1)", at)
        if kind == 3:
            raise r.error(f"publisher restriction type 3 (undefined) for purpose {purpose}", at)
        # Restrictions may name vendors beyond MaxVendorId (deleted or future vendors), so
        # only the 16-bit id space bounds them.  Repeated (purpose, type) entries merge.
        merged.setdefault((purpose, kind), []).extend(_range_entries(r, _MAX_VENDOR_ID))
    return tuple(
        PublisherRestriction(purpose, kind, IdSet.from_ranges(ranges))
        for (purpose, kind), ranges in sorted(merged.items())
    )


def _publisher_tc(r: BitReader) -> PublisherTC:
    consent = r.read_ids(24, "PubPurposesConsent")
    li = r.read_ids(24, "PubPurposesLITransparency")
    n = r.read_int(6, "NumCustomPurposes")
    return PublisherTC(
        consent, li, n, r.read_ids(n, "CustomPurposesConsent"), r.read_ids(n, "CustomPurposesLITransparency")
    )


def _iso(ds: int) -> str:
    """Deciseconds since the epoch as ISO-8601 UTC, e.g. ``2008-12-07T10:04:17.700Z``.

    Whole seconds print without a fraction, as the IAB libraries' Instant text does.
    """
    text = (_EPOCH + timedelta(seconds=ds // 10)).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{text}.{ds % 10}00Z" if ds % 10 else f"{text}Z"
