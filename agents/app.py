"""Build the Faust app from resolved settings. The only place agents are wired together."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import faust
from faust.sensors.prometheus import setup_prometheus_sensors
from faust.transport.drivers import aiokafka as faust_aiokafka
from prometheus_client import CollectorRegistry

from agents import alerting, cleaning, dedup, delivery, health, lag, neardup, storage, tagging
from agents.context import StageContext
from agents.credentials import broker_credentials
from agents.dead_letters import DeadLetters
from agents.topics import declare_topics
from pipeline.alerting import AlertRules
from pipeline.cleaning.boilerplate import BoilerplateRules, default_rules
from pipeline.clock import Clock
from pipeline.config import Settings
from pipeline.health import Check, Readiness
from pipeline.metrics import PipelineMetrics
from pipeline.sinks.base import ArticleSink
from pipeline.tagging import Tagger
from pipeline.taxonomy_watch import TaxonomyWatcher
from pipeline.topics import TopicNames

# Faust's working directory (table stores); created by the process edge before start.
FAUST_DATA_DIR = ".newsflow"


class IdempotentProducer(faust_aiokafka.Producer):
    """Faust turns on idempotence only inside transactions; we want acks=all + idempotence
    always, so a producer retry after a broker hiccup never duplicates output (DESIGN §6)."""

    def _settings_extra(self) -> dict[str, Any]:
        return {"acks": "all", "enable_idempotence": True}


class IdempotentTransport(faust_aiokafka.Transport):
    Producer = IdempotentProducer


class NewsflowApp(faust.App):
    def _new_transport(self) -> Any:
        return IdempotentTransport(self.conf.broker_consumer, self)

    def _new_producer_transport(self) -> Any:
        return IdempotentTransport(self.conf.broker_producer, self)


def create_app(
    settings: Settings,
    tagger: Tagger,
    registry: CollectorRegistry,
    clock: Clock,
    rules: BoilerplateRules | None = None,
    watcher: TaxonomyWatcher | None = None,
    sink: ArticleSink | None = None,
    alerts: tuple[AlertRules, delivery.Deliveries] | None = None,
    readiness_checks: Mapping[str, Check] | None = None,
) -> faust.App:
    """The worker's app; ``watcher`` (when given) reloads the taxonomy without a restart;
    ``sink`` (when given, migrated) receives news.articles through the storage agent;
    ``alerts`` (rules and their channels' endpoints) turns on alerting and delivery;
    ``readiness_checks`` (broker, database) answer ``/readyz``."""
    kafka = settings.kafka
    app = NewsflowApp(
        settings.worker.app_id,
        broker=f"kafka://{kafka.servers}",
        broker_credentials=broker_credentials(kafka),  # TLS / SASL, as every other client
        store="memory://",
        processing_guarantee="at_least_once",
        producer_acks=-1,
        consumer_auto_offset_reset="earliest",
        topic_partitions=kafka.partitions,
        topic_replication_factor=kafka.replication_factor,
        web_bind=settings.worker.web_bind,
        web_port=settings.metrics.port,
        web_host=settings.worker.web_bind,
        web_in_thread=False,
        autodiscover=False,
        datadir=f"{FAUST_DATA_DIR}/faust-{{conf.name}}",
    )
    metrics = PipelineMetrics.create(registry)
    metrics.preset_worker(
        near=settings.dedup.near,
        sink=sink.kind if sink is not None else None,
        rules=[rule.name for rule in alerts[0].rules] if alerts else (),
        channels=sorted(alerts[1].endpoints) if alerts else (),
    )
    setup_prometheus_sensors(app, pattern="/metrics", registry=registry, name_prefix="faust")
    health.register(app, Readiness(readiness_checks or {}, metrics.ready))
    lag.register(app, metrics)
    names = TopicNames(kafka.topic_prefix)
    topics = declare_topics(app, names, kafka.partitions)
    ctx = StageContext(topics, DeadLetters(topics.dead_letter, metrics), metrics, clock)
    cleaning.register(app, ctx, rules or default_rules(), settings.cleaning.summary_chars)
    dedup.register(app, ctx, kafka.partitions, settings.dedup)
    if settings.dedup.near:
        neardup.register(app, ctx, settings.dedup)
    state = tagging.TaggingState(tagger, names, kafka.partitions, watcher, settings.tagging.reload_seconds)
    tagging.register(app, ctx, state)
    if sink is not None:
        stored = settings.storage
        storage.register(app, ctx, sink, sink.kind, stored.batch_size, stored.batch_seconds)
    if alerts is not None:
        alert_rules, deliveries = alerts
        alerting.register(app, ctx, alert_rules)
        delivery.register(app, ctx, deliveries)
    return app
