"""How a candidate place name is written where it stands: the evidence that it is a place.

Rules (Latin, Greek, Cyrillic and other scripts with capitals):

- every word of the name capitalised as the text writes it, and an acronym (``UK``, ``U.S.``)
  in capitals only; otherwise it is a word (``nice weather``, ``us``) → NONE;
- glued to another capitalised word in the same phrase → NONE: a person (``Michael Jordan``,
  ``Jack London``) or an organisation (``Reading Festival``, ``Manchester United``), unless the
  word before is a direction or a sentence-initial function word (``Northern Aleppo``,
  ``In Aleppo``);
- the first word of a sentence, or in a Title Case headline → WEAK (capitals prove nothing
  there); a sentence-case headline is read like text;
- otherwise → STRONG.

In scripts without capitals (Arabic, CJK…) there is no such evidence: WEAK.
"""

from __future__ import annotations

import re
from enum import Enum
from typing import Any

from pipeline.matching import Hit, Surface, Tokenized
from pipeline.places.data import Name


class Strength(Enum):
    NONE = 0
    WEAK = 1
    STRONG = 2


# Capitalised words that may stand right before a place name without making it part of a
# person's or an organisation's name.
ALLOWED_BEFORE = frozenset(
    {
        "north",
        "south",
        "east",
        "west",
        "northern",
        "southern",
        "eastern",
        "western",
        "central",
        "greater",
        "upper",
        "lower",
        "northeast",
        "northwest",
        "southeast",
        "southwest",
        "north-east",
        "northeastern",
        "northwestern",
        "southeastern",
        "southwestern",
        "inner",
        "outer",
        "old",
        "downtown",
        "in",
        "at",
        "from",
        "to",
        "the",
        "a",
        "an",
        "and",
        "but",
        "or",
        "for",
        "near",
        "outside",
        "inside",
        "across",
        "around",
        "by",
        "with",
        "of",
        "on",
        "after",
        "before",
        "since",
        "like",
        "unlike",
        "both",
        "meanwhile",
        "while",
        "when",
        "as",
        "if",
        "into",
        "onto",
        "over",
        "under",
        "via",
        "between",
        "within",
        "throughout",
        "during",
        "despite",
        "although",
        "though",
        "because",
        "where",
    }
)
_SENTENCE_END = frozenset('.!?"“”«»\n')  # not ":" ("CSI: Miami") nor ";"
# Words right next to a country or city that make it a sports team ("defeat to France",
# "Ireland coach", "beat Wales"): sports reports name teams after places all the time.
SPORT_BEFORE = frozenset(
    {
        "against",
        "beat",
        "beating",
        "beats",
        "versus",
        "vs",
        "v",
        "defeated",
        "face",
        "faces",
        "facing",
        "host",
    }
    | {"hosts", "play", "plays", "playing", "thrashed", "edged", "stunned"}
)
SPORT_AFTER = frozenset(
    {"coach", "captain", "skipper", "side", "squad", "team", "striker", "midfielder", "defender", "winger"}
    | {"manager", "boss", "international", "u21", "xv", "won", "beat", "lost", "drew"}
    | {"scored", "led", "trailed", "win", "wins", "victory", "defeat", "lock", "fly", "prop", "wing"}
    | {"centre", "forward", "goalkeeper", "keeper", "fans", "supporters", "player", "players", "star"}
)
# Capitalised words that may follow a country's acronym without making it an organisation's
# name ("US President", "UK Government"); "US Airways" stays out.
GOVERNMENT_AFTER = frozenset(
    {"president", "government", "secretary", "treasury", "army", "navy", "forces", "troops", "embassy"}
    | {"ambassador", "minister", "officials", "congress", "senate", "capitol", "military", "economy"}
    | {"department", "administration", "parliament", "federal", "state", "defence", "defense"}
)


def strength(text: Tokenized, hit: Hit[Any], field: str, names: tuple[Name, ...]) -> Strength:
    surface = text.surface
    first, last = text.token_index(hit.start), text.token_index(hit.stop - 1)
    if surface is None:
        return Strength.WEAK
    head = surface.word(first)[:1]
    if not head.isupper() and not head.islower():
        return Strength.WEAK  # a script without capitals
    if not _capitalised(surface, first, last, names):
        return Strength.NONE
    if field == "title" and _title_case(surface):
        return Strength.WEAK  # a headline that capitalises every word: capitals prove nothing
    if first > 0 and _same_phrase(surface.separator_before(first)) and _glued(surface.word(first - 1)):
        return Strength.NONE
    if _part_of_longer_name(surface, first, last, names) or _sports_team(surface, first, last):
        return Strength.NONE
    if first == 0 or _SENTENCE_END & set(surface.separator_before(first)):
        return Strength.WEAK
    return Strength.STRONG


# A sports report names teams after places all the time ("Ireland led 18-12", "Tottenham are
# primed"): there, only a place after a word of location counts ("in Cardiff", "at Twickenham").
SPORT_WORDS = re.compile(
    r"\b(?:match|cup|league|coach|striker|midfielder|penalty|penalties|scored|goal|goals|rugby|football"
    r"|premiership|tournament|championship|half-time|squad|fixture|semi-final|quarter-final|wicket"
    r"|innings|try|tries|kick-off|referee|skipper|captain|defender|winger|unbeaten|relegation|club"
    r"|clubs|transfer|loan|signing|manager|players|under-21|defeat|victory|season|uefa|fifa)\b"
)
SPORT_REPORT_WORDS = 4  # distinct sport words that make an article a sports report
LOCATIVE = frozenset({"in", "at", "from", "near", "outside", "inside", "across", "around", "throughout"})


SPEECH = frozenset({"said", "says", "added", "told", "argued", "warned", "explained", "wrote"})


def followed_by_speech(text: Tokenized, hit: Hit[Any]) -> bool:
    """``Harlow said``: a name that speaks is a person (or, for a capital, its government)."""
    surface = text.surface
    following = text.token_index(hit.stop - 1) + 1
    return surface is not None and following < len(surface) and surface.word(following) in SPEECH


def sports_report(text: str) -> bool:
    return len(set(SPORT_WORDS.findall(text.lower()))) >= SPORT_REPORT_WORDS


def after_locative(text: Tokenized, hit: Hit[Any]) -> bool:
    surface = text.surface
    first = text.token_index(hit.start)
    return surface is not None and first > 0 and surface.word(first - 1).casefold() in LOCATIVE


def _part_of_longer_name(surface: Surface, first: int, last: int, names: tuple[Name, ...]) -> bool:
    """``National Bank of Kuwait``, ``Manchester United``: a capitalised word after the name,
    or a capitalised word + ``of`` before it, in the same phrase."""
    if (
        first > 1
        and surface.word(first - 1) == "of"
        and surface.word(first - 2)[:1].isupper()
        and _same_phrase(surface.separator_before(first - 1))
        and not _SENTENCE_END & set(surface.separator_before(first - 2))
    ):
        return True
    following = last + 1
    if following >= len(surface) or not _same_phrase(surface.separator_before(following)):
        return False
    word = surface.word(following)
    if all(name.acronym for name in names) and word.casefold() in GOVERNMENT_AFTER:
        return False
    return word[:1].isupper()


def _sports_team(surface: Surface, first: int, last: int) -> bool:
    """A place named as a team: "beat Wales", "Ireland coach", "England's 18-17 defeat"."""
    if first > 0 and surface.word(first - 1).casefold() in SPORT_BEFORE:
        return True
    following = last + 1
    if following < len(surface) and surface.word(following) == "s":  # a possessive
        following += 1
    if following >= len(surface):
        return False
    word = surface.word(following)
    return word.casefold() in SPORT_AFTER or word.isdigit()


def _capitalised(surface: Surface, first: int, last: int, names: tuple[Name, ...]) -> bool:
    """The name written as a name: first and last word capitalised (``Rio de Janeiro``), and
    an acronym in capitals only."""
    if all(name.acronym for name in names):
        return all(surface.word(index).isupper() for index in range(first, last + 1))
    return surface.word(first)[:1].isupper() and surface.word(last)[:1].isupper()


def _title_case(surface: Surface) -> bool:
    """Most words capitalised: a Title Case headline (a sentence-case one reads like text)."""
    heads = [surface.word(index)[:1] for index in range(len(surface))]
    cased = [head for head in heads if head.isupper() or head.islower()]
    return bool(cased) and sum(head.isupper() for head in cased) * 5 >= len(cased) * 3


def _same_phrase(separator: str) -> bool:
    """Only spaces, or one hyphen, between two words: they may belong to one name (a spaced
    dash " -- " separates)."""
    return separator.strip(" \u00a0") == "" or separator == "-"


def _glued(previous: str) -> bool:
    """Whether the word before a name makes the name part of a longer one."""
    return previous[:1].isupper() and previous.casefold() not in ALLOWED_BEFORE
