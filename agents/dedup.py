"""news.clean → dedup.decide (state: a Faust table keyed by article_key) → news.dedup-near
(or news.unique when near-duplicate detection is off), or news.duplicates for a suppression.
State is written only after the send is confirmed; records not seen for the retention window
are swept (by the worker that owns their partition)."""

from __future__ import annotations

import logging

import faust
import orjson
from aiokafka.partitioner import DefaultPartitioner

from agents.context import StageContext, send_confirmed
from pipeline import codec
from pipeline.config import DedupSettings
from pipeline.dedup import Redelivered, SeenRecord, Suppressed, decide, is_expired
from pipeline.models import CleanArticle

STAGE = "dedup"
SWEEP_SECONDS = 600.0
log = logging.getLogger("newsflow.agents.dedup")


def register(app: faust.App, ctx: StageContext, partitions: int, settings: DedupSettings) -> None:
    # Keys and values are bytes we encode ourselves (orjson), like every topic of ours.
    # use_partitioner: changelog records go to the partition of their key (the same partition
    # news.clean uses for it), which lets the retention sweep delete outside an event.
    seen = app.Table(
        "dedup-seen",
        default=None,
        partitions=partitions,
        use_partitioner=True,
        # key_type/value_type as well as the schema: Table takes its serializers from them and
        # would otherwise fall back to JSON, and the raw bytes could not be read back from the
        # changelog after a restart or rebalance (tests/integration/test_dedup_reliability.py).
        key_type=bytes,
        value_type=bytes,
        schema=faust.Schema(key_type=bytes, value_type=bytes, key_serializer="raw", value_serializer="raw"),
    )
    output = ctx.topics.near if settings.near else ctx.topics.unique

    @app.agent(ctx.topics.clean, name=STAGE, concurrency=1)  # concurrency 1: faust #606
    async def dedup(stream: faust.StreamT[bytes]) -> None:
        async for event in stream.events():

            async def handle(event: faust.EventT[bytes] = event) -> None:
                with ctx.timed(STAGE):
                    article = codec.decode(event.message.value, CleanArticle)
                    key = article.article_key.encode()
                    stored = seen.get(key)
                    previous = SeenRecord.from_dict(orjson.loads(stored)) if stored else None
                    if previous is not None and is_expired(previous, ctx.clock.now(), settings.retention):
                        previous = None  # forgotten: the sweep had not come round to it yet
                    decision = decide(article, previous, ctx.clock.now(), event.message.offset)
                if isinstance(decision, Redelivered):
                    ctx.metrics.articles.labels(STAGE, "redelivered").inc()
                    return
                if isinstance(decision, Suppressed):
                    await send_confirmed(ctx.topics.duplicates, key, codec.encode(decision.duplicate))
                    ctx.metrics.duplicates.labels(decision.duplicate.kind).inc()
                    outcome = "duplicate"
                else:
                    await send_confirmed(output, key, codec.encode(decision.article))
                    outcome = "unique" if decision.article.revision == 1 else "revision"
                seen[key] = orjson.dumps(decision.record.to_dict())
                ctx.metrics.articles.labels(STAGE, outcome).inc()

            await ctx.dead_letters.handle(event, STAGE, handle)

    partitioner = DefaultPartitioner()

    @app.timer(interval=SWEEP_SECONDS)  # type: ignore[untyped-decorator]  # faust is untyped
    async def forget_expired() -> None:
        """Delete records older than the retention window in this worker's own partitions
        (a standby copy must not delete what its owner may just have refreshed)."""
        owned = {
            tp.partition
            for tp in app.assignor.assigned_actives()
            if tp.topic == ctx.topics.clean.get_topic_name()
        }
        if not owned:
            return
        everything = list(range(partitions))
        now = ctx.clock.now()
        doomed = [
            key
            for key, value in list(seen.items())
            if partitioner(key, everything, everything) in owned
            and is_expired(SeenRecord.from_dict(orjson.loads(value)), now, settings.retention)
        ]
        for key in doomed:
            del seen[key]
        if doomed:
            log.info("dedup: forgot %d articles not seen for %.0f s", len(doomed), settings.retention)
