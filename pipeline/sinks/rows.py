"""One article → one table row, the same for every sink, checked before any database sees it.

Checking here rather than waiting for the database keeps the sinks alike: PostgreSQL refuses
U+0000 in text while SQLite stores it, and neither driver can encode a lone surrogate. Both
now refuse the same articles with the same ``RejectedArticle``, naming the article.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any, NamedTuple

import orjson

from pipeline.models import Article
from pipeline.sinks.base import RejectedArticle

# The stored columns, in the order of Row and of every INSERT; the migrations define them.
COLUMNS = (
    "id",
    "revision",
    "article_key",
    "url",
    "canonical_url",
    "feed_id",
    "source",
    "title",
    "summary",
    "text",
    "content_html",
    "lang",
    "authors",
    "categories",
    "published_at",
    "published_raw",
    "fetched_at",
    "processed_at",
    "content_hash",
    "tags",
    "story_id",
    "update_of",
)
TIME_COLUMNS = ("published_at", "fetched_at", "processed_at")
JSON_COLUMNS = ("authors", "categories", "tags")
MAX_REVISION = 2**31 - 1  # PostgreSQL integer


class Row(NamedTuple):
    id: str
    revision: int
    article_key: str
    url: str | None
    canonical_url: str | None
    feed_id: str
    source: str | None
    title: str
    summary: str
    text: str
    content_html: str
    lang: str | None
    authors: str  # JSON array of strings
    categories: str  # JSON array of strings
    published_at: datetime  # timezone-aware UTC
    published_raw: str | None
    fetched_at: datetime
    processed_at: datetime
    content_hash: str
    tags: str  # JSON array of {name, score, kind, matches, country, geonameid}
    story_id: str | None
    update_of: str | None


def to_row(article: Article) -> Row:
    """The row for ``article``; ``RejectedArticle`` if no database could store it."""
    if not 1 <= article.revision <= MAX_REVISION:
        raise RejectedArticle(article.id, "bad-revision", f"revision {article.revision} out of range")
    dumped = article.model_dump(mode="json", include=set(JSON_COLUMNS))
    values: dict[str, Any] = {name: getattr(article, name) for name in COLUMNS}
    for name in JSON_COLUMNS:
        values[name] = orjson.dumps(dumped[name]).decode()
    for name in TIME_COLUMNS:
        values[name] = _time(article.id, name, values[name])
    for name, value in values.items():
        if isinstance(value, str):
            _check_text(article.id, name, value)
    return Row(**values)


def unique_rows(articles: Iterable[Article]) -> list[Row]:
    """Rows of a batch, one per (id, revision) (the last wins, as it would one by one):
    a single INSERT ... ON CONFLICT statement may not touch the same row twice."""
    rows: dict[tuple[str, int], Row] = {}
    for article in articles:
        row = to_row(article)
        rows[(row.id, row.revision)] = row
    return list(rows.values())


def tag_names(tags_json: str | bytes | None) -> tuple[str, ...]:
    if not tags_json:
        return ()
    tags = orjson.loads(tags_json)
    return tuple(str(tag["name"]) for tag in tags if isinstance(tag, dict) and "name" in tag)


def by_column(rows: Sequence[Row]) -> list[list[Any]]:
    """Column-major copy of ``rows`` (one list per column) for array parameters."""
    return [list(column) for column in zip(*rows, strict=True)] if rows else [[] for _ in COLUMNS]


def _time(article_id: str, name: str, value: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        # A time without an offset is not RFC 3339; reading it as UTC beats the machine's zone.
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    except (ValueError, OverflowError):
        raise RejectedArticle(article_id, "bad-time", f"{name} {value[:40]!r} is not RFC 3339") from None


def _check_text(article_id: str, name: str, value: str) -> None:
    if "\x00" in value:
        raise RejectedArticle(article_id, "nul-character", f"{name} contains U+0000")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise RejectedArticle(article_id, "invalid-unicode", f"{name} holds a lone surrogate") from None
