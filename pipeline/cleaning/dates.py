"""Feed dates → RFC 3339 UTC. Missing or unparseable → fetched time; far future → clamped."""

from __future__ import annotations

import calendar
from datetime import UTC, datetime, timedelta

from feedparser.datetimes import _parse_date  # RFC 822, W3CDTF, ISO 8601 and a dozen locales

from pipeline.clock import rfc3339

MAX_FUTURE = timedelta(hours=24)


def parse_feed_date(raw: str | None) -> datetime | None:
    """A timezone-aware UTC datetime, or None when ``raw`` is missing or not a date."""
    if not raw or not raw.strip():
        return None
    text = raw.strip()[:200]
    try:
        parsed = _parse_date(text)
    except (ValueError, OverflowError, IndexError, TypeError):
        parsed = None
    if parsed is not None:
        try:
            return datetime.fromtimestamp(calendar.timegm(parsed), UTC)
        except (ValueError, OverflowError, OSError):
            return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def published_at(raw: str | None, fetched_at: datetime) -> str:
    """The article's publication time as the contract states it (DESIGN §2)."""
    moment = parse_feed_date(raw)
    if moment is None or moment > fetched_at + MAX_FUTURE:
        moment = fetched_at
    return rfc3339(moment)
