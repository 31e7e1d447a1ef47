"""`newsflow poller`: poll the feeds this process owns; serve /metrics, /healthz, /readyz, /feeds.

Ownership comes from Kafka group membership on the compacted ``news.feeds`` topic: each
poller process of the group is assigned some of its partitions, reads them from the start
(the latest definition of every feed there) and polls those feeds. On a rebalance — a
poller started, stopped or dead after the session timeout — partitions move; the new owner
restores each feed's state from ``news.poller-state`` (validators, backoff, entries already
published), so it neither refetches in full nor republishes.
"""

from __future__ import annotations

import asyncio
import logging
import signal

import orjson
from aiohttp import web
from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from newsflow.kafka_io import (
    KafkaPublisher,
    broker_probe,
    check_broker,
    ensure_topics,
    kafka_client_options,
    new_producer,
)
from newsflow.registry_io import KafkaStateStore, read_compacted, sync_feeds, topic_partitions
from pipeline.clock import SystemClock
from pipeline.config import Settings
from pipeline.fulltext.enrich import FullText
from pipeline.fulltext.fetch import PageFetcher
from pipeline.fulltext.guard import AddressPolicy
from pipeline.health import Readiness, liveness, refresh_forever
from pipeline.metrics import PipelineMetrics
from pipeline.poller.fetcher import Fetcher
from pipeline.poller.politeness import HostLimiter
from pipeline.poller.sandbox import ParserPool
from pipeline.poller.service import PollerService
from pipeline.registry import feed_from_record, load_feeds
from pipeline.topics import TopicNames

log = logging.getLogger("newsflow.poller")
READY_REFRESH_SECONDS = 15.0  # newsflow_ready is re-checked this often without probes


def run_poller(settings: Settings) -> None:
    asyncio.run(_run(settings))


class FeedOwnership(ConsumerRebalanceListener):  # type: ignore[misc]
    """Follows the group's partition assignment: starts and stops polling feeds."""

    def __init__(self, service: PollerService, settings: Settings) -> None:
        self.service, self.settings = service, settings
        self.consumer: AIOKafkaConsumer | None = None
        self.names = TopicNames(settings.kafka.topic_prefix)
        self.saved: dict[str, dict[str, object] | None] = {}
        self.partition_of: dict[str, int] = {}
        self.owned: set[int] = set()

    async def on_partitions_revoked(self, revoked: list[TopicPartition]) -> None:
        lost = {tp.partition for tp in revoked}
        self.owned -= lost
        for feed_id, partition in list(self.partition_of.items()):
            if partition in lost:
                await self.service.remove(feed_id)
                del self.partition_of[feed_id]
        log.info("released partitions %s", sorted(lost))

    async def on_partitions_assigned(self, assigned: list[TopicPartition]) -> None:
        gained = {tp.partition for tp in assigned}
        saved = await read_compacted(self.settings.kafka, self.names.poller_state, gained)
        self.saved.update(saved.values)
        assert self.consumer is not None
        # aiokafka may already be fetching these partitions while this callback runs; records
        # applied before their feeds' states are loaded would restart those feeds from
        # scratch. So: ignore them (``apply``) until now, then re-read from the beginning.
        await self.consumer.seek_to_beginning(*assigned)
        self.owned |= gained
        log.info(
            "own partitions %s of %s (%d saved feed states)",
            sorted(self.owned),
            self.names.feeds,
            len(saved.values),
        )

    async def apply(self, partition: int, key: bytes | None, value: bytes | None) -> None:
        if partition not in self.owned:
            return  # not (yet) ours: see on_partitions_assigned
        feed_id = (key or b"").decode("utf-8", "replace")
        if value is None:
            await self.service.remove(feed_id)
            self.partition_of.pop(feed_id, None)
            return
        try:
            feed = feed_from_record(orjson.loads(value))
        except (ValueError, orjson.JSONDecodeError) as exc:
            log.error("ignoring invalid registry record %r: %s", feed_id, exc)
            return
        self.partition_of[feed.id] = partition
        self.service.add(feed, self.saved.pop(feed.id, None))


async def _run(settings: Settings) -> None:
    await check_broker(settings.kafka)
    await ensure_topics(settings.kafka)
    names = TopicNames(settings.kafka.topic_prefix)
    configured = load_feeds(settings)
    if configured:  # add or update this config's feeds; `newsflow feeds sync` also removes
        await sync_feeds(settings.kafka, configured, remove_missing=False)
    registry = CollectorRegistry()
    producer = new_producer(settings.kafka)
    await producer.start()
    poller = settings.poller
    fetcher = Fetcher.open(poller)
    parser = ParserPool(poller.parse_workers, poller.parse_timeout, poller.parse_memory_mb * 1024 * 1024)
    limiter = HostLimiter(poller.per_host_concurrency, poller.per_host_rate)  # feeds and pages
    pages = PageFetcher.open(
        poller,
        limiter,
        policy=AddressPolicy.allowing(*poller.page_allow_networks),
        max_bytes=poller.page_max_bytes,
    )
    metrics = PipelineMetrics.create(registry)
    metrics.preset_poller()
    store = KafkaStateStore(
        producer, names.poller_state, await topic_partitions(producer, names.poller_state)
    )
    service = PollerService(
        fetcher,
        parser,
        KafkaPublisher(producer, names.raw),
        store,
        metrics,
        poller,
        SystemClock(),
        limiter=limiter,
        full_text=FullText(pages, parser, poller, metrics),
    )
    ownership = FeedOwnership(service, settings)
    consumer = AIOKafkaConsumer(
        **kafka_client_options(settings.kafka),
        group_id=f"{settings.worker.app_id}-pollers",
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        session_timeout_ms=int(poller.session_timeout * 1000),
        heartbeat_interval_ms=max(500, int(poller.session_timeout * 1000 / 4)),
    )
    ownership.consumer = consumer
    consumer.subscribe([names.feeds], listener=ownership)
    await consumer.start()
    readiness = Readiness({"broker": broker_probe(settings.kafka)}, metrics.ready)
    runner = await _serve_endpoints(registry, service, settings, readiness)
    refresher = asyncio.create_task(refresh_forever(readiness, READY_REFRESH_SECONDS))
    stop = asyncio.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        asyncio.get_running_loop().add_signal_handler(signum, stop.set)
    log.info("poller up; metrics on :%d/metrics, feed health on /feeds", settings.poller_metrics_port)
    try:
        while not stop.is_set():
            for tp, records in (await consumer.getmany(timeout_ms=500)).items():
                for record in records:
                    await ownership.apply(tp.partition, record.key, record.value)
    finally:
        refresher.cancel()
        await consumer.stop()
        await service.close()
        await runner.cleanup()
        await parser.close()
        await pages.close()
        await fetcher.close()
        await producer.stop()


async def _serve_endpoints(
    registry: CollectorRegistry, service: PollerService, settings: Settings, readiness: Readiness
) -> web.AppRunner:
    async def metrics(_request: web.Request) -> web.Response:
        return web.Response(body=generate_latest(registry), headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def healthz(_request: web.Request) -> web.Response:
        return web.json_response(liveness(role="poller", feeds=len(service.states)))

    async def readyz(_request: web.Request) -> web.Response:
        report = await readiness.report()
        return web.json_response(report.to_json(), status=report.status)

    async def feeds(_request: web.Request) -> web.Response:
        return web.json_response(sorted((s.status() for s in service.states.values()), key=lambda s: s["id"]))

    app = web.Application()
    app.router.add_get("/metrics", metrics)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/feeds", feeds)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, settings.worker.web_bind, settings.poller_metrics_port).start()
    return runner
