"""`newsflow worker`: the Faust worker with every agent (scale out by running more)."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import faust
from prometheus_client import CollectorRegistry

from agents.app import FAUST_DATA_DIR, create_app
from newsflow.kafka_io import check_broker, ensure_topics
from pipeline.cleaning.boilerplate import BoilerplateRules
from pipeline.clock import SystemClock
from pipeline.config import Settings
from pipeline.tagging import Tagger
from pipeline.taxonomy import Taxonomy

log = logging.getLogger("newsflow.worker")


def run_worker(settings: Settings, taxonomy: Taxonomy, loglevel: str = "info") -> None:
    """Check the broker, create missing topics, then hand the loop to Faust until stopped."""
    rules = BoilerplateRules.load(*settings.cleaning.boilerplate_files)  # ConfigError: exit 2
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    loop.run_until_complete(check_broker(settings.kafka.servers))
    loop.run_until_complete(ensure_topics(settings.kafka))
    if not taxonomy.topics:
        log.warning("no taxonomy configured (taxonomy_file): articles will carry no tags")
    Path(FAUST_DATA_DIR).mkdir(parents=True, exist_ok=True)
    app = create_app(settings, Tagger(taxonomy), CollectorRegistry(), SystemClock(), rules)
    worker = faust.Worker(app, loglevel=loglevel, loop=loop, quiet=True)
    worker.execute_from_commandline()
