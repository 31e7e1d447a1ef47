"""Readiness: can this process do its work right now? (``/readyz``; ``/healthz`` is liveness).

A process is ready when every named check passes: the broker answers (every process) and the
database answers (a worker with storage). Checks are injected by the process edge, so this
module knows no Kafka or database client. Results are cached for ``ttl`` seconds and shared by
concurrent probes, so a load balancer probing every second costs one check per ``ttl``, and a
broker that hangs costs one ``timeout`` rather than a pile of waiting probes. Each evaluation
also sets ``newsflow_ready{check}`` (1/0) so Prometheus sees what the probes see.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from prometheus_client import Gauge

# A check returns when the dependency works and raises (anything) when it does not.
Check = Callable[[], Awaitable[None]]
OK = "ok"


@dataclass(frozen=True)
class Report:
    ready: bool
    checks: dict[str, str]  # name → "ok" or why not

    @property
    def status(self) -> int:
        return 200 if self.ready else 503

    def to_json(self) -> dict[str, Any]:
        return {"status": "ready" if self.ready else "not ready", "checks": self.checks}


class Readiness:
    def __init__(
        self,
        checks: Mapping[str, Check],
        gauge: Gauge | None = None,
        *,
        timeout: float = 5.0,
        ttl: float = 5.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._checks = dict(checks)
        self._gauge = gauge
        self._timeout, self._ttl, self._monotonic = timeout, ttl, monotonic
        self._last: tuple[float, Report] | None = None
        self._lock = asyncio.Lock()

    async def report(self) -> Report:
        """The latest result, at most ``ttl`` seconds old."""
        async with self._lock:  # concurrent probes wait for one evaluation
            if self._last is not None and self._monotonic() - self._last[0] < self._ttl:
                return self._last[1]
            results = await asyncio.gather(*(self._run(check) for check in self._checks.values()))
            report = Report(all(r == OK for r in results), dict(zip(self._checks, results, strict=True)))
            self._last = (self._monotonic(), report)
            if self._gauge is not None:
                for name, result in report.checks.items():
                    self._gauge.labels(name).set(1 if result == OK else 0)
            return report

    async def _run(self, check: Check) -> str:
        try:
            await asyncio.wait_for(check(), self._timeout)
        except TimeoutError:
            return f"no answer within {self._timeout:g}s"
        except Exception as exc:  # any failure means "not ready"; the reason goes to the probe
            return f"{type(exc).__name__}: {exc}"[:300]
        return OK


async def refresh_forever(readiness: Readiness, every: float) -> None:
    """Keep ``newsflow_ready`` current when nobody probes (run as a task; cancel to stop)."""
    while True:
        await readiness.report()
        await asyncio.sleep(every)


def liveness(**details: Any) -> dict[str, Any]:
    """The ``/healthz`` body: the process runs and its event loop answers."""
    return {"status": "ok", **details}
