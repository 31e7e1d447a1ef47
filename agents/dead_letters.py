"""The one way an agent handles a message: run the stage, and never let an exception escape.

Faust acks a message whose handler raised, and acks a message it could not decode; either
way it is gone. So every message ends in exactly one of:

- the stage's output (the handler returned);
- ``news.dead-letter`` with the original bytes and the reason (``InvalidArticle``: never
  retried; any other exception: a bug, logged with its traceback and dead-lettered as
  ``unexpected-error`` so the pipeline keeps going and nothing is lost);
- a retry, for Kafka errors while sending (the broker is unavailable): the stage waits with
  capped exponential backoff and tries again, so consumption pauses instead of dropping.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import faust
from aiokafka.errors import KafkaError

from pipeline.errors import InvalidArticle
from pipeline.metrics import PipelineMetrics

log = logging.getLogger("newsflow.agents")
MAX_RETRY_DELAY = 30.0
HEADER_PREFIX = "x-newsflow-"


@dataclass(frozen=True)
class DeadLetters:
    topic: faust.TopicT
    metrics: PipelineMetrics

    async def handle(
        self, event: faust.EventT[bytes], stage: str, handler: Callable[[], Awaitable[None]]
    ) -> None:
        attempt = 0
        while True:
            try:
                await handler()
                return
            except InvalidArticle as exc:
                await self.send(event, stage, exc.reason, str(exc))
                return
            except KafkaError as exc:
                delay = min(MAX_RETRY_DELAY, 0.5 * 2**attempt)
                log.warning("%s: Kafka unavailable (%s); retrying in %.1fs", stage, exc, delay)
                attempt += 1
                await asyncio.sleep(delay)
            except Exception as exc:
                log.exception("%s: unexpected error, message dead-lettered", stage)
                await self.send(event, stage, "unexpected-error", f"{type(exc).__name__}: {exc}")
                return

    async def send(self, event: faust.EventT[bytes], stage: str, reason: str, detail: str) -> None:
        message = event.message
        headers = [
            (HEADER_PREFIX + "stage", stage.encode()),
            (HEADER_PREFIX + "reason", detail[:500].encode("utf-8", "replace")),
            (HEADER_PREFIX + "reason-code", reason.encode()),
            (HEADER_PREFIX + "source-topic", message.topic.encode()),
            (HEADER_PREFIX + "partition", str(message.partition).encode()),
            (HEADER_PREFIX + "offset", str(message.offset).encode()),
        ]
        sent = await self.topic.send(key=message.key, value=message.value, headers=headers)
        await sent
        self.metrics.dead_letters.labels(stage, reason).inc()
        self.metrics.articles.labels(stage, "dead-lettered").inc()
        log.info(
            "%s: dead-lettered %s[%d]@%d: %s",
            stage,
            message.topic,
            message.partition,
            message.offset,
            detail[:200],
        )
