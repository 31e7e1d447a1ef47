"""The shipped dashboards and alert rules, proven against a real Prometheus scraping a real
running pipeline (DESIGN §5).

One stack for the module: the local broker, ``newsflow worker`` (SQLite storage, an alert
rule whose webhook answers 500 once and then 200) and ``newsflow poller`` polling feeds of a
real local HTTP server (two of them serve the same items: duplicates), one poison message on
``raw`` (a dead letter), and Prometheus from the Debian package with the shipped
``deploy/prometheus/prometheus.yml`` and rules (1 s intervals, test targets). Then:

1. every PromQL expression of ``deploy/grafana/dashboards/*.json`` returns data, and every
   rule of ``deploy/prometheus/rules/*.yml`` evaluates with health "ok";
2. the poller's ``/healthz`` and ``/readyz`` and the worker's answer, and consumer lag is
   exported per topic and partition;
3. stopping the feed server sends the feeds-failing alert to pending or firing.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.integration.conftest import FIXTURES, free_port, install_routes, worker_and_poller
from tests.integration.feedserver import FeedServer, Route
from tests.integration.kafka_helpers import produce
from tests.integration.prometheus import Prometheus
from tests.integration.webhook_receiver import Reply, WebhookReceiver
from tests.promql import DASHBOARDS, RULE_FILES, load_dashboard, rules, substituted, targets

SECRET_ENV = "NEWSFLOW_TEST_OBSERVABILITY_SECRET"
TIMEOUT = 120.0


@dataclass
class Stack:
    prefix: str
    feeds: FeedServer
    prometheus: Prometheus
    worker_port: int
    poller_port: int
    logs: Path


@pytest.fixture(scope="module")
def stack(kafka: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    prefix = f"obs{uuid.uuid4().hex[:8]}."
    logs = tmp_path_factory.mktemp("observability")
    feeds = FeedServer().start()
    install_routes(feeds)
    # A second outlet republishing the same items under its own links: syndicated copies
    # (content duplicates), which link to the alerts of their stories.
    original = (FIXTURES / "feeds" / "variants-rss.xml").read_bytes()
    feeds.routes["/mirror.xml"] = Route(original.replace(b"variants.example", b"mirror.example"))
    feeds.routes["/broken.xml"] = Route(b"<html><body>Not a feed</body></html>")  # a parse error
    receiver = WebhookReceiver([Reply(500), Reply(200)]).start()
    worker_port, poller_port = free_port(), free_port()
    prometheus = Prometheus(
        logs,
        {"newsflow-worker": f"127.0.0.1:{worker_port}", "newsflow-poller": f"127.0.0.1:{poller_port}"},
        free_port(),
    ).start()  # before the pipeline: every increase happens while it scrapes
    config = _write_config(logs, kafka, prefix, feeds, receiver, worker_port, poller_port)
    os.environ[SECRET_ENV] = "whsec_" + "b2JzZXJ2YWJpbGl0eS10ZXN0LXNlY3JldA=="
    try:
        with worker_and_poller(config, logs, worker_port, poller_port):
            # A poison message: the cleaning stage dead-letters it (undecodable).
            asyncio.run(produce(kafka, f"{prefix}raw", [(b"poison", b"\xff not json")]))
            yield Stack(prefix, feeds, prometheus, worker_port, poller_port, logs)
    finally:
        prometheus.stop()
        receiver.stop()
        feeds.stop()
        os.environ.pop(SECRET_ENV, None)
        print(f"\nobservability logs kept in {logs}")


def _write_config(
    logs: Path,
    kafka: str,
    prefix: str,
    feeds: FeedServer,
    receiver: WebhookReceiver,
    worker_port: int,
    poller_port: int,
) -> Path:
    alerts = logs / "alerts.yaml"
    rules = [{"name": "aleppo-ceasefire", "match": "aleppo OR ceasefire", "notify": ["ops"]}]
    channels = {"ops": {"type": "webhook", "url": receiver.url(), "secret_env": SECRET_ENV}}
    alerts.write_text(yaml.safe_dump({"channels": channels, "rules": rules}), encoding="utf-8")
    paths = ["/variants-rss.xml", "/variants-atom.xml", "/ignores-etag.xml", "/repost.xml"]
    paths += ["/mirror.xml", "/broken.xml"]
    config = logs / "newsflow.yaml"
    settings = {
        "kafka": {"bootstrap_servers": kafka, "topic_prefix": prefix, "partitions": 2},
        "feeds": [
            {"id": path.strip("/").removesuffix(".xml"), "url": feeds.url(path), "interval": "1s"}
            for path in paths
        ],
        "taxonomy_file": str(FIXTURES / "taxonomy-spelling.yaml"),
        "alerts_file": str(alerts),
        "storage": {"url": f"sqlite:///{logs / 'articles.db'}", "batch_seconds": "0.5s"},
        "metrics": {"port": worker_port},
        # Short backoff: a stopped feed server makes feeds "failing" (3 failures) in seconds.
        "poller": {"metrics_port": poller_port, "min_interval": "1s", "max_backoff": "2s"},
        "worker": {"app_id": f"newsflow-{prefix.rstrip('.')}"},
    }
    config.write_text(yaml.safe_dump(settings), encoding="utf-8")
    return config


# -- the expressions -------------------------------------------------------------------------
def dashboard_expressions(dashboard: dict[str, Any]) -> list[tuple[str, str]]:
    """(where, PromQL) of every panel target and query variable."""
    found = [(f"panel {panel.get('title')!r}", target["expr"]) for panel, target in targets(dashboard)]
    for variable in dashboard.get("templating", {}).get("list", []):
        query = variable.get("query")
        text = query.get("query") if isinstance(query, dict) else query
        if variable.get("type") == "query" and text:
            found.append((f"variable {variable['name']!r}", variable_as_promql(text)))
    return found


def variable_as_promql(query: str) -> str:
    """Grafana's ``label_values(selector, label)`` as the PromQL it runs underneath."""
    match = re.fullmatch(r"\s*label_values\((.*),\s*(\w+)\s*\)\s*", query)
    return f"group by ({match.group(2)}) ({match.group(1)})" if match else query


def rule_expressions() -> list[tuple[str, str]]:
    return [(rule.get("alert") or rule.get("record"), rule["expr"]) for rule in rules()]


def test_the_shipped_files_are_there() -> None:
    assert {path.name for path in DASHBOARDS} >= {"newsflow-overview.json", "newsflow-topics.json"}
    assert RULE_FILES, "no alert rules in deploy/prometheus/rules/"


# -- the live checks -------------------------------------------------------------------------
def wait_until(what: str, condition: Callable[[], bool], stack: Stack, timeout: float = TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(1)
    pytest.fail(f"{what} not seen within {timeout:.0f}s (logs in {stack.logs})")


def has_data(stack: Stack, expr: str) -> bool:
    return value(stack, expr) > 0


def value(stack: Stack, expr: str) -> float:
    result = stack.prometheus.query(expr)
    return float(result[0]["value"][1]) if result else 0.0


def test_every_dashboard_and_rule_expression_evaluates_with_data(stack: Stack) -> None:
    prometheus = stack.prometheus
    wait_until("both targets up", lambda: set(prometheus.targets_up().values()) == {"up"}, stack, timeout=60)
    # Real traffic of every kind the panels show, seen by Prometheus.
    for what, expr in {
        "articles tagged": 'sum(newsflow_articles_total{stage="tagging",outcome="passed"})',
        "duplicates": "sum(newsflow_duplicates_total)",
        "a parse error": "sum(newsflow_parse_errors_total)",
        "an alert link": "sum(newsflow_alert_links_total)",
        "rows stored": "sum(newsflow_sink_rows_total)",
        "a dead letter": "sum(newsflow_dead_letters_total)",
        "an alert": "sum(newsflow_alerts_total)",
        "a webhook attempt retried (500)": 'sum(newsflow_webhook_deliveries_total{outcome="retry"})',
        "a webhook delivered after a retry": 'sum(newsflow_webhook_deliveries_total{outcome="delivered"})',
        "a tag": "sum(newsflow_tags_total)",
        "consumer lag measured": "count(newsflow_consumer_lag)",
    }.items():
        wait_until(what, partial(has_data, stack, expr), stack)
    time.sleep(5)  # a few more scrapes after the last event: rates over 1m have two samples

    empty = []
    for dashboard in DASHBOARDS:
        for where, expr in dashboard_expressions(load_dashboard(dashboard)):
            if not prometheus.query(substituted(expr)):  # raises on a PromQL error
                empty.append(f"{dashboard.name} {where}: {expr}")
    assert not empty, "dashboard queries with no data:\n" + "\n".join(empty)

    for _name, expr in rule_expressions():
        prometheus.query(expr)  # valid and evaluates (an alert's expression is empty while it is quiet)
    rules = prometheus.rules()
    assert {rule["name"] for rule in rules} == {name for name, _expr in rule_expressions()}
    broken = [(rule["name"], rule.get("lastError")) for rule in rules if rule["health"] != "ok"]
    assert not broken, broken


def test_health_endpoints_of_both_processes(stack: Stack) -> None:
    for port, role in ((stack.worker_port, "worker"), (stack.poller_port, "poller")):
        live = _get_json(f"http://127.0.0.1:{port}/healthz")
        assert live == (200, {**live[1], "status": "ok", "role": role})
        status, ready = _get_json(f"http://127.0.0.1:{port}/readyz")
        assert status == 200, ready
        expected = {"broker": "ok", "database": "ok"} if role == "worker" else {"broker": "ok"}
        assert ready == {"status": "ready", "checks": expected}
    lag = stack.prometheus.query(f'newsflow_consumer_lag{{topic="{stack.prefix}raw"}}')
    assert {series["metric"]["partition"] for series in lag} == {"0", "1"}


def test_stopping_the_feed_server_fires_feeds_failing(stack: Stack) -> None:
    rule = next(
        (name for name, expr in rule_expressions() if "newsflow_feeds" in expr and "failing" in expr), None
    )
    assert rule is not None, "no alert rule on newsflow_feeds{state=failing}"
    stack.feeds.stop()

    def alert_state() -> str | None:
        for alert in stack.prometheus.api("alerts")["alerts"]:
            if alert["labels"]["alertname"] == rule:
                return str(alert["state"])
        return None

    wait_until(f"{rule} pending or firing", lambda: alert_state() in ("pending", "firing"), stack, 90)
    assert value(stack, 'sum(newsflow_feeds{state=~"failing|backing-off"})') > 0


def _get_json(url: str) -> tuple[int, dict[str, Any]]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())
