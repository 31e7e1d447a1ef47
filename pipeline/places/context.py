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

from pipeline.matching import Hit, Matcher, Surface, Tokenized, tokens
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
SPORTS = frozenset(
    {"football", "soccer", "rugby", "basketball", "baseball", "cricket", "hockey", "tennis", "golf"}
    | {"athletics", "olympic", "olympics", "davis", "ryder", "volleyball", "handball", "netball"}
)
SPORT_AFTER = frozenset(
    {"coach", "captain", "skipper", "side", "sides", "squad", "squads", "team", "teams"}
    | {"striker", "midfielder", "defender", "winger"}
    | {"manager", "boss", "international", "u21", "xv", "won", "beat", "lost", "drew"}
    | {"scored", "led", "trailed", "win", "wins", "victory", "defeat", "lock", "fly", "prop", "wing"}
    | {"centre", "forward", "goalkeeper", "keeper", "fans", "supporters", "player", "players", "star"}
    | {"quarterback", "linebacker", "pitcher", "outfielder", "shortstop", "guard", "coaches"}
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
SPORT_WORDS = frozenset(
    {"match", "cup", "league", "coach", "striker", "midfielder", "penalty", "penalties", "scored", "goal"}
    | {"goals", "rugby", "football", "premiership", "tournament", "championship", "half-time", "squad"}
    | {"fixture", "semi-final", "quarter-final", "wicket", "innings", "try", "tries", "kick-off"}
    | {"referee", "skipper", "captain", "defender", "winger", "unbeaten", "relegation", "club", "clubs"}
    | {"transfer", "loan", "signing", "manager", "players", "under-21", "defeat", "victory", "season"}
    | {"uefa", "fifa", "tennis", "doubles", "singles", "matches", "seeded", "nba", "nfl", "nhl", "playoffs"}
    | {"quarterback", "linebacker", "touchdown", "pitcher", "olympic", "olympics", "medal", "stadium"}
)
SPORT_REPORT_WORDS = 4  # distinct sport words that make an article a sports report
SHORT_REPORT = (600, 3)  # a text shorter than this many characters needs this many
# Matched like taxonomy terms (so "half time" = "half-time"), but exactly: no plural forms.
_SPORT_MATCHER: Matcher[str] = Matcher(("".join(tokens(word)), word) for word in SPORT_WORDS)
LOCATIVE = frozenset({"in", "at", "from", "near", "outside", "inside", "across", "around", "throughout"})


SPEECH = frozenset({"said", "says", "added", "told", "argued", "warned", "explained", "wrote"})


def followed_by_speech(text: Tokenized, hit: Hit[Any]) -> bool:
    """``Harlow said``: a name that speaks is a person (or, for a capital, its government)."""
    surface = text.surface
    following = text.token_index(hit.stop - 1) + 1
    return surface is not None and following < len(surface) and surface.word(following) in SPEECH


# A result ("a 2-0 win", "their 18-17 defeat") is as telling as two sport words.
_RESULT = re.compile(r"\b\d{1,3}-\d{1,3} (?:win|victory|defeat|draw|loss|lead|triumph|success)\b")


def sports_report(text: Tokenized) -> bool:
    words = len({hit.value for hit in _SPORT_MATCHER.hits(text)})
    if words + 2 >= SPORT_REPORT_WORDS and "-" in text.text and _RESULT.search(text.text):
        words += 2
    short, needed = SHORT_REPORT
    return words >= (needed if len(text.text) < short else SPORT_REPORT_WORDS)


def word_before(text: Tokenized, hit: Hit[Any]) -> str:
    """The word right before the name, case-folded ("" at the start or without a surface):
    a word of location (LOCATIVE) makes it a place even in a sports report."""
    surface = text.surface
    first = text.token_index(hit.start)
    return surface.word(first - 1).casefold() if surface is not None and first > 0 else ""


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
    if word[:1].isdigit() and not word.isdigit():
        return True  # "San Francisco 49ers"
    if len(word) == 1 and word.islower() and following + 1 < len(surface):  # "UK e-Universities"
        return surface.separator_before(following + 1) == "-" and surface.word(following + 1)[:1].isupper()
    return word[:1].isupper()


def _sports_team(surface: Surface, first: int, last: int) -> bool:
    """A place named as a team: "beat Wales", "Ireland coach", "England's 18-17 defeat",
    "the US basketball team"."""
    if first > 0 and surface.word(first - 1).casefold() in SPORT_BEFORE:
        return True
    following = last + 1
    if following < len(surface) and surface.word(following) == "s":  # a possessive
        following += 1
    if following >= len(surface):
        return False
    word = surface.word(following).casefold()
    if word in SPORTS and following + 1 < len(surface):
        word = surface.word(following + 1).casefold()
    return word in SPORT_AFTER or word.isdigit()


def possessed_name(text: Tokenized, hit: Hit[Any]) -> int | None:
    """Where the capitalised name after ``England's`` starts (``England's Charlie Hodgson``:
    in a sports report, a place's person is its player), or None."""
    surface = text.surface
    following = text.token_index(hit.stop - 1) + 1
    if (
        surface is not None
        and following + 1 < len(surface)
        and surface.word(following) == "s"
        and surface.separator_before(following) in ("'", "’")
        and surface.word(following + 1)[:1].isupper()
        and _same_phrase(surface.separator_before(following + 1))
    ):
        return int(surface.starts[following + 1])
    return None


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
