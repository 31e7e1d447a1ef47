"""The SQLite sink: the shared contract, what is SQLite's own (locking, threads, URLs), and
the `db migrate` / `search` commands on a SQLite file."""

from __future__ import annotations

import argparse
import asyncio
import json
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from newsflow.storage_cmd import add_commands
from pipeline.errors import ConfigError, Unavailable
from pipeline.models import Article
from pipeline.sinks import RejectedArticle, open_sink
from pipeline.sinks.base import sqlite_path
from pipeline.sinks.rows import COLUMNS
from pipeline.sinks.sqlite import SQLiteSink
from tests.sink_contract import SinkContract, article_from_row, make_article


class TestSQLiteContract(SinkContract):
    @pytest.fixture
    def sink_url(self, tmp_path: Path) -> str:
        return f"sqlite:///{tmp_path / 'news.db'}"

    async def stored(self, url: str) -> list[Article]:
        connection = sqlite3.connect(sqlite_path(url))
        connection.row_factory = sqlite3.Row
        try:
            rows = connection.execute(
                f"SELECT {', '.join(COLUMNS)} FROM articles ORDER BY id, revision"
            ).fetchall()
        finally:
            connection.close()
        return [article_from_row(dict(row)) for row in rows]


URLS = [
    ("relative", "sqlite:///news.db", "news.db"),
    ("relative folder", "sqlite:///data/news.db", "data/news.db"),
    ("absolute", "sqlite:////var/lib/newsflow/news.db", "/var/lib/newsflow/news.db"),
    ("scheme in capitals", "SQLITE:///news.db", "news.db"),
    ("in memory", "sqlite:///:memory:", ":memory:"),
]


@pytest.mark.parametrize(("name", "url", "path"), URLS, ids=[case[0] for case in URLS])
def test_sqlite_url_to_path(name: str, url: str, path: str) -> None:
    assert sqlite_path(url) == path
    sink = open_sink(url)
    assert isinstance(sink, SQLiteSink) and sink.path == path


BAD_URLS = [
    ("unknown scheme", "mysql://user@host/db", "unsupported scheme 'mysql'"),
    ("no scheme", "news.db", "no scheme"),
    ("sqlite with a host", "sqlite://host/news.db", "no host"),
    ("sqlite without a file", "sqlite:///", "no database file"),
    ("sqlite folder only", "sqlite:///data/", "no database file"),
    ("sqlite query", "sqlite:///news.db?mode=ro", "query parameters"),
    ("postgres bad port", "postgresql://u:hunter2@localhost:port/db", "port"),
    ("password never shown", "mysql://u:hunter2@host/db", "u:***@host"),
]


@pytest.mark.parametrize(("name", "url", "message"), BAD_URLS, ids=[case[0] for case in BAD_URLS])
def test_bad_urls_are_config_errors(name: str, url: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        open_sink(url)
    assert message in str(caught.value)
    assert "hunter2" not in str(caught.value)


async def test_missing_folder_is_a_config_error(tmp_path: Path) -> None:
    sink = open_sink(f"sqlite:///{tmp_path / 'absent' / 'news.db'}")
    with pytest.raises(ConfigError, match="does not exist"):
        await sink.migrate()
    await sink.close()


async def test_unmigrated_database_says_to_migrate(tmp_path: Path) -> None:
    sink = open_sink(f"sqlite:///{tmp_path / 'news.db'}")
    try:
        with pytest.raises(ConfigError, match="newsflow db migrate"):
            await sink.write_batch([make_article()])
    finally:
        await sink.close()


async def test_wal_mode(tmp_path: Path) -> None:
    path = tmp_path / "news.db"
    sink = open_sink(f"sqlite:///{path}")
    await sink.migrate()
    await sink.close()
    with sqlite3.connect(path) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


async def test_locked_database_is_unavailable_without_blocking_the_loop(tmp_path: Path) -> None:
    """Another process holding the write lock is an outage: Unavailable after busy_timeout,
    and the event loop keeps running meanwhile (the wait happens on the sink's own thread)."""
    path = tmp_path / "news.db"
    sink = SQLiteSink(str(path), busy_timeout=0.5)
    await sink.migrate()
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    ticker = asyncio.create_task(tick())
    try:
        with pytest.raises(Unavailable, match="locked"):
            await sink.write_batch([make_article()])
        assert ticks >= 20  # ~50 expected in 0.5 s
        other.execute("ROLLBACK")
        assert await sink.write_batch([make_article()]) == 1  # same sink object, works again
    finally:
        ticker.cancel()
        other.close()
        await sink.close()


async def test_a_row_the_database_refuses_is_named(tmp_path: Path) -> None:
    path = tmp_path / "news.db"
    sink = SQLiteSink(str(path))
    await sink.migrate()
    refused = make_article(2)
    with sqlite3.connect(path) as connection:
        connection.execute(
            "CREATE TRIGGER refuse BEFORE INSERT ON articles WHEN new.id = ? "
            "BEGIN SELECT RAISE(ABORT, 'refused for the test'); END".replace("?", f"'{refused.id}'")
        )
    try:
        with pytest.raises(RejectedArticle) as caught:
            await sink.write_batch([make_article(1), refused, make_article(3)])
        assert caught.value.article_id == refused.id
        assert "refused for the test" in str(caught.value)
        assert await sink.write_batch([make_article(1), make_article(3)]) == 2
    finally:
        await sink.close()


# -- the command line ---------------------------------------------------------------------


def run_cli(*argv: str) -> int:
    """`newsflow <argv>` through add_commands on a parser shaped like newsflow/cli.py's."""
    parser = argparse.ArgumentParser(prog="newsflow")
    parser.add_argument("--config")
    add_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    code: int = args.run(args)
    return code


def one_line(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    assert len(lines) == 1, text
    assert "Traceback" not in text
    return lines[0]


@pytest.fixture
def stored_url(tmp_path: Path) -> str:
    """A SQLite database holding three articles, one with a control sequence in its title."""
    url = f"sqlite:///{tmp_path / 'news.db'}"
    now = datetime.now(UTC)

    async def fill() -> None:
        sink = open_sink(url)
        await sink.migrate()
        await sink.write_batch(
            [
                make_article(
                    1, title="Ceasefire holds in Aleppo", tags=("ceasefire", "aleppo"), published=now
                ),
                make_article(
                    2, title="Aleppo \x1b[31mmarkets\x1b[0m reopen", published=now - timedelta(hours=2)
                ),
                make_article(3, title="Old Aleppo story", published=now - timedelta(days=3)),
            ]
        )
        await sink.close()

    asyncio.run(fill())
    return url


def test_db_migrate_twice(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'news.db'}"
    assert run_cli("db", "migrate", "--url", url) == 0
    assert "applied 0001_articles" in one_line(capsys.readouterr().out)
    assert run_cli("db", "migrate", "--url", url) == 0
    assert "already up to date" in one_line(capsys.readouterr().out)


def test_db_migrate_uses_the_configured_url(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "newsflow.yaml"
    config.write_text(f"storage: {{url: 'sqlite:///{tmp_path / 'configured.db'}'}}\n", encoding="utf-8")
    assert run_cli("--config", str(config), "db", "migrate") == 0
    assert (tmp_path / "configured.db").exists()


def test_search_prints_one_line_per_hit(stored_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli("search", "aleppo", "--url", stored_url) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3
    fields = {line.split("\t")[2]: line.split("\t") for line in lines}
    published, source, _title, url, tags = fields["Ceasefire holds in Aleppo"]
    assert (source, url, tags) == ("Example News", "https://news.example/1", "ceasefire,aleppo")
    assert published.endswith("Z") and "." not in published
    assert "\x1b" not in "".join(lines)  # a hostile title cannot drive the terminal


def test_search_tag_since_limit_json(stored_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli("search", "aleppo", "--since", "24h", "--json", "--url", stored_url) == 0
    hits = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert {hit["id"] for hit in hits} == {make_article(1).id, make_article(2).id}
    assert run_cli("search", "aleppo", "--tag", "aleppo", "--json", "--url", stored_url) == 0
    assert [json.loads(line)["tags"] for line in capsys.readouterr().out.splitlines()] == [
        ["ceasefire", "aleppo"]
    ]
    assert run_cli("search", "aleppo", "--limit", "1", "--url", stored_url) == 0
    assert len(capsys.readouterr().out.splitlines()) == 1


def test_search_without_hits_exits_0(stored_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli("search", '"no such" OR (thing', "--url", stored_url) == 0
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize("args", [["--since", "yesterday"], ["--since", "-5m"], ["--limit", "0"]])
def test_bad_options_are_usage_errors(stored_url: str, args: list[str]) -> None:
    with pytest.raises(SystemExit) as caught:  # argparse's error(); newsflow's parser makes it exit 2
        run_cli("search", "aleppo", *args, "--url", stored_url)
    assert caught.value.code == 2


def test_since_accepts_a_date(stored_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    since = (datetime.now(UTC) - timedelta(days=2)).date().isoformat()
    assert run_cli("search", "aleppo", "--since", since, "--url", stored_url) == 0
    assert len(capsys.readouterr().out.splitlines()) == 2


def test_bad_url_exits_2_with_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli("search", "x", "--url", "mysql://u:hunter2@db/news") == 2
    err = one_line(capsys.readouterr().err)
    assert err.startswith("newsflow: config error:") and "hunter2" not in err


def test_unreachable_database_exits_1_with_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    # Port 1 on the loopback: refused at once, no network involved.
    assert run_cli("db", "migrate", "--url", "postgresql://u:hunter2@127.0.0.1:1/news") == 1
    err = one_line(capsys.readouterr().err)
    assert err.startswith("newsflow: storage unavailable:") and "hunter2" not in err


REDACTED = [
    ("absolute sqlite path kept whole", "sqlite:////var/lib/newsflow.db", "sqlite:////var/lib/newsflow.db"),
    ("relative sqlite path", "sqlite:///newsflow.db", "sqlite:///newsflow.db"),
    (
        "password in the authority",
        "postgresql://app:s3cret@db:5432/news",
        "postgresql://app:***@db:5432/news",
    ),
    ("user without password", "postgresql://app@db/news", "postgresql://app@db/news"),
]


@pytest.mark.parametrize(("name", "url", "shown"), REDACTED, ids=[c[0] for c in REDACTED])
def test_redacted_urls(name: str, url: str, shown: str) -> None:
    from pipeline.sinks.base import redact_url

    assert redact_url(url) == shown
