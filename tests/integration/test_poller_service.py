"""The poller service against a real HTTP server, with a recording publisher standing in
for Kafka (the component under test is the poller, not the broker)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime

import pytest
from prometheus_client import CollectorRegistry

from pipeline.clock import FakeClock
from pipeline.config import FeedSettings, PollerSettings
from pipeline.errors import Unavailable
from pipeline.metrics import PipelineMetrics
from pipeline.models import RawArticle
from pipeline.poller.fetcher import Fetcher
from pipeline.poller.service import PollerService
from tests.integration.feedserver import FeedServer, Route

FEED = (
    b'<?xml version="1.0"?><rss version="2.0"><channel><title>Svc</title><link>https://svc.example/</link>'
    b"<description>x</description>"
    b"<item><title>One</title><link>https://svc.example/1</link><description>a</description></item>"
    b"<item><title>Two</title><link>https://svc.example/2</link><description>b</description></item>"
    b"</channel></rss>"
)


class RecordingPublisher:
    def __init__(self, failures: int = 0) -> None:
        self.failures = failures
        self.published: list[RawArticle] = []

    async def publish(self, articles: Sequence[RawArticle]) -> None:
        if self.failures:
            self.failures -= 1
            raise Unavailable("kafka: broker down")
        self.published.extend(articles)


@pytest.fixture
def server() -> Iterator[FeedServer]:
    server = FeedServer().start()
    server.routes["/feed.xml"] = Route(FEED)
    yield server
    server.stop()


def poll_times(
    server: FeedServer, publisher: RecordingPublisher, times: int, changes: dict[int, Route] | None = None
) -> tuple[PollerService, CollectorRegistry]:
    """Poll ``times`` times; ``changes[n]`` is installed as the feed's route before poll n."""
    registry = CollectorRegistry()

    async def go() -> PollerService:
        fetcher = Fetcher.open(PollerSettings())
        feeds = [FeedSettings(id="svc", url=server.url("/feed.xml"), interval=60)]
        service = PollerService(
            feeds,
            fetcher,
            publisher,
            PipelineMetrics.create(registry),
            PollerSettings(),
            FakeClock(datetime(2026, 11, 21, tzinfo=UTC)),
        )
        try:
            for n in range(times):
                if changes and n in changes:
                    server.routes["/feed.xml"] = changes[n]
                await service.poll(service.states[0])
        finally:
            await fetcher.close()
        return service

    return asyncio.run(go()), registry


def test_second_poll_is_conditional_and_publishes_nothing(server: FeedServer) -> None:
    publisher = RecordingPublisher()
    service, registry = poll_times(server, publisher, 2)
    assert [a.title for a in publisher.published] == ["One", "Two"]
    assert [r.status for r in server.requests_for("/feed.xml")] == [200, 304]
    assert registry.get_sample_value("newsflow_feed_fetches_total", {"outcome": "not-modified"}) == 1
    assert service.states[0].state == "not-modified"


def test_failed_publish_keeps_no_validators_so_nothing_is_lost(server: FeedServer) -> None:
    publisher = RecordingPublisher(failures=1)
    service, registry = poll_times(server, publisher, 2)
    requests = server.requests_for("/feed.xml")
    assert "if-none-match" not in requests[1].headers  # refetched in full after the failure
    assert [a.title for a in publisher.published] == ["One", "Two"]
    assert registry.get_sample_value("newsflow_feed_fetches_total", {"outcome": "unavailable"}) == 1
    assert service.states[0].failures == 0


def test_broken_feed_backs_off_and_recovers(server: FeedServer) -> None:
    broken = Route(b"<html>not a feed</html>", etag="none")
    publisher = RecordingPublisher()
    service, registry = poll_times(server, publisher, 3, {0: broken})
    state = service.states[0]
    assert state.failures == 3 and state.state == "failing"
    assert registry.get_sample_value("newsflow_feeds", {"state": "failing"}) == 1
    assert registry.get_sample_value("newsflow_feed_fetches_total", {"outcome": "parse-error"}) == 3
    service, registry = poll_times(server, publisher, 4, {0: broken, 3: Route(FEED)})
    assert service.states[0].failures == 0 and service.states[0].state == "healthy"
    assert [a.title for a in publisher.published] == ["One", "Two"]
