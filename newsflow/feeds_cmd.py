"""`newsflow feeds import|export|sync|list|status`: manage the feed registry."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import orjson

from newsflow.kafka_io import check_broker, ensure_topics
from newsflow.registry_io import read_compacted, registry_feeds, sync_feeds
from pipeline.config import FeedSettings, Settings
from pipeline.registry import feeds_yaml, load_feeds, read_opml, to_opml
from pipeline.topics import TopicNames


def import_opml(path: str, output: str | None, interval: float) -> str:
    """OPML → a feeds file (``feeds_file:``); returns where it went."""
    text = feeds_yaml(read_opml(Path(path), interval))
    return _write(text, output)


def export_opml(settings: Settings, output: str | None) -> str:
    return _write(to_opml(load_feeds(settings)), output)


def _write(text: str, output: str | None) -> str:
    if output is None:
        print(text, end="")
        return "stdout"
    Path(output).write_text(text, encoding="utf-8")
    return output


def sync(settings: Settings) -> dict[str, int]:
    feeds = load_feeds(settings)

    async def go() -> dict[str, int]:
        await check_broker(settings.kafka)
        await ensure_topics(settings.kafka)
        return await sync_feeds(settings.kafka, feeds, remove_missing=True)

    return asyncio.run(go())


def listed(settings: Settings, from_registry: bool) -> list[FeedSettings]:
    if not from_registry:
        return list(load_feeds(settings))

    async def go() -> list[FeedSettings]:
        await check_broker(settings.kafka)
        return registry_feeds(
            await read_compacted(settings.kafka, TopicNames(settings.kafka.topic_prefix).feeds)
        )

    return asyncio.run(go())


def status(settings: Settings) -> list[dict[str, Any]]:
    """Per-feed health as the pollers last saved it (whichever poller owns the feed)."""

    async def go() -> list[dict[str, Any]]:
        await check_broker(settings.kafka)
        names = TopicNames(settings.kafka.topic_prefix)
        feeds = {f.id for f in registry_feeds(await read_compacted(settings.kafka, names.feeds))}
        states = await read_compacted(settings.kafka, names.poller_state)
        rows = [value for key, value in states.values.items() if value is not None and key in feeds]
        never = [{"feed_id": feed_id, "state": "never-polled"} for feed_id in feeds - set(states.values)]
        return sorted(rows + never, key=lambda row: str(row.get("feed_id")))

    return asyncio.run(go())


def render_status(rows: list[dict[str, Any]], as_json: bool) -> str:
    if as_json:
        return orjson.dumps(rows, option=orjson.OPT_INDENT_2).decode()
    columns = (("feed_id", 28), ("state", 13), ("failures", 4), ("last_success", 24), ("next_poll", 24))
    lines = ["  ".join(f"{name:<{width}}" for name, width in columns) + "  last_error"]
    for row in rows:
        cells = [f"{str(row.get(name) or '-')[:width]:<{width}}" for name, width in columns]
        lines.append("  ".join(cells) + "  " + str(row.get("last_error") or "")[:80])
    return "\n".join(lines)
