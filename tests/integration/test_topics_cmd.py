"""`newsflow topics create|list` against the real broker, each test on its own topic prefix."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import uuid
from pathlib import Path

import yaml
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from pipeline.topics import TopicNames
from tests.integration.conftest import ROOT, free_port


def run(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "newsflow", "--config", str(config), "topics", *args],
        capture_output=True,
        text=True,
        timeout=90,
        cwd=ROOT,
    )


def write_config(tmp_path: Path, kafka: dict[str, object], **extra: object) -> Path:
    config = tmp_path / "newsflow.yaml"
    config.write_text(yaml.safe_dump({"kafka": kafka, **extra}), encoding="utf-8")
    return config


def lines(output: str) -> dict[str, str]:
    return dict(line.split("\t") for line in output.splitlines())


async def describe(bootstrap: str, names: list[str]) -> tuple[dict[str, int], dict[str, str]]:
    """(name → partition count, name → cleanup.policy)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        partitions = {t["topic"]: len(t["partitions"]) for t in await admin.describe_topics(names)}
        resources = [ConfigResource(ConfigResourceType.TOPIC, name) for name in names]
        policies = {}
        for response in await admin.describe_configs(resources):
            for _code, _message, _type, name, entries in response.resources:
                policies[name] = next(entry[1] for entry in entries if entry[0] == "cleanup.policy")
        return partitions, policies
    finally:
        await admin.close()


def test_create_makes_every_missing_topic_then_reports_them_as_existing(kafka: str, tmp_path: Path) -> None:
    prefix = f"tc{uuid.uuid4().hex[:8]}."
    taxonomy = tmp_path / "taxonomy.yaml"
    taxonomy.write_text(
        "topics:\n  - {name: truce, terms: [truce], stream: true}\n  - {name: floods, terms: [flood]}\n",
        encoding="utf-8",
    )
    config = write_config(
        tmp_path,
        {"bootstrap_servers": kafka, "topic_prefix": prefix, "partitions": 3},
        taxonomy_file=str(taxonomy),
    )
    names = TopicNames(prefix)
    expected = [*names.all().values(), names.topic_stream("truce")]

    listed = run(config, "list")
    assert listed.returncode == 0, listed.stderr
    assert lines(listed.stdout) == dict.fromkeys(expected, "missing")

    first = run(config, "create")
    assert first.returncode == 0, first.stderr
    assert list(lines(first.stdout)) == expected  # one line per topic, in a stable order
    assert set(lines(first.stdout).values()) == {"created"}

    partitions, policies = asyncio.run(describe(kafka, expected))
    assert partitions == {name: 1 if name in (names.near, names.alert_input) else 3 for name in expected}
    assert policies[names.feeds] == policies[names.poller_state] == "compact"
    assert policies[names.raw] == "delete"

    second = run(config, "create")
    assert second.returncode == 0, second.stderr
    assert lines(second.stdout) == dict.fromkeys(expected, "exists")

    listed = run(config, "list")
    assert listed.returncode == 0, listed.stderr
    assert lines(listed.stdout) == {name: str(count) for name, count in partitions.items()}


def test_create_reports_the_missing_ones_only(kafka: str, tmp_path: Path) -> None:
    prefix = f"tc{uuid.uuid4().hex[:8]}."
    config = write_config(tmp_path, {"bootstrap_servers": kafka, "topic_prefix": prefix, "partitions": 1})
    names = TopicNames(prefix)
    assert run(config, "create").returncode == 0
    asyncio.run(_delete(kafka, [names.alerts]))
    result = run(config, "create")
    assert result.returncode == 0, result.stderr
    states = lines(result.stdout)
    assert states.pop(names.alerts) == "created"
    assert set(states.values()) == {"exists"}


async def _delete(bootstrap: str, topics: list[str]) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.delete_topics(topics)
        for _ in range(50):  # deletion is asynchronous on the broker
            if not set(topics) & set(await admin.list_topics()):
                return
            await asyncio.sleep(0.2)
    finally:
        await admin.close()


def test_a_refused_topic_is_one_line_and_exit_1(kafka: str, tmp_path: Path) -> None:
    # One broker cannot hold three replicas.
    prefix = f"tc{uuid.uuid4().hex[:8]}."
    config = write_config(
        tmp_path, {"bootstrap_servers": kafka, "topic_prefix": prefix, "replication_factor": 3}
    )
    result = run(config, "create")
    assert result.returncode == 1
    errors = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(errors) == 1, result.stderr
    assert "cannot create topic" in errors[0]


def test_unreachable_broker_is_one_line_and_exit_1(tmp_path: Path) -> None:
    config = write_config(tmp_path, {"bootstrap_servers": f"127.0.0.1:{free_port()}"})
    for action in ("create", "list"):
        result = run(config, action)
        assert result.returncode == 1, (action, result.stdout)
        errors = [line for line in result.stderr.splitlines() if line.strip()]
        assert len(errors) == 1, result.stderr
        assert "no Kafka broker reachable" in errors[0]
        assert result.stdout == ""


def test_bad_taxonomy_is_a_config_error(tmp_path: Path) -> None:
    config = write_config(tmp_path, {"bootstrap_servers": "127.0.0.1:1"}, taxonomy_file="no-such.yaml")
    result = run(config, "create")
    assert result.returncode == 2
    assert result.stderr.startswith("newsflow: config error:")
