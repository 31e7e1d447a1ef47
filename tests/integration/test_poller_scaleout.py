"""Several poller processes share the feeds through Kafka group membership (real broker)."""

from __future__ import annotations

import itertools
import os
import signal
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from pipeline.registry import partition_for
from tests.integration.conftest import free_port, spawn, stop
from tests.integration.feedserver import FeedServer, Route
from tests.integration.kafka_helpers import read

PARTITIONS = 4
SESSION_TIMEOUT = 6.0


def rss(host: str, name: str, items: int = 3) -> bytes:
    entries = "".join(
        f"<item><title>{name} item {n}</title><link>https://{host}.example/{name}/{n}</link>"
        f"<description>Body {n}</description></item>"
        for n in range(items)
    )
    return (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>{name}</title>'
        f"<link>https://{host}.example/</link><description>x</description>{entries}</channel></rss>"
    ).encode()


def hosts_covering_partitions() -> list[str]:
    """One loopback address per partition of the feeds topic (feeds are placed by host)."""
    chosen: dict[int, str] = {}
    for last in range(2, 250):
        host = f"127.0.0.{last}"
        chosen.setdefault(partition_for(f"http://{host}/", PARTITIONS), host)
        if len(chosen) == PARTITIONS:
            return [chosen[p] for p in sorted(chosen)]
    raise AssertionError("could not cover every partition with loopback addresses")


@pytest.fixture
def servers() -> Iterator[list[FeedServer]]:
    started = [FeedServer(host).start() for host in hosts_covering_partitions()]
    yield started
    for server in started:
        server.stop()


def write_config(
    tmp_path: Path, kafka: str, feeds: list[dict[str, object]], **poller: object
) -> tuple[Path, str]:
    prefix = f"po{uuid.uuid4().hex[:8]}."
    config = tmp_path / "newsflow.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "kafka": {"bootstrap_servers": kafka, "topic_prefix": prefix, "partitions": PARTITIONS},
                "feeds": feeds,
                "worker": {"app_id": f"newsflow-{prefix.rstrip('.')}"},
                "poller": {"min_interval": "1s", "session_timeout": f"{SESSION_TIMEOUT}s", **poller},
            }
        ),
        encoding="utf-8",
    )
    return config, prefix


def start_poller(name: str, config: Path, logs: Path) -> tuple[object, int]:
    port = free_port()
    os.environ["NEWSFLOW_POLLER__USER_AGENT"] = f"newsflow-test/{name}"
    os.environ["NEWSFLOW_POLLER__METRICS_PORT"] = str(port)
    try:
        process = spawn(f"poller-{name}", config, logs, role="poller")
    finally:
        del os.environ["NEWSFLOW_POLLER__USER_AGENT"], os.environ["NEWSFLOW_POLLER__METRICS_PORT"]
    return process, port


def pollers_of(server: FeedServer, path: str) -> set[str]:
    return {r.headers.get("user-agent", "?") for r in server.requests_for(path)}


def wait_until(predicate, timeout: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    pytest.fail(f"timed out waiting for {what}")


def test_two_pollers_share_feeds_and_one_takes_over(
    kafka: str, servers: list[FeedServer], tmp_path: Path
) -> None:
    feeds = []
    for index, server in enumerate(servers):
        for name in ("a", "b"):
            path = f"/{index}-{name}.xml"
            server.routes[path] = Route(rss(f"h{index}", f"{index}-{name}"))
            feeds.append({"id": f"feed-{index}-{name}", "url": server.url(path), "interval": "1s"})
    config, prefix = write_config(tmp_path, kafka, feeds)
    first, _ = start_poller("A", config, tmp_path)
    second, _ = start_poller("B", config, tmp_path)
    try:
        paths = [
            (server, f"/{index}-{name}.xml") for index, server in enumerate(servers) for name in ("a", "b")
        ]
        wait_until(lambda: all(len(s.requests_for(p)) >= 3 for s, p in paths), 60, "every feed polled")
        time.sleep(2)  # let a rebalance triggered by the second poller settle
        recent = {p: {r.headers.get("user-agent") for r in s.requests_for(p)[-2:]} for s, p in paths}
        assert all(len(agents) == 1 for agents in recent.values()), recent  # each feed: one poller
        owners = Counter(next(iter(agents)) for agents in recent.values())
        assert set(owners) == {"newsflow-test/A", "newsflow-test/B"}, owners  # both have a share

        first.send_signal(signal.SIGKILL)  # type: ignore[attr-defined]
        killed_at = time.monotonic()
        orphaned = [(s, p) for s, p in paths if recent[p] == {"newsflow-test/A"}]
        seen_before = {p: len(s.requests_for(p)) for s, p in orphaned}

        def taken_over() -> bool:
            return all(
                any(
                    r.headers.get("user-agent") == "newsflow-test/B"
                    for r in s.requests_for(p)[seen_before[p] :]
                )
                for s, p in orphaned
            )

        wait_until(taken_over, SESSION_TIMEOUT + 20, "poller B to take over A's feeds")
        assert time.monotonic() - killed_at < SESSION_TIMEOUT + 20
        for server, path in orphaned:
            first_by_b = next(
                r
                for r in server.requests_for(path)[seen_before[path] :]
                if r.headers.get("user-agent") == "newsflow-test/B"
            )
            assert first_by_b.headers.get("if-none-match"), f"{path}: B refetched in full"
            assert first_by_b.status == 304
    finally:
        stop(second)
        first.wait()  # type: ignore[attr-defined]
    raw = read(kafka, f"{prefix}raw", until=lambda rs: len(rs) >= len(feeds) * 3, timeout=30, settle=2)
    keys = Counter(r.key for r in raw)
    assert len(keys) == len(feeds) * 3
    assert max(keys.values()) == 1, "an item was published twice"


def test_per_host_limit_holds_across_two_pollers(kafka: str, tmp_path: Path) -> None:
    server = FeedServer("127.0.0.1").start()
    try:
        feeds = []
        for n in range(4):
            path = f"/slow-{n}.xml"
            server.routes[path] = Route(rss("slow", f"slow-{n}"), etag="none", delay=0.4)
            feeds.append({"id": f"slow-{n}", "url": server.url(path), "interval": "1s"})
        config, _ = write_config(tmp_path, kafka, feeds, per_host_concurrency=1, per_host_rate=2.0)
        first, _ = start_poller("A", config, tmp_path)
        second, _ = start_poller("B", config, tmp_path)
        try:
            wait_until(lambda: len(server.requests) >= 16, 60, "16 requests to the slow host")
        finally:
            stop(first)
            stop(second)
        assert server.max_in_flight == 1, "two requests to one host were in flight at once"
        starts = sorted(r.started for r in server.requests)
        spacing = [later - earlier for earlier, later in itertools.pairwise(starts)]
        assert min(spacing) >= 0.4  # at most 2 starts per second (each answer also takes 0.4 s)
    finally:
        server.stop()
