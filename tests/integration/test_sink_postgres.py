"""The PostgreSQL sink against a real server (tests/integration/postgres.py): the shared
contract, outages (server stopped, then started again), and what is PostgreSQL's own."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from newsflow.storage_cmd import add_commands
from pipeline.errors import ConfigError, Unavailable
from pipeline.models import Article
from pipeline.sinks import RejectedArticle, SearchableSink, open_sink
from pipeline.sinks.rows import COLUMNS
from tests.integration.postgres import PostgresServer
from tests.sink_contract import SinkContract, article_from_row, make_article


async def read_articles(url: str) -> list[Article]:
    connection = await asyncpg.connect(url)
    try:
        records = await connection.fetch(f"SELECT {', '.join(COLUMNS)} FROM articles ORDER BY id, revision")
    finally:
        await connection.close()
    return [article_from_row(dict(record)) for record in records]


class TestPostgresContract(SinkContract):
    @pytest.fixture
    def sink_url(self, postgres_url: str) -> str:
        return postgres_url

    async def stored(self, url: str) -> list[Article]:
        return await read_articles(url)


@pytest.fixture
async def sink(postgres_url: str) -> AsyncIterator[SearchableSink]:
    sink = open_sink(postgres_url)
    await sink.migrate()
    yield sink
    await sink.close()


async def test_outage_raises_unavailable_and_the_same_sink_recovers(
    postgres: PostgresServer, postgres_url: str
) -> None:
    url = postgres_url.replace("postgres@", "postgres:hunter2@")  # trust auth ignores it
    sink = open_sink(url)
    await sink.migrate()
    await sink.write_batch([make_article(1)])  # the pool now holds a live connection
    try:
        postgres.stop()
        for _ in range(3):  # every attempt during the outage, not only the first
            with pytest.raises(Unavailable) as caught:
                await sink.write_batch([make_article(2)])
            assert "hunter2" not in str(caught.value)
        with pytest.raises(Unavailable):
            await sink.search("aleppo")
        with pytest.raises(Unavailable):  # what the worker's /readyz reports as not ready
            await sink.ping()
    finally:
        postgres.start()
    await sink.ping()
    assert await sink.write_batch([make_article(2)]) == 1  # reconnected by itself
    assert [a.id for a in await read_articles(postgres_url)] == [make_article(1).id, make_article(2).id]
    await sink.close()


async def test_restart_while_idle_is_invisible(postgres: PostgresServer, postgres_url: str) -> None:
    """The pool's idle connection died with the restart: the next write still succeeds."""
    sink = open_sink(postgres_url)
    await sink.migrate()
    await sink.write_batch([make_article(1)])
    postgres.stop()
    postgres.start()
    try:
        assert await sink.write_batch([make_article(2)]) == 1
        assert len(await sink.search("aleppo")) == 2
    finally:
        await sink.close()


async def test_server_down_from_the_start(postgres: PostgresServer, postgres_url: str) -> None:
    postgres.stop()
    try:
        sink = open_sink(postgres_url)  # opening connects to nothing
        with pytest.raises(Unavailable):
            await sink.migrate()
    finally:
        postgres.start()
    assert await sink.migrate() == ["0001_articles"]
    assert await sink.write_batch([make_article(1)]) == 1
    await sink.close()


async def test_close_while_the_server_is_down(postgres: PostgresServer, postgres_url: str) -> None:
    sink = open_sink(postgres_url)
    await sink.migrate()
    postgres.stop()
    try:
        await asyncio.wait_for(sink.close(), 30)
    finally:
        postgres.start()


async def test_an_oversized_search_vector_rejects_that_article_only(sink: SearchableSink) -> None:
    # PostgreSQL caps a tsvector at 1 MB: ~200,000 distinct words exceed it. SQLite has no cap.
    huge = make_article(2, text=" ".join(f"w{n:07d}" for n in range(200_000)))
    with pytest.raises(RejectedArticle) as caught:
        await sink.write_batch([make_article(1), huge, make_article(3)])
    assert caught.value.article_id == huge.id
    assert await sink.write_batch([make_article(1), make_article(3)]) == 2


async def test_missing_database_is_a_config_error(postgres: PostgresServer) -> None:
    sink = open_sink(postgres.url("no_such_database"))
    with pytest.raises(ConfigError, match="does not exist"):
        await sink.migrate()
    await sink.close()


async def test_unmigrated_database_says_to_migrate(postgres_url: str) -> None:
    sink = open_sink(postgres_url)
    try:
        with pytest.raises(ConfigError, match="newsflow db migrate"):
            await sink.write_batch([make_article()])
    finally:
        await sink.close()


async def test_concurrent_migrations_apply_once(postgres_url: str) -> None:
    sinks = [open_sink(postgres_url) for _ in range(4)]
    try:
        applied = await asyncio.gather(*(sink.migrate() for sink in sinks))
    finally:
        await asyncio.gather(*(sink.close() for sink in sinks))
    assert sorted(applied) == [[], [], [], ["0001_articles"]]


async def test_schema_has_the_search_index(sink: SearchableSink, postgres_url: str) -> None:
    connection = await asyncpg.connect(postgres_url)
    try:
        indexes = {
            record["indexname"]: record["indexdef"]
            for record in await connection.fetch(
                "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'articles'"
            )
        }
        versions = await connection.fetch("SELECT version, name FROM schema_migrations")
    finally:
        await connection.close()
    assert "USING gin (search)" in indexes["articles_search"]
    assert [tuple(record) for record in versions] == [(1, "0001_articles")]


def run_cli(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="newsflow")
    parser.add_argument("--config")
    add_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    code: int = args.run(args)
    return code


def test_cli_migrate_and_search(postgres_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli("db", "migrate", "--url", postgres_url) == 0
    assert "applied 0001_articles" in capsys.readouterr().out

    async def fill() -> None:
        sink = open_sink(postgres_url)
        await sink.write_batch([make_article(1, published=datetime.now(UTC) - timedelta(hours=1))])
        await sink.close()

    asyncio.run(fill())
    assert (
        run_cli("search", "ceasefire aleppo", "--since", "24h", "--tag", "ceasefire", "--url", postgres_url)
        == 0
    )
    (line,) = capsys.readouterr().out.splitlines()
    assert line.split("\t")[1:] == [
        "Example News",
        "Ceasefire holds in Aleppo",
        "https://news.example/1",
        "ceasefire",
    ]


def test_cli_server_down_exits_1(
    postgres: PostgresServer, postgres_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    postgres.stop()
    try:
        assert run_cli("search", "aleppo", "--url", postgres_url) == 1
    finally:
        postgres.start()
    err = capsys.readouterr().err.strip()
    assert err.startswith("newsflow: storage unavailable:") and "\n" not in err
