"""The cleaning stage: ``clean_article(raw)`` composes the steps in a fixed order."""

from __future__ import annotations

from datetime import datetime

from pipeline.cleaning.dates import published_at
from pipeline.cleaning.html import html_to_text, sanitize_html
from pipeline.cleaning.identity import article_id, content_hash
from pipeline.cleaning.text import single_line, summarize
from pipeline.cleaning.urls import canonical_url, safe_http_url
from pipeline.clock import parse_rfc3339, rfc3339
from pipeline.errors import InvalidArticle
from pipeline.models import CleanArticle, RawArticle

__all__ = ["clean_article"]


def clean_article(raw: RawArticle) -> CleanArticle:
    """Turn one untrusted feed entry into a clean article.

    Order matters: text is extracted from the *unsanitised* HTML (so dropped elements like
    scripts never leak into text), the sanitiser runs last on the HTML copy only, and the
    content hash is taken from the final text so cosmetic feed changes do not count.
    """
    title = single_line(raw.title or "")  # raw titles are text (the parser flattened HTML ones)
    body_html = raw.content or raw.summary or ""
    text = html_to_text(body_html)
    if not title and not text:
        raise InvalidArticle("empty-article", "entry has neither title nor text")
    summary = html_to_text(raw.summary) if raw.summary and raw.content else summarize(text)
    fetched = _fetched_at(raw)
    return CleanArticle(
        id=article_id(raw.article_key),
        article_key=raw.article_key,
        url=safe_http_url(raw.link),
        canonical_url=canonical_url(raw.link),
        feed_id=raw.feed_id,
        source=single_line(raw.source) if raw.source else None,
        title=title or summarize(text, 120),
        summary=summarize(summary),
        text=text,
        content_html=sanitize_html(body_html),
        lang=_bcp47(raw.feed_lang),
        authors=tuple(single_line(author) for author in raw.authors if author.strip()),
        categories=tuple(single_line(c) for c in raw.categories if c.strip()),
        published_at=published_at(raw.published or raw.updated, fetched),
        published_raw=raw.published or raw.updated,
        fetched_at=rfc3339(fetched),
        content_hash=content_hash(title, text),
    )


def _fetched_at(raw: RawArticle) -> datetime:
    try:
        return parse_rfc3339(raw.fetched_at)
    except ValueError:
        raise InvalidArticle("schema-invalid", "fetched_at is not an RFC 3339 time") from None


def _bcp47(tag: str | None) -> str | None:
    """``en-us`` → ``en-US``; None when the feed declares nothing usable."""
    if not tag:
        return None
    parts = tag.strip().replace("_", "-").split("-")
    if not parts[0].isalpha() or not 2 <= len(parts[0]) <= 3:
        return None
    rest = [p.upper() if len(p) == 2 else p.title() if len(p) == 4 else p.lower() for p in parts[1:]]
    return "-".join([parts[0].lower(), *rest])
