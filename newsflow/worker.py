"""`newsflow worker`: the Faust worker with every agent (scale out by running more)."""

from __future__ import annotations

import asyncio
import logging
import os
from pathlib import Path

import faust
from prometheus_client import CollectorRegistry

from agents.app import FAUST_DATA_DIR, create_app
from agents.delivery import Deliveries
from newsflow.kafka_io import broker_probe, check_broker, ensure_topics
from newsflow.logs import worker_logging_config
from newsflow.settings_io import tagger_for
from pipeline.alerting import AlertRules, load_alert_rules, resolve_channels
from pipeline.cleaning.boilerplate import BoilerplateRules
from pipeline.clock import SystemClock
from pipeline.config import Settings
from pipeline.errors import Unavailable
from pipeline.health import Check
from pipeline.sinks.base import ArticleSink, open_sink
from pipeline.sinks.webhook import Endpoint
from pipeline.taxonomy import load_taxonomy
from pipeline.taxonomy_watch import TaxonomyWatcher
from pipeline.topics import TopicNames

log = logging.getLogger("newsflow.worker")


def load_alerts(path: Path) -> tuple[AlertRules, Deliveries]:
    """The alert rules and their channels' endpoints, URLs and secrets read from the
    environment once, here (a missing variable is a ConfigError at start, not a failed
    delivery later)."""
    rules = load_alert_rules(path)
    targets = resolve_channels(rules.channels, os.environ, str(path))
    endpoints = {
        name: Endpoint(name, target.type, target.url, target.secret) for name, target in targets.items()
    }
    return rules, Deliveries(endpoints)


async def _migrate_when_up(sink: ArticleSink) -> None:
    """Migrate, waiting for a database that is not up yet (a service starts in any order)."""
    attempt = 0
    while True:
        try:
            await sink.migrate()
            return
        except Unavailable as exc:
            delay = min(30.0, 2.0**attempt)
            log.warning("storage unavailable at start (%s); retrying in %.0fs", exc, delay)
            attempt += 1
            await asyncio.sleep(delay)


def readiness_checks(settings: Settings, sink: ArticleSink | None) -> dict[str, Check]:
    """What ``/readyz`` asks: the broker answers; for a storage worker, the database too."""

    checks: dict[str, Check] = {"broker": broker_probe(settings.kafka)}
    if sink is not None:
        checks["database"] = sink.ping
    return checks


def run_worker(
    settings: Settings, taxonomy_file: Path, loglevel: str = "info", log_format: str = "text"
) -> None:
    """Check the broker, create missing topics, then hand the loop to Faust until stopped."""
    rules = BoilerplateRules.load(*settings.cleaning.boilerplate_files)  # ConfigError: exit 2
    # The watcher notes the file's content first: a version saved while the worker starts is
    # then loaded once more by the first check instead of being missed.
    watcher = TaxonomyWatcher(taxonomy_file, lambda taxonomy: tagger_for(settings, taxonomy))
    tagger = tagger_for(settings, load_taxonomy(taxonomy_file))  # ConfigError: exit 2
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    loop.run_until_complete(check_broker(settings.kafka))
    names = TopicNames(settings.kafka.topic_prefix)
    streams = [names.topic_stream(name) for name in sorted(tagger.stream_topics)]
    loop.run_until_complete(ensure_topics(settings.kafka, streams))
    if not tagger.taxonomy.topics:
        log.warning("the taxonomy %s has no topics: articles will carry no topic tags", taxonomy_file)
    sink = None
    if settings.storage.enabled:
        sink = open_sink(settings.storage.url)  # ConfigError (a bad URL): exit 2
        loop.run_until_complete(_migrate_when_up(sink))  # creates or upgrades the schema
    alerts = load_alerts(settings.alerts_file) if settings.alerts_file else None  # ConfigError: exit 2
    Path(FAUST_DATA_DIR).mkdir(parents=True, exist_ok=True)
    checks = readiness_checks(settings, sink)
    registry = CollectorRegistry()
    app = create_app(settings, tagger, registry, SystemClock(), rules, watcher, sink, alerts, checks)
    # mode replaces the root logging at start; in JSON mode it installs our formatter instead.
    logging_config = worker_logging_config(loglevel, log_format)
    worker = faust.Worker(app, loglevel=loglevel, loop=loop, quiet=True, logging_config=logging_config)
    worker.execute_from_commandline()
