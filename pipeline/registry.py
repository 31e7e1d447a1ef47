"""The feed registry: where feeds come from, how they are recorded and how they are shared.

Feeds come from ``newsflow.yaml`` (``feeds:``), a feeds file (``feeds_file``: YAML with a
``feeds:`` list) and an OPML file (``opml_file``). ``newsflow feeds sync`` publishes them to
the compacted ``news.feeds`` topic (key = feed id); pollers share that topic's partitions by
Kafka group membership. A feed's partition is chosen by its **host**, so every feed of a
host belongs to the same poller process and per-host politeness holds across processes.
"""

from __future__ import annotations

import hashlib
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml
from pydantic import ValidationError

from pipeline.config import FeedSettings, Settings, describe_validation_error, read_yaml
from pipeline.errors import ConfigError

FEED_SCHEMA = "newsflow.feed/1"
_UNSAFE_XML = re.compile(rb"<!DOCTYPE|<!ENTITY", re.IGNORECASE)


def partition_for(url: str, partitions: int) -> int:
    """Stable partition of a feed: by host, so one poller owns all feeds of a host."""
    host = (urlsplit(url).hostname or "").lower()
    digest = hashlib.blake2b(host.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big") % partitions


def feed_record(feed: FeedSettings) -> dict[str, Any]:
    return {
        "schema": FEED_SCHEMA,
        "id": feed.id,
        "url": feed.url,
        "interval_seconds": feed.interval,
        "title": feed.title,
        "full_text": feed.full_text,
    }


def feed_from_record(record: dict[str, Any]) -> FeedSettings:
    """A registry record back into settings; ``ValueError`` if it is not a valid feed."""
    if record.get("schema") != FEED_SCHEMA:
        raise ValueError(f"not a {FEED_SCHEMA} record")
    try:
        return FeedSettings(
            id=record["id"],
            url=record["url"],
            interval=record["interval_seconds"],
            title=record.get("title"),
            full_text=record.get("full_text", "auto"),
        )
    except (KeyError, ValidationError) as exc:
        raise ValueError(f"invalid feed record: {exc}") from None


def load_feeds(settings: Settings) -> tuple[FeedSettings, ...]:
    """Every configured feed: config, feeds file and OPML file; ids must be unique."""
    feeds = list(settings.feeds)
    if settings.feeds_file is not None:
        feeds += read_feeds_file(settings.feeds_file)
    if settings.opml_file is not None:
        feeds += read_opml(settings.opml_file)
    seen: dict[str, str] = {}
    for feed in feeds:
        if feed.id in seen:
            raise ConfigError(f"feed id {feed.id!r} is defined twice ({seen[feed.id]} and {feed.url})")
        seen[feed.id] = feed.url
    return tuple(feeds)


def read_feeds_file(path: Path) -> list[FeedSettings]:
    data = read_yaml(path, "feeds file")
    entries = data.get("feeds") if isinstance(data, dict) else data
    if not isinstance(entries, list):
        raise ConfigError(f"{path}: expected a list of feeds (or a mapping with 'feeds:')")
    feeds = []
    for index, entry in enumerate(entries):
        try:
            feeds.append(FeedSettings.model_validate(entry))
        except ValidationError as exc:
            raise ConfigError(
                describe_validation_error(path, exc).replace(f"{path}: ", f"{path}: feeds.{index}.", 1)
            ) from None
    return feeds


def read_opml(path: Path, interval: float = 300.0) -> list[FeedSettings]:
    """Feeds of an OPML subscription list (every outline with an http(s) ``xmlUrl``)."""
    try:
        body = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read OPML file: {exc.strerror or exc}") from None
    if _UNSAFE_XML.search(body):
        raise ConfigError(f"{path}: OPML with a DOCTYPE or entity declarations is not accepted")
    try:
        root = ET.fromstring(body)
    except ET.ParseError as exc:
        raise ConfigError(f"{path}: invalid OPML: {exc}") from None
    feeds: list[FeedSettings] = []
    used: set[str] = set()
    for outline in root.iter("outline"):
        url = (outline.get("xmlUrl") or "").strip()
        if not re.match(r"^https?://", url, re.IGNORECASE):
            continue
        title = outline.get("title") or outline.get("text") or None
        feeds.append(FeedSettings(id=_unique_id(title or url, used), url=url, interval=interval, title=title))
    return feeds


def _unique_id(text: str, used: set[str]) -> str:
    base = re.sub(r"[^A-Za-z0-9._-]+", "-", text.lower().removeprefix("https://").removeprefix("http://"))
    base = base.strip("-.")[:100] or "feed"
    candidate, n = base, 2
    while candidate in used:
        candidate, n = f"{base}-{n}", n + 1
    used.add(candidate)
    return candidate


def to_opml(feeds: list[FeedSettings] | tuple[FeedSettings, ...], title: str = "newsflow feeds") -> str:
    root = ET.Element("opml", version="2.0")
    head = ET.SubElement(root, "head")
    ET.SubElement(head, "title").text = title
    body = ET.SubElement(root, "body")
    for feed in feeds:
        ET.SubElement(
            body,
            "outline",
            type="rss",
            text=feed.title or feed.id,
            title=feed.title or feed.id,
            xmlUrl=feed.url,
        )
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def feeds_yaml(feeds: list[FeedSettings]) -> str:
    """A feeds file (``feeds_file:``) for these feeds."""
    entries = [
        {
            "id": f.id,
            "url": f.url,
            "interval": f"{f.interval:g}s",
            **({"title": f.title} if f.title else {}),
            **({"full_text": f.full_text} if f.full_text != "auto" else {}),
        }
        for f in feeds
    ]
    return yaml.safe_dump({"feeds": entries}, sort_keys=False, allow_unicode=True)
