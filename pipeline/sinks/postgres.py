"""The PostgreSQL sink (asyncpg pool); full text by a generated tsvector with a GIN index.

A batch is one statement: ``INSERT ... SELECT FROM unnest(<one array per column>) ON CONFLICT``,
one round trip and one implicit transaction whatever the batch size. The pool connects on
first use and replaces dead connections, so after an outage the same sink object works again
without being reopened: a failed call raises ``Unavailable`` and the caller simply retries.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

import asyncpg

from pipeline.errors import ConfigError, PipelineError, Unavailable
from pipeline.models import Article
from pipeline.sinks import query as user_query
from pipeline.sinks.base import DEFAULT_SEARCH_LIMIT, RejectedArticle, SearchHit, redact_url
from pipeline.sinks.rows import COLUMNS, JSON_COLUMNS, TIME_COLUMNS, Row, by_column, tag_names, unique_rows
from pipeline.sinks.schema import migrations

T = TypeVar("T")

# SQLSTATE classes: connection exception, transaction rollback (serialization, deadlock),
# insufficient resources (disk full, too many connections), operator intervention (shutdown,
# starting up), system error (I/O). All pass: pause and retry.
_TRANSIENT = ("08", "40", "53", "57", "58")
# Data exception, integrity violation, program limit (a tsvector over 1 MB): one article.
_DATA = ("22", "23", "54")
_NOT_MIGRATED = ("42P01", "42703")  # undefined table / column
_MIGRATION_LOCK = 0x6E657773666C6F77  # "newsflow": migrators from several processes queue here

_TYPES = {name: "jsonb" for name in JSON_COLUMNS} | {name: "timestamptz" for name in TIME_COLUMNS}
_TYPES["revision"] = "integer"
_UPDATED = COLUMNS[2:]
_UPSERT = (
    f"INSERT INTO articles ({', '.join(COLUMNS)}) SELECT * FROM unnest("
    + ", ".join(f"${number}::{_TYPES.get(name, 'text')}[]" for number, name in enumerate(COLUMNS, 1))
    + ") ON CONFLICT (id, revision) DO UPDATE SET "
    + ", ".join(f"{c} = EXCLUDED.{c}" for c in _UPDATED)
    # A redelivered article changes nothing: no new row version, no re-indexing, counted 0.
    + f" WHERE ({', '.join(f'articles.{c}' for c in _UPDATED)})"
    f" IS DISTINCT FROM ({', '.join(f'EXCLUDED.{c}' for c in _UPDATED)})"
)

_SEARCH = """
SELECT a.id, a.revision, a.published_at, a.source, a.title, a.url, a.summary, a.tags::text,
       ts_rank(a.search, q) AS rank
FROM articles AS a, websearch_to_tsquery('simple', $1) AS q
WHERE a.search @@ q
  AND NOT EXISTS (SELECT 1 FROM articles AS newer WHERE newer.id = a.id AND newer.revision > a.revision)
  AND ($2::timestamptz IS NULL OR a.published_at >= $2)
  AND ($3::text IS NULL OR a.tags @> jsonb_build_array(jsonb_build_object('name', $3::text)))
ORDER BY rank DESC, a.published_at DESC, a.id
LIMIT $4
"""


class PostgresSink:
    kind = "postgres"

    def __init__(
        self,
        url: str,
        *,
        pool_size: int = 4,
        connect_timeout: float = 10.0,
        command_timeout: float = 60.0,
        close_timeout: float = 10.0,
    ) -> None:
        self._url = url
        self.where = f"PostgreSQL at {redact_url(url)}"  # the only form of the URL we ever show
        self._pool_size = pool_size
        self._connect_timeout = connect_timeout
        self._command_timeout = command_timeout
        self._close_timeout = close_timeout
        self._pool: Any = None
        self._pool_lock = asyncio.Lock()
        self._closed = False

    async def migrate(self) -> list[str]:
        return await self._run(_migrate)

    async def write_batch(self, articles: Sequence[Article]) -> int:
        rows = unique_rows(articles)
        if not rows:
            return 0
        try:
            return await self._run(lambda connection: _upsert(connection, rows))
        except asyncpg.PostgresError as exc:
            if (exc.sqlstate or "")[:2] not in _DATA:
                raise
            await self._run(lambda connection: _name_the_refused_row(connection, rows))
            raise  # no row fails on its own: not one article's fault, so a bug

    async def search(
        self,
        query: str,
        tag: str | None = None,
        since: datetime | None = None,
        limit: int = DEFAULT_SEARCH_LIMIT,
    ) -> list[SearchHit]:
        if limit < 1:
            raise ValueError("limit must be at least 1")
        text = user_query.clean(query)
        if user_query.parse(text).empty:
            return []  # as in SQLite: only exclusions (or no words) match nothing
        if since is not None and since.tzinfo is None:
            since = since.replace(tzinfo=UTC)
        tag = None if tag is None else user_query.clean(tag)
        rows = await self._run(lambda connection: connection.fetch(_SEARCH, text, since, tag, limit))
        return [_hit(row) for row in rows]

    async def ping(self) -> None:
        await self._run(lambda connection: connection.fetchval("SELECT 1"))

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._pool is None:
            return
        pool, self._pool = self._pool, None
        try:
            await asyncio.wait_for(pool.close(), self._close_timeout)
        except Exception:  # a server that is down cannot be said goodbye to: just drop it
            pool.terminate()

    async def _run(self, work: Callable[[Any], Awaitable[T]]) -> T:
        """``work(connection)`` on a pooled connection; transient failures become Unavailable.

        A connection idle in the pool may have died with a server restart: one failure is
        retried once on a fresh connection before the caller hears of it.
        """
        if self._closed:
            raise RuntimeError("the PostgreSQL sink is closed")
        for attempt in (1, 2):
            try:
                pool = await self._get_pool()
                async with pool.acquire(timeout=self._connect_timeout) as connection:
                    return await work(connection)
            except Exception as exc:
                problem = self._classify(exc)
                if problem is None:
                    raise
                if isinstance(problem, Unavailable) and attempt == 1 and not isinstance(exc, TimeoutError):
                    await self._expire()
                    continue
                raise problem from exc
        raise AssertionError("unreachable")

    async def _get_pool(self) -> Any:
        async with self._pool_lock:
            if self._pool is None:
                # min_size=0: creating the pool connects to nothing, so a server that is down
                # at start is an Unavailable on the first call, not a failure to construct.
                self._pool = await asyncpg.create_pool(
                    self._url,
                    min_size=0,
                    max_size=self._pool_size,
                    timeout=self._connect_timeout,
                    command_timeout=self._command_timeout,
                )
            return self._pool

    async def _expire(self) -> None:
        if self._pool is not None:
            await self._pool.expire_connections()

    def _classify(self, exc: Exception) -> PipelineError | None:
        """What the caller should do with ``exc``; None: not ours to interpret (re-raise)."""
        if isinstance(exc, asyncpg.PostgresError):
            state = exc.sqlstate or ""
            if state[:2] in _TRANSIENT:
                return Unavailable(f"{self.where}: {type(exc).__name__}: {exc}")
            if state in _NOT_MIGRATED:
                return ConfigError(f"{self.where} has no newsflow schema ({exc}): run `newsflow db migrate`")
            if state[:2] in ("28", "3D") or state == "42501":  # authentication, no database, privilege
                return ConfigError(f"{self.where}: {exc}")
            return None
        if isinstance(exc, asyncpg.exceptions.ClientConfigurationError):
            return ConfigError(f"{self.where}: {exc}")
        if isinstance(exc, OSError | TimeoutError):  # refused, reset, unreachable, DNS, timeout
            return Unavailable(f"{self.where}: {type(exc).__name__}: {exc}")
        if isinstance(exc, asyncpg.InterfaceError) and "closed" in str(exc):
            # asyncpg's words for a connection that went away under a call
            return Unavailable(f"{self.where}: connection lost: {exc}")
        return None


async def _upsert(connection: Any, rows: Sequence[Row]) -> int:
    status: str = await connection.execute(_UPSERT, *by_column(rows))
    return int(status.rsplit(" ", 1)[-1])  # "INSERT 0 <rows inserted or updated>"


async def _name_the_refused_row(connection: Any, rows: Sequence[Row]) -> None:
    """Try each row alone (rolled back) and raise ``RejectedArticle`` for the first refused."""
    for row in rows:
        transaction = connection.transaction()
        await transaction.start()
        try:
            await _upsert(connection, [row])
        except asyncpg.PostgresError as exc:
            if (exc.sqlstate or "")[:2] in _DATA:
                raise RejectedArticle(row.id, "refused-by-database", f"PostgreSQL: {exc}") from exc
            raise
        finally:
            await transaction.rollback()


async def _migrate(connection: Any) -> list[str]:
    applied: list[str] = []
    async with connection.transaction():
        await connection.execute("SELECT pg_advisory_xact_lock($1)", _MIGRATION_LOCK)
        await connection.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, "
            "name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())"
        )
        records = await connection.fetch("SELECT version FROM schema_migrations")
        have = {record["version"] for record in records}
        for migration in migrations("postgres"):
            if migration.version in have:
                continue
            await connection.execute(migration.sql)  # no arguments: may hold several statements
            await connection.execute(
                "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
                migration.version,
                migration.name,
            )
            applied.append(migration.name)
    return applied


def _hit(record: Any) -> SearchHit:
    return SearchHit(
        id=record["id"],
        revision=record["revision"],
        published_at=record["published_at"].astimezone(UTC),
        source=record["source"],
        title=record["title"],
        url=record["url"],
        summary=record["summary"],
        tags=tag_names(record["tags"]),
        rank=float(record["rank"]),
    )
