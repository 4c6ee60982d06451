"""Consent signal decoders, one module per format; each raises only ConsentDecodeError."""

from . import cookiebot, gcm, gpc, gpp, onetrust, rudderstack, segment, tcf, usprivacy
from .errors import ConsentDecodeError

__all__ = [
    "ConsentDecodeError",
    "cookiebot",
    "gcm",
    "gpc",
    "gpp",
    "onetrust",
    "rudderstack",
    "segment",
    "tcf",
    "usprivacy",
]
