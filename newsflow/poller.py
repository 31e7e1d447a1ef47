"""`newsflow poller`: the feed poller service with its /metrics, /healthz and /feeds endpoints."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Awaitable, Callable

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from newsflow.kafka_io import KafkaPublisher, check_broker, ensure_topics, new_producer
from pipeline.clock import SystemClock
from pipeline.config import Settings
from pipeline.metrics import PipelineMetrics
from pipeline.poller.fetcher import Fetcher
from pipeline.poller.service import PollerService
from pipeline.topics import TopicNames

log = logging.getLogger("newsflow.poller")


def run_poller(settings: Settings) -> None:
    asyncio.run(_run(settings))


async def _run(settings: Settings) -> None:
    await check_broker(settings.kafka.servers)
    if not settings.feeds:
        log.warning("no feeds configured: the poller has nothing to poll")
    await ensure_topics(settings.kafka)
    registry = CollectorRegistry()
    producer = new_producer(settings.kafka.servers)
    await producer.start()
    fetcher = Fetcher.open(settings.poller)
    service = PollerService(
        settings.feeds,
        fetcher,
        KafkaPublisher(producer, TopicNames(settings.kafka.topic_prefix).raw),
        PipelineMetrics.create(registry),
        settings.poller,
        SystemClock(),
    )
    runner = await _serve_endpoints(registry, service, settings)
    stop = asyncio.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        asyncio.get_running_loop().add_signal_handler(signum, stop.set)
    log.info("polling %d feeds; metrics on :%d/metrics", len(settings.feeds), settings.poller_metrics_port)
    try:
        await service.run(stop)
    finally:
        await runner.cleanup()
        await fetcher.close()
        await producer.stop()


async def _serve_endpoints(
    registry: CollectorRegistry, service: PollerService, settings: Settings
) -> web.AppRunner:
    app = web.Application()
    app.router.add_get(
        "/metrics",
        _handler(
            lambda: web.Response(
                body=generate_latest(registry), headers={"Content-Type": CONTENT_TYPE_LATEST}
            )
        ),
    )
    app.router.add_get("/healthz", _handler(lambda: web.json_response({"status": "ok"})))
    app.router.add_get(
        "/feeds",
        _handler(
            lambda: web.json_response(
                [
                    {
                        "id": s.feed.id,
                        "url": s.url,
                        "state": s.state,
                        "failures": s.failures,
                        "last_error": s.last_error,
                        "polls": s.polls,
                        "published": s.published,
                    }
                    for s in service.states
                ]
            )
        ),
    )
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, settings.worker.web_bind, settings.poller_metrics_port).start()
    return runner


def _handler(build: Callable[[], web.Response]) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def handle(_request: web.Request) -> web.Response:
        return build()

    return handle
