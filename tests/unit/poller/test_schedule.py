"""The polling policies, with explicit times: nothing here sleeps or reads a clock."""

import random
from datetime import UTC, datetime, timedelta

import pytest

from pipeline.config import PollerSettings
from pipeline.poller.schedule import (
    MAX_RETRY_AFTER,
    PollHints,
    base_delay,
    delay_seconds,
    first_allowed,
    next_poll_at,
    observed_rhythm,
    response_hints,
)

POLICY = PollerSettings(min_interval=10, max_backoff=6 * 3600, max_interval=24 * 3600)
NOW = datetime(2026, 11, 20, 10, 30, tzinfo=UTC)  # a Friday
NONE = PollHints()

DELAYS = [
    # name, interval, failures, hints, jitter, expected seconds
    ("success, mid jitter", 300, 0, NONE, 0.5, 300.0),
    ("success, low jitter", 300, 0, NONE, 0.0, 270.0),
    ("success, high jitter", 300, 0, NONE, 1.0, 330.0),
    ("interval floored at min_interval", 1, 0, NONE, 0.5, 10.0),
    ("first failure", 300, 1, NONE, 1.0, 300.0),
    ("5xx backoff grows ×2", 300, 3, NONE, 1.0, 1200.0),
    ("full jitter on failure", 300, 3, NONE, 0.0, 600.0),
    ("backoff capped", 300, 30, NONE, 1.0, 6 * 3600.0),
    ("huge failure count still capped", 300, 10_000, NONE, 1.0, 6 * 3600.0),
    ("Retry-After is a floor", 300, 0, PollHints(retry_after=3600), 0.5, 3600.0),
    ("Retry-After below schedule ignored", 300, 0, PollHints(retry_after=5), 0.5, 300.0),
    ("Retry-After on a failure", 300, 1, PollHints(retry_after=7200), 0.5, 7200.0),
    ("Retry-After bounded", 300, 0, PollHints(retry_after=10**9), 0.5, MAX_RETRY_AFTER),
    ("RSS ttl slows polling", 300, 0, PollHints(ttl=1800), 0.5, 1800.0),
    ("max-age slows polling", 300, 0, PollHints(max_age=900), 0.5, 900.0),
    ("Expires slows polling", 300, 0, PollHints(expires_in=600), 0.5, 600.0),
    ("short hints do not speed up", 300, 0, PollHints(ttl=60, max_age=30), 0.5, 300.0),
    ("hints capped at max_backoff", 300, 0, PollHints(ttl=7 * 86400), 0.5, 6 * 3600.0),
    ("busy feed polled faster", 300, 0, PollHints(rhythm=120), 0.5, 120.0),
    ("busy feed bounded at interval/4", 300, 0, PollHints(rhythm=10), 0.5, 75.0),
    ("quiet feed polled slower", 300, 0, PollHints(rhythm=900), 0.5, 900.0),
    ("quiet feed bounded at interval×4", 300, 0, PollHints(rhythm=86400), 0.5, 1200.0),
]


@pytest.mark.parametrize(
    ("name", "interval", "failures", "hints", "jitter", "expected"), DELAYS, ids=[c[0] for c in DELAYS]
)
def test_delay_seconds(
    name: str, interval: float, failures: int, hints: PollHints, jitter: float, expected: float
) -> None:
    assert delay_seconds(interval, failures, hints, POLICY, jitter) == pytest.approx(expected)


def test_adaptive_bounds_respect_min_and_max_interval() -> None:
    tight = PollerSettings(min_interval=100, max_interval=600)
    assert base_delay(300, 1, tight) == 100.0  # interval/4 = 75 is below min_interval
    assert base_delay(300, 10**6, tight) == 600.0  # interval×4 = 1200 is above max_interval


def test_failed_feeds_never_stop_being_polled() -> None:
    delays = [delay_seconds(60, n, NONE, POLICY, 0.99) for n in range(1, 500)]
    assert max(delays) <= POLICY.max_backoff
    assert min(delays) > 0


def test_jitter_spreads_failing_feeds() -> None:
    rng = random.Random(7)
    delays = [delay_seconds(300, 4, NONE, POLICY, rng.random()) for _ in range(1000)]
    assert min(delays) >= 1200 and max(delays) <= 2400
    buckets = {int((d - 1200) // 120) for d in delays}
    assert len(buckets) == 10, "delays cover the whole jitter range"
    assert len(set(delays)) > 990, "no two failing feeds retry in lockstep"


SKIPS = [
    ("allowed hour unchanged", NOW, frozenset({3, 4}), frozenset(), NOW),
    (
        "skipped hour moves to the next hour",
        NOW,
        frozenset({10}),
        frozenset(),
        NOW.replace(hour=11, minute=0),
    ),
    ("consecutive skipped hours", NOW, frozenset({10, 11, 12}), frozenset(), NOW.replace(hour=13, minute=0)),
    (
        "skip wraps past midnight",
        NOW.replace(hour=23),
        frozenset({23, 0, 1}),
        frozenset(),
        datetime(2026, 11, 21, 2, 0, tzinfo=UTC),
    ),
    (
        "skipped day moves to the next day",
        NOW,
        frozenset(),
        frozenset({"friday"}),
        datetime(2026, 11, 21, 0, 0, tzinfo=UTC),
    ),
    (
        "weekend skipped",
        NOW + timedelta(days=1),
        frozenset(),
        frozenset({"saturday", "sunday"}),
        datetime(2026, 11, 23, 0, 0, tzinfo=UTC),
    ),
    ("skipping everything is ignored", NOW, frozenset(range(24)), frozenset(), NOW),
]


@pytest.mark.parametrize(("name", "moment", "hours", "days", "expected"), SKIPS, ids=[c[0] for c in SKIPS])
def test_skip_hours_and_days(
    name: str, moment: datetime, hours: frozenset[int], days: frozenset[str], expected: datetime
) -> None:
    assert first_allowed(moment, hours, days) == expected


def test_next_poll_at_applies_skip_hours_after_the_delay() -> None:
    hints = PollHints(skip_hours=frozenset({10}))
    assert next_poll_at(NOW, 600, 0, hints, POLICY, 0.5) == NOW.replace(hour=11, minute=0)


def test_observed_rhythm() -> None:
    times = [NOW - timedelta(minutes=10 * n) for n in range(6)]
    assert observed_rhythm(times) == 600.0
    assert observed_rhythm(times[:2]) is None
    assert observed_rhythm([NOW, NOW, NOW]) is None


HEADERS = [
    ("max-age", {"cache-control": "public, max-age=600"}, (600.0, None)),
    ("no-cache wins", {"cache-control": "no-cache, max-age=600"}, (None, None)),
    ("Expires in 1 h", {"expires": "Fri, 20 Nov 2026 11:30:00 GMT"}, (None, 3600.0)),
    ("Expires in the past", {"expires": "Fri, 20 Nov 2026 09:30:00 GMT"}, (None, 0.0)),
    ("bad Expires", {"expires": "0"}, (None, None)),
    ("nothing", {}, (None, None)),
]


@pytest.mark.parametrize(("name", "headers", "expected"), HEADERS, ids=[c[0] for c in HEADERS])
def test_response_hints(
    name: str, headers: dict[str, str], expected: tuple[float | None, float | None]
) -> None:
    assert response_hints(headers, NOW) == expected
