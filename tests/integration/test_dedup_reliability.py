"""Issue 5's acceptance test on the real broker: 5,000 articles of which 1,000 are reposts and
syndicated copies. news.articles must hold exactly the 4,000 unique ones and news.duplicates the
rest, explained — with one worker, after a SIGKILL and a restart mid-run, and with a second
worker joining mid-run.

The corpus is generated here from a seeded random vocabulary (no shared data): 4,000 distinct
articles (150–300 words, distinct titles, unrelated texts share no 5-shingle) and 1,000 copies,
each one produced after its original:

=========  =====  ==========================================================================
kind       count  the copy
=========  =====  ==========================================================================
content      400  same title and text under another URL, from another feed
near         300  another URL: two words changed, or the headline changed, or a syndication
                  line appended and a word changed
exact-url    200  the same URL (half of them with tracking parameters) from another feed
guid         100  no link: the same GUID again in the same feed
=========  =====  ==========================================================================

Exact dedup is partitioned by key (kafka.partitions: 4), so a same-key copy meets its original
in order. Content and near copies have other keys: they meet their original on the
one-partition near-duplicate stage, in the order the four partitions of the stages before it
deliver. "First seen wins", so they are produced well after their original (``NEAR_GAP``
messages later) for the expected original to win. Records go straight to ``<prefix>raw``
(no poller), keyed by article_key as the poller does.

What is asserted: the articles topic holds one article per story and nothing else, each id
once; every copy is explained on duplicates with the right ``duplicate_of`` and kind; nothing
is dead-lettered. With one worker the survivors are exactly the 4,000 originals and duplicates
holds exactly the 1,000 explanations. After a SIGKILL or a rebalance the four partitions no
longer progress in step (one is paused for recovery while another runs on), so a copy may reach
the near-duplicate stage before its original although it was produced 1,500 messages later:
then the copy is the one that passes and the original is explained as its duplicate. Those two
tests accept that swap (first seen wins, by design) and print how many pairs swapped; they also
accept repeated explanations and an article explained as a duplicate of itself (a replay
recognised by its key), and print those figures too.

Repeated ids on articles: with one worker, none. After a SIGKILL or a rebalance, delivery is
at-least-once (DESIGN §6): a stage redelivers what it sent after its last committed offset
(the stateless tagging stage most of all), so an id may appear again. What is asserted then is
that every repeat is the same article (same id, revision and content hash): a consumer that
upserts on (id, revision), as the sinks do, sees exactly the unique ones. The count is printed;
a duplicate-free topic would need Kafka transactions (see the issue-5 note).

Each test runs on its own topic prefix and Faust app id. Workers are real processes; their
logs stay under tmp_path; their warnings and log tails are printed when a test fails.
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
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import pytest
import yaml

from agents.app import FAUST_DATA_DIR
from newsflow.kafka_io import ensure_topics
from pipeline import codec
from pipeline.cleaning.identity import article_id
from pipeline.cleaning.urls import canonical_url
from pipeline.config import KafkaSettings
from pipeline.models import RawArticle
from tests.integration.conftest import ROOT, free_port, print_log_summary, spawn, stop, wait_for_http
from tests.integration.kafka_helpers import Record, produce, read

SEED = 20261121
ORIGINALS = 4000
COPIES = {"content": 400, "near": 300, "exact-url": 200, "guid": 100}
PARTITIONS = 4
BATCH = 500  # messages per produce call
NEAR_GAP = 1500  # a content/near copy comes this many originals after its own
COMPLETION_TIMEOUT = 240.0
SETTLE = 5.0  # keep reading after the last expected id: a late repeat would show up
STALL = 60.0  # no new id on a topic for this long: the pipeline is stuck, stop waiting
# Faust reads BROKER_SESSION_TIMEOUT from the environment (default 60 s): the coordinator
# waits that long for a SIGKILLed member before the restarted worker gets its partitions.
KILLED_MEMBER_SESSION_TIMEOUT = "10"
FETCHED_AT = "2026-11-21T10:00:00.000Z"


# --- the corpus ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ExpectedDuplicate:
    id: str
    duplicate_of: str
    kind: str
    feed_id: str


@dataclass
class Corpus:
    messages: list[tuple[bytes, bytes]]  # produce order: (article_key, newsflow.raw/1 JSON)
    originals: set[str]  # ids that must reach news.articles, once each
    copies: list[ExpectedDuplicate]  # what news.duplicates must explain
    feeds: dict[str, str]  # original id → its feed id

    def batches(self, start: int = 0, stop: int | None = None) -> Iterator[list[tuple[bytes, bytes]]]:
        messages = self.messages[start:stop]
        for first in range(0, len(messages), BATCH):
            yield messages[first : first + BATCH]


_CONSONANTS = "bcdfghjklmnprstvwz"
_VOWELS = "aeiou"
_FUNCTION_WORDS = (
    "the",
    "of",
    "and",
    "to",
    "in",
    "a",
    "on",
    "for",
    "with",
    "that",
    "by",
    "from",
    "said",
    "was",
)


def _vocabulary(rng: random.Random, size: int = 4000) -> list[str]:
    words: set[str] = set()
    while len(words) < size:
        syllables = rng.randint(2, 4)
        words.add("".join(rng.choice(_CONSONANTS) + rng.choice(_VOWELS) for _ in range(syllables)))
    return sorted(words)


@dataclass
class _Writer:
    rng: random.Random
    vocabulary: list[str]
    titles: set[str] = field(default_factory=set)

    def word(self) -> str:
        if self.rng.random() < 0.25:
            return self.rng.choice(_FUNCTION_WORDS)
        return self.rng.choice(self.vocabulary)

    def title(self) -> str:
        while True:
            title = " ".join(self.rng.choice(self.vocabulary) for _ in range(self.rng.randint(6, 10)))
            title = title[0].upper() + title[1:]
            if title not in self.titles:
                self.titles.add(title)
                return title

    def paragraphs(self) -> list[list[str]]:
        """150–300 words in paragraphs of sentences (word lists; sentences end with '.')."""
        target = self.rng.randint(150, 300)
        paragraphs: list[list[str]] = []
        count = 0
        while count < target:
            paragraph: list[str] = []
            for _ in range(self.rng.randint(2, 4)):
                sentence = [self.word() for _ in range(self.rng.randint(8, 18))]
                sentence[0] = sentence[0].capitalize()
                sentence[-1] += "."
                paragraph += sentence
            paragraphs.append(paragraph)
            count += len(paragraph)
        return paragraphs

    def changed(self, paragraphs: list[list[str]], words: int) -> list[list[str]]:
        """The same paragraphs with ``words`` words (far apart) replaced by others."""
        changed = [list(p) for p in paragraphs]
        flat = [(i, j) for i, p in enumerate(changed) for j in range(len(p))]
        step = len(flat) // (words + 1)
        for n in range(1, words + 1):
            i, j = flat[n * step]
            old = changed[i][j]
            new = self.rng.choice(self.vocabulary)
            while new == old.strip(".").lower():
                new = self.rng.choice(self.vocabulary)
            changed[i][j] = new + ("." if old.endswith(".") else "")
        return changed


def _html(paragraphs: list[list[str]], extra: str = "") -> str:
    body = "".join(f"<p>{' '.join(p)}</p>" for p in paragraphs)
    return body + (f"<p>{extra}</p>" if extra else "")


def _raw(key: str, feed_id: str, title: str, summary: str, **fields: str | None) -> RawArticle:
    return RawArticle(
        article_key=key,
        feed_id=feed_id,
        source=f"{feed_id} news",
        fetched_at=FETCHED_AT,
        published="Sat, 21 Nov 2026 09:00:00 GMT",
        title=title,
        summary=summary,
        **fields,
    )


@cache
def corpus() -> Corpus:
    rng = random.Random(SEED)
    writer = _Writer(rng, _vocabulary(rng))
    # Which originals get which copy: one copy at most per original; content/near copies only
    # for originals early enough that NEAR_GAP originals still follow them.
    indices = list(range(ORIGINALS))
    guid_originals = set(rng.sample(indices, COPIES["guid"]))
    early = [i for i in indices if i < ORIGINALS - NEAR_GAP and i not in guid_originals]
    near_side = rng.sample(early, COPIES["content"] + COPIES["near"])
    content_of, near_of = set(near_side[: COPIES["content"]]), set(near_side[COPIES["content"] :])
    rest = [i for i in indices if i not in guid_originals and i not in content_of and i not in near_of]
    url_of = set(rng.sample(rest, COPIES["exact-url"]))

    ordered: list[tuple[float, RawArticle]] = []
    originals: set[str] = set()
    feeds: dict[str, str] = {}
    copies: list[ExpectedDuplicate] = []
    for i in indices:
        title, paragraphs = writer.title(), writer.paragraphs()
        summary = _html(paragraphs)
        site = i % 20
        if i in guid_originals:
            feed, guid = f"guid-feed-{i % 5}", str(uuid.UUID(int=rng.getrandbits(128)))
            key = f"guid:{feed}:{guid}"
            original = _raw(key, feed, title, summary, guid=guid)
        else:
            feed = f"site-{site:02d}"
            link = f"https://site{site:02d}.example/world/2026/11/{title.split()[0].lower()}-{i}"
            key = canonical_url(link) or link
            original = _raw(key, feed, title, summary, guid=link, link=link)
        ordered.append((float(i), original))
        oid = article_id(key)
        originals.add(oid)
        feeds[oid] = feed

        if i in guid_originals:
            copy, kind = original.model_copy(update={"fetched_at": "2026-11-21T11:00:00.000Z"}), "guid"
            ordered.append((i + rng.randint(1, 400) + 0.5, copy))
        elif i in url_of:
            tracking = "?utm_source=aggregator&utm_medium=rss" if i % 2 else ""
            other = f"aggregator-{i % 7}"
            copy = _raw(key, other, title, summary, guid=f"agg-{i}", link=str(original.link) + tracking)
            kind = "exact-url"
            ordered.append((i + rng.randint(1, 400) + 0.5, copy))
        elif i in content_of:
            link = f"https://mirror{i % 9}.example/story/{i}"
            copy = _raw(canonical_url(link) or link, f"mirror-{i % 9}", title, summary, link=link)
            kind = "content"
            ordered.append((i + NEAR_GAP + 0.5, copy))
        elif i in near_of:
            link = f"https://wire{i % 11}.example/syndicated/{i}"
            variant = i % 3
            if variant == 0:  # two words changed
                copy_title, copy_summary = title, _html(writer.changed(paragraphs, 2))
            elif variant == 1:  # headline changed (two words of it)
                copy_title, copy_summary = " ".join(writer.changed([title.split()], 2)[0]), summary
            else:  # a syndication line appended and one word changed
                line = f"This story was first published by site{site:02d}.example, republished under licence."
                copy_title, copy_summary = title, _html(writer.changed(paragraphs, 1), line)
            copy = _raw(canonical_url(link) or link, f"wire-{i % 11}", copy_title, copy_summary, link=link)
            kind = "near"
            ordered.append((i + NEAR_GAP + 0.5, copy))
        else:
            continue
        copies.append(ExpectedDuplicate(article_id(copy.article_key), oid, kind, copy.feed_id))

    ordered.sort(key=lambda pair: pair[0])
    messages = [(raw.article_key.encode(), codec.encode(raw)) for _, raw in ordered]
    assert len(messages) == ORIGINALS + sum(COPIES.values()) and len(originals) == ORIGINALS
    return Corpus(messages, originals, copies, feeds)


# --- workers -------------------------------------------------------------------------------


@dataclass
class Worker:
    name: str
    process: subprocess.Popen[bytes]
    log: Path
    port: int

    def metrics(self) -> str:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/metrics", timeout=10) as response:
            return str(response.read().decode())


@dataclass
class Cluster:
    """Workers of one Faust app on one topic prefix, all with the same settings but their port."""

    bootstrap: str
    prefix: str
    app_id: str
    logs: Path
    workers: list[Worker] = field(default_factory=list)

    def topic(self, suffix: str) -> str:
        return f"{self.prefix}{suffix}"

    def create_topics(self) -> None:
        settings = KafkaSettings(
            bootstrap_servers=self.bootstrap, topic_prefix=self.prefix, partitions=PARTITIONS
        )
        asyncio.run(ensure_topics(settings))

    def start(self, name: str) -> Worker:
        port = free_port()
        config = self.logs / f"{name}.yaml"
        config.write_text(
            yaml.safe_dump(
                {
                    "kafka": {
                        "bootstrap_servers": self.bootstrap,
                        "topic_prefix": self.prefix,
                        "partitions": PARTITIONS,
                    },
                    "metrics": {"port": port},
                    "worker": {"app_id": self.app_id},
                }
            ),
            encoding="utf-8",
        )
        worker = Worker(name, spawn(name, config, self.logs, "worker"), self.logs / f"{name}.log", port)
        self.workers.append(worker)
        wait_for_http(f"http://127.0.0.1:{port}/metrics", worker.process, worker.log)
        return worker

    def produce(self, batches: Iterator[list[tuple[bytes, bytes]]]) -> None:
        for batch in batches:
            asyncio.run(produce(self.bootstrap, self.topic("raw"), batch))

    @contextmanager
    def tails_on_failure(self) -> Iterator[None]:
        """Print the workers' log tails when the body raises (pytest shows them on failure)."""
        try:
            yield
        except BaseException:
            for w in self.workers:
                print_log_summary(w.name, w.process, w.log)
            raise


@pytest.fixture
def cluster(kafka: str, tmp_path: Path) -> Iterator[Cluster]:
    """A fresh prefix and app id; every worker stopped afterwards (SIGTERM, then SIGKILL)."""
    tag = uuid.uuid4().hex[:8]
    cluster = Cluster(kafka, f"dr{tag}.", f"newsflow-dr{tag}", tmp_path)
    cluster.create_topics()
    try:
        yield cluster
    finally:
        for worker in cluster.workers:
            stop(worker.process)
        # The workers' Faust data dir (cwd ROOT, agents.app.FAUST_DATA_DIR): empty with the
        # memory store, which is also why two workers of one app may share it.
        shutil.rmtree(ROOT / FAUST_DATA_DIR / f"faust-{cluster.app_id}", ignore_errors=True)


# --- reading the outcome --------------------------------------------------------------------


@dataclass
class Tally:
    """Counts ids as records arrive (``read``'s ``until`` gets the whole list every poll);
    done at ``target`` distinct ids, or once no new id came for ``STALL`` seconds (a stuck
    pipeline fails in a minute, not after the whole timeout)."""

    target: int
    counts: Counter[str] = field(default_factory=Counter)
    versions: dict[str, set[tuple[object, object]]] = field(default_factory=dict)
    _done: int = 0
    _progress_at: float = field(default_factory=time.monotonic)

    def __call__(self, records: list[Record]) -> bool:
        before = len(self.counts)
        for record in records[self._done :]:
            article = record.json()
            self.counts[str(article["id"])] += 1
            version = (article.get("revision"), article.get("content_hash"))
            self.versions.setdefault(str(article["id"]), set()).add(version)
        self._done = len(records)
        if len(self.counts) > before:
            self._progress_at = time.monotonic()
        return len(self.counts) >= self.target or time.monotonic() - self._progress_at > STALL


def read_ids(cluster: Cluster, suffix: str, target: int, timeout: float, settle: float = 0.0) -> Tally:
    tally = Tally(target)
    records = read(cluster.bootstrap, cluster.topic(suffix), until=tally, timeout=timeout, settle=settle)
    tally(records)  # the settle period's records too
    return tally


def metric(text: str, name: str, **labels: str) -> float:
    total = 0.0
    for line in text.splitlines():
        if line.startswith((name + "{", name + " ")) and all(f'{k}="{v}"' in line for k, v in labels.items()):
            total += float(line.rsplit(" ", 1)[1])
    return total


def stage_counts(worker: Worker) -> dict[str, float]:
    text = worker.metrics()
    wanted = [
        ("cleaning", "passed"),
        ("dedup", "unique"),
        ("dedup", "duplicate"),
        ("near-dedup", "unique"),
        ("near-dedup", "duplicate"),
        ("near-dedup", "replayed"),
        ("tagging", "passed"),
    ]
    return {f"{s}/{o}": metric(text, "newsflow_articles_total", stage=s, outcome=o) for s, o in wanted}


@dataclass(frozen=True)
class Expectation:
    """What the topics must hold, given which member of each content/near pair reached the
    one-partition near-duplicate stage first ("first seen wins"; see the module docstring)."""

    survivors: set[str]
    copies: Counter[ExpectedDuplicate]
    swapped: int  # pairs whose copy got there before its original


def expectation(ids: set[str]) -> Expectation:
    expected = corpus()
    survivors, copies, swapped = set(expected.originals), Counter[ExpectedDuplicate](), 0
    for copy in expected.copies:
        original = copy.duplicate_of
        if copy.kind in ("content", "near") and copy.id in ids and original not in ids:
            swapped += 1
            survivors.remove(original)
            survivors.add(copy.id)
            copies[ExpectedDuplicate(original, copy.id, copy.kind, expected.feeds[original])] += 1
        else:
            copies[copy] += 1
    return Expectation(survivors, copies, swapped)


@dataclass
class Outcome:
    articles: Counter[str]
    versions: dict[str, set[tuple[object, object]]]
    duplicates: Counter[ExpectedDuplicate]
    expected: Expectation
    dead_letters: int
    seconds: float

    @property
    def repeated(self) -> dict[str, int]:
        return {article: n for article, n in self.articles.items() if n > 1}

    @property
    def extra(self) -> Counter[ExpectedDuplicate]:
        return self.duplicates - self.expected.copies

    def summary(self) -> str:
        kinds = Counter(d.kind for d in self.duplicates.elements())
        extra = self.extra
        again = sum(n for d, n in extra.items() if d in self.expected.copies)
        own = sum(n for d, n in extra.items() if d.id == d.duplicate_of and d not in self.expected.copies)
        return (
            f"{len(self.articles)} distinct ids on articles in {sum(self.articles.values())} records "
            f"({len(self.repeated)} ids repeated); {sum(self.duplicates.values())} records on duplicates "
            f"{dict(sorted(kinds.items()))} of which {again} repeat a copy's explanation and {own} "
            f"explain an article as a duplicate of itself; {self.expected.swapped} copies passed "
            f"instead of their original; {self.dead_letters} dead letters; {self.seconds:.1f} s"
        )


def outcome(cluster: Cluster, started: float) -> Outcome:
    tally = read_ids(cluster, "articles", len(corpus().originals), COMPLETION_TIMEOUT, settle=SETTLE)
    articles = tally.counts
    seconds = time.monotonic() - started
    expected = expectation(set(articles))
    found: Counter[ExpectedDuplicate] = Counter()

    def explained(records: list[Record]) -> bool:
        found.clear()
        found.update(
            ExpectedDuplicate(str(d["id"]), str(d["duplicate_of"]), str(d["kind"]), str(d["feed_id"]))
            for d in (r.json() for r in records)
        )
        return not expected.copies - found

    complete = len(articles) >= len(corpus().originals)  # else stuck: do not wait long here
    duplicates = read(
        cluster.bootstrap,
        cluster.topic("duplicates"),
        until=explained,
        timeout=30 if complete else 5,
        settle=1,
    )
    explained(duplicates)
    dead = read(cluster.bootstrap, cluster.topic("dead-letter"), timeout=2)
    return Outcome(articles, tally.versions, found, expected, len(dead), seconds)


def assert_exactly_the_unique_ones(
    result: Outcome, cluster: Cluster, *, swaps_allowed: bool, exact_duplicates: bool, redelivery: bool
) -> None:
    expected = result.expected
    if not swaps_allowed:
        assert not expected.swapped, f"copies passed before their originals: {result.summary()}"
    ids = set(result.articles)
    missing, unexpected = expected.survivors - ids, ids - expected.survivors
    assert not missing and not unexpected, (
        f"{len(missing)} articles missing from articles (e.g. {sorted(missing)[:5]}), "
        f"{len(unexpected)} unexpected ids (e.g. {sorted(unexpected)[:5]}); {result.summary()}"
    )
    unexplained = expected.copies - result.duplicates
    assert not unexplained, f"{len(unexplained)} copies not explained, e.g. {list(unexplained)[:5]}"
    # Acceptable extras after a crash or a rebalance (at-least-once): a copy explained again,
    # or a replayed article recognised by its own key (id == duplicate_of). Anything else
    # would have suppressed an article that passed.
    wrong = [d for d in result.extra if d not in expected.copies and d.id != d.duplicate_of]
    assert not wrong, f"{len(wrong)} wrong suppressions on duplicates, e.g. {wrong[:5]}"
    if exact_duplicates:
        assert not result.extra, f"records on duplicates beyond the copies: {result.summary()}"
    assert result.dead_letters == 0, f"{result.dead_letters} records on dead-letter"
    repeated = result.repeated
    changed = {article: sorted(map(str, v)) for article, v in result.versions.items() if len(v) > 1}
    assert not changed, f"an id delivered as different articles: {list(changed.items())[:5]}"
    if redelivery:  # at-least-once after a crash or rebalance: repeats are the same article
        print(
            f"redelivered on articles: {len(repeated)} ids, "
            f"{sum(repeated.values()) - len(repeated)} extra records; {result.summary()}"
        )
        return
    assert not repeated, (
        f"{len(repeated)} ids appear more than once on articles "
        f"({sum(repeated.values()) - len(repeated)} extra records), e.g. {sorted(repeated.items())[:10]}; "
        f"on the way: {repeats_on(cluster, 'dedup-near')} on dedup-near, {repeats_on(cluster, 'unique')} "
        f"on unique; {result.summary()}"
    )


def repeats_on(cluster: Cluster, suffix: str) -> str:
    """Where repeats start (diagnosis for a failure): repeated ids on an intermediate topic."""
    tally = Tally(len(corpus().messages) + 1)  # never reached: read until quiet
    last = [0, time.monotonic()]

    def quiet(records: list[Record]) -> bool:
        if len(records) != last[0]:
            last[:] = [len(records), time.monotonic()]
        return time.monotonic() - last[1] > 3

    tally(read(cluster.bootstrap, cluster.topic(suffix), until=quiet, timeout=30))
    repeated = sum(1 for n in tally.counts.values() if n > 1)
    return f"{repeated} ids repeated among {sum(tally.counts.values())} records"


def report(name: str, result: Outcome, cluster: Cluster) -> None:
    print(f"\n[{name}] {result.summary()}")
    for worker in cluster.workers:
        if worker.process.poll() is None:
            print(f"[{name}] {worker.name}: {stage_counts(worker)}")


# --- the tests -------------------------------------------------------------------------------


def test_one_worker_passes_exactly_the_unique_ones(cluster: Cluster) -> None:
    with cluster.tails_on_failure():
        cluster.start("worker")
        started = time.monotonic()
        cluster.produce(corpus().batches())
        result = outcome(cluster, started)
        report("steady", result, cluster)
        assert_exactly_the_unique_ones(
            result, cluster, swaps_allowed=False, exact_duplicates=True, redelivery=False
        )


def test_sigkill_mid_run_and_restart_loses_and_repeats_nothing(
    cluster: Cluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BROKER_SESSION_TIMEOUT", KILLED_MEMBER_SESSION_TIMEOUT)
    expected = corpus()
    with cluster.tails_on_failure():
        started = time.monotonic()
        cluster.produce(expected.batches())
        first = cluster.start("worker")
        target = int(0.3 * len(expected.originals))
        progress = read_ids(cluster, "articles", target, timeout=COMPLETION_TIMEOUT).counts
        assert len(progress) >= target, f"no progress before the kill: {len(progress)} ids"
        before = stage_counts(first)
        os.killpg(first.process.pid, signal.SIGKILL)
        first.process.wait(timeout=30)
        print(
            f"\n[sigkill] killed once {len(progress)} ids were on articles; the worker had counted {before}"
        )
        cluster.start("worker-restarted")
        result = outcome(cluster, started)
        report("sigkill", result, cluster)
        assert_exactly_the_unique_ones(
            result, cluster, swaps_allowed=True, exact_duplicates=False, redelivery=True
        )


def test_second_worker_joining_mid_run_changes_nothing(cluster: Cluster) -> None:
    expected = corpus()
    half = len(expected.messages) // 2
    with cluster.tails_on_failure():
        cluster.start("worker-a")
        started = time.monotonic()
        cluster.produce(expected.batches(0, half))
        read_ids(cluster, "articles", int(0.15 * len(expected.originals)), timeout=COMPLETION_TIMEOUT)
        second = cluster.start("worker-b")
        cluster.produce(expected.batches(half))
        result = outcome(cluster, started)
        report("scale-out", result, cluster)
        assert_exactly_the_unique_ones(
            result, cluster, swaps_allowed=True, exact_duplicates=False, redelivery=True
        )
        assert stage_counts(second)["cleaning/passed"] > 0, "the second worker never got a partition"
