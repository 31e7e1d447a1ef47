"""news.clean → dedup.decide (state: a Faust table keyed by article_key) → news.unique,
or news.duplicates for a suppression. State is written only after the send is confirmed."""

from __future__ import annotations

import faust
import orjson

from agents.context import StageContext, send_confirmed
from pipeline import codec
from pipeline.dedup import SeenRecord, Suppressed, decide
from pipeline.models import CleanArticle

STAGE = "dedup"


def register(app: faust.App, ctx: StageContext, partitions: int) -> None:
    # Keys and values are bytes we encode ourselves (orjson), like every topic of ours.
    seen = app.Table(
        "dedup-seen",
        default=None,
        partitions=partitions,
        schema=faust.Schema(key_type=bytes, value_type=bytes, key_serializer="raw", value_serializer="raw"),
    )

    @app.agent(ctx.topics.clean, name=STAGE, concurrency=1)  # concurrency 1: faust #606
    async def dedup(stream: faust.StreamT[bytes]) -> None:
        async for event in stream.events():

            async def handle(event: faust.EventT[bytes] = event) -> None:
                with ctx.timed(STAGE):
                    article = codec.decode(event.message.value, CleanArticle)
                    key = article.article_key.encode()
                    stored = seen.get(key)
                    previous = SeenRecord.from_dict(orjson.loads(stored)) if stored else None
                    decision = decide(article, previous, ctx.clock.now())
                if isinstance(decision, Suppressed):
                    await send_confirmed(ctx.topics.duplicates, key, codec.encode(decision.duplicate))
                    ctx.metrics.duplicates.labels(decision.duplicate.kind).inc()
                    outcome = "duplicate"
                else:
                    await send_confirmed(ctx.topics.unique, key, codec.encode(decision.article))
                    outcome = "unique" if decision.article.revision == 1 else "revision"
                seen[key] = orjson.dumps(decision.record.to_dict())
                ctx.metrics.articles.labels(STAGE, outcome).inc()

            await ctx.dead_letters.handle(event, STAGE, handle)
