"""Full text through the real poller: a real HTTP server, the real page fetcher with its SSRF
guard, extraction in the real sandboxed worker processes; a recording publisher stands in
for Kafka (the component under test is the poller's full-text step)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime

import pytest
from prometheus_client import CollectorRegistry

from pipeline.cleaning import clean_article
from pipeline.clock import FakeClock
from pipeline.config import FeedSettings, FullTextMode, PollerSettings
from pipeline.fulltext.enrich import FullText
from pipeline.fulltext.fetch import PageFetcher
from pipeline.fulltext.guard import AddressPolicy
from pipeline.metrics import PipelineMetrics
from pipeline.models import RawArticle
from pipeline.poller.fetcher import Fetcher
from pipeline.poller.politeness import HostLimiter
from pipeline.poller.sandbox import ParserPool
from pipeline.poller.service import MemoryStore, PollerService
from pipeline.poller.state import FeedState
from tests.integration.feedserver import FeedServer, Route

START = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
PARAGRAPHS = [
    "Aid convoys reached the eastern districts of Aleppo on Thursday as the ceasefire held for a "
    "third day, according to officials from two relief agencies working in the city.",
    "The convoys carried flour, medicine and fuel for hospital generators. Residents said queues "
    "at the bakeries had shortened for the first time in weeks.",
    "Negotiators are due to meet again on Monday to discuss extending the truce to the "
    "surrounding countryside, where fighting continued overnight.",
    "A spokesman for the relief agencies said more convoys would follow if the roads stayed open, "
    "and that the agencies had asked for guarantees of safe passage from every side.",
]


def article_page(title: str, canonical: str | None = None, amp: bool = False) -> bytes:
    body = "".join(f"<p>{p}</p>" for p in PARAGRAPHS)
    link = f'<link rel="canonical" href="{canonical}">' if canonical else ""
    return (
        f'<!doctype html><html lang="en"{" amp" if amp else ""}><head><title>{title}</title>{link}</head>'
        '<body><header><nav><a href="/">Home</a> <a href="/world">World</a></nav></header>'
        '<div class="cookie-banner">We use cookies to improve your experience. Accept</div>'
        f'<main><article><h1>{title}</h1><p class="byline">By Jane Reporter</p>{body}'
        '<div class="share"><a href="https://facebook.com/sharer">Share on Facebook</a></div>'
        "</article></main><aside><h2>Most read</h2><ul><li><a href='/x'>Another story</a></li></ul>"
        "</aside><footer>© 2026 Example News. All rights reserved.</footer></body></html>"
    ).encode()


def feed(server: FeedServer) -> bytes:
    items = [
        (
            "Summary only",
            server.url("/articles/a.html"),
            "<description>Convoys reached Aleppo.</description>",
        ),
        (
            "Full content",
            server.url("/articles/full.html"),
            "<description>Short.</description><content:encoded><![CDATA["
            + "".join(f"<p>{p}</p>" for p in PARAGRAPHS)
            + "]]></content:encoded>",
        ),
        ("Missing page", server.url("/articles/missing.html"), "<description>Gone.</description>"),
        ("AMP link", server.url("/amp/story.html"), "<description>AMP.</description>"),
        ("Redirect to a private address", server.url("/articles/evil.html"), "<description>x</description>"),
        ("Malformed redirect", server.url("/articles/broken.html"), "<description>y</description>"),
        ("Unreadable link", "http://a..b/story", "<description>z</description>"),
        ("AMP pointing home", server.url("/amp/home.html"), "<description>h</description>"),
    ]
    body = "".join(
        f"<item><title>{title}</title><link>{link}</link><guid>{link}</guid>{extra}</item>"
        for title, link, extra in items
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0" '
        'xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel><title>Example News</title>'
        f"<link>{server.url('/')}</link>{body}</channel></rss>"
    ).encode()


@pytest.fixture
def server() -> Iterator[FeedServer]:
    server = FeedServer().start()
    server.routes["/feed.xml"] = Route(feed(server))
    server.routes["/articles/a.html"] = Route(article_page("Convoys reach Aleppo"))
    server.routes["/articles/full.html"] = Route(article_page("Full content"))
    server.routes["/amp/story.html"] = Route(
        article_page("AMP story", canonical=server.url("/world/story.html"), amp=True)
    )
    server.routes["/articles/evil.html"] = Route(status=302, location="http://127.0.0.2:9/")
    server.routes["/articles/broken.html"] = Route(status=302, location="http://[::1/")
    server.routes["/amp/home.html"] = Route(article_page("AMP home", canonical=server.url("/"), amp=True))
    yield server
    server.stop()


class RecordingPublisher:
    def __init__(self) -> None:
        self.published: list[RawArticle] = []

    async def publish(self, articles: Sequence[RawArticle]) -> None:
        self.published.extend(articles)


def poll_once(
    server: FeedServer, mode: FullTextMode, max_per_poll: int = 30
) -> tuple[dict[str, RawArticle], CollectorRegistry]:
    settings = PollerSettings(
        page_allow_networks=("127.0.0.1/32",), per_host_rate=50.0, full_text_max_per_poll=max_per_poll
    )
    registry = CollectorRegistry()
    metrics = PipelineMetrics.create(registry)
    publisher = RecordingPublisher()
    clock = FakeClock(START)

    async def go() -> None:
        limiter = HostLimiter(settings.per_host_concurrency, settings.per_host_rate)
        fetcher = Fetcher.open(settings, clock)
        pages = PageFetcher.open(settings, limiter, policy=AddressPolicy.allowing("127.0.0.1/32"))
        async with ParserPool(1) as pool:
            service = PollerService(
                fetcher,
                pool,
                publisher,
                MemoryStore(),
                metrics,
                settings,
                clock,
                limiter=limiter,
                full_text=FullText(pages, pool, settings, metrics),
            )
            feed_settings = FeedSettings(id="ft", url=server.url("/feed.xml"), full_text=mode)
            try:
                await service.poll(FeedState.restore(feed_settings, None))
            finally:
                await pages.close()
                await fetcher.close()

    asyncio.run(go())
    return {entry.title or "": entry for entry in publisher.published}, registry


def test_summary_only_entries_get_their_page_text(server: FeedServer) -> None:
    entries, registry = poll_once(server, "auto")
    assert len(entries) == 8, "every entry is published, whatever happened to its page"
    summary_only = entries["Summary only"]
    assert summary_only.page_url == server.url("/articles/a.html")
    assert summary_only.page_text is not None and PARAGRAPHS[1] in summary_only.page_text
    article = clean_article(summary_only)
    assert all(paragraph in article.text for paragraph in PARAGRAPHS)
    for boilerplate in ("cookies", "Share on Facebook", "Most read", "All rights reserved", "Home"):
        assert boilerplate not in article.text
    assert article.summary == "Convoys reached Aleppo."  # the feed's own summary stays the summary
    assert registry.get_sample_value("newsflow_fulltext_fetches_total", {"outcome": "ok"}) == 3  # + 2 AMP


def test_entries_with_full_content_are_not_fetched_in_auto_mode(server: FeedServer) -> None:
    entries, _ = poll_once(server, "auto")
    assert server.requests_for("/articles/full.html") == []
    assert entries["Full content"].page_text is None and entries["Full content"].page_error is None


def test_a_page_that_fails_leaves_the_reason_and_the_feed_text(server: FeedServer) -> None:
    entries, registry = poll_once(server, "auto")
    missing = entries["Missing page"]
    assert missing.page_text is None
    assert missing.page_error is not None and missing.page_error.startswith("fetch-rejected")
    assert clean_article(missing).text == "Gone."
    # the 404, the malformed redirect and the unreadable link
    assert registry.get_sample_value("newsflow_fulltext_fetches_total", {"outcome": "fetch-rejected"}) == 3


def test_a_redirect_to_a_private_address_is_refused(server: FeedServer) -> None:
    entries, registry = poll_once(server, "auto")
    evil = entries["Redirect to a private address"]
    assert evil.page_error is not None and evil.page_error.startswith("fetch-forbidden")
    assert registry.get_sample_value("newsflow_fulltext_fetches_total", {"outcome": "fetch-forbidden"}) == 1


def test_an_amp_page_keys_the_article_by_its_canonical_page(server: FeedServer) -> None:
    entries, _ = poll_once(server, "auto")
    amp = entries["AMP link"]
    canonical = server.url("/world/story.html")
    assert amp.article_key == canonical
    assert amp.page_canonical_url == canonical
    assert clean_article(amp).canonical_url == canonical


@pytest.mark.parametrize(
    ("mode", "fetched"),
    [
        pytest.param("never", [], id="never: no page is fetched"),
        pytest.param(
            "always",
            [
                "/articles/a.html",
                "/articles/full.html",
                "/articles/missing.html",
                "/articles/broken.html",
                "/amp/story.html",
                "/amp/home.html",
            ],
            id="always: full-content entries too",
        ),
    ],
)
def test_the_feed_setting_decides(server: FeedServer, mode: FullTextMode, fetched: list[str]) -> None:
    poll_once(server, mode)
    pages = sorted(
        {r.path for r in server.requests if r.path != "/feed.xml" and not r.path.endswith("evil.html")}
    )
    assert pages == sorted(fetched)


def test_unreadable_urls_are_rejected_not_fatal(server: FeedServer) -> None:
    entries, registry = poll_once(server, "auto")
    for title in ("Malformed redirect", "Unreadable link"):
        error = entries[title].page_error
        assert error is not None and error.startswith("fetch-rejected: invalid URL"), error
    assert registry.get_sample_value("newsflow_fulltext_fetches_total", {"outcome": "bug"}) is None
    assert registry.get_sample_value("newsflow_feed_fetches_total", {"outcome": "ok"}) == 1


def test_an_amp_canonical_pointing_at_the_home_page_does_not_rekey(server: FeedServer) -> None:
    entries, _ = poll_once(server, "auto")
    home = entries["AMP pointing home"]
    assert home.article_key == server.url("/amp/home.html")
    assert home.page_canonical_url is None and home.page_text is not None


def test_one_poll_fetches_at_most_the_configured_number_of_pages(server: FeedServer) -> None:
    entries, registry = poll_once(server, "auto", max_per_poll=2)
    assert len(entries) == 8
    limited = [e for e in entries.values() if (e.page_error or "").startswith("over-poll-limit")]
    tried = [e for e in entries.values() if e not in limited and (e.page_text or e.page_error)]
    assert len(limited) == 5  # 7 summary-only entries with http(s) links, 2 allowed
    assert registry.get_sample_value("newsflow_fulltext_fetches_total", {"outcome": "over-poll-limit"}) == 5
    assert len(tried) == 2
