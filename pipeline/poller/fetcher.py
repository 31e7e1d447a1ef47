"""Our own HTTP client for feeds and article pages: feedparser never fetches anything itself.

Guarantees (DESIGN §6): a total deadline for the whole fetch, redirects included, so a
trickling server is cut off; a cap on the *decompressed* body counted while streaming;
redirects followed by us (at most ``max_redirects`` hops, http/https only); conditional GET.
Failures are classified into the ``FetchError`` tree so the scheduler knows what to do.

Feeds are fetched unguarded (operators configure them, often on internal hosts). Article pages
(pipeline/fulltext/fetch.py) pass an ``AddressPolicy``: every connection is then checked by
``AddressGuard`` at connect time, and a refusal becomes ``ForbiddenDestination``.
"""

from __future__ import annotations

import asyncio
import email.utils
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urljoin

import aiohttp
from aiohttp.abc import AbstractResolver

from pipeline.cleaning.urls import safe_http_url
from pipeline.clock import Clock, SystemClock
from pipeline.config import PollerSettings
from pipeline.errors import FeedGone, FeedRejected, RateLimited, Unavailable
from pipeline.fulltext.guard import AddressGuard, AddressPolicy, ForbiddenDestination, RefusedAddress

_REDIRECTS = {301, 302, 303, 307, 308}
_PERMANENT = {301, 308}
FEED_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/feed+json, "
    "application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5"
)


@dataclass(frozen=True, slots=True)
class Validators:
    """What a conditional GET sends back to the server."""

    etag: str | None = None
    last_modified: str | None = None


@dataclass(frozen=True, slots=True)
class FetchResult:
    url: str  # the URL finally fetched, after redirects
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    validators: Validators = Validators()
    permanent_redirect: str | None = None  # where a 301/308 chain pointed, if any
    elapsed: float = 0.0

    @property
    def not_modified(self) -> bool:
        return self.status == 304


class Fetcher:
    """One aiohttp session per process, built once (see :meth:`open`)."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        settings: PollerSettings,
        clock: Clock,
        *,
        max_bytes: int | None = None,
    ) -> None:
        self._session = session
        self._settings = settings
        self._clock = clock  # for Retry-After dates
        self._max_bytes = settings.max_body_bytes if max_bytes is None else max_bytes

    @classmethod
    def open(
        cls,
        settings: PollerSettings,
        clock: Clock | None = None,
        *,
        accept: str = FEED_ACCEPT,
        address_policy: AddressPolicy | None = None,
        resolver: AbstractResolver | None = None,
        max_bytes: int | None = None,
        max_connections: int | None = None,
    ) -> Fetcher:
        """A fetcher with its own session; ``address_policy`` turns the SSRF guard on.

        ``resolver`` replaces aiohttp's DNS resolver (tests use a stub); with a policy, what it
        answers is checked like any other address.
        """
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=settings.connect_timeout)
        headers = {
            "User-Agent": settings.user_agent,
            "Accept": accept,
            "Accept-Encoding": "gzip, deflate, br",  # br: decoded by aiohttp via Brotli
        }
        # Our own semaphore and per-host limiter decide concurrency; the connector must not cap
        # it lower (aiohttp's default is 100), or time waiting for a connection would count
        # against the fetch deadline.
        connector = aiohttp.TCPConnector(
            limit=settings.max_concurrency if max_connections is None else max_connections,
            limit_per_host=0,
            resolver=resolver,
            socket_factory=AddressGuard(address_policy) if address_policy is not None else None,
        )
        session = aiohttp.ClientSession(
            timeout=timeout,
            headers=headers,
            auto_decompress=True,
            connector=connector,
            trust_env=False,  # no proxy from the environment: it would bypass the address guard
        )
        return cls(session, settings, clock or SystemClock(), max_bytes=max_bytes)

    async def close(self) -> None:
        await self._session.close()

    async def fetch(self, url: str, validators: Validators = Validators()) -> FetchResult:
        started = time.monotonic()
        try:
            async with asyncio.timeout(self._settings.timeout):
                result = await self._follow(url, validators)
        except TimeoutError:
            raise Unavailable(f"no complete response within {self._settings.timeout:g}s") from None
        except aiohttp.ClientConnectorError as exc:
            if isinstance(exc.os_error, RefusedAddress):
                raise ForbiddenDestination(f"refused non-public address {exc.os_error.address}") from None
            raise Unavailable(f"network error: {type(exc).__name__}: {exc}") from None
        except aiohttp.InvalidURL as exc:  # e.g. a non-canonical IPv4 literal such as 127.1
            raise FeedRejected(f"invalid URL {str(exc)[:200]!r}") from None
        except (ValueError, UnicodeError) as exc:  # URLs yarl/urljoin/IDNA cannot read ("http://[::1/")
            raise FeedRejected(f"invalid URL: {type(exc).__name__}: {str(exc)[:200]}") from None
        except aiohttp.ClientError as exc:
            raise Unavailable(f"network error: {type(exc).__name__}: {exc}") from None
        return FetchResult(
            result.url,
            result.status,
            result.body,
            result.headers,
            result.validators,
            result.permanent_redirect,
            time.monotonic() - started,
        )

    async def _follow(self, url: str, validators: Validators) -> FetchResult:
        current = url
        permanent: str | None = None
        all_permanent = True
        for _hop in range(self._settings.max_redirects + 1):
            if safe_http_url(current) is None:
                raise FeedRejected(f"refusing non-http(s) URL {current[:200]!r}")
            headers = _conditional_headers(validators) if current == url else {}
            async with self._session.get(current, headers=headers, allow_redirects=False) as resp:
                if resp.status in _REDIRECTS and "Location" in resp.headers:
                    all_permanent = all_permanent and resp.status in _PERMANENT
                    current = urljoin(current, resp.headers["Location"])
                    permanent = current if all_permanent else None
                    continue
                _raise_for_status(resp, self._clock.now())
                body = b"" if resp.status == 304 else await self._read_capped(resp)
                return FetchResult(
                    url=current,
                    status=resp.status,
                    body=body,
                    headers={k.lower(): v for k, v in resp.headers.items()},
                    validators=Validators(resp.headers.get("ETag"), resp.headers.get("Last-Modified")),
                    permanent_redirect=permanent,
                )
        raise FeedRejected(f"more than {self._settings.max_redirects} redirects")

    async def _read_capped(self, resp: aiohttp.ClientResponse) -> bytes:
        cap = self._max_bytes
        chunks: list[bytes] = []
        size = 0
        async for chunk in resp.content.iter_chunked(64 * 1024):
            size += len(chunk)
            if size > cap:
                raise FeedRejected(f"body larger than {cap} bytes after decompression")
            chunks.append(chunk)
        return b"".join(chunks)


def _conditional_headers(validators: Validators) -> dict[str, str]:
    headers = {}
    if validators.etag:
        headers["If-None-Match"] = validators.etag
    if validators.last_modified:
        headers["If-Modified-Since"] = validators.last_modified
    return headers


def _raise_for_status(resp: aiohttp.ClientResponse, now: datetime) -> None:
    status = resp.status
    if status < 400 or status == 304:
        return
    retry_after = parse_retry_after(resp.headers.get("Retry-After"), now)
    if status == 429 or (status == 503 and retry_after is not None):
        raise RateLimited(f"HTTP {status}", retry_after)
    if status == 410:
        raise FeedGone("HTTP 410 Gone")
    if status >= 500 or status in (408, 425):
        raise Unavailable(f"HTTP {status}", retry_after)
    raise FeedRejected(f"HTTP {status}")


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP-date)."""
    if not value:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():  # "²".isdigit() is True, float("²") fails
        return float(value)
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, (moment - now).total_seconds())
