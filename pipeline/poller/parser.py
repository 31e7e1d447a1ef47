"""Feed bytes → raw articles. The parser sees bytes and response headers, never a URL.

Hostile-input rules applied before feedparser runs: a body declaring XML entities is
rejected (feedparser's loose fallback parser expands internal entities without limit), and
feedparser's own sanitiser is off because ours (nh3, in cleaning) runs on every HTML field.
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import feedparser

from pipeline.cleaning.html import html_to_text
from pipeline.errors import ParseError
from pipeline.identity import EntryIdentity, article_keys
from pipeline.models import RawArticle

# "<!ENTITY" in UTF-8/ASCII and in both UTF-16 byte orders.
_ENTITY_DECLARATION = re.compile(
    rb"<!ENTITY|<\x00!\x00E\x00N\x00T\x00I\x00T\x00Y\x00|\x00<\x00!\x00E\x00N\x00T\x00I\x00T\x00Y",
    re.IGNORECASE,
)
_HTML_TYPES = ("text/html", "application/xhtml+xml")


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    title: str | None
    lang: str | None
    entries: tuple[RawArticle, ...]


def parse_feed(
    body: bytes, headers: Mapping[str, str], *, url: str, feed_id: str, fetched_at: str
) -> ParsedFeed:
    """Parse one feed body; raises ``ParseError`` when it holds no readable feed."""
    if not body.strip():
        raise ParseError("empty-body", "the response body is empty")
    if _ENTITY_DECLARATION.search(body):
        raise ParseError("entity-declaration", "feed declares XML entities; rejected before parsing")
    response_headers = {"content-location": url, **{k.lower(): v for k, v in headers.items()}}
    parsed = feedparser.parse(io.BytesIO(body), response_headers=response_headers, sanitize_html=False)
    entries = list(parsed.entries)
    if not entries and not parsed.get("version"):
        raise ParseError("not-a-feed", "no RSS, Atom or RDF feed found (an HTML page?)")
    if not entries and parsed.bozo and not parsed.feed.get("title"):
        reason = type(parsed.get("bozo_exception")).__name__
        raise ParseError("malformed-feed", f"no feed found ({reason})")
    feed = parsed.feed
    source = _text(feed.get("title"), feed.get("title_detail"))
    lang = feed.get("language") or headers.get("content-language")
    identities = [_identity(entry) for entry in entries]
    keys = article_keys(identities, feed_id)
    raw = tuple(
        _raw_article(
            entry, key, feed_id=feed_id, feed_url=url, source=source, lang=lang, fetched_at=fetched_at
        )
        for entry, key in zip(entries, keys, strict=True)
    )
    return ParsedFeed(title=source, lang=lang, entries=raw)


def _text(value: str | None, detail: Mapping[str, Any] | None) -> str | None:
    """Titles are text: HTML-typed titles are flattened, plain ones kept verbatim."""
    if not value:
        return None
    if detail and detail.get("type") in _HTML_TYPES:
        return html_to_text(value)
    return value


def _content(entry: Mapping[str, Any]) -> str | None:
    contents = entry.get("content") or []
    values = [c.get("value", "") for c in contents if c.get("value")]
    return max(values, key=len) if values else None


def _identity(entry: Mapping[str, Any]) -> EntryIdentity:
    return EntryIdentity(
        guid=entry.get("id"),
        link=entry.get("link"),
        title=entry.get("title"),
        body=_content(entry) or entry.get("summary"),
    )


def _raw_article(entry: Mapping[str, Any], key: str, **feed: Any) -> RawArticle:
    authors = [a.get("name", "") for a in entry.get("authors", []) if a.get("name")]
    if not authors and entry.get("author"):
        authors = [entry["author"]]
    return RawArticle(
        article_key=key,
        feed_id=feed["feed_id"],
        feed_url=feed["feed_url"],
        source=feed["source"],
        feed_lang=feed["lang"],
        fetched_at=feed["fetched_at"],
        guid=entry.get("id"),
        link=entry.get("link"),
        title=_text(entry.get("title"), entry.get("title_detail")),
        summary=entry.get("summary"),
        content=_content(entry),
        authors=tuple(authors),
        categories=tuple(t.get("term") for t in entry.get("tags", []) if t.get("term")),
        published=_own(entry, "published"),
        updated=_own(entry, "updated"),
    )


def _own(entry: Mapping[str, Any], key: str) -> Any:
    """The entry's own value: FeedParserDict.get("published") silently falls back to "updated"."""
    return dict.get(entry, key) if isinstance(entry, dict) else entry.get(key)
