"""Message models: one frozen pydantic model per message kind on the wire (DESIGN §2).

Every message carries ``schema: "newsflow.<kind>/1"``; the JSON Schemas in
``pipeline/schemas/`` are the published contract and tests validate real output against them.
Unknown fields are ignored on decode so a newer producer never poisons an older consumer.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

CLEAN_SCHEMA = "newsflow.clean/1"
ARTICLE_SCHEMA = "newsflow.article/1"
DUPLICATE_SCHEMA = "newsflow.duplicate/1"


def _only(schema: str) -> str:
    """The pattern accepting exactly this schema value (a newer kind is not silently taken)."""
    return "^" + re.escape(schema) + "$"


DuplicateKind = Literal["exact-url", "guid", "content", "near"]


class _Message(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


class RawArticle(_Message):
    """One feed entry as the poller saw it: untrusted, uncleaned (topic ``news.raw``)."""

    schema_: Literal["newsflow.raw/1"] = Field("newsflow.raw/1", alias="schema")
    article_key: str = Field(min_length=1)
    feed_id: str = Field(min_length=1)
    feed_url: str | None = None
    source: str | None = None  # the feed's own title
    feed_lang: str | None = None
    fetched_at: str
    guid: str | None = None
    link: str | None = None
    title: str | None = None
    summary: str | None = None  # HTML or text as the feed gave it
    content: str | None = None  # full HTML content when the feed carries it
    authors: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    published: str | None = None  # raw date string, parsed by the cleaning stage
    updated: str | None = None
    # Full text, when the poller fetched the article page (feeds with full_text: auto|always).
    page_url: str | None = None
    page_canonical_url: str | None = None  # the canonical page an AMP page names
    page_text: str | None = None  # the page's main text, paragraphs separated by a blank line
    page_error: str | None = None  # why the page could not be used; the feed's text is used


class TagMatch(_Message):
    term: str
    field: Literal["title", "summary", "text"]
    count: int


class Tag(_Message):
    name: str
    score: float
    kind: str
    matches: tuple[TagMatch, ...]
    country: str | None = None  # ISO 3166-1 alpha-2, for places (gazetteer or taxonomy)
    geonameid: int | None = None  # the GeoNames id, for places from the gazetteer


class CleanArticle(_Message):
    """A cleaned article with its identity (topics ``news.clean`` and ``news.unique``)."""

    schema_: str = Field(CLEAN_SCHEMA, alias="schema", pattern=_only(CLEAN_SCHEMA))
    id: str
    article_key: str
    revision: int = 1
    update_of: str | None = None
    url: str | None
    canonical_url: str | None
    feed_id: str
    source: str | None
    title: str
    summary: str
    text: str
    content_html: str
    lang: str | None
    authors: tuple[str, ...]
    categories: tuple[str, ...] = ()
    published_at: str
    published_raw: str | None
    fetched_at: str
    content_hash: str


class Article(CleanArticle):
    """What subscribers read on ``news.articles``."""

    schema_: str = Field(ARTICLE_SCHEMA, alias="schema", pattern=_only(ARTICLE_SCHEMA))
    processed_at: str
    tags: tuple[Tag, ...]
    story_id: str | None = None


class Duplicate(_Message):
    """An explained suppression (topic ``news.duplicates``)."""

    schema_: str = Field(DUPLICATE_SCHEMA, alias="schema", pattern=_only(DUPLICATE_SCHEMA))
    id: str
    duplicate_of: str
    kind: DuplicateKind
    similarity: float
    url: str | None
    feed_id: str
    detected_at: str
