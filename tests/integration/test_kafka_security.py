"""Kafka security against a real broker: the development broker's SASL_PLAINTEXT listener
(PLAIN; deploy/kafka/server.properties.in, port KAFKA_PORT + 2).

- our aiokafka clients produce, consume and administer through it with kafka.* settings;
- a wrong password is one clear error line, quickly, never a hang, and never shows a secret;
- the command line, the poller and the Faust worker connect with SASL settings from the
  environment (the password from a ``_FILE`` secret), and with ``--log-format json`` every
  line they write is a JSON object.

In CI (CI=true) a broker without the SASL listener is a failure, never a skip.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
import yaml
from aiokafka import AIOKafkaConsumer

from newsflow.kafka_io import (
    BrokerUnavailable,
    check_broker,
    ensure_topics,
    kafka_client_options,
    new_producer,
)
from pipeline.config import KafkaSettings
from pipeline.topics import TopicNames
from tests.integration.conftest import FIXTURES, free_port, stop
from tests.integration.feedserver import FeedServer, Route

# The development broker's one SASL user (deploy/kafka/server.properties.in).
USER, PASSWORD = "newsflow", "newsflow-dev-secret"
WRONG_PASSWORD = "not-the-password-9f3c"
JSON_FIELDS = {"time", "level", "logger", "message"}


def sasl_bootstrap(plain: str) -> str:
    """The SASL listener next to the plain one: KAFKA_SASL_PORT, else the plain port + 2."""
    if os.environ.get("NEWSFLOW_TEST_SASL_BOOTSTRAP"):
        return os.environ["NEWSFLOW_TEST_SASL_BOOTSTRAP"]
    host, port = plain.rsplit(":", 1)
    return f"{host}:{os.environ.get('KAFKA_SASL_PORT') or int(port) + 2}"


def sasl_settings(bootstrap: str, password: str = PASSWORD, **more: object) -> KafkaSettings:
    return KafkaSettings(
        bootstrap_servers=bootstrap,
        security_protocol="SASL_PLAINTEXT",
        sasl_mechanism="PLAIN",
        sasl_username=USER,
        sasl_password=password,  # pydantic makes it a SecretStr
        **more,
    )


@pytest.fixture(scope="module")
def sasl(kafka: str) -> KafkaSettings:
    settings = sasl_settings(sasl_bootstrap(kafka))
    try:
        asyncio.run(check_broker(settings, timeout=20))
    except BrokerUnavailable as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true and the broker's SASL listener is unavailable: {exc}")
        pytest.skip(
            f"no SASL listener at {settings.servers}; a broker started before it was added needs "
            f"`newsflow kafka stop && newsflow kafka start` ({exc})"
        )
    return settings


def fresh(settings: KafkaSettings) -> KafkaSettings:
    return settings.model_copy(update={"topic_prefix": f"sasl{uuid.uuid4().hex[:8]}.", "partitions": 1})


async def read_values(kafka: KafkaSettings, topic: str, wanted: int, timeout: float) -> list[bytes]:
    """Values of ``topic`` from the beginning, through the same options as our clients."""
    consumer = AIOKafkaConsumer(
        topic, **kafka_client_options(kafka), auto_offset_reset="earliest", enable_auto_commit=False
    )
    await consumer.start()
    values: list[bytes] = []
    deadline = time.monotonic() + timeout
    try:
        while len(values) < wanted and time.monotonic() < deadline:
            for records in (await consumer.getmany(timeout_ms=500)).values():
                values.extend(record.value or b"" for record in records)
    finally:
        await consumer.stop()
    return values


def test_produce_and_consume_through_the_sasl_listener(sasl: KafkaSettings) -> None:
    kafka = fresh(sasl)
    names = TopicNames(kafka.topic_prefix)

    async def go() -> tuple[list[str], list[bytes]]:
        created = await ensure_topics(kafka)  # the admin client
        producer = new_producer(kafka)  # the poller's producer
        await producer.start()
        try:
            await producer.send_and_wait(names.raw, b"over sasl", key=b"k")
        finally:
            await producer.stop()
        return created, await read_values(kafka, names.raw, 1, timeout=30)

    created, values = asyncio.run(go())
    assert names.raw in created
    assert values == [b"over sasl"]


def test_a_wrong_password_is_a_clear_error_not_a_hang(sasl: KafkaSettings) -> None:
    started = time.monotonic()
    with pytest.raises(BrokerUnavailable) as caught:
        asyncio.run(check_broker(sasl_settings(sasl.servers, WRONG_PASSWORD), timeout=20))
    assert time.monotonic() - started < 10
    message = str(caught.value)
    assert f"refused the SASL login of user '{USER}'" in message
    assert "Invalid username or password" in message  # the broker's own words
    assert WRONG_PASSWORD not in message


def test_a_plaintext_client_on_the_sasl_listener_fails_quickly(sasl: KafkaSettings) -> None:
    started = time.monotonic()
    with pytest.raises(BrokerUnavailable, match="security_protocol PLAINTEXT"):
        asyncio.run(check_broker(KafkaSettings(bootstrap_servers=sasl.servers), timeout=20))
    assert time.monotonic() - started < 10


def test_a_sasl_client_on_the_plain_listener_is_told_so(sasl: KafkaSettings, kafka: str) -> None:
    with pytest.raises(BrokerUnavailable, match="does not expect a SASL login on this port"):
        asyncio.run(check_broker(sasl_settings(kafka), timeout=20))


# --- processes configured from the environment -----------------------------------------------


def sasl_environment(tmp_path: Path, password: str = PASSWORD) -> dict[str, str]:
    """The SASL settings as a deployment passes them: variables, the password a secret file."""
    secret = tmp_path / "kafka_password"
    secret.write_text(password + "\n", encoding="utf-8")
    inherited = {name: value for name, value in os.environ.items() if not name.startswith("NEWSFLOW_")}
    return {
        **inherited,
        "NEWSFLOW_KAFKA__SECURITY_PROTOCOL": "SASL_PLAINTEXT",
        "NEWSFLOW_KAFKA__SASL_USERNAME": USER,
        "NEWSFLOW_KAFKA__SASL_PASSWORD_FILE": str(secret),
    }


def write_config(tmp_path: Path, config: dict[str, object]) -> Path:
    path = tmp_path / "newsflow.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


def newsflow(
    *args: str, env: dict[str, str], cwd: Path, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "newsflow", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=timeout,
    )


def test_feeds_commands_over_sasl_with_the_password_from_a_file(sasl: KafkaSettings, tmp_path: Path) -> None:
    kafka = fresh(sasl)
    config = write_config(
        tmp_path,
        {
            "kafka": {
                "bootstrap_servers": kafka.servers,
                "topic_prefix": kafka.topic_prefix,
                "partitions": 1,
            },
            "feeds": [{"id": "sasl-feed", "url": "https://example.org/rss.xml"}],
        },
    )
    env = sasl_environment(tmp_path)
    synced = newsflow("--config", str(config), "feeds", "sync", env=env, cwd=tmp_path)
    assert synced.returncode == 0, synced.stderr
    assert "1 added" in synced.stdout
    listed = newsflow("--config", str(config), "feeds", "list", "--registry", env=env, cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.startswith("sasl-feed\t")


def test_a_wrong_password_from_the_environment_is_one_json_error_line(
    sasl: KafkaSettings, tmp_path: Path
) -> None:
    config = write_config(tmp_path, {"kafka": {"bootstrap_servers": sasl.servers}})
    env = sasl_environment(tmp_path, WRONG_PASSWORD)
    result = newsflow(
        "--config", str(config), "--log-format", "json", "tail", env=env, cwd=tmp_path, timeout=30
    )
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    error = orjson.loads(lines[0])
    assert error["level"] == "ERROR"
    assert "refused the SASL login" in error["message"]
    assert WRONG_PASSWORD not in result.stderr + result.stdout


class Service:
    """``newsflow --log-format json ROLE`` with stdout and stderr kept apart."""

    def __init__(self, role: str, config: Path, env: dict[str, str], cwd: Path) -> None:
        self.role = role
        self.stdout, self.stderr = cwd / f"{role}.out", cwd / f"{role}.err"
        with self.stdout.open("wb") as out, self.stderr.open("wb") as err:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "newsflow", "--config", str(config), "--log-format", "json", role],
                stdout=out,
                stderr=err,
                env=env,
                cwd=cwd,
                start_new_session=True,
            )

    def lines(self) -> list[str]:
        text = self.stdout.read_text(errors="replace") + self.stderr.read_text(errors="replace")
        return [line for line in text.splitlines() if line.strip()]

    def describe(self) -> str:
        return f"{self.role} (exit {self.process.poll()}):\n" + "\n".join(self.lines()[-30:])


@pytest.fixture
def feed_with_articles() -> Iterator[FeedServer]:
    server = FeedServer().start()
    server.routes["/feed.xml"] = Route((FIXTURES / "feeds" / "variants-rss.xml").read_bytes())
    yield server
    server.stop()


def test_worker_and_poller_run_over_sasl_and_log_json(
    sasl: KafkaSettings, tmp_path: Path, feed_with_articles: FeedServer
) -> None:
    kafka = fresh(sasl)
    names = TopicNames(kafka.topic_prefix)
    config = write_config(
        tmp_path,
        {
            "kafka": {
                "bootstrap_servers": kafka.servers,
                "topic_prefix": kafka.topic_prefix,
                "partitions": 1,
            },
            "feeds": [{"id": "sasl-feed", "url": feed_with_articles.url("/feed.xml"), "interval": "1s"}],
            "taxonomy_file": str(FIXTURES / "taxonomy.yaml"),
            "storage": {"enabled": False},
            "metrics": {"port": free_port()},
            "poller": {"metrics_port": free_port(), "min_interval": "1s"},
            "worker": {"app_id": f"newsflow-{kafka.topic_prefix.rstrip('.')}"},
        },
    )
    env = sasl_environment(tmp_path)
    services = [Service(role, config, env, tmp_path) for role in ("worker", "poller")]
    try:
        # The poller's raw articles pass the worker's agents: both connected and work.
        articles = asyncio.run(read_values(kafka, names.articles, 1, timeout=120))
        exited = [service.describe() for service in services if service.process.poll() is not None]
        assert not exited, "\n".join(exited)
        assert articles, "no article reached news.articles:\n" + "\n".join(s.describe() for s in services)
    finally:
        for service in services:
            stop(service.process)
    for service in services:
        lines = service.lines()
        assert lines, f"{service.role} wrote no log lines"
        for line in lines:
            entry = orjson.loads(line)  # every line of stdout and stderr: one JSON object
            assert entry.keys() >= JSON_FIELDS, line
            assert entry["time"].endswith("Z"), line
        assert PASSWORD not in "\n".join(lines)
    loggers = {orjson.loads(line)["logger"] for line in services[0].lines()}
    assert any(name.startswith("faust.") for name in loggers), loggers  # Faust's own lines too
    messages = [orjson.loads(line)["message"] for line in services[1].lines()]
    assert any(message.startswith("poller up") for message in messages), messages[-20:]
