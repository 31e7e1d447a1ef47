"""When to poll a feed next: a pure policy of its inputs (no clock, no sleeping).

- success: the configured interval, floored at ``min_interval``, with ±10 % jitter so
  feeds configured alike drift apart instead of hitting hosts in lockstep;
- failure n: exponential backoff from the interval (×2 per consecutive failure) capped at
  ``max_backoff`` (default 6 h), with full jitter in [50 %, 100 %]; never "stop polling";
- ``Retry-After``: honoured as a lower bound (up to 24 h).
"""

from __future__ import annotations

from pipeline.config import PollerSettings

MAX_RETRY_AFTER = 24 * 3600.0


def next_poll_delay(
    interval: float,
    consecutive_failures: int,
    retry_after: float | None,
    policy: PollerSettings,
    jitter: float,
) -> float:
    """Seconds until the next poll; ``jitter`` is a uniform random number in [0, 1)."""
    base = max(interval, policy.min_interval)
    if consecutive_failures <= 0:
        delay = base * (0.9 + 0.2 * jitter)
    else:
        exponent = min(consecutive_failures - 1, 30)
        ceiling = min(policy.max_backoff, base * 2.0**exponent)
        delay = ceiling * (0.5 + 0.5 * jitter)
    if retry_after is not None:
        delay = max(delay, min(retry_after, MAX_RETRY_AFTER))
    return delay
