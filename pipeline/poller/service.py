"""The poller service: poll each owned feed on its schedule, publish raw articles, keep health.

Feeds come and go while it runs (``add``/``remove``: the registry assigns them). Per feed:
fetch (conditional GET) → parse in the parser pool → full text for new entries that need it
(``pipeline/fulltext/enrich.py``) → publish only new or changed entries → then, and only
then, record validators and entries and save the state, so a failed publish means the next
poll fetches again in full: nothing is lost. Per-host politeness wraps every fetch (feeds
and article pages share one limiter); scheduling is the pure policy of ``schedule.py``.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import random
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import timedelta
from typing import Any, Protocol

from pipeline.cleaning.dates import parse_feed_date
from pipeline.clock import Clock, rfc3339
from pipeline.config import FeedSettings, PollerSettings
from pipeline.errors import FeedGone, FetchError, ParseError, Unavailable
from pipeline.fulltext.enrich import FullText
from pipeline.metrics import PipelineMetrics
from pipeline.models import RawArticle
from pipeline.poller.fetcher import Fetcher, FetchResult
from pipeline.poller.parser import ParsedFeed, parse_feed
from pipeline.poller.politeness import HostLimiter
from pipeline.poller.schedule import base_delay, next_poll_at, response_hints
from pipeline.poller.state import MAX_ENTRY_TIMES, FeedState

log = logging.getLogger("newsflow.poller")
FEED_STATES = ("new", "healthy", "not-modified", "backing-off", "failing", "gone")
FAILING_AFTER = 3  # consecutive failures before "backing-off" becomes "failing"
# Feeds that are due when a poller takes them (new, or overdue after a restart) get their
# first poll spread over their interval, at most this long: thousands of feeds owned at once
# must not all be fetched in the same second (a thundering herd that delays every feed).
MAX_FIRST_POLL_SPREAD = 60.0


class Publisher(Protocol):
    async def publish(self, articles: Sequence[RawArticle]) -> None:
        """Publish and wait for the broker's acknowledgement of every article."""
        ...


class StateStore(Protocol):
    async def save(self, state: FeedState) -> None:
        """Persist the state (after each poll); must not raise for transient failures."""
        ...


class FeedParser(Protocol):
    async def parse(
        self, body: bytes, headers: Mapping[str, str], *, url: str, feed_id: str, fetched_at: str
    ) -> ParsedFeed: ...


class ThreadParser:
    """Parse in a worker thread (tests, `newsflow process`); the poller uses the process pool."""

    async def parse(
        self, body: bytes, headers: Mapping[str, str], *, url: str, feed_id: str, fetched_at: str
    ) -> ParsedFeed:
        return await asyncio.to_thread(
            parse_feed, body, headers, url=url, feed_id=feed_id, fetched_at=fetched_at
        )


class MemoryStore:
    """Keeps states in a dict (tests, single runs)."""

    def __init__(self) -> None:
        self.records: dict[str, dict[str, Any]] = {}

    async def save(self, state: FeedState) -> None:
        self.records[state.feed.id] = state.to_record()


class PollerService:
    def __init__(
        self,
        fetcher: Fetcher,
        parser: FeedParser,
        publisher: Publisher,
        store: StateStore,
        metrics: PipelineMetrics,
        settings: PollerSettings,
        clock: Clock,
        rng: random.Random | None = None,
        *,
        limiter: HostLimiter | None = None,
        full_text: FullText | None = None,
    ) -> None:
        self.states: dict[str, FeedState] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._fetcher, self._parser, self._publisher, self._store = fetcher, parser, publisher, store
        self._metrics, self._settings, self._clock = metrics, settings, clock
        self._rng = rng or random.Random()
        self._limiter = limiter or HostLimiter(settings.per_host_concurrency, settings.per_host_rate)
        self._full_text = full_text
        self._concurrency = asyncio.Semaphore(settings.max_concurrency)
        # Feeds per state, kept up to date on every change: recounting all feeds after each
        # poll cost O(feeds) per poll (85 % of the loop at 10,000 feeds).
        self._state_counts: Counter[str] = Counter()
        for name in FEED_STATES:
            metrics.feeds.labels(name).set(0)

    # -- ownership ----------------------------------------------------------------------------
    def add(self, feed: FeedSettings, saved: dict[str, Any] | None = None) -> FeedState:
        """Own ``feed`` (again): restore its saved state and start polling it when due."""
        previous = self.states.get(feed.id)
        if previous is not None and previous.feed == feed:
            return previous
        self._cancel(feed.id)
        state = FeedState.restore(feed, saved if previous is None else previous.to_record())
        now = self._clock.now()
        if state.next_poll is None or state.next_poll < now:
            spread = min(base_delay(feed.interval, None, self._settings), MAX_FIRST_POLL_SPREAD)
            state.next_poll = now + timedelta(seconds=self._rng.uniform(0, spread))
        self.states[feed.id] = state
        self._count(state.state, +1)
        self._tasks[feed.id] = asyncio.create_task(self._feed_loop(state), name=f"feed:{feed.id}")
        return state

    async def remove(self, feed_id: str) -> None:
        task = self._cancel(feed_id)
        state = self.states.pop(feed_id, None)
        if state is not None:
            self._count(state.state, -1)
        if task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def close(self) -> None:
        """Stop polling every feed: cancel all first, then wait for all together."""
        tasks = [self._cancel(feed_id) for feed_id in list(self._tasks)]
        for state in self.states.values():
            self._count(state.state, -1)
        self.states.clear()
        await asyncio.gather(*(task for task in tasks if task is not None), return_exceptions=True)

    def _cancel(self, feed_id: str) -> asyncio.Task[None] | None:
        task = self._tasks.pop(feed_id, None)
        if task is not None:
            task.cancel()
        return task

    async def _feed_loop(self, state: FeedState) -> None:
        while True:
            if state.next_poll is not None:
                wait = (state.next_poll - self._clock.now()).total_seconds()
                if wait > 0:
                    await asyncio.sleep(wait)
            async with self._concurrency:
                await self.poll(state)

    # -- one poll -----------------------------------------------------------------------------
    async def poll(self, state: FeedState) -> None:
        """Poll one feed once; every outcome is counted, scheduled and saved."""
        state.polls += 1
        state.last_attempt = self._clock.now()
        retry_after = None
        try:
            outcome = await self._poll(state)
        except FetchError as exc:
            outcome = exc.outcome
            retry_after = exc.retry_after if isinstance(exc, Unavailable) else None
            self._failed(state, exc, "gone" if isinstance(exc, FeedGone) else None)
        except ParseError as exc:
            outcome = "parse-error"
            self._metrics.parse_errors.labels(exc.reason).inc()
            self._failed(state, exc, None)
        except Exception as exc:
            # A bug. Raising would end this feed's task silently (nobody awaits it until the
            # feed is removed) and the feed would never be polled again: log it with its
            # traceback, count it, and keep the feed on its backoff schedule instead.
            log.exception("feed %s: unexpected error while polling", state.feed.id)
            outcome = "bug"
            self._failed(state, exc, None)
        state.hints = replace(state.hints, retry_after=retry_after)
        state.next_poll = next_poll_at(
            self._clock.now(),
            state.feed.interval,
            state.failures,
            state.schedule_hints(),
            self._settings,
            self._rng.random(),
        )
        self._metrics.feed_fetches.labels(outcome).inc()
        await self._store.save(state)

    async def _poll(self, state: FeedState) -> str:
        # The host's slot covers the feed fetch only: article pages (maybe on the same host)
        # take their own slots afterwards.
        async with self._limiter.slot(state.host):
            with self._metrics.feed_fetch_seconds.time():
                result = await self._fetcher.fetch(state.url, state.validators)
        self._metrics.feed_bytes.inc(len(result.body))
        max_age, expires_in = response_hints(result.headers, self._clock.now())
        state.hints = replace(state.hints, max_age=max_age, expires_in=expires_in)
        if result.not_modified:
            return self._succeeded(state, "not-modified")
        body_hash = hashlib.sha256(result.body).hexdigest()
        if body_hash == state.body_hash:
            # The server ignored our validators but sent the same bytes: nothing to parse.
            return self._succeeded(state, "unchanged")
        parsed = await self._parser.parse(
            result.body,
            result.headers,
            url=result.url,
            feed_id=state.feed.id,
            fetched_at=rfc3339(self._clock.now()),
        )
        await self._publish_fresh(state, parsed)
        self._remember(state, result, body_hash, parsed)
        return self._succeeded(state, "ok")

    async def _publish_fresh(self, state: FeedState, parsed: ParsedFeed) -> None:
        fresh = [entry for entry in parsed.entries if _fingerprint(entry) not in state.last_entries]
        if self._full_text is not None:
            fresh = await self._full_text.enrich(state.feed.full_text, fresh)
        await self._publisher.publish(fresh)
        state.published += len(fresh)
        self._metrics.articles.labels("poll", "published").inc(len(fresh))
        self._metrics.articles.labels("poll", "unchanged").inc(len(parsed.entries) - len(fresh))
        times = [parse_feed_date(entry.published or entry.updated) for entry in fresh]
        now = self._clock.now()
        known = [t for t in times if t is not None and t <= now]
        for published in known:  # entries dated in the future are not a latency
            self._metrics.publish_to_fetch_seconds.observe((now - published).total_seconds())
        state.entry_times = tuple(sorted({*state.entry_times, *known}))[-MAX_ENTRY_TIMES:]

    def _remember(self, state: FeedState, result: FetchResult, body_hash: str, parsed: ParsedFeed) -> None:
        """Only after the publish was acknowledged: the next poll may now be conditional."""
        state.validators, state.body_hash = result.validators, body_hash
        state.last_entries = frozenset(_fingerprint(entry) for entry in parsed.entries)
        state.hints = replace(
            state.hints, ttl=parsed.ttl_seconds, skip_hours=parsed.skip_hours, skip_days=parsed.skip_days
        )
        if result.permanent_redirect and result.permanent_redirect != state.url:
            # The fetcher only follows http(s) redirects it could fetch, so the target passed
            # the same checks as the feed's own URL before we adopt it.
            log.info("feed %s moved permanently to %s", state.feed.id, result.permanent_redirect)
            state.url = result.permanent_redirect

    def _succeeded(self, state: FeedState, outcome: str) -> str:
        state.failures, state.last_error, state.last_success = 0, None, self._clock.now()
        self._transition(state, "not-modified" if outcome in ("not-modified", "unchanged") else "healthy")
        return outcome

    def _failed(self, state: FeedState, exc: Exception, forced_state: str | None) -> None:
        state.failures += 1
        state.last_error = str(exc)[:300]
        self._transition(
            state, forced_state or ("failing" if state.failures >= FAILING_AFTER else "backing-off")
        )
        log.warning("feed %s: %s (%d consecutive failures)", state.feed.id, state.last_error, state.failures)

    def _transition(self, state: FeedState, new: str) -> None:
        if state.feed.id in self.states and state.state != new:
            self._count(state.state, -1)
            self._count(new, +1)
        state.state = new

    def _count(self, name: str, delta: int) -> None:
        self._state_counts[name] += delta
        self._metrics.feeds.labels(name).set(self._state_counts[name])


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
