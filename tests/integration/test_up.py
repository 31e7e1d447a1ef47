"""`newsflow up` (the README's first command) shows tagged articles from the demo feeds."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

from tests.integration.conftest import ROOT, free_port


def up_environment(kafka: str) -> dict[str, str]:
    run_id = uuid.uuid4().hex[:8]
    return {
        **os.environ,
        "NEWSFLOW_HOME": str(ROOT),
        # The broker is already up (reused, not stopped); a fresh prefix and app id so this
        # run's dedup state starts empty, and free ports for the two metrics endpoints.
        "KAFKA_PORT": kafka.rsplit(":", 1)[1],
        "NEWSFLOW_KAFKA__TOPIC_PREFIX": f"up{run_id}.",
        "NEWSFLOW_WORKER__APP_ID": f"newsflow-up-{run_id}",
        "NEWSFLOW_METRICS__PORT": str(free_port()),
        "NEWSFLOW_POLLER__METRICS_PORT": str(free_port()),
    }


def test_up_shows_tagged_demo_articles_and_stops_cleanly(kafka: str, tmp_path: Path) -> None:
    env = up_environment(kafka)
    result = subprocess.run(
        [sys.executable, "-m", "newsflow", "up", "--duration", "35"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=150,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    lines = [line for line in result.stdout.splitlines() if re.match(r"^\d\d:\d\d:\d\d  \[", line)]
    assert len(lines) >= 5, result.stdout
    assert any("#aleppo-ceasefire" in line for line in lines), result.stdout
    assert "-- stopping:" in result.stdout
    logs = tmp_path / ".newsflow" / "logs"
    assert (logs / "worker.log").exists() and (logs / "poller.log").exists()


def test_sigterm_stops_the_worker_and_the_poller_too(kafka: str, tmp_path: Path) -> None:
    env = up_environment(kafka)
    ports = [env["NEWSFLOW_METRICS__PORT"], env["NEWSFLOW_POLLER__METRICS_PORT"]]
    up = subprocess.Popen(
        [sys.executable, "-m", "newsflow", "up"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        cwd=tmp_path,
        env=env,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 90
        while not all(_answers(port) for port in ports):
            assert up.poll() is None and time.monotonic() < deadline, "newsflow up did not start"
            time.sleep(0.5)
        up.send_signal(signal.SIGTERM)
        output = up.communicate(timeout=90)[0].decode()
    finally:
        if up.poll() is None:
            os.killpg(up.pid, signal.SIGKILL)
    assert up.returncode == 0, output
    assert "-- stopping:" in output
    assert not any(_answers(port) for port in ports), "a child process outlived `newsflow up`"


def _answers(port: str) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2):
            return True
    except OSError:
        return False
