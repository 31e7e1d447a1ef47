"""The poller service against a real HTTP server, with a recording publisher and an
in-memory state store standing in for Kafka (the component under test is the poller)."""

from __future__ import annotations

import asyncio
import os
from collections import Counter
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from pipeline.clock import FakeClock
from pipeline.config import FeedSettings, PollerSettings
from pipeline.errors import Unavailable
from pipeline.metrics import PipelineMetrics
from pipeline.models import RawArticle
from pipeline.poller.fetcher import Fetcher
from pipeline.poller.service import MemoryStore, PollerService, ThreadParser
from pipeline.poller.state import FeedState
from tests.integration.feedserver import FeedServer, Route

FEED = (
    b'<?xml version="1.0"?><rss version="2.0"><channel><title>Svc</title><link>https://svc.example/</link>'
    b"<description>x</description><ttl>30</ttl><skipHours><hour>3</hour><hour>4</hour></skipHours>"
    b"<item><title>One</title><link>https://svc.example/1</link><description>a</description></item>"
    b"<item><title>Two</title><link>https://svc.example/2</link><description>b</description></item>"
    b"</channel></rss>"
)
START = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


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
    server: FeedServer,
    publisher: RecordingPublisher,
    times: int,
    changes: dict[int, Route] | None = None,
    store: MemoryStore | None = None,
) -> tuple[FeedState, CollectorRegistry, MemoryStore]:
    """Poll ``times`` times, ``changes[n]`` installed as the feed's route before poll n; the
    clock advances 60 s between polls."""
    registry, store = CollectorRegistry(), store or MemoryStore()
    feed = FeedSettings(id="svc", url=server.url("/feed.xml"), interval=60)
    clock = FakeClock(START)

    async def go() -> FeedState:
        fetcher = Fetcher.open(PollerSettings(), clock)
        service = PollerService(
            fetcher,
            ThreadParser(),
            publisher,
            store,
            PipelineMetrics.create(registry),
            PollerSettings(),
            clock,
        )
        state = FeedState.restore(feed, store.records.get("svc"))
        try:
            for n in range(times):
                if changes and n in changes:
                    server.routes["/feed.xml"] = changes[n]
                await service.poll(state)
                clock.advance(60)
        finally:
            await fetcher.close()
        return state

    return asyncio.run(go()), registry, store


def test_second_poll_is_conditional_and_publishes_nothing(server: FeedServer) -> None:
    publisher = RecordingPublisher()
    state, registry, _ = poll_times(server, publisher, 2)
    assert [a.title for a in publisher.published] == ["One", "Two"]
    assert [r.status for r in server.requests_for("/feed.xml")] == [200, 304]
    assert registry.get_sample_value("newsflow_feed_fetches_total", {"outcome": "not-modified"}) == 1
    assert state.state == "not-modified"


def test_feed_hints_shape_the_schedule(server: FeedServer) -> None:
    state, _, _ = poll_times(server, RecordingPublisher(), 1)
    assert state.hints.ttl == 1800.0 and state.hints.skip_hours == frozenset({3, 4})
    assert state.next_poll is not None
    assert (state.next_poll - START).total_seconds() == pytest.approx(
        1800.0
    )  # ttl 30 min beats interval 60 s


def test_failed_publish_keeps_no_validators_so_nothing_is_lost(server: FeedServer) -> None:
    publisher = RecordingPublisher(failures=1)
    state, registry, _ = poll_times(server, publisher, 2)
    requests = server.requests_for("/feed.xml")
    assert "if-none-match" not in requests[1].headers  # refetched in full after the failure
    assert [a.title for a in publisher.published] == ["One", "Two"]
    assert registry.get_sample_value("newsflow_feed_fetches_total", {"outcome": "unavailable"}) == 1
    assert state.failures == 0


def test_state_survives_a_restart(server: FeedServer) -> None:
    publisher = RecordingPublisher()
    _, _, store = poll_times(server, publisher, 1)
    restarted_publisher = RecordingPublisher()
    state, _, _ = poll_times(server, restarted_publisher, 1, store=store)
    assert server.requests_for("/feed.xml")[-1].headers.get("if-none-match")  # validators restored
    assert restarted_publisher.published == []
    assert state.polls == 2


def test_broken_feed_backs_off_and_recovers(server: FeedServer) -> None:
    broken = Route(b"<html>not a feed</html>", etag="none")
    publisher = RecordingPublisher()
    state, registry, _ = poll_times(server, publisher, 3, {0: broken})
    assert state.failures == 3 and state.state == "failing"
    assert registry.get_sample_value("newsflow_feed_fetches_total", {"outcome": "parse-error"}) == 3
    assert registry.get_sample_value("newsflow_parse_errors_total", {"reason": "not-a-feed"}) == 3
    state, _, _ = poll_times(server, publisher, 4, {0: broken, 3: Route(FEED)})
    assert state.failures == 0 and state.state == "healthy"
    assert [a.title for a in publisher.published] == ["One", "Two"]


def test_backoff_grows_and_is_capped(server: FeedServer) -> None:
    server.routes["/feed.xml"] = Route(FEED, status=500, etag="none")
    state, _, _ = poll_times(server, RecordingPublisher(), 12)
    assert state.failures == 12 and state.state == "failing"
    assert state.next_poll is not None and state.last_attempt is not None
    delay = (state.next_poll - state.last_attempt).total_seconds()
    assert 3 * 3600 <= delay <= 6 * 3600  # 60 s × 2^11 is capped at 6 h (with full jitter ≥ 50 %)


def test_retry_after_http_date_is_honoured(server: FeedServer) -> None:
    server.routes["/feed.xml"] = Route(
        FEED, status=429, etag="none", headers={"Retry-After": "Fri, 20 Nov 2026 12:00:00 GMT"}
    )
    state, registry, _ = poll_times(server, RecordingPublisher(), 1)
    assert registry.get_sample_value("newsflow_feed_fetches_total", {"outcome": "rate-limited"}) == 1
    assert state.next_poll is not None and state.next_poll >= datetime(2026, 11, 20, 11, 59, tzinfo=UTC)


def test_gone_feed_is_marked_and_still_polled(server: FeedServer) -> None:
    server.routes["/feed.xml"] = Route(FEED, status=410, etag="none")
    state, _, _ = poll_times(server, RecordingPublisher(), 2)
    assert state.state == "gone" and state.next_poll is not None
    assert len(server.requests_for("/feed.xml")) == 2


def test_permanent_redirect_updates_the_url(server: FeedServer) -> None:
    server.routes["/feed.xml"] = Route(status=301, location="/moved.xml")
    server.routes["/moved.xml"] = Route(FEED)
    state, _, _ = poll_times(server, RecordingPublisher(), 2)
    assert state.url == server.url("/moved.xml")
    assert len(server.requests_for("/feed.xml")) == 1  # the second poll went straight to the new URL


DATA = Path(os.environ.get("NEWSFLOW_DATA", Path(__file__).parents[2].parent / "shared" / "data"))
SEQUENCES = sorted(DATA.glob("real-feeds/*/poll-sequences/*"))


@pytest.mark.skipif(not SEQUENCES, reason=f"shared corpus not found at {DATA} (set NEWSFLOW_DATA)")
@pytest.mark.parametrize("sequence", SEQUENCES, ids=[path.name for path in SEQUENCES])
def test_consecutive_real_snapshots_publish_carried_over_items_once(
    server: FeedServer, sequence: Path
) -> None:
    snapshots = [path.read_bytes() for path in sorted(sequence.glob("*.xml"))]
    publisher = RecordingPublisher()
    changes = {n: Route(body, etag="none") for n, body in enumerate(snapshots)}
    state, _, _ = poll_times(server, publisher, len(snapshots), changes)
    assert state.failures == 0
    versions: dict[str, set[tuple[str | None, ...]]] = {}
    for article in publisher.published:
        versions.setdefault(article.article_key, set()).add(
            (article.guid, article.link, article.title, article.summary, article.content, article.published)
        )
    published = Counter(article.article_key for article in publisher.published)
    # An item is published again only when it changed (a revision), never merely carried over.
    assert all(published[key] == len(versions[key]) for key in published), {
        key: count for key, count in published.items() if count != len(versions[key])
    }
    carried = sum(1 for count in published.values() if count == 1)
    assert carried >= len(published) * 0.5, "most items are carried over unchanged between polls"


def test_feeds_taken_at_once_are_spread_over_their_interval(server: FeedServer) -> None:
    clock = FakeClock(START)

    async def go() -> list[datetime]:
        fetcher = Fetcher.open(PollerSettings(), clock)
        service = PollerService(
            fetcher,
            ThreadParser(),
            RecordingPublisher(),
            MemoryStore(),
            PipelineMetrics.create(CollectorRegistry()),
            PollerSettings(min_interval=1),
            clock,
        )
        feeds = [FeedSettings(id=f"f{n}", url=server.url(f"/{n}.xml"), interval=30) for n in range(300)]
        firsts = [service.add(feed).next_poll for feed in feeds]
        await service.close()
        await fetcher.close()
        return [first for first in firsts if first is not None]

    firsts = asyncio.run(go())
    offsets = sorted((first - START).total_seconds() for first in firsts)
    assert len(offsets) == 300 and offsets[0] >= 0 and offsets[-1] <= 30
    per_second = Counter(int(offset) for offset in offsets)
    assert max(per_second.values()) <= 30, "no second gets more than ~3x its share of first polls"


def test_feeds_gauge_follows_owned_feeds_through_their_states(server: FeedServer) -> None:
    server.routes["/bad.xml"] = Route(status=500, etag="none")
    registry = CollectorRegistry()

    def gauge(state: str) -> float | None:
        return registry.get_sample_value("newsflow_feeds", {"state": state})

    async def go() -> None:
        clock = FakeClock(START)
        fetcher = Fetcher.open(PollerSettings(), clock)
        service = PollerService(
            fetcher,
            ThreadParser(),
            RecordingPublisher(),
            MemoryStore(),
            PipelineMetrics.create(registry),
            PollerSettings(),
            clock,
        )
        good = service.add(FeedSettings(id="good", url=server.url("/feed.xml"), interval=600))
        bad = service.add(FeedSettings(id="bad", url=server.url("/bad.xml"), interval=600))
        assert gauge("new") == 2
        await service.poll(good)
        for _ in range(3):
            await service.poll(bad)
        assert (gauge("new"), gauge("healthy"), gauge("failing")) == (0, 1, 1)
        await service.remove("bad")
        assert gauge("failing") == 0 and gauge("healthy") == 1
        await service.close()
        assert gauge("healthy") == 0
        await fetcher.close()

    asyncio.run(go())


class ExplodingFetcher:
    """A fetcher with a bug: the service must survive it (the component under test)."""

    async def fetch(self, url: str, validators: object = None) -> object:
        raise OverflowError("a bug somewhere below the poller")


def test_an_unexpected_error_is_counted_and_the_feed_keeps_being_polled() -> None:
    registry = CollectorRegistry()
    clock = FakeClock(START)
    feed = FeedSettings(id="bug", url="http://127.0.0.1:9/feed.xml", interval=60)

    async def go() -> FeedState:
        service = PollerService(
            ExplodingFetcher(),  # type: ignore[arg-type]
            ThreadParser(),
            RecordingPublisher(),
            MemoryStore(),
            PipelineMetrics.create(registry),
            PollerSettings(),
            clock,
        )
        state = FeedState.restore(feed, None)
        for _ in range(2):
            await service.poll(state)
        return state

    state = asyncio.run(go())
    assert registry.get_sample_value("newsflow_feed_fetches_total", {"outcome": "bug"}) == 2
    assert state.failures == 2 and state.next_poll is not None
    assert state.last_error == "a bug somewhere below the poller"
