"""news.raw → clean_article → news.clean."""

from __future__ import annotations

import faust

from agents.context import StageContext, send_confirmed
from pipeline import codec
from pipeline.cleaning import BoilerplateRules, clean_article
from pipeline.models import RawArticle

STAGE = "cleaning"


def register(app: faust.App, ctx: StageContext, rules: BoilerplateRules, summary_chars: int) -> None:
    @app.agent(ctx.topics.raw, name=STAGE, concurrency=1)  # concurrency 1: faust #606
    async def cleaning(stream: faust.StreamT[bytes]) -> None:
        async for event in stream.events():

            async def handle(event: faust.EventT[bytes] = event) -> None:
                with ctx.timed(STAGE):
                    article = clean_article(
                        codec.decode(event.message.value, RawArticle), rules, summary_chars
                    )
                await send_confirmed(ctx.topics.clean, article.article_key.encode(), codec.encode(article))
                ctx.metrics.articles.labels(STAGE, "passed").inc()

            await ctx.dead_letters.handle(event, STAGE, handle)
