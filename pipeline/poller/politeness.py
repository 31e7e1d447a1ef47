"""Per-host politeness: at most N requests in flight and R request starts per second per host.

One limiter per poller process is enough for "every poller process together": feeds are
assigned to partitions of ``news.feeds`` by host, so all feeds of a host belong to the one
poller process that owns that partition (see pipeline/registry.py).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager


class HostLimiter:
    def __init__(
        self, concurrency: int, rate: float, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self._concurrency = concurrency
        self._spacing = 1.0 / rate
        self._monotonic = monotonic
        self._slots: dict[str, asyncio.Semaphore] = {}
        self._next_start: dict[str, float] = {}

    @asynccontextmanager
    async def slot(self, host: str) -> AsyncIterator[None]:
        semaphore = self._slots.setdefault(host, asyncio.Semaphore(self._concurrency))
        async with semaphore:
            now = self._monotonic()
            start = max(now, self._next_start.get(host, now))
            self._next_start[host] = start + self._spacing
            if start > now:
                await asyncio.sleep(start - now)
            yield
