"""news.alerts → webhooks (generic JSON or Slack), signed; failed attempts wait on
news.alert-retries and are retried by their own agent.

A slow or dead endpoint never stalls the pipeline: these agents read news.alerts, not the
article topics, every attempt is cut at 10 s (``pipeline.sinks.webhook.attempt``), and an
attempt that fails is not retried in place: the next attempt is a record on the retry topic
(``pipeline.sinks.retry.Delivery``: same webhook-id, capped exponential backoff with jitter),
so one endpoint's outage does not hold back other alerts. A 410 disables the endpoint for
this worker process (logged; a restart tries it once more and disables it again).
"""

from __future__ import annotations

import asyncio
import logging
import random
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import faust
import orjson

from agents.context import StageContext, send_confirmed
from pipeline.errors import InvalidArticle
from pipeline.sinks.retry import Delivery, next_delivery
from pipeline.sinks.webhook import Endpoint, Status, attempt

STAGE = "delivery"
log = logging.getLogger("newsflow.agents.delivery")


@dataclass
class Deliveries:
    """The configured endpoints by channel name, and those a 410 disabled."""

    endpoints: dict[str, Endpoint]
    disabled: set[str] = field(default_factory=set)
    rng: random.Random = field(default_factory=random.Random)
    _session: aiohttp.ClientSession | None = None

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()

    def session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            # No proxies from the environment, no redirects (attempt() passes allow_redirects).
            self._session = aiohttp.ClientSession(trust_env=False)
        return self._session


def register(app: faust.App, ctx: StageContext, deliveries: Deliveries) -> None:
    @app.agent(ctx.topics.alerts, name=STAGE, concurrency=1)
    async def deliver_alerts(stream: faust.StreamT[bytes]) -> None:
        async for event in stream.events():

            async def handle(event: faust.EventT[bytes] = event) -> None:
                alert = _alert(event.message.value)
                channels = alert.get("channels")
                for channel in channels if isinstance(channels, list) else ():
                    record = Delivery.first(alert, str(channel), ctx.clock.now())
                    await _attempt(ctx, deliveries, record)

            await ctx.dead_letters.handle(event, STAGE, handle)

    @app.agent(ctx.topics.alert_retries, name="delivery-retry", concurrency=1)
    async def retry_deliveries(stream: faust.StreamT[bytes]) -> None:
        async for event in stream.events():

            async def handle(event: faust.EventT[bytes] = event) -> None:
                record = Delivery.from_json(event.message.value or b"")  # InvalidArticle: dead-letter
                wait = (record.next_attempt_at - ctx.clock.now()).total_seconds()
                if wait > 0:
                    await asyncio.sleep(wait)  # holds this worker's retries, never news.alerts
                await _attempt(ctx, deliveries, record)

            await ctx.dead_letters.handle(event, "delivery-retry", handle)

    async def close_session(sender: Any, /, *args: Any, signal: Any, **kwargs: Any) -> None:
        await deliveries.close()  # else aiohttp warns of an unclosed session at shutdown

    app.on_before_shutdown.connect(close_session)


async def _attempt(ctx: StageContext, deliveries: Deliveries, record: Delivery) -> None:
    channel = record.endpoint
    endpoint = deliveries.endpoints.get(channel)
    if endpoint is None:
        raise InvalidArticle("unknown-channel", f"alert {record.alert_id}: no channel {channel!r} configured")
    if channel in deliveries.disabled:
        ctx.metrics.webhook_deliveries.labels(channel, "disabled").inc()
        return
    now = ctx.clock.now()
    outcome = await attempt(deliveries.session(), endpoint, record.alert, now, number=record.attempt)
    if outcome.status is Status.GONE:
        deliveries.disabled.add(channel)
        log.error("channel %s answered 410 Gone: disabled until the worker restarts", channel)
    following = next_delivery(record, outcome, now, deliveries.rng)
    if following is not None:
        await send_confirmed(ctx.topics.alert_retries, following.webhook_id.encode(), following.to_json())
        ctx.metrics.webhook_deliveries.labels(channel, "retry").inc()
    elif outcome.status is Status.RETRY:
        log.error(
            "alert %s to %s: giving up after %d attempts (%s)",
            record.alert_id,
            channel,
            record.attempt,
            outcome.reason,
        )
        ctx.metrics.webhook_deliveries.labels(channel, "exhausted").inc()
    else:
        ctx.metrics.webhook_deliveries.labels(channel, outcome.status.value).inc()


def _alert(value: bytes | None) -> dict[str, object]:
    try:
        alert = orjson.loads(value or b"")
    except orjson.JSONDecodeError as exc:
        raise InvalidArticle("bad-json", str(exc)) from exc
    if not isinstance(alert, dict) or not isinstance(alert.get("id"), str):
        raise InvalidArticle("bad-alert", "an alert must be a JSON object with an id")
    return alert
