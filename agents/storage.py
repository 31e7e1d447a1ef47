"""news.articles → PostgreSQL or SQLite (``pipeline.sinks``), in batches.

Offsets are acked only after the batch is in the database (``noack_take``, then an ack per
event), so a crash between the write and the commit replays the batch, and the sink's upsert
on ``(id, revision)`` absorbs the replay: at-least-once delivery never doubles a row. While
the database is unavailable the agent keeps its batch and retries with capped backoff:
consumption pauses, the lag grows, nothing is dropped, and it resumes by itself. An article
the database refuses is dead-lettered with the reason; the rest of its batch is written.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence

import faust

from agents.context import StageContext
from pipeline import codec
from pipeline.errors import InvalidArticle, Unavailable
from pipeline.models import Article
from pipeline.sinks.base import ArticleSink

STAGE = "storage"
MAX_RETRY_DELAY = 30.0
log = logging.getLogger("newsflow.agents.storage")


def register(
    app: faust.App, ctx: StageContext, sink: ArticleSink, sink_name: str, batch: int, within: float
) -> None:
    @app.agent(ctx.topics.articles, name=STAGE, concurrency=1)  # concurrency 1: faust #606
    async def storage(stream: faust.StreamT[bytes]) -> None:
        async for events in stream.noack_take(batch, within):  # type: ignore[attr-defined]
            await store(ctx, sink, sink_name, events)
            for event in events:
                await stream.ack(event)


async def store(
    ctx: StageContext, sink: ArticleSink, sink_name: str, events: Sequence[faust.EventT[bytes]]
) -> None:
    """Write one batch; return only when every event is in the database or dead-lettered."""
    decoded: list[tuple[faust.EventT[bytes], Article]] = []
    for event in events:
        try:
            decoded.append((event, codec.decode(event.message.value, Article)))
        except InvalidArticle as exc:
            await ctx.dead_letters.send(event, STAGE, exc.reason, str(exc))
    if not decoded:
        return
    try:
        await _write(ctx, sink, sink_name, [article for _event, article in decoded])
    except Exception as batch_error:
        # Which article? Write them one at a time: the good ones land, the bad one is named.
        ctx.metrics.sink_writes.labels(sink_name, "invalid").inc()
        if not isinstance(batch_error, InvalidArticle):
            log.exception("storage: unexpected error writing a batch; writing it article by article")
        for event, article in decoded:
            try:
                await _write(ctx, sink, sink_name, [article])
            except InvalidArticle as exc:
                await ctx.dead_letters.send(event, STAGE, exc.reason, str(exc))
            except Exception as exc:  # a bug or a broken database: never escape the agent loop
                log.exception("storage: unexpected error, article %s dead-lettered", article.id)
                await ctx.dead_letters.send(event, STAGE, "unexpected-error", f"{type(exc).__name__}: {exc}")


async def _write(ctx: StageContext, sink: ArticleSink, sink_name: str, articles: list[Article]) -> None:
    """Write, waiting out an unavailable database with capped exponential backoff."""
    attempt = 0
    while True:
        started = time.perf_counter()
        try:
            rows = await sink.write_batch(articles)
        except Unavailable as exc:
            ctx.metrics.sink_writes.labels(sink_name, "unavailable").inc()
            delay = min(MAX_RETRY_DELAY, 0.5 * 2**attempt)
            log.warning(
                "storage: %s unavailable (%s); %d articles wait, retrying in %.1fs",
                sink_name,
                exc,
                len(articles),
                delay,
            )
            attempt += 1
            await asyncio.sleep(delay)
            continue
        ctx.metrics.sink_write_seconds.labels(sink_name).observe(time.perf_counter() - started)
        ctx.metrics.sink_writes.labels(sink_name, "ok").inc()
        ctx.metrics.sink_rows.labels(sink_name).inc(rows)
        ctx.metrics.articles.labels(STAGE, "stored").inc(len(articles))
        for article in articles:
            ctx.metrics.fetch_to_store_seconds.observe(ctx.seconds_since(article.fetched_at))
        if attempt:
            log.info("storage: %s is back; wrote %d articles", sink_name, len(articles))
        return
