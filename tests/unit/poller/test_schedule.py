import pytest

from pipeline.config import PollerSettings
from pipeline.poller.schedule import MAX_RETRY_AFTER, next_poll_delay

POLICY = PollerSettings(min_interval=10, max_backoff=6 * 3600)

CASES = [
    # name, interval, failures, retry_after, jitter, expected
    ("success, no jitter offset", 300, 0, None, 0.5, 300.0),
    ("success, low jitter", 300, 0, None, 0.0, 270.0),
    ("success, high jitter", 300, 0, None, 1.0, 330.0),
    ("interval floored", 1, 0, None, 0.5, 10.0),
    ("first failure", 300, 1, None, 1.0, 300.0),
    ("third failure doubles twice", 300, 3, None, 1.0, 1200.0),
    ("full jitter lower half", 300, 3, None, 0.0, 600.0),
    ("capped at max backoff", 300, 30, None, 1.0, 6 * 3600.0),
    ("huge failure count still capped", 300, 10_000, None, 1.0, 6 * 3600.0),
    ("retry-after is a floor", 300, 0, 3600, 0.5, 3600.0),
    ("retry-after below schedule ignored", 300, 0, 5, 0.5, 300.0),
    ("retry-after bounded", 300, 0, 10**9, 0.5, MAX_RETRY_AFTER),
]


@pytest.mark.parametrize(
    ("name", "interval", "failures", "retry_after", "jitter", "expected"), CASES, ids=[c[0] for c in CASES]
)
def test_next_poll_delay(
    name: str, interval: float, failures: int, retry_after: float | None, jitter: float, expected: float
) -> None:
    assert next_poll_delay(interval, failures, retry_after, POLICY, jitter) == pytest.approx(expected)


def test_failed_feeds_never_stop_being_polled() -> None:
    delays = [next_poll_delay(60, n, None, POLICY, 0.99) for n in range(1, 200)]
    assert max(delays) <= POLICY.max_backoff
    assert all(delay > 0 for delay in delays)
