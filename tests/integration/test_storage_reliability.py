"""Storage reliability with the real broker and a real PostgreSQL: 10,000 articles through one
worker that is killed with SIGKILL four times (at ≈20/40/60/80 % of the rows) and restarted,
with PostgreSQL stopped for 60 s in between (at ≈50 %). The table must end with exactly
10,000 rows, every produced article once, none twice.

The corpus is generated here: 10,000 articles, each with its own URL (the key, as the poller
computes it) and its own title and text (seeded random words plus the index), produced straight
to ``<prefix>raw`` (no poller) on 4 partitions. The worker runs with ``dedup: {near: false}``:
10,000 texts drawn from one small vocabulary are not what near-duplicate detection is about
and some pairs could be judged near-duplicates of each other; exact dedup stays on (it passes
every article: distinct URLs, distinct title + text). Storage goes to a fresh database of the
session's throwaway cluster (tests/integration/postgres.py), in batches of at most 500 rows
or 0.5 s.

The articles are produced in waves, so that every kill interrupts work in flight: the stages
before storage keep working through the outage and pile up a backlog on ``<prefix>articles``
that the storage agent drains at thousands of rows a second once PostgreSQL is back, so with
everything produced at once the 3rd and 4th kills would come after the table was complete.
Before the first worker starts and after each kill, ``<prefix>raw`` is filled up to ``LEAD``
articles beyond the next kill threshold (4,000, 6,000, 8,000, then all 10,000); each kill is
asserted to find fewer rows than articles produced. The row count is polled every 0.1 s; when
it passes 2,000 / 4,000 / 6,000 / 8,000 the worker's process group gets SIGKILL and a new
worker starts on the same config (its /metrics answering). After the second restart, once
5,000 rows are in, PostgreSQL is stopped (fast shutdown) for 60 s while the worker keeps
running (it must not exit, and its storage agent must have met the outage:
``newsflow_sink_writes_total{outcome="unavailable"}`` > 0), then started again; the row count
is the same before and after. The 3rd kill lands where that catch-up is at the first poll
past 6,000 (so somewhat above it, ≈6,000–6,700 in our runs).

At-least-once means the kills really redeliver: the stages replay what they did after their
last committed offset, so ``<prefix>articles`` ends with more than 10,000 records (asserted),
and the storage agent is handed more than 10,000 articles across the five workers (reported).
The table still holds exactly one row per (id, revision): the upsert absorbs the repeats.
Figures (kill points, rows around the outage, repeats, time) are printed (run with -s).
"""

from __future__ import annotations

import asyncio
import os
import random
import shutil
import signal
import subprocess
import time
import urllib.request
import uuid
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import pytest
import yaml
from aiokafka import AIOKafkaProducer

from agents.app import FAUST_DATA_DIR
from newsflow.kafka_io import ensure_topics
from pipeline import codec
from pipeline.cleaning.identity import article_id
from pipeline.cleaning.urls import canonical_url
from pipeline.config import KafkaSettings
from pipeline.models import RawArticle
from tests.integration.conftest import ROOT, free_port, print_log_summary, spawn, stop, wait_for_http
from tests.integration.kafka_helpers import Record, read
from tests.integration.postgres import PostgresServer

SEED = 20261122
ARTICLES = 10_000
PARTITIONS = 4
KILL_AT = (2_000, 4_000, 6_000, 8_000)  # rows in the table: ≈20/40/60/80 %
OUTAGE_AT = 5_000  # rows in the table when PostgreSQL is stopped (between kills 2 and 3)
OUTAGE_SECONDS = 60.0
LEAD = 2_000  # articles produced beyond the next kill threshold
POLL = 0.1  # seconds between row counts: a post-outage catch-up writes ~7,000 rows/s
STALL = 60.0  # no new row for this long (outside the outage): stuck, fail
FINAL_TIMEOUT = 120.0  # after the last restart
SETTLE = 5.0
# Faust reads BROKER_SESSION_TIMEOUT from the environment (default 60 s): the coordinator
# waits that long for a SIGKILLed member before the restarted worker gets its partitions.
KILLED_MEMBER_SESSION_TIMEOUT = "10"
FETCHED_AT = "2026-11-22T10:00:00.000Z"


# --- the corpus ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Corpus:
    messages: list[tuple[bytes, bytes]]  # (article_key, newsflow.raw/1 JSON), produce order
    ids: set[str]
    urls: set[str]


def corpus() -> Corpus:
    rng = random.Random(SEED)
    syllables = [c + v for c in "bdfgklmnprstvz" for v in "aeiou"]
    vocabulary = sorted({"".join(rng.choices(syllables, k=rng.randint(2, 4))) for _ in range(3000)})
    messages: list[tuple[bytes, bytes]] = []
    ids: set[str] = set()
    urls: set[str] = set()
    for i in range(ARTICLES):
        site = i % 25
        link = f"https://store{site:02d}.example/news/2026/11/story-{i}"
        key = canonical_url(link) or link
        title = " ".join(rng.choices(vocabulary, k=rng.randint(5, 9))).capitalize() + f", report {i}"
        sentences = [
            " ".join(rng.choices(vocabulary, k=rng.randint(8, 16))).capitalize() + "."
            for _ in range(rng.randint(4, 8))
        ]
        summary = f"<p>{' '.join(sentences[:2])}</p><p>{' '.join(sentences[2:])} Item {i}.</p>"
        raw = RawArticle(
            article_key=key,
            feed_id=f"store-{site:02d}",
            source=f"Store {site:02d} News",
            fetched_at=FETCHED_AT,
            published="Sun, 22 Nov 2026 09:00:00 GMT",
            guid=link,
            link=link,
            title=title,
            summary=summary,
        )
        messages.append((key.encode(), codec.encode(raw)))
        ids.add(article_id(key))
        urls.add(key)
    assert len(ids) == len(urls) == ARTICLES
    return Corpus(messages, ids, urls)


async def _produce(bootstrap: str, topic: str, messages: Sequence[tuple[bytes, bytes]]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
    await producer.start()
    try:
        sent = [await producer.send(topic, value=value, key=key) for key, value in messages]
        await producer.flush()
        for delivery in sent:
            await delivery  # raises if a record was not written
    finally:
        await producer.stop()


# --- PostgreSQL ----------------------------------------------------------------------------


async def _fetch(url: str, query: str) -> list[asyncpg.Record]:
    connection = await asyncpg.connect(url, timeout=5)
    try:
        return list(await connection.fetch(query))
    finally:
        await connection.close()


def query(url: str, sql: str) -> list[asyncpg.Record]:
    return asyncio.run(_fetch(url, sql))


def row_count(url: str) -> int | None:
    """Rows in ``articles``; None while the server is down or the schema not there yet."""
    try:
        return int(query(url, "SELECT count(*) FROM articles")[0][0])
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError):
        return None


# --- the stack -----------------------------------------------------------------------------


def metric(text: str, name: str, **labels: str) -> float:
    total = 0.0
    for line in text.splitlines():
        if line.startswith((name + "{", name + " ")) and all(f'{k}="{v}"' in line for k, v in labels.items()):
            total += float(line.rsplit(" ", 1)[1])
    return total


@dataclass
class Worker:
    name: str
    process: subprocess.Popen[bytes]
    log: Path


@dataclass
class Stack:
    bootstrap: str
    prefix: str
    app_id: str
    config: Path
    port: int
    logs: Path
    database: str
    postgres: PostgresServer
    workers: list[Worker] = field(default_factory=list)
    produced: int = 0
    stored_by_dead_workers: float = 0.0  # storage/stored, scraped just before each kill

    def topic(self, suffix: str) -> str:
        return f"{self.prefix}{suffix}"

    @property
    def worker(self) -> Worker:
        return self.workers[-1]

    def start_worker(self) -> Worker:
        name = f"worker-{len(self.workers)}"
        worker = Worker(name, spawn(name, self.config, self.logs, "worker"), self.logs / f"{name}.log")
        self.workers.append(worker)
        wait_for_http(f"http://127.0.0.1:{self.port}/metrics", worker.process, worker.log)
        return worker

    def metrics(self) -> str:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/metrics", timeout=10) as response:
            return str(response.read().decode())

    def stored(self) -> float:
        """Articles the live worker's storage agent has written (replays included)."""
        return metric(self.metrics(), "newsflow_articles_total", stage="storage", outcome="stored")

    def kill(self) -> None:
        with suppress(OSError):  # only a figure for the report
            self.stored_by_dead_workers += self.stored()
        os.killpg(self.worker.process.pid, signal.SIGKILL)
        self.worker.process.wait(timeout=30)

    def produce_up_to(self, total: int, messages: list[tuple[bytes, bytes]]) -> None:
        total = min(total, len(messages))
        if total > self.produced:
            asyncio.run(_produce(self.bootstrap, self.topic("raw"), messages[self.produced : total]))
            self.produced = total

    def assert_alive(self, when: str) -> None:
        code = self.worker.process.poll()
        if code is not None:
            tail = self.worker.log.read_text(errors="replace")[-4000:]
            pytest.fail(f"{self.worker.name} exited ({code}) {when}:\n{tail}")

    def wait_for_rows(self, target: int, timeout: float) -> int:
        """Poll the row count until it reaches ``target``; fail if the worker dies or stalls."""
        deadline = time.monotonic() + timeout
        last, progress_at = -1, time.monotonic()
        while time.monotonic() < deadline:
            self.assert_alive(f"while waiting for {target} rows (at {last})")
            count = row_count(self.database)
            if count is not None and count >= target:
                return count
            if count is not None and count > last:
                last, progress_at = count, time.monotonic()
            assert time.monotonic() - progress_at < STALL, f"no new row for {STALL:.0f}s at {last}"
            time.sleep(POLL)
        pytest.fail(f"{target} rows not reached after {timeout:.0f}s (at {last}); logs in {self.logs}")

    @contextmanager
    def tails_on_failure(self) -> Iterator[None]:
        try:
            yield
        except BaseException:
            for w in self.workers:
                print_log_summary(w.name, w.process, w.log)
            print(f"--- postgres log tail:\n{self.postgres.log_tail()}")
            raise


@pytest.fixture
def stack(
    kafka: str,
    postgres: PostgresServer,
    postgres_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Stack]:
    monkeypatch.setenv("BROKER_SESSION_TIMEOUT", KILLED_MEMBER_SESSION_TIMEOUT)
    tag = uuid.uuid4().hex[:8]
    prefix, app_id = f"sr{tag}.", f"newsflow-sr{tag}"
    port = free_port()
    config = tmp_path / "newsflow.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "kafka": {"bootstrap_servers": kafka, "topic_prefix": prefix, "partitions": PARTITIONS},
                "dedup": {"near": False},
                "storage": {"url": postgres_url, "batch_seconds": "0.5s"},
                "metrics": {"port": port},
                "worker": {"app_id": app_id},
            }
        ),
        encoding="utf-8",
    )
    settings = KafkaSettings(bootstrap_servers=kafka, topic_prefix=prefix, partitions=PARTITIONS)
    asyncio.run(ensure_topics(settings))
    stack = Stack(kafka, prefix, app_id, config, port, tmp_path, postgres_url, postgres)
    try:
        yield stack
    finally:
        for worker in stack.workers:
            stop(worker.process)
        postgres.start()  # in case the test failed during the outage
        shutil.rmtree(ROOT / FAUST_DATA_DIR / f"faust-{app_id}", ignore_errors=True)
        print(f"\nstorage-reliability logs kept in {tmp_path}")


# --- the test ------------------------------------------------------------------------------


def test_sigkills_and_a_postgres_outage_lose_and_double_nothing(stack: Stack) -> None:
    expected = corpus()
    figures: list[str] = []

    def note(line: str) -> None:
        figures.append(line)
        print(f"[storage-reliability] {line}", flush=True)

    with stack.tails_on_failure():
        started = time.monotonic()
        stack.produce_up_to(KILL_AT[0] + LEAD, expected.messages)
        stack.start_worker()
        kills: list[tuple[int, int]] = []  # (rows when killed, articles produced then)
        unavailable = 0.0
        for number, threshold in enumerate(KILL_AT, 1):
            if number == 3:  # between the 2nd and the 3rd kill: PostgreSQL goes away for 60 s
                before = stack.wait_for_rows(OUTAGE_AT, timeout=STALL * 2)
                stack.postgres.stop()
                down_at = time.monotonic()
                while time.monotonic() - down_at < OUTAGE_SECONDS:
                    stack.assert_alive(f"{time.monotonic() - down_at:.0f}s into the PostgreSQL outage")
                    time.sleep(1)
                stack.assert_alive(f"at the end of the {OUTAGE_SECONDS:.0f}s PostgreSQL outage")
                unavailable = metric(stack.metrics(), "newsflow_sink_writes_total", outcome="unavailable")
                stack.postgres.start()
                back = row_count(stack.database)
                back_at = time.monotonic()
                grew = stack.wait_for_rows((back or 0) + 1, timeout=STALL)
                note(
                    f"outage: PostgreSQL stopped at {before} rows ({stack.produced} produced) for "
                    f"{OUTAGE_SECONDS:.0f}s; {back} rows when it returned; writing again after "
                    f"{time.monotonic() - back_at:.1f}s ({grew} rows); {unavailable:.0f} failed writes "
                    f"while it was down; the worker stayed up"
                )
                assert back == before, f"rows changed across the outage: {before} → {back}"
                assert unavailable > 0, "the storage agent never met the outage (no unavailable write)"
            count = stack.wait_for_rows(threshold, timeout=STALL * 2)
            produced = stack.produced
            stack.kill()
            kills.append((count, produced))
            note(
                f"kill {number}: SIGKILL at {count} rows ({produced} produced), "
                f"{time.monotonic() - started:.1f}s into the run"
            )
            stack.produce_up_to(
                KILL_AT[number] + LEAD if number < len(KILL_AT) else ARTICLES, expected.messages
            )
            stack.start_worker()
        last_restart = time.monotonic()
        stack.produce_up_to(ARTICLES, expected.messages)
        final = stack.wait_for_rows(ARTICLES, timeout=FINAL_TIMEOUT)
        drained = time.monotonic() - last_restart
        time.sleep(SETTLE)
        stack.assert_alive("after the run")
        stored_total = stack.stored_by_dead_workers + stack.stored()
        seconds = time.monotonic() - started

        total, distinct_keys, distinct_ids = query(
            stack.database,
            "SELECT count(*), count(DISTINCT (id, revision)), count(DISTINCT id) FROM articles",
        )[0]
        rows = query(stack.database, "SELECT id, revision, article_key FROM articles")
        ids = Counter(str(r["id"]) for r in rows)
        revisions = Counter(int(r["revision"]) for r in rows)
        keys = {str(r["article_key"]) for r in rows}

        tally: Counter[str] = Counter()

        def all_ids(records: list[Record]) -> bool:
            tally.clear()
            tally.update(str(r.json()["id"]) for r in records)
            return len(tally) >= ARTICLES

        on_topic = read(stack.bootstrap, stack.topic("articles"), until=all_ids, timeout=60, settle=3)
        all_ids(on_topic)
        repeated = {i: n for i, n in tally.items() if n > 1}
        dead = read(stack.bootstrap, stack.topic("dead-letter"), timeout=2)

        summary = (
            f"{total} rows ({distinct_keys} distinct (id, revision), {distinct_ids} distinct ids), "
            f"reached {final} rows {drained:.1f}s after the last restart; kills at "
            f"{[k for k, _ in kills]} rows; {len(on_topic)} records on articles for {len(tally)} ids "
            f"({len(repeated)} ids repeated, {len(on_topic) - len(tally)} extra records); "
            f"{stored_total:.0f} articles handed to storage across {len(stack.workers)} workers; "
            f"{len(dead)} dead letters; {seconds:.1f}s in all"
        )
        note(summary)
        missing = expected.ids - set(ids)
        unexpected = set(ids) - expected.ids
        assert total == ARTICLES, f"expected {ARTICLES} rows: {summary}"
        assert distinct_keys == distinct_ids == ARTICLES, f"duplicate rows: {summary}"
        assert not missing and not unexpected, (
            f"{len(missing)} articles missing (e.g. {sorted(missing)[:5]}), {len(unexpected)} unexpected "
            f"(e.g. {sorted(unexpected)[:5]}); {summary}"
        )
        assert keys == expected.urls, f"stored article keys differ from the produced URLs; {summary}"
        assert revisions == Counter({1: ARTICLES}), f"revisions {dict(revisions)}; {summary}"
        assert not dead, f"{len(dead)} records dead-lettered, e.g. {dead[0].json()}; {summary}"
        for count, produced in kills:
            assert count < produced, f"a kill at {count} rows found nothing in flight; {summary}"
        # The kills really did make the pipeline redeliver (at-least-once), and the upsert
        # on (id, revision) absorbed every repeat: more records than rows.
        assert len(tally) == ARTICLES and len(on_topic) > ARTICLES, (
            f"no redelivery on articles after {len(kills)} SIGKILLs: {summary}"
        )
