"""news.clean → dedup.decide (state: a Faust table keyed by article_key) → news.dedup-near
(or news.unique when near-duplicate detection is off), or news.duplicates for a suppression.
State is written only after the send is confirmed. Records not seen for the retention window
are swept while handling an event of their partition (Faust writes a table change to the
partition of the event being handled, so the sweep of partition p runs on p's events; a
timer outside any event could not write, and with use_partitioner the producer's metadata for
the changelog topic is not always there yet)."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime

import faust
import orjson
from aiokafka.partitioner import DefaultPartitioner

from agents.context import StageContext, send_confirmed
from agents.topics import bytes_table
from pipeline import codec
from pipeline.config import DedupSettings
from pipeline.dedup import Redelivered, SeenRecord, Suppressed, decide, is_expired
from pipeline.models import CleanArticle

STAGE = "dedup"
SWEEP_SECONDS = 600.0  # per partition, at most this often
log = logging.getLogger("newsflow.agents.dedup")


def register(app: faust.App, ctx: StageContext, partitions: int, settings: DedupSettings) -> None:
    seen = bytes_table(app, "dedup-seen", partitions)
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
                record = replace(decision.record, partition=event.message.partition)
                seen[key] = orjson.dumps(record.to_dict())
                ctx.metrics.articles.labels(STAGE, outcome).inc()

            await ctx.dead_letters.handle(event, STAGE, handle)
            try:
                sweeper.maybe_sweep(event.message.partition)
            except Exception:  # never let housekeeping end the agent loop
                log.exception("dedup: retention sweep failed; will try again")

    sweeper = _Sweeper(seen, partitions, settings, ctx)


class _Sweeper:
    """Forgets expired records of one partition at a time, from within that partition's events."""

    def __init__(
        self,
        seen: faust.types.TableT[bytes, bytes],
        partitions: int,
        settings: DedupSettings,
        ctx: StageContext,
    ) -> None:
        self._seen, self._settings, self._ctx = seen, settings, ctx
        self._everything = list(range(partitions))
        self._partitioner = DefaultPartitioner()  # the producer's: news.clean's key → partition
        self._last: dict[int, float] = {}

    def maybe_sweep(self, partition: int) -> None:
        now = self._ctx.clock.now()
        if now.timestamp() - self._last.setdefault(partition, now.timestamp()) < SWEEP_SECONDS:
            return
        self._last[partition] = now.timestamp()
        doomed = [key for key, value in list(self._seen.items()) if self._due(key, value, partition, now)]
        for key in doomed:
            del self._seen[key]
        if doomed:
            log.info(
                "dedup: partition %d forgot %d articles not seen for %.0f s",
                partition,
                len(doomed),
                self._settings.retention,
            )

    def _due(self, key: bytes, value: bytes, partition: int, now: datetime) -> bool:
        """Expired and in ``partition``; a record that cannot be read is due as well."""
        try:
            record = SeenRecord.from_dict(orjson.loads(value))
        except (ValueError, TypeError, KeyError):
            record = None
        home = record.partition if record is not None and record.partition is not None else None
        if home is None:  # older or unreadable records: the producer's partitioner (~10 µs a key)
            home = self._partitioner(key, self._everything, self._everything)
        if home != partition:
            return False
        return record is None or is_expired(record, now, self._settings.retention)
