"""Every Prometheus metric newsflow exports, declared once, bound to an injected registry.

Labels are bounded by construction (DESIGN §5): outcomes, stages, kinds and reasons are
fixed vocabularies in code, tags come from the configured taxonomy. Never a URL, host,
feed id or article id: the series count must not grow with the number of feeds or articles.
Catalogue with panels: docs/metrics.md.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import get_args

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from pipeline.models import DuplicateKind

NAMESPACE = "newsflow"
# Fetches and stages are fast; end-to-end spans minutes to days (old items in a first poll).
_FAST_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
_E2E_BUCKETS = (0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 6 * 3600, 86400, 7 * 86400)

# Label values known in advance are exported at 0 from the start: a series that first appears
# at 1 is invisible to rate() and increase() (an alert would miss the first failure), and a
# quiet pipeline's dashboard would say "no data" instead of 0. Stage outcomes here are the
# normal ones; "dead-lettered" is added for every stage.
FETCH_OUTCOMES = (
    "ok", "not-modified", "unchanged", "unavailable", "rate-limited", "rejected", "gone", "parse-error"
)  # fmt: skip
WORKER_STAGE_OUTCOMES: dict[str, tuple[str, ...]] = {
    "cleaning": ("passed",),
    "dedup": ("unique", "revision", "duplicate"),
    "near-dedup": ("unique", "duplicate"),
    "tagging": ("passed",),
}
STORAGE_OUTCOMES = ("stored",)
SINK_WRITE_OUTCOMES = ("ok", "unavailable", "invalid")
DELIVERY_OUTCOMES = ("delivered", "retry", "exhausted", "rejected", "gone", "disabled")


@dataclass(frozen=True)
class PipelineMetrics:
    # counter: feed fetches by outcome (ok, not-modified, unchanged, unavailable, rate-limited,
    # rejected, gone, parse-error)
    feed_fetches: Counter
    # histogram: seconds per feed fetch, redirects and body download included
    feed_fetch_seconds: Histogram
    # gauge: number of feeds this poller owns per health state (new, healthy, not-modified,
    # backing-off, failing, gone)
    feeds: Gauge
    # counter: response body bytes received (decompressed)
    feed_bytes: Counter
    # counter: feed bodies that could not be parsed, by bounded error class (ParseError.reason)
    parse_errors: Counter
    # counter: article-page fetches for full text, by outcome (ok, no-main-text, fetch-<class>,
    # parse-timeout/-memory/-crashed); anything but ok means the feed's own text was used
    fulltext_fetches: Counter
    # counter: articles per stage (poll, cleaning, dedup, tagging) and outcome (published,
    # unchanged, passed, unique, revision, duplicate, dead-lettered)
    articles: Counter
    # counter: suppressed duplicates by kind (exact-url, guid, content, near)
    duplicates: Counter
    # counter: tags assigned, per configured topic; every gazetteer place counts as "(place)"
    tags: Counter
    # counter: taxonomy file reloads by outcome (applied, rejected, failed)
    taxonomy_reloads: Counter
    # counter: messages sent to the dead-letter topic by stage and bounded reason token
    dead_letters: Counter
    # histogram: seconds of in-process work per stage and message
    stage_seconds: Histogram
    # histogram: seconds from the article's publication time to its tagging
    end_to_end_seconds: Histogram
    # histogram: seconds from fetch to tagging (the pipeline's own latency)
    pipeline_seconds: Histogram
    # histogram: seconds from an entry's publication time to the poll that fetched it
    publish_to_fetch_seconds: Histogram
    # histogram: seconds from fetch to the storage write that holds the article
    fetch_to_store_seconds: Histogram
    # histogram: seconds from fetch to the alert the article fired on news.alerts
    fetch_to_alert_seconds: Histogram
    # gauge: messages not yet consumed (end offset - committed offset) per topic and partition
    # this worker consumes; series of partitions it no longer owns are removed
    consumer_lag: Gauge
    # gauge: 1 when the readiness check passes (broker; database for a storage worker), else 0
    ready: Gauge
    # counter: storage batch writes by sink (sqlite, postgres) and outcome (ok, unavailable,
    # invalid: a batch with an article the database refused, written one by one)
    sink_writes: Counter
    # counter: article rows written (inserted or already there) by sink
    sink_rows: Counter
    # histogram: seconds per successful batch write, by sink
    sink_write_seconds: Histogram
    # counter: alerts sent on news.alerts, by rule (rules are configured: bounded)
    alerts: Counter
    # counter: articles and syndicated copies linked to an earlier alert of their story instead
    # of alerting again, by rule
    alert_links: Counter
    # counter: webhook delivery attempts by channel (configured names) and outcome (delivered,
    # retry, gone, rejected, exhausted, disabled: skipped because an earlier 410 disabled it)
    webhook_deliveries: Counter

    @classmethod
    def create(cls, registry: CollectorRegistry) -> PipelineMetrics:
        def counter(name: str, doc: str, labels: tuple[str, ...]) -> Counter:
            return Counter(name, doc, labels, namespace=NAMESPACE, registry=registry)

        def gauge(name: str, doc: str, labels: tuple[str, ...]) -> Gauge:
            return Gauge(name, doc, labels, namespace=NAMESPACE, registry=registry)

        def histogram(name: str, doc: str, labels: tuple[str, ...], buckets: tuple[float, ...]) -> Histogram:
            return Histogram(name, doc, labels, namespace=NAMESPACE, registry=registry, buckets=buckets)

        return cls(
            feed_fetches=counter("feed_fetches", "Feed fetches by outcome", ("outcome",)),
            feed_fetch_seconds=histogram("feed_fetch_seconds", "Feed fetch duration", (), _FAST_BUCKETS),
            feeds=gauge("feeds", "Feeds per health state", ("state",)),
            feed_bytes=counter("feed_bytes", "Feed body bytes received (decompressed)", ()),
            parse_errors=counter("parse_errors", "Unparseable feed bodies by error class", ("reason",)),
            fulltext_fetches=counter(
                "fulltext_fetches", "Article-page fetches for full text by outcome", ("outcome",)
            ),
            articles=counter("articles", "Articles per stage and outcome", ("stage", "outcome")),
            duplicates=counter("duplicates", "Suppressed duplicates by kind", ("kind",)),
            tags=counter("tags", "Tags assigned per topic", ("tag",)),
            taxonomy_reloads=counter("taxonomy_reloads", "Taxonomy file reloads by outcome", ("outcome",)),
            dead_letters=counter("dead_letters", "Dead-lettered messages", ("stage", "reason")),
            stage_seconds=histogram(
                "stage_seconds", "In-process seconds per stage", ("stage",), _FAST_BUCKETS
            ),
            end_to_end_seconds=histogram(
                "end_to_end_seconds", "Publication to tagging, seconds", (), _E2E_BUCKETS
            ),
            pipeline_seconds=histogram("pipeline_seconds", "Fetch to tagging, seconds", (), _E2E_BUCKETS),
            publish_to_fetch_seconds=histogram(
                "publish_to_fetch_seconds", "Publication to fetch, seconds", (), _E2E_BUCKETS
            ),
            fetch_to_store_seconds=histogram(
                "fetch_to_store_seconds", "Fetch to storage write, seconds", (), _E2E_BUCKETS
            ),
            fetch_to_alert_seconds=histogram(
                "fetch_to_alert_seconds", "Fetch to alert sent, seconds", (), _E2E_BUCKETS
            ),
            consumer_lag=gauge(
                "consumer_lag", "Messages not yet consumed per topic and partition", ("topic", "partition")
            ),
            ready=gauge("ready", "1 when the readiness check passes, per check", ("check",)),
            sink_writes=counter(
                "sink_writes", "Storage batch writes by sink and outcome", ("sink", "outcome")
            ),
            sink_rows=counter("sink_rows", "Article rows written by sink", ("sink",)),
            sink_write_seconds=histogram(
                "sink_write_seconds", "Seconds per storage batch write", ("sink",), _FAST_BUCKETS
            ),
            alerts=counter("alerts", "Alerts sent on news.alerts by rule", ("rule",)),
            alert_links=counter(
                "alert_links", "Articles linked to an earlier alert of their story", ("rule",)
            ),
            webhook_deliveries=counter(
                "webhook_deliveries",
                "Webhook delivery attempts by channel and outcome",
                ("channel", "outcome"),
            ),
        )

    def preset_poller(self) -> None:
        """Export the poller's known series at 0 (see FETCH_OUTCOMES)."""
        for outcome in FETCH_OUTCOMES:
            self.feed_fetches.labels(outcome)
        for outcome in ("published", "unchanged"):
            self.articles.labels("poll", outcome)

    def preset_worker(
        self, *, near: bool, sink: str | None, rules: Iterable[str], channels: Iterable[str]
    ) -> None:
        """Export the worker's known series at 0: the stages it runs, its sink, the alert
        rules and channels of its configuration."""
        stages = {
            name: outcomes for name, outcomes in WORKER_STAGE_OUTCOMES.items() if near or name != "near-dedup"
        }
        if sink is not None:
            stages["storage"] = STORAGE_OUTCOMES
            for outcome in SINK_WRITE_OUTCOMES:
                self.sink_writes.labels(sink, outcome)
            self.sink_rows.labels(sink)
            self.sink_write_seconds.labels(sink)
        for stage, outcomes in stages.items():
            for outcome in (*outcomes, "dead-lettered"):
                self.articles.labels(stage, outcome)
        for kind in get_args(DuplicateKind):
            self.duplicates.labels(kind)
        for rule in rules:
            self.alerts.labels(rule)
        for channel in channels:
            for outcome in DELIVERY_OUTCOMES:
                self.webhook_deliveries.labels(channel, outcome)
