"""JSON Schemas (draft 2020-12) of every message kind on the wire (DESIGN §2).

One file per kind, shipped as package data and read with :mod:`importlib.resources`, so
they work from a wheel as well as from a checkout. The schemas are the published contract;
``tests/unit/test_schemas.py`` validates real pipeline output against them and checks that
their ``required`` lists match ``pipeline/models.py``.

    kind          schema value             topic(s)
    raw           newsflow.raw/1           news.raw
    clean         newsflow.clean/1         news.clean, news.unique
    article       newsflow.article/1       news.articles
    duplicate     newsflow.duplicate/1     news.duplicates
    alert         newsflow.alert/1         news.alerts
    feed          newsflow.feed/1          news.feeds (compacted)
    feed-state    newsflow.feed-state/1    news.poller-state (compacted)
    dead-letter   (original bytes)         news.dead-letter
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

__all__ = ["SCHEMA_KINDS", "TOPIC_KINDS", "load_schema"]

SCHEMA_KINDS = (
    "raw",
    "clean",
    "article",
    "duplicate",
    "alert",
    "delivery",
    "feed",
    "feed-state",
    "dead-letter",
)

# Topic suffix (see pipeline.topics.TopicNames) → schema kind of its messages.
TOPIC_KINDS = {
    "feeds": "feed",
    "poller-state": "feed-state",
    "raw": "raw",
    "clean": "clean",
    "dedup-near": "clean",
    "unique": "clean",
    "articles": "article",
    "duplicates": "duplicate",
    "alerts": "alert",
    "alert-input": "article",
    "alert-retries": "delivery",
    "dead-letter": "dead-letter",
}


def load_schema(kind: str) -> dict[str, Any]:
    """The JSON Schema of one message kind (a fresh dict on every call)."""
    if kind not in SCHEMA_KINDS:
        raise ValueError(f"unknown schema kind {kind!r} (known: {', '.join(SCHEMA_KINDS)})")
    text = resources.files(__name__).joinpath(f"{kind}.json").read_text(encoding="utf-8")
    schema = json.loads(text)
    if not isinstance(schema, dict):
        raise ValueError(f"schema {kind!r} is not a JSON object")
    return schema
