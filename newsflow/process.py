"""`newsflow process SOURCE...`: the pipeline offline, no Kafka, JSON Lines on stdout.

Sources are feed files or http(s) URLs (fetched with the poller's own client). The same
stage functions as the agents run in the same order; duplicates are printed only with
``--include-duplicates``, carrying ``duplicate_of`` and ``duplicate_kind``. With
``--full-text``, entries that carry only a summary get their page fetched and read as the
poller does (same SSRF guard, politeness and limits; extraction in a sandboxed process).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO
from urllib.parse import urlsplit

import orjson
from prometheus_client import CollectorRegistry

from pipeline import codec
from pipeline.chain import Chain, ChainResult
from pipeline.cleaning import SUMMARY_CHARS
from pipeline.cleaning.boilerplate import BoilerplateRules
from pipeline.clock import SystemClock, rfc3339
from pipeline.config import DedupSettings, PollerSettings
from pipeline.errors import FetchError, InvalidArticle, ParseError
from pipeline.fulltext.enrich import FullText
from pipeline.fulltext.fetch import PageFetcher
from pipeline.fulltext.guard import AddressPolicy
from pipeline.metrics import PipelineMetrics
from pipeline.models import RawArticle
from pipeline.neardup import new_index
from pipeline.nearindex import NearIndex
from pipeline.poller.fetcher import Fetcher
from pipeline.poller.parser import parse_feed
from pipeline.poller.politeness import HostLimiter
from pipeline.poller.sandbox import ParserPool
from pipeline.tagging import Tagger


@dataclass(frozen=True)
class SourceError:
    source: str
    reason: str


def feed_id_for(source: str) -> str:
    """A feed id for an ad-hoc source: the file's stem, or the URL's host and path."""
    if re.match(r"^https?://", source, re.IGNORECASE):
        parts = urlsplit(source)
        slug = f"{parts.hostname or ''}{parts.path}"
    else:
        slug = Path(source).stem
    return re.sub(r"[^A-Za-z0-9._-]+", "-", slug).strip("-.")[:128] or "feed"


def _read_source(source: str, settings: PollerSettings) -> tuple[bytes, dict[str, str], str]:
    if re.match(r"^https?://", source, re.IGNORECASE):
        return asyncio.run(_fetch(source, settings))
    path = Path(source)
    return path.read_bytes(), {}, path.resolve().as_uri()


async def _fetch(url: str, settings: PollerSettings) -> tuple[bytes, dict[str, str], str]:
    fetcher = Fetcher.open(settings)
    try:
        result = await fetcher.fetch(url)
    finally:
        await fetcher.close()
    return result.body, result.headers, result.url


async def _with_full_text(entries: list[RawArticle], settings: PollerSettings) -> list[RawArticle]:
    limiter = HostLimiter(settings.per_host_concurrency, settings.per_host_rate)
    policy = AddressPolicy.allowing(*settings.page_allow_networks)
    pages = PageFetcher.open(settings, limiter, policy=policy, max_bytes=settings.page_max_bytes)
    metrics = PipelineMetrics.create(CollectorRegistry())  # counted nowhere: a one-off run
    try:
        async with ParserPool(1, settings.parse_timeout, settings.parse_memory_mb * 1024 * 1024) as pool:
            return await FullText(pages, pool, settings, metrics).enrich("auto", entries)
    finally:
        await pages.close()


# The index is preallocated (≈ 335 B per entry): a one-off run needs far fewer than a worker.
PROCESS_NEAR_CAPACITY = 100_000


def near_index(settings: DedupSettings, capacity: int) -> NearIndex | None:
    """The near-duplicate index the settings ask for, or None when near dedup is off."""
    if not settings.near:
        return None
    return new_index(settings, capacity)


def raw_articles(
    sources: list[str], settings: PollerSettings, feed_id: str | None, full_text: bool = False
) -> Iterator[RawArticle | SourceError]:
    clock = SystemClock()
    for source in sources:
        try:
            body, headers, url = _read_source(source, settings)
            parsed = parse_feed(
                body,
                headers,
                url=url,
                feed_id=feed_id or feed_id_for(source),
                fetched_at=rfc3339(clock.now()),
            )
        except (OSError, FetchError, ParseError) as exc:
            yield SourceError(source, getattr(exc, "strerror", None) or str(exc))
            continue
        entries = list(parsed.entries)
        if full_text and entries:
            entries = asyncio.run(_with_full_text(entries, settings))
        yield from entries


def run_process(
    sources: list[str],
    tagger: Tagger,
    settings: PollerSettings,
    *,
    include_duplicates: bool,
    feed_id: str | None,
    full_text: bool = False,
    out: IO[bytes],
    err: IO[str],
    rules: BoilerplateRules | None = None,
    summary_chars: int = SUMMARY_CHARS,
    near: NearIndex | None = None,
) -> int:
    """Print one JSON line per article; return the exit code (1 if any source failed)."""
    chain = Chain(tagger, SystemClock(), rules, summary_chars, near)
    failed = False
    for item in raw_articles(sources, settings, feed_id, full_text):
        if isinstance(item, SourceError):
            print(f"newsflow: {item.source}: {item.reason}", file=err)
            failed = True
            continue
        try:
            result = chain.process(item)
        except InvalidArticle as exc:
            print(f"newsflow: {item.feed_id}: skipped entry {item.article_key}: {exc}", file=err)
            continue
        line = _line(result, include_duplicates)
        if line is not None:
            out.write(line + b"\n")
    out.flush()
    return 1 if failed else 0


def _line(result: ChainResult, include_duplicates: bool) -> bytes | None:
    record = codec.to_dict(result.article)
    if result.duplicate is not None:
        if not include_duplicates:
            return None
        record["duplicate_of"] = result.duplicate.duplicate_of
        record["duplicate_kind"] = result.duplicate.kind
    return orjson.dumps(record)
