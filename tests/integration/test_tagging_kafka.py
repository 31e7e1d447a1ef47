"""Tagging through the real broker: spelling variants, per-topic streams and taxonomy hot reload.

One real worker and one real poller process run on their own topic prefix and Faust app id,
with ``tagging.reload_seconds: 1`` and ``taxonomy_file`` pointing at a copy of
tests/fixtures/taxonomy-spelling.yaml in tmp_path (the tests rewrite the copy).

1. The fixture feeds spelling-variants.rss and .atom, served by the local HTTP feed server and
   read by the poller, reach ``<prefix>articles`` with exactly the tags that
   spelling-variants.expected.yaml lists, and the same tags `newsflow process` gives.
2. Articles with a ``stream: true`` topic (``ceasefire``) are also on
   ``<prefix>topic.ceasefire``, exactly those and with the same ids and bytes; no other
   ``<prefix>topic.*`` topic exists.
3. Hot reload, without restarting the worker: a new taxonomy version (a new term and a new
   ``stream: true`` topic) is applied (``newsflow_taxonomy_reloads_total{outcome="applied"}``)
   and articles produced after it carry the new tags, also on the new topic's stream; a broken
   version is rejected (``outcome="rejected"``) and the worker goes on tagging with the last
   good one.

The tests run in file order on one worker (the third changes the taxonomy). The articles of
part 3 are produced straight to ``<prefix>raw``, keyed by article_key as the poller does.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from aiokafka.admin import AIOKafkaAdminClient

from pipeline import codec
from pipeline.cleaning.identity import article_id
from pipeline.clock import SystemClock, rfc3339
from pipeline.models import RawArticle
from pipeline.schemas import load_schema
from tests.integration.conftest import (
    FIXTURES,
    ROOT,
    free_port,
    worker_and_poller,
)
from tests.integration.feedserver import FeedServer, Route
from tests.integration.kafka_helpers import Record, produce, read

FEEDS = FIXTURES / "feeds"
TAXONOMY = FIXTURES / "taxonomy-spelling.yaml"
EXPECTED: dict[str, Any] = yaml.safe_load((FEEDS / "spelling-variants.expected.yaml").read_text("utf-8"))
STREAM = "ceasefire"  # the fixture taxonomy's `stream: true` topic
NEW_STREAM = "humanitarian-corridor"  # added by the reload, also `stream: true`
RELOAD_SECONDS = 1
TIMEOUT = 90.0
SETTLE = 3.0  # keep reading after the last expected record: an extra one would show up


@dataclass
class Stack:
    bootstrap: str
    prefix: str
    taxonomy: Path  # the worker's taxonomy_file: a copy the tests rewrite
    worker: subprocess.Popen[bytes]
    worker_port: int
    logs: Path

    def topic(self, suffix: str) -> str:
        return f"{self.prefix}{suffix}"

    def metrics(self) -> str:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.worker_port}/metrics", timeout=10) as response:
            return str(response.read().decode())

    def reloads(self, outcome: str) -> float:
        return metric(self.metrics(), "newsflow_taxonomy_reloads_total", outcome=outcome)


def metric(text: str, name: str, **labels: str) -> float:
    total = 0.0
    for line in text.splitlines():
        if not line.startswith(name + "{") and not line.startswith(name + " "):
            continue
        if all(f'{key}="{value}"' in line for key, value in labels.items()):
            total += float(line.rsplit(" ", 1)[1])
    return total


@pytest.fixture(scope="module")
def stack(kafka: str, feed_server: FeedServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    prefix = f"tag{uuid.uuid4().hex[:8]}."
    logs = tmp_path_factory.mktemp("tagging-kafka")
    taxonomy = logs / "taxonomy.yaml"
    shutil.copyfile(TAXONOMY, taxonomy)
    feeds = []
    for suffix in ("rss", "atom"):
        path = f"/{prefix}spelling-variants.{suffix}"
        feed_server.routes[path] = Route((FEEDS / f"spelling-variants.{suffix}").read_bytes())
        feeds.append(
            {"id": f"spelling-{suffix}", "url": feed_server.url(path), "interval": "1s", "full_text": "never"}
        )
    worker_port, poller_port = free_port(), free_port()
    config = logs / "newsflow.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "kafka": {"bootstrap_servers": kafka, "topic_prefix": prefix, "partitions": 2},
                "feeds": feeds,
                "taxonomy_file": str(taxonomy),
                "tagging": {"reload_seconds": RELOAD_SECONDS},
                "metrics": {"port": worker_port},
                "poller": {"metrics_port": poller_port, "min_interval": "1s"},
                "worker": {"app_id": f"newsflow-{prefix.rstrip('.')}"},
            }
        ),
        encoding="utf-8",
    )
    try:
        with worker_and_poller(config, logs, worker_port, poller_port) as (worker, _poller):
            yield Stack(kafka, prefix, taxonomy, worker, worker_port, logs)
    finally:
        print(f"\ntagging-kafka logs kept in {logs}")


# --- helpers --------------------------------------------------------------------------------


def urls(records: list[Record]) -> Counter[str]:
    return Counter(str(record.json().get("url")) for record in records)


def articles_with(stack: Stack, wanted: set[str], settle: float = SETTLE) -> list[Record]:
    """Every record of <prefix>articles once all ``wanted`` urls are there (and ``settle`` s more)."""
    records = read(
        stack.bootstrap,
        stack.topic("articles"),
        until=lambda rs: wanted <= set(urls(rs)),
        timeout=TIMEOUT,
        settle=settle,
    )
    missing = wanted - set(urls(records))
    assert not missing, f"never reached {stack.topic('articles')}: {missing}; logs in {stack.logs}"
    return records


def stream_records(stack: Stack, topic: str, ids: set[str]) -> list[Record]:
    return read(
        stack.bootstrap,
        stack.topic(f"topic.{topic}"),
        until=lambda rs: ids <= {str(r.json()["id"]) for r in rs},
        timeout=TIMEOUT,
        settle=SETTLE,
    )


def stream_topics_on_broker(stack: Stack) -> set[str]:
    async def listing() -> set[str]:
        admin = AIOKafkaAdminClient(bootstrap_servers=stack.bootstrap)
        await admin.start()
        try:
            return {name for name in await admin.list_topics() if name.startswith(stack.topic("topic."))}
        finally:
            await admin.close()

    return asyncio.run(listing())


def tag_names(article: dict[str, Any]) -> list[str]:
    return sorted(str(tag["name"]) for tag in article["tags"])


def wait_for_reloads(stack: Stack, outcome: str, count: float, timeout: float = 30.0) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if stack.worker.poll() is not None:
            pytest.fail(f"the worker exited ({stack.worker.returncode}); logs in {stack.logs}")
        if stack.reloads(outcome) >= count:
            return time.monotonic() - started
        time.sleep(0.25)
    log = (stack.logs / "worker.log").read_text(errors="replace")[-4000:]
    pytest.fail(f'no reload with outcome="{outcome}" after {timeout}s:\n{log}')


def write_atomically(path: Path, text: str) -> None:
    """The editor's way (write aside, rename): the watcher never reads half a file."""
    aside = path.with_name(path.name + ".new")
    aside.write_text(text, encoding="utf-8")
    os.replace(aside, path)


def raw(slug: str, title: str, summary: str) -> tuple[bytes, bytes]:
    link = f"https://reload.example/{slug}"
    article = RawArticle(
        article_key=link,
        feed_id="reload-test",
        fetched_at=rfc3339(SystemClock().now()),
        link=link,
        title=title,
        summary=summary,
    )
    return link.encode(), codec.encode(article)


def by_url(records: list[Record]) -> dict[str, dict[str, Any]]:
    return {str(record.json()["url"]): record.json() for record in records}


# --- 1. the fixture feeds through the Kafka path -------------------------------------------


def test_fixture_feeds_reach_articles_with_the_expected_tags(stack: Stack) -> None:
    wanted: dict[str, list[str]] = {url: sorted(tags) for url, tags in EXPECTED["articles"].items()}
    records = articles_with(stack, set(wanted))
    counts = urls(records)
    assert all(counts[url] == 1 for url in wanted), counts  # one worker: no repeats
    assert set(counts) == set(wanted), f"unexpected articles: {set(counts) - set(wanted)}"
    schema = load_schema("article")
    articles = by_url(records)
    for record in records:
        jsonschema.validate(record.json(), schema)
        assert record.key == str(record.json()["article_key"]).encode()
    got = {url: tag_names(articles[url]) for url in wanted}
    mismatches = {
        url: {"expected": wanted[url], "got": got[url]} for url in wanted if got[url] != wanted[url]
    }
    assert not mismatches, mismatches
    evidence = EXPECTED["evidence"]
    tags = [
        {key: tag[key] for key in ("name", "score", "kind", "matches")}
        for tag in articles[evidence["url"]]["tags"]
    ]
    assert tags == evidence["tags"]


def test_kafka_path_tags_like_newsflow_process(stack: Stack) -> None:
    articles = by_url(articles_with(stack, set(EXPECTED["articles"]), settle=0))
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "newsflow",
            "--config",
            str(stack.logs / "newsflow.yaml"),
            "process",
            str(FEEDS / "spelling-variants.rss"),
            str(FEEDS / "spelling-variants.atom"),
            "--taxonomy",
            str(TAXONOMY),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=True,
    )
    offline = [json.loads(line) for line in result.stdout.splitlines()]
    assert sorted(article["url"] for article in offline) == sorted(EXPECTED["articles"])
    for article in offline:
        online = articles[article["url"]]
        assert article["id"] == online["id"]
        assert article["tags"] == online["tags"], article["url"]  # names, scores, evidence


# --- 2. per-topic streams ------------------------------------------------------------------


def test_stream_topic_holds_exactly_its_articles(stack: Stack) -> None:
    assert EXPECTED["stream_topics"] == [STREAM]
    articles = by_url(articles_with(stack, set(EXPECTED["articles"]), settle=0))
    wanted = {article_id(url) for url, tags in EXPECTED["articles"].items() if STREAM in tags}
    assert {
        str(articles[url]["id"]) for url, tags in EXPECTED["articles"].items() if STREAM in tags
    } == wanted
    records = stream_records(stack, STREAM, wanted)
    ids = Counter(str(record.json()["id"]) for record in records)
    assert set(ids) == wanted, {"missing": wanted - set(ids), "extra": set(ids) - wanted}
    assert all(count == 1 for count in ids.values()), ids
    on_articles = {str(article["id"]): article for article in articles.values()}
    for record in records:
        article = record.json()
        assert record.key == str(article["article_key"]).encode()
        assert article == on_articles[str(article["id"])]  # the same message as on articles
    assert stream_topics_on_broker(stack) == {stack.topic(f"topic.{STREAM}")}


# --- 3. hot reload -------------------------------------------------------------------------


def version_2(broken: bool = False) -> str:
    """The fixture taxonomy plus a term on an existing topic and a new `stream: true` topic;
    ``broken``: plus a query rule that does not parse (the whole version is rejected)."""
    taxonomy = yaml.safe_load(TAXONOMY.read_text(encoding="utf-8"))
    [ceasefire] = [topic for topic in taxonomy["topics"] if topic["name"] == STREAM]
    ceasefire["terms"].append("armistice")
    taxonomy["topics"].append({"name": NEW_STREAM, "stream": True, "terms": ["humanitarian corridor"]})
    if broken:
        taxonomy["topics"].append({"name": "broken-rule", "query": "aleppo AND"})
    return yaml.safe_dump(taxonomy, allow_unicode=True, sort_keys=False)


RELOADED = {
    # url → (title, summary, tags with version 2; with version 1 they would be the comment's)
    "https://reload.example/armistice-halab": (
        "Armistice signed in Halab",
        "<p>A <b>humanitarian corridor</b> opens on Monday for the wounded.</p>",
        [STREAM, "aleppo", "aleppo-truce-headline", NEW_STREAM],  # v1: aleppo only
    ),
    "https://reload.example/corridors-north": (
        "Humanitarian corridors planned for the north",
        "<p>Engineers surveyed two roads through the hills on Sunday.</p>",
        [NEW_STREAM],  # v1: none
    ),
}
AFTER_REJECTED = {
    "https://reload.example/armistice-talks": (
        "Armistice talks resume in Geneva",
        "<p>Delegates also asked for a HUMANITARIAN-CORRIDOR to the coast.</p>",
        [STREAM, NEW_STREAM],  # v1: none; the broken version never loads
    ),
}


def produce_and_read(stack: Stack, items: dict[str, tuple[str, str, list[str]]]) -> dict[str, dict[str, Any]]:
    messages = [raw(url.rsplit("/", 1)[1], title, summary) for url, (title, summary, _tags) in items.items()]
    asyncio.run(produce(stack.bootstrap, stack.topic("raw"), messages))
    return by_url(articles_with(stack, set(items), settle=0))


def test_taxonomy_hot_reload_applies_then_rejects_without_restart(stack: Stack) -> None:
    pid = stack.worker.pid
    assert stack.worker.poll() is None
    assert stack.reloads("applied") == 0
    assert stack.reloads("rejected") == 0

    write_atomically(stack.taxonomy, version_2())
    waited = wait_for_reloads(stack, "applied", 1)
    print(f"\nnew taxonomy applied {waited:.1f}s after the write (reload_seconds: {RELOAD_SECONDS})")
    articles = produce_and_read(stack, RELOADED)
    for url, (_title, _summary, tags) in RELOADED.items():
        assert tag_names(articles[url]) == sorted(tags), url

    write_atomically(stack.taxonomy, version_2(broken=True))
    wait_for_reloads(stack, "rejected", 1)
    articles = produce_and_read(stack, AFTER_REJECTED)
    for url, (_title, _summary, tags) in AFTER_REJECTED.items():
        assert tag_names(articles[url]) == sorted(tags), url  # still version 2
    assert stack.reloads("applied") == 1  # each version is looked at once
    assert stack.reloads("rejected") == 1
    assert stack.worker.poll() is None and stack.worker.pid == pid, "the worker was restarted"
    log = (stack.logs / "worker.log").read_text(errors="replace")
    [rejected] = [line for line in log.splitlines() if "taxonomy reload rejected" in line]
    assert "(broken-rule): query:" in rejected and "keeping the version in use" in rejected

    # The streams: the new topic's stream was created on first use and holds exactly its articles.
    every = {**RELOADED, **AFTER_REJECTED}
    new_stream = {article_id(url) for url, (_t, _s, tags) in every.items() if NEW_STREAM in tags}
    ids = Counter(str(r.json()["id"]) for r in stream_records(stack, NEW_STREAM, new_stream))
    assert set(ids) == new_stream and all(count == 1 for count in ids.values()), ids
    old_stream = {article_id(url) for url, tags in EXPECTED["articles"].items() if STREAM in tags}
    old_stream |= {article_id(url) for url, (_t, _s, tags) in every.items() if STREAM in tags}
    ids = Counter(str(r.json()["id"]) for r in stream_records(stack, STREAM, old_stream))
    assert set(ids) == old_stream and all(count == 1 for count in ids.values()), ids
    assert stream_topics_on_broker(stack) == {
        stack.topic(f"topic.{STREAM}"),
        stack.topic(f"topic.{NEW_STREAM}"),
    }
