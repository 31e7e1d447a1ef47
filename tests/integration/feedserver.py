"""A real local HTTP server for feeds, whose behaviour each route controls.

Runs ``http.server`` in a thread on 127.0.0.1; routes can be changed while it runs, and
every request is recorded so tests can assert what the poller sent.
"""

from __future__ import annotations

import gzip
import hashlib
import threading
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import brotli


@dataclass
class Route:
    body: bytes | Callable[[], bytes] = b""
    status: int = 200
    etag: str = "honour"  # honour | ignore (send an ETag, always answer 200) | none
    headers: dict[str, str] = field(default_factory=dict)
    gzip_bomb: int = 0  # >0: serve this many zero bytes, gzip-encoded (compressed in streaming)
    encoding: str | None = None  # "br" or "gzip": compress the body with it
    trickle: float = 0.0  # >0: send the body one byte per `trickle` seconds
    location: str | None = None  # for redirects
    delay: float = 0.0  # seconds before answering

    def payload(self) -> bytes:
        return self.body() if callable(self.body) else self.body


@dataclass(frozen=True)
class Request:
    path: str
    headers: dict[str, str]
    status: int
    started: float = 0.0  # time.monotonic() when the request arrived


class FeedServer:
    def __init__(self, host: str = "127.0.0.1") -> None:
        self.host = host
        self.routes: dict[str, Route] = {}
        self.requests: list[Request] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer((host, 0), self._handler_class())
        self._httpd.daemon_threads = True
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    def url(self, path: str) -> str:
        return f"http://{self.host}:{self.port}{path}"

    def start(self) -> FeedServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def requests_for(self, path: str) -> list[Request]:
        with self._lock:
            return [r for r in self.requests if r.path == path]

    def _enter(self) -> None:
        with self._lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)

    def _leave(self) -> None:
        with self._lock:
            self.in_flight -= 1

    def _record(self, request: Request) -> None:
        with self._lock:
            self.requests.append(request)

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:  # keep test output quiet
                pass

            def do_GET(self) -> None:
                self.started = time.monotonic()
                server._enter()
                try:
                    route = server.routes.get(self.path)
                    if route is not None and route.delay:
                        time.sleep(route.delay)
                    self._respond(route)
                finally:
                    server._leave()

            def send_response(self, code: int, message: str | None = None) -> None:
                # Recorded before the client can see the response, so tests never race it.
                headers = {k.lower(): v for k, v in self.headers.items()}
                server._record(Request(self.path, headers, code, getattr(self, "started", 0.0)))
                super().send_response(code, message)

            def _respond(self, route: Route | None) -> int:
                if route is None:
                    self.send_error(404)
                    return 404
                if route.location is not None:
                    self.send_response(route.status)
                    self.send_header("Location", route.location)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return route.status
                if route.gzip_bomb:
                    return self._bomb(route.gzip_bomb)
                body = route.payload()
                etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
                if route.etag == "honour" and self.headers.get("If-None-Match") == etag:
                    self.send_response(304)
                    self.send_header("ETag", etag)
                    self.end_headers()
                    return 304
                if route.encoding == "br":
                    body = brotli.compress(body)
                elif route.encoding == "gzip":
                    body = gzip.compress(body)
                self.send_response(route.status)
                if route.encoding:
                    self.send_header("Content-Encoding", route.encoding)
                for name, value in route.headers.items():
                    self.send_header(name, value)
                if route.etag != "none":
                    self.send_header("ETag", etag)
                self.send_header("Content-Type", "application/rss+xml; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self._write(body, route.trickle)
                return route.status

            def _bomb(self, size: int) -> int:
                payload = _gzip_zeros(size)
                self.send_response(200)
                self.send_header("Content-Encoding", "gzip")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
                return 200

            def _write(self, body: bytes, trickle: float) -> None:
                try:
                    if not trickle:
                        self.wfile.write(body)
                        return
                    for index in range(len(body)):
                        self.wfile.write(body[index : index + 1])
                        self.wfile.flush()
                        time.sleep(trickle)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        return Handler


_BOMBS: dict[int, bytes] = {}


def _gzip_zeros(size: int) -> bytes:
    """gzip of ``size`` zero bytes, built chunk by chunk (1 GiB of zeros is ~1 MiB gzipped)."""
    if size not in _BOMBS:
        compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
        chunk = b"\0" * (1 << 20)
        parts = [
            compressor.compress(chunk[: min(len(chunk), size - done)]) for done in range(0, size, len(chunk))
        ]
        _BOMBS[size] = b"".join(parts) + compressor.flush()
    return _BOMBS[size]
