from newsflow.kafka_io import MAX_MESSAGE_BYTES, encode_bounded
from pipeline import codec
from pipeline.models import RawArticle


def raw(content: str) -> RawArticle:
    return RawArticle(
        article_key="https://big.example/a",
        feed_id="f",
        fetched_at="2026-11-21T10:00:00.000Z",
        title="Huge",
        summary="<p>Short summary.</p>",
        content=content,
    )


def test_small_entries_are_published_unchanged() -> None:
    article = raw("<p>fine</p>")
    assert encode_bounded(article) == codec.encode(article)


def test_oversized_entry_keeps_its_identity_and_summary_but_not_its_content() -> None:
    encoded = encode_bounded(raw("<p>" + "x" * 3_000_000 + "</p>"))
    assert len(encoded) <= MAX_MESSAGE_BYTES
    decoded = codec.decode(encoded, RawArticle)
    assert decoded.article_key == "https://big.example/a"
    assert decoded.content is None
    assert decoded.summary == "<p>Short summary.</p>"


def test_oversized_page_text_is_trimmed_not_fatal() -> None:
    article = raw("<p>fine</p>").model_copy(update={"page_text": "长文本" * 400_000})  # 3.6 MB in UTF-8
    encoded = encode_bounded(article)
    assert len(encoded) <= MAX_MESSAGE_BYTES
    decoded = codec.decode(encoded, RawArticle)
    assert decoded.page_text is not None and decoded.page_text.startswith("长文本")
