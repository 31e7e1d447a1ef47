"""The SQLite sink: the embedded default (``sqlite:///newsflow.db``), full text by FTS5.

sqlite3 blocks, so every call runs on one dedicated thread that owns the connection: the
event loop never waits on the disk, and the connection never crosses threads. WAL lets
``newsflow search`` read while the agent writes; ``synchronous=FULL`` because the agent
commits its Kafka offsets right after a batch, and a commit lost on power failure would be an
article lost for good (one fsync per batch is cheap next to one per row, see bench_storage).
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from pipeline.clock import parse_rfc3339, rfc3339
from pipeline.errors import ConfigError, Unavailable
from pipeline.models import Article
from pipeline.sinks import query as user_query
from pipeline.sinks.base import DEFAULT_SEARCH_LIMIT, RejectedArticle, SearchHit
from pipeline.sinks.rows import COLUMNS, TIME_COLUMNS, Row, tag_names, unique_rows
from pipeline.sinks.schema import migrations

T = TypeVar("T")

# Primary result codes that mean "not now" rather than "never": busy or locked by another
# process, out of memory, I/O error, disk full, cannot open (a volume not mounted yet).
_TRANSIENT_CODES = {5, 6, 7, 10, 13, 14, 15}
_TIME_INDEXES = tuple(COLUMNS.index(name) for name in TIME_COLUMNS)
# Title outweighs summary outweighs text, in the ratio of PostgreSQL's A/B/C weights (1/.4/.2).
_BM25 = "bm25(articles_fts, 5.0, 2.0, 1.0)"

_UPSERT = (
    f"INSERT INTO articles ({', '.join(COLUMNS)}) VALUES ({', '.join('?' for _ in COLUMNS)}) "
    "ON CONFLICT (id, revision) DO UPDATE SET "
    + ", ".join(f"{c} = excluded.{c}" for c in COLUMNS[2:])
    # A redelivered article changes nothing: skip the write (and the FTS re-index), count 0.
    + f" WHERE ({', '.join(f'articles.{c}' for c in COLUMNS[2:])})"
    f" IS NOT ({', '.join(f'excluded.{c}' for c in COLUMNS[2:])})"
)

_SEARCH = f"""
SELECT a.id, a.revision, a.published_at, a.source, a.title, a.url, a.summary, a.tags, {_BM25}
FROM articles_fts JOIN articles AS a ON a.row_id = articles_fts.rowid
WHERE articles_fts MATCH :match
  AND NOT EXISTS (SELECT 1 FROM articles AS newer WHERE newer.id = a.id AND newer.revision > a.revision)
  AND (:since IS NULL OR a.published_at >= :since)
  AND (:tag IS NULL OR EXISTS (
        SELECT 1 FROM json_each(a.tags) AS t WHERE json_extract(t.value, '$.name') = :tag))
ORDER BY {_BM25}, a.published_at DESC, a.id
LIMIT :limit
"""


class SQLiteSink:
    kind = "sqlite"

    def __init__(self, path: str, busy_timeout: float = 5.0) -> None:
        self.path = path
        self._busy_timeout = busy_timeout  # waits this long for another writer's lock
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="newsflow-sqlite")
        self._connection: sqlite3.Connection | None = None  # used on the executor thread only
        self._closed = False

    async def migrate(self) -> list[str]:
        return await self._run(_migrate)

    async def write_batch(self, articles: Sequence[Article]) -> int:
        if not articles:
            return 0
        # Building the rows (JSON, checks) happens on the sink's thread too: ~15 µs an article
        # is ~8 ms for a batch of 500 the event loop need not spend.
        batch = list(articles)
        return await self._run(
            lambda connection: _write(connection, [_stored(r) for r in unique_rows(batch)])
        )

    async def search(
        self,
        query: str,
        tag: str | None = None,
        since: datetime | None = None,
        limit: int = DEFAULT_SEARCH_LIMIT,
    ) -> list[SearchHit]:
        if limit < 1:
            raise ValueError("limit must be at least 1")
        match = user_query.to_fts5(user_query.parse(query))
        if match is None:
            return []
        params = {
            "match": match,
            "since": None if since is None else rfc3339(_aware(since)),
            "tag": None if tag is None else user_query.clean(tag),
            "limit": limit,
        }
        rows = await self._run(lambda connection: connection.execute(_SEARCH, params).fetchall())
        return [_hit(row) for row in rows]

    async def ping(self) -> None:
        await self._run(lambda connection: connection.execute("SELECT 1").fetchone())

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        await asyncio.get_running_loop().run_in_executor(self._executor, self._disconnect)
        self._executor.shutdown(wait=False)

    async def _run(self, work: Callable[[sqlite3.Connection], T]) -> T:
        if self._closed:
            raise RuntimeError("the SQLite sink is closed")
        return await asyncio.get_running_loop().run_in_executor(self._executor, self._call, work)

    def _call(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """On the executor thread: connect if needed, run, and classify what went wrong."""
        try:
            return work(self._connect())
        except sqlite3.Error as exc:
            code = (getattr(exc, "sqlite_errorcode", 0) or 0) & 0xFF
            if code in _TRANSIENT_CODES:
                self._disconnect()  # start afresh next time (a remounted volume, a new file)
                raise Unavailable(f"SQLite database {self.path}: {exc}") from exc
            if isinstance(exc, sqlite3.OperationalError) and "no such table" in str(exc):
                raise ConfigError(
                    f"SQLite database {self.path} has no newsflow schema ({exc}): run `newsflow db migrate`"
                ) from None
            raise

    def _connect(self) -> sqlite3.Connection:
        if self._connection is not None:
            return self._connection
        if self.path != ":memory:" and not Path(self.path).parent.is_dir():
            raise ConfigError(f"storage.url: the folder of SQLite database {self.path} does not exist")
        # isolation_level=None: no implicit transactions; _transaction() says where they are.
        connection = sqlite3.connect(self.path, timeout=self._busy_timeout, isolation_level=None)
        try:
            connection.execute("PRAGMA journal_mode = WAL")
            connection.execute("PRAGMA synchronous = FULL")
        except BaseException:
            connection.close()
            raise
        self._connection = connection
        return connection

    def _disconnect(self) -> None:
        if self._connection is not None:
            connection, self._connection = self._connection, None
            connection.close()


@contextmanager
def _transaction(connection: sqlite3.Connection) -> Iterator[None]:
    # IMMEDIATE takes the write lock up front: waiting for it honours busy_timeout, whereas
    # upgrading a read transaction later fails at once with SQLITE_BUSY.
    connection.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        if connection.in_transaction:
            connection.execute("ROLLBACK")
        raise
    connection.execute("COMMIT")


def _write(connection: sqlite3.Connection, rows: list[tuple[Any, ...]]) -> int:
    try:
        with _transaction(connection):
            return connection.executemany(_UPSERT, rows).rowcount
    except (sqlite3.IntegrityError, sqlite3.DataError):
        _name_the_refused_row(connection, rows)
        raise  # no row fails on its own: not one article's fault, so a bug


def _name_the_refused_row(connection: sqlite3.Connection, rows: list[tuple[Any, ...]]) -> None:
    """Try each row alone (rolled back) and raise ``RejectedArticle`` for the first refused."""
    for row in rows:
        connection.execute("BEGIN IMMEDIATE")
        try:
            connection.execute(_UPSERT, row)
        except (sqlite3.IntegrityError, sqlite3.DataError) as exc:
            raise RejectedArticle(str(row[0]), "refused-by-database", f"SQLite: {exc}") from exc
        finally:
            connection.execute("ROLLBACK")


def _migrate(connection: sqlite3.Connection) -> list[str]:
    applied: list[str] = []
    with _transaction(connection):
        connection.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations "
            "(version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
        )
        have = {version for (version,) in connection.execute("SELECT version FROM schema_migrations")}
        for migration in migrations("sqlite"):
            if migration.version in have:
                continue
            for statement in _statements(migration.sql):
                connection.execute(statement)
            connection.execute(
                "INSERT INTO schema_migrations VALUES (?, ?, ?)",
                (migration.version, migration.name, rfc3339(datetime.now(UTC))),
            )
            applied.append(migration.name)
    return applied


def _statements(script: str) -> Iterator[str]:
    """Split a script into statements (a trigger body's semicolons do not end it).
    executescript() would commit first, outside our transaction."""
    pending = ""
    for line in script.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            yield pending
            pending = ""
    leftover = [line for line in pending.splitlines() if line.strip() and not line.strip().startswith("--")]
    if leftover:
        raise ValueError(f"incomplete SQL statement at the end of a migration: {pending[:80]!r}")


def _stored(row: Row) -> tuple[Any, ...]:
    values: list[Any] = list(row)
    for index in _TIME_INDEXES:
        values[index] = rfc3339(values[index])
    return tuple(values)


def _hit(row: tuple[Any, ...]) -> SearchHit:
    article_id, revision, published, source, title, url, summary, tags, bm25 = row
    return SearchHit(
        id=article_id,
        revision=revision,
        published_at=parse_rfc3339(published),
        source=source,
        title=title,
        url=url,
        summary=summary,
        tags=tag_names(tags),
        rank=-float(bm25),  # bm25() is lower for better matches
    )


def _aware(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
