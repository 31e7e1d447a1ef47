"""A feed's polling state: what survives restarts and moves with the feed to another poller.

Serialised to a plain dict (stored in the compacted ``<prefix>poller-state`` topic, keyed by
feed id): validators, backoff, health, the fingerprints of the entries last published (so
a restarted or new owner neither refetches in full nor republishes), the recent publication
times (the feed's rhythm) and the feed's own scheduling hints.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from pipeline.clock import parse_rfc3339, rfc3339
from pipeline.config import FeedSettings
from pipeline.poller.fetcher import Validators
from pipeline.poller.schedule import PollHints, observed_rhythm

STATE_SCHEMA = "newsflow.feed-state/1"
MAX_REMEMBERED_ENTRIES = 1000  # bounded: feeds rarely carry more than a few hundred items
MAX_ENTRY_TIMES = 20
STATUS_FIELDS = (
    "url",
    "state",
    "failures",
    "last_error",
    "last_success",
    "last_attempt",
    "next_poll",
    "polls",
    "published",
    "etag",
    "last_modified",
)


@dataclass
class FeedState:
    feed: FeedSettings
    url: str
    validators: Validators = field(default_factory=Validators)
    body_hash: str | None = None
    failures: int = 0
    state: str = "new"
    last_error: str | None = None
    last_success: datetime | None = None
    last_attempt: datetime | None = None
    next_poll: datetime | None = None  # None: due now
    polls: int = 0
    published: int = 0
    last_entries: frozenset[str] = field(default_factory=frozenset)
    entry_times: tuple[datetime, ...] = ()
    hints: PollHints = field(default_factory=PollHints)

    @property
    def host(self) -> str:
        return (urlsplit(self.url).hostname or "").lower()

    def schedule_hints(self) -> PollHints:
        """The stored hints with the current rhythm (the retry-after of the last response kept)."""
        return PollHints(
            retry_after=self.hints.retry_after,
            ttl=self.hints.ttl,
            max_age=self.hints.max_age,
            expires_in=self.hints.expires_in,
            skip_hours=self.hints.skip_hours,
            skip_days=self.hints.skip_days,
            rhythm=observed_rhythm(self.entry_times),
        )

    def to_record(self) -> dict[str, Any]:
        return {
            "schema": STATE_SCHEMA,
            "feed_id": self.feed.id,
            "feed_url": self.feed.url,
            "url": self.url,
            "etag": self.validators.etag,
            "last_modified": self.validators.last_modified,
            "body_hash": self.body_hash,
            "failures": self.failures,
            "state": self.state,
            "last_error": self.last_error,
            "last_success": _time(self.last_success),
            "last_attempt": _time(self.last_attempt),
            "next_poll": _time(self.next_poll),
            "polls": self.polls,
            "published": self.published,
            "last_entries": sorted(self.last_entries)[:MAX_REMEMBERED_ENTRIES],
            "entry_times": [rfc3339(t) for t in self.entry_times[-MAX_ENTRY_TIMES:]],
            "hints": {
                "retry_after": self.hints.retry_after,
                "ttl": self.hints.ttl,
                "max_age": self.hints.max_age,
                "expires_in": self.hints.expires_in,
                "skip_hours": sorted(self.hints.skip_hours),
                "skip_days": sorted(self.hints.skip_days),
            },
        }

    @classmethod
    def restore(cls, feed: FeedSettings, record: dict[str, Any] | None) -> FeedState:
        """The saved state of ``feed``; a fresh one if none, or if the feed's URL was changed
        in the registry since (its validators and entries belong to another document)."""
        if not record or record.get("schema") != STATE_SCHEMA or record.get("feed_url") != feed.url:
            return cls(feed, feed.url)
        hints = record.get("hints") or {}
        return cls(
            feed=feed,
            url=str(record.get("url") or feed.url),
            validators=Validators(record.get("etag"), record.get("last_modified")),
            body_hash=record.get("body_hash"),
            failures=int(record.get("failures") or 0),
            state=str(record.get("state") or "new"),
            last_error=record.get("last_error"),
            last_success=_parse(record.get("last_success")),
            last_attempt=_parse(record.get("last_attempt")),
            next_poll=_parse(record.get("next_poll")),
            polls=int(record.get("polls") or 0),
            published=int(record.get("published") or 0),
            last_entries=frozenset(record.get("last_entries") or ()),
            entry_times=tuple(t for t in map(_parse, record.get("entry_times") or ()) if t is not None),
            hints=PollHints(
                retry_after=hints.get("retry_after"),
                ttl=hints.get("ttl"),
                max_age=hints.get("max_age"),
                expires_in=hints.get("expires_in"),
                skip_hours=frozenset(hints.get("skip_hours") or ()),
                skip_days=frozenset(hints.get("skip_days") or ()),
            ),
        )

    def status(self) -> dict[str, Any]:
        """What `newsflow feeds status` and the poller's /feeds endpoint show."""
        record = self.to_record()
        return {"id": self.feed.id, **{name: record[name] for name in STATUS_FIELDS}}


def _time(moment: datetime | None) -> str | None:
    return rfc3339(moment) if moment is not None else None


def _parse(text: object) -> datetime | None:
    if not isinstance(text, str):
        return None
    try:
        return parse_rfc3339(text)
    except ValueError:
        return None
