"""Seed in, the benchmark's workload out: Segment-spec events and nested rule sets (as IR and RouteQL).

Everything comes from ``random.Random(seed)``; no clock, no network.  The mix is the one
the team measured with (``reference/peer-bench.md``):

- types and events: page 25%, Product Viewed 24%, identify 10%, Product Added 8%, Order
  Completed 7%, Checkout Started 5%, Products Searched 5%, Video Playback Started 4%, Cart
  Viewed 4%, screen 3%, Signed Up 3%, Coupon Applied 2% (exact counts, shuffled);
- consent (``context.consent.categoryPreferences``): 35% all true, 20% analytics and
  functional only, 10% analytics only, 10% all false, 10% no consent object, 8% partial
  (the advertising key missing), 7% everything but analytics;
- ``userId``: a string 70%, null 20%, absent 10%.

Events pass through one JSON round trip, so they look exactly like parsed input (no
string shared with the generator or with rule literals).

Rule sets are nested (``rules(10)`` is a prefix of ``rules(50)`` ...).  The first ten
destinations use ten different templates written after the reference's; the others are
drawn at random and are mostly *specific*, as real rule sets are: 80% name a track event
(or two or three) from the Segment spec's event vocabulary, of which the traffic above uses
only nine; 15% take one or two non-track types; 5% are broad (all tracks, or track, page
and screen).  So at D=1,000 each event is a candidate for few destinations.

>>> evs = events(200)
>>> len(evs), sum(e["type"] == "page" for e in evs)
(200, 50)
>>> rules(10).dests == rules(50).dests[:10]
True
"""

from __future__ import annotations

import json
import random
from functools import lru_cache
from typing import Any

from .ir import (
    CATEGORIES, AnyOf, Atom, Consent, Dest, Exists, IsEvent, IsType, Num, Path, Prefix, RuleIR, Suffix, fmt_path,
)

__all__ = ["SEED", "N_EVENTS", "SIZES", "TYPE_MIX", "CONSENT_MIX", "USERID_MIX", "VOCABULARY", "events",
           "consent_label", "rules", "routeql_source", "stats"]

SEED = 20261128
N_EVENTS = 10_000
SIZES = (10, 50, 200, 1000)
MAX_D = 1000

#: (type, event name or None) -> share of the events, in percent
TYPE_MIX: dict[tuple[str, str | None], int] = {
    ("page", None): 25, ("track", "Product Viewed"): 24, ("identify", None): 10, ("track", "Product Added"): 8,
    ("track", "Order Completed"): 7, ("track", "Checkout Started"): 5, ("track", "Products Searched"): 5,
    ("track", "Video Playback Started"): 4, ("track", "Cart Viewed"): 4, ("screen", None): 3,
    ("track", "Signed Up"): 3, ("track", "Coupon Applied"): 2,
}
_ALL = {"Analytics": True, "Advertising": True, "Personalization": True, "Functional": True}
#: consent state name -> (share in percent, categoryPreferences or None for no consent object)
CONSENT_MIX: dict[str, tuple[int, dict[str, bool] | None]] = {
    "all": (35, _ALL),
    "analytics+functional": (20, {"Analytics": True, "Advertising": False, "Personalization": False, "Functional": True}),
    "analytics only": (10, {"Analytics": True, "Advertising": False, "Personalization": False, "Functional": False}),
    "none granted": (10, {k: False for k in _ALL}),
    "no consent object": (10, None),
    "partial (advertising missing)": (8, {"Analytics": True, "Personalization": True, "Functional": True}),
    "all but analytics": (7, {"Analytics": False, "Advertising": True, "Personalization": True, "Functional": True}),
}
#: userId kind -> share in percent
USERID_MIX = {"string": 70, "null": 20, "absent": 10}

# Event names of the Segment spec (e-commerce, video, B2B SaaS, mobile, e-mail): what a
# large rule set names.  The traffic uses nine of them.
VOCABULARY: tuple[str, ...] = (
    "Products Searched", "Product List Viewed", "Product List Filtered", "Promotion Viewed", "Promotion Clicked",
    "Product Clicked", "Product Viewed", "Product Added", "Product Removed", "Cart Viewed", "Checkout Started",
    "Checkout Step Viewed", "Checkout Step Completed", "Payment Info Entered", "Order Updated", "Order Completed",
    "Order Refunded", "Order Cancelled", "Coupon Entered", "Coupon Applied", "Coupon Denied", "Coupon Removed",
    "Product Added to Wishlist", "Product Removed from Wishlist", "Wishlist Product Added to Cart", "Product Shared",
    "Cart Shared", "Product Reviewed", "Video Playback Started", "Video Playback Paused",
    "Video Playback Interrupted", "Video Playback Buffer Started", "Video Playback Buffer Completed",
    "Video Playback Seek Started", "Video Playback Seek Completed", "Video Playback Resumed",
    "Video Playback Completed", "Video Playback Exited", "Video Content Started", "Video Content Playing",
    "Video Content Completed", "Video Ad Started", "Video Ad Playing", "Video Ad Completed", "Signed Up",
    "Signed In", "Signed Out", "Account Created", "Account Deleted", "Invite Sent", "Account Added User",
    "Account Removed User", "Trial Started", "Trial Ended", "Application Installed", "Application Opened",
    "Application Backgrounded", "Application Updated", "Application Uninstalled", "Application Crashed",
    "Install Attributed", "Push Notification Received", "Push Notification Tapped", "Push Notification Bounced",
    "Deep Link Opened", "Deep Link Clicked", "Email Bounced", "Email Delivered", "Email Link Clicked",
    "Email Marked as Spam", "Email Opened", "Unsubscribed",
)

# ------------------------------------------------------------------ events

_CATEGORIES = ("Apparel/Shoes", "Apparel/Tops", "Apparel/Outerwear", "Electronics/Audio", "Electronics/Phones",
               "Home/Kitchen", "Home/Garden", "Books/Fiction", "Toys/Games", "Beauty/Skincare")
_BRANDS = ("Northwind", "Acme", "Globex", "Initech", "Umbrella", "Hooli")
_LOCALES = ("en-US", "en-US", "en-GB", "de-DE", "de-AT", "fr-FR", "nl-NL", "es-ES", "it-IT")
_DOMAINS = ("example.com", "example.com", "example.net", "example.org", "mail.example")
_FIRST = ("Jane", "John", "Ana", "Lukas", "Marie", "Noah", "Emma", "Liam", "Sofia", "Yusuf")
_LAST = ("Doe", "Smith", "Müller", "Martin", "Rossi", "de Vries", "García", "Novak")
_PAGES = (("Home", "/"), ("Category", "/c/shoes"), ("Product", "/p/trail-runner-2"), ("Search", "/search"),
          ("Cart", "/cart"), ("Checkout", "/checkout"), ("Blog", "/blog/how-to-choose-running-shoes"),
          ("Account", "/account"))
_SCREENS = ("Home", "Product Detail", "Cart", "Search Results", "Settings", "Order History")
_AGENTS = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Safari/605.1.15",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/119.0.0.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/119.0.0.0 Mobile Safari/537.36",
)
_CAMPAIGNS = (("google", "cpc", "winter_sale"), ("newsletter", "email", "black_friday"), ("facebook", "paid_social", "retarget"))
_PLANS = ("free", "starter", "pro", "enterprise")
_CITIES = ("Berlin", "Paris", "Amsterdam", "Madrid", "London", "Austin")


def _shuffled_labels(rng: random.Random, mix: dict[Any, int], n: int) -> list[Any]:
    """``n`` labels in the mix's exact proportions (largest remainders), shuffled."""
    total = sum(mix.values())
    exact = {k: n * w / total for k, w in mix.items()}
    counts = {k: int(v) for k, v in exact.items()}
    for k in sorted(mix, key=lambda k: exact[k] - counts[k], reverse=True)[: n - sum(counts.values())]:
        counts[k] += 1
    labels = [k for k, c in counts.items() for _ in range(c)]
    rng.shuffle(labels)
    return labels


def _hex(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("0123456789abcdef") for _ in range(n))


def _ip(rng: random.Random) -> str:
    if rng.random() < 0.1:
        return f"2001:db8:{rng.randrange(1 << 16):x}::{rng.randrange(1 << 16):x}"
    net = rng.choice(("192.0.2", "198.51.100", "203.0.113"))
    return f"{net}.{rng.randrange(1, 255)}"


def _email(rng: random.Random, first: str, last: str) -> str:
    local = f"{first}.{last}".lower().replace(" ", "")
    if rng.random() < 0.15:  # as typed by people: odd case and stray spaces (hash normalises them)
        return f" {first}.{last.replace(' ', '')}@{rng.choice(_DOMAINS).upper()} "
    return f"{local}{rng.randrange(100)}@{rng.choice(_DOMAINS)}"


def _product(rng: random.Random) -> dict[str, Any]:
    pid = f"P{rng.randrange(10_000):05d}"
    return {
        "product_id": pid, "sku": f"SKU-{pid[1:]}-{rng.choice('SMLX')}", "category": rng.choice(_CATEGORIES),
        "name": f"{rng.choice(_BRANDS)} {rng.choice(('Trail Runner', 'Hoodie', 'Earbuds', 'Kettle', 'Novel', 'Puzzle'))}",
        "brand": rng.choice(_BRANDS), "price": round(rng.uniform(5, 300), 2), "quantity": rng.randint(1, 5),
    }


def _properties(rng: random.Random, name: str) -> dict[str, Any]:
    if name in ("Product Viewed", "Product Added"):
        p = _product(rng)
        p.update({"currency": "EUR", "position": rng.randint(1, 24),
                  "url": f"https://shop.example/p/{p['product_id'].lower()}",
                  "image_url": f"https://cdn.shop.example/img/{p['product_id'].lower()}.jpg"})
        if name == "Product Added":
            p["cart_id"] = _hex(rng, 12)
        return p
    if name in ("Order Completed", "Checkout Started", "Cart Viewed"):
        products = [_product(rng) for _ in range(rng.randint(1, 5))]
        subtotal = round(sum(x["price"] * x["quantity"] for x in products), 2)
        props: dict[str, Any] = {"cart_id": _hex(rng, 12), "products": products, "currency": "EUR"}
        if name == "Cart Viewed":
            return props
        props.update({"order_id": f"O-{rng.randrange(10**7):07d}", "affiliation": "web", "value": subtotal,
                      "revenue": subtotal if rng.random() > 0.04 else None, "shipping": 4.95,
                      "tax": round(subtotal * 0.19, 2), "discount": 0.0})
        if rng.random() < 0.3:
            props["coupon"] = rng.choice(("WINTER10", "WELCOME5", "FREESHIP"))
            props["discount"] = round(subtotal * 0.1, 2)
        return props
    if name == "Products Searched":
        return {"query": rng.choice(("trail shoes", "hoodie", "wireless earbuds", "kettle", "gift ideas"))}
    if name == "Video Playback Started":
        return {"session_id": _hex(rng, 16), "content_asset_id": f"V{rng.randrange(1000)}", "position": 0,
                "total_length": rng.randint(30, 3600), "bitrate": 2500, "video_player": "html5", "sound": 80,
                "full_screen": rng.random() < 0.2, "category": rng.choice(_CATEGORIES)}
    if name == "Signed Up":
        return {"method": rng.choice(("email", "google", "apple")), "plan": rng.choice(_PLANS)}
    if name == "Coupon Applied":
        return {"order_id": f"O-{rng.randrange(10**7):07d}", "cart_id": _hex(rng, 12),
                "coupon_id": rng.choice(("WINTER10", "WELCOME5")), "discount": round(rng.uniform(2, 30), 2)}
    raise ValueError(name)


def _event(rng: random.Random, i: int, kind: tuple[str, str | None], consent: str, uid: str) -> dict[str, Any]:
    type_, name = kind
    first, last = rng.choice(_FIRST), rng.choice(_LAST)
    email = _email(rng, first, last)
    page_title, page_path = rng.choice(_PAGES)
    ts = f"2026-11-{rng.randint(1, 28):02d}T{rng.randrange(24):02d}:{rng.randrange(60):02d}:{rng.randrange(60):02d}.{rng.randrange(1000):03d}Z"
    context: dict[str, Any] = {
        "ip": _ip(rng), "locale": rng.choice(_LOCALES), "userAgent": rng.choice(_AGENTS),
        "library": {"name": "analytics.js", "version": "next-1.62.0"},
        "page": {"path": page_path, "referrer": "https://www.search.example/", "title": page_title,
                 "url": f"https://shop.example{page_path}"},
    }
    if rng.random() < 0.5:
        context["traits"] = {"email": email}
    if rng.random() < 0.3:
        src, medium, campaign = rng.choice(_CAMPAIGNS)
        context["campaign"] = {"source": src, "medium": medium, "name": campaign}
    prefs = CONSENT_MIX[consent][1]
    if prefs is not None:
        context["consent"] = {"categoryPreferences": dict(prefs)}
    e: dict[str, Any] = {"type": type_, "messageId": f"msg-{i:05d}-{_hex(rng, 8)}",
                         "anonymousId": f"anon-{_hex(rng, 12)}"}
    if uid == "string":
        e["userId"] = f"user-{rng.randrange(50_000)}"
    elif uid == "null":
        e["userId"] = None
    if type_ == "track":
        e["event"] = name
        e["properties"] = _properties(rng, name or "")
    elif type_ == "page":
        e["name"] = page_title
        e["properties"] = {"path": page_path, "referrer": context["page"]["referrer"], "title": page_title,
                           "url": context["page"]["url"]}
        if page_title == "Product":
            e["properties"]["category"] = rng.choice(_CATEGORIES)
    elif type_ == "screen":
        e["name"] = rng.choice(_SCREENS)
        e["properties"] = {"name": e["name"]}
    else:  # identify
        e["traits"] = {"email": email, "firstName": first, "lastName": last, "plan": rng.choice(_PLANS),
                       "createdAt": "2025-03-14T09:26:53.589Z",
                       "address": {"city": rng.choice(_CITIES), "country": rng.choice(("DE", "FR", "NL", "US"))}}
        if rng.random() < 0.5:
            e["traits"]["phone"] = f"+49 30 {rng.randrange(10**7):07d}"
    e["context"] = context
    e["timestamp"] = ts
    e["sentAt"] = ts
    e["receivedAt"] = ts
    return e


def events(n: int = N_EVENTS, seed: int = SEED) -> list[dict[str, Any]]:
    """``n`` Segment-spec events in the reference's mix, as parsed JSON (fresh objects)."""
    rng = random.Random(seed)
    kinds = _shuffled_labels(rng, TYPE_MIX, n)
    consents = _shuffled_labels(rng, {k: v[0] for k, v in CONSENT_MIX.items()}, n)
    uids = _shuffled_labels(rng, USERID_MIX, n)
    out = [_event(rng, i, kinds[i], consents[i], uids[i]) for i in range(n)]
    return json.loads(json.dumps(out))  # type: ignore[no-any-return]


def consent_label(e: dict[str, Any]) -> str:
    """Which consent state of :data:`CONSENT_MIX` an event carries.

    >>> consent_label({"type": "page"}), consent_label({"context": {"consent": {"categoryPreferences": _ALL}}})
    ('no consent object', 'all')
    """
    prefs = ((e.get("context") or {}).get("consent") or {}).get("categoryPreferences")
    for label, (_, want) in CONSENT_MIX.items():
        if prefs == want:
            return label
    return "other"


# ------------------------------------------------------------------ rules

_TRAFFIC_TRACK = tuple(name for (t, name) in TYPE_MIX if t == "track")
_P, _C, _T = "properties", "context", "traits"

# Keep lists: paths a destination of each kind plausibly wants; hashable ones are personal data.
_KEEP_COMMON: tuple[Path, ...] = (("type",), ("messageId",), ("userId",), ("anonymousId",), ("timestamp",),
                                  (_C, "ip"), (_C, "locale"), (_C, "traits", "email"), (_C, "page", "url"),
                                  (_C, "campaign", "source"))
_KEEP_TRACK: tuple[Path, ...] = (("event",), (_P, "revenue"), (_P, "currency"), (_P, "order_id"),
                                 (_P, "products", "sku"), (_P, "products", "price"), (_P, "price"),
                                 (_P, "category"), (_P, "product_id"), (_P, "coupon"))
_KEEP_PAGE: tuple[Path, ...] = (("name",), (_P, "path"), (_P, "url"), (_P, "title"), (_C, "page", "referrer"))
_KEEP_IDENTIFY: tuple[Path, ...] = ((_T, "email"), (_T, "plan"), (_T, "firstName"), (_T, "address", "city"),
                                   (_T, "phone"))
_HASHABLE: frozenset[Path] = frozenset({("userId",), ("anonymousId",), (_C, "ip"), (_C, "traits", "email"),
                                        (_T, "email"), (_T, "phone")})


def _cats(*names: str) -> Consent:
    return Consent(tuple(names))


# The ten templates of the first ten destinations (after the reference's rule #0 ...).
_FIRST_TEN: tuple[tuple[tuple[Atom, ...], tuple[Path, ...], tuple[Path, ...]], ...] = (
    ((IsType(("track",)), IsEvent(("Checkout Started", "Order Completed")), Num((_P, "revenue"), ">", 250.0),
      _cats("advertising")),
     (("type",), ("event",), ("userId",), (_P, "revenue"), (_P, "currency"), (_C, "traits", "email")),
     ((_C, "traits", "email"),)),
    ((IsType(("track",)), IsEvent(("Product Added", "Product Viewed")), Prefix((_P, "category"), "Apparel"),
      _cats("analytics")),
     (("type",), ("event",), ("anonymousId",), (_P, "product_id"), (_P, "category"), (_P, "price")), ()),
    ((IsType(("page",)), Prefix((_C, "locale"), "de"), Exists(("userId",)), _cats("analytics")),
     (("type",), ("name",), ("userId",), (_P, "path"), (_C, "locale"), (_C, "page", "referrer")), (("userId",),)),
    ((IsType(("identify",)), Suffix((_T, "email"), "@example.com"), _cats("personalization")),
     (("type",), ("userId",), (_T, "email"), (_T, "plan"), (_T, "address", "city"), (_T, "phone")),
     ((_T, "email"), (_T, "phone"))),
    ((IsType(("track", "screen")), AnyOf((Num((_P, "price"), ">=", 100.0), Num((_P, "quantity"), ">=", 3))),
      _cats("functional")),
     (("type",), ("event",), ("name",), (_P, "price"), (_P, "quantity"), (_C, "ip")), ()),
    ((IsType(("track",)), IsEvent(("Order Completed",)), Exists((_P, "coupon")), _cats("advertising"),
      Prefix((_C, "ip"), "203.0.113.")),
     (("type",), ("event",), (_P, "order_id"), (_P, "coupon"), (_P, "products", "sku"), (_C, "ip")),
     ((_C, "ip"),)),
    ((IsType(("track",)), IsEvent(("Video Playback Started",)), Exists(("userId",)), _cats("personalization")),
     (("type",), ("event",), ("userId",), (_P, "content_asset_id"), (_P, "total_length"), (_C, "locale")),
     (("userId",),)),
    ((IsType(("page", "screen")), Prefix((_C, "ip"), "192.0.2."), _cats("analytics")),
     (("type",), ("name",), ("anonymousId",), (_C, "ip"), (_C, "page", "url"), (_C, "userAgent")), ((_C, "ip"),)),
    ((IsType(("track",)), IsEvent(("Signed Up",)), Exists((_C, "traits", "email")),
      _cats("advertising", "personalization")),
     (("type",), ("event",), ("userId",), (_P, "plan"), (_P, "method"), (_C, "traits", "email")),
     ((_C, "traits", "email"),)),
    ((IsType(("track",)), IsEvent(("Products Searched", "Cart Viewed", "Coupon Applied")), _cats("analytics"),
      AnyOf((Exists(("userId",)), Suffix((_C, "traits", "email"), ".org")))),
     (("type",), ("event",), ("userId",), (_P, "query"), (_P, "products", "price"), (_C, "campaign", "source")),
     (("userId",),)),
)

_PREFIXES = (((_C, "locale"), ("de", "en-", "fr", "nl", "es")),
             ((_C, "ip"), ("192.0.2.", "198.51.100.", "203.0.113.", "2001:db8:")),
             ((_P, "category"), ("Apparel", "Electronics", "Home", "Books", "Toys", "Beauty")))
_SUFFIXES = (((_C, "traits", "email"), ("@example.com", "@example.net", ".org")),)
_NUMS = (((_P, "revenue"), (50.0, 100.0, 250.0, 500.0)), ((_P, "price"), (20.0, 50.0, 100.0, 200.0)),
         ((_P, "quantity"), (2, 3, 4)))
_EXISTS = (("userId",), (_P, "coupon"), (_C, "traits", "email"))


def _extra_atom(rng: random.Random, type_: str) -> Atom:
    """One non-consent, non-type atom of the reference's kinds, fitting the event type."""
    kind = rng.choice(("num", "prefix", "suffix", "exists", "or") if type_ == "track" else
                      ("prefix", "suffix", "exists", "or"))
    if kind == "num":
        path, values = rng.choice(_NUMS)
        return Num(path, rng.choice((">", ">=", "<")), rng.choice(values))
    if kind == "prefix":
        path, texts = rng.choice(_PREFIXES)
        return Prefix(path, rng.choice(texts))
    if kind == "suffix":
        path, texts = rng.choice(_SUFFIXES)
        if type_ == "identify":
            path = (_T, "email")
        return Suffix(path, rng.choice(texts))
    if kind == "exists":
        return Exists(rng.choice(_EXISTS))
    a, b = _extra_atom(rng, type_), _extra_atom(rng, type_)
    while isinstance(a, AnyOf) or isinstance(b, AnyOf) or a == b:
        a, b = _extra_atom(rng, type_), _extra_atom(rng, type_)
    return AnyOf((a, b))


def _keep(rng: random.Random, types: tuple[str, ...]) -> tuple[tuple[Path, ...], tuple[Path, ...]]:
    pool = list(_KEEP_COMMON)
    for t in types:
        pool += {"track": _KEEP_TRACK, "page": _KEEP_PAGE, "screen": _KEEP_PAGE[:1],
                 "identify": _KEEP_IDENTIFY}.get(t, ())
    keep = sorted(set(rng.sample(pool, 6)) | {("type",)}, key=lambda p: pool.index(p))
    hashed: tuple[Path, ...] = ()
    pii = [p for p in keep if p in _HASHABLE]
    if pii and rng.random() < 0.5:  # half the destinations hash some of what they keep
        hashed = tuple(rng.sample(pii, min(len(pii), rng.randint(1, 2))))
    return tuple(keep), hashed


def _random_dest(rng: random.Random, i: int) -> Dest:
    r = rng.random()
    atoms: list[Atom]
    if r < 0.80:  # specific: track events named from the spec's vocabulary
        types: tuple[str, ...] = ("track",)
        names = rng.sample(VOCABULARY, rng.choice((1, 1, 1, 2, 3)))
        atoms = [IsType(types), IsEvent(tuple(names))]
    elif r < 0.95:  # one or two non-track types
        types = tuple(sorted(rng.sample(("page", "screen", "identify", "group", "alias"), rng.choice((1, 1, 2)))))
        atoms = [IsType(types)]
    else:  # broad
        types = rng.choice((("track",), ("page", "screen", "track")))
        atoms = [IsType(types)]
    cats = rng.sample(sorted(CATEGORIES), rng.choice((1, 1, 1, 2)))
    atoms.append(Consent(tuple(sorted(cats))))
    target = rng.randint(3, 5)
    main = types[0] if len(types) == 1 else "other"
    while len(atoms) < target:
        a = _extra_atom(rng, main)
        if a not in atoms:
            atoms.append(a)
    keep, hashed = _keep(rng, types)
    return Dest(_name(i), tuple(atoms), keep, hashed)


def _name(i: int) -> str:
    return f"dest_{i:04d}"


@lru_cache(maxsize=4)
def _all_rules(seed: int) -> RuleIR:
    rng = random.Random(seed + 1)
    dests = [Dest(_name(i), atoms, keep, hashed) for i, (atoms, keep, hashed) in enumerate(_FIRST_TEN)]
    dests += [_random_dest(rng, i) for i in range(len(dests), MAX_D)]
    return RuleIR(tuple(dests))


def rules(d: int, seed: int = SEED) -> RuleIR:
    """The first ``d`` destinations of the seeded rule set (``d`` up to 1,000)."""
    if not 1 <= d <= MAX_D:
        raise ValueError(f"D must be between 1 and {MAX_D}, got {d}")
    return _all_rules(seed).prefix(d)


# ------------------------------------------------------------------ RouteQL


def _lit(v: Any) -> str:
    return json.dumps(v, ensure_ascii=True)


def _rq_atom(a: Atom) -> str:
    if isinstance(a, IsType):
        return f"type = {_lit(a.values[0])}" if len(a.values) == 1 else f"type in [{', '.join(map(_lit, a.values))}]"
    if isinstance(a, IsEvent):
        return f"event = {_lit(a.values[0])}" if len(a.values) == 1 else f"event in [{', '.join(map(_lit, a.values))}]"
    if isinstance(a, Num):  # RouteQL's order comparisons are false on anything but two numbers
        return f"{fmt_path(a.path)} {a.op} {a.value!r}"
    if isinstance(a, Prefix):
        return f"starts_with({fmt_path(a.path)}, {_lit(a.text)})"
    if isinstance(a, Suffix):
        return f"ends_with({fmt_path(a.path)}, {_lit(a.text)})"
    if isinstance(a, Exists):
        return f"{fmt_path(a.path)} exists"
    if isinstance(a, AnyOf):
        return "(" + " or ".join(_rq_atom(x) for x in a.items) + ")"
    raise TypeError(f"no RouteQL condition for {a!r}")


def routeql_source(ir: RuleIR) -> str:
    """The rule set in RouteQL: a consent block mapping Segment ids, one destination per IR dest.

    The consent atom becomes ``requires``; the other atoms one ``when``.  Under the
    ``opt_in`` default regime a category is granted exactly when its Segment preference
    is ``true``, which is what the IR means.
    """
    lines = ["# generated by bench/workload.py: do not edit", "consent {"]
    width = max(map(len, CATEGORIES))
    for cat, seg_id in CATEGORIES.items():
        lines.append(f"  category {cat:<{width}} from segment {_lit(seg_id)}")
    lines += ["  default regime opt_in", "}", ""]
    for d in ir.dests:
        lines.append(f"destination {d.name} {{")
        for a in d.atoms:
            if isinstance(a, Consent):
                lines.append(f"  requires {', '.join(a.categories)}")
        conds = [_rq_atom(a) for a in d.atoms if not isinstance(a, Consent)]
        if conds:
            lines.append(f"  when {' and '.join(conds)}")
        lines.append(f"  keep {', '.join(fmt_path(p) for p in d.keep)}")
        if d.hash:
            lines.append(f"  hash {', '.join(fmt_path(p) for p in d.hash)}")
        lines += ["}", ""]
    return "\n".join(lines)


# ------------------------------------------------------------------ shape


def stats(ir: RuleIR, evs: list[dict[str, Any]], decisions: list[tuple[str, ...]] | None = None) -> dict[str, float]:
    """Candidates and deliveries per event: how specific the rule set is for this traffic.

    A destination is a *candidate* for an event when its type and event atoms hold.
    ``decisions`` (the oracle's, for these events and this rule set) saves recomputing them.

    >>> stats(rules(10), events(100))["candidates_per_event"] > 0
    True
    """
    from .ir import decide, holds

    per_key: dict[tuple[Any, Any], int] = {}
    candidates = deliveries = 0
    for i, e in enumerate(evs):
        key = (e.get("type"), e.get("event"))
        if key not in per_key:
            probe = {"type": key[0], "event": key[1]}
            per_key[key] = sum(all(holds(a, probe) for a in d.atoms if isinstance(a, (IsType, IsEvent)))
                               for d in ir.dests)
        candidates += per_key[key]
        deliveries += len(decisions[i] if decisions is not None else decide(ir, e))
    n = len(evs) or 1
    return {"candidates_per_event": candidates / n, "deliveries_per_event": deliveries / n}


# ------------------------------------------------------------------ a tracking plan


def _plan_product(required: str = "required") -> list[str]:
    return [f"{required} product_id: string length >= 1", "required sku: string", "required category: string",
            "required name: string", "optional brand: string", "required price: number >= 0",
            "optional quantity: integer >= 1 <= 99", "required currency: string in [\"EUR\", \"USD\", \"GBP\"]",
            "optional position: integer >= 0", "optional url: string format uri", "optional image_url: string format uri"]


_PLAN_ORDER = ["optional cart_id: string", "required order_id: string", "optional affiliation: string",
          "optional value: number >= 0", "required revenue: number | null", "optional shipping: number >= 0",
          "optional tax: number >= 0", "optional discount: number >= 0", "optional coupon: string",
          "required currency: string format currency",
          "required products: array of object { required product_id: string required price: number >= 0 "
          "required quantity: integer >= 1 } length >= 1"]

#: the traffic's events, each with the schema the generator keeps to
_PLANNED: dict[str, list[str]] = {
    "Product Viewed": _plan_product(),
    "Product Added": [*_plan_product(), "required cart_id: string"],
    "Products Searched": ["required query: string length >= 1"],
    "Cart Viewed": ["required cart_id: string", "required currency: string format currency",
                    "required products: array of object { required product_id: string }"],
    "Checkout Started": _PLAN_ORDER,
    "Order Completed": _PLAN_ORDER,
    "Coupon Applied": ["optional order_id: string", "optional cart_id: string", "required coupon_id: string",
                       "optional discount: number >= 0"],
    "Signed Up": ["required method: string in [\"email\", \"google\", \"apple\"]", "optional plan: string"],
    "Video Playback Started": ["required session_id: string", "required content_asset_id: string",
                               "optional position: integer >= 0", "optional total_length: integer >= 0",
                               "optional bitrate: integer >= 0", "optional video_player: string",
                               "optional sound: integer >= 0 <= 100", "optional full_screen: boolean",
                               "optional category: string"],
}


def plan_source(n_events: int = 50) -> str:
    """A tracking plan of ``n_events`` track events for the workload: the nine the traffic
    sends, with the schemas the generator keeps to, then names from :data:`VOCABULARY`
    with a small schema each; identify traits, page properties and a common section.
    Unplanned events and properties are flagged, violations too: the mode that checks
    everything and blocks nothing, so routing decisions are the same with or without it.

    >>> text = plan_source(50)
    >>> text.count('  track "')
    50
    """
    fillers = [name for name in VOCABULARY if name not in _PLANNED]
    names = [*_PLANNED, *fillers][:n_events]
    lines = ["plan bench {", "  unplanned events flag", "  unplanned properties flag", "  violations flag", "",
             "  common {", "    required messageId: string length >= 1", "    optional context.library.name: string",
             "    optional context.locale: string length >= 2", "  }", ""]
    for name in names:
        body = _PLANNED.get(name, ["optional id: string", "optional value: number >= 0"])
        lines.append(f"  track {_lit(name)} {{")
        lines += [f"    {entry}" for entry in body]
        lines.append("  }")
    lines += ["  identify {", "    required email: string format email", "    optional firstName: string",
              "    optional lastName: string", "    optional plan: string", "    optional createdAt: string format date_time",
              "    optional phone: string", "    optional address: object", "  }",
              "  page {", "    optional path: string", "    optional referrer: string", "    optional title: string",
              "    optional url: string format uri", "    optional category: string", "  }",
              "  screen {", "    optional name: string", "  }", "}", ""]
    return "\n".join(lines)
