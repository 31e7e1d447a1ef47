"""A real local HTTP server that receives webhooks, scripted per test.

Runs ``aiohttp.web`` on 127.0.0.1 (a free port) in its own thread and event loop, so a
receiver that hangs never blocks the client under test, and sync tests or other processes can
use it too. Each request takes the next :class:`Reply` of the script (the last one repeats once
the script is used up) and is recorded, headers and raw body, when it arrives.

    with WebhookReceiver([Reply(500), Reply(500), Reply(200)]) as receiver:
        ... post to receiver.url("/hook") ...
        receiver.requests  # what arrived, in order
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Coroutine, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

from aiohttp import web


@dataclass(frozen=True)
class Reply:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    delay: float = 0.0  # seconds before answering
    hang: bool = False  # never answer (until the server stops)


@dataclass(frozen=True)
class Received:
    path: str  # path and query as sent
    headers: dict[str, str]  # names lower-cased
    body: bytes
    arrived: float  # time.monotonic()
    wall: float  # time.time(): compare with webhook-timestamp


class WebhookReceiver:
    def __init__(self, script: Sequence[Reply] = (), host: str = "127.0.0.1") -> None:
        self.host = host
        self.port = 0
        self.script: list[Reply] = list(script)
        self.requests: list[Received] = []
        self._served = 0
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="webhook-receiver", daemon=True)
        self._runner: web.AppRunner | None = None
        self._stopping: asyncio.Event | None = None

    def url(self, path: str = "/hook") -> str:
        return f"http://{self.host}:{self.port}{path}"

    def start(self) -> WebhookReceiver:
        self._thread.start()
        self._call(self._start()).result(timeout=10)
        return self

    def stop(self) -> None:
        if self._runner is not None:
            self._call(self._stop()).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()

    def __enter__(self) -> WebhookReceiver:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def received(self) -> list[Received]:
        with self._lock:
            return list(self.requests)

    def _call(self, coroutine: Coroutine[Any, Any, None]) -> Future[None]:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop)

    async def _start(self) -> None:
        self._stopping = asyncio.Event()
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        # No access log: it would print request paths, and a Slack-style path is a secret.
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, 0)
        await site.start()
        self.port = self._runner.addresses[0][1]

    async def _stop(self) -> None:
        assert self._stopping is not None and self._runner is not None
        self._stopping.set()  # releases hanging handlers
        await self._runner.cleanup()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        with self._lock:
            self.requests.append(
                Received(
                    request.path_qs,
                    {k.lower(): v for k, v in request.headers.items()},
                    body,
                    time.monotonic(),
                    time.time(),
                )
            )
            reply = self._next_reply()
        if reply.hang:
            assert self._stopping is not None
            await self._stopping.wait()
            return web.Response(status=503)
        if reply.delay:
            await asyncio.sleep(reply.delay)
        return web.Response(status=reply.status, headers=reply.headers, body=reply.body)

    def _next_reply(self) -> Reply:
        if not self.script:
            return Reply()
        reply = self.script[min(self._served, len(self.script) - 1)]
        self._served += 1
        return reply
