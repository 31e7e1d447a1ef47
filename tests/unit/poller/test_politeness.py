import asyncio
import time

from pipeline.poller.politeness import HostLimiter


async def starts_and_peak(
    limiter: HostLimiter, hosts: list[str], hold: float
) -> tuple[dict[str, list[float]], int]:
    starts: dict[str, list[float]] = {}
    active = peak = 0

    async def request(host: str) -> None:
        nonlocal active, peak
        async with limiter.slot(host):
            starts.setdefault(host, []).append(time.monotonic())
            active += 1
            peak = max(peak, active)
            await asyncio.sleep(hold)
            active -= 1

    await asyncio.gather(*(request(host) for host in hosts))
    return starts, peak


def test_concurrency_per_host() -> None:
    _, peak = asyncio.run(starts_and_peak(HostLimiter(2, 1000.0), ["a"] * 6, 0.05))
    assert peak == 2


def test_rate_per_host_spaces_request_starts() -> None:
    starts, _ = asyncio.run(starts_and_peak(HostLimiter(10, 20.0), ["a"] * 5, 0.0))
    gaps = [b - a for a, b in zip(starts["a"], starts["a"][1:], strict=False)]
    assert min(gaps) >= 0.045  # 20 per second


def test_hosts_do_not_wait_for_each_other() -> None:
    began = time.monotonic()
    starts, _ = asyncio.run(starts_and_peak(HostLimiter(1, 2.0), ["a", "b", "c", "d"], 0.0))
    assert all(times[0] - began < 0.1 for times in starts.values())
