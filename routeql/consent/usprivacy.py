"""IAB US Privacy (CCPA) string such as ``1YNN`` -> :class:`USPrivacy`.

Four characters: specification version (``1``), notice given, opted out of sale, LSPA
covered transaction; each of the last three is ``Y``, ``N`` or ``-`` (not applicable).
Lower-case ``y``/``n`` are accepted and upper-cased: some SDKs send them, and refusing
a lower-case opt-out would lose the user's choice.  Anything else is rejected.

>>> usp = decode("1YYN")
>>> usp.opted_out_of_sale, usp.applies, usp.to_dict()
(True, True, {'version': 1, 'notice': 'Y', 'optOutSale': 'Y', 'lspaCovered': 'N'})
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import ConsentDecodeError

__all__ = ["USPrivacy", "decode"]

_FORMAT = "usprivacy"
_FLAGS = {"Y": "Y", "N": "N", "-": "-", "y": "Y", "n": "N"}
_NAMES = ("notice", "opt-out-of-sale", "LSPA-covered")


@dataclass(frozen=True, slots=True)
class USPrivacy:
    """A decoded US Privacy string; the flags are ``"Y"``, ``"N"`` or ``"-"``."""

    version: int
    notice: str
    opt_out_sale: str
    lspa_covered: str

    @property
    def opted_out_of_sale(self) -> bool:
        """True only when the user opted out (``Y``); ``N`` and ``-`` are not opt-outs."""
        return self.opt_out_sale == "Y"

    @property
    def applies(self) -> bool:
        """False for ``1---``: the publisher determined that CCPA does not apply."""
        return (self.notice, self.opt_out_sale, self.lspa_covered) != ("-", "-", "-")

    @property
    def notice_given(self) -> bool:
        return self.notice == "Y"

    @property
    def lspa(self) -> bool:
        """True when the transaction is covered by the IAB LSPA (``Y``)."""
        return self.lspa_covered == "Y"

    def __str__(self) -> str:
        return f"{self.version}{self.notice}{self.opt_out_sale}{self.lspa_covered}"

    def to_dict(self) -> dict[str, int | str]:
        return {
            "version": self.version,
            "notice": self.notice,
            "optOutSale": self.opt_out_sale,
            "lspaCovered": self.lspa_covered,
        }


def decode(s: object) -> USPrivacy:
    """Decode a US Privacy string.

    Raises:
        ConsentDecodeError: not a str of exactly 4 characters, version not ``1``, or a flag
            other than Y, N, - (lower-case y/n allowed).

    >>> decode("1NX-")
    Traceback (most recent call last):
    ...
    routeql.consent.errors.ConsentDecodeError: usprivacy: opt-out-of-sale flag must be Y, N or -, not 'X' (at char 2)
    """
    if not isinstance(s, str):
        raise ConsentDecodeError(f"a US Privacy string must be a str, not {type(s).__name__}", format=_FORMAT)
    if len(s) != 4:
        raise ConsentDecodeError(f"must be exactly 4 characters, got {len(s)}", format=_FORMAT)
    if s[0] != "1":
        raise ConsentDecodeError(
            f"unsupported specification version {s[0]!r} (only '1' exists)", format=_FORMAT, position=0, unit="char"
        )
    flags = []
    for i, (ch, name) in enumerate(zip(s[1:], _NAMES), start=1):
        flag = _FLAGS.get(ch)
        if flag is None:
            raise ConsentDecodeError(
                f"{name} flag must be Y, N or -, not {ch!r}", format=_FORMAT, position=i, unit="char"
            )
        flags.append(flag)
    return USPrivacy(1, *flags)
