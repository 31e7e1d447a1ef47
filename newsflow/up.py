"""`newsflow up`: the whole local stack in one command, with a live summary.

Starts the local broker when no bootstrap server is configured, creates topics, runs the
worker and the poller as child processes (as in production), serves the demo feeds when
no config is given, and prints articles as they reach ``news.articles``. Ctrl-C (or
``--duration``) stops everything it started, in reverse order.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import orjson
import yaml
from aiokafka import AIOKafkaConsumer

from newsflow import broker
from newsflow.demo.server import DemoFeedServer
from newsflow.kafka_io import check_broker, ensure_topics, kafka_client_options
from pipeline.config import LOCAL_BROKER, KafkaSettings, Settings, load_settings
from pipeline.topics import TopicNames

STATE_DIR = Path(".newsflow")
DEMO_DIR = Path(__file__).with_name("demo")


def demo_config(feed_port: int, path: Path) -> Path:
    """Write the demo configuration, pointing at the demo feed server's port."""
    config: dict[str, Any] = {
        "kafka": {"topic_prefix": "news.", "partitions": 2},
        "feeds": [
            {
                "id": "demo-world-wire",
                "url": f"http://127.0.0.1:{feed_port}/feeds/world-wire.xml",
                "interval": "5s",
            },
            {
                "id": "demo-regional-desk",
                "url": f"http://127.0.0.1:{feed_port}/feeds/regional-desk.xml",
                "interval": "5s",
            },
        ],
        "taxonomy_file": str((DEMO_DIR / "taxonomy.yaml").resolve()),
        "poller": {"min_interval": "2s"},
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return path


def run_up(config_path: Path | None, duration: float | None) -> int:
    return asyncio.run(_up(config_path, duration))


async def _up(config_path: Path | None, duration: float | None) -> int:
    cleanups: list[Any] = []
    # SIGTERM (a service manager, `kill`) stops like Ctrl-C: through the cleanups below, so
    # the worker, the poller and a broker we started do not outlive us.
    # While it is still starting things up, SIGTERM cancels the start instead.
    stopping = asyncio.Event()
    starting = asyncio.current_task()

    def on_sigterm() -> None:
        stopping.set()
        if starting is not None:
            starting.cancel()

    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, on_sigterm)
    try:
        if config_path is None:
            server = DemoFeedServer()
            runner, port = await server.start()
            cleanups.append(runner.cleanup)
            config_path = demo_config(port, STATE_DIR / "demo.yaml")
            print(f"demo feeds served on http://127.0.0.1:{port}/feeds/ (config: {config_path})")
        settings = load_settings(config_path)
        kafka = await _ensure_broker(settings, cleanups)
        await ensure_topics(kafka)
        env = {**os.environ, "NEWSFLOW_KAFKA__BOOTSTRAP_SERVERS": kafka.servers}
        consumer = await _subscribe(settings, kafka)
        cleanups.append(consumer.stop)
        children = []
        for role in ("worker", "poller"):
            process, stop = _spawn(role, config_path, env)
            children.append((role, process))
            cleanups.append(stop)
        print(
            f"worker metrics http://127.0.0.1:{settings.metrics.port}/metrics, "
            f"poller http://127.0.0.1:{settings.poller_metrics_port}/metrics; Ctrl-C stops"
        )
        starting = None  # from here on, _show sees `stopping` and ends with its summary
        return await _show(consumer, settings, duration, children, stopping)
    except asyncio.CancelledError:
        if not stopping.is_set():
            raise
        return 0  # SIGTERM while starting: the cleanups below undo what was started
    finally:
        for cleanup in reversed(cleanups):
            result = cleanup()
            if asyncio.iscoroutine(result):
                await result


async def _ensure_broker(settings: Settings, cleanups: list[Any]) -> KafkaSettings:
    """The Kafka settings to use: the configured broker, else the local one (started if
    needed, and stopped again by a cleanup)."""
    if settings.kafka.bootstrap_servers:
        await check_broker(settings.kafka)
        return settings.kafka
    local = f"127.0.0.1:{os.environ['KAFKA_PORT']}" if os.environ.get("KAFKA_PORT") else LOCAL_BROKER
    if not broker.is_running():
        print("starting the local Kafka broker (deploy/kafka) …")
        await asyncio.to_thread(broker.start)
        cleanups.append(broker.stop)
    kafka = settings.kafka.model_copy(update={"bootstrap_servers": local})
    await check_broker(kafka)
    return kafka


def _spawn(role: str, config_path: Path, env: dict[str, str]) -> tuple[subprocess.Popen[bytes], Any]:
    log_path = STATE_DIR / "logs" / f"{role}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    log = log_path.open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "newsflow", "--config", str(config_path), role],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
        start_new_session=True,
    )
    print(f"started {role} (pid {process.pid}, log {log_path})")

    def stop() -> None:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
        log.close()

    return process, stop


async def _subscribe(settings: Settings, kafka: KafkaSettings) -> AIOKafkaConsumer:
    names = TopicNames(settings.kafka.topic_prefix)
    consumer = AIOKafkaConsumer(
        names.articles,
        names.duplicates,
        names.dead_letter,
        **kafka_client_options(kafka),
        auto_offset_reset="latest",
        enable_auto_commit=False,
    )
    await consumer.start()
    return consumer


async def _show(
    consumer: AIOKafkaConsumer,
    settings: Settings,
    duration: float | None,
    children: list[tuple[str, subprocess.Popen[bytes]]],
    stopping: asyncio.Event,
) -> int:
    names = TopicNames(settings.kafka.topic_prefix)
    counts = {names.articles: 0, names.duplicates: 0, names.dead_letter: 0}
    deadline = time.monotonic() + duration if duration else None
    next_summary = time.monotonic() + 15
    while not stopping.is_set() and (deadline is None or time.monotonic() < deadline):
        for role, process in children:
            if process.poll() is not None:
                print(
                    f"newsflow: the {role} exited with code {process.returncode}; "
                    f"see {STATE_DIR / 'logs' / (role + '.log')}",
                    file=sys.stderr,
                )
                return 1
        batch = await consumer.getmany(timeout_ms=1000)
        for records in batch.values():
            for record in records:
                counts[record.topic] += 1
                if record.topic == names.articles:
                    print(_article_line(record.value))
        if time.monotonic() >= next_summary:
            next_summary += 15
            print(
                f"-- {counts[names.articles]} articles, {counts[names.duplicates]} duplicates "
                f"suppressed, {counts[names.dead_letter]} dead letters so far"
            )
    print(
        f"-- stopping: {counts[names.articles]} articles, {counts[names.duplicates]} duplicates, "
        f"{counts[names.dead_letter]} dead letters"
    )
    return 0


def _article_line(value: bytes | None) -> str:
    with contextlib.suppress(orjson.JSONDecodeError, TypeError, AttributeError):
        article = orjson.loads(value or b"")
        tags = " ".join(f"#{tag['name']}" for tag in article.get("tags", []))
        return f"{time.strftime('%H:%M:%S')}  [{article.get('source')}] {article.get('title')}  {tags}"
    return f"{time.strftime('%H:%M:%S')}  (undecodable article)"
