"""Reading and writing topics in tests with plain aiokafka clients."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer


@dataclass(frozen=True)
class Record:
    key: bytes | None
    value: bytes | None
    headers: dict[str, str]

    def json(self) -> dict[str, object]:
        return orjson.loads(self.value or b"")


async def read_topic(
    bootstrap: str,
    topic: str,
    *,
    until: Callable[[list[Record]], bool] | None = None,
    timeout: float = 60.0,
    settle: float = 0.0,
) -> list[Record]:
    """Read ``topic`` from the beginning until ``until(records)`` holds (or the timeout),
    then keep reading for ``settle`` seconds so extra (unwanted) records would show up."""
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", enable_auto_commit=False
    )
    await consumer.start()
    records: list[Record] = []
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            for batch in (await consumer.getmany(timeout_ms=500)).values():
                records.extend(Record(r.key, r.value, {k: v.decode() for k, v in r.headers}) for r in batch)
            if until is not None and until(records):
                break
        settle_end = time.monotonic() + settle
        while time.monotonic() < settle_end:
            for batch in (await consumer.getmany(timeout_ms=500)).values():
                records.extend(Record(r.key, r.value, {k: v.decode() for k, v in r.headers}) for r in batch)
    finally:
        await consumer.stop()
    return records


async def produce(bootstrap: str, topic: str, messages: Sequence[tuple[bytes | None, bytes]]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
    await producer.start()
    try:
        for key, value in messages:
            await producer.send_and_wait(topic, value=value, key=key)
    finally:
        await producer.stop()


def read(bootstrap: str, topic: str, **kwargs: object) -> list[Record]:
    return asyncio.run(read_topic(bootstrap, topic, **kwargs))  # type: ignore[arg-type]
