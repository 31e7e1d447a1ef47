"""`newsflow topics create` and `newsflow topics list`: the pipeline's Kafka topics.

``add_commands(commands)`` adds both to the top-level subparsers of newsflow/cli.py.

``create`` makes every missing pipeline topic (and the per-topic streams of the configured
taxonomy, as the worker does at start) with ``kafka.partitions`` and
``kafka.replication_factor``, and prints one line per topic: ``<name>\tcreated`` or
``<name>\texists``. It is idempotent, so deployments run it as a one-shot step before the
workers and pollers start (docker-compose.yml's ``topics`` service). ``list`` prints each
pipeline topic with its partition count on the broker, or ``missing``.

Exit codes (DESIGN §4): 0 success, 1 no broker reachable or the broker refused a topic,
2 bad configuration (config or taxonomy file). Errors are one line on stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError

from newsflow.kafka_io import BrokerUnavailable, check_broker, ensure_topics, kafka_client_options
from newsflow.settings_io import settings_from, taxonomy_for
from pipeline.config import KafkaSettings, Settings
from pipeline.topics import TopicNames

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2
T = TypeVar("T")


def add_commands(commands: argparse._SubParsersAction[Any]) -> None:
    topics = commands.add_parser("topics", help="the pipeline's Kafka topics")
    topic_commands = topics.add_subparsers(dest="action", required=True, parser_class=type(topics))
    topic_commands.add_parser(
        "create",
        help="create every missing pipeline topic with kafka.partitions and kafka.replication_factor "
        "(idempotent; one line per topic: created or exists)",
    ).set_defaults(run=run_create)
    topic_commands.add_parser(
        "list", help="each pipeline topic with its partition count on the broker, or 'missing'"
    ).set_defaults(run=run_list)


def pipeline_topics(settings: Settings) -> tuple[list[str], list[str]]:
    """(the pipeline's own topics, the per-topic streams of the configured taxonomy)."""
    names = TopicNames(settings.kafka.topic_prefix)
    taxonomy = taxonomy_for(settings)  # ConfigError: exit 2
    streams = sorted(names.topic_stream(topic.name) for topic in taxonomy.topics if topic.stream)
    return list(names.all().values()), streams


def run_create(args: argparse.Namespace) -> int:
    async def create(settings: Settings, own: list[str], streams: list[str]) -> list[str]:
        await check_broker(settings.kafka)
        return await ensure_topics(settings.kafka, streams)

    def show(own: list[str], streams: list[str], created: list[str]) -> None:
        made = set(created)
        for name in [*own, *streams]:
            sys.stdout.write(f"{name}\t{'created' if name in made else 'exists'}\n")

    return _run(args, "create", create, show)


def run_list(args: argparse.Namespace) -> int:
    async def partitions(settings: Settings, own: list[str], streams: list[str]) -> dict[str, int]:
        await check_broker(settings.kafka)
        return await _partition_counts(settings.kafka, [*own, *streams])

    def show(own: list[str], streams: list[str], counts: dict[str, int]) -> None:
        for name in [*own, *streams]:
            sys.stdout.write(f"{name}\t{counts.get(name, 'missing')}\n")

    return _run(args, "list", partitions, show)


async def _partition_counts(kafka: KafkaSettings, wanted: list[str]) -> dict[str, int]:
    """name → partition count, for those of ``wanted`` that exist on the broker."""
    admin = AIOKafkaAdminClient(**kafka_client_options(kafka), request_timeout_ms=10000)
    await admin.start()
    try:
        on_broker = set(await admin.list_topics())
        existing = [name for name in wanted if name in on_broker]
        if not existing:
            return {}
        described = await admin.describe_topics(existing)
        return {topic["topic"]: len(topic["partitions"]) for topic in described if not topic["error_code"]}
    finally:
        await admin.close()


def _run(
    args: argparse.Namespace,
    action: str,
    work: Callable[[Settings, list[str], list[str]], Coroutine[Any, Any, T]],
    show: Callable[[list[str], list[str], T], None],
) -> int:
    """Load the settings, run ``work`` against the broker, ``show`` its result. Failures reach
    ``cli.main`` as exceptions it reports in one line (JSON under --log-format json): a bad
    configuration exits 2, a broker that does not answer or refuses exits 1."""
    settings = settings_from(args.config)  # ConfigError
    own, streams = pipeline_topics(settings)
    try:
        result: T = asyncio.run(work(settings, own, streams))
    except (KafkaError, OSError, TimeoutError) as exc:
        detail = str(exc) or type(exc).__name__
        raise BrokerUnavailable(f"topics {action}: {settings.kafka.servers}: {detail}") from None
    show(own, streams, result)
    return EXIT_OK
