from datetime import UTC, datetime

from pipeline.cleaning.identity import article_id
from pipeline.dedup import Fresh, SeenRecord, Suppressed, decide
from pipeline.models import CleanArticle

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


def article(
    key: str = "https://example.org/a", content_hash: str = "h1", url: str | None = None
) -> CleanArticle:
    return CleanArticle(
        id=article_id(key),
        article_key=key,
        url=url or key,
        canonical_url=key,
        feed_id="f",
        source=None,
        title="T",
        summary="S",
        text="S",
        content_html="<p>S</p>",
        lang="en",
        authors=(),
        published_at="2026-11-21T10:00:00.000Z",
        published_raw=None,
        fetched_at="2026-11-21T11:00:00.000Z",
        content_hash=content_hash,
    )


def test_unknown_key_is_a_new_article() -> None:
    decision = decide(article(), None, NOW)
    assert isinstance(decision, Fresh)
    assert decision.article.revision == 1
    assert decision.article.update_of is None
    assert decision.record.revision == 1


def test_same_key_same_content_is_suppressed_and_explained() -> None:
    first = decide(article(), None, NOW)
    again = decide(article(url="https://example.org/a?utm_source=x"), first.record, NOW)
    assert isinstance(again, Suppressed)
    assert again.duplicate.duplicate_of == first.article.id
    assert again.duplicate.kind == "exact-url"
    assert again.duplicate.similarity == 1.0
    assert again.duplicate.url == "https://example.org/a?utm_source=x"


def test_guid_key_reports_guid_kind() -> None:
    first = decide(article("guid:f:123"), None, NOW)
    again = decide(article("guid:f:123"), first.record, NOW)
    assert isinstance(again, Suppressed)
    assert again.duplicate.kind == "guid"


def test_changed_content_is_a_revision() -> None:
    first = decide(article(content_hash="h1"), None, NOW)
    update = decide(article(content_hash="h2"), first.record, NOW)
    assert isinstance(update, Fresh)
    assert update.article.revision == 2
    assert update.article.update_of == first.article.id
    third = decide(article(content_hash="h3"), update.record, NOW)
    assert isinstance(third, Fresh)
    assert third.article.revision == 3


def test_record_round_trips_through_dict() -> None:
    record = SeenRecord("id", "hash", 2, "2026-11-21T00:00:00.000Z", "2026-11-21T01:00:00.000Z")
    assert SeenRecord.from_dict(record.to_dict()) == record
