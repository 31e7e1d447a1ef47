"""The whole in-process chain, for ``newsflow process`` and benchmarks: the same stage
functions the agents call, composed in the same order (clean → dedup → tag)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from pipeline.cleaning import SUMMARY_CHARS, BoilerplateRules, clean_article
from pipeline.clock import Clock
from pipeline.dedup import SeenRecord, Suppressed, decide
from pipeline.errors import InvalidArticle
from pipeline.models import Article, Duplicate, RawArticle
from pipeline.tagging import Tagger, tag_article


@dataclass(frozen=True, slots=True)
class ChainResult:
    article: Article
    duplicate: Duplicate | None = None  # set when dedup suppressed this article


@dataclass(frozen=True, slots=True)
class Rejected:
    raw: RawArticle
    error: InvalidArticle


class Chain:
    """Clean, deduplicate (state kept in memory) and tag raw articles."""

    def __init__(
        self,
        tagger: Tagger,
        clock: Clock,
        rules: BoilerplateRules | None = None,
        summary_chars: int = SUMMARY_CHARS,
    ) -> None:
        self._tagger = tagger
        self._clock = clock
        self._rules = rules
        self._summary_chars = summary_chars
        self._seen: dict[str, SeenRecord] = {}

    def process(self, raw: RawArticle) -> ChainResult:
        clean = clean_article(raw, self._rules, self._summary_chars)
        decision = decide(clean, self._seen.get(clean.article_key), self._clock.now())
        self._seen[clean.article_key] = decision.record
        if isinstance(decision, Suppressed):
            current = clean.model_copy(update={"revision": decision.record.revision})
            return ChainResult(tag_article(current, self._tagger, self._clock.now()), decision.duplicate)
        return ChainResult(tag_article(decision.article, self._tagger, self._clock.now()))

    def process_all(self, raws: Iterable[RawArticle]) -> Iterator[ChainResult | Rejected]:
        for raw in raws:
            try:
                yield self.process(raw)
            except InvalidArticle as exc:
                yield Rejected(raw, exc)
