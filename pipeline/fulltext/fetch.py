"""Fetching article pages: the poller's HTTP client with the SSRF guard switched on.

Same guarantees as feeds (pipeline/poller/fetcher.py: total deadline, decompressed-size cap,
manual redirects, http/https only on every hop), plus: every connection, on every redirect hop,
goes only to an address :class:`~pipeline.fulltext.guard.AddressPolicy` permits (checked at
connect time, see guard.py), and page requests share the poller's per-host politeness.

Errors are the ``FetchError`` tree; a refused address is ``ForbiddenDestination`` (a
``FeedRejected``), a URL that is not http(s) is ``FeedRejected`` before any connection.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from aiohttp.abc import AbstractResolver

from pipeline.cleaning.urls import safe_http_url
from pipeline.clock import Clock
from pipeline.config import PollerSettings
from pipeline.errors import FeedRejected
from pipeline.fulltext.guard import PUBLIC_ONLY, AddressPolicy
from pipeline.poller.fetcher import Fetcher, FetchResult
from pipeline.poller.politeness import HostLimiter

PAGE_ACCEPT = "text/html, application/xhtml+xml, */*;q=0.1"


class PageFetcher:
    """One per poller process; build it with :meth:`open` inside the event loop."""

    def __init__(self, fetcher: Fetcher, limiter: HostLimiter) -> None:
        self._fetcher = fetcher
        self._limiter = limiter

    @classmethod
    def open(
        cls,
        settings: PollerSettings,
        limiter: HostLimiter,
        *,
        policy: AddressPolicy = PUBLIC_ONLY,
        max_bytes: int | None = None,
        clock: Clock | None = None,
        resolver: AbstractResolver | None = None,
    ) -> PageFetcher:
        """``limiter``: the poller's own, so feeds and pages of a host share its politeness.

        ``policy.allow`` is for tests only (admits a local server); ``max_bytes`` defaults to
        ``settings.max_body_bytes``; ``resolver`` replaces DNS (tests use a stub resolver).
        """
        fetcher = Fetcher.open(
            settings,
            clock,
            accept=PAGE_ACCEPT,
            address_policy=policy,
            resolver=resolver,
            max_bytes=max_bytes,
            # 0 = no connector cap: pages in flight are bounded by the polls in flight times
            # the pages per poll, and waiting for a connection would eat the fetch deadline.
            max_connections=0,
        )
        return cls(fetcher, limiter)

    async def close(self) -> None:
        await self._fetcher.close()

    async def fetch(self, url: str) -> FetchResult:
        """The page at ``url`` (after redirects), its body capped; raises ``FetchError``."""
        safe = safe_http_url(url)
        if safe is None:
            raise FeedRejected(f"refusing non-http(s) URL {url[:200]!r}")
        host = (urlsplit(safe).hostname or "").lower()  # the key the poller's feeds use too
        async with self._limiter.slot(host):
            return await self._fetcher.fetch(safe)
