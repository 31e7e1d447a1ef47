"""Bad input is cleaned or rejected with a reason (dead-letter); it never crashes the stage."""

from __future__ import annotations

import pytest

from pipeline import codec
from pipeline.cleaning import MAX_HTML_CHARS, MAX_TEXT_CHARS, clean_article
from pipeline.errors import InvalidArticle
from pipeline.models import CleanArticle, RawArticle
from pipeline.poller.parser import parse_feed

FETCHED = "2026-11-21T12:00:00.000Z"


def raw(**fields: object) -> RawArticle:
    values: dict[str, object] = {"article_key": "k", "feed_id": "bad", "fetched_at": FETCHED}
    values.update(fields)
    return RawArticle.model_validate(values)


def text_fields(article: CleanArticle) -> list[str]:
    return [
        article.title,
        article.summary,
        article.text,
        article.content_html,
        *(article.authors),
        *(article.categories),
        article.source or "",
    ]


def test_invalid_utf8_message_is_rejected_with_a_reason() -> None:
    message = b'{"schema":"newsflow.raw/1","article_key":"k","feed_id":"f","fetched_at":"' + FETCHED.encode()
    message += b'","title":"\xff\xfe broken"}'
    with pytest.raises(InvalidArticle) as caught:
        codec.decode(message, RawArticle)
    assert caught.value.reason == "undecodable"


def test_invalid_utf8_in_a_feed_is_decoded_not_fatal() -> None:
    feed = (
        b'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>T</title>'
        b"<item><title>Caf\xe9 \xff\xfe news</title><link>https://news.example/a</link>"
        b"<description>Body \xc3\x28 text</description></item></channel></rss>"
    )
    parsed = parse_feed(feed, {}, url="https://news.example/rss", feed_id="bad", fetched_at=FETCHED)
    article = clean_article(parsed.entries[0])
    assert "news" in article.title
    assert all("\x00" not in field for field in text_fields(article))


def test_nuls_and_controls_in_every_field_are_removed() -> None:
    dirty = "A\x00 ceasefire\x07 held\x1b[31m\x7f"
    article = clean_article(
        raw(
            title=dirty,
            summary=f"<p>{dirty}</p>",
            content=f"<p>{dirty}</p><p>second</p>",
            authors=("Jane\x00 Doe\x1b",),
            categories=(dirty,),
            source=f"Source {dirty}",
            link="https://news.example/\x00a",
        )
    )
    for field in text_fields(article):
        assert not any(ord(ch) < 32 and ch not in "\n" for ch in field), repr(field)
        assert "\x7f" not in field
    assert "ceasefire" in article.text


def test_a_5_mb_html_body_is_cleaned_within_bounds() -> None:
    body = "<p>The ceasefire held overnight in the city.</p>" * 110_000  # ≈ 5.3 MB
    assert len(body) > 5_000_000
    article = clean_article(raw(title="Huge", content=body))
    assert article.text.startswith("The ceasefire held overnight")
    assert len(article.text) <= MAX_HTML_CHARS
    assert len(article.content_html) <= MAX_HTML_CHARS + 1024


def test_a_5_mb_page_text_is_bounded() -> None:
    article = clean_article(raw(title="Huge page", summary="s", page_text="word " * 1_100_000))
    assert 0 < len(article.text) <= MAX_TEXT_CHARS


@pytest.mark.parametrize(
    "html",
    [
        pytest.param("<div>" * 10_000 + "deep text" + "</div>" * 10_000, id="10,000 nested divs"),
        pytest.param("<b>" * 10_000 + "deep text", id="10,000 unclosed inline tags"),
        pytest.param("<table><tr><td>" * 3_000 + "deep text", id="3,000 nested tables"),
        pytest.param("<ul><li>" * 10_000 + "deep text", id="10,000 nested lists"),
        pytest.param("<p>" + "<" * 100_000 + "</p>", id="100,000 bare angle brackets"),
        pytest.param("<!--" * 50_000, id="unterminated comments"),
    ],
)
def test_pathological_nesting_is_cleaned_or_rejected(html: str) -> None:
    try:
        article = clean_article(raw(title="Deep", content=html))
    except InvalidArticle as exc:  # acceptable: dead-lettered with this reason
        assert exc.reason
        return
    assert "<div" not in article.text and "<b>" not in article.text
    assert "<script" not in article.content_html


def test_an_entry_with_nothing_readable_is_rejected() -> None:
    with pytest.raises(InvalidArticle) as caught:
        clean_article(raw(title="  \x00 ", content="<script>only()</script><style>x{}</style>"))
    assert caught.value.reason == "empty-article"


def test_a_bad_fetched_at_is_rejected() -> None:
    with pytest.raises(InvalidArticle) as caught:
        clean_article(raw(title="t", fetched_at="yesterday"))
    assert caught.value.reason == "schema-invalid"
