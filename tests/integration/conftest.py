"""Integration fixtures: one real broker per session, one real pipeline (worker + poller
processes) per session on its own topic prefix, a real local HTTP feed server.

In CI (CI=true) a missing broker is a failure, never a skip.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from newsflow.kafka_io import BrokerUnavailable, check_broker
from pipeline.config import KafkaSettings
from tests.integration.conftest_postgres import postgres, postgres_url  # noqa: F401
from tests.integration.feedserver import FeedServer, Route

ROOT = Path(__file__).parents[2]
FIXTURES = ROOT / "tests" / "fixtures"
# The broker `newsflow kafka start` runs (KAFKA_PORT moves both), unless told otherwise.
BOOTSTRAP = os.environ.get("NEWSFLOW_TEST_BOOTSTRAP", f"127.0.0.1:{os.environ.get('KAFKA_PORT', '19092')}")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/integration/" in str(item.path):
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
def kafka() -> str:
    try:
        asyncio.run(check_broker(KafkaSettings(bootstrap_servers=BOOTSTRAP), timeout=20))
    except BrokerUnavailable as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true and the Kafka broker is unavailable: {exc}")
        pytest.skip(f"no Kafka broker at {BOOTSTRAP} (start one: `newsflow kafka start`)")
    return BOOTSTRAP


@pytest.fixture(scope="session")
def feed_server() -> Iterator[FeedServer]:
    server = FeedServer().start()
    yield server
    server.stop()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Pipeline:
    bootstrap: str
    prefix: str
    config: Path
    worker_port: int
    poller_port: int
    logs: Path

    def topic(self, suffix: str) -> str:
        return f"{self.prefix}{suffix}"

    def metrics(self, port: int) -> str:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
            return response.read().decode()


def spawn(name: str, config: Path, logs: Path, role: str | None = None) -> subprocess.Popen[bytes]:
    """Start `newsflow ROLE` (ROLE defaults to NAME) with its output in LOGS/NAME.log."""
    log = (logs / f"{name}.log").open("wb")
    return subprocess.Popen(
        [sys.executable, "-m", "newsflow", "--config", str(config), role or name],
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=ROOT,
        start_new_session=True,
    )


def print_log_summary(name: str, process: subprocess.Popen[bytes], log: Path) -> None:
    """A process's distinct warnings and errors, then its log tail (for failure output: the
    tail alone is often one warning repeated)."""
    lines = log.read_text(errors="replace").splitlines()
    problems = Counter(
        line.split("] ", 3)[-1][:160] for line in lines if "[WARNING]" in line or "[ERROR]" in line
    )
    print(f"--- {name} (exit {process.poll()}), {log}: warnings/errors (count, message):")
    for message, count in list(problems.items())[:12]:
        print(f"  {count:6d}  {message}")
    print("\n".join(lines[-25:]))


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def wait_for_http(url: str, process: subprocess.Popen[bytes], log: Path, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"{log.stem} exited early ({process.returncode}):\n{log.read_text()[-4000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.5)
    pytest.fail(f"{url} not up after {timeout}s:\n{log.read_text()[-4000:]}")


# Feeds the session pipeline polls; the routes are installed before the poller starts.
FEED_ROUTES = {
    "variants-rss": ("/variants-rss.xml", "honour"),
    "variants-atom": ("/variants-atom.xml", "honour"),
    "ignores-etag": ("/ignores-etag.xml", "ignore"),
    "repost": ("/repost.xml", "honour"),
}


@pytest.fixture(scope="session")
def pipeline(
    kafka: str, feed_server: FeedServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Pipeline]:
    prefix = f"it{uuid.uuid4().hex[:8]}."
    logs = tmp_path_factory.mktemp("pipeline-logs")
    install_routes(feed_server)
    worker_port, poller_port = free_port(), free_port()
    config = logs / "newsflow.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "kafka": {"bootstrap_servers": kafka, "topic_prefix": prefix, "partitions": 2},
                "feeds": [
                    {"id": feed_id, "url": feed_server.url(path), "interval": "1s"}
                    for feed_id, (path, _mode) in FEED_ROUTES.items()
                ],
                "taxonomy_file": str(FIXTURES / "taxonomy.yaml"),
                "metrics": {"port": worker_port},
                "poller": {"metrics_port": poller_port, "min_interval": "1s"},
                "worker": {"app_id": f"newsflow-{prefix.rstrip('.')}"},
            }
        ),
        encoding="utf-8",
    )
    try:
        with worker_and_poller(config, logs, worker_port, poller_port):
            yield Pipeline(kafka, prefix, config, worker_port, poller_port, logs)
    finally:
        print(f"\npipeline logs kept in {logs}")


Process = subprocess.Popen[bytes]


@contextmanager
def worker_and_poller(
    config: Path, logs: Path, worker_port: int, poller_port: int
) -> Iterator[tuple[Process, Process]]:
    """`newsflow worker`, then `newsflow poller` once the worker serves /metrics (logs in
    LOGS/worker.log and LOGS/poller.log); both stopped on exit."""
    worker = spawn("worker", config, logs)
    poller = None
    try:
        wait_for_http(f"http://127.0.0.1:{worker_port}/metrics", worker, logs / "worker.log")
        poller = spawn("poller", config, logs)
        wait_for_http(f"http://127.0.0.1:{poller_port}/metrics", poller, logs / "poller.log")
        yield worker, poller
    finally:
        if poller is not None:
            stop(poller)
        stop(worker)


def install_routes(server: FeedServer) -> None:
    variants_rss = (FIXTURES / "feeds" / "variants-rss.xml").read_bytes()
    server.routes["/variants-rss.xml"] = Route(variants_rss, etag="honour")
    server.routes["/variants-atom.xml"] = Route((FIXTURES / "feeds" / "variants-atom.xml").read_bytes())
    server.routes["/ignores-etag.xml"] = Route(lambda: ignoring_etag_feed(), etag="ignore")
    server.routes["/repost.xml"] = Route(repost_feed(reposted=False), etag="honour")


def ignoring_etag_feed() -> bytes:
    """Same items every time, but a fresh lastBuildDate: a server that ignores validators."""
    stamp = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime()) + f" {time.monotonic_ns()}"
    return (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>No ETag Daily</title>'
        f"<link>https://noetag.example/</link><description>x</description><lastBuildDate>{stamp}</lastBuildDate>"
        "<item><title>Flood warning issued</title><link>https://noetag.example/flood</link>"
        "<guid>noetag-1</guid><description>Rivers are rising.</description></item>"
        "<item><title>Quiet day in parliament</title><link>https://noetag.example/parliament</link>"
        "<guid>noetag-2</guid><description>Nothing happened.</description></item>"
        "</channel></rss>"
    ).encode()


REPOSTED_LINK = "https://repost.example/story/truce-extended?utm_source=twitter&amp;fbclid=xyz"


def repost_feed(reposted: bool) -> bytes:
    """One story; when ``reposted``, the publisher reposts it under a tracking URL and new GUID."""
    story = (
        "<title>Truce extended by a week</title><description>The truce was extended by a week.</description>"
    )
    repost = f"<item><guid>repost-2</guid><link>{REPOSTED_LINK}</link>{story}</item>" if reposted else ""
    return (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Repost Daily</title>'
        "<link>https://repost.example/</link><description>x</description>"
        f"{repost}<item><guid>repost-1</guid><link>https://repost.example/story/truce-extended</link>{story}</item>"
        "</channel></rss>"
    ).encode()
