"""Repeat a batch, keep every duration, report the median as articles/s.

The median of several repetitions resists one-off noise (a GC pause, another process) better
than the mean, and unlike the minimum it does not reward a lucky run.
"""

from __future__ import annotations

import gc
import math
import statistics
import time
from collections.abc import Callable
from typing import Any


def measure(batch: Callable[[], int], repetitions: int) -> dict[str, Any]:
    """Run ``batch`` (which returns how many articles it handled) ``repetitions`` times."""
    seconds: list[float] = []
    handled = 0
    for _ in range(repetitions):
        gc.collect()  # start every repetition from the same heap state
        started = time.perf_counter()
        handled = batch()
        seconds.append(time.perf_counter() - started)
    median = statistics.median(seconds)
    return {
        "articles": handled,
        "repetitions": repetitions,
        "seconds": [round(s, 6) for s in seconds],
        "median_seconds": round(median, 6),
        "articles_per_second": round(handled / median, 1) if median else None,
        "us_per_article": round(median / handled * 1e6, 2) if handled else None,
    }


def ratio(ours: dict[str, Any], baseline: dict[str, Any]) -> float | None:
    """How many times faster newsflow is than the baseline (> 1: newsflow is faster)."""
    fast, slow = ours.get("articles_per_second"), baseline.get("articles_per_second")
    return round(fast / slow, 2) if fast and slow else None


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile (no interpolation: every reported value was observed)."""
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]
