"""End-to-end through the real broker: raw articles produced to ``<prefix>raw``, the real
``newsflow worker`` (clean → dedup → tag, three Faust agents) in a child process, articles
consumed from ``<prefix>articles``. Baseline: the in-process chain on the same articles.

Two phases, because a burst measures throughput but its latency is mostly queueing:
- burst: every article produced as fast as the producer takes them; articles/s from the first
  send to the last article received, and latency under that backlog;
- paced: a smaller set at a fixed rate well below capacity; latency of an unloaded pipeline.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError

from benchmarks.corpus import Corpus, is_cleanable
from benchmarks.environment import header
from benchmarks.taxonomies import DEMO_TAXONOMY, demo_taxonomy
from benchmarks.timing import measure, percentile
from benchmarks.workerproc import WorkerConfig, WorkerProcess
from newsflow.kafka_io import BrokerUnavailable, check_broker, ensure_topics, new_producer
from pipeline import codec
from pipeline.chain import Chain
from pipeline.clock import SystemClock
from pipeline.config import KafkaSettings
from pipeline.models import RawArticle
from pipeline.tagging import Tagger
from pipeline.topics import TopicNames

DEFAULT_BOOTSTRAP = "127.0.0.1:19092"
READY_TIMEOUT = 120.0  # Faust start-up, group join and topic metadata take a while
WARMUP_PER_PARTITION = 5


@dataclass(frozen=True)
class Plan:
    articles: int = 2000
    paced_articles: int = 200
    paced_rate: float = 50.0  # articles/s: well below what one worker sustains
    partitions: int = 4
    repetitions: int = 5  # of the in-process baseline


def bootstrap_servers() -> str:
    return os.environ.get("NEWSFLOW_BENCH_BOOTSTRAP") or DEFAULT_BOOTSTRAP


def distinct_articles(pool: Sequence[RawArticle], count: int, tag: str) -> list[RawArticle]:
    """``count`` raw articles with distinct keys (pool entries reused with a key suffix), so
    every one passes dedup and reaches the articles topic. Picked evenly over the whole pool:
    feeds differ a lot in article length, so the first N entries would be one feed's."""
    size = len(pool)
    picks = (pool[index * size // count] if count <= size else pool[index % size] for index in range(count))
    return [
        raw.model_copy(update={"article_key": f"{raw.article_key}#{tag}{index}"})
        for index, raw in enumerate(picks)
    ]


class Receiver:
    """Consumes the articles topic in the background, noting when each key first arrives."""

    def __init__(self, consumer: AIOKafkaConsumer) -> None:
        self.consumer = consumer
        self.arrived: dict[str, float] = {}

    async def run(self) -> None:
        while True:
            batches = await self.consumer.getmany(timeout_ms=50)
            now = time.perf_counter()
            for records in batches.values():
                for record in records:
                    self.arrived.setdefault(record.key.decode(), now)

    async def wait_for(self, keys: Sequence[str], timeout: float, worker: WorkerProcess) -> None:
        deadline = time.monotonic() + timeout
        while any(key not in self.arrived for key in keys):
            if not worker.alive():
                raise RuntimeError("the worker exited")
            if time.monotonic() > deadline:
                missing = sum(1 for key in keys if key not in self.arrived)
                raise TimeoutError(f"{missing} of {len(keys)} articles not received within {timeout:.0f} s")
            await asyncio.sleep(0.05)


async def produce(
    producer: AIOKafkaProducer, topic: str, articles: Sequence[RawArticle], rate: float | None
) -> dict[str, float]:
    """Send every article (encoded beforehand: the producer's CPU is not what we measure);
    return the send time per key. ``rate`` spaces the sends; None sends as fast as possible."""
    messages = [(raw.article_key, codec.encode(raw)) for raw in articles]
    sent: dict[str, float] = {}
    pending = []
    started = time.perf_counter()
    for index, (key, value) in enumerate(messages):
        if rate:
            await asyncio.sleep(max(0.0, started + index / rate - time.perf_counter()))
        sent[key] = time.perf_counter()
        pending.append(await producer.send(topic, key=key.encode(), value=value))
    await asyncio.gather(*pending)  # acks=all: every article is on the broker
    return sent


def latency_stats(sent: dict[str, float], arrived: dict[str, float]) -> dict[str, Any]:
    latencies = [(arrived[key] - at) * 1000 for key, at in sent.items()]
    span = max(arrived[key] for key in sent) - min(sent.values())
    return {
        "articles": len(sent),
        "seconds": round(span, 3),
        "articles_per_second": round(len(sent) / span, 1),
        "latency_ms": {
            "p50": round(percentile(latencies, 0.50), 1),
            "p90": round(percentile(latencies, 0.90), 1),
            "p99": round(percentile(latencies, 0.99), 1),
            "max": round(max(latencies), 1),
        },
    }


async def run_phase(
    ctx: tuple[AIOKafkaProducer, Receiver, WorkerProcess, str],
    articles: Sequence[RawArticle],
    rate: float | None,
) -> dict[str, Any]:
    producer, receiver, worker, topic = ctx
    cpu_before = worker.cpu_seconds()
    sent = await produce(producer, topic, articles, rate)
    await receiver.wait_for(list(sent), max(READY_TIMEOUT, len(sent) / 10), worker)
    stats = latency_stats(sent, receiver.arrived)
    cpu_after = worker.cpu_seconds()
    if cpu_before is not None and cpu_after is not None:
        stats["worker_cpu_us_per_article"] = round((cpu_after - cpu_before) / len(sent) * 1e6, 1)
    if rate:
        stats["target_rate"] = rate
    return stats


async def through_broker(config: WorkerConfig, pool: Sequence[RawArticle], plan: Plan) -> dict[str, Any]:
    names = TopicNames(config.prefix)
    settings = KafkaSettings(
        bootstrap_servers=config.bootstrap, topic_prefix=config.prefix, partitions=config.partitions
    )
    await ensure_topics(settings)  # before the consumer subscribes, so it sees every partition
    await wait_for_leaders(config.bootstrap, [names.raw, names.articles])
    with tempfile.TemporaryDirectory(prefix="newsflow-bench-") as workdir:
        worker = WorkerProcess(config, Path(workdir))
        consumer = await open_consumer(config.bootstrap, names.articles, config.partitions)
        producer = new_producer(settings)  # the poller's producer: acks=all, idempotent
        await producer.start()
        receiver = Receiver(consumer)
        receiving = asyncio.create_task(receiver.run())
        result: dict[str, Any] = {}
        try:
            worker.start()
            ctx = (producer, receiver, worker, names.raw)
            warmup = distinct_articles(pool, WARMUP_PER_PARTITION * config.partitions, "warmup")
            ready = time.monotonic()
            await run_phase(ctx, warmup, None)
            result["worker_ready_seconds"] = round(time.monotonic() - ready, 1)
            result["burst"] = await run_phase(ctx, distinct_articles(pool, plan.articles, "burst"), None)
            paced = distinct_articles(pool, plan.paced_articles, "paced")
            result["paced"] = await run_phase(ctx, paced, plan.paced_rate)
        except (RuntimeError, TimeoutError) as exc:
            result["error"] = str(exc)
            result["worker_log_tail"] = worker.log_tail()
        finally:
            result["worker_stop"] = worker.stop()
            receiving.cancel()
            await asyncio.gather(receiving, return_exceptions=True)
            await producer.stop()
            await consumer.stop()
            result["topics_deleted"] = await delete_topics(config)
    return result


async def open_consumer(servers: str, topic: str, partitions: int) -> AIOKafkaConsumer:
    """A group-less consumer of every partition of ``topic`` from the start, returned only once
    the broker answers offset requests for all of them (new topics refuse them for a moment)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=servers, group_id=None, enable_auto_commit=False)
    await consumer.start()
    assigned = [TopicPartition(topic, partition) for partition in range(partitions)]
    deadline = time.monotonic() + 30.0
    while True:
        try:
            await consumer.end_offsets(assigned)
            break
        except KafkaError:
            if time.monotonic() > deadline:
                await consumer.stop()
                raise
            await asyncio.sleep(0.1)
    consumer.assign(assigned)
    await consumer.seek_to_beginning()
    return consumer


async def wait_for_leaders(servers: str, topics: list[str], timeout: float = 30.0) -> None:
    """New topics answer NotLeaderForPartition for a moment; start clients only once every
    partition has a leader, so the figures do not include metadata retries."""
    admin = AIOKafkaAdminClient(bootstrap_servers=servers, request_timeout_ms=10000)
    await admin.start()
    try:
        deadline = time.monotonic() + timeout
        while not _all_led(await admin.describe_topics(topics)):
            if time.monotonic() > deadline:
                raise TimeoutError(f"topics {topics} have no partition leaders after {timeout:.0f} s")
            await asyncio.sleep(0.1)
    finally:
        await admin.close()


def _all_led(described: list[dict[str, Any]]) -> bool:
    def led(topic: dict[str, Any]) -> bool:
        partitions = topic["partitions"]
        return topic["error_code"] == 0 and bool(partitions) and all(p["leader"] >= 0 for p in partitions)

    return all(led(topic) for topic in described)


async def delete_topics(config: WorkerConfig) -> list[str]:
    """Remove this run's topics (prefix) and Faust's internal ones (app_id) from the broker."""
    admin = AIOKafkaAdminClient(bootstrap_servers=config.bootstrap, request_timeout_ms=10000)
    await admin.start()
    try:
        ours = [t for t in await admin.list_topics() if t.startswith((config.prefix, config.app_id + "-"))]
        if ours:
            await admin.delete_topics(ours)
        return sorted(ours)
    finally:
        await admin.close()


def in_process_rate(articles: Sequence[RawArticle], repetitions: int) -> dict[str, Any]:
    """The baseline: the same articles through pipeline.chain.Chain in this process."""
    tagger = Tagger(demo_taxonomy().taxonomy)
    return measure(lambda: sum(1 for _ in Chain(tagger, SystemClock()).process_all(articles)), repetitions)


async def run(corpus: Corpus, plan: Plan) -> dict[str, Any]:
    servers = bootstrap_servers()
    result: dict[str, Any] = {**header("e2e"), "input": corpus.describe(), "bootstrap": servers}
    try:
        await check_broker(KafkaSettings(bootstrap_servers=servers), timeout=10.0)
    except BrokerUnavailable as exc:
        return {**result, "status": "skipped: no broker", "reason": str(exc)}
    # Only entries the cleaning stage accepts: a rejected one would never reach the articles topic.
    pool = [raw for raw in corpus.raw if is_cleanable(raw)]
    # Measured first, while no worker competes for the CPU.
    baseline = in_process_rate(distinct_articles(pool, plan.articles, "burst"), plan.repetitions)
    config = WorkerConfig.unique(servers, DEMO_TAXONOMY, plan.partitions)
    result["setup"] = {
        **plan.__dict__,
        "topic_prefix": config.prefix,
        "app_id": config.app_id,
        "taxonomy": str(DEMO_TAXONOMY),
    }
    try:
        measured = await through_broker(config, pool, plan)
    except (KafkaError, TimeoutError) as exc:  # while creating topics, before the worker ran
        measured = {"error": f"{type(exc).__name__}: {exc}", "topics_deleted": await delete_topics(config)}
    result.update(measured, baseline_in_process_chain=baseline)
    if "burst" in measured:
        e2e, chain = measured["burst"]["articles_per_second"], baseline["articles_per_second"]
        result["ratio_e2e_to_in_process"] = round(e2e / chain, 3)
    result["status"] = "failed: " + measured["error"] if "error" in measured else "ok"
    return result
