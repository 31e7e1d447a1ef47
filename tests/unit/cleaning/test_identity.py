import pytest

from pipeline.cleaning.identity import EntryIdentity, article_id, article_keys, content_hash, key_kind


def entry(
    guid: str | None = None, link: str | None = None, title: str = "T", body: str = "B"
) -> EntryIdentity:
    return EntryIdentity(guid=guid, link=link, title=title, body=body)


CASCADE = [
    ("canonical URL first", entry("g1", "https://Example.org/a?utm_source=x"), "https://example.org/a"),
    ("GUID scoped to feed when no link", entry("g1", None), "guid:feed-a:g1"),
    ("GUID when link is not http", entry("g1", "javascript:alert(1)"), "guid:feed-a:g1"),
]


@pytest.mark.parametrize(("name", "item", "expected"), CASCADE, ids=[c[0] for c in CASCADE])
def test_key_cascade(name: str, item: EntryIdentity, expected: str) -> None:
    assert article_keys([item], "feed-a") == [expected]


def test_content_hash_when_no_guid_and_no_link() -> None:
    [key] = article_keys([entry(None, None, "Title", "Body")], "feed-a")
    assert key.startswith("hash:")
    assert key_kind(key) == "content"


def test_feed_reusing_one_guid_keeps_every_item() -> None:
    items = [entry("same", None, f"Title {n}", f"Body {n}") for n in range(20)]
    assert len(set(article_keys(items, "feed-a"))) == 20


def test_feed_reusing_one_link_keeps_every_item() -> None:
    items = [entry(f"guid-{n}", "https://example.org/", f"Title {n}") for n in range(5)]
    keys = article_keys(items, "feed-a")
    assert len(set(keys)) == 5
    assert all(key.startswith("https://example.org/#guid=") for key in keys)


def test_reposts_in_one_feed_share_the_key() -> None:
    items = [entry("g1", "https://example.org/a"), entry("g2", "https://example.org/a?utm_source=tw")]
    assert article_keys(items, "f") == ["https://example.org/a", "https://example.org/a"]


def test_keys_are_stable_across_polls() -> None:
    items = [entry("g1", "https://example.org/a"), entry("g2", "https://example.org/b")]
    assert article_keys(items, "f") == article_keys(list(items), "f")


def test_same_article_in_two_feeds_has_one_key() -> None:
    [a] = article_keys([entry("x", "https://example.org/a?utm_source=one")], "feed-a")
    [b] = article_keys([entry("y", "https://example.org/a#top")], "feed-b")
    assert a == b


def test_article_id_is_stable_and_short() -> None:
    assert article_id("https://example.org/a") == article_id("https://example.org/a")
    assert article_id("https://example.org/a") != article_id("https://example.org/b")
    assert len(article_id("k")) == 32


HASH_EQUAL = [
    ("whitespace", ("Title", "A  b\n\nc"), ("Title ", "A b c")),
    ("case", ("TITLE", "Body"), ("title", "body")),
    ("unicode form", ("Café", "x"), ("Cafe\u0301", "x")),
]


@pytest.mark.parametrize(("name", "a", "b"), HASH_EQUAL, ids=[c[0] for c in HASH_EQUAL])
def test_content_hash_ignores_cosmetic_changes(name: str, a: tuple[str, str], b: tuple[str, str]) -> None:
    assert content_hash(*a) == content_hash(*b)


def test_content_hash_sees_real_changes() -> None:
    assert content_hash("Title", "Five dead") != content_hash("Title", "Seven dead")
