"""Exact deduplication and revisions: a pure decision over the state kept for one key.

The caller (the dedup agent, or ``newsflow process``) looks up the ``SeenRecord`` for the
article's key, calls :func:`decide`, sends the result, and only then stores the new record:
a crash in between can repeat an article downstream but never lose one.

- unknown key → a new article, revision 1;
- same key, same content hash → suppressed, explained on ``news.duplicates``;
- same key, changed content → an update: revision + 1 with ``update_of`` (ids are stable
  per key, so ``update_of`` is the id of the article being revised).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from datetime import datetime
from typing import Any

from pipeline.cleaning.identity import key_kind
from pipeline.clock import rfc3339
from pipeline.models import CleanArticle, Duplicate


@dataclass(frozen=True, slots=True)
class SeenRecord:
    """What the dedup state remembers per ``article_key``."""

    id: str
    content_hash: str
    revision: int
    first_seen: str
    last_seen: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SeenRecord:
        return cls(**{name: data[name] for name in cls.__dataclass_fields__})


@dataclass(frozen=True, slots=True)
class Fresh:
    """Pass the article on (new, or a new revision)."""

    article: CleanArticle
    record: SeenRecord


@dataclass(frozen=True, slots=True)
class Suppressed:
    """Drop the article from the main stream and publish the explanation instead."""

    duplicate: Duplicate
    record: SeenRecord


def decide(article: CleanArticle, seen: SeenRecord | None, now: datetime) -> Fresh | Suppressed:
    stamp = rfc3339(now)
    if seen is None:
        record = SeenRecord(article.id, article.content_hash, 1, stamp, stamp)
        return Fresh(article.model_copy(update={"revision": 1, "update_of": None}), record)
    if seen.content_hash == article.content_hash:
        duplicate = Duplicate(
            id=article.id,
            duplicate_of=seen.id,
            kind=key_kind(article.article_key),
            similarity=1.0,
            url=article.url,
            feed_id=article.feed_id,
            detected_at=stamp,
        )
        return Suppressed(duplicate, replace(seen, last_seen=stamp))
    revision = seen.revision + 1
    updated = article.model_copy(update={"revision": revision, "update_of": seen.id})
    record = SeenRecord(seen.id, article.content_hash, revision, seen.first_seen, stamp)
    return Fresh(updated, record)
