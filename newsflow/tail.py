"""`newsflow tail [TOPIC]`: subscribe to an output topic and print its messages as JSON lines."""

from __future__ import annotations

import asyncio
import sys
import time

import orjson
from aiokafka import AIOKafkaConsumer

from newsflow.kafka_io import check_broker, kafka_client_options
from pipeline.config import KafkaSettings, Settings
from pipeline.topics import TopicNames


def run_tail(
    settings: Settings, topic: str, from_beginning: bool, limit: int | None, idle: float | None
) -> int:
    names = TopicNames(settings.kafka.topic_prefix)
    full = topic if topic.startswith(settings.kafka.topic_prefix) else names.name(topic)
    return asyncio.run(_tail(settings.kafka, full, from_beginning, limit, idle))


async def _tail(
    kafka: KafkaSettings, topic: str, from_beginning: bool, limit: int | None, idle: float | None
) -> int:
    await check_broker(kafka)
    consumer = AIOKafkaConsumer(
        topic,
        **kafka_client_options(kafka),
        enable_auto_commit=False,
        auto_offset_reset="earliest" if from_beginning else "latest",
    )
    await consumer.start()
    seen = 0
    last = time.monotonic()
    try:
        while (limit is None or seen < limit) and (idle is None or time.monotonic() - last < idle):
            for records in (await consumer.getmany(timeout_ms=500)).values():
                for record in records:
                    sys.stdout.write(_render(record.value, list(record.headers)) + "\n")
                    seen += 1
                    last = time.monotonic()
            sys.stdout.flush()
    finally:
        await consumer.stop()
    return 0


def _render(value: bytes | None, headers: list[tuple[str, bytes]]) -> str:
    """JSON values as they are; with headers (dead letters) both, so the reason is visible."""
    try:
        body: object = orjson.loads(value or b"")
    except orjson.JSONDecodeError:
        body = (value or b"").decode("utf-8", "replace")
    if headers:
        body = {"headers": {key: val.decode("utf-8", "replace") for key, val in headers}, "value": body}
    return orjson.dumps(body, option=orjson.OPT_INDENT_2).decode()
