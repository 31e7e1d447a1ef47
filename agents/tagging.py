"""news.unique → tag_article → news.articles (and news.topic.<name> for topics marked
``stream: true``). The taxonomy file is watched: a new valid version replaces the tagger
between two articles; a broken one is logged and counted, and the running version stays."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field

import faust

from agents.context import StageContext, send_confirmed
from pipeline import codec
from pipeline.clock import parse_rfc3339
from pipeline.models import Article, CleanArticle
from pipeline.tagging import Tagger, tag_article
from pipeline.taxonomy_watch import Reloaded, TaxonomyWatcher
from pipeline.topics import TopicNames

STAGE = "tagging"
GAZETTEER_LABEL = "(place)"  # one label for every gazetteer place: they are not configured
log = logging.getLogger("newsflow.agents.tagging")


@dataclass
class TaggingState:
    """The tagger in use (replaced by a reload) and where its topic streams go."""

    tagger: Tagger
    names: TopicNames
    partitions: int
    watcher: TaxonomyWatcher | None = None
    reload_seconds: float = 10.0
    _streams: dict[str, faust.TopicT] = field(default_factory=dict)

    async def stream(self, app: faust.App, topic: str) -> faust.TopicT:
        """The stream topic of a taxonomy topic, declared on the broker on first use."""
        found = self._streams.get(topic)
        if found is None:
            found = app.topic(
                self.names.topic_stream(topic),
                key_type=bytes,
                value_type=bytes,
                key_serializer="raw",
                value_serializer="raw",
                partitions=self.partitions,
            )
            await found.maybe_declare()
            self._streams[topic] = found
        return found


RELOAD_OUTCOMES = ("applied", "rejected", "failed")


def register(app: faust.App, ctx: StageContext, state: TaggingState) -> None:
    @app.agent(ctx.topics.unique, name=STAGE, concurrency=1)  # concurrency 1: faust #606
    async def tagging(stream: faust.StreamT[bytes]) -> None:
        async for event in stream.events():

            async def handle(event: faust.EventT[bytes] = event) -> None:
                tagger = state.tagger  # one version for the whole article
                with ctx.timed(STAGE):
                    article = tag_article(
                        codec.decode(event.message.value, CleanArticle), tagger, ctx.clock.now()
                    )
                key, value = article.article_key.encode(), codec.encode(article)
                await send_confirmed(ctx.topics.articles, key, value)
                for name in sorted(tagger.stream_topics & {tag.name for tag in article.tags}):
                    await send_confirmed(await state.stream(app, name), key, value)
                _count(ctx, article, tagger)

            await ctx.dead_letters.handle(event, STAGE, handle)

    if state.watcher is not None and state.reload_seconds > 0:
        for outcome in RELOAD_OUTCOMES:  # exported at 0: the first rejected reload is visible
            ctx.metrics.taxonomy_reloads.labels(outcome)

        @app.timer(state.reload_seconds)  # type: ignore[untyped-decorator]
        async def reload_taxonomy() -> None:
            await _reload(ctx, state)


async def _reload(ctx: StageContext, state: TaggingState) -> None:
    assert state.watcher is not None
    try:
        # Compiling 10,000 terms takes ~0.2 s: in a thread, so the agents keep running.
        outcome = await asyncio.to_thread(state.watcher.check)
    except Exception:  # never let housekeeping stop the worker
        log.exception("taxonomy reload failed; keeping the version in use")
        ctx.metrics.taxonomy_reloads.labels("failed").inc()
        return
    if outcome is None:
        return
    if isinstance(outcome, Reloaded):
        state.tagger = outcome.tagger
        topics = len(outcome.tagger.taxonomy.topics)
        log.info("taxonomy reloaded from %s: %d topics", state.watcher.path, topics)
        ctx.metrics.taxonomy_reloads.labels("applied").inc()
    else:
        log.error("taxonomy reload rejected: %s", outcome.reason)
        ctx.metrics.taxonomy_reloads.labels("rejected").inc()


def _count(ctx: StageContext, article: Article, tagger: Tagger) -> None:
    ctx.metrics.articles.labels(STAGE, "passed").inc()
    configured = tagger.topic_names
    for tag in article.tags:
        ctx.metrics.tags.labels(tag.name if tag.name in configured else GAZETTEER_LABEL).inc()
    done = parse_rfc3339(article.processed_at)
    ctx.metrics.end_to_end_seconds.observe(
        max(0.0, (done - parse_rfc3339(article.published_at)).total_seconds())
    )
    ctx.metrics.pipeline_seconds.observe(max(0.0, (done - parse_rfc3339(article.fetched_at)).total_seconds()))
