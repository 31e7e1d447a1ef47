"""How a candidate place name is written where it stands: the evidence that it is a place.

Rules (Latin, Greek, Cyrillic and other scripts with capitals):

- every word of the name capitalised as the text writes it, and an acronym (``UK``, ``U.S.``)
  in capitals only; otherwise it is a word (``nice weather``, ``us``) → NONE;
- glued to another capitalised word in the same phrase → NONE: a person (``Michael Jordan``,
  ``Jack London``) or an organisation (``Reading Festival``, ``Manchester United``), unless the
  word before is a direction or a sentence-initial function word (``Northern Aleppo``,
  ``In Aleppo``);
- the first word of a sentence or in the title → WEAK (capitals prove nothing there);
- otherwise → STRONG.

In scripts without capitals (Arabic, CJK…) there is no such evidence: WEAK.
"""

from __future__ import annotations

from enum import Enum

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
_SENTENCE_END = frozenset('.!?:;"“”«»\n')


def strength(text: Tokenized, hit: Hit[object], field: str, names: tuple[Name, ...]) -> Strength:
    surface = text.surface
    first, last = text.token_index(hit.start), text.token_index(hit.stop - 1)
    if surface is None:
        return Strength.WEAK
    head = surface.word(first)[:1]
    if not head.isupper() and not head.islower():
        return Strength.WEAK  # a script without capitals
    if not _capitalised(surface, first, last, names):
        return Strength.NONE
    if field == "title":
        return Strength.WEAK  # headlines capitalise every word
    if first > 0 and _same_phrase(surface.separator_before(first)) and _glued(surface.word(first - 1)):
        return Strength.NONE
    following = last + 1
    if (
        following < len(surface)
        and _same_phrase(surface.separator_before(following))
        and surface.word(following)[:1].isupper()
    ):
        return Strength.NONE
    if first == 0 or _SENTENCE_END & set(surface.separator_before(first)):
        return Strength.WEAK
    return Strength.STRONG


def _capitalised(surface: Surface, first: int, last: int, names: tuple[Name, ...]) -> bool:
    """The name written as a name: first and last word capitalised (``Rio de Janeiro``), and
    an acronym in capitals only."""
    if all(name.acronym for name in names):
        return all(surface.word(index).isupper() for index in range(first, last + 1))
    return surface.word(first)[:1].isupper() and surface.word(last)[:1].isupper()


def _same_phrase(separator: str) -> bool:
    """Only spaces (or a hyphen) between two words: they may belong to one name."""
    return separator.strip(" -\u00a0") == ""


def _glued(previous: str) -> bool:
    """Whether the word before a name makes the name part of a longer one."""
    return previous[:1].isupper() and previous.casefold() not in ALLOWED_BEFORE
