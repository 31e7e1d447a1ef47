"""Full text for feeds that carry only a summary: fetch each new article's page, read its
main text, and hand it on with the entry (``page_text``), before the entry is published.

Which entries (per feed, ``full_text``): ``never``; ``always`` (every entry with an http(s)
link); ``auto`` (the default: entries without full content whose text is shorter than
``poller.full_text_below_chars``, i.e. feeds that carry summaries).

A page that cannot be fetched or read never holds an article back: the entry goes on with
the feed's own text and ``page_error`` saying why (a bounded reason, counted in
``fulltext_fetches_total{outcome}``). Pages of one poll are fetched a few at a time; the
fetcher applies the per-host politeness the poller's feed fetches use, and the SSRF guard.

AMP: when the fetched page is an AMP variant naming its canonical page, the entry is keyed
by the canonical page (``article_key``) so the AMP and the normal URL are one article.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from typing import Protocol
from urllib.parse import urlsplit

from pipeline.cleaning import MAX_TEXT_CHARS
from pipeline.cleaning.boilerplate import NO_RULES
from pipeline.cleaning.html import html_to_text
from pipeline.cleaning.urls import canonical_url, safe_http_url
from pipeline.config import FullTextMode, PollerSettings
from pipeline.errors import FetchError, ParseError
from pipeline.fulltext.extract import ExtractedPage, amp_canonical
from pipeline.metrics import PipelineMetrics
from pipeline.models import RawArticle
from pipeline.poller.fetcher import FetchResult

log = logging.getLogger("newsflow.poller.fulltext")
PAGES_IN_FLIGHT = 4  # per poll; the per-host limiter decides what one host sees
# Summaries are judged on at most this many characters of their HTML: the decision runs on
# the poller's event loop, and a hostile multi-megabyte "summary" must not block it.
_JUDGED_HTML_CHARS = 16 * 1024
MIN_PAGE_CHARS = 200  # less main text than this is a failed extraction (a paywall, an app shell)


class PageSource(Protocol):
    async def fetch(self, url: str) -> FetchResult: ...


class PageReader(Protocol):
    async def extract(self, body: bytes, headers: Mapping[str, str], *, url: str) -> ExtractedPage: ...


class FullText:
    """Adds the page's main text to the entries that need it."""

    def __init__(
        self, pages: PageSource, reader: PageReader, settings: PollerSettings, metrics: PipelineMetrics
    ) -> None:
        self._pages, self._reader, self._settings, self._metrics = pages, reader, settings, metrics

    def wanted(self, mode: FullTextMode, entry: RawArticle) -> bool:
        if mode == "never" or safe_http_url(entry.link) is None:
            return False
        if mode == "always":
            return True
        if entry.content:
            return False
        summary = entry.summary or ""
        threshold = self._settings.full_text_below_chars
        if len(summary) < threshold:  # the text is shorter still: no need to parse
            return True
        return len(html_to_text(summary[:_JUDGED_HTML_CHARS], NO_RULES)) < threshold

    async def enrich(self, mode: FullTextMode, entries: Sequence[RawArticle]) -> list[RawArticle]:
        """The entries, those that wanted full text now carrying it (or ``page_error``);
        ``mode`` is the feed's ``full_text`` setting."""
        slots = asyncio.Semaphore(PAGES_IN_FLIGHT)
        budget = self._settings.full_text_max_per_poll

        async def one(entry: RawArticle) -> RawArticle:
            nonlocal budget
            if not self.wanted(mode, entry):
                return entry
            if budget <= 0:  # a feed's first poll must not take hundreds of page fetches
                limit = self._settings.full_text_max_per_poll
                return self._failed(entry, "over-poll-limit", f"more than {limit} pages wanted by one poll")
            budget -= 1
            async with slots:
                return await self._with_page(entry)

        return list(await asyncio.gather(*(one(entry) for entry in entries)))

    async def _with_page(self, entry: RawArticle) -> RawArticle:
        link = entry.link or ""
        try:
            result = await self._pages.fetch(link)
            page = await self._reader.extract(result.body, result.headers, url=result.url)
        except FetchError as exc:
            return self._failed(entry, f"fetch-{exc.outcome}", str(exc))
        except ParseError as exc:
            return self._failed(entry, exc.reason, exc.detail)
        except Exception as exc:  # a bug: loud in the log and the metric, but never a dead feed
            log.exception("full text of %s: unexpected error", entry.link)
            return self._failed(entry, "bug", f"{type(exc).__name__}: {exc}")
        if len(page.text) < MIN_PAGE_CHARS:
            return self._failed(entry, "no-main-text", f"{len(page.text)} characters of main text")
        self._metrics.fulltext_fetches.labels("ok").inc()
        update: dict[str, str | None] = {"page_url": result.url, "page_text": page.text[:MAX_TEXT_CHARS]}
        update.update(self._amp_identity(entry, result.url, page))
        return entry.model_copy(update=update)

    @staticmethod
    def _amp_identity(entry: RawArticle, page_url: str, page: ExtractedPage) -> dict[str, str | None]:
        """Key an AMP page's entry by the canonical page it names, when that is usable: an
        article URL (a canonical pointing at the site's home page is a misconfiguration that
        would merge every article), and only for entries keyed by their link."""
        canonical = amp_canonical(page_url, page)
        key = canonical_url(canonical)
        if canonical is None or key is None or urlsplit(key).path in ("", "/"):
            return {}
        if entry.article_key != canonical_url(entry.link):
            return {}
        return {"article_key": key, "page_canonical_url": canonical}

    def _failed(self, entry: RawArticle, outcome: str, detail: str) -> RawArticle:
        self._metrics.fulltext_fetches.labels(outcome).inc()
        log.info("full text of %s not used: %s: %s", entry.link, outcome, detail[:200])
        return entry.model_copy(update={"page_error": f"{outcome}: {detail}"[:300]})
