"""The sink interface, its errors and the factory that picks a sink by URL scheme.

A sink stores ``news.articles``. Its guarantees, checked for every sink by one contract suite
(``tests/sink_contract.py``):

- ``write_batch`` upserts on ``(id, revision)`` in one transaction per batch, so a redelivered
  batch (at-least-once) leaves the same rows; a newer revision is a new row. It returns how
  many rows were inserted or changed (a redelivery returns 0).
- ``Unavailable``: the database cannot be reached (refused, shut down, connection lost, locked,
  disk full). Nothing of the batch is committed; pause, retry the same batch, and the same sink
  object reconnects by itself.
- ``RejectedArticle`` (an ``InvalidArticle``): the database will never take this one article.
  It names the article id; dead-letter it and write the rest of the batch again (other rows
  may or may not be written already: the upsert makes the rewrite harmless).
- ``ConfigError``: a bad URL, a missing database, or a schema that ``migrate()`` never created.
- ``search`` sees the latest revision of each article only.

URLs can carry passwords: every message built here goes through :func:`redact_url`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from pipeline.errors import ConfigError, InvalidArticle
from pipeline.models import Article

__all__ = [
    "ArticleSink",
    "RejectedArticle",
    "SearchHit",
    "SearchableSink",
    "open_sink",
    "redact_url",
    "sqlite_path",
]

POSTGRES_SCHEMES = ("postgresql", "postgres")
DEFAULT_SEARCH_LIMIT = 20


class ArticleSink(Protocol):
    """What the storage agent needs: write, close (and create the schema at start)."""

    kind: str  # "sqlite" or "postgres": the bounded `sink` label of sink_writes_total

    async def migrate(self) -> list[str]:
        """Apply the schema migrations this database lacks; the names of those applied."""
        ...

    async def write_batch(self, articles: Sequence[Article]) -> int:
        """Upsert the batch in one transaction; rows inserted or changed."""
        ...

    async def close(self) -> None:
        """Release connections; idempotent. The sink cannot be used afterwards."""
        ...

    async def ping(self) -> None:
        """Return when the database answers a trivial query; raise ``Unavailable`` if not
        (the worker's readiness check)."""
        ...


class SearchableSink(ArticleSink, Protocol):
    """A sink that also answers full-text queries (``newsflow search``)."""

    async def search(
        self,
        query: str,
        tag: str | None = None,
        since: datetime | None = None,
        limit: int = DEFAULT_SEARCH_LIMIT,
    ) -> list[SearchHit]:
        """Latest revisions matching ``query`` (words, "quoted phrases", OR, -word), best
        first then newest first; ``tag`` and ``since`` (published at or after) narrow it."""
        ...


@dataclass(frozen=True)
class SearchHit:
    id: str
    revision: int
    published_at: datetime
    source: str | None
    title: str
    url: str | None
    summary: str
    tags: tuple[str, ...]  # tag names, in the article's order (best first)
    rank: float  # higher is more relevant; comparable within one result list only


class RejectedArticle(InvalidArticle):
    """The database refuses this article (bad data, a limit it exceeds): dead-letter it."""

    def __init__(self, article_id: str, reason: str, detail: str) -> None:
        super().__init__(reason, f"article {article_id}: {detail}")
        self.article_id = article_id


def open_sink(url: str) -> SearchableSink:
    """The sink for ``url`` (``sqlite:///path`` or ``postgresql://user@host/db``).

    Nothing connects here: the first call does, so a database that is down at start is an
    ``Unavailable`` the caller retries, not a crash. The drivers are imported only when used.
    """
    scheme = url.split(":", 1)[0].lower() if ":" in url else ""
    if scheme == "sqlite":
        from pipeline.sinks.sqlite import SQLiteSink

        return SQLiteSink(sqlite_path(url))
    if scheme in POSTGRES_SCHEMES:
        _check_postgres_url(url)
        try:
            from pipeline.sinks.postgres import PostgresSink
        except ImportError as exc:
            raise ConfigError(f"storage.url is PostgreSQL, which needs asyncpg installed ({exc})") from None

        return PostgresSink(url)
    shown = f"unsupported scheme {scheme!r}" if scheme else "no scheme"
    raise ConfigError(
        f"storage.url {redact_url(url)!r}: {shown} (use sqlite:///path or postgresql://user@host/db)"
    )


def sqlite_path(url: str) -> str:
    """``sqlite:///news.db`` → ``news.db`` (relative to the working directory);
    ``sqlite:////var/lib/news.db`` → ``/var/lib/news.db``; ``sqlite:///:memory:`` stays."""
    prefix = "sqlite:///"
    if not url.lower().startswith(prefix):
        raise ConfigError(
            f"storage.url {redact_url(url)!r}: a SQLite URL has no host: sqlite:///relative.db or sqlite:////absolute.db"
        )
    path = url[len(prefix) :]
    if not path or path.endswith("/"):
        raise ConfigError(f"storage.url {url!r}: no database file named after sqlite:///")
    if "?" in path or "\x00" in path:
        raise ConfigError(f"storage.url {url!r}: query parameters are not supported for SQLite")
    return path


def _check_postgres_url(url: str) -> None:
    """Catch what asyncpg would only report at the first connection."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError as exc:
        raise ConfigError(f"storage.url {redact_url(url)!r}: {exc}") from None
    if "\x00" in url:
        raise ConfigError(f"storage.url {redact_url(url)!r}: contains a NUL character")


def redact_url(url: str) -> str:
    """The URL with any password (in the authority or a ``password=`` parameter) as ``***``."""
    if "@" not in url and "password" not in url.lower():
        return url  # nothing to hide; urlunsplit would also turn sqlite://// into sqlite://
    try:
        parts = urlsplit(url)
        netloc = parts.netloc
        # The user information ends at the last "@" (a password may contain "@" itself).
        userinfo, at, host = netloc.rpartition("@")
        if at and ":" in userinfo:
            netloc = f"{userinfo.split(':', 1)[0]}:***@{host}"
        query = parts.query
        if "password" in query.lower():
            pairs = parse_qsl(query, keep_blank_values=True)
            query = urlencode([(k, "***" if k.lower() == "password" else v) for k, v in pairs])
        return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))
    except ValueError:
        # Unparseable: show the scheme only rather than risk printing a secret.
        return url.split(":", 1)[0] + "://(unparseable URL)"
