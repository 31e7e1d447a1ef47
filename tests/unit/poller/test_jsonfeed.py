"""JSON Feed 1.0/1.1: detection, field mapping, identity shared with XML feeds, malformed input."""

from pathlib import Path
from typing import Any

import orjson
import pytest

from pipeline.errors import ParseError
from pipeline.models import RawArticle
from pipeline.poller.jsonfeed import is_json_feed, text_to_html
from pipeline.poller.parser import ParsedFeed, parse_feed

FIXTURES = Path(__file__).parents[2] / "fixtures" / "feeds"
FETCHED = "2026-11-21T12:00:00.000Z"
URL = "https://json.example/feed.json"


def parse(body: bytes, headers: dict[str, str] | None = None) -> ParsedFeed:
    return parse_feed(body, headers or {}, url=URL, feed_id="json", fetched_at=FETCHED)


def feed(*items: dict[str, Any], **top: Any) -> bytes:
    document = {"version": "https://jsonfeed.org/version/1.1", "title": "T", **top, "items": list(items)}
    return orjson.dumps(document)


def only(body: bytes) -> RawArticle:
    [entry] = parse(body).entries
    return entry


def fixture_entries() -> tuple[RawArticle, ...]:
    return parse((FIXTURES / "jsonfeed-1.1.json").read_bytes()).entries


def test_fixture_maps_every_field() -> None:
    ceasefire, markets, quake = fixture_entries()
    assert ceasefire.model_dump(exclude={"article_key"}) == {
        "schema_": "newsflow.raw/1",
        "feed_id": "json",
        "feed_url": URL,
        "source": "Fixture JSON Times",
        "feed_lang": "en-GB",
        "fetched_at": FETCHED,
        "guid": "https://json.example/world/ceasefire",
        "link": "https://json.example/world/ceasefire?utm_source=json",
        "title": "Ceasefire talks resume",
        "summary": "Talks &amp; more talks",
        "content": "<p>Negotiators met <b>again</b>.</p>",
        "authors": ("Ana Reporter",),
        "categories": ("world", "diplomacy"),
        "published": "2026-11-20T08:00:00Z",
        "updated": "2026-11-20T09:30:00Z",
        # the poller's full-text step fills these later, not the parser
        "page_url": None,
        "page_canonical_url": None,
        "page_text": None,
        "page_error": None,
    }
    assert ceasefire.article_key == "https://json.example/world/ceasefire"
    assert (markets.guid, markets.link) == ("42", "https://elsewhere.example/markets")
    assert (
        markets.content
        == "<p>Shares held.</p><p>Bonds &lt;slipped&gt; &amp; recovered.<br>Analysts shrugged.</p>"
    )
    assert markets.authors == ("Desk Editor",)  # the feed's authors stand in for the item's
    assert quake.link == "https://json.example/local/quake"  # relative to the feed URL


@pytest.mark.parametrize(
    ("name", "item", "field", "expected"),
    [
        (
            "url preferred over external_url",
            {"url": "https://a.example/1", "external_url": "https://b.example/"},
            "link",
            "https://a.example/1",
        ),
        (
            "html content preferred over text",
            {"content_html": "<p>h</p>", "content_text": "t"},
            "content",
            "<p>h</p>",
        ),
        ("blank text content is no content", {"title": "t", "content_text": " \n "}, "content", None),
        ("1.0 single author object", {"title": "t", "author": {"name": "Solo"}}, "authors", ("Solo",)),
        (
            "1.1 authors win over 1.0 author",
            {"title": "t", "authors": [{"name": "A"}], "author": {"name": "B"}},
            "authors",
            ("A",),
        ),
        ("numeric id kept as text", {"id": 7.5, "title": "t"}, "guid", "7.5"),
        ("boolean id ignored", {"id": True, "title": "t"}, "guid", None),
        ("non-string title ignored", {"id": "1", "title": {"text": "x"}}, "title", None),
        ("tags must be strings", {"title": "t", "tags": "world"}, "categories", ()),
        ("NUL escapes removed", {"title": "a\u0000b", "id": "x\u0000"}, "title", "ab"),
        (
            "summary is text, escaped into HTML",
            {"title": "t", "summary": "1 < 2 & 3"},
            "summary",
            "1 &lt; 2 &amp; 3",
        ),
    ],
)
def test_item_fields(name: str, item: dict[str, Any], field: str, expected: object) -> None:
    assert getattr(only(feed(item)), field) == expected, name


def test_feed_language_falls_back_to_the_content_language_header() -> None:
    [entry] = parse(feed({"id": "1", "title": "t"}), {"Content-Language": "de"}).entries
    assert entry.feed_lang == "de"


def test_json_item_and_rss_item_for_the_same_story_share_a_key() -> None:
    rss = (
        b'<rss version="2.0"><channel><title>x</title><item><title>Same story</title>'
        b"<link>https://same.example/story?utm_source=rss</link><guid>s-1</guid></item></channel></rss>"
    )
    [from_rss] = parse(rss).entries
    from_json = only(
        feed({"id": "s-1", "url": "https://same.example/story?utm_medium=json", "title": "Same story"})
    )
    assert from_json.article_key == from_rss.article_key == "https://same.example/story"


def test_items_sharing_a_url_with_different_content_keep_distinct_keys() -> None:
    items = [{"id": str(i), "url": "https://lazy.example/", "title": f"Item {i}"} for i in range(3)]
    assert len({entry.article_key for entry in parse(feed(*items)).entries}) == 3


@pytest.mark.parametrize(
    ("name", "prefix"),
    [
        ("utf-8 BOM", b"\xef\xbb\xbf"),
        ("leading whitespace", b"\n  \t"),
        ("BOM and whitespace", b"\xef\xbb\xbf\r\n"),
    ],
)
def test_detected_after_bom_and_whitespace(name: str, prefix: bytes) -> None:
    assert only(prefix + feed({"id": "1", "title": "t"})).title == "t", name


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("1.1", '{"version": "https://jsonfeed.org/version/1.1", "items": []}', True),
        ("1.0 with escaped slashes", '{"version":"https:\\/\\/jsonfeed.org\\/version\\/1"}', True),
        ("version after the items", '{"items": [], "version": "https://jsonfeed.org/version/1"}', True),
        ("other JSON", '{"version": "2.0", "items": []}', False),
        ("an array", '[{"version": "https://jsonfeed.org/version/1"}]', False),
        (
            "XML mentioning jsonfeed.org",
            '<rss><title>"version": "https://jsonfeed.org/"</title></rss>',
            False,
        ),
    ],
)
def test_detection(name: str, text: str, expected: bool) -> None:
    assert is_json_feed(text) is expected, name


MALFORMED = [
    ("invalid JSON", b'{"version": "https://jsonfeed.org/version/1.1", "items": [}'),
    ("items missing", b'{"version": "https://jsonfeed.org/version/1.1", "title": "t"}'),
    ("items is a string", b'{"version": "https://jsonfeed.org/version/1.1", "items": "none"}'),
    ("items hold no object", b'{"version": "https://jsonfeed.org/version/1.1", "items": [1, "two", null]}'),
    (
        "top-level version is not a string",
        b'{"version": 1, "_x": {"version": "https://jsonfeed.org/version/1"}, "items": []}',
    ),
    (
        "lone surrogate escape",
        b'{"version": "https://jsonfeed.org/version/1.1", "items": [{"title": "\\ud800"}]}',
    ),
    (
        "nesting deeper than orjson allows",
        b'{"version": "https://jsonfeed.org/version/1", "x": ' + b"[" * 2000 + b"]" * 2000 + b"}",
    ),
    ("trailing garbage", b'{"version": "https://jsonfeed.org/version/1.1", "items": []} <html>'),
]


@pytest.mark.parametrize(("name", "body"), MALFORMED, ids=[name for name, _ in MALFORMED])
def test_malformed_json_feeds(name: str, body: bytes) -> None:
    with pytest.raises(ParseError) as caught:
        parse(body)
    assert caught.value.reason == "malformed-json-feed", name


def test_invalid_items_are_skipped_when_others_are_valid() -> None:
    body = feed({"id": "1", "title": "good"}, "bad", [1, 2], {"id": "2", "title": "also good"})
    assert [entry.title for entry in parse(body).entries] == ["good", "also good"]


@pytest.mark.parametrize(
    ("name", "text", "html"),
    [
        ("one paragraph", "Hello", "<p>Hello</p>"),
        ("blank line splits paragraphs", "One.\n\nTwo.", "<p>One.</p><p>Two.</p>"),
        ("blank line with spaces", "One.\n  \t\nTwo.", "<p>One.</p><p>Two.</p>"),
        ("single newline is a line break", "Line\nnext", "<p>Line<br>next</p>"),
        ("markup is escaped", "<script>x</script> & co", "<p>&lt;script&gt;x&lt;/script&gt; &amp; co</p>"),
        ("surrounding blank lines ignored", "\n\nBody\n\n\n", "<p>Body</p>"),
        ("whitespace only", " \n ", None),
        ("nothing", None, None),
    ],
)
def test_text_to_html(name: str, text: str | None, html: str | None) -> None:
    assert text_to_html(text) == html, name
