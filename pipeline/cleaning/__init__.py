"""The cleaning stage: ``clean_article(raw, rules)`` composes the steps in a fixed order."""

from __future__ import annotations

from datetime import datetime

from pipeline.cleaning.boilerplate import BoilerplateRules, default_rules, remove_boilerplate_lines
from pipeline.cleaning.dates import published_at
from pipeline.cleaning.html import html_to_text, sanitize_html
from pipeline.cleaning.identity import article_id, content_hash
from pipeline.cleaning.language import SAMPLE_CHARS, detect_language
from pipeline.cleaning.text import normalize_text, strip_invisible, summarize
from pipeline.cleaning.titles import clean_title, plain_line
from pipeline.cleaning.urls import canonical_url, safe_http_url
from pipeline.clock import parse_rfc3339, rfc3339
from pipeline.errors import InvalidArticle
from pipeline.models import CleanArticle, RawArticle

__all__ = ["BoilerplateRules", "clean_article"]
SUMMARY_CHARS = 400
# Bounds on what one article may cost: no news article needs more, and a hostile 5 MB body
# must not hold the stage for seconds. Longer input is cut (HTML parsers cope with a cut tag).
MAX_HTML_CHARS = 512 * 1024
MAX_TEXT_CHARS = 256 * 1024


def clean_article(
    raw: RawArticle, rules: BoilerplateRules | None = None, summary_chars: int = SUMMARY_CHARS
) -> CleanArticle:
    """Turn one untrusted feed entry into a clean article.

    Order matters: text is extracted from the *unsanitised* HTML (so dropped elements like
    scripts never leak into text) or taken from the page the poller fetched, boilerplate
    goes before anything is derived from the text, the sanitiser runs last on the HTML copy
    only, and the content hash is taken from the final text so cosmetic changes do not count.
    """
    rules = rules or default_rules()
    authors = tuple(name for name in (plain_line(author) for author in raw.authors) if name)
    # Raw titles are text (the parser flattened HTML ones); the site name some feeds append
    # to every title goes.
    title = clean_title(raw.title or "", raw.source, raw.link)
    body_html = (raw.content or raw.summary or "")[:MAX_HTML_CHARS]
    text = _text(raw, body_html, rules, authors)
    if not title and not text:
        raise InvalidArticle("empty-article", "entry has neither title nor text")
    has_fuller_text = bool(raw.content or raw.page_text)
    feed_summary = (
        html_to_text(raw.summary[:MAX_HTML_CHARS], rules, authors) if raw.summary and has_fuller_text else ""
    )
    summary = summarize(feed_summary or text, summary_chars)
    fetched = _fetched_at(raw)
    lang = detect_language(f"{title}\n{text[:SAMPLE_CHARS]}", raw.feed_lang).lang  # no 5 KB copy
    return CleanArticle(
        id=article_id(raw.article_key),
        article_key=raw.article_key,
        url=safe_http_url(raw.link),
        canonical_url=canonical_url(raw.page_canonical_url or raw.link),
        feed_id=raw.feed_id,
        source=plain_line(raw.source) or None if raw.source else None,
        title=title or summarize(text, 120),
        summary=summary,
        text=text,
        content_html=sanitize_html(strip_invisible(body_html)),
        lang=lang,
        authors=authors,
        categories=tuple(name for name in (plain_line(c) for c in raw.categories) if name),
        published_at=published_at(raw.published or raw.updated, fetched, lang),
        published_raw=raw.published or raw.updated,
        fetched_at=rfc3339(fetched),
        content_hash=content_hash(title, text),
    )


def _text(raw: RawArticle, body_html: str, rules: BoilerplateRules, authors: tuple[str, ...]) -> str:
    """The article's plain text: the page's main text when the poller fetched it, else the
    feed's HTML; either way without boilerplate."""
    if raw.page_text:
        page_text = remove_boilerplate_lines(normalize_text(raw.page_text[:MAX_TEXT_CHARS]), rules, authors)
        if page_text:
            return page_text
    return html_to_text(body_html, rules, authors)


def _fetched_at(raw: RawArticle) -> datetime:
    try:
        return parse_rfc3339(raw.fetched_at)
    except ValueError:
        raise InvalidArticle("schema-invalid", "fetched_at is not an RFC 3339 time") from None
