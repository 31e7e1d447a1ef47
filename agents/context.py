"""What every agent receives: topics, dead-letter handling, metrics and the clock."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import faust

from agents.dead_letters import DeadLetters
from agents.topics import Topics
from pipeline.clock import Clock, parse_rfc3339
from pipeline.metrics import PipelineMetrics


@dataclass(frozen=True)
class StageContext:
    topics: Topics
    dead_letters: DeadLetters
    metrics: PipelineMetrics
    clock: Clock

    @contextmanager
    def timed(self, stage: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.metrics.stage_seconds.labels(stage).observe(time.perf_counter() - started)

    def seconds_since(self, stamp: str) -> float:
        """Seconds from an article's RFC 3339 time (``fetched_at``) to now; 0 if it is ahead
        (clocks of different hosts)."""
        return max(0.0, (self.clock.now() - parse_rfc3339(stamp)).total_seconds())


async def send_confirmed(topic: faust.TopicT, key: bytes | None, value: bytes) -> None:
    """Send and wait for the broker's acknowledgement, not just the local buffer: Faust only
    logs a failed send nobody awaits, and would then commit past the source message."""
    pending = await topic.send(key=key, value=value)
    await pending
