"""`newsflow kafka start|stop|status`: the local development broker (deploy/kafka)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(os.environ.get("NEWSFLOW_HOME", Path(__file__).resolve().parents[1]))
SCRIPT = REPO_ROOT / "deploy" / "kafka" / "kafka-local.sh"


class BrokerCommandFailed(RuntimeError):
    """The local broker script failed; its output has been shown."""


def run_script(action: str, port: int | None = None, quiet: bool = False) -> int:
    """Run deploy/kafka/kafka-local.sh ACTION with this interpreter; return its exit code."""
    if not SCRIPT.exists():
        raise BrokerCommandFailed(f"{SCRIPT} not found (set NEWSFLOW_HOME to the repository)")
    env = {**os.environ, "PYTHON": sys.executable}
    if port is not None:
        env["KAFKA_PORT"] = str(port)
    output = subprocess.DEVNULL if quiet else None
    return subprocess.call(["bash", str(SCRIPT), action], env=env, stdout=output)


def start(port: int | None = None) -> None:
    if run_script("start", port) != 0:
        raise BrokerCommandFailed("the local Kafka broker did not start (see the log above)")


def stop() -> None:
    run_script("stop")


def is_running() -> bool:
    return run_script("status", quiet=True) == 0
