"""Exact deduplication and revisions: a pure decision over the state kept for one key.

The caller (the dedup agent, or ``newsflow process``) looks up the ``SeenRecord`` for the
article's key, calls :func:`decide`, sends the result, and only then stores the new record:
a crash in between can repeat an article downstream but never lose one.

- unknown key → a new article, revision 1;
- same key, same content hash → suppressed, explained on ``news.duplicates``;
- same key, changed content → an update: revision + 1 with ``update_of`` (ids are stable
  per key, so ``update_of`` is the id of the article being revised). "Changed" means a
  different content hash, which is taken over the cleaned, normalised title and text: changes
  in whitespace, case, tracking parameters (the key is the canonical URL) or boilerplate the
  cleaning stage removes (ads, share prompts) are not revisions.

Earlier contents of a key are remembered too (the last ``EARLIER_CONTENTS`` hashes): a feed or
CDN that alternates between an old and a new version, or a redelivery of older messages after
a crash, is a duplicate, not a flip-flop of revisions.

A record is forgotten once it has not been seen for the retention window
(:func:`is_expired`): the same article reposted after that is new again. That bounds the state.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from datetime import datetime
from typing import Any

from pipeline.cleaning.identity import key_kind
from pipeline.clock import parse_rfc3339, rfc3339
from pipeline.models import CleanArticle, Duplicate

EARLIER_CONTENTS = 8
_SHORT_HASH = 16  # hex characters kept per earlier content: collisions need 2**64 tries


@dataclass(frozen=True, slots=True)
class SeenRecord:
    """What the dedup state remembers per ``article_key``."""

    id: str
    content_hash: str
    revision: int
    first_seen: str
    last_seen: str
    earlier: tuple[str, ...] = ()  # short hashes of earlier revisions' contents, newest last
    # Offset of the input message that last updated the record (a key's messages share one
    # partition, so offsets order them): a message at or before it is a redelivery.
    position: int | None = None
    partition: int | None = None  # of that message: lets the retention sweep pick its records

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "earlier": list(self.earlier)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SeenRecord:
        optional = ("earlier", "position", "partition")  # older records have none of them
        fields = {name: data[name] for name in cls.__dataclass_fields__ if name not in optional}
        return cls(
            **fields,
            earlier=tuple(data.get("earlier", ())),
            position=data.get("position"),
            partition=data.get("partition"),
        )

    def has_seen(self, content_hash: str) -> bool:
        return content_hash == self.content_hash or content_hash[:_SHORT_HASH] in self.earlier


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


@dataclass(frozen=True, slots=True)
class Redelivered:
    """The message that produced the stored record, delivered again (after a crash or a
    rebalance, before its offset was committed): it was handled already, nothing to send."""

    record: SeenRecord


def is_expired(record: SeenRecord, now: datetime, retention_seconds: float) -> bool:
    """Not seen for longer than the retention window."""
    return (now - parse_rfc3339(record.last_seen)).total_seconds() > retention_seconds


def decide(
    article: CleanArticle, seen: SeenRecord | None, now: datetime, position: int | None = None
) -> Fresh | Suppressed | Redelivered:
    """``position``: the input message's offset when there is one (the agent), else None."""
    if seen is not None and _redelivered(seen, position) and seen.has_seen(article.content_hash):
        # Content already seen, too: a recreated topic restarting its offsets must not make
        # genuine revisions look like redeliveries.
        return Redelivered(seen)
    stamp = rfc3339(now)
    if seen is None:
        record = SeenRecord(article.id, article.content_hash, 1, stamp, stamp, position=position)
        return Fresh(article.model_copy(update={"revision": 1, "update_of": None}), record)
    if seen.has_seen(article.content_hash):
        duplicate = Duplicate(
            id=article.id,
            duplicate_of=seen.id,
            kind=key_kind(article.article_key),
            similarity=1.0,
            url=article.url,
            feed_id=article.feed_id,
            detected_at=stamp,
        )
        return Suppressed(duplicate, replace(seen, last_seen=stamp, position=position))
    revision = seen.revision + 1
    updated = article.model_copy(update={"revision": revision, "update_of": seen.id})
    earlier = (*seen.earlier, seen.content_hash[:_SHORT_HASH])[-EARLIER_CONTENTS:]
    record = SeenRecord(seen.id, article.content_hash, revision, seen.first_seen, stamp, earlier, position)
    return Fresh(updated, record)


def _redelivered(seen: SeenRecord, position: int | None) -> bool:
    return position is not None and seen.position is not None and position <= seen.position
