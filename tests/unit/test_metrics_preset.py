"""Known label values are exported at 0 from the start (pipeline/metrics.py): a counter that
first appears at 1 is invisible to rate() and increase(), so an alert would miss it."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, generate_latest

from pipeline.metrics import DELIVERY_OUTCOMES, FETCH_OUTCOMES, PipelineMetrics


def sample(registry: CollectorRegistry, name: str, **labels: str) -> float | None:
    return registry.get_sample_value(name, labels)


def test_poller_series_exist_at_zero() -> None:
    registry = CollectorRegistry()
    PipelineMetrics.create(registry).preset_poller()
    for outcome in FETCH_OUTCOMES:
        assert sample(registry, "newsflow_feed_fetches_total", outcome=outcome) == 0.0
    assert sample(registry, "newsflow_articles_total", stage="poll", outcome="published") == 0.0
    assert sample(registry, "newsflow_ready", check="broker") is None  # set by the first check


def test_worker_series_follow_its_configuration() -> None:
    registry = CollectorRegistry()
    metrics = PipelineMetrics.create(registry)
    metrics.preset_worker(near=False, sink="sqlite", rules=["quakes"], channels=["ops"])
    assert sample(registry, "newsflow_articles_total", stage="tagging", outcome="passed") == 0.0
    assert sample(registry, "newsflow_articles_total", stage="storage", outcome="dead-lettered") == 0.0
    assert sample(registry, "newsflow_articles_total", stage="near-dedup", outcome="unique") is None
    assert sample(registry, "newsflow_sink_writes_total", sink="sqlite", outcome="unavailable") == 0.0
    assert sample(registry, "newsflow_duplicates_total", kind="near") == 0.0
    assert sample(registry, "newsflow_alerts_total", rule="quakes") == 0.0
    for outcome in DELIVERY_OUTCOMES:
        assert sample(registry, "newsflow_webhook_deliveries_total", channel="ops", outcome=outcome) == 0.0


def test_a_worker_without_storage_or_alerts_exports_none_of_theirs() -> None:
    registry = CollectorRegistry()
    PipelineMetrics.create(registry).preset_worker(near=True, sink=None, rules=(), channels=())
    text = generate_latest(registry).decode()
    assert 'stage="near-dedup"' in text
    assert "newsflow_sink_writes_total{" not in text
    assert "newsflow_webhook_deliveries_total{" not in text
    assert 'check="database"' not in text
