"""The feed registry and poller state on Kafka: compacted topics, partitioned by feed host.

- ``<prefix>feeds``: key = feed id, value = newsflow.feed/1 (null = feed removed);
- ``<prefix>poller-state``: key = feed id, value = the poller's saved FeedState record.

Both are written to the partition ``partition_for(feed.url)``, so a poller that owns
partition p of the feeds topic finds the state of exactly its feeds in partition p.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError

from newsflow.kafka_io import kafka_client_options, new_producer
from pipeline.config import FeedSettings, KafkaSettings
from pipeline.poller.state import FeedState
from pipeline.registry import feed_from_record, feed_record, partition_for
from pipeline.topics import TopicNames

log = logging.getLogger("newsflow.registry")


@dataclass(frozen=True)
class Compacted:
    """The latest record per key, and the partition it lives in."""

    values: dict[str, dict[str, Any] | None]
    partitions: dict[str, int]


async def read_compacted(
    kafka: KafkaSettings, topic: str, partitions: Iterable[int] | None = None
) -> Compacted:
    """Read a compacted topic (or some of its partitions) from the beginning to its end."""
    available = await partitions_of(kafka, topic)
    consumer = AIOKafkaConsumer(**kafka_client_options(kafka), enable_auto_commit=False)
    await consumer.start()
    try:
        wanted = [
            TopicPartition(topic, p)
            for p in sorted(available if partitions is None else set(partitions) & available)
        ]
        values: dict[str, dict[str, Any] | None] = {}
        where: dict[str, int] = {}
        if not wanted:
            return Compacted(values, where)
        consumer.assign(wanted)
        await consumer.seek_to_beginning(*wanted)
        end = await consumer.end_offsets(wanted)
        remaining = {tp for tp in wanted if end[tp] > 0}
        while remaining:
            for tp, records in (await consumer.getmany(*remaining, timeout_ms=1000)).items():
                for record in records:
                    key = (record.key or b"").decode("utf-8", "replace")
                    values[key] = _json(record.value)
                    where[key] = tp.partition
                if await consumer.position(tp) >= end[tp]:
                    remaining.discard(tp)
        return Compacted(values, where)
    finally:
        await consumer.stop()


async def partitions_of(kafka: KafkaSettings, topic: str) -> set[int]:
    """The topic's partition numbers (empty if it does not exist)."""
    admin = AIOKafkaAdminClient(**kafka_client_options(kafka), request_timeout_ms=10000)
    await admin.start()
    try:
        [description] = await admin.describe_topics([topic])
    finally:
        await admin.close()
    return {partition["partition"] for partition in description.get("partitions", [])}


def _json(value: bytes | None) -> dict[str, Any] | None:
    if value is None:
        return None
    try:
        decoded = orjson.loads(value)
    except orjson.JSONDecodeError:
        return None
    return decoded if isinstance(decoded, dict) else None


async def topic_partitions(producer: AIOKafkaProducer, topic: str) -> int:
    return len(await producer.partitions_for(topic))


async def sync_feeds(
    kafka: KafkaSettings, feeds: Iterable[FeedSettings], remove_missing: bool
) -> dict[str, int]:
    """Publish feeds to the registry; with ``remove_missing``, tombstone feeds not in ``feeds``.
    A feed whose host changed is also tombstoned in its old partition. Returns counts."""
    names = TopicNames(kafka.topic_prefix)
    current = await read_compacted(kafka, names.feeds)
    producer = new_producer(kafka)
    await producer.start()
    counts = {"added": 0, "updated": 0, "unchanged": 0, "removed": 0}
    try:
        partitions = await topic_partitions(producer, names.feeds)
        wanted = {feed.id: feed for feed in feeds}
        for feed in wanted.values():
            record = feed_record(feed)
            partition = partition_for(feed.url, partitions)
            old_partition = current.partitions.get(feed.id)
            if current.values.get(feed.id) == record and old_partition == partition:
                counts["unchanged"] += 1
                continue
            if old_partition is not None and old_partition != partition:
                await producer.send_and_wait(names.feeds, None, key=feed.id.encode(), partition=old_partition)
            await producer.send_and_wait(
                names.feeds, orjson.dumps(record), key=feed.id.encode(), partition=partition
            )
            counts["updated" if current.values.get(feed.id) else "added"] += 1
        if remove_missing:
            for feed_id, value in current.values.items():
                if value is not None and feed_id not in wanted:
                    await producer.send_and_wait(
                        names.feeds, None, key=feed_id.encode(), partition=current.partitions[feed_id]
                    )
                    counts["removed"] += 1
    finally:
        await producer.stop()
    return counts


def registry_feeds(compacted: Compacted) -> list[FeedSettings]:
    feeds = []
    for feed_id, value in compacted.values.items():
        if value is None:
            continue
        try:
            feeds.append(feed_from_record(value))
        except ValueError as exc:
            log.warning("registry record %s ignored: %s", feed_id, exc)
    return sorted(feeds, key=lambda feed: feed.id)


class KafkaStateStore:
    """Saves each feed's state to the compacted state topic, in its feed's partition."""

    def __init__(self, producer: AIOKafkaProducer, topic: str, partitions: int) -> None:
        self._producer, self._topic, self._partitions = producer, topic, partitions

    async def save(self, state: FeedState) -> None:
        try:
            await self._producer.send_and_wait(
                self._topic,
                orjson.dumps(state.to_record()),
                key=state.feed.id.encode(),
                partition=partition_for(state.feed.url, self._partitions),
            )
        except KafkaError as exc:
            # The next poll saves again; losing one save costs at most a full refetch.
            log.warning("could not save the state of %s: %s", state.feed.id, exc)
