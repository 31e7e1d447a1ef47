"""Every Prometheus metric newsflow exports, declared once, bound to an injected registry.

Labels are bounded by construction (DESIGN §5): outcomes, stages, kinds and reasons are
fixed vocabularies in code, tags come from the configured taxonomy. Never a URL, host,
feed id or article id: the series count must not grow with the number of feeds or articles.
Catalogue with panels: docs/metrics.md.
"""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

NAMESPACE = "newsflow"
# Fetches and stages are fast; end-to-end spans minutes to days (old items in a first poll).
_FAST_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
_E2E_BUCKETS = (0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 6 * 3600, 86400, 7 * 86400)


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

        def histogram(name: str, doc: str, labels: tuple[str, ...], buckets: tuple[float, ...]) -> Histogram:
            return Histogram(name, doc, labels, namespace=NAMESPACE, registry=registry, buckets=buckets)

        return cls(
            feed_fetches=counter("feed_fetches", "Feed fetches by outcome", ("outcome",)),
            feed_fetch_seconds=histogram("feed_fetch_seconds", "Feed fetch duration", (), _FAST_BUCKETS),
            feeds=Gauge(
                "feeds", "Feeds per health state", ("state",), namespace=NAMESPACE, registry=registry
            ),
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
