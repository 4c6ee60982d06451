#!/usr/bin/env python3
"""Seeded generator for examples/events.jsonl: synthetic Segment-spec events from three sources.

seed + count in, one JSON object per line out. Standard library only, fully deterministic:
every random draw comes from one ``random.Random(seed)``; there is no wall clock and no
``uuid4``, ids are derived from the RNG, so the same seed and count give a byte-identical file.

    python examples/generate_events.py [--seed N] [--count N] [--out PATH] [--stats]

The traffic models three businesses behind one gateway that stamps ``context.source``:
``acme-shop`` (B2C retail, web + iOS), ``flowboard`` (B2B SaaS, half on the RudderStack JS SDK)
and ``northwind`` (three brands, ``context.brand``). See examples/README.md for the mix,
the consent signals, the planted anomaly and the duplicates.

Everything personal is fake: e-mail domains are example.com/.net/.org, IPv4 addresses come from
the documentation ranges (RFC 5737) and IPv6 from 2001:db8::/32 (RFC 3849), sites live under
``.example``.
"""
from __future__ import annotations

import argparse
import json
import random
import sys
import unicodedata
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus

DEFAULT_SEED = 20261128
DEFAULT_COUNT = 1500
DEFAULT_OUT = Path(__file__).resolve().parent / "events.jsonl"

WINDOW_START = datetime(2026, 11, 1, tzinfo=timezone.utc)  # a Sunday
DAYS = 14
# The planted data-quality incident: on this UTC day the acme-shop *web* "Order Completed" tag
# is broken, so only the iOS app reports orders while the rest of the funnel looks normal.
ANOMALY_DAY = date(2026, 11, 11)
DUPLICATE_RATE = 0.01  # SDK retries: same messageId and payload, refreshed sentAt/receivedAt

ABSENT = object()  # marks a key that must not be written at all (as opposed to null)

# ----------------------------------------------------------------------------------------
# Mixes. Weights are relative; the comments give the intended share of all events.
# ----------------------------------------------------------------------------------------

SOURCE_WEIGHTS = {"acme-shop": 50, "flowboard": 25, "northwind": 25}

# Per-source type weights chosen so the overall mix is track 58 / page 22 / identify 9 /
# screen 5 / group 4 / alias 2 (screen only exists on acme iOS, group only on flowboard).
TYPE_WEIGHTS = {
    "acme-shop": {"track": 58, "page": 22, "screen": 10, "identify": 8, "alias": 2},
    "flowboard": {"track": 52, "page": 20, "group": 16, "identify": 10, "alias": 2},
    "northwind": {"track": 64, "page": 24, "identify": 10, "alias": 2},
}

# Orders are over-represented next to real conversion rates so that ~1,500 events still hold
# ~4 orders a day and the planted drop is visible; the funnel order (views > adds > checkouts >
# orders) is kept.
ACME_TRACK = {
    "Products Searched": 7, "Product List Viewed": 8, "Product Viewed": 25, "Product Added": 15,
    "Cart Viewed": 8, "Checkout Started": 19, "Coupon Applied": 3, "Order Completed": 15,
    "Signed Up": 4, "Segment Consent Preference Updated": 2,
}
FLOWBOARD_TRACK = {
    "Signed In": 26, "Report Exported": 16, "Integration Connected": 10, "Seat Added": 9,
    "Signed Up": 9, "Workspace Created": 8, "Trial Started": 8, "Plan Upgraded": 5,
}
FLOWBOARD_TRACK_HIGH_INTENT = {
    "Signed In": 16, "Report Exported": 36, "Integration Connected": 22, "Seat Added": 8,
    "Signed Up": 2, "Workspace Created": 3, "Trial Started": 6, "Plan Upgraded": 7,
}
NORTHWIND_TRACK = {
    "Product Viewed": 42, "Product Added": 22, "Order Completed": 20, "Newsletter Subscribed": 14,
    "Segment Consent Preference Updated": 2,
}

# Jurisdiction groups per source (weighted by source share they give EEA 45, GB 8, CH 3,
# US 30, other 6, none 8).
JURISDICTION_WEIGHTS = {
    "acme-shop": {"EEA": 48, "GB": 9, "CH": 3, "US": 26, "OTHER": 6, "NONE": 8},
    "flowboard": {"EEA": 38, "GB": 8, "CH": 3, "US": 38, "OTHER": 6, "NONE": 7},
    "northwind": {"EEA": 46, "GB": 6, "CH": 3, "US": 30, "OTHER": 6, "NONE": 9},
}
EEA_COUNTRIES = {
    "DE": 22, "FR": 15, "NL": 9, "ES": 10, "IT": 10, "SE": 5, "PL": 7, "IE": 4, "AT": 4,
    "BE": 5, "DK": 2, "FI": 2, "PT": 3, "CZ": 1, "NO": 1,
}
US_REGIONS = {
    "CA": 33, "NY": 12, "TX": 12, "WA": 7, "FL": 8, "IL": 5, "MA": 5, "CO": 5, "NJ": 4,
    "GA": 3, "OR": 3, "VA": 3,
}
OTHER_COUNTRIES = {"CA": 30, "BR": 20, "JP": 15, "AU": 20, "IN": 15}
CA_PROVINCES = {"ON": 45, "QC": 25, "BC": 20, "AB": 10}

# A user's consent choice (stable across their events). Relative weights per jurisdiction
# group, tuned so the overall mix lands near: all true 30, analytics+functional 18, analytics
# only 8, all false 8, Advertising key missing 6, all but analytics 5, no consent object 10
# (mostly US). Two glitches are per event, not per user: a CMP that has not loaded yet stamps
# `categoryPreferences: {}` (EMPTY_PREFS_RATE) and a buggy bridge stringifies one value (JUNK_RATE).
CONSENT_STATES = ("all_true", "analytics_functional", "analytics_only", "all_false",
                  "no_advertising_key", "all_but_analytics", "none")
CONSENT_WEIGHTS = {
    "EEA":   (27, 30, 11, 13, 8, 8, 2),
    "GB":    (28, 28, 10, 12, 8, 8, 3),
    "CH":    (28, 28, 10, 12, 8, 8, 3),
    "US":    (42, 7, 3, 4, 6, 3, 38),
    "OTHER": (34, 13, 8, 6, 8, 6, 24),
    "NONE":  (34, 13, 8, 6, 8, 6, 24),
}
EMPTY_PREFS_RATE = 0.028  # of events that would carry categoryPreferences
JUNK_RATE = 0.014
# The businesses lean differently: acme pushes "accept all", flowboard's B2B users accept
# analytics but refuse ads, northwind sees more outright refusals.
SOURCE_CONSENT_BIAS = {
    "acme-shop": {"all_true": 1.15, "all_false": 0.85},
    "flowboard": {"analytics_functional": 1.2, "all_true": 0.85, "all_but_analytics": 0.7},
    "northwind": {"all_false": 1.3, "analytics_only": 1.2, "all_true": 0.9},
}

# ----------------------------------------------------------------------------------------
# Reference data: countries, names, places.
# ----------------------------------------------------------------------------------------

# code: (locales, (tz name, UTC offset in minutes during November), currency, VAT/sales tax)
COUNTRIES: dict[str, tuple[tuple[str, ...], tuple[str, int], str, float]] = {
    "DE": (("de-DE", "de-DE", "de-DE", "en-DE"), ("Europe/Berlin", 60), "EUR", 0.19),
    "FR": (("fr-FR",), ("Europe/Paris", 60), "EUR", 0.20),
    "NL": (("nl-NL", "nl-NL", "en-NL"), ("Europe/Amsterdam", 60), "EUR", 0.21),
    "ES": (("es-ES", "es-ES", "es-ES", "ca-ES"), ("Europe/Madrid", 60), "EUR", 0.21),
    "IT": (("it-IT",), ("Europe/Rome", 60), "EUR", 0.22),
    "SE": (("sv-SE", "sv-SE", "en-SE"), ("Europe/Stockholm", 60), "SEK", 0.25),
    "PL": (("pl-PL",), ("Europe/Warsaw", 60), "PLN", 0.23),
    "IE": (("en-IE", "en-IE", "en-IE", "ga-IE"), ("Europe/Dublin", 0), "EUR", 0.23),
    "AT": (("de-AT",), ("Europe/Vienna", 60), "EUR", 0.20),
    "BE": (("nl-BE", "fr-BE"), ("Europe/Brussels", 60), "EUR", 0.21),
    "DK": (("da-DK",), ("Europe/Copenhagen", 60), "DKK", 0.25),
    "FI": (("fi-FI", "fi-FI", "sv-FI"), ("Europe/Helsinki", 120), "EUR", 0.255),
    "PT": (("pt-PT",), ("Europe/Lisbon", 0), "EUR", 0.23),
    "CZ": (("cs-CZ",), ("Europe/Prague", 60), "CZK", 0.21),
    "NO": (("nb-NO",), ("Europe/Oslo", 60), "NOK", 0.25),
    "GB": (("en-GB",), ("Europe/London", 0), "GBP", 0.20),
    "CH": (("de-CH", "de-CH", "fr-CH", "it-CH"), ("Europe/Zurich", 60), "CHF", 0.081),
    "US": (("en-US", "en-US", "en-US", "en-US", "en-US", "es-US"), ("America/New_York", -300), "USD", 0.0),
    "CA": (("en-CA", "en-CA", "fr-CA"), ("America/Toronto", -300), "CAD", 0.13),
    "BR": (("pt-BR",), ("America/Sao_Paulo", -180), "BRL", 0.0),
    "JP": (("ja-JP",), ("Asia/Tokyo", 540), "JPY", 0.10),
    "AU": (("en-AU",), ("Australia/Sydney", 660), "AUD", 0.10),
    "IN": (("en-IN", "en-IN", "hi-IN"), ("Asia/Kolkata", 330), "INR", 0.18),
}
US_STATE_INFO = {  # region: (tz, offset, sales tax, cities)
    "CA": ("America/Los_Angeles", -480, 0.0725, ("Los Angeles", "San Francisco", "San Diego", "Oakland", "Sacramento")),
    "NY": ("America/New_York", -300, 0.04, ("New York", "Brooklyn", "Buffalo", "Rochester")),
    "TX": ("America/Chicago", -360, 0.0625, ("Austin", "Houston", "Dallas", "San Antonio")),
    "WA": ("America/Los_Angeles", -480, 0.065, ("Seattle", "Spokane", "Tacoma")),
    "FL": ("America/New_York", -300, 0.06, ("Miami", "Orlando", "Tampa")),
    "IL": ("America/Chicago", -360, 0.0625, ("Chicago", "Evanston")),
    "MA": ("America/New_York", -300, 0.0625, ("Boston", "Cambridge")),
    "CO": ("America/Denver", -420, 0.029, ("Denver", "Boulder")),
    "NJ": ("America/New_York", -300, 0.06625, ("Newark", "Jersey City")),
    "GA": ("America/New_York", -300, 0.04, ("Atlanta", "Savannah")),
    "OR": ("America/Los_Angeles", -480, 0.0, ("Portland", "Eugene")),
    "VA": ("America/New_York", -300, 0.053, ("Richmond", "Arlington")),
}
CA_PROVINCE_INFO = {
    "ON": ("America/Toronto", -300, ("Toronto", "Ottawa")),
    "QC": ("America/Toronto", -300, ("Montréal", "Québec")),
    "BC": ("America/Vancouver", -480, ("Vancouver", "Victoria")),
    "AB": ("America/Edmonton", -420, ("Calgary", "Edmonton")),
}
CITIES = {
    "DE": ("Berlin", "Hamburg", "München", "Köln", "Leipzig"), "FR": ("Paris", "Lyon", "Marseille", "Lille", "Nantes"),
    "NL": ("Amsterdam", "Rotterdam", "Utrecht", "Eindhoven"), "ES": ("Madrid", "Barcelona", "Valencia", "Sevilla"),
    "IT": ("Milano", "Roma", "Torino", "Bologna"), "SE": ("Stockholm", "Göteborg", "Malmö"),
    "PL": ("Warszawa", "Kraków", "Wrocław", "Gdańsk"), "IE": ("Dublin", "Cork", "Galway"),
    "AT": ("Wien", "Graz", "Linz"), "BE": ("Bruxelles", "Antwerpen", "Gent"), "DK": ("København", "Aarhus"),
    "FI": ("Helsinki", "Tampere"), "PT": ("Lisboa", "Porto"), "CZ": ("Praha", "Brno"), "NO": ("Oslo", "Bergen"),
    "GB": ("London", "Manchester", "Bristol", "Edinburgh", "Leeds"), "CH": ("Zürich", "Genève", "Basel", "Bern"),
    "BR": ("São Paulo", "Rio de Janeiro", "Belo Horizonte"), "JP": ("Tokyo", "Osaka", "Fukuoka"),
    "AU": ("Sydney", "Melbourne", "Brisbane"), "IN": ("Bengaluru", "Mumbai", "Pune"),
}
STREETS = {
    "de": ("Hauptstraße", "Bahnhofstraße", "Lindenallee", "Gartenweg", "Schillerstraße"),
    "fr": ("rue de la République", "avenue Victor Hugo", "rue des Lilas", "boulevard Voltaire"),
    "nl": ("Kerkstraat", "Dorpsstraat", "Molenweg", "Prinsengracht"),
    "es": ("Calle Mayor", "Calle del Sol", "Avenida de la Constitución"),
    "it": ("Via Roma", "Via Garibaldi", "Corso Italia"),
    "sv": ("Storgatan", "Drottninggatan", "Kungsgatan"),
    "pl": ("ul. Polna", "ul. Lipowa", "ul. Długa"),
    "pt": ("Rua Augusta", "Avenida Paulista", "Rua das Flores"),
    "en": ("High Street", "Station Road", "Oak Street", "Maple Avenue", "Church Lane", "King Street"),
    "ja": ("Chuo-dori", "Meiji-dori", "Omotesando"),
}
NAMES = {  # language: (first names, last names)
    "de": (("Anna", "Lukas", "Mia", "Jonas", "Lea", "Felix", "Sophie", "Maximilian", "Jürgen", "Sabine"),
           ("Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Becker", "Hoffmann", "Schäfer", "Krüger")),
    "fr": (("Camille", "Léa", "Hugo", "Louis", "Chloé", "Jules", "Manon", "Théo", "Inès"),
           ("Martin", "Bernard", "Dubois", "Lefèvre", "Moreau", "Laurent", "Girard", "Roux")),
    "nl": (("Daan", "Emma", "Sem", "Tess", "Lars", "Julia", "Bram", "Sanne"),
           ("de Jong", "Jansen", "de Vries", "van Dijk", "Bakker", "Visser", "Smit")),
    "es": (("Lucía", "Hugo", "Martina", "Mateo", "Sofía", "Pablo", "Alba", "Javier"),
           ("García", "Fernández", "López", "Martínez", "Sánchez", "Pérez", "Gómez")),
    "it": (("Giulia", "Leonardo", "Sofia", "Francesco", "Aurora", "Alessandro", "Chiara"),
           ("Rossi", "Russo", "Ferrari", "Esposito", "Bianchi", "Romano", "Colombo")),
    "sv": (("Alice", "Elias", "Maja", "William", "Ebba", "Oscar", "Saga"),
           ("Andersson", "Johansson", "Karlsson", "Nilsson", "Eriksson", "Lindqvist")),
    "pl": (("Zofia", "Jakub", "Hanna", "Antoni", "Julia", "Łukasz", "Katarzyna"),
           ("Nowak", "Kowalski", "Wiśniewska", "Wójcik", "Kamiński", "Lewandowska")),
    "da": (("Freja", "William", "Ida", "Noah", "Clara"), ("Jensen", "Nielsen", "Hansen", "Sørensen")),
    "fi": (("Aino", "Eino", "Helmi", "Väinö"), ("Korhonen", "Virtanen", "Mäkinen", "Nieminen")),
    "cs": (("Eliška", "Jakub", "Tereza", "Tomáš"), ("Novák", "Svobodová", "Dvořák", "Černý")),
    "nb": (("Nora", "Jakob", "Ingrid", "Emil"), ("Hansen", "Johansen", "Olsen", "Berg")),
    "pt": (("Maria", "João", "Beatriz", "Miguel", "Ana", "Gabriel", "Larissa"),
           ("Silva", "Santos", "Oliveira", "Costa", "Pereira", "Rodrigues")),
    "ja": (("Yuki", "Haruto", "Sakura", "Ren", "Aoi", "Sota"), ("Sato", "Suzuki", "Takahashi", "Tanaka", "Watanabe")),
    "hi": (("Aarav", "Ananya", "Vihaan", "Diya", "Arjun", "Priya"), ("Sharma", "Patel", "Iyer", "Reddy", "Gupta")),
    "en": (("Olivia", "Liam", "Emma", "Noah", "Ava", "James", "Sophia", "Ethan", "Grace", "Daniel", "Chloe", "Ryan"),
           ("Smith", "Johnson", "Williams", "Brown", "Taylor", "Wilson", "Murphy", "O'Brien", "Walker", "Clarke")),
}
COUNTRY_LANG = {
    "DE": "de", "AT": "de", "CH": "de", "FR": "fr", "BE": "nl", "NL": "nl", "ES": "es", "IT": "it",
    "SE": "sv", "PL": "pl", "DK": "da", "FI": "fi", "CZ": "cs", "NO": "nb", "PT": "pt", "BR": "pt",
    "JP": "ja", "IN": "hi",
}
PHONE_PREFIX = {
    "DE": "+49151", "FR": "+336", "NL": "+316", "ES": "+346", "IT": "+39347", "SE": "+4670",
    "PL": "+4850", "IE": "+35387", "AT": "+43664", "BE": "+32470", "DK": "+4520", "FI": "+35840",
    "PT": "+35191", "CZ": "+420603", "NO": "+4790", "GB": "+447700900", "CH": "+4179",
    "US": "+1", "CA": "+1", "BR": "+5511", "JP": "+8190", "AU": "+61491570", "IN": "+9198",
}
FX = {  # USD -> currency, for catalogue prices
    "USD": 1.0, "EUR": 0.92, "GBP": 0.79, "CHF": 0.88, "SEK": 10.6, "PLN": 3.95, "DKK": 6.9,
    "CZK": 23.2, "NOK": 10.9, "CAD": 1.39, "BRL": 5.6, "JPY": 152.0, "AUD": 1.52, "INR": 84.0,
}

USER_AGENTS = (  # (weight, User-Agent) as browsers sent them in late 2026
    (24, "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36"),
    (14, "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36"),
    (11, "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/26.1 Safari/605.1.15"),
    (17, "Mozilla/5.0 (iPhone; CPU iPhone OS 18_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/26.1 Mobile/15E148 Safari/604.1"),
    (16, "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Mobile Safari/537.36"),
    (7, "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:145.0) Gecko/20100101 Firefox/145.0"),
    (6, "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36 Edg/142.0.0.0"),
    (3, "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/141.0.0.0 Safari/537.36"),
    (2, "Mozilla/5.0 (iPad; CPU OS 18_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/26.1 Mobile/15E148 Safari/604.1"),
)
IOS_DEVICES = (("iPhone17,1", 14), ("iPhone17,3", 16), ("iPhone16,2", 14), ("iPhone16,1", 10),
               ("iPhone15,4", 14), ("iPhone15,2", 10), ("iPhone14,7", 12), ("iPhone14,5", 10))
IOS_VERSIONS = (("26.1", 40), ("26.0.1", 22), ("18.7.2", 20), ("18.6.2", 12), ("17.7", 6))
IOS_SCREENS = {"iPhone17,1": (402, 874), "iPhone17,3": (393, 852), "iPhone16,2": (430, 932),
               "iPhone16,1": (393, 852), "iPhone15,4": (393, 852), "iPhone15,2": (393, 852),
               "iPhone14,7": (390, 844), "iPhone14,5": (390, 844)}

LIBRARIES = {
    "ajs": {"name": "analytics.js", "version": "npm:next-1.72.0"},
    "ajs_cdn": {"name": "analytics.js", "version": "next-1.72.0"},
    "ios": {"name": "analytics-ios", "version": "4.1.8"},
    "python": {"name": "analytics-python", "version": "2.4.0"},
    "rudder": {"name": "RudderLabs JavaScript SDK", "version": "3.11.3"},
}

# Campaigns (utm_*) seen on roughly 15% of events.
CAMPAIGNS = {
    "acme-shop": (("google", "cpc", "autumn_sale_2026", "running shoes"), ("newsletter", "email", "nov_week2_drops", None),
                  ("instagram", "paid_social", "black_friday_preview", None), ("awin", "affiliate", "evergreen", None)),
    "flowboard": (("google", "cpc", "brand_search", "flowboard pricing"), ("linkedin", "paid_social", "q4_ops_leaders", None),
                  ("g2", "referral", "g2_profile", None), ("newsletter", "email", "product_update_nov", None)),
    "northwind": (("google", "cpc", "winter_gear", "down jacket"), ("newsletter", "email", "home_weekly", None),
                  ("pinterest", "paid_social", "kids_holiday_gifts", None), ("meta", "paid_social", "outdoor_retargeting", None)),
}
REFERRERS = ("https://www.google.com/", "https://www.google.com/", "https://duckduckgo.com/", "https://www.bing.com/",
             "https://www.instagram.com/", "https://t.co/", "", "", "")

# Per-destination integration switches, seen on a few percent of events.
INTEGRATION_SWITCHES = (
    {"All": False, "Amplitude": True}, {"Google Ads": False}, {"Braze": False},
    {"Facebook Conversions API": False}, {"Mixpanel": False, "Google Analytics 4": True},
    {"All": False, "Segment.io": True, "Snowflake": True},
)

# Consent strings reused from /work/shared/vectors (valid vectors unless noted).
TCF_ALL = ("CPi8wgAPi8wgAAOACBENCuCoAP_AAEfAACiQJHNd_H__bX9n-f7_6ft0eY1f9_r37uQzDhfNk-8F3L_W_LwX_2E7NF36tq4KmR4ku1LBIUNtHMnUDUmxaokVrzHsak2cpzNKJ_BkknsZe2dYGF9vm5tj-QKZ7_5_d3f52T_9_9v-39z33913v3d93-_13LjdV5_9H_v9fR_b8_Kf9_5-_4v8_____3_e______8AEEggCTDVuIAuxLHAm0DCKBECMKwkKoFABBQDC0QGADg4KdlYBPrCBAAgFAEYEQIcAUYEAgAAAgCQiACQIsEAAAIgEAAIAEQiEABAwCCgAsDAIAAQDQMUQoABAkIMiAiKUwICIEggJbKhBKC6Q0wgCrLACgkRsFAAiAAAUgACAsHAMESAlYsECTFG-QAjBCgFEqFaAGGgAwABBI4RABgACCRwqADAAEEjgA",  # tcf-gppes-real-vlv174: purposes 1-10
           "COv_eg6Ov_eg6AOADBENAaCgAP_AAH_AACiQAVEUQQoAIQAqIoghAAQgAA.YAAAAAAAAAAAAAAAAAA.IGLtV_T9fb2vj-_Z99_tkeYwf95y3p-wzhheMs-8NyZeH_B4Wv2MyvBX4JiQKGRgksjLBAQdtHGlcTQgBwIlViTLMYk2MjzNKJrJEilsbO2dYGD9Pn8HT3ZCY70-vv__7v3ff_3g")  # tcf-gppes-segments-any-order: 1-10
TCF_PARTIAL = ("CLcVDxRMWfGmWAVAHCENAXCkAKDAADnAABRgA5mdfCKZuYJez-NQm0TBMYA4oCAAGQYIAAAAAAEAIAEgAA",  # tcf-perl-bitfield-full: 1,3,9,10
               "COtybn4PA_zT4KjACBENAPCIAEBAAECAAIAAAAAAAAAA")  # tcf-java-core-metadata: 2,10
TCF_NONE = ("CAAAAAAAAAAAAAAAAAENAACAAAAAAAAAAAAAAAAAAAAA.QAAA.IAAA",  # tcf-gppes-all-defaults: none
            "CPtGDMAPtGDMALMAAAENA_E_AAAAAAAAACiQAAAAAAAA")  # tcf-go-policy-version-4: none
# Full GPP strings: header + one section from the gpp vectors. DBABLA = [7] usnat, DBABBg = [8] usca.
GPP_USNAT = ("DBABLA~BVVVkkkkkpFY.YA", "DBABLA~CVVVkkkkkpFY.YA", "DBABLA~CAAAAAAAAABA.QA", "DBABLA~BVQqAAAACg")
GPP_USNAT_GPC = ("DBABLA~BVVVkkkkkpFY.YA", "DBABLA~CVVVkkkkkpFY.YA")  # Gpc subsection = true
GPP_USCA = "DBABBg~BVWSSSVY.YA"

# ----------------------------------------------------------------------------------------
# Small helpers.
# ----------------------------------------------------------------------------------------


def pick(rng: random.Random, weights: dict[str, float]) -> str:
    """One key of ``weights``, drawn with probability proportional to its value."""
    keys = list(weights)
    return rng.choices(keys, weights=[weights[k] for k in keys])[0]


def pick_pair(rng: random.Random, pairs: tuple[tuple[Any, float], ...]) -> Any:
    return rng.choices([p[0] for p in pairs], weights=[p[1] for p in pairs])[0]


def quota(rng: random.Random, n: int, weights: list[float]) -> list[int]:
    """``n`` bucket indices split in proportion to ``weights`` (largest remainder), shuffled."""
    total = sum(weights)
    exact = [n * w / total for w in weights]
    counts = [int(x) for x in exact]
    order = sorted(range(len(weights)), key=lambda i: (exact[i] - counts[i], rng.random()), reverse=True)
    for i in order[: n - sum(counts)]:
        counts[i] += 1
    out = [i for i, c in enumerate(counts) for _ in range(c)]
    rng.shuffle(out)
    return out


def uuid_from(rng: random.Random, upper: bool = False) -> str:
    """A version-4-shaped UUID made from RNG bits (deterministic, unlike uuid.uuid4)."""
    n = rng.getrandbits(128)
    n = (n & ~(0xF000 << 64)) | (0x4000 << 64)
    n = (n & ~(0xC000 << 48)) | (0x8000 << 48)
    h = f"{n:032x}"
    s = f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
    return s.upper() if upper else s


def hexid(rng: random.Random, n: int) -> str:
    return f"{rng.getrandbits(4 * n):0{n}x}"


def b36(rng: random.Random, n: int) -> str:
    alphabet = "0123456789abcdefghijklmnopqrstuvwxyz"
    return "".join(alphabet[rng.randrange(36)] for _ in range(n))


def iso(dt: datetime, style: str = "z") -> str:
    """ISO-8601 as each SDK writes it: 'z' (JS/iOS, ms + Z), 'py' (ms + +00:00), 'pyus' (µs + +00:00)."""
    base = dt.strftime("%Y-%m-%dT%H:%M:%S")
    if style == "pyus":
        return f"{base}.{dt.microsecond:06d}+00:00"
    ms = f"{dt.microsecond // 1000:03d}"
    return f"{base}.{ms}+00:00" if style == "py" else f"{base}.{ms}Z"


def ascii_slug(text: str) -> str:
    text = text.replace("ß", "ss").replace("ø", "o").replace("Ø", "O").replace("ł", "l").replace("Ł", "L")
    text = text.replace("æ", "ae").replace("'", "")
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(c if c.isalnum() else "." for c in text.lower()).strip(".")


def money(amount: float, currency: str) -> float | int:
    return int(round(amount)) if currency == "JPY" else round(amount, 2)


def shelf_price(usd: float, currency: str) -> float | int:
    """A catalogue price in ``currency`` that looks like a shelf price (…9.99, …95, ¥…00)."""
    v = usd * FX[currency]
    if currency == "JPY":
        return int(round(v, -2)) - 10 if v > 1000 else int(round(v))
    if v >= 1000:
        return float(int(round(v, -1)) - 1)
    if v >= 100:
        return round(int(v) + 0.95, 2)
    return round(int(v) + 0.99, 2)


def ipv4(rng: random.Random) -> str:
    net = rng.choice(("192.0.2", "198.51.100", "203.0.113"))
    return f"{net}.{rng.randint(1, 254)}"


def ipv6(rng: random.Random) -> str:
    return "2001:db8:" + ":".join(f"{rng.getrandbits(16):x}" for _ in range(6))


# ----------------------------------------------------------------------------------------
# The world: users, catalogues, companies.
# ----------------------------------------------------------------------------------------


@dataclass
class User:
    source: str
    platform: str  # web | ios
    library: str  # key of LIBRARIES for client-side events
    anonymous_id: str
    user_id: str
    jurisdiction: str
    country: str | None
    region: str | None
    locale: str
    tz: tuple[str, int]
    currency: str
    tax_rate: float
    ip: str
    user_agent: str | None
    first_name: str
    last_name: str
    email: str
    consent_state: str
    consent_format: str  # segment | rudderstack | onetrust
    tcf: str | None = None
    us_privacy: str | None = None
    gpp: str | None = None
    gpp_sid: list[int] | None = None
    gpc: bool = False
    activity: float = 1.0
    device: dict[str, Any] | None = None
    os_version: str | None = None
    brand: str | None = None
    company: dict[str, Any] | None = None
    high_intent: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


ACME_PRODUCTS = (
    ("Shoes", "Trailhead", "Trail Runner GTX", 149.0), ("Shoes", "Acme Basics", "Everyday Canvas Sneaker", 59.0),
    ("Shoes", "Kestrel & Co", "Merino Knit Loafer", 119.0), ("Shoes", "Trailhead", "Approach Hiker Mid", 179.0),
    ("Shoes", "Acme Basics", "Recycled Slide", 29.0), ("Apparel", "Urban Loom", "Organic Cotton Tee", 24.0),
    ("Apparel", "Urban Loom", "Relaxed Linen Shirt", 64.0), ("Apparel", "Trailhead", "Packable Rain Jacket", 129.0),
    ("Apparel", "Acme Basics", "Slim Stretch Chino", 69.0), ("Apparel", "Kestrel & Co", "Cashmere Crew Sweater", 189.0),
    ("Apparel", "Urban Loom", "Heavyweight Hoodie", 79.0), ("Apparel", "Trailhead", "Thermal Base Layer", 54.0),
    ("Accessories", "Kestrel & Co", "Full-Grain Leather Belt", 49.0), ("Accessories", "Acme Basics", "Canvas Tote Bag", 19.0),
    ("Accessories", "Trailhead", "Wool Beanie", 22.0), ("Accessories", "Kestrel & Co", "Minimal Card Wallet", 39.0),
    ("Accessories", "Urban Loom", "Everyday Backpack 22L", 89.0), ("Accessories", "Acme Basics", "Crew Socks 3-Pack", 14.0),
    ("Home", "Solace", "Linen Duvet Cover", 139.0), ("Home", "Solace", "Stoneware Mug Set", 34.0),
    ("Home", "Solace", "Waffle Bath Towel", 29.0), ("Home", "Acme Basics", "Scented Soy Candle", 18.0),
    ("Beauty", "Solace", "Daily Hand Cream", 12.0), ("Beauty", "Solace", "Sleep Pillow Mist", 16.0),
)
NORTHWIND_PRODUCTS = {
    "northwind-outdoor": (("Tents", "Ridge 2P Tent", 329.0), ("Jackets", "Summit Down Jacket", 249.0),
                          ("Backpacks", "Trek 45L Pack", 179.0), ("Sleeping", "Alpine -5 Sleeping Bag", 219.0),
                          ("Footwear", "Scree Trail Boot", 159.0), ("Accessories", "Titanium Camp Mug", 29.0)),
    "northwind-home": (("Kitchen", "Cast Iron Skillet 28cm", 69.0), ("Kitchen", "Chef's Knife 20cm", 89.0),
                       ("Bedding", "Percale Sheet Set", 119.0), ("Decor", "Wool Throw Blanket", 99.0),
                       ("Bath", "Organic Bath Towel Set", 59.0), ("Lighting", "Ceramic Table Lamp", 129.0)),
    "northwind-kids": (("Toys", "Wooden Building Blocks", 39.0), ("Toys", "Balance Bike", 129.0),
                       ("Clothing", "Puffer Snowsuit", 89.0), ("Clothing", "Rain Boots", 34.0),
                       ("Books", "Bedtime Stories Box Set", 29.0), ("Nursery", "Muslin Swaddle 3-Pack", 32.0)),
}
BRAND_HOSTS = {"northwind-outdoor": "outdoor.northwind.example", "northwind-home": "home.northwind.example",
               "northwind-kids": "kids.northwind.example"}
FLOWBOARD_PLANS = {"free": 0, "starter": 49, "team": 199, "business": 799, "enterprise": 2400}
COMPANY_WORDS = (("Blue", "Harbor", "Logistics"), ("Nimbus", "Analytics", "Retail"), ("Quarry", "Labs", "Software"),
                 ("Lumen", "Health", "Healthcare"), ("Vertex", "Freight", "Logistics"), ("Copper", "Media", "Media"),
                 ("Orbit", "Finance", "Financial Services"), ("Maple", "Studio", "Agency"), ("Granite", "Systems", "Manufacturing"),
                 ("Sable", "Energy", "Energy"), ("Tidal", "Commerce", "Retail"), ("Aster", "Bio", "Biotech"),
                 ("Kite", "Education", "Education"), ("Ember", "Foods", "Food & Beverage"), ("Pioneer", "Legal", "Legal"))
TITLES = (("Head of Operations", "admin"), ("Data Analyst", "member"), ("VP Marketing", "admin"),
          ("Product Manager", "member"), ("Finance Lead", "member"), ("Customer Success Manager", "member"),
          ("CTO", "admin"), ("Operations Associate", "viewer"), ("RevOps Manager", "admin"), ("Intern", "viewer"))


class World:
    """All users and catalogues, built once from the RNG before any event is drawn."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.acme_catalog = [self._acme_product(i, p) for i, p in enumerate(ACME_PRODUCTS)]
        self.nw_catalog = {b: [self._nw_product(b, i, p) for i, p in enumerate(ps)] for b, ps in NORTHWIND_PRODUCTS.items()}
        self.companies = [self._company(i, w) for i, w in enumerate(COMPANY_WORDS * 2)]
        self.pools: dict[tuple[str, str], list[User]] = {
            ("acme-shop", "web"): self._users("acme-shop", "web", 330),
            ("acme-shop", "ios"): self._users("acme-shop", "ios", 110),
            ("flowboard", "web"): self._users("flowboard", "web", 110),
            ("northwind", "web"): self._users("northwind", "web", 270),
        }

    # -- catalogues ---------------------------------------------------------------------
    def _acme_product(self, i: int, p: tuple[str, str, str, float]) -> dict[str, Any]:
        category, brand, name, usd = p
        return {"product_id": str(20000 + 317 * i + self.rng.randrange(300)), "sku": f"ACM-{category[:2].upper()}-{1000 + 37 * i}",
                "category": category, "name": name, "brand": brand, "usd": usd,
                "slug": ascii_slug(name).replace(".", "-")}

    def _nw_product(self, brand: str, i: int, p: tuple[str, str, float]) -> dict[str, Any]:
        category, name, usd = p
        code = brand.split("-")[1][:3].upper()
        return {"product_id": f"NW-{code}-{10021 + 113 * i}", "sku": f"{code}{4400 + 17 * i}-{self.rng.choice('SMLX')}",
                "category": category, "name": name, "brand": brand.replace("-", " ").title(),
                "usd": usd, "slug": ascii_slug(name).replace(".", "-")}

    def _company(self, i: int, words: tuple[str, str, str]) -> dict[str, Any]:
        rng = self.rng
        a, b, industry = words
        name = f"{a} {b}" if i < len(COMPANY_WORDS) else f"{b} {a} {rng.choice(('Group', 'GmbH', 'Inc.', 'BV', 'Ltd'))}"
        plan = pick(rng, {"free": 20, "starter": 25, "team": 30, "business": 18, "enterprise": 7})
        employees = {"free": (2, 20), "starter": (5, 60), "team": (20, 400), "business": (150, 2500), "enterprise": (1000, 20000)}[plan]
        seats = {"free": 1, "starter": rng.randint(2, 5), "team": rng.randint(5, 25), "business": rng.randint(20, 120),
                 "enterprise": rng.randint(100, 600)}[plan]
        mrr = FLOWBOARD_PLANS[plan] if plan in ("free", "starter") else FLOWBOARD_PLANS[plan] + 12 * seats
        return {"id": f"ws_{b36(rng, 10)}", "name": name, "industry": industry,
                "employees": rng.randint(*employees), "plan": plan, "mrr": mrr, "seats": seats,
                "domain": ascii_slug(f"{a}{b}").replace(".", "") + ".example"}

    # -- users --------------------------------------------------------------------------
    def _users(self, source: str, platform: str, n: int) -> list[User]:
        rng = self.rng
        groups = list(JURISDICTION_WEIGHTS[source])
        buckets = quota(rng, n, [JURISDICTION_WEIGHTS[source][g] for g in groups])
        states = list(US_REGIONS)
        us_regions = iter([states[k] for k in quota(rng, n, list(US_REGIONS.values()))])
        users = [self._user(source, platform, groups[b], next(us_regions)) for b in buckets]
        # Consent states are allotted by quota inside each jurisdiction, then the signals follow.
        for g in groups:
            members = [u for u in users if u.jurisdiction == g]
            weights = dict(zip(CONSENT_STATES, CONSENT_WEIGHTS[g]))
            for state, factor in SOURCE_CONSENT_BIAS[source].items():
                weights[state] *= factor
            for u, k in zip(members, quota(rng, len(members), list(weights.values()))):
                u.consent_state = CONSENT_STATES[k]
        self._assign_signals(users)
        return users

    def _place(self, jurisdiction: str, us_region: str) -> tuple[str | None, str | None, str]:
        """(country, region, country-for-language) for a jurisdiction group."""
        rng = self.rng
        if jurisdiction == "EEA":
            c = pick(rng, EEA_COUNTRIES)
        elif jurisdiction in ("GB", "CH", "US"):
            c = jurisdiction
        elif jurisdiction == "OTHER":
            c = pick(rng, OTHER_COUNTRIES)
        else:  # no location at all: still somebody, somewhere
            lang_c = pick(rng, {"US": 30, "DE": 15, "FR": 10, "GB": 10, "NL": 5, "ES": 5, "IT": 5, "BR": 5, "IN": 5, "JP": 5, "AU": 5})
            return None, None, lang_c
        region = us_region if c == "US" else pick(rng, CA_PROVINCES) if c == "CA" else None
        return c, region, c

    def _user(self, source: str, platform: str, jurisdiction: str, us_region: str) -> User:
        rng = self.rng
        country, region, lang_c = self._place(jurisdiction, us_region)
        locales, tz, currency, tax = COUNTRIES[lang_c]
        locale = rng.choice(locales)
        if lang_c == "US":
            state = region or us_region
            tz = US_STATE_INFO[state][:2]
            tax = US_STATE_INFO[state][2]
        elif lang_c == "CA" and region:
            tz = CA_PROVINCE_INFO[region][:2]
        if lang_c == "BE" and locale.startswith("fr"):
            lang = "fr"
        elif lang_c == "CH" and not locale.startswith("de"):
            lang = "fr" if locale.startswith("fr") else "it"
        elif lang_c == "CA" and locale.startswith("fr"):
            lang = "fr"
        else:
            lang = COUNTRY_LANG.get(lang_c, "en")
        first = rng.choice(NAMES[lang][0])
        last = rng.choice(NAMES[lang][1])
        mail_domain = rng.choice(("example.com", "example.com", "example.net", "example.org"))
        if source == "flowboard":
            company = rng.choice(self.companies)
            mail_domain = company["domain"]
        else:
            company = None
        email = f"{ascii_slug(first)}.{ascii_slug(last)}{rng.choice(('', '', str(rng.randint(1, 99))))}@{mail_domain}"
        library = {"ios": "ios"}.get(platform) or ("rudder" if source == "flowboard" and rng.random() < 0.5 else
                                                     "ajs_cdn" if rng.random() < 0.3 else "ajs")
        user_id = {"acme-shop": lambda: f"cus_{b36(rng, 12)}", "flowboard": lambda: f"u_{hexid(rng, 16)}",
                   "northwind": lambda: f"NW{rng.randint(10_000_000, 99_999_999)}"}[source]()
        mobile_v6 = 0.45 if platform == "ios" else 0.12
        ip = ipv6(rng) if rng.random() < mobile_v6 else ipv4(rng)
        u = User(
            source=source, platform=platform, library=library,
            anonymous_id=uuid_from(rng, upper=(platform == "ios")), user_id=user_id,
            jurisdiction=jurisdiction, country=country, region=region, locale=locale, tz=tz,
            currency=currency if source != "flowboard" else "USD", tax_rate=tax, ip=ip,
            user_agent=None if platform == "ios" else pick_pair(rng, tuple((ua, w) for w, ua in USER_AGENTS)),
            first_name=first, last_name=last, email=email,
            consent_state="none", consent_format="segment",
            activity=rng.choice((0.7, 0.85, 1.0, 1.0, 1.2, 1.5, 2.0)), company=company,
        )
        u.extra["city"] = self._city(lang_c, region)
        u.extra["lang"] = lang
        if platform == "ios":
            model = pick_pair(rng, IOS_DEVICES)
            att = rng.random() < 0.22  # App Tracking Transparency authorised
            u.device = {"id": uuid_from(rng, upper=True), "manufacturer": "Apple", "model": model,
                        "name": "iPhone", "type": "ios", "adTrackingEnabled": att}
            if att:
                u.device["advertisingId"] = uuid_from(rng, upper=True)
            u.os_version = pick_pair(rng, IOS_VERSIONS)
            u.extra["app"] = rng.choice((("5.14.0", "51400"), ("5.14.0", "51400"), ("5.13.2", "51302"), ("5.12.1", "51201")))
        if source == "northwind":
            u.brand = pick(rng, {"northwind-outdoor": 45, "northwind-home": 35, "northwind-kids": 20})
            existing = rng.random() < 0.45
            u.extra["customer_status"] = "existing" if existing else "prospect"
            u.extra["ltv"] = round(rng.lognormvariate(5.3, 0.8), 2) if existing else 0
        if source == "flowboard":
            u.high_intent = rng.random() < 0.12
            if u.high_intent:
                u.activity *= 3.5
            u.extra["title"], u.extra["role"] = rng.choice(TITLES)
        if source == "acme-shop":
            u.extra["tier"] = pick(rng, {"member": 45, "silver": 30, "gold": 18, "platinum": 7})
            u.extra["birthday"] = f"{rng.randint(1958, 2006)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        return u

    def _city(self, c: str, region: str | None) -> str:
        if c == "US":
            return self.rng.choice(US_STATE_INFO[region or "NY"][3])
        if c == "CA":
            return self.rng.choice(CA_PROVINCE_INFO[region or "ON"][2])
        return self.rng.choice(CITIES[c])

    def _assign_signals(self, users: list[User]) -> None:
        """Consent format and IAB signals for a pool whose consent states are set.

        Shares are allotted by expected event volume (``self._flags``), so the event-level mix
        does not hinge on which few busy users happen to draw a signal.
        """
        rng = self.rng
        onetrust = self._flags(users, 0.30)
        for u, ot in zip(users, onetrust):
            if u.library == "rudder":
                u.consent_format = "rudderstack"
            elif u.source == "northwind" and ot:
                u.consent_format = "onetrust"
                if u.consent_state == "none":
                    u.consent_state = rng.choice(("all_true", "analytics_functional", "all_false"))
        # TCF on acme-shop web in the EEA/GB: ~40% valid strings, a few truncated ones.
        eu = [u for u in users if u.source == "acme-shop" and u.platform == "web"
              and u.jurisdiction in ("EEA", "GB") and u.consent_format == "segment"]
        for u, valid in zip(eu, self._flags(eu, 0.40)):
            if valid:
                u.tcf = self._tcf_for(u.consent_state)
        rest = [u for u in eu if not u.tcf]
        for u, cut in zip(rest, self._flags(rest, 0.02 / 0.60)):
            if cut:  # cut short by a cookie size limit or a proxy: must be rejected, not guessed
                u.tcf = rng.choice(TCF_ALL + TCF_PARTIAL)[: rng.randint(12, 30)]
        # US: GPC (browsers only), the legacy US Privacy string (acme-shop) and GPP strings.
        us = [u for u in users if u.country == "US"]
        gpc = self._flags(us, 0.14 if users[0].platform == "web" else 0.0)
        usp = self._flags(us, 0.30 if users[0].source == "acme-shop" else 0.0)
        gpp = self._flags(us, 0.10)
        for u, g, p, q in zip(us, gpc, usp, gpp):
            u.gpc = g
            if p:
                u.us_privacy = "1YYN" if g else pick(rng, {"1YNN": 62, "1YYN": 18, "1---": 14, "1YNY": 6})
            if q:
                if u.region == "CA" and rng.random() < 0.5:
                    u.gpp, u.gpp_sid = GPP_USCA, [8]
                else:
                    u.gpp = rng.choice(GPP_USNAT_GPC if g else GPP_USNAT)
                    u.gpp_sid = [7]

    def _flags(self, users: list[User], p: float) -> list[bool]:
        """One flag per user; the flagged users together carry about ``p`` of the pool's activity."""
        order = list(range(len(users)))
        self.rng.shuffle(order)
        target, acc = p * sum(u.activity for u in users), 0.0
        out = [False] * len(users)
        for i in order:
            if acc + users[i].activity / 2 <= target:
                out[i] = True
                acc += users[i].activity
        return out

    def _tcf_for(self, state: str) -> str:
        if state == "all_true":
            return self.rng.choice(TCF_ALL)
        if state in ("all_false", "none"):
            return self.rng.choice(TCF_NONE)
        return self.rng.choice(TCF_PARTIAL)

    def user(self, source: str, platform: str, jurisdiction: str) -> User:
        """A user of ``source`` on ``platform`` in ``jurisdiction``; busier users come up more often."""
        pool = [u for u in self.pools[(source, platform)] if u.jurisdiction == jurisdiction] or self.pools[(source, platform)]
        return self.rng.choices(pool, weights=[u.activity for u in pool])[0]


# ----------------------------------------------------------------------------------------
# Consent rendering.
# ----------------------------------------------------------------------------------------


def category_preferences(rng: random.Random, state: str) -> dict[str, Any] | None:
    """Segment ``context.consent.categoryPreferences`` for a state (keys in alphabetical order)."""
    if state == "none":
        return None
    r = rng.random()
    if r < EMPTY_PREFS_RATE:
        return {}
    t = {"all_true": (True, True, True, True), "analytics_functional": (False, True, True, False),
         "analytics_only": (False, True, False, False), "all_false": (False, False, False, False),
         "all_but_analytics": (True, False, True, True)}
    if state == "no_advertising_key":
        prefs: dict[str, Any] = {"Analytics": True, "Functional": True, "Personalization": True}
    else:
        adv, ana, fun, per = t[state]
        prefs = {"Advertising": adv, "Analytics": ana, "Functional": fun, "Personalization": per}
    if r < EMPTY_PREFS_RATE + JUNK_RATE:
        key = rng.choice(sorted(prefs))
        prefs[key] = rng.choice(({True: "true", False: "false"}[prefs[key]], int(prefs[key])))
    return prefs


def onetrust_groups(rng: random.Random, state: str) -> str:
    """OneTrust groups string: C0001 necessary, C0002 performance, C0003 functional, C0004 targeting."""
    ana, fun, adv = {"all_true": (1, 1, 1), "analytics_functional": (1, 1, 0), "analytics_only": (1, 0, 0),
                     "all_false": (0, 0, 0), "no_advertising_key": (1, 1, 0), "all_but_analytics": (0, 1, 1)}[state]
    groups = f"C0001:1,C0002:{ana},C0003:{fun},C0004:{adv}"
    return groups + f",C0005:{adv}" if rng.random() < 0.5 else groups


def rudder_consent(state: str) -> dict[str, Any]:
    """RudderStack ``context.consentManagement`` with OneTrust ids (C0005 social follows C0004)."""
    ana, fun, adv = {"all_true": (1, 1, 1), "analytics_functional": (1, 1, 0), "analytics_only": (1, 0, 0),
                     "all_false": (0, 0, 0), "no_advertising_key": (1, 1, 0), "all_but_analytics": (0, 1, 1),
                     "none": (1, 1, 1)}[state]
    granted = {"C0001": 1, "C0002": ana, "C0003": fun, "C0004": adv, "C0005": adv}
    return {"provider": "oneTrust",
            "allowedConsentIds": [k for k, v in granted.items() if v],
            "deniedConsentIds": [k for k, v in granted.items() if not v],
            "resolutionStrategy": "and"}


# ----------------------------------------------------------------------------------------
# Event assembly.
# ----------------------------------------------------------------------------------------

TOP_ORDER = ("type", "event", "name", "category", "messageId", "anonymousId", "userId", "previousId",
             "groupId", "channel", "traits", "properties", "context", "integrations",
             "originalTimestamp", "timestamp", "sentAt", "receivedAt")
CONTEXT_ORDER = ("library", "app", "device", "os", "screen", "network", "ip", "userAgent", "locale",
                 "timezone", "page", "campaign", "location", "traits", "groupId", "sessionId",
                 "consent", "consentManagement", "gpc", "brand", "source")


def ordered(d: dict[str, Any], order: tuple[str, ...]) -> dict[str, Any]:
    """``d`` with keys in ``order`` (stable key order in every line), dropping ABSENT values."""
    out = {k: d[k] for k in order if k in d and d[k] is not ABSENT}
    assert len(out) == sum(1 for v in d.values() if v is not ABSENT), sorted(set(d) - set(order))
    return out


@dataclass
class Draft:
    """One planned event before its content is rendered."""
    source: str
    etype: str
    user: User
    platform: str
    event: str | None = None
    server: bool = False  # sent by analytics-python from a backend
    when: datetime | None = None


class Generator:
    """seed + count -> the list of events: plan the drafts, schedule them, render, add retries."""

    def __init__(self, seed: int, count: int) -> None:
        if count < 1:
            raise ValueError("count must be positive")
        self.rng = random.Random(seed)
        self.count = count
        self.world = World(self.rng)
        self.carts: dict[str, str] = {}
        self.order_seq = 100_000 + self.rng.randrange(50_000)

    # -- planning -----------------------------------------------------------------------
    def plan(self, n: int) -> list[Draft]:
        rng = self.rng
        # Source, type and jurisdiction shares are allotted by quota so the mix is stable across
        # seeds; which event gets which slot, and everything else, is random.
        # Track event names of acme-shop and northwind too; flowboard's depend on the user.
        sources = list(SOURCE_WEIGHTS)
        slots: list[tuple[str, str, str, str | None]] = [("", "", "", None)] * n
        by_source: dict[str, list[int]] = {s: [] for s in sources}
        for i, b in enumerate(quota(rng, n, [SOURCE_WEIGHTS[s] for s in sources])):
            by_source[sources[b]].append(i)
        track_names = {"acme-shop": ACME_TRACK, "northwind": NORTHWIND_TRACK}
        for s, idxs in by_source.items():
            types, jurs = list(TYPE_WEIGHTS[s]), list(JURISDICTION_WEIGHTS[s])
            tq = quota(rng, len(idxs), [TYPE_WEIGHTS[s][t] for t in types])
            jq = quota(rng, len(idxs), [JURISDICTION_WEIGHTS[s][j] for j in jurs])
            names: list[str | None] = [None] * sum(1 for t in tq if types[t] == "track")
            if s in track_names:
                keys = list(track_names[s])
                names = [keys[k] for k in quota(rng, len(names), list(track_names[s].values()))]
            it = iter(names)
            for i, t, j in zip(idxs, tq, jq):
                slots[i] = (s, types[t], jurs[j], next(it) if types[t] == "track" else None)
        drafts = [getattr(self, "_plan_" + s.replace("-", "_"))(t, j, e) for s, t, j, e in slots]
        self._schedule(drafts)
        return drafts

    def _plan_acme_shop(self, etype: str, jur: str, event: str | None) -> Draft:
        rng = self.rng
        if etype == "screen":
            platform = "ios"
        elif etype == "page":
            platform = "web"
        elif event == "Order Completed":
            platform = "ios" if rng.random() < 0.25 else "web"
        else:
            platform = "ios" if rng.random() < 0.30 else "web"
        user = self.world.user("acme-shop", platform, jur)
        if event == "Segment Consent Preference Updated" and user.consent_state == "none":
            event = "Product Viewed"  # ingestion rejects this event without categoryPreferences
        return Draft("acme-shop", etype, user, platform, event)

    def _plan_flowboard(self, etype: str, jur: str, event: str | None) -> Draft:
        user = self.world.user("flowboard", "web", jur)
        if etype == "track":
            event = pick(self.rng, FLOWBOARD_TRACK_HIGH_INTENT if user.high_intent else FLOWBOARD_TRACK)
        # The billing backend reports plan changes and seats for Segment-SDK workspaces.
        server = (event in ("Plan Upgraded", "Seat Added") and user.library != "rudder" and self.rng.random() < 0.7)
        return Draft("flowboard", etype, user, "web", event, server)

    def _plan_northwind(self, etype: str, jur: str, event: str | None) -> Draft:
        rng = self.rng
        user = self.world.user("northwind", "web", jur)
        if event == "Segment Consent Preference Updated" and (user.consent_format != "segment" or user.consent_state == "none"):
            event = "Product Viewed"
        server = (event == "Order Completed" and rng.random() < 0.6) or (etype == "identify" and rng.random() < 0.5)
        return Draft("northwind", etype, user, "web", event, server)

    def _schedule(self, drafts: list[Draft]) -> None:
        """Give every draft a UTC timestamp: day by quota (smooth daily totals), hour by a local-time curve."""
        rng = self.rng
        day_w = {
            "acme-shop": (1.15, 0.95, 0.9, 0.95, 1.0, 1.05, 1.2),
            "flowboard": (0.35, 1.2, 1.25, 1.2, 1.15, 0.95, 0.3),
            "northwind": (1.1, 0.95, 0.95, 1.0, 1.0, 1.0, 1.1),
        }
        groups: dict[str, list[int]] = {}
        for i, d in enumerate(drafts):
            # The checkout funnel is spread evenly over the days (per platform), so the planted
            # drop stands out of the noise of a small sample.
            funnel = d.event in ("Checkout Started", "Order Completed")
            key = f"{d.source}/{d.event}/{d.platform}" if funnel else d.source
            groups.setdefault(key, []).append(i)
        for key, idxs in groups.items():
            w = day_w[key.split("/")[0]]
            weights = [w[d % 7] * (1 + 0.012 * d) for d in range(DAYS)]
            for i, day in zip(idxs, quota(rng, len(idxs), weights)):
                drafts[i].when = self._time_on(day, drafts[i])

    def _time_on(self, day: int, d: Draft) -> datetime:
        rng = self.rng
        if d.source == "flowboard":
            curve = (1, 1, 1, 1, 1, 2, 4, 8, 14, 18, 18, 17, 14, 16, 17, 16, 13, 9, 6, 4, 3, 2, 2, 1)
        else:
            curve = (4, 2, 1, 1, 1, 2, 4, 7, 9, 10, 11, 12, 13, 12, 12, 12, 13, 15, 18, 21, 22, 19, 13, 8)
        local_hour = rng.choices(range(24), weights=curve)[0]
        seconds = ((local_hour * 60 - d.user.tz[1]) % 1440) * 60 + rng.randrange(3600)
        return WINDOW_START + timedelta(days=day, seconds=seconds, microseconds=rng.randrange(1_000_000))

    # -- rendering ----------------------------------------------------------------------
    def render(self, d: Draft) -> dict[str, Any]:
        rng = self.rng
        u = d.user
        # The planted incident: the web "Order Completed" tag is broken for the whole anomaly
        # day, so those calls never arrive; the slot goes to an ordinary page view instead, which
        # keeps the daily totals and the rest of the funnel unchanged.
        if (d.source == "acme-shop" and d.event == "Order Completed" and d.platform == "web"
                and d.when is not None and d.when.date() == ANOMALY_DAY):
            d.etype, d.event = "page", None
            body = self._acme_page()
        else:
            body = getattr(self, "_render_" + d.source.replace("-", "_"))(d)
        lib_key = "python" if d.server else u.library
        ev: dict[str, Any] = {"type": d.etype, **body}
        ev["messageId"] = self._message_id(lib_key)
        if lib_key == "rudder":
            ev["channel"] = "web"
        self._identity(ev, d, lib_key)
        ev["context"] = self._context(d, lib_key, body.pop("_ctx", {}), ev)
        ev.pop("_ctx", None)
        ev["integrations"] = self._integrations(lib_key)
        self._times(ev, d, lib_key)
        out = ordered(ev, TOP_ORDER)
        out["context"] = ordered(out["context"], CONTEXT_ORDER)
        return out

    def _message_id(self, lib: str) -> str:
        rng = self.rng
        if lib in ("ajs", "ajs_cdn"):
            return f"ajs-next-{hexid(rng, 32)}"
        if lib == "ios":
            return uuid_from(rng, upper=True)
        return uuid_from(rng)

    def _identity(self, ev: dict[str, Any], d: Draft, lib: str) -> None:
        rng = self.rng
        u = d.user
        always_known = d.etype in ("identify", "group", "alias") or d.server or d.event in (
            "Order Completed", "Plan Upgraded", "Seat Added", "Workspace Created", "Signed In", "Signed Up",
            "Trial Started", "Segment Consent Preference Updated")
        p_known = {"acme-shop": 0.50, "flowboard": 0.68, "northwind": 0.46}[d.source]
        known = always_known or rng.random() < p_known
        if d.server:
            ev["anonymousId"] = u.anonymous_id if rng.random() < 0.45 else None
        else:
            ev["anonymousId"] = u.anonymous_id
        if d.etype == "alias":
            ev["previousId"] = u.anonymous_id
        if known:
            ev["userId"] = u.user_id
        elif lib in ("ios", "rudder") or (lib in ("ajs", "ajs_cdn") and rng.random() < 0.3):
            ev["userId"] = ABSENT
        else:
            ev["userId"] = None

    def _integrations(self, lib: str) -> dict[str, Any]:
        rng = self.rng
        if lib == "rudder":  # the RudderStack SDK always sends All: true; switches are added to it
            if rng.random() < 0.045:
                return {"All": True, **rng.choice([sw for sw in INTEGRATION_SWITCHES if "All" not in sw])}
            return {"All": True}
        return dict(rng.choice(INTEGRATION_SWITCHES)) if rng.random() < 0.045 else {}

    def _times(self, ev: dict[str, Any], d: Draft, lib: str) -> None:
        rng = self.rng
        ts = d.when
        assert ts is not None
        if lib == "ios":
            delay = timedelta(seconds=rng.uniform(0.3, 30.0))
            if rng.random() < 0.02:  # queued offline, flushed later
                delay = timedelta(minutes=rng.uniform(5, 180))
        elif lib == "python":
            delay = timedelta(seconds=rng.uniform(0.05, 0.5))
        else:
            delay = timedelta(milliseconds=rng.uniform(8, 900))
        sent = ts + delay
        received = sent + timedelta(milliseconds=rng.uniform(25, 450))
        style = "py" if lib == "python" else "z"
        if lib == "rudder":
            ev["originalTimestamp"] = iso(ts)
        ev["timestamp"] = iso(ts, style)
        ev["sentAt"] = iso(sent, "pyus" if lib == "python" else "z")
        ev["receivedAt"] = iso(received)

    def _context(self, d: Draft, lib: str, extra: dict[str, Any], ev: dict[str, Any]) -> dict[str, Any]:
        rng = self.rng
        u = d.user
        ctx: dict[str, Any] = {"library": dict(LIBRARIES[lib])}
        if lib == "ios":
            app_v, build = u.extra["app"]
            w, h = IOS_SCREENS[u.device["model"]]  # type: ignore[index]
            ctx["app"] = {"name": "Acme Shop", "version": app_v, "build": build, "namespace": "example.acme.shop"}
            ctx["device"] = dict(u.device or {})
            ctx["os"] = {"name": "iOS", "version": u.os_version}
            ctx["screen"] = {"width": w, "height": h, "density": 3}
            wifi = rng.random() < 0.6
            ctx["network"] = {"wifi": wifi, "cellular": not wifi}
        elif lib == "rudder":
            ctx["app"] = {"build": "1.0.0", "name": "RudderLabs JavaScript SDK",
                          "namespace": "com.rudderlabs.javascript", "version": LIBRARIES["rudder"]["version"]}
        if lib != "python" or rng.random() < 0.5:
            ctx["ip"] = u.ip
        if lib not in ("python", "ios"):
            ctx["userAgent"] = u.user_agent
        if lib != "python":
            ctx["locale"] = u.locale
        if lib == "ios":
            ctx["timezone"] = u.tz[0]
        if lib not in ("python", "ios"):
            page = extra.pop("page", None) or self._default_page(d)
            campaign = None
            if rng.random() < 0.18:
                src, medium, name, term = rng.choice(CAMPAIGNS[d.source])
                campaign = {"name": name, "source": src, "medium": medium}
                if term:
                    campaign["term"] = term
                query = f"?utm_source={src}&utm_medium={medium}&utm_campaign={name}"
                page = dict(page, search=query, url=page["url"].split("?")[0] + query)
                if d.etype == "page":
                    ev["properties"].update(search=page["search"], url=page["url"])
            ctx["page"] = page
            if campaign:
                ctx["campaign"] = campaign
        if u.country:
            loc: dict[str, Any] = {"country": u.country}
            if u.region:
                loc["region"] = u.region
            if lib == "ios":
                loc["city"] = u.extra["city"]
            ctx["location"] = loc
        traits = extra.pop("traits", None)
        if traits:
            ctx["traits"] = traits
        elif lib == "rudder":
            ctx["traits"] = {"email": u.email} if ev.get("userId") not in (None, ABSENT) else {}
        if extra.get("groupId"):
            ctx["groupId"] = extra.pop("groupId")
        if lib == "rudder":
            ctx["sessionId"] = int(d.when.timestamp() * 1000) - rng.randrange(60_000, 1_800_000)  # type: ignore[union-attr]
        consent = self._consent(d, lib)
        if consent is not None:
            ctx["consent"] = consent
        if u.consent_format == "rudderstack" and lib == "rudder":
            ctx["consentManagement"] = rudder_consent(u.consent_state)
        if u.gpc and lib not in ("python", "ios"):
            ctx["gpc"] = True
        if u.brand:
            ctx["brand"] = u.brand
        ctx["source"] = d.source
        return ctx

    def _consent(self, d: Draft, lib: str) -> dict[str, Any] | None:
        rng = self.rng
        u = d.user
        if lib == "rudder":
            return None
        if lib == "python" and rng.random() < 0.25:
            return None  # a backend that forgets to forward the stored preferences
        consent: dict[str, Any] = {}
        if u.consent_format == "onetrust":
            consent["onetrust"] = onetrust_groups(rng, u.consent_state)
        else:
            prefs = category_preferences(rng, u.consent_state)
            if prefs is not None:
                consent["categoryPreferences"] = prefs
        if u.tcf and lib in ("ajs", "ajs_cdn"):
            consent["tcf"] = u.tcf
        if u.us_privacy:
            consent["us_privacy"] = u.us_privacy
        if u.gpp:
            consent["gpp"] = u.gpp
            consent["gpp_sid"] = list(u.gpp_sid or [])
        return consent or None

    # -- pages ----------------------------------------------------------------------------
    def _page_obj(self, host: str, path: str, title: str, referrer: str | None = None) -> dict[str, Any]:
        ref = referrer if referrer is not None else self.rng.choice(REFERRERS + (f"https://{host}/",) * 4)
        return {"path": path.split("?")[0], "referrer": ref,
                "search": ("?" + path.split("?", 1)[1]) if "?" in path else "",
                "title": title, "url": f"https://{host}{path}"}

    def _default_page(self, d: Draft) -> dict[str, Any]:
        u = d.user
        if d.source == "acme-shop":
            return self._page_obj("shop.acme.example", "/", "Acme Shop – New season essentials")
        if d.source == "flowboard":
            return self._page_obj("app.flowboard.example", "/dashboard", "Dashboard · Flowboard")
        host = BRAND_HOSTS[u.brand or "northwind-outdoor"]
        return self._page_obj(host, "/", f"{(u.brand or '').replace('-', ' ').title()} | Official store")

    def _page_event(self, host: str, name: str, category: str | None, path: str, title: str) -> dict[str, Any]:
        page = self._page_obj(host, path, title)
        props = {"name": name}
        if category:
            props["category"] = category
        props.update(page)
        body: dict[str, Any] = {"name": name, "properties": props, "_ctx": {"page": page}}
        if category:
            body["category"] = category
        return body

    # -- acme-shop --------------------------------------------------------------------------
    def _acme_page(self) -> dict[str, Any]:
        rng = self.rng
        p = rng.choice(self.world.acme_catalog)
        name, category, path = pick_pair(rng, (
            (("Home", None, "/"), 20), (("Category", p["category"], f"/c/{p['category'].lower()}"), 18),
            (("Product", p["category"], f"/p/{p['slug']}"), 26), (("Search", None, f"/search?q={p['category'].lower()}"), 8),
            (("Cart", "Checkout", "/cart"), 8), (("Checkout", "Checkout", "/checkout"), 6),
            (("Order Confirmation", "Checkout", "/checkout/confirmation"), 4),
            (("Account", None, "/account"), 5), (("Help", "Support", "/help/returns"), 4)))
        if name == "Product":
            title = f"{p['name']} – {p['brand']} | Acme Shop"
        elif name == "Home":
            title = "Acme Shop – New season essentials"
        else:
            title = f"{category if name == 'Category' else name} | Acme Shop"
        return self._page_event("shop.acme.example", name, category, path, title)

    def _acme_item(self, u: User, p: dict[str, Any], qty: int = 1) -> dict[str, Any]:
        return {"product_id": p["product_id"], "sku": p["sku"], "category": p["category"], "name": p["name"],
                "brand": p["brand"], "price": shelf_price(p["usd"], u.currency), "quantity": qty}

    def _cart_id(self, u: User) -> str:
        if u.anonymous_id not in self.carts or self.rng.random() < 0.15:
            self.carts[u.anonymous_id] = hexid(self.rng, 16)
        return self.carts[u.anonymous_id]

    def _order(self, u: User, items: list[dict[str, Any]], coupon: str | None) -> dict[str, Any]:
        rng = self.rng
        cur = u.currency
        subtotal = sum(i["price"] * i["quantity"] for i in items)
        discount = money(subtotal * rng.choice((0.1, 0.15, 0.2)), cur) if coupon else 0
        revenue = money(subtotal - discount, cur)
        free_ship = revenue >= 75 * FX[cur]
        shipping = 0 if free_ship else money(4.95 * FX[cur], cur)
        tax = money(revenue * u.tax_rate, cur)
        self.order_seq += rng.randint(1, 40)
        out = {"checkout_id": hexid(rng, 16), "order_id": f"AS-{self.order_seq}", "affiliation": "Acme Shop",
               "total": money(revenue + tax + shipping, cur), "revenue": revenue, "shipping": shipping,
               "tax": tax, "discount": discount}
        if coupon:
            out["coupon"] = coupon
        out["currency"] = cur
        out["products"] = [dict(i, position=n + 1) for n, i in enumerate(items)]
        return out

    def _render_acme_shop(self, d: Draft) -> dict[str, Any]:
        rng = self.rng
        u = d.user
        cat = self.world.acme_catalog
        if d.etype == "page":
            return self._acme_page()
        if d.etype == "screen":
            p = rng.choice(cat)
            name = pick(rng, {"Home": 22, "Product Detail": 30, "Search Results": 12, "Category": 14,
                              "Cart": 9, "Checkout": 6, "Order Confirmation": 3, "Account": 4})
            props: dict[str, Any] = {"name": name}
            if name == "Product Detail":
                props.update(product_id=p["product_id"], category=p["category"])
            elif name == "Category":
                props["category"] = p["category"]
            return {"name": name, "properties": props}
        if d.etype == "identify":
            traits = self._acme_traits(u)
            return {"traits": traits}
        if d.etype == "alias":
            return {}
        ev = d.event
        props = {}
        ctx: dict[str, Any] = {}
        if ev == "Products Searched":
            props = {"query": rng.choice(("running shoes", "rain jacket", "linen", "gift for dad", "hoodie",
                                          "wool socks", "backpack", "merino", "candle", "belt"))}
        elif ev == "Product List Viewed":
            category = rng.choice(("Shoes", "Apparel", "Accessories", "Home", "Beauty"))
            shelf = [p for p in cat if p["category"] == category]
            items = rng.sample(shelf, min(3, len(shelf)))
            props = {"list_id": f"{category.lower()}-grid", "category": category,
                     "products": [{"product_id": p["product_id"], "sku": p["sku"], "name": p["name"],
                                   "price": shelf_price(p["usd"], u.currency), "position": n + 1}
                                  for n, p in enumerate(items)]}
        elif ev in ("Product Viewed", "Product Added"):
            p = rng.choice(cat)
            qty = 1 if ev == "Product Viewed" or rng.random() < 0.8 else 2
            item = self._acme_item(u, p, qty)
            props = dict(item, currency=u.currency, value=money(item["price"] * qty, u.currency))
            if ev == "Product Added":
                props = {"cart_id": self._cart_id(u), **props}
            props["url"] = f"https://shop.acme.example/p/{p['slug']}"
        elif ev in ("Cart Viewed", "Checkout Started", "Order Completed"):
            n = rng.choices((1, 2, 3, 4, 5), weights=(34, 30, 18, 11, 7))[0]
            items = [self._acme_item(u, p, 1 if rng.random() < 0.85 else 2) for p in rng.sample(cat, n)]
            if ev == "Cart Viewed":
                props = {"cart_id": self._cart_id(u), "products": items}
            elif ev == "Checkout Started":
                value = money(sum(i["price"] * i["quantity"] for i in items), u.currency)
                props = {"order_id": f"AS-{self.order_seq + rng.randint(1, 30)}", "value": value,
                         "revenue": value, "currency": u.currency, "products": items}
            else:
                coupon = rng.choice(("WELCOME10", "AUTUMN15", "VIP20")) if rng.random() < 0.25 else None
                props = self._order(u, items, coupon)
        elif ev == "Coupon Applied":
            code = rng.choice(("WELCOME10", "AUTUMN15", "VIP20"))
            props = {"order_id": f"AS-{self.order_seq + rng.randint(1, 30)}", "cart_id": self._cart_id(u),
                     "coupon_id": code.lower(), "coupon_name": code,
                     "discount": money(rng.uniform(4, 30) * FX[u.currency], u.currency)}
        elif ev == "Signed Up":
            props = {"method": rng.choice(("email", "email", "apple", "google")), "newsletter_opt_in": rng.random() < 0.4}
        elif ev == "Segment Consent Preference Updated":
            props = {}
        if u.platform == "web":
            ctx["page"] = self._acme_track_page(ev, props)
            if ev != "Segment Consent Preference Updated" and rng.random() < 0.3:
                ctx["traits"] = {"email": u.email}
        return {"event": ev, "properties": props, "_ctx": ctx}

    def _acme_track_page(self, ev: str | None, props: dict[str, Any]) -> dict[str, Any]:
        """context.page for a web track call: the page the shopper was on when it fired."""
        host = "shop.acme.example"
        if ev == "Products Searched":
            q = props["query"]
            return self._page_obj(host, f"/search?q={quote_plus(q)}", f"Search results for “{q}” | Acme Shop")
        if ev == "Product List Viewed":
            return self._page_obj(host, f"/c/{props['category'].lower()}", f"{props['category']} | Acme Shop")
        if ev in ("Product Viewed", "Product Added"):
            return self._page_obj(host, props["url"].split(host, 1)[1], f"{props['name']} – {props['brand']} | Acme Shop")
        path, title = {"Cart Viewed": ("/cart", "Cart | Acme Shop"), "Checkout Started": ("/checkout", "Checkout | Acme Shop"),
                       "Coupon Applied": ("/checkout", "Checkout | Acme Shop"),
                       "Order Completed": ("/checkout/confirmation", "Order Confirmation | Acme Shop"),
                       "Signed Up": ("/account/register", "Create account | Acme Shop")}.get(ev or "", ("/", "Acme Shop – New season essentials"))
        return self._page_obj(host, path, title)

    def _acme_traits(self, u: User) -> dict[str, Any]:
        rng = self.rng
        c = u.country or "US"
        street = rng.choice(STREETS.get(u.extra["lang"], STREETS["en"]))
        num = rng.randint(1, 180)
        street = f"{num} {street}" if u.extra["lang"] in ("en", "fr", "ja") else f"{street} {num}"
        traits: dict[str, Any] = {"email": u.email, "phone": self._phone(c), "first_name": u.first_name,
                                  "last_name": u.last_name,
                                  "address": {"street": street, "city": u.extra["city"],
                                              "postal_code": self._postal(c), "country": c},
                                  "birthday": u.extra["birthday"], "loyalty_tier": u.extra["tier"]}
        if rng.random() < 0.15:
            traits.pop("phone")
        if rng.random() < 0.3:
            traits.pop("address")
        return traits

    def _phone(self, c: str) -> str:
        prefix = PHONE_PREFIX.get(c, "+1")
        if c in ("US", "CA"):
            return f"+1{self.rng.choice(('202', '212', '415', '512', '617', '416', '604'))}55501{self.rng.randint(0, 99):02d}"
        return prefix + "".join(str(self.rng.randrange(10)) for _ in range(max(3, 12 - len(prefix) + 1)))

    def _postal(self, c: str) -> str:
        r = self.rng
        d = lambda n: "".join(str(r.randrange(10)) for _ in range(n))  # noqa: E731
        L = lambda: r.choice("ABCDEFGHJKLMNPRSTVWXY")  # noqa: E731
        return {"NL": lambda: f"{r.randint(1000, 9999)} {L()}{L()}", "SE": lambda: f"{d(3)} {d(2)}",
                "PL": lambda: f"{d(2)}-{d(3)}", "IE": lambda: f"D{d(2)} {L()}{d(3)}",
                "GB": lambda: f"{L()}{L()}{r.randint(1, 20)} {d(1)}{L()}{L()}",
                "CA": lambda: f"{L()}{d(1)}{L()} {d(1)}{L()}{d(1)}", "BR": lambda: f"{d(5)}-{d(3)}",
                "JP": lambda: f"{d(3)}-{d(4)}", "PT": lambda: f"{r.randint(1000, 9999)}-{d(3)}",
                "CZ": lambda: f"{r.randint(100, 799)} {d(2)}", "IN": lambda: f"{r.randint(110001, 700099)}",
                }.get(c, lambda: d(4) if c in ("AT", "BE", "CH", "DK", "NO", "AU") else d(5))()

    # -- flowboard --------------------------------------------------------------------------
    def _render_flowboard(self, d: Draft) -> dict[str, Any]:
        rng = self.rng
        u = d.user
        co = u.company or {}
        ws = co.get("id")
        if d.etype == "page":
            pricing = 0.7 if u.high_intent else 0.06
            name, category, host, path = pick_pair(rng, (
                (("Pricing", "Marketing", "www.flowboard.example", "/pricing"), pricing * 100),
                (("Dashboard", "App", "app.flowboard.example", "/dashboard"), 30),
                (("Reports", "App", "app.flowboard.example", f"/w/{ws}/reports"), 18),
                (("Integrations", "App", "app.flowboard.example", f"/w/{ws}/settings/integrations"), 10),
                (("Billing", "Settings", "app.flowboard.example", f"/w/{ws}/settings/billing"), 5),
                (("Getting Started", "Docs", "docs.flowboard.example", "/getting-started"), 10),
                (("Exporting Reports", "Docs", "docs.flowboard.example", "/reports/export"), 7),
                (("Salesforce Integration", "Docs", "docs.flowboard.example", "/integrations/salesforce"), 5),
                (("Home", "Marketing", "www.flowboard.example", "/"), 8)))
            title = f"{name} · Flowboard" if host.startswith("app") else f"{name} | Flowboard Docs" if host.startswith("docs") else f"Flowboard – {name}"
            return self._page_event(host, name, category, path, title)
        if d.etype == "identify":
            traits = {"email": u.email, "name": f"{u.first_name} {u.last_name}", "title": u.extra["title"],
                      "company": {"id": ws, "name": co.get("name"), "industry": co.get("industry"),
                                  "employee_count": co.get("employees"), "plan": co.get("plan")},
                      "role": u.extra["role"]}
            if u.library == "rudder":  # RudderStack puts identify traits under context.traits
                return {"_ctx": {"traits": traits}}
            return {"traits": traits}
        if d.etype == "group":
            return {"groupId": ws, "traits": {"name": co.get("name"), "industry": co.get("industry"),
                                              "employees": co.get("employees"), "plan": co.get("plan"),
                                              "mrr": co.get("mrr"), "website": f"https://www.{co.get('domain')}"}}
        if d.etype == "alias":
            return {}
        ev = d.event
        props: dict[str, Any] = {}
        if ev == "Signed Up":
            props = {"method": rng.choice(("email", "google", "microsoft")), "invited": rng.random() < 0.35}
        elif ev == "Signed In":
            props = {"method": rng.choice(("password", "google", "google", "sso", "magic_link"))}
        elif ev == "Workspace Created":
            props = {"workspace_id": ws, "workspace_name": co.get("name"), "plan": rng.choice(("free", "free", "starter"))}
        elif ev == "Integration Connected":
            props = {"integration_name": pick(rng, {"Slack": 30, "Salesforce": 20, "HubSpot": 20, "Jira": 15,
                                                    "Google Sheets": 10, "Snowflake": 5}),
                     "workspace_id": ws}
        elif ev == "Report Exported":
            props = {"report_id": f"rpt_{b36(rng, 10)}", "format": pick(rng, {"csv": 55, "xlsx": 30, "pdf": 15}),
                     "row_count": int(rng.lognormvariate(6.5, 1.4)), "workspace_id": ws}
        elif ev == "Trial Started":
            trial_end = (d.when or WINDOW_START) + timedelta(days=14)
            props = {"trial_plan": rng.choice(("team", "business")), "trial_days": 14,
                     "trial_end_date": trial_end.strftime("%Y-%m-%d"), "workspace_id": ws}
        elif ev == "Plan Upgraded":
            plans = list(FLOWBOARD_PLANS)
            i = rng.randrange(len(plans) - 1)
            j = rng.randint(i + 1, min(i + 2, len(plans) - 1))
            seats = co.get("seats", 1)
            props = {"from_plan": plans[i], "to_plan": plans[j], "mrr": FLOWBOARD_PLANS[plans[j]] + 12 * seats,
                     "currency": "USD", "billing_cycle": rng.choice(("monthly", "monthly", "annual")), "workspace_id": ws}
        elif ev == "Seat Added":
            props = {"workspace_id": ws, "seats_total": co.get("seats", 1) + rng.randint(1, 3),
                     "seat_role": rng.choice(("member", "member", "viewer", "admin"))}
        ctx: dict[str, Any] = {}
        if u.library != "rudder" and rng.random() < 0.6:
            ctx["groupId"] = ws  # B2B destinations read the account from context.groupId
        if not d.server:
            host, path = {"Signed Up": ("www.flowboard.example", "/signup"), "Signed In": ("app.flowboard.example", "/login"),
                          "Workspace Created": ("app.flowboard.example", "/onboarding/workspace"),
                          "Integration Connected": ("app.flowboard.example", f"/w/{ws}/settings/integrations"),
                          "Report Exported": ("app.flowboard.example", f"/w/{ws}/reports/{props.get('report_id')}"),
                          "Seat Added": ("app.flowboard.example", f"/w/{ws}/settings/members"),
                          }.get(ev or "", ("app.flowboard.example", f"/w/{ws}/settings/billing"))
            title = {"Signed Up": "Create your account", "Signed In": "Sign in", "Workspace Created": "Set up your workspace",
                     "Integration Connected": "Integrations", "Report Exported": "Reports", "Seat Added": "Members"}.get(ev or "", "Billing")
            ctx["page"] = self._page_obj(host, path, f"{title} · Flowboard", referrer="https://app.flowboard.example/dashboard")
        return {"event": ev, "properties": props, "_ctx": ctx}

    # -- northwind --------------------------------------------------------------------------
    def _render_northwind(self, d: Draft) -> dict[str, Any]:
        rng = self.rng
        u = d.user
        brand = u.brand or "northwind-outdoor"
        if rng.random() < 0.15:  # cross-brand shoppers
            brand = rng.choice(list(BRAND_HOSTS))
            u = replace(u, brand=brand)
            d.user = u
        host = BRAND_HOSTS[brand]
        nice = brand.replace("-", " ").title()
        cat = self.world.nw_catalog[brand]
        if d.etype == "page":
            p = rng.choice(cat)
            name, category, path = pick_pair(rng, (
                (("Home", None, "/"), 25), (("Product", p["category"], f"/products/{p['slug']}"), 35),
                (("Collection", p["category"], f"/collections/{p['category'].lower()}"), 20),
                (("Cart", "Checkout", "/cart"), 8), (("Stores", None, "/stores"), 4),
                (("Journal", "Content", "/journal/winter-layering-guide" if brand.endswith("outdoor") else "/journal/gift-guide"), 8)))
            title = f"{p['name']} | {nice}" if name == "Product" else f"{name} | {nice}"
            return self._page_event(host, name, category, path, title)
        if d.etype == "identify":
            traits = {"email": u.email, "first_name": u.first_name, "last_name": u.last_name,
                      "customer_status": u.extra["customer_status"], "lifetime_value": u.extra["ltv"],
                      "preferred_brand": u.brand, "newsletter": rng.random() < 0.5}
            if u.country:
                traits["country"] = u.country
            return {"traits": traits}
        if d.etype == "alias":
            return {}
        ev = d.event
        props: dict[str, Any] = {}
        cur = u.currency
        if ev in ("Product Viewed", "Product Added"):
            p = rng.choice(cat)
            price = shelf_price(p["usd"], cur)
            props = {"product_id": p["product_id"], "sku": p["sku"], "category": p["category"], "name": p["name"],
                     "brand": nice, "price": price, "quantity": 1, "currency": cur, "value": price,
                     "url": f"https://{host}/products/{p['slug']}"}
        elif ev == "Order Completed":
            n = rng.choices((1, 2, 3, 4, 5), weights=(40, 28, 17, 10, 5))[0]
            items = [{"product_id": p["product_id"], "sku": p["sku"], "name": p["name"], "category": p["category"],
                      "brand": nice, "price": shelf_price(p["usd"], cur), "quantity": 1} for p in rng.sample(cat, n)]
            subtotal = sum(i["price"] for i in items)
            shipping = 0 if subtotal > 100 * FX[cur] else money(6.9 * FX[cur], cur)
            tax = money(subtotal * u.tax_rate, cur)
            self.order_seq += rng.randint(1, 40)
            props = {"order_id": f"NW{self.order_seq}-{brand.split('-')[1][:1].upper()}", "total": money(subtotal + tax + shipping, cur),
                     "revenue": money(subtotal, cur), "tax": tax, "shipping": shipping, "discount": 0,
                     "currency": cur, "products": items}
        elif ev == "Newsletter Subscribed":
            props = {"list_id": f"{brand}-weekly", "list_name": f"{nice} Weekly",
                     "subscription_source": rng.choice(("footer", "popup", "checkout", "account"))}
        ctx: dict[str, Any] = {}
        if rng.random() < 0.35:
            ctx["traits"] = {"customer_status": u.extra["customer_status"]}
        if d.server:
            return {"event": ev, "properties": props, "_ctx": ctx}
        if "url" in props:
            path, title = props["url"].split(host, 1)[1], f"{props['name']} | {nice}"
        elif ev == "Order Completed":
            path, title = "/checkout/thank-you", f"Thank you for your order | {nice}"
        else:
            path, title = "/", f"{nice} | Official store"
        ctx["page"] = self._page_obj(host, path, title)
        return {"event": ev, "properties": props, "_ctx": ctx}

    # -- run ------------------------------------------------------------------------------
    def events(self) -> list[dict[str, Any]]:
        n_dup = round(self.count * DUPLICATE_RATE)
        drafts = self.plan(self.count - n_dup)
        rendered = [self.render(d) for d in drafts]
        rng = self.rng
        out = list(rendered)
        for original in rng.sample(rendered, n_dup):
            out.append(self._retry(original))
        out.sort(key=lambda e: (e["receivedAt"], e["messageId"]))
        return out

    def _retry(self, ev: dict[str, Any]) -> dict[str, Any]:
        """An SDK retry: identical payload and messageId; sentAt/receivedAt are refreshed."""
        rng = self.rng
        dup = json.loads(json.dumps(ev))
        sent = _parse(ev["sentAt"]) + timedelta(seconds=rng.choice((0.5, 1.0, 2.0, 4.0, 30.0)) + rng.uniform(0.2, 12))
        py = ev["context"]["library"]["name"] == "analytics-python"
        dup["sentAt"] = iso(sent, "pyus" if py else "z")
        dup["receivedAt"] = iso(sent + timedelta(milliseconds=rng.uniform(25, 450)))
        return dup


def _parse(s: str) -> datetime:
    return datetime.fromisoformat(s.replace("Z", "+00:00"))


# ----------------------------------------------------------------------------------------
# Output.
# ----------------------------------------------------------------------------------------


def generate(seed: int = DEFAULT_SEED, count: int = DEFAULT_COUNT) -> str:
    """The whole JSONL text for ``seed`` and ``count`` (what ``main`` writes)."""
    events = Generator(seed, count).events()
    return "".join(json.dumps(e, separators=(",", ":"), ensure_ascii=False) + "\n" for e in events)


def stats(text: str) -> str:
    """A short human-readable mix summary of a generated file."""
    from collections import Counter
    evs = [json.loads(line) for line in text.splitlines()]
    n = len(evs)

    def pct(c: Counter) -> str:
        return ", ".join(f"{k} {100 * v / n:.1f}%" for k, v in c.most_common())

    lines = [f"{n} events, {len(text.encode())} bytes, mean {len(text.encode()) / n:.0f} B/event"]
    lines.append("types: " + pct(Counter(e["type"] for e in evs)))
    lines.append("sources: " + pct(Counter(e["context"]["source"] for e in evs)))
    lines.append("jurisdiction: " + pct(Counter(jurisdiction_of(e) for e in evs)))
    lines.append("userId: " + pct(Counter("absent" if "userId" not in e else "null" if e["userId"] is None else "string" for e in evs)))
    lines.append("consent formats: " + pct(Counter(f for e in evs for f in consent_formats(e))))
    lines.append("categoryPreferences: " + pct(Counter(preference_state(e) for e in evs)))
    return "\n".join(lines)


EEA = {"AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE", "IT", "LV", "LT",
       "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE", "IS", "LI", "NO"}


def jurisdiction_of(e: dict[str, Any]) -> str:
    c = e["context"].get("location", {}).get("country")
    if c is None:
        return "none"
    return "EEA" if c in EEA else c if c in ("GB", "CH", "US") else "other"


def consent_formats(e: dict[str, Any]) -> list[str]:
    ctx = e["context"]
    c = ctx.get("consent") or {}
    out = [k for k in ("categoryPreferences", "onetrust", "tcf", "us_privacy", "gpp") if k in c]
    if "consentManagement" in ctx:
        out.append("consentManagement")
    if ctx.get("gpc") is True:
        out.append("gpc")
    if "consent" not in ctx and "consentManagement" not in ctx:
        out.append("no consent object")
    return out


def preference_state(e: dict[str, Any]) -> str:
    prefs = (e["context"].get("consent") or {}).get("categoryPreferences")
    if prefs is None:
        return "n/a"
    if prefs == {}:
        return "empty {}"
    if any(not isinstance(v, bool) for v in prefs.values()):
        return "junk value"
    if "Advertising" not in prefs:
        return "Advertising missing"
    on = {k for k, v in prefs.items() if v}
    return {frozenset(prefs): "all true", frozenset(): "all false", frozenset({"Analytics", "Functional"}): "analytics+functional",
            frozenset({"Analytics"}): "analytics only", frozenset({"Advertising", "Functional", "Personalization"}): "all but analytics",
            }.get(frozenset(on), "other")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Write synthetic Segment-spec events (JSONL) for RouteQL examples.")
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED, help=f"RNG seed (default {DEFAULT_SEED})")
    ap.add_argument("--count", type=int, default=DEFAULT_COUNT, help=f"number of lines (default {DEFAULT_COUNT})")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output path (default examples/events.jsonl)")
    ap.add_argument("--stats", action="store_true", help="print the measured mix to stderr")
    args = ap.parse_args(argv)
    if args.count < 1:
        ap.error("--count must be at least 1")
    text = generate(args.seed, args.count)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with open(args.out, "w", encoding="utf-8", newline="\n") as fh:
        fh.write(text)
    if args.stats:
        print(stats(text), file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
