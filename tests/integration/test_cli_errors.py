"""Runtime failures at start: one clear line on stderr and exit code 1, no traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration.conftest import ROOT, free_port


def run(*args: str, timeout: float = 90) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "newsflow", *args], capture_output=True, text=True, timeout=timeout, cwd=ROOT
    )


@pytest.mark.parametrize("command", ["worker", "poller", "tail"])
def test_unreachable_broker_at_start(tmp_path: Path, command: str) -> None:
    config = tmp_path / "newsflow.yaml"
    config.write_text(f'kafka: {{bootstrap_servers: "127.0.0.1:{free_port()}"}}\n', encoding="utf-8")
    result = run("--config", str(config), command)
    assert result.returncode == 1
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert "no Kafka broker reachable" in lines[0]


def test_kafka_status_reports_the_running_broker(kafka: str) -> None:
    if os.environ.get("NEWSFLOW_TEST_BOOTSTRAP"):
        pytest.skip("the broker under test was not started by `newsflow kafka start`")
    result = run("kafka", "status")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "running" in result.stdout
