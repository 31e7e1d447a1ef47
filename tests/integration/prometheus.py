"""A real Prometheus server for the observability tests, started from the Debian package.

The configuration is the shipped one (``deploy/prometheus/prometheus.yml``: its job names,
its rule files) with two test changes: targets point at the test's processes and every
interval is one second, so rates and alert rules have data within a minute.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import orjson
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy" / "prometheus"
INTERVAL = "1s"


def prometheus_binary(name: str = "prometheus") -> str:
    """The binary's path; in CI its absence fails the test, elsewhere it skips."""
    found = shutil.which(name)
    if found is None:
        message = f"`{name}` is not installed (Debian package `prometheus`; .ci/run installs it)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true and {message}")
        pytest.skip(message)
    return found


def test_config(targets: dict[str, str], rules_dir: Path) -> dict[str, Any]:
    """The shipped configuration with ``targets`` (job → host:port) and 1 s intervals."""
    config: dict[str, Any] = yaml.safe_load((DEPLOY / "prometheus.yml").read_text(encoding="utf-8"))
    config["global"] = {
        **config.get("global", {}),
        "scrape_interval": INTERVAL,
        "evaluation_interval": INTERVAL,
    }
    config["rule_files"] = [str(rules_dir / Path(pattern).name) for pattern in config.get("rule_files", [])]
    jobs = []
    for job in config["scrape_configs"]:
        if job["job_name"] in targets:
            job = {key: value for key, value in job.items() if not key.endswith("_sd_configs")}
            job["static_configs"] = [{"targets": [targets[job["job_name"]]]}]
            jobs.append(job)
    missing = set(targets) - {job["job_name"] for job in jobs}
    assert not missing, f"deploy/prometheus/prometheus.yml has no job {sorted(missing)}"
    config["scrape_configs"] = jobs
    return config


class Prometheus:
    def __init__(self, workdir: Path, targets: dict[str, str], port: int) -> None:
        self.port = port
        self.workdir = workdir
        rules_dir = workdir / "rules"
        shutil.copytree(DEPLOY / "rules", rules_dir)
        self.config = workdir / "prometheus.yml"
        self.config.write_text(yaml.safe_dump(test_config(targets, rules_dir)), encoding="utf-8")
        self.log = workdir / "prometheus.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> Prometheus:
        binary = prometheus_binary()
        self.process = subprocess.Popen(
            [
                binary,
                f"--config.file={self.config}",
                f"--storage.tsdb.path={self.workdir / 'data'}",
                f"--web.listen-address=127.0.0.1:{self.port}",
                "--web.enable-lifecycle",
            ],
            stdout=self.log.open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"prometheus exited ({self.process.returncode}):\n{self.log.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(f"{self.url}/-/ready", timeout=2):
                    return self
            except OSError:
                time.sleep(0.3)
        pytest.fail(f"prometheus not ready after 60 s:\n{self.log.read_text()[-3000:]}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def api(self, path: str, **params: str) -> Any:
        """``/api/v1/<path>``'s data; a PromQL error comes back as an AssertionError with it."""
        query = urllib.parse.urlencode(params)
        request = urllib.request.Request(f"{self.url}/api/v1/{path}?{query}")
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                body = orjson.loads(response.read())
        except urllib.error.HTTPError as exc:  # 400/422: a bad expression
            body = orjson.loads(exc.read())
        assert body.get("status") == "success", f"{path} {params}: {body.get('error')}"
        return body["data"]

    def query(self, expr: str) -> list[dict[str, Any]]:
        data = self.api("query", query=expr)
        result = data["result"]
        return result if data["resultType"] in ("vector", "matrix") else [{"value": result}]

    def rules(self) -> list[dict[str, Any]]:
        return [rule for group in self.api("rules")["groups"] for rule in group["rules"]]

    def targets_up(self) -> dict[str, str]:
        return {t["labels"]["job"]: t["health"] for t in self.api("targets")["activeTargets"]}
