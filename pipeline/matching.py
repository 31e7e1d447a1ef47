"""Word-boundary matching of many terms at once (DESIGN §3), shared by topics and places.

Text and terms go through the same steps: NFKC + casefold, split into word tokens (a CJK
ideograph, kana or Thai character is a token by itself, as those scripts have no spaces),
tokens concatenated without separators. A term matches where its concatenation starts at a
token start and ends at a token end. That single rule gives the contract:

- ``cease-fire`` = ``cease fire`` = ``ceasefire`` (separators vanish on both sides);
- whole words: ``truce`` does not match inside ``intrucers`` (no token starts at ``t``);
- plural and possessive: ``-s``/``-es``/``-ies`` variants of a term's last word are added
  (``Aleppo's`` tokenises to ``aleppo s`` and so matches the ``aleppos`` variant).

One Aho-Corasick automaton (ahocorasick-rs, in Rust) holds every term, so the cost of a text
grows with its length and its matches, not with the number of terms. The automaton reports
every occurrence, also inside words; the boundary check keeps those at token boundaries.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property
from typing import Generic, Literal, NamedTuple, TypeVar

import ahocorasick_rs
import numpy as np

from pipeline.cleaning.text import matching_form
from pipeline.models import TagMatch

V = TypeVar("V")
TITLE_WEIGHT = 3.0
FieldName = Literal["title", "summary", "text"]
# Letters and digits, plus combining marks (Python's \w omits most of them, which would split
# Devanagari, Arabic harakat or decomposed Latin words into pieces).
_MARKS = (
    "\u0300-\u036f\u0483-\u0489\u0610-\u061a\u06d6-\u06ed"
    "\u0900-\u0dff\u0e31\u0e34-\u0e3a\u0e47-\u0e4e\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f"
)
_WORD = re.compile(f"[\\w{_MARKS}]")
_UNSPACED = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u0e00-\u0e7f]")
# Optional vowel signs that writers use inconsistently (Arabic tashkeel and tatweel, Hebrew
# niqqud): removed on both sides so حلبُ matches حلب.
_IGNORABLE_CODES = [*range(0x064B, 0x0660), 0x0670, 0x0640, *range(0x0591, 0x05C8)]
_IGNORABLE = str.maketrans(dict.fromkeys(_IGNORABLE_CODES))
_HAS_IGNORABLE = re.compile("[" + "".join(map(chr, _IGNORABLE_CODES)) + "]")
SEPARATOR, LETTER, SOLO = 0, 1, 2  # SOLO: a CJK/Thai character, a token by itself


def _character_kinds() -> np.ndarray:
    kinds = np.zeros(0x10000, dtype=np.uint8)
    for code in range(0x10000):
        char = chr(code)
        if _UNSPACED.match(char):
            kinds[code] = SOLO
        elif char != "_" and _WORD.match(char):
            kinds[code] = LETTER
    return kinds


# Built once (~40 ms): a table lookup per character in numpy instead of a regex, ~6× faster.
_KINDS = _character_kinds()


_ASCII_KINDS = _KINDS[:128].copy()


@dataclass(frozen=True)
class _Scan:
    """Where the tokens of a text are: half-open [starts[k], stops[k]) in the text."""

    codes: np.ndarray  # uint8 for ASCII text, else UTF-32 code points
    letters: np.ndarray  # bool per character
    starts: np.ndarray
    stops: np.ndarray

    def joined(self) -> str:
        """The tokens' characters without the separators between them."""
        kept: bytes = self.codes[self.letters].tobytes()
        if self.codes.dtype == np.uint8:
            return kept.decode("ascii")
        return kept.decode("utf-32-le", "surrogatepass")


def _scan(text: str) -> _Scan:
    if text.isascii():  # most news text: a byte per character, no CJK/Thai
        codes = np.frombuffer(text.encode("ascii"), dtype=np.uint8)
        kinds = _ASCII_KINDS[codes]
    else:
        codes = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype="<u4")
        kinds = _KINDS[np.minimum(codes, 0xFFFF)]
        for index in np.flatnonzero(codes > 0xFFFF):  # beyond the table: rare (emoji, CJK ext.)
            kinds[index] = LETTER if _WORD.match(chr(codes[index])) else SEPARATOR
    letters = kinds != SEPARATOR
    solo = kinds == SOLO
    if codes.dtype == np.uint8 or not solo.any():
        # Tokens are the runs of letters: they start and stop where letters begin and end.
        padded = np.zeros(len(letters) + 2, dtype=bool)
        padded[1:-1] = letters
        edges = np.flatnonzero(padded[1:] != padded[:-1])
        return _Scan(codes, letters, edges[0::2], edges[1::2])
    before = np.concatenate(([SEPARATOR], kinds[:-1]))
    after = np.concatenate((kinds[1:], [SEPARATOR]))
    starts = np.flatnonzero(letters & ((before == SEPARATOR) | solo | (before == SOLO)))
    stops = np.flatnonzero(letters & ((after == SEPARATOR) | solo | (after == SOLO))) + 1
    return _Scan(codes, letters, starts, stops)


def matching_text(text: str) -> str:
    """The form text is matched in: NFKC + casefold, ignorable vowel signs removed."""
    folded = matching_form(text)
    if not folded.isascii() and _HAS_IGNORABLE.search(folded):
        folded = folded.translate(_IGNORABLE)
    return folded


def tokens(text: str) -> list[str]:
    """Word tokens in matching form; each CJK/Thai character is its own token."""
    folded = matching_text(text)
    scan = _scan(folded)
    return [folded[start:stop] for start, stop in zip(scan.starts.tolist(), scan.stops.tolist(), strict=True)]


@dataclass(frozen=True)
class Tokenized:
    """One field's text, ready for matching: tokens joined, and where tokens begin and end.

    Positions stay numpy arrays: only the few tokens around a candidate are ever looked up,
    and converting every position to a Python int cost more than the matching itself.
    """

    text: str  # as given
    joined: str
    ends: np.ndarray  # ends[k]: where token k ends in ``joined``
    bounds: bytes  # bounds[i] is 1 where a token starts or ends in ``joined`` (len(joined) + 1)
    # The folded text's tokens, when folding kept every character where it was (ASCII and
    # most Latin text): then they are also the written tokens and need no second scan.
    aligned: _Scan | None = None

    @classmethod
    def of(cls, text: str) -> Tokenized:
        folded = matching_text(text)
        scan = _scan(folded)
        joined = scan.joined()
        # Tokens are runs of letters, so token k ends after the letters of tokens 0..k.
        ends = np.cumsum(scan.stops - scan.starts)
        marks = np.zeros(len(joined) + 1, dtype=np.uint8)
        marks[0] = 1
        marks[ends] = 1
        aligned = (
            scan
            if text.isascii()
            or (len(folded) == len(text) == len(text.casefold()) and unicodedata.is_normalized("NFKC", text))
            else None
        )
        return cls(text, joined, ends, marks.tobytes(), aligned)

    def token_index(self, position: int) -> int:
        """The index of the token that ``position`` in ``joined`` falls in."""
        index: int = self._token_at[position]
        return index

    @cached_property
    def _token_at(self) -> memoryview:
        """Token index per position of ``joined`` (and the token count after its end); a
        memoryview, as indexing it gives Python ints fast."""
        lengths = self.ends - np.concatenate(([0], self.ends[:-1]))
        owners = np.repeat(np.arange(len(self.ends), dtype=np.int32), lengths)
        return _view(np.append(owners, np.int32(len(self.ends))))

    @cached_property
    def surface(self) -> Surface | None:
        """The tokens as written (case kept), for rules that look at capitals; None when the
        written form does not split into the same tokens (a rare case-folding change)."""
        if self.aligned is not None:
            return Surface(self.text, _view(self.aligned.starts), _view(self.aligned.stops))
        written = self.text
        if not unicodedata.is_normalized("NFKC", written):
            written = unicodedata.normalize("NFKC", written)
        scan = _scan(written)
        if len(scan.starts) != len(self.ends):
            return None
        return Surface(written, _view(scan.starts), _view(scan.stops))


def _view(positions: np.ndarray) -> memoryview:
    """Positions to index one at a time: a memoryview gives Python ints ~2× faster than numpy."""
    return np.ascontiguousarray(positions).data


@dataclass(frozen=True)
class Surface:
    """The tokens as written; sliced on demand (only around candidate places)."""

    text: str
    starts: memoryview  # of the token positions: indexing gives Python ints
    stops: memoryview

    def __len__(self) -> int:
        return len(self.starts)

    def word(self, index: int) -> str:
        return self.text[self.starts[index] : self.stops[index]]

    def separator_before(self, index: int) -> str:
        """What stands between token ``index - 1`` and token ``index`` (text start for 0)."""
        return self.text[self.stops[index - 1] if index else 0 : self.starts[index]]


def term_variants(term: str) -> set[str]:
    """The concatenated forms a term matches: itself plus plural/possessive of its last word."""
    parts = tokens(term)
    if not parts:
        return set()
    stem, last = "".join(parts[:-1]), parts[-1]
    forms = {last}
    if last.isascii() and last.isalpha():
        forms |= {last + "s", last + "es"}
        if len(last) > 2 and last.endswith("y") and last[-2] not in "aeiou":
            forms.add(last[:-1] + "ies")
    return {stem + form for form in forms}


class Hit(NamedTuple, Generic[V]):
    start: int  # in Tokenized.joined
    stop: int
    value: V


class Matcher(Generic[V]):
    """An automaton over joined keys; each key carries one value (merge owners beforehand)."""

    def __init__(self, keyed: Iterable[tuple[str, V]]) -> None:
        pairs = list(keyed)
        self.keys = len(pairs)
        self._values = [value for _key, value in pairs]
        # Standard match kind: every occurrence, overlapping ones included (the boundary
        # check below picks among them).
        standard = ahocorasick_rs.MatchKind.Standard
        self._automaton = (
            ahocorasick_rs.AhoCorasick([key for key, _value in pairs], matchkind=standard) if pairs else None
        )

    def hits(self, text: Tokenized) -> list[Hit[V]]:
        """Every key occurrence that starts and ends at token boundaries."""
        if self._automaton is None or not text.joined:
            return []
        bounds, values = text.bounds, self._values
        return [
            Hit(start, stop, values[index])
            for index, start, stop in self._automaton.find_matches_as_indexes(text.joined, overlapping=True)
            if bounds[start] and bounds[stop]
        ]


def score(matches: Iterable[TagMatch]) -> float:
    """3 per title match plus the larger of the summary and text counts: summary and text
    usually repeat each other, so the body counts once (docs/taxonomy.md §4)."""
    per_field = {"title": 0, "summary": 0, "text": 0}
    for match in matches:
        per_field[match.field] += match.count
    return round(TITLE_WEIGHT * per_field["title"] + max(per_field["summary"], per_field["text"]), 3)
