"""The one way an agent handles a message: run the stage, and never let an exception escape.

Faust acks a message whose handler raised, and acks a message it could not decode; either
way it is gone. So every message ends in exactly one of:

- the stage's output (the handler returned);
- ``news.dead-letter`` with the original bytes and the reason: ``InvalidArticle`` (never
  retried), a Kafka error retrying cannot fix (e.g. a message too large for the broker:
  ``kafka-rejected``), or any other exception — a bug, logged with its traceback and
  dead-lettered as ``unexpected-error`` so the pipeline keeps going and nothing is lost;
- a retry, while Kafka is unavailable (retriable errors, delivery timeouts): the stage waits
  with capped exponential backoff and tries again, so consumption pauses instead of
  dropping. The dead-letter send itself is retried the same way.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import faust
from aiokafka.errors import KafkaError, KafkaTimeoutError
from faust.exceptions import ProducerSendError

from pipeline.errors import InvalidArticle
from pipeline.metrics import PipelineMetrics

log = logging.getLogger("newsflow.agents")
MAX_RETRY_DELAY = 30.0
HEADER_PREFIX = "x-newsflow-"


def is_transient(exc: BaseException) -> bool:
    """True for Kafka errors that waiting can fix (Faust wraps send errors in ProducerSendError)."""
    cause = exc.__cause__ if isinstance(exc, ProducerSendError) and exc.__cause__ else exc
    return isinstance(cause, KafkaTimeoutError) or (isinstance(cause, KafkaError) and cause.retriable)


def is_kafka_error(exc: BaseException) -> bool:
    return isinstance(exc, KafkaError | ProducerSendError)


async def with_retries(stage: str, action: Callable[[], Awaitable[None]]) -> None:
    """Run ``action``; while it fails with a transient Kafka error, wait and run it again."""
    attempt = 0
    while True:
        try:
            await action()
            return
        except Exception as exc:
            if not is_transient(exc):
                raise
            delay = min(MAX_RETRY_DELAY, 0.5 * 2**attempt)
            log.warning("%s: Kafka unavailable (%s); retrying in %.1fs", stage, exc, delay)
            attempt += 1
            await asyncio.sleep(delay)


@dataclass(frozen=True)
class DeadLetters:
    topic: faust.TopicT
    metrics: PipelineMetrics

    async def handle(
        self, event: faust.EventT[bytes], stage: str, handler: Callable[[], Awaitable[None]]
    ) -> None:
        try:
            await with_retries(stage, handler)
        except InvalidArticle as exc:
            await self.send(event, stage, exc.reason, str(exc))
        except Exception as exc:
            if is_kafka_error(exc):
                log.error("%s: Kafka refused the output (%s); message dead-lettered", stage, exc)
                await self.send(event, stage, "kafka-rejected", f"{type(exc).__name__}: {exc}")
            else:
                log.exception("%s: unexpected error, message dead-lettered", stage)
                await self.send(event, stage, "unexpected-error", f"{type(exc).__name__}: {exc}")

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

        async def deliver() -> None:
            sent = await self.topic.send(key=message.key, value=message.value, headers=headers)
            await sent

        await with_retries(stage, deliver)
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
