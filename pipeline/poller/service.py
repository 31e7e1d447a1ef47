"""The poller service: poll each feed on its schedule, publish raw articles, keep health.

One task per feed, a shared concurrency limit. A feed's validators and body hash are only
recorded after its articles were published (acknowledged), so a failed publish means the
next poll fetches the full body again: nothing is lost. Parsing runs in a worker thread so
a large feed never blocks the event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from pipeline.clock import Clock, rfc3339
from pipeline.config import FeedSettings, PollerSettings
from pipeline.errors import FeedGone, FetchError, ParseError, Unavailable
from pipeline.metrics import PipelineMetrics
from pipeline.models import RawArticle
from pipeline.poller.fetcher import Fetcher, Validators
from pipeline.poller.parser import parse_feed
from pipeline.poller.schedule import next_poll_delay

log = logging.getLogger("newsflow.poller")
FEED_STATES = ("healthy", "not-modified", "backing-off", "failing", "gone")
FAILING_AFTER = 3  # consecutive failures before "backing-off" becomes "failing"


class Publisher(Protocol):
    async def publish(self, articles: Sequence[RawArticle]) -> None:
        """Publish and wait for the broker's acknowledgement of every article."""
        ...


@dataclass
class FeedState:
    feed: FeedSettings
    url: str
    validators: Validators = field(default_factory=Validators)
    body_hash: str | None = None
    failures: int = 0
    state: str = "healthy"
    last_error: str | None = None
    polls: int = 0
    published: int = 0
    retry_after: float | None = field(default=None, repr=False)
    # Fingerprints of the entries in the latest published body: re-polls publish only new
    # or changed entries (dedup still catches anything that slips through).
    last_entries: frozenset[str] = field(default_factory=frozenset, repr=False)


class PollerService:
    def __init__(
        self,
        feeds: Sequence[FeedSettings],
        fetcher: Fetcher,
        publisher: Publisher,
        metrics: PipelineMetrics,
        settings: PollerSettings,
        clock: Clock,
        rng: random.Random | None = None,
    ) -> None:
        self.states = [FeedState(feed, feed.url) for feed in feeds]
        self._fetcher = fetcher
        self._publisher = publisher
        self._metrics = metrics
        self._settings = settings
        self._clock = clock
        self._rng = rng or random.Random()
        self._limit = asyncio.Semaphore(settings.max_concurrency)
        self._update_gauge()

    async def run(self, stop: asyncio.Event) -> None:
        """Poll every feed until ``stop`` is set."""
        await asyncio.gather(*(self._feed_loop(state, stop) for state in self.states))

    async def _feed_loop(self, state: FeedState, stop: asyncio.Event) -> None:
        while not stop.is_set():
            async with self._limit:
                await self.poll(state)
            delay = next_poll_delay(
                state.feed.interval,
                state.failures,
                state.retry_after,
                self._settings,
                self._rng.random(),
            )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=delay)

    async def poll(self, state: FeedState) -> None:
        """Poll one feed once; every outcome is counted and reflected in its state."""
        state.polls += 1
        state.retry_after = None
        try:
            outcome = await self._poll(state)
        except FetchError as exc:
            outcome = exc.outcome
            self._failed(state, exc, "gone" if isinstance(exc, FeedGone) else None)
            if isinstance(exc, Unavailable):
                state.retry_after = exc.retry_after
        except ParseError as exc:
            outcome = "parse-error"
            self._failed(state, exc, None)
        self._metrics.feed_fetches.labels(outcome).inc()
        self._update_gauge()

    async def _poll(self, state: FeedState) -> str:
        with self._metrics.feed_fetch_seconds.time():
            result = await self._fetcher.fetch(state.url, state.validators)
        if result.not_modified:
            return self._succeeded(state, "not-modified")
        body_hash = hashlib.sha256(result.body).hexdigest()
        if body_hash == state.body_hash:
            # The server ignored our validators but sent the same bytes: nothing to parse.
            return self._succeeded(state, "unchanged")
        parsed = await asyncio.to_thread(
            parse_feed,
            result.body,
            result.headers,
            url=result.url,
            feed_id=state.feed.id,
            fetched_at=rfc3339(self._clock.now()),
        )
        fingerprints = [_fingerprint(entry) for entry in parsed.entries]
        fresh = [
            e for e, fp in zip(parsed.entries, fingerprints, strict=True) if fp not in state.last_entries
        ]
        await self._publisher.publish(fresh)
        state.published += len(fresh)
        self._metrics.articles.labels("poll", "published").inc(len(fresh))
        self._metrics.articles.labels("poll", "unchanged").inc(len(parsed.entries) - len(fresh))
        state.validators, state.body_hash = result.validators, body_hash
        state.last_entries = frozenset(fingerprints)
        if result.permanent_redirect:
            log.info("feed %s moved permanently to %s", state.feed.id, result.permanent_redirect)
            state.url = result.permanent_redirect
        return self._succeeded(state, "ok")

    def _succeeded(self, state: FeedState, outcome: str) -> str:
        state.failures, state.last_error = 0, None
        state.state = "not-modified" if outcome in ("not-modified", "unchanged") else "healthy"
        return outcome

    def _failed(self, state: FeedState, exc: Exception, forced_state: str | None) -> None:
        state.failures += 1
        state.last_error = str(exc)[:300]
        state.state = forced_state or ("failing" if state.failures >= FAILING_AFTER else "backing-off")
        log.warning("feed %s: %s (%d consecutive failures)", state.feed.id, state.last_error, state.failures)

    def _update_gauge(self) -> None:
        for name in FEED_STATES:
            self._metrics.feeds.labels(name).set(sum(1 for s in self.states if s.state == name))


def _fingerprint(entry: RawArticle) -> str:
    material = "\x1f".join(
        part or ""
        for part in (
            entry.article_key,
            entry.guid,
            entry.link,
            entry.title,
            entry.summary,
            entry.content,
            entry.published,
        )
    )
    return hashlib.sha256(material.encode("utf-8")).hexdigest()
