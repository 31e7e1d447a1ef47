"""``parse_feed`` (and article-page extraction) in worker processes under a memory limit
and a wall-clock deadline.

Feeds and pages are hostile input (DESIGN §6). ``parse_feed`` rejects the known amplification tricks
before parsing; this pool is the second line, for whatever is not known yet:

- **Memory:** each worker sets ``RLIMIT_AS`` (address space, default 512 MiB) once it has
  imported the parser, so one parse cannot take the poller's memory. Running out raises
  ``MemoryError`` inside the worker, which answers ``parse-memory`` and exits (a process
  that hit its limit is not reused). Linux enforces RLIMIT_AS; macOS does not.
- **Time:** a parse that has not answered within ``timeout`` seconds (default 10) is
  ``parse-timeout``; its worker is killed (SIGKILL), never left running.
- **Crashes:** a worker that dies (segfault, OOM killer) is ``parse-crashed``.

Each failure is a ``ParseError`` (dead-letter/skip, never retry) and the pool replaces the
worker, so the next parse runs on a fresh process. Workers are started from a clean
``forkserver`` (``spawn`` where that is missing), never forked from the poller, whose
threads (aiokafka, the event loop's executors) would be copied in an unknown state.

The event loop never blocks: starting, feeding, waiting for and reaping workers all happen
in the pool's own threads, and a stuck worker is waited for with ``asyncio`` timeouts.
A worker starts with a fresh interpreter, so the program's main module must be safe to
import (the usual ``if __name__ == "__main__":`` idiom); a worker that cannot start raises
``RuntimeError``: that is a deployment problem, not a bad feed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import resource
import signal
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.context import ForkServerContext, SpawnContext
from multiprocessing.process import BaseProcess
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final

from pipeline.errors import ParseError
from pipeline.poller.parser import ParsedFeed, parse_feed

if TYPE_CHECKING:
    from pipeline.fulltext.extract import ExtractedPage

log = logging.getLogger("newsflow.poller.sandbox")

DEFAULT_MEMORY_BYTES: Final = 512 * 1024 * 1024
DEFAULT_TIMEOUT: Final = 10.0
_JOIN_SECONDS: Final = 5.0
_START_SECONDS: Final = 60.0

# A job is ("feed", body, headers, url, feed_id, fetched_at) or ("page", body, headers, url);
# a reply is one of ("ok", ParsedFeed | ExtractedPage) | ("error", reason, detail)
#   | ("memory", detail) | ("bug", detail)
# Replies are plain tuples: ParseError does not survive pickling with its reason intact.
Reply = tuple[Any, ...]
_REUSABLE: Final = frozenset({"ok", "error", "bug"})  # replies after which a worker is still sound


def _context() -> ForkServerContext | SpawnContext:
    if "forkserver" in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("forkserver")
    return multiprocessing.get_context("spawn")


# ---- the worker process -------------------------------------------------------------------------


def _worker_main(conn: Connection, memory_bytes: int) -> None:
    """Serve parse jobs until the pool closes the pipe (or sends ``None``)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    _limit_address_space(memory_bytes)
    conn.send(("ready",))  # imports done: the pool's timeout covers parsing only
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return
        except MemoryError:  # the body alone did not fit: answer, then make way for a new worker
            conn.send(("memory", "the body did not fit in the worker's memory"))
            return
        if job is None:
            return
        reply = _run(job)
        try:
            conn.send(reply)
        except MemoryError:  # pickling a huge result failed before anything was written
            reply = ("memory", "the result did not fit in the worker's memory")
            conn.send(reply)
        if reply[0] == "memory":
            return  # a process that hit its limit may be fragmented: the pool starts a new one


def _limit_address_space(memory_bytes: int) -> None:
    """Cap this process's address space (the parser is imported already, so it is counted)."""
    _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = memory_bytes if hard == resource.RLIM_INFINITY else min(memory_bytes, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


Job = tuple[Any, ...]


def _run(job: Job) -> Reply:
    try:
        if job[0] == "page":
            # Imported by the first page job: the extractors (and numpy under them) add
            # ~150 MB of address space that a feed-only worker should not carry.
            from pipeline.fulltext.extract import decode_html, extract_page

            _kind, body, headers, url = job
            return ("ok", extract_page(decode_html(body, headers.get("content-type")), url))
        _kind, body, headers, url, feed_id, fetched_at = job
        return ("ok", parse_feed(body, headers, url=url, feed_id=feed_id, fetched_at=fetched_at))
    except ParseError as exc:
        return ("error", exc.reason, exc.detail)
    except MemoryError as exc:
        return ("memory", str(exc)[:200])
    except Exception as exc:  # a bug in our code: reported, and the worker stays usable
        return ("bug", f"{type(exc).__name__}: {exc}"[:300])


# ---- the pool (event-loop side) ---------------------------------------------------------------------


@dataclass(slots=True, eq=False)  # identity semantics: workers live in sets
class _Worker:
    process: BaseProcess
    conn: Connection

    def call(self, job: Job) -> Reply:
        """Send one job and wait for its reply (runs in a pool thread)."""
        self.conn.send(job)
        reply: Reply = self.conn.recv()
        return reply

    def stop(self) -> None:
        """Ask an idle worker to exit, then make sure it has (runs in a pool thread)."""
        with contextlib.suppress(OSError):
            self.conn.send(None)
        self.process.join(_JOIN_SECONDS)
        self.reap()

    def reap(self) -> None:
        """Kill the process if it still runs, wait for it and close the pipe."""
        if self.process.exitcode is None:
            self.process.kill()
        self.process.join(_JOIN_SECONDS)
        self.conn.close()


class ParserPool:
    """Runs ``parse_feed`` in up to ``max_workers`` processes, each under the given limits.

    Use it from one event loop, as ``async with ParserPool() as pool: await pool.parse(...)``
    or calling :meth:`close` when done. ``parse`` raises ``ParseError`` exactly as
    ``parse_feed`` does, plus ``parse-timeout``, ``parse-memory`` and ``parse-crashed``.
    """

    def __init__(
        self,
        max_workers: int = 2,
        timeout: float = DEFAULT_TIMEOUT,
        memory_bytes: int = DEFAULT_MEMORY_BYTES,
    ) -> None:
        if max_workers < 1:
            raise ValueError("max_workers must be at least 1")
        if timeout <= 0:
            raise ValueError("timeout must be positive")
        if memory_bytes < 32 * 1024 * 1024:
            raise ValueError("memory_bytes below 32 MiB cannot even start a worker")
        self._max_workers = max_workers
        self._timeout = timeout
        self._memory_bytes = memory_bytes
        self._context = _context()
        # Readers block on a worker's pipe; starting and reaping workers needs threads too.
        self._threads = ThreadPoolExecutor(2 * max_workers + 1, thread_name_prefix="newsflow-parser")
        self._slots: asyncio.Semaphore | None = None
        self._idle: list[_Worker] = []
        self._busy: set[_Worker] = set()
        self._retiring: set[asyncio.Task[None]] = set()
        self._closed = False

    @property
    def worker_pids(self) -> list[int]:
        """Process ids of the live workers, idle or busy (for diagnostics and tests)."""
        workers = [*self._idle, *self._busy]
        return [w.process.pid for w in workers if w.process.pid is not None and w.process.is_alive()]

    async def __aenter__(self) -> ParserPool:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    async def parse(
        self, body: bytes, headers: Mapping[str, str], *, url: str, feed_id: str, fetched_at: str
    ) -> ParsedFeed:
        """``parse_feed`` in a worker process; raises ``ParseError`` (see the class doc)."""
        parsed: ParsedFeed = _result(await self._run(("feed", body, dict(headers), url, feed_id, fetched_at)))
        return parsed

    async def extract(self, body: bytes, headers: Mapping[str, str], *, url: str) -> ExtractedPage:
        """An article page's main text, read in a worker process; ``ParseError`` as ``parse``."""
        page: ExtractedPage = _result(await self._run(("page", body, dict(headers), url)))
        return page

    async def _run(self, job: Job) -> Reply:
        if self._closed:
            raise RuntimeError("ParserPool is closed")
        if self._slots is None:
            self._slots = asyncio.Semaphore(self._max_workers)
        async with self._slots:
            if self._closed:
                raise RuntimeError("ParserPool is closed")
            worker = await self._acquire()
            return await self._call(worker, job)

    async def close(self) -> None:
        """Wait for running parses, then stop every worker and the pool's threads."""
        if self._closed:
            return
        self._closed = True
        loop = asyncio.get_running_loop()
        slots = self._slots or asyncio.Semaphore(self._max_workers)
        for _ in range(self._max_workers):  # every slot back: nothing is running any more
            await slots.acquire()
        idle, self._idle = self._idle, []
        await asyncio.gather(*(loop.run_in_executor(self._threads, w.stop) for w in idle))
        await asyncio.gather(*self._retiring, return_exceptions=True)
        await loop.run_in_executor(None, self._threads.shutdown)
        for _ in range(self._max_workers):  # parses still queued wake up and see the pool closed
            slots.release()

    async def _acquire(self) -> _Worker:
        """An idle live worker, or a new one (started in a thread: it takes a while)."""
        while self._idle:
            worker = self._idle.pop()
            if worker.process.is_alive():
                return worker
            self._retire(worker, None)
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._threads, self._start_worker)

    def _start_worker(self) -> _Worker:
        """Start a worker and wait until it is ready (runs in a pool thread)."""
        parent_end, child_end = self._context.Pipe(duplex=True)
        process = self._context.Process(
            target=_worker_main,
            args=(child_end, self._memory_bytes),
            name="newsflow-parser",
            daemon=True,  # never outlives the poller
        )
        process.start()
        child_end.close()
        worker = _Worker(process, parent_end)
        try:
            if parent_end.poll(_START_SECONDS) and parent_end.recv() == ("ready",):
                return worker
        except (EOFError, OSError):
            pass
        worker.reap()
        # Not the feed's fault: a deployment problem (main module not import-safe, memory
        # limit below what the interpreter needs, no processes left) that must be seen.
        raise RuntimeError(f"a parser worker failed to start (exit code {process.exitcode})")

    async def _call(self, worker: _Worker, job: Job) -> Reply:
        """Run one job on ``worker``; every outcome but a clean reply retires the worker."""
        self._busy.add(worker)
        reader = asyncio.get_running_loop().run_in_executor(self._threads, worker.call, job)
        keep = False
        try:
            reply = await self._wait(reader)
            keep = reply[0] in _REUSABLE and not self._closed
        finally:  # also on cancellation: a worker still busy with a job is never reused
            self._busy.discard(worker)
            if keep:
                self._idle.append(worker)
            else:
                self._retire(worker, reader)
        if reply[0] == "crashed":  # reaped: its exit code tells how it died
            await asyncio.gather(*self._retiring, return_exceptions=True)
            reply = ("crashed", f"worker died ({reply[1]}, exit code {worker.process.exitcode})")
        return reply

    async def _wait(self, reader: asyncio.Future[Reply]) -> Reply:
        try:
            # shield: on timeout the reader thread must run on until the kill ends its read.
            # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow a cancellation that
            # arrives as the result does, and the cancelled feed task would poll on.
            async with asyncio.timeout(self._timeout):
                return await asyncio.shield(reader)
        except TimeoutError:
            return ("timeout", f"no result within {self._timeout:g}s; worker killed")
        except Exception as exc:  # EOF or a broken pipe: the worker is gone
            return ("crashed", type(exc).__name__)

    def _retire(self, worker: _Worker, reader: asyncio.Future[Reply] | None) -> None:
        """Kill ``worker`` now; wait for its reader thread and reap it in the background."""
        if worker.process.exitcode is None:
            with contextlib.suppress(OSError, ValueError):
                worker.process.kill()  # SIGKILL: a stuck parse ignores anything gentler
        task = asyncio.get_running_loop().create_task(self._reap(worker, reader))
        self._retiring.add(task)
        task.add_done_callback(self._retiring.discard)

    async def _reap(self, worker: _Worker, reader: asyncio.Future[Reply] | None) -> None:
        if reader is not None:  # the pipe's other end is gone, so the reader returns promptly
            await asyncio.gather(reader, return_exceptions=True)
        await asyncio.get_running_loop().run_in_executor(self._threads, worker.reap)


def _result(reply: Reply) -> Any:
    kind = reply[0]
    if kind == "ok":
        return reply[1]
    if kind == "error":
        raise ParseError(reply[1], reply[2])
    if kind == "memory":
        detail = f" ({reply[1]})" if reply[1] else ""
        raise ParseError("parse-memory", f"parsing exceeded the worker's memory limit{detail}")
    if kind == "timeout":
        raise ParseError("parse-timeout", reply[1])
    if kind == "bug":
        log.error("a worker job raised an unexpected exception: %s", reply[1])
    raise ParseError("parse-crashed", reply[1])
