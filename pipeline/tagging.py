"""Tagging: the taxonomy's topics and (optionally) the gazetteer's places (DESIGN §3).

Terms are matched by ``pipeline.matching``: one compiled automaton over every term of the
taxonomy, at word boundaries, separators and case ignored, plurals and possessives included.
Query topics are then evaluated over the term topics and raw terms (``pipeline.query``), and
the gazetteer (``pipeline.places``) adds ``kind: place`` tags with country codes. A taxonomy
topic wins over a place of the same name (it may give the place its country code).

Scores: a title match weighs ``TITLE_WEIGHT``, a body match 1; summary and text usually
repeat each other, so the body counts the larger of the two rather than their sum.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from functools import lru_cache
from typing import NamedTuple

from pipeline.clock import rfc3339
from pipeline.matching import TITLE_WEIGHT, FieldName, Matcher, Tokenized, score, term_variants, tokens
from pipeline.models import Article, CleanArticle, Tag, TagMatch
from pipeline.places import Gazetteer
from pipeline.query import And, Node, Not, Operand, operands
from pipeline.taxonomy import Taxonomy, Topic, query_order

__all__ = ["TITLE_WEIGHT", "Tagger", "tag_article", "term_variants", "tokens"]
FIELDS: tuple[FieldName, ...] = ("title", "summary", "text")
_RAW_OWNER = "\x00term:"  # owner prefix for raw query terms; cannot collide with topic names


class _Pattern(NamedTuple):  # a tuple: hashed in C, and hashing happens per match
    owner: str  # topic name, or _RAW_OWNER + phrase
    term: str  # the spelling written in the taxonomy


class Tagger:
    """A taxonomy compiled once (and a gazetteer, built once and shared by every taxonomy
    version); :meth:`tag` is safe to call for every article."""

    def __init__(self, taxonomy: Taxonomy, gazetteer: Gazetteer | None = None) -> None:
        self.taxonomy = taxonomy
        self.gazetteer = gazetteer
        self._term_topics = {topic.name: topic for topic in taxonomy.topics if topic.query is None}
        self._queries = query_order(taxonomy)
        self._matcher: Matcher[tuple[_Pattern, ...]] = self._compile()
        # Read for every article by the tagging agent: computed once here.
        self.topic_names = frozenset(topic.name for topic in taxonomy.topics)
        # Topics marked ``stream: true``: their articles also go to ``news.topic.<name>``.
        self.stream_topics = frozenset(topic.name for topic in taxonomy.topics if topic.stream)

    @property
    def pattern_count(self) -> int:
        return self._matcher.keys

    def _owned_terms(self) -> Iterable[tuple[str, str]]:
        for topic in self._term_topics.values():
            for term in topic.terms:
                yield topic.name, term
        names = {topic.name for topic in self.taxonomy.topics}
        for topic in self._queries:
            assert topic.query is not None
            for operand in operands(topic.query):
                if operand.quoted or operand.value not in names:
                    yield _RAW_OWNER + operand.value, operand.value

    def _compile(self) -> Matcher[tuple[_Pattern, ...]]:
        patterns: dict[str, list[_Pattern]] = defaultdict(list)
        for owner, term in self._owned_terms():
            for variant in term_variants(term):
                patterns[variant].append(_Pattern(owner, term))
        return Matcher((key, tuple(dict.fromkeys(owners))) for key, owners in patterns.items())

    def counts(self, text: Tokenized) -> dict[_Pattern, int]:
        """How often each pattern matches ``text`` at word boundaries."""
        # A term and its plural both match "Aleppo's" at one start: count each start once.
        seen = {(pattern, hit.start) for hit in self._matcher.hits(text) for pattern in hit.value}
        found: dict[_Pattern, int] = defaultdict(int)
        for pattern, _start in seen:
            found[pattern] += 1
        return found

    def tag(self, title: str, summary: str, text: str) -> tuple[Tag, ...]:
        values = zip(FIELDS, (title, summary, text), strict=True)
        fields = {field: Tokenized.of(value) for field, value in values if value}
        evidence: dict[str, list[TagMatch]] = defaultdict(list)
        for field, tokenized in fields.items():
            # Sorted so evidence order (and thus output bytes) is the same in every process.
            for pattern, count in sorted(self.counts(tokenized).items()):
                evidence[pattern.owner].append(_evidence(pattern.term, field, count))
        tags: dict[str, Tag] = {}
        for owner, matches in evidence.items():
            topic = self._term_topics.get(owner)
            tag = _term_tag(topic, matches) if topic is not None else None
            if tag is not None:
                tags[owner] = tag
        for topic in self._queries:
            assert topic.query is not None
            if _holds(topic.query, tags, evidence):
                tag = _query_tag(topic, list(_positive_evidence(topic.query, tags, evidence)))
                if tag is not None:
                    tags[topic.name] = tag
        if self.gazetteer is not None:
            for place in self.gazetteer.tags(fields):
                tags.setdefault(place.name, place)  # a taxonomy topic of that name wins
        return tuple(sorted(tags.values(), key=lambda tag: (-tag.score, tag.name)))


@lru_cache(maxsize=65_536)
def _evidence(term: str, field: FieldName, count: int) -> TagMatch:
    """Evidence objects are immutable and repeat across articles: built once each."""
    return TagMatch(term=term, field=field, count=count)


def _term_tag(topic: Topic, matches: list[TagMatch]) -> Tag | None:
    if not matches:
        return None
    mentions = sum(match.count for match in matches)
    value = score(matches)
    if mentions < topic.min_mentions or value < topic.min_score:
        return None
    # The validating constructor: pydantic-core builds it faster than model_construct.
    return Tag(name=topic.name, score=value, kind=topic.kind, matches=tuple(matches), country=topic.country)


def _query_tag(topic: Topic, matches: list[TagMatch]) -> Tag | None:
    """A query that holds is a tag; with positive evidence, ``min_mentions``/``min_score``
    apply to it. A query of negations only (``NOT sport``) has none: its tag scores 0."""
    if not matches:
        return Tag(name=topic.name, score=0.0, kind=topic.kind, matches=(), country=topic.country)
    return _term_tag(topic, matches)


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
        if not _holds(child, tags, evidence):  # a false OR branch proves nothing
            continue
        for match in _positive_evidence(child, tags, evidence):
            merged.setdefault((match.term, match.field), match)
    return tuple(merged.values())


def tag_article(article: CleanArticle, tagger: Tagger, now: datetime) -> Article:
    """The tagging stage: the clean article plus its tags, ready for ``news.articles``."""
    tags = tagger.tag(article.title, article.summary, article.text)
    fields = {name: value for name, value in article if name != "schema_"}
    # No second validation: the fields come from a validated CleanArticle and the tags are
    # built here from typed values (re-validating a 5 KB article cost more than tagging it).
    return Article.model_construct(**fields, tags=tags, processed_at=rfc3339(now))
