"""Poller throughput: many feeds on a local server, polled by the real ``PollerService``.

Three processes besides the harness, so that no CPU is shared by accident:
- the **feed server** (``serve_feeds``): a minimal HTTP/1.1 keep-alive server on 127.0.0.1
  serving ``Plan.feeds`` feed URLs with a fixed mix of behaviours (``MIX``);
- the **bare loop** (``bare_loop_child``): aiohttp GETs of the same URLs, round robin, with
  the same concurrency limit, conditional on each URL's last ETag;
- the **poller** (``poller_child``): ``PollerService`` with the real ``Fetcher``, the parser
  pool, a publisher that only counts (no Kafka) and ``MemoryStore``, in two phases:
  - scheduled: every feed on a fixed interval; polls per minute and schedule lag;
  - capacity: intervals far below what can be served, so the poller is always behind; its
    polls per minute are what one process can do, compared with the bare loop's requests.

All feeds are on one host (127.0.0.1), so the per-host limits are raised for this run.
"""

from __future__ import annotations

import array
import asyncio
import contextlib
import cProfile
import email.utils
import io
import itertools
import logging
import math
import multiprocessing
import os
import pstats
import random
import resource
import socket
import statistics
import struct
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import aiohttp

from benchmarks.environment import RESULTS_DIR, header
from benchmarks.timing import percentile

PROFILE_ENV = "NEWSFLOW_BENCH_PROFILE"  # =1: cProfile the poller's measured windows
CHILD_TIMEOUT = 600.0  # seconds a child may take before the run is declared failed
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")

# The feed mix, in twentieths of all feeds (feed i has kind PATTERN[i % 20]).
MIX: tuple[tuple[str, int, str], ...] = (
    ("conditional", 10, "static body; 304 when If-None-Match matches its ETag, else 200"),
    ("changing", 2, "a new item every `interval` seconds (new ETag); 304 when unchanged"),
    ("ignores-validators", 4, "always 200 with the same body, no ETag (the poller's 'unchanged')"),
    ("slow", 2, "answers like 'conditional' after a fixed per-feed delay in slow_delay"),
    ("error-500", 1, "always HTTP 500"),
    ("reset", 1, "reads the request, then resets the connection (TCP RST)"),
)
PATTERN: tuple[str, ...] = tuple(kind for kind, share, _ in MIX for _ in range(share))
assert len(PATTERN) == 20
# The capacity comparison runs twice: on every feed (the slow ones hold connections for
# seconds, so both loops can end up waiting rather than working) and on the feeds that
# answer at once (both loops then run out of CPU first: the overhead comparison).
SUBSETS = {
    "all": frozenset(PATTERN),
    "responsive": frozenset({"conditional", "changing", "ignores-validators"}),
}
LAG_BUCKET = 5  # seconds per row of the schedule-lag timeline
ITEMS_PER_FEED = 5


@dataclass(frozen=True)
class Plan:
    feeds: int = 10_000
    interval: float = 30.0  # scheduled phase: every feed's configured interval (seconds)
    # Two intervals: every feed's first (full) poll happens in the first one, and the backlog
    # that this cold start builds up (see cold_start in the JSON) drains in the second.
    scheduled_warmup: float = 60.0
    scheduled_seconds: float = 60.0
    # Capacity phases: far below what can be served. The service clamps a feed's delay to
    # [interval/4, interval×4] around its publishing rhythm, so this also bounds the delay.
    capacity_interval: float = 0.01
    capacity_warmup: float = 3.0
    capacity_seconds: float = 15.0
    bare_warmup: float = 3.0
    bare_seconds: float = 15.0  # = capacity_seconds: the two are compared
    # aiohttp's default connector (which Fetcher.open uses) opens at most 100 connections, so
    # a larger max_concurrency would not mean more requests in flight.
    max_concurrency: int = 100
    per_host_concurrency: int = 100  # all feeds are on 127.0.0.1: the per-host limits must not bind
    per_host_rate: float = 10_000.0
    parse_workers: int = 2  # the PollerSettings default
    slow_delay: tuple[float, float] = (1.0, 2.0)


QUICK_PLAN = Plan(
    feeds=2_000,
    interval=10.0,
    scheduled_warmup=20.0,
    scheduled_seconds=20.0,
    capacity_warmup=3.0,
    capacity_seconds=10.0,
    bare_warmup=3.0,
    bare_seconds=10.0,
)


def kind_of(index: int) -> str:
    return PATTERN[index % len(PATTERN)]


def feed_url(port: int, index: int) -> str:
    return f"http://127.0.0.1:{port}/feed/{index}.xml"


# -- /proc readings ---------------------------------------------------------------------------
def proc_cpu_seconds(pid: int | str = "self") -> float | None:
    """User + system CPU of a process from /proc (10 ms resolution); None if it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def proc_rss_bytes(pid: int | str = "self") -> int | None:
    try:
        text = Path(f"/proc/{pid}/statm").read_text()
    except OSError:
        return None
    return int(text.split()[1]) * PAGE_SIZE


def descendants(pid: int | str = "self") -> list[int]:
    """Children, grandchildren… (the parser pool's workers are children of its forkserver)."""
    found: list[int] = []
    with contextlib.suppress(OSError):
        for task in os.listdir(f"/proc/{pid}/task"):
            with contextlib.suppress(OSError):
                for child in map(int, Path(f"/proc/{pid}/task/{task}/children").read_text().split()):
                    found += [child, *descendants(child)]
    return found


def self_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


# -- the feed server (its own process) ------------------------------------------------------
class FeedSite:
    """What each feed URL answers; counts every response by kind."""

    def __init__(self, feeds: int, interval: float, slow_delay: tuple[float, float]) -> None:
        self.feeds, self.interval, self.slow_delay = feeds, interval, slow_delay
        self.epoch = math.floor(time.time() / interval)  # static feeds' newest item number
        self.counts: Counter[str] = Counter()
        self._static: dict[int, tuple[bytes, bytes]] = {}

    def offset(self, index: int) -> float:
        """A fixed per-feed phase in [0, 1), so feeds do not change or stall in lockstep."""
        return (index * 7919 % 1000) / 1000

    def delay(self, index: int) -> float:
        low, high = self.slow_delay
        return low + (high - low) * self.offset(index)

    def body(self, index: int, newest: int, shift: float) -> bytes:
        items = []
        for n in range(newest, newest - ITEMS_PER_FEED, -1):
            published = email.utils.formatdate(n * self.interval - shift, usegmt=True)
            items.append(
                f"<item><title>Feed {index}, item {n}</title>"
                f"<link>http://news.example/{index}/{n}</link><guid>feed-{index}-item-{n}</guid>"
                f"<description>Item {n} of feed {index}: a short summary of about the length "
                f"that real feeds carry in their descriptions.</description>"
                f"<pubDate>{published}</pubDate></item>"
            )
        return (
            '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
            f"<title>Feed {index}</title><link>http://news.example/{index}/</link>"
            f"<description>Benchmark feed {index}</description>{''.join(items)}</channel></rss>"
        ).encode()

    def document(self, index: int, kind: str) -> tuple[bytes, bytes]:
        """(body, etag) of a feed now."""
        if kind == "changing":
            shift = self.offset(index) * self.interval
            newest = math.floor((time.time() + shift) / self.interval)
            return self.body(index, newest, shift), f'"{index}-{newest}"'.encode()
        if index not in self._static:
            body = self.body(index, self.epoch - index % 7, 0.0)
            self._static[index] = (body, f'"{index}-static"'.encode())
        return self._static[index]

    def respond(self, path: bytes, if_none_match: bytes | None) -> tuple[bytes | None, float]:
        """(response bytes, or None for a reset; delay in seconds)."""
        index = _feed_index(path)
        if index is None or index >= self.feeds:
            self.counts["404"] += 1
            return b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n", 0.0
        kind = kind_of(index)
        if kind == "reset":
            self.counts["reset"] += 1
            return None, 0.0
        if kind == "error-500":
            self.counts["500"] += 1
            return b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n", 0.0
        delay = self.delay(index) if kind == "slow" else 0.0
        body, etag = self.document(index, kind)
        if kind == "ignores-validators":
            self.counts["200"] += 1
            return _ok(body, None), delay
        if if_none_match == etag:
            self.counts["304"] += 1
            return b"HTTP/1.1 304 Not Modified\r\nETag: " + etag + b"\r\n\r\n", delay
        self.counts["200"] += 1
        return _ok(body, etag), delay


def _ok(body: bytes, etag: bytes | None) -> bytes:
    head = b"HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml; charset=utf-8\r\n"
    if etag:
        head += b"ETag: " + etag + b"\r\n"
    return head + b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body


def _feed_index(path: bytes) -> int | None:
    if not (path.startswith(b"/feed/") and path.endswith(b".xml")):
        return None
    digits = path[6:-4]
    return int(digits) if digits.isdigit() else None


class FeedProtocol(asyncio.Protocol):
    """HTTP/1.1 with keep-alive, GET only, one request at a time per connection (aiohttp's
    client does not pipeline). Deliberately minimal so the server costs little CPU."""

    def __init__(self, site: FeedSite) -> None:
        self.site = site
        self.buffer = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while self.transport is not None and b"\r\n\r\n" in self.buffer:
            head, _, self.buffer = self.buffer.partition(b"\r\n\r\n")
            lines = head.split(b"\r\n")
            parts = lines[0].split(b" ")
            path = parts[1] if len(parts) >= 2 else b""
            validator = None
            for line in lines[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"if-none-match":
                    validator = value.strip()
            response, delay = self.site.respond(path, validator)
            if delay:
                asyncio.get_running_loop().call_later(delay, self._send, response)
            else:
                self._send(response)

    def _send(self, response: bytes | None) -> None:
        transport = self.transport
        if transport is None or transport.is_closing():
            return
        if response is None:  # a real reset: SO_LINGER 0, then close
            sock = transport.get_extra_info("socket")
            if sock is not None:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            transport.abort()
            return
        transport.write(response)


def serve_feeds(conn: Connection, feeds: int, interval: float, slow_delay: tuple[float, float]) -> None:
    """The server process: sends its port, then answers "stats" and "stop" on ``conn``."""
    asyncio.run(_serve(conn, FeedSite(feeds, interval, slow_delay)))


async def _serve(conn: Connection, site: FeedSite) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: FeedProtocol(site), "127.0.0.1", 0, backlog=4096)
    conn.send(server.sockets[0].getsockname()[1])
    stop = asyncio.Event()

    def command() -> None:
        try:
            message = conn.recv()
        except EOFError:
            message = "stop"
        if message == "stop":
            stop.set()
        else:
            conn.send(dict(site.counts))

    loop.add_reader(conn.fileno(), command)
    await stop.wait()
    loop.remove_reader(conn.fileno())
    server.close()


class FeedServerProcess:
    def __init__(self, plan: Plan) -> None:
        context = multiprocessing.get_context("spawn")
        self._conn, child = context.Pipe()
        self.process = context.Process(
            target=serve_feeds,
            args=(child, plan.feeds, plan.interval, plan.slow_delay),
            name="feed-server",
            daemon=True,
        )
        self.process.start()
        child.close()
        if not self._conn.poll(60):
            raise RuntimeError("the feed server did not start")
        self.port: int = self._conn.recv()

    @property
    def pid(self) -> int:
        assert self.process.pid is not None
        return self.process.pid

    def counts(self) -> dict[str, int]:
        self._conn.send("stats")
        return dict(self._conn.recv()) if self._conn.poll(10) else {}

    def stop(self) -> None:
        with contextlib.suppress(OSError):
            self._conn.send("stop")
        self.process.join(10)
        if self.process.is_alive():
            self.process.terminate()
            self.process.join(5)


# -- measuring helpers -----------------------------------------------------------------------
class Window:
    """The measured interval on the monotonic clock, with CPU readings at its edges: this
    process, its descendants (the parser pool's forkserver and workers) and the feed server."""

    def __init__(self, server_pid: int) -> None:
        self.server_pid = server_pid
        self.start = self.end = math.inf
        self.readings: dict[str, tuple[float, float]] = {}

    def _read(self) -> dict[str, float]:
        live = sum(filter(None, (proc_cpu_seconds(pid) for pid in descendants())))
        reaped = resource.getrusage(resource.RUSAGE_CHILDREN)
        return {
            "process": self_cpu_seconds(),
            "children": live + reaped.ru_utime + reaped.ru_stime,
            "server": proc_cpu_seconds(self.server_pid) or 0.0,
        }

    def open(self) -> None:
        self._opened = self._read()
        self.start, self.end = time.monotonic(), math.inf

    def close(self) -> None:
        self.end = time.monotonic()
        closed = self._read()
        self.readings = {key: (self._opened[key], closed[key]) for key in closed}

    def __contains__(self, moment: float) -> bool:
        return self.start <= moment < self.end

    @property
    def seconds(self) -> float:
        return self.end - self.start

    def cpu(self, completed: int) -> dict[str, Any]:
        spent = {key: after - before for key, (before, after) in self.readings.items()}
        per_request = round(spent["process"] / completed * 1e6, 1) if completed else None
        return {
            "process_cpu_seconds": round(spent["process"], 2),
            "process_cores": round(spent["process"] / self.seconds, 2),
            "process_cpu_us_per_request": per_request,
            "child_processes_cpu_seconds": round(spent["children"], 2),
            "feed_server_cpu_seconds": round(spent["server"], 2),
            "feed_server_cores": round(spent["server"] / self.seconds, 2),
        }


class Sampler:
    """Every ``period`` s: RSS of this process and of its descendants (parser workers),
    requests in flight, and how late the event loop woke up (its responsiveness)."""

    def __init__(self, in_flight: Callable[[], int], period: float = 0.1) -> None:
        self.in_flight, self.period = in_flight, period
        self.peak_rss = self.peak_descendants_rss = 0
        self.window: Window | None = None
        self.delays: list[tuple[float, float]] = []  # (seconds into the window, delay in s)
        self.flight = array.array("d")

    async def run(self) -> None:
        while True:
            before = time.monotonic()
            await asyncio.sleep(self.period)
            woke = time.monotonic()
            self.peak_rss = max(self.peak_rss, proc_rss_bytes() or 0)
            others = sum(filter(None, (proc_rss_bytes(pid) for pid in descendants())))
            self.peak_descendants_rss = max(self.peak_descendants_rss, others)
            window = self.window
            if window is not None and woke in window:
                self.delays.append((woke - window.start, woke - before - self.period))
                self.flight.append(self.in_flight())

    def take(self) -> dict[str, Any]:
        delays = [delay * 1000 for _, delay in self.delays]
        result = {
            "event_loop_delay_ms": _quantiles(delays, 1) if delays else None,
            "mean_requests_in_flight": round(statistics.fmean(self.flight), 1) if self.flight else None,
        }
        self.window, self.delays, self.flight = None, [], array.array("d")
        return result


def _quantiles(values: Sequence[float], digits: int) -> dict[str, float]:
    ordered = list(values)
    return {
        "p50": round(percentile(ordered, 0.50), digits),
        "p90": round(percentile(ordered, 0.90), digits),
        "p99": round(percentile(ordered, 0.99), digits),
        "max": round(max(ordered), digits),
    }


def _mb(value: int) -> float:
    return round(value / 2**20, 1)


def _limited_by(row: dict[str, Any], concurrency: int) -> str:
    """What held a saturated loop back: one core of CPU, or every connection busy."""
    if row["process_cores"] >= 0.75:
        return f"cpu ({row['process_cores']:.2f} of the one core an event loop can use)"
    if (row["mean_requests_in_flight"] or 0) >= 0.9 * concurrency:
        return f"connections (all {concurrency} busy: the slow feeds hold them)"
    return "neither (see event_loop_delay_ms)"


def run_child(target: Callable[..., None], args: tuple[Any, ...], name: str) -> dict[str, Any]:
    """Run ``target(conn, *args)`` in a fresh (spawned) process and return what it sends.
    Not a daemon: the poller's parser pool starts processes of its own."""
    context = multiprocessing.get_context("spawn")
    conn, child = context.Pipe()
    process = context.Process(target=target, args=(child, *args), name=name, daemon=False)
    process.start()
    child.close()
    try:
        if not conn.poll(CHILD_TIMEOUT):
            return {"error": f"{name}: no result within {CHILD_TIMEOUT:.0f} s"}
        return dict(conn.recv())
    except EOFError:
        process.join(5)
        return {"error": f"{name}: the process died (exit code {process.exitcode})"}
    finally:
        process.join(30)
        if process.is_alive():
            process.terminate()
            process.join(5)


# -- baseline: the bare aiohttp loop (its own process) ---------------------------------------
def bare_loop_child(conn: Connection, plan: Plan, port: int, server_pid: int) -> None:
    try:
        result = asyncio.run(bare_loops(plan, port, server_pid))
    except Exception as exc:  # reported, not raised: the parent writes it into the JSON
        result = {"error": f"bare loop: {type(exc).__name__}: {exc}"}
    conn.send(result)


async def bare_loops(plan: Plan, port: int, server_pid: int) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for subset, kinds in SUBSETS.items():
        urls = [feed_url(port, index) for index in range(plan.feeds) if kind_of(index) in kinds]
        result[subset] = await bare_loop(plan, urls, server_pid)
    result["peak_rss_mb"] = max(row["peak_rss_mb"] for row in result.values())
    result["ru_maxrss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    return result


async def bare_loop(plan: Plan, urls: Sequence[str], server_pid: int) -> dict[str, Any]:
    """``max_concurrency`` workers GET ``urls`` round robin for warm-up + window seconds on
    one session, each request conditional on that URL's last ETag, the body read in full."""
    etags: dict[str, str] = {}
    window = Window(server_pid)
    outcomes: Counter[str] = Counter()
    in_flight = 0
    turn = itertools.count()

    async def worker(session: aiohttp.ClientSession, stop_at: float) -> None:
        nonlocal in_flight
        while time.monotonic() < stop_at:
            url = urls[next(turn) % len(urls)]
            headers = {"If-None-Match": etags[url]} if url in etags else {}
            in_flight += 1
            try:
                async with session.get(url, headers=headers) as response:
                    await response.read()
                    if "ETag" in response.headers:
                        etags[url] = response.headers["ETag"]
                    outcome = str(response.status)
            except (aiohttp.ClientError, TimeoutError) as exc:
                outcome = type(exc).__name__
            finally:
                in_flight -= 1
            if time.monotonic() in window:
                outcomes[outcome] += 1

    sampler = Sampler(lambda: in_flight)
    sampling = asyncio.create_task(sampler.run())
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=20.0)) as session:
        stop_at = time.monotonic() + plan.bare_warmup + plan.bare_seconds
        workers = [asyncio.create_task(worker(session, stop_at)) for _ in range(plan.max_concurrency)]
        await asyncio.sleep(plan.bare_warmup)
        window.open()
        sampler.window = window
        await asyncio.sleep(plan.bare_seconds)
        window.close()
        await asyncio.gather(*workers)
    sampling.cancel()
    completed = sum(outcomes.values())
    row = {
        "urls": len(urls),
        "requests": completed,
        "seconds": round(window.seconds, 2),
        "requests_per_minute": round(completed / window.seconds * 60),
        "outcomes": dict(sorted(outcomes.items())),
        **window.cpu(completed),
        **sampler.take(),
        "peak_rss_mb": _mb(sampler.peak_rss),
    }
    row["limited_by"] = _limited_by(row, plan.max_concurrency)
    return row


# -- the poller under test (its own process) -------------------------------------------------
def poller_child(conn: Connection, plan: Plan, port: int, server_pid: int, profile: bool) -> None:
    try:
        result = asyncio.run(poller_phases(plan, port, server_pid, profile))
    except Exception as exc:  # reported, not raised: the parent writes it into the JSON
        logging.getLogger(__name__).exception("poller benchmark failed")
        result = {"error": f"poller: {type(exc).__name__}: {exc}"}
    conn.send(result)


class CountingPublisher:
    """Stands in for Kafka: counts, publishes nothing (the broker's cost is in bench_e2e)."""

    def __init__(self) -> None:
        self.calls = self.articles = 0

    async def publish(self, articles: Sequence[Any]) -> None:
        self.calls += 1
        self.articles += len(articles)


class CountingHandler(logging.Handler):
    """The CLI's log format, written to /dev/null: formatting costs what it costs in
    production, without flooding the terminal with one warning per failed poll."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.records = 0
        self.stream = open(os.devnull, "w")  # noqa: SIM115 - closed in close()
        self.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.records += 1
        self.stream.write(self.format(record) + "\n")

    def close(self) -> None:
        self.stream.close()
        super().close()


class Probe:
    """Filled by ``MeasuredService.poll``: polls completed in the window, polls in flight,
    and, when ``measure_lags`` is on, every poll's schedule lag from the phase's start on
    (start time, lag and feed index in three parallel arrays)."""

    def __init__(self) -> None:
        self.in_flight = 0
        self.reset(False)

    def reset(self, lags: bool) -> None:
        self.window: Window | None = None
        self.measure_lags = lags
        self.phase_start = time.monotonic()
        self.starts = array.array("d")  # seconds since the phase started (before add())
        self.lags = array.array("d")
        self.feeds = array.array("l")
        self.unscheduled = self.completed = 0


def measured_service_class() -> type[Any]:
    """``PollerService`` with ``poll`` wrapped: lag = poll start (after the concurrency and
    per-host slots were acquired) − the ``next_poll`` the service had scheduled. Built
    lazily so the server and bare-loop processes never import the service."""
    from pipeline.poller.service import PollerService

    class MeasuredService(PollerService):
        probe: Probe

        async def poll(self, state: Any) -> None:
            probe = self.probe
            started = time.monotonic()
            if probe.measure_lags:
                if state.next_poll is None:
                    probe.unscheduled += 1
                else:
                    probe.starts.append(started - probe.phase_start)
                    probe.lags.append((datetime.now(UTC) - state.next_poll).total_seconds())
                    probe.feeds.append(int(state.feed.id[6:]))
            probe.in_flight += 1
            try:
                await super().poll(state)
            finally:
                probe.in_flight -= 1
                window = probe.window  # polls that started in the warm-up count if they end inside
                if window is not None and time.monotonic() in window:
                    probe.completed += 1

    return MeasuredService


def open_parser(settings: Any) -> tuple[Any, str]:
    """The production parser pool if this checkout has it, else the thread parser."""
    try:
        from pipeline.poller.sandbox import ParserPool
    except ImportError:
        from pipeline.poller.service import ThreadParser

        return ThreadParser(), "ThreadParser (pipeline.poller.sandbox.ParserPool not found)"
    memory = settings.parse_memory_mb * 1024 * 1024
    pool = ParserPool(settings.parse_workers, settings.parse_timeout, memory)
    return pool, f"pipeline.poller.sandbox.ParserPool({settings.parse_workers} worker processes)"


async def poller_phases(plan: Plan, port: int, server_pid: int, profile: bool) -> dict[str, Any]:
    from prometheus_client import CollectorRegistry

    from pipeline.clock import SystemClock
    from pipeline.config import FeedSettings, PollerSettings
    from pipeline.metrics import PipelineMetrics
    from pipeline.poller.fetcher import Fetcher
    from pipeline.poller.parser import ParsedFeed
    from pipeline.poller.service import MemoryStore
    from pipeline.poller.state import FeedState

    needed = ("ttl_seconds", "skip_hours", "skip_days")
    missing = [name for name in needed if name not in ParsedFeed.__dataclass_fields__]
    if missing:
        return {"error": f"ParsedFeed has no {', '.join(missing)} (the service reads them after every parse)"}

    handler = CountingHandler()
    newsflow_log = logging.getLogger("newsflow")
    newsflow_log.addHandler(handler)
    newsflow_log.setLevel(logging.INFO)
    newsflow_log.propagate = False

    def settings(min_interval: float) -> PollerSettings:
        return PollerSettings(
            min_interval=min_interval,
            max_concurrency=plan.max_concurrency,
            per_host_concurrency=plan.per_host_concurrency,
            per_host_rate=plan.per_host_rate,
            parse_workers=plan.parse_workers,
        )

    def feeds(interval: float, kinds: frozenset[str]) -> list[FeedSettings]:
        return [
            FeedSettings(id=f"bench-{index:05d}", url=feed_url(port, index), interval=interval)
            for index in range(plan.feeds)
            if kind_of(index) in kinds
        ]

    clock = SystemClock()
    scheduled_settings = settings(min(plan.interval, 10.0))
    fetcher = Fetcher.open(scheduled_settings, clock)
    parser, parser_note = open_parser(scheduled_settings)
    profiler = cProfile.Profile() if profile else None
    probe = Probe()
    sampler = Sampler(lambda: probe.in_flight)
    sampling = asyncio.create_task(sampler.run())
    service_class = measured_service_class()
    result: dict[str, Any] = {"parser": parser_note}

    async def phase(
        store: MemoryStore,
        policy: PollerSettings,
        owned: Sequence[tuple[FeedSettings, dict[str, Any] | None]],
        durations: tuple[float, float],
        scheduled: bool,
    ) -> dict[str, Any]:
        registry, publisher = CollectorRegistry(), CountingPublisher()
        service = service_class(
            fetcher, parser, publisher, store, PipelineMetrics.create(registry), policy, clock
        )
        probe.reset(lags=scheduled)
        service.probe = probe
        window = Window(server_pid)
        row = await run_phase(
            service, registry, publisher, owned, (probe, sampler, profiler), durations, window
        )
        if scheduled:
            row.update(lag_report(probe, window))
        else:  # saturated: say what held it back
            row["limited_by"] = _limited_by(row, plan.max_concurrency)
        return row

    try:
        # Scheduled: states restored with their first poll spread evenly over one interval, as
        # after a restart (not every feed due in the same instant).
        start, rng, store = clock.now(), random.Random(1), MemoryStore()
        restored = []
        for feed in feeds(plan.interval, SUBSETS["all"]):
            first = start + timedelta(seconds=rng.uniform(0, plan.interval))
            restored.append((feed, FeedState(feed, feed.url, next_poll=first).to_record()))
        result["scheduled"] = await phase(
            store, scheduled_settings, restored, (plan.scheduled_warmup, plan.scheduled_seconds), True
        )
        # What the schedule asks for: every feed that answers, once per interval (the failing
        # ones back off exponentially and add a little on top).
        answering = sum(1 for index in range(plan.feeds) if kind_of(index) not in ("error-500", "reset"))
        result["scheduled"]["demand_per_minute_estimate"] = round(answering * 60 / plan.interval)
        # Capacity: the states the feeds reached (validators, body hashes, backoff), every
        # feed due now and again every `capacity_interval`: the poller is always behind.
        carried = {feed_id: {**record, "next_poll": None} for feed_id, record in store.records.items()}
        for subset, kinds in SUBSETS.items():
            owned = [(feed, carried.get(feed.id)) for feed in feeds(plan.capacity_interval, kinds)]
            durations = (plan.capacity_warmup, plan.capacity_seconds)
            capacity_settings = settings(plan.capacity_interval)
            result[f"capacity_{subset}"] = await phase(
                MemoryStore(), capacity_settings, owned, durations, False
            )
    finally:
        sampling.cancel()
        close = getattr(parser, "close", None)
        if close is not None:
            await close()
        await fetcher.close()
        newsflow_log.removeHandler(handler)
        handler.close()
    result["warnings_logged"] = handler.records
    result["peak_rss_mb"] = _mb(sampler.peak_rss)
    result["peak_parser_processes_rss_mb"] = _mb(sampler.peak_descendants_rss)
    result["ru_maxrss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    if profiler is not None:
        result["profile"] = write_profile(profiler)
    return result


async def run_phase(
    service: Any,
    registry: Any,
    publisher: CountingPublisher,
    feeds: Sequence[tuple[Any, dict[str, Any] | None]],
    tools: tuple[Probe, Sampler, cProfile.Profile | None],
    durations: tuple[float, float],
    window: Window,
) -> dict[str, Any]:
    """Add every feed, let the service run warm-up + window seconds, then stop it."""
    probe, sampler, profiler = tools
    warmup, seconds = durations
    added = probe.phase_start = time.monotonic()
    for feed, record in feeds:
        service.add(feed, record)
    add_seconds = time.monotonic() - added
    await asyncio.sleep(warmup)
    before, published_before = _fetch_outcomes(registry), publisher.articles
    if profiler is not None:
        profiler.enable()
    window.open()
    probe.window = sampler.window = window
    await asyncio.sleep(seconds)
    window.close()
    if profiler is not None:
        profiler.disable()
    after, published = _fetch_outcomes(registry), publisher.articles - published_before
    completed = probe.completed
    row = {
        "feeds": len(feeds),
        "polls": completed,
        "seconds": round(window.seconds, 2),
        "polls_per_minute": round(completed / window.seconds * 60),
        "outcomes": {k: round(after.get(k, 0) - before.get(k, 0)) for k in sorted({*before, *after})},
        "articles_published": published,
        **window.cpu(completed),
        **sampler.take(),
        "add_all_feeds_seconds": round(add_seconds, 2),
    }
    stopping = time.monotonic()
    if probe.measure_lags:  # once: the production shutdown path, which removes feeds one by one
        ignored = await stop_service(service.close())
        row["close_seconds"] = round(time.monotonic() - stopping, 2)
    else:  # every feed removed at once: close() on a saturated service takes minutes
        ignored = await stop_service(
            asyncio.gather(*(service.remove(feed_id) for feed_id in list(service.states)))
        )
        row["teardown_seconds"] = round(time.monotonic() - stopping, 2)
    row["feed_tasks_that_ignored_cancel"] = ignored
    return row


async def stop_service(stopping: Awaitable[Any], grace: float = 5.0) -> list[str]:
    """Await the service's shutdown. A feed task that is still running a second after it
    was cancelled has lost its cancellation (Python 3.11's ``asyncio.wait_for`` drops one
    when the awaited future completes in the same loop iteration, as in ParserPool._wait):
    ``remove()`` would wait for it forever, so it is cancelled again, and named."""
    future = asyncio.ensure_future(stopping)
    ignored: list[str] = []
    while not future.done():
        await asyncio.wait({future}, timeout=grace)
        if future.done():
            break
        suspects = {task for task in _feed_tasks() if task.cancelling()}
        await asyncio.sleep(1.0)
        for task in suspects:
            if not task.done():
                ignored.append(task.get_name())
                task.cancel()
    future.result()
    return ignored


def _feed_tasks() -> list[asyncio.Task[Any]]:
    return [task for task in asyncio.all_tasks() if task.get_name().startswith("feed:") and not task.done()]


def lag_report(probe: Probe, window: Window) -> dict[str, Any]:
    """Lag in the window (overall and by feed kind), during the warm-up (the cold start:
    every feed's first, full poll), and over time from the phase's start."""
    opened, closed = window.start - probe.phase_start, window.end - probe.phase_start
    polls = list(zip(probe.starts, probe.lags, probe.feeds, strict=True))
    measured = [lag for started, lag, _ in polls if opened <= started < closed]
    cold = [lag for started, lag, _ in polls if started < opened]
    by_kind: dict[str, list[float]] = {kind: [] for kind, _, _ in MIX}
    buckets: dict[int, list[float]] = {}
    for started, lag, feed in polls:
        if opened <= started < closed:
            by_kind[kind_of(feed)].append(lag)
        if started < closed:
            buckets.setdefault(int(started // LAG_BUCKET), []).append(lag)
    timeline = [
        {"from_s": index * LAG_BUCKET, "polls": len(values), **_quantiles(values, 3)}
        for index, values in sorted(buckets.items())
    ]
    late = [row["from_s"] for row in timeline if row["max"] >= 1.0]
    return {
        "schedule_lag_s": (
            {"polls": len(measured), **_quantiles(measured, 3), "mean": round(statistics.fmean(measured), 3)}
            if measured
            else None
        ),
        "schedule_lag_by_kind_s": {
            kind: {"polls": len(values), **_quantiles(values, 3)}
            for kind, values in by_kind.items()
            if values
        },
        "cold_start": {
            "note": "the warm-up: every feed's first poll is a full fetch, parse and publish",
            "polls": len(cold),
            "lag_s": _quantiles(cold, 3) if cold else None,
            # the end of the last timeline bucket holding a poll ≥ 1 s late (s since add())
            "late_polls_until_s": late[-1] + LAG_BUCKET if late else None,
        },
        "unscheduled_polls": probe.unscheduled,
        "schedule_lag_timeline": timeline,
        "window_from_s": round(opened, 1),
    }


def _fetch_outcomes(registry: Any) -> dict[str, float]:
    found: dict[str, float] = {}
    for family in registry.collect():
        if family.name == "newsflow_feed_fetches":
            for sample in family.samples:
                if sample.name.endswith("_total"):
                    found[sample.labels["outcome"]] = sample.value
    return found


def write_profile(profiler: cProfile.Profile) -> dict[str, str]:
    """The measured windows' profile: binary stats and a text summary next to the JSON."""
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    binary, text = RESULTS_DIR / "poller-profile.pstats", RESULTS_DIR / "poller-profile.txt"
    profiler.dump_stats(binary)
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    out.write("== by own time (tottime) ==\n")
    stats.sort_stats("tottime").print_stats(50)
    out.write("\n== by cumulative time ==\n")
    stats.sort_stats("cumulative").print_stats(60)
    text.write_text(out.getvalue(), encoding="utf-8")
    return {"pstats": str(binary), "text": str(text)}


# -- the run ----------------------------------------------------------------------------------
def describe_setup(plan: Plan) -> dict[str, Any]:
    counts = Counter(kind_of(index) for index in range(plan.feeds))
    return {
        **asdict(plan),
        "server": "minimal asyncio HTTP/1.1 keep-alive server in its own process on 127.0.0.1 (one host)",
        "mix": {
            kind: {"share": share / 20, "feeds": counts[kind], "does": does} for kind, share, does in MIX
        },
        "items_per_feed": ITEMS_PER_FEED,
        "subsets": {name: sorted(kinds) for name, kinds in SUBSETS.items()},
        "per_host_limits_note": (
            "every feed is on 127.0.0.1 (one host), so per_host_concurrency and per_host_rate are "
            "raised far above the production defaults (2 and 2/s) for this run; max_concurrency "
            "is 100, the size of aiohttp's default connector that Fetcher.open uses"
        ),
        "poller": {
            "service": "pipeline.poller.service.PollerService, unchanged; poll() wrapped to measure",
            "fetcher": "pipeline.poller.fetcher.Fetcher.open (aiohttp, default connector: 100 connections)",
            "parser": None,  # filled in by the poller process
            "publisher": "counts only: no Kafka (the broker's cost is measured in bench_e2e)",
            "store": "pipeline.poller.service.MemoryStore (to_record() per poll, no Kafka send)",
            "metrics": "real prometheus_client metrics on a private registry",
            "logging": "the CLI's format at INFO, written to /dev/null",
            "scheduled_phase": (
                f"every feed at interval {plan.interval:g} s (min_interval {min(plan.interval, 10.0):g} s); "
                "first polls spread evenly over one interval (restored states); "
                f"{plan.scheduled_warmup:g} s warm-up, then a {plan.scheduled_seconds:g} s window"
            ),
            "capacity_phases": (
                f"interval and min_interval {plan.capacity_interval:g} s: every feed always due, states "
                f"carried over from the scheduled phase; per subset {plan.capacity_warmup:g} s warm-up, "
                f"then a {plan.capacity_seconds:g} s window"
            ),
        },
        "bare_loop": (
            f"{plan.max_concurrency} aiohttp workers on one ClientSession (default connector), the "
            "subset's URLs round robin, If-None-Match with each URL's last ETag, body read in full; "
            f"per subset {plan.bare_warmup:g} s warm-up, then a {plan.bare_seconds:g} s window"
        ),
    }


def run(plan: Plan) -> dict[str, Any]:
    profile = os.environ.get(PROFILE_ENV) == "1"
    result: dict[str, Any] = {**header("poller"), "profiled": profile, "setup": describe_setup(plan)}
    started = time.monotonic()
    server = FeedServerProcess(plan)
    try:
        print(f"  feed server on 127.0.0.1:{server.port}, {plan.feeds:,} feeds; bare loop…", flush=True)
        bare = run_child(bare_loop_child, (plan, server.port, server.pid), "bare-loop")
        print("  poller: scheduled, then capacity…", flush=True)
        poller = run_child(poller_child, (plan, server.port, server.pid, profile), "poller")
        result["server_responses"] = server.counts()
    finally:
        server.stop()
    result["setup"]["poller"]["parser"] = poller.pop("parser", None)
    result["bare_loop"], result["poller"] = bare, poller
    result["run_seconds"] = round(time.monotonic() - started, 1)
    errors = [part["error"] for part in (bare, poller) if "error" in part]
    if errors:
        result["status"] = "failed: " + "; ".join(errors)
        return result
    result["ratios"] = {
        subset: {
            "polls_per_minute_to_requests_per_minute": _ratio(
                poller[f"capacity_{subset}"]["polls_per_minute"], bare[subset]["requests_per_minute"]
            ),
            "bare_cpu_to_poller_cpu_per_request": _ratio(
                bare[subset]["process_cpu_us_per_request"],
                poller[f"capacity_{subset}"]["process_cpu_us_per_request"],
            ),
        }
        for subset in SUBSETS
    }
    result["targets"] = targets(poller, result["ratios"])
    result["status"] = "ok"
    return result


def _ratio(ours: float | None, theirs: float | None) -> float | None:
    return round(ours / theirs, 3) if ours and theirs else None


def targets(poller: dict[str, Any], ratios: dict[str, Any]) -> dict[str, Any]:
    scheduled = poller["scheduled"]
    lag = (scheduled["schedule_lag_s"] or {}).get("p99")
    found: dict[str, Any] = {
        "polls_per_minute": {
            "target": ">= 10000, scheduled phase",
            "value": scheduled["polls_per_minute"],
            "met": scheduled["polls_per_minute"] >= 10_000,
        },
        "schedule_lag_p99_s": {
            "target": "< 2, scheduled phase",
            "value": lag,
            "met": lag is not None and lag < 2.0,
        },
    }
    for subset in SUBSETS:
        ratio = ratios[subset]["polls_per_minute_to_requests_per_minute"]
        found[f"ratio_to_bare_loop_{subset}"] = {
            "target": f">= 0.5, capacity polls/min ÷ bare-loop requests/min, {subset} feeds",
            "value": ratio,
            "met": ratio is not None and ratio >= 0.5,
        }
    return found


def print_summary(result: dict[str, Any]) -> None:
    setup = result["setup"]
    print(f"\nPoller, {setup['feeds']:,} feeds on a local server — {result['status']}")
    print(f"  parser: {setup['poller']['parser']}; publisher counts only (no Kafka)")
    bare, poller = result.get("bare_loop", {}), result.get("poller", {})
    rows = [("poller scheduled", poller.get("scheduled"), "polls")]
    for subset in SUBSETS:
        rows.append((f"bare loop, {subset}", bare.get(subset), "requests"))
        rows.append((f"poller capacity, {subset}", poller.get(f"capacity_{subset}"), "polls"))
    for name, row, unit in rows:
        if not row:
            continue
        rate = row.get("polls_per_minute") or row.get("requests_per_minute")
        line = (
            f"  {name:<28} {rate:>8,} {unit}/min, {row['process_cores']:.2f} cores, "
            f"{row['process_cpu_us_per_request']:,.0f} µs CPU per {unit[:-1]}"
        )
        lag = row.get("schedule_lag_s")
        if lag:
            line += f"; lag p50 {lag['p50']:.3f} s, p99 {lag['p99']:.3f} s"
        print(line)
    scheduled = poller.get("scheduled") or {}
    if scheduled.get("cold_start"):
        cold = scheduled["cold_start"]
        cold_p99 = (cold["lag_s"] or {}).get("p99")
        print(
            f"  cold start (the warm-up): {cold['polls']:,} polls, lag p99 {cold_p99} s; "
            f"polls ≥ 1 s late until {cold['late_polls_until_s']} s after add() "
            f"(window from {scheduled['window_from_s']} s)"
        )
    if "add_all_feeds_seconds" in scheduled:
        print(
            f"  add() of every feed: {scheduled['add_all_feeds_seconds']} s; close(): "
            f"{scheduled['close_seconds']} s"
        )
    ignored = [
        name
        for row in poller.values()
        if isinstance(row, dict)
        for name in row.get("feed_tasks_that_ignored_cancel", [])
    ]
    if ignored:
        print(
            f"  feed tasks that ignored cancel() and were cancelled again: {len(ignored)} "
            f"({', '.join(ignored[:5])})"
        )
    if "peak_rss_mb" in poller:
        print(
            f"  peak RSS: poller {poller['peak_rss_mb']} MB (ru_maxrss {poller['ru_maxrss_mb']} MB), "
            f"parser processes {poller['peak_parser_processes_rss_mb']} MB"
        )
    for name, target in result.get("targets", {}).items():
        verdict = "met" if target["met"] else "NOT MET"
        print(f"  {verdict:<7} {name} = {target['value']} (target {target['target']})")
