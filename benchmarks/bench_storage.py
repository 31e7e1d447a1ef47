"""Storage: rows/s into SQLite and PostgreSQL through the sinks' ``write_batch``.

Input: articles as the storage agent receives them: BBC News texts
(``$NEWSFLOW_DATA/datasets/bbc-news``) as title, 400-character summary and full text, with
three tags each, or generated texts without the corpus (the run says which).

Measured, medians of the repetitions, each repetition writing ROWS new rows:

- ``write_batch`` with batches of 100 and of 500 articles (new rows: the insert path);
- the same batches delivered again (at-least-once replay: the upsert finds nothing changed);
- the baseline in the same run, same table, same durability: one INSERT per row, each in its
  own transaction (what a writer without batching does).

Durability as in production: SQLite in WAL mode with ``synchronous=FULL``; PostgreSQL is a
throwaway real cluster (tests/integration/postgres.py) with fsync and synchronous_commit on.
Without PostgreSQL server binaries its half is recorded as skipped, with the reason.

Run: ``.venv/bin/python -m benchmarks --only storage`` (or ``-m benchmarks.bench_storage``).
"""

from __future__ import annotations

import asyncio
import sqlite3
import sys
import tempfile
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from importlib import metadata
from pathlib import Path
from typing import Any

from benchmarks import report
from benchmarks.bench_clean import bbc_texts, generated_texts
from benchmarks.environment import header
from benchmarks.timing import measure, ratio
from pipeline.clock import rfc3339
from pipeline.models import Article, Tag, TagMatch
from pipeline.sinks import SearchableSink, open_sink
from pipeline.sinks.rows import COLUMNS, to_row
from tests.integration.postgres import PostgresServer, PostgresUnavailable, find_bin_dir

ROWS = 2000  # per repetition, for every batch size
BATCH_SIZES = (100, 500)
BASELINE_ROWS = 200  # one commit per row is slow: fewer rows, same per-row figure
NOW = datetime(2026, 11, 21, 12, tzinfo=UTC)
TAGS = ("ceasefire", "aleppo", "humanitarian-aid")


def texts() -> tuple[list[str], str]:
    found, source = bbc_texts(ROWS)
    return (found, source) if found else (generated_texts(ROWS), source)


def articles(bodies: Sequence[str], first: int, count: int) -> list[Article]:
    """``count`` articles with ids from ``first`` on, their texts taken round-robin."""
    built = []
    for number in range(first, first + count):
        title, _, body = bodies[number % len(bodies)].strip().partition("\n")
        body = body.strip()
        built.append(
            Article(
                id=f"{number:032x}",
                article_key=f"https://news.example/{number}",
                url=f"https://news.example/{number}",
                canonical_url=f"https://news.example/{number}",
                feed_id="bench",
                source="BBC News",
                title=title.strip(),
                summary=body[:400],
                text=body,
                content_html="",
                lang="en",
                authors=("Jane Reporter",),
                published_at=rfc3339(NOW - timedelta(seconds=number)),
                published_raw=None,
                fetched_at=rfc3339(NOW),
                processed_at=rfc3339(NOW),
                content_hash=f"{number:064x}",
                tags=tuple(
                    Tag(
                        name=name,
                        score=1.0,
                        kind="topic",
                        matches=(TagMatch(term=name, field="text", count=1),),
                    )
                    for name in TAGS
                ),
            )
        )
    return built


def run_sink(
    url: str, bodies: Sequence[str], repetitions: int, baseline: Callable[[list[Article]], int]
) -> dict[str, Any]:
    """Every case against one fresh database at ``url``."""
    loop = asyncio.new_event_loop()
    sink = open_sink(url)
    loop.run_until_complete(sink.migrate())
    next_id = 0

    def fresh(count: int) -> list[Article]:
        nonlocal next_id
        next_id += count
        return articles(bodies, next_id - count, count)

    def writing(size: int, replay: bool) -> Callable[[], int]:
        # Articles are built before the clock starts; each repetition gets its own new ids.
        plans = [fresh(ROWS) for _ in range(repetitions + 1)]
        if replay:
            for plan in plans:
                _write_all(loop, sink, plan, size)  # stored once: the timed pass replays
        pending = iter(plans)

        def batch() -> int:
            return _write_all(loop, sink, next(pending), size)

        batch()  # warm-up: prepared statements, page cache
        return batch

    cases: dict[str, Any] = {}
    try:
        for size in BATCH_SIZES:
            cases[f"batch of {size}"] = measure(writing(size, replay=False), repetitions)
        for size in BATCH_SIZES:
            cases[f"batch of {size}, replayed"] = measure(writing(size, replay=True), repetitions)
        rows = [fresh(BASELINE_ROWS) for _ in range(max(3, repetitions // 2))]
        pending = iter(rows)
        cases["baseline: one INSERT + commit per row"] = measure(lambda: baseline(next(pending)), len(rows))
    finally:
        loop.run_until_complete(sink.close())
        loop.close()
    return cases


def _write_all(loop: asyncio.AbstractEventLoop, sink: SearchableSink, plan: list[Article], size: int) -> int:
    for start in range(0, len(plan), size):
        loop.run_until_complete(sink.write_batch(plan[start : start + size]))
    return len(plan)


def _values_insert(placeholder: Callable[[int], str]) -> str:
    return (
        f"INSERT INTO articles ({', '.join(COLUMNS)}) "
        f"VALUES ({', '.join(placeholder(n) for n in range(1, len(COLUMNS) + 1))})"
    )


def sqlite_case(bodies: Sequence[str], repetitions: int, folder: Path) -> dict[str, Any]:
    path = folder / "bench.db"

    def baseline(batch: list[Article]) -> int:
        # Autocommit: every INSERT is its own transaction (its own fsync), as in a naive writer.
        connection = sqlite3.connect(path, isolation_level=None)
        connection.execute("PRAGMA synchronous = FULL")
        insert = _values_insert(lambda _n: "?")
        for article in batch:
            row = list(to_row(article))
            connection.execute(insert, [rfc3339(v) if isinstance(v, datetime) else v for v in row])
        connection.close()
        return len(batch)

    return {
        "status": "ok",
        "sqlite": sqlite3.sqlite_version,
        "cases": run_sink(f"sqlite:///{path}", bodies, repetitions, baseline),
    }


def postgres_case(bodies: Sequence[str], repetitions: int) -> dict[str, Any]:
    bin_dir = find_bin_dir()
    if bin_dir is None:
        return {"status": "skipped: no PostgreSQL server binaries (initdb, pg_ctl) found"}
    try:
        import asyncpg
    except ImportError:
        return {"status": "skipped: asyncpg is not installed"}
    try:
        server = PostgresServer(bin_dir, fsync=True).setup()
    except PostgresUnavailable as exc:
        return {"status": f"skipped: the PostgreSQL cluster did not start: {exc}"}
    try:
        url = server.create_database("newsflow_bench")

        def baseline(batch: list[Article]) -> int:
            async def insert_each() -> None:
                connection = await asyncpg.connect(url)
                insert = _values_insert(lambda n: f"${n}")
                for article in batch:
                    await connection.execute(insert, *to_row(article))  # autocommit: one transaction each
                await connection.close()

            asyncio.run(insert_each())
            return len(batch)

        cases = run_sink(url, bodies, repetitions, baseline)
        return {"status": "ok", "server": str(bin_dir), "cases": cases}
    finally:
        server.destroy()


def run(repetitions: int) -> dict[str, Any]:
    bodies, source = texts()
    with tempfile.TemporaryDirectory(prefix="newsflow-bench-") as folder:
        sqlite = sqlite_case(bodies, repetitions, Path(folder))
    postgres = postgres_case(bodies, repetitions)
    words = sorted(len(body.split()) for body in bodies)
    result: dict[str, Any] = {
        **header("storage"),
        "status": "ok" if postgres["status"] == "ok" else f"partial: postgres {postgres['status']}",
        "input": {"source": source, "texts": len(bodies), "median_words": words[len(words) // 2]},
        "rows_per_repetition": ROWS,
        "asyncpg": _version("asyncpg"),
        "sqlite": sqlite,
        "postgres": postgres,
    }
    for backend in (sqlite, postgres):
        cases = backend.get("cases")
        if cases:
            base = cases["baseline: one INSERT + commit per row"]
            backend["ratio_vs_baseline"] = {
                size: ratio(cases[f"batch of {size}"], base) for size in BATCH_SIZES
            }
    return result


def _version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def print_summary(result: dict[str, Any]) -> None:
    source = result["input"]
    print(
        f"\nStorage — {source['source']}: median {source['median_words']} words, "
        f"{result['rows_per_repetition']} rows per repetition"
    )
    print(f"  {'':44} {'rows/s':>10} {'µs/row':>10}")
    for name in ("sqlite", "postgres"):
        backend = result[name]
        if backend["status"] != "ok":
            print(f"  {name}: {backend['status']}")
            continue
        for case, value in backend["cases"].items():
            rate, cost = value["articles_per_second"], value["us_per_article"]
            print(f"  {name + ' ' + case:44} {rate:>10,.0f} {cost:>10,.1f}")
        ratios = ", ".join(
            f"batch of {size}: {value}×" for size, value in backend["ratio_vs_baseline"].items()
        )
        print(f"  {name} batching vs one commit per row: {ratios}")


def main() -> int:
    report.run_offline("storage", "storage", run, print_summary, 5)
    return 0


if __name__ == "__main__":
    sys.exit(main())
