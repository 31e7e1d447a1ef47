"""Place tags from a gazetteer: which capitalised names in an article are places, and which.

A name found at word boundaries (``pipeline.matching``) is a *candidate*. Whether it is a place
depends on how it is written where it stands (``context.py``): capitalised, not glued to
other capitalised words (``Michael Jackson``, ``Reading Festival``), not the first word of a
sentence, not a title (headlines capitalise everything). A mention that passes everything is
*strong*; one at a sentence start, in the title, or in a script without capitals is *weak*
and counts only when confirmed: the same place mentioned strongly elsewhere, another place of
its country mentioned, or a country or a city of a million people (seldom anything else).
Names that are everyday words or common first names (``names.yaml``: Nice, Mobile, Jackson)
need a strong mention *and* another place of their country. Where one name fits several
places, a place whose country the article names wins, then the larger population.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from pipeline.cleaning.text import matching_form
from pipeline.matching import FieldName, Hit, Matcher, Tokenized, score, tokens
from pipeline.models import Tag, TagMatch
from pipeline.places.context import (
    LOCATIVE,
    Strength,
    followed_by_speech,
    possessed_name,
    sports_report,
    strength,
    word_before,
)
from pipeline.places.data import Name, Place, ambiguous_names, club_names, load_places

PLACE_KIND = "place"
BIG_CITY = 1_000_000  # people: a city this large is seldom anything else


@dataclass(frozen=True, slots=True)
class _Candidate:
    field: FieldName
    names: tuple[Name, ...]
    strength: Strength
    ambiguous: bool
    span: tuple[int, int] | None  # characters in the field's text, when known
    located: bool  # right after a word of location ("in", "at", "from"…)
    club: bool  # a name sports reports use for a club, not right after "in"
    # "England's Charlie Hodgson": where the name after the possessive starts; in a sports
    # report the place is then a team, unless that name is a place too ("Australia's Gold Coast").
    possessed: int | None


@dataclass(frozen=True, slots=True)
class Mention:
    """One candidate name in an article and what became of it (for evaluation and debugging)."""

    field: FieldName
    start: int  # character offsets in the field's (NFKC) text
    stop: int
    written: str  # as the text writes it
    place: Place | None  # None: judged not a place here


class Gazetteer:
    """Countries and cities compiled into one matcher; :meth:`tags` is called per article."""

    def __init__(self, places: list[Place], names: list[Name]) -> None:
        self.places = places
        keyed: dict[str, list[Name]] = defaultdict(list)
        for name in names:
            key = "".join(tokens(name.written))
            if key:
                keyed[key].append(name)
        self.name_count = len(names)
        self._ambiguous = {"".join(tokens(name)) for name in ambiguous_names()}
        self._clubs = {"".join(tokens(name)) for name in club_names()}
        self._matcher: Matcher[tuple[str, tuple[Name, ...]]] = Matcher(
            (key, (key, tuple(found))) for key, found in keyed.items()
        )

    def tags(self, fields: Mapping[FieldName, Tokenized]) -> list[Tag]:
        """Place tags for one article's fields (``title``, ``summary``, ``text``)."""
        candidates = [c for c in self._candidates(fields) if c.strength is not Strength.NONE]
        if not candidates:
            return []  # and no sports-report scan of the text
        return self._to_tags(self._resolve(candidates, _sports(fields)))

    def mentions(self, fields: Mapping[FieldName, Tokenized]) -> list[Mention]:
        """Every candidate that is capitalised where it stands, and the place it was taken
        for (None when rejected): what a labelled evaluation compares with."""
        candidates = self._candidates(fields)
        chosen = {id(candidate): place for candidate, place in self._resolve(candidates, _sports(fields))}
        taken = [(c.field, c.span) for c in candidates if c.strength is not Strength.NONE and c.span]
        found = []
        for candidate in candidates:
            text = fields[candidate.field]
            if candidate.span is None or text.surface is None:
                continue
            if candidate.strength is Strength.NONE and _overlaps(candidate.field, candidate.span, taken):
                continue  # a longer reading that gave way to a shorter, accepted one
            start, stop = candidate.span
            written = text.surface.text[start:stop]
            if written[:1].isupper() or not written[:1].islower():
                found.append(Mention(candidate.field, start, stop, written, chosen.get(id(candidate))))
        return found

    def _candidates(self, fields: Mapping[FieldName, Tokenized]) -> list[_Candidate]:
        return [candidate for field, text in fields.items() for candidate in self._in_field(field, text)]

    def _in_field(self, field: FieldName, text: Tokenized) -> list[_Candidate]:
        """Candidates at boundaries, the longest where they overlap (``New York City`` over
        ``York``) among those written as names: a longer match that is not (``London's``
        read as the Latvian ``Londons``) gives way to the shorter one that is."""
        found = sorted(self._matcher.hits(text), key=lambda hit: (hit.start, -hit.stop))
        kept: list[_Candidate] = []
        reach = -1
        rejected_reach = -1
        for hit in found:
            if hit.start < reach:
                continue
            key, names = hit.value
            judged = strength(text, hit, field, names)
            if judged is not Strength.NONE and followed_by_speech(text, hit) and not self._notable(names):
                judged = Strength.NONE
            before = word_before(text, hit)
            located = before in LOCATIVE
            club = key in self._clubs and before != "in"
            ambiguous = key in self._ambiguous
            possessed = possessed_name(text, hit)
            candidate = _Candidate(
                field, names, judged, ambiguous, _span(text, hit), located, club, possessed
            )
            if judged is not Strength.NONE:
                kept.append(candidate)
                reach = hit.stop
            elif hit.start >= rejected_reach:  # listed once, for mentions()
                kept.append(candidate)
                rejected_reach = hit.stop
        return kept

    def _notable(self, names: tuple[Name, ...]) -> bool:
        """A country or a city of a million people: may speak for its government."""
        return any(
            self.places[n.place].is_country or self.places[n.place].population >= BIG_CITY for n in names
        )

    def _resolve(self, candidates: list[_Candidate], sports: bool) -> list[tuple[_Candidate, Place]]:
        """One place per candidate, or none; see the module docstring for the rules."""
        named = self._countries_named(candidates)
        strong_places = {name.place for c in candidates if c.strength is Strength.STRONG for name in c.names}
        places_at = {(c.field, c.span[0]) for c in candidates if c.span and c.strength is not Strength.NONE}
        chosen: list[tuple[_Candidate, Place]] = []
        for candidate in candidates:
            if candidate.strength is Strength.NONE:
                continue
            possessed = candidate.possessed
            player = possessed is not None and (candidate.field, possessed) not in places_at
            if sports and (not candidate.located or candidate.club or player):
                continue
            index = self._pick(candidate, named)
            place = self.places[index]
            others = named.get(place.country, set()) - {index}
            confirmed = bool(others)
            if candidate.ambiguous:
                accepted = candidate.strength is Strength.STRONG and confirmed
            elif candidate.strength is Strength.STRONG:
                accepted = True
            else:
                accepted = (
                    confirmed or index in strong_places or place.is_country or place.population >= BIG_CITY
                )
            if accepted:
                chosen.append((candidate, place))
        return chosen

    def _countries_named(self, candidates: list[_Candidate]) -> dict[str, set[int]]:
        """Country code → the places (indexes) that name it: countries, and cities whose
        name is theirs alone, mentioned strongly."""
        named: dict[str, set[int]] = defaultdict(set)
        for candidate in candidates:
            places = {name.place for name in candidate.names}
            if candidate.ambiguous or len(places) != 1 or candidate.strength is Strength.NONE:
                continue
            index = next(iter(places))
            place = self.places[index]
            if place.is_country or candidate.strength is Strength.STRONG:
                named[place.country].add(index)
        return named

    def _pick(self, candidate: _Candidate, named: Mapping[str, set[int]]) -> int:
        def rank(name: Name) -> tuple[bool, bool, int]:
            place = self.places[name.place]
            return (bool(named.get(place.country)), place.is_country, place.population)

        return max(candidate.names, key=rank).place

    def _to_tags(self, chosen: list[tuple[_Candidate, Place]]) -> list[Tag]:
        per_place: dict[Place, dict[tuple[FieldName, str], int]] = defaultdict(lambda: defaultdict(int))
        for candidate, place in chosen:
            written = next(n.written for n in candidate.names if self.places[n.place] is place)
            per_place[place][(candidate.field, written)] += 1
        tags = []
        for place, evidence in per_place.items():
            matches = tuple(
                TagMatch(term=written, field=field, count=count)
                for (field, written), count in sorted(evidence.items())
            )
            tags.append(
                Tag(
                    name=place_slug(place.name),
                    score=score(matches),
                    kind=PLACE_KIND,
                    matches=matches,
                    country=place.country,
                    geonameid=place.geonameid or None,
                )
            )
        return tags


def _overlaps(field: str, span: tuple[int, int], taken: list[tuple[FieldName, tuple[int, int]]]) -> bool:
    return any(field == other and span[0] < stop and start < span[1] for other, (start, stop) in taken)


def _sports(fields: Mapping[FieldName, Tokenized]) -> bool:
    body = fields.get("text") or fields.get("summary")
    return body is not None and sports_report(body)


def _span(text: Tokenized, hit: Hit[Any]) -> tuple[int, int] | None:
    surface = text.surface
    if surface is None:
        return None
    return surface.starts[text.token_index(hit.start)], surface.stops[text.token_index(hit.stop - 1)]


@cache
def load_gazetteer(min_population: int) -> Gazetteer:
    """Built once per process and setting (~5 s, ~150 MB): shared by every tagger, also by
    the taggers of reloaded taxonomies."""
    return Gazetteer(*load_places(min_population))


def place_slug(name: str) -> str:
    """``New York City`` → ``new-york-city``: a tag name, one word like taxonomy topic names."""
    return "-".join(matching_form(name).replace("'", "").replace(".", "").split()) or name
