"""Kafka adapters for the processes: broker check, topic creation, the poller's publisher.

Producers use acks=all with idempotence (aiokafka defaults to acks=1 without it).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError

from pipeline import codec
from pipeline.config import KafkaSettings
from pipeline.errors import Unavailable
from pipeline.models import RawArticle
from pipeline.topics import COMPACTED, SINGLE_PARTITION, TopicNames

log = logging.getLogger("newsflow.kafka")
TOPIC_ALREADY_EXISTS = 36


class BrokerUnavailable(RuntimeError):
    """No Kafka broker answered at the configured address."""


async def check_broker(servers: str, timeout: float = 15.0) -> None:
    """Raise ``BrokerUnavailable`` unless a broker answers a metadata request in time."""
    admin = AIOKafkaAdminClient(bootstrap_servers=servers, request_timeout_ms=5000)
    client_log = logging.getLogger("aiokafka")
    level = client_log.level
    client_log.setLevel(logging.CRITICAL)  # our one-line error below says it better
    try:
        await asyncio.wait_for(_describe(admin), timeout)
    except (KafkaError, OSError, TimeoutError) as exc:
        raise BrokerUnavailable(
            f"no Kafka broker reachable at {servers} ({type(exc).__name__}); "
            "start one with `newsflow kafka start` or set kafka.bootstrap_servers"
        ) from None
    finally:
        client_log.setLevel(level)
        await admin.close()


async def _describe(admin: AIOKafkaAdminClient) -> None:
    await admin.start()
    info = await admin.describe_cluster()
    if not info.get("brokers"):
        raise KafkaError("cluster has no brokers")


async def ensure_topics(settings: KafkaSettings, extra: Sequence[str] = ()) -> list[str]:
    """Create the pipeline's topics (and ``extra`` ones: per-topic streams) that do not exist
    yet; return the names created."""
    names = TopicNames(settings.topic_prefix)
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.servers, request_timeout_ms=10000)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        wanted = [
            NewTopic(
                name,
                num_partitions=1 if suffix in SINGLE_PARTITION else settings.partitions,
                replication_factor=settings.replication_factor,
                topic_configs={"cleanup.policy": "compact"} if suffix in COMPACTED else {},
            )
            for suffix, name in [*names.all().items(), *((name, name) for name in extra)]
            if name not in existing
        ]
        if not wanted:
            return []
        response = await admin.create_topics(wanted)
        for name, code, *_rest in response.topic_errors:
            if code not in (0, TOPIC_ALREADY_EXISTS):
                raise KafkaError(f"cannot create topic {name}: error code {code}")
        return [topic.name for topic in wanted]
    finally:
        await admin.close()


def new_producer(servers: str) -> AIOKafkaProducer:
    return AIOKafkaProducer(
        bootstrap_servers=servers,
        acks="all",
        enable_idempotence=True,
        linger_ms=5,
        request_timeout_ms=30000,
    )


# Kafka brokers reject records above message.max.bytes (default ~1 MiB); a feed entry can be
# bigger (bodies may be 15 MiB), so oversized entries lose their full content, never the entry.
MAX_MESSAGE_BYTES = 900_000
_TRIMMED_SUMMARY_CHARS = 20_000
_TRIMMED_PAGE_TEXT_CHARS = 100_000  # ≤ 400 KB even in 4-byte UTF-8


def encode_bounded(article: RawArticle) -> bytes:
    """The encoded article, with content dropped and summary shortened if it is too large."""
    encoded = codec.encode(article)
    if len(encoded) <= MAX_MESSAGE_BYTES:
        return encoded
    log.warning(
        "entry %s is %d bytes; publishing it without its full content", article.article_key, len(encoded)
    )
    trimmed = article.model_copy(
        update={
            "content": None,
            "summary": (article.summary or "")[:_TRIMMED_SUMMARY_CHARS],
            "title": (article.title or "")[:2_000],
            "page_text": article.page_text[:_TRIMMED_PAGE_TEXT_CHARS] if article.page_text else None,
        }
    )
    return codec.encode(trimmed)


class KafkaPublisher:
    """The poller's publisher: every raw article keyed by its article_key, acks awaited."""

    def __init__(self, producer: AIOKafkaProducer, topic: str) -> None:
        self._producer = producer
        self._topic = topic

    async def publish(self, articles: Sequence[RawArticle]) -> None:
        try:
            pending = [
                await self._producer.send(
                    self._topic, key=article.article_key.encode()[:10_000], value=encode_bounded(article)
                )
                for article in articles
            ]
            await asyncio.gather(*pending)
        except KafkaError as exc:
            raise Unavailable(f"kafka: {type(exc).__name__}: {exc}") from None
