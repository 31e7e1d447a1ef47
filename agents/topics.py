"""Every topic the worker reads or writes, declared in one place.

    news.raw          key=article_key   (poller, acks=all + idempotence)
       │ cleaning      pipeline.cleaning.clean_article
       ▼
    news.clean        key=article_key        (kafka.partitions partitions)
       │ dedup         pipeline.dedup.decide      state: table <app>-dedup-seen (changelog)
       ├────────────► news.duplicates   key=article_key  (every suppression, explained)
       ▼
    news.dedup-near   key=article_key        (ONE partition: every article meets every other)
       │ near-dedup    pipeline.neardup.decide_near
       │               state: NearIndex in memory, table <app>-dedup-near-index (changelog)
       ├────────────► news.duplicates   (kind content / near, with the similarity)
       ▼
    news.unique       key=article_key
       │ tagging       pipeline.tagging.tag_article (taxonomy reloaded on change, gazetteer)
       ▼
    news.articles     key=article_key   ◄── what subscribers read
       └────────────► news.topic.<name>  key=article_key  (topics with stream: true; declared
                                          by agents/tagging.py from the taxonomy in use)

    news.articles ──► alert forwarding ──► news.alert-input   (ONE partition: the rules count
       │                                       │ alerting     across all articles)
       │                                       │ pipeline.alerting.evaluate_article / tick
       │                                       │ state: table alerting-state (changelog)
       │                                       ▼
       │                                    news.alerts      key=alert id   ◄── alert subscribers
       │                                       │ delivery     pipeline.sinks.webhook.attempt
       │                                       ├──► webhooks (generic JSON, Slack), signed
       │                                       ▼ failed attempts wait on
       │                                    news.alert-retries ──► retry delivery (own agent)
       └──► storage   pipeline.sinks (PostgreSQL / SQLite, upsert on (id, revision))

    any stage: a message it cannot decode or process ──► news.dead-letter
               (original bytes; x-newsflow-stage/-reason/-source-topic/-offset headers)

Values are raw bytes at the Faust level: the agents decode with ``pipeline.codec`` themselves
so that a decode error is ours to dead-letter (Faust would ack and drop it).
"""

from __future__ import annotations

from dataclasses import dataclass

import faust

from pipeline.topics import TopicNames


@dataclass(frozen=True)
class Topics:
    raw: faust.TopicT
    clean: faust.TopicT
    near: faust.TopicT
    unique: faust.TopicT
    articles: faust.TopicT
    duplicates: faust.TopicT
    dead_letter: faust.TopicT
    alert_input: faust.TopicT
    alerts: faust.TopicT
    alert_retries: faust.TopicT


def declare_topics(app: faust.App, names: TopicNames, partitions: int) -> Topics:
    def topic(name: str, count: int = partitions) -> faust.TopicT:
        return app.topic(
            name,
            key_type=bytes,
            value_type=bytes,
            key_serializer="raw",
            value_serializer="raw",
            partitions=count,
        )

    return Topics(
        raw=topic(names.raw),
        clean=topic(names.clean),
        near=topic(names.near, 1),
        unique=topic(names.unique),
        articles=topic(names.articles),
        duplicates=topic(names.duplicates),
        dead_letter=topic(names.dead_letter),
        alert_input=topic(names.alert_input, 1),
        alerts=topic(names.alerts),
        alert_retries=topic(names.alert_retries),
    )


def bytes_table(app: faust.App, name: str, partitions: int) -> faust.types.TableT[bytes, bytes]:
    """A changelogged table of raw bytes keys and values (we encode them ourselves, orjson)."""
    return app.Table(
        name,
        default=None,
        partitions=partitions,
        # key_type/value_type as well as the schema: Table takes its serializers from them and
        # would otherwise fall back to JSON, and the raw bytes could not be read back from the
        # changelog after a restart or rebalance (tests/integration/test_dedup_reliability.py).
        key_type=bytes,
        value_type=bytes,
        schema=faust.Schema(key_type=bytes, value_type=bytes, key_serializer="raw", value_serializer="raw"),
    )
