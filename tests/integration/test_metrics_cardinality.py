"""Bounded cardinality (DESIGN §5): the series count of every ``/metrics`` must not grow with
the number of feeds or articles.

The same pipeline (broker, worker with SQLite storage, poller) runs twice against a real local
feed server: once with 100 feeds, once with 10,000, each feed one article. When every feed has
been polled and every article tagged and stored, the series of the poller's and the worker's
``/metrics`` are counted; the two runs may differ by at most 5 %.
"""

from __future__ import annotations

import random
import time
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from tests.integration.conftest import FIXTURES, free_port, worker_and_poller
from tests.integration.feedserver import FeedServer, Route

SIZES = (100, 10_000)
MAX_VARIATION = 0.05
TIMEOUT = 420.0


@dataclass(frozen=True)
class Counted:
    feeds: int
    poller_series: int
    worker_series: int
    seconds: float


WORDS = [
    *("river", "city", "council", "bridge", "market", "winter", "harvest", "school", "train"),
    *("budget", "doctor", "storm", "village", "minister", "museum", "festival", "factory"),
    *("election", "harbour", "court", "airport", "library", "farmers", "union"),
]


def feed_body(index: int) -> bytes:
    # Topics of the taxonomy in every article, so tag series appear in both runs alike; the
    # rest of the text differs from feed to feed, so articles are not near-duplicates.
    words = " ".join(random.Random(index).sample(WORDS, 12))
    return (
        '<?xml version="1.0"?><rss version="2.0"><channel>'
        f"<title>Outlet {index}</title><link>https://outlet{index}.example/</link><description>x</description>"
        f"<item><guid>o{index}-1</guid><link>https://outlet{index}.example/story/{index}</link>"
        f"<title>Truce holds in Aleppo, dispatch {index}</title>"
        f"<description>The ceasefire held overnight; {words}.</description>"
        "</item></channel></rss>"
    ).encode()


def series(port: int) -> tuple[int, dict[str, float]]:
    """(number of series, totals by sample name) of one ``/metrics``."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
        text = response.read().decode()
    count = 0
    totals: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            count += 1
            totals[sample.name] = totals.get(sample.name, 0.0) + sample.value
    return count, totals


def run_pipeline(kafka: str, feeds: int, logs: Path) -> Counted:
    prefix = f"card{uuid.uuid4().hex[:8]}."
    server = FeedServer().start()
    for index in range(feeds):
        server.routes[f"/feed/{index}.xml"] = Route(feed_body(index))
    feeds_file = logs / "feeds.yaml"
    feeds_file.write_text(
        yaml.safe_dump(
            {
                "feeds": [
                    {
                        "id": f"f{i}",
                        "url": server.url(f"/feed/{i}.xml"),
                        "interval": "30s",
                        "full_text": "never",
                    }
                    for i in range(feeds)
                ]
            }
        ),
        encoding="utf-8",
    )
    worker_port, poller_port = free_port(), free_port()
    config = logs / "newsflow.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "kafka": {"bootstrap_servers": kafka, "topic_prefix": prefix, "partitions": 2},
                "feeds_file": str(feeds_file),
                "taxonomy_file": str(FIXTURES / "taxonomy-spelling.yaml"),
                "storage": {"url": f"sqlite:///{logs / 'articles.db'}"},
                "metrics": {"port": worker_port},
                # All feeds are on one host here: the per-host politeness limits must not bind.
                "poller": {
                    "metrics_port": poller_port,
                    "max_concurrency": 64,
                    "per_host_concurrency": 64,
                    "per_host_rate": 10_000,
                },
                "worker": {"app_id": f"newsflow-{prefix.rstrip('.')}"},
            }
        ),
        encoding="utf-8",
    )
    started = time.monotonic()
    try:
        with worker_and_poller(config, logs, worker_port, poller_port):
            deadline = time.monotonic() + TIMEOUT
            while time.monotonic() < deadline:
                _count, polled = series(poller_port)
                _count, worked = series(worker_port)
                print(
                    f"{feeds} feeds: {polled.get('newsflow_feed_fetches_total')} polls, "
                    f"{worked.get('newsflow_sink_rows_total')} rows at {time.monotonic() - started:.0f}s"
                )
                if (
                    polled.get("newsflow_feed_fetches_total", 0) >= feeds
                    and worked.get("newsflow_sink_rows_total", 0) >= feeds
                ):
                    break
                time.sleep(2)
            else:
                pytest.fail(f"{feeds} feeds not polled and stored within {TIMEOUT:.0f}s (logs: {logs})")
            time.sleep(12)  # one more consumer-lag measurement and readiness refresh
            return Counted(feeds, series(poller_port)[0], series(worker_port)[0], time.monotonic() - started)
    finally:
        server.stop()


def test_series_count_does_not_grow_with_feeds(kafka: str, tmp_path_factory: pytest.TempPathFactory) -> None:
    runs = [run_pipeline(kafka, size, tmp_path_factory.mktemp(f"cardinality-{size}")) for size in SIZES]
    small, large = runs
    print(f"\nseries per /metrics: {runs}")
    for process in ("poller_series", "worker_series"):
        few, many = getattr(small, process), getattr(large, process)
        assert abs(many - few) / few <= MAX_VARIATION, f"{process}: {few} with 100 feeds, {many} with 10,000"
