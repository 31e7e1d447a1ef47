"""The whole in-process chain, for ``newsflow process``, ``newsflow eval`` and benchmarks: the
same stage functions the agents call, composed in the same order (clean → exact dedup →
near-duplicate dedup → tag)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from pipeline.cleaning import SUMMARY_CHARS, BoilerplateRules, clean_article
from pipeline.clock import Clock
from pipeline.dedup import Redelivered, SeenRecord, Suppressed, decide
from pipeline.errors import InvalidArticle
from pipeline.models import Article, Duplicate, RawArticle
from pipeline.neardup import Copy, Unique, decide_near
from pipeline.nearindex import NearIndex
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
        near: NearIndex | None = None,
    ) -> None:
        self._tagger = tagger
        self._clock = clock
        self._rules = rules
        self._summary_chars = summary_chars
        self._seen: dict[str, SeenRecord] = {}
        self._near = near

    @property
    def near_enabled(self) -> bool:
        return self._near is not None

    def process(self, raw: RawArticle) -> ChainResult:
        clean = clean_article(raw, self._rules, self._summary_chars)
        now = self._clock.now()
        decision = decide(clean, self._seen.get(clean.article_key), now)
        assert not isinstance(decision, Redelivered)  # no positions here: never a redelivery
        self._seen[clean.article_key] = decision.record
        if isinstance(decision, Suppressed):
            current = clean.model_copy(update={"revision": decision.record.revision})
            return ChainResult(tag_article(current, self._tagger, now), decision.duplicate)
        if self._near is not None:
            near = decide_near(decision.article, self._near, now)
            if isinstance(near, Copy):
                return ChainResult(tag_article(decision.article, self._tagger, now), near.duplicate)
            if isinstance(near, Unique):
                near.remember(self._near)
        return ChainResult(tag_article(decision.article, self._tagger, now))

    def process_all(self, raws: Iterable[RawArticle]) -> Iterator[ChainResult | Rejected]:
        for raw in raws:
            try:
                yield self.process(raw)
            except InvalidArticle as exc:
                yield Rejected(raw, exc)
