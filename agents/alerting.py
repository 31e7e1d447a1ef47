"""news.articles (and news.duplicates) → news.alert-input (one partition) → alert rules →
news.alerts.

The rules count across partitions (spikes per topic, stories, rate limits), so the articles
are forwarded to a one-partition topic and evaluated there by one agent whose state is a
changelogged table (``pipeline.alerting``: plain JSON values under ``rule:…``/``story:…``).
Syndicated copies (content and near duplicates) travel there too, marked by a header: they
never alert themselves, but link to their story's alert and count as one more source.
Articles are evaluated at their Kafka record time, so a replay after a crash makes the same
decisions and the same alert ids (consumers deduplicate alerts by id). Time-driven work
(quiet hours ending, digests, spike warm-up) runs on a tick message the timer puts on the same
topic: table writes must happen inside the agent, on its partition.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from functools import partial
from typing import Any

import faust
import orjson

from agents.context import StageContext, send_confirmed
from agents.topics import bytes_table
from pipeline import codec
from pipeline.alerting import AlertRules, Outcome, evaluate_article, evaluate_copy, tick
from pipeline.models import Article, Duplicate

STAGE = "alerting"
TICK_SECONDS = 30.0
STALE_SECONDS = 6 * 3600.0  # articles tagged longer ago than this are not alerted on
TICK_KEY = b"\x00tick"  # not an article key (those are URLs, guid: or hash: strings)
KIND_HEADER = "x-newsflow-kind"  # on news.alert-input: "article" or "duplicate" (a copy)
log = logging.getLogger("newsflow.agents.alerting")


def register(app: faust.App, ctx: StageContext, rules: AlertRules) -> None:
    state = JsonTable(bytes_table(app, f"{STAGE}-state", 1))

    async def forward(event: faust.EventT[bytes], kind: bytes) -> None:
        # The record time travels along: spikes count by it, and a replay keeps it.
        message = event.message
        sent = await ctx.topics.alert_input.send(
            key=message.key,
            value=message.value or b"",
            timestamp=message.timestamp,
            headers=[(KIND_HEADER, kind)],
        )
        await sent

    @app.agent(ctx.topics.articles, name="alert-forward", concurrency=1)
    async def forward_articles(stream: faust.StreamT[bytes]) -> None:
        async for event in stream.events():
            await ctx.dead_letters.handle(event, "alert-forward", partial(forward, event, b"article"))

    @app.agent(ctx.topics.duplicates, name="alert-forward-copies", concurrency=1)
    async def forward_copies(stream: faust.StreamT[bytes]) -> None:
        async for event in stream.events():
            await ctx.dead_letters.handle(event, "alert-forward", partial(forward, event, b"duplicate"))

    @app.agent(ctx.topics.alert_input, name=STAGE, concurrency=1)  # concurrency 1: faust #606
    async def alerting(stream: faust.StreamT[bytes]) -> None:
        async for event in stream.events():

            async def handle(event: faust.EventT[bytes] = event) -> None:
                if event.message.key == TICK_KEY:
                    await _apply(ctx, state, tick(rules, ctx.clock.now(), state))
                    return
                seen_at = _record_time(event)
                if (ctx.clock.now() - seen_at).total_seconds() > STALE_SECONDS:
                    # Retained history read by a new consumer group (or a long outage):
                    # alerting on it now would be noise about old news. Counted, not hidden.
                    ctx.metrics.articles.labels(STAGE, "stale").inc()
                    return
                fetched_at: str | None = None  # of an article; copies and ticks fire no latency
                with ctx.timed(STAGE):
                    if _kind(event) == b"duplicate":
                        copy = codec.decode(event.message.value, Duplicate)
                        outcome = evaluate_copy(rules, copy, seen_at, state)
                    else:
                        article = codec.decode(event.message.value, Article)
                        outcome = evaluate_article(rules, article, seen_at, state)
                        fetched_at = article.fetched_at
                await _apply(ctx, state, outcome)
                if fetched_at is not None:  # alerts this article fired, now sent
                    for _alert in outcome.alerts:
                        ctx.metrics.fetch_to_alert_seconds.observe(ctx.seconds_since(fetched_at))

            await ctx.dead_letters.handle(event, STAGE, handle)

    @app.timer(TICK_SECONDS)  # type: ignore[untyped-decorator]
    async def alert_tick() -> None:
        await ctx.topics.alert_input.send(key=TICK_KEY, value=b"{}")


class JsonTable(Mapping[str, Any]):
    """The engine's view of the table: str keys, JSON values (stored as orjson bytes)."""

    def __init__(self, table: Any) -> None:
        self._table = table

    def __getitem__(self, key: str) -> Any:
        raw = self._table.get(key.encode())
        if raw is None:
            raise KeyError(key)
        return orjson.loads(raw)

    def __iter__(self) -> Iterator[str]:
        return (key.decode() for key in list(self._table.keys()))

    def __len__(self) -> int:
        return len(self._table)

    def put(self, key: str, value: Any) -> None:
        if value is None:
            self._table.pop(key.encode(), None)
        else:
            self._table[key.encode()] = orjson.dumps(value)


async def _apply(ctx: StageContext, state: JsonTable, outcome: Outcome) -> None:
    """Send the alerts first, then record the state: a crash in between re-sends the same
    alert ids on replay, never loses one."""
    for alert in outcome.alerts:
        await send_confirmed(ctx.topics.alerts, alert.id.encode(), codec.encode(alert))
        ctx.metrics.alerts.labels(alert.rule).inc()
        log.info("alert %s fired by rule %s: %s", alert.id, alert.rule, alert.title)
    for link in outcome.links:
        ctx.metrics.alert_links.labels(link.rule).inc()
        log.info(
            "article %s linked to alert %s (rule %s, story %s): no re-alert",
            link.article_id,
            link.alert_id,
            link.rule,
            link.story_id,
        )
    for held in outcome.held:
        log.info("alert %s of rule %s held (%s)", held.alert_id, held.rule, held.reason)
    for key, value in outcome.states.items():
        state.put(key, value)


def _kind(event: faust.EventT[bytes]) -> bytes:
    headers = event.message.headers or ()
    pairs = headers.items() if isinstance(headers, Mapping) else headers
    return next((bytes(value) for name, value in pairs if name == KIND_HEADER), b"article")


def _record_time(event: faust.EventT[bytes]) -> datetime:
    stamp = event.message.timestamp  # seconds since the epoch, set by the producer
    return datetime.fromtimestamp(stamp, tz=UTC) if stamp else datetime.now(tz=UTC)
