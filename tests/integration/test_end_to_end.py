"""The whole slice through the real broker: HTTP feed → poller → news.raw → cleaning →
dedup → tagging → news.articles, with the worker and poller running as real processes."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
import urllib.request
from collections import Counter

import jsonschema
import pytest

from pipeline.schemas import load_schema
from tests.integration.conftest import FIXTURES, ROOT, Pipeline, repost_feed
from tests.integration.feedserver import FeedServer
from tests.integration.kafka_helpers import Record, read

EXPECTED_TAGS = {
    # title → (tags that must be present, tags that must be absent)
    "Cease-fire announced in Aleppo": ({"ceasefire", "aleppo", "aleppo-ceasefire"}, set()),
    "Aleppo's truce holds": ({"ceasefire", "aleppo", "aleppo-ceasefire"}, set()),
    "Ceasefires collapse elsewhere": ({"ceasefire"}, {"aleppo"}),
    "Intrucers steal football kit": ({"sport"}, {"ceasefire", "aleppo-ceasefire"}),
    "Derby in Halab ends in a truce": ({"aleppo", "ceasefire", "sport"}, {"aleppo-ceasefire"}),
    "Cessation of hostilities agreed": ({"ceasefire", "aleppo", "aleppo-ceasefire"}, set()),
    "Earthquake and floods hit the north": ({"disaster", "quake-or-flood-not-sport"}, {"ceasefire"}),
    "Aleppo markets reopen": ({"aleppo"}, {"ceasefire"}),
}


def titles(records: list[Record]) -> Counter[str]:
    return Counter(str(record.json().get("title")) for record in records)


def articles_with(
    pipeline: Pipeline, wanted: set[str], timeout: float = 90, settle: float = 0
) -> list[Record]:
    records = read(
        pipeline.bootstrap,
        pipeline.topic("articles"),
        until=lambda rs: wanted <= set(titles(rs)),
        timeout=timeout,
        settle=settle,
    )
    missing = wanted - set(titles(records))
    assert not missing, f"never reached news.articles: {missing}; logs in {pipeline.logs}"
    return records


def wait_for_requests(server: FeedServer, path: str, status: int, count: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if sum(1 for r in server.requests_for(path) if r.status == status) >= count:
            return
        time.sleep(0.2)
    pytest.fail(f"{path}: fewer than {count} responses with status {status}")


def test_articles_arrive_tagged_and_valid(pipeline: Pipeline) -> None:
    records = articles_with(pipeline, set(EXPECTED_TAGS))
    schema = load_schema("article")
    by_title = {}
    for record in records:
        article = record.json()
        jsonschema.validate(article, schema)
        assert record.key == str(article["article_key"]).encode()
        by_title[article["title"]] = article
    for title, (present, absent) in EXPECTED_TAGS.items():
        tags = {tag["name"] for tag in by_title[title]["tags"]}  # type: ignore[index]
        assert present <= tags, (title, tags)
        assert not absent & tags, (title, tags)


def test_repolling_with_etag_adds_nothing(pipeline: Pipeline, feed_server: FeedServer) -> None:
    articles_with(pipeline, set(EXPECTED_TAGS))
    wait_for_requests(feed_server, "/variants-rss.xml", 304, 3)
    conditional = [r for r in feed_server.requests_for("/variants-rss.xml") if r.status == 304]
    assert all("if-none-match" in r.headers for r in conditional)
    counts = titles(articles_with(pipeline, set(EXPECTED_TAGS), settle=3))
    assert all(counts[title] == 1 for title in EXPECTED_TAGS), counts


def test_server_ignoring_etag_adds_nothing(pipeline: Pipeline, feed_server: FeedServer) -> None:
    wanted = {"Flood warning issued", "Quiet day in parliament"}
    articles_with(pipeline, wanted)
    wait_for_requests(feed_server, "/ignores-etag.xml", 200, 4)
    counts = titles(articles_with(pipeline, wanted, settle=3))
    assert counts["Flood warning issued"] == 1
    assert counts["Quiet day in parliament"] == 1


def test_repost_under_tracking_url_lands_on_duplicates(pipeline: Pipeline, feed_server: FeedServer) -> None:
    [original] = [
        r.json()
        for r in articles_with(pipeline, {"Truce extended by a week"})
        if r.json()["title"] == "Truce extended by a week"
    ]
    feed_server.routes["/repost.xml"].body = repost_feed(reposted=True)
    duplicates = read(
        pipeline.bootstrap,
        pipeline.topic("duplicates"),
        until=lambda rs: any("utm_source=twitter" in str(r.json()["url"]) for r in rs),
    )
    [duplicate] = [r.json() for r in duplicates if "utm_source=twitter" in str(r.json()["url"])]
    jsonschema.validate(duplicate, load_schema("duplicate"))
    assert duplicate["duplicate_of"] == original["id"]
    assert duplicate["kind"] == "exact-url"
    assert duplicate["feed_id"] == "repost"
    counts = titles(articles_with(pipeline, {"Truce extended by a week"}, settle=3))
    assert counts["Truce extended by a week"] == 1


def metric(text: str, name: str, **labels: str) -> float:
    total = 0.0
    for line in text.splitlines():
        if not line.startswith(name + "{") and not line.startswith(name + " "):
            continue
        if all(f'{key}="{value}"' in line for key, value in labels.items()):
            total += float(line.rsplit(" ", 1)[1])
    return total


def test_metrics_respond_and_move(pipeline: Pipeline) -> None:
    articles_with(pipeline, set(EXPECTED_TAGS))
    worker = pipeline.metrics(pipeline.worker_port)
    poller = pipeline.metrics(pipeline.poller_port)
    assert metric(worker, "newsflow_articles_total", stage="tagging", outcome="passed") >= len(EXPECTED_TAGS)
    assert metric(worker, "newsflow_articles_total", stage="cleaning", outcome="passed") >= len(EXPECTED_TAGS)
    assert metric(worker, "newsflow_tags_total", tag="ceasefire") >= 1
    assert metric(worker, "newsflow_stage_seconds_count", stage="tagging") >= 1
    assert re.search(r"^faust_", worker, re.MULTILINE), "Faust's sensor is mounted on the same endpoint"
    assert metric(poller, "newsflow_feed_fetches_total", outcome="ok") >= 1
    assert metric(poller, "newsflow_articles_total", stage="poll", outcome="published") >= len(EXPECTED_TAGS)
    assert (
        metric(poller, "newsflow_feeds", state="healthy")
        + metric(poller, "newsflow_feeds", state="not-modified")
        == 4
    )
    with urllib.request.urlopen(f"http://127.0.0.1:{pipeline.poller_port}/feeds", timeout=10) as response:
        health = json.loads(response.read())
    expected = ["ignores-etag", "repost", "variants-atom", "variants-rss"]
    assert sorted(feed["id"] for feed in health) == expected
    assert all(feed["polls"] >= 1 and feed["next_poll"] for feed in health)
    before = metric(poller, "newsflow_feed_fetches_total")
    time.sleep(3)
    assert metric(pipeline.metrics(pipeline.poller_port), "newsflow_feed_fetches_total") > before


@pytest.mark.parametrize("feed_id", ["variants-rss", "variants-atom"])
def test_process_agrees_with_the_kafka_path(pipeline: Pipeline, feed_id: str) -> None:
    kafka_articles = {r.json()["id"]: r.json() for r in articles_with(pipeline, set(EXPECTED_TAGS))}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "newsflow",
            "process",
            str(FIXTURES / "feeds" / f"{feed_id}.xml"),
            "--feed-id",
            feed_id,
            "--taxonomy",
            str(FIXTURES / "taxonomy.yaml"),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        check=True,
    )
    offline = [json.loads(line) for line in result.stdout.splitlines()]
    assert offline
    for article in offline:
        jsonschema.validate(article, load_schema("article"))
        online = kafka_articles[article["id"]]
        for field in ("title", "text", "summary", "canonical_url", "published_at", "content_hash", "lang"):
            assert article[field] == online[field], field
        assert article["tags"] == online["tags"]
