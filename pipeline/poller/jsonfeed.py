"""JSON Feed 1.0/1.1 (https://www.jsonfeed.org/version/1.1/) → raw articles.

Items map to the same ``RawArticle`` fields as RSS/Atom entries and get their keys from
``pipeline.cleaning.identity.article_keys``, so an article keeps its identity whichever format a
publisher serves. JSON Feed text fields are plain text: ``summary`` and ``content_text`` are
escaped into HTML (the cleaning stage treats summary and content as HTML), titles stay text.
Decoding uses orjson (C, no recursion beyond its fixed depth limit); a body that is not
JSON, or JSON without the required structure, is a ``ParseError("malformed-json-feed")``.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin

import orjson

from pipeline.cleaning.identity import EntryIdentity, article_keys
from pipeline.errors import ParseError
from pipeline.models import RawArticle

# A "version" member whose value names jsonfeed.org (slashes may be escaped as "\/").
_VERSION = re.compile(r'"version"\s*:\s*"[^"]{0,200}?jsonfeed\.org')
# Characters XML 1.0 forbids and PostgreSQL text rejects (NUL); JSON may carry them escaped.
_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_PARAGRAPH_BREAK = re.compile(r"\n[ \t\r\f\v]*\n")
MALFORMED = "malformed-json-feed"


@dataclass(frozen=True, slots=True)
class JsonFeed:
    title: str | None
    lang: str | None
    entries: tuple[RawArticle, ...]


def is_json_feed(text: str) -> bool:
    """True when ``text`` (BOM and leading whitespace removed) is meant to be a JSON Feed."""
    return text.startswith("{") and _VERSION.search(text) is not None


def read_json_feed(
    text: str, headers: Mapping[str, str], *, url: str, feed_id: str, fetched_at: str
) -> JsonFeed:
    """Parse a JSON Feed document; raises ``ParseError("malformed-json-feed")``."""
    try:
        document = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise ParseError(MALFORMED, f"invalid JSON: {str(exc)[:200]}") from None
    if not isinstance(document, dict):
        raise ParseError(MALFORMED, "the top level is not an object")
    version = document.get("version")
    if not isinstance(version, str) or "jsonfeed.org" not in version:
        raise ParseError(MALFORMED, "no jsonfeed.org version")
    items = document.get("items")
    if not isinstance(items, list):
        raise ParseError(MALFORMED, '"items" is missing or not an array')
    valid = [item for item in items if isinstance(item, dict)]
    if items and not valid:
        raise ParseError(MALFORMED, '"items" holds no object')
    feed_title = _string(document.get("title"))
    lang = _string(document.get("language")) or headers.get("content-language")
    feed_authors = _authors(document)
    identities = [_identity(item, url) for item in valid]
    keys = article_keys(identities, feed_id)
    entries = tuple(
        RawArticle(
            article_key=key,
            feed_id=feed_id,
            feed_url=url,
            source=feed_title,
            feed_lang=lang,
            fetched_at=fetched_at,
            guid=identity.guid,
            link=identity.link,
            title=identity.title,
            summary=_escaped(_string(item.get("summary"))),
            content=_content(item),
            authors=_authors(item) or feed_authors,
            categories=_strings(item.get("tags")),
            published=_string(item.get("date_published")),
            updated=_string(item.get("date_modified")),
        )
        for item, identity, key in zip(valid, identities, keys, strict=True)
    )
    return JsonFeed(title=feed_title, lang=lang, entries=entries)


def _identity(item: Mapping[str, Any], base_url: str) -> EntryIdentity:
    link = _string(item.get("url")) or _string(item.get("external_url"))
    return EntryIdentity(
        guid=_id(item.get("id")),
        link=_resolved(base_url, link) if link else None,
        title=_string(item.get("title")),
        body=_content(item) or _string(item.get("summary")),
    )


def _resolved(base_url: str, link: str) -> str:
    """The link made absolute against the feed URL; kept as given when it is no valid URL
    (cleaning then drops it: only http/https links with a host survive)."""
    try:
        return urljoin(base_url, link.strip())
    except ValueError:  # "http://[::1", hosts invalid under NFKC
        return link


def _id(value: object) -> str | None:
    """Item ids are strings by the spec; numbers occur in the wild and are kept as text."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return _string(value)


def _content(item: Mapping[str, Any]) -> str | None:
    return _string(item.get("content_html")) or text_to_html(_string(item.get("content_text")))


def text_to_html(text: str | None) -> str | None:
    """Plain text as HTML paragraphs: blank lines separate paragraphs, newlines become <br>."""
    if not text or not text.strip():
        return None
    paragraphs = (part.strip() for part in _PARAGRAPH_BREAK.split(text.strip()))
    return "".join("<p>" + html.escape(part).replace("\n", "<br>") + "</p>" for part in paragraphs if part)


def _escaped(text: str | None) -> str | None:
    return html.escape(text) if text else None


def _authors(holder: Mapping[str, Any]) -> tuple[str, ...]:
    """JSON Feed 1.1 ``authors`` (array), else 1.0 ``author`` (object): their names."""
    authors = holder.get("authors")
    people: Sequence[Any] = authors if isinstance(authors, list) else [holder.get("author")]
    names = (_string(person.get("name")) for person in people if isinstance(person, dict))
    return tuple(name for name in names if name and name.strip())


def _strings(values: object) -> tuple[str, ...]:
    if not isinstance(values, list):
        return ()
    found = (_string(value) for value in values)
    return tuple(value for value in found if value and value.strip())


def _string(value: object) -> str | None:
    """A string member without characters XML and PostgreSQL refuse; anything else is None."""
    if not isinstance(value, str) or not value:
        return None
    return _ILLEGAL.sub("", value) or None
