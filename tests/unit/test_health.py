"""Readiness (pipeline/health.py): every check must pass, results are cached and shared, a
hanging check is cut at its timeout, and newsflow_ready follows each evaluation."""

from __future__ import annotations

import asyncio

from prometheus_client import CollectorRegistry

from pipeline.health import Readiness, liveness
from pipeline.metrics import PipelineMetrics


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def gauge_values(registry: CollectorRegistry) -> dict[str, float | None]:
    return {
        check: registry.get_sample_value("newsflow_ready", {"check": check})
        for check in ("broker", "database")
    }


async def test_ready_only_when_every_check_passes() -> None:
    registry = CollectorRegistry()
    metrics = PipelineMetrics.create(registry)
    database_up = False

    async def broker() -> None:
        return None

    async def database() -> None:
        if not database_up:
            raise ConnectionRefusedError("connection refused")

    clock = Clock()
    readiness = Readiness({"broker": broker, "database": database}, metrics.ready, monotonic=clock)
    report = await readiness.report()
    assert (report.ready, report.status) == (False, 503)
    assert report.to_json() == {
        "status": "not ready",
        "checks": {"broker": "ok", "database": "ConnectionRefusedError: connection refused"},
    }
    assert gauge_values(registry) == {"broker": 1.0, "database": 0.0}

    database_up = True
    assert not (await readiness.report()).ready  # cached for ttl seconds
    clock.now += 5.0
    report = await readiness.report()
    assert (report.ready, report.status, report.to_json()["status"]) == (True, 200, "ready")
    assert gauge_values(registry) == {"broker": 1.0, "database": 1.0}


async def test_a_hanging_check_is_cut_and_concurrent_probes_share_one_evaluation() -> None:
    calls = 0

    async def hangs() -> None:
        nonlocal calls
        calls += 1
        await asyncio.sleep(60)

    readiness = Readiness({"broker": hangs}, timeout=0.05)
    reports = await asyncio.gather(*(readiness.report() for _ in range(5)))
    assert calls == 1
    assert {report.checks["broker"] for report in reports} == {"no answer within 0.05s"}
    assert not any(report.ready for report in reports)


async def test_no_checks_is_ready() -> None:
    assert (await Readiness({}).report()).ready


def test_liveness_body() -> None:
    assert liveness(role="poller", feeds=3) == {"status": "ok", "role": "poller", "feeds": 3}
