"""The demo feed server `newsflow up` runs on localhost, so the demo works offline.

It serves the feed files in ``feeds/`` and reveals their items a few at a time (oldest
first), so new articles keep arriving while the demo runs. ETag and Last-Modified are
honoured, as a well-behaved publisher would.
"""

from __future__ import annotations

import hashlib
import re
import time
from email.utils import formatdate
from pathlib import Path

from aiohttp import web

FEEDS_DIR = Path(__file__).with_name("feeds")
_ITEM = re.compile(rb"<(item|entry)[\s>].*?</\1>", re.DOTALL)


def reveal(body: bytes, visible: int) -> bytes:
    """The feed with only its ``visible`` oldest items (feeds list the newest first)."""
    items = list(_ITEM.finditer(body))
    if visible >= len(items):
        return body
    hidden = items[: len(items) - visible]
    start, end = hidden[0].start(), hidden[-1].end()
    return body[:start] + body[end:]


class DemoFeedServer:
    def __init__(self, initial: int = 3, every: float = 8.0) -> None:
        self.started = time.monotonic()
        self.initial = initial
        self.every = every
        self.files = {path.name: path.read_bytes() for path in sorted(FEEDS_DIR.glob("*.xml"))}

    def visible_items(self) -> int:
        return self.initial + int((time.monotonic() - self.started) / self.every)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        if name not in self.files:
            raise web.HTTPNotFound()
        body = reveal(self.files[name], self.visible_items())
        etag = '"' + hashlib.sha256(body).hexdigest()[:20] + '"'
        if request.headers.get("If-None-Match") == etag:
            return web.Response(status=304, headers={"ETag": etag})
        kind = "application/atom+xml" if b"<feed" in body[:500] else "application/rss+xml"
        headers = {"ETag": etag, "Last-Modified": formatdate(usegmt=True)}
        return web.Response(body=body, content_type=kind, charset="utf-8", headers=headers)

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> tuple[web.AppRunner, int]:
        app = web.Application()
        app.router.add_get("/feeds/{name}", self.handle)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, host, port)
        await site.start()
        return runner, int(runner.addresses[0][1])
