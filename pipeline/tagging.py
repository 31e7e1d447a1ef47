"""Tagging: one compiled multi-pattern matcher over every term of the taxonomy (DESIGN §3).

Text and terms go through the same steps: NFKC + casefold, split into word tokens (a CJK
ideograph or kana is a token by itself, as those scripts have no spaces), tokens
concatenated without separators. A term matches where its concatenation starts at a token
start and ends at a token end. That single rule gives the contract:

- ``cease-fire`` = ``cease fire`` = ``ceasefire`` (separators vanish on both sides);
- whole words: ``truce`` does not match inside ``intrucers`` (no token starts at ``t``);
- plural and possessive: ``-s``/``-es``/``-ies`` variants of a term's last word are added
  (``Aleppo's`` tokenises to ``aleppo s`` and so matches the ``aleppos`` variant).

Scores: a title match weighs ``TITLE_WEIGHT``, a body match 1; summary and text usually
repeat each other, so the body counts the larger of the two rather than their sum.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import ahocorasick

from pipeline.cleaning.text import matching_form
from pipeline.clock import rfc3339
from pipeline.models import Article, CleanArticle, Tag, TagMatch
from pipeline.query import And, Node, Not, Operand, operands
from pipeline.taxonomy import Taxonomy, Topic, query_order

TITLE_WEIGHT = 3.0
FieldName = Literal["title", "summary", "text"]
FIELDS: tuple[FieldName, ...] = ("title", "summary", "text")
# Letters and digits, plus combining marks (Python's \w omits most of them, which would split
# Devanagari, Arabic harakat or decomposed Latin words into pieces).
_MARKS = (
    "\u0300-\u036f\u0483-\u0489\u0610-\u061a\u06d6-\u06ed"
    "\u0900-\u0dff\u0e31\u0e34-\u0e3a\u0e47-\u0e4e\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f"
)
# Optional vowel signs that writers use inconsistently (Arabic tashkeel and tatweel, Hebrew
# niqqud): removed on both sides so حلبُ matches حلب.
_IGNORABLE = str.maketrans(dict.fromkeys([*range(0x064B, 0x0660), 0x0670, 0x0640, *range(0x0591, 0x05C8)]))
_WORD = re.compile(f"[\\w{_MARKS}]+")  # "_" is turned into a space first (see tokens)
_UNSPACED = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u0e00-\u0e7f]")
_RAW_OWNER = "\x00term:"  # owner prefix for raw query terms; cannot collide with topic names


def tokens(text: str) -> list[str]:
    """Word tokens in matching form; each CJK/Thai character is its own token."""
    found: list[str] = []
    # One character class (no alternation) is twice as fast; "_" is a separator, not a letter.
    for word in _WORD.findall(matching_form(text).translate(_IGNORABLE).replace("_", " ")):
        if _UNSPACED.search(word) is None:
            found.append(word)
            continue
        run = ""
        for char in word:
            if _UNSPACED.match(char):
                if run:
                    found.append(run)
                    run = ""
                found.append(char)
            else:
                run += char
        if run:
            found.append(run)
    return found


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


@dataclass(frozen=True, slots=True)
class _Pattern:
    owner: str  # topic name, or _RAW_OWNER + phrase
    term: str  # the spelling written in the taxonomy


class Tagger:
    """A taxonomy compiled once; :meth:`tag` is safe to call for every article."""

    def __init__(self, taxonomy: Taxonomy) -> None:
        self.taxonomy = taxonomy
        self._term_topics = [topic for topic in taxonomy.topics if topic.query is None]
        self._queries = query_order(taxonomy)
        self._automaton = self._compile()

    def _owned_terms(self) -> Iterable[tuple[str, str]]:
        for topic in self._term_topics:
            for term in topic.terms:
                yield topic.name, term
        names = {topic.name for topic in self.taxonomy.topics}
        for topic in self._queries:
            assert topic.query is not None
            for operand in operands(topic.query):
                if operand.quoted or operand.value not in names:
                    yield _RAW_OWNER + operand.value, operand.value

    def _compile(self) -> ahocorasick.Automaton:
        automaton = ahocorasick.Automaton()
        patterns: dict[str, list[_Pattern]] = defaultdict(list)
        for owner, term in self._owned_terms():
            for variant in term_variants(term):
                patterns[variant].append(_Pattern(owner, term))
        for key, owners in patterns.items():
            automaton.add_word(key, (len(key), tuple(dict.fromkeys(owners))))
        if patterns:
            automaton.make_automaton()
        return automaton

    def counts(self, text: str) -> dict[_Pattern, int]:
        """How often each pattern matches ``text`` at word boundaries."""
        if not text or self._automaton.kind != ahocorasick.AHOCORASICK:
            return {}
        starts: set[int] = set()
        ends: set[int] = set()
        position = 0
        words = tokens(text)
        for word in words:
            starts.add(position)
            position += len(word)
            ends.add(position)
        joined = "".join(words)
        # A term and its plural both match "Aleppo's" at one start: count each start once.
        seen: set[tuple[_Pattern, int]] = set()
        for end, (length, owners) in self._automaton.iter(joined):
            start = end + 1 - length
            if start in starts and end + 1 in ends:
                seen.update((pattern, start) for pattern in owners)
        found: dict[_Pattern, int] = defaultdict(int)
        for pattern, _start in seen:
            found[pattern] += 1
        return found

    def tag(self, title: str, summary: str, text: str) -> tuple[Tag, ...]:
        evidence: dict[str, list[TagMatch]] = defaultdict(list)
        for field, value in zip(FIELDS, (title, summary, text), strict=True):
            # Sorted so evidence order (and thus output bytes) is the same in every process.
            for pattern, count in sorted(self.counts(value).items(), key=lambda item: item[0].term):
                evidence[pattern.owner].append(TagMatch(term=pattern.term, field=field, count=count))
        tags: dict[str, Tag] = {}
        for topic in self._term_topics:
            tag = _term_tag(topic, evidence.get(topic.name, []))
            if tag is not None:
                tags[topic.name] = tag
        for topic in self._queries:
            assert topic.query is not None
            if _holds(topic.query, tags, evidence):
                tag = _term_tag(topic, list(_positive_evidence(topic.query, tags, evidence)))
                if tag is not None:
                    tags[topic.name] = tag
        return tuple(sorted(tags.values(), key=lambda tag: (-tag.score, tag.name)))


def _score(matches: Iterable[TagMatch]) -> float:
    per_field: dict[str, int] = defaultdict(int)
    for match in matches:
        per_field[match.field] += match.count
    return TITLE_WEIGHT * per_field["title"] + max(per_field["summary"], per_field["text"])


def _term_tag(topic: Topic, matches: list[TagMatch]) -> Tag | None:
    if not matches:
        return None
    mentions = sum(match.count for match in matches)
    score = round(_score(matches), 3)
    if mentions < topic.min_mentions or score < topic.min_score:
        return None
    return Tag(name=topic.name, score=score, kind=topic.kind, matches=tuple(matches))


def _operand_matches(
    operand: Operand, tags: dict[str, Tag], evidence: dict[str, list[TagMatch]]
) -> tuple[TagMatch, ...]:
    if not operand.quoted and operand.value in tags:
        found: Iterable[TagMatch] = tags[operand.value].matches
    else:
        found = evidence.get(_RAW_OWNER + operand.value, ())
    return tuple(m for m in found if operand.field is None or m.field == operand.field)


def _holds(node: Node, tags: dict[str, Tag], evidence: dict[str, list[TagMatch]]) -> bool:
    if isinstance(node, Operand):
        return bool(_operand_matches(node, tags, evidence))
    if isinstance(node, Not):
        return not _holds(node.operand, tags, evidence)
    if isinstance(node, And):
        return all(_holds(child, tags, evidence) for child in node.operands)
    return any(_holds(child, tags, evidence) for child in node.operands)


def _positive_evidence(
    node: Node, tags: dict[str, Tag], evidence: dict[str, list[TagMatch]]
) -> tuple[TagMatch, ...]:
    """Evidence from the operands that made the query true (never from negated ones)."""
    if isinstance(node, Operand):
        return _operand_matches(node, tags, evidence)
    if isinstance(node, Not):
        return ()
    merged: dict[tuple[str, str], TagMatch] = {}
    for child in node.operands:
        for match in _positive_evidence(child, tags, evidence):
            merged.setdefault((match.term, match.field), match)
    return tuple(merged.values())


def tag_article(article: CleanArticle, tagger: Tagger, now: datetime) -> Article:
    """The tagging stage: the clean article plus its tags, ready for ``news.articles``."""
    tags = tagger.tag(article.title, article.summary, article.text)
    fields = article.model_dump(by_alias=False, exclude={"schema_"})
    return Article(**fields, tags=tags, processed_at=rfc3339(now))
