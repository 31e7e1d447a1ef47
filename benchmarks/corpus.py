"""Benchmark input: the real feed snapshots of the shared corpus, read in place (never copied
into the repository), or the project's demo feeds when the corpus is absent."""

from __future__ import annotations

import csv
import gzip
import re
from dataclasses import dataclass
from pathlib import Path

from benchmarks.environment import REPO_ROOT, data_dir
from pipeline.cleaning import clean_article
from pipeline.errors import InvalidArticle, ParseError
from pipeline.models import RawArticle
from pipeline.poller.parser import parse_feed

DEMO_FEEDS = REPO_ROOT / "newsflow" / "demo" / "feeds"
# A fixed fetch time: every run parses and cleans exactly the same input.
FETCHED_AT = "2024-01-01T00:00:00.000Z"
_GZIP_MAGIC = b"\x1f\x8b"


@dataclass(frozen=True, slots=True)
class Feed:
    feed_id: str
    url: str
    body: bytes


@dataclass(frozen=True)
class Corpus:
    source: str  # "shared-corpus" or "demo-feeds"
    location: str
    note: str
    feeds: tuple[Feed, ...]  # the feeds newsflow's parser reads (both sides are timed on these)
    raw: tuple[RawArticle, ...]  # every entry of every feed, parsed by newsflow's parser
    unreadable: tuple[str, ...]  # feeds newsflow's parser rejected (ParseError)

    def describe(self) -> dict[str, object]:
        return {
            "source": self.source,
            "location": self.location,
            "note": self.note,
            "feeds": len(self.feeds),
            "bytes": sum(len(feed.body) for feed in self.feeds),
            "entries": len(self.raw),
            "distinct_article_keys": len({raw.article_key for raw in self.raw}),
            "unreadable_feeds": list(self.unreadable),
        }


def load_corpus() -> Corpus:
    real = data_dir() / "real-feeds"
    manifest = real / "MANIFEST.csv"
    if manifest.is_file():
        paths = [real / row["file"] for row in csv.DictReader(manifest.open(encoding="utf-8"))]
        note = "every feed file listed in real-feeds/MANIFEST.csv (gzip files decompressed, as HTTP would)"
        return _corpus("shared-corpus", real, note, [p for p in paths if p.is_file()])
    note = f"shared corpus not found at {real}; fell back to the project's demo feeds"
    return _corpus("demo-feeds", DEMO_FEEDS, note, sorted(DEMO_FEEDS.glob("*.xml")))


def _corpus(source: str, root: Path, note: str, paths: list[Path]) -> Corpus:
    readable: list[Feed] = []
    raw: list[RawArticle] = []
    unreadable: list[str] = []
    for feed in (_feed(root, path) for path in paths):
        try:
            raw.extend(parse(feed))
            readable.append(feed)
        except ParseError as exc:  # a rejected feed would make every timed batch raise
            unreadable.append(f"{feed.feed_id}: {exc}")
    return Corpus(source, str(root), note, tuple(readable), tuple(raw), tuple(unreadable))


def _feed(root: Path, path: Path) -> Feed:
    body = path.read_bytes()
    if body.startswith(_GZIP_MAGIC):  # the fetcher hands the parser decompressed bytes
        body = gzip.decompress(body)
    relative = path.relative_to(root).as_posix()
    # The relative path, not the stem: poll sequences of different feeds share file names.
    feed_id = re.sub(r"[^A-Za-z0-9._-]+", "-", relative).strip("-.")[:128]
    return Feed(feed_id=feed_id, url=path.resolve().as_uri(), body=body)


def parse(feed: Feed) -> tuple[RawArticle, ...]:
    """newsflow's parser, exactly as the poller calls it (bytes + headers, never a URL fetch)."""
    return parse_feed(feed.body, {}, url=feed.url, feed_id=feed.feed_id, fetched_at=FETCHED_AT).entries


def is_cleanable(raw: RawArticle) -> bool:
    """False for entries the cleaning stage rejects (they would be dead-lettered)."""
    try:
        clean_article(raw)
    except InvalidArticle:
        return False
    return True
