"""When to poll a feed next: pure policies of their inputs (an injected time, no sleeping).

``next_poll_at`` combines, in this order:

1. the base delay: the feed's configured interval, adapted to its observed publishing rhythm
   (busy feeds faster, quiet feeds slower) within [interval/4, interval×4] and within
   [``min_interval``, ``max_interval``];
2. on failure instead: exponential backoff from the base (×2 per consecutive failure), capped
   at ``max_backoff`` (default 6 h), never "stop polling";
3. jitter: ±10 % on success, full jitter in [50 %, 100 %] on failure, so feeds configured
   alike, or failing together, drift apart instead of hitting hosts in lockstep;
4. server hints as lower bounds: ``Retry-After`` (up to 24 h), and on success RSS ``ttl``,
   ``Cache-Control: max-age`` and ``Expires`` (each up to ``max_backoff``);
5. ``skipHours``/``skipDays`` (UTC, RSS 2.0): a time inside a skipped hour or day moves to the
   start of the next allowed hour.
"""

from __future__ import annotations

import email.utils
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from pipeline.config import PollerSettings

MAX_RETRY_AFTER = 24 * 3600.0
DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_MAX_AGE = re.compile(r"(?:^|[,\s])max-age\s*=\s*\"?(\d+)", re.IGNORECASE)
_NO_CACHE = re.compile(r"(?:^|[,\s])(?:no-cache|no-store)(?:$|[,\s])", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class PollHints:
    """What the feed and its last response say about polling it."""

    retry_after: float | None = None  # seconds
    ttl: float | None = None  # RSS <ttl>, seconds
    max_age: float | None = None  # Cache-Control: max-age, seconds
    expires_in: float | None = None  # Expires minus the response time, seconds
    skip_hours: frozenset[int] = field(default_factory=frozenset)  # 0-23, UTC
    skip_days: frozenset[str] = field(default_factory=frozenset)  # lower-case English names
    rhythm: float | None = None  # observed seconds between new entries


def base_delay(interval: float, rhythm: float | None, policy: PollerSettings) -> float:
    """The configured interval, adapted to the publishing rhythm within the bounds."""
    delay = interval
    if rhythm is not None and rhythm > 0:
        delay = min(max(rhythm, interval / 4), interval * 4)
    return min(max(delay, policy.min_interval), policy.max_interval)


def delay_seconds(
    interval: float, failures: int, hints: PollHints, policy: PollerSettings, jitter: float
) -> float:
    """Seconds until the next poll, before skipHours/skipDays; ``jitter`` is uniform in [0, 1)."""
    base = base_delay(interval, hints.rhythm, policy)
    if failures <= 0:
        delay = base * (0.9 + 0.2 * jitter)
        for hint in (hints.ttl, hints.max_age, hints.expires_in):
            if hint is not None and hint > 0:
                delay = max(delay, min(hint, policy.max_backoff))
    else:
        ceiling = min(policy.max_backoff, base * 2.0 ** min(failures - 1, 30))
        delay = ceiling * (0.5 + 0.5 * jitter)
    if hints.retry_after is not None:
        delay = max(delay, min(hints.retry_after, MAX_RETRY_AFTER))
    return delay


def next_poll_at(
    now: datetime, interval: float, failures: int, hints: PollHints, policy: PollerSettings, jitter: float
) -> datetime:
    moment = now + timedelta(seconds=delay_seconds(interval, failures, hints, policy, jitter))
    return first_allowed(moment, hints.skip_hours, hints.skip_days)


def first_allowed(moment: datetime, skip_hours: frozenset[int], skip_days: frozenset[str]) -> datetime:
    """``moment``, or the start of the first hour after it that is not skipped (UTC)."""
    if len(skip_hours) >= 24 or len(skip_days) >= 7:
        return moment  # a feed that skips everything would never be polled: ignore the hint
    moment = moment.astimezone(UTC)
    for _ in range(24 * 8):
        if moment.hour not in skip_hours and DAYS[moment.weekday()] not in skip_days:
            return moment
        moment = moment.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    return moment


def observed_rhythm(published: Sequence[datetime]) -> float | None:
    """Mean seconds between the newest entries' publication times (None below 3 entries)."""
    times = sorted(set(published))[-20:]
    if len(times) < 3:
        return None
    span = (times[-1] - times[0]).total_seconds()
    return span / (len(times) - 1) if span > 0 else None


def response_hints(headers: Mapping[str, str], now: datetime) -> tuple[float | None, float | None]:
    """(max_age, expires_in) in seconds from a response's caching headers."""
    cache_control = headers.get("cache-control", "")
    if _NO_CACHE.search(cache_control):
        return None, None
    match = _MAX_AGE.search(cache_control)
    max_age = float(match.group(1)) if match else None
    expires_in = None
    if headers.get("expires"):
        try:
            expires = email.utils.parsedate_to_datetime(headers["expires"])
        except (TypeError, ValueError):
            expires = None
        if expires is not None:
            expires = expires if expires.tzinfo else expires.replace(tzinfo=UTC)
            expires_in = max(0.0, (expires - now).total_seconds())
    return max_age, expires_in
