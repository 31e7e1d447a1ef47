"""``newsflow_consumer_lag{topic,partition}``: how far behind this worker's consumer is.

Lag is the partition's end offset minus the offset the worker group committed there, for
every partition this worker is assigned (Faust's internal topics excluded: table changelogs
are read for recovery, not consumed). End offsets are asked of the broker each time, not taken from the
fetcher, so a paused stream (the storage agent waiting for its database) still shows its lag
growing. Partitions this worker no longer owns lose their series: with several workers each
partition is reported by its owner only, so ``sum by (topic)`` is the group's lag.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

import faust
from faust.types import TP

from pipeline.metrics import PipelineMetrics

INTERVAL_SECONDS = 10.0
log = logging.getLogger("newsflow.agents.lag")


def register(app: faust.App, metrics: PipelineMetrics) -> None:
    reported: set[TP] = set()

    @app.timer(INTERVAL_SECONDS)  # type: ignore[untyped-decorator]
    async def measure_consumer_lag() -> None:
        consumer = app.consumer
        owned = {tp for tp in consumer.assignment() if _consumed(tp.topic)}
        for gone in reported - owned:
            metrics.consumer_lag.remove(gone.topic, str(gone.partition))
        reported.intersection_update(owned)
        if not owned:
            return
        try:
            ends = await consumer.highwaters(*owned)
            earliest = await consumer.earliest_offsets(*owned)
        except Exception as exc:  # the broker is away: keep the last values, say so once a tick
            log.warning("consumer lag not measured: %s: %s", type(exc).__name__, exc)
            return
        # Faust's own record of what it committed (loaded at assignment, updated per commit);
        # None: the group never committed there, so everything still retained is lag.
        committed: Mapping[TP, int | None] = getattr(consumer, "_committed_offset", {})
        for tp in owned:
            if tp not in ends:
                continue
            start = committed.get(tp)
            if start is None:
                start = earliest.get(tp, 0)
            metrics.consumer_lag.labels(tp.topic, str(tp.partition)).set(max(0, ends[tp] - start))
            reported.add(tp)


def _consumed(topic: str) -> bool:
    """Topics the agents consume, not Faust's internals (table changelogs, the assignor's
    leader topic), which no one commits offsets on."""
    return not topic.endswith("-changelog") and "__assignor" not in topic
