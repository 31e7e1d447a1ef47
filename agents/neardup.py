"""news.dedup-near (one partition) → neardup.decide_near (state: the NearIndex, rebuilt from the
Faust table dedup-near-index) → news.unique, or news.duplicates for another outlet's copy.

The index lives in memory; its durable form is the table (key: article id, value: the packed
entry), written only after the send is confirmed. After a rebalance or a restart the table
is recovered from its changelog and the index is rebuilt from it, oldest first, on the first
event this worker handles (only the worker that owns the one partition pays for it)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import faust

from agents.context import StageContext, send_confirmed
from agents.topics import bytes_table
from pipeline import codec
from pipeline.config import DedupSettings
from pipeline.models import CleanArticle
from pipeline.neardup import Copy, Replayed, decide_near, new_index
from pipeline.nearindex import NearIndex, unpack_entry

STAGE = "near-dedup"
SWEEP_SECONDS = 3600.0
log = logging.getLogger("newsflow.agents.neardup")


@dataclass
class _IndexHolder:
    """The index of the partition this worker owns, or None until it is (re)built."""

    settings: DedupSettings
    index: NearIndex | None = None

    def build(self, table: faust.types.TableT[bytes, bytes]) -> NearIndex:
        entries, unreadable = [], 0
        for value in table.values():
            try:
                entries.append(unpack_entry(value))
            except ValueError:  # another signature format (similarity.ALGORITHM changed), or damage
                unreadable += 1
        if unreadable:
            log.warning("near-duplicate index: skipped %d stored entries it cannot read", unreadable)
        entries.sort(key=lambda entry: entry.seen_at)
        index = new_index(self.settings)
        for entry in entries:
            index.add_packed(entry.pack())
        log.info("near-duplicate index rebuilt from %d stored articles", len(entries))
        self.index = index
        return index


def register(app: faust.App, ctx: StageContext, settings: DedupSettings) -> None:
    entries = bytes_table(app, "dedup-near-index", 1)
    holder = _IndexHolder(settings)

    @entries.on_recover
    async def forget_index() -> None:
        holder.index = None  # partitions moved: rebuild from the recovered table when needed

    @app.agent(ctx.topics.near, name=STAGE, concurrency=1)  # one partition, one at a time
    async def near_dedup(stream: faust.StreamT[bytes]) -> None:
        async for event in stream.events():

            async def handle(event: faust.EventT[bytes] = event) -> None:
                # `is None`, not `or`: an empty index is falsy (it has a length) and must not
                # be rebuilt (and reallocated) on every event.
                index = holder.index if holder.index is not None else holder.build(entries)
                with ctx.timed(STAGE):
                    article = codec.decode(event.message.value, CleanArticle)
                    decision = decide_near(article, index, ctx.clock.now())
                key = article.article_key.encode()
                if isinstance(decision, Replayed):
                    ctx.metrics.articles.labels(STAGE, "replayed").inc()
                    return
                if isinstance(decision, Copy):
                    await send_confirmed(ctx.topics.duplicates, key, codec.encode(decision.duplicate))
                    ctx.metrics.duplicates.labels(decision.duplicate.kind).inc()
                    ctx.metrics.articles.labels(STAGE, "duplicate").inc()
                    return
                await send_confirmed(ctx.topics.unique, key, codec.encode(decision.article))
                decision.remember(index)
                entries[article.id.encode()] = decision.entry
                ctx.metrics.articles.labels(STAGE, "unique").inc()

            await ctx.dead_letters.handle(event, STAGE, handle)
            try:
                sweep.maybe_run()
            except Exception:  # never let housekeeping end the agent loop
                log.exception("near-dedup: retention sweep failed; will try again")

    sweep = _Sweep(entries, settings, ctx)


class _Sweep:
    """Deletes stored entries older than the retention window (the index skips them already;
    this bounds the table and its changelog). Runs from within an event of the partition, at
    most every SWEEP_SECONDS: Faust writes table changes to the partition of the event."""

    def __init__(
        self, entries: faust.types.TableT[bytes, bytes], settings: DedupSettings, ctx: StageContext
    ) -> None:
        self._entries, self._settings, self._ctx = entries, settings, ctx
        self._last: float | None = None

    def maybe_run(self) -> None:
        now = self._ctx.clock.now().timestamp()
        if self._last is None:
            self._last = now
        if now - self._last < SWEEP_SECONDS:
            return
        self._last = now
        horizon = now - self._settings.retention
        doomed = [key for key, value in list(self._entries.items()) if _seen_at(value) < horizon]
        for key in doomed:
            del self._entries[key]
        if doomed:
            log.info(
                "near-dedup: forgot %d articles older than %.0f s", len(doomed), self._settings.retention
            )


def _seen_at(value: bytes) -> float:
    """When a stored entry was seen; an entry that cannot be read (another format) is due."""
    try:
        return float(unpack_entry(value).seen_at)
    except ValueError:
        return float("-inf")
