"""Alerting, webhook delivery and storage through the real broker, with one real worker.

The worker runs with an alerts file (a match rule "aleppo AND ceasefire" notifying one
signed webhook channel), storage in a SQLite file, and a webhook receiver (a real local HTTP
server) that never answers. Articles are produced straight to ``<prefix>raw``.

1. A hanging endpoint never stalls the pipeline: every article reaches ``<prefix>articles``
   and the database while the receiver holds the first delivery attempt; the alert is on
   ``<prefix>alerts`` (valid against the alert schema) once per story.
2. The attempt is cut at 10 s and the next one waits on ``<prefix>alert-retries`` with the
   same webhook-id as the attempt the receiver saw, whose signature verifies.
3. A syndicated copy (the same story under another URL, from another feed) is suppressed by
   dedup, reaches alerting through ``<prefix>duplicates`` and is linked to the story's alert
   (``newsflow_alert_links_total``) instead of alerting again.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import jsonschema
import pytest
import yaml

from pipeline import codec
from pipeline.clock import SystemClock, rfc3339
from pipeline.models import RawArticle
from pipeline.schemas import load_schema
from pipeline.sinks.signing import verify
from tests.integration.conftest import FIXTURES, free_port, spawn, stop, wait_for_http
from tests.integration.kafka_helpers import Record, produce, read
from tests.integration.webhook_receiver import Reply, WebhookReceiver

TAXONOMY = FIXTURES / "taxonomy-spelling.yaml"
SECRET = "whsec_" + "c2VjcmV0LWZvci10aGUtZG93bnN0cmVhbS10ZXN0"  # base64 of a test secret
SECRET_ENV = "NEWSFLOW_TEST_DOWNSTREAM_SECRET"
ARTICLES = 20
MATCHING = 3  # the first MATCHING articles name Aleppo and the ceasefire
TIMEOUT = 90.0


@dataclass
class Stack:
    bootstrap: str
    prefix: str
    database: Path
    receiver: WebhookReceiver
    worker: subprocess.Popen[bytes]
    logs: Path
    worker_port: int

    def topic(self, suffix: str) -> str:
        return f"{self.prefix}{suffix}"


@pytest.fixture(scope="module")
def stack(kafka: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    prefix = f"down{uuid.uuid4().hex[:8]}."
    logs = tmp_path_factory.mktemp("downstream-kafka")
    receiver = WebhookReceiver([Reply(hang=True)]).start()
    alerts = logs / "alerts.yaml"
    alerts.write_text(
        yaml.safe_dump(
            {
                "channels": {"ops": {"type": "webhook", "url": receiver.url(), "secret_env": SECRET_ENV}},
                "rules": [{"name": "aleppo-ceasefire", "match": "aleppo AND ceasefire", "notify": ["ops"]}],
            }
        ),
        encoding="utf-8",
    )
    database = logs / "articles.db"
    worker_port = free_port()
    config = logs / "newsflow.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "kafka": {"bootstrap_servers": kafka, "topic_prefix": prefix, "partitions": 2},
                "taxonomy_file": str(TAXONOMY),
                "alerts_file": str(alerts),
                "storage": {"url": f"sqlite:///{database}", "batch_seconds": "0.5s"},
                "metrics": {"port": worker_port},
                "worker": {"app_id": f"newsflow-{prefix.rstrip('.')}"},
            }
        ),
        encoding="utf-8",
    )
    os.environ[SECRET_ENV] = SECRET  # the worker inherits it; the alerts file names the variable
    worker = spawn("worker", config, logs)
    try:
        wait_for_http(f"http://127.0.0.1:{worker_port}/metrics", worker, logs / "worker.log")
        yield Stack(kafka, prefix, database, receiver, worker, logs, worker_port)
    finally:
        stop(worker)
        receiver.stop()
        os.environ.pop(SECRET_ENV, None)
        print(f"\ndownstream-kafka logs kept in {logs}")


def raw(index: int, host: str = "downstream.example", feed: str = "") -> tuple[bytes, bytes]:
    link = f"https://{host}/story-{index}"
    if index < MATCHING:
        title, summary = f"Ceasefire holds in Aleppo, day {index}", "The truce in Aleppo held overnight."
    else:
        title, summary = f"Markets update number {index}", "Shares were little changed in quiet trading."
    article = RawArticle(
        article_key=link,
        feed_id=feed or f"downstream-{index % 3}",
        source=f"Outlet {index % 3}",
        fetched_at=rfc3339(SystemClock().now()),
        link=link,
        title=title,
        summary=summary,
    )
    return link.encode(), codec.encode(article)


def stored_ids(database: Path) -> set[str]:
    if not database.exists():
        return set()
    with sqlite3.connect(database) as connection:
        try:
            return {row[0] for row in connection.execute("SELECT id FROM articles")}
        except sqlite3.OperationalError:  # the schema is not there yet
            return set()


def test_a_hanging_webhook_never_stalls_articles_or_storage(stack: Stack) -> None:
    import asyncio

    asyncio.run(produce(stack.bootstrap, stack.topic("raw"), [raw(i) for i in range(ARTICLES)]))
    started = time.monotonic()
    articles = read(
        stack.bootstrap, stack.topic("articles"), until=lambda rs: len(rs) >= ARTICLES, timeout=TIMEOUT
    )
    assert len({r.json()["id"] for r in articles}) == ARTICLES, f"logs in {stack.logs}"
    ids = {str(r.json()["id"]) for r in articles}
    deadline = time.monotonic() + TIMEOUT
    while stored_ids(stack.database) != ids and time.monotonic() < deadline:
        time.sleep(0.5)
    assert stored_ids(stack.database) == ids, f"storage incomplete; logs in {stack.logs}"
    alerts = read(
        stack.bootstrap, stack.topic("alerts"), until=lambda rs: len(rs) >= 1, timeout=TIMEOUT, settle=3
    )
    schema = load_schema("alert")
    for record in alerts:
        jsonschema.validate(record.json(), schema)
    by_story = {str(r.json().get("story_id") or r.json()["article_ids"][0]) for r in alerts}
    assert len(alerts) == len(by_story) == MATCHING, [r.json() for r in alerts]  # one per story
    # The receiver is holding (at least) the first attempt right now, and yet all of the
    # above arrived: the delivery waits on its own agent and topics.
    assert stack.receiver.requests, "the webhook was never called"
    assert time.monotonic() - started < TIMEOUT


def test_the_cut_attempt_waits_on_the_retry_topic_with_the_same_webhook_id(stack: Stack) -> None:
    retries = read(stack.bootstrap, stack.topic("alert-retries"), until=lambda rs: len(rs) >= 1, timeout=60)
    assert retries, f"no delivery rescheduled after the 10 s cut; logs in {stack.logs}"
    jsonschema.validate(retries[0].json(), load_schema("delivery"))
    first = stack.receiver.requests[0]
    assert retries[0].key is not None
    webhook_ids = {r.key.decode() for r in retries if r.key is not None}
    assert first.headers["webhook-id"] in webhook_ids
    assert verify(SECRET, first.headers, first.body, first.wall)
    assert all(isinstance(r, Record) and r.json()["attempt"] >= 2 for r in retries)


def test_a_syndicated_copy_links_to_the_story_alert_instead_of_alerting(stack: Stack) -> None:
    import asyncio
    import urllib.request

    def links() -> float:
        url = f"http://127.0.0.1:{stack.worker_port}/metrics"
        with urllib.request.urlopen(url, timeout=10) as response:
            text = response.read().decode()
        return sum(
            float(line.rsplit(" ", 1)[1])
            for line in text.splitlines()
            if line.startswith("newsflow_alert_links_total{") and 'rule="aleppo-ceasefire"' in line
        )

    before = links()
    # Story 0 again, word for word, under another site's URL and from another feed.
    asyncio.run(produce(stack.bootstrap, stack.topic("raw"), [raw(0, host="copies.example", feed="wire")]))
    deadline = time.monotonic() + TIMEOUT
    while links() <= before and time.monotonic() < deadline:
        time.sleep(0.5)
    assert links() == before + 1, f"the copy was not linked; logs in {stack.logs}"
    alerts = read(
        stack.bootstrap, stack.topic("alerts"), until=lambda rs: len(rs) >= MATCHING, timeout=30, settle=3
    )
    assert len(alerts) == MATCHING, "the copy alerted again"
