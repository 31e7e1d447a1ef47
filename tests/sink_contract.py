"""The storage sink contract, run against every sink (arroyo's backend-mixin style).

A backend's test module subclasses :class:`SinkContract` and provides two things:

- a ``sink_url`` fixture: the URL of a fresh, empty database;
- ``stored(url)``: every stored row read back *without* the sink (the driver directly), as
  ``Article`` objects sorted by (id, revision), so the suite checks what really is in the table.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import orjson
import pytest

from pipeline.clock import rfc3339
from pipeline.models import Article, Tag, TagMatch
from pipeline.sinks import RejectedArticle, SearchableSink, open_sink

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


def make_article(
    number: int = 1,
    *,
    revision: int = 1,
    title: str = "Ceasefire holds in Aleppo",
    summary: str = "Residents returned to the markets on Saturday.",
    text: str = "Aid convoys crossed the front line for the first time in weeks.",
    tags: tuple[str, ...] = ("ceasefire",),
    published: datetime = NOW - timedelta(hours=1),
    authors: tuple[str, ...] = ("Jane Reporter", "Sam Stringer"),
    **fields: Any,
) -> Article:
    return Article(
        id=f"{number:032x}",
        article_key=f"https://news.example/{number}",
        revision=revision,
        update_of=f"{number:032x}" if revision > 1 else None,
        url=f"https://news.example/{number}",
        canonical_url=f"https://news.example/{number}",
        feed_id="example-world",
        source="Example News",
        title=title,
        summary=summary,
        text=text,
        content_html=f"<p>{text}</p>",
        lang="en",
        authors=authors,
        categories=("World",),
        published_at=rfc3339(published),
        published_raw="Sat, 21 Nov 2026 11:00:00 GMT",
        fetched_at=rfc3339(NOW - timedelta(minutes=30)),
        processed_at=rfc3339(NOW - timedelta(minutes=29)),
        content_hash=f"{number:064x}",
        tags=tuple(
            Tag(
                name=name,
                score=2.5 - index,
                kind="place" if name == "aleppo" else "topic",
                matches=(TagMatch(term=name, field="title", count=1),),
                country="SY" if name == "aleppo" else None,
                geonameid=170063 if name == "aleppo" else None,
            )
            for index, name in enumerate(tags)
        ),
        **fields,
    )


def article_from_row(row: Mapping[str, Any]) -> Article:
    """An Article from a stored row (JSON columns as text or parsed, times as text or datetime)."""
    values = dict(row)
    for name in ("authors", "categories", "tags"):
        if isinstance(values[name], str | bytes):
            values[name] = orjson.loads(values[name])
    for name in ("published_at", "fetched_at", "processed_at"):
        if isinstance(values[name], datetime):
            values[name] = rfc3339(values[name])
    return Article.model_validate(values)


HOSTILE_QUERIES = [
    '"aleppo" OR x',
    '"unbalanced quote',
    'stray " quote "',
    '""',
    '"',
    "*",
    "aleppo*",
    "-",
    "--",
    "-aleppo",
    "a -",
    "(aleppo",
    "aleppo)",
    "(",
    ")",
    "AND",
    "OR",
    "NOT",
    "aleppo AND OR NOT",
    "NEAR(aleppo ceasefire, 2)",
    "title:aleppo",
    "^aleppo",
    "aleppo\x00ceasefire",
    "\x00",
    "':* & | ! <->",
    "aleppo & ceasefire | !x",
    "\ud800 lone surrogate",
    "ﾃｽﾄ 🙂 \u202e",
    "x" * 5000,
    "",
    "   ",
]


class SinkContract:
    """Every sink must pass these. Subclasses provide ``sink_url`` and ``stored``."""

    async def stored(self, url: str) -> list[Article]:
        raise NotImplementedError

    @pytest.fixture
    async def sink(self, sink_url: str) -> AsyncIterator[SearchableSink]:
        sink = open_sink(sink_url)
        await sink.migrate()
        yield sink
        await sink.close()

    # -- schema ------------------------------------------------------------------------------

    async def test_migrate_twice_is_harmless(self, sink: SearchableSink, sink_url: str) -> None:
        assert await sink.migrate() == []
        again = open_sink(sink_url)
        try:
            assert await again.migrate() == []
        finally:
            await again.close()
        assert await sink.write_batch([make_article()]) == 1

    async def test_ping_answers_while_the_database_is_up(self, sink: SearchableSink) -> None:
        await sink.ping()  # raises Unavailable otherwise (the worker's /readyz database check)
        assert await sink.write_batch([make_article()]) == 1

    # -- writes ------------------------------------------------------------------------------

    async def test_one_article_is_one_row_with_every_field(self, sink: SearchableSink, sink_url: str) -> None:
        article = make_article(story_id="story-7")
        assert await sink.write_batch([article]) == 1
        assert await self.stored(sink_url) == [article]

    async def test_empty_batch_writes_nothing(self, sink: SearchableSink, sink_url: str) -> None:
        assert await sink.write_batch([]) == 0
        assert await self.stored(sink_url) == []

    async def test_redelivered_batch_leaves_the_same_rows(self, sink: SearchableSink, sink_url: str) -> None:
        batch = [make_article(n) for n in range(1, 4)]
        assert await sink.write_batch(batch) == 3
        assert await sink.write_batch(batch) == 0  # at-least-once: nothing changed, nothing counted
        assert await self.stored(sink_url) == batch

    async def test_same_article_twice_in_one_batch(self, sink: SearchableSink, sink_url: str) -> None:
        assert await sink.write_batch([make_article(1), make_article(1)]) == 1
        assert len(await self.stored(sink_url)) == 1

    async def test_reprocessed_article_is_updated_in_place(self, sink: SearchableSink, sink_url: str) -> None:
        await sink.write_batch([make_article(1, tags=("ceasefire",))])
        retagged = make_article(1, tags=("ceasefire", "aleppo"))
        assert await sink.write_batch([retagged]) == 1
        assert await self.stored(sink_url) == [retagged]

    async def test_new_revision_is_a_new_row_and_search_shows_it(
        self, sink: SearchableSink, sink_url: str
    ) -> None:
        first = make_article(1, title="Truce announced in Aleppo")
        second = make_article(1, revision=2, title="Ceasefire collapses in Aleppo")
        await sink.write_batch([first])
        assert await sink.write_batch([second]) == 1
        assert [(a.id, a.revision) for a in await self.stored(sink_url)] == [(first.id, 1), (first.id, 2)]
        hits = await sink.search("aleppo")
        assert [(h.id, h.revision, h.title) for h in hits] == [(first.id, 2, second.title)]
        assert await sink.search("truce") == []  # only the superseded revision said "truce"

    async def test_a_batch_of_500_in_one_call(self, sink: SearchableSink, sink_url: str) -> None:
        batch = [make_article(n, text=f"Report number {n} from the border.") for n in range(500)]
        assert await sink.write_batch(batch) == 500
        assert len(await self.stored(sink_url)) == 500
        assert len(await sink.search("border", limit=1000)) == 500

    UNICODE: ClassVar[dict[str, tuple[str, str, str]]] = {
        "arabic": ("وقف إطلاق النار في حلب", "صمد وقف إطلاق النار", "حلب"),
        "chinese": ("阿勒颇 停火 协议", "居民 返回 市场", "停火"),
        "japanese": ("アレッポ 停戦", "住民が 市場に 戻った", "停戦"),
        "mixed": ("Zürich ½ “quotes” — café 🙂\u200d and e\u0301", "naïve façade", "café"),
    }

    @pytest.mark.parametrize("script", UNICODE)
    async def test_unicode_survives_and_is_searchable(
        self, sink: SearchableSink, sink_url: str, script: str
    ) -> None:
        title, summary, word = self.UNICODE[script]
        text = f"{title}\n\n{summary}"
        article = make_article(1, title=title, summary=summary, text=text, authors=("مراسل",))
        await sink.write_batch([article])
        assert await self.stored(sink_url) == [article]
        assert [hit.title for hit in await sink.search(word)] == [title]

    @pytest.mark.parametrize(
        ("field", "value", "reason"),
        [
            ("title", "Aleppo\x00", "nul-character"),
            ("text", "lone \ud800 surrogate", "invalid-unicode"),
            ("published_at", "last Tuesday", "bad-time"),
        ],
    )
    async def test_an_article_no_database_can_store_is_rejected_by_id(
        self, sink: SearchableSink, sink_url: str, field: str, value: str, reason: str
    ) -> None:
        bad = make_article(2).model_copy(update={field: value})
        with pytest.raises(RejectedArticle) as caught:
            await sink.write_batch([make_article(1), bad, make_article(3)])
        assert caught.value.article_id == bad.id and caught.value.reason == reason
        assert bad.id in str(caught.value)
        # The caller dead-letters it and writes the rest again.
        assert await sink.write_batch([make_article(1), make_article(3)]) == 2

    # -- search ------------------------------------------------------------------------------

    @pytest.mark.parametrize("field", ["title", "summary", "text"])
    async def test_search_finds_words_in_each_field(self, sink: SearchableSink, field: str) -> None:
        plain = {"title": "Markets open", "summary": "Trading was calm.", "text": "Shares rose slightly."}
        matching = make_article(1, **(plain | {field: "Convoy reaches Idlib"}))
        await sink.write_batch([matching, make_article(2, **plain)])
        hits = await sink.search("IDLIB")  # case does not matter
        assert [hit.id for hit in hits] == [make_article(1).id]

    async def test_title_match_ranks_above_body_match(self, sink: SearchableSink) -> None:
        body = make_article(1, title="Weather report", text="Later, talks about the truce resumed.")
        title = make_article(2, title="Truce talks resume", text="Negotiators met again.")
        await sink.write_batch([body, title])
        assert [hit.id for hit in await sink.search("truce")] == [title.id, body.id]

    async def test_equal_relevance_newest_first_and_limit(self, sink: SearchableSink) -> None:
        batch = [make_article(n, published=NOW - timedelta(hours=n)) for n in range(1, 6)]
        await sink.write_batch(batch)
        hits = await sink.search("aleppo", limit=3)
        assert [hit.id for hit in hits] == [a.id for a in batch[:3]]
        assert hits[0].published_at == NOW - timedelta(hours=1)
        assert hits[0].tags == ("ceasefire",) and hits[0].source == "Example News"

    async def test_quoted_phrase_or_and_exclusion(self, sink: SearchableSink) -> None:
        adjacent = make_article(1, title="Aid convoy reaches Aleppo")
        apart = make_article(2, title="Convoy of aid trucks stopped near Aleppo")
        other = make_article(3, title="Flooding in Idlib")
        await sink.write_batch([adjacent, apart, other])

        async def ids(query: str) -> set[str]:
            return {hit.id for hit in await sink.search(query)}

        assert await ids('"aid convoy"') == {adjacent.id}
        assert await ids("aid convoy") == {adjacent.id, apart.id}
        assert await ids("idlib or trucks") == {other.id, apart.id}
        assert await ids("aleppo -trucks") == {adjacent.id}
        assert await ids('aleppo -"aid convoy"') == {apart.id}

    async def test_tag_filter(self, sink: SearchableSink) -> None:
        both = make_article(1, tags=("ceasefire", "aleppo"))
        one = make_article(2, tags=("ceasefire",))
        await sink.write_batch([both, one])
        assert [hit.id for hit in await sink.search("aleppo", tag="aleppo")] == [both.id]
        assert {hit.id for hit in await sink.search("aleppo", tag="ceasefire")} == {both.id, one.id}
        assert await sink.search("aleppo", tag="sport") == []
        assert await sink.search("aleppo", tag='"x\x00') == []

    async def test_since_filter(self, sink: SearchableSink) -> None:
        recent = make_article(1, published=NOW - timedelta(hours=2))
        old = make_article(2, published=NOW - timedelta(days=3))
        await sink.write_batch([recent, old])
        assert [hit.id for hit in await sink.search("aleppo", since=NOW - timedelta(hours=24))] == [recent.id]
        assert await sink.search("aleppo", since=NOW) == []
        naive = (NOW - timedelta(days=7)).replace(tzinfo=None)  # read as UTC
        assert len(await sink.search("aleppo", since=naive)) == 2

    @pytest.mark.parametrize("query", HOSTILE_QUERIES, ids=range(len(HOSTILE_QUERIES)))
    async def test_hostile_queries_never_raise(self, sink: SearchableSink, query: str) -> None:
        await sink.write_batch([make_article(1), make_article(2, title="x AND y OR z (NOT) *")])
        hits = await sink.search(query)
        assert isinstance(hits, list)

    @pytest.mark.parametrize("query", ["", "   ", "-aleppo", '-"aid convoy"', "*", "OR"])
    async def test_queries_without_a_positive_word_match_nothing(
        self, sink: SearchableSink, query: str
    ) -> None:
        await sink.write_batch([make_article(1)])
        assert await sink.search(query) == []

    # -- lifecycle ---------------------------------------------------------------------------

    async def test_close_then_reopen_keeps_data(self, sink: SearchableSink, sink_url: str) -> None:
        await sink.write_batch([make_article(1)])
        await sink.close()
        await sink.close()  # idempotent
        reopened = open_sink(sink_url)
        try:
            assert await reopened.migrate() == []
            assert [hit.id for hit in await reopened.search("ceasefire")] == [make_article(1).id]
            assert await reopened.write_batch([make_article(1)]) == 0
        finally:
            await reopened.close()
        with pytest.raises(RuntimeError):
            await sink.write_batch([make_article(2)])
