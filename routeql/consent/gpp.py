"""IAB GPP string (``DB...~section~section``) -> :class:`GPPString` with decoded sections.

The header lists the section ids present; sections follow in that order, separated by
``~``.  Decoded: ``tcfeuv2`` (2, via :mod:`.tcf`), ``uspv1`` (6, via :mod:`.usprivacy`),
``usnat`` (7) and ``usca`` (8), each with its optional GPC subsection after a ``.``.
Any other section is kept as its raw text and marked not decoded; that is not an error.

Values are reported as encoded.  For usnat/usca the opt-outs use 0 = not applicable,
1 = opted out, 2 = did not opt out, and the consents 0 = not applicable, 1 = no consent,
2 = consent; an undefined 3 is kept as 3 so policy can treat it as unknown.

>>> g = decode("DBACNYA~CPSG_8APSG_8ANwAAAENAwCAAAAAAAAAAAAAAAAAAAAA.QAAA.IAAA~1YNN")
>>> g.section_ids, g.tcfeuv2.cmp_id, str(g.uspv1)
((2, 6), 880, '1YNN')
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, Union

from . import tcf, usprivacy
from ._bits import BitReader, describe_name, to_bits
from .errors import ConsentDecodeError
from .tcf import MAX_LENGTH, TCString
from .usprivacy import USPrivacy

__all__ = ["GPPString", "SECTION_NAMES", "Section", "UsCa", "UsNat", "decode", "decode_section"]

_FORMAT = "gpp"

#: GPP section ids and their API prefixes (``Sections/Section Information.md``).
SECTION_NAMES = {
    1: "tcfeuv1", 2: "tcfeuv2", 5: "tcfcav1", 6: "uspv1", 7: "usnat", 8: "usca", 9: "usva",
    10: "usco", 11: "usut", 12: "usct", 13: "usfl", 14: "usmt", 15: "usor", 16: "ustx",
    17: "usde", 18: "usia", 19: "usne", 20: "usnh", 21: "usnj", 22: "ustn", 23: "usmn",
    24: "usmd", 25: "usin", 26: "usky", 27: "usri",
}
_SECTION_IDS = {name: sid for sid, name in SECTION_NAMES.items()}


class _UsSection:
    """What usnat and usca share: the GPC subsection and the IAB-named ``to_dict``."""

    __slots__ = ()

    @property
    def opted_out_of_sale(self) -> bool:
        return self.sale_opt_out == 1  # type: ignore[attr-defined]

    @property
    def opted_out_of_sharing(self) -> bool:
        return self.sharing_opt_out == 1  # type: ignore[attr-defined]

    def to_dict(self) -> dict[str, Any]:
        """IAB field names (``SaleOptOut`` ...), lists for the N-bitfields, GPC last."""
        out: dict[str, Any] = {}
        for f in fields(self):  # type: ignore[arg-type]
            if f.name in ("legacy_layout", "gpc_segment_included", "gpc"):
                continue
            value = getattr(self, f.name)
            out[_iab_name(f.name)] = list(value) if isinstance(value, tuple) else value
        # GpcSegmentType is always 1, the only subsection type; the IAB libraries report
        # that default even when the subsection is absent.
        out["GpcSegmentType"] = 1
        out["GpcSegmentIncluded"] = self.gpc_segment_included  # type: ignore[attr-defined]
        out["Gpc"] = self.gpc  # type: ignore[attr-defined]
        return out


@dataclass(frozen=True, slots=True)
class UsNat(_UsSection):
    """US National section (id 7).  Always 16 sensitive categories and 3 child consents:
    a legacy 12/2 string is padded with zeros and flagged ``legacy_layout``."""

    version: int
    sharing_notice: int
    sale_opt_out_notice: int
    sharing_opt_out_notice: int
    targeted_advertising_opt_out_notice: int
    sensitive_data_processing_opt_out_notice: int
    sensitive_data_limit_use_notice: int
    sale_opt_out: int
    sharing_opt_out: int
    targeted_advertising_opt_out: int
    sensitive_data_processing: tuple[int, ...]
    known_child_sensitive_data_consents: tuple[int, ...]
    personal_data_consents: int
    mspa_covered_transaction: int
    mspa_opt_out_option_mode: int
    mspa_service_provider_mode: int
    gpc_segment_included: bool
    gpc: bool
    legacy_layout: bool

    @property
    def opted_out_of_targeted_advertising(self) -> bool:
        return self.targeted_advertising_opt_out == 1


@dataclass(frozen=True, slots=True)
class UsCa(_UsSection):
    """US California section (id 8): 9 sensitive categories, 2 child consents."""

    version: int
    sale_opt_out_notice: int
    sharing_opt_out_notice: int
    sensitive_data_limit_use_notice: int
    sale_opt_out: int
    sharing_opt_out: int
    sensitive_data_processing: tuple[int, ...]
    known_child_sensitive_data_consents: tuple[int, ...]
    personal_data_consents: int
    mspa_covered_transaction: int
    mspa_opt_out_option_mode: int
    mspa_service_provider_mode: int
    gpc_segment_included: bool
    gpc: bool


SectionValue = Union[TCString, USPrivacy, UsNat, UsCa]


@dataclass(frozen=True, slots=True)
class Section:
    """One section: its id, API prefix (``None`` if unknown), raw text and decoded value
    (``None`` for sections RouteQL does not decode)."""

    id: int
    name: str | None
    raw: str
    value: SectionValue | None

    @property
    def decoded(self) -> bool:
        return self.value is not None

    def to_dict(self) -> dict[str, Any] | str:
        """The decoded fields with IAB names, or the raw text if not decoded."""
        if self.value is None:
            return self.raw
        if isinstance(self.value, USPrivacy):  # GPP names its fields differently from USP
            v = self.value
            return {
                "Version": v.version,
                "Notice": v.notice,
                "OptOutSale": v.opt_out_sale,
                "LspaCovered": v.lspa_covered,
            }
        return self.value.to_dict()


@dataclass(frozen=True, slots=True)
class GPPString:
    """A decoded GPP string.  ``sections`` follow the header's id order."""

    version: int
    section_ids: tuple[int, ...]
    sections: tuple[Section, ...]

    def section(self, key: int | str) -> Section | None:
        """The section with this id or API prefix, or None if absent."""
        sid = _SECTION_IDS.get(key) if isinstance(key, str) else key
        return next((s for s in self.sections if s.id == sid), None)

    def _value(self, sid: int) -> Any:
        found = self.section(sid)
        return None if found is None else found.value

    @property
    def tcfeuv2(self) -> TCString | None:
        return self._value(2)  # type: ignore[no-any-return]

    @property
    def uspv1(self) -> USPrivacy | None:
        return self._value(6)  # type: ignore[no-any-return]

    @property
    def usnat(self) -> UsNat | None:
        return self._value(7)  # type: ignore[no-any-return]

    @property
    def usca(self) -> UsCa | None:
        return self._value(8)  # type: ignore[no-any-return]

    def to_dict(self) -> dict[str, Any]:
        """``{"header": {...}, <prefix>: <section>}`` for the sections present; a section
        that is not decoded appears as its raw text, one with no known prefix under its id."""
        header = {"type": 3, "version": self.version, "sectionIds": list(self.section_ids)}
        out: dict[str, Any] = {"header": header}
        for s in self.sections:
            out[s.name or str(s.id)] = s.to_dict()
        return out


def decode(s: object) -> GPPString:
    """Decode a GPP string.

    Raises:
        ConsentDecodeError: not a str, not a GPP string (it must start with ``DB``: header
            type 3, version 1), a malformed header, a section count that differs from the
            header's ids, or a malformed decoded section.

    >>> decode("DBABTA~1YNN~1YNN")
    Traceback (most recent call last):
    ...
    routeql.consent.errors.ConsentDecodeError: gpp: the header lists 1 section(s) but the string has 2
    """
    if not isinstance(s, str):
        raise ConsentDecodeError(f"a GPP string must be a str, not {type(s).__name__}", format=_FORMAT)
    if len(s) > MAX_LENGTH:
        raise ConsentDecodeError(f"longer than {MAX_LENGTH} characters", format=_FORMAT)
    if not s.startswith("DB"):
        raise ConsentDecodeError(
            "not a GPP string: a GPP string starts with 'DB' (header type 3, version 1)",
            format=_FORMAT, position=0, unit="char",
        )
    header, *raws = s.split("~")
    r = BitReader(to_bits(header, format=_FORMAT), format=_FORMAT, where="header")
    r.read_int(6, "Type")  # 3 and 1: the 'DB' prefix guarantees both
    version = r.read_int(6, "Version")
    ids = _section_ids(r, len(raws))
    if len(ids) != len(raws):
        raise ConsentDecodeError(
            f"the header lists {len(ids)} section(s) but the string has {len(raws)}", format=_FORMAT
        )
    sections = tuple(decode_section(sid, raw) for sid, raw in zip(ids, raws))
    return GPPString(version, tuple(ids), sections)


def decode_section(section: int | str, raw: str) -> Section:
    """Decode one section's text, given its id or API prefix (``"usnat"``).

    >>> decode_section("usca", "BVWSSSVY.YA").value.sensitive_data_processing
    (2, 1, 0, 2, 1, 0, 2, 1, 0)
    """
    sid = _SECTION_IDS.get(section) if isinstance(section, str) else section
    if type(sid) is not int:
        raise ConsentDecodeError(f"unknown section {describe_name(section)}", format=_FORMAT)
    name = SECTION_NAMES.get(sid)
    label = f"section {name or sid}"
    if not isinstance(raw, str) or not raw:
        raise ConsentDecodeError(f"{label} is empty or not a str", format=_FORMAT)
    decoder = _DECODERS.get(sid)
    if decoder is None:
        return Section(sid, name, raw, None)
    try:
        value = decoder(raw)
    except ConsentDecodeError as e:
        raise ConsentDecodeError(f"{label}: {e.reason}", format=_FORMAT, position=e.position, unit=e.unit) from e
    return Section(sid, name, raw, value)


def _section_ids(r: BitReader, limit: int) -> list[int]:
    """The header's Range(Fibonacci): count(12), then per entry IsRange(1), the Fibonacci
    offset from the previous id and, for a group, the Fibonacci length (end - start)."""
    ids: list[int] = []
    last = 0
    for _ in range(r.read_int(12, "NumSections")):
        is_range = r.read_bool("IsRange")
        start = last + r.read_fibonacci("section id offset")
        last = start + r.read_fibonacci("section group length") if is_range else start
        # Stop before expanding a huge group: every id must have a section in the string.
        if len(ids) + last - start + 1 > limit:
            raise r.error(f"the header lists more sections than the {limit} in the string")
        ids.extend(range(start, last + 1))
    return ids


# -- US sections --------------------------------------------------------------------------


def _iab_name(field_name: str) -> str:
    """``sale_opt_out`` -> ``SaleOptOut`` (the IAB spelling)."""
    return "".join(part.capitalize() for part in field_name.split("_"))


# (field, bits, count): count 0 is a single int, otherwise an N-bitfield of `count` ints.
_USNAT_HEAD = (
    ("version", 6, 0), ("sharing_notice", 2, 0), ("sale_opt_out_notice", 2, 0),
    ("sharing_opt_out_notice", 2, 0), ("targeted_advertising_opt_out_notice", 2, 0),
    ("sensitive_data_processing_opt_out_notice", 2, 0), ("sensitive_data_limit_use_notice", 2, 0),
    ("sale_opt_out", 2, 0), ("sharing_opt_out", 2, 0), ("targeted_advertising_opt_out", 2, 0),
)
_MSPA_TAIL = (
    ("personal_data_consents", 2, 0), ("mspa_covered_transaction", 2, 0),
    ("mspa_opt_out_option_mode", 2, 0), ("mspa_service_provider_mode", 2, 0),
)
_USNAT = (
    *_USNAT_HEAD, ("sensitive_data_processing", 2, 16), ("known_child_sensitive_data_consents", 2, 3), *_MSPA_TAIL
)
_USNAT_LEGACY = (
    *_USNAT_HEAD, ("sensitive_data_processing", 2, 12), ("known_child_sensitive_data_consents", 2, 2), *_MSPA_TAIL
)
_USCA = (
    ("version", 6, 0), ("sale_opt_out_notice", 2, 0), ("sharing_opt_out_notice", 2, 0),
    ("sensitive_data_limit_use_notice", 2, 0), ("sale_opt_out", 2, 0), ("sharing_opt_out", 2, 0),
    ("sensitive_data_processing", 2, 9), ("known_child_sensitive_data_consents", 2, 2), *_MSPA_TAIL,
)
_IAB_NAMES = {name: _iab_name(name) for name, _, _ in _USNAT + _USCA}
# The current usnat core holds 70 data bits, the legacy (12/2) one 60.  Encoders pad the
# legacy core to 60 or 66 bits and the current one to 72, so, like the IAB libraries, the
# layout is chosen by length: the Version field does not tell them apart.
_USNAT_BITS = 70


def _decode_usnat(raw: str) -> UsNat:
    core, gpc = _split_gpc(raw)
    r = _reader(core)
    legacy = len(r.bits) < _USNAT_BITS
    values = _read_layout(r, _USNAT_LEGACY if legacy else _USNAT)
    if legacy:  # categories 13-16 and child consent 3 were appended in v2; absent = 0
        values["sensitive_data_processing"] += (0,) * 4
        values["known_child_sensitive_data_consents"] += (0,)
    return UsNat(**values, **gpc, legacy_layout=legacy)


def _decode_usca(raw: str) -> UsCa:
    core, gpc = _split_gpc(raw)
    return UsCa(**_read_layout(_reader(core), _USCA), **gpc)


def _split_gpc(raw: str) -> tuple[str, dict[str, bool]]:
    """The core text, and the GPC subsection (SubsectionType(2) = 1, then Gpc(1)) if any."""
    core, *subs = raw.split(".")
    if len(subs) > 1:
        raise ConsentDecodeError(
            f"{len(subs)} subsections; only one GPC subsection may follow the core", format=_FORMAT
        )
    if not subs:
        return core, {"gpc_segment_included": False, "gpc": False}
    r = _reader(subs[0], "GPC subsection")
    kind = r.read_int(2, "SubsectionType")
    if kind != 1:
        raise r.error(f"unknown subsection type {kind} (1 is GPC)", 0)
    return core, {"gpc_segment_included": True, "gpc": r.read_bool("Gpc")}


def _reader(text: str, where: str = "core") -> BitReader:
    if not text:
        raise ConsentDecodeError(f"the {where} is empty", format=_FORMAT)
    return BitReader(to_bits(text, format=_FORMAT), format=_FORMAT, where=where)


def _read_layout(r: BitReader, layout: tuple[tuple[str, int, int], ...]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name, bits, count in layout:
        if count:
            chunk = r.take(bits * count, _IAB_NAMES[name])
            values[name] = tuple(int(chunk[i : i + bits], 2) for i in range(0, bits * count, bits))
        else:
            values[name] = r.read_int(bits, _IAB_NAMES[name])
    return values


_DECODERS = {2: tcf.decode, 6: usprivacy.decode, 7: _decode_usnat, 8: _decode_usca}
