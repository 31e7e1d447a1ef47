"""Kafka adapters for the processes: broker check, topic creation, the poller's publisher.

Every aiokafka client is built with :func:`kafka_client_options` (servers, TLS, SASL), so
a secured cluster works for all of them or for none. Producers use acks=all with
idempotence (aiokafka defaults to acks=1 without it).
"""

from __future__ import annotations

import asyncio
import logging
import re
import ssl
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from functools import partial
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import (
    IllegalSaslStateError,
    KafkaError,
    SaslAuthenticationFailed,
    UnsupportedSaslMechanismError,
)

from pipeline import codec
from pipeline.config import KafkaSettings, tls_context
from pipeline.errors import Unavailable
from pipeline.health import Check
from pipeline.models import RawArticle
from pipeline.topics import COMPACTED, SINGLE_PARTITION, TopicNames

log = logging.getLogger("newsflow.kafka")
TOPIC_ALREADY_EXISTS = 36


class BrokerUnavailable(RuntimeError):
    """No Kafka broker answered at the configured address."""


def kafka_client_options(kafka: KafkaSettings) -> dict[str, Any]:
    """Connection keyword arguments for any aiokafka client (producer, consumer, admin):
    the servers, plus the TLS context and SASL login the settings ask for. The password leaves
    its SecretStr only here, into the client."""
    options: dict[str, Any] = {
        "bootstrap_servers": kafka.servers,
        "security_protocol": kafka.security_protocol,
    }
    if kafka.uses_tls:
        options["ssl_context"] = tls_context(kafka)
    if kafka.uses_sasl:
        assert kafka.sasl_password is not None  # KafkaSettings demands it with SASL_*
        options["sasl_mechanism"] = kafka.sasl_mechanism
        options["sasl_plain_username"] = kafka.sasl_username  # SCRAM reads these two as well
        options["sasl_plain_password"] = kafka.sasl_password.get_secret_value()
    return options


async def check_broker(kafka: KafkaSettings, timeout: float = 15.0, *, quiet: bool = True) -> None:
    """Raise ``BrokerUnavailable`` unless a broker answers a metadata request in time, with
    the configured security; a refused login or TLS handshake is named as such.

    ``quiet`` (the one-shot check at start) holds aiokafka's own log lines back for the check's
    duration, since its one line says it better. Readiness probes pass ``quiet=False``: they run
    beside the process's live clients, whose log lines must not disappear meanwhile."""
    admin = AIOKafkaAdminClient(**kafka_client_options(kafka), request_timeout_ms=5000)
    held_back: AbstractContextManager[list[BaseException]] = (
        _client_errors.collecting() if quiet else nullcontext([])
    )
    with held_back as seen:
        try:
            await asyncio.wait_for(_describe(admin), timeout)
        except (KafkaError, OSError, TimeoutError) as exc:
            raise BrokerUnavailable(_unavailable_message(kafka, exc, seen)) from None
        finally:
            await admin.close()


def _unavailable_message(kafka: KafkaSettings, exc: BaseException, seen: list[BaseException]) -> str:
    # aiokafka logs why bootstrapping failed and then raises a bare "Unable to bootstrap":
    # the logged cause is what tells a wrong password from a stopped broker.
    cause = seen[-1] if seen else exc
    where = f"the Kafka broker at {kafka.servers}"
    if isinstance(cause, SaslAuthenticationFailed):
        return (
            f"{where} refused the SASL login of user {kafka.sasl_username!r} "
            f"({_broker_words(cause)}); check kafka.sasl_username and kafka.sasl_password"
        )
    if isinstance(cause, UnsupportedSaslMechanismError):
        return f"{where} does not accept SASL mechanism {kafka.sasl_mechanism}; check kafka.sasl_mechanism"
    if isinstance(cause, IllegalSaslStateError):  # a SASL handshake sent to a plain listener
        return (
            f"{where} does not expect a SASL login on this port; check kafka.security_protocol and the port"
        )
    if kafka.uses_tls and isinstance(cause, ssl.SSLError | ConnectionResetError):
        # A TLS hello sent to a plain listener is answered by a reset, not an SSL error.
        reason = cause.reason if isinstance(cause, ssl.SSLError) else type(cause).__name__
        return (
            f"TLS with {where} failed ({reason}); check that the listener is "
            f"{kafka.security_protocol}, and kafka.ssl_cafile"
        )
    return (
        f"no Kafka broker reachable at {kafka.servers} ({type(cause).__name__}, "
        f"security_protocol {kafka.security_protocol}); start one with `newsflow kafka start` "
        "or set kafka.bootstrap_servers"
    )


def _broker_words(error: BaseException) -> str:
    # "[Error 58] SaslAuthenticationFailed: Authentication failed: Invalid username or password"
    # → the broker's own words, which never echo the password.
    return re.sub(r"^\[Error \d+\] \w+: ", "", str(error)) or type(error).__name__


class _HeldBackErrors(logging.Handler):
    """While broker checks run, aiokafka's log records stop here (the check's one line says it
    better) and the exceptions they carry go to each running check. Re-entrant: readiness
    probes may overlap, and only the last one to end gives aiokafka its logging back."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.running: list[list[BaseException]] = []
        self.saved = (logging.NOTSET, True)

    def emit(self, record: logging.LogRecord) -> None:
        args = record.args if isinstance(record.args, tuple) else ()
        for errors in self.running:
            errors.extend(arg for arg in args if isinstance(arg, BaseException))

    @contextmanager
    def collecting(self) -> Iterator[list[BaseException]]:
        client_log = logging.getLogger("aiokafka")
        errors: list[BaseException] = []
        if not self.running:
            self.saved = (client_log.level, client_log.propagate)
            client_log.addHandler(self)
            client_log.setLevel(logging.ERROR)  # seen even when the root logger is quieter
            client_log.propagate = False
        self.running.append(errors)
        try:
            yield errors
        finally:
            self.running.remove(errors)
            if not self.running:
                client_log.removeHandler(self)
                client_log.setLevel(self.saved[0])
                client_log.propagate = self.saved[1]


_client_errors = _HeldBackErrors()


async def _describe(admin: AIOKafkaAdminClient) -> None:
    await admin.start()
    info = await admin.describe_cluster()
    if not info.get("brokers"):
        raise KafkaError("cluster has no brokers")


async def ensure_topics(settings: KafkaSettings, extra: Sequence[str] = ()) -> list[str]:
    """Create the pipeline's topics (and ``extra`` ones: per-topic streams) that do not exist
    yet; return the names created."""
    names = TopicNames(settings.topic_prefix)
    admin = AIOKafkaAdminClient(**kafka_client_options(settings), request_timeout_ms=10000)
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


def new_producer(kafka: KafkaSettings) -> AIOKafkaProducer:
    return AIOKafkaProducer(
        **kafka_client_options(kafka),
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


# A readiness probe of the broker answers within this (Readiness itself waits 5 s by default,
# pipeline/health.py): shorter, so a hung broker reports this check's reason, not the probe's.
BROKER_PROBE_SECONDS = 4.0


def broker_probe(kafka: KafkaSettings) -> Check:
    """The ``broker`` readiness check of the worker and the poller."""
    return partial(check_broker, kafka, BROKER_PROBE_SECONDS, quiet=False)
