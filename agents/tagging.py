"""news.unique → tag_article → news.articles."""

from __future__ import annotations

import faust

from agents.context import StageContext, send_confirmed
from pipeline import codec
from pipeline.clock import parse_rfc3339
from pipeline.models import Article, CleanArticle
from pipeline.tagging import Tagger, tag_article

STAGE = "tagging"


def register(app: faust.App, ctx: StageContext, tagger: Tagger) -> None:
    @app.agent(ctx.topics.unique, name=STAGE, concurrency=1)  # concurrency 1: faust #606
    async def tagging(stream: faust.StreamT[bytes]) -> None:
        async for event in stream.events():

            async def handle(event: faust.EventT[bytes] = event) -> None:
                with ctx.timed(STAGE):
                    article = tag_article(
                        codec.decode(event.message.value, CleanArticle), tagger, ctx.clock.now()
                    )
                await send_confirmed(ctx.topics.articles, article.article_key.encode(), codec.encode(article))
                _count(ctx, article)

            await ctx.dead_letters.handle(event, STAGE, handle)


def _count(ctx: StageContext, article: Article) -> None:
    ctx.metrics.articles.labels(STAGE, "passed").inc()
    for tag in article.tags:
        ctx.metrics.tags.labels(tag.name).inc()
    done = parse_rfc3339(article.processed_at)
    ctx.metrics.end_to_end_seconds.observe(
        max(0.0, (done - parse_rfc3339(article.published_at)).total_seconds())
    )
    ctx.metrics.pipeline_seconds.observe(max(0.0, (done - parse_rfc3339(article.fetched_at)).total_seconds()))
