"""`newsflow worker` as a child process, isolated from anything else on the broker: its own
topic prefix, consumer group (app_id), metrics port, config file and working directory."""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import yaml

from benchmarks.environment import REPO_ROOT

STOP_TIMEOUT = 30.0


def free_port() -> int:
    """A port nobody listens on right now (the kernel picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True)
class WorkerConfig:
    bootstrap: str
    taxonomy_file: Path
    partitions: int = 4
    run_id: str = ""

    @classmethod
    def unique(cls, bootstrap: str, taxonomy_file: Path, partitions: int) -> WorkerConfig:
        return cls(bootstrap, taxonomy_file, partitions, secrets.token_hex(4))

    @property
    def prefix(self) -> str:
        return f"bench{self.run_id}."

    @property
    def app_id(self) -> str:
        return f"newsflow-bench{self.run_id}"

    def as_yaml_data(self) -> dict[str, Any]:
        """The config file contract of pipeline/config.py; ports picked free at write time."""
        return {
            "kafka": {
                "bootstrap_servers": self.bootstrap,
                "topic_prefix": self.prefix,
                "partitions": self.partitions,
            },
            "taxonomy_file": str(self.taxonomy_file),
            "metrics": {"port": free_port()},
            "poller": {"metrics_port": free_port()},
            "worker": {"app_id": self.app_id},
        }


class WorkerProcess:
    """Start, watch and stop one worker; its output goes to ``worker.log`` in ``workdir``."""

    def __init__(self, config: WorkerConfig, workdir: Path) -> None:
        self.config = config
        self.workdir = workdir
        self.log_path = workdir / "worker.log"
        self._process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    def start(self) -> None:
        config_path = self.workdir / "newsflow-bench.yaml"
        config_path.write_text(yaml.safe_dump(self.config.as_yaml_data()), encoding="utf-8")
        # The CLI's default log level (info), as `newsflow worker` runs for users. Not "warning":
        # Faust then sets the root logger to DEBUG for its progress spinner (see README).
        command = [sys.executable, "-m", "newsflow", "--config", str(config_path), "worker"]
        # agents/app.py sets Faust's datadir to ".newsflow/faust-<app_id>" (relative to the
        # working directory) and Faust creates only the last level: without this the worker
        # dies at start with FileNotFoundError (reported as a bug, see README).
        (self.workdir / ".newsflow").mkdir(exist_ok=True)
        self._log = self.log_path.open("wb")
        # cwd=workdir: Faust writes its data directory (<app_id>-data) into the current directory.
        self._process = subprocess.Popen(
            command, cwd=self.workdir, env=_child_env(), stdout=self._log, stderr=subprocess.STDOUT
        )

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    def alive(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def cpu_seconds(self) -> float | None:
        """User + system CPU the worker has used so far (Linux /proc; None elsewhere)."""
        try:
            fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            return None
        ticks = os.sysconf("SC_CLK_TCK")
        return (int(fields[11]) + int(fields[12])) / ticks  # utime, stime (fields 14, 15)

    def stop(self) -> dict[str, Any]:
        """SIGTERM (a clean Faust shutdown), SIGKILL if it has not exited within 30 s."""
        if self._process is None:
            return {"stopped_by": None}
        started = time.monotonic()
        stopped_by = "already-exited"
        if self._process.poll() is None:
            self._process.send_signal(signal.SIGTERM)
            stopped_by = "SIGTERM"
            try:
                self._process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
                stopped_by = "SIGKILL after 30 s"
        if self._log is not None:
            self._log.close()
        return {
            "stopped_by": stopped_by,
            "exit_code": self._process.returncode,
            "stop_seconds": round(time.monotonic() - started, 2),
        }

    def log_tail(self, lines: int = 30) -> list[str]:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return []
        return text.splitlines()[-lines:]


def _child_env() -> dict[str, str]:
    """Our environment minus NEWSFLOW_* overrides (they would beat the config file and could
    point the worker at other topics), with the repository importable."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("NEWSFLOW_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    return env
