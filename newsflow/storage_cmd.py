"""`newsflow db migrate` and `newsflow search`: the storage side of the command line.

``add_commands(commands)`` adds both to the top-level subparsers of newsflow/cli.py. Each
command reports its own errors as one line on stderr and returns the exit code (DESIGN §4):
0 success (a search without hits too), 2 bad usage or config, 1 the database is unreachable.
The URL is ``--url``, else the configuration's ``storage.url``; it is shown redacted.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import orjson

from pipeline.clock import rfc3339
from pipeline.config import parse_duration
from pipeline.errors import ConfigError, Unavailable
from pipeline.sinks import SearchableSink, SearchHit, open_sink, redact_url

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2
T = TypeVar("T")
# Terminal control sequences in a hostile title must not reach the terminal.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")


def add_commands(commands: argparse._SubParsersAction[Any]) -> None:
    db = commands.add_parser("db", help="the storage database")
    db_commands = db.add_subparsers(dest="action", required=True, parser_class=type(db))
    migrate = db_commands.add_parser("migrate", help="create or update the storage schema (idempotent)")
    _url_option(migrate)
    migrate.set_defaults(run=run_migrate)

    search = commands.add_parser(
        "search",
        help="full-text search of stored articles (latest revisions, best match first)",
        description='QUERY: words (all must occur), "quoted phrases", a OR b, -excluded.',
    )
    search.add_argument("query", metavar="QUERY")
    search.add_argument("--tag", metavar="T", help="only articles tagged T")
    search.add_argument(
        "--since",
        type=since_option,
        metavar="AGE",
        help="published within AGE (30m, 24h, 7d) or since a date",
    )
    search.add_argument(
        "--limit", type=limit_option, default=20, metavar="N", help="at most N hits (default 20)"
    )
    search.add_argument("--json", action="store_true", help="one JSON object per line")
    _url_option(search)
    search.set_defaults(run=run_search)


def _url_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--url", help="database URL (default: storage.url from the configuration)")


def since_option(value: str) -> datetime:
    """``24h`` → 24 hours ago; ``2026-11-20`` or an RFC 3339 time → that moment (UTC if no zone)."""
    try:
        return datetime.now(UTC) - timedelta(seconds=parse_duration(value))
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is neither an age (30m, 24h, 7d) nor a date") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def limit_option(value: str) -> int:
    try:
        limit = int(value)
    except ValueError:
        limit = 0
    if limit < 1:
        raise argparse.ArgumentTypeError(f"{value!r} is not a positive whole number")
    return limit


def run_migrate(args: argparse.Namespace) -> int:
    async def migrate(sink: SearchableSink) -> list[str]:
        return await sink.migrate()

    return _with_sink(args, migrate, _report_migration)


def run_search(args: argparse.Namespace) -> int:
    async def search(sink: SearchableSink) -> list[SearchHit]:
        return await sink.search(args.query, tag=args.tag, since=args.since, limit=args.limit)

    def show(url: str, hits: list[SearchHit]) -> None:
        for hit in hits:
            sys.stdout.write((_json_line(hit) if args.json else _text_line(hit)) + "\n")

    return _with_sink(args, search, show)


def _with_sink(
    args: argparse.Namespace,
    work: Callable[[SearchableSink], Awaitable[T]],
    show: Callable[[str, T], None],
) -> int:
    """Open the sink, run ``work`` on it, close it; errors become one line and an exit code."""
    try:
        url = args.url or _configured_url(args)
        result = asyncio.run(_run(open_sink(url), work))
    except ConfigError as exc:
        return _fail(f"newsflow: config error: {exc}", EXIT_USAGE)
    except Unavailable as exc:
        return _fail(f"newsflow: storage unavailable: {exc}", EXIT_FAILURE)
    show(url, result)
    return EXIT_OK


async def _run(sink: SearchableSink, work: Callable[[SearchableSink], Awaitable[T]]) -> T:
    try:
        return await work(sink)
    finally:
        await sink.close()


def _configured_url(args: argparse.Namespace) -> str:
    # Imported here: the settings loader pulls in the tagger, which `--url` does not need.
    from newsflow.settings_io import settings_from

    return settings_from(getattr(args, "config", None)).storage.url


def _report_migration(url: str, applied: list[str]) -> None:
    done = f"applied {', '.join(applied)}" if applied else "already up to date"
    sys.stdout.write(f"{redact_url(url)}: {done}\n")


def _text_line(hit: SearchHit) -> str:
    fields = (
        hit.published_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        hit.source or "-",
        hit.title,
        hit.url or "-",
        ",".join(hit.tags) or "-",
    )
    return "\t".join(_CONTROL.sub(" ", field) for field in fields)


def _json_line(hit: SearchHit) -> str:
    data: dict[str, Any] = {
        "id": hit.id,
        "revision": hit.revision,
        "published_at": rfc3339(hit.published_at),
        "source": hit.source,
        "title": hit.title,
        "url": hit.url,
        "summary": hit.summary,
        "tags": list(hit.tags),
        "rank": hit.rank,
    }
    return orjson.dumps(data).decode()


def _fail(message: str, code: int) -> int:
    sys.stderr.write(message + "\n")
    return code
