"""`newsflow up` (the README's first command) shows tagged articles from the demo feeds."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import uuid
from pathlib import Path

from tests.integration.conftest import ROOT, free_port


def test_up_shows_tagged_demo_articles_and_stops_cleanly(kafka: str, tmp_path: Path) -> None:
    run_id = uuid.uuid4().hex[:8]
    env = {
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
